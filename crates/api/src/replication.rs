//! ferry's own actions beside RDS's, for replication (RDS has no API for an external
//! source's replication: its users type SQL). They use the same Query protocol, SigV4 and
//! authorization as the RDS actions; `ferry replication status|cutover` call them.
//!
//! - `FerryDescribeReplication` (`DBClusterIdentifier`): the cluster's latest replication
//!   sample (`<Replication>`, the members of `ferry_replication::view::ReplicationView` as its
//!   serde form names them), or no element when the cluster is not replicating.
//! - `FerryCutover` (`DBClusterIdentifier`, `SourceLogFile`, `SourceLogPosition`, optional
//!   `SourceGtid`, `TimeoutSeconds` default 300): waits until the cluster has executed the
//!   source up to that position, stops replication, returns the executed coordinates.
//! - `FerryStartReplication` (`DBClusterIdentifier`, `SourceHost`, `SourcePort` default
//!   3306, `SourceUser`, `SourcePassword`, `SourceLogFile`, `SourceLogPosition`, `SourceSsl`
//!   default false): calls `mysql.rds_set_external_master` then `mysql.rds_start_replication`
//!   on the cluster's writer (what its master user would type), returns their messages
//!   (`<Messages><member>`); a procedure's refusal is `ReplicationRefused` with its text.
//!
//! Also `/metrics`: the Prometheus text format of every replicating cluster's sample.

use std::fmt::Write as _;
use std::time::Duration;

use ferry_control::model::ClusterId;
use ferry_control::service::ExternalSource;
use ferry_control::{ControlPlane, LagPoint};
use ferry_replication::cutover::CutoverOutcome;
use ferry_replication::source::{BinlogCoord, SourcePosition};
use ferry_replication::status::ThreadState;
use ferry_replication::view::ReplicationView;

use crate::error::ApiError;
use crate::rds::Handler;
use crate::xml::XmlWriter;

/// The element `FerryDescribeReplication` returns the sample in.
pub const REPLICATION_ELEMENT: &str = "Replication";

/// The longest a cutover request may wait.
pub const MAX_CUTOVER_TIMEOUT: Duration = Duration::from_secs(3600);
const DEFAULT_CUTOVER_TIMEOUT: Duration = Duration::from_secs(300);

/// A replicating cluster's latest sample and its lag over the samples before it.
pub struct Replication {
    pub view: ReplicationView,
    /// Oldest first, up to [`ferry_control::HISTORY_POINTS`].
    pub history: Vec<LagPoint>,
}

impl Handler<'_> {
    /// `FerryDescribeReplication`: the cluster's latest sample, authorized as
    /// `ferry:DescribeReplication` on the cluster; `None` when it is not replicating.
    pub fn describe_replication(&self) -> Result<Option<ReplicationView>, ApiError> {
        Ok(self.replicating()?.map(|(_, view)| view))
    }

    /// [`Self::describe_replication`] with the lag of the samples before (the console's
    /// chart), under the same authorization.
    pub fn describe_replication_with_history(&self) -> Result<Option<Replication>, ApiError> {
        Ok(self.replicating()?.map(|(id, view)| Replication {
            history: self.cp.replication_history(&id),
            view,
        }))
    }

    /// The authorized cluster's identifier and latest sample, if it is replicating.
    fn replicating(&self) -> Result<Option<(ClusterId, ReplicationView)>, ApiError> {
        let raw = self.params.required("DBClusterIdentifier")?;
        self.authorize_ferry("DescribeReplication", &self.cluster_arn_for(raw))?;
        let id = self.cp.existing_cluster_id(raw)?;
        Ok(self.cp.replication_view(&id).map(|view| (id, view)))
    }

    /// `FerryCutover`: waits until the cluster has executed the source up to the position
    /// asked, then stops replication; authorized as `ferry:Cutover` on the cluster.
    pub async fn cutover(&self) -> Result<CutoverOutcome, ApiError> {
        let raw = self.params.required("DBClusterIdentifier")?;
        self.authorize_ferry("Cutover", &self.cluster_arn_for(raw))?;
        let req = cutover_request(self.cp, self.params)?;
        Ok(self
            .cp
            .cutover(&req.cluster, &req.target, req.timeout)
            .await?)
    }

    /// `FerryStartReplication`, authorized as `ferry:StartReplication` on the cluster.
    pub async fn start_replication(&self) -> Result<Vec<String>, ApiError> {
        let p = self.params;
        let raw = p.required("DBClusterIdentifier")?;
        self.authorize_ferry("StartReplication", &self.cluster_arn_for(raw))?;
        let cluster = self.cp.existing_cluster_id(raw)?;
        let text = |name: &str, max: usize| -> Result<String, ApiError> {
            let v = p.required(name)?;
            if v.is_empty() || v.len() > max || v.chars().any(char::is_control) {
                return Err(ApiError::invalid_value(format!(
                    "{name} must be 1 to {max} characters without control characters"
                )));
            }
            Ok(v.to_owned())
        };
        let port = match p.i64("SourcePort")? {
            None => 3306,
            Some(n @ 1..=65535) => n as u16,
            Some(n) => {
                return Err(ApiError::invalid_value(format!(
                    "SourcePort {n} must be between 1 and 65535"
                )))
            }
        };
        let pos = p.i64("SourceLogPosition")?.ok_or_else(|| {
            ApiError::from(crate::params::ParamError::missing("SourceLogPosition"))
        })?;
        let log_position = u64::try_from(pos).map_err(|_| {
            ApiError::invalid_value(format!("SourceLogPosition {pos} must not be negative"))
        })?;
        let source = ExternalSource {
            host: text("SourceHost", 255)?,
            port,
            user: text("SourceUser", 80)?,
            password: ferry_base::Secret::new(text("SourcePassword", 1024)?),
            log_file: text("SourceLogFile", 255)?,
            log_position,
            ssl: p.bool("SourceSsl")?.unwrap_or(false),
        };
        Ok(self.cp.start_replication(&cluster, &source).await?)
    }
}

pub(crate) fn write_messages(w: &mut XmlWriter, messages: &[String]) {
    w.start("Messages");
    for m in messages {
        w.elem("member", m);
    }
    w.end();
}

pub(crate) fn write_view(w: &mut XmlWriter, members: &[(String, String)]) {
    w.start(REPLICATION_ELEMENT).members(members).end();
}

/// A validated `FerryCutover` request.
struct CutoverRequest {
    cluster: ClusterId,
    target: SourcePosition,
    timeout: Duration,
}

fn cutover_request(
    cp: &ControlPlane,
    params: &crate::params::Params,
) -> Result<CutoverRequest, ApiError> {
    let cluster = cp.existing_cluster_id(params.required("DBClusterIdentifier")?)?;
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
        &|v| v.lag.map(|d| d.as_millis() as f64 / 1000.0),
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
            Some(match v.io_thread {
                ThreadState::Yes => 1.0,
                ThreadState::Connecting | ThreadState::Preparing => 0.5,
                ThreadState::No => 0.0,
            })
        },
    );
    family(
        "ferry_replica_sql_thread_running",
        "1 when the replica's SQL thread is running (Slave_SQL_Running: Yes).",
        &|v| Some(if v.sql_thread_running { 1.0 } else { 0.0 }),
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

pub(crate) fn write_cutover(w: &mut XmlWriter, o: &CutoverOutcome) {
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use ferry_replication::monitor::LagSource;
    use time::macros::datetime;

    use super::*;
    use crate::client::Response;
    use crate::xml;

    /// Every field set, every `Option` `Some`, text that needs escaping.
    fn full() -> ReplicationView {
        ReplicationView {
            sampled_at: datetime!(2024-01-31 12:00:00.123 UTC),
            source_host: "source.example".into(),
            source_port: 3307,
            source_user: "repl".into(),
            io_thread: ThreadState::Connecting,
            sql_thread_running: true,
            seconds_behind_master: Some(7),
            lag: Some(Duration::from_millis(1250)),
            lag_source: LagSource::SecondsBehindMaster,
            read_log_file: "mysql-bin.000003".into(),
            read_log_position: 4_294_967_301,
            executed_log_file: "mysql-bin.000002".into(),
            executed_log_position: 1000,
            source_log_file: Some("mysql-bin.000004".into()),
            source_log_position: Some(120),
            using_gtid: true,
            gtid_io_pos: Some("0-1-42,1-2-7".into()),
            source_error: Some(
                "Access denied for user 'repl'@'%' <no BINLOG MONITOR> & more".into(),
            ),
            ssl: true,
            last_io_errno: 2003,
            last_io_error: "error reconnecting to master 'repl@source:3307'".into(),
            last_sql_errno: 1062,
            last_sql_error: "Duplicate entry '1' for key 'PRIMARY'\nline 2".into(),
        }
    }

    fn response(view: &ReplicationView) -> Response {
        let members = xml::members(view).expect("a flat struct");
        Response {
            xml: xml::response("FerryDescribeReplication", "r", |w| write_view(w, &members)),
        }
    }

    #[test]
    fn a_full_view_survives_the_round_trip_through_xml() {
        let view = full();
        let read: ReplicationView = response(&view)
            .members(REPLICATION_ELEMENT)
            .expect("readable")
            .expect("present");
        assert_eq!(read, view);
        let empty = Response {
            xml: xml::response("FerryDescribeReplication", "r", |_| {}),
        };
        assert_eq!(
            empty
                .members::<ReplicationView>(REPLICATION_ELEMENT)
                .unwrap(),
            None
        );
    }

    #[test]
    fn members_keep_their_documented_names_and_texts() {
        let view = full();
        let r = response(&view);
        let t = |name: &str| r.text(name).unwrap_or_else(|| panic!("no {name}"));
        assert_eq!(t("SampledAt"), xml::timestamp(view.sampled_at));
        assert_eq!(t("SampledAt"), "2024-01-31T12:00:00.123Z");
        assert_eq!(t("IoThread"), "Connecting");
        assert_eq!(t("SqlThreadRunning"), "true");
        assert_eq!(t("SecondsBehindMaster"), "7");
        assert_eq!(t("LagSeconds"), "1.250");
        assert_eq!(t("LagSource"), "seconds_behind_master");
        assert_eq!(t("ReadLogPosition"), "4294967301");
        assert_eq!(t("LastSqlErrno"), "1062");
        let heartbeat = ReplicationView {
            lag: Some(Duration::ZERO),
            lag_source: LagSource::Heartbeat,
            io_thread: ThreadState::Yes,
            ..view.clone()
        };
        let r = response(&heartbeat);
        assert_eq!(r.text("LagSeconds").as_deref(), Some("0.000"));
        assert_eq!(r.text("LagSource").as_deref(), Some("heartbeat"));
        assert_eq!(r.text("IoThread").as_deref(), Some("Yes"));
        // `None` is an absent member.
        let sparse = ReplicationView {
            seconds_behind_master: None,
            lag: None,
            source_log_file: None,
            source_log_position: None,
            gtid_io_pos: None,
            source_error: None,
            ..view.clone()
        };
        let r = response(&sparse);
        for absent in [
            "SecondsBehindMaster",
            "LagSeconds",
            "SourceLogFile",
            "SourceLogPosition",
            "GtidIoPos",
            "SourceError",
        ] {
            assert_eq!(r.text(absent), None, "{absent}");
        }
        assert_eq!(
            r.members::<ReplicationView>(REPLICATION_ELEMENT).unwrap(),
            Some(sparse)
        );

        // The names are the ones docs/rds-api.md lists for the action (values in
        // parentheses left out), no more and no fewer.
        let docs = include_str!("../../../docs/rds-api.md");
        let row = docs
            .lines()
            .find(|l| l.starts_with("| `FerryDescribeReplication`"))
            .expect("docs/rds-api.md documents FerryDescribeReplication");
        let listed = row
            .split_once("Returns `<Replication>`")
            .and_then(|(_, rest)| rest.split_once(':'))
            .and_then(|(_, rest)| rest.split_once(';'))
            .map(|(list, _)| list)
            .expect("the row lists the members after `Returns <Replication>...:`");
        let mut documented = BTreeSet::new();
        let mut depth = 0;
        for (i, part) in listed.split('`').enumerate() {
            depth += part.matches('(').count();
            depth -= part.matches(')').count();
            if i % 2 == 1 && depth == 0 {
                documented.insert(part.to_owned());
            }
        }
        let written: BTreeSet<String> = xml::members(&view)
            .unwrap()
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        assert_eq!(written, documented);
    }
}
