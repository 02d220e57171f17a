//! `SHOW SLAVE STATUS` as a typed value.
//!
//! MariaDB has no SQL-readable replica status table (its `information_schema` has none and
//! `performance_schema.replication_*` does not exist in 10.11), so the agent, the monitor and
//! cutover all read the statement's one row. Columns are found by name, never by position:
//! their order and number change between MariaDB releases (10.11 has 58 of them, MySQL's
//! `SHOW REPLICA STATUS` renames several).

use mysql_async::prelude::Queryable;

use crate::error::ReplicationError;

/// What `Slave_IO_Running` says about the IO thread (the one that reads the source's binlog).
/// Serialized as the column's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ThreadState {
    /// Connected to the source and reading its binlog.
    Yes,
    /// Not running.
    No,
    /// Running, but not connected: connecting or retrying after a failure (see
    /// [`ReplicaStatus::last_io_error`]).
    Connecting,
    /// Running and connected, still registering with the source (MariaDB's `Preparing`).
    Preparing,
}

impl ThreadState {
    /// Parses the column's text (`Yes`, `No`, `Connecting`, `Preparing`).
    pub fn parse(text: &str) -> Option<ThreadState> {
        match text {
            "Yes" => Some(ThreadState::Yes),
            "No" => Some(ThreadState::No),
            "Connecting" => Some(ThreadState::Connecting),
            "Preparing" => Some(ThreadState::Preparing),
            _ => None,
        }
    }

    /// Whether the thread exists (it may still be trying to connect).
    pub fn is_running(self) -> bool {
        match self {
            ThreadState::Yes | ThreadState::Connecting | ThreadState::Preparing => true,
            ThreadState::No => false,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ThreadState::Yes => "Yes",
            ThreadState::No => "No",
            ThreadState::Connecting => "Connecting",
            ThreadState::Preparing => "Preparing",
        }
    }
}

/// `Using_Gtid`: how the replica positions itself on the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsingGtid {
    /// Binlog file and position (`MASTER_USE_GTID=no`).
    No,
    /// From `gtid_slave_pos` (`MASTER_USE_GTID=slave_pos`), what auto position uses.
    SlavePos,
    /// From `gtid_current_pos`.
    CurrentPos,
}

impl UsingGtid {
    fn parse(text: &str) -> Option<UsingGtid> {
        match text {
            "No" => Some(UsingGtid::No),
            "Slave_Pos" => Some(UsingGtid::SlavePos),
            "Current_Pos" => Some(UsingGtid::CurrentPos),
            _ => None,
        }
    }

    pub fn is_gtid(self) -> bool {
        match self {
            UsingGtid::No => false,
            UsingGtid::SlavePos | UsingGtid::CurrentPos => true,
        }
    }
}

/// One error a replication thread stopped on or is retrying after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadError {
    pub errno: u32,
    pub message: String,
}

impl std::fmt::Display for ThreadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "error {}: {}", self.errno, self.message)
    }
}

/// The replica's state: the row of `SHOW SLAVE STATUS` for the default connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaStatus {
    pub io_running: ThreadState,
    pub sql_running: bool,
    /// `Slave_IO_State`, e.g. `Waiting for master to send event` (empty when stopped).
    pub io_state: String,
    /// `Slave_SQL_Running_State`, e.g. `Slave has read all relay log; waiting for more updates`.
    pub sql_state: String,
    /// `None` when the SQL thread is not running (the column is NULL).
    pub seconds_behind_master: Option<u64>,
    pub master_host: String,
    pub master_port: u16,
    pub master_user: String,
    pub connect_retry: u32,
    /// How far the IO thread has read the source's binlog.
    pub master_log_file: String,
    pub read_master_log_pos: u64,
    /// How far the SQL thread has executed, in the source's coordinates.
    pub relay_master_log_file: String,
    pub exec_master_log_pos: u64,
    pub last_io_error: Option<ThreadError>,
    pub last_sql_error: Option<ThreadError>,
    pub skip_counter: u64,
    pub master_ssl_allowed: bool,
    pub master_ssl_ca_file: String,
    pub master_ssl_cert: String,
    pub master_ssl_key: String,
    pub master_ssl_verify_server_cert: bool,
    /// `Master_Server_Id` (0 until the IO thread has connected once).
    pub master_server_id: u64,
    pub using_gtid: UsingGtid,
    /// `Gtid_IO_Pos`: the GTID position the IO thread has received up to.
    pub gtid_io_pos: String,
}

impl ReplicaStatus {
    /// Both threads running without an error (the IO thread may still be connecting).
    pub fn is_running(&self) -> bool {
        self.io_running.is_running() && self.sql_running
    }

    /// Either thread running.
    pub fn any_running(&self) -> bool {
        self.io_running.is_running() || self.sql_running
    }

    /// The error that is stopping replication, the SQL thread's first (it is the one that
    /// needs `rds_skip_repl_error`), formatted with the thread and errno.
    pub fn error_text(&self) -> Option<String> {
        if let Some(error) = &self.last_sql_error {
            return Some(format!("SQL thread {error}"));
        }
        self.last_io_error
            .as_ref()
            .map(|error| format!("IO thread {error}"))
    }

    /// Builds the status from one row of `SHOW SLAVE STATUS`, by column name. `Ok(None)`
    /// when the row has no source host (a replica reset without `ALL`).
    pub fn from_row(row: &mysql_async::Row) -> Result<Option<ReplicaStatus>, ReplicationError> {
        let fields: Vec<(String, Option<String>)> = row
            .columns_ref()
            .iter()
            .enumerate()
            .map(|(index, column)| {
                let value = match row.as_ref(index) {
                    None | Some(mysql_async::Value::NULL) => None,
                    Some(mysql_async::Value::Bytes(bytes)) => {
                        Some(String::from_utf8_lossy(bytes).into_owned())
                    }
                    // The text protocol sends every value as bytes; anything else is printed.
                    Some(other) => Some(other.as_sql(true).trim_matches('\'').to_owned()),
                };
                (column.name_str().into_owned(), value)
            })
            .collect();
        Self::from_fields(&fields)
    }

    /// Builds the status from `(column name, value)` pairs (`None` = SQL NULL).
    pub fn from_fields(
        fields: &[(String, Option<String>)],
    ) -> Result<Option<ReplicaStatus>, ReplicationError> {
        let columns = Columns { fields };
        let master_host = columns.text("Master_Host")?;
        if master_host.is_empty() {
            return Ok(None);
        }
        let io_text = columns.text("Slave_IO_Running")?;
        let io_running = ThreadState::parse(&io_text).ok_or_else(|| {
            ReplicationError::Unexpected(format!(
                "SHOW SLAVE STATUS has Slave_IO_Running = {io_text:?} (expected Yes, No, \
                 Connecting or Preparing)"
            ))
        })?;
        let gtid_text = columns.text("Using_Gtid")?;
        let using_gtid = UsingGtid::parse(&gtid_text).ok_or_else(|| {
            ReplicationError::Unexpected(format!(
                "SHOW SLAVE STATUS has Using_Gtid = {gtid_text:?} (expected No, Slave_Pos or \
                 Current_Pos)"
            ))
        })?;
        Ok(Some(ReplicaStatus {
            io_running,
            sql_running: columns.yes_no("Slave_SQL_Running")?,
            io_state: columns.text("Slave_IO_State")?,
            sql_state: columns.optional_text("Slave_SQL_Running_State")?,
            seconds_behind_master: columns.number_or_null("Seconds_Behind_Master")?,
            master_port: columns.number("Master_Port")?,
            master_user: columns.text("Master_User")?,
            connect_retry: columns.number("Connect_Retry")?,
            master_log_file: columns.text("Master_Log_File")?,
            read_master_log_pos: columns.number("Read_Master_Log_Pos")?,
            relay_master_log_file: columns.text("Relay_Master_Log_File")?,
            exec_master_log_pos: columns.number("Exec_Master_Log_Pos")?,
            last_io_error: columns.error("Last_IO_Errno", "Last_IO_Error")?,
            last_sql_error: columns.error("Last_SQL_Errno", "Last_SQL_Error")?,
            skip_counter: columns.number("Skip_Counter")?,
            master_ssl_allowed: columns.yes_no("Master_SSL_Allowed")?,
            master_ssl_ca_file: columns.text("Master_SSL_CA_File")?,
            master_ssl_cert: columns.text("Master_SSL_Cert")?,
            master_ssl_key: columns.text("Master_SSL_Key")?,
            master_ssl_verify_server_cert: columns.yes_no("Master_SSL_Verify_Server_Cert")?,
            master_server_id: columns.number("Master_Server_Id")?,
            using_gtid,
            gtid_io_pos: columns.text("Gtid_IO_Pos")?,
            master_host,
        }))
    }
}

/// Reads `SHOW SLAVE STATUS`. `None`: replication is not configured (no row, or a row
/// without a source host). Needs `SLAVE MONITOR` (or `SUPER`).
pub async fn read(conn: &mut mysql_async::Conn) -> Result<Option<ReplicaStatus>, ReplicationError> {
    let row: Option<mysql_async::Row> =
        conn.query_first("SHOW SLAVE STATUS")
            .await
            .map_err(|source| ReplicationError::Replica {
                what: "SHOW SLAVE STATUS".to_owned(),
                source,
            })?;
    match row {
        None => Ok(None),
        Some(row) => ReplicaStatus::from_row(&row),
    }
}

/// Column access by name on one `SHOW SLAVE STATUS` row, with errors that name the column.
struct Columns<'a> {
    fields: &'a [(String, Option<String>)],
}

impl Columns<'_> {
    /// The raw value: `None` for SQL NULL; an error when the column is missing.
    fn raw(&self, name: &str) -> Result<Option<String>, ReplicationError> {
        self.fields
            .iter()
            .find(|(column, _)| column == name)
            .map(|(_, value)| value.clone())
            .ok_or_else(|| {
                ReplicationError::Unexpected(format!(
                    "SHOW SLAVE STATUS has no column {name} (is this MariaDB 10.5 or later?)"
                ))
            })
    }

    fn text(&self, name: &str) -> Result<String, ReplicationError> {
        Ok(self.raw(name)?.unwrap_or_default())
    }

    /// A column older servers lack: empty when missing.
    fn optional_text(&self, name: &str) -> Result<String, ReplicationError> {
        match self.raw(name) {
            Ok(value) => Ok(value.unwrap_or_default()),
            Err(ReplicationError::Unexpected(_)) => Ok(String::new()),
            Err(other) => Err(other),
        }
    }

    fn number_or_null<T: std::str::FromStr>(
        &self,
        name: &str,
    ) -> Result<Option<T>, ReplicationError> {
        match self.raw(name)? {
            None => Ok(None),
            Some(text) if text.is_empty() => Ok(None),
            Some(text) => text.parse().map(Some).map_err(|_| {
                ReplicationError::Unexpected(format!(
                    "SHOW SLAVE STATUS has {name} = {text:?}, not a number"
                ))
            }),
        }
    }

    fn number<T: std::str::FromStr + Default>(&self, name: &str) -> Result<T, ReplicationError> {
        Ok(self.number_or_null(name)?.unwrap_or_default())
    }

    fn yes_no(&self, name: &str) -> Result<bool, ReplicationError> {
        let text = self.text(name)?;
        match text.as_str() {
            "Yes" => Ok(true),
            "No" | "" => Ok(false),
            other => Err(ReplicationError::Unexpected(format!(
                "SHOW SLAVE STATUS has {name} = {other:?} (expected Yes or No)"
            ))),
        }
    }

    /// An error pair: `None` when the errno is 0.
    fn error(&self, errno: &str, message: &str) -> Result<Option<ThreadError>, ReplicationError> {
        let number: u32 = self.number(errno)?;
        if number == 0 {
            return Ok(None);
        }
        Ok(Some(ThreadError {
            errno: number,
            message: self.text(message)?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row as the server sends it, from `(column, value)`; `None` is SQL NULL.
    fn row(fields: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
        fields
            .iter()
            .map(|(name, value)| (name.to_string(), value.map(str::to_owned)))
            .collect()
    }

    /// A running replica's row; the columns come in a different order from the server's.
    fn running() -> Vec<(&'static str, Option<&'static str>)> {
        vec![
            ("Seconds_Behind_Master", Some("3")),
            ("Slave_IO_State", Some("Waiting for master to send event")),
            ("Master_Host", Some("127.0.0.1")),
            ("Master_User", Some("repl")),
            ("Master_Port", Some("3307")),
            ("Connect_Retry", Some("60")),
            ("Master_Log_File", Some("mysql-bin.000002")),
            ("Read_Master_Log_Pos", Some("1234")),
            ("Relay_Master_Log_File", Some("mysql-bin.000002")),
            ("Slave_IO_Running", Some("Yes")),
            ("Slave_SQL_Running", Some("Yes")),
            ("Skip_Counter", Some("0")),
            ("Exec_Master_Log_Pos", Some("1000")),
            ("Master_SSL_Allowed", Some("No")),
            ("Master_SSL_CA_File", Some("")),
            ("Master_SSL_Cert", Some("")),
            ("Master_SSL_Key", Some("")),
            ("Master_SSL_Verify_Server_Cert", Some("No")),
            ("Last_IO_Errno", Some("0")),
            ("Last_IO_Error", Some("")),
            ("Last_SQL_Errno", Some("0")),
            ("Last_SQL_Error", Some("")),
            ("Master_Server_Id", Some("1")),
            ("Using_Gtid", Some("No")),
            ("Gtid_IO_Pos", Some("")),
            (
                "Slave_SQL_Running_State",
                Some("Slave has read all relay log"),
            ),
        ]
    }

    fn with(
        mut fields: Vec<(&'static str, Option<&'static str>)>,
        name: &str,
        value: Option<&'static str>,
    ) -> Vec<(&'static str, Option<&'static str>)> {
        for field in &mut fields {
            if field.0 == name {
                field.1 = value;
            }
        }
        fields
    }

    #[test]
    fn a_running_replica_is_parsed_by_column_name() {
        let status = ReplicaStatus::from_fields(&row(&running()))
            .expect("parses")
            .expect("configured");
        assert_eq!(status.io_running, ThreadState::Yes);
        assert!(status.sql_running && status.is_running());
        assert_eq!(status.seconds_behind_master, Some(3));
        assert_eq!(status.master_port, 3307);
        assert_eq!(
            (
                status.relay_master_log_file.as_str(),
                status.exec_master_log_pos
            ),
            ("mysql-bin.000002", 1000)
        );
        assert_eq!(status.using_gtid, UsingGtid::No);
        assert_eq!(status.error_text(), None);
    }

    #[test]
    fn null_lag_connecting_io_and_errors() {
        let fields = with(running(), "Seconds_Behind_Master", None);
        let fields = with(fields, "Slave_IO_Running", Some("Connecting"));
        let fields = with(fields, "Slave_SQL_Running", Some("No"));
        let fields = with(fields, "Last_SQL_Errno", Some("1062"));
        let fields = with(
            fields,
            "Last_SQL_Error",
            Some("Duplicate entry '1' for key 'PRIMARY'"),
        );
        let fields = with(fields, "Using_Gtid", Some("Slave_Pos"));
        let status = ReplicaStatus::from_fields(&row(&fields))
            .expect("parses")
            .expect("configured");
        assert_eq!(status.seconds_behind_master, None);
        assert_eq!(status.io_running, ThreadState::Connecting);
        assert!(status.io_running.is_running() && !status.is_running());
        assert!(status.using_gtid.is_gtid());
        assert_eq!(
            status.error_text().as_deref(),
            Some("SQL thread error 1062: Duplicate entry '1' for key 'PRIMARY'")
        );
    }

    #[test]
    fn an_empty_host_means_not_configured_and_odd_values_are_errors() {
        let reset = with(running(), "Master_Host", Some(""));
        assert_eq!(
            ReplicaStatus::from_fields(&row(&reset)).expect("parses"),
            None
        );
        let odd = with(running(), "Slave_IO_Running", Some("Maybe"));
        let err = ReplicaStatus::from_fields(&row(&odd)).expect_err("rejected");
        assert!(err.to_string().contains("Slave_IO_Running"), "{err}");
        let missing: Vec<_> = running()
            .into_iter()
            .filter(|(name, _)| *name != "Exec_Master_Log_Pos")
            .collect();
        let err = ReplicaStatus::from_fields(&row(&missing)).expect_err("rejected");
        assert!(err.to_string().contains("Exec_Master_Log_Pos"), "{err}");
    }
}
