//! A fault-injecting HTTP proxy to put between a client under test and the real S3 server.
//!
//! Networks fail in ways a happy-path test never shows: 5xx answers, connections reset in the
//! middle of a body, responses that stall until the client times out. ferry's restore must
//! retry and resume from the byte where a transfer broke, and the only honest proof is to
//! break real transfers. This proxy wraps the real server (fault injection around the real
//! thing, not a mock) and breaks exactly the requests a [`FaultPlan`] names, counting what it
//! did in [`FaultStats`] so tests can assert the fault really happened.
//!
//! Design: each client connection carries one request. The proxy reads the request head,
//! decides on a fault, opens a fresh upstream connection, forwards the head (with
//! `Connection: close`, every other header byte for byte: the `Host` header is signed by
//! SigV4, and the upstream verifies against the value it receives) and pipes the request body
//! through. It then reads the upstream's response head, forwards it (again with
//! `Connection: close`) and streams the body back, applying any body fault. Clients with
//! connection pools simply open a new connection per request.
//!
//! Byte counts in body faults are raw bytes after the response head; for a chunked response
//! they include the chunk framing (s3s sends `Content-Length` bodies for objects).

mod http;
mod plan;
mod tcp;

pub use plan::{Fault, FaultPlan, FaultRule, Schedule};
pub use tcp::{LinkMode, TcpFaultProxy, TcpProxyStats};

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use anyhow::Context as _;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use crate::runtime::BackgroundRuntime;
use http::{HeadReader, RequestHead, ResponseHead};
use plan::PlanState;

/// Worker threads of the proxy's runtime.
const PROXY_WORKERS: usize = 2;
/// Copy buffer for bodies.
const BODY_BUF: usize = 64 * 1024;
/// After answering with an injected error, how long to keep reading (and discarding) what the
/// client still sends, so closing does not turn the answer into a reset.
const DRAIN_AFTER_ERROR: Duration = Duration::from_secs(5);

/// What the proxy has seen and done since it started (or since [`FaultProxy::reset_stats`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultStats {
    /// Requests received (complete, parseable request heads).
    pub requests: u64,
    /// Requests answered with an injected error status.
    pub status_errors: u64,
    /// Responses cut by a connection reset.
    pub resets: u64,
    /// Responses cut by a clean close.
    pub truncations: u64,
    /// Responses whose body was paused.
    pub stalls: u64,
    /// Every injected fault, in order.
    pub events: Vec<FaultEvent>,
    /// The most requests that were in flight at once, each counted from its head arriving
    /// until its response starts to flow back (for a stalled response: until the pause
    /// ends). The client has each of them in flight all that time, so this never exceeds the
    /// client's own count; with slow responses (a stall on every request) it reaches it.
    pub peak_in_flight: u64,
}

impl FaultStats {
    /// All injected faults, of every kind.
    pub fn faults(&self) -> u64 {
        self.status_errors + self.resets + self.truncations + self.stalls
    }
}

/// One injected fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultEvent {
    /// Index of the rule in the plan that was active then.
    pub rule: usize,
    /// The fault injected.
    pub fault: Fault,
    /// The request's method.
    pub method: String,
    /// The request's target (path and query as sent).
    pub target: String,
}

/// A running fault proxy on `127.0.0.1`. Dropping it stops it.
///
/// ```no_run
/// # fn main() -> anyhow::Result<()> {
/// use ferry_testkit::{FaultPlan, FaultProxy, FaultRule, S3Server};
/// let dir = tempfile::tempdir()?;
/// let s3 = S3Server::start(dir.path())?;
/// let plan = FaultPlan::none()
///     .with(FaultRule::status(503).first(2))
///     .with(FaultRule::reset_after(1 << 20).first(1).path_contains("backup.xbstream01"));
/// let proxy = FaultProxy::start(s3.addr(), plan)?;
/// let env = s3.env_vars_via(&proxy.endpoint());
/// // ... run the client with `env`, then:
/// assert_eq!(proxy.stats().status_errors, 2);
/// # Ok(()) }
/// ```
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    _runtime: BackgroundRuntime,
}

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultProxy")
            .field("addr", &self.addr)
            .field("upstream", &self.shared.upstream)
            .finish_non_exhaustive()
    }
}

impl FaultProxy {
    /// Starts a proxy on `127.0.0.1` with a free port, forwarding to `upstream`.
    pub fn start(upstream: SocketAddr, plan: FaultPlan) -> anyhow::Result<FaultProxy> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .context("bind the fault proxy to a free port on 127.0.0.1")?;
        let addr = listener
            .local_addr()
            .context("read the fault proxy's bound address")?;
        listener
            .set_nonblocking(true)
            .context("make the fault proxy's listener non-blocking")?;
        let shared = Arc::new(Shared {
            upstream,
            state: Mutex::new(State {
                plan: PlanState::new(plan),
                stats: FaultStats::default(),
                in_flight: 0,
            }),
        });
        let loop_shared = Arc::clone(&shared);
        let runtime = BackgroundRuntime::start("ferry-fault-proxy", PROXY_WORKERS, move || {
            let listener = TcpListener::from_std(listener)
                .context("register the fault proxy's listener with tokio")?;
            Ok(accept_loop(listener, loop_shared))
        })?;
        tracing::debug!(%addr, %upstream, "fault proxy started");
        Ok(FaultProxy {
            addr,
            shared,
            _runtime: runtime,
        })
    }

    /// The address the proxy listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The endpoint URL for clients, `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address requests are forwarded to.
    pub fn upstream(&self) -> SocketAddr {
        self.shared.upstream
    }

    /// A snapshot of what the proxy has seen and injected.
    pub fn stats(&self) -> FaultStats {
        self.shared.lock().stats.clone()
    }

    /// Zeroes the statistics (the plan and its counters are kept).
    pub fn reset_stats(&self) {
        self.shared.lock().stats = FaultStats::default();
    }

    /// Replaces the plan for requests arriving from now on. The new plan's rules start
    /// counting from zero; statistics are kept.
    pub fn set_plan(&self, plan: FaultPlan) {
        self.shared.lock().plan = PlanState::new(plan);
    }
}

struct Shared {
    upstream: SocketAddr,
    state: Mutex<State>,
}

struct State {
    plan: PlanState,
    stats: FaultStats,
    in_flight: u64,
}

/// One request counted in flight until dropped (see [`FaultStats::peak_in_flight`]).
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn enter(shared: &'a Shared) -> Self {
        let mut state = shared.lock();
        state.in_flight += 1;
        state.stats.peak_in_flight = state.stats.peak_in_flight.max(state.in_flight);
        InFlight(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.in_flight = state.in_flight.saturating_sub(1);
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent even if a holder panicked: counters only go up.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts the request and returns the status fault to answer it with, if any.
    fn on_request(&self, request: &RequestHead) -> Option<(u16, String)> {
        let mut state = self.lock();
        state.stats.requests += 1;
        let (rule, fault) = state.plan.on_request(&request.method, &request.target)?;
        let Fault::Status { status, code } = &fault else {
            // on_request only returns status faults.
            return None;
        };
        let answer = (*status, code.clone());
        state.stats.status_errors += 1;
        record(&mut state.stats, rule, fault, request);
        Some(answer)
    }

    /// Returns the body fault to apply to this response, if any, and counts it.
    fn on_response(
        &self,
        request: &RequestHead,
        status: u16,
        body_len: Option<u64>,
    ) -> Option<Fault> {
        let mut state = self.lock();
        let (rule, fault) =
            state
                .plan
                .on_response(&request.method, &request.target, status, body_len)?;
        match fault {
            Fault::Status { .. } => return None,
            Fault::Reset { .. } => state.stats.resets += 1,
            Fault::Truncate { .. } => state.stats.truncations += 1,
            Fault::Stall { .. } => state.stats.stalls += 1,
        }
        record(&mut state.stats, rule, fault.clone(), request);
        Some(fault)
    }
}

fn record(stats: &mut FaultStats, rule: usize, fault: Fault, request: &RequestHead) {
    tracing::debug!(rule, ?fault, method = %request.method, target = %request.target, "fault proxy: injecting");
    stats.events.push(FaultEvent {
        rule,
        fault,
        method: request.method.clone(),
        target: request.target.clone(),
    });
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let client = match listener.accept().await {
            Ok((client, _peer)) => client,
            Err(error) => {
                tracing::warn!(%error, "fault proxy: accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            if let Err(error) = handle_connection(client, &shared).await {
                tracing::debug!(%error, "fault proxy: connection ended with an error");
            }
        });
    }
}

/// How the client connection ends once the response is handled.
enum Ending {
    /// Close normally after the whole response.
    Close,
    /// Abort with a reset (RST) so the client sees "connection reset".
    Reset,
}

async fn handle_connection(mut client: TcpStream, shared: &Shared) -> io::Result<()> {
    // Small writes (a few body bytes before a fault) must leave at once.
    client.set_nodelay(true)?;
    let mut client_heads = HeadReader::default();
    let head = {
        let Some(head) = client_heads.read_head(&mut client).await? else {
            return Ok(());
        };
        head
    };
    let request = match RequestHead::parse(&head) {
        Ok(request) => request,
        Err(error) => {
            let message = format!("the fault proxy could not parse the request: {error}");
            return answer_error(client, None, 400, "BadRequest", &message).await;
        }
    };

    if let Some((status, code)) = shared.on_request(&request) {
        let message = "injected by the ferry-testkit fault proxy";
        return answer_error(client, Some(&request), status, &code, message).await;
    }
    if request.signs_connection_header() {
        let message = "the request's signature covers the Connection header, which the \
                       fault proxy must rewrite to `close`";
        return answer_error(
            client,
            Some(&request),
            502,
            "FerryProxyCannotForward",
            message,
        )
        .await;
    }
    let mut upstream = match TcpStream::connect(shared.upstream).await {
        Ok(upstream) => upstream,
        Err(error) => {
            let message = format!(
                "the fault proxy could not reach {}: {error}",
                shared.upstream
            );
            return answer_error(client, Some(&request), 502, "BadGateway", &message).await;
        }
    };
    upstream.set_nodelay(true)?;
    upstream.write_all(&request.to_upstream_bytes()).await?;
    let in_flight = InFlight::enter(shared);
    upstream.write_all(&client_heads.take_rest()).await?;

    let ending = {
        let (mut client_r, mut client_w) = client.split();
        let (mut upstream_r, mut upstream_w) = upstream.split();
        // The request body (if any) flows while the response comes back: the upstream may
        // answer `100 Continue` first, or reject the request before reading its body.
        let request_body = async {
            let _ = tokio::io::copy(&mut client_r, &mut upstream_w).await;
            std::future::pending::<()>().await;
        };
        let response =
            forward_response(&mut upstream_r, &mut client_w, &request, shared, in_flight);
        tokio::select! {
            ending = response => ending?,
            () = request_body => Ending::Close,
        }
    };
    match ending {
        Ending::Close => {
            client.flush().await?;
            // The connection closes when `client` drops.
        }
        Ending::Reset => {
            // SO_LINGER 0 makes the close below send RST instead of FIN.
            client.set_zero_linger()?;
        }
    }
    Ok(())
}

/// Forwards the upstream's response (any `100 Continue` first), applying the body fault the
/// plan chooses for it.
async fn forward_response<U, C>(
    upstream: &mut U,
    client: &mut C,
    request: &RequestHead,
    shared: &Shared,
    in_flight: InFlight<'_>,
) -> io::Result<Ending>
where
    U: AsyncRead + Unpin,
    C: AsyncWrite + Unpin,
{
    let mut heads = HeadReader::default();
    let response = loop {
        let Some(head) = heads.read_head(upstream).await? else {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "upstream closed the connection without a response",
            ));
        };
        let response = ResponseHead::parse(&head)?;
        if response.is_interim() {
            client.write_all(&head).await?;
            continue;
        }
        break response;
    };
    let body_len =
        if request.method.eq_ignore_ascii_case("HEAD") || matches!(response.status, 204 | 304) {
            Some(0)
        } else {
            response.content_length()
        };
    let fault = shared.on_response(request, response.status, body_len);
    let head = response.to_client_bytes();
    let mut body = Body {
        pending: heads.take_rest(),
        upstream,
    };
    // The request leaves the count before its head is sent back: a response with no body
    // (a HEAD's) is complete at the client with its head, and the client may send its next
    // request before this task would get to a later `drop`. A stalled response's body is
    // longer than `after_bytes` (see the plan), so the client waits for the pause too.
    match fault {
        None | Some(Fault::Status { .. }) => {
            drop(in_flight);
            client.write_all(&head).await?;
            body.copy_to(client, None).await?;
            Ok(Ending::Close)
        }
        Some(Fault::Reset { after_bytes }) => {
            drop(in_flight);
            client.write_all(&head).await?;
            body.copy_to(client, Some(after_bytes)).await?;
            client.flush().await?;
            Ok(Ending::Reset)
        }
        Some(Fault::Truncate { after_bytes }) => {
            drop(in_flight);
            client.write_all(&head).await?;
            body.copy_to(client, Some(after_bytes)).await?;
            client.shutdown().await?;
            Ok(Ending::Close)
        }
        Some(Fault::Stall { after_bytes, pause }) => {
            client.write_all(&head).await?;
            body.copy_to(client, Some(after_bytes)).await?;
            client.flush().await?;
            tokio::time::sleep(pause).await;
            drop(in_flight);
            body.copy_to(client, None).await?;
            Ok(Ending::Close)
        }
    }
}

/// The rest of a response body: bytes already read past the head, then the upstream stream.
struct Body<'a, U> {
    pending: Vec<u8>,
    upstream: &'a mut U,
}

impl<U: AsyncRead + Unpin> Body<'_, U> {
    /// Copies up to `limit` bytes (all, if `None`) to `client`; stops early at upstream EOF.
    async fn copy_to<C: AsyncWrite + Unpin>(
        &mut self,
        client: &mut C,
        limit: Option<u64>,
    ) -> io::Result<u64> {
        let mut copied: u64 = 0;
        let mut buf = vec![0u8; BODY_BUF];
        loop {
            let want = match limit {
                Some(limit) if copied >= limit => break,
                Some(limit) => usize::try_from(limit - copied).unwrap_or(usize::MAX),
                None => usize::MAX,
            };
            if !self.pending.is_empty() {
                let take = want.min(self.pending.len());
                let chunk: Vec<u8> = self.pending.drain(..take).collect();
                client.write_all(&chunk).await?;
                copied += chunk.len() as u64;
                continue;
            }
            let cap = want.min(buf.len());
            let Some(space) = buf.get_mut(..cap) else {
                break;
            };
            let n = self.upstream.read(space).await?;
            if n == 0 {
                break;
            }
            client.write_all(space.get(..n).unwrap_or_default()).await?;
            copied += n as u64;
        }
        Ok(copied)
    }
}

/// Answers the client with an S3-style XML error and closes the connection, after reading
/// (and discarding) whatever the client still sends, for a bounded time.
async fn answer_error(
    mut client: TcpStream,
    request: Option<&RequestHead>,
    status: u16,
    code: &str,
    message: &str,
) -> io::Result<()> {
    let resource = request.map(|r| r.target.as_str()).unwrap_or("");
    let head_only = request.is_some_and(|r| r.method.eq_ignore_ascii_case("HEAD"));
    client
        .write_all(&error_response(status, code, message, resource, head_only))
        .await?;
    client.shutdown().await?;
    let drain = async {
        let mut sink = [0u8; 8192];
        while client.read(&mut sink).await.is_ok_and(|n| n > 0) {}
    };
    // Either the client closed, or we give up waiting: both end the connection.
    let _ = tokio::time::timeout(DRAIN_AFTER_ERROR, drain).await;
    Ok(())
}

/// A complete HTTP response carrying an S3 error document.
fn error_response(
    status: u16,
    code: &str,
    message: &str,
    resource: &str,
    head_only: bool,
) -> Vec<u8> {
    let reason = match status {
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    };
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message>\
         <Resource>{}</Resource><RequestId>ferry-fault-proxy</RequestId></Error>",
        xml_escape(code),
        xml_escape(message),
        xml_escape(resource)
    );
    let length = if head_only { 0 } else { body.len() };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/xml\r\nContent-Length: {length}\r\n\
         x-amz-request-id: ferry-fault-proxy\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    if !head_only {
        out.extend_from_slice(body.as_bytes());
    }
    out
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_response_is_an_s3_error_document() {
        let raw = error_response(503, "SlowDown", "a < b", "/bkt/k?x=1&y", false);
        let text = String::from_utf8(raw).expect("utf8");
        let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
        assert!(
            head.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
            "{head}"
        );
        assert!(
            head.contains(&format!("Content-Length: {}", body.len())),
            "{head}"
        );
        assert!(body.contains("<Code>SlowDown</Code>"), "{body}");
        assert!(body.contains("<Message>a &lt; b</Message>"), "{body}");
        assert!(
            body.contains("<Resource>/bkt/k?x=1&amp;y</Resource>"),
            "{body}"
        );
    }

    #[test]
    fn head_requests_get_no_error_body() {
        let raw = error_response(500, "InternalError", "m", "/", true);
        let text = String::from_utf8(raw).expect("utf8");
        assert!(text.ends_with(
            "Content-Length: 0\r\nx-amz-request-id: ferry-fault-proxy\r\nConnection: close\r\n\r\n"
        ));
    }
}
