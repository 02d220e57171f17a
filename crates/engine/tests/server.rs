//! The engine against real MariaDB 10.11: discovery, datadir init, start / probe / stop /
//! restart, accounts, fast failures, a real mariabackup chain prepared with its binlog
//! position reported.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{
    binlog_info, copy_dir, free_port, process_alive, short_tempdir, test_config, test_init_options,
    toolbox, wait_gone, ServerDirs,
};
use ferry_engine::process::{run_to_completion, ProcessSpec};
use ferry_engine::toolbox::{ToolKind, ToolSearch};
use ferry_engine::{
    init_datadir, prepare, set_root_password, BackupFlavor, BinlogConfig, BinlogFormat,
    EngineError, Flavor, PrepareOptions, ReadyProbe, RunningServer, Server, ServerStatus, Toolbox,
};
use mysql_async::prelude::Queryable;

const START_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(60);

async fn query_count(server: &RunningServer, user: &str, password: Option<&str>) -> i64 {
    let mut conn = server.connect(user, password).await.expect("connect");
    let count: Option<i64> = conn
        .query_first("SELECT COUNT(*) FROM shop.orders")
        .await
        .expect("count orders");
    conn.disconnect().await.expect("disconnect");
    count.expect("one row")
}

async fn insert_orders(server: &RunningServer, from: u32, to: u32) {
    let mut conn = server.connect("root", None).await.expect("connect");
    conn.query_drop(format!(
        "INSERT INTO shop.orders (id, note) SELECT seq, CONCAT('order ', seq) FROM shop.seq_{from}_to_{to}"
    ))
    .await
    .expect("insert orders");
    conn.disconnect().await.expect("disconnect");
}

/// `mariabackup --backup` from a running server, through the engine's own process module.
async fn take_backup(tb: &Toolbox, server: &RunningServer, target: &Path, base: Option<&Path>) {
    let mut spec = ProcessSpec::new(tb.backup_tool())
        .arg("--no-defaults")
        .arg("--backup")
        .arg(format!("--target-dir={}", target.display()))
        .arg(format!("--socket={}", server.socket()))
        .arg("--user=root")
        .timeout(Duration::from_secs(120));
    if let Some(base) = base {
        spec = spec.arg(format!("--incremental-basedir={}", base.display()));
    }
    run_to_completion(spec).await.expect("mariabackup --backup");
}

#[tokio::test]
async fn toolbox_finds_mariadb_10_11_and_its_tools() {
    let tb = toolbox().await;
    let server = tb.server_version();
    assert_eq!(
        (server.flavor, server.series()),
        (Flavor::MariaDB, (10, 11)),
        "{server:?}"
    );
    assert_eq!(tb.backup_flavor(), BackupFlavor::MariaBackup);
    assert_eq!(tb.backup_version().series(), (10, 11));
    assert!(
        tb.server().ends_with("mariadbd"),
        "{}",
        tb.server().display()
    );
    for tool in [tb.install_db(), tb.mbstream(), tb.client()] {
        let path = tool.expect("installed");
        assert!(path.is_file(), "{}", path.display());
    }
}

#[tokio::test]
async fn an_override_pointing_nowhere_fails_discovery_naming_the_variable() {
    let search = ToolSearch {
        overrides: vec![(ToolKind::Server, "/nonexistent/mariadbd".into())],
        ..ToolSearch::from_env()
    };
    let err = Toolbox::discover_with(&search)
        .await
        .expect_err("bad override");
    assert!(
        matches!(
            err,
            EngineError::ToolOverrideInvalid {
                var: "FERRY_MARIADBD",
                ..
            }
        ),
        "{err:?}"
    );
}

/// The main path, on one datadir to keep the suite fast: init, start with binlog, write, back
/// up (full + incremental), stop cleanly, restart and see the data, accounts and probes, then
/// prepare the chain and start a server on the result.
#[tokio::test]
async fn server_lifecycle_backups_and_prepare() {
    let tb = toolbox().await;
    let dirs = ServerDirs::new();

    init_datadir(
        &tb,
        &dirs.datadir,
        &test_init_options(&dirs.path("install.log")),
    )
    .await
    .expect("init datadir");
    let again = init_datadir(
        &tb,
        &dirs.datadir,
        &test_init_options(&dirs.path("install.log")),
    )
    .await;
    assert!(
        matches!(again, Err(EngineError::DatadirNotEmpty { .. })),
        "{again:?}"
    );

    let mut cfg = test_config(&dirs.datadir, &dirs.run_dir, free_port());
    cfg.server_id = 11;
    cfg.binlog = Some(BinlogConfig {
        basename: "mysql-bin".to_owned(),
        format: BinlogFormat::Row,
    });

    // --- first start: schema and data over the socket, and TCP works too.
    let server = Server::start(&tb, &cfg, &dirs.run_dir, ReadyProbe::root(), START_TIMEOUT)
        .await
        .expect("server starts");
    assert!(process_alive(server.pid()));
    let mut conn = server
        .connect("root", None)
        .await
        .expect("connect over socket");
    conn.query_drop(
        "CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY, note VARCHAR(100)) ENGINE=InnoDB",
    )
    .await
    .expect("create schema");
    let (server_id, log_bin): (u32, String) = conn
        .query_first("SELECT @@server_id, @@log_bin")
        .await
        .expect("read settings")
        .expect("one row");
    assert_eq!(
        (server_id, log_bin.as_str()),
        (11, "1"),
        "config reached the server"
    );
    conn.disconnect().await.expect("disconnect");
    insert_orders(&server, 1, 1000).await;

    let tcp_opts = mysql_async::OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(server.port())
        .user(Some("root"));
    let mut tcp = mysql_async::Conn::new(tcp_opts)
        .await
        .expect("connect over TCP");
    let one: Option<i64> = tcp.query_first("SELECT 1").await.expect("select over TCP");
    assert_eq!(one, Some(1));
    tcp.disconnect().await.expect("disconnect");

    // --- a full backup, more writes, an incremental backup.
    let backups = short_tempdir();
    let full = backups.path().join("full");
    let inc = backups.path().join("inc1");
    take_backup(&tb, &server, &full, None).await;
    insert_orders(&server, 1001, 1500).await;
    take_backup(&tb, &server, &inc, Some(&full)).await;

    // --- accounts: a root password closes passwordless login.
    set_root_password(&server, "s3cret pass'word")
        .await
        .expect("set root password");
    assert!(matches!(
        server.connect("root", None).await,
        Err(EngineError::Connect { .. })
    ));
    assert_eq!(
        query_count(&server, "root", Some("s3cret pass'word")).await,
        1500
    );

    // --- clean stop, then a restart on the same datadir sees the data.
    let pid = server.pid();
    let stopped = server.stop(STOP_TIMEOUT).await.expect("stop");
    assert!(!stopped.forced && stopped.status.success(), "{stopped:?}");
    assert!(!process_alive(pid));
    let log = std::fs::read_to_string(&cfg.log_error).expect("error log");
    assert!(
        log.contains("Shutdown complete"),
        "clean shutdown is logged"
    );

    let started = Instant::now();
    let refused = Server::start(&tb, &cfg, &dirs.run_dir, ReadyProbe::root(), START_TIMEOUT).await;
    match refused {
        Err(EngineError::ProbeLoginRefused { user, .. }) => assert_eq!(user, "root"),
        other => panic!("expected ProbeLoginRefused, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "wrong credentials fail fast"
    );

    let probe = ReadyProbe::user("root", Some("s3cret pass'word".into()));
    let mut server = Server::start(&tb, &cfg, &dirs.run_dir, probe, START_TIMEOUT)
        .await
        .expect("restart");
    assert_eq!(
        query_count(&server, "root", Some("s3cret pass'word")).await,
        1500
    );
    assert_eq!(server.try_status().expect("status"), ServerStatus::Running);

    // unix_socket authentication (Debian's default for root) works with our client.
    if ferry_engine::running_as_root() {
        let mut conn = server
            .connect("root", Some("s3cret pass'word"))
            .await
            .expect("connect");
        conn.query_drop("ALTER USER root@localhost IDENTIFIED VIA unix_socket")
            .await
            .expect("switch root to unix_socket");
        conn.disconnect().await.expect("disconnect");
        assert_eq!(query_count(&server, "root", None).await, 1500);
    }

    // Dropping a running server stops it: no orphan.
    let pid = server.pid();
    drop(server);
    assert!(
        !process_alive(pid),
        "dropping a RunningServer stops the process"
    );

    // --- prepare the chain (on copies: prepare consumes the incremental's deltas).
    let work = short_tempdir();
    let target = work.path().join("restored");
    let inc_copy = work.path().join("inc1");
    copy_dir(&full, &target);
    copy_dir(&inc, &inc_copy);
    let opts = PrepareOptions::new(work.path().join("prepare.log"));

    let report = prepare(&tb, &target, None, &opts)
        .await
        .expect("prepare full");
    assert_eq!(
        report.last_binlog,
        Some(binlog_info(&full)),
        "full backup coordinates"
    );
    let report = prepare(&tb, &target, Some(&inc_copy), &opts)
        .await
        .expect("apply incremental");
    assert_eq!(
        report.last_binlog,
        Some(binlog_info(&inc)),
        "incremental coordinates"
    );
    assert_eq!(report.flavor, BackupFlavor::MariaBackup);
    let prepare_log =
        std::fs::read_to_string(&opts.log_path).expect("prepare log beside the target");
    assert_eq!(
        prepare_log.matches("---- ferry: ").count(),
        2,
        "both steps logged"
    );

    // A server on the prepared datadir, whose accounts we "do not know": skip grant tables.
    let run2 = work.path().join("run");
    let mut cfg2 = test_config(&target, &run2, free_port());
    cfg2.skip_grant_tables = true;
    cfg2.skip_networking = true;
    let restored = Server::start(
        &tb,
        &cfg2,
        &run2,
        ReadyProbe::user("anyone", None),
        START_TIMEOUT,
    )
    .await
    .expect("server on the prepared datadir");
    assert_eq!(query_count(&restored, "anyone", None).await, 1500);
    let stopped = restored.stop(STOP_TIMEOUT).await.expect("stop restored");
    assert!(!stopped.forced);
}

#[tokio::test]
async fn prepare_failure_quotes_the_tool_output() {
    let tb = toolbox().await;
    let work = short_tempdir();
    let target = work.path().join("broken");
    std::fs::create_dir_all(&target).expect("mkdir");
    std::fs::write(
        target.join("xtrabackup_checkpoints"),
        "backup_type = full-backuped\nfrom_lsn = 0\nto_lsn = 100\nlast_lsn = 100\n",
    )
    .expect("write checkpoints");
    let err = prepare(
        &tb,
        &target,
        None,
        &PrepareOptions::new(work.path().join("p.log")),
    )
    .await
    .expect_err("no data files: prepare fails");
    assert!(matches!(err, EngineError::PrepareFailed { .. }), "{err:?}");
    let tail = err.output_tail().expect("the tool's output is carried");
    assert!(!tail.trim().is_empty());

    let not_backup = prepare(&tb, work.path(), None, &PrepareOptions::new("/tmp/x.log")).await;
    assert!(
        matches!(not_backup, Err(EngineError::NotABackup { .. })),
        "{not_backup:?}"
    );
}

#[tokio::test]
async fn a_bad_option_fails_fast_quoting_the_error_log() {
    let tb = toolbox().await;
    let dirs = ServerDirs::new();
    std::fs::create_dir_all(&dirs.datadir).expect("datadir");
    let mut cfg = test_config(&dirs.datadir, &dirs.run_dir, free_port());
    cfg.extra
        .push(("no-such-option".to_owned(), "1".to_owned()));
    let started = Instant::now();
    let err = Server::start(
        &tb,
        &cfg,
        &dirs.run_dir,
        ReadyProbe::root(),
        Duration::from_secs(120),
    )
    .await
    .expect_err("unknown option");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    match &err {
        EngineError::ServerExited { log_tail, .. } => {
            assert!(
                log_tail.contains("unknown variable 'no-such-option=1'"),
                "{log_tail}"
            )
        }
        other => panic!("expected ServerExited, got {other:?}"),
    }
    assert!(err.to_string().contains("unknown variable"), "{err}");
}

#[tokio::test]
async fn an_occupied_port_fails_fast_quoting_the_error_log() {
    let tb = toolbox().await;
    let dirs = ServerDirs::new();
    std::fs::create_dir_all(&dirs.datadir).expect("datadir");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let cfg = test_config(&dirs.datadir, &dirs.run_dir, port);
    let started = Instant::now();
    let err = Server::start(
        &tb,
        &cfg,
        &dirs.run_dir,
        ReadyProbe::root(),
        Duration::from_secs(120),
    )
    .await
    .expect_err("port in use");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    match &err {
        EngineError::ServerExited { log_tail, .. } => {
            assert!(log_tail.contains("Address already in use"), "{log_tail}")
        }
        other => panic!("expected ServerExited, got {other:?}"),
    }
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_with_the_last_probe_error() {
    let tools = short_tempdir();
    let fake = tools.path().join("mariadbd");
    let pid_file = tools.path().join("fake.pid");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\ncase \"$*\" in *--version*) echo 'mariadbd  Ver 10.11.0-MariaDB fake'; exit 0;; esac\n\
             echo $$ > {}\necho 'fake server warming up' >&2\nwhile :; do sleep 0.05; done\n",
            pid_file.display()
        ),
    )
    .expect("write fake server");
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let search = ToolSearch {
        overrides: vec![(ToolKind::Server, fake.clone())],
        ..ToolSearch::from_env()
    };
    let tb = Toolbox::discover_with(&search)
        .await
        .expect("discover with fake server");

    let dirs = ServerDirs::new();
    std::fs::create_dir_all(&dirs.datadir).expect("datadir");
    let cfg = test_config(&dirs.datadir, &dirs.run_dir, free_port());
    let started = Instant::now();
    let err = Server::start(
        &tb,
        &cfg,
        &dirs.run_dir,
        ReadyProbe::root(),
        Duration::from_secs(1),
    )
    .await
    .expect_err("never ready");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    match &err {
        EngineError::ServerStartTimeout {
            last_probe_error,
            log_tail,
            ..
        } => {
            assert!(
                last_probe_error.contains("does not exist yet"),
                "{last_probe_error}"
            );
            assert!(log_tail.contains("fake server warming up"), "{log_tail}");
        }
        other => panic!("expected ServerStartTimeout, got {other:?}"),
    }
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .expect("fake wrote its pid")
        .trim()
        .parse()
        .expect("pid");
    assert!(
        wait_gone(pid, Duration::from_secs(5)).await,
        "the timed-out server was stopped"
    );
}
