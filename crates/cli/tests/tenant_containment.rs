//! A tenant holding every privilege inside its own cluster's server (simulated with ferry's own
//! admin account on it) cannot touch another cluster's files, ferry's store, or the host's:
//! each cluster's server runs as its own uid, confined by Landlock to its cluster's directory.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::serve::{data_dir, Serve, PASSWORD};
use mysql_async::prelude::Queryable;
use serde_json::json;

fn create_cluster(serve: &Serve, id: &str) {
    let port = ferry_testkit::free_port().to_string();
    serve
        .aws(&[
            "rds",
            "create-db-cluster",
            "--db-cluster-identifier",
            id,
            "--engine",
            "mariadb",
            "--master-username",
            "boss",
            "--master-user-password",
            PASSWORD,
            "--port",
            &port,
        ])
        .json();
    serve.wait("db_cluster_available", json!({"DBClusterIdentifier": id}));
    let instance = format!("{id}-1");
    serve
        .aws(&[
            "rds",
            "create-db-instance",
            "--db-instance-identifier",
            &instance,
            "--db-cluster-identifier",
            id,
            "--engine",
            "mariadb",
            "--db-instance-class",
            "db.t3.micro",
        ])
        .json();
    serve.wait(
        "db_instance_available",
        json!({"DBInstanceIdentifier": instance}),
    );
}

/// Every path under `dir` (relative), with its size: what a tenant's write would change.
fn listing(dir: &Path) -> BTreeSet<(PathBuf, u64)> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            let rel = path.strip_prefix(dir).unwrap().to_path_buf();
            if meta.is_dir() {
                stack.push(path);
                out.insert((rel, 0));
            } else {
                out.insert((rel, meta.len()));
            }
        }
    }
    out
}

/// Files a tenant could target in cluster B's tree, and B's tree without the files its own
/// running server changes by itself (InnoDB, logs).
fn stable_names(dir: &Path) -> BTreeSet<PathBuf> {
    listing(dir).into_iter().map(|(p, _)| p).collect()
}

/// Connects to `cluster`'s instance over its unix socket as ferry's admin account.
fn admin_conn(data: &Path, cluster: &str) -> (tokio::runtime::Runtime, mysql_async::Conn) {
    let cnf = std::fs::read_to_string(data.join(format!("clusters/{cluster}/admin.cnf")))
        .expect("read the cluster's admin.cnf");
    let value = |key: &str| {
        cnf.lines()
            .filter_map(|l| l.split_once('='))
            .find(|(k, _)| k.trim() == key)
            .map(|(_, v)| v.trim().trim_matches('"').trim_matches('\'').to_string())
            .unwrap_or_else(|| panic!("admin.cnf has no {key}"))
    };
    let socket = data.join(format!(
        "clusters/{cluster}/instances/{cluster}-1/mysqld.sock"
    ));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let opts = mysql_async::OptsBuilder::default()
        .socket(Some(socket.display().to_string()))
        .user(Some(value("user")))
        .pass(Some(value("password")));
    let conn = rt
        .block_on(mysql_async::Conn::new(opts))
        .expect("log in as ferry's admin account");
    (rt, conn)
}

fn server_pid(data: &Path, cluster: &str) -> u32 {
    std::fs::read_to_string(data.join(format!(
        "clusters/{cluster}/instances/{cluster}-1/mariadbd.pid"
    )))
    .expect("read the pid file")
    .trim()
    .parse()
    .expect("a pid")
}

fn uid_of(pid: u32) -> u32 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|uid| uid.parse().ok())
        .expect("a Uid line")
}

#[test]
fn an_escalated_tenant_cannot_reach_another_cluster_ferry_or_the_host() {
    if !ferry_engine::running_as_root() {
        eprintln!("skipped: per-cluster uids need ferry to run as root");
        return;
    }
    let (_tmp, dir) = data_dir();
    let serve = Serve::start(&dir, &common::fixtures().join("chains"), &[]);
    create_cluster(&serve, "ta");
    create_cluster(&serve, "tb");

    let (pid_a, pid_b) = (server_pid(&dir, "ta"), server_pid(&dir, "tb"));
    let (uid_a, uid_b) = (uid_of(pid_a), uid_of(pid_b));
    assert_ne!(uid_a, 0, "A's server must not run as root");
    assert_ne!(uid_b, 0, "B's server must not run as root");
    assert_ne!(uid_a, uid_b, "each cluster's server runs as its own uid");

    let b_dir = dir.join("clusters/tb");
    let before = stable_names(&b_dir);
    let (rt, mut conn) = admin_conn(&dir, "ta");
    let b_volume = b_dir.join("volume");
    let store = dir.join("ferry.sqlite");

    // The general log redirected into B's volume: refused, or at least nothing lands there.
    let target = b_volume.join("evil.log");
    let set_log = rt.block_on(conn.query_drop(format!(
        "SET GLOBAL general_log_file = '{}'",
        target.display()
    )));
    let _ = rt.block_on(conn.query_drop("SET GLOBAL general_log = ON"));
    let _ = rt.block_on(conn.query_drop("SELECT 'written through the general log'"));
    let _ = rt.block_on(conn.query_drop("SET GLOBAL general_log = OFF"));
    assert!(
        !target.exists(),
        "A's server wrote into B's volume (SET GLOBAL general_log_file: {set_log:?})"
    );

    // SELECT ... INTO OUTFILE into B's directory, /tmp and /root.
    let tmp_target = PathBuf::from(format!("/tmp/ferry-tenant-{}", std::process::id()));
    for path in [
        b_dir.join("files/out.txt"),
        b_volume.join("out.txt"),
        tmp_target.clone(),
        PathBuf::from("/root/ferry-tenant-out.txt"),
    ] {
        let result =
            rt.block_on(conn.query_drop(format!("SELECT 'x' INTO OUTFILE '{}'", path.display())));
        assert!(result.is_err(), "INTO OUTFILE {} succeeded", path.display());
        assert!(!path.exists(), "{} was written", path.display());
    }

    // LOAD_FILE of ferry's store, of B's files, of /etc/shadow: NULL.
    for path in [
        store.clone(),
        dir.join("clusters/tb/admin.cnf"),
        b_volume.join("ibdata1"),
        dir.join("admin-credentials"),
        PathBuf::from("/etc/shadow"),
    ] {
        let read: Option<Option<Vec<u8>>> = rt
            .block_on(conn.query_first(format!("SELECT LOAD_FILE('{}')", path.display())))
            .expect("LOAD_FILE runs");
        assert_eq!(
            read,
            Some(None),
            "LOAD_FILE({}) read something",
            path.display()
        );
    }
    drop(conn);
    drop(rt);

    assert_eq!(
        stable_names(&b_dir),
        before,
        "B's directory changed under A's attempts"
    );
    // B still answers.
    let (rt, mut conn_b) = admin_conn(&dir, "tb");
    let one: Option<u32> = rt
        .block_on(conn_b.query_first("SELECT 1"))
        .expect("B answers");
    assert_eq!(one, Some(1));
    drop(conn_b);

    // What the log and the events say: nothing is missing on this host (root, Landlock).
    let events = serve.cluster_events("ta");
    assert!(
        !events.iter().any(|e| e.contains("only partly contained")),
        "{events:?}"
    );
}
