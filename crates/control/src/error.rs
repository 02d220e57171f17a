//! What the control plane's operations can fail with.
//!
//! Each variant is something an API caller can act on; the API crate maps them to RDS error
//! codes and HTTP statuses in one function. Messages follow RDS's wording where RDS has one.

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

    #[error("{0}")]
    Validation(#[from] ValidationError),

    #[error("{0}")]
    InvalidS3Bucket(String),

    #[error("DBClusterParameterGroup not found: {0}")]
    ParameterGroupNotFound(String),

    #[error(
        "User: {principal} is not authorized to perform: rds:{action} on resource: {resource}"
    )]
    AccessDenied {
        principal: String,
        action: String,
        resource: String,
    },

    #[error("metadata store: {0}")]
    Store(#[from] StoreError),

    #[error("{0}")]
    Internal(String),
}

impl ControlError {
    pub fn invalid_value(message: impl Into<String>) -> Self {
        ControlError::Validation(ValidationError::invalid_value(message))
    }

    pub fn invalid_combination(message: impl Into<String>) -> Self {
        ControlError::Validation(ValidationError::invalid_combination(message))
    }
}

impl From<ferry_engine::EngineError> for ControlError {
    fn from(e: ferry_engine::EngineError) -> Self {
        ControlError::Internal(ferry_base::error::flatten(&e))
    }
}

impl From<ferry_replication::ReplicationError> for ControlError {
    fn from(e: ferry_replication::ReplicationError) -> Self {
        ControlError::Internal(ferry_base::error::flatten(&e))
    }
}
