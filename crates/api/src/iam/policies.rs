//! IAM roles, managed policies and their versions, attachments, inline policies and the
//! policy simulator.
//!
//! Each action is a small function `fn(&Handler) -> Result<Reply, ApiError>` that reads its
//! parameters, authorizes (`iam:<Action>` on the entity's ARN), calls the control plane and
//! returns the writer of its `<{Action}Result>`; [`handle`] picks it by name. Policy
//! documents go out URL-encoded, as IAM sends them (botocore decodes them).

use ferry_control::iam::EntityKind;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::{Handler, Reply};
use crate::error::ApiError;
use crate::xml::XmlWriter;

mod attach;
mod managed;
mod roles;
mod simulate;

type Action = fn(&Handler<'_>) -> Result<Reply, ApiError>;

/// Runs `h.action` if it is one of this module's; `None` otherwise.
pub(super) async fn handle(h: &Handler<'_>) -> Option<Result<Reply, ApiError>> {
    let run: Action = match h.action {
        "CreateRole" => roles::create,
        "GetRole" => roles::get,
        "ListRoles" => roles::list,
        "UpdateRole" => roles::update,
        "UpdateRoleDescription" => roles::update_description,
        "DeleteRole" => roles::delete,
        "UpdateAssumeRolePolicy" => roles::update_assume_role_policy,
        "TagRole" => roles::tag,
        "UntagRole" => roles::untag,
        "ListRoleTags" => roles::list_tags,
        "CreatePolicy" => managed::create,
        "GetPolicy" => managed::get,
        "ListPolicies" => managed::list,
        "DeletePolicy" => managed::delete,
        "CreatePolicyVersion" => managed::create_version,
        "GetPolicyVersion" => managed::get_version,
        "ListPolicyVersions" => managed::list_versions,
        "DeletePolicyVersion" => managed::delete_version,
        "SetDefaultPolicyVersion" => managed::set_default_version,
        "AttachUserPolicy" | "AttachGroupPolicy" | "AttachRolePolicy" => attach::attach,
        "DetachUserPolicy" | "DetachGroupPolicy" | "DetachRolePolicy" => attach::detach,
        "ListAttachedUserPolicies" | "ListAttachedGroupPolicies" | "ListAttachedRolePolicies" => {
            attach::list_attached
        }
        "PutUserPolicy" | "PutGroupPolicy" | "PutRolePolicy" => attach::put_inline,
        "GetUserPolicy" | "GetGroupPolicy" | "GetRolePolicy" => attach::get_inline,
        "ListUserPolicies" | "ListGroupPolicies" | "ListRolePolicies" => attach::list_inline,
        "DeleteUserPolicy" | "DeleteGroupPolicy" | "DeleteRolePolicy" => attach::delete_inline,
        "SimulatePrincipalPolicy" => simulate::principal,
        "SimulateCustomPolicy" => simulate::custom,
        _ => return None,
    };
    Some(run(h))
}

/// A reply that writes `body` inside `<{Action}Result>`.
fn reply(body: impl FnOnce(&mut XmlWriter) + Send + 'static) -> Result<Reply, ApiError> {
    Ok(Some(Box::new(body)))
}

/// Everything but RFC 3986's unreserved characters is escaped (`%20` for a space, which
/// botocore's `unquote` decodes; `+` would stay a plus).
const DOCUMENT_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A policy document as IAM returns it: URL-encoded.
fn encode_document(document: &str) -> String {
    utf8_percent_encode(document, DOCUMENT_ENCODE).to_string()
}

/// The kind of entity an action such as `AttachRolePolicy` or `ListUserPolicies` is about.
fn entity_kind(action: &str) -> EntityKind {
    if action.contains("Group") {
        EntityKind::Group
    } else if action.contains("Role") {
        EntityKind::Role
    } else {
        EntityKind::User
    }
}

/// The parameter naming an entity of `kind`: `UserName`, `GroupName`, `RoleName`.
fn name_param(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::User => "UserName",
        EntityKind::Group => "GroupName",
        EntityKind::Role => "RoleName",
    }
}

/// The ARN authorization checks for entity `name`: with its stored path when it exists, else
/// with the root path (the action then fails with `NoSuchEntity` once allowed).
fn entity_arn(h: &Handler<'_>, kind: EntityKind, name: &str) -> String {
    h.cp.entity_arn(kind, name).unwrap_or_else(|_| {
        ferry_control::iam::arn(&h.cp.config().account_id, kind.as_str(), "/", name)
    })
}

/// `Tags.member.N.Key` / `.Value` as pairs; a tag without a key is `MissingParameter`.
fn tags(h: &Handler<'_>) -> Result<Vec<(String, String)>, ApiError> {
    h.params
        .structs("Tags", "member")
        .into_iter()
        .enumerate()
        .map(|(i, mut tag)| {
            let key = tag.remove("Key").ok_or_else(|| {
                ApiError::new(
                    400,
                    "MissingParameter",
                    format!(
                        "The request must contain the parameter Tags.member.{}.Key",
                        i + 1
                    ),
                )
            })?;
            Ok((key, tag.remove("Value").unwrap_or_default()))
        })
        .collect()
}

fn write_tags(w: &mut XmlWriter, tags: &[(String, String)]) {
    w.start("Tags");
    for (key, value) in tags {
        w.start("member")
            .elem("Key", key)
            .elem("Value", value)
            .end();
    }
    w.end();
}

/// One page of a listing: `MaxItems` (1..=1000, default 100) items after `Marker` (the index
/// of the first item of the page, as ferry handed it out), and the marker of the next page.
fn page<T>(h: &Handler<'_>, items: Vec<T>) -> Result<(Vec<T>, Option<String>), ApiError> {
    let max = match h.params.int("MaxItems")? {
        None => 100,
        Some(n @ 1..=1000) => n as usize,
        Some(n) => {
            return Err(ApiError::new(
                400,
                "ValidationError",
                format!(
                    "1 validation error detected: Value '{n}' at 'maxItems' failed to satisfy \
                     constraint: Member must have value between 1 and 1000"
                ),
            ))
        }
    };
    let start = match h.params.get("Marker") {
        None => 0,
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|&n| n <= items.len())
            .ok_or_else(|| ApiError::new(400, "InvalidInput", format!("Invalid Marker: {m}")))?,
    };
    let end = (start + max).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    let page = items.into_iter().skip(start).take(end - start).collect();
    Ok((page, next))
}

/// `<IsTruncated>` and `<Marker>` after a page.
fn write_paging(w: &mut XmlWriter, next: &Option<String>) {
    w.bool_elem("IsTruncated", next.is_some());
    w.opt_elem("Marker", next.as_deref());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_url_encoded_as_iam_sends_them() {
        assert_eq!(
            encode_document(r#"{"Action": "s3:*"}"#),
            "%7B%22Action%22%3A%20%22s3%3A%2A%22%7D"
        );
    }

    #[test]
    fn entity_kinds_from_action_names() {
        assert_eq!(entity_kind("AttachRolePolicy"), EntityKind::Role);
        assert_eq!(entity_kind("ListGroupPolicies"), EntityKind::Group);
        assert_eq!(entity_kind("GetUserPolicy"), EntityKind::User);
        assert_eq!(entity_kind("ListAttachedUserPolicies"), EntityKind::User);
    }
}
