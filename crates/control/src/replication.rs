//! The control plane's side of replication: one agent task per running instance that answers
//! the `mysql.rds_*` procedures' requests and samples the replica every
//! [`SAMPLE_INTERVAL`], the latest sample of every cluster (for `DescribeReplication`, the
//! `ferry replication status` command and `/metrics`), and the events replication raises.
//!
//! The procedures, their agent and the monitor are in `ferry-replication`; this module only
//! runs them against the instance's server and turns what they report into events.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use camino::Utf8Path;
use ferry_base::error::flatten;
use ferry_engine::accounts::{AdminAccount, MASTER_USER_HOST};
use ferry_engine::RunningServer;
use ferry_replication::agent::{Agent, AgentContext, Notice};
use ferry_replication::monitor::{Monitor, Transition};
use ferry_replication::ssl::SslDir;
use ferry_replication::view::ReplicationView;

use crate::ctx::Ctx;
use crate::error::ControlError;
use crate::events::ClusterEvent;
use crate::model::ClusterId;
use crate::samples::Samples;

/// How often the agent looks for procedure calls: each call waits up to this long extra.
const REQUEST_POLL: Duration = Duration::from_millis(100);
/// How often the replica (and its source) is sampled.
pub const SAMPLE_INTERVAL: Duration = Duration::from_secs(2);
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
        self.samples.retire(&self.cluster, &self.alive);
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
    ferry_base::fail_point!("replication.before-procedures");
    let mut conn = server
        .connect(&admin.user, Some(admin.password.expose()))
        .await?;
    ferry_replication::procedures::install(&mut conn, &[(master_user, MASTER_USER_HOST)]).await?;
    ferry_base::fail_point!("replication.after-procedures");
    let _ = mysql_async::Conn::disconnect(conn).await;
    Ok(())
}

/// Starts the agent of an instance whose server listens on `socket`.
pub(crate) fn spawn_agent(
    ctx: &Arc<Ctx>,
    cluster: &ClusterId,
    socket: &Utf8Path,
    admin: &AdminAccount,
) -> AgentTask {
    let layout = &ctx.layout;
    let agent_ctx = AgentContext {
        ssl: SslDir::new(
            layout.replication_ssl_dir(cluster),
            ctx.server_user(cluster).unwrap_or_else(|e| {
                tracing::warn!(cluster = %cluster, error = %e, "replication SSL material will belong to ferry's user");
                None
            }),
        ),
        source_secret: layout.replication_source_file(cluster),
        connect_retry_secs: ctx.config.replication_connect_retry,
    };
    let opts = mysql_async::OptsBuilder::default()
        .socket(Some(socket.as_str()))
        .user(Some(admin.user.clone()))
        .pass(Some(admin.password.expose()));
    let samples = ctx.samples.clone();
    let alive = Arc::new(AtomicBool::new(true));
    let task = {
        let ctx = ctx.clone();
        let cluster = cluster.clone();
        let alive = alive.clone();
        tokio::spawn(async move {
            run_agent(ctx, cluster, agent_ctx, opts.into(), alive).await;
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

#[tracing::instrument(skip_all, fields(cluster = %cluster))]
async fn run_agent(
    cp: Arc<Ctx>,
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
                        cp.cluster_event(&cluster, ClusterEvent::Replication(&notice));
                    }
                    is_resumed = true;
                    resumed.notify_one();
                }
                busy.store(true, Ordering::SeqCst);
                let served = agent.serve(c).await;
                for notice in served.as_deref().unwrap_or_default() {
                    announced.lock().expect("announced lock").note(notice);
                    cp.cluster_event(&cluster, ClusterEvent::Replication(notice));
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
                    note_error(&mut last_error, flatten(&e));
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
                    let cutover =
                        matches!(t, Transition::Stopped) && cp.samples.take_quiet_stop(&cluster);
                    if !announced.covers(&t, cutover) {
                        cp.cluster_event(&cluster, ClusterEvent::ReplicationState(&t));
                    }
                }
                let view = ReplicationView::of(&sample, time::OffsetDateTime::now_utc());
                cp.samples.set(&cluster, view, &alive);
                Ok::<(), ferry_replication::ReplicationError>(())
            }
            .await;
            match step {
                Ok(()) => last_error = None,
                Err(e) => {
                    note_error(&mut last_error, flatten(&e));
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
            Notice::Started | Notice::Resumed { .. } | Notice::MasterLogAdvanced { .. } => {
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
fn note_error(last: &mut Option<String>, message: String) {
    if last.as_deref() != Some(message.as_str()) {
        tracing::warn!(error = %message, "replication agent");
        *last = Some(message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_procedure_announcement_covers_the_samplers_transition() {
        let mut a = Announced::default();
        assert!(!a.covers(&Transition::Started, false));
        a.note(&Notice::Started);
        assert!(a.covers(&Transition::Started, false));
        assert!(!a.covers(&Transition::Stopped, false));
        a.note(&Notice::Reset);
        assert!(a.covers(&Transition::Stopped, false));
        // Errors and catching up are always announced by the sampler.
        assert!(!a.covers(&Transition::CaughtUp, false));
        let broke = Transition::Broke {
            error: "1062".into(),
        };
        assert!(!a.covers(&broke, true));
    }

    #[test]
    fn resumes_and_log_moves_count_as_started_ssl_changes_as_nothing() {
        let mut a = Announced::default();
        a.note(&Notice::SslMaterialImported);
        a.note(&Notice::ErrorSkipped { error: "e".into() });
        assert!(!a.covers(&Transition::Started, false));
        assert!(!a.covers(&Transition::Stopped, false));
        a.note(&Notice::MasterLogAdvanced {
            file: "b.000002".into(),
        });
        assert!(a.covers(&Transition::Started, false));
        assert!(a.covers(&Transition::Stopped, true), "a cutover's stop");
    }
}
