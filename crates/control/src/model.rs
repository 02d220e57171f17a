//! The control plane's nouns: clusters, instances, events and their lifecycles.
//!
//! These are domain types, not wire types: the API crate renders them as RDS XML, the store
//! persists them, the job runner and supervisor move them through their lifecycles.
//!
//! ```text
//! cluster:  creating ──restore ok──▶ available ──DeleteDBCluster──▶ deleting ──▶ (gone)
//!              │                         ▲  │
//!              └──bad backup──▶ migration-failed ──DeleteDBCluster──▶ deleting
//!                                        │  └─ModifyDBCluster(password)─▶ resetting-master-credentials ─▶ available
//! instance: creating ──server ready──▶ available ──DeleteDBInstance──▶ deleting ──▶ (gone)
//!              └──start failed──▶ failed ◀──crashed──┘    ▲
//!                                  └──▶ starting ─────────┘  (restart of ferry serve, or after a crash)
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A DB cluster identifier as RDS stores it: validated, lower-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ClusterId(String);

/// A DB instance identifier as RDS stores it: validated, lower-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct InstanceId(String);

macro_rules! id_impls {
    ($t:ident) => {
        impl $t {
            /// Wraps an identifier that has already been validated (see
            /// [`crate::validate::cluster_identifier`]) or read back from the store.
            pub fn new_unchecked(s: impl Into<String>) -> Self {
                $t(s.into())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
id_impls!(ClusterId);
id_impls!(InstanceId);

/// Cluster statuses, spelt as RDS spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ClusterStatus {
    Creating,
    Available,
    MigrationFailed,
    ResettingMasterCredentials,
    Deleting,
}

impl ClusterStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ClusterStatus::Creating => "creating",
            ClusterStatus::Available => "available",
            ClusterStatus::MigrationFailed => "migration-failed",
            ClusterStatus::ResettingMasterCredentials => "resetting-master-credentials",
            ClusterStatus::Deleting => "deleting",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            ClusterStatus::Creating,
            ClusterStatus::Available,
            ClusterStatus::MigrationFailed,
            ClusterStatus::ResettingMasterCredentials,
            ClusterStatus::Deleting,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

/// Instance statuses, spelt as RDS spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InstanceStatus {
    Creating,
    /// Being started again after the control plane (or the server) restarted.
    Starting,
    Available,
    Failed,
    Deleting,
}

impl InstanceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceStatus::Creating => "creating",
            InstanceStatus::Starting => "starting",
            InstanceStatus::Available => "available",
            InstanceStatus::Failed => "failed",
            InstanceStatus::Deleting => "deleting",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            InstanceStatus::Creating,
            InstanceStatus::Starting,
            InstanceStatus::Available,
            InstanceStatus::Failed,
            InstanceStatus::Deleting,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

/// `Engine` as the caller named it: `aurora-mysql` (the compatible name) or `mariadb`
/// (ferry's own). Both run the same MariaDB server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EngineName {
    AuroraMysql,
    Mariadb,
}

impl EngineName {
    pub fn as_str(self) -> &'static str {
        match self {
            EngineName::AuroraMysql => "aurora-mysql",
            EngineName::Mariadb => "mariadb",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "aurora-mysql" => Some(EngineName::AuroraMysql),
            "mariadb" => Some(EngineName::Mariadb),
            _ => None,
        }
    }
}

/// A tag on a resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// Where a restored cluster's data came from (RestoreDBClusterFromS3's S3 parameters).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Origin {
    pub bucket: String,
    /// Key prefix without leading or trailing `/`; empty means the whole bucket.
    pub prefix: String,
    pub ingestion_role_arn: String,
    pub source_engine: String,
    pub source_engine_version: String,
}

/// A cluster's settings from RestoreDBClusterFromS3 / CreateDBCluster, with every default
/// applied: the one place they are spelt, and the one place defaults come from
/// ([`ClusterSettings::defaults`]). The API starts from the defaults and overrides what the
/// request names; the service stores the result as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterSettings {
    pub database_name: Option<String>,
    pub parameter_group: String,
    pub backup_retention_period: u32,
    pub preferred_backup_window: String,
    pub preferred_maintenance_window: String,
    pub storage_encrypted: bool,
    pub kms_key_id: Option<String>,
    pub deletion_protection: bool,
    pub copy_tags_to_snapshot: bool,
    pub iam_database_authentication: bool,
    pub availability_zones: Vec<String>,
    pub vpc_security_group_ids: Vec<String>,
    pub db_subnet_group: String,
}

impl ClusterSettings {
    /// What RDS fills in for a cluster of `engine` in `region` when the request is silent.
    pub fn defaults(engine: EngineName, region: &str) -> ClusterSettings {
        ClusterSettings {
            database_name: None,
            parameter_group: format!("default.{}", engine.as_str()),
            backup_retention_period: 1,
            preferred_backup_window: "07:00-07:30".to_string(),
            preferred_maintenance_window: "sun:08:00-sun:08:30".to_string(),
            storage_encrypted: false,
            kms_key_id: None,
            deletion_protection: false,
            copy_tags_to_snapshot: false,
            iam_database_authentication: false,
            availability_zones: vec![format!("{region}a")],
            vpc_security_group_ids: Vec::new(),
            db_subnet_group: "default".to_string(),
        }
    }
}

/// A DB cluster: the volume (one MariaDB datadir) plus its settings. Instances run on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    pub id: ClusterId,
    /// `cluster-` + 26 upper-case alphanumerics, fixed at creation.
    pub resource_id: String,
    pub status: ClusterStatus,
    pub engine: EngineName,
    /// The real server version (e.g. `10.11.14`), as RDS reports `EngineVersion`.
    pub engine_version: String,
    pub master_username: String,
    /// Port clients connect to; fixed at creation (from the request or allocated).
    pub port: u16,
    /// Everything else the caller chose (or RDS's defaults), resolved once at creation.
    /// Flattened: the stored document keeps one level.
    #[serde(flatten)]
    pub settings: ClusterSettings,
    pub tags: Vec<Tag>,
    /// `Some` for clusters restored from S3.
    pub s3_origin: Option<S3Origin>,
    /// Binary log coordinates the restored data was recovered to.
    pub recovered_binlog: Option<(String, u64)>,
    pub recovered_gtid: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A DB instance: one MariaDB server process on its cluster's volume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    pub id: InstanceId,
    /// `db-` + 26 upper-case alphanumerics.
    pub resource_id: String,
    pub cluster_id: ClusterId,
    pub status: InstanceStatus,
    pub instance_class: String,
    pub engine: EngineName,
    pub is_writer: bool,
    pub promotion_tier: u32,
    pub availability_zone: String,
    pub tags: Vec<Tag>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// What an event is about (`SourceType` in DescribeEvents).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SourceType {
    DbCluster,
    DbInstance,
}

impl SourceType {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceType::DbCluster => "db-cluster",
            SourceType::DbInstance => "db-instance",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "db-cluster" => Some(SourceType::DbCluster),
            "db-instance" => Some(SourceType::DbInstance),
            _ => None,
        }
    }
}

/// One event, as DescribeEvents returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Monotonic, assigned by the store.
    pub seq: i64,
    pub source_type: SourceType,
    pub source_id: String,
    pub message: String,
    /// RDS's categories, e.g. `creation`, `deletion`, `failure`, `notification`.
    pub categories: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub date: OffsetDateTime,
}

/// A unit of background work the job runner owns and resumes after a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobKind {
    /// Restore a cluster's volume from its S3 origin.
    RestoreFromS3,
    /// Initialise an empty cluster volume (CreateDBCluster).
    InitEmpty,
}

impl JobKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            JobKind::RestoreFromS3 => "restore-from-s3",
            JobKind::InitEmpty => "init-empty",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "restore-from-s3" => Some(JobKind::RestoreFromS3),
            "init-empty" => Some(JobKind::InitEmpty),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub id: i64,
    pub cluster_id: ClusterId,
    pub kind: JobKind,
    /// How many times the job has been started (1 on first run; a restart of `ferry serve`
    /// while it ran starts it again).
    pub attempts: u32,
}
