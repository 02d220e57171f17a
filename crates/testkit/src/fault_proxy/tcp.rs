//! [`TcpFaultProxy`]: a byte-for-byte TCP forwarder whose link a test breaks at will.
//!
//! The HTTP [`FaultProxy`](super::FaultProxy) breaks single requests; a replication link is
//! one long-lived connection (a binlog dump) plus short ones (a monitor reading the source's
//! position), and what breaks it is the network: established connections reset, new ones
//! refused or silently dropped for a while, then the path comes back. This proxy does exactly
//! that, on command, and counts what it did so a test can assert the fault really happened:
//!
//! - [`TcpFaultProxy::cut`] resets (RST, `SO_LINGER 0`) every established connection, both
//!   sides: the client and the upstream each see a reset, as when a middlebox drops state;
//! - [`TcpFaultProxy::set_mode`] with [`LinkMode::Refuse`] accepts and at once resets each new
//!   connection (the client's connect "succeeds", its first read fails, as through a
//!   firewall that rejects); [`LinkMode::Blackhole`] accepts and never forwards a byte
//!   (clients hang until their own timeouts); [`LinkMode::Open`] (or
//!   [`TcpFaultProxy::restore`]) forwards again.
//!
//! Blackholed connections are held until the next [`cut`](TcpFaultProxy::cut) or until the
//! proxy is dropped; restoring the link does not revive them (a real path that comes back does
//! not either: the peers' TCP state is gone).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use crate::runtime::BackgroundRuntime;

/// What happens to connections that arrive now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LinkMode {
    /// Forwarded to the upstream.
    #[default]
    Open,
    /// Accepted and reset at once.
    Refuse,
    /// Accepted and held without forwarding anything.
    Blackhole,
}

/// What the proxy has done since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpProxyStats {
    /// Connections accepted from clients (in any mode).
    pub accepted: u64,
    /// Connections forwarded to the upstream.
    pub forwarded: u64,
    /// Connections that could not reach the upstream (closed at once).
    pub upstream_failures: u64,
    /// Connections reset by [`TcpFaultProxy::cut`] (forwarded or blackholed).
    pub cut: u64,
    /// Connections reset on arrival in [`LinkMode::Refuse`].
    pub refused: u64,
    /// Connections held in [`LinkMode::Blackhole`].
    pub blackholed: u64,
    /// Calls to [`TcpFaultProxy::cut`].
    pub cuts: u64,
    /// Connections open now (forwarded or held).
    pub open: u64,
    /// Bytes forwarded client → upstream.
    pub bytes_up: u64,
    /// Bytes forwarded upstream → client.
    pub bytes_down: u64,
}

/// A running TCP fault proxy on `127.0.0.1`. Dropping it closes every connection and the port.
pub struct TcpFaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    _runtime: BackgroundRuntime,
}

impl std::fmt::Debug for TcpFaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpFaultProxy")
            .field("addr", &self.addr)
            .field("upstream", &self.shared.upstream)
            .field("mode", &self.shared.lock().mode)
            .finish_non_exhaustive()
    }
}

impl TcpFaultProxy {
    /// Starts a proxy on `127.0.0.1` with a free port, forwarding to `upstream`, link open.
    pub fn start(upstream: SocketAddr) -> anyhow::Result<TcpFaultProxy> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .context("bind the TCP fault proxy to a free port on 127.0.0.1")?;
        let addr = listener
            .local_addr()
            .context("read the TCP fault proxy's bound address")?;
        listener
            .set_nonblocking(true)
            .context("make the TCP fault proxy's listener non-blocking")?;
        let shared = Arc::new(Shared {
            upstream,
            state: Mutex::new(State::default()),
        });
        let loop_shared = Arc::clone(&shared);
        let runtime = BackgroundRuntime::start("ferry-tcp-proxy", 2, move || {
            let listener = TcpListener::from_std(listener)
                .context("register the TCP fault proxy's listener with tokio")?;
            Ok(accept_loop(listener, loop_shared))
        })?;
        Ok(TcpFaultProxy {
            addr,
            shared,
            _runtime: runtime,
        })
    }

    /// The address the proxy listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port the proxy listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The address connections are forwarded to.
    pub fn upstream(&self) -> SocketAddr {
        self.shared.upstream
    }

    /// Resets every connection open now (forwarded and blackholed); returns how many. The
    /// mode is unchanged: in [`LinkMode::Open`] clients may reconnect at once.
    pub fn cut(&self) -> u64 {
        let victims: Vec<oneshot::Sender<()>> = {
            let mut state = self.shared.lock();
            state.stats.cuts += 1;
            state.conns.drain().map(|(_, tx)| tx).collect()
        };
        let mut cut = 0;
        for tx in victims {
            // A connection that ended on its own in the meantime has dropped its receiver.
            if tx.send(()).is_ok() {
                cut += 1;
            }
        }
        self.shared.lock().stats.cut += cut;
        cut
    }

    /// Sets what happens to connections arriving from now on.
    pub fn set_mode(&self, mode: LinkMode) {
        self.shared.lock().mode = mode;
    }

    /// The mode in force.
    pub fn mode(&self) -> LinkMode {
        self.shared.lock().mode
    }

    /// Cuts every connection and resets new ones until [`restore`](Self::restore): the link is
    /// down. Returns how many connections were cut.
    pub fn take_down(&self) -> u64 {
        self.set_mode(LinkMode::Refuse);
        self.cut()
    }

    /// Forwards new connections again ([`LinkMode::Open`]).
    pub fn restore(&self) {
        self.set_mode(LinkMode::Open);
    }

    /// A snapshot of what the proxy has done.
    pub fn stats(&self) -> TcpProxyStats {
        let state = self.shared.lock();
        TcpProxyStats {
            open: state.conns.len() as u64,
            ..state.stats
        }
    }
}

struct Shared {
    upstream: SocketAddr,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    mode: LinkMode,
    stats: TcpProxyStats,
    next_id: u64,
    /// Open connections: a send resets the connection.
    conns: HashMap<u64, oneshot::Sender<()>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Counters and a map of senders: consistent even if a holder panicked.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers an open connection; the receiver fires on a cut.
    fn register(&self) -> (u64, oneshot::Receiver<()>) {
        let (tx, rx) = oneshot::channel();
        let mut state = self.lock();
        let id = state.next_id;
        state.next_id += 1;
        state.conns.insert(id, tx);
        (id, rx)
    }

    fn forget(&self, id: u64) {
        self.lock().conns.remove(&id);
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let client = match listener.accept().await {
            Ok((client, _)) => client,
            Err(error) => {
                // Out of descriptors and the like: wait a little rather than spin.
                tracing::warn!(%error, "TCP fault proxy: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let mode = {
            let mut state = shared.lock();
            state.stats.accepted += 1;
            match state.mode {
                LinkMode::Open => {}
                LinkMode::Refuse => state.stats.refused += 1,
                LinkMode::Blackhole => state.stats.blackholed += 1,
            }
            state.mode
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            match mode {
                LinkMode::Open => forward(client, &shared).await,
                LinkMode::Refuse => reset(&client),
                LinkMode::Blackhole => hold(client, &shared).await,
            }
        });
    }
}

/// Makes dropping `stream` send a RST instead of a FIN.
fn reset(stream: &TcpStream) {
    // Failing to set it only turns the reset into a clean close.
    let _ = stream.set_zero_linger();
}

async fn forward(mut client: TcpStream, shared: &Shared) {
    let mut upstream = match TcpStream::connect(shared.upstream).await {
        Ok(upstream) => upstream,
        Err(error) => {
            tracing::debug!(%error, upstream = %shared.upstream, "TCP fault proxy: upstream unreachable");
            shared.lock().stats.upstream_failures += 1;
            reset(&client);
            return;
        }
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let (id, cut) = shared.register();
    shared.lock().stats.forwarded += 1;
    let (mut client_read, mut client_write) = client.split();
    let (mut upstream_read, mut upstream_write) = upstream.split();
    let up = counted_copy(&mut client_read, &mut upstream_write, shared, true);
    let down = counted_copy(&mut upstream_read, &mut client_write, shared, false);
    let was_cut = tokio::select! {
        _ = async { tokio::join!(up, down) } => false,
        fired = cut => fired.is_ok(),
    };
    if was_cut {
        reset(&client);
        reset(&upstream);
    }
    shared.forget(id);
}

/// Copies until EOF or an error, adding each chunk to the byte counters; on EOF the write
/// side is shut down so the peer sees the half-close.
async fn counted_copy<R, W>(read: &mut R, write: &mut W, shared: &Shared, up: bool)
where
    R: tokio::io::AsyncRead + Unpin,
    W: tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match read.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if write.write_all(&buf[..n]).await.is_err() {
            break;
        }
        let mut state = shared.lock();
        if up {
            state.stats.bytes_up += n as u64;
        } else {
            state.stats.bytes_down += n as u64;
        }
    }
    let _ = write.shutdown().await;
}

/// Holds a blackholed connection, reading and discarding nothing, until a cut.
async fn hold(client: TcpStream, shared: &Shared) {
    let (id, cut) = shared.register();
    // The sender lives in the map until a cut (or the proxy's end) drops or fires it.
    let _ = cut.await;
    reset(&client);
    shared.forget(id);
}
