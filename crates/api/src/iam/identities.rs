//! IAM users, groups, group membership and user tags (access keys: [`identities_keys`]).
//!
//! Each action reads its parameters, authorizes `iam:<Action>` on the entity's ARN, calls
//! `ferry_control::service::iam_identities`, and renders the members of botocore's IAM model.

use std::collections::BTreeMap;

use ferry_control::iam::identities::{Listing, Paging};
use ferry_control::iam::{self, EntityKind};
use ferry_control::service::iam_identities as ops;
use ferry_control::store::IamUser;

use super::identities_keys;
use super::{Handler, Reply};
use crate::error::ApiError;
use crate::params::ParamError;
use crate::xml::XmlWriter;

/// Runs `h.action` if it is one of this module's; `None` otherwise.
pub(super) async fn handle(h: &Handler<'_>) -> Option<Result<Reply, ApiError>> {
    let result = match h.action {
        "CreateUser" => create_user(h),
        "GetUser" => get_user(h),
        "ListUsers" => list_users(h),
        "UpdateUser" => update_user(h),
        "DeleteUser" => delete_user(h),
        "CreateGroup" => create_group(h),
        "GetGroup" => get_group(h),
        "ListGroups" => list_groups(h),
        "DeleteGroup" => delete_group(h),
        "AddUserToGroup" => membership(h, true),
        "RemoveUserFromGroup" => membership(h, false),
        "ListGroupsForUser" => list_groups_for_user(h),
        "TagUser" => tag_user(h),
        "UntagUser" => untag_user(h),
        "ListUserTags" => list_user_tags(h),
        _ => return identities_keys::handle(h),
    };
    Some(result)
}

fn reply(body: impl FnOnce(&mut XmlWriter) + Send + 'static) -> Result<Reply, ApiError> {
    Ok(Some(Box::new(body)))
}

impl Handler<'_> {
    pub(super) fn account(&self) -> &str {
        &self.cp.config().account_id
    }

    pub(super) fn required(&self, name: &str) -> Result<&str, ApiError> {
        Ok(self.params.required(name)?)
    }

    pub(super) fn paging(&self) -> Result<Paging, ApiError> {
        Ok(Paging {
            marker: self.params.get("Marker").map(str::to_string),
            max_items: self.params.int("MaxItems")?,
        })
    }

    /// The ARN of user `name` as stored (its path), or with path `/` when there is none (the
    /// action then answers NoSuchEntity after authorization).
    pub(super) fn user_arn(&self, name: &str) -> Result<String, ApiError> {
        let path = self
            .cp
            .store()
            .iam_user(name)
            .map_err(ferry_control::ControlError::from)?
            .map(|u| u.path)
            .unwrap_or_else(|| "/".into());
        Ok(iam::arn(self.account(), "user", &path, name))
    }

    fn group_arn(&self, name: &str) -> Result<String, ApiError> {
        let path = self
            .cp
            .store()
            .iam_group(name)
            .map_err(ferry_control::ControlError::from)?
            .map(|g| g.path)
            .unwrap_or_else(|| "/".into());
        Ok(iam::arn(self.account(), "group", &path, name))
    }

    /// `UserName` if given, else the caller's own name (`None` for the root).
    pub(super) fn user_or_caller(&self) -> Option<String> {
        match self.params.get("UserName") {
            Some(n) => Some(n.to_string()),
            None if self.principal.is_root() => None,
            None => Some(self.principal.user_name.clone()),
        }
    }

    /// The ARN of the caller itself.
    pub(super) fn caller_arn(&self) -> Result<String, ApiError> {
        if self.principal.is_root() {
            Ok(iam::root_arn(self.account()))
        } else {
            self.user_arn(&self.principal.user_name)
        }
    }

    /// `Tags.member.N.Key` / `.Value` (IAM's list encoding).
    fn iam_tags(&self) -> Result<Vec<(String, String)>, ApiError> {
        self.params
            .structs("Tags", "member")
            .into_iter()
            .enumerate()
            .map(|(i, mut t): (usize, BTreeMap<String, String>)| {
                let key = t
                    .remove("Key")
                    .ok_or_else(|| ParamError::missing(&format!("Tags.member.{}.Key", i + 1)))?;
                Ok((key, t.remove("Value").unwrap_or_default()))
            })
            .collect()
    }
}

/// `<User>`'s members (also `<member>` of `Users`).
pub(super) fn write_user(w: &mut XmlWriter, account: &str, u: &IamUser) {
    w.elem("Path", &u.path)
        .elem("UserName", &u.name)
        .elem("UserId", &u.id)
        .elem("Arn", iam::arn(account, "user", &u.path, &u.name))
        .time_elem("CreateDate", u.created_at);
}

fn write_group(w: &mut XmlWriter, account: &str, g: &IamUser) {
    w.elem("Path", &g.path)
        .elem("GroupName", &g.name)
        .elem("GroupId", &g.id)
        .elem("Arn", iam::arn(account, "group", &g.path, &g.name))
        .time_elem("CreateDate", g.created_at);
}

fn write_tags(w: &mut XmlWriter, tags: &[(String, String)]) {
    w.start("Tags");
    for (k, v) in tags {
        w.start("member").elem("Key", k).elem("Value", v).end();
    }
    w.end();
}

/// `<{list}><member>..</member>..</{list}><IsTruncated/>[<Marker/>]`.
pub(super) fn write_listing<T>(
    w: &mut XmlWriter,
    list: &str,
    listing: &Listing<T>,
    item: impl Fn(&mut XmlWriter, &T),
) {
    w.start(list);
    for x in &listing.items {
        w.start("member");
        item(w, x);
        w.end();
    }
    w.end();
    w.bool_elem("IsTruncated", listing.marker.is_some());
    w.opt_elem("Marker", listing.marker.as_deref());
}

// ---- users -----------------------------------------------------------------------------------

fn create_user(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let name = h.required("UserName")?;
    let path = h.params.get("Path");
    h.authorize(
        "CreateUser",
        &iam::arn(h.account(), "user", path.unwrap_or("/"), name),
    )?;
    let tags = h.iam_tags()?;
    let user = ops::create_user(h.cp.store(), name, path, &tags)?;
    let account = h.account().to_string();
    reply(move |w| {
        w.start("User");
        write_user(w, &account, &user);
        if !tags.is_empty() {
            write_tags(w, &tags);
        }
        w.end();
    })
}

fn get_user(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let account = h.account().to_string();
    let Some(name) = h.user_or_caller() else {
        // The root asking about itself: IAM answers with the account's own identity.
        h.authorize("GetUser", &iam::root_arn(&account))?;
        let created =
            h.cp.store()
                .access_keys_of(ferry_control::auth::ROOT_USER)
                .map_err(ferry_control::ControlError::from)?
                .into_iter()
                .map(|k| k.created_at)
                .min();
        return reply(move |w| {
            w.start("User")
                .elem("UserId", &account)
                .elem("Arn", iam::root_arn(&account));
            w.opt_time_elem("CreateDate", created);
            w.end();
        });
    };
    h.authorize("GetUser", &h.user_arn(&name)?)?;
    let user = ops::get_user(h.cp.store(), &name)?;
    let tags =
        h.cp.store()
            .iam_tags(EntityKind::User, &user.name)
            .map_err(ferry_control::ControlError::from)?;
    reply(move |w| {
        w.start("User");
        write_user(w, &account, &user);
        if !tags.is_empty() {
            write_tags(w, &tags);
        }
        w.end();
    })
}

fn list_users(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let prefix = h.params.get("PathPrefix");
    h.authorize(
        "ListUsers",
        &iam::arn(h.account(), "user", prefix.unwrap_or("/"), "*"),
    )?;
    let listing = ops::list_users(h.cp.store(), prefix, &h.paging()?)?;
    let account = h.account().to_string();
    reply(move |w| write_listing(w, "Users", &listing, |w, u| write_user(w, &account, u)))
}

fn update_user(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let name = h.required("UserName")?;
    h.authorize("UpdateUser", &h.user_arn(name)?)?;
    ops::update_user(
        h.cp.store(),
        name,
        h.params.get("NewUserName"),
        h.params.get("NewPath"),
    )?;
    Ok(None)
}

fn delete_user(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let name = h.required("UserName")?;
    h.authorize("DeleteUser", &h.user_arn(name)?)?;
    ops::delete_user(h.cp.store(), name)?;
    Ok(None)
}

// ---- groups ----------------------------------------------------------------------------------

fn create_group(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let name = h.required("GroupName")?;
    let path = h.params.get("Path");
    h.authorize(
        "CreateGroup",
        &iam::arn(h.account(), "group", path.unwrap_or("/"), name),
    )?;
    let group = ops::create_group(h.cp.store(), name, path)?;
    let account = h.account().to_string();
    reply(move |w| {
        w.start("Group");
        write_group(w, &account, &group);
        w.end();
    })
}

fn get_group(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let name = h.required("GroupName")?;
    h.authorize("GetGroup", &h.group_arn(name)?)?;
    let (group, members) = ops::group_with_members(h.cp.store(), name, &h.paging()?)?;
    let account = h.account().to_string();
    reply(move |w| {
        w.start("Group");
        write_group(w, &account, &group);
        w.end();
        write_listing(w, "Users", &members, |w, u| write_user(w, &account, u));
    })
}

fn list_groups(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let prefix = h.params.get("PathPrefix");
    h.authorize(
        "ListGroups",
        &iam::arn(h.account(), "group", prefix.unwrap_or("/"), "*"),
    )?;
    let listing = ops::list_groups(h.cp.store(), prefix, &h.paging()?)?;
    let account = h.account().to_string();
    reply(move |w| write_listing(w, "Groups", &listing, |w, g| write_group(w, &account, g)))
}

fn delete_group(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let name = h.required("GroupName")?;
    h.authorize("DeleteGroup", &h.group_arn(name)?)?;
    ops::delete_group(h.cp.store(), name)?;
    Ok(None)
}

fn membership(h: &Handler<'_>, add: bool) -> Result<Reply, ApiError> {
    let group = h.required("GroupName")?;
    let user = h.required("UserName")?;
    h.authorize(h.action, &h.group_arn(group)?)?;
    if add {
        ops::add_user_to_group(h.cp.store(), group, user)?;
    } else {
        ops::remove_user_from_group(h.cp.store(), group, user)?;
    }
    Ok(None)
}

fn list_groups_for_user(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let user = h.required("UserName")?;
    h.authorize("ListGroupsForUser", &h.user_arn(user)?)?;
    let listing = ops::groups_for_user(h.cp.store(), user, &h.paging()?)?;
    let account = h.account().to_string();
    reply(move |w| write_listing(w, "Groups", &listing, |w, g| write_group(w, &account, g)))
}

// ---- user tags -------------------------------------------------------------------------------

fn tag_user(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let user = h.required("UserName")?;
    h.authorize("TagUser", &h.user_arn(user)?)?;
    let tags = h.iam_tags()?;
    if tags.is_empty() {
        return Err(ParamError::missing("Tags").into());
    }
    ops::tag_user(h.cp.store(), user, &tags)?;
    Ok(None)
}

fn untag_user(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let user = h.required("UserName")?;
    h.authorize("UntagUser", &h.user_arn(user)?)?;
    let keys: Vec<String> = h
        .params
        .list("TagKeys", "member")
        .into_iter()
        .map(str::to_string)
        .collect();
    if keys.is_empty() {
        return Err(ParamError::missing("TagKeys").into());
    }
    ops::untag_user(h.cp.store(), user, &keys)?;
    Ok(None)
}

fn list_user_tags(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let user = h.required("UserName")?;
    h.authorize("ListUserTags", &h.user_arn(user)?)?;
    let listing = ops::user_tags(h.cp.store(), user, &h.paging()?)?;
    reply(move |w| {
        write_listing(w, "Tags", &listing, |w, (k, v)| {
            w.elem("Key", k).elem("Value", v);
        })
    })
}
