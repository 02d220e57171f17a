//! A group's page: its ARN, its members (`GetGroup`; add one with `AddUserToGroup`, remove one
//! with `RemoveUserFromGroup`) and its attached managed policies (`ListAttachedGroupPolicies`;
//! attach one with `AttachGroupPolicy`). The list and the create form are on the IAM page.

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use ferry_api::error::ApiError;
use ferry_api::server::Peer;
use ferry_control::Principal;
use serde::Deserialize;

use super::{attached_policies, call, refused_or_ok, rows, segment, Listed, Sent};
use crate::pages::{api_error, form_sender, principal};
use crate::session::Session;
use crate::{html, to_sign_in, Chrome, Console};

/// The console's path of group `name`.
pub(crate) fn group_path(name: &str) -> String {
    format!("/console/iam/groups/{}", segment(name))
}

#[derive(Template)]
#[template(path = "iam_group.html")]
pub(crate) struct GroupPage {
    pub chrome: Chrome,
    pub name: String,
    /// This page's path, where its forms are posted.
    pub path: String,
    pub arn: String,
    pub members: Listed,
    pub attached: Listed,
    /// The add-user form.
    pub add: Sent,
    /// The remove button of member `remove.value`.
    pub remove: Sent,
    /// The attach-policy form.
    pub attach: Sent,
}

/// What the page's forms sent and how IAM answered, shown again on the page.
#[derive(Default)]
struct Forms {
    add: Sent,
    remove: Sent,
    attach: Sent,
}

impl Forms {
    fn refused(&self) -> bool {
        [&self.add, &self.remove, &self.attach]
            .iter()
            .any(|f| f.error.is_some())
    }
}

async fn group_page(
    console: &Console,
    s: &Session,
    p: &Principal,
    name: &str,
    forms: Forms,
) -> Response {
    let chrome = Chrome::for_session(format!("IAM group {name}"), "iam", s);
    // A group that does not exist (NoSuchEntity) is the 404 page, in IAM's words.
    let group = match call(console, p, "GetGroup", &[("GroupName", name)]).await {
        Ok(a) => a,
        Err(e) => return api_error(chrome, &e),
    };
    let arn = group
        .find("Group")
        .map(|g| g.get("Arn"))
        .unwrap_or("")
        .to_string();
    let members = Listed {
        rows: rows(&group, "Users", "UserName"),
        error: None,
    };
    let attached =
        attached_policies(console, p, "ListAttachedGroupPolicies", "GroupName", name).await;
    let refused = forms.refused();
    let page = GroupPage {
        chrome,
        name: name.to_string(),
        path: group_path(name),
        arn,
        members,
        attached,
        add: forms.add,
        remove: forms.remove,
        attach: forms.attach,
    };
    refused_or_ok(html(&page), refused)
}

pub async fn group(
    State(console): State<Console>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Path(name): Path<String>,
) -> Response {
    match principal(&console, &headers, peer) {
        Ok((s, p)) => group_page(&console, &s, &p, &name, Forms::default()).await,
        Err(why) => to_sign_in(why),
    }
}

#[derive(Deserialize)]
pub struct GroupActionForm {
    #[serde(default)]
    csrf: String,
    /// `add-user`, `remove-user` or `attach`.
    #[serde(default)]
    action: String,
    #[serde(default)]
    user_name: String,
    #[serde(default)]
    policy_arn: String,
}

/// Adds a user to the group, removes one, or attaches a managed policy; then back to the
/// group's page (303), or the page again with IAM's refusal beside the form that was sent.
pub async fn group_action(
    State(console): State<Console>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Path(name): Path<String>,
    Form(f): Form<GroupActionForm>,
) -> Response {
    let (s, p) = match form_sender(&console, &headers, peer, &f.csrf) {
        Ok(x) => x,
        Err(refused) => return refused.into_response(),
    };
    let user = f.user_name.trim();
    let policy = f.policy_arn.trim();
    let (action, pairs, value) = match f.action.as_str() {
        "add-user" => (
            "AddUserToGroup",
            [("GroupName", &*name), ("UserName", user)],
            user,
        ),
        "remove-user" => (
            "RemoveUserFromGroup",
            [("GroupName", &*name), ("UserName", user)],
            user,
        ),
        "attach" => (
            "AttachGroupPolicy",
            [("GroupName", &*name), ("PolicyArn", policy)],
            policy,
        ),
        other => {
            let e = ApiError::new(
                400,
                "InvalidAction",
                format!("Unknown form action {other:?}."),
            );
            return api_error(Chrome::for_session("IAM", "iam", &s), &e);
        }
    };
    match call(&console, &p, action, &pairs).await {
        Ok(_) => Redirect::to(&group_path(&name)).into_response(),
        Err(e) if e.status < 500 => {
            let sent = Sent::refused(value, e.message);
            let forms = match f.action.as_str() {
                "add-user" => Forms {
                    add: sent,
                    ..Forms::default()
                },
                "remove-user" => Forms {
                    remove: sent,
                    ..Forms::default()
                },
                _ => Forms {
                    attach: sent,
                    ..Forms::default()
                },
            };
            group_page(&console, &s, &p, &name, forms).await
        }
        Err(e) => api_error(Chrome::for_session("IAM", "iam", &s), &e),
    }
}
