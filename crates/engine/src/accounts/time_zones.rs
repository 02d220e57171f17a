//! Loading the `mysql.time_zone*` tables from the machine's zoneinfo, as Aurora does for a
//! restored cluster (the source's time zone tables are not carried over; the cluster gets the
//! local operating system's).
//!
//! `mariadb-tzinfo-to-sql` turns the zoneinfo tree into SQL (several MB for a full
//! `/usr/share/zoneinfo`); ferry runs it through the one process module, collects its stdout
//! in memory and sends it over one admin connection in batches of whole statements, with
//! `sql_log_bin = 0` (the tables are this server's local data). The SQL is never logged.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;

use super::{check_failed, disconnect, AdminAccount, Session};
use crate::error::EngineError;
use crate::process::{run_to_completion, OutputStream, ProcessSpec};
use crate::server::RunningServer;
use crate::toolbox::Toolbox;

/// How long the tool may run (it takes well under a second for a full zoneinfo tree).
const TOOL_TIMEOUT: Duration = Duration::from_secs(120);
/// Refuse tool output beyond this (a full tree is ~5 MB): something is wrong with the
/// directory.
const MAX_SQL_BYTES: usize = 256 << 20;
/// Statements are sent in multi-statement batches of about this size (well under the
/// server's default 16 MiB `max_allowed_packet`).
const BATCH_BYTES: usize = 1 << 20;
/// Lines this long may have been split by the output drain; the SQL would be corrupt.
const SPLIT_LINE_BYTES: usize = 8 * 1024;
/// How many of the tool's warnings (files it skipped) are kept for the report.
const MAX_WARNINGS: usize = 50;
/// The zone checked after loading, when the directory has it; it must be UTC+1 in January.
const CHECK_ZONE: &str = "Europe/Paris";

/// What [`load_time_zones`] loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeZoneReport {
    /// Rows in `mysql.time_zone_name` afterwards (zone names, including aliases).
    pub zones: u64,
    /// The tool's warnings, e.g. `Warning: Unable to load '…/leap-seconds.list' as time zone.
    /// Skipping it.` (at most 50).
    pub warnings: Vec<String>,
    pub elapsed: Duration,
}

/// Replaces the server's time zone tables with the zones under `zoneinfo` (usually
/// `/usr/share/zoneinfo`), logging in over the socket as `admin`, then checks that
/// `mysql.time_zone_name` is not empty and that `CONVERT_TZ` resolves a named zone
/// (`Europe/Paris` when present: 12:00 UTC on 2024-01-01 must be 13:00).
pub async fn load_time_zones(
    tb: &Toolbox,
    server: &RunningServer,
    admin: &AdminAccount,
    zoneinfo: &Path,
) -> Result<TimeZoneReport, EngineError> {
    let started = Instant::now();
    match std::fs::metadata(zoneinfo) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(EngineError::InvalidArgument {
                what: "time zone directory",
                reason: format!("{} is not a directory", zoneinfo.display()),
            })
        }
        Err(source) => {
            return Err(EngineError::Io {
                action: "read the time zone directory",
                path: zoneinfo.to_path_buf(),
                source,
            })
        }
    }
    let tool = tb.tzinfo_to_sql()?;
    let (sql, warnings) = run_tool(tool, zoneinfo).await?;

    let opts = server
        .opts(&admin.user, Some(admin.password.expose()))
        .db_name(Some("mysql"));
    let mut conn = mysql_async::Conn::new(opts)
        .await
        .map_err(|source| EngineError::Connect {
            endpoint: server.socket().to_string(),
            user: admin.user.clone(),
            source,
        })?;
    let zones = load_and_check(&mut Session::new(&mut conn).await?, &sql, zoneinfo).await?;
    drop(sql);
    disconnect(conn, server.socket().to_string()).await?;
    let report = TimeZoneReport {
        zones,
        warnings,
        elapsed: started.elapsed(),
    };
    tracing::info!(
        datadir = %server.config().datadir,
        zoneinfo = %zoneinfo.display(),
        zones,
        skipped = report.warnings.len(),
        elapsed_ms = report.elapsed.as_millis() as u64,
        "time zone tables loaded"
    );
    Ok(report)
}

async fn load_and_check(
    session: &mut Session<'_>,
    sql: &str,
    zoneinfo: &Path,
) -> Result<u64, EngineError> {
    session
        .run(
            "SET SESSION sql_log_bin = 0".to_owned(),
            "turn off binary logging for the session",
        )
        .await?;
    for batch in batches(sql, BATCH_BYTES) {
        session
            .run(
                batch.to_owned(),
                "load the time zone tables (mysql.time_zone*)",
            )
            .await?;
    }
    check_loaded(session, zoneinfo).await
}

/// What the tool printed: its SQL, and its warnings (stderr).
#[derive(Default)]
struct Collected {
    sql: String,
    warnings: Vec<String>,
    too_big: bool,
    long_line: bool,
}

async fn run_tool(tool: &Path, zoneinfo: &Path) -> Result<(String, Vec<String>), EngineError> {
    let collected = Arc::new(Mutex::new(Collected::default()));
    let sink = Arc::clone(&collected);
    let spec = ProcessSpec::new(tool)
        // Must come first: never read /etc/mysql or ~/.my.cnf.
        .arg("--no-defaults")
        .arg(zoneinfo)
        .timeout(TOOL_TIMEOUT)
        .on_line(move |stream, line| {
            let mut c = sink.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            match stream {
                OutputStream::Stdout => {
                    if line.len() >= SPLIT_LINE_BYTES {
                        c.long_line = true;
                    }
                    if c.sql.len() + line.len() + 1 > MAX_SQL_BYTES {
                        c.too_big = true;
                    } else if !c.too_big {
                        c.sql.push_str(line);
                        c.sql.push('\n');
                    }
                }
                OutputStream::Stderr => {
                    if c.warnings.len() < MAX_WARNINGS && !line.trim().is_empty() {
                        c.warnings.push(line.to_owned());
                    }
                }
            }
        });
    run_to_completion(spec)
        .await
        .map_err(|source| EngineError::ToolRun {
            path: tool.to_path_buf(),
            source: Box::new(source),
        })?;
    let collected = std::mem::take(
        &mut *collected
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()),
    );
    let unusable = |reason: String| EngineError::InvalidArgument {
        what: "time zone directory",
        reason: format!("{}: {reason}", zoneinfo.display()),
    };
    if collected.too_big {
        return Err(unusable(format!(
            "{} produced more than {} MiB of SQL; is this really a zoneinfo tree?",
            tool.display(),
            MAX_SQL_BYTES >> 20
        )));
    }
    if collected.long_line {
        return Err(unusable(format!(
            "{} printed a line of {SPLIT_LINE_BYTES} bytes or more, which ferry cannot pass on \
             intact",
            tool.display()
        )));
    }
    let complete = collected
        .sql
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .is_some_and(|last| last.trim_end().ends_with(';'));
    if !complete {
        return Err(unusable(format!(
            "the output of {} is empty or ends in the middle of a statement",
            tool.display()
        )));
    }
    if !collected.sql.contains("INSERT INTO time_zone_name") {
        // Checked before touching the server: the SQL starts by emptying the tables.
        return Err(unusable(
            "holds no time zone files the tool could read; the server's tables are unchanged"
                .to_owned(),
        ));
    }
    if collected.sql.lines().any(|l| l.starts_with('\\')) {
        return Err(unusable(format!(
            "{} printed client-only commands (lines starting with `\\`), which ferry cannot \
             send over a connection; use MariaDB 10.11's mariadb-tzinfo-to-sql",
            tool.display()
        )));
    }
    Ok((collected.sql, collected.warnings))
}

/// Cuts `sql` into batches of whole statements of about `target` bytes: a batch ends only
/// after a line ending in `;` (every statement the tool prints ends that way, and none of its
/// lines inside a statement does).
fn batches(sql: &str, target: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    for line in sql.split_inclusive('\n') {
        offset += line.len();
        if offset - start >= target && line.trim_end().ends_with(';') {
            out.push(&sql[start..offset]);
            start = offset;
        }
    }
    if !sql[start..].trim().is_empty() {
        out.push(&sql[start..]);
    }
    out
}

/// Counts the zones and resolves one by name.
async fn check_loaded(session: &mut Session<'_>, zoneinfo: &Path) -> Result<u64, EngineError> {
    let on_error = session.error("count the loaded time zones");
    let zones: Option<u64> = session
        .conn
        .query_first("SELECT COUNT(*) FROM mysql.time_zone_name")
        .await
        .map_err(on_error)?;
    let zones = zones.unwrap_or(0);
    if zones == 0 {
        return Err(EngineError::InvalidArgument {
            what: "time zone directory",
            reason: format!(
                "{} holds no time zone files the tool could load",
                zoneinfo.display()
            ),
        });
    }
    let on_error = session.error("pick a loaded time zone to check");
    let name: Option<String> = session
        .conn
        .exec_first(
            "SELECT Name FROM mysql.time_zone_name ORDER BY Name = ? DESC, Name LIMIT 1",
            (CHECK_ZONE,),
        )
        .await
        .map_err(on_error)?;
    let name = name.unwrap_or_default();
    let on_error = session.error("convert a time with a loaded time zone");
    let converted: Option<Option<String>> = session
        .conn
        .exec_first(
            "SELECT CAST(CONVERT_TZ('2024-01-01 12:00:00', '+00:00', ?) AS CHAR)",
            (name.as_str(),),
        )
        .await
        .map_err(on_error)?;
    let converted = converted.flatten();
    let expected_ok = match converted.as_deref() {
        None => false,
        Some(value) if name == CHECK_ZONE => value == "2024-01-01 13:00:00",
        Some(_) => true,
    };
    if expected_ok {
        return Ok(zones);
    }
    Err(EngineError::Sql {
        endpoint: session.endpoint.clone(),
        action: "check the loaded time zones",
        source: check_failed(format!(
            "CONVERT_TZ('2024-01-01 12:00:00', '+00:00', '{name}') returned {converted:?} \
             after loading {zones} zones"
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_end_only_after_a_statement() {
        let sql = "SET @a=1;\nINSERT INTO t VALUES\n (1)\n,(2)\n;\nSELECT 1;\n";
        assert_eq!(
            batches(sql, 1),
            [
                "SET @a=1;\n",
                "INSERT INTO t VALUES\n (1)\n,(2)\n;\n",
                "SELECT 1;\n"
            ]
        );
        assert_eq!(batches(sql, 1 << 20), [sql]);
        assert_eq!(
            batches(sql, 15),
            [
                "SET @a=1;\nINSERT INTO t VALUES\n (1)\n,(2)\n;\n",
                "SELECT 1;\n"
            ]
        );
        assert!(batches("  \n", 10).is_empty());
        // A statement without a final `;` still goes out, at the end.
        assert_eq!(batches("SELECT 1", 1), ["SELECT 1"]);
    }
}
