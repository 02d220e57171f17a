//! IAM access keys: CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey and
//! GetAccessKeyLastUsed. Without `UserName` they act on the caller's own keys (the root's,
//! for the root).

use ferry_control::auth::ROOT_USER;
use ferry_control::service::iam_identities as ops;
use ferry_control::store::AccessKey;

use super::identities::write_listing;
use super::{Handler, Reply};
use crate::error::ApiError;
use crate::xml::XmlWriter;

pub(super) fn handle(h: &Handler<'_>) -> Option<Result<Reply, ApiError>> {
    let result = match h.action {
        "CreateAccessKey" => create_access_key(h),
        "ListAccessKeys" => list_access_keys(h),
        "UpdateAccessKey" => update_access_key(h),
        "DeleteAccessKey" => delete_access_key(h),
        "GetAccessKeyLastUsed" => get_access_key_last_used(h),
        _ => return None,
    };
    Some(result)
}

impl Handler<'_> {
    /// Authorizes `action` on the key holder (the named user, else the caller) and returns
    /// the holder's stored name.
    fn key_holder(&self, action: &str) -> Result<String, ApiError> {
        let user = self.user_or_caller();
        let resource = match &user {
            Some(name) => self.user_arn(name)?,
            None => self.caller_arn()?,
        };
        self.authorize(action, &resource)?;
        Ok(ops::key_holder(
            self.cp.store(),
            user.as_deref(),
            &self.principal.user_name,
        )?)
    }
}

/// `UserName` as IAM shows it: the user's, nothing for the root's own keys.
fn holder_elem(w: &mut XmlWriter, holder: &str) {
    if holder != ROOT_USER {
        w.elem("UserName", holder);
    }
}

fn write_metadata(w: &mut XmlWriter, k: &AccessKey) {
    holder_elem(w, &k.user_name);
    w.elem("AccessKeyId", &k.access_key_id)
        .elem("Status", k.status.as_str())
        .time_elem("CreateDate", k.created_at);
}

fn create_access_key(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let holder = h.key_holder("CreateAccessKey")?;
    let key = ops::create_access_key(h.cp.store(), &holder)?;
    Ok(Some(Box::new(move |w: &mut XmlWriter| {
        w.start("AccessKey");
        holder_elem(w, &key.user_name);
        w.elem("AccessKeyId", &key.access_key_id)
            .elem("Status", key.status.as_str())
            // The one place the secret ever leaves ferry.
            .elem("SecretAccessKey", key.secret_access_key.expose())
            .time_elem("CreateDate", key.created_at);
        w.end();
    })))
}

fn list_access_keys(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let holder = h.key_holder("ListAccessKeys")?;
    let listing = ops::list_access_keys(h.cp.store(), &holder, &h.paging()?)?;
    Ok(Some(Box::new(move |w: &mut XmlWriter| {
        write_listing(w, "AccessKeyMetadata", &listing, write_metadata)
    })))
}

fn update_access_key(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let id = h.required("AccessKeyId")?.to_string();
    let status = h.required("Status")?.to_string();
    let holder = h.key_holder("UpdateAccessKey")?;
    ops::update_access_key(h.cp.store(), &holder, &id, &status)?;
    Ok(None)
}

fn delete_access_key(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let id = h.required("AccessKeyId")?.to_string();
    let holder = h.key_holder("DeleteAccessKey")?;
    ops::delete_access_key(h.cp.store(), &holder, &id)?;
    Ok(None)
}

fn get_access_key_last_used(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let id = h.required("AccessKeyId")?.to_string();
    let (holder, last) = ops::access_key_last_used(h.cp.store(), &id)?;
    let resource = if holder == ROOT_USER {
        ferry_control::iam::root_arn(h.account())
    } else {
        h.user_arn(&holder)?
    };
    h.authorize("GetAccessKeyLastUsed", &resource)?;
    Ok(Some(Box::new(move |w: &mut XmlWriter| {
        holder_elem(w, &holder);
        w.start("AccessKeyLastUsed");
        match &last {
            Some(l) => {
                w.time_elem("LastUsedDate", l.at)
                    .elem("ServiceName", &l.service)
                    .elem("Region", &l.region);
            }
            // IAM's answer for a key never used.
            None => {
                w.elem("ServiceName", "N/A").elem("Region", "N/A");
            }
        }
        w.end();
    })))
}
