//! IAM roles, managed policies and their versions, attachments, inline policies and role
//! tags: the control plane's operations behind the IAM API.
//!
//! This module holds what those operations share and IAM fixes: the quotas, IAM's wording
//! for each refusal, the built-in AWS managed policies, and the parsing of documents at every
//! write. The operations themselves are `ControlPlane` methods (`service::iam_policies`); the
//! rows are in the store (`store::iam_policies`).

use ferry_iam::DocumentKind;

use super::{EntityKind, IamError, IamErrorKind};

/// Managed policies attached to one user, group or role (IAM's default quota).
pub const MAX_ATTACHED_POLICIES: usize = 10;
/// Versions one managed policy keeps.
pub const MAX_POLICY_VERSIONS: usize = 5;
/// A managed policy document's size (non-whitespace characters).
pub const MAX_MANAGED_POLICY_SIZE: usize = 6_144;
/// Tags on one role.
pub const MAX_ROLE_TAGS: usize = 50;
/// `MaxSessionDuration` bounds, in seconds.
pub const SESSION_DURATION: std::ops::RangeInclusive<i64> = 3_600..=43_200;

/// The aggregate size of the inline policies one entity may hold (non-whitespace
/// characters): user 2,048, group 5,120, role 10,240.
pub fn max_inline_size(kind: EntityKind) -> usize {
    match kind {
        EntityKind::User => 2_048,
        EntityKind::Group => 5_120,
        EntityKind::Role => 10_240,
    }
}

/// The API's name for the entity kind in messages and parameters (`user`, `group`, `role`).
fn noun(kind: EntityKind) -> &'static str {
    kind.as_str()
}

/// `NoSuchEntity`: "The role with name X cannot be found."
pub fn no_such_entity(kind: EntityKind, name: &str) -> IamError {
    IamError::new(
        IamErrorKind::NoSuchEntity,
        format!("The {} with name {name} cannot be found.", noun(kind)),
    )
}

/// `NoSuchEntity`: "The role policy with name P cannot be found."
pub fn no_such_inline_policy(kind: EntityKind, policy: &str) -> IamError {
    IamError::new(
        IamErrorKind::NoSuchEntity,
        format!(
            "The {} policy with name {policy} cannot be found.",
            noun(kind)
        ),
    )
}

/// `NoSuchEntity` for a managed policy that is not there: "Policy <arn> was not found."
pub fn no_such_policy(arn: &str) -> IamError {
    IamError::new(
        IamErrorKind::NoSuchEntity,
        format!("Policy {arn} was not found."),
    )
}

/// `NoSuchEntity` when attaching: "Policy <arn> does not exist or is not attachable."
pub fn not_attachable(arn: &str) -> IamError {
    IamError::new(
        IamErrorKind::NoSuchEntity,
        format!("Policy {arn} does not exist or is not attachable."),
    )
}

/// `NoSuchEntity`: "Policy <arn> version <v> does not exist."
pub fn no_such_version(arn: &str, version: &str) -> IamError {
    IamError::new(
        IamErrorKind::NoSuchEntity,
        format!("Policy {arn} version {version} does not exist."),
    )
}

/// `LimitExceeded`: "Cannot exceed quota for PoliciesPerRole: 10".
pub fn too_many_attached(kind: EntityKind) -> IamError {
    let per = match kind {
        EntityKind::User => "PoliciesPerUser",
        EntityKind::Group => "PoliciesPerGroup",
        EntityKind::Role => "PoliciesPerRole",
    };
    IamError::new(
        IamErrorKind::LimitExceeded,
        format!("Cannot exceed quota for {per}: {MAX_ATTACHED_POLICIES}"),
    )
}

/// `LimitExceeded` for the sixth version of a managed policy.
pub fn too_many_versions() -> IamError {
    IamError::new(
        IamErrorKind::LimitExceeded,
        format!(
            "A managed policy can have up to {MAX_POLICY_VERSIONS} versions. Before you create a \
             new version, you must delete an existing version."
        ),
    )
}

/// `LimitExceeded`: "Maximum policy size of 10240 bytes exceeded for role R".
pub fn inline_too_large(kind: EntityKind, name: &str) -> IamError {
    IamError::new(
        IamErrorKind::LimitExceeded,
        format!(
            "Maximum policy size of {} bytes exceeded for {} {name}",
            max_inline_size(kind),
            noun(kind)
        ),
    )
}

/// `DeleteConflict` texts.
pub fn must_detach_first() -> IamError {
    IamError::new(
        IamErrorKind::DeleteConflict,
        "Cannot delete entity, must detach all policies first.",
    )
}

pub fn must_delete_inline_first() -> IamError {
    IamError::new(
        IamErrorKind::DeleteConflict,
        "Cannot delete entity, must delete policies first.",
    )
}

pub fn policy_attached() -> IamError {
    IamError::new(
        IamErrorKind::DeleteConflict,
        "Cannot delete a policy attached to entities.",
    )
}

pub fn policy_has_versions() -> IamError {
    IamError::new(
        IamErrorKind::DeleteConflict,
        "This policy has more than one version. Before you delete a policy, you must delete the \
         policy's versions. The default version is deleted with the policy.",
    )
}

pub fn default_version_undeletable() -> IamError {
    IamError::new(
        IamErrorKind::DeleteConflict,
        "Cannot delete the default version of a policy.",
    )
}

/// `Unmodifiable`: an AWS managed policy cannot be changed or deleted.
pub fn aws_managed_unmodifiable(arn: &str) -> IamError {
    IamError::new(
        IamErrorKind::Unmodifiable,
        format!("Cannot modify an AWS managed policy: {arn}."),
    )
}

/// Checks a document with IAM's grammar: `MalformedPolicyDocument` with IAM's message.
pub fn check_document(text: &str, kind: DocumentKind) -> Result<(), IamError> {
    ferry_iam::parse(text, kind)
        .map(drop)
        .map_err(|m| IamError::new(IamErrorKind::MalformedPolicyDocument, m.message))
}

/// Checks a managed policy document: the grammar, then the 6,144-character quota.
pub fn check_managed_document(text: &str) -> Result<(), IamError> {
    check_document(text, DocumentKind::Identity)?;
    if ferry_iam::document_size(text) > MAX_MANAGED_POLICY_SIZE {
        return Err(IamError::new(
            IamErrorKind::LimitExceeded,
            format!("Cannot exceed quota for PolicySize: {MAX_MANAGED_POLICY_SIZE}"),
        ));
    }
    Ok(())
}

/// The ARN prefix of AWS managed policies.
pub const AWS_POLICY_PREFIX: &str = "arn:aws:iam::aws:policy/";

/// An AWS managed policy ferry knows: attachable, listed under `Scope=AWS`, its document
/// written over the actions ferry serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AwsManagedPolicy {
    pub name: &'static str,
    pub id: &'static str,
    pub description: &'static str,
    pub document: &'static str,
}

impl AwsManagedPolicy {
    pub fn arn(&self) -> String {
        format!("{AWS_POLICY_PREFIX}{}", self.name)
    }
}

/// The built-in AWS managed policies. Their version is always `v1`.
pub const AWS_MANAGED: &[AwsManagedPolicy] = &[
    AwsManagedPolicy {
        name: "AdministratorAccess",
        id: "ANPAIWMBCKSKIEE64ZLYK",
        description: "Provides full access to AWS services and resources.",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    },
    AwsManagedPolicy {
        name: "IAMFullAccess",
        id: "ANPAI7XKCFMBPM3QQRRVQ",
        description: "Provides full access to IAM via the AWS Management Console.",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}"#,
    },
    AwsManagedPolicy {
        name: "IAMReadOnlyAccess",
        id: "ANPAJKSO7NDY4T57MWDSQ",
        description: "Provides read only access to IAM via the AWS Management Console.",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:Get*","iam:List*","iam:SimulateCustomPolicy","iam:SimulatePrincipalPolicy"],"Resource":"*"}]}"#,
    },
    AwsManagedPolicy {
        name: "AmazonRDSFullAccess",
        id: "ANPAI3R4QMOG6Q5A4VWVG",
        description: "Provides full access to Amazon RDS via the AWS Management Console.",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["rds:*","ferry:*"],"Resource":"*"},{"Effect":"Allow","Action":["iam:ListRoles","iam:GetRole"],"Resource":"*"},{"Effect":"Allow","Action":"iam:PassRole","Resource":"*","Condition":{"StringEquals":{"iam:PassedToService":"rds.amazonaws.com"}}}]}"#,
    },
    AwsManagedPolicy {
        name: "AmazonRDSReadOnlyAccess",
        id: "ANPAJKTTTYV2IIHKLZ346",
        description: "Provides read only access to Amazon RDS via the AWS Management Console.",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["rds:Describe*","rds:ListTagsForResource"],"Resource":"*"}]}"#,
    },
    AwsManagedPolicy {
        name: "AmazonS3ReadOnlyAccess",
        id: "ANPAIZTJ4DXE7G6AGAE6M",
        description: "Provides read only access to all buckets via the AWS Management Console.",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}"#,
    },
];

/// The built-in AWS managed policy with this ARN.
pub fn aws_managed(arn: &str) -> Option<&'static AwsManagedPolicy> {
    let name = arn.strip_prefix(AWS_POLICY_PREFIX)?;
    AWS_MANAGED.iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_managed_documents_are_valid_and_found_by_arn() {
        for p in AWS_MANAGED {
            check_managed_document(p.document).unwrap();
            assert_eq!(aws_managed(&p.arn()), Some(p));
            assert!(p.id.starts_with("ANPA") && p.id.len() == 21, "{}", p.id);
        }
        assert_eq!(aws_managed("arn:aws:iam::aws:policy/Nope"), None);
        assert_eq!(
            aws_managed("arn:aws:iam::123456789012:policy/AdministratorAccess"),
            None
        );
    }

    #[test]
    fn messages_in_iams_words() {
        assert_eq!(
            inline_too_large(EntityKind::Role, "r").message,
            "Maximum policy size of 10240 bytes exceeded for role r"
        );
        assert_eq!(
            too_many_attached(EntityKind::User).message,
            "Cannot exceed quota for PoliciesPerUser: 10"
        );
        assert_eq!(
            no_such_entity(EntityKind::Group, "g").message,
            "The group with name g cannot be found."
        );
        let big = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"{}"}}]}}"#,
            "a".repeat(MAX_MANAGED_POLICY_SIZE)
        );
        assert_eq!(
            check_managed_document(&big).unwrap_err().kind,
            IamErrorKind::LimitExceeded
        );
        assert_eq!(
            check_document("{", DocumentKind::Identity)
                .unwrap_err()
                .message,
            "Syntax errors in policy."
        );
    }
}
