//! Instance operations: CreateDBInstance, DescribeDBInstances, DeleteDBInstance.

use time::OffsetDateTime;

use super::*;

impl ControlPlane {
    pub async fn create_db_instance(
        &self,
        req: CreateInstanceRequest,
    ) -> Result<InstanceView, ControlError> {
        let store = &self.ctx().store;
        if instance_class::resources(&req.instance_class).is_none() {
            return Err(ControlError::invalid_combination(format!(
                "RDS does not support creating a DB instance with the following combination: DBInstanceClass={}, Engine={}. ferry knows the sizes micro, small, medium, large, xlarge, 2xlarge, Nxlarge and db.serverless.",
                req.instance_class,
                req.engine.as_str()
            )));
        }
        let _creating = self.inner.create_lock.lock().await;
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
        if let Err(e) = self.ctx().layout.instance_socket(&cluster.id, &req.id) {
            // The whole error (with the data dir) is for the operator's log; the caller reads
            // what it can change, and no server path.
            tracing::warn!(instance = %req.id, error = %e, "instance refused");
            let crate::layout::LayoutError::SocketPathTooLong { len, max, .. } = e;
            return Err(ControlError::invalid_value(format!(
                "The unix socket of DB instance {} would be {len} bytes long, over the kernel's limit of {max}: use shorter cluster and instance identifiers (or ask the operator to start ferry with a shorter data dir).",
                req.id
            )));
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
                .unwrap_or_else(|| format!("{}a", self.ctx().config.region)),
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
        ferry_base::fail_point!("instance.after-insert");
        self.inner
            .supervisor
            .spawn_start(instance.id.clone(), false);
        self.instance_view(instance, &cluster)
    }

    pub fn describe_db_instances(
        &self,
        id: Option<&str>,
        filters: &Filters,
        max_records: usize,
        marker: Option<&str>,
    ) -> Result<Page<InstanceView>, ControlError> {
        let store = &self.ctx().store;
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
                Some((self.ctx().config.advertised_host.clone(), cluster.port))
            }
            InstanceStatus::Creating | InstanceStatus::Starting => None,
        };
        Ok(InstanceView {
            arn: self.instance_arn(&instance.id),
            endpoint,
            master_username: cluster.master_username.clone(),
            engine_version: cluster.engine_version.clone(),
            cluster_settings: cluster.settings.clone(),
            instance,
        })
    }

    pub async fn delete_db_instance(&self, raw_id: &str) -> Result<InstanceView, ControlError> {
        let store = &self.ctx().store;
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
        if !store.transition_instance(&instance)? {
            return Err(ControlError::InvalidInstanceState(format!(
                "Instance {id} changed state while the request was handled; retry."
            )));
        }
        self.inner.supervisor.spawn_deletion(id);
        self.instance_view(instance, &cluster)
    }
}
