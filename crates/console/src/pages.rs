//! The console's pages and forms. Each reads or acts through the API's typed handler
//! ([`Handler`]) with the parameters the API would get, so what a page shows or does is what
//! the same principal could see or do with the AWS CLI.

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use ferry_api::error::ApiError;
use ferry_api::params::Params;
use ferry_api::rds::Handler;
use ferry_api::server::Peer;
use ferry_control::model::{Event, InstanceStatus};
use ferry_control::{ClusterView, Principal};
use serde::Deserialize;

use crate::cluster::in_progress;
use crate::session::{self, NoSession, Session};
use crate::{html, message, session_token, signed_in, to_sign_in, Chrome, Console};

const TIME_FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");

/// A time as the pages show it (UTC): `2026-12-03 08:00:00`.
pub(crate) fn format_time(t: time::OffsetDateTime) -> String {
    t.format(TIME_FORMAT).unwrap_or_default()
}

/// The principal of a signed-in request, with the client's address (`aws:SourceIp`).
pub(crate) fn principal(
    console: &Console,
    headers: &HeaderMap,
    peer: Option<Extension<Peer>>,
) -> Result<(Session, Principal), NoSession> {
    let (s, mut p) = signed_in(console, headers)?;
    p.source_ip = peer.map(|Extension(Peer(addr))| addr.ip());
    Ok((s, p))
}

/// Why a form is not acted on: no session (to the sign-in page), or not this session's
/// token (refused).
pub(crate) enum Refused {
    SignIn(NoSession),
    Csrf(Session),
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::SignIn(why) => to_sign_in(why),
            Refused::Csrf(s) => csrf_refused(&s),
        }
    }
}

/// The sender of a form: signed in, and the form carries the session's CSRF token.
pub(crate) fn form_sender(
    console: &Console,
    headers: &HeaderMap,
    peer: Option<Extension<Peer>>,
    csrf: &str,
) -> Result<(Session, Principal), Refused> {
    let (s, p) = principal(console, headers, peer).map_err(Refused::SignIn)?;
    if !csrf_ok(&s, csrf) {
        return Err(Refused::Csrf(s));
    }
    Ok((s, p))
}

/// The page for an error of the API's handler: its message (a 4xx says what is wrong, as the
/// API would), or, for a failure inside ferry, a generic one with an id to find it in the log.
pub(crate) fn api_error(chrome: Chrome, e: &ApiError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if e.status >= 500 {
        let id = uuid::Uuid::new_v4();
        tracing::error!(request_id = %id, error = %e.message, "console page failed inside ferry");
        return message(
            status,
            chrome,
            "Something went wrong",
            &format!("ferry failed to show this page; see the server log, request id {id}."),
        );
    }
    let heading = match e.status {
        403 => "Access denied",
        404 => "Not found",
        _ => "Cannot show this page",
    };
    message(status, chrome, heading, &e.message)
}

/// Whether a POST carries the session's CSRF token.
pub(crate) fn csrf_ok(s: &Session, sent: &str) -> bool {
    !sent.is_empty() && session::same_secret(&s.csrf, sent)
}

pub(crate) fn csrf_refused(s: &Session) -> Response {
    message(
        StatusCode::FORBIDDEN,
        Chrome::for_session("Refused", "", s),
        "Refused",
        "The form was not sent by this console page (its security token is missing or \
         stale). Load the page again and retry.",
    )
}

// ---- sign-in -------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    chrome: Chrome,
    note: Option<&'static str>,
    error: Option<String>,
    access_key_id: String,
    pre_token: String,
}

#[derive(Deserialize)]
pub struct SignInQuery {
    expired: Option<String>,
}

/// The sign-in page with a fresh pre-session token in its form and cookie.
fn sign_in_page(
    console: &Console,
    status: StatusCode,
    note: Option<&'static str>,
    error: Option<String>,
    access_key_id: String,
) -> Response {
    let pre_token = session::random_token();
    let mut r = html(&SignInPage {
        chrome: Chrome::anonymous("Sign in"),
        note,
        error,
        access_key_id,
        pre_token: pre_token.clone(),
    });
    *r.status_mut() = status;
    let cookie = session::set_cookie(
        session::PRE_COOKIE,
        &pre_token,
        console.secure(),
        Some(std::time::Duration::from_secs(3600)),
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

pub async fn sign_in_form(
    State(console): State<Console>,
    Query(q): Query<SignInQuery>,
) -> Response {
    let note = q
        .expired
        .is_some()
        .then_some("Your session ended. Sign in again.");
    sign_in_page(&console, StatusCode::OK, note, None, String::new())
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    access_key_id: String,
    #[serde(default)]
    secret_access_key: String,
}

pub async fn sign_in(
    State(console): State<Console>,
    headers: HeaderMap,
    Form(f): Form<SignInForm>,
) -> Response {
    let cookies = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let pre = session::cookie(cookies, session::PRE_COOKIE).unwrap_or("");
    let akid = f.access_key_id.trim().to_string();
    if pre.is_empty() || !session::same_secret(pre, &f.csrf) {
        return sign_in_page(
            &console,
            StatusCode::FORBIDDEN,
            None,
            Some("The sign-in form expired or was not sent by this page. Try again.".into()),
            akid,
        );
    }
    let key = console
        .cp()
        .access_key(&akid)
        .filter(|k| session::same_secret(k.secret_access_key.expose(), &f.secret_access_key));
    let Some(key) = key else {
        tracing::info!(access_key_id = %akid, "console sign-in refused");
        return sign_in_page(
            &console,
            StatusCode::UNAUTHORIZED,
            None,
            Some("The access key ID or the secret access key is not valid.".into()),
            akid,
        );
    };
    // A session the browser already had ends: every sign-in gets a new token.
    if let Some(old) = session::cookie(cookies, session::COOKIE) {
        console.sessions().remove(old);
    }
    let token = console
        .sessions()
        .create(&key.access_key_id, &key.user_name);
    tracing::info!(access_key_id = %key.access_key_id, user = %key.user_name, "console sign-in");
    let mut r = Redirect::to("/console/clusters").into_response();
    for cookie in [
        session::set_cookie(session::COOKIE, &token, console.secure(), None),
        session::set_cookie(
            session::PRE_COOKIE,
            "",
            console.secure(),
            Some(std::time::Duration::ZERO),
        ),
    ] {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn sign_out(
    State(console): State<Console>,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Err(refused) = form_sender(&console, &headers, None, &f.csrf) {
        return refused.into_response();
    }
    if let Some(token) = session_token(&headers) {
        console.sessions().remove(token);
    }
    let mut r = Redirect::to("/console/sign-in").into_response();
    let cookie = session::set_cookie(
        session::COOKIE,
        "",
        console.secure(),
        Some(std::time::Duration::ZERO),
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

// ---- clusters ------------------------------------------------------------------------------

/// One cluster as the pages show it.
pub struct ClusterRow {
    pub id: String,
    pub status: &'static str,
    pub progress: Option<u8>,
    pub engine: &'static str,
    pub engine_version: String,
    pub endpoint: Option<String>,
    pub port: u16,
    pub instances: usize,
    pub master_username: String,
    pub created: String,
    pub source: Option<String>,
    pub binlog: Option<String>,
    pub arn: String,
    /// `running, lag 0.250 s` / `stopped` / `error`; `None`: not replicating (or not
    /// the principal's to see).
    pub replication: Option<String>,
    /// The newest import's status (`running 45%`, `completed`, ...).
    pub import: Option<String>,
}

impl ClusterRow {
    pub fn of(v: &ClusterView) -> ClusterRow {
        let c = &v.cluster;
        ClusterRow {
            id: c.id.to_string(),
            status: c.status.as_str(),
            progress: v.percent_progress,
            engine: c.engine.as_str(),
            engine_version: c.engine_version.clone(),
            endpoint: v.endpoint.clone(),
            port: c.port,
            instances: v
                .members
                .iter()
                .filter(|i| i.status != InstanceStatus::Deleting)
                .count(),
            master_username: c.master_username.clone(),
            created: format_time(c.created_at),
            source: c.s3_origin.as_ref().map(|o| {
                if o.prefix.is_empty() {
                    format!("s3://{}", o.bucket)
                } else {
                    format!("s3://{}/{}", o.bucket, o.prefix)
                }
            }),
            binlog: c
                .recovered_binlog
                .as_ref()
                .map(|(file, pos)| format!("{file}:{pos}")),
            arn: v.arn.clone(),
            replication: None,
            import: None,
        }
    }

    /// With its replication and newest import, as principal `p` may see them.
    pub fn with_activity(mut self, console: &Console, p: &Principal) -> ClusterRow {
        let params = Params::from_pairs([("DBClusterIdentifier", self.id.as_str())]);
        let h = Handler::new(console.cp(), p, &params);
        self.replication = h.describe_replication().ok().flatten().map(|v| {
            match (crate::replication::state(&v), v.lag) {
                ("running", Some(lag)) => {
                    format!("running, lag {}", crate::replication::seconds(lag))
                }
                (state, _) => state.to_string(),
            }
        });
        self.import = h
            .imports()
            .ok()
            .and_then(|all| all.last().cloned())
            .map(|i| match crate::cluster::read_percent(&i.counters) {
                Some(pct) if i.status == ferry_control::model::ImportStatus::Running => {
                    format!("{} {pct}%", i.status.as_str())
                }
                _ => i.status.as_str().to_string(),
            });
        self
    }
}

#[derive(Template)]
#[template(path = "clusters.html")]
struct ClustersPage {
    chrome: Chrome,
    rows: Vec<ClusterRow>,
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct PageQuery {
    marker: Option<String>,
}

pub async fn clusters(
    State(console): State<Console>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Query(q): Query<PageQuery>,
) -> Response {
    let (s, p) = match principal(&console, &headers, peer) {
        Ok(x) => x,
        Err(why) => return to_sign_in(why),
    };
    let mut pairs = vec![("MaxRecords", "100")];
    if let Some(m) = q.marker.as_deref() {
        pairs.push(("Marker", m));
    }
    let params = Params::from_pairs(pairs);
    let mut chrome = Chrome::for_session("Clusters", "clusters", &s);
    match Handler::new(console.cp(), &p, &params).describe_db_clusters() {
        Ok(page) => html(&ClustersPage {
            chrome: {
                chrome.refresh = page.items.iter().any(in_progress);
                chrome
            },
            rows: page
                .items
                .iter()
                .map(|v| ClusterRow::of(v).with_activity(&console, &p))
                .collect(),
            next: page.marker,
        }),
        Err(e) => api_error(chrome, &e),
    }
}

/// One event as the pages show it.
pub struct EventRow {
    pub date: String,
    pub source_type: &'static str,
    pub source_id: String,
    pub message: String,
}

impl EventRow {
    pub(crate) fn of(e: &Event) -> EventRow {
        EventRow {
            date: format_time(e.date),
            source_type: e.source_type.as_str(),
            source_id: e.source_id.clone(),
            message: e.message.clone(),
        }
    }
}

/// Whether the principal may use a button, and if not the policy decision's message.
pub struct Decision {
    pub allowed: bool,
    pub reason: String,
}

impl Decision {
    pub(crate) fn of(r: Result<(), ApiError>) -> Decision {
        match r {
            Ok(()) => Decision {
                allowed: true,
                reason: String::new(),
            },
            Err(e) => Decision {
                allowed: false,
                reason: e.message,
            },
        }
    }
}

/// `s` escaped for one path segment or query value.
pub(crate) fn url_part(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

// ---- events --------------------------------------------------------------------------------

/// The events page's filter, as its form sends it.
#[derive(Deserialize, Default)]
pub struct EventFilter {
    #[serde(default)]
    pub source_type: String,
    #[serde(default)]
    pub source_id: String,
    #[serde(default = "default_hours")]
    pub hours: String,
    pub marker: Option<String>,
}

fn default_hours() -> String {
    "24".to_string()
}

impl EventFilter {
    /// The filter as a query string (without the marker), for the next page's link.
    pub fn query(&self) -> String {
        format!(
            "source_type={}&source_id={}&hours={}",
            url_part(&self.source_type),
            url_part(&self.source_id),
            url_part(&self.hours)
        )
    }

    /// The DescribeEvents parameters of this filter, or what is wrong with it.
    fn params(&self) -> Result<Params, String> {
        let hours: u32 = self
            .hours
            .trim()
            .parse()
            .ok()
            .filter(|h| (1..=336).contains(h))
            .ok_or_else(|| {
                format!(
                    "Last hours must be a whole number from 1 to 336 (14 days), not {:?}.",
                    self.hours
                )
            })?;
        let minutes = (hours * 60).to_string();
        let mut pairs = vec![("Duration", minutes.as_str()), ("MaxRecords", "50")];
        let source_type = self.source_type.trim();
        let source_id = self.source_id.trim();
        if !source_type.is_empty() {
            pairs.push(("SourceType", source_type));
        }
        if !source_id.is_empty() {
            if source_type.is_empty() {
                return Err("Choose a source type to filter by source identifier.".into());
            }
            pairs.push(("SourceIdentifier", source_id));
        }
        if let Some(m) = self.marker.as_deref() {
            pairs.push(("Marker", m));
        }
        Ok(Params::from_pairs(pairs))
    }
}

#[derive(Template)]
#[template(path = "events.html")]
struct EventsPage {
    chrome: Chrome,
    filter: EventFilter,
    error: Option<String>,
    events: Vec<EventRow>,
    next: Option<String>,
}

pub async fn events(
    State(console): State<Console>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Query(filter): Query<EventFilter>,
) -> Response {
    let (s, p) = match principal(&console, &headers, peer) {
        Ok(x) => x,
        Err(why) => return to_sign_in(why),
    };
    let chrome = Chrome::for_session("Events", "events", &s);
    let result = filter
        .params()
        .map_err(|m| ApiError::new(400, "InvalidParameterValue", m));
    let result = result
        .and_then(|params| Handler::new(console.cp(), &p, &params).describe_events_ordered(true));
    match result {
        Ok((page, _)) => html(&EventsPage {
            chrome,
            events: page.items.iter().map(EventRow::of).collect(),
            next: page.marker,
            filter,
            error: None,
        }),
        Err(e) if e.status == 400 => {
            let mut r = html(&EventsPage {
                chrome,
                filter,
                error: Some(e.message),
                events: Vec::new(),
                next: None,
            });
            *r.status_mut() = StatusCode::BAD_REQUEST;
            r
        }
        Err(e) => api_error(chrome, &e),
    }
}

#[cfg(test)]
pub(crate) mod tests;
