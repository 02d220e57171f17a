//! The replication source against a real MariaDB 10.11 with TLS (certificates from the
//! testkit's PKI, which this also proves MariaDB accepts as `ssl-cert` / `ssl-key`): plain and
//! TLS connections, CA verification right and wrong, a client certificate for a user created
//! `REQUIRE X509`, the binlog position advancing and rotating, `read_only` blocking an
//! ordinary user; then the same server restarted without binlog and TLS for the two errors
//! that needs.
//!
//! One server for the whole file, to keep the suite fast on two cores.

use std::time::Duration;

use camino::{Utf8Path, Utf8PathBuf};
use ferry_engine::{
    init_datadir, BinlogConfig, BinlogFormat, InitOptions, ReadyProbe, RunningServer, Server,
    ServerConfig, Toolbox,
};
use ferry_replication::source::{read_position, set_read_only, SourceEndpoint, SourceTls};
use ferry_replication::ReplicationError;
use ferry_testkit::{free_port, short_tempdir, TestCa, TestPki};
use mysql_async::prelude::Queryable as _;

const START_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(60);
const SMALL_REDO: u64 = 8 << 20;
const SMALL_POOL: u64 = 32 << 20;
const ER_OPTION_PREVENTS_STATEMENT: u16 = 1290;
const ER_ACCESS_DENIED: u16 = 1045;

fn utf8(path: &std::path::Path) -> Utf8PathBuf {
    Utf8PathBuf::from_path_buf(path.to_path_buf()).expect("UTF-8 temp path")
}

fn config(datadir: &Utf8Path, run_dir: &Utf8Path, port: u16) -> ServerConfig {
    let mut cfg = ServerConfig::new(datadir.to_owned(), run_dir, port);
    cfg.buffer_pool_bytes = SMALL_POOL;
    cfg.redo_log_bytes = Some(SMALL_REDO);
    cfg.max_connections = 30;
    cfg.server_id = 7;
    cfg.extra = vec![("innodb-flush-log-at-trx-commit".to_owned(), "2".to_owned())];
    cfg
}

fn url(user: &str, password: &str, port: u16, query: &str) -> SourceEndpoint {
    let text = format!("mysql://{user}:{password}@127.0.0.1:{port}?{query}");
    SourceEndpoint::from_url(&text).unwrap_or_else(|err| panic!("{text}: {err}"))
}

/// The TLS cipher of a connection's session ("" over plain TCP).
async fn cipher(conn: &mut mysql_async::Conn) -> String {
    let row: Option<(String, String)> = conn
        .query_first("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        .await
        .expect("read Ssl_cipher");
    row.map(|(_, value)| value).unwrap_or_default()
}

/// The server error code at the bottom of a connect error.
fn server_code(err: &ReplicationError) -> Option<u16> {
    match err {
        ReplicationError::SourceConnect {
            source: mysql_async::Error::Server(server),
            ..
        }
        | ReplicationError::Source {
            source: mysql_async::Error::Server(server),
            ..
        } => Some(server.code),
        _ => None,
    }
}

/// The error and its causes, as a person reading a log would see them.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

async fn start(tb: &Toolbox, cfg: &ServerConfig, run_dir: &Utf8Path) -> RunningServer {
    Server::start(
        tb,
        cfg,
        run_dir.as_std_path(),
        ReadyProbe::root(),
        START_TIMEOUT,
    )
    .await
    .expect("server starts")
}

#[tokio::test]
async fn source_connections_positions_and_read_only_against_mariadb() {
    let tb = Toolbox::discover()
        .await
        .expect("MariaDB 10.11 tools are installed (scripts/install-deps)");
    let root = short_tempdir();
    let base = utf8(root.path());
    let (datadir, run_dir, pki_dir) = (base.join("data"), base.join("run"), base.join("pki"));
    std::fs::create_dir_all(&pki_dir).expect("pki dir");
    let pki = TestPki::generate(pki_dir.as_std_path()).expect("test PKI");
    let wrong_ca = TestCa::generate("some other CA")
        .and_then(|ca| ca.write(pki_dir.as_std_path(), "wrong-ca.pem"))
        .expect("wrong CA");
    let path = |p: &std::path::Path| utf8(p).to_string();
    let sec1_key = pki_dir.join("client-key-sec1.pem");
    std::fs::write(&sec1_key, &pki.client_key_sec1_pem).expect("write SEC1 key");

    init_datadir(
        &tb,
        datadir.as_std_path(),
        &InitOptions {
            log_path: Some(base.join("init.log").into_std_path_buf()),
            server_args: vec![
                format!("--innodb-log-file-size={SMALL_REDO}"),
                format!("--innodb-buffer-pool-size={SMALL_POOL}"),
            ],
            ..InitOptions::default()
        },
    )
    .await
    .expect("init datadir");

    let port = free_port();
    let mut cfg = config(&datadir, &run_dir, port);
    cfg.binlog = Some(BinlogConfig {
        basename: "mysql-bin".to_owned(),
        format: BinlogFormat::Row,
    });
    for (name, file) in [
        ("ssl-ca", &pki.ca_path),
        ("ssl-cert", &pki.server_cert_path),
        ("ssl-key", &pki.server_key_path),
    ] {
        cfg.extra.push((name.to_owned(), path(file)));
    }
    let server = start(&tb, &cfg, &run_dir).await;

    let mut admin = server
        .connect("root", None)
        .await
        .expect("root over the socket");
    admin
        .query_drop(
            "CREATE USER 'boss'@'%' IDENTIFIED BY 'b0ss pass';
             GRANT ALL PRIVILEGES ON *.* TO 'boss'@'%';
             CREATE USER 'tls'@'%' IDENTIFIED BY 'tls pass' REQUIRE SSL;
             GRANT BINLOG MONITOR ON *.* TO 'tls'@'%';
             CREATE USER 'x509'@'%' IDENTIFIED BY 'x509 pass' REQUIRE X509;
             CREATE USER 'app'@'%' IDENTIFIED BY 'app pass';
             CREATE DATABASE shop;
             CREATE TABLE shop.orders (id INT PRIMARY KEY) ENGINE=InnoDB;
             GRANT SELECT, INSERT ON shop.* TO 'app'@'%';",
        )
        .await
        .expect("create accounts and schema");

    // --- plain TCP.
    let plain = url("boss", "b0ss%20pass", port, "ssl-mode=DISABLED");
    assert_eq!(plain.tls, SourceTls::Off);
    let mut boss = plain.connect().await.expect("plain connection");
    assert_eq!(cipher(&mut boss).await, "", "plain TCP is not encrypted");

    // --- REQUIRED: encrypted, certificate not checked; a REQUIRE SSL user needs it.
    let mut tls = url("tls", "tls%20pass", port, "ssl-mode=REQUIRED")
        .connect()
        .await
        .expect("TLS connection");
    assert_ne!(cipher(&mut tls).await, "", "REQUIRED encrypts");
    let err = url("tls", "tls%20pass", port, "ssl-mode=DISABLED")
        .connect()
        .await
        .expect_err("a REQUIRE SSL user over plain TCP");
    assert_eq!(server_code(&err), Some(ER_ACCESS_DENIED), "{err:?}");
    assert!(
        err.to_string().contains(&format!("tls@127.0.0.1:{port}")),
        "{err}"
    );

    // --- VERIFY_CA / VERIFY_IDENTITY: the right CA passes, a wrong one fails naming the source.
    let ca = path(&pki.ca_path);
    for query in [
        format!("ssl-ca={ca}"),
        format!("ssl-mode=VERIFY_IDENTITY&ssl-ca={ca}"),
    ] {
        let mut conn = url("tls", "tls%20pass", port, &query)
            .connect()
            .await
            .unwrap_or_else(|err| panic!("{query}: {}", chain(&err)));
        assert_ne!(cipher(&mut conn).await, "");
        conn.disconnect().await.expect("disconnect");
    }
    let err = url(
        "tls",
        "tls%20pass",
        port,
        &format!("ssl-ca={}", path(&wrong_ca)),
    )
    .connect()
    .await
    .expect_err("a CA that did not sign the server's certificate");
    assert!(
        matches!(err, ReplicationError::SourceConnect { .. }),
        "{err:?}"
    );
    let shown = chain(&err);
    assert!(
        shown.contains(&format!("the source tls@127.0.0.1:{port}")),
        "{shown}"
    );
    assert!(shown.to_lowercase().contains("certificate"), "{shown}");
    let err = url("tls", "x", port, "ssl-ca=/nonexistent/ca.pem")
        .connect()
        .await
        .expect_err("a missing CA file");
    assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");

    // --- a client certificate for a REQUIRE X509 user, with its key in PKCS#8 and SEC1.
    for key in [path(&pki.client_key_path), sec1_key.to_string()] {
        let query = format!(
            "ssl-mode=VERIFY_CA&ssl-ca={ca}&ssl-cert={}&ssl-key={key}",
            path(&pki.client_cert_path)
        );
        let mut conn = url("x509", "x509%20pass", port, &query)
            .connect()
            .await
            .unwrap_or_else(|err| panic!("{query}: {}", chain(&err)));
        assert_ne!(cipher(&mut conn).await, "");
        conn.disconnect().await.expect("disconnect");
    }
    let err = url("x509", "x509%20pass", port, "ssl-mode=REQUIRED")
        .connect()
        .await
        .expect_err("REQUIRE X509 without a client certificate");
    assert_eq!(server_code(&err), Some(ER_ACCESS_DENIED), "{err:?}");

    // --- the binlog position moves with writes and across a rotation.
    let before = read_position(&mut tls).await.expect("position over TLS");
    assert!(before.coord.file.starts_with("mysql-bin."), "{before:?}");
    boss.query_drop("INSERT INTO shop.orders VALUES (1), (2), (3)")
        .await
        .expect("write");
    let after = read_position(&mut boss).await.expect("position");
    assert!(after.coord > before.coord, "{before:?} -> {after:?}");
    let gtid = after.gtid.clone().expect("MariaDB reports a GTID position");
    assert!(gtid.starts_with("0-7-"), "{gtid}");
    boss.query_drop("FLUSH BINARY LOGS").await.expect("rotate");
    let rotated = read_position(&mut boss).await.expect("position");
    assert!(rotated.coord > after.coord, "{after:?} -> {rotated:?}");
    assert_eq!(
        rotated.coord.file_number(),
        after.coord.file_number().map(|n| n + 1)
    );
    assert_eq!(rotated.gtid, after.gtid, "a rotation is not a transaction");

    // --- read_only: an ordinary account cannot write until it is turned off.
    let mut app = url("app", "app%20pass", port, "")
        .connect()
        .await
        .expect("app connects");
    app.query_drop("INSERT INTO shop.orders VALUES (10)")
        .await
        .expect("app writes");
    set_read_only(&mut boss, true).await.expect("read_only on");
    match app.query_drop("INSERT INTO shop.orders VALUES (11)").await {
        Err(mysql_async::Error::Server(err)) => {
            assert_eq!(err.code, ER_OPTION_PREVENTS_STATEMENT, "{err:?}")
        }
        other => panic!("a write under read_only: {other:?}"),
    }
    let frozen = read_position(&mut boss).await.expect("position");
    assert_eq!(
        frozen.coord,
        read_position(&mut tls).await.expect("again").coord
    );
    set_read_only(&mut boss, false)
        .await
        .expect("read_only off");
    app.query_drop("INSERT INTO shop.orders VALUES (11)")
        .await
        .expect("app writes again");
    let err = set_read_only(&mut app, true)
        .await
        .expect_err("an ordinary account cannot set read_only");
    assert!(
        err.to_string().contains("SET GLOBAL read_only = ON"),
        "{err}"
    );
    assert!(
        err.to_string().contains(&format!("app@127.0.0.1:{port}")),
        "{err}"
    );

    for conn in [boss, tls, app, admin] {
        conn.disconnect().await.expect("disconnect");
    }
    server.stop(STOP_TIMEOUT).await.expect("stop");

    // --- the same datadir without binlog and without TLS.
    let cfg = config(&datadir, &run_dir, port);
    let server = start(&tb, &cfg, &run_dir).await;
    let mut boss = plain.connect().await.expect("plain connection");
    let err = read_position(&mut boss)
        .await
        .expect_err("no binlog, no position");
    assert!(
        matches!(err, ReplicationError::SourceNoBinlog { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(&format!("boss@127.0.0.1:{port}")),
        "{err}"
    );
    let err = url("boss", "b0ss%20pass", port, "ssl-mode=PREFERRED")
        .connect()
        .await
        .expect_err("TLS asked of a server without it");
    assert!(
        matches!(err, ReplicationError::SourceTlsUnavailable { .. }),
        "{err:?}"
    );
    boss.disconnect().await.expect("disconnect");
    server.stop(STOP_TIMEOUT).await.expect("stop");
}
