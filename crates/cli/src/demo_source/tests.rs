//! The demo source against real MariaDB, checked with ferry's own data path: the parts it
//! writes must inspect as a base + one incremental, and restore to exactly the state and
//! binlog coordinates it recorded.

use std::sync::{Arc, Mutex};

use camino::{Utf8Path, Utf8PathBuf};
use ferry_engine::{ReadyProbe, Server, ServerConfig, Toolbox};
use ferry_restore::{FetchOptions, Progress, RestoreOptions, S3Options, Source, SourceUrl};

use super::*;

/// A TCP port on 127.0.0.1 that was free a moment ago.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

#[test]
fn options_are_validated_before_anything_starts() {
    let base = DemoSourceOptions::new("/tmp/w".into(), "/tmp/b".into(), 3307);
    assert!(base.validate().is_ok());
    for prefix in ["", "/abs", "a//b", "../up", "a/./b"] {
        let opts = DemoSourceOptions {
            prefix: prefix.to_owned(),
            ..base.clone()
        };
        assert!(opts.validate().is_err(), "prefix {prefix:?} accepted");
    }
    let small = DemoSourceOptions {
        part_size: 1000,
        ..base.clone()
    };
    let message = format!("{:#}", small.validate().expect_err("tiny parts refused"));
    assert!(message.contains("part size"), "{message}");
}

#[test]
fn passwords_are_random_and_option_file_safe() {
    let a = random_password();
    assert_eq!(a.len(), PASSWORD_LEN);
    assert!(a.chars().all(|c| c.is_ascii_alphanumeric()), "{a}");
    assert_ne!(a, random_password());
}

/// `ferry demo` may run the build on a spawned task.
#[test]
fn the_build_future_can_be_spawned() {
    fn assert_send<T: Send>(_: &T) {}
    let opts = DemoSourceOptions::new("/nonexistent/w".into(), "/nonexistent/b".into(), 1);
    let future = build(&opts, &|_| {});
    assert_send(&future);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_source_backs_up_a_chain_that_restores_to_the_recorded_state() {
    // Under /tmp: the server's unix socket path must stay short.
    let dir = tempfile::Builder::new()
        .prefix("fds-")
        .tempdir_in("/tmp")
        .expect("temp dir");
    let root = Utf8Path::from_path(dir.path()).expect("UTF-8 temp dir");
    let mut opts = DemoSourceOptions::new(root.join("w"), root.join("bucket"), free_port());
    opts.rows = 4_000;
    opts.part_size = 2 << 20;

    let lines = Mutex::new(Vec::<String>::new());
    let source = build(&opts, &|line| {
        lines.lock().expect("report lock").push(line.to_owned())
    })
    .await
    .expect("build the demo source");
    let lines = lines.into_inner().expect("report lock");
    assert!(
        lines.iter().any(|l| l.starts_with("full backup: "))
            && lines.iter().any(|l| l.starts_with("incremental backup: ")),
        "{lines:#?}"
    );
    let debug = format!("{source:?}");
    assert!(
        !debug.contains(source.root_password.expose())
            && !debug.contains(source.repl_password.expose())
    );

    // The parts: several for the full backup, named like `split -d` output.
    let backup_root = source.backup_root();
    let in_set = |set: &str| -> Vec<&Utf8PathBuf> {
        let dir = backup_root.join(set);
        source
            .parts
            .iter()
            .filter(|p| p.starts_with(&dir))
            .collect()
    };
    let (full, inc) = (in_set(FULL_SET), in_set(INCREMENTAL_SET));
    assert!(full.len() >= 2, "full backup in {} part(s)", full.len());
    assert!(!inc.is_empty());
    assert_eq!(full.len() + inc.len(), source.parts.len());
    assert_eq!(
        full[0],
        &backup_root.join(FULL_SET).join("backup.xbstream.00")
    );
    for part in &full[..full.len() - 1] {
        let len = std::fs::metadata(part).expect("part metadata").len();
        assert_eq!(len, opts.part_size, "{part}");
    }

    // The recorded state: every base table, with data.
    let names: Vec<&str> = source.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "coupons",
            "customers",
            "order_audit",
            "order_items",
            "orders",
            "products",
            "reviews",
            "search_log"
        ]
    );
    assert!(
        source.tables.iter().all(|t| t.rows > 0),
        "{:?}",
        source.tables
    );
    assert!(source.gtid.starts_with("0-1-"), "{}", source.gtid);

    // ferry's data path plans the chain from the parts...
    let src = Source::open(
        &SourceUrl::Local(backup_root.clone().into_std_path_buf()),
        &S3Options::default(),
    )
    .expect("open the local bucket");
    let report = ferry_restore::inspect(&src, FetchOptions::default(), Arc::new(Progress::new()))
        .await
        .expect("inspect");
    assert!(report.restorable, "{:#?}", report.problems);
    assert_eq!(
        report.chain,
        ["full/backup.xbstream", "inc1/backup.xbstream"]
    );
    let parts_of = |name: &str| {
        report
            .sets
            .iter()
            .find(|s| s.name == name)
            .map(|s| (s.kind.clone(), s.format.clone(), s.parts))
    };
    assert_eq!(
        parts_of("full/backup.xbstream"),
        Some(("full".to_owned(), "xbstream".to_owned(), full.len()))
    );
    assert_eq!(
        parts_of("inc1/backup.xbstream"),
        Some(("incremental".to_owned(), "xbstream".to_owned(), inc.len()))
    );

    // ...and restores it to exactly the recorded state.
    let target = root.join("restored");
    let restored = ferry_restore::restore(
        &src,
        &RestoreOptions::new(target.as_std_path()),
        Arc::new(Progress::new()),
    )
    .await
    .expect("restore the demo chain");
    assert_eq!(
        (
            restored.binlog_file.as_deref(),
            restored.binlog_position,
            restored.gtid.as_deref()
        ),
        (
            Some(source.binlog_file.as_str()),
            Some(source.binlog_position),
            Some(source.gtid.as_str())
        )
    );
    let tb = Toolbox::discover().await.expect("toolbox");
    let run = root.join("restored-run");
    let mut cfg = ServerConfig::new(target.clone(), &run, free_port());
    cfg.skip_grant_tables = true;
    cfg.skip_networking = true;
    let copy = Server::start(
        &tb,
        &cfg,
        run.as_std_path(),
        ReadyProbe::user("anyone", None),
        START_TIMEOUT,
    )
    .await
    .expect("start MariaDB on the restored datadir");
    let mut conn = copy.connect("anyone", None).await.expect("connect");
    let tables = summarize_schema(&mut conn, SCHEMA)
        .await
        .expect("summarize the restored schema");
    conn.disconnect().await.expect("disconnect");
    assert_eq!(tables, source.tables);

    copy.stop(STOP_TIMEOUT)
        .await
        .expect("stop the restored copy");
    source.stop().await.expect("stop the demo source");
}
