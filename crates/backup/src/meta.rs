//! Parsers for the text metadata files a backup carries: `xtrabackup_checkpoints` (LSNs and
//! backup type), `xtrabackup_info` (tool, server version, partial flag, times) and
//! `xtrabackup_binlog_info` (binlog coordinates and GTID), plus the binlog line that
//! `mariabackup --prepare` prints.
//!
//! Every producer version writes these slightly differently (key sets, CRLF from a Windows
//! copy, MariaDB's trailing spaces, multi-line MySQL GTID sets), so the parsers are tolerant of
//! unknown, missing and duplicate keys, and strict only where a wrong guess would restore the
//! wrong data.

mod binlog;
mod checkpoints;
mod info;

use std::fmt;

use serde::Serialize;

pub use binlog::{parse_prepare_binlog, BinlogInfo};
pub use checkpoints::{BackupType, Checkpoints};
pub use info::Info;

/// `xtrabackup_checkpoints`: backup type and LSN range.
pub const CHECKPOINTS: &str = "xtrabackup_checkpoints";
/// `xtrabackup_info`: tool, versions, times, partial flag.
pub const INFO: &str = "xtrabackup_info";
/// `xtrabackup_binlog_info`: binlog coordinates (absent when binlog is off).
pub const BINLOG_INFO: &str = "xtrabackup_binlog_info";
/// MariaDB 11.1+ (MDEV-18931) spelling of [`CHECKPOINTS`].
pub const MARIADB_CHECKPOINTS: &str = "mariadb_backup_checkpoints";
/// MariaDB 11.1+ spelling of [`INFO`].
pub const MARIADB_INFO: &str = "mariadb_backup_info";
/// MariaDB 11.1+ spelling of [`BINLOG_INFO`].
pub const MARIADB_BINLOG_INFO: &str = "mariadb_backup_binlog_info";
/// The option file `--prepare` reads (`innodb_page_size`, data file paths, ...).
pub const BACKUP_MY_CNF: &str = "backup-my.cnf";

/// Names of the checkpoints file, classic spelling first.
pub const CHECKPOINTS_FILES: [&str; 2] = [CHECKPOINTS, MARIADB_CHECKPOINTS];
/// Names of the info file, classic spelling first.
pub const INFO_FILES: [&str; 2] = [INFO, MARIADB_INFO];
/// Names of the binlog info file, classic spelling first.
pub const BINLOG_INFO_FILES: [&str; 2] = [BINLOG_INFO, MARIADB_BINLOG_INFO];
/// Every metadata file a planner reads, all at the root of a backup set.
pub const METADATA_FILES: [&str; 7] = [
    CHECKPOINTS,
    MARIADB_CHECKPOINTS,
    INFO,
    MARIADB_INFO,
    BINLOG_INFO,
    MARIADB_BINLOG_INFO,
    BACKUP_MY_CNF,
];

/// An InnoDB log sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(transparent)]
pub struct Lsn(pub u64);

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A metadata file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetaError {
    #[error("{file} has no `{key}` line")]
    MissingKey {
        file: &'static str,
        key: &'static str,
    },
    #[error("{file}: `{key}` has an invalid value {value:?}")]
    InvalidValue {
        file: &'static str,
        key: &'static str,
        value: String,
    },
    #[error("{file}: line {line} is not understood: {text:?}")]
    InvalidLine {
        file: &'static str,
        line: usize,
        text: String,
    },
}

/// The `key = value` pairs of a metadata file, in file order. Lines without `=` are skipped;
/// keys and values are trimmed (CRLF and trailing spaces included).
pub(crate) fn key_values(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.lines().filter_map(|line| {
        let (k, v) = line.split_once('=')?;
        let k = k.trim();
        (!k.is_empty()).then(|| (k, v.trim()))
    })
}

/// The value of the last `key = value` line for `key` (a duplicated key: the last one wins, as
/// in an option file).
pub(crate) fn last_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    key_values(text)
        .filter(|(k, _)| *k == key)
        .map(|(_, v)| v)
        .last()
}

/// Parses a decimal LSN.
pub(crate) fn parse_lsn(
    file: &'static str,
    key: &'static str,
    value: &str,
) -> Result<Lsn, MetaError> {
    value
        .parse::<u64>()
        .map(Lsn)
        .map_err(|_| MetaError::InvalidValue {
            file,
            key,
            value: value.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_values_are_trimmed_and_last_wins() {
        let text = "a = 1\r\nb=2  \r\nnoise\n = x\na = 3 \n";
        let kv: Vec<_> = key_values(text).collect();
        assert_eq!(kv, vec![("a", "1"), ("b", "2"), ("a", "3")]);
        assert_eq!(last_value(text, "a"), Some("3"));
        assert_eq!(last_value(text, "c"), None);
    }

    #[test]
    fn lsn_orders_and_prints() {
        assert!(Lsn(5) < Lsn(6));
        assert_eq!(Lsn(44404).to_string(), "44404");
        assert!(parse_lsn(CHECKPOINTS, "to_lsn", "-1").is_err());
    }

    mod fuzz {
        use proptest::prelude::*;

        use super::super::*;

        fn line() -> impl Strategy<Value = String> {
            let key = prop::sample::select(vec![
                "backup_type",
                "from_lsn",
                "to_lsn",
                "last_lsn",
                "compact",
                "partial",
                "tool_command",
                "server_version",
                "x",
            ]);
            (key, "[ -~\\t]{0,30}", prop::bool::ANY)
                .prop_map(|(k, v, crlf)| format!("{k} = {v}{}", if crlf { "\r\n" } else { "\n" }))
        }

        proptest! {
            #[test]
            fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
                let _ = Checkpoints::parse(&text);
                let _ = Info::parse(&text);
                let _ = BinlogInfo::parse(&text);
                let _ = parse_prepare_binlog(&text);
            }

            #[test]
            fn key_value_soup_never_panics(lines in proptest::collection::vec(line(), 0..20)) {
                let text = lines.concat();
                let _ = Checkpoints::parse(&text);
                if let Ok(info) = Info::parse(&text) {
                    let _ = info.partial_reason();
                }
                let _ = BinlogInfo::parse(&text.replace(" = ", "\t"));
            }
        }
    }
}
