//! Roles: Create/Get/List/Update/DeleteRole, UpdateAssumeRolePolicy, role tags.

use ferry_control::iam::{self, EntityKind};
use ferry_control::service::CreateRoleRequest;
use ferry_control::store::IamRole;

use super::{encode_document, entity_arn, page, reply, tags, write_paging, write_tags};
use crate::error::ApiError;
use crate::iam::{Handler, Reply};
use crate::xml::XmlWriter;

/// `<Role>` (or a `<member>` of `Roles`) with the role's members; `tags` when known.
fn write_role(
    w: &mut XmlWriter,
    element: &str,
    arn: &str,
    role: &IamRole,
    tags: Option<&[(String, String)]>,
) {
    w.start(element)
        .elem("Path", &role.path)
        .elem("RoleName", &role.name)
        .elem("RoleId", &role.id)
        .elem("Arn", arn)
        .time_elem("CreateDate", role.created_at)
        .elem(
            "AssumeRolePolicyDocument",
            encode_document(&role.assume_role_policy),
        )
        .opt_elem("Description", role.description.as_deref())
        .elem("MaxSessionDuration", role.max_session_duration);
    if let Some(tags) = tags.filter(|t| !t.is_empty()) {
        write_tags(w, tags);
    }
    w.end();
}

fn role_name<'a>(h: &'a Handler<'_>) -> Result<&'a str, ApiError> {
    Ok(h.params.required("RoleName")?)
}

pub(super) fn create(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let p = h.params;
    let name = role_name(h)?;
    let path = p.get("Path");
    let arn = iam::arn(&h.cp.config().account_id, "role", path.unwrap_or("/"), name);
    h.authorize("CreateRole", &arn)?;
    let tags = tags(h)?;
    let role = h.cp.create_role(CreateRoleRequest {
        name: name.into(),
        path: path.map(str::to_string),
        assume_role_policy: p.required("AssumeRolePolicyDocument")?.into(),
        description: p.get("Description").map(str::to_string),
        max_session_duration: p.i64("MaxSessionDuration")?,
        tags: tags.clone(),
    })?;
    let arn = h.cp.role_arn(&role);
    reply(move |w| write_role(w, "Role", &arn, &role, Some(&tags)))
}

pub(super) fn get(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let name = role_name(h)?;
    h.authorize("GetRole", &entity_arn(h, EntityKind::Role, name))?;
    let (role, tags) = h.cp.get_role(name)?;
    let arn = h.cp.role_arn(&role);
    reply(move |w| write_role(w, "Role", &arn, &role, Some(&tags)))
}

pub(super) fn list(h: &Handler<'_>) -> Result<Reply, ApiError> {
    h.authorize("ListRoles", "*")?;
    let roles = h.cp.list_roles(h.params.get("PathPrefix").unwrap_or("/"))?;
    let (roles, next) = page(h, roles)?;
    let arns: Vec<String> = roles.iter().map(|r| h.cp.role_arn(r)).collect();
    reply(move |w| {
        w.start("Roles");
        for (role, arn) in roles.iter().zip(&arns) {
            write_role(w, "member", arn, role, None);
        }
        w.end();
        write_paging(w, &next);
    })
}

pub(super) fn update(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let name = role_name(h)?;
    h.authorize("UpdateRole", &entity_arn(h, EntityKind::Role, name))?;
    h.cp.update_role(
        name,
        h.params.get("Description"),
        h.params.i64("MaxSessionDuration")?,
    )?;
    // UpdateRoleResponse has no members but a result wrapper botocore looks for.
    reply(|_| {})
}

pub(super) fn update_description(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let name = role_name(h)?;
    h.authorize(
        "UpdateRoleDescription",
        &entity_arn(h, EntityKind::Role, name),
    )?;
    h.cp.update_role(name, Some(h.params.required("Description")?), None)?;
    let (role, tags) = h.cp.get_role(name)?;
    let arn = h.cp.role_arn(&role);
    reply(move |w| write_role(w, "Role", &arn, &role, Some(&tags)))
}

pub(super) fn delete(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let name = role_name(h)?;
    h.authorize("DeleteRole", &entity_arn(h, EntityKind::Role, name))?;
    h.cp.delete_role(name)?;
    Ok(None)
}

pub(super) fn update_assume_role_policy(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let name = role_name(h)?;
    h.authorize(
        "UpdateAssumeRolePolicy",
        &entity_arn(h, EntityKind::Role, name),
    )?;
    h.cp.update_assume_role_policy(name, h.params.required("PolicyDocument")?)?;
    Ok(None)
}

pub(super) fn tag(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let name = role_name(h)?;
    h.authorize("TagRole", &entity_arn(h, EntityKind::Role, name))?;
    h.cp.tag_role(name, &tags(h)?)?;
    Ok(None)
}

pub(super) fn untag(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let name = role_name(h)?;
    h.authorize("UntagRole", &entity_arn(h, EntityKind::Role, name))?;
    let keys: Vec<String> = h
        .params
        .list("TagKeys", "member")
        .into_iter()
        .map(str::to_string)
        .collect();
    h.cp.untag_role(name, &keys)?;
    Ok(None)
}

pub(super) fn list_tags(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let name = role_name(h)?;
    h.authorize("ListRoleTags", &entity_arn(h, EntityKind::Role, name))?;
    let (tags, next) = page(h, h.cp.role_tags(name)?)?;
    reply(move |w| {
        write_tags(w, &tags);
        write_paging(w, &next);
    })
}
