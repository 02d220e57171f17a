//! Faults around replication, through `ferry serve` as a user meets them: a source MariaDB
//! taking writes from an application while the source restarts, while the network link to it
//! is cut and restored (a TCP fault proxy between the cluster and the source), while the
//! cluster's own server is killed mid-catch-up, and during a cutover. Each ends caught up (the
//! cluster executed the source's own position, ferry's lag 0), with table checksums equal to
//! the source's, every acknowledged write present exactly once, and the events that say what
//! happened.
//!
//! The application writes sequential ids into an append-only ledger and records which the
//! source acknowledged; a write whose answer was lost (the source went away) may or may not
//! have committed, so the checker allows it either way, but nothing beyond what was attempted.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::serve::{Serve, PASSWORD as MASTER_PASSWORD};
use ferry_testkit::{LinkMode, TcpFaultProxy, TestServer, TestServerOptions};
use mysql_async::prelude::Queryable;
use serde_json::json;

const REPL_PASSWORD: &str = "Repl-pw-2024";
const OPERATOR_PASSWORD: &str = "Operator-pw-2024";
const APP_PASSWORD: &str = "App-pw-2024";
/// Long enough for one reconnect attempt of the replica (`MASTER_CONNECT_RETRY` is 60 s, as
/// on RDS) plus a sample or two.
const WAIT: Duration = Duration::from_secs(150);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Polls `cond` every 250 ms until it returns `Some`, or panics with `what` and `context()`.
fn poll<T>(
    what: &str,
    within: Duration,
    context: impl Fn() -> String,
    cond: impl Fn() -> Option<T>,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = cond() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not within {within:?}\n{}",
            context()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// What the application did: ids attempted, ids the source acknowledged, ids refused with an
/// error the server sent (so certainly not committed).
#[derive(Default, Debug)]
struct Ledger {
    attempted: BTreeSet<u64>,
    acked: BTreeSet<u64>,
    refused: Vec<(u64, u16)>,
}

/// The application: inserts id 1, 2, 3, ... into `app.ledger` (one transaction each, a few
/// ms apart), reconnecting when the source goes away, until stopped.
struct Writer {
    stop: Arc<AtomicBool>,
    acked: Arc<AtomicU64>,
    ledger: Arc<Mutex<Ledger>>,
    task: tokio::task::JoinHandle<()>,
}

impl Writer {
    fn start(rt: &tokio::runtime::Runtime, source: &TestServer, first_id: u64) -> Writer {
        let opts: mysql_async::Opts = source.tcp_opts("app", APP_PASSWORD).into();
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(AtomicU64::new(0));
        let ledger = Arc::new(Mutex::new(Ledger::default()));
        let task = {
            let (stop, acked, ledger) = (stop.clone(), acked.clone(), ledger.clone());
            rt.spawn(async move {
                let mut conn: Option<mysql_async::Conn> = None;
                let mut id = first_id;
                while !stop.load(Ordering::SeqCst) {
                    let c = match conn.as_mut() {
                        Some(c) => c,
                        None => match mysql_async::Conn::new(opts.clone()).await {
                            Ok(c) => conn.insert(c),
                            Err(_) => {
                                tokio::time::sleep(Duration::from_millis(100)).await;
                                continue;
                            }
                        },
                    };
                    ledger.lock().unwrap().attempted.insert(id);
                    // One transaction: the ledger row and a counter, acknowledged by COMMIT.
                    let result = async {
                        c.query_drop("BEGIN").await?;
                        c.query_drop(format!(
                            "INSERT INTO app.ledger (id, payload) VALUES ({id}, MD5({id}))"
                        ))
                        .await?;
                        c.query_drop(format!(
                            "UPDATE app.counters SET n = n + 1 WHERE k = {}",
                            id % 10 + 1
                        ))
                        .await?;
                        c.query_drop("COMMIT").await
                    }
                    .await;
                    match result {
                        Ok(()) => {
                            ledger.lock().unwrap().acked.insert(id);
                            acked.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(mysql_async::Error::Server(e)) => {
                            ledger.lock().unwrap().refused.push((id, e.code));
                            if c.query_drop("ROLLBACK").await.is_err() {
                                conn = None;
                            }
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                        // The answer was lost: committed or not, the checker allows both.
                        Err(_) => conn = None,
                    }
                    id += 1;
                    tokio::time::sleep(Duration::from_millis(3)).await;
                }
            })
        };
        Writer {
            stop,
            acked,
            ledger,
            task,
        }
    }

    /// Waits until at least `more` further writes were acknowledged.
    fn wait_for(&self, more: u64) {
        let base = self.acked.load(Ordering::SeqCst);
        poll(
            "the application's writes",
            WAIT,
            || format!("{:?} acknowledged", self.acked),
            || (self.acked.load(Ordering::SeqCst) >= base + more).then_some(()),
        );
    }

    fn stop(self, rt: &tokio::runtime::Runtime) -> Ledger {
        self.stop.store(true, Ordering::SeqCst);
        rt.block_on(self.task).expect("the writer task");
        Arc::try_unwrap(self.ledger)
            .expect("the writer is done")
            .into_inner()
            .unwrap()
    }
}

/// A source, `ferry serve` with one empty cluster and its writer instance, replication from
/// the source (through a TCP fault proxy) started by the master user, file and position.
struct Rig {
    rt: tokio::runtime::Runtime,
    source: TestServer,
    proxy: TcpFaultProxy,
    serve: Serve,
    port: u16,
    _tmp: tempfile::TempDir,
}

const CLUSTER: &str = "faults";

impl Rig {
    fn new() -> Rig {
        let rt = runtime();
        let source = rt
            .block_on(TestServer::start(TestServerOptions::with_binlog(1)))
            .unwrap();
        // Accounts first and out of the binary log (the cluster has its own); the schema is
        // replicated from the position read after them.
        let (file, pos) = rt.block_on(async {
            let mut c = source.admin_conn().await.unwrap();
            for sql in [
                "SET sql_log_bin = 0".to_owned(),
                format!("CREATE USER repl@'%' IDENTIFIED BY '{REPL_PASSWORD}'"),
                "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO repl@'%'".to_owned(),
                format!("CREATE USER operator@'%' IDENTIFIED BY '{OPERATOR_PASSWORD}'"),
                "GRANT ALL ON *.* TO operator@'%'".to_owned(),
                format!("CREATE USER app@'%' IDENTIFIED BY '{APP_PASSWORD}'"),
                "GRANT ALL ON app.* TO app@'%'".to_owned(),
                "SET sql_log_bin = 1".to_owned(),
            ] {
                c.query_drop(&sql)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
            let row: mysql_async::Row = c.query_first("SHOW MASTER STATUS").await.unwrap().unwrap();
            let at = (
                row.get::<String, _>("File").unwrap(),
                row.get::<u64, _>("Position").unwrap(),
            );
            for sql in [
                "CREATE DATABASE app",
                "CREATE TABLE app.ledger (id BIGINT PRIMARY KEY, payload CHAR(32) NOT NULL, \
                 at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB",
                "CREATE TABLE app.counters (k INT PRIMARY KEY, n BIGINT NOT NULL) ENGINE=InnoDB",
                "INSERT INTO app.counters SELECT seq, 0 FROM app.seq_1_to_10",
            ] {
                c.query_drop(sql)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
            at
        });
        let proxy = TcpFaultProxy::start(([127, 0, 0, 1], source.port()).into()).unwrap();

        let tmp = ferry_testkit::short_tempdir();
        let data_dir = {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
            tmp.path().join("d")
        };
        let empty_root = tmp.path().join("buckets");
        std::fs::create_dir(&empty_root).unwrap();
        let serve = Serve::start(&data_dir, &empty_root, &[]);
        let port = ferry_testkit::free_port();
        serve
            .aws(&[
                "rds",
                "create-db-cluster",
                "--db-cluster-identifier",
                CLUSTER,
                "--engine",
                "aurora-mysql",
                "--master-username",
                "admin",
                "--master-user-password",
                MASTER_PASSWORD,
                "--port",
                &port.to_string(),
            ])
            .json();
        serve.wait(
            "db_cluster_available",
            json!({ "DBClusterIdentifier": CLUSTER }),
        );
        serve
            .aws(&[
                "rds",
                "create-db-instance",
                "--db-instance-identifier",
                &format!("{CLUSTER}-1"),
                "--db-cluster-identifier",
                CLUSTER,
                "--engine",
                "aurora-mysql",
                "--db-instance-class",
                "db.t3.medium",
            ])
            .json();
        serve.wait(
            "db_instance_available",
            json!({ "DBInstanceIdentifier": format!("{CLUSTER}-1") }),
        );
        let rig = Rig {
            rt,
            source,
            proxy,
            serve,
            port,
            _tmp: tmp,
        };
        let proxy_port = rig.proxy.port();
        rig.rt.block_on(async {
            let mut m = rig.master().await;
            for call in [
                format!(
                    "rds_set_external_master('127.0.0.1', {proxy_port}, 'repl', '{REPL_PASSWORD}', '{file}', {pos}, 0)"
                ),
                "rds_start_replication".to_owned(),
            ] {
                m.query_drop(format!("CALL mysql.{call}"))
                    .await
                    .unwrap_or_else(|e| panic!("{call}: {e}"));
            }
        });
        rig
    }

    async fn master(&self) -> mysql_async::Conn {
        let opts = mysql_async::OptsBuilder::default()
            .ip_or_hostname("127.0.0.1")
            .tcp_port(self.port)
            .prefer_socket(false)
            .user(Some("admin"))
            .pass(Some(MASTER_PASSWORD));
        mysql_async::Conn::new(opts)
            .await
            .expect("connect to the cluster as the master user")
    }

    fn status_text(&self) -> String {
        let mut cmd = common::ferry();
        cmd.args(["replication", "status", CLUSTER, "--endpoint-url"])
            .arg(self.serve.endpoint())
            .arg("--credentials")
            .arg(self.serve.credentials());
        let run = common::run(&mut cmd);
        format!("{}{}", run.stdout, run.stderr)
    }

    fn events(&self) -> Vec<String> {
        self.serve.cluster_events(CLUSTER)
    }

    fn context(&self) -> String {
        format!(
            "status:\n{}\nevents: {:#?}\nproxy: {:?}",
            self.status_text(),
            self.events(),
            self.proxy.stats()
        )
    }

    /// Waits until the cluster has executed the source's current position (read once, after
    /// the writes stopped) and ferry's lag is 0; returns how long that took.
    fn caught_up(&self) -> Duration {
        let began = Instant::now();
        let (file, pos) = self.rt.block_on(async {
            let mut c = self.source.admin_conn().await.unwrap();
            let row: mysql_async::Row = c.query_first("SHOW MASTER STATUS").await.unwrap().unwrap();
            (
                row.get::<String, _>("File").unwrap(),
                row.get::<u64, _>("Position").unwrap(),
            )
        });
        let want = format!("{file}:{pos}");
        poll(
            &format!("caught up at {want}"),
            WAIT,
            || self.context(),
            || {
                let text = self.status_text();
                let executed = text
                    .lines()
                    .find_map(|l| l.strip_prefix("Executed up to:"))
                    .map(str::trim);
                let lag0 = text
                    .lines()
                    .find_map(|l| l.strip_prefix("Lag:"))
                    .is_some_and(|l| l.trim().starts_with("0.000 s"));
                (executed == Some(want.as_str()) && lag0).then_some(())
            },
        );
        began.elapsed()
    }

    /// The cluster holds what the source holds: equal checksums, and the ledger holds every
    /// acknowledged id once and nothing that was never attempted.
    fn verify(&self, ledger: &Ledger) {
        let sql = "CHECKSUM TABLE app.ledger, app.counters EXTENDED";
        let (source_sums, source_ids, cluster_sums, cluster_ids) = self.rt.block_on(async {
            let mut s = self.source.admin_conn().await.unwrap();
            let mut c = self.master().await;
            let ids = "SELECT id FROM app.ledger ORDER BY id";
            let ss: Vec<(String, Option<i64>)> = s.query(sql).await.unwrap();
            let si: Vec<u64> = s.query(ids).await.unwrap();
            let cs: Vec<(String, Option<i64>)> = c.query(sql).await.unwrap();
            let ci: Vec<u64> = c.query(ids).await.unwrap();
            (ss, si, cs, ci)
        });
        assert_eq!(cluster_sums, source_sums, "checksums equal the source's");
        assert_eq!(
            cluster_ids, source_ids,
            "the cluster's ledger is the source's"
        );
        let unique: BTreeSet<u64> = cluster_ids.iter().copied().collect();
        assert_eq!(unique.len(), cluster_ids.len(), "no id twice");
        let lost: Vec<&u64> = ledger.acked.difference(&unique).collect();
        assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
        let invented: Vec<&u64> = unique.difference(&ledger.attempted).collect();
        assert!(invented.is_empty(), "ids never attempted: {invented:?}");
        let refused_but_present: Vec<u64> = ledger
            .refused
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| unique.contains(id))
            .collect();
        assert!(
            refused_but_present.is_empty(),
            "writes the source refused are present: {refused_but_present:?}"
        );
    }

    /// Waits for an event starting with `prefix` at index `from` or later; returns its index.
    fn event_after(&self, from: usize, prefix: &str) -> usize {
        poll(
            &format!("an event {prefix:?}"),
            WAIT,
            || self.context(),
            || {
                self.events()
                    .iter()
                    .enumerate()
                    .skip(from)
                    .find(|(_, e)| e.starts_with(prefix))
                    .map(|(i, _)| i)
            },
        )
    }

    /// The cluster's writer instance's mariadbd pid, from its pid file.
    fn cluster_server_pid(&self) -> i32 {
        let file: PathBuf = self
            .serve
            .data_dir
            .join("clusters")
            .join(CLUSTER)
            .join("instances")
            .join(format!("{CLUSTER}-1"))
            .join("mariadbd.pid");
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
        text.trim().parse().unwrap()
    }
}

fn print_figure(what: &str, took: Duration) {
    // Shown with --no-capture; the report quotes them.
    eprintln!("FIGURE {what}: {:.1} s", took.as_secs_f64());
}

#[test]
fn the_source_restarts_mid_stream() {
    let mut rig = Rig::new();
    let writer = Writer::start(&rig.rt, &rig.source, 1);
    writer.wait_for(200);
    let began = Instant::now();
    rig.rt.block_on(rig.source.restart()).unwrap();
    writer.wait_for(200);
    let ledger = writer.stop(&rig.rt);
    let took = rig.caught_up();
    print_figure("source restart -> caught up", began.elapsed());
    eprintln!(
        "caught up {:.1} s after the writes stopped",
        took.as_secs_f64()
    );
    rig.verify(&ledger);
    assert!(
        rig.proxy.stats().forwarded >= 2,
        "the replica reconnected: {:?}",
        rig.proxy.stats()
    );
    rig.source_stays(&ledger);
}

impl Rig {
    /// The source acknowledged every id the application saw acknowledged (a sanity check of
    /// the checker itself).
    fn source_stays(&mut self, ledger: &Ledger) {
        let ids: Vec<u64> = self.rt.block_on(async {
            let mut s = self.source.admin_conn().await.unwrap();
            s.query("SELECT id FROM app.ledger").await.unwrap()
        });
        let ids: BTreeSet<u64> = ids.into_iter().collect();
        assert!(ledger.acked.is_subset(&ids));
    }
}

#[test]
fn the_link_is_cut_and_restored() {
    let rig = Rig::new();
    let writer = Writer::start(&rig.rt, &rig.source, 1);
    writer.wait_for(100);
    // Resets of the established connections, the path staying up: the replica reconnects at
    // once.
    for round in 0..3 {
        let before = rig.proxy.stats().forwarded;
        let began = Instant::now();
        let cut = rig.proxy.cut();
        assert!(cut >= 1, "round {round}: the binlog dump was cut");
        writer.wait_for(50);
        poll(
            "the replica reconnects",
            WAIT,
            || rig.context(),
            || (rig.proxy.stats().forwarded > before).then_some(()),
        );
        print_figure(&format!("cut {round} -> reconnected"), began.elapsed());
    }
    // The path down for a while: connections reset, new ones refused. ferry reports the
    // broken link, and the recovery once the replica's next retry gets through.
    let from = rig.events().len();
    let began = Instant::now();
    rig.proxy.take_down();
    assert_eq!(rig.proxy.mode(), LinkMode::Refuse);
    let broke = rig.event_after(from, "Replication stopped with an error: IO thread error");
    writer.wait_for(100);
    rig.proxy.restore();
    let restored = Instant::now();
    rig.event_after(broke, "Replication is running");
    print_figure(
        "link down -> ferry reports it",
        began.elapsed() - restored.elapsed(),
    );
    print_figure("link restored -> running again", restored.elapsed());
    assert!(rig.proxy.stats().refused >= 1, "{:?}", rig.proxy.stats());
    let ledger = writer.stop(&rig.rt);
    print_figure("writes stopped -> caught up", rig.caught_up());
    rig.verify(&ledger);
}

/// With GTID auto position the replica's position (`mysql.gtid_slave_pos`) commits with each
/// transaction: a killed server resumes exactly after the last one it committed.
#[test]
fn the_clusters_server_is_killed_mid_catch_up() {
    killed_mid_catch_up(true);
}

/// With a binary log file and position, MariaDB keeps the executed position in
/// `relay-log.info`, written after each commit: a kill between the two would replay the
/// transaction (error 1062 here). ferry's agent resumes after the transaction
/// `gtid_slave_pos` says was committed last instead, found in the source's binary log.
#[test]
fn the_clusters_server_is_killed_mid_catch_up_file_and_position() {
    killed_mid_catch_up(false);
}

fn killed_mid_catch_up(gtid: bool) {
    let rig = Rig::new();
    let writer = Writer::start(&rig.rt, &rig.source, 1);
    writer.wait_for(100);
    rig.caught_up_while_writing();
    if gtid {
        // The master user moves to GTID auto position, as RDS documents: stop, point again
        // (from the GTIDs the replica recorded while it replicated by position), start.
        let proxy_port = rig.proxy.port();
        rig.rt.block_on(async {
            let mut m = rig.master().await;
            for call in [
                "rds_stop_replication".to_owned(),
                format!(
                    "rds_set_external_master_with_auto_position('127.0.0.1', {proxy_port}, 'repl', '{REPL_PASSWORD}', 0)"
                ),
                "rds_start_replication".to_owned(),
            ] {
                m.query_drop(format!("CALL mysql.{call}"))
                    .await
                    .unwrap_or_else(|e| panic!("{call}: {e}"));
            }
        });
    }
    // A backlog: the link is down while the application writes, then comes back and the
    // cluster's server is killed while it works through it.
    rig.proxy.take_down();
    writer.wait_for(1500);
    let executed_before = rig.executed();
    rig.proxy.restore();
    rig.rt.block_on(async {
        // The replica's next retry is up to MASTER_CONNECT_RETRY away: restart it at once.
        let mut m = rig.master().await;
        m.query_drop("CALL mysql.rds_stop_replication")
            .await
            .unwrap();
        m.query_drop("CALL mysql.rds_start_replication")
            .await
            .unwrap();
    });
    poll(
        "the cluster is applying the backlog",
        WAIT,
        || rig.context(),
        || (rig.executed() != executed_before).then_some(()),
    );
    let from = rig.events().len();
    let pid = rig.cluster_server_pid();
    let began = Instant::now();
    // SAFETY: kill(2) on the pid the cluster's server wrote in its pid file.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    let resumed = rig.event_after(from, "Replication resumed after the DB instance started.");
    print_figure("server killed -> replication resumed", began.elapsed());
    let resumed = &rig.events()[resumed];
    // Shown with --no-capture: whether the kill fell between a commit and relay-log.info.
    eprintln!("EVENT {resumed}");
    assert!(
        !resumed.contains("could not check"),
        "ferry checked the replica's position against the source: {resumed}"
    );
    assert_ne!(rig.cluster_server_pid(), pid, "a new server");
    writer.wait_for(100);
    let ledger = writer.stop(&rig.rt);
    print_figure("writes stopped -> caught up", rig.caught_up());
    rig.verify(&ledger);
    let events = rig.events();
    assert!(
        !events[from..]
            .iter()
            .any(|e| e.contains("error 1062") || e.contains("error 1032")),
        "no duplicate or missing row on replay: {events:#?}"
    );
}

impl Rig {
    /// The cluster's executed position as `ferry replication status` shows it.
    fn executed(&self) -> String {
        self.status_text()
            .lines()
            .find_map(|l| l.strip_prefix("Executed up to:"))
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    }

    /// Waits for the first "caught up" event (writes keep flowing).
    fn caught_up_while_writing(&self) {
        self.event_after(0, "Replication caught up with the source");
    }
}

#[test]
fn cutover_under_continuous_writes_loses_and_duplicates_nothing() {
    let rig = Rig::new();
    let writer = Writer::start(&rig.rt, &rig.source, 1);
    writer.wait_for(300);
    rig.caught_up_while_writing();
    writer.wait_for(100);
    // The operator cuts over while the application keeps writing: the source is made
    // read-only first, so every write after that is refused at the source, and everything
    // acknowledged before it is in the cluster when replication stops.
    let url = format!("mysql://operator@127.0.0.1:{}", rig.source.port());
    let mut cmd = common::ferry();
    cmd.args([
        "replication",
        "cutover",
        CLUSTER,
        "--source",
        &url,
        "--set-read-only",
        "--endpoint-url",
    ])
    .arg(rig.serve.endpoint())
    .arg("--credentials")
    .arg(rig.serve.credentials())
    .env("FERRY_SOURCE_PASSWORD", OPERATOR_PASSWORD);
    let began = Instant::now();
    let cut = common::run(&mut cmd);
    print_figure("cutover under writes", began.elapsed());
    cut.assert_ok();
    assert!(
        cut.stdout.contains("replication is stopped"),
        "{}",
        cut.stdout
    );
    // The application keeps trying for a moment: every attempt is refused (1290, read-only).
    let refused_before = writer.ledger.lock().unwrap().refused.len();
    poll(
        "the source refuses the application's writes",
        WAIT,
        || format!("{:?}", writer.ledger.lock().unwrap().refused),
        || (writer.ledger.lock().unwrap().refused.len() >= refused_before + 5).then_some(()),
    );
    let ledger = writer.stop(&rig.rt);
    assert!(
        ledger.refused.iter().all(|(_, code)| *code == 1290),
        "refused only by read_only: {:?}",
        ledger.refused
    );
    let last_acked = *ledger.acked.last().unwrap();
    assert!(
        ledger.refused.iter().all(|(id, _)| *id > last_acked),
        "once read-only, nothing more is acknowledged"
    );
    // Replication is stopped (as the next sample shows), and the cluster has everything.
    poll(
        "the status shows replication stopped",
        WAIT,
        || rig.context(),
        || {
            rig.status_text()
                .lines()
                .any(|l| l.starts_with("SQL thread:") && l.trim_end().ends_with("No"))
                .then_some(())
        },
    );
    rig.verify(&ledger);
    assert_eq!(
        ledger.acked.len() as u64,
        rig.rt.block_on(async {
            let mut c = rig.master().await;
            c.query_first::<u64, _>("SELECT COUNT(*) FROM app.ledger")
                .await
                .unwrap()
                .unwrap()
        }),
        "the cluster holds exactly the acknowledged writes"
    );
    assert!(rig
        .events()
        .iter()
        .any(|e| e.starts_with("Cutover: the cluster executed the source up to")));
}
