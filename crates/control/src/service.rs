//! The control plane: the operations behind the API, and the background work they start.
//!
//! [`ControlPlane`] owns the metadata store, the job runner ([`crate::jobs`]) and the instance
//! supervisor ([`crate::supervisor`]). API requests call its methods, which check state in the
//! store, record the change (with its event) in one transaction, answer at once, and leave the
//! slow part (restoring, starting a server) to a task. After a restart, [`ControlPlane::open`]
//! brings every resource back to where its status says it should be.

use std::collections::HashMap;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use ferry_engine::Toolbox;
use time::OffsetDateTime;

use crate::auth::{self, Principal};
use crate::config::Config;
use crate::credentials;
use crate::error::ControlError;
use crate::jobs::{self, JobHandle};
use crate::layout::Layout;
use crate::model::{
    Cluster, ClusterId, ClusterStatus, EngineName, Event, Instance, InstanceId, InstanceStatus,
    JobKind, S3Origin, SourceType,
};
use crate::requests::{
    ClusterSettings, CreateClusterRequest, CreateInstanceRequest, DeleteClusterRequest,
    EventsRequest, Filters, ModifyClusterRequest, RestoreFromS3Request,
};
use crate::store::{EventQuery, NewEvent, Store};
use crate::supervisor::Supervisor;
use crate::{instance_class, secrets};

/// A cluster with what DescribeDBClusters shows beside the stored row.
#[derive(Debug, Clone)]
pub struct ClusterView {
    pub cluster: Cluster,
    pub members: Vec<Instance>,
    /// The address clients connect to, once the cluster has a writer instance.
    pub endpoint: Option<String>,
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
}

/// One page of a listing.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub marker: Option<String>,
}

#[derive(Clone)]
pub struct ControlPlane {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) layout: Layout,
    pub(crate) config: Config,
    pub(crate) store: Store,
    pub(crate) toolbox: Toolbox,
    pub(crate) jobs: Mutex<HashMap<ClusterId, JobHandle>>,
    pub(crate) supervisor: Supervisor,
    pub(crate) shutting_down: AtomicBool,
    /// Held for the life of the process: one `ferry serve` per data dir.
    _lock: std::fs::File,
}

impl ControlPlane {
    /// Opens (or creates) the data dir, takes its lock, loads the store, makes sure the admin
    /// credentials exist, and resumes whatever was in flight when the last process stopped.
    pub async fn open(layout: Layout, config: Config) -> Result<ControlPlane, ControlError> {
        layout
            .ensure_root()
            .map_err(|e| ControlError::Internal(e.to_string()))?;
        let lock = take_lock(&layout)?;
        // Directories a previous process renamed into trash/ but did not finish deleting.
        if let Err(e) = layout.empty_trash() {
            tracing::warn!(error = %e, "cannot empty the trash directory");
        }
        let store = Store::open(&layout.database())?;
        let toolbox = Toolbox::discover()
            .await
            .map_err(|e| ControlError::Internal(format!("database engine: {e}")))?;
        credentials::ensure_admin(&store, &layout, &config)?;
        let cp = ControlPlane {
            inner: Arc::new(Inner {
                layout,
                config,
                store,
                toolbox,
                jobs: Mutex::new(HashMap::new()),
                supervisor: Supervisor::default(),
                shutting_down: AtomicBool::new(false),
                _lock: lock,
            }),
        };
        cp.resume().await?;
        cp.inner.supervisor.spawn_monitor(cp.clone());
        Ok(cp)
    }

    pub fn layout(&self) -> &Layout {
        &self.inner.layout
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn is_shutting_down(&self) -> bool {
        self.inner.shutting_down.load(Ordering::SeqCst)
    }

    /// Stops background work: restore jobs are interrupted (they resume at the next start,
    /// from their staging) and instances are shut down cleanly (started again at the next
    /// start).
    pub async fn shutdown(&self) {
        self.inner.shutting_down.store(true, Ordering::SeqCst);
        let handles: Vec<JobHandle> = {
            let mut jobs = self.inner.jobs.lock().expect("jobs lock poisoned");
            jobs.drain().map(|(_, h)| h).collect()
        };
        for h in handles {
            h.abort_and_wait().await;
        }
        self.inner.supervisor.stop_all().await;
    }

    /// Brings resources back to the state their status promises, after a restart.
    async fn resume(&self) -> Result<(), ControlError> {
        let store = &self.inner.store;
        for job in store.pending_jobs()? {
            tracing::info!(cluster = %job.cluster_id, kind = job.kind.as_str(), "resuming job");
            self.spawn_job(job)?;
        }
        for cluster in store.list_clusters()? {
            match cluster.status {
                ClusterStatus::Deleting => self.spawn_cluster_deletion(cluster.id.clone()),
                ClusterStatus::ResettingMasterCredentials => {
                    let mut c = cluster.clone();
                    c.status = ClusterStatus::Available;
                    store.update_cluster(&c)?;
                }
                ClusterStatus::Creating
                | ClusterStatus::Available
                | ClusterStatus::MigrationFailed => {}
            }
        }
        for instance in store.list_instances()? {
            match instance.status {
                InstanceStatus::Deleting => self.spawn_instance_deletion(instance.id.clone()),
                InstanceStatus::Creating => self.spawn_instance_start(instance.id.clone(), false),
                InstanceStatus::Starting | InstanceStatus::Available | InstanceStatus::Failed => {
                    let mut i = instance.clone();
                    i.status = InstanceStatus::Starting;
                    store.update_instance(&i)?;
                    self.spawn_instance_start(instance.id.clone(), true)
                }
            }
        }
        Ok(())
    }

    // ---- authorization -------------------------------------------------------------------

    /// The one authorization point: every API action passes through here before acting.
    pub fn authorize(
        &self,
        principal: &Principal,
        action: &str,
        resource: &str,
    ) -> Result<(), ControlError> {
        auth::authorize(&self.inner.store, principal, action, resource)
    }

    /// The secret for an access key, for SigV4 verification.
    pub fn access_key(&self, access_key_id: &str) -> Option<crate::store::AccessKey> {
        self.inner
            .store
            .get_access_key(access_key_id)
            .ok()
            .flatten()
    }

    // ---- ARNs ----------------------------------------------------------------------------

    pub fn cluster_arn(&self, id: &ClusterId) -> String {
        let c = &self.inner.config;
        format!("arn:aws:rds:{}:{}:cluster:{id}", c.region, c.account_id)
    }

    pub fn instance_arn(&self, id: &InstanceId) -> String {
        let c = &self.inner.config;
        format!("arn:aws:rds:{}:{}:db:{id}", c.region, c.account_id)
    }

    // ---- clusters ------------------------------------------------------------------------

    /// RestoreDBClusterFromS3: records the cluster as `creating` and starts the restore job.
    pub async fn restore_db_cluster_from_s3(
        &self,
        req: RestoreFromS3Request,
    ) -> Result<ClusterView, ControlError> {
        self.refuse_existing(&req.id)?;
        // A bucket ferry cannot map is refused at once, as RDS does for a bucket it cannot see.
        self.inner
            .config
            .bucket_source(&req.bucket, &req.prefix)
            .map_err(|e| match e {
                crate::config::ConfigError::BucketNotFound { .. } => ControlError::InvalidS3Bucket(
                    format!(
                        "The specified bucket {} can't be found or Amazon RDS isn't authorized to access the specified Amazon S3 bucket. Verify the SourceS3BucketName and S3IngestionRoleArn values and try again.",
                        req.bucket
                    ),
                ),
                other => ControlError::InvalidS3Bucket(other.to_string()),
            })?;
        let origin = S3Origin {
            bucket: req.bucket.clone(),
            prefix: req.prefix.clone(),
            ingestion_role_arn: req.ingestion_role_arn.clone(),
            source_engine: req.source_engine.clone(),
            source_engine_version: req.source_engine_version.clone(),
        };
        let cluster = self.new_cluster(
            &req.id,
            req.engine,
            req.engine_version.as_deref(),
            &req.master.username,
            &req.settings,
            Some(origin),
        )?;
        self.create_cluster_with_job(cluster, &req.master.password, JobKind::RestoreFromS3)
            .await
    }

    /// CreateDBCluster: an empty cluster (a fresh datadir), for logical imports.
    pub async fn create_db_cluster(
        &self,
        req: CreateClusterRequest,
    ) -> Result<ClusterView, ControlError> {
        self.refuse_existing(&req.id)?;
        let cluster = self.new_cluster(
            &req.id,
            req.engine,
            req.engine_version.as_deref(),
            &req.master.username,
            &req.settings,
            None,
        )?;
        self.create_cluster_with_job(cluster, &req.master.password, JobKind::InitEmpty)
            .await
    }

    /// `DBClusterAlreadyExistsFault` comes before any other check on the request, as in RDS.
    fn refuse_existing(&self, id: &ClusterId) -> Result<(), ControlError> {
        match self.inner.store.get_cluster(id)? {
            Some(_) => Err(ControlError::ClusterAlreadyExists(id.clone())),
            None => Ok(()),
        }
    }

    async fn create_cluster_with_job(
        &self,
        cluster: Cluster,
        master_password: &str,
        kind: JobKind,
    ) -> Result<ClusterView, ControlError> {
        let store = &self.inner.store;
        if store.get_cluster(&cluster.id)?.is_some() {
            return Err(ControlError::ClusterAlreadyExists(cluster.id));
        }
        // The password reaches the job through a private file, never the store or a log.
        let cluster_dir = self.inner.layout.cluster_dir(&cluster.id);
        if cluster_dir.exists() {
            // Left by a deletion that did not finish, or by hand: never reuse its files.
            self.inner
                .layout
                .remove_dir_safely(&cluster_dir)
                .map_err(|e| ControlError::Internal(format!("remove {cluster_dir}: {e}")))?;
        }
        std::fs::create_dir_all(&cluster_dir)
            .map_err(|e| ControlError::Internal(format!("create {cluster_dir}: {e}")))?;
        secrets::write_pending_master_password(&self.inner.layout, &cluster.id, master_password)?;
        let job = match store.insert_cluster(&cluster, Some(kind), None) {
            Ok(job) => job.expect("insert_cluster returns the job it was given"),
            Err(crate::store::StoreError::AlreadyExists { .. }) => {
                return Err(ControlError::ClusterAlreadyExists(cluster.id))
            }
            Err(e) => return Err(e.into()),
        };
        self.spawn_job(job)?;
        self.cluster_view(cluster)
    }

    fn new_cluster(
        &self,
        id: &ClusterId,
        engine: EngineName,
        engine_version: Option<&str>,
        master_username: &str,
        s: &ClusterSettings,
        s3_origin: Option<S3Origin>,
    ) -> Result<Cluster, ControlError> {
        let server_version = self.inner.toolbox.server_version().numbers();
        let real_version = format!(
            "{}.{}.{}",
            server_version.0, server_version.1, server_version.2
        );
        if let Some(v) = engine_version {
            let series = format!("{}.{}", server_version.0, server_version.1);
            let matches = v == real_version || v == series || v.starts_with(&format!("{series}."));
            if !matches {
                return Err(ControlError::invalid_combination(format!(
                    "Cannot find version {v} for {}: this ferry runs MariaDB {real_version}",
                    engine.as_str()
                )));
            }
        }
        if let Some(pg) = &s.parameter_group {
            if !pg.starts_with("default.") {
                return Err(ControlError::ParameterGroupNotFound(pg.clone()));
            }
        }
        if s.kms_key_id.is_some() && !s.storage_encrypted {
            return Err(ControlError::invalid_combination(
                "KmsKeyId requires StorageEncrypted to be true",
            ));
        }
        if s.storage_encrypted {
            return Err(ControlError::invalid_combination(
                "StorageEncrypted is not supported by ferry: cluster volumes are plain MariaDB datadirs on the host's filesystem (use an encrypted filesystem for encryption at rest)",
            ));
        }
        let port = self.allocate_port(s.port)?;
        Ok(Cluster {
            id: id.clone(),
            resource_id: resource_id("cluster-"),
            status: ClusterStatus::Creating,
            engine,
            engine_version: real_version,
            master_username: master_username.to_string(),
            port,
            database_name: s.database_name.clone(),
            parameter_group: s
                .parameter_group
                .clone()
                .unwrap_or_else(|| format!("default.{}", engine.as_str())),
            backup_retention_period: s.backup_retention_period.unwrap_or(1),
            preferred_backup_window: s
                .preferred_backup_window
                .clone()
                .unwrap_or_else(|| "07:00-07:30".to_string()),
            preferred_maintenance_window: s
                .preferred_maintenance_window
                .clone()
                .unwrap_or_else(|| "sun:08:00-sun:08:30".to_string()),
            storage_encrypted: s.storage_encrypted,
            kms_key_id: s.kms_key_id.clone(),
            deletion_protection: s.deletion_protection,
            copy_tags_to_snapshot: s.copy_tags_to_snapshot,
            iam_database_authentication: s.iam_database_authentication,
            availability_zones: if s.availability_zones.is_empty() {
                vec![format!("{}a", self.inner.config.region)]
            } else {
                s.availability_zones.clone()
            },
            vpc_security_group_ids: s.vpc_security_group_ids.clone(),
            db_subnet_group: s
                .db_subnet_group
                .clone()
                .unwrap_or_else(|| "default".to_string()),
            tags: s.tags.clone(),
            s3_origin,
            percent_progress: None,
            recovered_binlog: None,
            recovered_gtid: None,
            created_at: OffsetDateTime::now_utc(),
        })
    }

    /// The requested port if free, else the first free port of the configured range.
    fn allocate_port(&self, requested: Option<u16>) -> Result<u16, ControlError> {
        let used = self.inner.store.used_ports()?;
        if let Some(p) = requested {
            if used.contains(&p) {
                return Err(ControlError::invalid_value(format!(
                    "Port {p} is already used by another DB cluster on this ferry host"
                )));
            }
            return Ok(p);
        }
        let range = self.inner.config.instance_port_range;
        let (lo, hi) = (range.first, range.last);
        (lo..=hi)
            .find(|p| !used.contains(p) && port_is_free(*p))
            .ok_or_else(|| {
                ControlError::invalid_value(format!(
                    "No free port left in the configured range {lo}-{hi}; pass Port"
                ))
            })
    }

    pub fn describe_db_clusters(
        &self,
        id: Option<&str>,
        filters: &Filters,
        max_records: usize,
        marker: Option<&str>,
    ) -> Result<Page<ClusterView>, ControlError> {
        let store = &self.inner.store;
        let clusters = match id {
            Some(raw) => {
                let id = strip_arn(raw, "cluster");
                match store.get_cluster(&ClusterId::new_unchecked(id.to_lowercase()))? {
                    Some(c) => vec![c],
                    None => return Err(ControlError::ClusterNotFound(raw.to_string())),
                }
            }
            None => store.list_clusters()?,
        };
        let mut views = Vec::new();
        for c in clusters {
            if cluster_matches(&c, filters)? {
                views.push(self.cluster_view(c)?);
            }
        }
        Ok(paginate(
            views,
            |v| v.cluster.id.to_string(),
            max_records,
            marker,
        ))
    }

    pub(crate) fn cluster_view(&self, mut cluster: Cluster) -> Result<ClusterView, ControlError> {
        let members = self.inner.store.instances_of(&cluster.id)?;
        let endpoint = (!members.is_empty()).then(|| self.inner.config.advertised_host.clone());
        if cluster.status == ClusterStatus::Creating {
            cluster.percent_progress = Some(self.progress_percent(&cluster.id));
        }
        let arn = self.cluster_arn(&cluster.id);
        Ok(ClusterView {
            cluster,
            members,
            endpoint,
            arn,
        })
    }

    fn progress_percent(&self, id: &ClusterId) -> u8 {
        let jobs = self.inner.jobs.lock().expect("jobs lock poisoned");
        jobs.get(id).map(|h| h.percent()).unwrap_or(0)
    }

    pub async fn delete_db_cluster(
        &self,
        req: DeleteClusterRequest,
    ) -> Result<ClusterView, ControlError> {
        let store = &self.inner.store;
        let mut cluster = store
            .get_cluster(&req.id)?
            .ok_or_else(|| ControlError::ClusterNotFound(req.id.to_string()))?;
        if !req.skip_final_snapshot {
            return Err(match req.final_snapshot_identifier {
                None => ControlError::invalid_combination(
                    "FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.",
                ),
                Some(_) => ControlError::invalid_combination(
                    "ferry does not take final snapshots: pass SkipFinalSnapshot to delete the cluster",
                ),
            });
        }
        if req.final_snapshot_identifier.is_some() {
            return Err(ControlError::invalid_combination(
                "FinalDBSnapshotIdentifier can not be specified when deleting a cluster with SkipFinalSnapshot=true.",
            ));
        }
        if cluster.deletion_protection {
            return Err(ControlError::invalid_combination(
                "Cannot delete protected Cluster, please disable deletion protection and try again.",
            ));
        }
        let members = store.instances_of(&cluster.id)?;
        if members.iter().any(|i| i.status != InstanceStatus::Deleting) {
            return Err(ControlError::InvalidClusterState(
                "Cluster cannot be deleted, it still contains DB instances in non-deleting state."
                    .to_string(),
            ));
        }
        match cluster.status {
            ClusterStatus::Deleting => {
                return Err(ControlError::InvalidClusterState(format!(
                    "DB cluster {} is already being deleted.",
                    cluster.id
                )))
            }
            ClusterStatus::Creating
            | ClusterStatus::Available
            | ClusterStatus::MigrationFailed
            | ClusterStatus::ResettingMasterCredentials => {}
        }
        cluster.status = ClusterStatus::Deleting;
        store.update_cluster(&cluster)?;
        self.spawn_cluster_deletion(cluster.id.clone());
        self.cluster_view(cluster)
    }

    fn spawn_cluster_deletion(&self, id: ClusterId) {
        let cp = self.clone();
        tokio::spawn(async move {
            if let Err(e) = cp.finish_cluster_deletion(&id).await {
                tracing::error!(cluster = %id, error = %e, "deleting the DB cluster failed");
            }
        });
    }

    async fn finish_cluster_deletion(&self, id: &ClusterId) -> Result<(), ControlError> {
        // Stop a restore that may still run, then wait for member instances to go away.
        let handle = self
            .inner
            .jobs
            .lock()
            .expect("jobs lock poisoned")
            .remove(id);
        if let Some(h) = handle {
            h.abort_and_wait().await;
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
        while !self.inner.store.instances_of(id)?.is_empty() {
            if std::time::Instant::now() > deadline {
                return Err(ControlError::Internal(format!(
                    "DB cluster {id}: member instances were not deleted within 10 minutes"
                )));
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        let layout = &self.inner.layout;
        for dir in [layout.staging(id), layout.cluster_dir(id)] {
            if dir.exists() {
                layout
                    .remove_dir_safely(&dir)
                    .map_err(|e| ControlError::Internal(format!("remove {dir}: {e}")))?;
            }
        }
        self.inner.store.delete_cluster(id)?;
        self.inner
            .store
            .add_event(NewEvent::cluster(id, "DB cluster deleted.", &["deletion"]))?;
        Ok(())
    }

    /// ModifyDBCluster: the master password, deletion protection, backup settings.
    pub async fn modify_db_cluster(
        &self,
        id: &ClusterId,
        req: ModifyClusterRequest,
    ) -> Result<ClusterView, ControlError> {
        let store = &self.inner.store;
        let mut cluster = store
            .get_cluster(id)?
            .ok_or_else(|| ControlError::ClusterNotFound(id.to_string()))?;
        if cluster.status != ClusterStatus::Available {
            return Err(ControlError::InvalidClusterState(format!(
                "DB cluster {id} is not in the available state (it is {}).",
                cluster.status.as_str()
            )));
        }
        if let Some(v) = req.deletion_protection {
            cluster.deletion_protection = v;
        }
        if let Some(v) = req.backup_retention_period {
            cluster.backup_retention_period = v;
        }
        if let Some(v) = req.preferred_backup_window {
            cluster.preferred_backup_window = v;
        }
        if let Some(v) = req.preferred_maintenance_window {
            cluster.preferred_maintenance_window = v;
        }
        if let Some(password) = req.master_user_password {
            cluster.status = ClusterStatus::ResettingMasterCredentials;
            store.update_cluster(&cluster)?;
            let result = jobs::reset_master_password(self, &cluster, &password).await;
            cluster.status = ClusterStatus::Available;
            store.update_cluster(&cluster)?;
            result?;
            store.add_event(NewEvent::cluster(
                id,
                "Reset master credentials",
                &["configuration change"],
            ))?;
        } else {
            store.update_cluster(&cluster)?;
        }
        self.cluster_view(cluster)
    }

    // ---- instances -----------------------------------------------------------------------

    pub async fn create_db_instance(
        &self,
        req: CreateInstanceRequest,
    ) -> Result<InstanceView, ControlError> {
        let store = &self.inner.store;
        if instance_class::resources(&req.instance_class).is_none() {
            return Err(ControlError::invalid_combination(format!(
                "RDS does not support creating a DB instance with the following combination: DBInstanceClass={}, Engine={}. ferry knows the sizes micro, small, medium, large, xlarge, 2xlarge, Nxlarge and db.serverless.",
                req.instance_class,
                req.engine.as_str()
            )));
        }
        let cluster = store
            .get_cluster(&req.cluster_id)?
            .ok_or_else(|| ControlError::ClusterNotFound(req.cluster_id.to_string()))?;
        if cluster.engine != req.engine {
            return Err(ControlError::invalid_combination(format!(
                "The engine name requested for your DB instance ({}) doesn't match the engine name of your DB cluster ({}).",
                req.engine.as_str(),
                cluster.engine.as_str()
            )));
        }
        if cluster.status != ClusterStatus::Available {
            return Err(ControlError::InvalidClusterState(format!(
                "DB cluster {} is not in the available state (it is {}): create instances once the cluster is available.",
                cluster.id,
                cluster.status.as_str()
            )));
        }
        if store.get_instance(&req.id)?.is_some() {
            return Err(ControlError::InstanceAlreadyExists(req.id));
        }
        if let Err(e) = self.inner.layout.instance_socket(&cluster.id, &req.id) {
            return Err(ControlError::invalid_value(e.to_string()));
        }
        if !store.instances_of(&cluster.id)?.is_empty() {
            return Err(ControlError::invalid_combination(format!(
                "DB cluster {} already has a writer instance; ferry runs one instance per cluster (readers are not supported yet).",
                cluster.id
            )));
        }
        let instance = Instance {
            id: req.id.clone(),
            resource_id: resource_id("db-"),
            cluster_id: cluster.id.clone(),
            status: InstanceStatus::Creating,
            instance_class: req.instance_class.clone(),
            engine: req.engine,
            is_writer: true,
            promotion_tier: req.promotion_tier.unwrap_or(1),
            availability_zone: req
                .availability_zone
                .clone()
                .unwrap_or_else(|| format!("{}a", self.inner.config.region)),
            tags: req.tags.clone(),
            created_at: OffsetDateTime::now_utc(),
        };
        match store.insert_instance(&instance, None) {
            Ok(()) => {}
            Err(crate::store::StoreError::AlreadyExists { .. }) => {
                return Err(ControlError::InstanceAlreadyExists(req.id))
            }
            Err(e) => return Err(e.into()),
        }
        self.spawn_instance_start(instance.id.clone(), false);
        self.instance_view(instance, &cluster)
    }

    pub(crate) fn spawn_instance_start(&self, id: InstanceId, after_restart: bool) {
        let cp = self.clone();
        tokio::spawn(async move {
            crate::supervisor::start_instance(&cp, &id, after_restart).await;
        });
    }

    pub fn describe_db_instances(
        &self,
        id: Option<&str>,
        filters: &Filters,
        max_records: usize,
        marker: Option<&str>,
    ) -> Result<Page<InstanceView>, ControlError> {
        let store = &self.inner.store;
        let instances = match id {
            Some(raw) => {
                let id = strip_arn(raw, "db");
                match store.get_instance(&InstanceId::new_unchecked(id.to_lowercase()))? {
                    Some(i) => vec![i],
                    None => return Err(ControlError::InstanceNotFound(raw.to_string())),
                }
            }
            None => store.list_instances()?,
        };
        let mut views = Vec::new();
        for i in instances {
            if !instance_matches(&i, filters)? {
                continue;
            }
            let Some(cluster) = store.get_cluster(&i.cluster_id)? else {
                continue;
            };
            views.push(self.instance_view(i, &cluster)?);
        }
        Ok(paginate(
            views,
            |v| v.instance.id.to_string(),
            max_records,
            marker,
        ))
    }

    pub(crate) fn instance_view(
        &self,
        instance: Instance,
        cluster: &Cluster,
    ) -> Result<InstanceView, ControlError> {
        let endpoint = match instance.status {
            InstanceStatus::Available | InstanceStatus::Deleting | InstanceStatus::Failed => {
                Some((self.inner.config.advertised_host.clone(), cluster.port))
            }
            InstanceStatus::Creating | InstanceStatus::Starting => None,
        };
        Ok(InstanceView {
            arn: self.instance_arn(&instance.id),
            endpoint,
            master_username: cluster.master_username.clone(),
            engine_version: cluster.engine_version.clone(),
            instance,
        })
    }

    pub async fn delete_db_instance(&self, raw_id: &str) -> Result<InstanceView, ControlError> {
        let store = &self.inner.store;
        let id = InstanceId::new_unchecked(strip_arn(raw_id, "db").to_lowercase());
        let mut instance = store
            .get_instance(&id)?
            .ok_or_else(|| ControlError::InstanceNotFound(raw_id.to_string()))?;
        if instance.status == InstanceStatus::Deleting {
            return Err(ControlError::InvalidInstanceState(format!(
                "Instance {id} is already being deleted."
            )));
        }
        let cluster = store
            .get_cluster(&instance.cluster_id)?
            .ok_or_else(|| ControlError::ClusterNotFound(instance.cluster_id.to_string()))?;
        instance.status = InstanceStatus::Deleting;
        store.update_instance(&instance)?;
        self.spawn_instance_deletion(id);
        self.instance_view(instance, &cluster)
    }

    fn spawn_instance_deletion(&self, id: InstanceId) {
        let cp = self.clone();
        tokio::spawn(async move {
            if let Err(e) = crate::supervisor::delete_instance(&cp, &id).await {
                tracing::error!(instance = %id, error = %e, "deleting the DB instance failed");
            }
        });
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
        let mut events = self.inner.store.events(&EventQuery {
            source_type: req.source_type,
            source_id: req.source_id.clone(),
            start: Some(start),
            end: req.end,
            after_seq,
            limit: Some(max_records + 1),
        })?;
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

    // ---- jobs ----------------------------------------------------------------------------

    pub(crate) fn spawn_job(&self, job: crate::model::Job) -> Result<(), ControlError> {
        let job = self.inner.store.start_job(job.id)?;
        let handle = jobs::spawn(self.clone(), job.clone());
        self.inner
            .jobs
            .lock()
            .expect("jobs lock poisoned")
            .insert(job.cluster_id.clone(), handle);
        Ok(())
    }

    pub(crate) fn job_finished(&self, id: &ClusterId) {
        self.inner
            .jobs
            .lock()
            .expect("jobs lock poisoned")
            .remove(id);
    }

    /// Records an event; a store failure here is logged, not returned: the work it reports
    /// has already happened.
    pub(crate) fn event(&self, source_type: SourceType, id: &str, message: &str, cats: &[&str]) {
        let ev = NewEvent {
            source_type,
            source_id: id.to_string(),
            message: message.to_string(),
            categories: cats.iter().map(|c| c.to_string()).collect(),
        };
        if let Err(e) = self.inner.store.add_event(ev) {
            tracing::error!(source = id, error = %e, "cannot record an event");
        }
    }
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

fn port_is_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
        && std::net::TcpListener::bind(("0.0.0.0", port)).is_ok()
}

fn take_lock(layout: &Layout) -> Result<std::fs::File, ControlError> {
    let path = layout.lock_file();
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| ControlError::Internal(format!("open {path}: {e}")))?;
    // SAFETY: flock(2) on a descriptor we own; no memory is shared.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        return Err(ControlError::Internal(format!(
            "another ferry serve is already using the data dir {} (lock {path} is held)",
            layout.root()
        )));
    }
    Ok(file)
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
    fn resource_ids_look_like_rds() {
        let id = resource_id("cluster-");
        assert_eq!(id.len(), 34);
        assert!(id[8..]
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
    }
}
