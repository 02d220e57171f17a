//! The rig of the replication fault tests (`tests/replication_faults.rs`, and the cutover
//! cases of `tests/fault_matrix.rs`): a source MariaDB, `ferry serve` with one empty cluster
//! replicating from it by file and position through a TCP fault proxy, an application writing
//! an append-only ledger on the source, and the checks that the cluster holds exactly what
//! the source acknowledged.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::serve::{Serve, PASSWORD as MASTER_PASSWORD};
use ferry_testkit::{TcpFaultProxy, TestServer, TestServerOptions};
use mysql_async::prelude::Queryable;

pub const REPL_PASSWORD: &str = "Repl-pw-2024";
pub const OPERATOR_PASSWORD: &str = "Operator-pw-2024";
pub const APP_PASSWORD: &str = "App-pw-2024";
/// Long enough for one reconnect attempt of a replica with RDS's `MASTER_CONNECT_RETRY` of
/// 60 s plus a sample or two (the rig's own replica retries every
/// [`RIG_CONNECT_RETRY_SECS`]).
pub const WAIT: Duration = Duration::from_secs(150);
/// The rig's `[replication] connect_retry_seconds`: its faults are about what ferry does
/// once the replica reconnects, which RDS's 60 s between attempts would only delay.
pub const RIG_CONNECT_RETRY_SECS: u32 = 2;

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Polls `cond` every 250 ms until it returns `Some`, or panics with `what` and `context()`.
pub fn poll<T>(
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
pub struct Ledger {
    pub attempted: BTreeSet<u64>,
    pub acked: BTreeSet<u64>,
    pub refused: Vec<(u64, u16)>,
}

/// The application: inserts id 1, 2, 3, ... into `app.ledger` (one transaction each, a few
/// ms apart), reconnecting when the source goes away, until stopped.
pub struct Writer {
    pub stop: Arc<AtomicBool>,
    pub acked: Arc<AtomicU64>,
    pub ledger: Arc<Mutex<Ledger>>,
    pub task: tokio::task::JoinHandle<()>,
}

impl Writer {
    pub fn start(rt: &tokio::runtime::Runtime, source: &TestServer, first_id: u64) -> Writer {
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
    pub fn wait_for(&self, more: u64) {
        let base = self.acked.load(Ordering::SeqCst);
        poll(
            "the application's writes",
            WAIT,
            || format!("{:?} acknowledged", self.acked),
            || (self.acked.load(Ordering::SeqCst) >= base + more).then_some(()),
        );
    }

    pub fn stop(self, rt: &tokio::runtime::Runtime) -> Ledger {
        self.stop.store(true, Ordering::SeqCst);
        rt.block_on(self.task).expect("the writer task");
        Arc::try_unwrap(self.ledger)
            .expect("the writer is done")
            .into_inner()
            .unwrap()
    }
}

/// A source, `ferry serve` with one empty cluster and its writer instance, replication from
/// the source (through a TCP fault proxy) started by the master user, file and position; the
/// replica retries a lost source every [`RIG_CONNECT_RETRY_SECS`].
pub struct Rig {
    pub rt: tokio::runtime::Runtime,
    pub source: TestServer,
    pub proxy: TcpFaultProxy,
    pub serve: Serve,
    pub port: u16,
    pub _tmp: tempfile::TempDir,
}

pub const CLUSTER: &str = "faults";

impl Rig {
    pub fn new() -> Rig {
        Rig::with_env(Vec::new())
    }

    /// The rig with `ferry serve` started with this environment (failpoints).
    pub fn with_env(env: Vec<(String, String)>) -> Rig {
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
        let root = empty_root.display().to_string();
        let config = tmp.path().join("ferry.toml");
        std::fs::write(
            &config,
            format!("[replication]\nconnect_retry_seconds = {RIG_CONNECT_RETRY_SECS}\n"),
        )
        .unwrap();
        let config = config.display().to_string();
        let serve = Serve::launch(&data_dir, &["--file-root", &root, "--config", &config], env);
        let port = ferry_testkit::free_port();
        serve.create_cluster_with_writer(CLUSTER, MASTER_PASSWORD, port);
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

    pub async fn master(&self) -> mysql_async::Conn {
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

    pub fn status_text(&self) -> String {
        let mut cmd = super::ferry();
        cmd.args(["replication", "status", CLUSTER, "--endpoint-url"])
            .arg(self.serve.endpoint())
            .arg("--credentials")
            .arg(self.serve.credentials());
        let run = super::run(&mut cmd);
        format!("{}{}", run.stdout, run.stderr)
    }

    pub fn events(&self) -> Vec<String> {
        self.serve.cluster_events(CLUSTER)
    }

    pub fn context(&self) -> String {
        format!(
            "status:\n{}\nevents: {:#?}\nproxy: {:?}",
            self.status_text(),
            self.events(),
            self.proxy.stats()
        )
    }

    /// Waits until the cluster has executed the source's current position (read once, after
    /// the writes stopped) and ferry's lag is 0; returns how long that took.
    pub fn caught_up(&self) -> Duration {
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
    pub fn verify(&self, ledger: &Ledger) {
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
    pub fn event_after(&self, from: usize, prefix: &str) -> usize {
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
    pub fn cluster_server_pid(&self) -> i32 {
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

pub fn print_figure(what: &str, took: Duration) {
    // Shown with --no-capture; the report quotes them.
    eprintln!("FIGURE {what}: {:.1} s", took.as_secs_f64());
}

impl Rig {
    /// The source acknowledged every id the application saw acknowledged (a sanity check of
    /// the checker itself).
    pub fn source_stays(&mut self, ledger: &Ledger) {
        let ids: Vec<u64> = self.rt.block_on(async {
            let mut s = self.source.admin_conn().await.unwrap();
            s.query("SELECT id FROM app.ledger").await.unwrap()
        });
        let ids: BTreeSet<u64> = ids.into_iter().collect();
        assert!(ledger.acked.is_subset(&ids));
    }
}

impl Rig {
    /// The cluster's executed position as `ferry replication status` shows it.
    pub fn executed(&self) -> String {
        self.status_text()
            .lines()
            .find_map(|l| l.strip_prefix("Executed up to:"))
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    }

    /// Waits for the first "caught up" event (writes keep flowing).
    pub fn caught_up_while_writing(&self) {
        self.event_after(0, "Replication caught up with the source");
    }
}

impl Rig {
    /// `ferry replication cutover` of the cluster, the source set read-only first.
    pub fn cutover(&self) -> super::Run {
        let url = format!("mysql://operator@127.0.0.1:{}", self.source.port());
        let mut cmd = super::ferry();
        cmd.args([
            "replication",
            "cutover",
            CLUSTER,
            "--source",
            &url,
            "--set-read-only",
            "--endpoint-url",
        ])
        .arg(self.serve.endpoint())
        .arg("--credentials")
        .arg(self.serve.credentials())
        .env("FERRY_SOURCE_PASSWORD", OPERATOR_PASSWORD);
        super::run(&mut cmd)
    }

    /// Whether `ferry replication status` shows the SQL thread stopped.
    pub fn sql_thread_stopped(&self) -> bool {
        self.status_text()
            .lines()
            .any(|l| l.starts_with("SQL thread:") && l.trim_end().ends_with("No"))
    }

    /// The cluster's ledger row count.
    pub fn cluster_rows(&self) -> u64 {
        self.rt.block_on(async {
            let mut c = self.master().await;
            c.query_first::<u64, _>("SELECT COUNT(*) FROM app.ledger")
                .await
                .unwrap()
                .unwrap()
        })
    }
}
