//! Validated requests the control plane acts on.
//!
//! The API layer turns wire parameters into these (using [`crate::validate`]), so the service
//! never sees an unchecked identifier, password or port.

use ferry_base::Secret;
use time::OffsetDateTime;

use crate::model::{ClusterId, ClusterSettings, EngineName, InstanceId, SourceType, Tag};

/// The master user and its password.
#[derive(Debug, Clone)]
pub struct MasterCredentials {
    pub username: String,
    pub password: Secret,
}

#[derive(Clone)]
pub struct RestoreFromS3Request {
    pub id: ClusterId,
    pub engine: EngineName,
    pub engine_version: Option<String>,
    pub master: MasterCredentials,
    pub source_engine: String,
    pub source_engine_version: String,
    pub bucket: String,
    pub prefix: String,
    pub ingestion_role_arn: String,
    /// `None`: the first free port of the configured range.
    pub port: Option<u16>,
    pub settings: ClusterSettings,
    pub tags: Vec<Tag>,
}

impl RestoreFromS3Request {
    /// Where the cluster is restored from, as the cluster records it.
    pub fn origin(&self) -> crate::model::S3Origin {
        crate::model::S3Origin {
            bucket: self.bucket.clone(),
            prefix: self.prefix.clone(),
            ingestion_role_arn: self.ingestion_role_arn.clone(),
            source_engine: self.source_engine.clone(),
            source_engine_version: self.source_engine_version.clone(),
        }
    }
}

#[derive(Clone)]
pub struct CreateClusterRequest {
    pub id: ClusterId,
    pub engine: EngineName,
    pub engine_version: Option<String>,
    pub master: MasterCredentials,
    /// `None`: the first free port of the configured range.
    pub port: Option<u16>,
    pub settings: ClusterSettings,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone)]
pub struct CreateInstanceRequest {
    pub id: InstanceId,
    pub cluster_id: ClusterId,
    pub instance_class: String,
    pub engine: EngineName,
    pub availability_zone: Option<String>,
    pub promotion_tier: Option<u32>,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone)]
pub struct DeleteClusterRequest {
    pub id: ClusterId,
    pub skip_final_snapshot: bool,
    pub final_snapshot_identifier: Option<String>,
}

#[derive(Clone, Default)]
pub struct ModifyClusterRequest {
    pub master_user_password: Option<String>,
    pub deletion_protection: Option<bool>,
    pub backup_retention_period: Option<u32>,
    pub preferred_backup_window: Option<String>,
    pub preferred_maintenance_window: Option<String>,
}

/// DescribeDBClusters / DescribeDBInstances filters (`Filters.Filter.N`).
#[derive(Debug, Clone, Default)]
pub struct Filters(pub Vec<(String, Vec<String>)>);

#[derive(Debug, Clone, Default)]
pub struct EventsRequest {
    pub source_type: Option<SourceType>,
    pub source_id: Option<String>,
    pub start: Option<OffsetDateTime>,
    pub end: Option<OffsetDateTime>,
    /// Minutes back from now when `start` is not given (RDS default 60).
    pub duration_minutes: Option<u32>,
    /// Only events in one of these categories (empty: all).
    pub categories: Vec<String>,
    /// Newest first (the web console), the marker paging backwards; the API's order is
    /// oldest first.
    pub newest_first: bool,
}
