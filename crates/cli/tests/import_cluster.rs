//! `ferry import --cluster`: the seed's mysqldump road into a ferry cluster, end to end, and
//! the control plane's side of it (definers, durability, leases) through its API.
//!
//! A source whose views, triggers, routines and events have the definer `root@localhost` is
//! dumped with the real `mariadb-dump --routines --triggers --events`. Loaded by the cluster's
//! master user with `mariadb < dump.sql` it stops with ERROR 1227 (the problem is real);
//! loaded with `ferry import --cluster` it succeeds and lists the definer rewrites
//! (`root@localhost` does not exist on an empty cluster). The import is visible through
//! FerryDescribeImports and DescribeEvents, and the cluster's durability is back to its own
//! settings after the import, and after a `ferry import` killed with SIGKILL once its lease
//! has expired.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::replication::{poll, runtime};
use common::serve::{Serve, PASSWORD as MASTER_PASSWORD};
use ferry_api::client::{Client, ClientError};
use ferry_api::rds::imports::{ImportView, IMPORT_ELEMENT};
use ferry_testkit::http::{read_key, request, sign_in};
use ferry_testkit::{TestServer, TestServerOptions};
use mysql_async::prelude::Queryable;
use serde_json::json;

const CLUSTER: &str = "imports";
/// The lease the tests' `ferry serve` gives an import.
const LEASE_SECONDS: u64 = 3;

/// `ferry serve` with a short import lease and a quick guardian, and an available cluster.
struct Rig {
    rt: tokio::runtime::Runtime,
    serve: Serve,
    port: u16,
    client: Client,
    tmp: tempfile::TempDir,
}

impl Rig {
    fn new() -> Rig {
        let rt = runtime();
        let tmp = ferry_testkit::short_tempdir();
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
        }
        let data_dir = tmp.path().join("d");
        let buckets = tmp.path().join("buckets");
        std::fs::create_dir(&buckets).unwrap();
        let config = tmp.path().join("ferry.toml");
        std::fs::write(
            &config,
            format!("[import]\nlease_seconds = {LEASE_SECONDS}\n\n[guardian]\ninterval_ms = 100\n"),
        )
        .unwrap();
        let serve = Serve::launch(
            &data_dir,
            &[
                "--config",
                config.to_str().unwrap(),
                "--file-root",
                buckets.to_str().unwrap(),
            ],
            Vec::new(),
        );
        let port = ferry_testkit::free_port();
        serve.create_cluster_with_writer(CLUSTER, MASTER_PASSWORD, port);
        let client =
            Client::from_credentials_file(&serve.endpoint(), &serve.credentials()).unwrap();
        Rig {
            rt,
            serve,
            port,
            client,
            tmp,
        }
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
            .expect("connect as the master user")
    }

    fn query<T: mysql_async::prelude::FromRow + Send + 'static>(&self, sql: &str) -> Vec<T> {
        self.rt.block_on(async {
            let mut c = self.master().await;
            let rows = c.query(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
            c.disconnect().await.ok();
            rows
        })
    }

    /// `innodb_flush_log_at_trx_commit` and `sync_binlog` as the server has them now.
    fn durability(&self) -> (u64, u64) {
        self.query::<(u64, u64)>(
            "SELECT @@GLOBAL.innodb_flush_log_at_trx_commit, @@GLOBAL.sync_binlog",
        )[0]
    }

    fn call(
        &self,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<ferry_api::client::Response, ClientError> {
        self.rt.block_on(self.client.call(action, params))
    }

    fn imports(&self) -> Vec<ImportView> {
        let r = self
            .call("FerryDescribeImports", &[("DBClusterIdentifier", CLUSTER)])
            .unwrap();
        r.all_of(IMPORT_ELEMENT)
            .into_iter()
            .map(|m| {
                let members: Vec<(String, String)> = m.into_iter().collect();
                ferry_api::xml::from_members(&members).unwrap()
            })
            .collect()
    }

    fn password_file(&self) -> std::path::PathBuf {
        let path = self.tmp.path().join("master.pw");
        std::fs::write(&path, format!("{MASTER_PASSWORD}\n")).unwrap();
        path
    }

    /// `ferry import ARGS --cluster CLUSTER` against this rig's API.
    fn ferry_import(&self, args: &[&str]) -> Command {
        let mut cmd = common::ferry();
        cmd.arg("import")
            .args(args)
            .args(["--cluster", CLUSTER, "--endpoint-url"])
            .arg(self.serve.endpoint())
            .arg("--credentials")
            .arg(self.serve.credentials())
            .arg("--password-file")
            .arg(self.password_file());
        cmd
    }

    fn context(&self) -> String {
        format!(
            "imports: {:#?}\nevents: {:#?}\nserve log tail:\n{}",
            self.imports(),
            self.serve.cluster_events(CLUSTER),
            tail(&self.serve.log_text(), 40)
        )
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A source with a table, and a view, trigger, procedure, function and event whose definer
/// is `root@localhost`, dumped by the real `mariadb-dump`.
fn dump_source(rt: &tokio::runtime::Runtime, dir: &Path) -> std::path::PathBuf {
    let source = rt
        .block_on(TestServer::start(TestServerOptions::default()))
        .unwrap();
    rt.block_on(async {
        let mut c = source.admin_conn().await.unwrap();
        for sql in [
            "CREATE DATABASE app",
            "CREATE TABLE app.orders (id INT PRIMARY KEY, amount INT NOT NULL, note VARCHAR(40))",
            "CREATE TABLE app.audit (id INT AUTO_INCREMENT PRIMARY KEY, order_id INT)",
            "INSERT INTO app.orders SELECT seq, seq * 10, CONCAT('o''k;', seq) FROM app.seq_1_to_500",
            "CREATE DEFINER=`root`@`localhost` VIEW app.big_orders AS SELECT id, amount FROM app.orders WHERE amount > 100",
            "CREATE DEFINER=`root`@`localhost` TRIGGER app.orders_ai AFTER INSERT ON app.orders FOR EACH ROW BEGIN INSERT INTO app.audit (order_id) VALUES (NEW.id); END",
            "CREATE DEFINER=`root`@`localhost` PROCEDURE app.add_order(IN i INT) BEGIN INSERT INTO app.orders VALUES (i, 1, 'p;'); SELECT COUNT(*) FROM app.orders; END",
            "CREATE DEFINER=`root`@`localhost` FUNCTION app.twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2",
            "CREATE DEFINER=`root`@`localhost` EVENT app.nightly ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' DISABLE DO DELETE FROM app.audit",
        ] {
            c.query_drop(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    });
    let cnf = dir.join("source.cnf");
    std::fs::write(
        &cnf,
        format!(
            "[client]\nuser={}\npassword={}\nsocket={}\n",
            source.admin().user,
            source.admin().password.expose(),
            source.socket()
        ),
    )
    .unwrap();
    let dump = dir.join("dump.sql");
    let out = Command::new("mariadb-dump")
        .arg(format!("--defaults-extra-file={}", cnf.display()))
        .args(["--routines", "--triggers", "--events", "--databases", "app"])
        .output()
        .expect("run mariadb-dump");
    assert!(
        out.status.success(),
        "mariadb-dump: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&dump, &out.stdout).unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("DEFINER=`root`@`localhost`"),
        "the dump carries the source's definers"
    );
    dump
}

#[test]
fn the_seeds_mysqldump_road_into_a_cluster() {
    let rig = Rig::new();
    let dump = dump_source(&rig.rt, rig.tmp.path());

    // The problem is real: the master user cannot name root@localhost as a definer.
    let cnf = rig.tmp.path().join("master.cnf");
    std::fs::write(
        &cnf,
        format!(
            "[client]\nuser=admin\npassword={MASTER_PASSWORD}\nhost=127.0.0.1\nport={}\n",
            rig.port
        ),
    )
    .unwrap();
    let plain = Command::new("mariadb")
        .arg(format!("--defaults-extra-file={}", cnf.display()))
        .stdin(std::fs::File::open(&dump).unwrap())
        .output()
        .expect("run mariadb");
    let stderr = String::from_utf8_lossy(&plain.stderr);
    assert!(
        !plain.status.success(),
        "mariadb < dump.sql succeeded as the master user"
    );
    assert!(stderr.contains("ERROR 1227"), "{stderr}");
    rig.query::<u8>("DROP DATABASE app");

    // ferry import --cluster: succeeds and lists the rewrites.
    let run = common::run(&mut rig.ferry_import(&[dump.to_str().unwrap(), "--fresh"]));
    let said = format!("{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.status,
        0,
        "ferry import failed:\n{said}\n{}",
        rig.context()
    );
    assert!(
        said.contains("root") && said.contains("localhost"),
        "the summary names the rewritten definer:\n{said}"
    );
    // The reason is the missing account, not a refused request (the dump's header sets
    // session variables the control plane does not take: they must not travel).
    assert!(
        said.contains("does not exist on DB cluster") && !said.contains("is not one of"),
        "the rewrites say the account does not exist:\n{said}"
    );

    // Every object is there, as the master user.
    let definers = rig.query::<(String, String)>(
        "SELECT 'view', DEFINER FROM information_schema.VIEWS WHERE TABLE_SCHEMA = 'app' \
         UNION ALL SELECT 'trigger', DEFINER FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = 'app' \
         UNION ALL SELECT LOWER(ROUTINE_TYPE), DEFINER FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'app' \
         UNION ALL SELECT 'event', DEFINER FROM information_schema.EVENTS WHERE EVENT_SCHEMA = 'app'",
    );
    assert_eq!(definers.len(), 5, "{definers:?}");
    for (kind, definer) in &definers {
        assert_eq!(definer, "admin@%", "the {kind}'s definer");
    }
    assert_eq!(rig.query::<u64>("SELECT COUNT(*) FROM app.orders"), [500]);
    assert_eq!(
        rig.query::<u64>("SELECT COUNT(*) FROM app.big_orders"),
        [490]
    );
    assert_eq!(rig.query::<i64>("SELECT app.twice(21)"), [42]);

    // FerryDescribeImports: completed, with the counters.
    let imports = rig.imports();
    assert_eq!(imports.len(), 1, "{imports:#?}");
    let i = &imports[0];
    assert_eq!(
        (i.status.as_str(), i.phase.as_str()),
        ("completed", "done"),
        "{i:#?}"
    );
    assert_eq!(i.rows, 500, "{i:#?}");
    assert_eq!(i.definers_rewritten, 5, "{i:#?}");
    assert!(i.tables_done >= 2 && i.end_time.is_some(), "{i:#?}");
    // An event for the start, each phase and the end.
    let events = rig.serve.cluster_events(CLUSTER);
    let source = dump.display().to_string();
    for expected in [
        format!("Import of {source} into DB cluster {CLUSTER} started"),
        format!("Import of {source} into DB cluster {CLUSTER}: loading table data."),
        format!("Import of {source} into DB cluster {CLUSTER}: creating views, triggers, routines and events."),
        format!("Import of {source} into DB cluster {CLUSTER} completed: "),
    ] {
        assert!(events.iter().any(|e| e.starts_with(&expected)), "no event {expected:?} in {events:#?}");
    }
    assert_eq!(
        rig.durability(),
        (1, 0),
        "durability is back after the import"
    );

    // A ferry import killed mid-way (blocked on its input, after it told the control plane
    // it started): the lease expires, the import is interrupted and durability comes back.
    let mut child = rig
        .ferry_import(&[
            "-",
            "--fresh",
            "--state-file",
            rig.tmp.path().join("stdin.json").to_str().unwrap(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start ferry import");
    let mut stdin = child.stdin.take().unwrap();
    // More than the loader reads to identify a dump (64 KiB) before it starts.
    let mut head = String::from("CREATE DATABASE killed;\nUSE killed;\nCREATE TABLE t (a INT);\n");
    for i in 0..2000 {
        head.push_str(&format!(
            "INSERT INTO t VALUES ({i}),({i}),({i}),({i}),({i}),({i});\n"
        ));
    }
    assert!(head.len() > 64 << 10);
    stdin.write_all(head.as_bytes()).unwrap();
    stdin.flush().unwrap();
    poll(
        "the second import runs with durability relaxed",
        Duration::from_secs(60),
        || rig.context(),
        || {
            let running = rig.imports().iter().any(|i| i.status == "running");
            (running && rig.durability() == (2, 0)).then_some(())
        },
    );
    child.kill().unwrap();
    child.wait().unwrap();
    drop(stdin);
    let lease = Duration::from_secs(LEASE_SECONDS);
    let interrupted = poll(
        "the killed import is interrupted",
        lease * 10,
        || rig.context(),
        || {
            rig.imports()
                .into_iter()
                .find(|i| i.status == "interrupted")
        },
    );
    assert!(
        interrupted
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("no progress report"),
        "{interrupted:#?}"
    );
    assert_eq!(
        rig.durability(),
        (1, 0),
        "durability is back after the lease expired"
    );
    let events = rig.serve.cluster_events(CLUSTER);
    assert!(
        events.iter().any(|e| e.contains("was interrupted: no progress report for 3 s. The cluster's durability settings (innodb_flush_log_at_trx_commit, sync_binlog) were put back.")),
        "{events:#?}"
    );
}

/// The control plane's side alone: an object whose definer exists keeps it (created
/// through ferry's account), ferry's own account and missing accounts are rewrites, tenant
/// text cannot run a second statement as ferry, the guardian leaves the objects alone, and
/// the lease puts durability back.
#[test]
fn definers_are_kept_only_for_existing_accounts_and_never_ferrys() {
    let mut rig = Rig::new();
    rig.query::<u8>("CREATE DATABASE app");
    rig.query::<u8>("CREATE TABLE app.t (a INT)");
    rig.query::<u8>("CREATE USER 'owner'@'localhost' ACCOUNT LOCK");
    rig.query::<u8>("GRANT SELECT, INSERT ON app.* TO 'owner'@'localhost'");

    // Unknown ids are 404; a second start while one runs is refused.
    let e = rig
        .call(
            "FerryReportImport",
            &[("ImportId", "import-0000000000000000"), ("Phase", "data")],
        )
        .unwrap_err();
    assert!(
        matches!(&e, ClientError::Api { status: 404, code, .. } if code == "ImportNotFound"),
        "{e}"
    );
    let started = rig
        .call(
            "FerryStartImport",
            &[
                ("DBClusterIdentifier", CLUSTER),
                ("Source", "api.sql"),
                ("Parallel", "2"),
            ],
        )
        .unwrap();
    let import: ImportView = started.members(IMPORT_ELEMENT).unwrap().unwrap();
    assert_eq!(rig.durability(), (2, 0));
    let e = rig
        .call(
            "FerryStartImport",
            &[("DBClusterIdentifier", CLUSTER), ("Source", "again.sql")],
        )
        .unwrap_err();
    assert!(
        matches!(&e, ClientError::Api { status: 400, code, .. } if code == "InvalidImportStateFault"),
        "{e}"
    );
    let e = rig
        .call(
            "FerryStartImport",
            &[
                ("DBClusterIdentifier", CLUSTER),
                ("Source", "x"),
                ("Parallel", "0"),
            ],
        )
        .unwrap_err();
    assert!(e.to_string().contains("Parallel"), "{e}");

    let id = import.import_id.as_str();
    let create = |kind: &str, name: &str, definer: &str, sql: &str| {
        rig.call(
            "FerryCreateImportObject",
            &[
                ("ImportId", id),
                ("Database", "app"),
                ("ObjectType", kind),
                ("ObjectName", name),
                ("Definer", definer),
                ("Statement", sql),
                ("Session.member.1.Name", "sql_mode"),
                ("Session.member.1.Value", "'STRICT_TRANS_TABLES'"),
                ("Session.member.2.Name", "time_zone"),
                ("Session.member.2.Value", "'+00:00'"),
            ],
        )
    };
    let outcome = |r: ferry_api::client::Response| {
        (
            r.text("Outcome").unwrap_or_default(),
            r.text("Reason").unwrap_or_default(),
        )
    };

    // Kept: the account exists (locked) and is not ferry's.
    for (kind, name, sql) in [
        ("view", "v", "/*!50001 CREATE ALGORITHM=UNDEFINED */ /*!50013 DEFINER=`owner`@`localhost` SQL SECURITY DEFINER */ /*!50001 VIEW `v` AS select `a` from `t` */"),
        ("trigger", "t_bi", "/*!50003 CREATE*/ /*!50017 DEFINER=`owner`@`localhost`*/ /*!50003 TRIGGER `t_bi` BEFORE INSERT ON `t` FOR EACH ROW BEGIN SET NEW.a = NEW.a + 1; SET NEW.a = NEW.a * 1; END */"),
        ("procedure", "p", "CREATE DEFINER=`owner`@`localhost` PROCEDURE `p`()\nBEGIN\n  INSERT INTO t VALUES (1);\n  SELECT COUNT(*) FROM t;\nEND"),
        ("event", "e", "/*!50106 CREATE*/ /*!50117 DEFINER=`owner`@`localhost`*/ /*!50106 EVENT `e` ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' ON COMPLETION NOT PRESERVE DISABLE DO DELETE FROM t */"),
    ] {
        let r = create(kind, name, "owner@localhost", sql).unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(outcome(r), ("created".to_owned(), String::new()), "{kind}");
    }
    // As on a restored cluster, whose source's root@localhost exists, locked: kept.
    rig.query::<u8>("CREATE USER 'root'@'localhost' ACCOUNT LOCK");
    rig.query::<u8>("CREATE DATABASE restored");
    let r = rig
        .call(
            "FerryCreateImportObject",
            &[
                ("ImportId", id),
                ("Database", "restored"),
                ("ObjectType", "function"),
                ("ObjectName", "twice"),
                ("Definer", "root@localhost"),
                (
                    "Statement",
                    "CREATE DEFINER=`root`@`localhost` FUNCTION `twice`(x INT) RETURNS int(11)\n    DETERMINISTIC\nRETURN x * 2",
                ),
            ],
        )
        .unwrap();
    assert_eq!(outcome(r), ("created".to_owned(), String::new()));
    assert_eq!(
        rig.query::<String>(
            "SELECT DEFINER FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'restored'"
        ),
        ["root@localhost"]
    );
    rig.query::<u8>("DROP USER 'root'@'localhost'");

    // Missing, and ferry's own: rewrites with the reason.
    let (o, why) = outcome(
        create(
            "view",
            "w",
            "root@localhost",
            "CREATE DEFINER=`root`@`localhost` VIEW `w` AS SELECT 1",
        )
        .unwrap(),
    );
    assert_eq!(o, "rewrite");
    assert_eq!(
        why,
        format!("account 'root'@'localhost' does not exist on DB cluster {CLUSTER}")
    );
    let (o, why) = outcome(
        create(
            "view",
            "w",
            "ferry_admin@localhost",
            "CREATE DEFINER=`ferry_admin`@`localhost` VIEW `w` AS SELECT 1",
        )
        .unwrap(),
    );
    assert_eq!(o, "rewrite");
    assert!(
        why.contains("'ferry_admin'@'localhost' is reserved"),
        "{why}"
    );

    // Tenant text that is not the one object claimed never runs as ferry.
    for (kind, definer, sql, says) in [
        (
            "view",
            "owner@localhost",
            "CREATE DEFINER=`owner`@`localhost` VIEW w AS SELECT 1; CREATE USER x",
            "2 statements",
        ),
        (
            "procedure",
            "owner@localhost",
            "CREATE DEFINER=`owner`@`localhost` PROCEDURE w() SELECT 1; CREATE USER x",
            "ERROR 1064",
        ),
        ("view", "owner@localhost", "CREATE USER x", "cannot be read"),
        (
            "view",
            "owner@localhost",
            "CREATE DEFINER=`ferry_admin`@`localhost` VIEW w AS SELECT 1",
            "its definer is 'ferry_admin'@'localhost'",
        ),
        (
            "view",
            "owner@localhost",
            "CREATE DEFINER=`owner`@`localhost` VIEW mysql.w AS SELECT 1",
            "it names schema mysql",
        ),
    ] {
        let e = create(kind, "w", definer, sql).unwrap_err();
        let text = e.to_string();
        assert!(
            matches!(&e, ClientError::Api { status: 400, code, .. } if code == "InvalidParameterValue"),
            "{sql}: {text}"
        );
        assert!(text.contains(says), "{sql}: {text}");
    }
    let e = create(
        "view",
        "w",
        "owner@localhost",
        "CREATE DEFINER=`owner`@`localhost` VIEW w AS SELECT 1",
    )
    .map(drop);
    assert!(e.is_ok(), "{e:?}");
    assert_eq!(
        rig.query::<u64>("SELECT COUNT(*) FROM mysql.global_priv WHERE User = 'x'"),
        [0]
    );

    // Kept definers, and the guardian (every 100 ms, a deep pass every 6 s) leaves them.
    let kept = |rig: &Rig| {
        rig.query::<(String, String)>(
            "SELECT TABLE_NAME, DEFINER FROM information_schema.VIEWS WHERE TABLE_SCHEMA = 'app' \
             UNION ALL SELECT TRIGGER_NAME, DEFINER FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = 'app' \
             UNION ALL SELECT ROUTINE_NAME, DEFINER FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'app' \
             UNION ALL SELECT EVENT_NAME, DEFINER FROM information_schema.EVENTS WHERE EVENT_SCHEMA = 'app' ORDER BY 1",
        )
    };
    let expected: Vec<(String, String)> = ["e", "p", "t_bi", "v", "w"]
        .iter()
        .map(|n| (n.to_string(), "owner@localhost".to_string()))
        .collect();
    assert_eq!(kept(&rig), expected);
    // The session variables held where the object was made.
    assert_eq!(
        rig.query::<String>("SELECT SQL_MODE FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'app' AND ROUTINE_NAME = 'p'"),
        ["STRICT_TRANS_TABLES"]
    );
    // A report's tables are the console's per-table progress while the import runs.
    rig.call(
        "FerryReportImport",
        &[
            ("ImportId", id),
            ("Phase", "data"),
            ("Rows", "49"),
            ("Tables.member.1.Name", "app.orders"),
            ("Tables.member.1.Rows", "42"),
            ("Tables.member.2.Name", "app.items"),
            ("Tables.member.2.Rows", "7"),
            ("Tables.member.2.Done", "true"),
        ],
    )
    .unwrap();
    let console = format!("127.0.0.1:{}", rig.serve.port);
    let cookie = sign_in(&console, &read_key(&rig.serve.credentials()));
    let page = request(
        &console,
        "GET",
        &format!("/console/clusters/{CLUSTER}"),
        Some(&cookie),
        None,
    );
    for want in [
        "<li><code>app.orders</code> loading, 42 rows</li>",
        "<li><code>app.items</code> done, 7 rows</li>",
    ] {
        assert!(page.body.contains(want), "{want} in:\n{}", page.body);
    }
    let too_long = "x".repeat(141);
    let e = rig
        .call(
            "FerryReportImport",
            &[
                ("ImportId", id),
                ("Phase", "data"),
                ("Tables.member.1.Name", &too_long),
            ],
        )
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("Tables.member.1.Name must be 1 to 140 characters"),
        "{e}"
    );

    // Reports renew the lease across more than two lease periods while the guardian runs.
    let until = std::time::Instant::now() + Duration::from_secs(8);
    while std::time::Instant::now() < until {
        rig.call(
            "FerryReportImport",
            &[("ImportId", id), ("Phase", "objects"), ("Rows", "1")],
        )
        .unwrap();
        assert_eq!(
            kept(&rig),
            expected,
            "the guardian dropped an imported object\n{}",
            rig.context()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(rig.durability(), (2, 0), "the lease was renewed");

    // No report: the lease expires, durability comes back, the import cannot go on.
    poll(
        "the lease expires",
        Duration::from_secs(LEASE_SECONDS * 10),
        || rig.context(),
        || {
            rig.imports()
                .into_iter()
                .find(|i| i.status == "interrupted")
        },
    );
    assert_eq!(rig.durability(), (1, 0));
    let page = request(
        &console,
        "GET",
        &format!("/console/clusters/{CLUSTER}"),
        Some(&cookie),
        None,
    );
    assert!(
        page.body.contains("status-interrupted") && !page.body.contains("app.orders"),
        "an ended import shows no tables:\n{}",
        page.body
    );
    let e = rig
        .call(
            "FerryFinishImport",
            &[("ImportId", id), ("Status", "completed")],
        )
        .unwrap_err();
    assert!(e.to_string().contains("is interrupted"), "{e}");

    // ferry serve killed while an import runs: at its next start the import is interrupted,
    // and the instance, started again from its option file, has the cluster's durability.
    let started = rig
        .call(
            "FerryStartImport",
            &[("DBClusterIdentifier", CLUSTER), ("Source", "restart.sql")],
        )
        .unwrap();
    let second: ImportView = started.members(IMPORT_ELEMENT).unwrap().unwrap();
    assert_eq!(rig.durability(), (2, 0));
    rig.serve.kill_hard();
    rig.serve.start_again();
    rig.serve.wait(
        "db_instance_available",
        json!({ "DBInstanceIdentifier": format!("{CLUSTER}-1") }),
    );
    let after = rig
        .imports()
        .into_iter()
        .find(|i| i.import_id == second.import_id)
        .expect("the import is still listed");
    assert_eq!(after.status, "interrupted", "{after:#?}");
    assert_eq!(after.error.as_deref(), Some("the control plane restarted"));
    assert_eq!(rig.durability(), (1, 0), "durability after the restart");
    assert_eq!(
        kept(&rig),
        expected,
        "the imported objects survive the restart"
    );
}
