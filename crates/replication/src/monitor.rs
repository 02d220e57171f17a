//! Watching a replicating cluster: its replica status, its true lag, and the moments that
//! deserve an event (replication started, stopped, broke, caught up).
//!
//! `Seconds_Behind_Master` is 0 on an idle link even when the IO thread lost the source, and
//! it jumps after reconnects. So the monitor also connects to the source itself, with the
//! credentials the master user gave `rds_set_external_master` (kept by the agent in
//! [`SourceSecret`], TLS with the imported material when the link uses it, the source's
//! certificate not verified, as the link itself), samples its binlog position into a
//! [`LagTracker`] and compares the replica's executed position
//! (`Relay_Master_Log_File:Exec_Master_Log_Pos`) with it ([`LagSource::Heartbeat`]). When the
//! source cannot be reached, or refuses `SHOW MASTER STATUS` (the replication user needs
//! `BINLOG MONITOR` / `REPLICATION CLIENT` for it), the lag is `Seconds_Behind_Master`
//! ([`LagSource::SecondsBehindMaster`]) and [`Sample::source_error`] says why.
//!
//! The source connection is made lazily, kept between samples, and re-made after a failure
//! no sooner than [`SOURCE_RETRY`] later, so a source that is down does not slow every sample.

use std::time::{Duration, Instant};

use camino::Utf8PathBuf;

use crate::agent::{AgentContext, SourceSecret};
use crate::error::ReplicationError;
use crate::lag::LagTracker;
use crate::source::{self, BinlogCoord, SourceEndpoint, SourcePosition, SourceTls};
use crate::ssl::SslDir;
use crate::status::{self, ReplicaStatus};

/// How long one connection attempt to the source may take during a sample.
pub const SOURCE_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one position read on the source may take.
const SOURCE_QUERY_TIMEOUT: Duration = Duration::from_secs(5);
/// The pause before connecting to the source again after a failure.
pub const SOURCE_RETRY: Duration = Duration::from_secs(10);
/// A lag this large re-arms [`Transition::CaughtUp`] (smaller wobbles on a busy link do not
/// make a new "caught up" event each time).
pub const CAUGHT_UP_REARM: Duration = Duration::from_secs(5);

/// Where a [`Sample`]'s lag comes from. Serialized as `heartbeat` / `seconds_behind_master`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LagSource {
    /// The source's sampled binlog positions against the replica's executed position (the
    /// larger of that and `Seconds_Behind_Master`, unless the replica has executed everything
    /// the source had at its last sample, which is 0).
    Heartbeat,
    /// `Seconds_Behind_Master` alone (NULL when the SQL thread is not running).
    SecondsBehindMaster,
}

/// One observation of a replica.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// `None`: replication is not configured.
    pub status: Option<ReplicaStatus>,
    pub lag: Option<Duration>,
    pub lag_source: LagSource,
    /// The replica's executed position in the source's coordinates.
    pub executed: Option<BinlogCoord>,
    /// The source's position, when it was read in this sample.
    pub source_position: Option<SourcePosition>,
    /// Why the heartbeat is not used, when it is not (source unreachable, no privilege, ...).
    pub source_error: Option<String>,
}

/// A change worth an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// Both threads run without an error (after being stopped or broken).
    Started,
    /// The threads were stopped (not by an error), or replication was reset.
    Stopped,
    /// A thread reports an error: `SQL thread error 1062: Could not execute ...` or
    /// `IO thread error 2003: error reconnecting to master ...`.
    Broke { error: String },
    /// The replica has executed everything the source had (lag 0), for the first time since
    /// it started, or after having been [`CAUGHT_UP_REARM`] behind.
    CaughtUp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Health {
    NotConfigured,
    Stopped,
    Running,
    Broken(String),
}

impl Health {
    fn of(status: Option<&ReplicaStatus>) -> Health {
        match status {
            None => Health::NotConfigured,
            Some(status) => match status.error_text() {
                Some(error) => Health::Broken(error),
                None if status.is_running() => Health::Running,
                None => Health::Stopped,
            },
        }
    }
}

/// The source connection and what it has told.
struct SourceLink {
    secret: SourceSecret,
    conn: Option<mysql_async::Conn>,
    /// No connection attempt or position read before this.
    retry_at: Option<Instant>,
    last_error: Option<String>,
}

/// Watches one cluster server. Call [`Monitor::sample`] periodically (every few seconds).
pub struct Monitor {
    source_secret: Utf8PathBuf,
    ssl: SslDir,
    link: Option<SourceLink>,
    tracker: LagTracker,
    health: Option<Health>,
    caught_up: bool,
}

// Not derived: the source link holds a live connection and the tracker every recent sample;
// which file it reads and the last health say which monitor this is.
impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor")
            .field("source_secret", &self.source_secret)
            .field("health", &self.health)
            .field("samples", &self.tracker.len())
            .finish_non_exhaustive()
    }
}

impl Monitor {
    /// A monitor reading the source credentials and SSL material the agent keeps.
    pub fn new(ctx: &AgentContext) -> Monitor {
        Monitor {
            source_secret: ctx.source_secret.clone(),
            ssl: ctx.ssl.clone(),
            link: None,
            tracker: LagTracker::new(),
            health: None,
            caught_up: false,
        }
    }

    /// Reads the replica's status on `replica` (ferry's admin connection), samples the source,
    /// and reports the lag and the transitions since the previous sample. `now` is the time
    /// of the sample. `Err` only when the replica cannot be read; source trouble is reported
    /// in [`Sample::source_error`].
    pub async fn sample(
        &mut self,
        replica: &mut mysql_async::Conn,
        now: Instant,
    ) -> Result<(Sample, Vec<Transition>), ReplicationError> {
        let status = status::read(replica).await?;
        let executed = status
            .as_ref()
            .map(|s| BinlogCoord::new(s.relay_master_log_file.clone(), s.exec_master_log_pos));
        let mut lag = status.as_ref().and_then(seconds_behind);
        let mut lag_source = LagSource::SecondsBehindMaster;
        let mut source_position = None;
        let mut source_error = None;
        match (&status, &executed) {
            (Some(status), Some(executed)) => match self.sample_source(status, now).await {
                Ok(position) => {
                    source_position = Some(position);
                    if let Some(heartbeat) =
                        heartbeat_lag(&self.tracker, now, executed, seconds_behind(status))
                    {
                        lag = Some(heartbeat);
                        lag_source = LagSource::Heartbeat;
                    }
                    self.tracker.forget_through(executed);
                }
                Err(error) => source_error = Some(error),
            },
            _ => {
                self.link = None;
                self.tracker.reset();
            }
        }
        let sample = Sample {
            status,
            lag,
            lag_source,
            executed,
            source_position,
            source_error,
        };
        let transitions = self.transitions(&sample);
        Ok((sample, transitions))
    }

    /// Reads the source's position into the tracker; `Err` says why it could not (also while
    /// waiting to retry after a failure).
    async fn sample_source(
        &mut self,
        status: &ReplicaStatus,
        now: Instant,
    ) -> Result<SourcePosition, String> {
        let secret = SourceSecret::load(&self.source_secret)
            .map_err(|error| format!("cannot read the source credentials: {error}"))?
            .ok_or_else(|| {
                "ferry has no credentials for the source (it was not set through \
                 mysql.rds_set_external_master)"
                    .to_owned()
            })?;
        if !same_host(&secret.host, &status.master_host) || secret.port != status.master_port {
            self.link = None;
            self.tracker.reset();
            return Err(format!(
                "the replica replicates from {}:{}, not from the source ferry has credentials \
                 for ({})",
                status.master_host,
                status.master_port,
                secret.endpoint()
            ));
        }
        if self.link.as_ref().is_none_or(|link| link.secret != secret) {
            self.tracker.reset();
            self.link = Some(SourceLink {
                secret,
                conn: None,
                retry_at: None,
                last_error: None,
            });
        }
        let link = self.link.as_mut().expect("set just above");
        if link.retry_at.is_some_and(|at| now < at) {
            return Err(link
                .last_error
                .clone()
                .unwrap_or_else(|| "waiting to reconnect to the source".to_owned()));
        }
        let result = read_source(link, &self.ssl).await;
        match result {
            Ok(position) => {
                link.retry_at = None;
                link.last_error = None;
                self.tracker.record_source(now, position.coord.clone());
                Ok(position)
            }
            Err(error) => {
                link.conn = None;
                link.retry_at = Some(now + SOURCE_RETRY);
                let text = ferry_base::error::flatten(&error);
                link.last_error = Some(text.clone());
                Err(text)
            }
        }
    }

    fn transitions(&mut self, sample: &Sample) -> Vec<Transition> {
        let health = Health::of(sample.status.as_ref());
        let mut out = Vec::new();
        match (&self.health, &health) {
            (None, Health::Broken(error)) => out.push(Transition::Broke {
                error: error.clone(),
            }),
            (None, _) => {}
            (Some(before), now) if before == now => {}
            (Some(_), Health::Running) => out.push(Transition::Started),
            (Some(_), Health::Broken(error)) => out.push(Transition::Broke {
                error: error.clone(),
            }),
            (Some(Health::Running), Health::Stopped | Health::NotConfigured) => {
                out.push(Transition::Stopped)
            }
            (Some(_), Health::Stopped | Health::NotConfigured) => {}
        }
        if health == Health::Running {
            match sample.lag {
                Some(lag) if lag.is_zero() && !self.caught_up => {
                    self.caught_up = true;
                    out.push(Transition::CaughtUp);
                }
                Some(lag) if lag >= CAUGHT_UP_REARM => self.caught_up = false,
                _ => {}
            }
        } else {
            self.caught_up = false;
        }
        self.health = Some(health);
        out
    }
}

/// The lag [`LagSource::Heartbeat`] reports: 0 when the replica has executed everything the
/// source had at its latest sample, else the larger of the heartbeat and
/// `Seconds_Behind_Master`. Not "0 whenever the heartbeat is 0": right after the tracker
/// starts (ferry started, the source changed) its only sample is the one just taken, so the
/// heartbeat of a replica hours behind is 0 too; it knows nothing older. `None` without a
/// sample.
fn heartbeat_lag(
    tracker: &LagTracker,
    now: Instant,
    executed: &BinlogCoord,
    seconds_behind: Option<Duration>,
) -> Option<Duration> {
    let heartbeat = tracker.lag(now, executed)?;
    if tracker.latest().is_some_and(|latest| executed >= latest) {
        return Some(Duration::ZERO);
    }
    Some(heartbeat.max(seconds_behind.unwrap_or_default()))
}

/// `Seconds_Behind_Master` as a duration.
fn seconds_behind(status: &ReplicaStatus) -> Option<Duration> {
    status.seconds_behind_master.map(Duration::from_secs)
}

fn same_host(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// Connects if needed and reads the position.
async fn read_source(
    link: &mut SourceLink,
    ssl: &SslDir,
) -> Result<SourcePosition, ReplicationError> {
    if link.conn.is_none() {
        let endpoint = endpoint(&link.secret, ssl);
        let conn = tokio::time::timeout(SOURCE_CONNECT_TIMEOUT, endpoint.connect())
            .await
            .map_err(|_| {
                ReplicationError::Timeout(format!(
                    "connecting to the source {endpoint} did not finish within {} s",
                    SOURCE_CONNECT_TIMEOUT.as_secs()
                ))
            })??;
        link.conn = Some(conn);
    }
    let conn = link.conn.as_mut().expect("connected just above");
    tokio::time::timeout(SOURCE_QUERY_TIMEOUT, source::read_position(conn))
        .await
        .map_err(|_| {
            ReplicationError::Timeout(format!(
                "reading the source's binlog position did not finish within {} s",
                SOURCE_QUERY_TIMEOUT.as_secs()
            ))
        })?
}

/// The endpoint for the credentials: TLS with the imported material when the link uses it,
/// the server certificate not verified (as `MASTER_SSL_VERIFY_SERVER_CERT=0`).
pub fn endpoint(secret: &SourceSecret, ssl: &SslDir) -> SourceEndpoint {
    let tls = if secret.ssl {
        let paths = ssl.paths();
        SourceTls::Required {
            ca: Some(paths.ca),
            identity: Some((paths.cert, paths.key)),
            verify_server: false,
        }
    } else {
        SourceTls::Off
    };
    SourceEndpoint::new(
        secret.host.clone(),
        secret.port,
        secret.user.clone(),
        secret.password.clone(),
        tls,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn monitor() -> Monitor {
        Monitor::new(&AgentContext {
            ssl: SslDir::new(Utf8PathBuf::from("/nonexistent/ssl"), None),
            source_secret: Utf8PathBuf::from("/nonexistent/source.json"),
            connect_retry_secs: crate::agent::DEFAULT_CONNECT_RETRY_SECS,
        })
    }

    fn status(io: &str, sql: bool, sql_error: Option<(u32, &str)>) -> ReplicaStatus {
        let fields: Vec<(String, Option<String>)> = [
            ("Master_Host", "127.0.0.1"),
            ("Master_Port", "3306"),
            ("Slave_IO_Running", io),
            ("Slave_SQL_Running", if sql { "Yes" } else { "No" }),
            ("Using_Gtid", "No"),
            (
                "Last_SQL_Errno",
                &sql_error.map(|e| e.0.to_string()).unwrap_or("0".into()),
            ),
            ("Last_SQL_Error", sql_error.map(|e| e.1).unwrap_or("")),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), Some(v.to_string())))
        .chain(
            [
                "Slave_IO_State",
                "Seconds_Behind_Master",
                "Master_User",
                "Connect_Retry",
                "Master_Log_File",
                "Read_Master_Log_Pos",
                "Relay_Master_Log_File",
                "Exec_Master_Log_Pos",
                "Last_IO_Errno",
                "Last_IO_Error",
                "Skip_Counter",
                "Master_SSL_Allowed",
                "Master_SSL_CA_File",
                "Master_SSL_Cert",
                "Master_SSL_Key",
                "Master_SSL_Verify_Server_Cert",
                "Master_Server_Id",
                "Gtid_IO_Pos",
            ]
            .iter()
            .map(|k| (k.to_string(), None)),
        )
        .collect();
        ReplicaStatus::from_fields(&fields)
            .expect("parses")
            .expect("configured")
    }

    fn sample(status: Option<ReplicaStatus>, lag: Option<u64>) -> Sample {
        Sample {
            status,
            lag: lag.map(Duration::from_secs),
            lag_source: LagSource::SecondsBehindMaster,
            executed: None,
            source_position: None,
            source_error: None,
        }
    }

    #[test]
    fn transitions_follow_the_threads_and_the_lag() {
        let mut m = monitor();
        let running = || Some(status("Yes", true, None));
        // First sample while running and caught up.
        assert_eq!(
            m.transitions(&sample(running(), Some(0))),
            [Transition::CaughtUp]
        );
        assert_eq!(m.transitions(&sample(running(), Some(0))), []);
        // A small wobble does not re-arm; a real lag does.
        assert_eq!(m.transitions(&sample(running(), Some(2))), []);
        assert_eq!(m.transitions(&sample(running(), Some(0))), []);
        assert_eq!(m.transitions(&sample(running(), Some(30))), []);
        assert_eq!(
            m.transitions(&sample(running(), Some(0))),
            [Transition::CaughtUp]
        );
        // A conflicting row.
        let broken = Some(status("Yes", false, Some((1062, "Duplicate entry"))));
        assert_eq!(
            m.transitions(&sample(broken.clone(), None)),
            [Transition::Broke {
                error: "SQL thread error 1062: Duplicate entry".into()
            }]
        );
        assert_eq!(m.transitions(&sample(broken, None)), []);
        // Skipped: running again, caught up again.
        assert_eq!(
            m.transitions(&sample(running(), Some(0))),
            [Transition::Started, Transition::CaughtUp]
        );
        assert_eq!(
            m.transitions(&sample(Some(status("No", false, None)), None)),
            [Transition::Stopped]
        );
        assert_eq!(m.transitions(&sample(None, None)), []);
    }

    #[test]
    fn a_lagging_replica_is_not_caught_up_on_the_first_sample() {
        let t0 = Instant::now();
        let mut tracker = LagTracker::new();
        // ferry starts while the replica is an hour behind: one sample, taken now.
        tracker.record_source(t0, BinlogCoord::new("bin.000009", 5000));
        let behind = BinlogCoord::new("bin.000007", 120);
        let hour = Duration::from_secs(3600);
        assert_eq!(
            heartbeat_lag(&tracker, t0, &behind, Some(hour)),
            Some(hour),
            "Seconds_Behind_Master, not 0"
        );
        let mut m = monitor();
        let running = Some(status("Yes", true, None));
        let first = Sample {
            lag: heartbeat_lag(&tracker, t0, &behind, Some(hour)),
            lag_source: LagSource::Heartbeat,
            ..sample(running.clone(), None)
        };
        assert_eq!(m.transitions(&first), []);
        // Later: the heartbeat has grown past Seconds_Behind_Master.
        let later = t0 + Duration::from_secs(7200);
        assert_eq!(
            heartbeat_lag(&tracker, later, &behind, Some(hour)),
            Some(Duration::from_secs(7200))
        );
        // Executed what the source had: 0, whatever Seconds_Behind_Master says.
        let done = BinlogCoord::new("bin.000009", 5000);
        assert_eq!(
            heartbeat_lag(&tracker, later, &done, Some(hour)),
            Some(Duration::ZERO)
        );
        let caught_up = Sample {
            lag: heartbeat_lag(&tracker, later, &done, Some(hour)),
            lag_source: LagSource::Heartbeat,
            ..sample(running, None)
        };
        assert_eq!(m.transitions(&caught_up), [Transition::CaughtUp]);
        assert_eq!(
            heartbeat_lag(&LagTracker::new(), later, &done, Some(hour)),
            None
        );
    }

    #[test]
    fn a_monitor_started_on_a_broken_replica_reports_it() {
        let mut m = monitor();
        let broken = Some(status(
            "Connecting",
            true,
            Some((1146, "Table 'x' doesn't exist")),
        ));
        assert_eq!(
            m.transitions(&sample(broken, None)),
            [Transition::Broke {
                error: "SQL thread error 1146: Table 'x' doesn't exist".into()
            }]
        );
        let mut quiet = monitor();
        assert_eq!(
            quiet.transitions(&sample(Some(status("No", false, None)), None)),
            []
        );
    }
}
