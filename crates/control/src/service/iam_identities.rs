//! IAM users, groups, group membership, access keys and user tags: the control plane's
//! operations behind the IAM API, over the [`Store`], with IAM's quotas and error texts
//! (the rules themselves: [`crate::iam::identities`]).
//!
//! The account root ([`ROOT_USER`]) is no IAM user: it has no row in `iam_users`, but holds
//! access keys like one (CreateAccessKey without `UserName`, called by the root).

use rand::Rng;
use time::OffsetDateTime;

use crate::auth::ROOT_USER;
use crate::error::ControlError;
use crate::iam::identities::{
    validate_tags, validation, Listing, Paging, ACCESS_KEYS_PER_USER, GROUPS_PER_USER,
    LAST_USED_GRANULARITY_SECS, TAGS_PER_ENTITY,
};
use crate::iam::{new_id, validate_name, validate_path, EntityKind, IamError, IamErrorKind};
use crate::store::{
    AccessKey, IamGroup, IamUser, IamWrite, KeyAdded, KeyLastUsed, KeyStatus, Store, UserConflicts,
};

fn no_user(name: &str) -> IamError {
    IamError::new(
        IamErrorKind::NoSuchEntity,
        format!("The user with name {name} cannot be found."),
    )
}

fn no_group(name: &str) -> IamError {
    IamError::new(
        IamErrorKind::NoSuchEntity,
        format!("The group with name {name} cannot be found."),
    )
}

fn no_key(id: &str) -> IamError {
    IamError::new(
        IamErrorKind::NoSuchEntity,
        format!("The Access Key with id {id} cannot be found."),
    )
}

fn delete_conflict(c: UserConflicts, kind: EntityKind) -> IamError {
    let message = if c.attached_policies > 0 {
        "Cannot delete entity, must detach all policies first."
    } else if c.inline_policies > 0 {
        "Cannot delete entity, must delete policies first."
    } else if c.access_keys > 0 {
        "Cannot delete entity, must delete access keys first."
    } else if kind == EntityKind::Group {
        "Cannot delete entity, must remove users from group first."
    } else {
        "Cannot delete entity, must remove from all groups first."
    };
    IamError::new(IamErrorKind::DeleteConflict, message)
}

/// The user named `name`, or `NoSuchEntity`.
pub fn get_user(store: &Store, name: &str) -> Result<IamUser, ControlError> {
    validate_name("UserName", name, 64)?;
    Ok(store.iam_user(name)?.ok_or_else(|| no_user(name))?)
}

pub fn get_group(store: &Store, name: &str) -> Result<IamGroup, ControlError> {
    validate_name("GroupName", name, 128)?;
    Ok(store.iam_group(name)?.ok_or_else(|| no_group(name))?)
}

// ---- users -----------------------------------------------------------------------------------

pub fn create_user(
    store: &Store,
    name: &str,
    path: Option<&str>,
    tags: &[(String, String)],
) -> Result<IamUser, ControlError> {
    validate_name("UserName", name, 64)?;
    let path = path.unwrap_or("/");
    validate_path("Path", path)?;
    validate_tags(tags)?;
    let user = IamUser {
        name: name.to_string(),
        id: new_id(EntityKind::User.id_prefix()),
        path: path.to_string(),
        created_at: OffsetDateTime::now_utc(),
    };
    match store.create_iam_user(&user, tags)? {
        IamWrite::Done => Ok(user),
        _ => Err(IamError::new(
            IamErrorKind::EntityAlreadyExists,
            format!("User with name {name} already exists."),
        )
        .into()),
    }
}

/// Users whose path starts with `path_prefix`, by name.
pub fn list_users(
    store: &Store,
    path_prefix: Option<&str>,
    paging: &Paging,
) -> Result<Listing<IamUser>, ControlError> {
    let users = filter_path(store.iam_users()?, path_prefix)?;
    Ok(paging.page(users)?)
}

fn filter_path(items: Vec<IamUser>, prefix: Option<&str>) -> Result<Vec<IamUser>, IamError> {
    let Some(prefix) = prefix else {
        return Ok(items);
    };
    crate::iam::validate_path_prefix(prefix)?;
    Ok(items
        .into_iter()
        .filter(|u| u.path.starts_with(prefix))
        .collect())
}

pub fn update_user(
    store: &Store,
    name: &str,
    new_name: Option<&str>,
    new_path: Option<&str>,
) -> Result<(), ControlError> {
    validate_name("UserName", name, 64)?;
    if let Some(n) = new_name {
        validate_name("NewUserName", n, 64)?;
    }
    if let Some(p) = new_path {
        validate_path("NewPath", p)?;
    }
    match store.update_iam_user(name, new_name, new_path)? {
        IamWrite::Done => Ok(()),
        IamWrite::NotFound => Err(no_user(name).into()),
        _ => Err(IamError::new(
            IamErrorKind::EntityAlreadyExists,
            format!(
                "User with name {} already exists.",
                new_name.unwrap_or(name)
            ),
        )
        .into()),
    }
}

pub fn delete_user(store: &Store, name: &str) -> Result<(), ControlError> {
    validate_name("UserName", name, 64)?;
    match store.delete_iam_user(name)? {
        IamWrite::Done => Ok(()),
        IamWrite::Conflicts(c) => Err(delete_conflict(c, EntityKind::User).into()),
        _ => Err(no_user(name).into()),
    }
}

// ---- groups ----------------------------------------------------------------------------------

pub fn create_group(
    store: &Store,
    name: &str,
    path: Option<&str>,
) -> Result<IamGroup, ControlError> {
    validate_name("GroupName", name, 128)?;
    let path = path.unwrap_or("/");
    validate_path("Path", path)?;
    let group = IamGroup {
        name: name.to_string(),
        id: new_id(EntityKind::Group.id_prefix()),
        path: path.to_string(),
        created_at: OffsetDateTime::now_utc(),
    };
    match store.create_iam_group(&group)? {
        IamWrite::Done => Ok(group),
        _ => Err(IamError::new(
            IamErrorKind::EntityAlreadyExists,
            format!("Group with name {name} already exists."),
        )
        .into()),
    }
}

/// A group and one page of its members.
pub fn group_with_members(
    store: &Store,
    name: &str,
    paging: &Paging,
) -> Result<(IamGroup, Listing<IamUser>), ControlError> {
    let group = get_group(store, name)?;
    let members = store.iam_group_members(&group.name)?;
    Ok((group, paging.page(members)?))
}

pub fn list_groups(
    store: &Store,
    path_prefix: Option<&str>,
    paging: &Paging,
) -> Result<Listing<IamGroup>, ControlError> {
    let groups = filter_path(store.iam_groups()?, path_prefix)?;
    Ok(paging.page(groups)?)
}

pub fn delete_group(store: &Store, name: &str) -> Result<(), ControlError> {
    validate_name("GroupName", name, 128)?;
    match store.delete_iam_group(name)? {
        IamWrite::Done => Ok(()),
        IamWrite::Conflicts(c) => Err(delete_conflict(c, EntityKind::Group).into()),
        _ => Err(no_group(name).into()),
    }
}

pub fn add_user_to_group(store: &Store, group: &str, user: &str) -> Result<(), ControlError> {
    let g = get_group(store, group)?;
    let u = get_user(store, user)?;
    match store.add_user_to_group(&g.name, &u.name, GROUPS_PER_USER)? {
        IamWrite::Done => Ok(()),
        IamWrite::Quota => Err(IamError::new(
            IamErrorKind::LimitExceeded,
            format!("Cannot exceed quota for GroupsPerUser: {GROUPS_PER_USER}"),
        )
        .into()),
        // Deleted between the reads and the write.
        _ => Err(no_user(user).into()),
    }
}

pub fn remove_user_from_group(store: &Store, group: &str, user: &str) -> Result<(), ControlError> {
    let g = get_group(store, group)?;
    let u = get_user(store, user)?;
    if store.remove_user_from_group(&g.name, &u.name)? {
        Ok(())
    } else {
        Err(IamError::new(
            IamErrorKind::NoSuchEntity,
            format!("The user with name {user} cannot be found in group {group}."),
        )
        .into())
    }
}

pub fn groups_for_user(
    store: &Store,
    user: &str,
    paging: &Paging,
) -> Result<Listing<IamGroup>, ControlError> {
    let u = get_user(store, user)?;
    Ok(paging.page(store.iam_groups_of_user(&u.name)?)?)
}

// ---- access keys -----------------------------------------------------------------------------

/// The stored name of the key holder: `user` as given (checked to exist, in its stored case),
/// or the caller itself (the root, or the calling IAM user) when `user` is `None`.
pub fn key_holder(store: &Store, user: Option<&str>, caller: &str) -> Result<String, ControlError> {
    match user {
        Some(name) => Ok(get_user(store, name)?.name),
        None if caller == ROOT_USER => Ok(ROOT_USER.to_string()),
        None => Ok(get_user(store, caller)?.name),
    }
}

/// A new Active key for `holder` (from [`key_holder`]); the only time its secret is shown.
pub fn create_access_key(store: &Store, holder: &str) -> Result<AccessKey, ControlError> {
    const SECRET_ALPHABET: &[u8] =
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut rng = rand::rng();
    let secret: String = (0..40)
        .map(|_| SECRET_ALPHABET[rng.random_range(0..SECRET_ALPHABET.len())] as char)
        .collect();
    let key = AccessKey {
        access_key_id: new_id("AKIA").chars().take(20).collect(),
        secret_access_key: secret.into(),
        user_name: holder.to_string(),
        created_at: OffsetDateTime::now_utc(),
        status: KeyStatus::Active,
        last_used: None,
    };
    match store.add_access_key(&key, ACCESS_KEYS_PER_USER)? {
        KeyAdded::Added => Ok(key),
        KeyAdded::QuotaFull => Err(IamError::new(
            IamErrorKind::LimitExceeded,
            format!("Cannot exceed quota for AccessKeysPerUser: {ACCESS_KEYS_PER_USER}"),
        )
        .into()),
    }
}

pub fn list_access_keys(
    store: &Store,
    holder: &str,
    paging: &Paging,
) -> Result<Listing<AccessKey>, ControlError> {
    Ok(paging.page(store.access_keys_of(holder)?)?)
}

pub fn update_access_key(
    store: &Store,
    holder: &str,
    access_key_id: &str,
    status: &str,
) -> Result<(), ControlError> {
    let status = KeyStatus::parse(status).ok_or_else(|| {
        validation(format!(
            "1 validation error detected: Value '{status}' at 'status' failed to satisfy \
             constraint: Member must satisfy enum value set: [Active, Inactive]"
        ))
    })?;
    if store.set_access_key_status(holder, access_key_id, status)? {
        Ok(())
    } else {
        Err(no_key(access_key_id).into())
    }
}

pub fn delete_access_key(
    store: &Store,
    holder: &str,
    access_key_id: &str,
) -> Result<(), ControlError> {
    if store.delete_access_key(holder, access_key_id)? {
        Ok(())
    } else {
        Err(no_key(access_key_id).into())
    }
}

/// The holder of a key and its last use. Any key of the account may be asked about.
pub fn access_key_last_used(
    store: &Store,
    access_key_id: &str,
) -> Result<(String, Option<KeyLastUsed>), ControlError> {
    let key = store.get_access_key(access_key_id)?.ok_or_else(|| {
        IamError::new(
            IamErrorKind::NoSuchEntity,
            format!("The Access Key with id {access_key_id} cannot be found"),
        )
    })?;
    Ok((key.user_name, key.last_used))
}

/// Records that `key` signed an accepted request for `service` in `region`, unless its
/// stored last use already says so within [`LAST_USED_GRANULARITY_SECS`].
pub fn note_key_use(
    store: &Store,
    key: &AccessKey,
    service: &str,
    region: &str,
    now: OffsetDateTime,
) -> Result<(), ControlError> {
    let fresh = key.last_used.as_ref().is_some_and(|l| {
        l.service == service
            && l.region == region
            && (now - l.at).whole_seconds() < LAST_USED_GRANULARITY_SECS
    });
    if !fresh {
        store.record_access_key_use(
            &key.access_key_id,
            &KeyLastUsed {
                at: now,
                service: service.to_string(),
                region: region.to_string(),
            },
        )?;
    }
    Ok(())
}

// ---- user tags -------------------------------------------------------------------------------

pub fn tag_user(store: &Store, user: &str, tags: &[(String, String)]) -> Result<(), ControlError> {
    let u = get_user(store, user)?;
    validate_tags(tags)?;
    match store.put_iam_tags(EntityKind::User, &u.name, tags, TAGS_PER_ENTITY)? {
        IamWrite::Done => Ok(()),
        _ => Err(IamError::new(
            IamErrorKind::LimitExceeded,
            format!("Cannot exceed quota for TagsPerUser: {TAGS_PER_ENTITY}"),
        )
        .into()),
    }
}

pub fn untag_user(store: &Store, user: &str, keys: &[String]) -> Result<(), ControlError> {
    let u = get_user(store, user)?;
    if keys.len() > TAGS_PER_ENTITY {
        return Err(validation(format!(
            "1 validation error detected: Value at 'tagKeys' failed to satisfy constraint: \
             Member must have length less than or equal to {TAGS_PER_ENTITY}"
        ))
        .into());
    }
    store.remove_iam_tags(EntityKind::User, &u.name, keys)?;
    Ok(())
}

pub fn user_tags(
    store: &Store,
    user: &str,
    paging: &Paging,
) -> Result<Listing<(String, String)>, ControlError> {
    let u = get_user(store, user)?;
    Ok(paging.page(store.iam_tags(EntityKind::User, &u.name)?)?)
}

#[cfg(test)]
#[path = "iam_identities_tests.rs"]
mod tests;
