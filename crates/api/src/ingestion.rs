//! `FerryCreateIngestionRole` (ferry's own action, on the RDS endpoint like `FerryCutover`):
//! the console's "Create a new role" for a restore. Parameters `S3BucketName` (`*`: any
//! bucket), `S3Prefix`, `RoleName` (default `ferry-s3-import-<bucket>`), `KmsKeyArn`;
//! answers `RoleName`, `RoleArn`, `PolicyArn`. Authorized as what it does with the caller's
//! rights: `iam:CreateRole`, `iam:CreatePolicy` and `iam:AttachRolePolicy`, the permissions
//! the seed's console policy grants.

use ferry_control::service::IngestionRole;
use ferry_control::validate;
use ferry_control::{ControlPlane, Principal};

use crate::error::ApiError;
use crate::params::Params;
use crate::xml::XmlWriter;

pub(crate) fn create(
    cp: &ControlPlane,
    principal: &Principal,
    params: &Params,
) -> Result<impl FnOnce(&mut XmlWriter), ApiError> {
    let made = create_ingestion_role(cp, principal, params)?;
    Ok(move |w: &mut XmlWriter| {
        w.elem("RoleName", &made.role_name)
            .elem("RoleArn", &made.role_arn)
            .elem("PolicyArn", &made.policy_arn);
    })
}

/// `FerryCreateIngestionRole` with `params`, for `principal`: the role made (the web
/// console's wizard calls it directly).
pub fn create_ingestion_role(
    cp: &ControlPlane,
    principal: &Principal,
    params: &Params,
) -> Result<IngestionRole, ApiError> {
    let bucket = params.required("S3BucketName")?;
    if bucket != "*" {
        validate::s3_bucket_name(bucket)?;
    }
    let prefix = validate::s3_prefix(params.get("S3Prefix").unwrap_or(""))?;
    let name = match params.get("RoleName") {
        Some(n) => n.to_string(),
        None => ControlPlane::default_ingestion_role_name(bucket),
    };
    let account = &cp.config().account_id;
    let role_arn = ferry_control::iam::arn(account, "role", "/", &name);
    let policy_arn = ferry_control::iam::arn(account, "policy", "/", &format!("{name}-policy"));
    cp.authorize(principal, "iam:CreateRole", &role_arn)?;
    cp.authorize(principal, "iam:CreatePolicy", &policy_arn)?;
    cp.authorize(principal, "iam:AttachRolePolicy", &role_arn)?;
    Ok(cp.create_ingestion_role(&name, bucket, &prefix, params.get("KmsKeyArn"))?)
}
