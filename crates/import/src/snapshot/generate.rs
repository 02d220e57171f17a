//! The snapshot as mysqldump-format text.
//!
//! Reader tasks (one per snapshot connection) take the base tables in order, each streaming
//! its table (`SHOW CREATE TABLE`, the rows as extended INSERTs, the table's triggers) into
//! a bounded queue of its own; the writer goes through the tables in order, taking each
//! table's queue as it comes, and writes everything else (header, databases, views,
//! routines, events) from the control connection. At most `connections` tables are in
//! flight, each holding at most `queue_statements` statements.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use ferry_replication::source::SourceEndpoint;
use mysql_async::prelude::Queryable as _;
use mysql_async::{Conn, Row, Value};
use tokio::sync::{mpsc, oneshot};

use super::catalog::TableKind;
use super::pipe::PipeWriter;
use super::value::{quote_ident, write_quoted, write_value, Style};
use super::{query_error, Generated, Method, SnapshotError, SnapshotOptions, Taken};

/// What a reader sends the writer for one table.
enum Piece {
    Bytes(Vec<u8>),
    End { rows: u64 },
    Failed(SnapshotError),
}

type Slot = oneshot::Sender<mpsc::Receiver<Piece>>;

/// Writes the whole text into `writer`, then closes it: with the end, or with the error.
pub(crate) async fn generate(
    source: &SourceEndpoint,
    taken: Taken,
    opts: &SnapshotOptions,
    writer: PipeWriter,
) -> Result<Generated, SnapshotError> {
    let result = run(source, taken, opts, &writer).await;
    match &result {
        Ok(_) => writer.finish(),
        Err(SnapshotError::ReaderGone) => drop(writer),
        Err(e) => writer.fail(e.to_string()),
    }
    result
}

struct Out<'a> {
    writer: &'a PipeWriter,
    bytes: u64,
}

impl Out<'_> {
    async fn put(&mut self, chunk: Vec<u8>) -> Result<(), SnapshotError> {
        self.bytes += chunk.len() as u64;
        self.writer.write(chunk).await?;
        Ok(())
    }
    async fn text(&mut self, s: String) -> Result<(), SnapshotError> {
        self.put(s.into_bytes()).await
    }
}

async fn run(
    source: &SourceEndpoint,
    taken: Taken,
    opts: &SnapshotOptions,
    writer: &PipeWriter,
) -> Result<Generated, SnapshotError> {
    let Taken {
        mut control,
        readers,
        position,
        method,
        catalog,
        version,
    } = taken;
    let mut tables: Vec<(String, String)> = Vec::new();
    for db in &catalog.databases {
        for t in &db.tables {
            match t.kind {
                TableKind::Base => {
                    if !t
                        .engine
                        .as_deref()
                        .is_some_and(|e| e.eq_ignore_ascii_case("InnoDB"))
                    {
                        tracing::warn!(
                            "table `{}`.`{}` uses the {} engine: its copy is not transactional, writes during the copy may be missing or doubled",
                            db.name,
                            t.name,
                            t.engine.as_deref().unwrap_or("unknown")
                        );
                    }
                    tables.push((db.name.clone(), t.name.clone()));
                }
                TableKind::Sequence => tracing::warn!(
                    "`{}`.`{}` is a sequence: not copied (create it on the cluster before the cutover)",
                    db.name,
                    t.name
                ),
                TableKind::View => {}
            }
        }
    }

    // The handoff: table i's queue goes to the writer through slot i.
    let tables = Arc::new(tables);
    let (slots, queues): (Vec<Option<Slot>>, Vec<oneshot::Receiver<_>>) = tables
        .iter()
        .map(|_| {
            let (tx, rx) = oneshot::channel();
            (Some(tx), rx)
        })
        .unzip();
    let slots = Arc::new(Mutex::new(slots));
    let next = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = readers
        .into_iter()
        .map(|conn| {
            tokio::spawn(read_tables(
                conn,
                Reading {
                    source: source.clone(),
                    tables: tables.clone(),
                    next: next.clone(),
                    slots: slots.clone(),
                    statement_bytes: opts.statement_bytes.max(1),
                    queue: opts.queue_statements.max(1),
                },
            ))
        })
        .collect();
    drop(slots);
    let mut aborter = AbortOnDrop(tasks.iter().map(|t| t.abort_handle()).collect());
    let mut queues = queues.into_iter();

    let mut out = Out { writer, bytes: 0 };
    let mut done = Generated::default();
    out.text(header(source, &version, method, &position))
        .await?;
    for db in &catalog.databases {
        let dbq = quote_ident(&db.name);
        let sql = format!("SHOW CREATE DATABASE {dbq}");
        let row: Option<(Vec<u8>, Vec<u8>)> = control
            .query_first(&sql)
            .await
            .map_err(query_error(source, &sql))?;
        let create = row.map(|r| r.1).unwrap_or_default();
        let create = String::from_utf8_lossy(&create).replacen(
            "CREATE DATABASE ",
            "CREATE DATABASE /*!32312 IF NOT EXISTS*/ ",
            1,
        );
        out.text(format!(
            "\n--\n-- Current Database: {dbq}\n--\n\n{create};\n\nUSE {dbq};\n"
        ))
        .await?;
        for t in db.tables.iter().filter(|t| t.kind == TableKind::Base) {
            let queue = queues.next().ok_or_else(|| {
                SnapshotError::Thread(format!("no queue for table `{}`.`{}`", db.name, t.name))
            })?;
            let mut rx = queue.await.map_err(|_| {
                SnapshotError::Thread(format!("no reader took table `{}`.`{}`", db.name, t.name))
            })?;
            loop {
                match rx.recv().await {
                    Some(Piece::Bytes(b)) => out.put(b).await?,
                    Some(Piece::End { rows }) => {
                        done.rows += rows;
                        done.tables += 1;
                        break;
                    }
                    Some(Piece::Failed(e)) => return Err(e),
                    None => {
                        return Err(SnapshotError::Thread(format!(
                            "the reader of table `{}`.`{}` stopped",
                            db.name, t.name
                        )))
                    }
                }
            }
        }
        let views: Vec<&str> = db
            .tables
            .iter()
            .filter(|t| t.kind == TableKind::View)
            .map(|t| t.name.as_str())
            .collect();
        for v in &views {
            out.text(view_placeholder(&mut control, source, &db.name, v).await?)
                .await?;
        }
        out.text(events(&mut control, source, &db.name).await?)
            .await?;
        out.text(routines(&mut control, source, &db.name).await?)
            .await?;
    }
    for db in &catalog.databases {
        let views: Vec<&str> = db
            .tables
            .iter()
            .filter(|t| t.kind == TableKind::View)
            .map(|t| t.name.as_str())
            .collect();
        if views.is_empty() {
            continue;
        }
        let dbq = quote_ident(&db.name);
        out.text(format!(
            "\n--\n-- Current Database: {dbq}\n--\n\nUSE {dbq};\n"
        ))
        .await?;
        for v in views {
            out.text(final_view(&mut control, source, &db.name, v).await?)
                .await?;
        }
    }
    out.text(FOOTER.to_owned()).await?;
    // Every table was written: the readers end on their own.
    aborter.0.clear();
    for t in tasks {
        let _ = t.await;
    }
    let _ = control.disconnect().await;
    done.bytes = out.bytes;
    Ok(done)
}

struct AbortOnDrop(Vec<tokio::task::AbortHandle>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

struct Reading {
    source: SourceEndpoint,
    tables: Arc<Vec<(String, String)>>,
    next: Arc<AtomicUsize>,
    slots: Arc<Mutex<Vec<Option<Slot>>>>,
    statement_bytes: usize,
    queue: usize,
}

/// One reader connection: takes the next table until there is none.
async fn read_tables(mut conn: Conn, r: Reading) {
    loop {
        let i = r.next.fetch_add(1, Ordering::SeqCst);
        let Some((db, table)) = r.tables.get(i) else {
            break;
        };
        let slot = r
            .slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)[i]
            .take();
        let (tx, rx) = mpsc::channel(r.queue);
        if slot.is_none_or(|s| s.send(rx).is_err()) {
            break; // the writer is gone
        }
        match read_table(&mut conn, &r, db, table, &tx).await {
            Ok(rows) => {
                if tx.send(Piece::End { rows }).await.is_err() {
                    break;
                }
            }
            Err(SnapshotError::ReaderGone) => break,
            Err(e) => {
                let _ = tx.send(Piece::Failed(e)).await;
                break;
            }
        }
    }
    let _ = conn.disconnect().await;
}

async fn send(tx: &mpsc::Sender<Piece>, bytes: Vec<u8>) -> Result<(), SnapshotError> {
    tx.send(Piece::Bytes(bytes))
        .await
        .map_err(|_| SnapshotError::ReaderGone)
}

/// The table's structure, rows and triggers; returns the rows sent.
async fn read_table(
    conn: &mut Conn,
    r: &Reading,
    db: &str,
    table: &str,
    tx: &mpsc::Sender<Piece>,
) -> Result<u64, SnapshotError> {
    let source = &r.source;
    let tq = quote_ident(table);
    let full = format!("{}.{tq}", quote_ident(db));
    let sql = format!("SHOW CREATE TABLE {full}");
    let create: Option<(Vec<u8>, Vec<u8>)> = conn
        .query_first(&sql)
        .await
        .map_err(query_error(source, &sql))?;
    let create = create.map(|c| c.1).unwrap_or_default();
    let mut head = format!(
        "\n--\n-- Table structure for table {tq}\n--\n\nDROP TABLE IF EXISTS {tq};\n\
         /*!40101 SET @saved_cs_client     = @@character_set_client */;\n\
         /*!40101 SET character_set_client = utf8mb4 */;\n"
    )
    .into_bytes();
    head.extend_from_slice(&create);
    head.extend_from_slice(
        format!(
            ";\n/*!40101 SET character_set_client = @saved_cs_client */;\n\n\
             --\n-- Dumping data for table {tq}\n--\n\n"
        )
        .as_bytes(),
    );
    send(tx, head).await?;

    let columns: Vec<String> = conn
        .exec(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? \
             AND COALESCE(GENERATION_EXPRESSION, '') = '' ORDER BY ORDINAL_POSITION",
            (db, table),
        )
        .await
        .map_err(query_error(source, format!("list the columns of {full}")))?;
    let list = columns
        .iter()
        .map(|c| quote_ident(c))
        .collect::<Vec<_>>()
        .join(",");
    let mut rows = 0u64;
    if !columns.is_empty() {
        let prefix = format!("INSERT INTO {tq} ({list}) VALUES ");
        let sql = format!("SELECT {list} FROM {full}");
        let mut result = conn
            .query_iter(&sql)
            .await
            .map_err(query_error(source, &sql))?;
        let styles: Vec<Style> = result
            .columns_ref()
            .iter()
            .map(|c| Style::of(c.column_type(), c.character_set()))
            .collect();
        let mut stmt: Vec<u8> = Vec::new();
        let read_error = || query_error(source, format!("read the rows of {full}"));
        while let Some(row) = result.next().await.map_err(read_error())? {
            if stmt.is_empty() {
                stmt.reserve(r.statement_bytes + (r.statement_bytes >> 4));
                stmt.extend_from_slice(prefix.as_bytes());
            } else {
                stmt.push(b',');
            }
            write_row(&mut stmt, &styles, &row);
            rows += 1;
            if stmt.len() >= r.statement_bytes {
                stmt.extend_from_slice(b";\n");
                send(tx, std::mem::take(&mut stmt)).await?;
            }
        }
        drop(result);
        if !stmt.is_empty() {
            stmt.extend_from_slice(b";\n");
            send(tx, stmt).await?;
        }
    }

    let triggers: Vec<String> = conn
        .exec(
            "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS \
             WHERE EVENT_OBJECT_SCHEMA = ? AND EVENT_OBJECT_TABLE = ? \
             ORDER BY ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER",
            (db, table),
        )
        .await
        .map_err(query_error(source, format!("list the triggers of {full}")))?;
    for trigger in triggers {
        let what = format!(
            "SHOW CREATE TRIGGER {}.{}",
            quote_ident(db),
            quote_ident(&trigger)
        );
        let row: Option<Row> = conn
            .query_first(&what)
            .await
            .map_err(query_error(source, &what))?;
        let row = row.ok_or_else(|| SnapshotError::Query {
            endpoint: source.to_string(),
            what: what.clone(),
            error: "no row".into(),
        })?;
        let text = text_of(&row, "SQL Original Statement")
            .ok_or_else(|| missing(source, &what, "SQL Original Statement"))?;
        let mut chunk = session_open(&row, "/*!50003", " ;");
        chunk.push_str("DELIMITER ;;\n");
        chunk.push_str(&text);
        chunk.push_str(" ;;\nDELIMITER ;\n");
        chunk.push_str(&session_close("/*!50003", " ;", false));
        send(tx, chunk.into_bytes()).await?;
    }
    Ok(rows)
}

fn write_row(out: &mut Vec<u8>, styles: &[Style], row: &Row) {
    out.push(b'(');
    for (i, style) in styles.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match row.as_ref(i) {
            Some(Value::Bytes(b)) => write_value(out, *style, Some(b.as_slice())),
            Some(Value::NULL) | None => write_value(out, *style, None),
            // The text protocol sends bytes; a typed value (never seen) as its SQL.
            Some(other) => out.extend_from_slice(other.as_sql(false).as_bytes()),
        }
    }
    out.push(b')');
}

fn text_of(row: &Row, column: &str) -> Option<String> {
    let idx = row
        .columns_ref()
        .iter()
        .position(|c| c.name_str() == column)?;
    match row.as_ref(idx)? {
        Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        _ => None,
    }
}

fn missing(source: &SourceEndpoint, what: &str, column: &str) -> SnapshotError {
    SnapshotError::Query {
        endpoint: source.to_string(),
        what: what.to_owned(),
        error: format!(
            "no {column}: the account {} may not read the definition (it needs the object's \
             privileges, e.g. SELECT on mysql.proc for routines or SHOW CREATE ROUTINE)",
            source.user
        ),
    }
}

fn sql_string(s: &str) -> String {
    let mut out = Vec::new();
    write_quoted(&mut out, s.as_bytes());
    String::from_utf8(out).expect("escaping keeps UTF-8")
}

/// mysqldump's `SET`s saving the session and setting the object's character sets (and
/// sql_mode when `row` has one).
fn session_open(row: &Row, comment: &str, end: &str) -> String {
    let cs = text_of(row, "character_set_client").unwrap_or_else(|| "utf8mb4".into());
    let coll = text_of(row, "collation_connection").unwrap_or_else(|| "utf8mb4_general_ci".into());
    let mut s = format!(
        "{comment} SET @saved_cs_client      = @@character_set_client */{end}\n\
         {comment} SET @saved_cs_results     = @@character_set_results */{end}\n\
         {comment} SET @saved_col_connection = @@collation_connection */{end}\n\
         {comment} SET character_set_client  = {cs} */{end}\n\
         {comment} SET character_set_results = {cs} */{end}\n\
         {comment} SET collation_connection  = {coll} */{end}\n"
    );
    if let Some(mode) = text_of(row, "sql_mode") {
        s.push_str(&format!(
            "{comment} SET @saved_sql_mode       = @@sql_mode */{end}\n\
             {comment} SET sql_mode              = {} */{end}\n",
            sql_string(&mode)
        ));
    }
    s
}

fn session_close(comment: &str, end: &str, time_zone: bool) -> String {
    let mut s = String::new();
    if time_zone {
        s.push_str(&format!(
            "{comment} SET time_zone             = @saved_time_zone */{end}\n"
        ));
    }
    s.push_str(&format!(
        "{comment} SET sql_mode              = @saved_sql_mode */{end}\n\
         {comment} SET character_set_client  = @saved_cs_client */{end}\n\
         {comment} SET character_set_results = @saved_cs_results */{end}\n\
         {comment} SET collation_connection  = @saved_col_connection */{end}\n"
    ));
    s
}

/// A view with the view's columns, so views of views can be created in any order (the
/// final definitions come after all data).
async fn view_placeholder(
    conn: &mut Conn,
    source: &SourceEndpoint,
    db: &str,
    view: &str,
) -> Result<String, SnapshotError> {
    let vq = quote_ident(view);
    let columns: Vec<String> = conn
        .exec(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
            (db, view),
        )
        .await
        .map_err(query_error(
            source,
            format!("list the columns of view {}.{vq}", quote_ident(db)),
        ))?;
    let select = if columns.is_empty() {
        " 1".to_owned()
    } else {
        columns
            .iter()
            .map(|c| format!("\n NULL AS {}", quote_ident(c)))
            .collect::<Vec<_>>()
            .join(",")
    };
    Ok(format!(
        "\n--\n-- Temporary table structure for view {vq}\n--\n\n\
         DROP TABLE IF EXISTS {vq};\n/*!50001 DROP VIEW IF EXISTS {vq}*/;\n\
         SET @saved_cs_client     = @@character_set_client;\n\
         SET character_set_client = utf8mb4;\n\
         /*!50001 CREATE VIEW {vq} AS SELECT{select} */;\n\
         SET character_set_client = @saved_cs_client;\n"
    ))
}

async fn final_view(
    conn: &mut Conn,
    source: &SourceEndpoint,
    db: &str,
    view: &str,
) -> Result<String, SnapshotError> {
    let vq = quote_ident(view);
    let what = format!("SHOW CREATE VIEW {}.{vq}", quote_ident(db));
    let row: Row = conn
        .query_first(&what)
        .await
        .map_err(query_error(source, &what))?
        .ok_or_else(|| missing(source, &what, "row"))?;
    let text = text_of(&row, "Create View").ok_or_else(|| missing(source, &what, "Create View"))?;
    Ok(format!(
        "\n--\n-- Final view structure for view {vq}\n--\n\n/*!50001 DROP VIEW IF EXISTS {vq}*/;\n{}{text};\n{}",
        session_open(&row, "/*!50001", ";"),
        session_close("/*!50001", ";", false)
            .lines()
            .filter(|l| !l.contains("sql_mode"))
            .map(|l| format!("{l}\n"))
            .collect::<String>()
    ))
}

async fn events(
    conn: &mut Conn,
    source: &SourceEndpoint,
    db: &str,
) -> Result<String, SnapshotError> {
    let names: Vec<String> = conn
        .exec(
            "SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? \
             ORDER BY EVENT_NAME",
            (db,),
        )
        .await
        .map_err(query_error(source, format!("list the events of `{db}`")))?;
    let mut s = format!("\n--\n-- Dumping events for database '{db}'\n--\n");
    if names.is_empty() {
        return Ok(s);
    }
    s.push_str("/*!50106 SET @save_time_zone= @@TIME_ZONE */ ;\n");
    for name in names {
        let eq = quote_ident(&name);
        let what = format!("SHOW CREATE EVENT {}.{eq}", quote_ident(db));
        let row: Row = conn
            .query_first(&what)
            .await
            .map_err(query_error(source, &what))?
            .ok_or_else(|| missing(source, &what, "row"))?;
        let text =
            text_of(&row, "Create Event").ok_or_else(|| missing(source, &what, "Create Event"))?;
        let tz = text_of(&row, "time_zone").unwrap_or_else(|| "SYSTEM".into());
        s.push_str(&format!(
            "/*!50106 DROP EVENT IF EXISTS {eq} */;\nDELIMITER ;;\n{}\
             /*!50003 SET @saved_time_zone      = @@time_zone */ ;;\n\
             /*!50003 SET time_zone             = {} */ ;;\n{text} ;;\n{}DELIMITER ;\n",
            session_open(&row, "/*!50003", " ;;"),
            sql_string(&tz),
            session_close("/*!50003", " ;;", true)
        ));
    }
    s.push_str("/*!50106 SET TIME_ZONE= @save_time_zone */ ;\n");
    Ok(s)
}

async fn routines(
    conn: &mut Conn,
    source: &SourceEndpoint,
    db: &str,
) -> Result<String, SnapshotError> {
    let names: Vec<(String, String)> = conn
        .exec(
            "SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES \
             WHERE ROUTINE_SCHEMA = ? AND ROUTINE_TYPE IN ('FUNCTION', 'PROCEDURE') \
             ORDER BY ROUTINE_TYPE, ROUTINE_NAME",
            (db,),
        )
        .await
        .map_err(query_error(source, format!("list the routines of `{db}`")))?;
    let mut s = format!("\n--\n-- Dumping routines for database '{db}'\n--\n");
    for (kind, name) in names {
        let rq = quote_ident(&name);
        let what = format!("SHOW CREATE {kind} {}.{rq}", quote_ident(db));
        let row: Row = conn
            .query_first(&what)
            .await
            .map_err(query_error(source, &what))?
            .ok_or_else(|| missing(source, &what, "row"))?;
        let column = if kind == "FUNCTION" {
            "Create Function"
        } else {
            "Create Procedure"
        };
        let text = text_of(&row, column).ok_or_else(|| missing(source, &what, column))?;
        s.push_str(&format!(
            "/*!50003 DROP {kind} IF EXISTS {rq} */;\n{}DELIMITER ;;\n{text} ;;\nDELIMITER ;\n{}",
            session_open(&row, "/*!50003", " ;"),
            session_close("/*!50003", " ;", false)
        ));
    }
    Ok(s)
}

fn header(
    source: &SourceEndpoint,
    version: &str,
    method: Method,
    position: &ferry_replication::source::SourcePosition,
) -> String {
    let how = match method {
        Method::ReadLock => "FLUSH TABLES WITH READ LOCK",
        Method::SnapshotStatus => "Binlog_snapshot_file/position",
    };
    let coord = &position.coord;
    let gtid = position
        .gtid
        .as_ref()
        .map(|g| {
            format!(
                "--\n-- Preferably use GTID to start replication from GTID position:\n\n\
                 -- SET GLOBAL gtid_slave_pos={};\n",
                sql_string(g)
            )
        })
        .unwrap_or_default();
    format!(
        "-- ferry migrate logical: a consistent snapshot of {source}\n\
         -- Server version\t{version}\n\
         -- Coordinates by {how}\n\
         --\n\
         -- Position to start replication or point-in-time recovery from\n--\n\n\
         -- CHANGE MASTER TO MASTER_LOG_FILE={}, MASTER_LOG_POS={};\n\n{gtid}\n\
         /*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n\
         /*!40101 SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS */;\n\
         /*!40101 SET @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION */;\n\
         /*!40101 SET NAMES utf8mb4 */;\n\
         /*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;\n\
         /*!40103 SET TIME_ZONE='+00:00' */;\n\
         /*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;\n\
         /*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;\n\
         /*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;\n\
         /*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */;\n",
        sql_string(&coord.file),
        coord.pos
    )
}

const FOOTER: &str = "/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;\n\n\
/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n\
/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;\n\
/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;\n\
/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;\n\
/*!40101 SET CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS */;\n\
/*!40101 SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION */;\n\
/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;\n\n-- Dump completed\n";
