//! A hostile master user against a running cluster: the three escalation routes of issue 10,
//! tried literally over the cluster endpoint. ferry's guardian undoes each within seconds,
//! names the account in an event, and ferry keeps control: the `mysql.rds_*` procedures
//! answer, the master password can be reset, and a killed server comes back guarded.

mod common;

use std::time::{Duration, Instant};

use common::serve::{connect, data_dir, Serve, PASSWORD};
use mysql_async::prelude::Queryable;
use serde_json::json;

const CLUSTER: &str = "guarded";
const WITHIN: Duration = Duration::from_secs(15);

/// Polls `check` until it holds, or fails with `what` and the serve log.
fn eventually(serve: &Serve, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + WITHIN;
    while !check() {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within {WITHIN:?}; events: {:#?}\nserve log:\n{}",
            serve.cluster_events(CLUSTER),
            serve.log_text()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn has_event(serve: &Serve, needle: &str) -> bool {
    serve
        .cluster_events(CLUSTER)
        .iter()
        .any(|e| e.contains(needle))
}

fn try_connect(
    rt: &tokio::runtime::Runtime,
    port: u16,
    user: &str,
    password: &str,
) -> mysql_async::Result<mysql_async::Conn> {
    let opts = mysql_async::OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(port)
        .prefer_socket(false)
        .user(Some(user))
        .pass(Some(password));
    rt.block_on(mysql_async::Conn::new(opts))
}

fn run(
    rt: &tokio::runtime::Runtime,
    conn: &mut mysql_async::Conn,
    sql: &str,
) -> mysql_async::Result<()> {
    rt.block_on(conn.query_drop(sql))
}

/// `CALL mysql.rds_stop_replication` answers: it runs as ferry's account and ferry's agent
/// answers it (nothing is configured, so it says so).
fn procedures_answer(rt: &tokio::runtime::Runtime, port: u16, password: &str) -> bool {
    let Ok(mut conn) = try_connect(rt, port, "admin", password) else {
        return false;
    };
    let answer: mysql_async::Result<Vec<mysql_async::Row>> =
        rt.block_on(conn.query("CALL mysql.rds_stop_replication"));
    let text = format!("{answer:?}");
    // The agent's answer (nothing is configured), not error 1449 (definer missing).
    let ok = text.contains("the replica isn't configured") || text.contains("already stopped");
    if !ok {
        eprintln!("CALL mysql.rds_stop_replication: {text}");
    }
    ok
}

/// An account `user` with password `pw` that cannot write `mysql` nor set globals.
fn cut_back(rt: &tokio::runtime::Runtime, port: u16, user: &str, pw: &str) -> bool {
    let Ok(mut c) = try_connect(rt, port, user, pw) else {
        return false;
    };
    let code = |r: mysql_async::Result<()>| match r {
        Err(mysql_async::Error::Server(e)) => Some(e.code),
        _ => None,
    };
    code(run(
        rt,
        &mut c,
        "UPDATE mysql.global_priv SET Host = Host WHERE 1 = 0",
    )) == Some(1142)
        && code(run(rt, &mut c, "SET GLOBAL general_log = 0")) == Some(1227)
}

/// The three routes, one after another, then ferry's own operations.
#[test]
fn a_hostile_master_user_cannot_take_the_cluster_from_ferry() {
    let (_tmp, dir) = data_dir();
    let serve = Serve::start(&dir, &common::fixtures().join("chains"), &[]);
    let port = ferry_testkit::free_port();
    serve
        .aws(&[
            "rds",
            "create-db-cluster",
            "--db-cluster-identifier",
            CLUSTER,
            "--engine",
            "mariadb",
            "--master-username",
            "admin",
            "--master-user-password",
            PASSWORD,
            "--port",
            &port.to_string(),
        ])
        .json();
    serve.wait(
        "db_cluster_available",
        json!({"DBClusterIdentifier": CLUSTER}),
    );
    serve
        .aws(&[
            "rds",
            "create-db-instance",
            "--db-instance-identifier",
            "guarded-1",
            "--db-cluster-identifier",
            CLUSTER,
            "--engine",
            "mariadb",
            "--db-instance-class",
            "db.t3.micro",
        ])
        .json();
    serve.wait(
        "db_instance_available",
        json!({"DBInstanceIdentifier": "guarded-1"}),
    );
    let (rt, mut m) = connect(port, "admin", PASSWORD);
    eventually(&serve, "the procedures answering", || {
        procedures_answer(&rt, port, PASSWORD)
    });

    // --- Route 1: rename + re-password ferry's account and log in as it over TCP.
    run(
        &rt,
        &mut m,
        "RENAME USER 'ferry_admin'@'localhost' TO 'ferry_admin'@'127.0.0.1'",
    )
    .expect("CREATE USER covers ferry's account");
    // The guardian may already have dropped the renamed account.
    let _ = run(
        &rt,
        &mut m,
        "ALTER USER 'ferry_admin'@'127.0.0.1' IDENTIFIED BY 'stolen-1'",
    );
    eventually(&serve, "the impostor's login refused", || {
        try_connect(&rt, port, "ferry_admin", "stolen-1").is_err()
    });
    eventually(&serve, "events naming both accounts", || {
        has_event(&serve, "'ferry_admin'@'127.0.0.1'")
            && has_event(&serve, "ferry's administrative account 'ferry_admin'@'localhost' had been dropped or renamed")
    });
    eventually(&serve, "the procedures answering", || {
        procedures_answer(&rt, port, PASSWORD)
    });

    run(
        &rt,
        &mut m,
        "ALTER USER 'ferry_admin'@'localhost' ACCOUNT LOCK",
    )
    .expect("lock");
    eventually(&serve, "the lock undone", || {
        has_event(&serve, "had been locked")
    });
    run(&rt, &mut m, "DROP USER 'ferry_admin'@'localhost'").expect("drop");
    eventually(&serve, "the procedures answering after DROP USER", || {
        procedures_answer(&rt, port, PASSWORD)
    });

    // --- Route 2: ALL ON `%`.* covers mysql; x writes the privilege store; the master flushes.
    run(&rt, &mut m, "CREATE USER x@'%' IDENTIFIED BY 'x-pw-1'").expect("create x");
    run(&rt, &mut m, "GRANT ALL ON `%`.* TO x@'%'").expect("grant the wildcard");
    if let Ok(mut x) = try_connect(&rt, port, "x", "x-pw-1") {
        let _ = run(
            &rt,
            &mut x,
            "UPDATE mysql.global_priv SET Priv = JSON_SET(Priv, '$.access', 549755813887) WHERE User = 'x'",
        );
    }
    let _ = run(&rt, &mut m, "FLUSH PRIVILEGES");
    eventually(&serve, "x cut back", || cut_back(&rt, port, "x", "x-pw-1"));
    eventually(&serve, "an event naming x", || {
        has_event(&serve, "from account 'x'@'%'")
    });

    // --- Route 3: a mysql.proc row that runs as ferry and grants y everything.
    run(&rt, &mut m, "CREATE USER y@'%' IDENTIFIED BY 'y-pw-1'").expect("create y");
    run(&rt, &mut m, "GRANT ALL ON `%`.* TO y@'%'").expect("grant the wildcard");
    if let Ok(mut y) = try_connect(&rt, port, "y", "y-pw-1") {
        let _ = run(
            &rt,
            &mut y,
            "INSERT INTO mysql.proc (db, name, type, specific_name, language, sql_data_access, \
               is_deterministic, security_type, param_list, returns, body, definer, created, \
               modified, sql_mode, comment, character_set_client, collation_connection, \
               db_collation, body_utf8, aggregate) \
             VALUES ('mysql', 'evil', 'PROCEDURE', 'evil', 'SQL', 'CONTAINS_SQL', 'NO', \
               'DEFINER', '', '', 'GRANT ALL PRIVILEGES ON *.* TO y@''%''', \
               'ferry_admin@localhost', NOW(), NOW(), '', '', 'utf8mb4', 'utf8mb4_general_ci', \
               'utf8mb4_general_ci', 'GRANT ALL PRIVILEGES ON *.* TO y@''%''', 'NONE')",
        );
        let _ = run(&rt, &mut y, "CALL mysql.evil()");
    }
    eventually(&serve, "y cut back and the routine gone", || {
        let gone: Option<i64> = rt
            .block_on(m.query_first("SELECT COUNT(*) FROM mysql.proc WHERE name = 'evil'"))
            .ok()
            .flatten();
        gone == Some(0) && cut_back(&rt, port, "y", "y-pw-1")
    });
    eventually(&serve, "an event naming y", || {
        has_event(&serve, "account 'y'@'%'")
    });
    assert!(procedures_answer(&rt, port, PASSWORD));

    // --- ferry still resets the master password.
    serve
        .aws(&[
            "rds",
            "modify-db-cluster",
            "--db-cluster-identifier",
            CLUSTER,
            "--master-user-password",
            "Another-pw-99",
            "--apply-immediately",
        ])
        .json();
    serve.wait(
        "db_cluster_available",
        json!({"DBClusterIdentifier": CLUSTER}),
    );
    eventually(&serve, "the new password working", || {
        try_connect(&rt, port, "admin", "Another-pw-99").is_ok()
    });

    // --- A killed server is restarted, and guarded again.
    let pid = server_pid(&dir);
    // SAFETY: kill(2) on the pid ferry's server wrote.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    eventually(&serve, "the server restarted", || {
        server_pid_opt(&dir).is_some_and(|p| p != pid)
            && procedures_answer(&rt, port, "Another-pw-99")
    });
    let (rt2, mut m2) = connect(port, "admin", "Another-pw-99");
    run(&rt2, &mut m2, "CREATE USER z@'%' IDENTIFIED BY 'z-pw-1'").expect("create z");
    run(&rt2, &mut m2, "GRANT ALL ON `%`.* TO z@'%'").expect("grant the wildcard");
    eventually(&serve, "z cut back after the restart", || {
        cut_back(&rt2, port, "z", "z-pw-1") && has_event(&serve, "from account 'z'@'%'")
    });
}

fn server_pid_opt(dir: &std::path::Path) -> Option<i32> {
    let clusters = std::fs::read_dir(dir.join("clusters")).ok()?;
    for cluster in clusters.flatten() {
        let Ok(instances) = std::fs::read_dir(cluster.path().join("instances")) else {
            continue;
        };
        for instance in instances.flatten() {
            if let Ok(pid) = std::fs::read_to_string(instance.path().join("mariadbd.pid")) {
                if let Ok(pid) = pid.trim().parse() {
                    return Some(pid);
                }
            }
        }
    }
    None
}

fn server_pid(dir: &std::path::Path) -> i32 {
    server_pid_opt(dir).expect("the instance's server writes a pid file")
}
