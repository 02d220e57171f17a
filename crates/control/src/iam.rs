//! IAM: users, groups, access keys, roles, managed and inline policies, tags, and the errors
//! IAM answers with. The API crate renders these as the IAM Query API (2010-05-08);
//! [`crate::auth`] evaluates the stored policies for every action.
//!
//! Users, groups, membership, access keys and user tags: [`identities`]; roles, managed
//! policies and versions, attachments, inline policies and role tags: [`policies`].

pub mod identities;
pub mod policies;

/// What IAM answers a refused call with: the kind picks the AWS code and HTTP status (in
/// `api::error`, the one mapping), the message is IAM's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct IamError {
    pub kind: IamErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IamErrorKind {
    /// `NoSuchEntity` (404).
    NoSuchEntity,
    /// `EntityAlreadyExists` (409).
    EntityAlreadyExists,
    /// `DeleteConflict` (409): the entity still has what must be removed first.
    DeleteConflict,
    /// `LimitExceeded` (409): a quota.
    LimitExceeded,
    /// `MalformedPolicyDocument` (400), with IAM's message for the fault.
    MalformedPolicyDocument,
    /// `InvalidInput` (400).
    InvalidInput,
    /// `ValidationError` (400): a parameter outside its model's constraints.
    Validation,
    /// `UnmodifiableEntity` (400).
    Unmodifiable,
}

impl IamError {
    pub fn new(kind: IamErrorKind, message: impl Into<String>) -> Self {
        IamError {
            kind,
            message: message.into(),
        }
    }

    /// The AWS error code and HTTP status.
    pub fn code_and_status(&self) -> (&'static str, u16) {
        match self.kind {
            IamErrorKind::NoSuchEntity => ("NoSuchEntity", 404),
            IamErrorKind::EntityAlreadyExists => ("EntityAlreadyExists", 409),
            IamErrorKind::DeleteConflict => ("DeleteConflict", 409),
            IamErrorKind::LimitExceeded => ("LimitExceeded", 409),
            IamErrorKind::MalformedPolicyDocument => ("MalformedPolicyDocument", 400),
            IamErrorKind::InvalidInput => ("InvalidInput", 400),
            IamErrorKind::Validation => ("ValidationError", 400),
            IamErrorKind::Unmodifiable => ("UnmodifiableEntity", 400),
        }
    }
}

/// The user name under which the account root's access keys are stored: not a valid IAM
/// user name (`:` is outside `[\w+=,.@-]`), so no IAM user can ever hold it.
pub const ROOT_USER: &str = ":root";

/// The service principal that assumes a restore's ingestion role.
pub const RDS_SERVICE: &str = "rds.amazonaws.com";

/// The kinds of IAM entity that hold policies and tags, as stored (`entity_kind`) and as
/// spelled in ARNs (`user/`, `group/`, `role/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityKind {
    User,
    Group,
    Role,
}

impl EntityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::User => "user",
            EntityKind::Group => "group",
            EntityKind::Role => "role",
        }
    }

    /// The prefix of the unique ids IAM gives this kind (`AIDA`, `AGPA`, `AROA`).
    pub fn id_prefix(self) -> &'static str {
        match self {
            EntityKind::User => "AIDA",
            EntityKind::Group => "AGPA",
            EntityKind::Role => "AROA",
        }
    }
}

/// The one speller of IAM ARNs: `arn:aws:iam::<account>:<kind>/<path-without-leading-/><name>`
/// (`path` is IAM's, starting and ending with `/`; `/` gives `user/alice`). `kind` is
/// `user`, `group`, `role` or `policy`.
pub fn arn(account_id: &str, kind: &str, path: &str, name: &str) -> String {
    format!(
        "arn:aws:iam::{account_id}:{kind}{path}{name}",
        path = if path.is_empty() { "/" } else { path }
    )
}

/// The account root's ARN.
pub fn root_arn(account_id: &str) -> String {
    format!("arn:aws:iam::{account_id}:root")
}

/// The path and name of a role ARN of account `account_id`
/// (`arn:aws:iam::<account>:role/<path...>/<name>`), or `None` when `arn` is not one.
pub fn parse_role_arn<'a>(account_id: &str, arn: &'a str) -> Option<(String, &'a str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    if account != account_id {
        return None;
    }
    let path_and_name = resource.strip_prefix("role/")?;
    let (path, name) = match path_and_name.rsplit_once('/') {
        Some((path, name)) => (format!("/{path}/"), name),
        None => ("/".to_string(), path_and_name),
    };
    (!name.is_empty()).then_some((path, name))
}

/// The documents of an S3 ingestion role (the console's "Create a new role"): the trust
/// policy that lets RDS assume it, and the permissions to list `bucket` and read the objects
/// under `prefix` (`*` for any bucket), and to decrypt with `kms_key` when given.
pub mod ingestion {
    /// The trust policy: `rds.amazonaws.com` may `sts:AssumeRole`.
    pub fn trust_policy() -> String {
        serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": super::RDS_SERVICE},
                "Action": "sts:AssumeRole"
            }]
        })
        .to_string()
    }

    /// The permissions policy, scoped to `bucket` and `prefix`.
    pub fn permissions_policy(bucket: &str, prefix: &str, kms_key: Option<&str>) -> String {
        let mut statements = vec![
            serde_json::json!({
                "Sid": "ListTheBucket",
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
                "Resource": format!("arn:aws:s3:::{bucket}")
            }),
            serde_json::json!({
                "Sid": "ReadTheBackup",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": format!("arn:aws:s3:::{bucket}/{prefix}*")
            }),
        ];
        if let Some(key) = kms_key {
            statements.push(serde_json::json!({
                "Sid": "DecryptTheBackup",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": key
            }));
        }
        serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string()
    }
}

/// A new unique id as IAM forms them: the kind's prefix and 17 characters of `[A-Z2-7]`
/// (user `AIDA...`, group `AGPA...`, role `AROA...`, policy `ANPA...`, access key `AKIA...`).
pub fn new_id(prefix: &str) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut rng = rand::rng();
    let mut s = String::with_capacity(prefix.len() + 17);
    s.push_str(prefix);
    s.extend((0..17).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char));
    s
}

/// `UserName`, `GroupName`, `RoleName` (1..=64) and `PolicyName` (1..=128): `[\w+=,.@-]+`.
/// `param` names the parameter in the message, as IAM's `ValidationError` does.
pub fn validate_name(param: &str, value: &str, max: usize) -> Result<(), IamError> {
    let ok_chars = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if value.is_empty() || value.chars().count() > max || !ok_chars {
        return Err(IamError::new(
            IamErrorKind::Validation,
            format!(
                "1 validation error detected: Value '{value}' at '{}' failed to satisfy \
                 constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ and \
                 have length between 1 and {max}",
                lower_first(param)
            ),
        ));
    }
    Ok(())
}

/// `Path` / `PathPrefix`: `/`, or `/` ... `/` of printable ASCII, at most 512 characters.
pub fn validate_path(param: &str, value: &str) -> Result<(), IamError> {
    let ok = value.len() <= 512
        && value.starts_with('/')
        && value.ends_with('/')
        && value.chars().all(|c| ('\u{21}'..='\u{7e}').contains(&c));
    if !ok {
        return Err(IamError::new(
            IamErrorKind::Validation,
            format!(
                "1 validation error detected: Value '{value}' at '{}' failed to satisfy \
                 constraint: Member must satisfy regular expression pattern: \
                 (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)",
                lower_first(param)
            ),
        ));
    }
    Ok(())
}

/// `PathPrefix`: `/` followed by printable ASCII, at most 512 characters (no trailing `/`
/// needed, unlike a `Path`).
pub fn validate_path_prefix(value: &str) -> Result<(), IamError> {
    let ok = value.len() <= 512
        && value.starts_with('/')
        && value.chars().all(|c| ('\u{21}'..='\u{7f}').contains(&c));
    if !ok {
        return Err(IamError::new(
            IamErrorKind::Validation,
            format!(
                "1 validation error detected: Value '{value}' at 'pathPrefix' failed to satisfy \
                 constraint: Member must satisfy regular expression pattern: \
                 \\u002F[\\u0021-\\u007F]*"
            ),
        ));
    }
    Ok(())
}

/// `UserName` -> `userName`, as IAM's validation messages name parameters.
pub(crate) fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_as_iam_spells_them() {
        assert_eq!(
            arn("123456789012", "user", "/", "alice"),
            "arn:aws:iam::123456789012:user/alice"
        );
        assert_eq!(
            arn("123456789012", "role", "/service-role/", "S3Access"),
            "arn:aws:iam::123456789012:role/service-role/S3Access"
        );
        assert_eq!(root_arn("123456789012"), "arn:aws:iam::123456789012:root");
    }

    #[test]
    fn role_arns() {
        let acct = "123456789012";
        assert_eq!(
            parse_role_arn(acct, "arn:aws:iam::123456789012:role/S3Access"),
            Some(("/".to_string(), "S3Access"))
        );
        assert_eq!(
            parse_role_arn(
                acct,
                "arn:aws:iam::123456789012:role/service-role/a/S3Access"
            ),
            Some(("/service-role/a/".to_string(), "S3Access"))
        );
        assert_eq!(
            parse_role_arn(acct, "arn:aws:iam::999999999999:role/S3Access"),
            None
        );
        assert_eq!(
            parse_role_arn(acct, "arn:aws:iam::123456789012:user/S3Access"),
            None
        );
        assert_eq!(
            parse_role_arn(acct, "arn:aws:iam::123456789012:role/"),
            None
        );
    }

    #[test]
    fn ids_have_the_prefix_and_length() {
        let id = new_id("AIDA");
        assert_eq!(id.len(), 21);
        assert!(id.starts_with("AIDA"));
    }

    #[test]
    fn names_and_paths() {
        assert!(validate_name("UserName", "alice.b+c=d,e@f-g_h", 64).is_ok());
        let e = validate_name("UserName", "a b", 64).unwrap_err();
        assert_eq!(e.kind, IamErrorKind::Validation);
        assert!(e.message.contains("at 'userName'"), "{}", e.message);
        assert!(validate_name("UserName", &"a".repeat(65), 64).is_err());
        assert!(validate_path("Path", "/").is_ok());
        assert!(validate_path("Path", "/a/b/").is_ok());
        assert!(validate_path("Path", "a/").is_err());
        assert!(validate_path("Path", "/a b/").is_err());
    }
}
