//! The TCP fault proxy forwards bytes untouched while the link is open, and a cut, a refusal
//! or a blackhole does to the client exactly what it says, counted in its stats.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferry_testkit::{LinkMode, TcpFaultProxy};

/// An echo server on a thread per connection; stops accepting when dropped.
struct Echo {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Echo {
    fn start() -> Echo {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((mut conn, _)) => {
                        conn.set_nonblocking(false).unwrap();
                        std::thread::spawn(move || {
                            let mut buf = [0u8; 4096];
                            while let Ok(n) = conn.read(&mut buf) {
                                if n == 0 || conn.write_all(&buf[..n]).is_err() {
                                    break;
                                }
                            }
                        });
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(e) => panic!("echo accept: {e}"),
                }
            }
        });
        Echo { addr, stop }
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn connect(proxy: &TcpFaultProxy) -> TcpStream {
    let s = TcpStream::connect(proxy.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

fn echo_round(s: &mut TcpStream, payload: &[u8]) -> std::io::Result<Vec<u8>> {
    s.write_all(payload)?;
    let mut got = vec![0u8; payload.len()];
    s.read_exact(&mut got)?;
    Ok(got)
}

/// Polls `cond` until it holds (10 s deadline).
fn until(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "{what} within 10 s");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn forwards_bytes_untouched_and_counts_them() {
    let echo = Echo::start();
    let proxy = TcpFaultProxy::start(echo.addr).unwrap();
    assert_eq!(proxy.upstream(), echo.addr);
    let payload: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let mut s = connect(&proxy);
    assert_eq!(echo_round(&mut s, &payload).unwrap(), payload);
    // The proxy counts a chunk after writing it on, so the client can hold the last bytes
    // an instant before they are counted: wait for the count, then check it is exact.
    let n = payload.len() as u64;
    until("every byte counted", || {
        let st = proxy.stats();
        st.bytes_up >= n && st.bytes_down >= n
    });
    let stats = proxy.stats();
    assert_eq!((stats.accepted, stats.forwarded, stats.open), (1, 1, 1));
    assert_eq!(stats.bytes_up, n);
    assert_eq!(stats.bytes_down, n);
    drop(s);
    until("the closed connection is forgotten", || {
        proxy.stats().open == 0
    });
}

#[test]
fn a_cut_resets_every_open_connection_and_new_ones_go_through() {
    let echo = Echo::start();
    let proxy = TcpFaultProxy::start(echo.addr).unwrap();
    let mut a = connect(&proxy);
    let mut b = connect(&proxy);
    echo_round(&mut a, b"a").unwrap();
    echo_round(&mut b, b"b").unwrap();
    assert_eq!(proxy.cut(), 2);
    for s in [&mut a, &mut b] {
        let mut buf = [0u8; 1];
        match s.read(&mut buf) {
            Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}"),
            Ok(n) => panic!("read {n} bytes from a cut connection"),
        }
    }
    let stats = proxy.stats();
    assert_eq!((stats.cuts, stats.cut, stats.open), (1, 2, 0));
    // The mode stayed open: a new connection works at once.
    let mut c = connect(&proxy);
    assert_eq!(echo_round(&mut c, b"again").unwrap(), b"again");
}

#[test]
fn refused_then_restored() {
    let echo = Echo::start();
    let proxy = TcpFaultProxy::start(echo.addr).unwrap();
    let mut open = connect(&proxy);
    echo_round(&mut open, b"x").unwrap();
    assert_eq!(proxy.take_down(), 1);
    assert_eq!(proxy.mode(), LinkMode::Refuse);
    for _ in 0..3 {
        let mut s = connect(&proxy);
        let err = echo_round(&mut s, b"x").expect_err("a refused connection fails");
        assert!(
            matches!(
                err.kind(),
                ErrorKind::ConnectionReset | ErrorKind::BrokenPipe | ErrorKind::UnexpectedEof
            ),
            "{err}"
        );
    }
    assert_eq!(proxy.stats().refused, 3);
    assert_eq!(proxy.stats().forwarded, 1);
    proxy.restore();
    let mut s = connect(&proxy);
    assert_eq!(echo_round(&mut s, b"back").unwrap(), b"back");
    assert_eq!(proxy.stats().forwarded, 2);
}

#[test]
fn a_blackhole_holds_connections_silently_until_cut() {
    let echo = Echo::start();
    let proxy = TcpFaultProxy::start(echo.addr).unwrap();
    proxy.set_mode(LinkMode::Blackhole);
    let mut s = connect(&proxy);
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    s.write_all(b"hello?").unwrap();
    let mut buf = [0u8; 8];
    let err = s.read(&mut buf).expect_err("nothing comes back");
    assert!(
        matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{err}"
    );
    let stats = proxy.stats();
    assert_eq!(
        (stats.blackholed, stats.forwarded, stats.bytes_up),
        (1, 0, 0)
    );
    until("the held connection is registered", || {
        proxy.stats().open == 1
    });
    // Restoring does not revive it; a cut ends it.
    proxy.restore();
    assert_eq!(proxy.cut(), 1);
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    match s.read(&mut buf) {
        Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}"),
        Ok(n) => panic!("read {n} bytes from a cut connection"),
    }
    let mut fresh = connect(&proxy);
    assert_eq!(echo_round(&mut fresh, b"ok").unwrap(), b"ok");
}

#[test]
fn an_unreachable_upstream_is_counted_and_closed() {
    // A port nothing listens on: bind, read it, close.
    let dead = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let proxy = TcpFaultProxy::start(dead).unwrap();
    let mut s = connect(&proxy);
    assert!(echo_round(&mut s, b"x").is_err());
    until("the failure is counted", || {
        proxy.stats().upstream_failures == 1
    });
    assert_eq!(proxy.stats().forwarded, 0);
}
