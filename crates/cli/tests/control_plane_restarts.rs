//! `ferry serve` stopped, killed (SIGKILL) or restarted in the middle of the work: a restore
//! resumes where it was, the engine set-up resumes from the saved restore report, instances
//! start again, and servers or tools a killed control plane left behind are stopped first.

mod common;

use std::time::Duration;

use common::serve::{connect, data_dir, restore_args, Serve, PASSWORD};
use serde_json::json;

/// `ferry serve` stopped in the middle of a restore resumes it; stopped with a running
/// instance, it starts the instance again.
#[test]
fn restart_in_the_middle_of_a_restore() {
    // The bucket is behind a proxy that stalls the last incremental, so the restore is surely
    // still running (with the other sets complete in staging) when ferry serve is stopped.
    let s3_root = tempfile::tempdir().unwrap();
    let s3 = ferry_testkit::S3Server::start(s3_root.path()).unwrap();
    s3.create_bucket("backups").unwrap();
    s3.put_tree("backups", "", &common::chain("targz")).unwrap();
    let proxy = ferry_testkit::FaultProxy::start(
        s3.addr(),
        ferry_testkit::FaultPlan::single(
            ferry_testkit::FaultRule::stall(Duration::from_secs(600))
                .always()
                .path_contains("inc2.tar.gz"),
        ),
    )
    .unwrap();
    let (_tmp, dir) = data_dir();
    let mut serve = Serve::launch(&dir, &[], s3.env_vars_via(&proxy.endpoint()));
    let port = ferry_testkit::free_port();
    let port_s = port.to_string();
    serve.aws(&restore_args("again", "backups", &port_s)).json();

    let sets = dir.join("staging/again/sets");
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let complete = std::fs::read_dir(&sets)
            .map(|d| {
                d.flatten()
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".complete"))
                    .count()
            })
            .unwrap_or(0);
        if complete >= 2 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "full and inc1 never completed:\n{}",
            serve.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let c = serve.cluster("again");
    assert_eq!(c["Status"], "creating");
    let percent: u32 = c["PercentProgress"].as_str().unwrap().parse().unwrap();
    assert!(
        (2..=80).contains(&percent),
        "PercentProgress {percent} while downloading"
    );
    let events = serve.cluster_events("again");
    assert!(
        events
            .iter()
            .any(|e| e.starts_with("Downloading and unpacking 3 backup set(s)")),
        "{events:#?}"
    );
    proxy.set_plan(ferry_testkit::FaultPlan::none());
    // Killed, not stopped: and a stand-in for a backup tool the dead control plane left
    // working in the staging area, which the next start must kill before resuming there. It
    // is spawned as ferry spawns its tools, with a lease in the staging dir, and then
    // forgotten, as a SIGKILLed ferry forgets it.
    serve.kill_hard();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let decoy = rt.block_on(async {
        let guard = ferry_engine::ProcessSpec::new("python3")
            .name("mariabackup --prepare")
            .arg("-c")
            .arg("import time; time.sleep(600)")
            .owner_dir(dir.join("staging/again"))
            .spawn()
            .unwrap();
        let pid = guard.pid();
        std::mem::forget(guard);
        pid
    });
    let _cleanup = KillOnDrop(decoy);
    serve.start_again();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while running(decoy) {
        assert!(
            std::time::Instant::now() < deadline,
            "a process left in the staging area was not stopped"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    serve.wait(
        "db_cluster_available",
        json!({"DBClusterIdentifier": "again"}),
    );
    let events = serve.cluster_events("again");
    assert!(
        events.iter().any(|e| e.contains("resuming (attempt 2)")),
        "{events:#?}"
    );
    serve
        .aws(&[
            "rds",
            "create-db-instance",
            "--db-instance-identifier",
            "again-1",
            "--db-cluster-identifier",
            "again",
            "--engine",
            "aurora-mysql",
            "--db-instance-class",
            "db.t3.small",
        ])
        .json();
    serve.wait(
        "db_instance_available",
        json!({"DBInstanceIdentifier": "again-1"}),
    );

    serve.restart();
    serve.wait(
        "db_instance_available",
        json!({"DBInstanceIdentifier": "again-1"}),
    );
    let (rt, mut conn) = connect(port, "admin", PASSWORD);
    rt.block_on(async {
        common::verify_connection(&mut conn, &common::fixtures().join("expected")).await;
        conn.disconnect().await.unwrap();
    });

    // The server dies under it: the supervisor says so and starts it again.
    let pid_file = dir.join("clusters/again/instances/again-1/mariadbd.pid");
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // SAFETY: kill(2) on the instance's server, whose pid file ferry's server wrote.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    loop {
        let v = serve
            .aws(&[
                "rds",
                "describe-events",
                "--source-type",
                "db-instance",
                "--source-identifier",
                "again-1",
                "--duration",
                "600",
            ])
            .json();
        let events: Vec<String> = v["Events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["Message"].as_str().unwrap().to_string())
            .collect();
        let crashed = events
            .iter()
            .any(|e| e.starts_with("The database engine stopped unexpectedly"));
        let restarted = events
            .iter()
            .filter(|e| *e == "DB instance restarted.")
            .count();
        if crashed && restarted >= 2 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no restart after a crash: {events:#?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    serve.wait(
        "db_instance_available",
        json!({"DBInstanceIdentifier": "again-1"}),
    );
    let (rt, conn) = connect(port, "admin", PASSWORD);
    rt.block_on(conn.disconnect()).unwrap();

    // ferry serve itself is killed: its server keeps running, and the next start stops it
    // (by its pid file) before starting the instance again: never two servers on a volume.
    let old_pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    serve.kill_hard();
    assert!(
        std::path::Path::new(&format!("/proc/{old_pid}")).exists(),
        "the server outlives a killed ferry serve"
    );
    serve.start_again();
    serve.wait(
        "db_instance_available",
        json!({"DBInstanceIdentifier": "again-1"}),
    );
    let new_pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_ne!(new_pid, old_pid);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while std::path::Path::new(&format!("/proc/{old_pid}/cmdline")).exists()
        && std::fs::read(format!("/proc/{old_pid}/cmdline")).is_ok_and(|c| !c.is_empty())
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the old server was not stopped"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (rt, mut conn) = connect(port, "admin", PASSWORD);
    rt.block_on(async {
        common::verify_connection(&mut conn, &common::fixtures().join("expected")).await;
        conn.disconnect().await.unwrap();
    });
    serve
        .aws(&[
            "rds",
            "delete-db-instance",
            "--db-instance-identifier",
            "again-1",
        ])
        .json();
    serve.wait(
        "db_instance_deleted",
        json!({"DBInstanceIdentifier": "again-1"}),
    );
    serve
        .aws(&[
            "rds",
            "delete-db-cluster",
            "--db-cluster-identifier",
            "again",
            "--skip-final-snapshot",
        ])
        .json();
    serve.wait(
        "db_cluster_deleted",
        json!({"DBClusterIdentifier": "again"}),
    );
    serve.stop();
}

/// ferry serve killed (SIGKILL) while the restored volume's engine is being set up: the
/// one-off server it left is stopped at the next start, and the job resumes from the saved
/// restore report without fetching anything again.
#[test]
fn killed_during_engine_set_up() {
    let (_tmp, dir) = data_dir();
    let mut serve = Serve::start(&dir, &common::fixtures().join("chains"), &[]);
    let port = ferry_testkit::free_port().to_string();
    serve.aws(&restore_args("setup", "dir", &port)).json();
    let client =
        ferry_api::client::Client::from_credentials_file(&serve.endpoint(), &serve.credentials())
            .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    loop {
        let r = rt
            .block_on(client.call(
                "DescribeEvents",
                &[
                    ("SourceType", "db-cluster"),
                    ("SourceIdentifier", "setup"),
                    ("Duration", "60"),
                ],
            ))
            .unwrap();
        if r.texts("Message")
            .iter()
            .any(|m| m.starts_with("Starting the database engine"))
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no engine set-up event"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    serve.kill_hard();
    assert!(
        dir.join("clusters/setup/volume").exists(),
        "the volume was complete"
    );
    assert!(dir.join("clusters/setup/restore-report.json").exists());
    serve.start_again();
    serve.wait(
        "db_cluster_available",
        json!({"DBClusterIdentifier": "setup"}),
    );
    let events = serve.cluster_events("setup");
    assert!(
        events.iter().any(|e| e.contains("resuming (attempt 2)")),
        "{events:#?}"
    );
    let (file, pos, _) = common::expected_binlog(&common::fixtures().join("expected"));
    let coords = format!("Recovered from Binary log filename '{file}', position '{pos}'.");
    assert_eq!(
        events.iter().filter(|e| **e == coords).count(),
        1,
        "{events:#?}"
    );
    // Downloaded once: the second run went straight to the engine set-up.
    assert_eq!(
        events
            .iter()
            .filter(|e| e.starts_with("Restoring the DB cluster"))
            .count(),
        1,
        "{events:#?}"
    );
    serve
        .aws(&[
            "rds",
            "create-db-instance",
            "--db-instance-identifier",
            "setup-1",
            "--db-cluster-identifier",
            "setup",
            "--engine",
            "aurora-mysql",
            "--db-instance-class",
            "db.t3.small",
        ])
        .json();
    serve.wait(
        "db_instance_available",
        json!({"DBInstanceIdentifier": "setup-1"}),
    );
    let (rt, mut conn) = connect(port.parse().unwrap(), "admin", PASSWORD);
    rt.block_on(async {
        common::verify_connection(&mut conn, &common::fixtures().join("expected")).await;
        conn.disconnect().await.unwrap();
    });
}

/// Killed while the restored volume was being handed to the cluster's OS user (some files
/// chowned, most not): the next start must finish the hand-over, not take the volume's top
/// directory for proof that it was done (the server could then not read its own tables, and the
/// cluster ended `migration-failed` with "Table 'mysql.db' doesn't exist").
#[test]
fn killed_while_handing_the_volume_over() {
    if !ferry_engine::running_as_root() {
        return; // no OS identity to hand over to
    }
    let (_tmp, dir) = data_dir();
    let root = common::fixtures().join("chains").display().to_string();
    let mut serve = Serve::launch(
        &dir,
        &["--file-root", &root],
        vec![(
            "FERRY_FAILPOINTS".to_string(),
            "engine.mid-hand-over=kill".to_string(),
        )],
    );
    let port = ferry_testkit::free_port().to_string();
    serve.aws(&restore_args("handover", "dir", &port)).json();
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    while !serve.exited() {
        assert!(
            std::time::Instant::now() < deadline,
            "the failpoint never fired:\n{}",
            serve.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    serve.set_env(Vec::new());
    serve.start_again();
    serve.wait(
        "db_cluster_available",
        json!({"DBClusterIdentifier": "handover"}),
    );
}

/// Whether `pid` is a live process (not gone, not a zombie waiting to be reaped).
fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

/// Kills a process a failed test left running, and reaps it.
struct KillOnDrop(u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &self.0.to_string()])
            .status();
        // SAFETY: waitpid(2) on our own child's pid, with no pointer but a null status.
        unsafe { libc::waitpid(self.0 as i32, std::ptr::null_mut(), libc::WNOHANG) };
    }
}
