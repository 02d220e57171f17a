//! The IAM pages: users (create one, its access keys, its groups, its attached policies),
//! groups ([`groups`]: members, attached policies), roles ([`roles`]: trust policy, attached
//! policies), managed policies ([`policies`]: the default version's document), and the policy
//! simulator ("may alice restore from bucket B?", naming the deciding statement).
//!
//! Each page runs the IAM API's own action in-process ([`ferry_api::iam::dispatch`], the
//! function the Query endpoint calls), with the parameters the AWS CLI would send, and reads
//! its answer (the same XML document, parsed by [`Answer`]). So authorization, validation,
//! IAM's error texts and quotas are exactly the API's, for every action, without a second
//! implementation of any of them.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use ferry_api::error::ApiError;
use ferry_api::params::Params;
use ferry_api::server::Peer;
use ferry_control::Principal;
use serde::Deserialize;

use crate::pages::{api_error, form_sender, principal, url_part};
use crate::session::Session;
use crate::{html, to_sign_in, Chrome, Console};

pub mod groups;
pub mod policies;
pub mod roles;

/// An element of an IAM answer: its name, text, and children.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    pub name: String,
    pub text: String,
    pub children: Vec<Answer>,
}

impl Answer {
    fn parse(xml: &str) -> Result<Answer, ApiError> {
        let doc = roxmltree::Document::parse(xml)
            .map_err(|e| ApiError::internal(format!("read an IAM answer: {e}")))?;
        fn build(n: roxmltree::Node<'_, '_>) -> Answer {
            Answer {
                name: n.tag_name().name().to_string(),
                text: n.text().unwrap_or_default().trim().to_string(),
                children: n.children().filter(|c| c.is_element()).map(build).collect(),
            }
        }
        Ok(build(doc.root_element()))
    }

    /// The first descendant named `name` (depth first).
    pub fn find(&self, name: &str) -> Option<&Answer> {
        self.children.iter().find_map(|c| {
            if c.name == name {
                Some(c)
            } else {
                c.find(name)
            }
        })
    }

    /// The text of child `name` (empty when absent).
    pub fn get(&self, name: &str) -> &str {
        self.children
            .iter()
            .find(|c| c.name == name)
            .map_or("", |c| c.text.as_str())
    }

    /// The `member`s of the list element `list`.
    pub fn members(&self, list: &str) -> Vec<&Answer> {
        self.find(list)
            .map(|l| l.children.iter().filter(|c| c.name == "member").collect())
            .unwrap_or_default()
    }
}

/// RFC 3986's unreserved characters, which a path segment carries as they are.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `name` as one path segment, escaped as the templates' `urlencode_strict` escapes it
/// (`ferry-s3-import` stays as it is; `/` is escaped).
pub(crate) fn segment(name: &str) -> String {
    percent_encoding::utf8_percent_encode(name, SEGMENT).to_string()
}

/// Runs IAM action `action` with `pairs` as principal `p`, as the Query endpoint would.
async fn call(
    console: &Console,
    p: &Principal,
    action: &str,
    pairs: &[(&str, &str)],
) -> Result<Answer, ApiError> {
    let mut all = vec![("Action", action), ("Version", ferry_api::iam::API_VERSION)];
    all.extend_from_slice(pairs);
    let params = Params::from_pairs(all);
    let id = uuid::Uuid::new_v4().to_string();
    let xml = ferry_api::iam::dispatch(console.cp(), p, &params, &id).await?;
    Answer::parse(&xml)
}

/// The ARNs of the account's roles, as `ListRoles` gives them to `p` (none when it may not
/// list them).
pub(crate) async fn role_arns(console: &Console, p: &Principal) -> Vec<String> {
    match call(console, p, "ListRoles", &[]).await {
        Ok(a) => rows(&a, "Roles", "RoleName")
            .into_iter()
            .map(|r| r.arn)
            .collect(),
        Err(_) => Vec::new(),
    }
}

pub struct Row {
    pub name: String,
    pub arn: String,
    pub created: String,
}

fn rows(a: &Answer, list: &str, name: &str) -> Vec<Row> {
    a.members(list)
        .into_iter()
        .map(|m| Row {
            name: m.get(name).to_string(),
            arn: m.get("Arn").to_string(),
            created: m.get("CreateDate").to_string(),
        })
        .collect()
}

/// A list that could not be read: IAM's message in its place.
pub struct Listed {
    pub rows: Vec<Row>,
    pub error: Option<String>,
}

impl Listed {
    /// Whether the rows have creation dates (the lists of entities; not attachments).
    pub fn dated(&self) -> bool {
        self.rows.iter().any(|r| !r.created.is_empty())
    }

    fn of(r: Result<Answer, ApiError>, list: &str, name: &str) -> Listed {
        match r {
            Ok(a) => Listed {
                rows: rows(&a, list, name),
                error: None,
            },
            Err(e) => Listed {
                rows: Vec::new(),
                error: Some(e.message),
            },
        }
    }
}

/// The managed policies attached to an entity (`ListAttached{User,Group,Role}Policies` with
/// `param` = its name), or IAM's refusal in their place.
async fn attached_policies(
    console: &Console,
    p: &Principal,
    action: &str,
    param: &str,
    name: &str,
) -> Listed {
    match call(console, p, action, &[(param, name)]).await {
        Ok(a) => Listed {
            rows: a
                .members("AttachedPolicies")
                .into_iter()
                .map(|m| Row {
                    name: m.get("PolicyName").to_string(),
                    arn: m.get("PolicyArn").to_string(),
                    created: String::new(),
                })
                .collect(),
            error: None,
        },
        Err(e) => Listed {
            rows: Vec::new(),
            error: Some(e.message),
        },
    }
}

/// What a form sent and IAM's refusal of it, shown again beside the form.
#[derive(Debug, Default)]
pub struct Sent {
    pub value: String,
    pub error: Option<String>,
}

impl Sent {
    /// `value` refused with IAM's `message`.
    pub fn refused(value: &str, message: String) -> Sent {
        Sent {
            value: value.to_string(),
            error: Some(message),
        }
    }
}

/// A page answering a POST: 400 when IAM refused what the form sent, else 200.
fn refused_or_ok(mut r: Response, refused: bool) -> Response {
    if refused {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    r
}

#[derive(Template)]
#[template(path = "iam.html")]
struct IamPage {
    chrome: Chrome,
    users: Listed,
    groups: Listed,
    roles: Listed,
    policies: Listed,
    /// The create-user form.
    user: Sent,
    /// The create-group form.
    group: Sent,
}

async fn iam_page(
    console: &Console,
    s: &Session,
    p: &Principal,
    user: Sent,
    group: Sent,
) -> Response {
    let users = Listed::of(
        call(console, p, "ListUsers", &[]).await,
        "Users",
        "UserName",
    );
    let groups = Listed::of(
        call(console, p, "ListGroups", &[]).await,
        "Groups",
        "GroupName",
    );
    let roles = Listed::of(
        call(console, p, "ListRoles", &[]).await,
        "Roles",
        "RoleName",
    );
    let policies = Listed::of(
        call(console, p, "ListPolicies", &[("Scope", "Local")]).await,
        "Policies",
        "PolicyName",
    );
    let refused = user.error.is_some() || group.error.is_some();
    let page = IamPage {
        chrome: Chrome::for_session("IAM", "iam", s),
        users,
        groups,
        roles,
        policies,
        user,
        group,
    };
    refused_or_ok(html(&page), refused)
}

pub async fn overview(
    State(console): State<Console>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
) -> Response {
    match principal(&console, &headers, peer) {
        Ok((s, p)) => iam_page(&console, &s, &p, Sent::default(), Sent::default()).await,
        Err(why) => to_sign_in(why),
    }
}

#[derive(Deserialize)]
pub struct CreateUserForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    user_name: String,
}

pub async fn create_user(
    State(console): State<Console>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Form(f): Form<CreateUserForm>,
) -> Response {
    let (s, p) = match form_sender(&console, &headers, peer, &f.csrf) {
        Ok(x) => x,
        Err(refused) => return refused.into_response(),
    };
    let name = f.user_name.trim();
    match call(&console, &p, "CreateUser", &[("UserName", name)]).await {
        Ok(_) => Redirect::to(&format!("/console/iam/users/{}", url_part(name))).into_response(),
        Err(e) if e.status < 500 => {
            iam_page(
                &console,
                &s,
                &p,
                Sent::refused(name, e.message),
                Sent::default(),
            )
            .await
        }
        Err(e) => api_error(Chrome::for_session("IAM", "iam", &s), &e),
    }
}

#[derive(Deserialize)]
pub struct CreateGroupForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    group_name: String,
}

pub async fn create_group(
    State(console): State<Console>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Form(f): Form<CreateGroupForm>,
) -> Response {
    let (s, p) = match form_sender(&console, &headers, peer, &f.csrf) {
        Ok(x) => x,
        Err(refused) => return refused.into_response(),
    };
    let name = f.group_name.trim();
    match call(&console, &p, "CreateGroup", &[("GroupName", name)]).await {
        Ok(_) => Redirect::to(&groups::group_path(name)).into_response(),
        Err(e) if e.status < 500 => {
            iam_page(
                &console,
                &s,
                &p,
                Sent::default(),
                Sent::refused(name, e.message),
            )
            .await
        }
        Err(e) => api_error(Chrome::for_session("IAM", "iam", &s), &e),
    }
}

#[derive(Template)]
#[template(path = "iam_user.html")]
struct UserPage {
    chrome: Chrome,
    name: String,
    arn: String,
    keys: Vec<(String, String)>,
    keys_error: Option<String>,
    groups: Listed,
    attached: Listed,
    error: Option<String>,
    new_key: Option<(String, String)>,
}

async fn user_page(
    console: &Console,
    s: &Session,
    p: &Principal,
    name: &str,
    error: Option<String>,
    new_key: Option<(String, String)>,
) -> Response {
    let chrome = Chrome::for_session(format!("IAM user {name}"), "iam", s);
    let user = match call(console, p, "GetUser", &[("UserName", name)]).await {
        Ok(a) => a,
        Err(e) => return api_error(chrome, &e),
    };
    let arn = user
        .find("User")
        .map(|u| u.get("Arn"))
        .unwrap_or("")
        .to_string();
    let (keys, keys_error) = match call(console, p, "ListAccessKeys", &[("UserName", name)]).await {
        Ok(a) => (
            a.members("AccessKeyMetadata")
                .into_iter()
                .map(|m| {
                    (
                        m.get("AccessKeyId").to_string(),
                        m.get("Status").to_string(),
                    )
                })
                .collect(),
            None,
        ),
        Err(e) => (Vec::new(), Some(e.message)),
    };
    let groups = Listed::of(
        call(console, p, "ListGroupsForUser", &[("UserName", name)]).await,
        "Groups",
        "GroupName",
    );
    let attached =
        attached_policies(console, p, "ListAttachedUserPolicies", "UserName", name).await;
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut r = html(&UserPage {
        chrome,
        name: name.to_string(),
        arn,
        keys,
        keys_error,
        groups,
        attached,
        error,
        new_key,
    });
    *r.status_mut() = status;
    r
}

pub async fn user(
    State(console): State<Console>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Path(name): Path<String>,
) -> Response {
    match principal(&console, &headers, peer) {
        Ok((s, p)) => user_page(&console, &s, &p, &name, None, None).await,
        Err(why) => to_sign_in(why),
    }
}

#[derive(Deserialize)]
pub struct UserActionForm {
    #[serde(default)]
    csrf: String,
    /// `create-key` or `attach`.
    #[serde(default)]
    action: String,
    #[serde(default)]
    policy_arn: String,
}

/// Creates an access key (its secret shown on this one answer, never again) or attaches a
/// managed policy.
pub async fn user_action(
    State(console): State<Console>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Path(name): Path<String>,
    Form(f): Form<UserActionForm>,
) -> Response {
    let (s, p) = match form_sender(&console, &headers, peer, &f.csrf) {
        Ok(x) => x,
        Err(refused) => return refused.into_response(),
    };
    let result = match f.action.as_str() {
        "create-key" => call(&console, &p, "CreateAccessKey", &[("UserName", &name)])
            .await
            .map(|a| {
                let k = a.find("AccessKey");
                k.map(|k| {
                    (
                        k.get("AccessKeyId").to_string(),
                        k.get("SecretAccessKey").to_string(),
                    )
                })
            }),
        "attach" => call(
            &console,
            &p,
            "AttachUserPolicy",
            &[("UserName", &name), ("PolicyArn", f.policy_arn.trim())],
        )
        .await
        .map(|_| None),
        other => Err(ApiError::new(
            400,
            "InvalidAction",
            format!("Unknown form action {other:?}."),
        )),
    };
    match result {
        Ok(new_key) => {
            let mut r = user_page(&console, &s, &p, &name, None, new_key).await;
            // The secret is on this page only: never stored by the browser's cache.
            r.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            r
        }
        Err(e) if e.status < 500 => user_page(&console, &s, &p, &name, Some(e.message), None).await,
        Err(e) => api_error(Chrome::for_session("IAM", "iam", &s), &e),
    }
}

#[derive(Deserialize, Default)]
pub struct SimulateQuery {
    #[serde(default)]
    pub principal_arn: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub resource: String,
}

pub struct Verdict {
    pub decision: String,
    pub allowed: bool,
    pub deciding: Vec<String>,
}

#[derive(Template)]
#[template(path = "iam_simulate.html")]
struct SimulatePage {
    chrome: Chrome,
    q: SimulateQuery,
    verdict: Option<Verdict>,
    error: Option<String>,
}

/// The policy simulator: SimulatePrincipalPolicy for one action on one resource (the form
/// is a GET: asking changes nothing).
pub async fn simulate(
    State(console): State<Console>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Query(q): Query<SimulateQuery>,
) -> Response {
    let (s, p) = match principal(&console, &headers, peer) {
        Ok(x) => x,
        Err(why) => return to_sign_in(why),
    };
    let chrome = Chrome::for_session("Policy simulator", "iam", &s);
    let (verdict, error) = if q.principal_arn.trim().is_empty() {
        (None, None)
    } else {
        let mut pairs = vec![
            ("PolicySourceArn", q.principal_arn.trim()),
            ("ActionNames.member.1", q.action.trim()),
        ];
        if !q.resource.trim().is_empty() {
            pairs.push(("ResourceArns.member.1", q.resource.trim()));
        }
        match call(&console, &p, "SimulatePrincipalPolicy", &pairs).await {
            Ok(a) => {
                let r = a.members("EvaluationResults").into_iter().next();
                let verdict = r.map(|r| Verdict {
                    decision: r.get("EvalDecision").to_string(),
                    allowed: r.get("EvalDecision") == "allowed",
                    deciding: r
                        .members("MatchedStatements")
                        .into_iter()
                        .map(|m| {
                            let sid = r.get("FerryDecidingSid");
                            if sid.is_empty() {
                                format!("policy {}", m.get("SourcePolicyId"))
                            } else {
                                format!("policy {}, statement {sid}", m.get("SourcePolicyId"))
                            }
                        })
                        .collect(),
                });
                (verdict, None)
            }
            Err(e) if e.status < 500 => (None, Some(e.message)),
            Err(e) => return api_error(chrome, &e),
        }
    };
    let mut r = html(&SimulatePage {
        chrome,
        q,
        verdict,
        error: error.clone(),
    });
    if error.is_some() {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    r
}

#[cfg(test)]
mod tests;
