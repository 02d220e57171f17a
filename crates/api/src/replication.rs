//! ferry's own actions beside RDS's, for replication (RDS has no API for an external
//! source's replication: its users type SQL). They use the same Query protocol, SigV4 and
//! authorization as the RDS actions; `ferry replication status|cutover` call them.
//!
//! - `FerryDescribeReplication` (`DBClusterIdentifier`): the cluster's latest replication
//!   sample (`<Replication>`), or no element when the cluster is not replicating.
//! - `FerryCutover` (`DBClusterIdentifier`, `SourceLogFile`, `SourceLogPosition`, optional
//!   `SourceGtid`, `TimeoutSeconds` default 300): waits until the cluster has executed the
//!   source up to that position, stops replication, returns the executed coordinates.
//!
//! Also `/metrics`: the Prometheus text format of every replicating cluster's sample.

use std::fmt::Write as _;
use std::time::Duration;

use ferry_control::model::ClusterId;
use ferry_control::replication::ReplicationView;
use ferry_control::ControlPlane;
use ferry_replication::source::{BinlogCoord, SourcePosition};

use crate::error::ApiError;
use crate::xml::XmlWriter;

/// The longest a cutover request may wait.
pub const MAX_CUTOVER_TIMEOUT: Duration = Duration::from_secs(3600);
const DEFAULT_CUTOVER_TIMEOUT: Duration = Duration::from_secs(300);

/// The cluster named by `DBClusterIdentifier`, which must exist.
fn existing_cluster(cp: &ControlPlane, raw: &str) -> Result<ClusterId, ApiError> {
    let page = cp.describe_db_clusters(Some(raw), &Default::default(), 1, None)?;
    page.items
        .into_iter()
        .next()
        .map(|v| v.cluster.id)
        .ok_or_else(|| ApiError::from(ferry_control::ControlError::ClusterNotFound(raw.into())))
}

pub(crate) fn describe(cp: &ControlPlane, raw: &str) -> Result<Option<ReplicationView>, ApiError> {
    let id = existing_cluster(cp, raw)?;
    Ok(cp.replication_view(&id))
}

pub(crate) fn write_view(w: &mut XmlWriter, v: &ReplicationView) {
    w.start("Replication");
    w.time_elem("SampledAt", v.sampled_at);
    w.elem("SourceHost", &v.source_host);
    w.elem("SourcePort", v.source_port);
    w.elem("SourceUser", &v.source_user);
    w.elem("IoThread", &v.io_state);
    w.bool_elem("SqlThreadRunning", v.sql_running);
    w.opt_elem("SecondsBehindMaster", v.seconds_behind_master);
    w.opt_elem("LagSeconds", v.lag_seconds.map(|s| format!("{s:.3}")));
    w.elem("LagSource", &v.lag_source);
    w.elem("ReadLogFile", &v.read_file);
    w.elem("ReadLogPosition", v.read_position);
    w.elem("ExecutedLogFile", &v.executed_file);
    w.elem("ExecutedLogPosition", v.executed_position);
    w.opt_elem("SourceLogFile", v.source_file.as_deref());
    w.opt_elem("SourceLogPosition", v.source_position);
    w.bool_elem("UsingGtid", v.using_gtid);
    w.opt_elem("GtidIoPos", v.gtid_io_pos.as_deref());
    w.opt_elem("SourceError", v.source_error.as_deref());
    w.bool_elem("Ssl", v.ssl);
    w.elem("LastIoErrno", v.last_io_errno);
    w.elem("LastIoError", &v.last_io_error);
    w.elem("LastSqlErrno", v.last_sql_errno);
    w.elem("LastSqlError", &v.last_sql_error);
    w.end();
}

/// A validated `FerryCutover` request.
pub(crate) struct CutoverRequest {
    pub cluster: ClusterId,
    pub target: SourcePosition,
    pub timeout: Duration,
}

pub(crate) fn cutover_request(
    cp: &ControlPlane,
    params: &crate::params::Params,
) -> Result<CutoverRequest, ApiError> {
    let cluster = existing_cluster(cp, params.required("DBClusterIdentifier")?)?;
    let file = params.required("SourceLogFile")?;
    if file.is_empty() || file.len() > 255 || file.chars().any(char::is_control) {
        return Err(ApiError::invalid_value(format!(
            "SourceLogFile {file:?} is not a binary log file name"
        )));
    }
    let pos = params
        .i64("SourceLogPosition")?
        .ok_or_else(|| ApiError::from(crate::params::ParamError::missing("SourceLogPosition")))?;
    let pos = u64::try_from(pos).map_err(|_| {
        ApiError::invalid_value(format!("SourceLogPosition {pos} must not be negative"))
    })?;
    let gtid = params
        .get("SourceGtid")
        .filter(|g| !g.is_empty())
        .map(str::to_owned);
    let timeout = match params.i64("TimeoutSeconds")? {
        None => DEFAULT_CUTOVER_TIMEOUT,
        Some(s) if s >= 1 && (s as u64) <= MAX_CUTOVER_TIMEOUT.as_secs() => {
            Duration::from_secs(s as u64)
        }
        Some(s) => {
            return Err(ApiError::invalid_value(format!(
                "TimeoutSeconds {s} must be between 1 and {}",
                MAX_CUTOVER_TIMEOUT.as_secs()
            )))
        }
    };
    Ok(CutoverRequest {
        cluster,
        target: SourcePosition {
            coord: BinlogCoord {
                file: file.to_owned(),
                pos,
            },
            gtid,
        },
        timeout,
    })
}

/// Prometheus text exposition of every replicating cluster.
pub fn metrics(cp: &ControlPlane) -> String {
    let views = cp.replication_views();
    let mut out = String::new();
    let mut family = |name: &str, help: &str, value: &dyn Fn(&ReplicationView) -> Option<f64>| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} gauge");
        for (id, v) in &views {
            if let Some(x) = value(v) {
                let _ = writeln!(out, "{name}{{cluster=\"{}\"}} {x}", label(id.as_str()));
            }
        }
    };
    family(
        "ferry_replica_lag_seconds",
        "Replication lag measured by ferry (source positions sampled over time; Seconds_Behind_Master when the source cannot be read).",
        &|v| v.lag_seconds,
    );
    family(
        "ferry_replica_seconds_behind_master",
        "Seconds_Behind_Master as the replica reports it (absent while the SQL thread is stopped).",
        &|v| v.seconds_behind_master.map(|s| s as f64),
    );
    family(
        "ferry_replica_io_thread_running",
        "1 when the replica's IO thread is connected to the source (Slave_IO_Running: Yes), 0.5 while connecting or registering, 0 when stopped.",
        &|v| {
            Some(match v.io_state.as_str() {
                "Yes" => 1.0,
                "Connecting" | "Preparing" => 0.5,
                _ => 0.0,
            })
        },
    );
    family(
        "ferry_replica_sql_thread_running",
        "1 when the replica's SQL thread is running (Slave_SQL_Running: Yes).",
        &|v| Some(if v.sql_running { 1.0 } else { 0.0 }),
    );
    family(
        "ferry_replica_last_io_errno",
        "Last_IO_Errno of the replica (0: no error).",
        &|v| Some(f64::from(v.last_io_errno)),
    );
    family(
        "ferry_replica_last_sql_errno",
        "Last_SQL_Errno of the replica (0: no error).",
        &|v| Some(f64::from(v.last_sql_errno)),
    );
    out
}

/// A label value with `\`, `"` and line feeds escaped (identifiers never have them, but the
/// format requires it).
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

pub(crate) fn write_cutover(w: &mut XmlWriter, o: &ferry_replication::cutover::CutoverOutcome) {
    w.elem("ExecutedLogFile", &o.executed.file);
    w.elem("ExecutedLogPosition", o.executed.pos);
    w.opt_elem("ExecutedGtid", o.gtid.as_deref());
    w.elem(
        "WaitMethod",
        match o.method {
            ferry_replication::cutover::WaitMethod::Gtid => "gtid",
            ferry_replication::cutover::WaitMethod::Position => "position",
        },
    );
    w.elem("WaitedSeconds", format!("{:.3}", o.waited.as_secs_f64()));
}
