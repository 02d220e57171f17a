//! A restore's S3 ingestion role, evaluated as RDS would when it assumes it: the role must be
//! one of this account's, trust `rds.amazonaws.com` for `sts:AssumeRole`, and its permission
//! policies must allow `s3:ListBucket` and `s3:GetBucketLocation` on the bucket and
//! `s3:GetObject` on every object the restore reads.

use ferry_iam::{Context, Effect};

use super::{Authorizer, RDS_SERVICE};
use crate::error::ControlError;
use crate::iam;
use crate::store::{IamRole, Store};

/// Why the ingestion role cannot be used; the texts end RDS's own messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestionRefusal {
    #[error("the role {arn} does not exist in account {account}")]
    NoSuchRole { arn: String, account: String },
    #[error(
        "the trust policy of role {arn} does not let {RDS_SERVICE} assume it (sts:AssumeRole)"
    )]
    NotTrusted { arn: String },
    #[error("the policies of role {arn} do not allow {action} on {resource}{because}")]
    Denied {
        arn: String,
        action: &'static str,
        resource: String,
        because: String,
    },
}

impl IngestionRefusal {
    /// Whether the refusal is about the bucket (RDS's `InvalidS3BucketFault`) rather than
    /// the role itself (`InvalidParameterValue`).
    pub fn is_about_the_bucket(&self) -> bool {
        matches!(self, IngestionRefusal::Denied { .. })
    }
}

impl Authorizer {
    /// The role `role_arn` names, if it can be assumed by RDS.
    pub fn ingestion_role(
        &self,
        store: &Store,
        role_arn: &str,
    ) -> Result<Result<IamRole, IngestionRefusal>, ControlError> {
        let no_such_role = || IngestionRefusal::NoSuchRole {
            arn: role_arn.to_string(),
            account: self.account_id.clone(),
        };
        let Some((path, name)) = iam::parse_role_arn(&self.account_id, role_arn) else {
            return Ok(Err(no_such_role()));
        };
        let role = match store.iam_role(name)? {
            Some(role) if role.path == path && role.name == name => role,
            _ => return Ok(Err(no_such_role())),
        };
        if self.role_trusts(&role, RDS_SERVICE).effect != Effect::Allow {
            return Ok(Err(IngestionRefusal::NotTrusted {
                arn: role_arn.to_string(),
            }));
        }
        Ok(Ok(role))
    }

    /// `s3:ListBucket` (with `s3:prefix`) and `s3:GetBucketLocation` on `bucket`.
    pub fn ingestion_may_list(
        &self,
        store: &Store,
        role: &IamRole,
        bucket: &str,
        prefix: &str,
    ) -> Result<Result<(), IngestionRefusal>, ControlError> {
        let resource = format!("arn:aws:s3:::{bucket}");
        let mut keys = Context::new();
        keys.set("s3:prefix", prefix);
        for action in ["s3:ListBucket", "s3:GetBucketLocation"] {
            if let Err(refusal) = self.role_may(store, role, action, &resource, &keys)? {
                return Ok(Err(refusal));
            }
        }
        Ok(Ok(()))
    }

    /// `s3:GetObject` on `bucket`/`key` (the object's whole key).
    pub fn ingestion_may_read(
        &self,
        store: &Store,
        role: &IamRole,
        bucket: &str,
        key: &str,
    ) -> Result<Result<(), IngestionRefusal>, ControlError> {
        let resource = format!("arn:aws:s3:::{bucket}/{key}");
        self.role_may(store, role, "s3:GetObject", &resource, &Context::new())
    }

    fn role_may(
        &self,
        store: &Store,
        role: &IamRole,
        action: &'static str,
        resource: &str,
        keys: &Context,
    ) -> Result<Result<(), IngestionRefusal>, ControlError> {
        let decision = self.role_allows(store, role, action, resource, keys)?;
        if decision.effect == Effect::Allow {
            return Ok(Ok(()));
        }
        let because = match (&decision.effect, &decision.deciding) {
            (Effect::ExplicitDeny, Some(d)) => format!(
                " (denied by {}{})",
                d.policy,
                d.sid
                    .as_deref()
                    .map(|s| format!(", statement {s}"))
                    .unwrap_or_default()
            ),
            _ => String::new(),
        };
        Ok(Err(IngestionRefusal::Denied {
            arn: iam::arn(&self.account_id, "role", &role.path, &role.name),
            action,
            resource: resource.to_string(),
            because,
        }))
    }
}
