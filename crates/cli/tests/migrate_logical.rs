//! `ferry migrate logical`: a live source copied into a ferry cluster through a consistent
//! snapshot (no intermediate file), replication started from the snapshot's coordinates,
//! the application writing on the source all along; after `ferry replication cutover`
//! every table's checksum equals the source's and the ledger holds every acknowledged write
//! exactly once (a wrong coordinate would lose writes or stop replication on a duplicate).

mod common;

use std::sync::atomic::Ordering;

use common::replication::{runtime, Writer, APP_PASSWORD, OPERATOR_PASSWORD, REPL_PASSWORD};
use common::serve::{Serve, PASSWORD as MASTER_PASSWORD};
use ferry_testkit::{TestServer, TestServerOptions};
use mysql_async::prelude::Queryable;

const CLUSTER: &str = "migrated";
const MIGRATOR_PASSWORD: &str = "Migrator-pw-2024";
/// Rows of the bulk table: enough that the copy takes a while under the writes.
const BULK_ROWS: u64 = 40_000;

fn source_setup() -> Vec<String> {
    let mut sql: Vec<String> = vec![
        "SET NAMES utf8mb4".into(),
        // Accounts out of the binary log (the cluster has its own).
        "SET sql_log_bin = 0".into(),
        format!("CREATE USER repl@'%' IDENTIFIED BY '{REPL_PASSWORD}'"),
        "GRANT REPLICATION SLAVE ON *.* TO repl@'%'".into(),
        format!("CREATE USER operator@'%' IDENTIFIED BY '{OPERATOR_PASSWORD}'"),
        "GRANT ALL ON *.* TO operator@'%'".into(),
        format!("CREATE USER app@'%' IDENTIFIED BY '{APP_PASSWORD}'"),
        "GRANT ALL ON app.* TO app@'%'".into(),
        // What a logical migration needs, and no more.
        format!("CREATE USER migrator@'%' IDENTIFIED BY '{MIGRATOR_PASSWORD}'"),
        "GRANT SELECT, RELOAD, SHOW VIEW, TRIGGER, EVENT, BINLOG MONITOR ON *.* TO migrator@'%'"
            .into(),
        "SET sql_log_bin = 1".into(),
        "CREATE DATABASE app CHARACTER SET utf8mb4".into(),
        "CREATE TABLE app.ledger (id BIGINT PRIMARY KEY, payload CHAR(32) NOT NULL, \
         at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB"
            .into(),
        "CREATE TABLE app.counters (k INT PRIMARY KEY, n BIGINT NOT NULL) ENGINE=InnoDB".into(),
        "INSERT INTO app.counters SELECT seq, 0 FROM app.seq_1_to_10".into(),
        // Every kind of value, a generated column, an invisible one.
        "CREATE TABLE app.bulk (id INT PRIMARY KEY, s VARCHAR(200), t TEXT, b BLOB, \
         bits BIT(10), d DECIMAL(12,4), f DOUBLE, dt DATETIME(3), ts TIMESTAMP NULL, \
         j JSON, e ENUM('a','b','c'), st SET('x','y'), y YEAR, g POINT, \
         twice INT AS (id * 2) VIRTUAL, hidden INT INVISIBLE DEFAULT 7, \
         KEY s (s)) ENGINE=InnoDB"
            .into(),
        format!(
            "INSERT INTO app.bulk (id, s, t, b, bits, d, f, dt, ts, j, e, st, y, g) \
             SELECT seq, CONCAT('it''s \\\\ \"q\" ; héllo ✓ ', seq), REPEAT(CHAR(10, 13, 26, 0), seq % 50), \
             UNHEX(SHA2(seq, 256)), seq % 1024, seq / 7, seq * 1.5e-3, \
             '2024-02-29 12:34:56.789' + INTERVAL seq SECOND, \
             IF(seq % 3 = 0, NULL, FROM_UNIXTIME(1700000000 + seq)), \
             JSON_OBJECT('k', seq, 's', 'a''b'), ELT(1 + seq % 3, 'a', 'b', 'c'), \
             IF(seq % 2 = 0, 'x,y', ''), 1901 + seq % 200, POINT(seq, -seq) \
             FROM app.seq_1_to_{BULK_ROWS}"
        ),
        "UPDATE app.bulk SET b = '' WHERE id % 97 = 0".into(),
        "UPDATE app.bulk SET t = NULL, b = NULL WHERE id % 89 = 0".into(),
        "CREATE VIEW app.v1 AS SELECT id, s FROM app.bulk WHERE id < 10".into(),
        "CREATE VIEW app.v0 AS SELECT id FROM app.v1".into(),
        "CREATE TRIGGER app.counters_bu BEFORE UPDATE ON app.counters FOR EACH ROW \
         SET NEW.n = GREATEST(NEW.n, OLD.n)"
            .into(),
        "CREATE PROCEDURE app.total(OUT n BIGINT) SELECT SUM(n) INTO n FROM app.counters".into(),
        "CREATE DATABASE `shop;2`".into(),
        "CREATE TABLE `shop;2`.`no``pk` (x INT, y VARCHAR(5)) ENGINE=InnoDB".into(),
        "INSERT INTO `shop;2`.`no``pk` VALUES (1, 'a'), (1, 'a'), (NULL, NULL)".into(),
        "CREATE TABLE `shop;2`.empty (id INT PRIMARY KEY) ENGINE=InnoDB".into(),
    ];
    sql.shrink_to_fit();
    sql
}

async fn master(port: u16) -> mysql_async::Conn {
    let opts = mysql_async::OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(port)
        .prefer_socket(false)
        .user(Some("admin"))
        .pass(Some(MASTER_PASSWORD));
    mysql_async::Conn::new(opts)
        .await
        .expect("connect to the cluster as the master user")
}

/// `CHECKSUM TABLE` of every base table of the copied databases, by name.
async fn checksums(conn: &mut mysql_async::Conn) -> Vec<(String, Option<i64>)> {
    let tables: Vec<(String, String)> = conn
        .query(
            "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA IN ('app', 'shop;2') AND TABLE_TYPE = 'BASE TABLE' \
             ORDER BY TABLE_SCHEMA, TABLE_NAME",
        )
        .await
        .unwrap();
    let mut sums = Vec::new();
    for (db, t) in tables {
        let sql = format!(
            "CHECKSUM TABLE `{}`.`{}` EXTENDED",
            db.replace('`', "``"),
            t.replace('`', "``")
        );
        let row: (String, Option<i64>) = conn.query_first(&sql).await.unwrap().unwrap();
        sums.push(row);
    }
    sums
}

#[test]
fn migrate_logical_copies_a_live_source_and_replicates_from_the_snapshot() {
    let rt = runtime();
    let source = rt
        .block_on(TestServer::start(TestServerOptions::with_binlog(1)))
        .unwrap();
    rt.block_on(async {
        let mut c = source.admin_conn().await.unwrap();
        for sql in source_setup() {
            c.query_drop(&sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    });

    let tmp = ferry_testkit::short_tempdir();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    }
    let buckets = tmp.path().join("buckets");
    std::fs::create_dir(&buckets).unwrap();
    let serve = Serve::launch(
        &tmp.path().join("d"),
        &["--file-root", buckets.to_str().unwrap()],
        Vec::new(),
    );
    let port = ferry_testkit::free_port();
    serve.create_cluster_with_writer(CLUSTER, MASTER_PASSWORD, port);
    let password_file = tmp.path().join("master.pw");
    std::fs::write(&password_file, format!("{MASTER_PASSWORD}\n")).unwrap();

    // The application writes throughout.
    let writer = Writer::start(&rt, &source, 1);
    writer.wait_for(20);
    let before = writer.acked.load(Ordering::SeqCst);
    let url = format!("mysql://migrator@127.0.0.1:{}", source.port());
    let mut cmd = common::ferry();
    cmd.args(["migrate", "logical", "--source", &url, "--cluster", CLUSTER])
        .args(["--replication-user", "repl", "--parallel", "3"])
        .args(["--endpoint-url", &serve.endpoint()])
        .arg("--credentials")
        .arg(serve.credentials())
        .arg("--password-file")
        .arg(&password_file)
        .env("FERRY_SOURCE_PASSWORD", MIGRATOR_PASSWORD)
        .env("FERRY_REPLICATION_PASSWORD", REPL_PASSWORD);
    let began = std::time::Instant::now();
    let run = common::run(&mut cmd);
    run.assert_ok();
    let took = began.elapsed();
    let during = writer.acked.load(Ordering::SeqCst) - before;
    eprintln!("FIGURE migrate logical ({BULK_ROWS} bulk rows): {:.1} s, {during} writes on the source meanwhile\nstdout:\n{}\nstderr:\n{}", took.as_secs_f64(), run.stdout, run.stderr);
    assert!(during > 0, "the source took writes while it was copied");

    // Replication started from the snapshot's coordinates, as printed.
    let started_line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("replication of DB cluster"))
        .unwrap_or_else(|| panic!("no replication line in\n{}", run.stdout));
    let at = started_line
        .split(" at ")
        .nth(1)
        .and_then(|rest| rest.split([',', ' ']).next())
        .unwrap_or_else(|| panic!("no coordinates in {started_line:?}"));
    let (file, pos) = at.rsplit_once(':').unwrap();
    let pos: u64 = pos.parse().unwrap();
    let (called, status) = rt.block_on(async {
        let mut m = master(port).await;
        let called: Option<(String, u64)> = m
            .query_first(
                "SELECT master_log_file, master_log_pos FROM mysql.rds_replication_status \
                 WHERE action = 'set_external_master' ORDER BY id DESC LIMIT 1",
            )
            .await
            .unwrap();
        let status: mysql_async::Row = m.query_first("SHOW SLAVE STATUS").await.unwrap().unwrap();
        (called, status)
    });
    assert_eq!(
        called,
        Some((file.to_owned(), pos)),
        "rds_set_external_master was called with the snapshot's coordinates"
    );
    assert_eq!(status.get::<String, _>("Master_Host").unwrap(), "127.0.0.1");
    assert_eq!(status.get::<u16, _>("Master_Port").unwrap(), source.port());
    assert_eq!(status.get::<String, _>("Master_User").unwrap(), "repl");
    let read_file: String = status.get("Master_Log_File").unwrap();
    let read_pos: u64 = status.get("Read_Master_Log_Pos").unwrap();
    assert!(
        (read_file.as_str(), read_pos) >= (file, pos),
        "the IO thread reads from the snapshot on ({read_file}:{read_pos} vs {file}:{pos})"
    );

    // More writes while the cluster replicates, then the cutover.
    writer.wait_for(50);
    let ledger = writer.stop(&rt);
    let mut cutover = common::ferry();
    cutover
        .args(["replication", "cutover", CLUSTER, "--source"])
        .arg(format!("mysql://operator@127.0.0.1:{}", source.port()))
        .args(["--set-read-only", "--endpoint-url", &serve.endpoint()])
        .arg("--credentials")
        .arg(serve.credentials())
        .env("FERRY_SOURCE_PASSWORD", OPERATOR_PASSWORD);
    let cut = common::run(&mut cutover);
    cut.assert_ok();

    let (source_sums, cluster_sums, source_ids, cluster_ids) = rt.block_on(async {
        let mut s = source.admin_conn().await.unwrap();
        let mut c = master(port).await;
        let ids = "SELECT id FROM app.ledger ORDER BY id";
        let si: Vec<u64> = s.query(ids).await.unwrap();
        let ci: Vec<u64> = c.query(ids).await.unwrap();
        (checksums(&mut s).await, checksums(&mut c).await, si, ci)
    });
    assert_eq!(source_sums.len(), 5, "{source_sums:?}");
    assert_eq!(
        cluster_sums, source_sums,
        "every table's checksum equals the source's"
    );
    assert_eq!(cluster_ids, source_ids);
    let missing: Vec<&u64> = ledger
        .acked
        .iter()
        .filter(|id| cluster_ids.binary_search(id).is_err())
        .collect();
    assert!(
        missing.is_empty(),
        "acknowledged writes missing: {missing:?}"
    );

    // The objects came along: views of views, the trigger, the procedure.
    let objects: Vec<(String, String)> = rt.block_on(async {
        let mut c = master(port).await;
        c.query(
            "SELECT 'view', TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = 'app' \
             UNION ALL SELECT 'trigger', TRIGGER_NAME FROM information_schema.TRIGGERS \
             WHERE TRIGGER_SCHEMA = 'app' UNION ALL SELECT 'routine', ROUTINE_NAME \
             FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'app' ORDER BY 1, 2",
        )
        .await
        .unwrap()
    });
    let want: Vec<(String, String)> = [
        ("routine", "total"),
        ("trigger", "counters_bu"),
        ("view", "v0"),
        ("view", "v1"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(objects, want);
}

/// Without RELOAD a MariaDB source is still copied consistently, on one connection, at the
/// coordinates of that connection's snapshot (`Binlog_snapshot_file/position`); the text
/// loads into a plain server with the source's checksums.
#[test]
fn without_reload_the_snapshot_uses_one_connection_and_its_own_coordinates() {
    use ferry_import::snapshot::{self, Method, SnapshotOptions};
    use ferry_replication::source::{SourceEndpoint, SourceTls};

    let rt = runtime();
    let (source, target) = rt.block_on(async {
        let source = TestServer::start(TestServerOptions::with_binlog(1))
            .await
            .unwrap();
        let target = TestServer::start(TestServerOptions::default())
            .await
            .unwrap();
        (source, target)
    });
    let (file, pos) = rt.block_on(async {
        let mut c = source.admin_conn().await.unwrap();
        for sql in [
            "CREATE USER reader@'%' IDENTIFIED BY 'Reader-pw-2024'".to_owned(),
            "GRANT SELECT, SHOW VIEW, TRIGGER, EVENT ON *.* TO reader@'%'".to_owned(),
            "CREATE DATABASE app".to_owned(),
            "CREATE TABLE app.t (id INT PRIMARY KEY, s VARCHAR(20), b VARBINARY(8)) ENGINE=InnoDB"
                .to_owned(),
            "INSERT INTO app.t SELECT seq, CONCAT('r', seq), UNHEX(HEX(seq)) FROM app.seq_1_to_5000"
                .to_owned(),
        ] {
            c.query_drop(&sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        let row: mysql_async::Row = c.query_first("SHOW MASTER STATUS").await.unwrap().unwrap();
        (
            row.get::<String, _>("File").unwrap(),
            row.get::<u64, _>("Position").unwrap(),
        )
    });
    let endpoint = SourceEndpoint::new(
        "127.0.0.1",
        source.port(),
        "reader",
        "Reader-pw-2024".to_owned(),
        SourceTls::Off,
    );
    let (snap_pos, method, connections, summary) = rt.block_on(async {
        let snap = snapshot::start(
            &endpoint,
            &SnapshotOptions {
                connections: 3,
                statement_bytes: 4096,
                ..SnapshotOptions::default()
            },
        )
        .await
        .expect("a snapshot without RELOAD");
        let dir = ferry_testkit::short_tempdir();
        let mut t = target.admin_conn().await.unwrap();
        t.query_drop("CREATE USER loader@'%' IDENTIFIED BY 'Loader-pw-2024'")
            .await
            .unwrap();
        t.query_drop("GRANT ALL ON *.* TO loader@'%'")
            .await
            .unwrap();
        let target_conn = ferry_import::Target {
            host: "127.0.0.1".into(),
            port: target.port(),
            user: "loader".into(),
            password: ferry_base::Secret::new("Loader-pw-2024".to_owned()),
        };
        let opts = ferry_import::ImportOptions::new("snapshot", dir.path().join("state.json"));
        let summary = ferry_import::import(
            Box::new(snap.input),
            None,
            &target_conn,
            &opts,
            &ferry_import::PlainServer,
            &|_| {},
        )
        .await
        .expect("the snapshot loads");
        snap.done.await.unwrap().expect("the generator finished");
        (snap.position, snap.method, snap.connections, summary)
    });
    assert_eq!(method, Method::SnapshotStatus);
    assert_eq!(connections, 1);
    assert_eq!(
        (snap_pos.coord.file.as_str(), snap_pos.coord.pos),
        (file.as_str(), pos)
    );
    assert_eq!(
        (
            summary.coordinates.file.as_deref(),
            summary.coordinates.position
        ),
        (Some(file.as_str()), Some(pos)),
        "the text carries the coordinates as --master-data=2 does"
    );
    assert_eq!(summary.rows, 5000);
    let (s, t) = rt.block_on(async {
        let sql = "CHECKSUM TABLE app.t EXTENDED";
        let mut s = source.admin_conn().await.unwrap();
        let mut t = target.admin_conn().await.unwrap();
        let a: Vec<(String, Option<i64>)> = s.query(sql).await.unwrap();
        let b: Vec<(String, Option<i64>)> = t.query(sql).await.unwrap();
        (a, b)
    });
    assert_eq!(t, s);
}
