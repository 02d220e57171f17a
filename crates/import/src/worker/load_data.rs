//! A unit's rows sent as `LOAD DATA LOCAL INFILE` input instead of its INSERT statements.
//!
//! The server then stores each value from its text without parsing every value as SQL (in
//! profiles of MariaDB 10.11 loading mysqldump output, the parser and its per-value items were
//! the largest cost). `ferry_dump::insert_as_load_data` converts only plain INSERTs of
//! literals, decoding every string to its bytes, so the stored values are the literals'.
//!
//! The result must be the one the INSERTs give, so a load counts only when the server took
//! exactly the unit's rows with no warning: LOAD DATA LOCAL turns what would be errors
//! (duplicate keys, bad values) into warnings. Otherwise, or when the unit does not convert,
//! or the session reads strings in a way the conversion does not follow (a multi-byte
//! character set other than UTF-8, `NO_BACKSLASH_ESCAPES`, `ANSI_QUOTES`), the transaction is
//! rolled back and the unit's INSERTs run as written, with their own errors and warnings.
//! A server that refuses LOCAL INFILE turns the path off for the rest of the import.
//!
//! Whatever file name the server asks for, the connection answers with the unit's rows only
//! (a handler set per statement, never a file).
//!
//! The statement runs with `unique_checks = 1` (the session's value is put back after it).
//! With both `unique_checks` and `foreign_key_checks` off, as mysqldump's header sets them,
//! MariaDB 10.11 takes its bulk-insert path for a LOAD DATA into an empty table, and a
//! `SELECT COUNT(*)` of that table from another session at the moment of the first row hangs
//! both statements for good (10.11.19; reproduced with the stock client and a plain file, in a
//! few tries out of 300; not with INSERTs, nor with either check on). Checking uniqueness
//! cannot change the result: a duplicate then fails the load, and the INSERTs run as written.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use futures::StreamExt as _;
use mysql_async::prelude::Queryable as _;
use mysql_async::InfileData;

use super::{Session, Unit, Worker};
use crate::error::{is_connection_lost, server_code};

/// Character sets whose strings the conversion reads as the server does (no multi-byte
/// character holds a backslash byte).
const CHARSETS: [&str; 6] = ["utf8mb4", "utf8mb3", "utf8", "latin1", "ascii", "binary"];

/// Server errors meaning "LOCAL INFILE is not allowed here".
const REFUSED: [u16; 3] = [1148, 3948, 4166];

impl Worker {
    /// Inside the unit's open transaction: loads its rows with LOAD DATA. `Ok(true)`: the rows
    /// are in; `Ok(false)`: nothing is (the transaction was restarted empty), run the INSERTs;
    /// `Err`: the connection was lost.
    pub(super) async fn load_data(
        &self,
        s: &mut Session,
        unit: &Unit,
    ) -> Result<bool, mysql_async::Error> {
        if !self.load_data || self.load_data_refused.load(Ordering::Relaxed) || unit.rows == 0 {
            return Ok(false);
        }
        let charset = match &s.load_charset {
            Some(c) => c.clone(),
            None => {
                let c = session_charset(s).await?;
                s.load_charset = Some(c.clone());
                c
            }
        };
        let Ok(charset) = charset else {
            return Ok(false);
        };
        let Some((sql, input)) = convert(unit, &charset) else {
            return Ok(false);
        };
        s.conn
            .query_drop("SET @ferry_unique_checks = @@unique_checks, unique_checks = 1")
            .await?;
        s.conn.set_infile_handler(async move { Ok(input()) });
        let result = s.conn.query_drop(sql.as_slice()).await;
        let (rows, warnings) = (s.conn.affected_rows(), s.conn.get_warnings());
        if !matches!(&result, Err(e) if is_connection_lost(e)) {
            s.conn
                .query_drop("SET unique_checks = @ferry_unique_checks")
                .await?;
        }
        let outcome = match result {
            Ok(()) => {
                if rows == unit.rows && warnings == 0 {
                    return Ok(true);
                }
                format!("{rows} row(s) of {} with {warnings} warning(s)", unit.rows)
            }
            Err(e) if is_connection_lost(&e) => return Err(e),
            Err(e) => {
                if server_code(&e).is_some_and(|c| REFUSED.contains(&c)) {
                    self.load_data_refused.store(true, Ordering::Relaxed);
                }
                e.to_string()
            }
        };
        tracing::debug!(table = %unit.table, %outcome, "LOAD DATA not taken, running the INSERTs");
        s.conn.query_drop("ROLLBACK").await?;
        s.conn.query_drop("START TRANSACTION").await?;
        Ok(false)
    }
}

/// The session's client character set if the conversion reads strings as the server does.
async fn session_charset(s: &mut Session) -> Result<Result<String, String>, mysql_async::Error> {
    let row: Option<(String, String)> = s
        .conn
        .query_first("SELECT @@character_set_client, @@sql_mode")
        .await?;
    let Some((charset, mode)) = row else {
        return Ok(Err("no session variables".into()));
    };
    let mode = mode.to_ascii_uppercase();
    if mode.contains("NO_BACKSLASH_ESCAPES") || mode.contains("ANSI_QUOTES") {
        return Ok(Err(format!("sql_mode {mode}")));
    }
    if !CHARSETS.contains(&charset.to_ascii_lowercase().as_str()) {
        return Ok(Err(format!("character set {charset}")));
    }
    Ok(Ok(charset))
}

/// The LOAD DATA statement for `unit` and its input, converted statement by statement as it
/// is sent (one statement's rows in memory, not the unit's). `None` when the first statement
/// does not convert; a later one that does not, or names another table or columns, ends the
/// input early, and the row count then tells the load apart from the INSERTs' result.
fn convert(
    unit: &Unit,
    charset: &str,
) -> Option<(Vec<u8>, impl FnOnce() -> InfileData + Send + Sync + 'static)> {
    let mut first = Vec::new();
    let head = ferry_dump::insert_as_load_data(&unit.statements.first()?.sql, &mut first)?;
    let mut sql = b"LOAD DATA LOCAL INFILE 'ferry-import-unit' INTO TABLE ".to_vec();
    sql.extend_from_slice(&head.table);
    sql.extend_from_slice(
        format!(
            " CHARACTER SET {charset} FIELDS TERMINATED BY '\\t' ENCLOSED BY '' ESCAPED BY '\\\\' \
             LINES STARTING BY '' TERMINATED BY '\\n' "
        )
        .as_bytes(),
    );
    sql.extend_from_slice(&head.columns);
    let statements = unit.statements.clone();
    let input = move || {
        let rest = futures::stream::iter(1..statements.len()).map(move |i| {
            let mut data = Vec::with_capacity(statements[i].sql.len());
            match ferry_dump::insert_as_load_data(&statements[i].sql, &mut data) {
                Some(h) if h.table == head.table && h.columns == head.columns => {
                    Some(Bytes::from(data))
                }
                _ => None,
            }
        });
        futures::stream::once(async move { Some(Bytes::from(first)) })
            .chain(rest)
            .take_while(|chunk| std::future::ready(chunk.is_some()))
            .map(|chunk| Ok(chunk.unwrap_or_default()))
            .boxed()
    };
    Some((sql, input))
}
