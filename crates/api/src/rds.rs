//! The RDS actions ferry implements: Query parameters in, a control-plane call, XML out.
//!
//! Each handler validates its parameters (through `ferry_control::validate`, so the rules
//! live in one place), authorizes the call, and renders the result with the element names of
//! botocore's RDS service model (`botocore/data/rds/2014-10-31/service-2.json`).

use ferry_control::model::{ClusterSettings, EngineName, Event, Tag};
use ferry_control::requests::{
    CreateClusterRequest, CreateInstanceRequest, DeleteClusterRequest, EventsRequest, Filters,
    MasterCredentials, ModifyClusterRequest, RestoreFromS3Request,
};
use ferry_control::validate;
use ferry_control::{ClusterView, ControlPlane, InstanceView, Principal};

use crate::error::ApiError;
use crate::params::Params;
use crate::xml::{self, XmlWriter};

pub mod imports;
mod keys;
pub mod shapes;

use shapes::{write_cluster, write_event, write_instance, write_tags};

pub const API_VERSION: &str = "2014-10-31";

/// Runs one action and renders its XML response.
pub async fn dispatch(
    cp: &ControlPlane,
    principal: &Principal,
    params: &Params,
    request_id: &str,
) -> Result<String, ApiError> {
    let action = crate::error::action_of(params, "RDS", API_VERSION)?.to_string();
    let h = Handler::new(cp, principal, params);
    let body: Box<dyn FnOnce(&mut XmlWriter)> = match action.as_str() {
        "RestoreDBClusterFromS3" => {
            let v = h.restore_db_cluster_from_s3().await?;
            Box::new(move |w| write_cluster(w, &v))
        }
        "CreateDBCluster" => {
            let v = h.create_db_cluster().await?;
            Box::new(move |w| write_cluster(w, &v))
        }
        "DescribeDBClusters" => {
            let page = h.describe_db_clusters()?;
            Box::new(move |w| {
                w.opt_elem("Marker", page.marker.as_deref());
                w.start("DBClusters");
                for v in &page.items {
                    write_cluster(w, v);
                }
                w.end();
            })
        }
        "DeleteDBCluster" => {
            let v = h.delete_db_cluster().await?;
            Box::new(move |w| write_cluster(w, &v))
        }
        "ModifyDBCluster" => {
            let v = h.modify_db_cluster().await?;
            Box::new(move |w| write_cluster(w, &v))
        }
        "CreateDBInstance" => {
            let v = h.create_db_instance().await?;
            Box::new(move |w| write_instance(w, &v))
        }
        "DescribeDBInstances" => {
            let page = h.describe_db_instances()?;
            Box::new(move |w| {
                w.opt_elem("Marker", page.marker.as_deref());
                w.start("DBInstances");
                for v in &page.items {
                    write_instance(w, v);
                }
                w.end();
            })
        }
        "DeleteDBInstance" => {
            let v = h.delete_db_instance().await?;
            Box::new(move |w| write_instance(w, &v))
        }
        "DescribeEvents" => {
            let (page, arns) = h.describe_events()?;
            Box::new(move |w| {
                w.opt_elem("Marker", page.marker.as_deref());
                w.start("Events");
                for (e, arn) in page.items.iter().zip(&arns) {
                    write_event(w, e, arn);
                }
                w.end();
            })
        }
        "ListTagsForResource" => {
            let tags = h.list_tags()?;
            Box::new(move |w| write_tags(w, &tags))
        }
        "AddTagsToResource" => {
            h.add_tags()?;
            return Ok(xml::empty_response(&action, request_id));
        }
        "RemoveTagsFromResource" => {
            h.remove_tags()?;
            return Ok(xml::empty_response(&action, request_id));
        }
        "FerryDescribeReplication" => {
            let view = h.describe_replication()?;
            let members = view.as_ref().map(xml::members).transpose()?;
            Box::new(move |w| {
                if let Some(m) = &members {
                    crate::replication::write_view(w, m);
                }
            })
        }
        "FerryCreateIngestionRole" => Box::new(crate::ingestion::create(cp, principal, params)?),
        "FerryCutover" => {
            let outcome = h.cutover().await?;
            Box::new(move |w| crate::replication::write_cutover(w, &outcome))
        }
        "FerryStartReplication" => {
            let messages = h.start_replication().await?;
            Box::new(move |w| crate::replication::write_messages(w, &messages))
        }
        other => match h.import_action(other).await {
            Some(body) => body?,
            None => {
                return Err(ApiError::new(
                    400,
                    "InvalidAction",
                    format!("The action {other} is not valid for this web service."),
                ))
            }
        },
    };
    Ok(xml::response(&action, request_id, body))
}

/// The RDS actions as typed calls: parameters in (the Query protocol's names), validated and
/// authorized, a control-plane call, the typed result out. [`dispatch`] renders them as XML;
/// the web console calls the same methods with the parameters of its forms, so a page can
/// never do what the API would refuse.
pub struct Handler<'a> {
    pub(crate) cp: &'a ControlPlane,
    pub(crate) principal: &'a Principal,
    pub(crate) params: &'a Params,
}

impl<'a> Handler<'a> {
    pub fn new(cp: &'a ControlPlane, principal: &'a Principal, params: &'a Params) -> Self {
        Handler {
            cp,
            principal,
            params,
        }
    }
}

impl Handler<'_> {
    /// Authorizes RDS action `action` (its API name: `rds:` is added) on the existing
    /// resource `resource`, with its tags as condition keys. The console asks it before
    /// offering a button: `Err` holds the policy decision's message.
    pub fn authorize(&self, action: &str, resource: &str) -> Result<(), ApiError> {
        // The root is not restricted: no need to read the resource's tags for it.
        let keys = if self.principal.is_root() {
            ferry_iam::Context::new()
        } else {
            keys::on_resource(self.cp, resource)
        };
        self.authorize_with(action, resource, &keys)
    }

    /// Authorizes ferry's own action `action` (`ferry:` is added) on `resource`, with its
    /// tags as condition keys (the console asks it before offering a button too).
    pub fn authorize_ferry(&self, action: &str, resource: &str) -> Result<(), ApiError> {
        // The root is not restricted: no need to read the resource's tags for it.
        let keys = if self.principal.is_root() {
            ferry_iam::Context::new()
        } else {
            keys::on_resource(self.cp, resource)
        };
        Ok(self
            .cp
            .authorize_with(self.principal, &format!("ferry:{action}"), resource, &keys)?)
    }

    /// Authorizes RDS action `action` on `resource` with the condition keys `keys`.
    fn authorize_with(
        &self,
        action: &str,
        resource: &str,
        keys: &ferry_iam::Context,
    ) -> Result<(), ApiError> {
        Ok(self
            .cp
            .authorize_with(self.principal, &format!("rds:{action}"), resource, keys)?)
    }

    pub fn cluster_arn_for(&self, raw: &str) -> String {
        if raw.starts_with("arn:") {
            raw.to_string()
        } else {
            self.cp
                .cluster_arn(&ferry_control::model::ClusterId::new_unchecked(
                    raw.to_lowercase(),
                ))
        }
    }

    pub fn instance_arn_for(&self, raw: &str) -> String {
        if raw.starts_with("arn:") {
            raw.to_string()
        } else {
            self.cp
                .instance_arn(&ferry_control::model::InstanceId::new_unchecked(
                    raw.to_lowercase(),
                ))
        }
    }

    /// Refuses a parameter ferry cannot honour when it is set to anything but its default.
    fn refuse_if_set(&self, name: &str, why: &str) -> Result<(), ApiError> {
        if let Some(v) = self.params.get(name) {
            let harmless = matches!(v, "" | "false" | "0");
            if !harmless {
                return Err(ApiError::invalid_combination(format!(
                    "{name} is not supported by ferry: {why}"
                )));
            }
        }
        Ok(())
    }

    fn tags(&self) -> Result<Vec<Tag>, ApiError> {
        Ok(validate::tags(&self.params.tags()?)?)
    }

    fn engine(&self) -> Result<EngineName, ApiError> {
        Ok(validate::engine(self.params.required("Engine")?)?)
    }

    fn master(&self, required: bool) -> Result<MasterCredentials, ApiError> {
        let username = self.params.required("MasterUsername")?;
        let username = validate::master_username(username)?;
        self.refuse_if_set(
            "ManageMasterUserPassword",
            "there is no Secrets Manager; pass MasterUserPassword",
        )?;
        self.refuse_if_set("MasterUserSecretKmsKeyId", "there is no Secrets Manager")?;
        let password = match self.params.get("MasterUserPassword") {
            Some(p) => {
                validate::master_password(p)?;
                p.to_string()
            }
            None if required => {
                return Err(ApiError::invalid_value(
                    "The parameter MasterUserPassword must be provided and must not be blank.",
                ))
            }
            None => String::new(),
        };
        Ok(MasterCredentials {
            username,
            password: password.into(),
        })
    }

    fn settings(&self, engine: EngineName) -> Result<ClusterSettings, ApiError> {
        let p = self.params;
        self.refuse_if_set(
            "EnableIAMDatabaseAuthentication",
            "database users authenticate with passwords",
        )?;
        self.refuse_if_set("BacktrackWindow", "there is no backtracking")?;
        self.refuse_if_set("Domain", "there is no directory service integration")?;
        self.refuse_if_set(
            "DomainIAMRoleName",
            "there is no directory service integration",
        )?;
        if !p.list("EnableCloudwatchLogsExports", "member").is_empty() {
            return Err(ApiError::invalid_combination(
                "EnableCloudwatchLogsExports is not supported by ferry: the server logs stay in the instance's directory",
            ));
        }
        if p.get("ServerlessV2ScalingConfiguration.MinCapacity")
            .is_some()
            || p.get("ServerlessV2ScalingConfiguration.MaxCapacity")
                .is_some()
        {
            return Err(ApiError::invalid_combination(
                "ServerlessV2ScalingConfiguration is not supported by ferry",
            ));
        }
        if let Some(nt) = p.get("NetworkType") {
            if nt != "IPV4" {
                return Err(ApiError::invalid_combination(format!(
                    "NetworkType {nt} is not supported by ferry: only IPV4"
                )));
            }
        }
        if let Some(st) = p.get("StorageType") {
            if !matches!(st, "aurora" | "aurora-iopt1") {
                return Err(ApiError::invalid_value(format!(
                    "Invalid storage type: {st}. Valid values: aurora, aurora-iopt1"
                )));
            }
        }
        let mut s = ClusterSettings::defaults(engine, &self.cp.config().region);
        if let Some(v) = p.i64("BackupRetentionPeriod")? {
            s.backup_retention_period = validate::backup_retention_period(v)?;
        }
        if let Some(v) = p.get("PreferredBackupWindow") {
            validate::backup_window(v)?;
            s.preferred_backup_window = v.to_string();
        }
        if let Some(v) = p.get("PreferredMaintenanceWindow") {
            validate::maintenance_window(v)?;
            s.preferred_maintenance_window = v.to_string();
        }
        s.database_name = p
            .get("DatabaseName")
            .map(validate::database_name)
            .transpose()?;
        if let Some(v) = p.get("DBClusterParameterGroupName") {
            s.parameter_group = v.to_string();
        }
        s.storage_encrypted = p.bool("StorageEncrypted")?.unwrap_or(false);
        s.kms_key_id = p.get("KmsKeyId").map(str::to_string);
        s.deletion_protection = p.bool("DeletionProtection")?.unwrap_or(false);
        s.copy_tags_to_snapshot = p.bool("CopyTagsToSnapshot")?.unwrap_or(false);
        let zones = owned(p.list("AvailabilityZones", "AvailabilityZone"));
        if !zones.is_empty() {
            s.availability_zones = zones;
        }
        s.vpc_security_group_ids = owned(p.list("VpcSecurityGroupIds", "VpcSecurityGroupId"));
        if let Some(v) = p.get("DBSubnetGroupName") {
            s.db_subnet_group = v.to_string();
        }
        Ok(s)
    }

    /// `Port`, when the request names one.
    fn port(&self) -> Result<Option<u16>, ApiError> {
        Ok(match self.params.i64("Port")? {
            Some(v) => Some(validate::port(v)?),
            None => None,
        })
    }

    pub async fn restore_db_cluster_from_s3(&self) -> Result<ClusterView, ApiError> {
        let req = self.restore_request()?;
        for refusal in self.restore_permissions(&req) {
            refusal?;
        }
        Ok(self.cp.restore_db_cluster_from_s3(req).await?)
    }

    /// The pre-flight of RestoreDBClusterFromS3 with these parameters (the console's wizard
    /// shows it before launching): the same validation (an invalid parameter is the same
    /// error), then every check the action makes, each with its outcome, and the backup's
    /// plan read through the ingestion role. Nothing is created. The bucket is read only when
    /// the caller may both restore and pass the role.
    pub async fn preflight_restore_db_cluster_from_s3(
        &self,
    ) -> Result<ferry_control::service::preflight::Preflight, ApiError> {
        use ferry_control::service::preflight::{Preflight, PreflightCheck};
        let req = self.restore_request()?;
        let whats = [
            format!(
                "you may restore the cluster {} (rds:RestoreDBClusterFromS3)",
                req.id
            ),
            format!(
                "you may pass the role {} to RDS (iam:PassRole)",
                req.ingestion_role_arn
            ),
        ];
        let mut checks = Vec::new();
        for (what, outcome) in whats.into_iter().zip(self.restore_permissions(&req)) {
            checks.push(PreflightCheck {
                what,
                outcome: outcome.map_err(|e| e.message),
            });
        }
        if checks.iter().any(|c| c.outcome.is_err()) {
            return Ok(Preflight { checks, plan: None });
        }
        let mut found = self.cp.preflight_restore(&req).await?;
        checks.append(&mut found.checks);
        found.checks = checks;
        Ok(found)
    }

    /// RestoreDBClusterFromS3's parameters, validated.
    fn restore_request(&self) -> Result<RestoreFromS3Request, ApiError> {
        let p = self.params;
        let raw_id = p.required("DBClusterIdentifier")?;
        let id = validate::cluster_identifier("DBClusterIdentifier", raw_id)?;
        let engine = self.engine()?;
        let master = self.master(true)?;
        let source_engine = validate::source_engine(p.required("SourceEngine")?)?;
        let source_engine_version = p.required("SourceEngineVersion")?;
        validate::source_engine_version(source_engine_version)?;
        let bucket = p.required("S3BucketName")?;
        validate::s3_bucket_name(bucket)?;
        let prefix = validate::s3_prefix(p.get("S3Prefix").unwrap_or(""))?;
        let role = p.required("S3IngestionRoleArn")?;
        validate::role_arn("S3IngestionRoleArn", role)?;
        let port = self.port()?;
        let settings = self.settings(engine)?;
        let tags = self.tags()?;
        Ok(RestoreFromS3Request {
            id,
            engine,
            engine_version: p.get("EngineVersion").map(str::to_string),
            master,
            source_engine: source_engine.to_string(),
            source_engine_version: source_engine_version.to_string(),
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
            ingestion_role_arn: role.to_string(),
            port,
            settings,
            tags,
        })
    }

    /// The two decisions RestoreDBClusterFromS3 needs, in order: the action on the new
    /// cluster (with the request's tags and engine as condition keys), and `iam:PassRole` on
    /// the ingestion role (handing RDS a role is passing it).
    fn restore_permissions(&self, req: &RestoreFromS3Request) -> [Result<(), ApiError>; 2] {
        let cluster_arn = self.cp.cluster_arn(&req.id);
        let restore = self.authorize_with(
            "RestoreDBClusterFromS3",
            &cluster_arn,
            &keys::creating(req.engine, &req.tags),
        );
        let mut pass = ferry_iam::Context::new();
        pass.set("iam:PassedToService", ferry_control::auth::RDS_SERVICE);
        pass.set("iam:AssociatedResourceArn", &cluster_arn);
        let pass_role = self
            .cp
            .authorize_with(
                self.principal,
                "iam:PassRole",
                &req.ingestion_role_arn,
                &pass,
            )
            .map_err(ApiError::from);
        [restore, pass_role]
    }

    async fn create_db_cluster(&self) -> Result<ClusterView, ApiError> {
        let p = self.params;
        let id = validate::cluster_identifier(
            "DBClusterIdentifier",
            p.required("DBClusterIdentifier")?,
        )?;
        let engine = self.engine()?;
        let master = self.master(true)?;
        self.refuse_if_set(
            "ReplicationSourceIdentifier",
            "use mysql.rds_set_external_master inside the cluster",
        )?;
        self.refuse_if_set("GlobalClusterIdentifier", "there are no global clusters")?;
        let port = self.port()?;
        let settings = self.settings(engine)?;
        let tags = self.tags()?;
        self.authorize_with(
            "CreateDBCluster",
            &self.cp.cluster_arn(&id),
            &keys::creating(engine, &tags),
        )?;
        let req = CreateClusterRequest {
            id,
            engine,
            engine_version: p.get("EngineVersion").map(str::to_string),
            master,
            port,
            settings,
            tags,
        };
        Ok(self.cp.create_db_cluster(req).await?)
    }

    fn max_records(&self) -> Result<usize, ApiError> {
        match self.params.i64("MaxRecords")? {
            None => Ok(100),
            Some(n) if (20..=100).contains(&n) => Ok(n as usize),
            Some(n) => Err(ApiError::invalid_value(format!(
                "Invalid value {n} for MaxRecords. Must be between 20 and 100"
            ))),
        }
    }

    fn filters(&self) -> Result<Filters, ApiError> {
        Ok(Filters(self.params.filters()?))
    }

    pub fn describe_db_clusters(&self) -> Result<ferry_control::Page<ClusterView>, ApiError> {
        let id = self.params.get("DBClusterIdentifier");
        let resource = match id {
            Some(raw) => self.cluster_arn_for(raw),
            None => self
                .cp
                .cluster_arn(&ferry_control::model::ClusterId::new_unchecked("*")),
        };
        self.authorize("DescribeDBClusters", &resource)?;
        Ok(self.cp.describe_db_clusters(
            id,
            &self.filters()?,
            self.max_records()?,
            self.params.get("Marker"),
        )?)
    }

    pub async fn delete_db_cluster(&self) -> Result<ClusterView, ApiError> {
        let p = self.params;
        let raw = p.required("DBClusterIdentifier")?;
        self.authorize("DeleteDBCluster", &self.cluster_arn_for(raw))?;
        let id = ferry_control::model::ClusterId::new_unchecked(raw.to_lowercase());
        let req = DeleteClusterRequest {
            id,
            skip_final_snapshot: p.bool("SkipFinalSnapshot")?.unwrap_or(false),
            final_snapshot_identifier: p.get("FinalDBSnapshotIdentifier").map(str::to_string),
        };
        Ok(self.cp.delete_db_cluster(req).await?)
    }

    async fn modify_db_cluster(&self) -> Result<ClusterView, ApiError> {
        let p = self.params;
        let raw = p.required("DBClusterIdentifier")?;
        self.authorize("ModifyDBCluster", &self.cluster_arn_for(raw))?;
        let id = ferry_control::model::ClusterId::new_unchecked(raw.to_lowercase());
        for (name, why) in [
            (
                "NewDBClusterIdentifier",
                "renaming clusters is not supported",
            ),
            ("Port", "a cluster's port is fixed at creation"),
            (
                "EngineVersion",
                "the engine version is the installed MariaDB's",
            ),
            ("ManageMasterUserPassword", "there is no Secrets Manager"),
            ("RotateMasterUserPassword", "there is no Secrets Manager"),
            (
                "EnableIAMDatabaseAuthentication",
                "database users authenticate with passwords",
            ),
            ("BacktrackWindow", "there is no backtracking"),
        ] {
            self.refuse_if_set(name, why)?;
        }
        let master_user_password = match p.get("MasterUserPassword") {
            Some(pw) => {
                validate::master_password(pw)?;
                Some(pw.to_string())
            }
            None => None,
        };
        let req = ModifyClusterRequest {
            master_user_password,
            deletion_protection: p.bool("DeletionProtection")?,
            backup_retention_period: match p.i64("BackupRetentionPeriod")? {
                Some(v) => Some(validate::backup_retention_period(v)?),
                None => None,
            },
            preferred_backup_window: match p.get("PreferredBackupWindow") {
                Some(v) => {
                    validate::backup_window(v)?;
                    Some(v.to_string())
                }
                None => None,
            },
            preferred_maintenance_window: match p.get("PreferredMaintenanceWindow") {
                Some(v) => {
                    validate::maintenance_window(v)?;
                    Some(v.to_string())
                }
                None => None,
            },
        };
        Ok(self.cp.modify_db_cluster(&id, req).await?)
    }

    pub async fn create_db_instance(&self) -> Result<InstanceView, ApiError> {
        let p = self.params;
        let id = validate::instance_identifier(
            "DBInstanceIdentifier",
            p.required("DBInstanceIdentifier")?,
        )?;
        let class = p.required("DBInstanceClass")?;
        validate::instance_class(class)?;
        let engine = self.engine()?;
        let cluster_raw = p.get("DBClusterIdentifier").ok_or_else(|| {
            ApiError::invalid_combination(
                "ferry creates DB instances in a DB cluster: DBClusterIdentifier is required",
            )
        })?;
        for (name, why) in [
            ("MasterUsername", "the master user is the cluster's"),
            ("MasterUserPassword", "the master user is the cluster's"),
            ("AllocatedStorage", "storage is the cluster volume"),
            ("Port", "the port is the cluster's"),
            ("EngineVersion", "the engine version is the cluster's"),
            ("MultiAZ", "there is one host"),
        ] {
            if p.get(name).is_some() && !matches!(p.get(name), Some("false")) {
                return Err(ApiError::invalid_combination(format!(
                    "The requested DB instance will be a member of a DB cluster. {name} does not apply: {why}."
                )));
            }
        }
        let cluster_id =
            ferry_control::model::ClusterId::new_unchecked(cluster_raw.trim().to_lowercase());
        let promotion_tier = match p.i64("PromotionTier")? {
            Some(t) if (0..=15).contains(&t) => Some(t as u32),
            Some(t) => {
                return Err(ApiError::invalid_value(format!(
                    "Invalid value {t} for PromotionTier. Must be between 0 and 15"
                )))
            }
            None => None,
        };
        let tags = self.tags()?;
        let mut create_keys = keys::creating(engine, &tags);
        create_keys.set("rds:DatabaseClass", class);
        self.authorize_with("CreateDBInstance", &self.cp.instance_arn(&id), &create_keys)?;
        let req = CreateInstanceRequest {
            id,
            cluster_id,
            instance_class: class.to_string(),
            engine,
            availability_zone: p.get("AvailabilityZone").map(str::to_string),
            promotion_tier,
            tags,
        };
        Ok(self.cp.create_db_instance(req).await?)
    }

    pub fn describe_db_instances(&self) -> Result<ferry_control::Page<InstanceView>, ApiError> {
        let id = self.params.get("DBInstanceIdentifier");
        let resource = match id {
            Some(raw) => self.instance_arn_for(raw),
            None => self
                .cp
                .instance_arn(&ferry_control::model::InstanceId::new_unchecked("*")),
        };
        self.authorize("DescribeDBInstances", &resource)?;
        Ok(self.cp.describe_db_instances(
            id,
            &self.filters()?,
            self.max_records()?,
            self.params.get("Marker"),
        )?)
    }

    pub async fn delete_db_instance(&self) -> Result<InstanceView, ApiError> {
        let raw = self.params.required("DBInstanceIdentifier")?;
        self.authorize("DeleteDBInstance", &self.instance_arn_for(raw))?;
        Ok(self.cp.delete_db_instance(raw).await?)
    }

    fn list_tags(&self) -> Result<Vec<Tag>, ApiError> {
        let arn = self.params.required("ResourceName")?;
        self.authorize("ListTagsForResource", arn)?;
        Ok(self.cp.list_tags(arn)?)
    }

    fn add_tags(&self) -> Result<(), ApiError> {
        let arn = self.params.required("ResourceName")?;
        let tags = self.tags()?;
        if tags.is_empty() {
            return Err(ApiError::new(
                400,
                "MissingParameter",
                "The request must contain the parameter Tags",
            ));
        }
        let mut tag_keys = keys::on_resource(self.cp, arn);
        keys::request_tags(&mut tag_keys, &tags);
        self.authorize_with("AddTagsToResource", arn, &tag_keys)?;
        Ok(self.cp.add_tags(arn, &tags)?)
    }

    fn remove_tags(&self) -> Result<(), ApiError> {
        let arn = self.params.required("ResourceName")?;
        let keys = owned(self.params.list("TagKeys", "member"));
        if keys.is_empty() {
            return Err(ApiError::new(
                400,
                "MissingParameter",
                "The request must contain the parameter TagKeys",
            ));
        }
        let mut tag_keys = keys::on_resource(self.cp, arn);
        tag_keys.set_multi("aws:TagKeys", keys.clone());
        self.authorize_with("RemoveTagsFromResource", arn, &tag_keys)?;
        Ok(self.cp.remove_tags(arn, &keys)?)
    }

    pub fn describe_events(&self) -> Result<(ferry_control::Page<Event>, Vec<String>), ApiError> {
        self.describe_events_ordered(false)
    }

    /// DescribeEvents, newest first when `newest_first` (the console's order: the marker
    /// then pages backwards).
    pub fn describe_events_ordered(
        &self,
        newest_first: bool,
    ) -> Result<(ferry_control::Page<Event>, Vec<String>), ApiError> {
        let p = self.params;
        let source_type = match p.get("SourceType") {
            Some(s) => Some(ferry_control::model::SourceType::parse(s).ok_or_else(|| {
                ApiError::invalid_value(format!(
                    "Invalid SourceType {s}: ferry records events for db-cluster and db-instance"
                ))
            })?),
            None => None,
        };
        let source_id = p.get("SourceIdentifier").map(|s| s.to_lowercase());
        if source_id.is_some() && source_type.is_none() {
            return Err(ApiError::invalid_combination(
                "Cannot specify SourceIdentifier without specifying SourceType",
            ));
        }
        let start = p.timestamp("StartTime")?;
        let end = p.timestamp("EndTime")?;
        let duration_minutes = match p.i64("Duration")? {
            Some(d) if d >= 0 => Some(d as u32),
            Some(d) => {
                return Err(ApiError::invalid_value(format!(
                    "Invalid value {d} for Duration: must not be negative"
                )))
            }
            None => None,
        };
        if !p.filters()?.is_empty() {
            return Err(ApiError::invalid_value(
                "The Filters parameter is not currently supported.",
            ));
        }
        self.authorize("DescribeEvents", "*")?;
        let req = EventsRequest {
            source_type,
            source_id,
            start,
            end,
            duration_minutes,
            categories: owned(p.list("EventCategories", "EventCategory")),
            newest_first,
        };
        let page = self
            .cp
            .describe_events(&req, self.max_records()?, p.get("Marker"))?;
        let arns = page
            .items
            .iter()
            .map(|e| match e.source_type {
                ferry_control::model::SourceType::DbCluster => {
                    self.cp
                        .cluster_arn(&ferry_control::model::ClusterId::new_unchecked(
                            e.source_id.clone(),
                        ))
                }
                ferry_control::model::SourceType::DbInstance => {
                    self.cp
                        .instance_arn(&ferry_control::model::InstanceId::new_unchecked(
                            e.source_id.clone(),
                        ))
                }
            })
            .collect();
        Ok((page, arns))
    }
}

fn owned(v: Vec<&str>) -> Vec<String> {
    v.into_iter().map(str::to_string).collect()
}
