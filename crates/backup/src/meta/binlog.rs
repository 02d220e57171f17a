//! Binary log coordinates: `xtrabackup_binlog_info` and the `Last binlog file` line that
//! `mariabackup --prepare` prints.

use serde::Serialize;

use super::{MetaError, BINLOG_INFO};

/// Binary log coordinates of a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BinlogInfo {
    /// Binlog file name, e.g. `mysql-bin.000001` (no `./`).
    pub file: String,
    pub position: u64,
    /// MariaDB `gtid_current_pos` or MySQL `gtid_executed`; `None` when empty or absent.
    pub gtid: Option<String>,
}

impl BinlogInfo {
    /// Parses `xtrabackup_binlog_info`: tab-separated `file`, `position`, optional GTID.
    ///
    /// A MySQL GTID set may continue on following lines (`uuid:1-5,\nuuid2:1-3`): those are
    /// joined. With several binlog lines (Galera `--sst-max-binlogs`) the last one counts.
    /// An empty file gives `Ok(None)`.
    pub fn parse(text: &str) -> Result<Option<BinlogInfo>, MetaError> {
        let mut current: Option<BinlogInfo> = None;
        for (index, raw) in text.lines().enumerate() {
            let line = raw.trim_end();
            if line.trim().is_empty() {
                continue;
            }
            let is_record = line.contains('\t') || current.is_none();
            if !is_record {
                // Continuation of a multi-line GTID set.
                if let Some(rec) = current.as_mut() {
                    let gtid = rec.gtid.get_or_insert_with(String::new);
                    gtid.push_str(line.trim());
                }
                continue;
            }
            let mut cols: Vec<&str> = if line.contains('\t') {
                line.split('\t').map(str::trim).collect()
            } else {
                line.split_whitespace().collect()
            };
            let invalid = || MetaError::InvalidLine {
                file: BINLOG_INFO,
                line: index + 1,
                text: line.to_string(),
            };
            if cols.len() < 2 || cols[0].is_empty() {
                return Err(invalid());
            }
            let position = cols[1].parse::<u64>().map_err(|_| invalid())?;
            let gtid = if cols.len() > 2 {
                let rest: Vec<&str> = cols.drain(2..).collect();
                Some(rest.join(""))
            } else {
                None
            };
            current = Some(BinlogInfo {
                file: strip_dot_slash(cols[0]).to_string(),
                position,
                gtid,
            });
        }
        Ok(current.map(|mut rec| {
            rec.gtid = rec
                .gtid
                .map(|g| g.trim().to_string())
                .filter(|g| !g.is_empty() && g != "[]");
            rec
        }))
    }
}

fn strip_dot_slash(file: &str) -> &str {
    file.strip_prefix("./").unwrap_or(file)
}

/// The binlog coordinates `mariabackup --prepare` (or `xtrabackup --prepare`) reports on
/// stderr: `... Last binlog file ./mysql-bin.000001, position 3259516`. The last such line
/// wins; the `./` is stripped.
pub fn parse_prepare_binlog(stderr: &str) -> Option<(String, u64)> {
    const MARKER: &str = "Last binlog file ";
    stderr.lines().rev().find_map(|line| {
        let (_, rest) = line.split_once(MARKER)?;
        let (file, pos) = rest.split_once(", position ")?;
        let file = strip_dot_slash(file.trim());
        let digits: String = pos
            .trim()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let position = digits.parse().ok()?;
        (!file.is_empty()).then(|| (file.to_string(), position))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> BinlogInfo {
        BinlogInfo::parse(text).unwrap().unwrap()
    }

    #[test]
    fn mariadb_three_columns() {
        let b = parse("mysql-bin.000001\t3133770\t0-2133421-4\n");
        assert_eq!(b.file, "mysql-bin.000001");
        assert_eq!(b.position, 3133770);
        assert_eq!(b.gtid.as_deref(), Some("0-2133421-4"));
    }

    #[test]
    fn two_columns_and_empty_gtid() {
        assert_eq!(parse("mysql-bin.000002\t107\n").gtid, None);
        assert_eq!(parse("mysql-bin.000002\t107\t\n").gtid, None);
        assert_eq!(parse("mysql-bin.000002\t107\t\r\n").position, 107);
    }

    #[test]
    fn multi_line_mysql_gtid_sets_are_joined() {
        let b = parse(
            "mysql-bin.000003\t1232\t3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,\n\
             8c2b1c4e-71ca-11e1-9e33-c80aa9429562:1-3\n",
        );
        assert_eq!(
            b.gtid.as_deref(),
            Some(
                "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,8c2b1c4e-71ca-11e1-9e33-c80aa9429562:1-3"
            )
        );
    }

    #[test]
    fn several_binlog_lines_take_the_last() {
        let b = parse("mysql-bin.000001\t4\t[]\nmysql-bin.000002\t400\t0-1-9\n");
        assert_eq!((b.file.as_str(), b.position), ("mysql-bin.000002", 400));
        assert_eq!(b.gtid.as_deref(), Some("0-1-9"));
    }

    #[test]
    fn empty_file_is_none_and_garbage_is_an_error() {
        assert_eq!(BinlogInfo::parse("").unwrap(), None);
        assert_eq!(BinlogInfo::parse("\n\n").unwrap(), None);
        let err = BinlogInfo::parse("mysql-bin.000001\tabc\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "xtrabackup_binlog_info: line 1 is not understood: \"mysql-bin.000001\\tabc\""
        );
        assert!(BinlogInfo::parse("onlyfile\n").is_err());
    }

    #[test]
    fn space_separated_legacy_line() {
        let b = parse("mysql-bin.000001 107\n");
        assert_eq!(b.position, 107);
    }

    #[test]
    fn prepare_output() {
        let stderr = "[00] 2025-01-02 03:04:05 Starting InnoDB instance for recovery.\n\
                      [00] 2025-01-02 03:04:06 Last binlog file ./mysql-bin.000001, position 3259516\n\
                      [00] 2025-01-02 03:04:06 completed OK!\n";
        assert_eq!(
            parse_prepare_binlog(stderr),
            Some(("mysql-bin.000001".to_string(), 3259516))
        );
        assert_eq!(parse_prepare_binlog("nothing here\n"), None);
        let two =
            "Last binlog file ./a.000001, position 4\nLast binlog file ./a.000002, position 5\n";
        assert_eq!(parse_prepare_binlog(two), Some(("a.000002".to_string(), 5)));
    }
}
