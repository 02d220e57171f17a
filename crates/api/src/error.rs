//! The one mapping from anything that can go wrong in a request to what the caller sees:
//! an HTTP status, an AWS error code and a message, rendered as AWS's `ErrorResponse`
//! ([`ApiError::respond`]).
//!
//! A client's mistake is a 4xx whose message says what to change. A failure inside ferry is a
//! 500 `InternalFailure` whose message is generic and names the request id; its cause (which
//! may name server paths, such as a file ferry could not read) goes to the server log only,
//! on a line with the same request id.

use ferry_control::validate::ValidationError;
use ferry_control::ControlError;

use crate::params::ParamError;
use crate::sigv4::AuthError;
use crate::xml::MembersError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    /// What the caller reads (for a 5xx, replaced by a generic sentence: see
    /// [`ApiError::respond`]).
    pub message: String,
}

/// The message of every 5xx answer, before the request id.
pub const INTERNAL_MESSAGE: &str = "ferry failed to";

impl ApiError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_string(),
            message: message.into(),
        }
    }

    /// A failure inside ferry; `cause` (the whole chain) is for the server log.
    pub fn internal(cause: String) -> Self {
        ApiError::new(500, "InternalFailure", cause)
    }

    /// The answer: its HTTP status and AWS `ErrorResponse` body. A 4xx carries its message as
    /// it is. A 5xx, however it was made, carries only "ferry failed to <action>; see the
    /// server log, request id <id>", and its message (the cause) is logged here, at ERROR,
    /// with the action and request id: no server path ever reaches a caller.
    pub fn respond(&self, action: Option<&str>, request_id: &str) -> (u16, String) {
        let message = if self.status >= 500 {
            tracing::error!(
                request_id = %request_id,
                action = action.unwrap_or("-"),
                error = %self.message,
                "request failed inside ferry"
            );
            internal_message(action, request_id)
        } else {
            self.message.clone()
        };
        let body = crate::xml::error_response(
            crate::xml::ErrorType::for_status(self.status),
            &self.code,
            &message,
            request_id,
        );
        (self.status, body)
    }

    pub fn invalid_value(message: impl Into<String>) -> Self {
        ApiError::new(400, "InvalidParameterValue", message)
    }

    pub fn invalid_combination(message: impl Into<String>) -> Self {
        ApiError::new(400, "InvalidParameterCombination", message)
    }
}

/// The request's `Action`, once its `Version` is the one `api` (`RDS`, `IAM`, `STS`)
/// implements: every Query API's dispatcher starts here.
pub fn action_of<'p>(
    params: &'p crate::params::Params,
    api: &str,
    version: &str,
) -> Result<&'p str, ApiError> {
    let action = params
        .action()
        .ok_or_else(|| ApiError::new(400, "MissingAction", "Missing Action"))?;
    match params.version() {
        Some(v) if v == version => Ok(action),
        Some(other) => Err(ApiError::invalid_value(format!(
            "Version {other} is not supported; ferry implements {api} API version {version}."
        ))),
        None => Err(ApiError::new(
            400,
            "MissingParameter",
            "The request must contain the parameter Version",
        )),
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
            ControlError::ReplicationRefused { .. } => (400, "ReplicationRefused"),
            ControlError::ImportNotFound(_) => (404, "ImportNotFound"),
            ControlError::InvalidImportState(_) => (400, "InvalidImportStateFault"),
            ControlError::Validation(v) => return v.clone().into(),
            ControlError::InvalidS3Bucket(_) => (400, "InvalidS3BucketFault"),
            ControlError::ParameterGroupNotFound(_) => (404, "DBClusterParameterGroupNotFound"),
            ControlError::AccessDenied { .. } => (403, "AccessDenied"),
            ControlError::Iam(e) => {
                let (code, status) = e.code_and_status();
                (status, code)
            }
            ControlError::Store(_)
            | ControlError::Engine(_)
            | ControlError::Replication(_)
            | ControlError::Config(_)
            | ControlError::Io { .. }
            | ControlError::DataDirInUse { .. }
            | ControlError::Damaged { .. }
            | ControlError::CredentialsFile { .. }
            | ControlError::TimedOut { .. }
            | ControlError::Injected(_)
            | ControlError::Unexpected(_)
            | ControlError::Contended(_) => {
                // The whole cause chain, for the log (lower crates' errors are carried whole,
                // not as text); `respond` keeps it from the caller.
                return ApiError::internal(ferry_base::error::flatten(&e));
            }
        };
        ApiError::new(status, code, message)
    }
}

impl From<MembersError> for ApiError {
    fn from(e: MembersError) -> Self {
        ApiError::internal(format!(
            "the response could not be written: {}",
            ferry_base::error::flatten(&e)
        ))
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

/// What a caller reads for a 5xx.
fn internal_message(action: Option<&str>, request_id: &str) -> String {
    let what = match action {
        Some(a) => format!("carry out {a}"),
        None => "handle the request".to_string(),
    };
    format!("{INTERNAL_MESSAGE} {what}; see the server log, request id {request_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_failures_name_no_server_path() {
        let cause = ControlError::Io {
            action: "read",
            path: "/srv/ferry/clusters/c1/admin.cnf".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        let e = ApiError::from(cause);
        assert_eq!((e.status, e.code.as_str()), (500, "InternalFailure"));
        assert!(
            e.message.contains("admin.cnf"),
            "the cause is kept for the log"
        );
        let (status, body) = e.respond(Some("FerryCutover"), "req-1");
        assert_eq!(status, 500);
        assert!(!body.contains("/srv/ferry"), "{body}");
        assert!(
            body.contains(
                "<Message>ferry failed to carry out FerryCutover; see the server log, request id req-1</Message>"
            ),
            "{body}"
        );
        assert!(body.contains("<Type>Receiver</Type>"), "{body}");
        // However a 5xx was made.
        let (_, body) = ApiError::new(503, "ServiceUnavailable", "/srv/ferry/x").respond(None, "r");
        assert!(!body.contains("/srv/ferry"), "{body}");
        // A client's mistake keeps its message.
        let (status, body) =
            ApiError::invalid_value("Port 8900 is in use on this host: ferry's API listens on it")
                .respond(Some("CreateDBCluster"), "r");
        assert_eq!(status, 400);
        assert!(
            body.contains("ferry&apos;s API listens on it")
                || body.contains("ferry's API listens on it"),
            "{body}"
        );
    }
}
