//! The instance supervisor: one MariaDB server process per DB instance, on its cluster's
//! volume, started, watched and stopped here.
//!
//! Restart policy (documented in ARCHITECTURE.md): instances are *restarted*, not re-adopted.
//! `ferry serve` shuts its servers down cleanly when it stops, and starts every instance whose
//! status says it should run when it starts again. A server left behind by a control plane
//! that was killed is stopped first, so two servers never share a volume. A server that exits
//! on its own is marked `starting` with the log tail in an event and started again, up to
//! [`MAX_RESTARTS`] times in a row ([`RestartCounter`]); then it is left `failed`.

mod guardian;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ferry_engine::accounts::AdminAccount;
use ferry_engine::{RunningServer, ServerStatus};

use crate::ctx::Ctx;
use crate::error::ControlError;
use crate::events::{ClusterEvent, InstanceEvent};
use crate::instance_class;
use crate::leftovers::stop_server_in;
use crate::model::{ClusterId, InstanceId, InstanceStatus};
use crate::replication::{self, AgentTask};
use crate::secrets;
use crate::volume::{self, Role, START_TIMEOUT, STOP_TIMEOUT};

const MAX_RESTARTS: u32 = 5;
/// A server up this long before it exits is not counted as "failing in a row".
const STABLE_UPTIME: Duration = Duration::from_secs(600);
/// Events are kept 14 days, as RDS keeps them.
const EVENT_RETENTION: time::Duration = time::Duration::days(14);
/// A failed deletion (a busy file, a server slow to stop) is tried again after each of these,
/// then left to the next start: the object stays `deleting` until it is gone, and must not
/// wait for a restart of `ferry serve` to get there.
pub(crate) const DELETE_RETRY_DELAYS: [Duration; 4] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(8),
];

struct Managed {
    cluster: ClusterId,
    server: RunningServer,
    started: Instant,
    /// The replication agent serving this server; stops when the entry goes.
    _agent: AgentTask,
    /// The guardian keeping ferry in control of this server; stops when the entry goes.
    _guardian: guardian::GuardianTask,
}

/// What to do about a server that exited on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterExit {
    /// Start it again; this is the `attempt`-th restart in a row.
    Restart { attempt: u32 },
    /// It failed [`MAX_RESTARTS`] times in a row: leave it stopped.
    GiveUp,
}

/// Counts the exits of each instance's server in a row; a server that ran for
/// [`STABLE_UPTIME`] before it exited starts a new row.
#[derive(Debug, Default)]
struct RestartCounter {
    in_a_row: HashMap<InstanceId, u32>,
}

impl RestartCounter {
    fn on_exit(&mut self, id: &InstanceId, uptime: Duration) -> AfterExit {
        if uptime > STABLE_UPTIME {
            self.in_a_row.remove(id);
        }
        let n = self.in_a_row.entry(id.clone()).or_insert(0);
        *n += 1;
        if *n <= MAX_RESTARTS {
            AfterExit::Restart { attempt: *n }
        } else {
            AfterExit::GiveUp
        }
    }

    fn forget(&mut self, id: &InstanceId) {
        self.in_a_row.remove(id);
    }
}

pub(crate) struct Supervisor {
    ctx: Arc<Ctx>,
    servers: tokio::sync::Mutex<HashMap<InstanceId, Managed>>,
    restarts: Mutex<RestartCounter>,
    /// Instances whose start is under way (a deletion waits for it to finish).
    starting: Mutex<HashSet<InstanceId>>,
}

/// Marks an instance as starting for as long as it lives.
struct Starting<'a> {
    set: &'a Mutex<HashSet<InstanceId>>,
    id: InstanceId,
}

impl<'a> Starting<'a> {
    /// `None` if a start of this instance is already under way.
    fn begin(set: &'a Mutex<HashSet<InstanceId>>, id: &InstanceId) -> Option<Self> {
        let fresh = set
            .lock()
            .expect("starting lock poisoned")
            .insert(id.clone());
        fresh.then(|| Starting {
            set,
            id: id.clone(),
        })
    }
}

impl Drop for Starting<'_> {
    fn drop(&mut self) {
        if let Ok(mut set) = self.set.lock() {
            set.remove(&self.id);
        }
    }
}

impl Supervisor {
    pub(crate) fn new(ctx: Arc<Ctx>) -> Arc<Supervisor> {
        Arc::new(Supervisor {
            ctx,
            servers: Default::default(),
            restarts: Default::default(),
            starting: Default::default(),
        })
    }

    /// Watches every running server once a second; prunes old events once an hour.
    pub(crate) fn spawn_monitor(self: &Arc<Self>) {
        let this = self.clone();
        tokio::spawn(async move {
            let mut ticks: u64 = 0;
            loop {
                if ticks.is_multiple_of(3600) {
                    let horizon = time::OffsetDateTime::now_utc() - EVENT_RETENTION;
                    if let Err(e) = this.ctx.store.prune_events(horizon) {
                        tracing::warn!(error = %e, "cannot prune old events");
                    }
                }
                ticks += 1;
                tokio::time::sleep(Duration::from_secs(1)).await;
                if this.ctx.is_shutting_down() {
                    return;
                }
                this.check().await;
            }
        });
    }

    async fn check(self: &Arc<Self>) {
        let mut exited = Vec::new();
        {
            let mut servers = self.servers.lock().await;
            let ids: Vec<InstanceId> = servers.keys().cloned().collect();
            for id in ids {
                let status = servers
                    .get_mut(&id)
                    .map(|m| m.server.try_status())
                    .expect("id taken from the map");
                match status {
                    Ok(ServerStatus::Running) => {}
                    Ok(ServerStatus::Exited { status, log_tail }) => {
                        let uptime = servers
                            .remove(&id)
                            .map(|m| m.started.elapsed())
                            .unwrap_or_default();
                        exited.push((id, format!("{status}"), log_tail, uptime));
                    }
                    Err(e) => {
                        tracing::warn!(instance = %id, error = %e, "cannot check the server process");
                    }
                }
            }
        }
        for (id, status, tail, uptime) in exited {
            if self.ctx.is_shutting_down() {
                return;
            }
            self.after_exit(&id, &status, &tail, uptime);
        }
    }

    #[tracing::instrument(skip_all, fields(instance = %id))]
    fn after_exit(self: &Arc<Self>, id: &InstanceId, status: &str, tail: &str, uptime: Duration) {
        let store = &self.ctx.store;
        let Ok(Some(mut instance)) = store.get_instance(id) else {
            return;
        };
        if instance.status == InstanceStatus::Deleting {
            return;
        }
        let decision = self
            .restarts
            .lock()
            .expect("restarts lock poisoned")
            .on_exit(id, uptime);
        instance.status = match decision {
            AfterExit::Restart { .. } => InstanceStatus::Starting,
            AfterExit::GiveUp => InstanceStatus::Failed,
        };
        // Only from `available` (a server ran, so the instance was available unless it is
        // being deleted): a deletion requested meanwhile wins.
        match store.transition_instance(&instance) {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::error!(error = %e, "cannot record the crash");
                return;
            }
        }
        self.ctx.instance_event(
            id,
            InstanceEvent::EngineStopped {
                status,
                log_tail: tail,
            },
        );
        match decision {
            AfterExit::Restart { .. } => self.spawn_start(id.clone(), true),
            AfterExit::GiveUp => self.ctx.instance_event(
                id,
                InstanceEvent::GaveUp {
                    failures: MAX_RESTARTS,
                },
            ),
        }
    }

    /// A connection as ferry's admin to the running server of one of `cluster`'s instances:
    /// `Ok(None)` when none runs, `Err` when one runs but refuses ferry's login.
    pub(crate) async fn admin_conn(
        &self,
        cluster: &ClusterId,
        admin: &AdminAccount,
    ) -> Result<Option<mysql_async::Conn>, ferry_engine::EngineError> {
        let servers = self.servers.lock().await;
        let Some(m) = servers.values().find(|m| &m.cluster == cluster) else {
            return Ok(None);
        };
        m.server
            .connect(&admin.user, Some(admin.password.expose()))
            .await
            .map(Some)
    }

    /// Whether an instance's server is running under this supervisor.
    async fn is_running(&self, id: &InstanceId) -> bool {
        self.servers.lock().await.contains_key(id)
    }

    /// Shuts every server down cleanly, all at once.
    pub(crate) async fn stop_all(&self) {
        let servers: Vec<(InstanceId, Managed)> = self.servers.lock().await.drain().collect();
        let mut set = tokio::task::JoinSet::new();
        for (id, m) in servers {
            set.spawn(async move {
                if let Err(e) = m.server.stop(STOP_TIMEOUT).await {
                    tracing::error!(instance = %id, error = %e, "stopping the server failed");
                }
            });
        }
        while set.join_next().await.is_some() {}
    }

    /// Starts an instance's server in a task (see [`Supervisor::start_instance`]).
    pub(crate) fn spawn_start(self: &Arc<Self>, id: InstanceId, after_restart: bool) {
        let this = self.clone();
        tokio::spawn(async move { this.start_instance(&id, after_restart).await });
    }

    /// Restarts an instance whose server refuses ferry's login, in a task: stops the server,
    /// marks the instance `starting` and starts it again; the start repairs ferry's account
    /// ([`volume::repair_admin`]). The guardian asks for it.
    pub(crate) fn spawn_repair_restart(self: &Arc<Self>, id: InstanceId) {
        let this = self.clone();
        tokio::spawn(async move {
            let taken = this.servers.lock().await.remove(&id);
            let Some(m) = taken else { return };
            if let Err(e) = m.server.stop(STOP_TIMEOUT).await {
                tracing::error!(instance = %id, error = %e, "stopping the server failed");
            }
            let store = &this.ctx.store;
            let Ok(Some(mut instance)) = store.get_instance(&id) else {
                return;
            };
            instance.status = InstanceStatus::Starting;
            if let Ok(true) = store.transition_instance(&instance) {
                this.spawn_start(id, true);
            }
        });
    }

    /// Deletes an instance in a task (see [`Supervisor::delete_instance`]).
    pub(crate) fn spawn_deletion(self: &Arc<Self>, id: InstanceId) {
        let this = self.clone();
        tokio::spawn(async move {
            for delay in DELETE_RETRY_DELAYS {
                match this.delete_instance(&id).await {
                    Ok(()) => return,
                    Err(e) => {
                        tracing::warn!(instance = %id, error = %ferry_base::error::flatten(&e), "deleting the DB instance failed; trying again in {delay:?}")
                    }
                }
                tokio::time::sleep(delay).await;
            }
            if let Err(e) = this.delete_instance(&id).await {
                tracing::error!(instance = %id, error = %ferry_base::error::flatten(&e), "deleting the DB instance failed");
            }
        });
    }

    /// Starts an instance's server and moves the instance to `available` (or `failed`).
    #[tracing::instrument(skip(self), fields(instance = %id))]
    async fn start_instance(self: &Arc<Self>, id: &InstanceId, after_restart: bool) {
        let Some(_starting) = Starting::begin(&self.starting, id) else {
            return;
        };
        if let Err(error) = self.try_start(id, after_restart).await {
            tracing::warn!(error = %ferry_base::error::flatten(&error), "the DB instance could not be started");
            let store = &self.ctx.store;
            if let Ok(Some(mut instance)) = store.get_instance(id) {
                instance.status = InstanceStatus::Failed;
                let recorded = store.transition_instance(&instance);
                if let Ok(true) = recorded {
                    self.ctx
                        .instance_event(id, InstanceEvent::StartFailed { error: &error });
                }
            }
        }
    }

    async fn try_start(
        self: &Arc<Self>,
        id: &InstanceId,
        after_restart: bool,
    ) -> Result<(), ControlError> {
        let ctx = &self.ctx;
        let store = &ctx.store;
        let Some(instance) = store.get_instance(id)? else {
            return Ok(());
        };
        if instance.status == InstanceStatus::Deleting || self.is_running(id).await {
            return Ok(());
        }
        let cluster = store
            .get_cluster(&instance.cluster_id)?
            .ok_or_else(|| ControlError::ClusterNotFound(instance.cluster_id.to_string()))?;
        let admin = secrets::read_admin(&ctx.layout, &cluster.id)?;
        let resources = instance_class::resources(&instance.instance_class).ok_or_else(|| {
            ControlError::invalid_value(format!(
                "unknown DB instance class {}",
                instance.instance_class
            ))
        })?;
        let run_dir = ctx.layout.instance_dir(&cluster.id, &instance.id);
        std::fs::create_dir_all(&run_dir).map_err(ControlError::io("create", &run_dir))?;
        stop_server_in(&run_dir).await?;
        ferry_base::fail_point!("instance.before-start");

        let role = Role::Instance {
            port: cluster.port,
            resources,
            server_id: server_id(&instance.resource_id),
        };
        let cfg = volume::server_config(ctx, &cluster.id, &run_dir, &role)?;
        let first = volume::start(ctx, &cfg, &run_dir, volume::admin_probe(&admin)).await;
        let (server, admin) = match first {
            Ok(s) => (s, admin),
            Err(ferry_engine::EngineError::ProbeLoginRefused { .. }) => {
                // ferry's own account was altered from inside: put it back, then start again.
                let admin = volume::repair_admin(ctx, &cluster.id).await?;
                let server =
                    volume::start(ctx, &cfg, &run_dir, volume::admin_probe(&admin)).await?;
                (server, admin)
            }
            Err(e) => return Err(e.into()),
        };
        ferry_base::fail_point!("instance.after-server-start");

        // Deleted while starting, or the control plane is stopping: do not leave it running.
        if ctx.is_shutting_down() {
            let _ = server.stop(STOP_TIMEOUT).await;
            return Ok(());
        }
        let current = store.get_instance(id)?;
        let Some(mut current) = current.filter(|i| i.status != InstanceStatus::Deleting) else {
            let _ = server.stop(STOP_TIMEOUT).await;
            return Ok(());
        };
        if let Err(error) =
            replication::install_procedures(&server, &admin, &cluster.master_username).await
        {
            ctx.cluster_event(
                &cluster.id,
                ClusterEvent::ProceduresNotInstalled { error: &error },
            );
        }
        let was = current.status;
        current.status = InstanceStatus::Available;
        ferry_base::fail_point!("instance.before-available");
        let mut servers = self.servers.lock().await;
        let recorded = store.transition_instance(&current);
        if !matches!(recorded, Ok(true)) {
            // Deleted meanwhile (or the store failed): the server must not outlive the start.
            drop(servers);
            let _ = server.stop(STOP_TIMEOUT).await;
            return recorded.map(drop).map_err(ControlError::from);
        }
        let agent = replication::spawn_agent(ctx, &cluster.id, server.socket(), &admin);
        let guardian = guardian::spawn(
            ctx.clone(),
            Arc::downgrade(self),
            guardian::Watch {
                instance: id.clone(),
                cluster: cluster.id.clone(),
                socket: server.socket().to_owned(),
                admin: admin.clone(),
                master_user: cluster.master_username.clone(),
            },
        );
        servers.insert(
            id.clone(),
            Managed {
                cluster: cluster.id.clone(),
                server,
                started: Instant::now(),
                _agent: agent,
                _guardian: guardian,
            },
        );
        drop(servers);
        match was {
            InstanceStatus::Creating => ctx.instance_event(id, InstanceEvent::Created),
            InstanceStatus::Starting
            | InstanceStatus::Available
            | InstanceStatus::Failed
            | InstanceStatus::Deleting => {
                if after_restart {
                    ctx.instance_event(id, InstanceEvent::Restarted)
                }
            }
        }
        Ok(())
    }

    /// Stops the instance's server, removes its run dir and its row.
    #[tracing::instrument(skip(self), fields(instance = %id))]
    async fn delete_instance(&self, id: &InstanceId) -> Result<(), ControlError> {
        // A start may be under way: wait until it has registered the server or given up (it
        // sees the `deleting` status and stops what it started).
        let bound = START_TIMEOUT + STOP_TIMEOUT;
        let deadline = Instant::now() + bound;
        while self
            .starting
            .lock()
            .expect("starting lock poisoned")
            .contains(id)
        {
            if Instant::now() > deadline {
                return Err(ControlError::TimedOut {
                    what: format!("the start of DB instance {id}"),
                    seconds: bound.as_secs(),
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let taken = self.servers.lock().await.remove(id);
        ferry_base::fail_point!("instance.before-stop");
        if let Some(m) = taken {
            m.server.stop(STOP_TIMEOUT).await?;
        }
        let ctx = &self.ctx;
        let Some(instance) = ctx.store.get_instance(id)? else {
            return Ok(());
        };
        let run_dir = ctx.layout.instance_dir(&instance.cluster_id, id);
        stop_server_in(&run_dir).await?;
        ferry_base::fail_point!("instance.after-stop");
        if run_dir.exists() {
            ctx.layout
                .remove_dir_safely(&run_dir)
                .map_err(ControlError::io("remove", &run_dir))?;
        }
        ferry_base::fail_point!("instance.before-row-delete");
        ctx.store.delete_instance(id)?;
        self.restarts
            .lock()
            .expect("restarts lock poisoned")
            .forget(id);
        ctx.instance_event(id, InstanceEvent::Deleted);
        Ok(())
    }
}

/// A server id derived from the instance's resource id: stable across restarts and unlikely
/// to equal the source's (replication needs them to differ).
fn server_id(resource_id: &str) -> u32 {
    let mut h: u32 = 2_166_136_261;
    for b in resource_id.bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(16_777_619);
    }
    1000 + h % 4_000_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> InstanceId {
        InstanceId::new_unchecked(s)
    }

    #[test]
    fn quick_exits_are_restarted_five_times_then_given_up() {
        let mut c = RestartCounter::default();
        let quick = Duration::from_secs(3);
        for attempt in 1..=MAX_RESTARTS {
            assert_eq!(c.on_exit(&id("a"), quick), AfterExit::Restart { attempt });
        }
        assert_eq!(c.on_exit(&id("a"), quick), AfterExit::GiveUp);
        assert_eq!(c.on_exit(&id("a"), quick), AfterExit::GiveUp);
        // Another instance keeps its own count.
        assert_eq!(
            c.on_exit(&id("b"), quick),
            AfterExit::Restart { attempt: 1 }
        );
    }

    #[test]
    fn a_server_that_ran_long_enough_starts_a_new_row() {
        let mut c = RestartCounter::default();
        let quick = Duration::from_secs(3);
        for _ in 0..MAX_RESTARTS {
            c.on_exit(&id("a"), quick);
        }
        let stable = STABLE_UPTIME + Duration::from_secs(1);
        assert_eq!(
            c.on_exit(&id("a"), stable),
            AfterExit::Restart { attempt: 1 }
        );
        // Exactly the bound is not yet stable.
        for _ in 1..MAX_RESTARTS {
            c.on_exit(&id("a"), STABLE_UPTIME);
        }
        assert_eq!(c.on_exit(&id("a"), STABLE_UPTIME), AfterExit::GiveUp);
    }

    #[test]
    fn a_deleted_instance_is_forgotten() {
        let mut c = RestartCounter::default();
        for _ in 0..=MAX_RESTARTS {
            c.on_exit(&id("a"), Duration::ZERO);
        }
        c.forget(&id("a"));
        assert_eq!(
            c.on_exit(&id("a"), Duration::ZERO),
            AfterExit::Restart { attempt: 1 }
        );
    }

    #[test]
    fn server_ids_are_stable_and_never_small() {
        let a = server_id("db-ABCDEFGHIJKLMNOPQRSTUVWXYZ");
        assert_eq!(a, server_id("db-ABCDEFGHIJKLMNOPQRSTUVWXYZ"));
        assert_ne!(a, server_id("db-ABCDEFGHIJKLMNOPQRSTUVWXY0"));
        assert!(a >= 1000);
    }
}
