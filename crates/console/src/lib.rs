//! ferry's web console, served by `ferry serve` under `/console`: server-rendered HTML
//! (askama templates, checked at compile time), no asset from outside the binary, and one
//! small script of its own (`static/live.js`: a restore's progress, live, by server-sent
//! events; a replica's lag chart, fetched again every 5 s); every page reads without it.
//!
//! The console is another client of the control plane, not a second path into it: every
//! page and form builds the parameters of an API action and calls the same typed handler the
//! Query API calls ([`ferry_api::rds::Handler`]), so validation, IAM authorization and the
//! operation itself are the API's. A button the signed-in principal may not use is disabled,
//! with the policy decision's message beside it, by asking the same authorization.
//!
//! ```text
//! /console                    -> /console/clusters (or the sign-in page)
//! /console/sign-in            GET form, POST access key id + secret -> session cookie
//! /console/sign-out           POST
//! /console/clusters           the clusters: status, engine, endpoint, instances
//! /console/clusters/{id}      one cluster: facts, restore progress, connect command,
//!                             instances, replication (lag chart, stop), imports, events,
//!                             delete
//! /console/clusters/{id}/progress     server-sent events of a restore's progress
//! /console/clusters/{id}/replication  the live part of its replication (for live.js)
//! /console/clusters/{id}/start-replication POST: set the source, start replication
//! /console/clusters/{id}/stop-replication  POST: the cutover
//! /console/events             events, newest first, filtered by source and time, paged
//! /console/restore            the Restore-from-S3 wizard: form -> pre-flight -> Launch
//! /console/restore/role       POST: "Create a new role" for the form's bucket and prefix
//! /console/iam                users, groups (create either), roles, customer managed policies
//! /console/iam/users          POST: create a user
//! /console/iam/users/{name}   a user: access keys (create), groups, policies (attach)
//! /console/iam/groups         POST: create a group
//! /console/iam/groups/{name}  a group: members (add, remove), policies (attach)
//! /console/iam/roles/{name}   a role: trust policy, policies (attach)
//! /console/iam/policies/{arn} a managed policy (by URL-encoded ARN, or name at path /):
//!                             its default version's document
//! /console/iam/simulate       the policy simulator
//! /console/static/console.css the one stylesheet
//! ```
//!
//! Sessions and CSRF: [`session`]. Pages: [`pages`], [`cluster`], [`replication`],
//! [`restore`], [`iam`].

use std::sync::Arc;

use askama::Template;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use ferry_control::{ControlPlane, Principal};

pub mod cluster;
pub mod iam;
pub mod pages;
pub mod replication;
pub mod restore;
pub mod session;

use session::{NoSession, Session, Sessions};

/// The console's shared state.
#[derive(Clone)]
pub struct Console {
    inner: Arc<Inner>,
}

struct Inner {
    cp: ControlPlane,
    sessions: Sessions,
    /// Served over TLS: cookies get `Secure`.
    secure: bool,
}

impl Console {
    pub fn new(cp: ControlPlane) -> Console {
        let sessions = Sessions::new(cp.config().console);
        Console {
            inner: Arc::new(Inner {
                cp,
                sessions,
                secure: false,
            }),
        }
    }

    pub fn cp(&self) -> &ControlPlane {
        &self.inner.cp
    }

    pub fn sessions(&self) -> &Sessions {
        &self.inner.sessions
    }

    fn secure(&self) -> bool {
        self.inner.secure
    }
}

/// The console's routes, all under `/console`, to merge into the API's router.
pub fn router(cp: ControlPlane) -> Router {
    Router::new()
        .route("/console", get(root))
        .route("/console/", get(root))
        .route("/console/static/console.css", get(stylesheet))
        .route("/console/static/live.js", get(live_script))
        .route(
            "/console/sign-in",
            get(pages::sign_in_form).post(pages::sign_in),
        )
        .route("/console/sign-out", post(pages::sign_out))
        .route("/console/clusters", get(pages::clusters))
        .route("/console/clusters/{id}", get(cluster::cluster))
        .route(
            "/console/clusters/{id}/delete",
            post(cluster::delete_cluster),
        )
        .route(
            "/console/clusters/{id}/progress",
            get(cluster::progress_events),
        )
        .route("/console/clusters/{id}/replication", get(replication::live))
        .route(
            "/console/clusters/{id}/stop-replication",
            post(replication::stop),
        )
        .route(
            "/console/clusters/{id}/start-replication",
            post(replication::start),
        )
        .route("/console/events", get(pages::events))
        .route("/console/restore", get(restore::form).post(restore::check))
        .route("/console/iam", get(iam::overview))
        .route("/console/iam/users", post(iam::create_user))
        .route(
            "/console/iam/users/{name}",
            get(iam::user).post(iam::user_action),
        )
        .route("/console/iam/groups", post(iam::create_group))
        .route(
            "/console/iam/groups/{name}",
            get(iam::groups::group).post(iam::groups::group_action),
        )
        .route(
            "/console/iam/roles/{name}",
            get(iam::roles::role).post(iam::roles::role_action),
        )
        .route("/console/iam/policies/{policy}", get(iam::policies::policy))
        .route("/console/iam/simulate", get(iam::simulate))
        .route("/console/restore/launch", post(restore::launch))
        .route("/console/restore/role", post(restore::create_role))
        .route("/console/{*rest}", get(not_found).post(not_found))
        .with_state(Console::new(cp))
}

async fn root() -> Redirect {
    Redirect::to("/console/clusters")
}

async fn stylesheet() -> Response {
    asset(
        include_str!("../static/console.css"),
        "text/css; charset=utf-8",
    )
}

async fn live_script() -> Response {
    asset(
        include_str!("../static/live.js"),
        "text/javascript; charset=utf-8",
    )
}

/// One of the console's own files, compiled in.
fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    r
}

async fn not_found(
    axum::extract::State(console): axum::extract::State<Console>,
    headers: HeaderMap,
) -> Response {
    let chrome = match signed_in(&console, &headers) {
        Ok((s, _)) => Chrome::for_session("Not found", "", &s),
        Err(_) => Chrome::anonymous("Not found"),
    };
    message(
        StatusCode::NOT_FOUND,
        chrome,
        "Not found",
        "There is no such page in the ferry console.",
    )
}

/// What every page's frame shows: its title, who is signed in, the form token.
pub struct Chrome {
    pub title: String,
    /// Which menu entry is current (`clusters`, `restore`, `events`, `iam`, or empty).
    pub section: &'static str,
    pub user: Option<String>,
    pub csrf: String,
    /// Reload every 5 s (a page showing work in progress: a restore, a deletion), with no
    /// script.
    pub refresh: bool,
    /// The page follows its progress live (server-sent events, `static/live.js`) and reloads
    /// only without script.
    pub live: bool,
}

impl Chrome {
    pub fn for_session(title: impl Into<String>, section: &'static str, s: &Session) -> Chrome {
        let user = if Principal::new(&s.access_key_id, &s.user_name).is_root() {
            "the account root".to_string()
        } else {
            s.user_name.clone()
        };
        Chrome {
            title: title.into(),
            section,
            user: Some(user),
            csrf: s.csrf.clone(),
            refresh: false,
            live: false,
        }
    }

    pub fn anonymous(title: impl Into<String>) -> Chrome {
        Chrome {
            title: title.into(),
            section: "",
            user: None,
            csrf: String::new(),
            refresh: false,
            live: false,
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    chrome: Chrome,
    heading: &'a str,
    message: &'a str,
}

/// A page that says one thing (not found, an error) with `status`.
pub fn message(status: StatusCode, chrome: Chrome, heading: &str, text: &str) -> Response {
    let page = MessagePage {
        chrome,
        heading,
        message: text,
    };
    let mut r = html(&page);
    *r.status_mut() = status;
    r
}

/// Renders a template as a page, with the headers every page carries: no caching (pages
/// show live state and per-session tokens), no framing, no script, nothing from elsewhere.
pub fn html(t: &impl Template) -> Response {
    match t.render() {
        Ok(body) => {
            let mut r = body.into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; \
                     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
                     base-uri 'none'",
                ),
            );
            h.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            h.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("same-origin"),
            );
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot render a console page");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "ferry failed to render the page",
            )
                .into_response()
        }
    }
}

/// Where a request without a session goes: the sign-in page (saying the session ended,
/// when it did).
pub fn to_sign_in(why: NoSession) -> Response {
    let to = match why {
        NoSession::Missing => "/console/sign-in",
        NoSession::Expired => "/console/sign-in?expired=1",
    };
    Redirect::to(to).into_response()
}

/// The session token a request's cookie carries.
pub fn session_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| session::cookie(c, session::COOKIE))
}

/// The signed-in session of a request and its principal, or why there is none.
pub fn signed_in(
    console: &Console,
    headers: &HeaderMap,
) -> Result<(Session, Principal), NoSession> {
    let token = session_token(headers).ok_or(NoSession::Missing)?;
    let s = console.sessions().get(token)?;
    // A key deactivated or deleted since sign-in ends the session.
    if console.cp().access_key(&s.access_key_id).is_none() {
        console.sessions().remove(token);
        return Err(NoSession::Expired);
    }
    let principal = Principal::new(s.access_key_id.clone(), s.user_name.clone());
    Ok((s, principal))
}
