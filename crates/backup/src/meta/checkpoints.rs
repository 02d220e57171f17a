//! `xtrabackup_checkpoints`: what kind of backup a set is and which LSN range it covers.

use std::fmt;

use serde::{Serialize, Serializer};

use super::{last_value, parse_lsn, Lsn, MetaError, CHECKPOINTS};

/// The `backup_type` line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BackupType {
    /// `full-backuped`: a full backup, not prepared.
    FullBackuped,
    /// `incremental`: a delta set, not prepared.
    Incremental,
    /// `log-applied`: prepared (PXB `--apply-log-only`, or any MariaDB prepare).
    LogApplied,
    /// `full-prepared`: prepared with rollback done; no incremental can follow.
    FullPrepared,
    /// Anything else, verbatim.
    Other(String),
}

impl BackupType {
    /// Parses the value of the `backup_type` line.
    pub fn parse(value: &str) -> BackupType {
        match value {
            "full-backuped" => BackupType::FullBackuped,
            "incremental" => BackupType::Incremental,
            "log-applied" => BackupType::LogApplied,
            "full-prepared" => BackupType::FullPrepared,
            other => BackupType::Other(other.to_string()),
        }
    }

    /// The spelling used in the file.
    pub fn as_str(&self) -> &str {
        match self {
            BackupType::FullBackuped => "full-backuped",
            BackupType::Incremental => "incremental",
            BackupType::LogApplied => "log-applied",
            BackupType::FullPrepared => "full-prepared",
            BackupType::Other(s) => s,
        }
    }

    /// True for the two prepared types.
    pub fn is_prepared(&self) -> bool {
        matches!(self, BackupType::LogApplied | BackupType::FullPrepared)
    }
}

impl fmt::Display for BackupType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for BackupType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The parsed `xtrabackup_checkpoints` (or `mariadb_backup_checkpoints`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checkpoints {
    pub backup_type: BackupType,
    /// 0 for a full backup; the parent's `to_lsn` for an incremental.
    pub from_lsn: Lsn,
    /// The checkpoint LSN at the end of the copy: the next incremental's `from_lsn`.
    pub to_lsn: Lsn,
    /// The end of the redo log copied. Equals `to_lsn` when the file has no `last_lsn` line.
    pub last_lsn: Lsn,
    /// PXB 2.4+/8.0 only.
    pub flushed_lsn: Option<Lsn>,
    /// `compact = 1` (PXB <= 2.4 `--compact`): secondary index pages are missing.
    pub compact: bool,
    /// `recover_binlog_info = 1`: the binlog position is recovered at prepare.
    pub recover_binlog_info: bool,
}

impl Checkpoints {
    /// Parses the file's text. `backup_type`, `from_lsn` and `to_lsn` are required.
    pub fn parse(text: &str) -> Result<Checkpoints, MetaError> {
        let required = |key: &'static str| {
            last_value(text, key).ok_or(MetaError::MissingKey {
                file: CHECKPOINTS,
                key,
            })
        };
        let lsn = |key: &'static str, value: &str| parse_lsn(CHECKPOINTS, key, value);
        let flag = |key: &'static str| -> Result<bool, MetaError> {
            match last_value(text, key) {
                None | Some("0") | Some("") => Ok(false),
                Some("1") => Ok(true),
                Some(other) => Err(MetaError::InvalidValue {
                    file: CHECKPOINTS,
                    key,
                    value: other.to_string(),
                }),
            }
        };
        let backup_type = BackupType::parse(required("backup_type")?);
        let from_lsn = lsn("from_lsn", required("from_lsn")?)?;
        let to_lsn = lsn("to_lsn", required("to_lsn")?)?;
        let last_lsn = match last_value(text, "last_lsn") {
            Some(v) => lsn("last_lsn", v)?,
            None => to_lsn,
        };
        let flushed_lsn = last_value(text, "flushed_lsn")
            .map(|v| lsn("flushed_lsn", v))
            .transpose()?;
        Ok(Checkpoints {
            backup_type,
            from_lsn,
            to_lsn,
            last_lsn,
            flushed_lsn,
            compact: flag("compact")?,
            recover_binlog_info: flag("recover_binlog_info")?,
        })
    }

    /// True for a full backup (prepared or not): it starts at LSN 0.
    pub fn is_full(&self) -> bool {
        self.from_lsn.0 == 0 && self.backup_type != BackupType::Incremental
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARIADB_FULL: &str = "backup_type = full-backuped\nfrom_lsn = 0\nto_lsn = 44404\n\
                                last_lsn = 44413\nrecover_binlog_info = 0\n";

    #[test]
    fn parses_a_mariadb_full_backup() {
        let c = Checkpoints::parse(MARIADB_FULL).unwrap();
        assert_eq!(c.backup_type, BackupType::FullBackuped);
        assert_eq!(
            (c.from_lsn, c.to_lsn, c.last_lsn),
            (Lsn(0), Lsn(44404), Lsn(44413))
        );
        assert!(!c.compact && !c.recover_binlog_info && c.is_full());
        assert_eq!(c.flushed_lsn, None);
    }

    #[test]
    fn parses_pxb_variants_with_crlf_and_unknown_keys() {
        let text = "backup_type = incremental\r\nfrom_lsn = 100\r\nto_lsn = 200  \r\n\
                    last_lsn = 210\r\nflushed_lsn = 0\r\nredo_memory = 0\r\nredo_frames = 0\r\n\
                    compact = 0\r\nrecover_binlog_info = 1\r\n";
        let c = Checkpoints::parse(text).unwrap();
        assert_eq!(c.backup_type, BackupType::Incremental);
        assert_eq!(c.to_lsn, Lsn(200));
        assert_eq!(c.flushed_lsn, Some(Lsn(0)));
        assert!(c.recover_binlog_info);
        assert!(!c.is_full());
    }

    #[test]
    fn missing_last_lsn_defaults_to_to_lsn() {
        let c =
            Checkpoints::parse("backup_type = full-prepared\nfrom_lsn = 0\nto_lsn = 9\n").unwrap();
        assert_eq!(c.last_lsn, Lsn(9));
        assert!(c.backup_type.is_prepared());
    }

    #[test]
    fn missing_required_keys_are_named() {
        let err = Checkpoints::parse("from_lsn = 0\nto_lsn = 1\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "xtrabackup_checkpoints has no `backup_type` line"
        );
        let err = Checkpoints::parse("backup_type = incremental\nto_lsn = 1\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "xtrabackup_checkpoints has no `from_lsn` line"
        );
        let err = Checkpoints::parse("backup_type = incremental\nfrom_lsn = 1\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "xtrabackup_checkpoints has no `to_lsn` line"
        );
    }

    #[test]
    fn invalid_numbers_are_errors() {
        let err = Checkpoints::parse("backup_type = incremental\nfrom_lsn = x\nto_lsn = 1\n")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "xtrabackup_checkpoints: `from_lsn` has an invalid value \"x\""
        );
        assert!(Checkpoints::parse(&format!("{MARIADB_FULL}compact = yes\n")).is_err());
    }

    #[test]
    fn unknown_backup_types_are_kept_verbatim() {
        let c = Checkpoints::parse("backup_type = weird\nfrom_lsn = 0\nto_lsn = 1\n").unwrap();
        assert_eq!(c.backup_type, BackupType::Other("weird".into()));
        assert_eq!(c.backup_type.to_string(), "weird");
    }
}
