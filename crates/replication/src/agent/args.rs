//! The procedures' arguments: parsed from the request row's JSON, validated, and turned into
//! `CHANGE MASTER TO` text that cannot be injected into.
//!
//! Every refusal is an answer the caller sees (`SIGNAL`), so messages name the argument and
//! the rule but never quote a password. Limits are MariaDB 10.11's own (`MASTER_HOST` 255
//! characters, `MASTER_USER` 128, `MASTER_PASSWORD` 96 *bytes*): checked here because the
//! server's error for an over-long value (1470) quotes the value, password included (its
//! first 70 bytes, which a plain search for the whole password does not find).

use ferry_base::Secret;
use serde_json::{Map, Value};

use crate::ssl::SslPaths;

const MAX_HOST_CHARS: usize = 255;
const MAX_USER_CHARS: usize = 128;
/// In bytes (UTF-8), as the server counts it: 48 `é` are the most it takes.
const MAX_PASSWORD_BYTES: usize = 96;
const MAX_LOG_FILE_CHARS: usize = 255;
/// `MASTER_CONNECT_RETRY` unless the operator sets another ([`super::AgentContext`]): 60, as
/// on RDS.
pub const DEFAULT_CONNECT_RETRY_SECS: u32 = 60;

/// Where the replica reads from: binlog coordinates, or the GTID position it already has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartFrom {
    Coordinates {
        file: String,
        pos: u64,
    },
    /// `MASTER_USE_GTID=slave_pos`.
    GtidSlavePos,
}

/// The validated arguments of `rds_set_external_master[_with_auto_position]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceArgs {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Secret,
    pub start: StartFrom,
    pub ssl: bool,
}

impl SourceArgs {
    /// Parses the request arguments; `auto_position` selects the GTID variant (no file or
    /// position arguments). `Err` is the answer to give the caller.
    pub fn parse(args: &str, auto_position: bool) -> Result<SourceArgs, String> {
        let map = object(args)?;
        let host = text(&map, "host_name", MAX_HOST_CHARS)?;
        if host.is_empty() {
            return Err("Invalid host_name: it must not be empty.".to_owned());
        }
        if host.chars().any(char::is_whitespace) {
            return Err("Invalid host_name: it must not contain spaces.".to_owned());
        }
        let port = match integer(map.get("host_port"))? {
            Some(p) if (1..=65535).contains(&p) => p as u16,
            Some(p) => {
                return Err(format!(
                    "Invalid host_port {p}: it must be between 1 and 65535."
                ))
            }
            None => return Err("Invalid host_port: it must not be NULL.".to_owned()),
        };
        let user = text(&map, "replication_user_name", MAX_USER_CHARS)?;
        if user.is_empty() {
            return Err("Invalid replication_user_name: it must not be empty.".to_owned());
        }
        let password = secret(&map, "replication_user_password", MAX_PASSWORD_BYTES)?;
        let start = if auto_position {
            StartFrom::GtidSlavePos
        } else {
            let file = text(&map, "mysql_binary_log_file_name", MAX_LOG_FILE_CHARS)?;
            if file.is_empty() {
                return Err("Invalid mysql_binary_log_file_name: it must not be empty.".to_owned());
            }
            if file.contains('/') || file.chars().any(char::is_whitespace) {
                return Err(
                    "Invalid mysql_binary_log_file_name: give the file name as SHOW \
                     MASTER STATUS prints it, without a directory or spaces."
                        .to_owned(),
                );
            }
            let pos = match integer(map.get("mysql_binary_log_file_location"))? {
                Some(pos) if pos >= 0 => u64::try_from(pos).map_err(|_| {
                    "Invalid mysql_binary_log_file_location: it is too large.".to_owned()
                })?,
                Some(negative) => {
                    return Err(format!(
                        "Invalid mysql_binary_log_file_location {negative}: it must not be \
                         negative."
                    ))
                }
                None => {
                    return Err(
                        "Invalid mysql_binary_log_file_location: it must not be NULL.".to_owned(),
                    )
                }
            };
            StartFrom::Coordinates { file, pos }
        };
        let ssl = match integer(map.get("ssl_encryption"))? {
            None | Some(0) => false,
            Some(1) => true,
            Some(_) => return Err("Invalid ssl_encryption: it must be 0 or 1.".to_owned()),
        };
        Ok(SourceArgs {
            host: host.trim().to_owned(),
            port,
            user,
            password,
            start,
            ssl,
        })
    }

    /// The arguments for the history table: the password replaced by `<redacted>`.
    pub fn summary(&self) -> String {
        let mut map = Map::new();
        map.insert("host_name".into(), self.host.clone().into());
        map.insert("host_port".into(), self.port.into());
        map.insert("replication_user_name".into(), self.user.clone().into());
        map.insert("replication_user_password".into(), "<redacted>".into());
        if let StartFrom::Coordinates { file, pos } = &self.start {
            map.insert("mysql_binary_log_file_name".into(), file.clone().into());
            map.insert("mysql_binary_log_file_location".into(), (*pos).into());
        }
        map.insert("ssl_encryption".into(), u8::from(self.ssl).into());
        Value::Object(map).to_string()
    }

    /// `CHANGE MASTER TO …` for these arguments. `ssl` is the stored material's paths (needed
    /// when [`SourceArgs::ssl`]); `connect_retry` the seconds between the replica's attempts
    /// to reach a lost source; `no_backslash_escapes` is the session's SQL mode.
    pub fn change_master(
        &self,
        ssl: Option<&SslPaths>,
        connect_retry: u32,
        no_backslash_escapes: bool,
    ) -> String {
        let quote = |text: &str| quote(text, no_backslash_escapes);
        let mut sql = format!(
            "CHANGE MASTER TO MASTER_HOST = {}, MASTER_PORT = {}, MASTER_USER = {}, \
             MASTER_PASSWORD = {}, ",
            quote(&self.host),
            self.port,
            quote(&self.user),
            quote(self.password.expose())
        );
        match &self.start {
            StartFrom::Coordinates { file, pos } => sql.push_str(&format!(
                "MASTER_LOG_FILE = {}, MASTER_LOG_POS = {pos}, MASTER_USE_GTID = no, ",
                quote(file)
            )),
            StartFrom::GtidSlavePos => sql.push_str("MASTER_USE_GTID = slave_pos, "),
        }
        sql.push_str(&format!("MASTER_CONNECT_RETRY = {connect_retry}, "));
        match ssl.filter(|_| self.ssl) {
            Some(paths) => sql.push_str(&format!(
                "MASTER_SSL = 1, MASTER_SSL_CA = {}, MASTER_SSL_CERT = {}, MASTER_SSL_KEY = {}, ",
                quote(paths.ca.as_str()),
                quote(paths.cert.as_str()),
                quote(paths.key.as_str())
            )),
            None => sql.push_str(
                "MASTER_SSL = 0, MASTER_SSL_CA = '', MASTER_SSL_CERT = '', MASTER_SSL_KEY = '', ",
            ),
        }
        // As RDS: the link is encrypted, the source's certificate is not checked (the imported
        // CA is still handed over, for sources that require a client certificate).
        sql.push_str("MASTER_SSL_VERIFY_SERVER_CERT = 0");
        sql
    }
}

/// `rds_next_master_log(curr_master_log)`: the current log's number.
pub fn next_log_number(args: &str) -> Result<u64, String> {
    let map = object(args)?;
    match integer(map.get("curr_master_log"))? {
        Some(number) => u64::try_from(number)
            .map_err(|_| "Invalid curr_master_log: it must not be negative.".to_owned()),
        None => Err("Invalid curr_master_log: it must not be NULL.".to_owned()),
    }
}

/// The file after `current` (`mysql-bin.000012` → `mysql-bin.000013`), keeping its prefix and
/// the width of its number. `Err` when `current` does not end in `.<digits>` or its number is
/// not `expected_number`.
pub fn next_log_file(current: &str, expected_number: u64) -> Result<String, String> {
    let (prefix, digits) = current
        .rsplit_once('.')
        .filter(|(_, digits)| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            format!("The current master log {current} does not end in a number; ferry cannot tell the next one.")
        })?;
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("The current master log {current} has a number ferry cannot read."))?;
    if number != expected_number {
        return Err(format!(
            "The current master log is {current}, not number {expected_number}. Call \
             mysql.rds_next_master_log({number})."
        ));
    }
    let next = number
        .checked_add(1)
        .ok_or_else(|| format!("The current master log {current} is the last possible one."))?;
    Ok(format!("{prefix}.{next:0width$}", width = digits.len()))
}

/// A SQL string literal. Callers have rejected control characters already; quotes (and
/// backslashes, unless the session's SQL mode makes them literal) are escaped.
pub fn quote(text: &str, no_backslash_escapes: bool) -> String {
    mysql_async::Value::from(text).as_sql(no_backslash_escapes)
}

fn object(args: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str::<Value>(args) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(
            "ferry's replication agent received arguments it cannot read. Reinstall the \
             procedures."
                .to_owned(),
        ),
    }
}

/// An integer argument: `None` for NULL or absent. MariaDB's `JSON_OBJECT` renders a
/// procedure's `INT` parameters as JSON strings (`{"n": "1"}`), so digits in a string count.
fn integer(value: Option<&Value>) -> Result<Option<i128>, String> {
    let invalid = || "ferry's replication agent received a number it cannot read.".to_owned();
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
            .map(Some)
            .ok_or_else(invalid),
        Some(Value::String(s)) => s.trim().parse::<i128>().map(Some).map_err(|_| invalid()),
        Some(_) => Err(invalid()),
    }
}

/// A text argument: NULL is an error; no control characters; at most `max` characters.
fn text(map: &Map<String, Value>, name: &str, max: usize) -> Result<String, String> {
    let value = match map.get(name) {
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(format!("Invalid {name}: it must not be NULL.")),
    };
    if value.chars().any(char::is_control) {
        return Err(format!(
            "Invalid {name}: it must not contain control characters."
        ));
    }
    let chars = value.chars().count();
    if chars > max {
        return Err(format!(
            "Invalid {name}: it is {chars} characters long; at most {max} are allowed."
        ));
    }
    Ok(value)
}

/// A password: like [`text`] but not trimmed (spaces may be part of it), never quoted, and at
/// most `max_bytes` bytes of UTF-8.
fn secret(map: &Map<String, Value>, name: &str, max_bytes: usize) -> Result<Secret, String> {
    let value = match map.get(name) {
        Some(Value::String(s)) => s.clone(),
        _ => return Err(format!("Invalid {name}: it must not be NULL.")),
    };
    if value.chars().any(char::is_control) {
        return Err(format!(
            "Invalid {name}: it must not contain control characters."
        ));
    }
    if value.len() > max_bytes {
        return Err(format!(
            "Invalid {name}: it is longer than the {max_bytes} bytes MariaDB accepts."
        ));
    }
    Ok(value.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use camino::Utf8PathBuf;

    fn set_args(json: serde_json::Value) -> Result<SourceArgs, String> {
        SourceArgs::parse(&json.to_string(), false)
    }

    fn good() -> serde_json::Value {
        serde_json::json!({
            "host_name": " db.example.com ", "host_port": 3306,
            "replication_user_name": "repl", "replication_user_password": "p'w\\d \"x",
            "mysql_binary_log_file_name": "mysql-bin.000012",
            "mysql_binary_log_file_location": 4567, "ssl_encryption": 0
        })
    }

    fn with(key: &str, value: serde_json::Value) -> serde_json::Value {
        let mut json = good();
        json[key] = value;
        json
    }

    #[test]
    fn good_arguments_make_an_injection_free_change_master() {
        let args = set_args(good()).expect("valid");
        assert_eq!(args.host, "db.example.com");
        assert_eq!(
            args.start,
            StartFrom::Coordinates {
                file: "mysql-bin.000012".into(),
                pos: 4567
            }
        );
        let sql = args.change_master(None, DEFAULT_CONNECT_RETRY_SECS, false);
        assert_eq!(
            sql,
            "CHANGE MASTER TO MASTER_HOST = 'db.example.com', MASTER_PORT = 3306, \
             MASTER_USER = 'repl', MASTER_PASSWORD = 'p\\'w\\\\d \\\"x', \
             MASTER_LOG_FILE = 'mysql-bin.000012', MASTER_LOG_POS = 4567, MASTER_USE_GTID = no, \
             MASTER_CONNECT_RETRY = 60, MASTER_SSL = 0, MASTER_SSL_CA = '', \
             MASTER_SSL_CERT = '', MASTER_SSL_KEY = '', MASTER_SSL_VERIFY_SERVER_CERT = 0"
        );
        let nbe = args.change_master(None, 7, true);
        assert!(nbe.contains("MASTER_CONNECT_RETRY = 7, "), "{nbe}");
        assert!(nbe.contains("MASTER_PASSWORD = 'p''w\\d \"x'"), "{nbe}");
        assert!(!format!("{args:?}").contains("p'w"));
        assert!(!args.summary().contains("p'w"), "{}", args.summary());
        assert!(args.summary().contains("<redacted>"));
    }

    #[test]
    fn ssl_and_gtid_variants() {
        // As MariaDB's JSON_OBJECT renders a procedure's integer parameters: strings.
        let json = serde_json::json!({
            "host_name": "h", "host_port": "1", "replication_user_name": "u",
            "replication_user_password": "", "ssl_encryption": "1"
        });
        let args = SourceArgs::parse(&json.to_string(), true).expect("valid");
        assert!(args.ssl);
        let paths = SslPaths {
            ca: Utf8PathBuf::from("/d/current/ssl_ca.pem"),
            cert: Utf8PathBuf::from("/d/current/ssl_cert.pem"),
            key: Utf8PathBuf::from("/d/current/ssl_key.pem"),
        };
        let sql = args.change_master(Some(&paths), DEFAULT_CONNECT_RETRY_SECS, false);
        assert!(sql.contains("MASTER_USE_GTID = slave_pos"), "{sql}");
        assert!(!sql.contains("MASTER_LOG_FILE"), "{sql}");
        assert!(
            sql.contains(
                "MASTER_SSL = 1, MASTER_SSL_CA = '/d/current/ssl_ca.pem', \
                 MASTER_SSL_CERT = '/d/current/ssl_cert.pem', \
                 MASTER_SSL_KEY = '/d/current/ssl_key.pem', MASTER_SSL_VERIFY_SERVER_CERT = 0"
            ),
            "{sql}"
        );
        assert!(!args.summary().contains("mysql_binary_log_file_name"));
    }

    #[test]
    fn bad_arguments_are_refused_with_the_argument_named() {
        let cases = [
            (
                with("host_name", "".into()),
                "Invalid host_name: it must not be empty.",
            ),
            (
                with("host_name", "  ".into()),
                "Invalid host_name: it must not be empty.",
            ),
            (
                with("host_name", serde_json::Value::Null),
                "Invalid host_name: it must not be NULL.",
            ),
            (
                with("host_name", "a\nb".into()),
                "Invalid host_name: it must not contain control",
            ),
            (
                with("host_port", 0.into()),
                "Invalid host_port 0: it must be between 1 and 65535.",
            ),
            (with("host_port", 70000.into()), "Invalid host_port 70000"),
            (
                with("host_port", serde_json::Value::Null),
                "Invalid host_port: it must not be NULL.",
            ),
            (
                with("replication_user_name", "".into()),
                "Invalid replication_user_name",
            ),
            (
                with("replication_user_name", "u".repeat(129).into()),
                "at most 128",
            ),
            (
                with("replication_user_password", serde_json::Value::Null),
                "Invalid replication_user_password: it must not be NULL.",
            ),
            (
                with("replication_user_password", "secret\u{7}".into()),
                "control characters",
            ),
            (
                with("replication_user_password", "s".repeat(97).into()),
                "96 bytes",
            ),
            // 60 characters but 120 bytes: the server would refuse it with error 1470, whose
            // text quotes the password's first bytes.
            (
                with("replication_user_password", "é".repeat(60).into()),
                "96 bytes",
            ),
            (
                with("mysql_binary_log_file_name", "".into()),
                "Invalid mysql_binary_log_file_name",
            ),
            (
                with("mysql_binary_log_file_name", "/var/log/x.1".into()),
                "without a directory",
            ),
            (
                with("mysql_binary_log_file_location", serde_json::Value::Null),
                "Invalid mysql_binary_log_file_location: it must not be NULL.",
            ),
            (
                with("mysql_binary_log_file_location", (-4).into()),
                "Invalid mysql_binary_log_file_location -4: it must not be negative.",
            ),
            (
                with("ssl_encryption", 2.into()),
                "Invalid ssl_encryption: it must be 0 or 1.",
            ),
        ];
        for (json, expected) in cases {
            let err = set_args(json.clone()).expect_err(&json.to_string());
            assert!(err.contains(expected), "{json}: {err}");
            assert!(!err.contains("secret"), "{err}");
        }
        assert!(SourceArgs::parse("not json", false).is_err());
        let longest = set_args(with("replication_user_password", "é".repeat(48).into()))
            .expect("96 bytes of password are accepted");
        assert_eq!(longest.password.expose().len(), 96);
        let null_ssl =
            set_args(with("ssl_encryption", serde_json::Value::Null)).expect("NULL ssl is 0");
        assert!(!null_ssl.ssl);
    }

    #[test]
    fn next_log_keeps_prefix_and_width() {
        assert_eq!(
            next_log_file("mysql-bin.000012", 12).as_deref(),
            Ok("mysql-bin.000013")
        );
        assert_eq!(
            next_log_file("mysql-bin-changelog.099999", 99999).as_deref(),
            Ok("mysql-bin-changelog.100000")
        );
        assert_eq!(next_log_file("log.9", 9).as_deref(), Ok("log.10"));
        let wrong = next_log_file("mysql-bin.000012", 11).expect_err("wrong number");
        assert!(wrong.contains("rds_next_master_log(12)"), "{wrong}");
        assert!(next_log_file("mysql-bin", 1).is_err());
        assert_eq!(next_log_number(r#"{"curr_master_log": 12}"#), Ok(12));
        assert_eq!(next_log_number(r#"{"curr_master_log": "12"}"#), Ok(12));
        assert!(next_log_number(r#"{"curr_master_log": null}"#).is_err());
        assert!(next_log_number(r#"{"curr_master_log": -1}"#).is_err());
    }
}
