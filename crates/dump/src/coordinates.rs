//! The replication coordinates a dump carries: what `--master-data` (binlog file and
//! position of the dumped server), `--dump-slave` (those of its source, from
//! `SHOW SLAVE STATUS`) and `--gtid` (`gtid_slave_pos`) wrote, as comments (`=2`) or as
//! statements (`=1`). mariadb-dump 10.11 writes, e.g. for `--master-data=2 --gtid`:
//!
//! ```text
//! -- Alternately, following is the position of the binary logging from SHOW MASTER STATUS ...
//! -- CHANGE MASTER TO MASTER_LOG_FILE='src-bin.000001', MASTER_LOG_POS=23000;
//! ...
//! -- The deferred gtid setting for slave corresponding to the master-data CHANGE-MASTER follows
//! -- Preferably use GTID to start replication from GTID position:
//! -- SET GLOBAL gtid_slave_pos='0-1-32';
//! ```
//!
//! and for `--dump-slave` the preamble names `SHOW SLAVE STATUS` / `dump-slave` and the
//! statements read `CHANGE MASTER '' TO ...`. Older versions and MySQL's mysqldump write
//! `-- Position to start replication or point-in-time recovery from [(the master of this
//! slave)]` and `-- GTID to start replication from`.

use crate::classify::{classify, SetValue};
use crate::tokens::{unquote, Lexer, Tok};
use crate::{Kind, Version};

/// What `--master-data` / `--dump-slave` / `--gtid` said, the last value of each seen.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coordinates {
    /// Binary log file name.
    pub file: Option<String>,
    /// Position in `file`.
    pub position: Option<u64>,
    /// MariaDB GTID position (`gtid_slave_pos`).
    pub gtid: Option<String>,
    /// The coordinates are those of the dumped server's own source (`--dump-slave`), not of
    /// the dumped server.
    pub of_source_of_source: bool,
}

impl Coordinates {
    /// Whether the dump said anything.
    pub fn is_empty(&self) -> bool {
        self.file.is_none() && self.position.is_none() && self.gtid.is_none()
    }
}

/// `binlog src-bin.000001:23000, GTID 0-1-32`, with ` (of the dumped server's source)` for
/// `--dump-slave`; `none` when the dump said nothing.
impl std::fmt::Display for Coordinates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        match (&self.file, self.position) {
            (Some(file), Some(pos)) => parts.push(format!("binlog {file}:{pos}")),
            (Some(file), None) => parts.push(format!("binlog {file}")),
            (None, Some(pos)) => parts.push(format!("binlog position {pos}")),
            (None, None) => {}
        }
        if let Some(gtid) = &self.gtid {
            parts.push(format!("GTID {gtid}"));
        }
        if parts.is_empty() {
            return f.write_str("none");
        }
        f.write_str(&parts.join(", "))?;
        if self.of_source_of_source {
            f.write_str(" (of the dumped server's source)")?;
        }
        Ok(())
    }
}

/// Follows the comments that say whose coordinates come next.
#[derive(Default)]
pub(crate) struct CommentContext {
    slave: bool,
}

impl CommentContext {
    /// A `--` or `#` comment's text (after the dashes).
    pub fn observe_comment(&mut self, text: &[u8], target: Version, coords: &mut Coordinates) {
        let t = trim(text);
        if starts_with_ci(t, b"CHANGE MASTER") {
            self.observe_change_master(t, target, coords);
        } else if starts_with_ci(t, b"SET ") {
            let c = classify(t, target, false);
            if matches!(c.kind, Kind::Set { .. }) {
                self.observe_set(&c.assignments, coords);
            }
        } else if contains_ci(t, b"dump-slave")
            || contains_ci(t, b"SHOW SLAVE STATUS")
            || contains_ci(t, b"master of this slave")
        {
            self.slave = true;
        } else if contains_ci(t, b"master-data")
            || contains_ci(t, b"SHOW MASTER STATUS")
            || contains_ci(t, b"Position to start replication or point-in-time")
        {
            self.slave = false;
        }
    }

    /// `SET [GLOBAL] gtid_slave_pos = '...'`, commented or not.
    pub fn observe_set(&mut self, assignments: &[(String, SetValue)], coords: &mut Coordinates) {
        for (name, value) in assignments {
            if name == "gtid_slave_pos" {
                if let SetValue::Str(gtid) = value {
                    coords.gtid = Some(gtid.clone());
                    coords.of_source_of_source = self.slave;
                }
            }
        }
    }

    /// `CHANGE MASTER ['name'] TO MASTER_LOG_FILE='f', MASTER_LOG_POS=n, ...`, commented or
    /// not; other options are ignored.
    pub fn observe_change_master(&mut self, sql: &[u8], target: Version, coords: &mut Coordinates) {
        let lx = Lexer::new(sql, target, false);
        let toks: Vec<_> = lx.take(4096).collect();
        let lx = Lexer::new(sql, target, false);
        let text = |i: usize| toks.get(i).map(|t| lx.text(*t));
        let mut seen = false;
        for i in 0..toks.len() {
            let Some(name) = text(i) else { break };
            if toks[i].tok != Tok::Word || text(i + 1) != Some(b"=") {
                continue;
            }
            let Some(v) = toks.get(i + 2) else { break };
            if name.eq_ignore_ascii_case(b"MASTER_LOG_FILE") && v.tok == Tok::Str {
                coords.file = Some(unquote(lx.text(*v), false));
                seen = true;
            } else if name.eq_ignore_ascii_case(b"MASTER_LOG_POS") && v.tok == Tok::Word {
                if let Some(pos) = std::str::from_utf8(lx.text(*v))
                    .ok()
                    .and_then(|s| s.parse().ok())
                {
                    coords.position = Some(pos);
                    seen = true;
                }
            }
        }
        if seen {
            coords.of_source_of_source = self.slave;
        }
    }
}

fn trim(t: &[u8]) -> &[u8] {
    let start = t
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(t.len());
    let end = t
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &t[start..end]
}

fn starts_with_ci(t: &[u8], p: &[u8]) -> bool {
    t.len() >= p.len() && t[..p.len()].eq_ignore_ascii_case(p)
}

fn contains_ci(t: &[u8], p: &[u8]) -> bool {
    t.windows(p.len()).any(|w| w.eq_ignore_ascii_case(p))
}
