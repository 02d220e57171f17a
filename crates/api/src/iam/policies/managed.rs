//! Managed policies and their versions.

use ferry_control::service::PolicyScope;
use ferry_control::store::{ManagedPolicy, PolicyVersion};

use super::{encode_document, page, reply, write_paging};
use crate::error::ApiError;
use crate::iam::{Handler, Reply};
use crate::xml::XmlWriter;

fn write_policy(w: &mut XmlWriter, element: &str, p: &ManagedPolicy) {
    w.start(element)
        .elem("PolicyName", &p.name)
        .elem("PolicyId", &p.id)
        .elem("Arn", &p.arn)
        .elem("Path", &p.path)
        .elem("DefaultVersionId", &p.default_version)
        .elem("AttachmentCount", p.attachment_count)
        .elem("PermissionsBoundaryUsageCount", 0)
        .bool_elem("IsAttachable", true)
        .opt_elem("Description", p.description.as_deref())
        .time_elem("CreateDate", p.created_at)
        .time_elem("UpdateDate", p.updated_at)
        .end();
}

/// `<PolicyVersion>` or a `<member>`; the document only where IAM sends it (GetPolicyVersion).
fn write_version(w: &mut XmlWriter, element: &str, v: &PolicyVersion, with_document: bool) {
    w.start(element);
    if with_document {
        w.elem("Document", encode_document(&v.document));
    }
    w.elem("VersionId", &v.version_id)
        .bool_elem("IsDefaultVersion", v.is_default)
        .time_elem("CreateDate", v.created_at)
        .end();
}

fn policy_arn<'a>(h: &'a Handler<'_>) -> Result<&'a str, ApiError> {
    Ok(h.params.required("PolicyArn")?)
}

pub(super) fn create(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let p = h.params;
    let name = p.required("PolicyName")?;
    let path = p.get("Path");
    h.authorize("CreatePolicy", &h.cp.policy_arn(path.unwrap_or("/"), name))?;
    let policy = h.cp.create_policy(
        name,
        path,
        p.required("PolicyDocument")?,
        p.get("Description"),
    )?;
    reply(move |w| write_policy(w, "Policy", &policy))
}

pub(super) fn get(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let arn = policy_arn(h)?;
    h.authorize("GetPolicy", arn)?;
    let policy = h.cp.get_policy(arn)?;
    reply(move |w| write_policy(w, "Policy", &policy))
}

pub(super) fn list(h: &Handler<'_>) -> Result<Reply, ApiError> {
    h.authorize("ListPolicies", "*")?;
    let p = h.params;
    let scope = match p.get("Scope") {
        None | Some("All") => PolicyScope::All,
        Some("AWS") => PolicyScope::Aws,
        Some("Local") => PolicyScope::Local,
        Some(other) => {
            return Err(ApiError::new(
                400,
                "ValidationError",
                format!(
                    "1 validation error detected: Value '{other}' at 'scope' failed to satisfy \
                     constraint: Member must satisfy enum value set: [All, AWS, Local]"
                ),
            ))
        }
    };
    // `PolicyUsageFilter` (PermissionsPolicy | PermissionsBoundary): every policy ferry
    // holds is a permissions policy, none is used as a boundary.
    let boundaries_only = match p.get("PolicyUsageFilter") {
        None | Some("PermissionsPolicy") => false,
        Some("PermissionsBoundary") => true,
        Some(other) => {
            return Err(ApiError::new(
                400,
                "ValidationError",
                format!(
                    "1 validation error detected: Value '{other}' at 'policyUsageFilter' failed \
                     to satisfy constraint: Member must satisfy enum value set: \
                     [PermissionsPolicy, PermissionsBoundary]"
                ),
            ))
        }
    };
    let only_attached = p.bool("OnlyAttached")?.unwrap_or(false);
    let mut policies =
        h.cp.list_policies(scope, only_attached, p.get("PathPrefix").unwrap_or("/"))?;
    if boundaries_only && only_attached {
        policies.clear();
    }
    let (policies, next) = page(h, policies)?;
    reply(move |w| {
        w.start("Policies");
        for policy in &policies {
            write_policy(w, "member", policy);
        }
        w.end();
        write_paging(w, &next);
    })
}

pub(super) fn delete(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let arn = policy_arn(h)?;
    h.authorize("DeletePolicy", arn)?;
    h.cp.delete_policy(arn)?;
    Ok(None)
}

pub(super) fn create_version(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let arn = policy_arn(h)?;
    h.authorize("CreatePolicyVersion", arn)?;
    let version = h.cp.create_policy_version(
        arn,
        h.params.required("PolicyDocument")?,
        h.params.bool("SetAsDefault")?.unwrap_or(false),
    )?;
    reply(move |w| write_version(w, "PolicyVersion", &version, false))
}

pub(super) fn get_version(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let arn = policy_arn(h)?;
    h.authorize("GetPolicyVersion", arn)?;
    let version =
        h.cp.get_policy_version(arn, h.params.required("VersionId")?)?;
    reply(move |w| write_version(w, "PolicyVersion", &version, true))
}

pub(super) fn list_versions(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let arn = policy_arn(h)?;
    h.authorize("ListPolicyVersions", arn)?;
    let (versions, next) = page(h, h.cp.list_policy_versions(arn)?)?;
    reply(move |w| {
        w.start("Versions");
        for v in &versions {
            write_version(w, "member", v, false);
        }
        w.end();
        write_paging(w, &next);
    })
}

pub(super) fn delete_version(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let arn = policy_arn(h)?;
    h.authorize("DeletePolicyVersion", arn)?;
    h.cp.delete_policy_version(arn, h.params.required("VersionId")?)?;
    Ok(None)
}

pub(super) fn set_default_version(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let arn = policy_arn(h)?;
    h.authorize("SetDefaultPolicyVersion", arn)?;
    h.cp.set_default_policy_version(arn, h.params.required("VersionId")?)?;
    Ok(None)
}
