//! The HTTP front: axum, one route for the Query protocol (`POST /` with a form body, or
//! `GET /?Action=...`), SigV4 on every request, and `GET /healthz` for readiness probes, `GET /metrics` for Prometheus.

use std::future::Future;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use ferry_control::{ControlPlane, Principal};

use crate::error::ApiError;
use crate::params::{Params, MAX_BODY_BYTES};
use crate::{rds, sigv4};

/// The router serving the RDS Query API for `cp`.
pub fn router(cp: ControlPlane) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics))
        .route("/", get(query).post(query))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(cp)
}

/// Serves until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    cp: ControlPlane,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(cp))
        .with_graceful_shutdown(shutdown)
        .await
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

async fn query(
    State(cp): State<ControlPlane>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let result = handle(&cp, &method, &uri, &headers, &body, &request_id).await;
    let (status, text, action, code) = match result {
        Ok((action, xml)) => (StatusCode::OK, xml, action, None),
        Err((action, e)) => {
            let (status, body) = e.respond(action.as_deref(), &request_id);
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, body, action, Some(e.code))
        }
    };
    tracing::info!(
        request_id = %request_id,
        action = action.as_deref().unwrap_or("-"),
        status = status.as_u16(),
        error = code.as_deref().unwrap_or(""),
        ms = started.elapsed().as_millis() as u64,
        "api request"
    );
    (
        status,
        [
            ("content-type", "text/xml"),
            ("x-amzn-requestid", request_id.as_str()),
        ],
        text,
    )
        .into_response()
}

type Failed = (Option<String>, ApiError);

async fn handle(
    cp: &ControlPlane,
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
    let lookup = |akid: &str| {
        cp.access_key(akid).map(|k| sigv4::Secret {
            secret_access_key: k.secret_access_key,
            user: k.user_name,
        })
    };
    let verified = sigv4::verify(
        &parts,
        &lookup,
        "rds",
        &cp.config().region,
        time::OffsetDateTime::now_utc(),
    )
    .map_err(|e| fail(e.into()))?;
    let principal = Principal {
        access_key_id: verified.access_key_id,
        user_name: verified.user,
    };
    let xml = rds::dispatch(cp, &principal, &params, request_id)
        .await
        .map_err(fail)?;
    Ok((action, xml))
}
