//! What the control plane's operations can fail with.
//!
//! Each variant is something an API caller can act on, or a failure inside ferry that keeps
//! its cause: lower crates' errors are carried whole as `#[source]`, never flattened into a
//! string here. Text is made at the edges only: the API crate maps variants to RDS error codes
//! and HTTP statuses in one function, and [`crate::events`] words the events. Messages follow
//! RDS's wording where RDS has one.

use camino::Utf8PathBuf;

use crate::model::{ClusterId, InstanceId};
use crate::store::StoreError;
use crate::validate::ValidationError;

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("DB Cluster {0} already exists")]
    ClusterAlreadyExists(ClusterId),

    #[error("DBCluster {0} not found.")]
    ClusterNotFound(String),

    #[error("DB instance already exists")]
    InstanceAlreadyExists(InstanceId),

    #[error("DBInstance {0} not found.")]
    InstanceNotFound(String),

    #[error("{0}")]
    InvalidClusterState(String),

    #[error("{0}")]
    InvalidInstanceState(String),

    /// A `mysql.rds_*` procedure called for the caller refused (its own message).
    #[error("mysql.{procedure} refused: {message}")]
    ReplicationRefused { procedure: String, message: String },

    #[error("Import {0} not found.")]
    ImportNotFound(String),

    /// The import has ended (or its cluster cannot take one now): the message says which.
    #[error("{0}")]
    InvalidImportState(String),

    #[error("{0}")]
    Validation(#[from] ValidationError),

    #[error("{0}")]
    InvalidS3Bucket(String),

    #[error("DBClusterParameterGroup not found: {0}")]
    ParameterGroupNotFound(String),

    #[error(
        "User: {principal} is not authorized to perform: {action} on resource: {resource} \
         {because}",
        because = reason.because(action)
    )]
    AccessDenied {
        principal: String,
        action: String,
        resource: String,
        reason: DenyReason,
    },

    /// An IAM call refused (no such entity, already exists, malformed policy, quota, ...).
    #[error("{0}")]
    Iam(#[from] crate::iam::IamError),

    #[error("metadata store")]
    Store(#[from] StoreError),

    #[error("database engine")]
    Engine(#[from] ferry_engine::EngineError),

    #[error("replication")]
    Replication(#[from] ferry_replication::ReplicationError),

    #[error("configuration")]
    Config(#[from] crate::config::ConfigError),

    /// A file or directory of the data dir could not be read, written or removed.
    #[error("{action} {path}")]
    Io {
        action: &'static str,
        path: Utf8PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Another `ferry serve` holds the data dir's lock.
    #[error("another ferry serve is already using the data dir {root} (lock {lock} is held)")]
    DataDirInUse {
        root: Utf8PathBuf,
        lock: Utf8PathBuf,
    },

    /// The admin credentials file cannot say what it must (a value the AWS CLI would read
    /// back differently).
    #[error("write the admin credentials file {path}")]
    CredentialsFile {
        path: Utf8PathBuf,
        #[source]
        source: ferry_base::aws_files::WriteError,
    },

    /// A file ferry wrote is there but does not say what it must.
    #[error("{path}: {problem}")]
    Damaged { path: Utf8PathBuf, problem: String },

    /// A resource kept changing under a read-modify-write; the caller may retry.
    #[error("{0}")]
    Contended(String),

    /// Background work that should have ended did not, within its bound.
    #[error("{what} did not finish within {seconds} s")]
    TimedOut { what: String, seconds: u64 },

    /// A server answered something it never should (an empty result where a row must be).
    #[error("{0}")]
    Unexpected(String),

    /// A test's failpoint failed the step (only in builds with the `failpoints` feature).
    #[error(transparent)]
    Injected(#[from] ferry_base::failpoint::Injected),
}

/// Why IAM denied a call, as the end of AWS's `AccessDenied` message says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenyReason {
    /// No statement of the caller's identity-based policies allows the action.
    NoAllow,
    /// A `Deny` statement matched.
    ExplicitDeny,
}

impl DenyReason {
    /// The end of the message: `because no identity-based policy allows the <action>
    /// action` / `with an explicit deny in an identity-based policy`.
    pub fn because(self, action: &str) -> String {
        match self {
            DenyReason::NoAllow => {
                format!("because no identity-based policy allows the {action} action")
            }
            DenyReason::ExplicitDeny => "with an explicit deny in an identity-based policy".into(),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DenyReason::NoAllow => "no identity-based policy allows it",
            DenyReason::ExplicitDeny => "explicit deny",
        }
    }
}

impl ControlError {
    pub fn invalid_value(message: impl Into<String>) -> Self {
        ControlError::Validation(ValidationError::invalid_value(message))
    }

    pub fn invalid_combination(message: impl Into<String>) -> Self {
        ControlError::Validation(ValidationError::invalid_combination(message))
    }

    /// For `map_err`: an I/O failure of `action` (`"read"`, `"create"`, ...) on `path`.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<Utf8PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> ControlError {
        let path = path.into();
        move |source| ControlError::Io {
            action,
            path,
            source,
        }
    }
}
