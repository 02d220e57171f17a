//! The control plane: the operations behind the API, and the background work they start.
//!
//! [`ControlPlane`] owns the metadata store, the job runner ([`crate::jobs`]) and the instance
//! supervisor ([`crate::supervisor`]). API requests call its methods, which check state in the
//! store, record the change (with its event) in one transaction, answer at once, and leave the
//! slow part (restoring, starting a server) to a task. After a restart, [`ControlPlane::open`]
//! brings every resource back to where its status says it should be.

use std::sync::Arc;

use ferry_engine::Toolbox;
use time::OffsetDateTime;

use crate::auth::Principal;
use crate::config::Config;
use crate::credentials;
use crate::ctx::Ctx;
use crate::error::ControlError;
use crate::events::ClusterEvent;
use crate::identity::Containment;
use crate::jobs::Jobs;
use crate::layout::Layout;
use crate::model::{
    Cluster, ClusterId, ClusterSettings, ClusterStatus, EngineName, Event, Instance, InstanceId,
    InstanceStatus, JobKind, S3Origin,
};
use crate::requests::{
    CreateClusterRequest, CreateInstanceRequest, DeleteClusterRequest, EventsRequest, Filters,
    ModifyClusterRequest, RestoreFromS3Request,
};
use crate::store::{EventQuery, Store};
use crate::supervisor::Supervisor;

use crate::{instance_class, secrets};
pub use iam_policies::{
    ContextEntry, CreateRoleRequest, Evaluation, MatchedStatement, PolicyScope, SimulatedPolicy,
};

mod clusters;
pub use clusters::CreationProgress;
pub mod iam_identities;
mod iam_policies;
mod imports;
pub use imports::{
    plain_literal, statement, FinishStatus, ImportObject, ObjectOutcome, StartImport,
    SESSION_ALLOW_LIST,
};
mod ingestion;
pub use ingestion::IngestionRole;
mod instances;
pub mod preflight;
mod replication;
pub use replication::ExternalSource;
mod tags;

/// A cluster with what DescribeDBClusters shows beside the stored row.
#[derive(Debug, Clone)]
pub struct ClusterView {
    pub cluster: Cluster,
    pub members: Vec<Instance>,
    /// The address clients connect to, once the cluster has a writer instance.
    pub endpoint: Option<String>,
    /// How far the restore has come, 0-100, while the cluster is `creating` (from the running
    /// job's progress; never stored).
    pub percent_progress: Option<u8>,
    pub arn: String,
}

/// An instance with its endpoint and ARN.
#[derive(Debug, Clone)]
pub struct InstanceView {
    pub instance: Instance,
    /// Address and port, once the instance is running.
    pub endpoint: Option<(String, u16)>,
    pub arn: String,
    pub master_username: String,
    pub engine_version: String,
    /// The cluster's settings, which RDS shows on each of its instances too (subnet group,
    /// security groups, backup window, encryption).
    pub cluster_settings: ClusterSettings,
}

/// One page of a listing.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub marker: Option<String>,
}

#[derive(Clone)]
pub struct ControlPlane {
    inner: Arc<Inner>,
}

struct Inner {
    ctx: Arc<Ctx>,
    jobs: Jobs,
    supervisor: Arc<Supervisor>,
    /// Serialises the check-then-create of clusters and instances (identifier and port
    /// uniqueness, one writer per cluster), which span the store and the filesystem.
    create_lock: tokio::sync::Mutex<()>,
    /// Held for the life of the process: one `ferry serve` per data dir.
    _lock: std::fs::File,
}

impl ControlPlane {
    /// Opens (or creates) the data dir, takes its lock, loads the store, makes sure the admin
    /// credentials exist, and resumes whatever was in flight when the last process stopped.
    pub async fn open(layout: Layout, config: Config) -> Result<ControlPlane, ControlError> {
        layout
            .ensure_root()
            .map_err(ControlError::io("create", layout.root()))?;
        let lock = take_lock(&layout)?;
        // Directories a previous process renamed into trash/ but did not finish deleting.
        if let Err(e) = layout.empty_trash() {
            tracing::warn!(error = %e, "cannot empty the trash directory");
        }
        let store = Store::open(&layout.database())?;
        let toolbox = Toolbox::discover().await?;
        credentials::ensure_admin(&store, &layout, &config)?;
        let server_user = resolve_server_user(&layout, &config);
        let containment = Containment::decide(&config, server_user);
        let ctx = Arc::new(Ctx::new(layout, config, store, toolbox, containment));
        let cp = ControlPlane {
            inner: Arc::new(Inner {
                jobs: Jobs::new(ctx.clone()),
                supervisor: Supervisor::new(ctx.clone()),
                ctx,
                create_lock: tokio::sync::Mutex::new(()),
                _lock: lock,
            }),
        };
        cp.resume().await?;
        cp.inner.supervisor.spawn_monitor();
        cp.spawn_import_leases();
        Ok(cp)
    }

    pub fn layout(&self) -> &Layout {
        &self.inner.ctx.layout
    }

    pub fn config(&self) -> &Config {
        &self.inner.ctx.config
    }

    pub fn store(&self) -> &Store {
        &self.inner.ctx.store
    }

    fn ctx(&self) -> &Ctx {
        &self.inner.ctx
    }

    /// Stops background work: restore jobs are interrupted (they resume at the next start,
    /// from their staging) and instances are shut down cleanly (started again at the next
    /// start).
    pub async fn shutdown(&self) {
        self.inner.ctx.begin_shutdown();
        self.inner.jobs.abort_all().await;
        self.inner.supervisor.stop_all().await;
    }

    /// Brings resources back to the state their status promises, after a restart.
    async fn resume(&self) -> Result<(), ControlError> {
        let ctx = self.ctx();
        let store = &ctx.store;
        // Servers left running by a control plane that was killed: none may share a volume
        // with what starts now.
        let ids: Vec<ClusterId> = store.list_clusters()?.into_iter().map(|c| c.id).collect();
        for id in &ids {
            crate::leftovers::stop_servers_of(&ctx.layout, id).await;
            crate::leftovers::stop_tools_of(&ctx.layout, id).await;
        }
        // Before the instances start again (below), which is what puts back the durability
        // settings of the imports this marks interrupted.
        self.interrupt_imports_at_start()?;
        for job in store.pending_jobs()? {
            tracing::info!(cluster = %job.cluster_id, kind = job.kind.as_str(), "resuming job");
            self.inner.jobs.spawn(job)?;
        }
        for cluster in store.list_clusters()? {
            match cluster.status {
                ClusterStatus::Deleting => self.spawn_cluster_deletion(cluster.id.clone()),
                ClusterStatus::ResettingMasterCredentials => {
                    let mut c = cluster.clone();
                    c.status = ClusterStatus::Available;
                    store.transition_cluster(&c)?;
                    ctx.cluster_event(&cluster.id, ClusterEvent::ResetInterrupted);
                }
                ClusterStatus::Creating
                | ClusterStatus::Available
                | ClusterStatus::MigrationFailed => {}
            }
        }
        for instance in store.list_instances()? {
            match instance.status {
                InstanceStatus::Deleting => {
                    self.inner.supervisor.spawn_deletion(instance.id.clone())
                }
                InstanceStatus::Creating => self
                    .inner
                    .supervisor
                    .spawn_start(instance.id.clone(), false),
                InstanceStatus::Starting | InstanceStatus::Available | InstanceStatus::Failed => {
                    let mut i = instance.clone();
                    i.status = InstanceStatus::Starting;
                    store.transition_instance(&i)?; // one already `starting` stays so
                    self.inner.supervisor.spawn_start(instance.id.clone(), true)
                }
            }
        }
        Ok(())
    }

    // ---- authorization -------------------------------------------------------------------

    /// The one authorization point: every API action passes through here before acting,
    /// with its IAM action name (`rds:DescribeDBClusters`, `iam:CreateUser`,
    /// `ferry:Cutover`) and resource ARN.
    pub fn authorize(
        &self,
        principal: &Principal,
        action: &str,
        resource: &str,
    ) -> Result<(), ControlError> {
        self.authorize_with(principal, action, resource, &ferry_iam::Context::new())
    }

    /// [`ControlPlane::authorize`] with the request's own condition keys
    /// (`aws:RequestTag/*`, `aws:TagKeys`, `aws:ResourceTag/*`, `rds:DatabaseEngine`, ...).
    pub fn authorize_with(
        &self,
        principal: &Principal,
        action: &str,
        resource: &str,
        keys: &ferry_iam::Context,
    ) -> Result<(), ControlError> {
        let ctx = self.ctx();
        ctx.authz
            .authorize(&ctx.store, principal, action, resource, keys)
    }

    /// The condition keys every request has (time, region): where a simulation of
    /// documents with no principal starts.
    pub fn request_keys(&self) -> ferry_iam::Context {
        self.ctx().authz.request_keys()
    }

    /// The secret for an access key, for SigV4 verification: `None` for an unknown key and
    /// for an `Inactive` one (which AWS refuses exactly like an unknown one).
    pub fn access_key(&self, access_key_id: &str) -> Option<crate::store::AccessKey> {
        match self.ctx().store.get_access_key(access_key_id) {
            Ok(Some(k)) if k.status == crate::store::KeyStatus::Active => Some(k),
            Ok(_) => None,
            Err(e) => {
                tracing::error!(access_key_id, error = %ferry_base::error::flatten(&e), "cannot read the access key");
                None
            }
        }
    }

    // ---- ARNs ----------------------------------------------------------------------------

    pub fn cluster_arn(&self, id: &ClusterId) -> String {
        let c = &self.ctx().config;
        format!("arn:aws:rds:{}:{}:cluster:{id}", c.region, c.account_id)
    }

    pub fn instance_arn(&self, id: &InstanceId) -> String {
        let c = &self.ctx().config;
        format!("arn:aws:rds:{}:{}:db:{id}", c.region, c.account_id)
    }

    // ---- events --------------------------------------------------------------------------

    pub fn describe_events(
        &self,
        req: &EventsRequest,
        max_records: usize,
        marker: Option<&str>,
    ) -> Result<Page<Event>, ControlError> {
        let now = OffsetDateTime::now_utc();
        let start = match (req.start, req.duration_minutes) {
            (Some(s), _) => s,
            (None, Some(d)) => now - time::Duration::minutes(i64::from(d)),
            (None, None) if req.end.is_some() => {
                req.end.expect("checked") - time::Duration::minutes(60)
            }
            (None, None) => now - time::Duration::minutes(60),
        };
        let after_seq = match marker {
            Some(m) => Some(m.parse::<i64>().map_err(|_| {
                ControlError::invalid_value(format!("The marker {m:?} is not valid."))
            })?),
            None => None,
        };
        // Categories are filtered here, before the page is cut, so pages stay full.
        let filtered = !req.categories.is_empty();
        let mut events = self.ctx().store.events(&EventQuery {
            source_type: req.source_type,
            source_id: req.source_id.clone(),
            start: Some(start),
            end: req.end,
            after_seq,
            limit: (!filtered).then_some(max_records + 1),
            newest_first: req.newest_first,
        })?;
        if filtered {
            events.retain(|e| e.categories.iter().any(|c| req.categories.contains(c)));
        }
        let marker = if events.len() > max_records {
            events.truncate(max_records);
            events.last().map(|e| e.seq.to_string())
        } else {
            None
        };
        Ok(Page {
            items: events,
            marker,
        })
    }
}

/// Which OS user servers run as: `config.server_user` when ferry runs as root, that user
/// exists and can reach the data dir (which is then made passable, 0711, for it); else none
/// (servers run as ferry's own user), with a warning saying why.
fn resolve_server_user(layout: &Layout, config: &Config) -> Option<ferry_engine::OsUser> {
    if !ferry_engine::running_as_root() || config.server_user == "root" {
        return None;
    }
    // Per-cluster uids: the first of the range stands for all (the same directories must let
    // them pass).
    if let Some(range) = config.server_uids {
        let first = ferry_engine::OsUser {
            name: format!("uid {}", range.first),
            uid: range.first,
            gid: range.first,
        };
        return passable_for(layout, first);
    }
    let name = &config.server_user;
    let user = match ferry_engine::OsUser::lookup(name) {
        Ok(Some(u)) if u.uid != 0 => u,
        Ok(Some(_)) => return None,
        Ok(None) => {
            tracing::warn!(user = %name, "database servers run as root: there is no OS user {name} (set server_user in the config)");
            return None;
        }
        Err(e) => {
            tracing::warn!(user = %name, error = %e, "database servers run as root");
            return None;
        }
    };
    passable_for(layout, user)
}

/// `user` when it can reach the clusters' directories (the data dir is made passable, 0711,
/// for it); else none, with a warning.
fn passable_for(layout: &Layout, user: ferry_engine::OsUser) -> Option<ferry_engine::OsUser> {
    use std::os::unix::fs::PermissionsExt;
    let name = &user.name;
    for dir in [layout.root().to_path_buf(), layout.clusters_dir()] {
        if let Err(e) = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o711)) {
            tracing::warn!(dir = %dir, error = %e, "database servers run as root: cannot make the data dir passable");
            return None;
        }
    }
    if let Some(blocked) = user.blocked_at(layout.clusters_dir().as_std_path()) {
        tracing::warn!(
            user = %name,
            blocked = %blocked.display(),
            "database servers run as root: {name} cannot pass {}; let it (chmod o+x) to run them as {name}",
            blocked.display()
        );
        return None;
    }
    tracing::info!(user = %name, uid = user.uid, "database servers run as {name}");
    Some(user)
}

/// `cluster-` / `db-` + 26 upper-case alphanumerics, as RDS's resource ids look.
fn resource_id(prefix: &str) -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();
    let tail: String = (0..26)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect();
    format!("{prefix}{tail}")
}

/// `arn:aws:rds:<region>:<account>:<kind>:<id>` -> `<id>`; anything else unchanged.
fn strip_arn<'a>(raw: &'a str, kind: &str) -> &'a str {
    if raw.starts_with("arn:") {
        let parts: Vec<&str> = raw.splitn(7, ':').collect();
        if parts.len() == 7 && parts[2] == "rds" && parts[5] == kind {
            return parts[6];
        }
    }
    raw
}

fn filter_values_match(values: &[String], actual: &str, kind: &str) -> bool {
    values
        .iter()
        .any(|v| v.eq_ignore_ascii_case(actual) || strip_arn(v, kind).eq_ignore_ascii_case(actual))
}

fn cluster_matches(c: &Cluster, filters: &Filters) -> Result<bool, ControlError> {
    for (name, values) in &filters.0 {
        let ok = match name.as_str() {
            "db-cluster-id" => filter_values_match(values, c.id.as_str(), "cluster"),
            "db-cluster-resource-id" => values.iter().any(|v| v == &c.resource_id),
            "engine" => values.iter().any(|v| v == c.engine.as_str()),
            "clone-group-id" | "domain" => false,
            other => {
                return Err(ControlError::invalid_value(format!(
                    "Unrecognized filter name: {other}."
                )))
            }
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

fn instance_matches(i: &Instance, filters: &Filters) -> Result<bool, ControlError> {
    for (name, values) in &filters.0 {
        let ok = match name.as_str() {
            "db-cluster-id" => filter_values_match(values, i.cluster_id.as_str(), "cluster"),
            "db-instance-id" => filter_values_match(values, i.id.as_str(), "db"),
            "dbi-resource-id" => values.iter().any(|v| v == &i.resource_id),
            "engine" => values.iter().any(|v| v == i.engine.as_str()),
            "domain" => false,
            other => {
                return Err(ControlError::invalid_value(format!(
                    "Unrecognized filter name: {other}."
                )))
            }
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Items after `marker` (the key of the last item of the previous page), at most `max`.
fn paginate<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> String,
    max: usize,
    marker: Option<&str>,
) -> Page<T> {
    let mut rest: Vec<T> = match marker {
        Some(m) => items.into_iter().filter(|i| key(i).as_str() > m).collect(),
        None => items,
    };
    let marker = if rest.len() > max {
        rest.truncate(max);
        rest.last().map(&key)
    } else {
        None
    };
    Page {
        items: rest,
        marker,
    }
}

/// Who holds a port an instance would listen on, as a refusal names it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PortHolder {
    /// ferry's own API listens on that port.
    FerryApi,
    /// Something else on the host listens on it (the probe's bind found it in use).
    OtherProcess,
    /// The probe's bind failed for another reason (its message).
    Unbindable(String),
}

impl std::fmt::Display for PortHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortHolder::FerryApi => f.write_str("ferry's API listens on it"),
            PortHolder::OtherProcess => f.write_str("another process listens on it"),
            PortHolder::Unbindable(e) => write!(f, "it cannot be bound ({e})"),
        }
    }
}

/// Why an instance could not listen on `port` at `bind` (the address instances bind, see
/// [`crate::volume::instance_bind_address`]), or `None` when it could. `api` is where ferry's
/// API listens: its port is refused even where the addresses differ, so that no cluster
/// collides with the API after a change of `listen` or `advertised_host`. Otherwise the port
/// is bound, then released, at `bind` and at 127.0.0.1: `0.0.0.0` conflicts with a listener
/// on any IPv4 address (or a dual-stack `[::]`), `127.0.0.1` with one on loopback or
/// `0.0.0.0`.
///
/// Callers check the store's ports first and never probe a port a cluster already has, so a
/// probe cannot get in the way of an instance binding its own port.
fn port_holder(
    port: u16,
    api: std::net::SocketAddr,
    bind: std::net::Ipv4Addr,
) -> Option<PortHolder> {
    if port == api.port() {
        return Some(PortHolder::FerryApi);
    }
    let mut addresses = vec![bind];
    if bind != std::net::Ipv4Addr::LOCALHOST {
        addresses.push(std::net::Ipv4Addr::LOCALHOST);
    }
    for address in addresses {
        match std::net::TcpListener::bind((address, port)) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                return Some(PortHolder::OtherProcess)
            }
            Err(e) => return Some(PortHolder::Unbindable(e.to_string())),
        }
    }
    None
}

fn take_lock(layout: &Layout) -> Result<std::fs::File, ControlError> {
    let path = layout.lock_file();
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(ControlError::io("open", &path))?;
    // flock(2) on Linux: released when the process ends, however it ends.
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(ControlError::DataDirInUse {
            root: layout.root().to_path_buf(),
            lock: path,
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(ControlError::io("lock", path)(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_arns() {
        assert_eq!(
            strip_arn("arn:aws:rds:us-east-1:000000000000:cluster:abc", "cluster"),
            "abc"
        );
        assert_eq!(
            strip_arn("arn:aws:rds:us-east-1:000000000000:db:abc", "cluster"),
            "arn:aws:rds:us-east-1:000000000000:db:abc"
        );
        assert_eq!(strip_arn("abc", "db"), "abc");
    }

    #[test]
    fn pages() {
        let items: Vec<String> = (0..25).map(|i| format!("c{i:02}")).collect();
        let p = paginate(items.clone(), |s| s.clone(), 20, None);
        assert_eq!(p.items.len(), 20);
        assert_eq!(p.marker.as_deref(), Some("c19"));
        let p2 = paginate(items, |s| s.clone(), 20, p.marker.as_deref());
        assert_eq!(p2.items.len(), 5);
        assert_eq!(p2.marker, None);
    }

    #[test]
    fn ports_held_on_the_host_are_named() {
        use std::net::{Ipv4Addr, SocketAddr, TcpListener};
        let api = SocketAddr::from(([127, 0, 0, 1], 8900));
        let both = [Ipv4Addr::LOCALHOST, Ipv4Addr::UNSPECIFIED];
        for bind in both {
            assert_eq!(port_holder(8900, api, bind), Some(PortHolder::FerryApi));
        }
        // The API's port whatever address it listens on.
        let anywhere = SocketAddr::from(([0, 0, 0, 0], 8900));
        assert_eq!(
            port_holder(8900, anywhere, Ipv4Addr::LOCALHOST),
            Some(PortHolder::FerryApi)
        );
        // Held on loopback, or on every address: refused for either bind address.
        for held_at in both {
            let held = TcpListener::bind((held_at, 0)).unwrap();
            let port = held.local_addr().unwrap().port();
            for bind in both {
                assert_eq!(
                    port_holder(port, api, bind),
                    Some(PortHolder::OtherProcess),
                    "held at {held_at}, bind {bind}"
                );
            }
        }
        let free = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = free.local_addr().unwrap().port();
        drop(free);
        assert_eq!(port_holder(port, api, Ipv4Addr::UNSPECIFIED), None);
        assert_eq!(
            format!("Port 8900 is in use on this host: {}", PortHolder::FerryApi),
            "Port 8900 is in use on this host: ferry's API listens on it"
        );
    }

    #[test]
    fn resource_ids_look_like_rds() {
        let id = resource_id("cluster-");
        assert_eq!(id.len(), 34);
        assert!(id[8..]
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
    }
}
