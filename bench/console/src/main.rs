//! How fast the web console's pages are served with 100 clusters and 10,000 events (issue 13:
//! every page under 20 ms on the server): a control plane on a temporary data dir, its store
//! filled directly (100 `available` clusters restored from S3, 100 events each), the API and
//! the console served on loopback as `ferry serve` serves them, and each page asked N times
//! in a row by one client over HTTP/1.1 (a new connection per request, as a browser's first
//! visit). The figures are wall time per request seen by the client, so they include the
//! HTTP exchange on top of the server's work.
//!
//! Then the console's cost to the API: the same control plane is also served without the
//! console's routes, and a signed `DescribeDBClusters` (100 clusters, ferry's own SigV4
//! client, one kept-alive connection per server) is sent to each in turn, A/B interleaved,
//! so both see the same machine; the ratio of their medians is printed.

use std::time::Instant;

use ferry_control::config::Config;
use ferry_control::layout::Layout;
use ferry_control::model::{
    Cluster, ClusterId, ClusterSettings, ClusterStatus, EngineName, S3Origin,
};
use ferry_control::store::NewEvent;
use ferry_control::ControlPlane;
use ferry_testkit::http::{read_key, request, sign_in};

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
    api_cost(&rt, &cp, &addr, &key, requests);
    let _ = stop.send(());
    let _ = rt.block_on(server);
    rt.block_on(cp.shutdown());
}

/// `DescribeDBClusters` against the server with the console (`with`) and against one
/// without it, interleaved; prints p50/p99 of each and the ratio of the medians.
fn api_cost(
    rt: &tokio::runtime::Runtime,
    cp: &ControlPlane,
    with: &str,
    key: &(String, String),
    n: usize,
) {
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("listen on loopback");
    let without = listener
        .local_addr()
        .expect("the bound address")
        .to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(ferry_api::server::serve_with(
        listener,
        cp.clone(),
        axum::Router::new(),
        async {
            let _ = stopped.await;
        },
    ));
    let client = |addr: &str| {
        ferry_api::client::Client::new(&format!("http://{addr}"), &key.0, &key.1, "us-east-1")
            .expect("a client")
    };
    let (a, b) = (client(with), client(&without));
    let call = |c: &ferry_api::client::Client| {
        let t = Instant::now();
        rt.block_on(c.call("DescribeDBClusters", &[("MaxRecords", "100")]))
            .expect("DescribeDBClusters");
        t.elapsed().as_secs_f64() * 1000.0
    };
    for _ in 0..10 {
        call(&a);
        call(&b);
    }
    let (mut ta, mut tb) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        // Alternate which goes first, so neither always follows the other.
        if i % 2 == 0 {
            ta.push(call(&a));
            tb.push(call(&b));
        } else {
            tb.push(call(&b));
            ta.push(call(&a));
        }
    }
    let pct = |v: &mut Vec<f64>, q: f64| {
        v.sort_by(f64::total_cmp);
        v[((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1]
    };
    let (a50, a99, b50, b99) = (
        pct(&mut ta, 0.5),
        pct(&mut ta, 0.99),
        pct(&mut tb, 0.5),
        pct(&mut tb, 0.99),
    );
    println!("API DescribeDBClusters (100 clusters), signed, {n} requests each, interleaved:");
    println!("  with the console     p50 {a50:>6.2} ms   p99 {a99:>6.2} ms");
    println!("  without the console  p50 {b50:>6.2} ms   p99 {b99:>6.2} ms");
    println!("  ratio of medians (with / without): {:.3}", a50 / b50);
    let _ = stop.send(());
    let _ = rt.block_on(server);
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

/// One GET with the session cookie; returns the status.
fn get(addr: &str, path: &str, session: &str) -> u16 {
    request(addr, "GET", path, Some(session), None).status
}
