//! A role's page: its ARN and trust policy (`GetRole`'s `AssumeRolePolicyDocument`, decoded
//! and indented) and its attached managed policies (`ListAttachedRolePolicies`; attach one
//! with `AttachRolePolicy`). The list is on the IAM page.

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use ferry_api::error::ApiError;
use ferry_api::server::Peer;
use ferry_control::Principal;
use serde::Deserialize;

use super::policies::document;
use super::{attached_policies, call, refused_or_ok, segment, Listed, Sent};
use crate::pages::{api_error, form_sender, principal};
use crate::session::Session;
use crate::{html, to_sign_in, Chrome, Console};

/// The console's path of role `name`.
pub(crate) fn role_path(name: &str) -> String {
    format!("/console/iam/roles/{}", segment(name))
}

#[derive(Template)]
#[template(path = "iam_role.html")]
pub(crate) struct RolePage {
    pub chrome: Chrome,
    pub name: String,
    /// This page's path, where its form is posted.
    pub path: String,
    pub arn: String,
    pub description: String,
    /// The trust policy, decoded and indented.
    pub trust: String,
    pub attached: Listed,
    /// The attach-policy form.
    pub attach: Sent,
}

async fn role_page(
    console: &Console,
    s: &Session,
    p: &Principal,
    name: &str,
    attach: Sent,
) -> Response {
    let chrome = Chrome::for_session(format!("IAM role {name}"), "iam", s);
    // A role that does not exist (NoSuchEntity) is the 404 page, in IAM's words.
    let got = match call(console, p, "GetRole", &[("RoleName", name)]).await {
        Ok(a) => a,
        Err(e) => return api_error(chrome, &e),
    };
    let role = got.find("Role").cloned().unwrap_or_default();
    let attached =
        attached_policies(console, p, "ListAttachedRolePolicies", "RoleName", name).await;
    let refused = attach.error.is_some();
    let page = RolePage {
        chrome,
        name: name.to_string(),
        path: role_path(name),
        arn: role.get("Arn").to_string(),
        description: role.get("Description").to_string(),
        trust: document(role.get("AssumeRolePolicyDocument")),
        attached,
        attach,
    };
    refused_or_ok(html(&page), refused)
}

pub async fn role(
    State(console): State<Console>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Path(name): Path<String>,
) -> Response {
    match principal(&console, &headers, peer) {
        Ok((s, p)) => role_page(&console, &s, &p, &name, Sent::default()).await,
        Err(why) => to_sign_in(why),
    }
}

#[derive(Deserialize)]
pub struct RoleActionForm {
    #[serde(default)]
    csrf: String,
    /// `attach`.
    #[serde(default)]
    action: String,
    #[serde(default)]
    policy_arn: String,
}

/// Attaches a managed policy to the role; then back to the role's page (303), or the page
/// again with IAM's refusal beside the form.
pub async fn role_action(
    State(console): State<Console>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Path(name): Path<String>,
    Form(f): Form<RoleActionForm>,
) -> Response {
    let (s, p) = match form_sender(&console, &headers, peer, &f.csrf) {
        Ok(x) => x,
        Err(refused) => return refused.into_response(),
    };
    if f.action != "attach" {
        let e = ApiError::new(
            400,
            "InvalidAction",
            format!("Unknown form action {:?}.", f.action),
        );
        return api_error(Chrome::for_session("IAM", "iam", &s), &e);
    }
    let policy = f.policy_arn.trim();
    let pairs = [("RoleName", name.as_str()), ("PolicyArn", policy)];
    match call(&console, &p, "AttachRolePolicy", &pairs).await {
        Ok(_) => Redirect::to(&role_path(&name)).into_response(),
        Err(e) if e.status < 500 => {
            role_page(&console, &s, &p, &name, Sent::refused(policy, e.message)).await
        }
        Err(e) => api_error(Chrome::for_session("IAM", "iam", &s), &e),
    }
}
