//! The STS Query API (version 2011-06-15, SigV4 service `sts`): `GetCallerIdentity`, the
//! first command people run against a new endpoint.

use ferry_control::{ControlPlane, Principal};

use crate::error::ApiError;
use crate::params::Params;

pub const API_VERSION: &str = "2011-06-15";

/// Runs one STS action and renders its XML response.
pub fn dispatch(
    _cp: &ControlPlane,
    _principal: &Principal,
    params: &Params,
    _request_id: &str,
) -> Result<String, ApiError> {
    let action = params
        .action()
        .ok_or_else(|| ApiError::new(400, "MissingAction", "Missing Action"))?;
    Err(ApiError::new(
        400,
        "InvalidAction",
        format!("The action {action} is not valid for this web service."),
    ))
}
