//! The IAM Query API (version 2010-05-08, SigV4 service `iam`) on the same endpoint as RDS:
//! parameters in, a control-plane call, XML out with the element names of botocore's IAM
//! service model (`botocore/data/iam/2010-05-08/service-2.json`).
//!
//! Users, groups, access keys and user tags are in [`identities`]; roles, managed policies
//! and their versions, attachments, inline policies and the policy simulator in
//! [`policies`]. Every action is authorized (`iam:<Action>` on the entity's ARN) before it
//! acts.

use ferry_control::{ControlPlane, Principal};

use crate::error::ApiError;
use crate::params::Params;
use crate::xml::{self, XmlWriter, IAM_NAMESPACE};

mod identities;
mod identities_keys;
mod policies;

pub const API_VERSION: &str = "2010-05-08";

/// What an action answers: the inside of `<{Action}Result>`, or nothing for actions whose
/// output has no members (`DeleteUser`, ...).
pub(crate) type Reply = Option<Box<dyn FnOnce(&mut XmlWriter) + Send>>;

/// One IAM request being served.
pub(crate) struct Handler<'a> {
    pub cp: &'a ControlPlane,
    pub principal: &'a Principal,
    pub params: &'a Params,
    pub action: &'a str,
}

impl Handler<'_> {
    /// Authorizes IAM action `action` (its API name: `iam:` is added) on `resource`, with
    /// the tags the request sets or removes as condition keys (`aws:RequestTag/<key>`,
    /// `aws:TagKeys`).
    pub fn authorize(&self, action: &str, resource: &str) -> Result<(), ApiError> {
        Ok(self.cp.authorize_with(
            self.principal,
            &format!("iam:{action}"),
            resource,
            &self.tag_keys(),
        )?)
    }

    /// `Tags.member.N.{Key,Value}` and `TagKeys.member.N` as condition keys.
    fn tag_keys(&self) -> ferry_iam::Context {
        let mut keys = ferry_iam::Context::new();
        let mut names = Vec::new();
        for tag in self.params.structs("Tags", "member") {
            if let Some(key) = tag.get("Key") {
                keys.set(
                    &format!("aws:RequestTag/{key}"),
                    tag.get("Value").map(String::as_str).unwrap_or(""),
                );
                names.push(key.clone());
            }
        }
        names.extend(
            self.params
                .list("TagKeys", "member")
                .into_iter()
                .map(str::to_string),
        );
        if !names.is_empty() {
            keys.set_multi("aws:TagKeys", names);
        }
        keys
    }
}

/// Runs one IAM action and renders its XML response.
pub async fn dispatch(
    cp: &ControlPlane,
    principal: &Principal,
    params: &Params,
    request_id: &str,
) -> Result<String, ApiError> {
    let action = crate::error::action_of(params, "IAM", API_VERSION)?.to_string();
    let h = Handler {
        cp,
        principal,
        params,
        action: &action,
    };
    let reply = match identities::handle(&h).await {
        Some(reply) => reply?,
        None => match policies::handle(&h).await {
            Some(reply) => reply?,
            None => {
                return Err(ApiError::new(
                    400,
                    "InvalidAction",
                    format!("The action {action} is not valid for this web service."),
                ))
            }
        },
    };
    Ok(match reply {
        Some(body) => xml::response_in(IAM_NAMESPACE, &action, request_id, body),
        None => xml::empty_response_in(IAM_NAMESPACE, &action, request_id),
    })
}
