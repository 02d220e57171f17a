//! Encrypted replication through the procedures against real servers: a source with TLS (a CA
//! and certificates made by the test) and a replication user `REQUIRE SSL`, SSL material
//! imported by the master user through `mysql.rds_import_binlog_ssl_material`.
//!
//! In order, on one pair of servers: material refused (bad JSON, a missing key, a key that
//! does not match its certificate), `ssl_encryption = 1` refused without material, a plain
//! link refused by the `REQUIRE SSL` user, a wrong CA (the IO thread's TLS error is visible),
//! the right material (replication runs, the source shows the connection encrypted, the
//! monitor reads the source over TLS too), and removing the material.

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::time::{Duration, Instant};

use common::*;
use ferry_replication::agent::{messages, Notice};
use ferry_replication::monitor::{LagSource, Monitor, Transition};
use ferry_replication::source;
use ferry_replication::ssl::{SslField, SslMaterialError};
use ferry_testkit::{TestCa, TestPki, TestServerOptions};
use mysql_async::prelude::Queryable;

const WAIT: Duration = Duration::from_secs(30);

fn quoted(text: &str) -> String {
    mysql_async::Value::from(text).as_sql(false)
}

fn material(ca: &str, cert: &str, key: &str) -> String {
    serde_json::json!({ "ssl_ca": ca, "ssl_cert": cert, "ssl_key": key }).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_replication_with_imported_material() -> anyhow::Result<()> {
    let pki_dir = ferry_testkit::short_tempdir();
    let pki = TestPki::generate(pki_dir.path())?;
    let path = |p: &std::path::Path| p.to_string_lossy().into_owned();
    let source_options = TestServerOptions::with_binlog(11)
        .option("ssl-ca", path(&pki.ca_path))
        .option("ssl-cert", path(&pki.server_cert_path))
        .option("ssl-key", path(&pki.server_key_path))
        .option("performance-schema", "ON");
    let pair = Pair::start(source_options, TestServerOptions::with_binlog(12)).await?;
    let mut src = pair.source.admin_conn().await?;
    let mut rep = pair.replica.admin_conn().await?;
    create_repl_user(&mut src, "REQUIRE SSL").await?;
    let start = source::read_position(&mut src).await?.coord;
    let mut agent = AgentTask::spawn(&pair.replica, pair.ctx.clone());
    let mut master = pair.master().await?;
    let port = pair.source.port();
    let set = |ssl: u8| {
        format!(
            "rds_set_external_master('127.0.0.1', {port}, '{REPL_USER}', {}, '{}', {}, {ssl})",
            quoted(REPL_PASSWORD),
            start.file,
            start.pos
        )
    };

    // --- Material that is refused, with the validator's one-line texts.
    let import = |json: &str| format!("rds_import_binlog_ssl_material({})", quoted(json));
    match call(&mut master, &import("{\"ssl_ca\": ")).await {
        Err((1644, text)) => assert!(
            text.starts_with("Invalid SSL material: not valid JSON"),
            "{text}"
        ),
        other => panic!("bad JSON: {other:?}"),
    }
    let missing =
        serde_json::json!({ "ssl_ca": pki.ca_pem, "ssl_cert": pki.client_cert_pem }).to_string();
    expect_error(
        &mut master,
        &import(&missing),
        &SslMaterialError::MissingKey(SslField::Key).to_string(),
    )
    .await;
    let other_client = pki.ca.issue_client("someone else")?;
    expect_error(
        &mut master,
        &import(&material(
            &pki.ca_pem,
            &pki.client_cert_pem,
            &other_client.key_pem,
        )),
        &SslMaterialError::KeyMismatch.to_string(),
    )
    .await;
    assert!(!pair.ctx.ssl.is_present());
    expect_error(&mut master, &set(1), messages::SSL_MATERIAL_MISSING).await;

    // --- A plain link: the REQUIRE SSL user is refused, visibly.
    expect_rows(&mut master, &set(0), &[]).await;
    expect_error(
        &mut master,
        "rds_start_replication()",
        messages::START_ERROR,
    )
    .await;
    let status = replica_status(&mut master).await?;
    let io_error = status.last_io_error.clone().expect("an IO error");
    assert_eq!(io_error.errno, 1045, "{io_error}");
    expect_rows(&mut master, "rds_stop_replication()", &[messages::STOPPED]).await;

    // --- Material whose CA did not sign the source's certificate.
    let wrong_ca = TestCa::generate("not the source's CA")?;
    expect_rows(
        &mut master,
        &import(&material(
            &wrong_ca.cert_pem,
            &pki.client_cert_pem,
            &pki.client_key_pem,
        )),
        &[messages::SSL_IMPORTED],
    )
    .await;
    expect_rows(&mut master, &set(1), &[]).await;
    expect_error(
        &mut master,
        "rds_start_replication()",
        messages::START_ERROR,
    )
    .await;
    let status = replica_status(&mut master).await?;
    let io_error = status.last_io_error.clone().expect("an IO error");
    assert_eq!(io_error.errno, 2026, "{io_error}");
    let mut monitor = Monitor::new(&pair.ctx);
    let (_, transitions) = monitor.sample(&mut rep, Instant::now()).await?;
    match transitions.as_slice() {
        [Transition::Broke { error }] => {
            assert!(error.starts_with("IO thread error 2026: "), "{error}")
        }
        other => panic!("expected Broke, got {other:?}"),
    }
    expect_rows(&mut master, "rds_stop_replication()", &[messages::STOPPED]).await;

    // --- The right material: files only the server's user can read, an encrypted link.
    expect_rows(
        &mut master,
        &import(&pki.ssl_material_json()),
        &[messages::SSL_IMPORTED],
    )
    .await;
    let paths = pair.ctx.ssl.paths();
    for file in [&paths.ca, &paths.cert, &paths.key] {
        let mode = std::fs::metadata(file)?.permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{file}");
    }
    expect_rows(&mut master, &set(1), &[]).await;
    expect_rows(&mut master, "rds_start_replication()", &[messages::STARTED]).await;
    let status = replica_status(&mut master).await?;
    assert!(status.master_ssl_allowed && !status.master_ssl_verify_server_cert);
    assert_eq!(status.master_ssl_ca_file, paths.ca.as_str());
    assert_eq!(status.master_ssl_key, paths.key.as_str());

    src.query_drop("CREATE DATABASE secure").await?;
    src.query_drop("CREATE TABLE secure.t (id INT PRIMARY KEY, v VARCHAR(20))")
        .await?;
    src.query_drop("INSERT INTO secure.t SELECT seq, 'over tls' FROM secure.seq_1_to_200")
        .await?;
    wait_same_checksum(&mut src, &mut rep, "secure.t").await?;

    // The source sees its binlog dump connection encrypted.
    let (user, ssl_version): (String, String) = {
        let deadline = Deadline::new("the source shows the dump thread's TLS version", WAIT);
        loop {
            let row: Option<(String, String)> = src
                .query_first(
                    "SELECT t.PROCESSLIST_USER, s.VARIABLE_VALUE \
                     FROM performance_schema.threads t \
                     JOIN performance_schema.status_by_thread s ON s.THREAD_ID = t.THREAD_ID \
                     WHERE t.PROCESSLIST_COMMAND = 'Binlog Dump' AND s.VARIABLE_NAME = 'Ssl_version'",
                )
                .await?;
            if let Some(row) = row {
                break row;
            }
            deadline.tick().await?;
        }
    };
    assert_eq!(user, REPL_USER);
    eprintln!("source: binlog dump thread of {user} uses {ssl_version}");
    assert!(ssl_version.starts_with("TLSv1."), "{ssl_version:?}");

    // The monitor reads the source's position over TLS with the same material.
    let deadline = Deadline::new("the monitor uses the heartbeat over TLS", WAIT);
    loop {
        let (sample, _) = monitor.sample(&mut rep, Instant::now()).await?;
        if sample.lag_source == LagSource::Heartbeat && sample.lag == Some(Duration::ZERO) {
            break;
        }
        deadline.tick().await?;
    }

    // --- Removing the material: not while the link uses it.
    expect_error(
        &mut master,
        "rds_remove_binlog_ssl_material()",
        messages::REMOVE_SSL_WHILE_RUNNING,
    )
    .await;
    expect_rows(&mut master, "rds_stop_replication()", &[messages::STOPPED]).await;
    expect_rows(
        &mut master,
        "rds_remove_binlog_ssl_material()",
        &[messages::SSL_REMOVED],
    )
    .await;
    assert!(!pair.ctx.ssl.is_present() && !paths.key.exists());
    expect_error(
        &mut master,
        "rds_start_replication()",
        messages::START_SSL_MATERIAL_MISSING,
    )
    .await;
    expect_rows(
        &mut master,
        "rds_remove_binlog_ssl_material()",
        &[messages::SSL_NOTHING_TO_REMOVE],
    )
    .await;
    let notices = agent.drain();
    assert!(
        notices.contains(&Notice::SslMaterialImported),
        "{notices:?}"
    );
    assert!(notices.contains(&Notice::SslMaterialRemoved), "{notices:?}");

    // No key material in the history.
    let history: Vec<(String, String)> = master
        .query("SELECT arguments, message FROM mysql.rds_history")
        .await?;
    for (arguments, message) in &history {
        assert!(!arguments.contains("PRIVATE KEY") && !message.contains("PRIVATE KEY"));
        assert!(!arguments.contains(REPL_PASSWORD));
    }
    agent.stop().await;
    Ok(())
}
