//! Names of things outside the cluster that a request refers to: tags, the ingestion role's
//! ARN, the S3 bucket and key prefix.

use crate::model::Tag;

use super::ValidationError;

/// The most tags one resource may carry.
pub const MAX_TAGS: usize = 50;
const MAX_TAG_KEY_CHARS: usize = 128;
const MAX_TAG_VALUE_CHARS: usize = 256;
const RESERVED_TAG_PREFIXES: [&str; 2] = ["aws:", "rds:"];

/// `Tags`: at most 50, keys 1-128 and values 0-256 characters of Unicode letters, numbers and
/// separators plus `_ . : / = + - @`, neither starting with `aws:` or `rds:` (any case), no
/// key twice.
pub fn tags(pairs: &[(String, String)]) -> Result<Vec<Tag>, ValidationError> {
    if pairs.len() > MAX_TAGS {
        return Err(ValidationError::invalid_value(format!(
            "Too many tags: {} given, a resource can have at most {MAX_TAGS}.",
            pairs.len()
        )));
    }
    let mut out: Vec<Tag> = Vec::with_capacity(pairs.len());
    for (key, value) in pairs {
        tag_text("key", key, 1, MAX_TAG_KEY_CHARS)?;
        tag_text("value", value, 0, MAX_TAG_VALUE_CHARS)?;
        if out.iter().any(|t| t.key == *key) {
            return Err(ValidationError::invalid_value(format!(
                "The tag key '{key}' is given more than once."
            )));
        }
        out.push(Tag {
            key: key.clone(),
            value: value.clone(),
        });
    }
    Ok(out)
}

fn tag_text(what: &str, s: &str, min: usize, max: usize) -> Result<(), ValidationError> {
    let chars = s.chars().count();
    if chars < min || chars > max {
        return Err(ValidationError::invalid_value(format!(
            "The tag {what} '{s}' must be from {min} to {max} characters long."
        )));
    }
    if let Some(prefix) = RESERVED_TAG_PREFIXES.iter().find(|p| {
        s.get(..p.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(p))
    }) {
        return Err(ValidationError::invalid_value(format!(
            "Tag {what}s cannot start with the reserved prefix \"{prefix}\": '{s}'."
        )));
    }
    // AWS's pattern is ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$. Separators (\p{Z}) are the white
    // space characters that are not control characters.
    let allowed = |c: char| {
        c.is_alphanumeric()
            || (c.is_whitespace() && !c.is_control())
            || matches!(c, '_' | '.' | ':' | '/' | '=' | '+' | '-' | '@')
    };
    if !s.chars().all(allowed) {
        return Err(ValidationError::invalid_value(format!(
            "The tag {what} '{s}' may contain only letters, numbers, spaces and the characters \
             _ . : / = + - @"
        )));
    }
    Ok(())
}

/// The AWS partitions whose ARNs ferry accepts.
pub const PARTITIONS: [&str; 3] = ["aws", "aws-cn", "aws-us-gov"];

/// An IAM role ARN (`S3IngestionRoleArn`, `AssociatedRoles`):
/// `arn:<partition>:iam::<12-digit account>:role/[<path>/]<name>`, the name 1-64 of
/// `A-Za-z0-9+=,.@_-`, path segments printable ASCII. Returned as given.
pub fn role_arn(param: &str, s: &str) -> Result<String, ValidationError> {
    if well_formed_role_arn(s) {
        Ok(s.to_string())
    } else {
        Err(ValidationError::invalid_value(format!(
            "The parameter {param} is not a valid IAM role ARN: '{s}'. Expected \
             arn:aws:iam::<12-digit account id>:role/<role name>."
        )))
    }
}

fn well_formed_role_arn(s: &str) -> bool {
    let mut parts = s.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    if !PARTITIONS.contains(&partition)
        || account.len() != 12
        || !account.bytes().all(|b| b.is_ascii_digit())
    {
        return false;
    }
    let Some(path_and_name) = resource.strip_prefix("role/") else {
        return false;
    };
    let (path, name) = match path_and_name.rsplit_once('/') {
        Some((path, name)) => (Some(path), name),
        None => (None, path_and_name),
    };
    let name_ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
    // `role/a/b/name` has the path `/a/b/`: segments non-empty, printable ASCII.
    let path_ok = path.is_none_or(|path| {
        path.len() <= 510
            && path
                .split('/')
                .all(|seg| !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_graphic()))
    });
    name_ok && path_ok
}

/// `S3BucketName`: S3's naming rules (3-63 characters of lower-case letters, digits, `.` and
/// `-`, starting and ending with a letter or digit, no `..`, not shaped like an IP address).
///
/// One tolerance: `_` is accepted inside a name. Legacy us-east-1 buckets can carry it, and a
/// bucket served from a local directory (`[storage] file_root`) may too; it can never make the
/// name a path that leaves the file root (`/` and `..` are refused).
pub fn s3_bucket_name(s: &str) -> Result<String, ValidationError> {
    let invalid = |why: &str| {
        ValidationError::invalid_value(format!(
            "The parameter S3BucketName is not a valid bucket name: '{s}' {why}."
        ))
    };
    if !(3..=63).contains(&s.len()) {
        return Err(invalid("must be from 3 to 63 characters long"));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_'))
    {
        return Err(invalid(
            "may contain only lower-case letters, digits, '.', '-' and '_'",
        ));
    }
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !s.starts_with(alnum) || !s.ends_with(alnum) {
        return Err(invalid("must start and end with a letter or digit"));
    }
    if s.contains("..") {
        return Err(invalid("must not contain two adjacent periods"));
    }
    if s.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err(invalid("must not be formatted as an IP address"));
    }
    Ok(s.to_string())
}

/// The longest S3 key, and so the longest useful prefix.
pub const MAX_S3_PREFIX_LEN: usize = 1024;

/// `S3Prefix`: a key prefix, returned without leading or trailing `/` (empty means the whole
/// bucket). At most 1024 bytes, no control characters, no empty, `.` or `..` segments (the
/// prefix also names a directory when the bucket is served from local files).
pub fn s3_prefix(s: &str) -> Result<String, ValidationError> {
    let invalid = |why: &str| {
        ValidationError::invalid_value(format!(
            "The parameter S3Prefix is not a valid key prefix: '{s}' {why}."
        ))
    };
    let trimmed = s.trim_matches('/');
    if trimmed.len() > MAX_S3_PREFIX_LEN {
        return Err(invalid("is longer than 1024 bytes"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(invalid("contains control characters"));
    }
    if !trimmed.is_empty()
        && trimmed
            .split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == "..")
    {
        return Err(invalid("must not contain empty, '.' or '..' segments"));
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn good_tags() {
        let t = tags(&pairs(&[
            ("env", "prod"),
            ("Team Name", "data/ops@x.y+z=1"),
            ("ключ", ""),
            ("k", "Ünïcödé 42"),
        ]))
        .unwrap();
        assert_eq!(t.len(), 4);
        assert_eq!(t[1].key, "Team Name");
        assert_eq!(t[2].value, "");
        assert!(tags(&[]).unwrap().is_empty());
        let max = pairs(&[(&"k".repeat(128), &"v".repeat(256))]);
        assert!(tags(&max).is_ok());
    }

    #[test]
    fn bad_tags() {
        let msg = |p: &[(&str, &str)]| tags(&pairs(p)).unwrap_err().message;
        assert_eq!(
            msg(&[("", "v")]),
            "The tag key '' must be from 1 to 128 characters long."
        );
        assert_eq!(
            msg(&[("aws:cloudformation", "v")]),
            "Tag keys cannot start with the reserved prefix \"aws:\": 'aws:cloudformation'."
        );
        assert_eq!(
            msg(&[("k", "RDS:x")]),
            "Tag values cannot start with the reserved prefix \"rds:\": 'RDS:x'."
        );
        assert_eq!(
            msg(&[("semi;colon", "v")]),
            "The tag key 'semi;colon' may contain only letters, numbers, spaces and the \
             characters _ . : / = + - @"
        );
        assert!(
            msg(&[("k", "tab\there")]).starts_with("The tag value 'tab\there' may contain only")
        );
        assert_eq!(
            msg(&[("k", "1"), ("k", "2")]),
            "The tag key 'k' is given more than once."
        );
        let long_key = "k".repeat(129);
        assert!(msg(&[(&long_key, "v")]).ends_with("must be from 1 to 128 characters long."));
        let long_value = "v".repeat(257);
        assert!(msg(&[("k", &long_value)]).ends_with("must be from 0 to 256 characters long."));
        let many: Vec<(String, String)> =
            (0..51).map(|i| (format!("k{i}"), String::new())).collect();
        assert_eq!(
            tags(&many).unwrap_err().message,
            "Too many tags: 51 given, a resource can have at most 50."
        );
    }

    #[test]
    fn role_arns() {
        for good in [
            "arn:aws:iam::123456789012:role/rds-s3-import",
            "arn:aws-cn:iam::123456789012:role/service-role/Import_Role+=,.@-1",
            "arn:aws-us-gov:iam::000000000000:role/a/b/c/name",
        ] {
            assert_eq!(role_arn("S3IngestionRoleArn", good).unwrap(), good);
        }
        for bad in [
            "",
            "rds-s3-import",
            "arn:aws:iam::12345678901:role/r",
            "arn:aws:iam::1234567890123:role/r",
            "arn:aws:iam::12345678901x:role/r",
            "arn:aws:iam:us-east-1:123456789012:role/r",
            "arn:aws:s3:::bucket",
            "arn:aws:iam::123456789012:user/r",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:role//r",
            "arn:azure:iam::123456789012:role/r",
            "arn:aws:iam::123456789012:role/bad name",
        ] {
            let e = role_arn("S3IngestionRoleArn", bad).unwrap_err();
            assert_eq!(
                e.message,
                format!(
                    "The parameter S3IngestionRoleArn is not a valid IAM role ARN: '{bad}'. \
                     Expected arn:aws:iam::<12-digit account id>:role/<role name>."
                )
            );
        }
        let long_name = format!("arn:aws:iam::123456789012:role/{}", "r".repeat(65));
        assert!(role_arn("P", &long_name).is_err());
    }

    #[test]
    fn bucket_names() {
        for good in [
            "abc",
            "my-bucket.backups",
            "1bucket2",
            "legacy_bucket",
            &"a".repeat(63),
        ] {
            assert_eq!(s3_bucket_name(good).unwrap(), good);
        }
        let msg = |b: &str| s3_bucket_name(b).unwrap_err().message;
        assert_eq!(
            msg("ab"),
            "The parameter S3BucketName is not a valid bucket name: 'ab' must be from 3 to 63 \
             characters long."
        );
        assert!(msg(&"a".repeat(64)).ends_with("must be from 3 to 63 characters long."));
        for bad in ["My-Bucket", "a/b/c", "bu cket", "bücket"] {
            assert!(
                msg(bad)
                    .ends_with("may contain only lower-case letters, digits, '.', '-' and '_'."),
                "{bad}"
            );
        }
        for bad in ["-abc", "abc-", ".abc", "_abc", "abc_"] {
            assert!(
                msg(bad).ends_with("must start and end with a letter or digit."),
                "{bad}"
            );
        }
        assert!(msg("a..b").ends_with("must not contain two adjacent periods."));
        assert!(msg("192.168.1.10").ends_with("must not be formatted as an IP address."));
    }

    #[test]
    fn prefixes() {
        assert_eq!(s3_prefix("").unwrap(), "");
        assert_eq!(s3_prefix("/").unwrap(), "");
        assert_eq!(s3_prefix("backups/full").unwrap(), "backups/full");
        assert_eq!(s3_prefix("/backups/full/").unwrap(), "backups/full");
        assert_eq!(
            s3_prefix("backups/2024-01-01 full").unwrap(),
            "backups/2024-01-01 full"
        );
        let msg = |p: &str| s3_prefix(p).unwrap_err().message;
        assert_eq!(
            msg("a/../b"),
            "The parameter S3Prefix is not a valid key prefix: 'a/../b' must not contain \
             empty, '.' or '..' segments."
        );
        assert!(msg("..").ends_with("segments."));
        assert!(msg("a//b").ends_with("segments."));
        assert!(msg("./a").ends_with("segments."));
        assert!(msg("a\nb").ends_with("contains control characters."));
        assert!(msg(&"p".repeat(1025)).ends_with("is longer than 1024 bytes."));
        assert_eq!(s3_prefix(&"p".repeat(1024)).unwrap().len(), 1024);
    }
}
