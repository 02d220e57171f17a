//! `ferry import` against real servers and the real `mariadb-dump` / `mariadb` clients: a
//! source holding data that is hard to parse, dumped with several option sets, loaded by
//! `ferry import` into one server and by `mariadb < dump.sql` into another; every table's
//! checksum and every view, trigger, routine and event definition (definer included) must be
//! equal. Then the failures: a syntax error's line, definers a non-SUPER account may not
//! keep, and imports killed at five points and resumed.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::replication::{poll, runtime};
use common::{ferry, run};
use ferry_testkit::short_tempdir;
use ferry_testkit::{TestServer, TestServerOptions};
use mysql_async::prelude::Queryable;

const DBS: [&str; 2] = ["hard", "other"];

/// The account tests dump and load with over TCP (ferry's admin is `@localhost` only).
const TESTER: (&str, &str) = ("tester", "Tester-pw-1");

fn server(rt: &tokio::runtime::Runtime) -> TestServer {
    server_with(rt, TestServerOptions::default())
}

/// The source: with a binary log, for --master-data.
fn source_server(rt: &tokio::runtime::Runtime) -> TestServer {
    server_with(rt, TestServerOptions::with_binlog(7))
}

fn server_with(rt: &tokio::runtime::Runtime, options: TestServerOptions) -> TestServer {
    let s = rt
        .block_on(TestServer::start(
            options
                .option("max-allowed-packet", "16M")
                .option("event-scheduler", "OFF"),
        ))
        .expect("start a test server");
    rt.block_on(exec(
        &s,
        &[
            "CREATE USER 'tester'@'127.0.0.1' IDENTIFIED BY 'Tester-pw-1'",
            "GRANT ALL PRIVILEGES ON *.* TO 'tester'@'127.0.0.1' WITH GRANT OPTION",
        ],
    ));
    s
}

fn admin(_s: &TestServer) -> (String, String) {
    (TESTER.0.to_owned(), TESTER.1.to_owned())
}

async fn exec(s: &TestServer, sql: &[&str]) {
    let mut c = s.admin_conn().await.unwrap();
    for q in sql {
        c.query_drop(*q)
            .await
            .unwrap_or_else(|e| panic!("{q}: {e}"));
    }
    c.disconnect().await.unwrap();
}

/// The hard data: quotes, backslashes, NULs, multi-byte text, `;` and DELIMITER in strings
/// and comments, a row over max_allowed_packet/2, BLOBs, spatial and generated columns,
/// foreign keys, views of views, a table without a primary key, routines, triggers and an
/// event defined by root@localhost.
async fn load_hard_data(s: &TestServer) {
    let big = "x".repeat(9 << 20);
    let mut c = s.admin_conn().await.unwrap();
    for q in [
        "CREATE DATABASE hard CHARACTER SET utf8mb4",
        "CREATE DATABASE other",
        "CREATE TABLE hard.parent (id INT PRIMARY KEY, name VARCHAR(200)) ENGINE=InnoDB",
        "CREATE TABLE hard.child (id INT AUTO_INCREMENT PRIMARY KEY, parent_id INT NOT NULL, \
         txt LONGTEXT, b LONGBLOB, g POINT NOT NULL, doubled INT AS (parent_id * 2) STORED, \
         shout VARCHAR(20) AS (UPPER(LEFT(txt, 10))) VIRTUAL, KEY (parent_id), SPATIAL KEY (g), \
         CONSTRAINT fk_parent FOREIGN KEY (parent_id) REFERENCES hard.parent (id)) ENGINE=InnoDB",
        "CREATE TABLE hard.nopk (a INT, b VARCHAR(100)) ENGINE=InnoDB",
        // Secondary indexes ferry builds after the rows (unique ones stay with the table),
        // and a table whose AUTO_INCREMENT column is indexed only by a plain key (kept).
        "CREATE TABLE hard.keyed (id INT AUTO_INCREMENT PRIMARY KEY, a INT, b VARCHAR(50), c INT, \
         UNIQUE KEY u (b), KEY a_c (a, c DESC), INDEX b_prefix (b(10)) COMMENT 'x;y', KEY c (c), \
         KEY `odd ``name`` ;` (c, a)) ENGINE=InnoDB",
        "INSERT INTO hard.keyed (a, b, c) SELECT seq % 7, CONCAT('b', seq), seq % 11 FROM hard.seq_1_to_50",
        "CREATE TABLE hard.autokey (a INT PRIMARY KEY, id INT AUTO_INCREMENT, KEY (id)) ENGINE=InnoDB",
        "INSERT INTO hard.autokey (a) VALUES (3), (1), (2)",
        "CREATE TABLE other.t (id INT PRIMARY KEY, note TEXT -- a comment; DELIMITER ;;\n)",
        "INSERT INTO hard.parent VALUES (1, 'it''s'), (2, 'back\\\\slash \\\\'), (3, 'nul\\0byte'), \
         (4, 'ünïcödé 日本語 🚀'), (5, 'semi;colon DELIMITER ;; -- not a comment /* nor this */'), \
         (6, '\\n\\r\\t\\Z'), (7, NULL)",
        "INSERT INTO hard.nopk VALUES (1, 'dup'), (1, 'dup'), (NULL, ';'), (2, 'DELIMITER $$')",
        "INSERT INTO other.t VALUES (1, 'x'), (2, REPEAT('é', 1000))",
    ] {
        c.query_drop(q).await.unwrap_or_else(|e| panic!("{q}: {e}"));
    }
    for i in 0..400u32 {
        let blob: Vec<u8> = (0..(i * 37 % 3000))
            .map(|j| ((i * 7 + j * 13) % 256) as u8)
            .collect();
        c.exec_drop(
            "INSERT INTO hard.child (parent_id, txt, b, g) VALUES (?, ?, ?, POINT(?, ?))",
            (
                1 + i % 7,
                format!("row {i}; '\\ \"{}\"", "ü".repeat((i % 50) as usize)),
                blob,
                i as f64 / 3.0,
                -(i as f64),
            ),
        )
        .await
        .unwrap();
    }
    c.exec_drop(
        "INSERT INTO hard.child (parent_id, txt, b, g) VALUES (4, ?, NULL, POINT(0, 0))",
        (big,),
    )
    .await
    .unwrap();
    for q in [
        "CREATE DEFINER=`root`@`localhost` VIEW hard.v_z_base AS SELECT id, name FROM hard.parent",
        "CREATE DEFINER=`root`@`localhost` VIEW hard.v_a_top AS SELECT id, name FROM hard.v_z_base WHERE id < 5",
        "SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES,STRICT_ALL_TABLES'",
        "CREATE DEFINER=`root`@`localhost` TRIGGER hard.nopk_bi BEFORE INSERT ON hard.nopk FOR EACH ROW \
         BEGIN SET NEW.b = CONCAT(IFNULL(NEW.b, ''), ';\\'); END",
        "SET SESSION sql_mode = DEFAULT",
        "CREATE DEFINER=`root`@`localhost` PROCEDURE hard.p(IN n INT) BEGIN \
         SELECT 'a;b' AS x; /* ; */ SELECT n + 1; END",
        "CREATE DEFINER=`root`@`localhost` FUNCTION hard.f(x INT) RETURNS INT DETERMINISTIC RETURN x + 1",
        "CREATE DEFINER=`root`@`localhost` EVENT hard.ev ON SCHEDULE EVERY 1 DAY DISABLE \
         DO DELETE FROM hard.nopk WHERE a < 0",
    ] {
        c.query_drop(q).await.unwrap_or_else(|e| panic!("{q}: {e}"));
    }
    c.disconnect().await.unwrap();
}

fn dump(source: &TestServer, options: &[&str], dbs: &[&str], out: &Path) {
    let (user, password) = admin(source);
    let file = std::fs::File::create(out).unwrap();
    let status = Command::new("mariadb-dump")
        .args([
            "--host=127.0.0.1",
            &format!("--port={}", source.port()),
            &format!("--user={user}"),
        ])
        .args(["--max-allowed-packet=64M"])
        .args(options)
        .arg("--databases")
        .args(dbs)
        .env("MYSQL_PWD", password)
        .stdout(file)
        .stderr(Stdio::piped())
        .output()
        .expect("run mariadb-dump");
    assert!(
        status.status.success(),
        "mariadb-dump {options:?}: {}",
        String::from_utf8_lossy(&status.stderr)
    );
}

/// `mariadb < dump.sql` as the server's admin.
fn client_load(target: &TestServer, file: &Path) {
    let (user, password) = admin(target);
    let out = Command::new("mariadb")
        .args([
            "--host=127.0.0.1",
            &format!("--port={}", target.port()),
            &format!("--user={user}"),
        ])
        .arg("--max-allowed-packet=64M")
        .env("MYSQL_PWD", password)
        .stdin(std::fs::File::open(file).unwrap())
        .output()
        .expect("run mariadb");
    assert!(
        out.status.success(),
        "mariadb < {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn ferry_import(
    target: &TestServer,
    user: &str,
    password: &str,
    file: &Path,
    extra: &[&str],
) -> Command {
    let mut cmd = ferry();
    cmd.args([
        "import",
        file.to_str().unwrap(),
        "--host",
        "127.0.0.1",
        "--port",
    ])
    .arg(target.port().to_string())
    .args(["--user", user])
    .args(extra)
    .env("FERRY_IMPORT_PASSWORD", password);
    cmd
}

/// Every table's checksum and every object's definition, of the given schemas.
async fn fingerprint(s: &TestServer, dbs: &[&str]) -> Vec<String> {
    let mut c = s.admin_conn().await.unwrap();
    let list = dbs
        .iter()
        .map(|d| format!("'{d}'"))
        .collect::<Vec<_>>()
        .join(",");
    let mut out = Vec::new();
    let tables: Vec<(String, String)> = c
        .query(format!(
            "SELECT table_schema, table_name FROM information_schema.tables \
             WHERE table_schema IN ({list}) AND table_type = 'BASE TABLE' ORDER BY 1, 2"
        ))
        .await
        .unwrap();
    for (db, t) in tables {
        let row: Option<(String, Option<u64>)> = c
            .query_first(format!("CHECKSUM TABLE `{db}`.`{t}` EXTENDED"))
            .await
            .unwrap();
        let count: Option<u64> = c
            .query_first(format!("SELECT COUNT(*) FROM `{db}`.`{t}`"))
            .await
            .unwrap();
        out.push(format!("table {:?} rows {count:?}", row));
        // The definition: keys built after the rows must come out as the dump wrote them.
        let create: Option<(String, String)> = c
            .query_first(format!("SHOW CREATE TABLE `{db}`.`{t}`"))
            .await
            .unwrap();
        out.push(create.map(|(_, sql)| sql).unwrap_or_default());
    }
    for q in [
        format!("SELECT CONCAT_WS('|', table_schema, table_name, view_definition, definer, security_type, \
                 character_set_client, collation_connection) FROM information_schema.views \
                 WHERE table_schema IN ({list}) ORDER BY table_schema, table_name"),
        format!("SELECT CONCAT_WS('|', trigger_schema, trigger_name, action_statement, definer, sql_mode, \
                 character_set_client, collation_connection, action_timing, event_manipulation) \
                 FROM information_schema.triggers WHERE trigger_schema IN ({list}) ORDER BY 1"),
        format!("SELECT CONCAT_WS('|', routine_schema, routine_name, routine_type, routine_definition, \
                 definer, sql_mode, character_set_client, collation_connection, security_type) \
                 FROM information_schema.routines WHERE routine_schema IN ({list}) ORDER BY 1"),
        format!("SELECT CONCAT_WS('|', event_schema, event_name, event_definition, definer, sql_mode, \
                 status, interval_value, interval_field, character_set_client) \
                 FROM information_schema.events WHERE event_schema IN ({list}) ORDER BY 1"),
        format!("SELECT CONCAT_WS('|', table_schema, table_name, column_name, column_type, \
                 IFNULL(generation_expression, '')) FROM information_schema.columns \
                 WHERE table_schema IN ({list}) ORDER BY table_schema, table_name, ordinal_position"),
    ] {
        let rows: Vec<Option<String>> = c.query(q).await.unwrap();
        out.extend(rows.into_iter().map(|r| r.unwrap_or_default()));
    }
    c.disconnect().await.unwrap();
    out
}

async fn drop_dbs(s: &TestServer) {
    exec(
        s,
        &[
            "DROP DATABASE IF EXISTS hard",
            "DROP DATABASE IF EXISTS other",
        ],
    )
    .await;
}

fn assert_same(reference: &[String], imported: &[String], case: &str) {
    assert!(!reference.is_empty(), "{case}: nothing to compare");
    for (a, b) in reference.iter().zip(imported) {
        assert_eq!(a, b, "{case}: ferry import differs from mariadb < dump.sql");
    }
    assert_eq!(
        reference.len(),
        imported.len(),
        "{case}: object counts differ"
    );
}

#[test]
fn dumps_load_like_the_client_and_failures_name_their_line() {
    let rt = runtime();
    let source = source_server(&rt);
    let reference = server(&rt);
    let target = server(&rt);
    rt.block_on(load_hard_data(&source));
    let dir = short_tempdir();
    let (user, password) = admin(&target);
    let cases: [(&str, &[&str]); 6] = [
        (
            "single-transaction",
            &[
                "--single-transaction",
                "--routines",
                "--triggers",
                "--events",
            ],
        ),
        (
            "master-data",
            &["--master-data=2", "--routines", "--events"],
        ),
        (
            "hex-blob",
            &["--hex-blob", "--routines", "--triggers", "--events"],
        ),
        (
            "skip-extended-insert",
            &["--skip-extended-insert", "--routines"],
        ),
        (
            "complete-insert",
            &["--complete-insert", "--add-drop-database"],
        ),
        (
            "insert-ignore",
            &["--insert-ignore", "--lock-tables", "--events"],
        ),
    ];
    for (name, options) in cases {
        let file = dir.path().join(format!("{name}.sql"));
        dump(&source, options, &DBS, &file);
        rt.block_on(drop_dbs(&reference));
        rt.block_on(drop_dbs(&target));
        client_load(&reference, &file);
        // One case creates every index with its table, as the dump says.
        let keep_indexes = name == "insert-ignore";
        let inserts_as_written = name == "complete-insert";
        let mut args = vec!["--parallel", "2", "--unit-bytes", "65536"];
        if keep_indexes {
            args.push("--no-defer-indexes");
        }
        if inserts_as_written {
            args.push("--no-load-data");
        }
        let r = run(&mut ferry_import(&target, &user, &password, &file, &args));
        r.assert_ok();
        assert!(
            r.stdout.contains("imported 6 tables"),
            "{name}: {}",
            r.stdout
        );
        // Rows as LOAD DATA input except where asked not to, and for the insert-ignore dump
        // (`keep_indexes` is that case): LOAD DATA LOCAL cannot tell its skipped rows from
        // errors, so INSERT IGNORE is never converted.
        assert_eq!(
            r.stdout.contains("rows sent as LOAD DATA LOCAL input"),
            !inserts_as_written && !keep_indexes,
            "{name}: {}",
            r.stdout
        );
        // hard.keyed's four plain keys; not hard.child's (a foreign key) nor hard.autokey's
        // (its AUTO_INCREMENT column's only index).
        assert_eq!(
            r.stdout
                .contains("secondary indexes built after the rows: 4 on 1 tables"),
            !keep_indexes,
            "{name}: {}",
            r.stdout
        );
        if name == "master-data" {
            assert!(
                r.stdout.contains("CALL mysql.rds_set_external_master("),
                "{}",
                r.stdout
            );
        }
        let want = rt.block_on(fingerprint(&reference, &DBS));
        let got = rt.block_on(fingerprint(&target, &DBS));
        assert_same(&want, &got, name);
        assert!(
            !file.with_extension("sql.ferry-import.json").exists(),
            "progress file left behind"
        );
    }

    // --dry-run: the plan, no connection.
    let file = dir.path().join("single-transaction.sql");
    let r = run(ferry().args(["import", file.to_str().unwrap(), "--dry-run", "--port", "1"]));
    r.assert_ok();
    assert!(r.stdout.contains("hard.child"), "{}", r.stdout);
    assert!(
        r.stdout.lines().any(|l| l.contains("hard.keyed")
            && l.ends_with(", 4 secondary index(es) built after the rows")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("DEFINER='root'@'localhost'"),
        "{}",
        r.stdout
    );

    // A syntax error: the file, the line and the statement's beginning.
    let bad = dir.path().join("bad.sql");
    let text = std::fs::read(dir.path().join("skip-extended-insert.sql")).unwrap();
    let needle = b"\nINSERT INTO `nopk`";
    let at = text
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap()
        + 1;
    let line = text[..at].iter().filter(|b| **b == b'\n').count() + 1;
    let mut text = text;
    text.splice(at..at + 6, b"INSERTT".iter().copied());
    std::fs::write(&bad, text).unwrap();
    rt.block_on(drop_dbs(&target));
    let r = run(&mut ferry_import(
        &target,
        &user,
        &password,
        &bad,
        &["--fresh"],
    ));
    assert_ne!(r.status, 0);
    assert!(
        r.stderr.contains(&format!("line {line}")) && r.stderr.contains("INSERTT INTO `nopk`"),
        "{}",
        r.stderr
    );

    // --continue-on-error: the failure listed, the rest loaded.
    let r = run(&mut ferry_import(
        &target,
        &user,
        &password,
        &bad,
        &["--fresh", "--continue-on-error"],
    ));
    assert_eq!(r.status, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(&format!("line {line}: `INSERTT")),
        "{}",
        r.stdout
    );

    // Rows the server takes only with a warning (a string into an INT column) are loaded as
    // the INSERT loads them (LOAD DATA LOCAL would warn too: ferry runs the INSERTs), and a
    // duplicate key stops the import at its line as it stops the client (LOAD DATA LOCAL
    // would skip it with a warning).
    // The dump holds binary strings: edited as bytes.
    let text = std::fs::read(dir.path().join("single-transaction.sql")).unwrap();
    let find = |from: usize, what: &[u8]| {
        from + text[from..]
            .windows(what.len())
            .position(|w| w == what)
            .unwrap_or_else(|| panic!("{} not in the dump", String::from_utf8_lossy(what)))
    };
    let warned = dir.path().join("warned.sql");
    let row = find(0, b"\n(1,'dup'),");
    std::fs::write(
        &warned,
        [&text[..row], &b"\n('x1','dup'),"[..], &text[row + 11..]].concat(),
    )
    .unwrap();
    rt.block_on(drop_dbs(&reference));
    rt.block_on(drop_dbs(&target));
    client_load(&reference, &warned);
    let r = run(&mut ferry_import(
        &target,
        &user,
        &password,
        &warned,
        &["--fresh"],
    ));
    r.assert_ok();
    assert_same(
        &rt.block_on(fingerprint(&reference, &DBS)),
        &rt.block_on(fingerprint(&target, &DBS)),
        "a value converted with a warning",
    );
    let at = find(find(0, b"INSERT INTO `parent` VALUES"), b";\n") + 2;
    let line = text[..at].iter().filter(|&&b| b == b'\n').count() + 1;
    let dup = dir.path().join("duplicate.sql");
    std::fs::write(
        &dup,
        [
            &text[..at],
            &b"INSERT INTO `parent` VALUES (1,'again');\n"[..],
            &text[at..],
        ]
        .concat(),
    )
    .unwrap();
    rt.block_on(drop_dbs(&target));
    let r = run(&mut ferry_import(
        &target,
        &user,
        &password,
        &dup,
        &["--fresh"],
    ));
    assert_ne!(r.status, 0, "{}", r.stdout);
    assert!(
        r.stderr.contains(&format!("line {line}")) && r.stderr.contains("Duplicate entry '1'"),
        "{}",
        r.stderr
    );

    // A non-SUPER account: definers rewritten to it, and listed.
    rt.block_on(drop_dbs(&target));
    rt.block_on(exec(
        &target,
        &[
            "CREATE USER 'loader'@'%' IDENTIFIED BY 'Loader-pw-1'",
            "GRANT ALL PRIVILEGES ON hard.* TO 'loader'@'%'",
            "GRANT ALL PRIVILEGES ON other.* TO 'loader'@'%'",
            "GRANT ALL PRIVILEGES ON ferry_import_state.* TO 'loader'@'%'",
        ],
    ));
    let file = dir.path().join("single-transaction.sql");
    let r = run(&mut ferry_import(
        &target,
        "loader",
        "Loader-pw-1",
        &file,
        &[],
    ));
    r.assert_ok();
    for obj in [
        "view hard.v_z_base",
        "view hard.v_a_top",
        "trigger hard.nopk_bi",
        "procedure hard.p",
        "function hard.f",
        "event hard.ev",
    ] {
        assert!(
            r.stdout
                .contains(&format!("  {obj}: 'root'@'localhost' -> 'loader'@'%'")),
            "{obj}: {}",
            r.stdout
        );
    }
    let definers: Vec<String> = rt.block_on(async {
        let mut c = target.admin_conn().await.unwrap();
        c.query("SELECT definer FROM information_schema.routines WHERE routine_schema = 'hard' \
                 UNION ALL SELECT definer FROM information_schema.triggers WHERE trigger_schema = 'hard'")
            .await
            .unwrap()
    });
    assert_eq!(definers, vec!["loader@%"; 3]);
}

/// Rows in the target's `hard.big`, or 0.
async fn rows(s: &TestServer) -> u64 {
    let Ok(mut c) = s.admin_conn().await else {
        return 0;
    };
    // A deadline, so that a hung server fails the test instead of stalling it.
    let n: Option<u64> = tokio::time::timeout(
        Duration::from_secs(60),
        c.query_first("SELECT COUNT(*) FROM hard.big"),
    )
    .await
    .expect("SELECT COUNT(*) FROM hard.big did not answer in 60 s")
    .unwrap_or(None);
    let _ = c.disconnect().await;
    n.unwrap_or(0)
}

#[test]
fn killed_imports_resume_to_the_same_state() {
    let rt = runtime();
    let source = source_server(&rt);
    let reference = server(&rt);
    let target = server(&rt);
    rt.block_on(async {
        load_hard_data(&source).await;
        exec(&source, &[
            "CREATE TABLE hard.big (id INT PRIMARY KEY, k INT, s VARCHAR(100), KEY (k)) ENGINE=InnoDB",
            "INSERT INTO hard.big SELECT seq, seq * 7919 % 100003, CONCAT('row ', seq, REPEAT(';''', seq % 20)) \
             FROM hard.seq_1_to_300000",
        ]).await;
    });
    let dir = short_tempdir();
    let file = dir.path().join("big.sql");
    dump(
        &source,
        &["--routines", "--triggers", "--events"],
        &DBS,
        &file,
    );
    client_load(&reference, &file);
    let want = rt.block_on(fingerprint(&reference, &DBS));
    let (user, password) = admin(&target);
    let state = PathBuf::from(format!("{}.ferry-import.json", file.display()));
    let total = 300_000u64;
    let all_rows = total + 400 + 1 + 7 + 4 + 2 + 50 + 3;
    let args = ["--parallel", "2", "--unit-bytes", "262144"];

    // Kill points: after some DDL, then four times after another 7% of the rows (each before
    // hard.big's secondary index is built: the resumed import builds it).
    let mut last = 0u64;
    for point in 0..5 {
        let mut child = ferry_import(&target, &user, &password, &file, &args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                let mut err = String::new();
                std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
                panic!("import ended before kill point {point}: {status}\n{err}");
            }
            let n = rt.block_on(rows(&target));
            let hit = if point == 0 {
                let text = std::fs::read_to_string(&state).unwrap_or_default();
                text.contains("\"ddl_done_end\"") && !text.contains("\"ddl_done_end\": 0")
            } else {
                n >= last + total * 7 / 100
            };
            if hit {
                child.kill().unwrap();
                child.wait().unwrap();
                eprintln!("killed at point {point} ({n} rows)");
                last = n;
                break;
            }
            assert!(Instant::now() < deadline, "kill point {point} not reached");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    // Kill point 5, after hard.big's index (built after its rows) is there: the test holds a
    // lock on hard.nopk, so the import stops at the dump's DROP TABLE of it, later in the
    // dump, with the index built. The resumed import must find the index and go on.
    let mut locker = rt.block_on(async {
        exec(&target, &["CREATE TABLE IF NOT EXISTS hard.nopk (a INT)"]).await;
        let mut c = target.admin_conn().await.unwrap();
        c.query_drop("LOCK TABLES hard.nopk READ").await.unwrap();
        c
    });
    let mut child = ferry_import(&target, &user, &password, &file, &args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    poll(
        "hard.big's index built and the import waiting on the lock",
        Duration::from_secs(120),
        String::new,
        || {
            rt.block_on(async {
                let mut c = target.admin_conn().await.ok()?;
                let state: Option<(u64, u64)> = c
                    .query_first(
                        "SELECT (SELECT COUNT(*) FROM information_schema.statistics \
                         WHERE table_schema = 'hard' AND table_name = 'big' AND index_name = 'k'), \
                         (SELECT COUNT(*) FROM information_schema.processlist \
                         WHERE info LIKE 'DROP TABLE IF EXISTS `nopk`%')",
                    )
                    .await
                    .ok()?;
                let _ = c.disconnect().await;
                (state == Some((1, 1))).then_some(())
            })
        },
    );
    child.kill().unwrap();
    child.wait().unwrap();
    rt.block_on(async {
        locker.query_drop("UNLOCK TABLES").await.unwrap();
        locker.disconnect().await.unwrap();
    });

    let out = ferry_import(&target, &user, &password, &file, &args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "resume: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(&format!("{all_rows} rows")), "{stdout}");
    let got = rt.block_on(fingerprint(&target, &DBS));
    assert_same(&want, &got, "killed and resumed");
    assert!(!state.exists(), "progress file left behind");
    let schemas: Vec<String> = rt.block_on(async {
        let mut c = target.admin_conn().await.unwrap();
        c.query("SHOW DATABASES LIKE 'ferry_import_state'")
            .await
            .unwrap()
    });
    assert!(
        schemas.is_empty(),
        "the import's state schema is left in the target"
    );

    // The target server killed (SIGKILL) and restarted under a running import: the import
    // retries and finishes with the same state.
    let mut target = target;
    rt.block_on(drop_dbs(&target));
    let child = ferry_import(&target, &user, &password, &file, &args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    poll(
        "rows loaded before the server kill",
        Duration::from_secs(120),
        String::new,
        || (rt.block_on(rows(&target)) >= total / 5).then_some(()),
    );
    rt.block_on(target.kill()).unwrap();
    rt.block_on(target.start_again()).unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "import across a server restart: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(&format!("{all_rows} rows")), "{stdout}");
    let got = rt.block_on(fingerprint(&target, &DBS));
    assert_same(&want, &got, "across a server restart");
}
