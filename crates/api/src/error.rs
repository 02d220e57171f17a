//! The one mapping from anything that can go wrong in a request to what the caller sees:
//! an HTTP status, an AWS error code and a message, rendered as AWS's `ErrorResponse`.

use ferry_control::validate::ValidationError;
use ferry_control::ControlError;

use crate::params::ParamError;
use crate::sigv4::AuthError;
use crate::xml::MembersError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_string(),
            message: message.into(),
        }
    }

    pub fn invalid_value(message: impl Into<String>) -> Self {
        ApiError::new(400, "InvalidParameterValue", message)
    }

    pub fn invalid_combination(message: impl Into<String>) -> Self {
        ApiError::new(400, "InvalidParameterCombination", message)
    }
}

impl From<ControlError> for ApiError {
    fn from(e: ControlError) -> Self {
        let message = e.to_string();
        let (status, code) = match &e {
            ControlError::ClusterAlreadyExists(_) => (400, "DBClusterAlreadyExistsFault"),
            ControlError::ClusterNotFound(_) => (404, "DBClusterNotFoundFault"),
            ControlError::InstanceAlreadyExists(_) => (400, "DBInstanceAlreadyExists"),
            ControlError::InstanceNotFound(_) => (404, "DBInstanceNotFound"),
            ControlError::InvalidClusterState(_) => (400, "InvalidDBClusterStateFault"),
            ControlError::InvalidInstanceState(_) => (400, "InvalidDBInstanceState"),
            ControlError::Validation(v) => return v.clone().into(),
            ControlError::InvalidS3Bucket(_) => (400, "InvalidS3BucketFault"),
            ControlError::ParameterGroupNotFound(_) => (404, "DBClusterParameterGroupNotFound"),
            ControlError::AccessDenied { .. } => (403, "AccessDenied"),
            ControlError::Store(_)
            | ControlError::Engine(_)
            | ControlError::Replication(_)
            | ControlError::Config(_)
            | ControlError::Io { .. }
            | ControlError::DataDirInUse { .. }
            | ControlError::Damaged { .. }
            | ControlError::CredentialsFile { .. }
            | ControlError::TimedOut { .. }
            | ControlError::Contended(_) => {
                // The whole cause chain: lower crates' errors are carried whole, not as text.
                let message = ferry_base::error::flatten(&e);
                tracing::error!(error = %message, "request failed inside ferry");
                return ApiError::new(500, "InternalFailure", message);
            }
        };
        ApiError::new(status, code, message)
    }
}

impl From<MembersError> for ApiError {
    fn from(e: MembersError) -> Self {
        let message = ferry_base::error::flatten(&e);
        tracing::error!(error = %message, "response could not be written");
        ApiError::new(500, "InternalFailure", message)
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        ApiError::new(400, e.code, e.message)
    }
}

impl From<ParamError> for ApiError {
    fn from(e: ParamError) -> Self {
        ApiError::new(e.status(), e.code, e.message)
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        ApiError::new(e.status(), e.code(), e.to_string())
    }
}
