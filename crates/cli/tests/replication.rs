//! The seed's replication section against `ferry serve`, as a user follows it: a live source
//! MariaDB (binary log ROW, TLS with a CA made by the test) taking writes during and after its
//! `mariabackup` backup; two clusters restored from that backup through the AWS CLI; the
//! master user pointing one at the source over SSL from the "Recovered from Binary log"
//! event's coordinates and the other by GTID; lag watched with `ferry replication status` and
//! `/metrics`; a conflicting row skipped; `ferry serve` restarted mid-replication; cutover
//! with `ferry replication cutover`. Table checksums must equal the source's at each stop.
//!
//! One source, one `ferry serve`, two clusters, in sequence: the steps share their state.

mod common;
#[path = "replication/console.rs"]
mod console;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::serve::{restore_args, Serve, PASSWORD as MASTER_PASSWORD};
use ferry_testkit::{TestPki, TestServer, TestServerOptions};
use mysql_async::prelude::Queryable;
use serde_json::json;

const REPL_PASSWORD: &str = "Repl'pw\"2024";
const OPERATOR_PASSWORD: &str = "Operator-pw-2024";
const APP_PASSWORD: &str = "App-pw-2024";
const WAIT: Duration = Duration::from_secs(90);

fn quoted(text: &str) -> String {
    mysql_async::Value::from(text).as_sql(false)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The error text of a failed statement (panics on success).
fn sql_error<T: std::fmt::Debug>(result: Result<T, mysql_async::Error>) -> (u16, String) {
    match result {
        Err(mysql_async::Error::Server(e)) => (e.code, e.message),
        other => panic!("expected a server error, got {other:?}"),
    }
}

async fn messages(conn: &mut mysql_async::Conn, call: &str) -> Vec<String> {
    let mut result = conn
        .query_iter(format!("CALL mysql.{call}"))
        .await
        .unwrap_or_else(|e| panic!("CALL mysql.{call}: {e}"));
    let mut rows = Vec::new();
    loop {
        let set: Vec<String> = result
            .collect::<mysql_async::Row>()
            .await
            .unwrap()
            .into_iter()
            .map(|mut r| r.take::<String, _>("Message").unwrap_or_default())
            .collect();
        rows.extend(set);
        if result.is_empty() {
            break;
        }
    }
    rows
}

async fn call_error(conn: &mut mysql_async::Conn, call: &str) -> String {
    let (code, message) = sql_error(conn.query_drop(format!("CALL mysql.{call}")).await);
    assert_eq!(code, 1644, "{call}: SIGNAL SQLSTATE '45000' ({message})");
    message
}

async fn checksum(conn: &mut mysql_async::Conn) -> Vec<(String, Option<i64>)> {
    conn.query("CHECKSUM TABLE shop.items, shop.orders EXTENDED")
        .await
        .unwrap()
}

fn master_conn(rt: &tokio::runtime::Runtime, port: u16) -> mysql_async::Conn {
    let opts = mysql_async::OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(port)
        .prefer_socket(false)
        .user(Some("admin"))
        .pass(Some(MASTER_PASSWORD));
    rt.block_on(mysql_async::Conn::new(opts))
        .expect("connect to the cluster as the master user")
}

/// `ferry replication ...` against the serve.
fn ferry_replication(serve: &Serve, args: &[&str], env: &[(&str, &str)]) -> common::Run {
    let mut cmd = common::ferry();
    cmd.arg("replication")
        .args(args)
        .arg("--endpoint-url")
        .arg(serve.endpoint())
        .arg("--credentials")
        .arg(serve.credentials());
    for (k, v) in env {
        cmd.env(k, v);
    }
    common::run(&mut cmd)
}

/// The value of one `Name:   value` line of `ferry replication status`.
fn field(status: &str, name: &str) -> Option<String> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .map(|v| v.trim().to_owned())
}

/// Polls `ferry replication status CLUSTER` until `done` holds for its output.
fn poll_status(serve: &Serve, cluster: &str, what: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let run = ferry_replication(serve, &["status", cluster], &[]);
        run.assert_ok();
        if done(&run.stdout) {
            return run.stdout;
        }
        assert!(
            Instant::now() < deadline,
            "{cluster}: {what} not reached within {WAIT:?}; last status:\n{}\nevents: {:#?}",
            run.stdout,
            serve.cluster_events(cluster)
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Caught up with the source's current position: executed == the source's SHOW MASTER
/// STATUS, and ferry's lag is 0.
fn caught_up(serve: &Serve, rt: &tokio::runtime::Runtime, source: &TestServer, cluster: &str) {
    let (file, pos) = rt.block_on(async {
        let mut c = source.admin_conn().await.unwrap();
        let row: mysql_async::Row = c.query_first("SHOW MASTER STATUS").await.unwrap().unwrap();
        (
            row.get::<String, _>("File").unwrap(),
            row.get::<u64, _>("Position").unwrap(),
        )
    });
    let want = format!("{file}:{pos}");
    poll_status(serve, cluster, "lag 0 at the source's position", |s| {
        field(s, "Executed up to").as_deref() == Some(want.as_str())
            && field(s, "Lag").is_some_and(|l| l.starts_with("0.000 s (measured by heartbeat)"))
    });
}

/// The application on the source (user `app`, no SUPER, so `read_only` stops it): an order
/// and a stock update every few milliseconds until stopped or refused.
struct Writer {
    stop: Arc<AtomicBool>,
    written: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<Result<(), mysql_async::Error>>,
}

impl Writer {
    fn start(rt: &tokio::runtime::Runtime, source: &TestServer) -> Writer {
        let opts = source.tcp_opts("app", APP_PASSWORD);
        let stop = Arc::new(AtomicBool::new(false));
        let written = Arc::new(AtomicU64::new(0));
        let task = {
            let (stop, written) = (stop.clone(), written.clone());
            rt.spawn(async move {
                let mut conn = mysql_async::Conn::new(opts).await?;
                while !stop.load(Ordering::SeqCst) {
                    conn.query_drop(
                        "INSERT INTO shop.orders (item_id, qty, note) \
                         SELECT id, 1 + id % 5, CONCAT('order ', NOW(6)) FROM shop.items \
                         ORDER BY RAND() LIMIT 1",
                    )
                    .await?;
                    conn.query_drop(
                        "UPDATE shop.items SET stock = stock - 1 ORDER BY RAND() LIMIT 1",
                    )
                    .await?;
                    written.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Ok(())
            })
        };
        Writer {
            stop,
            written,
            task,
        }
    }

    /// Stops it once it has written at least `min` more orders; it must not have failed.
    fn stop_after(self, rt: &tokio::runtime::Runtime, min: u64) -> u64 {
        let base = self.written.load(Ordering::SeqCst);
        let deadline = Instant::now() + WAIT;
        while self.written.load(Ordering::SeqCst) < base + min && !self.task.is_finished() {
            assert!(Instant::now() < deadline, "the writer stalled");
            std::thread::sleep(Duration::from_millis(20));
        }
        self.stop.store(true, Ordering::SeqCst);
        rt.block_on(self.task)
            .unwrap()
            .expect("the application's writes succeed");
        self.written.load(Ordering::SeqCst)
    }

    /// Stops it, whatever happened to its writes.
    fn abandon(self, rt: &tokio::runtime::Runtime) -> Result<(), mysql_async::Error> {
        self.stop.store(true, Ordering::SeqCst);
        rt.block_on(self.task).unwrap()
    }
}

fn mariabackup(source: &TestServer, target: &Path, work: &Path) {
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    let cnf = work.join("backup.cnf");
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&cnf)
            .unwrap();
        write!(
            f,
            "[mariabackup]\nuser={}\npassword={}\nsocket={}\n",
            source.admin().user,
            source.admin().password.expose(),
            source.socket()
        )
        .unwrap();
    }
    let out = std::process::Command::new("mariabackup")
        .arg(format!("--defaults-file={}", cnf.display()))
        .arg("--backup")
        .arg(format!("--target-dir={}", target.display()))
        .output()
        .expect("run mariabackup");
    assert!(
        out.status.success(),
        "mariabackup failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn restore(serve: &Serve, id: &str, port: u16) {
    let port = port.to_string();
    serve.aws(&restore_args(id, "backups", &port)).json();
}

fn add_writer(serve: &Serve, cluster: &str) {
    let instance = format!("{cluster}-writer");
    serve
        .aws(&[
            "rds",
            "create-db-instance",
            "--db-instance-identifier",
            &instance,
            "--db-cluster-identifier",
            cluster,
            "--engine",
            "aurora-mysql",
            "--db-instance-class",
            "db.t3.medium",
        ])
        .json();
    serve.wait(
        "db_instance_available",
        json!({ "DBInstanceIdentifier": instance }),
    );
}

/// `Recovered from Binary log filename 'F', position 'P'.` → (F, P).
fn recovered_coordinates(events: &[String]) -> (String, u64) {
    let e = events
        .iter()
        .find_map(|e| e.strip_prefix("Recovered from Binary log filename '"))
        .unwrap_or_else(|| panic!("no coordinates event: {events:#?}"));
    let (file, rest) = e.split_once("', position '").unwrap();
    let pos = rest.trim_end_matches("'.").parse().unwrap();
    (file.to_owned(), pos)
}

#[test]
fn catch_up_with_the_source_then_cut_over() {
    let rt = runtime();
    let tmp = ferry_testkit::short_tempdir();
    std::fs::create_dir(tmp.path().join("pki")).unwrap();
    let pki = TestPki::generate(&tmp.path().join("pki")).unwrap();
    let path = |p: &Path| p.to_string_lossy().into_owned();
    let mut source = rt
        .block_on(TestServer::start(
            TestServerOptions::with_binlog(1)
                .option("ssl-ca", path(&pki.ca_path))
                .option("ssl-cert", path(&pki.server_cert_path))
                .option("ssl-key", path(&pki.server_key_path))
                .option("performance-schema", "ON"),
        ))
        .unwrap();
    let sport = source.port();

    // The source: data, a replication user that must use SSL, one that may not, and an
    // operator for the application's writes and the cutover.
    rt.block_on(async {
        let mut c = source.admin_conn().await.unwrap();
        for sql in [
            "CREATE DATABASE shop".to_owned(),
            "CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, \
             stock INT NOT NULL) ENGINE=InnoDB"
                .to_owned(),
            "CREATE TABLE shop.orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, item_id INT NOT NULL, \
             qty INT NOT NULL, note VARCHAR(100)) ENGINE=InnoDB"
                .to_owned(),
            "INSERT INTO shop.items SELECT seq, CONCAT('item ', seq), 1000 FROM shop.seq_1_to_500"
                .to_owned(),
            format!(
                "CREATE USER repl@'%' IDENTIFIED BY {} REQUIRE SSL",
                quoted(REPL_PASSWORD)
            ),
            "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO repl@'%'".to_owned(),
            format!(
                "CREATE USER repl_plain@'%' IDENTIFIED BY {}",
                quoted(REPL_PASSWORD)
            ),
            "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO repl_plain@'%'".to_owned(),
            format!(
                "CREATE USER operator@'%' IDENTIFIED BY {}",
                quoted(OPERATOR_PASSWORD)
            ),
            "GRANT ALL ON *.* TO operator@'%'".to_owned(),
            format!("CREATE USER app@'%' IDENTIFIED BY {}", quoted(APP_PASSWORD)),
            "GRANT ALL ON shop.* TO app@'%'".to_owned(),
        ] {
            c.query_drop(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    });

    // The backup is taken while the application writes.
    let file_root = tmp.path().join("buckets");
    let writer = Writer::start(&rt, &source);
    mariabackup(&source, &file_root.join("backups/full"), tmp.path());

    let data_dir = {
        use std::os::unix::fs::PermissionsExt;
        let d = tmp.path().join("ferry");
        std::fs::create_dir(&d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o711)).unwrap();
        d.join("d")
    };
    let mut serve = Serve::start(&data_dir, &file_root, &[]);
    let (port_a, port_g) = (ferry_testkit::free_port(), ferry_testkit::free_port());
    restore(&serve, "repl-a", port_a);
    restore(&serve, "repl-g", port_g);
    // W is set up from the web console.
    restore(&serve, "repl-w", ferry_testkit::free_port());
    for id in ["repl-a", "repl-g", "repl-w"] {
        serve.wait("db_cluster_available", json!({ "DBClusterIdentifier": id }));
    }
    add_writer(&serve, "repl-a");
    add_writer(&serve, "repl-g");
    add_writer(&serve, "repl-w");
    let written = writer.stop_after(&rt, 50);
    assert!(written > 50);
    // The application keeps writing while replication is set up.
    let writer = Writer::start(&rt, &source);

    let (file, pos) = recovered_coordinates(&serve.cluster_events("repl-a"));
    assert!(
        serve
            .cluster_events("repl-g")
            .iter()
            .any(|e| e.starts_with("Recovered from GTID '0-1-")),
        "the GTID position is recorded: {:#?}",
        serve.cluster_events("repl-g")
    );

    // Cluster A, over SSL, from the recovered coordinates.
    let mut a = master_conn(&rt, port_a);
    rt.block_on(async {
        let (code, _) = sql_error(
            a.query_drop("CHANGE MASTER TO MASTER_HOST = '127.0.0.1'")
                .await,
        );
        assert_eq!(code, 1227, "the master user cannot CHANGE MASTER itself");
        assert_eq!(
            call_error(&mut a, "rds_start_replication").await,
            "You can't start replication because the replica isn't configured. First call mysql.rds_set_external_master."
        );
        let bad = [
            ("'{\"ssl_ca\": '", "Invalid SSL material: not valid JSON"),
            (
                &quoted(&json!({"ssl_ca": pki.ca_pem, "ssl_cert": pki.client_cert_pem}).to_string()),
                "Invalid SSL material: missing key ssl_key",
            ),
            (
                &quoted(
                    &json!({"ssl_ca": pki.ca_pem, "ssl_cert": pki.client_cert_pem, "ssl_key": pki.server_key_pem})
                        .to_string(),
                ),
                "does not match",
            ),
        ];
        for (arg, want) in bad {
            let got = call_error(&mut a, &format!("rds_import_binlog_ssl_material({arg})")).await;
            assert!(got.contains(want), "{want:?} in {got:?}");
        }
        let ssl_required = call_error(
            &mut a,
            &format!(
                "rds_set_external_master('127.0.0.1', {sport}, 'repl', {}, '{file}', {pos}, 1)",
                quoted(REPL_PASSWORD)
            ),
        )
        .await;
        assert!(ssl_required.contains("rds_import_binlog_ssl_material"), "{ssl_required}");
        assert_eq!(
            messages(
                &mut a,
                &format!("rds_import_binlog_ssl_material({})", quoted(&pki.ssl_material_json()))
            )
            .await,
            ["SSL material import complete."]
        );
        assert!(messages(
            &mut a,
            &format!(
                "rds_set_external_master('127.0.0.1', {sport}, 'repl', {}, '{file}', {pos}, 1)",
                quoted(REPL_PASSWORD)
            )
        )
        .await
        .is_empty());
        assert_eq!(
            messages(&mut a, "rds_start_replication").await,
            ["Slave running normally."]
        );
        assert_eq!(
            call_error(
                &mut a,
                &format!(
                    "rds_set_external_master('127.0.0.1', {sport}, 'repl', 'x', '{file}', {pos}, 1)"
                )
            )
            .await,
            "You can't modify replication because replication is running. First call mysql.rds_stop_replication."
        );
    });

    // Cluster G, by GTID from the position the restore recorded, without SSL.
    let mut g = master_conn(&rt, port_g);
    rt.block_on(async {
        messages(
            &mut g,
            &format!(
                "rds_set_external_master_with_auto_position('127.0.0.1', {sport}, 'repl_plain', {}, 0)",
                quoted(REPL_PASSWORD)
            ),
        )
        .await;
        assert_eq!(
            messages(&mut g, "rds_start_replication").await,
            ["Slave running normally."]
        );
    });

    console::starts_replication(&serve, sport, &file, pos);

    writer.stop_after(&rt, 50);
    caught_up(&serve, &rt, &source, "repl-a");
    caught_up(&serve, &rt, &source, "repl-g");
    caught_up(&serve, &rt, &source, "repl-w");
    let status = ferry_replication(&serve, &["status", "repl-a"], &[]).stdout;
    assert_eq!(
        field(&status, "IO thread").as_deref(),
        Some("Yes"),
        "{status}"
    );
    assert!(
        field(&status, "Source").unwrap().ends_with(", over SSL"),
        "{status}"
    );
    watch_prints_until_interrupted(&serve, "repl-a");
    let gstatus = ferry_replication(&serve, &["status", "repl-g"], &[]).stdout;
    assert!(
        gstatus.contains("GTID (IO thread):        0-1-"),
        "{gstatus}"
    );
    let expected = rt.block_on(async { checksum(&mut source.admin_conn().await.unwrap()).await });
    rt.block_on(async {
        assert_eq!(
            checksum(&mut a).await,
            expected,
            "cluster A equals the source"
        );
        assert_eq!(
            checksum(&mut g).await,
            expected,
            "cluster G equals the source"
        );
        // The source sees the replication connection encrypted.
        let mut s = source.admin_conn().await.unwrap();
        let tls: Vec<(String, String)> = s
            .query(
                "SELECT t.PROCESSLIST_USER, s.VARIABLE_VALUE FROM performance_schema.threads t \
                 JOIN performance_schema.status_by_thread s USING (THREAD_ID) \
                 WHERE t.PROCESSLIST_COMMAND = 'Binlog Dump' AND s.VARIABLE_NAME = 'Ssl_version'",
            )
            .await
            .unwrap();
        assert!(
            tls.iter()
                .any(|(u, v)| u == "repl" && v.starts_with("TLSv1")),
            "repl's binlog dump is encrypted: {tls:?}"
        );
        assert!(
            tls.iter().any(|(u, v)| u == "repl_plain" && v.is_empty()),
            "repl_plain's is not: {tls:?}"
        );
    });
    let metrics = reqwest_get(&format!("{}/metrics", serve.endpoint()));
    for line in [
        "ferry_replica_lag_seconds{cluster=\"repl-a\"} 0",
        "ferry_replica_io_thread_running{cluster=\"repl-a\"} 1",
        "ferry_replica_sql_thread_running{cluster=\"repl-g\"} 1",
        "ferry_replica_last_sql_errno{cluster=\"repl-g\"} 0",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in:\n{metrics}");
    }
    let events = serve.cluster_events("repl-a");
    for want in [
        format!("Replication source set to 127.0.0.1:{sport} (binary log file and position, SSL)."),
        "Replication started by mysql.rds_start_replication.".to_owned(),
        "Replication caught up with the source: lag is 0 seconds.".to_owned(),
        "Replication SSL material imported.".to_owned(),
    ] {
        assert!(events.contains(&want), "{want:?} in {events:#?}");
    }

    // A conflicting row on cluster G: replication stops on it, visibly; skipping it resumes.
    rt.block_on(async {
        g.query_drop("INSERT INTO shop.items VALUES (9001, 'conflict', 1)")
            .await
            .unwrap();
        let mut s = source.tcp_conn("app", APP_PASSWORD).await.unwrap();
        s.query_drop("INSERT INTO shop.items VALUES (9001, 'conflict', 1)")
            .await
            .unwrap();
    });
    let broken = poll_status(&serve, "repl-g", "the duplicate-key error", |s| {
        s.contains("Last SQL error:") && s.contains("1062")
    });
    assert_eq!(
        field(&broken, "SQL thread").as_deref(),
        Some("No"),
        "{broken}"
    );
    let deadline = Instant::now() + WAIT;
    while !serve
        .cluster_events("repl-g")
        .iter()
        .any(|e| e.starts_with("Replication stopped with an error: SQL thread error 1062"))
    {
        assert!(
            Instant::now() < deadline,
            "no event for the broken replication"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    rt.block_on(async {
        assert_eq!(
            messages(&mut g, "rds_skip_repl_error").await,
            [
                "Statement in error has been skipped",
                "Slave is now running normally"
            ]
        );
    });
    caught_up(&serve, &rt, &source, "repl-g");
    console::shows_replication(&serve, "repl-g");

    // ferry serve restarts (its servers with it); replication resumes where it was.
    drop(a);
    drop(g);
    serve.restart();
    for id in ["repl-a-writer", "repl-g-writer"] {
        serve.wait(
            "db_instance_available",
            json!({ "DBInstanceIdentifier": id }),
        );
    }
    let writer = Writer::start(&rt, &source);
    for id in ["repl-a", "repl-g"] {
        let deadline = Instant::now() + WAIT;
        while !serve
            .cluster_events(id)
            .contains(&"Replication resumed after the DB instance started.".to_owned())
        {
            assert!(Instant::now() < deadline, "{id}: replication not resumed");
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    // Cutover of A with the source set read-only; G without.
    let url = format!("mysql://operator@127.0.0.1:{sport}?ssl-mode=REQUIRED");
    writer.stop_after(&rt, 20);
    let writer_during_cutover = Writer::start(&rt, &source);
    let cut = ferry_replication(
        &serve,
        &["cutover", "repl-a", "--source", &url, "--set-read-only"],
        &[("FERRY_SOURCE_PASSWORD", OPERATOR_PASSWORD)],
    );
    cut.assert_ok();
    assert!(
        cut.stdout.contains("replication is stopped")
            && cut.stdout.contains("Writes on the source were blocked for"),
        "{}",
        cut.stdout
    );
    // The application's writes are refused by the read-only source (ER_OPTION_PREVENTS_STATEMENT).
    match writer_during_cutover.abandon(&rt) {
        Err(mysql_async::Error::Server(e)) => assert_eq!(e.code, 1290, "{e}"),
        other => panic!("the application's write after the cutover: {other:?}"),
    }
    let mut a = master_conn(&rt, port_a);
    let (expected, read_only) = rt.block_on(async {
        let mut s = source.admin_conn().await.unwrap();
        let ro: Option<i64> = s.query_first("SELECT @@global.read_only").await.unwrap();
        (checksum(&mut s).await, ro)
    });
    assert_eq!(
        read_only,
        Some(1),
        "the source stays read-only after the cutover"
    );
    rt.block_on(async {
        assert_eq!(
            checksum(&mut a).await,
            expected,
            "cluster A equals the source after cutover"
        );
        let row: mysql_async::Row = a.query_first("SHOW SLAVE STATUS").await.unwrap().unwrap();
        assert_eq!(
            row.get::<String, _>("Slave_IO_Running").as_deref(),
            Some("No")
        );
        assert_eq!(
            row.get::<String, _>("Slave_SQL_Running").as_deref(),
            Some("No")
        );
        let mut s = source.admin_conn().await.unwrap();
        s.query_drop("SET GLOBAL read_only = OFF").await.unwrap();
    });
    // G is stopped from the web console: the form's position is the source's (read at the
    // last sample), which is where the source is now that its writes have stopped.
    let (file, pos) = rt.block_on(async {
        let mut c = source.admin_conn().await.unwrap();
        let row: mysql_async::Row = c.query_first("SHOW MASTER STATUS").await.unwrap().unwrap();
        (
            row.get::<String, _>("File").unwrap(),
            row.get::<u64, _>("Position").unwrap(),
        )
    });
    console::stops_replication(&serve, "repl-g", &file, pos);
    let mut g = master_conn(&rt, port_g);
    rt.block_on(async {
        assert_eq!(
            checksum(&mut g).await,
            expected,
            "cluster G equals the source after cutover"
        );
    });
    assert!(serve
        .cluster_events("repl-a")
        .iter()
        .any(|e| e.starts_with("Cutover: the cluster executed the source up to")));

    // Cut over: the status says replication is not running; a second cutover is refused.
    let again = ferry_replication(
        &serve,
        &["cutover", "repl-a", "--source", &url],
        &[("FERRY_SOURCE_PASSWORD", OPERATOR_PASSWORD)],
    );
    assert_ne!(again.status, 0);
    assert!(again.stderr.contains("is not running"), "{}", again.stderr);

    drop(a);
    drop(g);
    serve.stop();
    rt.block_on(source.stop()).unwrap();
}

/// A plain HTTP GET (the metrics endpoint needs no signature).
fn reqwest_get(url: &str) -> String {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut s = std::net::TcpStream::connect(host).unwrap();
    write!(s, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    let (head, body) = body.split_once("\r\n\r\n").unwrap();
    assert!(
        head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
        "{head}"
    );
    body.to_owned()
}

/// `ferry replication status --watch` prints the status again and again; Ctrl-C ends it
/// with success.
fn watch_prints_until_interrupted(serve: &Serve, cluster: &str) {
    use std::io::{BufRead, BufReader};
    let mut cmd = common::ferry();
    cmd.args([
        "replication",
        "status",
        cluster,
        "--watch",
        "--endpoint-url",
    ])
    .arg(serve.endpoint())
    .arg("--credentials")
    .arg(serve.credentials())
    .stdout(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("run ferry replication status --watch");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut samples = 0;
    while samples < 2 {
        let line = lines
            .next()
            .expect("--watch keeps printing")
            .expect("read --watch output");
        if line.starts_with("Sampled at:") {
            samples += 1;
        }
    }
    // SAFETY: kill(2) on the pid of a child we spawned and have not waited for.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for --watch") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ferry replication status --watch did not stop on Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "--watch after Ctrl-C: {status}");
}
