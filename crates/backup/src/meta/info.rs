//! `xtrabackup_info`: who made the backup, of which server, when, and whether it is partial.

use serde::Serialize;

use super::{key_values, Lsn, MetaError, INFO};

/// Options of xtrabackup/mariabackup that make a backup partial (not the whole server).
const PARTIAL_OPTIONS: [&str; 7] = [
    "--databases",
    "--databases-file",
    "--databases-exclude",
    "--tables",
    "--tables-file",
    "--tables-exclude",
    "--include",
];

/// The parsed `xtrabackup_info` (or `mariadb_backup_info`). Text fields are empty when the
/// file does not have them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Info {
    pub uuid: String,
    pub name: String,
    /// `xtrabackup`, `innobackupex`, `mariabackup` or `mariadb-backup`.
    pub tool_name: String,
    /// The command line, passwords masked by the tool.
    pub tool_command: String,
    pub tool_version: String,
    pub ibbackup_version: String,
    /// e.g. `10.11.19-MariaDB-0+deb12u1-log`, `8.0.35-27`.
    pub server_version: String,
    /// Local time `YYYY-MM-DD HH:MM:SS`.
    pub start_time: String,
    /// Local time `YYYY-MM-DD HH:MM:SS`.
    pub end_time: String,
    pub lock_time: String,
    /// e.g. `filename 'mysql-bin.000001', position '3133770', GTID of the last change '0-1-4'`.
    pub binlog_pos: String,
    pub innodb_from_lsn: Option<Lsn>,
    pub innodb_to_lsn: Option<Lsn>,
    /// `partial = Y/N`; `None` when absent.
    pub partial: Option<bool>,
    /// `incremental = Y/N`; `None` when absent.
    pub incremental: Option<bool>,
    /// `file`, `tar` or `xbstream`.
    pub format: String,
    /// `compressed = compressed` (both tools write that, not `Y`) or `N`.
    pub compressed: bool,
    /// PXB only.
    pub encrypted: Option<bool>,
}

fn yes_no(key: &'static str, value: &str) -> Result<Option<bool>, MetaError> {
    match value {
        "" => Ok(None),
        "Y" | "y" | "1" | "yes" | "YES" => Ok(Some(true)),
        "N" | "n" | "0" | "no" | "NO" => Ok(Some(false)),
        other => Err(MetaError::InvalidValue {
            file: INFO,
            key,
            value: other.to_string(),
        }),
    }
}

impl Info {
    /// Parses the file's text. Unknown keys are ignored; a duplicated key: the last wins.
    /// Only a `partial` value that is neither Y nor N is an error (guessing could restore a
    /// partial backup as if it were whole).
    pub fn parse(text: &str) -> Result<Info, MetaError> {
        let mut info = Info::default();
        for (key, value) in key_values(text) {
            let v = value.to_string();
            match key {
                "uuid" => info.uuid = v,
                "name" => info.name = v,
                "tool_name" => info.tool_name = v,
                "tool_command" => info.tool_command = v,
                "tool_version" => info.tool_version = v,
                "ibbackup_version" => info.ibbackup_version = v,
                "server_version" => info.server_version = v,
                "start_time" => info.start_time = v,
                "end_time" => info.end_time = v,
                "lock_time" => info.lock_time = v,
                "binlog_pos" => info.binlog_pos = v,
                "innodb_from_lsn" => info.innodb_from_lsn = value.parse().ok().map(Lsn),
                "innodb_to_lsn" => info.innodb_to_lsn = value.parse().ok().map(Lsn),
                "partial" => info.partial = yes_no("partial", value)?,
                "incremental" => info.incremental = yes_no("incremental", value).unwrap_or(None),
                "format" => info.format = v,
                "compressed" => info.compressed = matches!(value, "compressed" | "Y" | "y" | "1"),
                "encrypted" => info.encrypted = yes_no("encrypted", value).unwrap_or(None),
                _ => {}
            }
        }
        Ok(info)
    }

    /// Why this backup is partial, or `None` when it is a backup of the whole server.
    ///
    /// Partial means `partial = Y`, or a `tool_command` using one of `--databases`,
    /// `--databases-file`, `--databases-exclude`, `--tables`, `--tables-file`,
    /// `--tables-exclude`, `--include` (also in their `--option=value` forms).
    pub fn partial_reason(&self) -> Option<String> {
        if self.partial == Some(true) {
            return Some("xtrabackup_info says partial = Y".to_string());
        }
        let used: Vec<&str> = self
            .tool_command
            .split_whitespace()
            .filter_map(|token| {
                let name = token.split_once('=').map_or(token, |(n, _)| n);
                PARTIAL_OPTIONS.iter().copied().find(|opt| *opt == name)
            })
            .collect();
        match used.as_slice() {
            [] => None,
            [one] => Some(format!("its tool_command uses {one}")),
            many => Some(format!("its tool_command uses {}", many.join(", "))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARIADB_INFO: &str = "uuid = 1e7a5f4c-0000-11ef-9c5e-0242ac110002\n\
name = \n\
tool_name = mariabackup\n\
tool_command = --backup --target-dir=/b/full --user=root --password=...\n\
tool_version = 10.11.19-MariaDB\n\
ibbackup_version = 10.11.19-MariaDB\n\
server_version = 10.11.19-MariaDB-0+deb12u1-log\n\
start_time = 2025-01-02 03:04:05\n\
end_time = 2025-01-02 03:04:09\n\
lock_time = 0\n\
binlog_pos = filename 'mysql-bin.000001', position '3133770', GTID of the last change '0-2133421-4'\n\
innodb_from_lsn = 0\n\
innodb_to_lsn = 44404\n\
partial = N\n\
incremental = N\n\
format = file\n\
compressed = N\n";

    #[test]
    fn parses_mariadb_info() {
        let i = Info::parse(MARIADB_INFO).unwrap();
        assert_eq!(i.tool_name, "mariabackup");
        assert_eq!(i.server_version, "10.11.19-MariaDB-0+deb12u1-log");
        assert_eq!(i.end_time, "2025-01-02 03:04:09");
        assert_eq!(i.innodb_to_lsn, Some(Lsn(44404)));
        assert_eq!(i.partial, Some(false));
        assert_eq!(i.incremental, Some(false));
        assert!(!i.compressed);
        assert!(i.binlog_pos.contains("3133770"));
        assert_eq!(i.partial_reason(), None);
    }

    #[test]
    fn compressed_is_spelled_compressed() {
        let i = Info::parse("compressed = compressed\r\n").unwrap();
        assert!(i.compressed);
    }

    #[test]
    fn partial_flag_is_a_reason() {
        let i = Info::parse("partial = Y\n").unwrap();
        assert_eq!(
            i.partial_reason().unwrap(),
            "xtrabackup_info says partial = Y"
        );
    }

    #[test]
    fn filter_options_in_the_command_are_reasons() {
        let cases = [
            (
                "--backup --databases=db1",
                Some("its tool_command uses --databases"),
            ),
            (
                "--backup --databases db1",
                Some("its tool_command uses --databases"),
            ),
            (
                "--backup --databases='db1 db2'",
                Some("its tool_command uses --databases"),
            ),
            (
                "--tables-file=/t --include=^db",
                Some("its tool_command uses --tables-file, --include"),
            ),
            (
                "--databases-exclude=x",
                Some("its tool_command uses --databases-exclude"),
            ),
            ("--tables=db.t", Some("its tool_command uses --tables")),
            (
                "--tables-exclude=db.t",
                Some("its tool_command uses --tables-exclude"),
            ),
            (
                "--databases-file=/f",
                Some("its tool_command uses --databases-file"),
            ),
            ("--backup --target-dir=/databases", None),
            ("--backup --user=root --no-lock", None),
        ];
        for (cmd, want) in cases {
            let i = Info {
                tool_command: cmd.into(),
                partial: Some(false),
                ..Info::default()
            };
            assert_eq!(i.partial_reason().as_deref(), want, "{cmd}");
        }
    }

    #[test]
    fn garbled_partial_value_is_an_error() {
        let err = Info::parse("partial = maybe\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "xtrabackup_info: `partial` has an invalid value \"maybe\""
        );
    }

    #[test]
    fn unknown_and_duplicate_keys() {
        let i = Info::parse("lock_ddl_type = REDUCED\nserver_version = a\nserver_version = b \n")
            .unwrap();
        assert_eq!(i.server_version, "b");
    }
}
