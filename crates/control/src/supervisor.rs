//! The instance supervisor: one MariaDB server process per DB instance, on its cluster's
//! volume, started, watched and stopped here.
//!
//! Restart policy (documented in ARCHITECTURE.md): instances are *restarted*, not re-adopted.
//! `ferry serve` shuts its servers down cleanly when it stops, and starts every instance whose
//! status says it should run when it starts again. A server left behind by a control plane
//! that was killed (its pid file names a live `mariadbd` started from this run dir) is stopped
//! first, so two servers never share a volume. A server that exits on its own is marked
//! `failed` with the log tail in an event and started again, up to [`MAX_RESTARTS`] times.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use camino::Utf8Path;
use ferry_base::error::flatten;
use ferry_engine::accounts::AdminAccount;
use ferry_engine::config::PID_FILE;
use ferry_engine::{ReadyProbe, RunningServer, Server, ServerConfig, ServerStatus};

use crate::error::ControlError;
use crate::instance_class;
use crate::model::{ClusterId, InstanceId, InstanceStatus, SourceType};
use crate::secrets;
use crate::service::ControlPlane;

const MAX_RESTARTS: u32 = 5;
const START_TIMEOUT: Duration = Duration::from_secs(600);
const STOP_TIMEOUT: Duration = Duration::from_secs(120);

/// A server up this long before it exits is not counted as "failing in a row".
const STABLE_UPTIME: Duration = Duration::from_secs(600);
/// Events are kept 14 days, as RDS keeps them.
const EVENT_RETENTION: time::Duration = time::Duration::days(14);

struct Managed {
    cluster: ClusterId,
    server: RunningServer,
    started: std::time::Instant,
    /// The replication agent serving this server; stops when the entry goes.
    _agent: crate::replication::AgentTask,
}

#[derive(Default)]
pub(crate) struct Supervisor {
    servers: tokio::sync::Mutex<HashMap<InstanceId, Managed>>,
    restarts: std::sync::Mutex<HashMap<InstanceId, u32>>,
    /// Instances whose start is under way (a deletion waits for it to finish).
    starting: std::sync::Mutex<HashSet<InstanceId>>,
}

/// Marks an instance as starting for as long as it lives.
struct Starting<'a> {
    set: &'a std::sync::Mutex<HashSet<InstanceId>>,
    id: InstanceId,
}

impl<'a> Starting<'a> {
    /// `None` if a start of this instance is already under way.
    fn begin(set: &'a std::sync::Mutex<HashSet<InstanceId>>, id: &InstanceId) -> Option<Self> {
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
    /// Watches every running server once a second; prunes old events once an hour.
    pub(crate) fn spawn_monitor(&self, cp: ControlPlane) {
        tokio::spawn(async move {
            let mut ticks: u64 = 0;
            loop {
                if ticks.is_multiple_of(3600) {
                    let horizon = time::OffsetDateTime::now_utc() - EVENT_RETENTION;
                    if let Err(e) = cp.store().prune_events(horizon) {
                        tracing::warn!(error = %e, "cannot prune old events");
                    }
                }
                ticks += 1;
                tokio::time::sleep(Duration::from_secs(1)).await;
                if cp.is_shutting_down() {
                    return;
                }
                cp.inner.supervisor.check(&cp).await;
            }
        });
    }

    async fn check(&self, cp: &ControlPlane) {
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
                        let stable = servers
                            .remove(&id)
                            .is_some_and(|m| m.started.elapsed() > STABLE_UPTIME);
                        if stable {
                            self.restarts
                                .lock()
                                .expect("restarts lock poisoned")
                                .remove(&id);
                        }
                        exited.push((id, format!("{status}"), log_tail));
                    }
                    Err(e) => {
                        tracing::warn!(instance = %id, error = %e, "cannot check the server process");
                    }
                }
            }
        }
        for (id, status, tail) in exited {
            if cp.is_shutting_down() {
                return;
            }
            let Ok(Some(mut instance)) = cp.store().get_instance(&id) else {
                continue;
            };
            if instance.status == InstanceStatus::Deleting {
                continue;
            }
            let attempts = {
                let mut r = self.restarts.lock().expect("restarts lock poisoned");
                let n = r.entry(id.clone()).or_insert(0);
                *n += 1;
                *n
            };
            let again = attempts <= MAX_RESTARTS;
            instance.status = if again {
                InstanceStatus::Starting
            } else {
                InstanceStatus::Failed
            };
            // Only from `available`: a deletion requested meanwhile wins.
            match cp
                .store()
                .transition_instance(&instance, &[InstanceStatus::Available])
            {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    tracing::error!(instance = %id, error = %e, "cannot record the crash");
                    continue;
                }
            }
            cp.event(
                SourceType::DbInstance,
                id.as_str(),
                &format!(
                    "The database engine stopped unexpectedly ({status}). Log tail:\n{}",
                    tail.trim_end()
                ),
                &["failure"],
            );
            if again {
                cp.spawn_instance_start(id, true);
            } else {
                cp.event(
                    SourceType::DbInstance,
                    id.as_str(),
                    &format!("The DB instance failed {MAX_RESTARTS} times in a row and is left stopped; delete it and create it again."),
                    &["failure"],
                );
            }
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
    pub async fn is_running(&self, id: &InstanceId) -> bool {
        self.servers.lock().await.contains_key(id)
    }

    async fn take(&self, id: &InstanceId) -> Option<RunningServer> {
        self.servers.lock().await.remove(id).map(|m| m.server)
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
}

/// Starts an instance's server and moves the instance to `available` (or `failed`).
pub(crate) async fn start_instance(cp: &ControlPlane, id: &InstanceId, after_restart: bool) {
    let Some(_starting) = Starting::begin(&cp.inner.supervisor.starting, id) else {
        return;
    };
    if let Err(reason) = try_start(cp, id, after_restart).await {
        if let Ok(Some(mut instance)) = cp.store().get_instance(id) {
            instance.status = InstanceStatus::Failed;
            let recorded = cp.store().transition_instance(
                &instance,
                &[
                    InstanceStatus::Creating,
                    InstanceStatus::Starting,
                    InstanceStatus::Available,
                    InstanceStatus::Failed,
                ],
            );
            if let Ok(true) = recorded {
                cp.event(
                    SourceType::DbInstance,
                    id.as_str(),
                    &format!("The DB instance could not be started: {reason}"),
                    &["failure"],
                );
            }
        }
    }
}

async fn try_start(cp: &ControlPlane, id: &InstanceId, after_restart: bool) -> Result<(), String> {
    let store = cp.store();
    let Some(instance) = store.get_instance(id).map_err(|e| e.to_string())? else {
        return Ok(());
    };
    if instance.status == InstanceStatus::Deleting || cp.inner.supervisor.is_running(id).await {
        return Ok(());
    }
    let cluster = store
        .get_cluster(&instance.cluster_id)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("DB cluster {} no longer exists", instance.cluster_id))?;
    let layout = cp.layout();
    let admin = secrets::read_admin(layout, &cluster.id).map_err(|e| e.to_string())?;
    let resources = instance_class::resources(&instance.instance_class)
        .ok_or_else(|| format!("unknown DB instance class {}", instance.instance_class))?;
    let run_dir = layout.instance_dir(&cluster.id, &instance.id);
    std::fs::create_dir_all(&run_dir).map_err(|e| format!("create {run_dir}: {e}"))?;
    stop_stale_server(&run_dir).await;

    let mut cfg = ServerConfig::new(layout.volume(&cluster.id), &run_dir, cluster.port);
    let host = &cp.config().advertised_host;
    cfg.bind_address = if host == "127.0.0.1" || host == "localhost" {
        "127.0.0.1".to_string()
    } else {
        "0.0.0.0".to_string()
    };
    cfg.buffer_pool_bytes = resources.buffer_pool_bytes;
    cfg.max_connections = resources.max_connections;
    cfg.server_id = server_id(&instance.resource_id);
    cfg.extra.push((
        "secure-file-priv".to_string(),
        private_dir(&layout.cluster_files(&cluster.id))?.to_string(),
    ));
    // Relay logs and replica state live in the volume under fixed names (the defaults carry
    // the host name, which would orphan them when the data dir moves to another host).
    // Replication threads never start by themselves (`skip-slave-start`, the default): the
    // agent resumes them when the cluster's replication status says they were running.
    cfg.extra
        .push(("relay-log".to_string(), "relay-bin".to_string()));
    cfg.extra
        .push(("relay-log-index".to_string(), "relay-bin.index".to_string()));
    cp.hand_over(&mut cfg, &cluster.id)
        .map_err(|e| e.to_string())?;
    let toolbox = &cp.inner.toolbox;
    let probe = |a: &AdminAccount| ReadyProbe::user(a.user.clone(), Some(a.password.clone()));
    let first = Server::start(
        toolbox,
        &cfg,
        run_dir.as_std_path(),
        probe(&admin),
        START_TIMEOUT,
    )
    .await;
    let (server, admin) = match first {
        Ok(s) => (s, admin),
        Err(ferry_engine::EngineError::ProbeLoginRefused { .. }) => {
            // ferry's own account was altered from inside: put it back, then start again.
            let admin = crate::jobs::repair_admin(cp, &cluster.id)
                .await
                .map_err(|e| e.to_string())?;
            let server = Server::start(
                toolbox,
                &cfg,
                run_dir.as_std_path(),
                probe(&admin),
                START_TIMEOUT,
            )
            .await
            .map_err(|e| flatten(&e))?;
            (server, admin)
        }
        Err(e) => return Err(flatten(&e)),
    };

    // Deleted while starting, or the control plane is stopping: do not leave it running.
    if cp.is_shutting_down() {
        let _ = server.stop(STOP_TIMEOUT).await;
        return Ok(());
    }
    let current = store.get_instance(id).map_err(|e| e.to_string())?;
    let Some(mut current) = current.filter(|i| i.status != InstanceStatus::Deleting) else {
        let _ = server.stop(STOP_TIMEOUT).await;
        return Ok(());
    };
    if let Err(e) =
        crate::replication::install_procedures(&server, &admin, &cluster.master_username).await
    {
        cp.event(
            SourceType::DbCluster,
            cluster.id.as_str(),
            &format!("The replication procedures (mysql.rds_*) could not be installed: {e}"),
            &["failure"],
        );
    }
    let was = current.status;
    current.status = InstanceStatus::Available;
    let mut servers = cp.inner.supervisor.servers.lock().await;
    let recorded = store.transition_instance(
        &current,
        &[
            InstanceStatus::Creating,
            InstanceStatus::Starting,
            InstanceStatus::Available,
            InstanceStatus::Failed,
        ],
    );
    if !matches!(recorded, Ok(true)) {
        // Deleted meanwhile (or the store failed): the server must not outlive the start.
        drop(servers);
        let _ = server.stop(STOP_TIMEOUT).await;
        return recorded.map(drop).map_err(|e| e.to_string());
    }
    let agent = crate::replication::spawn_agent(cp, &cluster.id, server.socket(), &admin);
    servers.insert(
        id.clone(),
        Managed {
            cluster: cluster.id.clone(),
            server,
            started: std::time::Instant::now(),
            _agent: agent,
        },
    );
    drop(servers);
    match was {
        InstanceStatus::Creating => cp.event(
            SourceType::DbInstance,
            id.as_str(),
            "DB instance created.",
            &["creation"],
        ),
        InstanceStatus::Starting
        | InstanceStatus::Available
        | InstanceStatus::Failed
        | InstanceStatus::Deleting => {
            if after_restart {
                cp.event(
                    SourceType::DbInstance,
                    id.as_str(),
                    "DB instance restarted.",
                    &["availability"],
                )
            }
        }
    }
    Ok(())
}

/// Stops the instance's server, removes its run dir and its row.
pub(crate) async fn delete_instance(
    cp: &ControlPlane,
    id: &InstanceId,
) -> Result<(), ControlError> {
    // A start may be under way: wait until it has registered the server or given up (it
    // sees the `deleting` status and stops what it started).
    let deadline = std::time::Instant::now() + START_TIMEOUT + STOP_TIMEOUT;
    while cp
        .inner
        .supervisor
        .starting
        .lock()
        .expect("starting lock poisoned")
        .contains(id)
    {
        if std::time::Instant::now() > deadline {
            return Err(ControlError::Internal(format!(
                "the start of DB instance {id} did not finish"
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if let Some(server) = cp.inner.supervisor.take(id).await {
        server
            .stop(STOP_TIMEOUT)
            .await
            .map_err(|e| ControlError::Internal(format!("stop the server of {id}: {e}")))?;
    }
    let Some(instance) = cp.store().get_instance(id)? else {
        return Ok(());
    };
    let run_dir = cp.layout().instance_dir(&instance.cluster_id, id);
    stop_stale_server(&run_dir).await;
    if run_dir.exists() {
        cp.layout()
            .remove_dir_safely(&run_dir)
            .map_err(|e| ControlError::Internal(format!("remove {run_dir}: {e}")))?;
    }
    cp.store().delete_instance(id)?;
    cp.inner
        .supervisor
        .restarts
        .lock()
        .expect("restarts lock poisoned")
        .remove(id);
    cp.event(
        SourceType::DbInstance,
        id.as_str(),
        "DB instance deleted.",
        &["deletion"],
    );
    Ok(())
}

/// Creates `dir` (0700) if needed and returns it.
pub(crate) fn private_dir(dir: &camino::Utf8Path) -> Result<camino::Utf8PathBuf, String> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("create {dir}: {e}"))?;
    Ok(dir.to_path_buf())
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

/// Stops every server left running on a cluster's volume by an earlier control plane: its
/// one-off run dir and every instance run dir.
pub(crate) async fn stop_stale_servers_of(layout: &crate::layout::Layout, id: &ClusterId) {
    let mut dirs = vec![layout.cluster_dir(id).join("boot")];
    if let Ok(entries) = std::fs::read_dir(layout.cluster_dir(id).join("instances")) {
        dirs.extend(
            entries
                .flatten()
                .filter_map(|e| camino::Utf8PathBuf::from_path_buf(e.path()).ok()),
        );
    }
    for d in dirs {
        stop_stale_server(&d).await;
    }
}

/// Kills tools (mariabackup's prepare, ...) an earlier control plane that was killed left
/// working on a cluster's staging area or restore target: children run in their own process
/// groups and outlive ferry, and a resumed job must not share those directories with them.
pub(crate) async fn stop_stale_tools_of(layout: &crate::layout::Layout, ids: &[ClusterId]) {
    // One scan of /proc for every cluster at once.
    let needles: Vec<String> = ids
        .iter()
        .flat_map(|id| {
            [
                format!("{}/", layout.staging(id)),
                layout.cluster_dir(id).join("restoring").to_string(),
            ]
        })
        .collect();
    if needles.is_empty() {
        return;
    }
    let matching = || -> Vec<i32> {
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
            .filter(|pid| *pid > 1 && *pid != std::process::id() as i32)
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .map(|c| {
                        let c = String::from_utf8_lossy(&c).replace('\0', " ");
                        needles.iter().any(|n| c.contains(n.as_str()))
                    })
                    .unwrap_or(false)
            })
            .collect()
    };
    let pids = matching();
    if pids.is_empty() {
        return;
    }
    for pid in &pids {
        tracing::warn!(pid, "killing a tool left running by an earlier ferry serve");
        // SAFETY: kill(2) on a process whose command line names a cluster's staging area or
        // restore target, which only ferry's own tools do.
        unsafe { libc::kill(*pid, libc::SIGKILL) };
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !matching().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Stops a server left running from `run_dir` by an earlier control plane (one that was
/// killed before it could shut its servers down).
pub(crate) async fn stop_stale_server(run_dir: &Utf8Path) {
    let Ok(text) = std::fs::read_to_string(run_dir.join(PID_FILE)) else {
        return;
    };
    let Ok(pid) = text.trim().parse::<i32>() else {
        return;
    };
    let alive = |pid: i32| -> bool {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|c| {
                let c = String::from_utf8_lossy(&c);
                c.contains(run_dir.as_str())
            })
            .unwrap_or(false)
    };
    if pid <= 1 || !alive(pid) {
        return;
    }
    tracing::warn!(pid, dir = %run_dir, "stopping a server left running by an earlier ferry serve");
    // SAFETY: kill(2) on a pid whose command line names our run dir.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while alive(pid) {
        if std::time::Instant::now() > deadline {
            // SAFETY: as above.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        if std::time::Instant::now() > deadline + Duration::from_secs(10) {
            break;
        }
    }
}
