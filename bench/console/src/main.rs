//! How fast the web console's pages are served with 100 clusters and 10,000 events (issue 13:
//! every page under 20 ms on the server): a control plane on a temporary data dir, its store
//! filled directly (100 `available` clusters restored from S3, 100 events each), the API and
//! the console served on loopback as `ferry serve` serves them, and each page asked N times
//! in a row by one client over HTTP/1.1 (a new connection per request, as a browser's first
//! visit). The figures are wall time per request seen by the client, so they include the
//! HTTP exchange on top of the server's work.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use ferry_control::config::Config;
use ferry_control::layout::Layout;
use ferry_control::model::{
    Cluster, ClusterId, ClusterSettings, ClusterStatus, EngineName, S3Origin,
};
use ferry_control::store::NewEvent;
use ferry_control::ControlPlane;

const CLUSTERS: usize = 100;
const EVENTS_PER_CLUSTER: usize = 100;
const TARGET_MS: f64 = 20.0;

fn main() {
    let requests: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(500);
    let rt = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let dir = tempfile::tempdir().expect("a temporary data dir");
    let root = camino::Utf8PathBuf::from_path_buf(dir.path().join("data")).expect("UTF-8 path");
    let layout = Layout::new(root);
    let credentials = layout.admin_credentials();
    let config = Config {
        listen: "127.0.0.1:0".parse().expect("an address"),
        ..Config::default()
    };
    let listener = rt
        .block_on(tokio::net::TcpListener::bind(config.listen))
        .expect("listen on loopback");
    let addr = listener.local_addr().expect("the bound address");
    let cp = rt
        .block_on(ControlPlane::open(layout, config))
        .expect("open the control plane");
    fill(&cp);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(ferry_api::server::serve_with(
        listener,
        cp.clone(),
        ferry_console::router(cp.clone()),
        async {
            let _ = stopped.await;
        },
    ));

    let addr = addr.to_string();
    let key = read_key(credentials.as_std_path());
    let session = sign_in(&addr, &key);
    println!(
        "== bench/console: {CLUSTERS} clusters, {} events, {requests} requests per page, one client",
        CLUSTERS * EVENTS_PER_CLUSTER
    );
    println!(
        "   {} cores, {} build; client-observed wall time per request (HTTP included)",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    let mut worst: f64 = 0.0;
    for (label, path) in [
        ("clusters (100 rows)", "/console/clusters".to_string()),
        (
            "cluster c050 (its 20 newest events)",
            "/console/clusters/c050".to_string(),
        ),
        (
            "events, newest 50 of 10,000 (14 days)",
            "/console/events?hours=336".to_string(),
        ),
        (
            "events of one cluster (db-cluster c050)",
            "/console/events?source_type=db-cluster&source_id=c050&hours=336".to_string(),
        ),
        ("restore wizard form", "/console/restore".to_string()),
    ] {
        let (p50, p99) = measure(&addr, &path, &session, requests);
        worst = worst.max(p99);
        println!("{label:<42} p50 {p50:>6.2} ms   p99 {p99:>6.2} ms");
    }
    println!(
        "worst p99 {worst:.2} ms against the {TARGET_MS} ms target: {}",
        if worst < TARGET_MS { "met" } else { "NOT met" }
    );
    let _ = stop.send(());
    let _ = rt.block_on(server);
    rt.block_on(cp.shutdown());
}

/// 100 clusters as a restore leaves them, and 100 events each.
fn fill(cp: &ControlPlane) {
    let store = cp.store();
    for i in 0..CLUSTERS {
        let id = ClusterId::new_unchecked(format!("c{i:03}"));
        let cluster = Cluster {
            id: id.clone(),
            resource_id: format!("cluster-BENCH{i:021}"),
            status: ClusterStatus::Available,
            engine: EngineName::AuroraMysql,
            engine_version: "10.11.19".into(),
            master_username: "admin".into(),
            port: 40_000 + i as u16,
            settings: ClusterSettings::defaults(EngineName::AuroraMysql, "us-east-1"),
            tags: Vec::new(),
            s3_origin: Some(S3Origin {
                bucket: "backups".into(),
                prefix: format!("prod/db{i}"),
                ingestion_role_arn: "arn:aws:iam::000000000000:role/S3Access".into(),
                source_engine: "mysql".into(),
                source_engine_version: "8.0.36".into(),
            }),
            recovered_binlog: Some(("mysql-bin.000042".into(), 1_234_567)),
            recovered_gtid: None,
            created_at: time::OffsetDateTime::now_utc(),
        };
        store
            .insert_cluster(&cluster, None, None)
            .expect("insert a cluster");
        for e in 0..EVENTS_PER_CLUSTER {
            store
                .add_event(NewEvent::cluster(
                    &id,
                    format!("Event {e} of the cluster: restored from Amazon S3, step {e}."),
                    &["notification"],
                ))
                .expect("add an event");
        }
    }
}

fn measure(addr: &str, path: &str, session: &str, n: usize) -> (f64, f64) {
    // Warm-up: the first requests fill caches (prepared statements, policies).
    for _ in 0..10 {
        get(addr, path, session);
    }
    let mut times: Vec<f64> = (0..n)
        .map(|_| {
            let t = Instant::now();
            let status = get(addr, path, session);
            assert_eq!(status, 200, "{path}");
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((n as f64 * q).ceil() as usize).clamp(1, n) - 1];
    (at(0.50), at(0.99))
}

/// One GET with the session cookie; returns the status (the body is read and dropped).
fn get(addr: &str, path: &str, session: &str) -> u16 {
    let (status, _, _) = exchange(
        addr,
        &format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {session}\r\nConnection: close\r\n\r\n"
        ),
    );
    status
}

fn exchange(addr: &str, request: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("a timeout");
    s.write_all(request.as_bytes()).expect("send");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, head.to_string(), body.to_string())
}

fn read_key(path: &std::path::Path) -> (String, String) {
    let text = std::fs::read_to_string(path).expect("the admin credentials");
    let get = |key: &str| {
        text.lines()
            .filter_map(|l| l.split_once('='))
            .find(|(k, _)| k.trim() == key)
            .map(|(_, v)| v.trim().to_string())
            .expect("a key in the credentials file")
    };
    (get("aws_access_key_id"), get("aws_secret_access_key"))
}

/// Signs in as the form does; returns the `Cookie` header value of the session.
fn sign_in(addr: &str, key: &(String, String)) -> String {
    let (_, head, body) = exchange(
        addr,
        &format!("GET /console/sign-in HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    );
    let cookie = |head: &str, name: &str| {
        head.lines()
            .filter_map(|l| l.split_once(':'))
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .find_map(|(_, v)| {
                let pair = v.trim().split(';').next()?;
                pair.strip_prefix(&format!("{name}=")).map(str::to_string)
            })
            .expect("the cookie")
    };
    let pre = cookie(&head, "ferry_signin");
    let at = body
        .find("name=\"csrf\" value=\"")
        .expect("the form's token")
        + 19;
    let token = &body[at..at + 64];
    let form = format!(
        "csrf={token}&access_key_id={}&secret_access_key={}",
        enc(&key.0),
        enc(&key.1)
    );
    let (status, head, _) = exchange(
        addr,
        &format!(
            "POST /console/sign-in HTTP/1.1\r\nHost: {addr}\r\nCookie: ferry_signin={pre}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{form}",
            form.len()
        ),
    );
    assert_eq!(status, 303, "sign-in");
    format!("ferry_session={}", cookie(&head, "ferry_session"))
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
