//! The STS Query API (version 2011-06-15, SigV4 service `sts`): `GetCallerIdentity`, the
//! first command people run against a new endpoint.
//!
//! `GetCallerIdentity` needs no permission (as in AWS: a policy cannot deny it), so it is not
//! authorized; it says who signed the request: the root (`arn:aws:iam::<acct>:root`, its
//! `UserId` the account id) or an IAM user (its ARN and `AIDA...` id).

use ferry_control::iam;
use ferry_control::{ControlError, ControlPlane, Principal};

use crate::error::ApiError;
use crate::params::Params;
use crate::xml::{self, STS_NAMESPACE};

pub const API_VERSION: &str = "2011-06-15";

/// Runs one STS action and renders its XML response.
pub fn dispatch(
    cp: &ControlPlane,
    principal: &Principal,
    params: &Params,
    request_id: &str,
) -> Result<String, ApiError> {
    let action = crate::error::action_of(params, "STS", API_VERSION)?;
    match action {
        "GetCallerIdentity" => get_caller_identity(cp, principal, request_id),
        _ => Err(ApiError::new(
            400,
            "InvalidAction",
            format!("The action {action} is not valid for this web service."),
        )),
    }
}

fn get_caller_identity(
    cp: &ControlPlane,
    principal: &Principal,
    request_id: &str,
) -> Result<String, ApiError> {
    let account = cp.config().account_id.clone();
    let (arn, user_id) = if principal.is_root() {
        (iam::root_arn(&account), account.clone())
    } else {
        let user = cp
            .store()
            .iam_user(&principal.user_name)
            .map_err(ControlError::from)?
            // The user was deleted while its key still signed: its keys went first, so this
            // is a race with DeleteUser; answer as for an unknown key.
            .ok_or_else(|| {
                ApiError::new(
                    403,
                    "InvalidClientTokenId",
                    "The security token included in the request is invalid.",
                )
            })?;
        (iam::arn(&account, "user", &user.path, &user.name), user.id)
    };
    Ok(xml::response_in(
        STS_NAMESPACE,
        "GetCallerIdentity",
        request_id,
        move |w| {
            w.elem("UserId", user_id)
                .elem("Account", account)
                .elem("Arn", arn);
        },
    ))
}
