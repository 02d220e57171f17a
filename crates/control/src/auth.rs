//! The one place that decides whether a caller may perform an action.
//!
//! Today there is one kind of caller: the admin user whose access key `ferry serve` created
//! on first start, who may do everything. The IAM issue replaces the body of [`authorize`]
//! with policy evaluation (including `iam:PassRole` on `S3IngestionRoleArn`); every API
//! action already passes through it with its action name and resource ARN.

use crate::error::ControlError;
use crate::store::Store;

/// Who signed a request: the access key and the IAM user it belongs to ([`ROOT_USER`] for
/// the account root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub access_key_id: String,
    pub user_name: String,
}

impl Principal {
    /// The account root (the bootstrap admin `ferry serve` creates on first start), which
    /// no policy restricts.
    pub fn is_root(&self) -> bool {
        self.user_name == ROOT_USER
    }
}

/// The user name under which the account root's access keys are stored: not a valid IAM
/// user name (`:` is outside `[\w+=,.@-]`), so no IAM user can ever hold it.
pub const ROOT_USER: &str = ":root";

pub fn authorize(
    _store: &Store,
    principal: &Principal,
    action: &str,
    resource: &str,
) -> Result<(), ControlError> {
    if principal.is_root() {
        return Ok(());
    }
    Err(ControlError::AccessDenied {
        principal: format!("arn:aws:iam::000000000000:user/{}", principal.user_name),
        action: action.to_string(),
        resource: resource.to_string(),
    })
}
