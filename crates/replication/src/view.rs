//! The one shape of a cluster's replication status that leaves ferry's server: what the
//! control plane keeps as the latest sample, the `FerryDescribeReplication` action returns
//! (as the members of `<Replication>`), `ferry replication status` prints and `/metrics`
//! exports.
//!
//! [`ReplicationView`] is a flat struct of scalars and its serde form *is* the wire form: the
//! field names in PascalCase are the XML member names, `None` is an absent member, and the
//! values are written as text (numbers, `true`/`false`, the enum names below). The API renders
//! it and the CLI reads it back through serde, so a new field is one edit here (and a line in
//! `docs/rds-api.md`, which a test in `ferry-api` holds it to).
//!
//! Times and the lag are kept to the millisecond, the precision the wire carries, so what the
//! CLI reads back equals what the control plane stored.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::monitor::{LagSource, Sample};
use crate::status::ThreadState;

/// The latest replication sample of one cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicationView {
    /// When the sample was taken (UTC, millisecond precision): `2024-01-31T12:00:00.123Z`.
    #[serde(with = "timestamp")]
    pub sampled_at: OffsetDateTime,
    /// `Master_Host` / `Master_Port` / `Master_User`.
    pub source_host: String,
    pub source_port: u16,
    pub source_user: String,
    /// `Slave_IO_Running`: `Yes`, `No`, `Connecting` or `Preparing`.
    pub io_thread: ThreadState,
    /// `Slave_SQL_Running`.
    pub sql_thread_running: bool,
    /// `None` while the SQL thread is stopped (the column is NULL).
    pub seconds_behind_master: Option<u64>,
    /// The lag ferry measured (see [`ReplicationView::lag_source`]), to the millisecond;
    /// written as seconds with three decimals (`1.250`).
    #[serde(rename = "LagSeconds", with = "seconds", default)]
    pub lag: Option<Duration>,
    /// `heartbeat` (positions sampled on the source) or `seconds_behind_master` (fallback).
    pub lag_source: LagSource,
    /// `Master_Log_File` / `Read_Master_Log_Pos`: how far the IO thread has read.
    pub read_log_file: String,
    pub read_log_position: u64,
    /// `Relay_Master_Log_File` / `Exec_Master_Log_Pos`: how far the SQL thread has executed.
    pub executed_log_file: String,
    pub executed_log_position: u64,
    /// The source's own current position, when ferry could read it.
    pub source_log_file: Option<String>,
    pub source_log_position: Option<u64>,
    /// `Using_Gtid` is `Slave_Pos` or `Current_Pos`.
    pub using_gtid: bool,
    /// `Gtid_IO_Pos`: the GTID position the IO thread has reached (GTID links; `None` when
    /// empty).
    pub gtid_io_pos: Option<String>,
    /// Why the lag is not measured on the source, when it is not.
    pub source_error: Option<String>,
    /// `Master_SSL_Allowed`.
    pub ssl: bool,
    /// `Last_IO_Errno` / `Last_IO_Error` (0 and empty: no error).
    pub last_io_errno: u32,
    pub last_io_error: String,
    /// `Last_SQL_Errno` / `Last_SQL_Error` (0 and empty: no error).
    pub last_sql_errno: u32,
    pub last_sql_error: String,
}

impl ReplicationView {
    /// The view of a sample taken at `sampled_at`; `None` when replication is not configured.
    /// The time and the lag are cut to the millisecond.
    pub fn of(sample: &Sample, sampled_at: OffsetDateTime) -> Option<ReplicationView> {
        let st = sample.status.as_ref()?;
        let (last_io_errno, last_io_error) = st
            .last_io_error
            .as_ref()
            .map_or((0, String::new()), |e| (e.errno, e.message.clone()));
        let (last_sql_errno, last_sql_error) = st
            .last_sql_error
            .as_ref()
            .map_or((0, String::new()), |e| (e.errno, e.message.clone()));
        Some(ReplicationView {
            sampled_at: to_millis(sampled_at),
            source_host: st.master_host.clone(),
            source_port: st.master_port,
            source_user: st.master_user.clone(),
            io_thread: st.io_running,
            sql_thread_running: st.sql_running,
            seconds_behind_master: st.seconds_behind_master,
            lag: sample.lag.map(round_to_millis),
            lag_source: sample.lag_source,
            read_log_file: st.master_log_file.clone(),
            read_log_position: st.read_master_log_pos,
            executed_log_file: st.relay_master_log_file.clone(),
            executed_log_position: st.exec_master_log_pos,
            source_log_file: sample
                .source_position
                .as_ref()
                .map(|p| p.coord.file.clone()),
            source_log_position: sample.source_position.as_ref().map(|p| p.coord.pos),
            using_gtid: st.using_gtid.is_gtid(),
            gtid_io_pos: Some(st.gtid_io_pos.clone()).filter(|g| !g.is_empty()),
            source_error: sample.source_error.clone(),
            ssl: st.master_ssl_allowed,
            last_io_errno,
            last_io_error,
            last_sql_errno,
            last_sql_error,
        })
    }
}

/// `t` without its sub-millisecond part.
fn to_millis(t: OffsetDateTime) -> OffsetDateTime {
    t - time::Duration::nanoseconds(i64::from(t.nanosecond() % 1_000_000))
}

/// `d` to the nearest millisecond.
fn round_to_millis(d: Duration) -> Duration {
    let millis = d.as_nanos().saturating_add(500_000) / 1_000_000;
    Duration::from_millis(u64::try_from(millis).unwrap_or(u64::MAX))
}

/// `2024-01-31T12:00:00.123Z`: UTC with milliseconds, as RDS writes timestamps.
mod timestamp {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::format_description::FormatItem;
    use time::macros::format_description;
    use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

    const FORMAT: &[FormatItem<'static>] =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

    pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        let text = t
            .to_offset(UtcOffset::UTC)
            .format(FORMAT)
            .map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let text = String::deserialize(d)?;
        PrimitiveDateTime::parse(&text, FORMAT)
            .map(PrimitiveDateTime::assume_utc)
            .map_err(|e| serde::de::Error::custom(format!("timestamp {text:?}: {e}")))
    }
}

/// An optional duration as seconds with three decimals (`12.034`); `None` is left out.
mod seconds {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&format!("{}.{:03}", d.as_secs(), d.subsec_millis())),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let Some(text) = Option::<String>::deserialize(d)? else {
            return Ok(None);
        };
        match text.parse::<f64>() {
            Ok(seconds) if seconds.is_finite() && seconds >= 0.0 => Ok(Some(
                Duration::from_millis((seconds * 1000.0).round() as u64),
            )),
            _ => Err(serde::de::Error::custom(format!(
                "{text:?} is not a number of seconds"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::source::{BinlogCoord, SourcePosition};
    use crate::status::ReplicaStatus;

    /// A GTID replica whose SQL thread stopped on an error, the IO thread retrying.
    fn broken_status() -> ReplicaStatus {
        let fields: Vec<(String, Option<String>)> = [
            ("Master_Host", Some("source.example")),
            ("Master_Port", Some("3307")),
            ("Master_User", Some("repl")),
            ("Slave_IO_Running", Some("Connecting")),
            ("Slave_SQL_Running", Some("No")),
            ("Slave_IO_State", Some("")),
            ("Seconds_Behind_Master", None),
            ("Connect_Retry", Some("60")),
            ("Master_Log_File", Some("bin.000003")),
            ("Read_Master_Log_Pos", Some("900")),
            ("Relay_Master_Log_File", Some("bin.000002")),
            ("Exec_Master_Log_Pos", Some("400")),
            ("Last_IO_Errno", Some("2003")),
            ("Last_IO_Error", Some("error reconnecting to master")),
            ("Last_SQL_Errno", Some("1062")),
            ("Last_SQL_Error", Some("Duplicate entry '1'")),
            ("Skip_Counter", Some("0")),
            ("Master_SSL_Allowed", Some("Yes")),
            ("Master_SSL_CA_File", Some("")),
            ("Master_SSL_Cert", Some("")),
            ("Master_SSL_Key", Some("")),
            ("Master_SSL_Verify_Server_Cert", Some("No")),
            ("Master_Server_Id", Some("1")),
            ("Using_Gtid", Some("Slave_Pos")),
            ("Gtid_IO_Pos", Some("0-1-42")),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.map(str::to_owned)))
        .collect();
        ReplicaStatus::from_fields(&fields)
            .expect("parses")
            .expect("configured")
    }

    #[test]
    fn a_sample_becomes_its_view() {
        let sample = Sample {
            status: Some(broken_status()),
            lag: Some(Duration::from_micros(2_345_600)),
            lag_source: LagSource::Heartbeat,
            executed: Some(BinlogCoord::new("bin.000002", 400)),
            source_position: Some(SourcePosition {
                coord: BinlogCoord::new("bin.000004", 120),
                gtid: Some("0-1-50".into()),
            }),
            source_error: None,
        };
        let view = ReplicationView::of(&sample, datetime!(2024-01-31 12:00:00.123456 UTC))
            .expect("configured");
        assert_eq!(
            view,
            ReplicationView {
                sampled_at: datetime!(2024-01-31 12:00:00.123 UTC),
                source_host: "source.example".into(),
                source_port: 3307,
                source_user: "repl".into(),
                io_thread: ThreadState::Connecting,
                sql_thread_running: false,
                seconds_behind_master: None,
                lag: Some(Duration::from_millis(2346)),
                lag_source: LagSource::Heartbeat,
                read_log_file: "bin.000003".into(),
                read_log_position: 900,
                executed_log_file: "bin.000002".into(),
                executed_log_position: 400,
                source_log_file: Some("bin.000004".into()),
                source_log_position: Some(120),
                using_gtid: true,
                gtid_io_pos: Some("0-1-42".into()),
                source_error: None,
                ssl: true,
                last_io_errno: 2003,
                last_io_error: "error reconnecting to master".into(),
                last_sql_errno: 1062,
                last_sql_error: "Duplicate entry '1'".into(),
            }
        );
        let unconfigured = Sample {
            status: None,
            ..sample
        };
        assert_eq!(
            ReplicationView::of(&unconfigured, OffsetDateTime::UNIX_EPOCH),
            None
        );
    }

    #[test]
    fn times_and_lags_keep_milliseconds() {
        assert_eq!(
            to_millis(datetime!(2024-01-31 12:00:00.999999 +02:00)),
            datetime!(2024-01-31 12:00:00.999 +02:00)
        );
        assert_eq!(
            round_to_millis(Duration::from_micros(1_499)),
            Duration::from_millis(1)
        );
        assert_eq!(
            round_to_millis(Duration::from_micros(1_500)),
            Duration::from_millis(2)
        );
        assert_eq!(round_to_millis(Duration::ZERO), Duration::ZERO);
    }
}
