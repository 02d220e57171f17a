//! `FerryCreateIngestionRole`: the console's "Create a new role" of the seed's restore
//! wizard, as one action: a role trusted by `rds.amazonaws.com` and a managed policy scoped to
//! the bucket and prefix, attached to it. Made together or not at all: a step that fails
//! undoes the ones before it.

use super::iam_policies::CreateRoleRequest;
use super::*;
use crate::iam::{self, EntityKind};

/// What was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestionRole {
    pub role_name: String,
    pub role_arn: String,
    pub policy_arn: String,
}

impl ControlPlane {
    /// The default name of the role for `bucket` (`*`: any bucket).
    pub fn default_ingestion_role_name(bucket: &str) -> String {
        if bucket == "*" {
            "ferry-s3-import".to_string()
        } else {
            format!("ferry-s3-import-{bucket}")
        }
    }

    /// Creates role `name` and its policy `<name>-policy` for reading `bucket` under
    /// `prefix` (and decrypting with `kms_key`).
    pub fn create_ingestion_role(
        &self,
        name: &str,
        bucket: &str,
        prefix: &str,
        kms_key: Option<&str>,
    ) -> Result<IngestionRole, ControlError> {
        let role = self.create_role(CreateRoleRequest {
            name: name.to_string(),
            path: None,
            assume_role_policy: iam::ingestion::trust_policy(),
            description: Some(format!(
                "Lets RDS (ferry) read the backup in s3://{bucket}/{prefix} for RestoreDBClusterFromS3"
            )),
            max_session_duration: None,
            tags: Vec::new(),
        })?;
        let policy_name = format!("{}-policy", role.name);
        let undo_role = |e: ControlError| {
            if let Err(undo) = self.delete_role(&role.name) {
                tracing::error!(role = %role.name, error = %undo, "could not remove the half-made ingestion role");
            }
            e
        };
        let policy = self
            .create_policy(
                &policy_name,
                None,
                &iam::ingestion::permissions_policy(bucket, prefix, kms_key),
                Some(&format!(
                    "Read s3://{bucket}/{prefix} for RestoreDBClusterFromS3"
                )),
            )
            .map_err(undo_role)?;
        if let Err(e) = self.attach_policy(EntityKind::Role, &role.name, &policy.arn) {
            if let Err(undo) = self.delete_policy(&policy.arn) {
                tracing::error!(policy = %policy.arn, error = %undo, "could not remove the half-made ingestion policy");
            }
            return Err(undo_role(e));
        }
        Ok(IngestionRole {
            role_arn: self.role_arn(&role),
            role_name: role.name,
            policy_arn: policy.arn,
        })
    }
}
