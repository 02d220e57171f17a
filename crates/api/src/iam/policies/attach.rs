//! Attachments of managed policies and inline policies, for users, groups and roles: one
//! function per verb, the entity kind read from the action's name.

use super::{encode_document, entity_arn, entity_kind, name_param, page, reply, write_paging};
use crate::error::ApiError;
use crate::iam::{Handler, Reply};

/// The entity kind, its parameter's name and the entity's name.
fn entity<'a>(
    h: &'a Handler<'_>,
) -> Result<(ferry_control::iam::EntityKind, &'static str, &'a str), ApiError> {
    let kind = entity_kind(h.action);
    let param = name_param(kind);
    Ok((kind, param, h.params.required(param)?))
}

pub(super) fn attach(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let (kind, _, name) = entity(h)?;
    h.authorize(h.action, &entity_arn(h, kind, name))?;
    h.cp.attach_policy(kind, name, h.params.required("PolicyArn")?)?;
    Ok(None)
}

pub(super) fn detach(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let (kind, _, name) = entity(h)?;
    h.authorize(h.action, &entity_arn(h, kind, name))?;
    h.cp.detach_policy(kind, name, h.params.required("PolicyArn")?)?;
    Ok(None)
}

pub(super) fn list_attached(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let (kind, _, name) = entity(h)?;
    h.authorize(h.action, &entity_arn(h, kind, name))?;
    let attached =
        h.cp.attached_policies(kind, name, h.params.get("PathPrefix").unwrap_or("/"))?;
    let (attached, next) = page(h, attached)?;
    reply(move |w| {
        w.start("AttachedPolicies");
        for p in &attached {
            w.start("member")
                .elem("PolicyName", &p.name)
                .elem("PolicyArn", &p.arn)
                .end();
        }
        w.end();
        write_paging(w, &next);
    })
}

pub(super) fn put_inline(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let (kind, _, name) = entity(h)?;
    h.authorize(h.action, &entity_arn(h, kind, name))?;
    h.cp.put_inline_policy(
        kind,
        name,
        h.params.required("PolicyName")?,
        h.params.required("PolicyDocument")?,
    )?;
    Ok(None)
}

pub(super) fn get_inline(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let (kind, param, name) = entity(h)?;
    h.authorize(h.action, &entity_arn(h, kind, name))?;
    let (policy, document) =
        h.cp.get_inline_policy(kind, name, h.params.required("PolicyName")?)?;
    let entity = name.to_string();
    reply(move |w| {
        w.elem(param, &entity)
            .elem("PolicyName", &policy)
            .elem("PolicyDocument", encode_document(&document));
    })
}

pub(super) fn list_inline(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let (kind, _, name) = entity(h)?;
    h.authorize(h.action, &entity_arn(h, kind, name))?;
    let (names, next) = page(h, h.cp.inline_policy_names(kind, name)?)?;
    reply(move |w| {
        w.list("PolicyNames", "member", &names);
        write_paging(w, &next);
    })
}

pub(super) fn delete_inline(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let (kind, _, name) = entity(h)?;
    h.authorize(h.action, &entity_arn(h, kind, name))?;
    h.cp.delete_inline_policy(kind, name, h.params.required("PolicyName")?)?;
    Ok(None)
}
