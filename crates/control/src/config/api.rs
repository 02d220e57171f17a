//! The `[api]` table: the HTTP edge's timeouts and connection bound.

use std::time::Duration;

use serde::Deserialize;

use super::bounded::bounded;

/// The API's HTTP edge: how long a client may take to send a request, and how many
/// connections are served at once (more wait in the listen backlog until one closes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiLimits {
    /// From the connection's start (or the previous answer) to a request's last header line;
    /// past it the connection is closed.
    pub header_read_timeout: Duration,
    /// From the headers to the body's last byte; past it the answer is 408 `RequestTimeout`.
    pub body_read_timeout: Duration,
    pub max_connections: usize,
}

impl Default for ApiLimits {
    fn default() -> ApiLimits {
        ApiLimits {
            header_read_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(60),
            max_connections: 512,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApi {
    header_read_timeout_secs: Option<u64>,
    body_read_timeout_secs: Option<u64>,
    max_connections: Option<usize>,
}

/// The `[api]` table: timeouts of 1 s to 1 h, 1 to 65536 connections.
pub(super) fn api_limits(raw: RawApi) -> Result<ApiLimits, (&'static str, String)> {
    let d = ApiLimits::default();
    let secs = |key, v: Option<u64>, default: Duration| {
        Ok::<_, (&'static str, String)>(
            bounded(key, v, 1..=3600, "seconds")?.map_or(default, Duration::from_secs),
        )
    };
    Ok(ApiLimits {
        header_read_timeout: secs(
            "api.header_read_timeout_secs",
            raw.header_read_timeout_secs,
            d.header_read_timeout,
        )?,
        body_read_timeout: secs(
            "api.body_read_timeout_secs",
            raw.body_read_timeout_secs,
            d.body_read_timeout,
        )?,
        max_connections: bounded(
            "api.max_connections",
            raw.max_connections.map(|n| n as u64),
            1..=65536,
            "",
        )?
        .map_or(d.max_connections, |n| n as usize),
    })
}
