//! The HTTP front: axum, one route for the Query protocol (`POST /` with a form body, or
//! `GET /?Action=...`), SigV4 on every request, and `GET /healthz` for readiness probes,
//! `GET /metrics` for Prometheus.
//!
//! Every answer that is not a success and that ferry writes (a failed action, a body over
//! 1 MiB, a body that stalls, an unknown path, a method a path does not serve) is AWS's XML
//! `ErrorResponse` with a request id in the body and in `x-amzn-RequestId`, and one log line
//! (method, path, action, status, code, request id). What only hyper sees (too many or too
//! long headers, an over-long URI, malformed HTTP) hyper answers itself, and
//! [`hyper_errors`] rewrites that answer the same way; headers that stall get the connection
//! closed, logged by [`connections`]. The table of codes is in `docs/rds-api.md`.

mod connections;
mod hyper_errors;

use std::future::Future;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use ferry_control::{ControlPlane, Principal};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::error::ApiError;
use crate::params::{ParamError, Params, MAX_BODY_BYTES};
use crate::{iam, rds, sigv4, sts};

/// How much of a too-large body is read and thrown away before the 413 answer, so that a
/// client still sending reads the answer rather than a connection reset. Past it (or past
/// the body timeout) the connection is closed after the answer.
const DRAIN_BYTES: u64 = 16 * MAX_BODY_BYTES as u64;

/// The router serving the RDS Query API for `cp`.
pub fn router(cp: ControlPlane) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics))
        .route("/", get(query).post(query))
        .fallback(unknown_path)
        .method_not_allowed_fallback(wrong_method)
        .with_state(cp)
}

/// Serves until `shutdown` resolves, then finishes the requests in flight. The timeouts and
/// the connection bound are `cp.config().api` (`[api]` in the configuration file).
pub async fn serve(
    listener: tokio::net::TcpListener,
    cp: ControlPlane,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, cp, Router::new(), shutdown).await
}

/// [`serve`], with `extra` routes (the web console's, under `/console`) beside the API's, on
/// the same connections, limits and address.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    cp: ControlPlane,
    extra: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = cp.config().api;
    connections::serve(listener, router(cp).merge(extra), limits, shutdown).await
}

/// Prometheus metrics (unauthenticated, like `/healthz`: scrapers do not sign requests; it
/// shows cluster identifiers and replication state, never credentials).
async fn metrics(State(cp): State<ControlPlane>) -> impl axum::response::IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        crate::replication::metrics(&cp),
    )
}

/// What one request came to, for its answer and its log line.
struct Exchange<'a> {
    method: &'a Method,
    path: &'a str,
    started: Instant,
    request_id: String,
}

impl<'a> Exchange<'a> {
    fn new(method: &'a Method, uri: &'a Uri) -> Exchange<'a> {
        Exchange {
            method,
            path: uri.path(),
            started: Instant::now(),
            request_id: uuid::Uuid::new_v4().to_string(),
        }
    }

    /// The answer (the action's XML, or AWS's `ErrorResponse`) and the request's one log
    /// line. The path is logged, never the query string: it may carry parameters.
    fn answer(&self, action: Option<&str>, result: Result<String, ApiError>) -> Response {
        let (status, text, code) = match result {
            Ok(xml) => (StatusCode::OK, xml, None),
            Err(e) => {
                // A 5xx answers with a generic message naming the request id; its cause goes
                // to the log, never to the client.
                let (status, body) = e.respond(action, &self.request_id);
                let status =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                (status, body, Some(e.code))
            }
        };
        tracing::info!(
            request_id = %self.request_id,
            method = %self.method,
            path = self.path,
            action = action.unwrap_or("-"),
            status = status.as_u16(),
            error = code.as_deref().unwrap_or(""),
            ms = self.started.elapsed().as_millis() as u64,
            "api request"
        );
        (
            status,
            [
                ("content-type", "text/xml"),
                ("x-amzn-requestid", self.request_id.as_str()),
            ],
            text,
        )
            .into_response()
    }
}

/// Any path but `/`, `/healthz` and `/metrics`: the Query API has no other resources.
async fn unknown_path(method: Method, uri: Uri) -> Response {
    let ex = Exchange::new(&method, &uri);
    let message = format!(
        "There is nothing at {}: the RDS Query API is served at /",
        ex.path
    );
    ex.answer(None, Err(ApiError::new(404, "InvalidAction", message)))
}

/// A method the path does not serve (`PUT /`, `POST /healthz`, ...), with `Allow`.
async fn wrong_method(method: Method, uri: Uri) -> Response {
    let ex = Exchange::new(&method, &uri);
    let allow = if ex.path == "/" {
        "GET, HEAD, POST"
    } else {
        "GET, HEAD"
    };
    let message = format!("{method} is not allowed on {}: use {allow}", ex.path);
    let mut response = ex.answer(None, Err(ApiError::new(405, "MethodNotAllowed", message)));
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

/// The address of the client on the other end of the connection.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub std::net::SocketAddr);

async fn query(
    State(cp): State<ControlPlane>,
    peer: Option<axum::Extension<Peer>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let ex = Exchange::new(&method, &uri);
    let body = match read_body(body, &headers, cp.config().api.body_read_timeout).await {
        Ok(body) => body,
        Err(e) => {
            let close = e.status == 408 || e.status == 413;
            let mut response = ex.answer(None, Err(e));
            if close {
                // The rest of the body may still be on its way: no further request can be
                // read from this connection.
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            return response;
        }
    };
    let peer = peer.map(|axum::Extension(Peer(addr))| addr);
    let (action, result) =
        match handle(&cp, peer, &method, &uri, &headers, &body, &ex.request_id).await {
            Ok((action, xml)) => (action, Ok(xml)),
            Err((action, e)) => (action, Err(e)),
        };
    ex.answer(action.as_deref(), result)
}

/// The whole body, at most [`MAX_BODY_BYTES`], within `timeout` of the headers.
/// `RequestEntityTooLarge` (413) past the size (after reading and dropping up to
/// [`DRAIN_BYTES`] of it), `RequestTimeout` (408) past the time, `IncompleteBody` (400) when
/// the client breaks off or sends a malformed chunked body.
async fn read_body(body: Body, headers: &HeaderMap, timeout: Duration) -> Result<Bytes, ApiError> {
    let timed_out = || {
        ApiError::new(
            408,
            "RequestTimeout",
            format!(
                "The request body did not arrive within {} seconds.",
                timeout.as_secs_f64()
            ),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        let expects_continue = headers
            .get(header::EXPECT)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
        // A client waiting for `100 Continue` has sent nothing yet: answer at once.
        if !expects_continue {
            let drain = Limited::new(body, DRAIN_BYTES as usize).collect();
            let _ = tokio::time::timeout(timeout, drain).await;
        }
        return Err(ParamError::too_large().into());
    }
    let read = Limited::new(body, MAX_BODY_BYTES).collect();
    match tokio::time::timeout(timeout, read).await {
        Err(_) => Err(timed_out()),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<LengthLimitError>() => Err(ParamError::too_large().into()),
        Ok(Err(e)) => Err(ApiError::new(
            400,
            "IncompleteBody",
            format!("The request body could not be read: {e}"),
        )),
    }
}

type Failed = (Option<String>, ApiError);

async fn handle(
    cp: &ControlPlane,
    peer: Option<std::net::SocketAddr>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    request_id: &str,
) -> Result<(Option<String>, String), Failed> {
    let query = uri.query().unwrap_or("");
    let params = Params::parse(query, body).map_err(|e| (None, ApiError::from(e)))?;
    let action = params.action().map(str::to_string);
    let fail = |e: ApiError| (action.clone(), e);

    let parts = sigv4::SignedRequestParts {
        method: method.as_str(),
        path: uri.path(),
        query,
        headers,
        body,
    };
    // The key the signature is checked with, kept to record its use once verified.
    let used_key = std::sync::Mutex::new(None);
    let lookup = |akid: &str| {
        cp.access_key(akid).map(|k| {
            let secret = sigv4::Secret {
                secret_access_key: k.secret_access_key.clone(),
                user: k.user_name.clone(),
            };
            *used_key
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(k);
            secret
        })
    };
    // One endpoint serves three Query APIs; the credential scope says which one the client
    // signed for, and the signature is then checked for exactly that service.
    let service = Service::claimed(headers, &cp.config().region);
    let region = service.region(headers, &cp.config().region);
    let now = time::OffsetDateTime::now_utc();
    let verified =
        sigv4::verify(&parts, &lookup, service.name(), &region, now).map_err(|e| fail(e.into()))?;
    let used_key = used_key
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(key) = used_key {
        // GetAccessKeyLastUsed; written at most once a minute per key.
        let noted = ferry_control::service::iam_identities::note_key_use(
            cp.store(),
            &key,
            service.name(),
            &region,
            now,
        );
        if let Err(e) = noted {
            tracing::warn!(access_key_id = %key.access_key_id, error = %ferry_base::error::flatten(&e), "cannot record the access key's last use");
        }
    }
    let mut principal = Principal::new(verified.access_key_id, verified.user);
    principal.source_ip = peer.map(|a| a.ip());
    let xml = match service {
        Service::Rds => rds::dispatch(cp, &principal, &params, request_id).await,
        Service::Iam => iam::dispatch(cp, &principal, &params, request_id).await,
        Service::Sts => sts::dispatch(cp, &principal, &params, request_id),
    }
    .map_err(fail)?;
    Ok((action, xml))
}

/// The Query API a request is for, from the service its signature is scoped to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Service {
    Rds,
    Iam,
    Sts,
}

impl Service {
    /// `iam` and `sts` go to those APIs; anything else (and an unsigned request) is taken as
    /// RDS, whose signature check then names the service it expected.
    fn claimed(headers: &HeaderMap, _region: &str) -> Service {
        match sigv4::claimed_scope(headers).map(|(service, _)| service) {
            Some(s) if s == "iam" => Service::Iam,
            Some(s) if s == "sts" => Service::Sts,
            _ => Service::Rds,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Service::Rds => "rds",
            Service::Iam => "iam",
            Service::Sts => "sts",
        }
    }

    /// The region the signature must be scoped to: the configured one, except that IAM is a
    /// global service that clients sign for `us-east-1` whatever their region.
    fn region(self, headers: &HeaderMap, configured: &str) -> String {
        if self == Service::Iam {
            if let Some((_, region)) = sigv4::claimed_scope(headers) {
                if region == "us-east-1" {
                    return region;
                }
            }
        }
        configured.to_string()
    }
}
