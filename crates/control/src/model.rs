//! The control plane's nouns: clusters, instances, events and their lifecycles.
//!
//! These are domain types, not wire types: the API crate renders them as RDS XML, the store
//! persists them, the job runner and supervisor move them through their lifecycles.
//!
//! Each lifecycle (cluster, instance, job) is data: a [`Lifecycle`] table of the allowed
//! `(from, to)` edges, drawn beside it ([`ClusterStatus::TRANSITIONS`],
//! [`InstanceStatus::TRANSITIONS`], [`JobStatus::TRANSITIONS`], [`ImportStatus::TRANSITIONS`]). The store applies a status
//! change only along an edge of its table, checked against the row's current status in the same
//! statement (see `Store::transition_cluster`), so no caller picks its own "from" states.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

mod imports;
pub use imports::{
    Import, ImportCounters, ImportId, ImportPhase, ImportStatus, SavedDurability, TableProgress,
};

/// A lifecycle as data: its states and the edges allowed between them. Anything not in
/// [`Lifecycle::TRANSITIONS`] is refused, a move to the same state included unless the table
/// lists it (a job started again does; a cluster or instance write that keeps the status is
/// not a transition but a plain update).
pub trait Lifecycle: Copy + Eq + fmt::Debug + 'static {
    /// Every state, each once.
    const STATES: &'static [Self];
    /// The state a new object starts in.
    const INITIAL: Self;
    /// Every allowed `(from, to)` edge, each once.
    const TRANSITIONS: &'static [(Self, Self)];

    /// Whether the table has the edge `from -> to`.
    fn allowed(from: Self, to: Self) -> bool {
        Self::TRANSITIONS.contains(&(from, to))
    }

    /// The states the table lets become `to`, in table order (empty for the initial state).
    fn sources(to: Self) -> impl Iterator<Item = Self> {
        Self::TRANSITIONS
            .iter()
            .filter(move |(_, t)| *t == to)
            .map(|(from, _)| *from)
    }
}

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
        Self::STATES.iter().copied().find(|c| c.as_str() == s)
    }
}

/// The cluster lifecycle. `deleting` is the end: the row is removed once the cluster's
/// instances and volume are gone.
///
/// ```text
///                       the creation job failed
///       creating ─────────────────────────────────▶ migration-failed
///        │    │                                            │
///        │    └────────────▶ deleting ◀────────────────────┘
///        │                      ▲        DeleteDBCluster
///        │ the creation         │
///        │ job succeeded        │ DeleteDBCluster
///        ▼                      │
///       available ──────────────┘
///        │    ▲
///        │    │ the reset is done, or ferry serve restarted during it
///        ▼    │
///       resetting-master-credentials       (ModifyDBCluster with MasterUserPassword)
/// ```
///
/// | from | to | when |
/// |---|---|---|
/// | `creating` | `available` | the restore (or set-up) job succeeded |
/// | `creating` | `migration-failed` | the restore (or set-up) job failed |
/// | `creating` | `deleting` | DeleteDBCluster |
/// | `available` | `resetting-master-credentials` | ModifyDBCluster with MasterUserPassword |
/// | `available` | `deleting` | DeleteDBCluster |
/// | `resetting-master-credentials` | `available` | the reset is done (or failed), or ferry serve restarted during it |
/// | `migration-failed` | `deleting` | DeleteDBCluster |
impl Lifecycle for ClusterStatus {
    const STATES: &'static [Self] = &[
        ClusterStatus::Creating,
        ClusterStatus::Available,
        ClusterStatus::MigrationFailed,
        ClusterStatus::ResettingMasterCredentials,
        ClusterStatus::Deleting,
    ];
    const INITIAL: Self = ClusterStatus::Creating;
    const TRANSITIONS: &'static [(Self, Self)] = {
        use ClusterStatus::*;
        &[
            (Creating, Available),
            (Creating, MigrationFailed),
            (Creating, Deleting),
            (Available, ResettingMasterCredentials),
            (Available, Deleting),
            (ResettingMasterCredentials, Available),
            (MigrationFailed, Deleting),
        ]
    };
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
        Self::STATES.iter().copied().find(|c| c.as_str() == s)
    }
}

/// The instance lifecycle. `deleting` is the end: the row is removed once the server is
/// stopped and the run directory gone. A restart of ferry serve starts a `creating` instance
/// again without a status change, and moves `available` and `failed` ones to `starting`.
///
/// ```text
///                    the server is ready
///       creating ───────────────────────────▶ available ◀──────────┐
///        │                                     │   │               │ the server
///        │ the start failed      it crashed    │   │ it crashed,   │ is ready
///        ▼                       too often     │   │ or ferry serve│
///       failed ◀───────────────────────────────┘   │ restarted     │
///        │  ▲                                      ▼               │
///        │  └──────── the start failed ─────── starting ───────────┘
///        │                                         ▲
///        └────────── ferry serve restarted ────────┘
///
///       creating, starting, available, failed ──DeleteDBInstance──▶ deleting
/// ```
///
/// | from | to | when |
/// |---|---|---|
/// | `creating` | `available` | the server is ready |
/// | `creating` | `failed` | the start failed |
/// | `creating` | `deleting` | DeleteDBInstance |
/// | `starting` | `available` | the server is ready |
/// | `starting` | `failed` | the start failed |
/// | `starting` | `deleting` | DeleteDBInstance |
/// | `available` | `starting` | the server crashed (restarted), or ferry serve restarted |
/// | `available` | `failed` | the server crashed too often in a row |
/// | `available` | `deleting` | DeleteDBInstance |
/// | `failed` | `starting` | ferry serve restarted |
/// | `failed` | `deleting` | DeleteDBInstance |
impl Lifecycle for InstanceStatus {
    const STATES: &'static [Self] = &[
        InstanceStatus::Creating,
        InstanceStatus::Starting,
        InstanceStatus::Available,
        InstanceStatus::Failed,
        InstanceStatus::Deleting,
    ];
    const INITIAL: Self = InstanceStatus::Creating;
    const TRANSITIONS: &'static [(Self, Self)] = {
        use InstanceStatus::*;
        &[
            (Creating, Available),
            (Creating, Failed),
            (Creating, Deleting),
            (Starting, Available),
            (Starting, Failed),
            (Starting, Deleting),
            (Available, Starting),
            (Available, Failed),
            (Available, Deleting),
            (Failed, Starting),
            (Failed, Deleting),
        ]
    };
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

/// Where a job is in its lifecycle. Not a column: the store derives it from the job's
/// `attempts` and `finished_at` (pending = never started, started = started at least once and
/// not finished, finished = `finished_at` set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobStatus {
    Pending,
    Started,
    Finished,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Started => "started",
            JobStatus::Finished => "finished",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::STATES.iter().copied().find(|c| c.as_str() == s)
    }
}

/// The job lifecycle. A finished job is kept (its cluster's status tells the outcome) until its
/// cluster is deleted.
///
/// ```text
///                 start_job                 finish_job
///       pending ─────────────▶ started ─────────────────▶ finished
///        │                      │   ▲                        ▲
///        │                      └───┘ start_job again:       │
///        │                        ferry serve restarted      │
///        │                        while it ran               │
///        └───────────────────── finish_job ──────────────────┘
/// ```
///
/// | from | to | when |
/// |---|---|---|
/// | `pending` | `started` | the runner starts it |
/// | `pending` | `finished` | finished without having run |
/// | `started` | `started` | ferry serve restarted while it ran: the runner starts it again |
/// | `started` | `finished` | it ended, whatever the outcome |
impl Lifecycle for JobStatus {
    const STATES: &'static [Self] = &[JobStatus::Pending, JobStatus::Started, JobStatus::Finished];
    const INITIAL: Self = JobStatus::Pending;
    const TRANSITIONS: &'static [(Self, Self)] = {
        use JobStatus::*;
        &[
            (Pending, Started),
            (Pending, Finished),
            (Started, Started),
            (Started, Finished),
        ]
    };
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

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashSet, VecDeque};

    use super::*;

    /// Every state of `S` reachable from `start` along the table's edges.
    fn reachable<S: Lifecycle + std::hash::Hash>(start: S) -> HashSet<S> {
        let mut seen = HashSet::from([start]);
        let mut queue = VecDeque::from([start]);
        while let Some(s) = queue.pop_front() {
            for &(from, to) in S::TRANSITIONS {
                if from == s && seen.insert(to) {
                    queue.push_back(to);
                }
            }
        }
        seen
    }

    /// Checks a lifecycle's table: states and edges listed once, every state reachable from
    /// the initial one, the end (`last`) reachable from every state and left by no edge, and
    /// `allowed`/`sources` answering exactly from the table over the whole product.
    fn check_table<S: Lifecycle + std::hash::Hash>(last: S) {
        let states: HashSet<S> = S::STATES.iter().copied().collect();
        assert_eq!(states.len(), S::STATES.len(), "a state listed twice");
        let edges: HashSet<(S, S)> = S::TRANSITIONS.iter().copied().collect();
        assert_eq!(edges.len(), S::TRANSITIONS.len(), "an edge listed twice");
        assert_eq!(reachable(S::INITIAL), states, "a state cannot be reached");
        for &s in S::STATES {
            assert!(reachable(s).contains(&last), "{s:?} cannot reach {last:?}");
        }
        assert!(
            S::sources(S::INITIAL).next().is_none(),
            "an edge into the initial state"
        );
        assert!(!S::TRANSITIONS.iter().any(|&(from, _)| from == last));
        for &from in S::STATES {
            for &to in S::STATES {
                assert_eq!(S::allowed(from, to), edges.contains(&(from, to)));
                assert_eq!(
                    S::sources(to).any(|s| s == from),
                    edges.contains(&(from, to))
                );
            }
        }
    }

    /// The `| \`from\` | \`to\` | when |` rows of the doc comment right above `header`.
    fn documented_edges(header: &str) -> BTreeSet<(String, String)> {
        let source = include_str!("model.rs");
        let at = source.find(header).expect("the impl is in model.rs");
        source[..at]
            .lines()
            .rev()
            .take_while(|l| l.trim_start().starts_with("///"))
            .filter_map(|l| {
                let mut cells = l.split('|').skip(1).map(str::trim);
                let from = cells.next()?.strip_prefix('`')?.strip_suffix('`')?;
                let to = cells.next()?.strip_prefix('`')?.strip_suffix('`')?;
                Some((from.to_string(), to.to_string()))
            })
            .collect()
    }

    fn table_edges<S: Lifecycle>(name: fn(S) -> &'static str) -> BTreeSet<(String, String)> {
        S::TRANSITIONS
            .iter()
            .map(|&(from, to)| (name(from).to_string(), name(to).to_string()))
            .collect()
    }

    #[test]
    fn the_cluster_lifecycle_is_well_formed_and_documented() {
        check_table(ClusterStatus::Deleting);
        assert_eq!(
            documented_edges("impl Lifecycle for ClusterStatus {"),
            table_edges(ClusterStatus::as_str)
        );
        for &s in ClusterStatus::STATES {
            assert_eq!(ClusterStatus::parse(s.as_str()), Some(s));
            // Exhaustive: a new status stops this compiling, and the count below (checked
            // against STATES) is the reminder to list it there and give it its edges.
            match s {
                ClusterStatus::Creating
                | ClusterStatus::Available
                | ClusterStatus::MigrationFailed
                | ClusterStatus::ResettingMasterCredentials
                | ClusterStatus::Deleting => {}
            }
        }
        assert_eq!(ClusterStatus::STATES.len(), 5);
    }

    #[test]
    fn the_instance_lifecycle_is_well_formed_and_documented() {
        check_table(InstanceStatus::Deleting);
        assert_eq!(
            documented_edges("impl Lifecycle for InstanceStatus {"),
            table_edges(InstanceStatus::as_str)
        );
        for &s in InstanceStatus::STATES {
            assert_eq!(InstanceStatus::parse(s.as_str()), Some(s));
            match s {
                InstanceStatus::Creating
                | InstanceStatus::Starting
                | InstanceStatus::Available
                | InstanceStatus::Failed
                | InstanceStatus::Deleting => {}
            }
        }
        assert_eq!(InstanceStatus::STATES.len(), 5);
    }

    #[test]
    fn the_job_lifecycle_is_well_formed_and_documented() {
        check_table(JobStatus::Finished);
        assert_eq!(
            documented_edges("impl Lifecycle for JobStatus {"),
            table_edges(JobStatus::as_str)
        );
        for &s in JobStatus::STATES {
            assert_eq!(JobStatus::parse(s.as_str()), Some(s));
            match s {
                JobStatus::Pending | JobStatus::Started | JobStatus::Finished => {}
            }
        }
        assert_eq!(JobStatus::STATES.len(), 3);
    }

    /// The decisions the code relies on, spelt out.
    #[test]
    fn a_deletion_wins_over_background_work() {
        for &to in ClusterStatus::STATES {
            assert!(!ClusterStatus::allowed(ClusterStatus::Deleting, to));
        }
        for &to in InstanceStatus::STATES {
            assert!(!InstanceStatus::allowed(InstanceStatus::Deleting, to));
        }
        // A cluster resetting its master credentials is deleted only once available again.
        assert!(!ClusterStatus::allowed(
            ClusterStatus::ResettingMasterCredentials,
            ClusterStatus::Deleting
        ));
        // A finished job is never started again.
        assert!(!JobStatus::allowed(JobStatus::Finished, JobStatus::Started));
    }
}
