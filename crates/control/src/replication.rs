//! The control plane's side of replication: one agent task per running instance that answers
//! the `mysql.rds_*` procedures' requests and samples the replica every
//! [`SAMPLE_INTERVAL`], the latest sample of every cluster (for `DescribeReplication`, the
//! `ferry replication status` command and `/metrics`), and the events replication raises.
//!
//! The procedures, their agent and the monitor are in `ferry-replication`; this module only
//! runs them against the instance's server and turns what they report into events.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use camino::Utf8Path;
use ferry_base::error::flatten;
use ferry_engine::accounts::{AdminAccount, MASTER_USER_HOST};
use ferry_engine::RunningServer;
use ferry_replication::agent::{Agent, AgentContext, Notice};
use ferry_replication::monitor::{Monitor, Sample, Transition};
use ferry_replication::source::SourcePosition;
use ferry_replication::ssl::SslDir;

use crate::error::ControlError;
use crate::model::{ClusterId, SourceType};
use crate::service::ControlPlane;

/// How often the agent looks for procedure calls: each call waits up to this long extra.
const REQUEST_POLL: Duration = Duration::from_millis(100);
/// How often the replica (and its source) is sampled.
pub const SAMPLE_INTERVAL: Duration = Duration::from_secs(2);
/// How long after a cutover the sampler's "not running" is taken as the cutover's own stop.
const QUIET_STOP_FOR: Duration = Duration::from_secs(30);
/// Between attempts to reach a server that refused the agent's connection.
const RECONNECT_DELAY: Duration = Duration::from_secs(1);

/// The agent task of one running instance; dropping it stops the task and forgets the
/// cluster's sample (a stopped server is not replicating).
pub(crate) struct AgentTask {
    task: tokio::task::AbortHandle,
    samples: Samples,
    cluster: ClusterId,
    alive: Arc<AtomicBool>,
}

impl Drop for AgentTask {
    fn drop(&mut self) {
        self.task.abort();
        // Under the samples lock, so a task still finishing a step cannot store after this.
        let mut map = self.samples.views.lock().expect("samples lock poisoned");
        self.alive.store(false, Ordering::SeqCst);
        map.remove(&self.cluster);
    }
}

/// The latest replication sample of one cluster, as the API, the CLI and `/metrics` show it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicationView {
    pub sampled_at: time::OffsetDateTime,
    pub source_host: String,
    pub source_port: u16,
    pub source_user: String,
    /// `Slave_IO_Running`: `Yes`, `No` or `Connecting`.
    pub io_state: String,
    pub sql_running: bool,
    pub seconds_behind_master: Option<u64>,
    /// The lag ferry measured, in seconds (see [`ReplicationView::lag_source`]).
    pub lag_seconds: Option<f64>,
    /// `heartbeat` (positions sampled on the source) or `seconds_behind_master` (fallback).
    pub lag_source: String,
    /// `Master_Log_File` / `Read_Master_Log_Pos`: how far the IO thread has read.
    pub read_file: String,
    pub read_position: u64,
    /// `Relay_Master_Log_File` / `Exec_Master_Log_Pos`: how far the SQL thread has executed.
    pub executed_file: String,
    pub executed_position: u64,
    /// The source's own current position, when ferry could read it.
    pub source_file: Option<String>,
    pub source_position: Option<u64>,
    pub using_gtid: bool,
    /// `Gtid_IO_Pos`: the GTID position the IO thread has reached (GTID links).
    pub gtid_io_pos: Option<String>,
    /// Why the lag is not measured on the source, when it is not.
    pub source_error: Option<String>,
    pub ssl: bool,
    pub last_io_errno: u32,
    pub last_io_error: String,
    pub last_sql_errno: u32,
    pub last_sql_error: String,
}

/// Latest samples by cluster (clusters that are not replicating have none).
#[derive(Default, Clone)]
pub(crate) struct Samples {
    views: Arc<std::sync::Mutex<HashMap<ClusterId, ReplicationView>>>,
    /// Clusters whose next "not running" transition a cutover already announced: `None`
    /// while the cutover waits, then when it stopped replication (the note expires after
    /// [`QUIET_STOP_FOR`], so a later, unrelated stop is not swallowed).
    quiet: Arc<std::sync::Mutex<HashMap<ClusterId, Option<Instant>>>>,
}

impl Samples {
    /// Stores (or clears) a cluster's view while its agent is `alive`.
    fn set(&self, cluster: &ClusterId, view: Option<ReplicationView>, alive: &AtomicBool) {
        let mut map = self.views.lock().expect("samples lock poisoned");
        if !alive.load(Ordering::SeqCst) {
            return;
        }
        match view {
            Some(view) => {
                map.insert(cluster.clone(), view);
            }
            None => {
                map.remove(cluster);
            }
        }
    }

    /// Notes that a cutover is stopping `cluster`'s replication (its event will say so);
    /// `done` once it has.
    fn quiet_stop(&self, cluster: &ClusterId, done: bool) {
        self.quiet
            .lock()
            .expect("quiet lock poisoned")
            .insert(cluster.clone(), done.then(Instant::now));
    }

    fn take_quiet_stop(&self, cluster: &ClusterId) -> bool {
        match self
            .quiet
            .lock()
            .expect("quiet lock poisoned")
            .remove(cluster)
        {
            Some(None) => true,
            Some(Some(at)) => at.elapsed() < QUIET_STOP_FOR,
            None => false,
        }
    }

    pub(crate) fn get(&self, cluster: &ClusterId) -> Option<ReplicationView> {
        self.views
            .lock()
            .expect("samples lock poisoned")
            .get(cluster)
            .cloned()
    }

    pub(crate) fn all(&self) -> Vec<(ClusterId, ReplicationView)> {
        let mut all: Vec<_> = self
            .views
            .lock()
            .expect("samples lock poisoned")
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }
}

/// Installs (or brings up to date) the `mysql.rds_*` procedures and grants the master user
/// `EXECUTE` on them. Run after every server start: a volume from an older ferry gets them,
/// and a routine changed from inside is put back.
pub(crate) async fn install_procedures(
    server: &RunningServer,
    admin: &AdminAccount,
    master_user: &str,
) -> Result<(), ControlError> {
    let mut conn = server
        .connect(&admin.user, Some(admin.password.expose()))
        .await?;
    ferry_replication::procedures::install(&mut conn, &[(master_user, MASTER_USER_HOST)]).await?;
    let _ = mysql_async::Conn::disconnect(conn).await;
    Ok(())
}

/// Starts the agent of an instance whose server listens on `socket`.
pub(crate) fn spawn_agent(
    cp: &ControlPlane,
    cluster: &ClusterId,
    socket: &Utf8Path,
    admin: &AdminAccount,
) -> AgentTask {
    let layout = cp.layout();
    let ctx = AgentContext {
        ssl: SslDir::new(
            layout.replication_ssl_dir(cluster),
            cp.inner.server_user.clone(),
        ),
        source_secret: layout.replication_source_file(cluster),
    };
    let opts = mysql_async::OptsBuilder::default()
        .socket(Some(socket.as_str()))
        .user(Some(admin.user.clone()))
        .pass(Some(admin.password.expose()));
    let samples = cp.inner.replication.clone();
    let alive = Arc::new(AtomicBool::new(true));
    let task = {
        let cp = cp.clone();
        let cluster = cluster.clone();
        let alive = alive.clone();
        tokio::spawn(async move {
            run_agent(cp, cluster, ctx, opts.into(), alive).await;
        })
        .abort_handle()
    };
    AgentTask {
        task,
        samples,
        cluster: cluster.clone(),
        alive,
    }
}

async fn run_agent(
    cp: ControlPlane,
    cluster: ClusterId,
    ctx: AgentContext,
    opts: mysql_async::Opts,
    alive: Arc<AtomicBool>,
) {
    // Two loops, each with its own connection: answering the procedures must not wait for a
    // sample, which may wait for a slow or unreachable source.
    let announced = std::sync::Mutex::new(Announced::default());
    // Set while the agent may be performing a call, whose notice is not noted yet.
    let busy = AtomicBool::new(false);
    let resumed = tokio::sync::Notify::new();
    let serving = async {
        let mut agent = Agent::new(ctx.clone());
        let mut link = Link::new(opts.clone());
        let mut last_error: Option<String> = None;
        let mut is_resumed = false;
        while !cp.is_shutting_down() {
            let step = async {
                let c = link.get().await?;
                if !is_resumed {
                    if let Some(notice) = agent.resume(c).await? {
                        announced.lock().expect("announced lock").note(&notice);
                        notify(&cp, &cluster, &notice);
                    }
                    is_resumed = true;
                    resumed.notify_one();
                }
                busy.store(true, Ordering::SeqCst);
                let served = agent.serve(c).await;
                for notice in served.as_deref().unwrap_or_default() {
                    announced.lock().expect("announced lock").note(notice);
                    notify(&cp, &cluster, notice);
                }
                busy.store(false, Ordering::SeqCst);
                served.map(drop)
            }
            .await;
            match step {
                Ok(()) => {
                    last_error = None;
                    tokio::time::sleep(REQUEST_POLL).await;
                }
                Err(e) => {
                    note_error(&cluster, &mut last_error, flatten(&e));
                    link.reset();
                    tokio::time::sleep(RECONNECT_DELAY).await;
                }
            }
        }
    };
    let sampling = async {
        // The first sample after the agent has resumed replication (or found nothing to do).
        resumed.notified().await;
        let mut monitor = Monitor::new(&ctx);
        let mut link = Link::new(opts.clone());
        let mut last_error: Option<String> = None;
        // Started/stopped seen while a call was under way: judged at the next sample, once
        // the call's own notice is known.
        let mut deferred: Vec<Transition> = Vec::new();
        while !cp.is_shutting_down() {
            let step = async {
                let c = link.get().await?;
                let (sample, transitions) = monitor.sample(c, Instant::now()).await?;
                let mut all = std::mem::take(&mut deferred);
                all.extend(transitions);
                let call_under_way = busy.load(Ordering::SeqCst);
                let announced = if call_under_way {
                    Announced::default()
                } else {
                    std::mem::take(&mut *announced.lock().expect("announced lock"))
                };
                for t in all {
                    let state_change = matches!(t, Transition::Started | Transition::Stopped);
                    if call_under_way && state_change {
                        deferred.push(t);
                        continue;
                    }
                    let cutover = matches!(t, Transition::Stopped)
                        && cp.inner.replication.take_quiet_stop(&cluster);
                    if !announced.covers(&t, cutover) {
                        transition_event(&cp, &cluster, &t);
                    }
                }
                cp.inner.replication.set(&cluster, view(&sample), &alive);
                Ok::<(), ferry_replication::ReplicationError>(())
            }
            .await;
            match step {
                Ok(()) => last_error = None,
                Err(e) => {
                    note_error(&cluster, &mut last_error, flatten(&e));
                    link.reset();
                }
            }
            tokio::time::sleep(SAMPLE_INTERVAL).await;
        }
    };
    tokio::join!(serving, sampling);
}

/// A connection to the instance's server as ferry's admin, made again after a failure.
struct Link {
    opts: mysql_async::Opts,
    conn: Option<mysql_async::Conn>,
}

impl Link {
    fn new(opts: mysql_async::Opts) -> Link {
        Link { opts, conn: None }
    }

    async fn get(&mut self) -> Result<&mut mysql_async::Conn, ferry_replication::ReplicationError> {
        match &mut self.conn {
            Some(c) => Ok(c),
            slot @ None => {
                let c = mysql_async::Conn::new(self.opts.clone())
                    .await
                    .map_err(|source| ferry_replication::ReplicationError::Replica {
                        what: "connect as ferry's admin".to_owned(),
                        source,
                    })?;
                Ok(slot.insert(c))
            }
        }
    }

    fn reset(&mut self) {
        self.conn = None;
    }
}

/// What the procedures already announced since the last sample, so the sampler does not say
/// it again ("Replication started by ..." is followed by no "Replication is running").
#[derive(Default, Clone, Copy)]
struct Announced {
    started: bool,
    stopped: bool,
}

impl Announced {
    fn note(&mut self, notice: &Notice) {
        match notice {
            Notice::Started | Notice::Resumed | Notice::MasterLogAdvanced { .. } => {
                self.started = true
            }
            Notice::Stopped | Notice::Reset => self.stopped = true,
            Notice::Configured { .. }
            | Notice::ResumeFailed { .. }
            | Notice::ErrorSkipped { .. }
            | Notice::SslMaterialImported
            | Notice::SslMaterialRemoved => {}
        }
    }

    /// Whether `t` was already announced (`cutover`: a cutover stopped replication).
    fn covers(&self, t: &Transition, cutover: bool) -> bool {
        match t {
            Transition::Started => self.started,
            Transition::Stopped => self.stopped || cutover,
            Transition::Broke { .. } | Transition::CaughtUp => false,
        }
    }
}

/// Logs an agent error once per distinct message (it retries every second).
fn note_error(cluster: &ClusterId, last: &mut Option<String>, message: String) {
    if last.as_deref() != Some(message.as_str()) {
        tracing::warn!(cluster = %cluster, error = %message, "replication agent");
        *last = Some(message);
    }
}

fn notify(cp: &ControlPlane, cluster: &ClusterId, notice: &Notice) {
    let (text, category) = match notice {
        Notice::Configured {
            host,
            port,
            ssl,
            gtid,
        } => (
            format!(
                "Replication source set to {host}:{port} ({}, {}).",
                if *gtid {
                    "GTID auto-positioning"
                } else {
                    "binary log file and position"
                },
                if *ssl { "SSL" } else { "no SSL" }
            ),
            "configuration change",
        ),
        Notice::Started => (
            "Replication started by mysql.rds_start_replication.".to_owned(),
            "notification",
        ),
        Notice::Stopped => (
            "Replication stopped by mysql.rds_stop_replication.".to_owned(),
            "notification",
        ),
        Notice::Reset => (
            "Replication reset by mysql.rds_reset_external_master: the cluster no longer has an external source.".to_owned(),
            "configuration change",
        ),
        Notice::ErrorSkipped { error } => (
            format!("Replication error skipped by mysql.rds_skip_repl_error: {error}"),
            "notification",
        ),
        Notice::SslMaterialImported => (
            "Replication SSL material imported.".to_owned(),
            "configuration change",
        ),
        Notice::SslMaterialRemoved => (
            "Replication SSL material removed.".to_owned(),
            "configuration change",
        ),
        Notice::Resumed => (
            "Replication resumed after the DB instance started.".to_owned(),
            "notification",
        ),
        Notice::ResumeFailed { error } => (
            format!("Replication could not be resumed after the DB instance started: {error}"),
            "failure",
        ),
        Notice::MasterLogAdvanced { file } => (
            format!("Replication moved to the start of the source's binary log {file} by mysql.rds_next_master_log."),
            "configuration change",
        ),
    };
    cp.event(SourceType::DbCluster, cluster.as_str(), &text, &[category]);
}

fn transition_event(cp: &ControlPlane, cluster: &ClusterId, t: &Transition) {
    let (text, category) = match t {
        Transition::Started => (
            "Replication is running: both replica threads are up.".to_owned(),
            "notification",
        ),
        Transition::Stopped => ("Replication is not running.".to_owned(), "notification"),
        Transition::Broke { error } => (
            format!("Replication stopped with an error: {error}"),
            "failure",
        ),
        Transition::CaughtUp => (
            "Replication caught up with the source: lag is 0 seconds.".to_owned(),
            "notification",
        ),
    };
    cp.event(SourceType::DbCluster, cluster.as_str(), &text, &[category]);
}

impl ControlPlane {
    /// The latest replication sample of a cluster (`None`: not replicating, or no instance).
    pub fn replication_view(&self, cluster: &ClusterId) -> Option<ReplicationView> {
        self.inner.replication.get(cluster)
    }

    /// Every replicating cluster's latest sample, by cluster identifier.
    pub fn replication_views(&self) -> Vec<(ClusterId, ReplicationView)> {
        self.inner.replication.all()
    }

    /// Waits until the cluster has executed the source up to `target`, then stops
    /// replication (recorded like `mysql.rds_stop_replication`, so it stays stopped across
    /// restarts).
    pub async fn cutover(
        &self,
        cluster: &ClusterId,
        target: &SourcePosition,
        timeout: Duration,
    ) -> Result<ferry_replication::cutover::CutoverOutcome, ControlError> {
        let c = self
            .store()
            .get_cluster(cluster)?
            .ok_or_else(|| ControlError::ClusterNotFound(cluster.to_string()))?;
        let admin = crate::secrets::read_admin(self.layout(), &c.id)?;
        let mut conn = self
            .inner
            .supervisor
            .admin_conn(&c.id, &admin)
            .await?
            .ok_or_else(|| {
                ControlError::InvalidClusterState(format!(
                    "DB cluster {} has no running instance to cut over",
                    c.id
                ))
            })?;
        // Before the wait, not after: the sampler may see the stop the moment `STOP SLAVE`
        // returns, and the cutover's own event below says it. Taken back if the cutover fails.
        self.inner.replication.quiet_stop(&c.id, false);
        let outcome =
            match ferry_replication::cutover::wait_and_stop(&mut conn, target, timeout).await {
                Ok(outcome) => outcome,
                Err(e) => {
                    self.inner.replication.take_quiet_stop(&c.id);
                    return Err(ControlError::InvalidClusterState(flatten(&e)));
                }
            };
        self.inner.replication.quiet_stop(&c.id, true);
        self.event(
            SourceType::DbCluster,
            c.id.as_str(),
            &format!(
                "Cutover: the cluster executed the source up to {}, position {}; replication stopped.",
                outcome.executed.file, outcome.executed.pos
            ),
            &["notification"],
        );
        Ok(outcome)
    }
}

/// The view of a sample; `None` when replication is not configured.
fn view(sample: &Sample) -> Option<ReplicationView> {
    use ferry_replication::monitor::LagSource;
    use ferry_replication::status::UsingGtid;
    let st = sample.status.as_ref()?;
    let (io_errno, io_error) = st
        .last_io_error
        .as_ref()
        .map_or((0, String::new()), |e| (e.errno, e.message.clone()));
    let (sql_errno, sql_error) = st
        .last_sql_error
        .as_ref()
        .map_or((0, String::new()), |e| (e.errno, e.message.clone()));
    Some(ReplicationView {
        sampled_at: time::OffsetDateTime::now_utc(),
        source_host: st.master_host.clone(),
        source_port: st.master_port,
        source_user: st.master_user.clone(),
        io_state: st.io_running.as_str().to_owned(),
        sql_running: st.sql_running,
        seconds_behind_master: st.seconds_behind_master,
        lag_seconds: sample.lag.map(|d| d.as_secs_f64()),
        lag_source: match sample.lag_source {
            LagSource::Heartbeat => "heartbeat",
            LagSource::SecondsBehindMaster => "seconds_behind_master",
        }
        .to_owned(),
        read_file: st.master_log_file.clone(),
        read_position: st.read_master_log_pos,
        executed_file: st.relay_master_log_file.clone(),
        executed_position: st.exec_master_log_pos,
        source_file: sample
            .source_position
            .as_ref()
            .map(|p| p.coord.file.clone()),
        source_position: sample.source_position.as_ref().map(|p| p.coord.pos),
        using_gtid: !matches!(st.using_gtid, UsingGtid::No),
        gtid_io_pos: Some(st.gtid_io_pos.clone()).filter(|g| !g.is_empty()),
        source_error: sample.source_error.clone(),
        ssl: st.master_ssl_allowed,
        last_io_errno: io_errno,
        last_io_error: io_error,
        last_sql_errno: sql_errno,
        last_sql_error: sql_error,
    })
}
