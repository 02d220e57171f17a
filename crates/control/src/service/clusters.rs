//! Cluster operations: RestoreDBClusterFromS3, CreateDBCluster, DescribeDBClusters,
//! DeleteDBCluster, ModifyDBCluster.

use std::collections::HashMap;

use time::OffsetDateTime;

use super::*;

impl ControlPlane {
    /// RestoreDBClusterFromS3: records the cluster as `creating` and starts the restore job.
    pub async fn restore_db_cluster_from_s3(
        &self,
        req: RestoreFromS3Request,
    ) -> Result<ClusterView, ControlError> {
        let _creating = self.inner.create_lock.lock().await;
        self.refuse_existing(&req.id)?;
        self.check_ingestion_role(&req.ingestion_role_arn, &req.bucket, &req.prefix)?;
        self.bucket_source(&req.bucket, &req.prefix)?;
        let origin = req.origin();
        let cluster = self.new_cluster(
            &req.id,
            req.engine,
            req.engine_version.as_deref(),
            &req.master.username,
            req.port,
            req.settings,
            req.tags,
            Some(origin),
        )?;
        self.create_cluster_with_job(
            cluster,
            req.master.password.expose(),
            JobKind::RestoreFromS3,
        )
        .await
    }

    /// CreateDBCluster: an empty cluster (a fresh datadir), for logical imports.
    pub async fn create_db_cluster(
        &self,
        req: CreateClusterRequest,
    ) -> Result<ClusterView, ControlError> {
        let _creating = self.inner.create_lock.lock().await;
        self.refuse_existing(&req.id)?;
        let cluster = self.new_cluster(
            &req.id,
            req.engine,
            req.engine_version.as_deref(),
            &req.master.username,
            req.port,
            req.settings,
            req.tags,
            None,
        )?;
        self.create_cluster_with_job(cluster, req.master.password.expose(), JobKind::InitEmpty)
            .await
    }

    /// The ingestion role must exist, trust RDS and allow listing the bucket under the
    /// prefix; refused as RDS refuses: `InvalidParameterValue` for the role,
    /// `InvalidS3BucketFault` for the bucket, each with ferry's reason appended. Each object's
    /// `s3:GetObject` is checked by the job as the listing goes, before it is read.
    pub(super) fn check_ingestion_role(
        &self,
        role_arn: &str,
        bucket: &str,
        prefix: &str,
    ) -> Result<(), ControlError> {
        let ctx = self.ctx();
        let refused = |r: crate::auth::IngestionRefusal| {
            if r.is_about_the_bucket() {
                ControlError::InvalidS3Bucket(format!("{} ({r}).", bucket_refusal(bucket)))
            } else {
                ControlError::invalid_value(format!(
                    "Files from the specified Amazon S3 bucket cannot be downloaded. Make sure that you have created an AWS Identity and Access Management (IAM) role that lets Amazon RDS access Amazon S3 for you. ({r}.)"
                ))
            }
        };
        let role = ctx
            .authz
            .ingestion_role(&ctx.store, role_arn)?
            .map_err(refused)?;
        ctx.authz
            .ingestion_may_list(&ctx.store, &role, bucket, prefix)?
            .map_err(refused)
    }

    /// Where ferry reads `bucket` from: a bucket it cannot map is refused at once, as RDS
    /// does for a bucket it cannot see.
    pub(super) fn bucket_source(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<(ferry_restore::SourceUrl, ferry_restore::S3Options), ControlError> {
        self.ctx()
            .config
            .bucket_source(bucket, prefix)
            .map_err(|e| match e {
                crate::config::ConfigError::BucketNotFound { .. } => {
                    ControlError::InvalidS3Bucket(bucket_refusal(bucket))
                }
                other => ControlError::InvalidS3Bucket(other.to_string()),
            })
    }

    /// `DBClusterAlreadyExistsFault` comes before any other check on the request, as in RDS.
    pub(super) fn refuse_existing(&self, id: &ClusterId) -> Result<(), ControlError> {
        match self.ctx().store.get_cluster(id)? {
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
        let store = &self.ctx().store;
        if store.get_cluster(&cluster.id)?.is_some() {
            return Err(ControlError::ClusterAlreadyExists(cluster.id));
        }
        // The password reaches the job through a private file, never the store or a log.
        let cluster_dir = self.ctx().layout.cluster_dir(&cluster.id);
        if cluster_dir.exists() {
            // Left by a deletion that did not finish, or by hand: never reuse its files.
            self.ctx()
                .layout
                .remove_dir_safely(&cluster_dir)
                .map_err(ControlError::io("remove", &cluster_dir))?;
        }
        std::fs::create_dir_all(&cluster_dir).map_err(ControlError::io("create", &cluster_dir))?;
        secrets::write_pending_master_password(&self.ctx().layout, &cluster.id, master_password)?;
        let job = match store.insert_cluster(&cluster, Some(kind), None) {
            Ok(job) => job.expect("insert_cluster returns the job it was given"),
            Err(e) => {
                // Nothing of a cluster that was not recorded may stay on disk.
                let _ = self.ctx().layout.remove_dir_safely(&cluster_dir);
                return Err(match e {
                    crate::store::StoreError::AlreadyExists { .. } => {
                        ControlError::ClusterAlreadyExists(cluster.id)
                    }
                    other => other.into(),
                });
            }
        };
        self.inner.jobs.spawn(job)?;
        self.cluster_view(cluster)
    }

    #[allow(clippy::too_many_arguments)]
    fn new_cluster(
        &self,
        id: &ClusterId,
        engine: EngineName,
        engine_version: Option<&str>,
        master_username: &str,
        port: Option<u16>,
        settings: ClusterSettings,
        tags: Vec<crate::model::Tag>,
        s3_origin: Option<S3Origin>,
    ) -> Result<Cluster, ControlError> {
        let server_version = self.ctx().toolbox.server_version().numbers();
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
        if !settings.parameter_group.starts_with("default.") {
            return Err(ControlError::ParameterGroupNotFound(
                settings.parameter_group.clone(),
            ));
        }
        if settings.kms_key_id.is_some() && !settings.storage_encrypted {
            return Err(ControlError::invalid_combination(
                "KmsKeyId requires StorageEncrypted to be true",
            ));
        }
        if settings.storage_encrypted {
            return Err(ControlError::invalid_combination(
                "StorageEncrypted is not supported by ferry: cluster volumes are plain MariaDB datadirs on the host's filesystem (use an encrypted filesystem for encryption at rest)",
            ));
        }
        let port = self.allocate_port(port)?;
        Ok(Cluster {
            id: id.clone(),
            resource_id: resource_id("cluster-"),
            status: ClusterStatus::Creating,
            engine,
            engine_version: real_version,
            master_username: master_username.to_string(),
            port,
            settings,
            tags,
            s3_origin,
            recovered_binlog: None,
            recovered_gtid: None,
            created_at: OffsetDateTime::now_utc(),
        })
    }

    /// The requested port if free, else the first free port of the configured range. Free
    /// means no DB cluster has it and neither ferry's API nor anything else on the host
    /// listens on it where the instance will (see [`port_holder`]). Called under
    /// `create_lock`, which is held until the cluster (and so its port) is in the store: two
    /// creates never get the same port.
    fn allocate_port(&self, requested: Option<u16>) -> Result<u16, ControlError> {
        let used = self.ctx().store.used_ports()?;
        let config = &self.ctx().config;
        let bind = crate::volume::instance_bind_address(&config.advertised_host);
        if let Some(p) = requested {
            if used.contains(&p) {
                return Err(ControlError::invalid_value(format!(
                    "Port {p} is already used by another DB cluster on this ferry host"
                )));
            }
            if let Some(holder) = port_holder(p, config.listen, bind) {
                return Err(ControlError::invalid_value(format!(
                    "Port {p} is in use on this host: {holder}"
                )));
            }
            return Ok(p);
        }
        let range = config.instance_port_range;
        let (lo, hi) = (range.first, range.last);
        (lo..=hi)
            .find(|p| !used.contains(p) && port_holder(*p, config.listen, bind).is_none())
            .ok_or_else(|| {
                ControlError::invalid_value(format!(
                    "No free port left in the configured range {lo}-{hi}; pass Port"
                ))
            })
    }

    /// The identifier of the existing cluster `raw` names (its identifier, any case, or its
    /// ARN): one read of the store, for actions that only need to know it exists.
    pub fn existing_cluster_id(&self, raw: &str) -> Result<ClusterId, ControlError> {
        let id = ClusterId::new_unchecked(strip_arn(raw, "cluster").to_lowercase());
        match self.ctx().store.get_cluster(&id)? {
            Some(c) => Ok(c.id),
            None => Err(ControlError::ClusterNotFound(raw.to_string())),
        }
    }

    pub fn describe_db_clusters(
        &self,
        id: Option<&str>,
        filters: &Filters,
        max_records: usize,
        marker: Option<&str>,
    ) -> Result<Page<ClusterView>, ControlError> {
        let store = &self.ctx().store;
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
        let mut matching = Vec::new();
        for c in clusters {
            if cluster_matches(&c, filters)? {
                matching.push(c);
            }
        }
        // Only the page is turned into views (clusters are listed by id, the marker's order).
        let page = paginate(matching, |c| c.id.to_string(), max_records, marker);
        // One read of every instance rather than one query per cluster: a listing of 100
        // clusters is one statement, not 101.
        let bulk = page.items.len() > 1;
        let mut members: HashMap<ClusterId, Vec<Instance>> = HashMap::new();
        if bulk {
            for i in store.list_instances()? {
                members.entry(i.cluster_id.clone()).or_default().push(i);
            }
        }
        let mut views = Vec::with_capacity(page.items.len());
        for c in page.items {
            let view = if bulk {
                let m = members.remove(&c.id).unwrap_or_default();
                self.view_with_members(c, m)
            } else {
                self.cluster_view(c)?
            };
            views.push(view);
        }
        Ok(Page {
            items: views,
            marker: page.marker,
        })
    }

    pub(crate) fn cluster_view(&self, cluster: Cluster) -> Result<ClusterView, ControlError> {
        let members = self.ctx().store.instances_of(&cluster.id)?;
        Ok(self.view_with_members(cluster, members))
    }

    /// The view of `cluster` whose instances (ordered by id) are `members`.
    fn view_with_members(&self, cluster: Cluster, members: Vec<Instance>) -> ClusterView {
        let endpoint = (!members.is_empty()).then(|| self.ctx().config.advertised_host.clone());
        let percent_progress =
            (cluster.status == ClusterStatus::Creating).then(|| self.progress_percent(&cluster.id));
        let arn = self.cluster_arn(&cluster.id);
        ClusterView {
            cluster,
            members,
            endpoint,
            percent_progress,
            arn,
        }
    }

    /// Where a cluster's creation job is, for a person watching it (the console): `None`
    /// when no job runs. The caller authorizes as for DescribeDBClusters.
    pub fn creation_progress(&self, id: &ClusterId) -> Option<CreationProgress> {
        let (s, percent, bootstrap) = self.inner.jobs.progress(id)?;
        let bytes_done = (s.bytes_done + s.bytes_reused).min(s.bytes_total);
        // By bytes while downloading: what is left at the rate so far (reused bytes cost
        // nothing, so they are not part of the rate).
        let eta_secs = (s.phase == ferry_restore::Phase::Download && s.bytes_done > 0).then(|| {
            let rate = s.bytes_done as f64 / s.elapsed_secs.max(0.001);
            (s.bytes_total.saturating_sub(bytes_done) as f64 / rate).round() as u64
        });
        Some(CreationProgress {
            phase: if bootstrap {
                "starting the engine"
            } else {
                s.phase.label()
            },
            detail: s.detail,
            bytes_done,
            bytes_total: s.bytes_total,
            files_done: s.files_done,
            files_total: s.files_total,
            percent,
            eta_secs,
        })
    }

    fn progress_percent(&self, id: &ClusterId) -> u8 {
        self.inner.jobs.percent(id)
    }

    pub async fn delete_db_cluster(
        &self,
        req: DeleteClusterRequest,
    ) -> Result<ClusterView, ControlError> {
        let store = &self.ctx().store;
        // No instance may be created between the membership check and the status change.
        let _creating = self.inner.create_lock.lock().await;
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
        if cluster.settings.deletion_protection {
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
        let was = cluster.status;
        match was {
            ClusterStatus::Deleting => {
                return Err(ControlError::InvalidClusterState(format!(
                    "DB cluster {} is already being deleted.",
                    cluster.id
                )))
            }
            ClusterStatus::ResettingMasterCredentials => {
                return Err(ControlError::InvalidClusterState(format!(
                    "DB cluster {} is resetting its master credentials; delete it when it is available.",
                    cluster.id
                )))
            }
            ClusterStatus::Creating | ClusterStatus::Available | ClusterStatus::MigrationFailed => {}
        }
        cluster.status = ClusterStatus::Deleting;
        if !store.transition_cluster(&cluster)? {
            return Err(ControlError::InvalidClusterState(format!(
                "DB cluster {} changed state while the request was handled; retry.",
                cluster.id
            )));
        }
        self.spawn_cluster_deletion(cluster.id.clone());
        self.cluster_view(cluster)
    }

    pub(crate) fn spawn_cluster_deletion(&self, id: ClusterId) {
        let cp = self.clone();
        tokio::spawn(async move {
            for delay in crate::supervisor::DELETE_RETRY_DELAYS {
                match cp.finish_cluster_deletion(&id).await {
                    Ok(()) => return,
                    Err(e) => {
                        tracing::warn!(cluster = %id, error = %ferry_base::error::flatten(&e), "deleting the DB cluster failed; trying again in {delay:?}")
                    }
                }
                tokio::time::sleep(delay).await;
            }
            if let Err(e) = cp.finish_cluster_deletion(&id).await {
                tracing::error!(cluster = %id, error = %ferry_base::error::flatten(&e), "deleting the DB cluster failed");
            }
        });
    }

    async fn finish_cluster_deletion(&self, id: &ClusterId) -> Result<(), ControlError> {
        // Stop a restore that may still run, then wait for member instances to go away.
        self.inner.jobs.abort(id).await;
        // A one-off server (engine set-up, password reset) left by a killed control plane.
        crate::leftovers::stop_servers_of(&self.ctx().layout, id).await;
        crate::leftovers::stop_tools_of(&self.ctx().layout, id).await;
        const MEMBERS_GONE_WITHIN: std::time::Duration = std::time::Duration::from_secs(600);
        let deadline = std::time::Instant::now() + MEMBERS_GONE_WITHIN;
        while !self.ctx().store.instances_of(id)?.is_empty() {
            if std::time::Instant::now() > deadline {
                return Err(ControlError::TimedOut {
                    what: format!("the deletion of DB cluster {id}'s member instances"),
                    seconds: MEMBERS_GONE_WITHIN.as_secs(),
                });
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        ferry_base::fail_point!("cluster.before-delete-dirs");
        let layout = &self.ctx().layout;
        for dir in [layout.staging(id), layout.cluster_dir(id)] {
            if dir.exists() {
                layout
                    .remove_dir_safely(&dir)
                    .map_err(ControlError::io("remove", &dir))?;
            }
        }
        ferry_base::fail_point!("cluster.before-row-delete");
        self.ctx().store.delete_cluster(id)?;
        self.ctx().cluster_event(id, ClusterEvent::Deleted);
        Ok(())
    }

    /// ModifyDBCluster: the master password, deletion protection, backup settings.
    pub async fn modify_db_cluster(
        &self,
        id: &ClusterId,
        req: ModifyClusterRequest,
    ) -> Result<ClusterView, ControlError> {
        let store = &self.ctx().store;
        let mut cluster = store
            .get_cluster(id)?
            .ok_or_else(|| ControlError::ClusterNotFound(id.to_string()))?;
        if cluster.status != ClusterStatus::Available {
            return Err(ControlError::InvalidClusterState(format!(
                "DB cluster {id} is not in the available state (it is {}).",
                cluster.status.as_str()
            )));
        }
        let settings = &mut cluster.settings;
        if let Some(v) = req.deletion_protection {
            settings.deletion_protection = v;
        }
        if let Some(v) = req.backup_retention_period {
            settings.backup_retention_period = v;
        }
        if let Some(v) = req.preferred_backup_window {
            settings.preferred_backup_window = v;
        }
        if let Some(v) = req.preferred_maintenance_window {
            settings.preferred_maintenance_window = v;
        }
        if let Some(password) = req.master_user_password {
            let members = store.instances_of(id)?;
            if let Some(i) = members.iter().find(|i| {
                matches!(
                    i.status,
                    InstanceStatus::Creating | InstanceStatus::Starting | InstanceStatus::Deleting
                )
            }) {
                return Err(ControlError::InvalidClusterState(format!(
                    "DB instance {} of DB cluster {id} is {}: reset the master password when it is available.",
                    i.id,
                    i.status.as_str()
                )));
            }
            cluster.status = ClusterStatus::ResettingMasterCredentials;
            if !store.transition_cluster(&cluster)? {
                return Err(ControlError::InvalidClusterState(format!(
                    "DB cluster {id} changed state while the request was handled; retry."
                )));
            }
            // As RDS: answer at once; the cluster is available again when the reset is done
            // (a client that hangs up cannot leave it half done).
            let cp = self.clone();
            let target = cluster.clone();
            tokio::spawn(async move { cp.reset_master_password(target, password).await });
        } else if !store.update_cluster(&cluster)? {
            return Err(ControlError::InvalidClusterState(format!(
                "DB cluster {id} changed state while the request was handled; retry."
            )));
        }
        self.cluster_view(cluster)
    }

    /// The background half of ModifyDBCluster(MasterUserPassword): through the running
    /// writer if there is one, else a one-off server on the volume; then `available` again.
    #[tracing::instrument(skip_all, fields(cluster = %cluster.id))]
    async fn reset_master_password(&self, cluster: Cluster, password: String) {
        let ctx = self.ctx();
        let id = cluster.id.clone();
        let result = async {
            ferry_base::fail_point!("cluster.before-reset-password");
            let admin = secrets::read_admin(&ctx.layout, &id)?;
            let running = self
                .inner
                .supervisor
                .admin_conn(&id, &admin)
                .await
                .map_err(|e| {
                    ControlError::InvalidClusterState(format!(
                        "ferry cannot log in to the running instance of DB cluster {id} ({e}); its administrative account was changed from inside. Delete and re-create the instance (ferry repairs the account when the server starts), then retry."
                    ))
                })?;
            crate::volume::reset_master_password(ctx, &cluster, &password, running).await?;
            ferry_base::fail_point!("cluster.after-reset-password");
            Ok::<(), ControlError>(())
        }
        .await;
        let mut done = cluster;
        done.status = ClusterStatus::Available;
        if let Err(e) = ctx.store.transition_cluster(&done) {
            tracing::error!(error = %e, "cannot mark the cluster available");
        }
        match result {
            Ok(()) => ctx.cluster_event(&id, ClusterEvent::MasterCredentialsReset),
            Err(error) => ctx.cluster_event(
                &id,
                ClusterEvent::MasterCredentialsResetFailed { error: &error },
            ),
        }
    }
}

/// RDS's `InvalidS3BucketFault` text.
fn bucket_refusal(bucket: &str) -> String {
    format!(
        "The specified bucket {bucket} can't be found or Amazon RDS isn't authorized to access the specified Amazon S3 bucket. Verify the SourceS3BucketName and S3IngestionRoleArn values and try again."
    )
}

/// A cluster creation job's progress, as [`ControlPlane::creation_progress`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreationProgress {
    /// `listing`, `download`, `prepare`, `finalize`, `done`, or `starting the engine`.
    pub phase: &'static str,
    pub detail: String,
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub files_done: u64,
    pub files_total: u64,
    /// `PercentProgress`.
    pub percent: u8,
    /// Seconds left while downloading, at the rate so far.
    pub eta_secs: Option<u64>,
}
