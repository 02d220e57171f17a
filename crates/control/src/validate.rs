//! The rules RDS applies to names and parameters, with RDS's own error codes and, where they
//! are known, its own messages (a script that matches on RDS's text keeps working against
//! ferry).
//!
//! Every rule is a pure function from the raw request value to the value ferry stores (an
//! identifier lower-cased, a window normalised), or a [`ValidationError`] carrying the AWS
//! error code (`InvalidParameterValue`, `InvalidParameterCombination`, `MissingParameter`)
//! and the message the API returns as is.
//!
//! What is checked here is the shape of one value. Rules that need state (does the cluster
//! exist, is the port free) or the backup (does `SourceEngineVersion` match the backup's
//! server) live with the service and the restore job.

mod reserved;
mod resources;
mod window;

pub use reserved::RESERVED_ACCOUNTS;
pub use resources::{
    role_arn, s3_bucket_name, s3_prefix, tags, MAX_S3_PREFIX_LEN, MAX_TAGS, PARTITIONS,
};
pub use window::{
    backup_window, check_windows, default_windows, maintenance_window, windows_overlap,
};

use crate::model::{ClusterId, EngineName, InstanceId};

/// The AWS error code of a value that breaks a rule.
pub const INVALID_PARAMETER_VALUE: &str = "InvalidParameterValue";
/// The AWS error code of parameters that are fine alone but not together (or not in ferry).
pub const INVALID_PARAMETER_COMBINATION: &str = "InvalidParameterCombination";
/// The AWS error code of a required parameter the request does not carry.
pub const MISSING_PARAMETER: &str = "MissingParameter";

/// A request value that breaks one of RDS's rules. `Display` is the message the API returns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    /// One of [`INVALID_PARAMETER_VALUE`], [`INVALID_PARAMETER_COMBINATION`],
    /// [`MISSING_PARAMETER`].
    pub code: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn invalid_value(message: impl Into<String>) -> Self {
        ValidationError {
            code: INVALID_PARAMETER_VALUE,
            message: message.into(),
        }
    }

    pub fn invalid_combination(message: impl Into<String>) -> Self {
        ValidationError {
            code: INVALID_PARAMETER_COMBINATION,
            message: message.into(),
        }
    }

    /// `MissingParameter` for a required parameter the request does not carry.
    pub fn missing(param: &str) -> Self {
        ValidationError {
            code: MISSING_PARAMETER,
            message: format!("The request must contain the parameter {param}."),
        }
    }
}

/// A required parameter: absent is `MissingParameter`, present but blank is RDS's
/// `InvalidParameterValue` "must be provided and must not be blank".
pub fn required<'a>(param: &str, value: Option<&'a str>) -> Result<&'a str, ValidationError> {
    match value {
        None => Err(ValidationError::missing(param)),
        Some(v) if v.trim().is_empty() => Err(blank(param)),
        Some(v) => Ok(v),
    }
}

fn blank(param: &str) -> ValidationError {
    ValidationError::invalid_value(format!(
        "The parameter {param} must be provided and must not be blank."
    ))
}

/// RDS's longest DB cluster / DB instance identifier (Aurora).
pub const MAX_IDENTIFIER_LEN: usize = 63;

/// A `DBClusterIdentifier` (or another parameter naming a cluster, given as `param` for the
/// message): 1-63 ASCII letters, digits and hyphens, a letter first, no trailing hyphen and
/// no `--`. Stored lower-case, as RDS stores it.
pub fn cluster_identifier(param: &str, s: &str) -> Result<ClusterId, ValidationError> {
    identifier(param, s).map(ClusterId::new_unchecked)
}

/// A `DBInstanceIdentifier`: the same rules as [`cluster_identifier`].
pub fn instance_identifier(param: &str, s: &str) -> Result<InstanceId, ValidationError> {
    identifier(param, s).map(InstanceId::new_unchecked)
}

fn identifier(param: &str, s: &str) -> Result<String, ValidationError> {
    if s.is_empty() {
        return Err(blank(param));
    }
    if s.len() > MAX_IDENTIFIER_LEN {
        return Err(ValidationError::invalid_value(format!(
            "The parameter {param} is not a valid identifier because it is longer than \
             {MAX_IDENTIFIER_LEN} characters."
        )));
    }
    let well_formed = s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !s.ends_with('-')
        && !s.contains("--");
    if !well_formed {
        return Err(ValidationError::invalid_value(format!(
            "The parameter {param} is not a valid identifier. Identifiers must begin with a \
             letter; must contain only ASCII letters, digits, and hyphens; and must not end \
             with a hyphen or contain two consecutive hyphens."
        )));
    }
    Ok(s.to_ascii_lowercase())
}

/// The longest `MasterUsername` RDS accepts for Aurora MySQL and MariaDB.
pub const MAX_MASTER_USERNAME_LEN: usize = 16;

/// `MasterUsername`: 1-16 ASCII letters, digits or underscores, a letter first, and neither a
/// MySQL/MariaDB reserved word nor an account ferry keeps for itself (compared without
/// regard to case). Returned as given: MariaDB user names are case-sensitive.
pub fn master_username(s: &str) -> Result<String, ValidationError> {
    if s.is_empty() {
        return Err(blank("MasterUsername"));
    }
    let well_formed = s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !well_formed {
        return Err(ValidationError::invalid_value(
            "MasterUsername must begin with a letter and contain only alphanumeric characters \
             or underscores.",
        ));
    }
    if s.len() > MAX_MASTER_USERNAME_LEN {
        return Err(ValidationError::invalid_value(format!(
            "The parameter MasterUsername is not a valid user name because it is longer than \
             {MAX_MASTER_USERNAME_LEN} characters."
        )));
    }
    if reserved::is_reserved_username(s) {
        return Err(ValidationError::invalid_value(format!(
            "MasterUsername {s} cannot be used as it is a reserved word used by the engine"
        )));
    }
    Ok(s.to_string())
}

/// Password length limits for MySQL-family engines.
pub const MIN_MASTER_PASSWORD_LEN: usize = 8;
pub const MAX_MASTER_PASSWORD_LEN: usize = 41;

/// `MasterUserPassword`: 8-41 printable ASCII characters other than `/`, `@`, `"` and space.
pub fn master_password(s: &str) -> Result<String, ValidationError> {
    let allowed = |c: char| c.is_ascii_graphic() && !matches!(c, '/' | '@' | '"');
    if !s.chars().all(allowed) {
        return Err(ValidationError::invalid_value(
            "The parameter MasterUserPassword is not a valid password. Only printable ASCII \
             characters besides '/', '@', '\"', ' ' may be used.",
        ));
    }
    if s.len() < MIN_MASTER_PASSWORD_LEN {
        return Err(ValidationError::invalid_value(format!(
            "The parameter MasterUserPassword is not a valid password because it is shorter \
             than {MIN_MASTER_PASSWORD_LEN} characters."
        )));
    }
    if s.len() > MAX_MASTER_PASSWORD_LEN {
        return Err(ValidationError::invalid_value(format!(
            "The parameter MasterUserPassword is not a valid password because it is longer \
             than {MAX_MASTER_PASSWORD_LEN} characters."
        )));
    }
    Ok(s.to_string())
}

/// The ports RDS lets a DB cluster listen on.
pub const PORT_RANGE: std::ops::RangeInclusive<u16> = 1150..=65535;

/// `Port`: 1150-65535.
pub fn port(p: i64) -> Result<u16, ValidationError> {
    match u16::try_from(p) {
        Ok(p) if PORT_RANGE.contains(&p) => Ok(p),
        _ => Err(ValidationError::invalid_value(format!(
            "Invalid port {p}: the port must be a value from {} to {}.",
            PORT_RANGE.start(),
            PORT_RANGE.end()
        ))),
    }
}

/// `BackupRetentionPeriod` for an Aurora cluster: 1-35 days.
pub fn backup_retention_period(days: i64) -> Result<u32, ValidationError> {
    match u32::try_from(days) {
        Ok(d) if (1..=35).contains(&d) => Ok(d),
        _ => Err(ValidationError::invalid_value(format!(
            "Invalid backup retention period {days}: specify a value from 1 to 35 days."
        ))),
    }
}

/// `Engine`: `aurora-mysql` (the compatible name) or `mariadb` (ferry's own).
pub fn engine(s: &str) -> Result<EngineName, ValidationError> {
    EngineName::parse(s).ok_or_else(|| {
        ValidationError::invalid_value(format!(
            "Invalid DB engine: {s}. Valid values: {}, {}.",
            EngineName::AuroraMysql.as_str(),
            EngineName::Mariadb.as_str()
        ))
    })
}

/// The server families a backup may come from.
pub const SOURCE_ENGINES: &[&str] = &["mysql", "mariadb"];

/// `SourceEngine`: `mysql` (RDS's only value; Percona XtraBackup or mariabackup of a MySQL
/// server) or `mariadb` (a mariabackup backup, ferry's extension). Returned lower-case.
pub fn source_engine(s: &str) -> Result<String, ValidationError> {
    let lower = s.to_ascii_lowercase();
    if SOURCE_ENGINES.contains(&lower.as_str()) {
        Ok(lower)
    } else {
        Err(ValidationError::invalid_value(format!(
            "Invalid source engine: {s}. Valid values: {}.",
            SOURCE_ENGINES.join(", ")
        )))
    }
}

/// `SourceEngineVersion`: `major.minor` or `major.minor.patch` in decimal (`5.7`, `8.0.28`,
/// `10.11.6`), returned as `(major, minor, patch)`. Whether it matches the backup
/// (`server_version` in `xtrabackup_info`) is checked by the restore job, the first to read
/// the backup.
pub fn source_engine_version(s: &str) -> Result<(u32, u32, Option<u32>), ValidationError> {
    let invalid = || {
        ValidationError::invalid_value(format!(
            "Invalid source engine version: {s}. Specify the version of the server the backup \
             was taken from as major.minor or major.minor.patch, for example 5.7, 8.0.28 or \
             10.11.6."
        ))
    };
    // Plain numbers only (no `-log` suffix), each of at most 6 digits.
    let plain = s.split('.').all(|p| !p.is_empty() && p.len() <= 6);
    match ferry_base::version::ServerVersion::parse(s) {
        Ok(v) if plain && v.suffix.is_empty() => Ok((v.major, v.minor, v.patch)),
        _ => Err(invalid()),
    }
}

/// `DatabaseName`: the database created in a new cluster. MariaDB takes more, but RDS's rule
/// for Aurora MySQL is 1-64 letters, digits and underscores, starting with a letter.
pub fn database_name(s: &str) -> Result<String, ValidationError> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok {
        return Err(ValidationError::invalid_value(format!(
            "The parameter DatabaseName is not a valid database name: {:?}. It must be 1 to 64 letters, digits or underscores and begin with a letter.",
            s.chars().take(80).collect::<String>()
        )));
    }
    Ok(s.to_string())
}

/// `DBInstanceClass`: `db.<family>.<size>`, e.g. `db.r6g.large`, `db.t3.medium`,
/// `db.x2g.16xlarge`: lower-case letters and digits, the family holding a generation digit.
/// Which classes ferry knows (and what they map to) is the service's table; this is the shape.
pub fn instance_class(s: &str) -> Result<String, ValidationError> {
    let invalid = || ValidationError::invalid_value(format!("Invalid DB Instance class: {s}"));
    let mut parts = s.split('.');
    let (Some("db"), Some(family), Some(size), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    let lower_alnum = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    let family_ok = lower_alnum(family)
        && family.starts_with(|c: char| c.is_ascii_lowercase())
        && family.bytes().any(|b| b.is_ascii_digit());
    if !family_ok || !lower_alnum(size) || !size.ends_with(|c: char| c.is_ascii_lowercase()) {
        return Err(invalid());
    }
    Ok(s.to_string())
}

#[cfg(test)]
mod database_name_tests {
    use super::*;

    #[test]
    fn database_names() {
        assert_eq!(database_name("shop_2").unwrap(), "shop_2");
        for bad in ["", "1shop", "shop-db", "a b", &"x".repeat(65)] {
            let e = database_name(bad).unwrap_err();
            assert_eq!(e.code, INVALID_PARAMETER_VALUE);
            assert!(e.message.contains("DatabaseName"), "{}", e.message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err<T: std::fmt::Debug>(r: Result<T, ValidationError>) -> ValidationError {
        r.expect_err("the value should be refused")
    }

    const BAD_ID: &str = "The parameter DBClusterIdentifier is not a valid identifier. \
        Identifiers must begin with a letter; must contain only ASCII letters, digits, and \
        hyphens; and must not end with a hyphen or contain two consecutive hyphens.";

    #[test]
    fn identifiers_follow_rds_rules_and_are_stored_lower_case() {
        let id = cluster_identifier("DBClusterIdentifier", "My-Cluster-1").unwrap();
        assert_eq!(id.as_str(), "my-cluster-1");
        assert_eq!(cluster_identifier("P", "a").unwrap().as_str(), "a");
        let longest = format!("a{}", "b".repeat(62));
        assert_eq!(cluster_identifier("P", &longest).unwrap().as_str(), longest);
        let inst = instance_identifier("DBInstanceIdentifier", "Writer-1").unwrap();
        assert_eq!(inst.as_str(), "writer-1");

        for bad in [
            "1abc", "-abc", "abc-", "ab--c", "ab_c", "ab.c", "ab c", "abç",
        ] {
            let e = err(cluster_identifier("DBClusterIdentifier", bad));
            assert_eq!(e.code, INVALID_PARAMETER_VALUE, "{bad}");
            assert_eq!(e.message, BAD_ID, "{bad}");
        }
        let e = err(cluster_identifier(
            "DBClusterIdentifier",
            &format!("{longest}c"),
        ));
        assert_eq!(
            e.message,
            "The parameter DBClusterIdentifier is not a valid identifier because it is longer \
             than 63 characters."
        );
        let e = err(instance_identifier("DBInstanceIdentifier", ""));
        assert_eq!(
            e.message,
            "The parameter DBInstanceIdentifier must be provided and must not be blank."
        );
    }

    #[test]
    fn required_parameters() {
        assert_eq!(required("Engine", Some("mariadb")).unwrap(), "mariadb");
        let e = err(required("Engine", None));
        assert_eq!(e.code, MISSING_PARAMETER);
        assert_eq!(e.message, "The request must contain the parameter Engine.");
        let e = err(required("Engine", Some("  ")));
        assert_eq!(e.code, INVALID_PARAMETER_VALUE);
        assert_eq!(
            e.message,
            "The parameter Engine must be provided and must not be blank."
        );
    }

    #[test]
    fn master_usernames() {
        assert_eq!(master_username("admin").unwrap(), "admin");
        assert_eq!(master_username("Admin_2").unwrap(), "Admin_2");
        assert_eq!(master_username("a234567890123456").unwrap().len(), 16);

        for bad in ["1admin", "_admin", "ad-min", "ad min", "ad.min"] {
            assert_eq!(
                err(master_username(bad)).message,
                "MasterUsername must begin with a letter and contain only alphanumeric \
                 characters or underscores.",
                "{bad}"
            );
        }
        assert_eq!(
            err(master_username("a2345678901234567")).message,
            "The parameter MasterUsername is not a valid user name because it is longer than \
             16 characters."
        );
        for word in [
            "select",
            "SELECT",
            "Table",
            "root",
            "rdsadmin",
            "ferry_admin",
            "ferry_repl",
        ] {
            assert_eq!(
                err(master_username(word)).message,
                format!("MasterUsername {word} cannot be used as it is a reserved word used by the engine")
            );
        }
        assert_eq!(err(master_username("")).code, INVALID_PARAMETER_VALUE);
    }

    #[test]
    fn master_passwords() {
        assert_eq!(master_password("s3cr3t!x").unwrap(), "s3cr3t!x");
        let longest = "x".repeat(41);
        assert_eq!(master_password(&longest).unwrap(), longest);
        assert!(master_password("a~b!c#d$e%f^&*()_+-=[]{};:',.<>?|\\`").is_ok());

        const BAD_CHARS: &str = "The parameter MasterUserPassword is not a valid password. \
            Only printable ASCII characters besides '/', '@', '\"', ' ' may be used.";
        for bad in [
            "pass/word1",
            "pass@word1",
            "pass\"word1",
            "pass word1",
            "passwörd1",
            "pass\tword",
        ] {
            assert_eq!(err(master_password(bad)).message, BAD_CHARS, "{bad}");
        }
        assert_eq!(
            err(master_password("short")).message,
            "The parameter MasterUserPassword is not a valid password because it is shorter \
             than 8 characters."
        );
        assert_eq!(
            err(master_password(&"x".repeat(42))).message,
            "The parameter MasterUserPassword is not a valid password because it is longer \
             than 41 characters."
        );
    }

    #[test]
    fn ports_and_retention() {
        assert_eq!(port(3306).unwrap(), 3306);
        assert_eq!(port(1150).unwrap(), 1150);
        assert_eq!(port(65535).unwrap(), 65535);
        for bad in [0, 80, 1149, 65536, -1, i64::MAX] {
            let e = err(port(bad));
            assert_eq!(
                e.message,
                format!("Invalid port {bad}: the port must be a value from 1150 to 65535.")
            );
        }
        assert_eq!(backup_retention_period(1).unwrap(), 1);
        assert_eq!(backup_retention_period(35).unwrap(), 35);
        for bad in [0, 36, -3] {
            assert_eq!(
                err(backup_retention_period(bad)).message,
                format!(
                    "Invalid backup retention period {bad}: specify a value from 1 to 35 days."
                )
            );
        }
    }

    #[test]
    fn engines() {
        assert_eq!(engine("aurora-mysql").unwrap(), EngineName::AuroraMysql);
        assert_eq!(engine("mariadb").unwrap(), EngineName::Mariadb);
        for bad in ["aurora", "mysql", "aurora-postgresql", "MariaDB"] {
            assert_eq!(
                err(engine(bad)).message,
                format!("Invalid DB engine: {bad}. Valid values: aurora-mysql, mariadb.")
            );
        }
        assert_eq!(source_engine("mysql").unwrap(), "mysql");
        assert_eq!(source_engine("MariaDB").unwrap(), "mariadb");
        assert_eq!(
            err(source_engine("postgres")).message,
            "Invalid source engine: postgres. Valid values: mysql, mariadb."
        );
    }

    #[test]
    fn source_engine_versions() {
        assert_eq!(source_engine_version("5.7").unwrap(), (5, 7, None));
        assert_eq!(source_engine_version("8.0.28").unwrap(), (8, 0, Some(28)));
        assert_eq!(source_engine_version("10.11.6").unwrap(), (10, 11, Some(6)));
        for bad in [
            "8",
            "8.",
            ".0",
            "8.0.28.1",
            "8.0.28-log",
            "v8.0",
            "8.x",
            "",
            "1.2.3456789",
        ] {
            let e = err(source_engine_version(bad));
            assert!(
                e.message
                    .starts_with(&format!("Invalid source engine version: {bad}.")),
                "{bad}: {}",
                e.message
            );
        }
    }

    #[test]
    fn instance_classes() {
        for good in [
            "db.r6g.large",
            "db.t3.medium",
            "db.x2g.16xlarge",
            "db.r6gd.xlarge",
            "db.t4g.micro",
        ] {
            assert_eq!(instance_class(good).unwrap(), good);
        }
        for bad in [
            "r6g.large",
            "db.r6g",
            "db.r6g.large.x",
            "db.R6G.large",
            "db.rg.large",
            "db.6g.large",
            "db..large",
            "db.r6g.",
            "db.r6g.16",
            "db.serverless",
            "",
        ] {
            assert_eq!(
                err(instance_class(bad)).message,
                format!("Invalid DB Instance class: {bad}")
            );
        }
    }
}
