//! `ferry serve` driven with the real AWS CLI and boto3, as a user would: restore clusters
//! from "buckets" (directories under a file root holding the fixture chains), add writer
//! instances, connect as the master user, read the events, delete everything; the errors
//! users see; and restarts of the control plane in the middle of the work.

mod common;

use std::time::Duration;

use common::serve::Serve;
use mysql_async::prelude::Queryable;
use serde_json::json;

use common::serve::{restore_args, PASSWORD, ROLE};

fn connect(port: u16, user: &str, password: &str) -> (tokio::runtime::Runtime, mysql_async::Conn) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let opts = mysql_async::OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(port)
        .user(Some(user))
        .pass(Some(password))
        .prefer_socket(false);
    let conn = rt
        .block_on(mysql_async::Conn::new(opts))
        .expect("connect to the cluster endpoint as the master user");
    (rt, conn)
}

/// A data dir whose parent lets other users pass (0711), so that the database servers run as
/// Debian's `mysql` user, as they do for a data dir in a normal place.
fn data_dir() -> (tempfile::TempDir, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let tmp = ferry_testkit::short_tempdir();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    let dir = tmp.path().join("d");
    (tmp, dir)
}

/// The uid a process runs as.
fn process_uid(pid: i32) -> u32 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// The seed's restore section, end to end: two restores at once, waiters, the writer
/// instance, the data equal to the source, the binlog coordinates in the events, deletion.
#[test]
fn restore_connect_and_delete_with_the_aws_cli() {
    let (_tmp, dir) = data_dir();
    let chains = common::fixtures().join("chains");
    let serve = Serve::start(&dir, &chains, &[]);
    let port = ferry_testkit::free_port().to_string();
    let port2 = ferry_testkit::free_port().to_string();

    let c = serve.aws(&restore_args("Flow-1", "xbstream", &port)).json();
    assert_eq!(c["DBCluster"]["DBClusterIdentifier"], "flow-1");
    assert_eq!(c["DBCluster"]["Status"], "creating");
    assert_eq!(c["DBCluster"]["Engine"], "aurora-mysql");
    assert_eq!(c["DBCluster"]["MasterUsername"], "admin");
    assert_eq!(c["DBCluster"]["Port"].to_string(), port);
    assert!(c["DBCluster"]["DbClusterResourceId"]
        .as_str()
        .unwrap()
        .starts_with("cluster-"));
    // A second restore at the same time, from a directory-form chain.
    serve.aws(&restore_args("flow-2", "dir", &port2)).json();

    serve.wait(
        "db_cluster_available",
        json!({"DBClusterIdentifier": "flow-1"}),
    );
    serve.wait(
        "db_cluster_available",
        json!({"DBClusterIdentifier": "flow-2"}),
    );
    // The CLI's own waiter answers at once when the cluster is there.
    assert!(
        serve
            .aws(&[
                "rds",
                "wait",
                "db-cluster-available",
                "--db-cluster-identifier",
                "flow-1"
            ])
            .ok
    );

    let cluster = serve.cluster("flow-1");
    assert_eq!(cluster["Status"], "available");
    assert!(cluster.get("PercentProgress").is_none());
    let version = cluster["EngineVersion"].as_str().unwrap();
    assert!(version.starts_with("10."), "EngineVersion {version}");
    assert!(
        cluster.get("Endpoint").is_none(),
        "no endpoint before a writer exists"
    );

    let events = serve.cluster_events("flow-1");
    let (file, pos, gtid) = common::expected_binlog(&common::fixtures().join("expected"));
    let coords = format!("Recovered from Binary log filename '{file}', position '{pos}'.");
    assert!(events.contains(&coords), "events: {events:#?}");
    assert!(
        events.contains(&format!("Recovered from GTID '{gtid}'.")),
        "events: {events:#?}"
    );
    assert!(
        events.contains(&"DB cluster created.".to_string()),
        "events: {events:#?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e.contains("restored from the source were locked")
                && e.contains("'root'@'localhost'")),
        "source accounts are locked: {events:#?}"
    );
    let created = serve
        .aws(&[
            "rds",
            "describe-events",
            "--source-type",
            "db-cluster",
            "--source-identifier",
            "flow-1",
            "--duration",
            "600",
            "--event-categories",
            "creation",
        ])
        .json();
    let created: Vec<&str> = created["Events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["Message"].as_str().unwrap())
        .collect();
    assert_eq!(created, vec!["DB cluster created."]);
    assert!(
        events
            .iter()
            .any(|e| e.starts_with("Downloading and unpacking")),
        "phase events: {events:#?}"
    );

    let i = serve
        .aws(&[
            "rds",
            "create-db-instance",
            "--db-instance-identifier",
            "flow-1-writer",
            "--db-cluster-identifier",
            "flow-1",
            "--engine",
            "aurora-mysql",
            "--db-instance-class",
            "db.t3.medium",
        ])
        .json();
    assert_eq!(i["DBInstance"]["DBInstanceStatus"], "creating");
    serve.wait(
        "db_instance_available",
        json!({"DBInstanceIdentifier": "flow-1-writer"}),
    );
    assert!(
        serve
            .aws(&[
                "rds",
                "wait",
                "db-instance-available",
                "--db-instance-identifier",
                "flow-1-writer"
            ])
            .ok
    );

    let cluster = serve.cluster("flow-1");
    assert_eq!(cluster["Endpoint"], "127.0.0.1");
    let instance_args = |id: &'static str| {
        [
            "rds",
            "create-db-instance",
            "--db-instance-identifier",
            id,
            "--db-cluster-identifier",
            "flow-1",
            "--engine",
            "aurora-mysql",
            "--db-instance-class",
            "db.t3.medium",
        ]
    };
    let e = serve.aws(&instance_args("flow-1-writer"));
    assert!(
        e.error().contains("(DBInstanceAlreadyExists)"),
        "{}",
        e.stderr
    );
    let e = serve.aws(&instance_args("flow-1-reader"));
    assert!(
        e.error().contains("(InvalidParameterCombination)"),
        "{}",
        e.stderr
    );
    assert!(
        e.error().contains("one instance per cluster"),
        "{}",
        e.stderr
    );
    assert_eq!(
        cluster["DBClusterMembers"][0]["DBInstanceIdentifier"],
        "flow-1-writer"
    );
    assert_eq!(cluster["DBClusterMembers"][0]["IsClusterWriter"], true);
    let inst = serve
        .aws(&[
            "rds",
            "describe-db-instances",
            "--db-instance-identifier",
            "flow-1-writer",
        ])
        .json();
    assert_eq!(inst["DBInstances"][0]["Endpoint"]["Port"].to_string(), port);
    let filtered = serve
        .aws(&[
            "rds",
            "describe-db-instances",
            "--filters",
            "Name=db-cluster-id,Values=flow-2",
        ])
        .json();
    assert_eq!(filtered["DBInstances"].as_array().unwrap().len(), 0);

    // The server runs as the unprivileged `mysql` user (ferry runs as root here), not as root.
    if let Ok(Some(mysql)) = ferry_engine::OsUser::lookup("mysql") {
        if ferry_engine::running_as_root() {
            let pid_file = dir.join("clusters/flow-1/instances/flow-1-writer/mariadbd.pid");
            let pid: i32 = std::fs::read_to_string(&pid_file)
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            assert_eq!(
                process_uid(pid),
                mysql.uid,
                "the instance's mariadbd runs as mysql"
            );
        }
    }
    // Connect where the API says, as the master user, and compare with the source.
    let (rt, mut conn) = connect(port.parse().unwrap(), "admin", PASSWORD);
    rt.block_on(async {
        common::verify_connection(&mut conn, &common::fixtures().join("expected")).await;
        let files: Option<String> = conn
            .query_first("SELECT @@secure_file_priv")
            .await
            .unwrap()
            .flatten();
        assert!(
            files
                .as_deref()
                .is_some_and(|f| f.trim_end_matches('/').ends_with("clusters/flow-1/files")),
            "secure_file_priv confines file access: {files:?}"
        );
        let grants: Vec<String> = conn.query("SHOW GRANTS").await.unwrap();
        let grants = grants.join("\n");
        assert!(grants.contains("CREATE USER"), "{grants}");
        assert!(
            !grants.contains("SUPER"),
            "the master user must not have SUPER: {grants}"
        );
        let err = conn
            .query_drop("CHANGE MASTER TO MASTER_HOST='example.com'")
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("1227") || err.to_string().contains("denied"),
            "{err}"
        );
        let tz: Option<String> = conn
            .query_first("SELECT CONVERT_TZ('2024-06-01 12:00:00','UTC','Europe/Paris')")
            .await
            .unwrap()
            .flatten();
        assert_eq!(
            tz.as_deref(),
            Some("2024-06-01 14:00:00"),
            "time zone tables loaded"
        );
        conn.disconnect().await.unwrap();
    });

    // A new master password: the cluster resets it in the background, as RDS does.
    let m = serve
        .aws(&[
            "rds",
            "modify-db-cluster",
            "--db-cluster-identifier",
            "flow-1",
            "--master-user-password",
            "Another-pw-99",
            "--apply-immediately",
        ])
        .json();
    assert_eq!(m["DBCluster"]["Status"], "resetting-master-credentials");
    serve.wait(
        "db_cluster_available",
        json!({"DBClusterIdentifier": "flow-1"}),
    );
    assert!(serve
        .cluster_events("flow-1")
        .contains(&"Reset master credentials".to_string()));
    let (rt, conn) = connect(port.parse().unwrap(), "admin", "Another-pw-99");
    rt.block_on(conn.disconnect()).unwrap();

    // Deleting: the cluster refuses while it has an instance.
    let err = serve.aws(&[
        "rds",
        "delete-db-cluster",
        "--db-cluster-identifier",
        "flow-1",
        "--skip-final-snapshot",
    ]);
    assert!(
        err.error().contains("InvalidDBClusterStateFault"),
        "{}",
        err.stderr
    );
    let d = serve
        .aws(&[
            "rds",
            "delete-db-instance",
            "--db-instance-identifier",
            "flow-1-writer",
        ])
        .json();
    assert_eq!(d["DBInstance"]["DBInstanceStatus"], "deleting");
    serve.wait(
        "db_instance_deleted",
        json!({"DBInstanceIdentifier": "flow-1-writer"}),
    );
    for id in ["flow-1", "flow-2"] {
        let d = serve
            .aws(&[
                "rds",
                "delete-db-cluster",
                "--db-cluster-identifier",
                id,
                "--skip-final-snapshot",
            ])
            .json();
        assert_eq!(d["DBCluster"]["Status"], "deleting");
    }
    serve.wait(
        "db_cluster_deleted",
        json!({"DBClusterIdentifier": "flow-1"}),
    );
    serve.wait(
        "db_cluster_deleted",
        json!({"DBClusterIdentifier": "flow-2"}),
    );
    assert!(
        serve
            .aws(&[
                "rds",
                "wait",
                "db-cluster-deleted",
                "--db-cluster-identifier",
                "flow-1"
            ])
            .ok
    );
    let gone = serve.aws(&[
        "rds",
        "describe-db-clusters",
        "--db-cluster-identifier",
        "flow-1",
    ]);
    assert!(
        gone.error().contains("(DBClusterNotFoundFault)"),
        "{}",
        gone.stderr
    );
    assert!(serve
        .cluster_events("flow-1")
        .contains(&"DB cluster deleted.".to_string()));
    let left: Vec<_> = std::fs::read_dir(dir.join("clusters")).unwrap().collect();
    assert!(left.is_empty(), "cluster files left behind: {left:?}");
    let staging: Vec<_> = std::fs::read_dir(dir.join("staging"))
        .map(|d| d.collect())
        .unwrap_or_default();
    assert!(staging.is_empty(), "staging left behind: {staging:?}");
}

/// What users see for bad requests and failed restores.
#[test]
fn errors_users_see() {
    let (_tmp, dir) = data_dir();
    // Buckets: fixture chains, plus "corrupt", a copy of "single" with one byte flipped.
    let buckets = _tmp.path().join("buckets");
    std::fs::create_dir_all(&buckets).unwrap();
    for chain in ["xbstream", "partial", "single", "targz"] {
        std::os::unix::fs::symlink(common::chain(chain), buckets.join(chain)).unwrap();
    }
    common::link_copy(&common::chain("single"), &buckets.join("corrupt"));
    let victim = buckets.join("corrupt/full.xbstream");
    let mut bytes = std::fs::read(&victim).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    common::rewrite(&victim, &bytes);
    let serve = Serve::start(&dir, &buckets, &[]);
    let port = ferry_testkit::free_port().to_string();

    // Identifier rules.
    let e = serve.aws(&restore_args("1-bad", "xbstream", &port));
    assert!(
        e.error().contains("(InvalidParameterValue)"),
        "{}",
        e.stderr
    );
    assert!(e.error().contains("DBClusterIdentifier"), "{}", e.stderr);
    let e = serve.aws(&restore_args("bad--id", "xbstream", &port));
    assert!(
        e.error().contains("(InvalidParameterValue)"),
        "{}",
        e.stderr
    );

    // Unknown cluster and instance.
    let e = serve.aws(&[
        "rds",
        "describe-db-clusters",
        "--db-cluster-identifier",
        "nope",
    ]);
    assert!(e.error().contains("An error occurred (DBClusterNotFoundFault) when calling the DescribeDBClusters operation: DBCluster nope not found."), "{}", e.stderr);
    let e = serve.aws(&[
        "rds",
        "describe-db-instances",
        "--db-instance-identifier",
        "nope",
    ]);
    assert!(e.error().contains("(DBInstanceNotFound)"), "{}", e.stderr);

    // A bucket that does not exist is refused at once.
    let e = serve.aws(&restore_args("nobucket", "no-such-bucket", &port));
    assert!(e.error().contains("(InvalidS3BucketFault)"), "{}", e.stderr);

    // A bad signature and an unknown key.
    let creds = std::fs::read_to_string(serve.credentials()).unwrap();
    let wrong = dir.with_extension("wrong-secret");
    let tampered: String = creds
        .lines()
        .map(|l| {
            if l.starts_with("aws_secret_access_key") {
                "aws_secret_access_key = 0000000000000000000000000000000000000000".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&wrong, tampered).unwrap();
    let e = serve.aws_with(&wrong, &["rds", "describe-db-clusters"]);
    assert!(
        e.error().contains("(SignatureDoesNotMatch)"),
        "{}",
        e.stderr
    );
    let unknown = dir.with_extension("unknown-key");
    std::fs::write(&unknown, "[default]\naws_access_key_id = AKIAUNKNOWNKEY000000\naws_secret_access_key = x\nregion = us-east-1\n").unwrap();
    let e = serve.aws_with(&unknown, &["rds", "describe-db-clusters"]);
    assert!(e.error().contains("(InvalidClientTokenId)"), "{}", e.stderr);

    // A missing required parameter, sent without the CLI's own client-side check.
    let e = serve.aws(&["rds", "describe-db-clusters", "--max-records", "5"]);
    assert!(
        e.error().contains("(InvalidParameterValue)"),
        "{}",
        e.stderr
    );

    // Duplicate, then failed restores: a partial backup and a version mismatch.
    serve.aws(&restore_args("partial", "partial", &port)).json();
    let e = serve.aws(&restore_args("partial", "partial", &port));
    assert!(
        e.error().contains("(DBClusterAlreadyExistsFault)"),
        "{}",
        e.stderr
    );
    let port2 = ferry_testkit::free_port().to_string();
    let mut args = restore_args("mismatch", "single", &port2);
    let v = args.iter().position(|a| *a == "10.11").unwrap();
    args[v] = "8.0.28";
    serve.aws(&args).json();

    let c = serve.poll_cluster_status("partial", "migration-failed", Duration::from_secs(300));
    assert!(c.get("PercentProgress").is_none());
    let events = serve.cluster_events("partial");
    let failed = events
        .iter()
        .find(|e| e.starts_with("Failed to migrate from mysql 10.11 to partial. Reason:"))
        .unwrap_or_else(|| panic!("no failure event: {events:#?}"));
    assert!(failed.contains("partial"), "{failed}");

    let port4 = ferry_testkit::free_port().to_string();
    serve
        .aws(&restore_args("corrupt", "corrupt", &port4))
        .json();
    serve.poll_cluster_status("corrupt", "migration-failed", Duration::from_secs(300));
    let events = serve.cluster_events("corrupt");
    assert!(
        events.iter().any(|e| e.starts_with("Failed to migrate")
            && e.contains("full.xbstream")
            && e.contains("checksum mismatch")),
        "{events:#?}"
    );
    serve.poll_cluster_status("mismatch", "migration-failed", Duration::from_secs(300));
    let events = serve.cluster_events("mismatch");
    assert!(
        events
            .iter()
            .any(|e| e.contains("SourceEngineVersion is 8.0.28")),
        "{events:#?}"
    );
    // The boto3 waiter gives up on a failed cluster instead of waiting forever? RDS's waiter
    // treats only deleted/failed states as failures; migration-failed is visible in Status.

    // Nothing of the failed restores is left but the cluster records.
    for id in ["partial", "mismatch", "corrupt"] {
        let c = dir.join("clusters").join(id);
        let left: Vec<String> = std::fs::read_dir(&c)
            .map(|d| {
                d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            !left.iter().any(|f| f == "volume" || f == "restoring"),
            "{id}: {left:?}"
        );
        assert!(!dir.join("staging").join(id).exists(), "{id}: staging left");
    }
    // No instance can be started on a failed cluster.
    let e = serve.aws(&[
        "rds",
        "create-db-instance",
        "--db-instance-identifier",
        "p1",
        "--db-cluster-identifier",
        "partial",
        "--engine",
        "aurora-mysql",
        "--db-instance-class",
        "db.t3.small",
    ]);
    assert!(
        e.error().contains("(InvalidDBClusterStateFault)"),
        "{}",
        e.stderr
    );
    // A cluster deleted while its restore runs (with no Port: one is allocated): the job
    // stops and nothing is left.
    let mut doomed = restore_args("doomed", "targz", "0");
    doomed.truncate(doomed.len() - 2);
    let d = serve.aws(&doomed).json();
    let allocated = d["DBCluster"]["Port"].as_u64().unwrap();
    assert!(
        (3306..=3399).contains(&allocated),
        "allocated port {allocated}"
    );
    let e = serve.aws(&[
        "rds",
        "delete-db-cluster",
        "--db-cluster-identifier",
        "doomed",
    ]);
    assert!(
        e.error().contains("(InvalidParameterCombination)"),
        "no final snapshot without SkipFinalSnapshot: {}",
        e.stderr
    );
    for id in ["partial", "mismatch", "corrupt", "doomed"] {
        serve
            .aws(&[
                "rds",
                "delete-db-cluster",
                "--db-cluster-identifier",
                id,
                "--skip-final-snapshot",
            ])
            .json();
    }
    for id in ["partial", "mismatch", "corrupt", "doomed"] {
        serve.wait("db_cluster_deleted", json!({ "DBClusterIdentifier": id }));
    }
    assert!(!dir.join("clusters/doomed").exists());
    assert!(!dir.join("staging/doomed").exists());

    // Paging: the CLI follows Marker through pages of 20 and gets every event once.
    // (More failed restores first, for more than one page of events.)
    for id in ["partial-a", "partial-b", "partial-c", "partial-d"] {
        let mut args = restore_args(id, "partial", "0");
        args.truncate(args.len() - 2);
        serve.aws(&args).json();
    }
    for id in ["partial-a", "partial-b", "partial-c", "partial-d"] {
        serve.poll_cluster_status(id, "migration-failed", Duration::from_secs(120));
    }
    let all = serve
        .aws(&["rds", "describe-events", "--duration", "600"])
        .json();
    let all: Vec<String> = all["Events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.to_string())
        .collect();
    assert!(
        all.len() > 20,
        "need more than one page of events, have {}",
        all.len()
    );
    let paged = serve
        .aws(&[
            "rds",
            "describe-events",
            "--duration",
            "600",
            "--page-size",
            "20",
        ])
        .json();
    let paged: Vec<String> = paged["Events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.to_string())
        .collect();
    assert_eq!(paged, all, "paging with MaxRecords=20 and Marker");
}

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
    // working in the staging area, which the next start must kill before resuming there.
    serve.kill_hard();
    let mut decoy = std::process::Command::new("python3")
        .arg("-c")
        .arg("import time; time.sleep(600)")
        .arg(dir.join("staging/again/sets/decoy"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    serve.start_again();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while decoy.try_wait().unwrap().is_none() {
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

fn api_error(serve: &Serve, action: &str, params: &[(&str, &str)]) -> (u16, String, String) {
    let client =
        ferry_api::client::Client::from_credentials_file(&serve.endpoint(), &serve.credentials())
            .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    match rt.block_on(client.call(action, params)) {
        Err(ferry_api::client::ClientError::Api {
            status,
            code,
            message,
            ..
        }) => (status, code, message),
        other => panic!("{action}: expected an API error, got {other:?}"),
    }
}

/// Requests the AWS CLI would refuse before sending them, sent raw (signed by ferry's client).
#[test]
fn protocol_errors() {
    let (_tmp, dir) = data_dir();
    let serve = Serve::start(&dir, &common::fixtures().join("chains"), &[]);
    let (status, code, message) = api_error(
        &serve,
        "RestoreDBClusterFromS3",
        &[
            ("DBClusterIdentifier", "no-bucket"),
            ("Engine", "aurora-mysql"),
            ("MasterUsername", "admin"),
            ("MasterUserPassword", PASSWORD),
            ("SourceEngine", "mysql"),
            ("SourceEngineVersion", "10.11"),
            ("S3IngestionRoleArn", ROLE),
        ],
    );
    assert_eq!((status, code.as_str()), (400, "MissingParameter"));
    assert_eq!(
        message,
        "The request must contain the parameter S3BucketName"
    );

    let (status, code, _) = api_error(&serve, "DropEverything", &[]);
    assert_eq!((status, code.as_str()), (400, "InvalidAction"));

    let (_, code, message) = api_error(
        &serve,
        "RestoreDBClusterFromS3",
        &[
            ("DBClusterIdentifier", "bad-role"),
            ("Engine", "aurora-mysql"),
            ("MasterUsername", "admin"),
            ("MasterUserPassword", PASSWORD),
            ("SourceEngine", "mysql"),
            ("SourceEngineVersion", "10.11"),
            ("S3BucketName", "xbstream"),
            ("S3IngestionRoleArn", "my-role"),
        ],
    );
    assert_eq!(code, "InvalidParameterValue", "{message}");
    assert!(message.contains("S3IngestionRoleArn"), "{message}");

    let (_, code, message) = api_error(
        &serve,
        "RestoreDBClusterFromS3",
        &[
            ("DBClusterIdentifier", "secrets"),
            ("Engine", "aurora-mysql"),
            ("MasterUsername", "admin"),
            ("ManageMasterUserPassword", "true"),
            ("SourceEngine", "mysql"),
            ("SourceEngineVersion", "10.11"),
            ("S3BucketName", "xbstream"),
            ("S3IngestionRoleArn", ROLE),
        ],
    );
    assert_eq!(code, "InvalidParameterCombination", "{message}");
    assert!(message.contains("ManageMasterUserPassword"), "{message}");

    // A weak password and a reserved user name, with RDS's codes.
    let mut bad = restore_args("weak", "xbstream", "3999");
    let i = bad.iter().position(|a| *a == PASSWORD).unwrap();
    bad[i] = "short";
    let e = serve.aws(&bad);
    assert!(
        e.error().contains("(InvalidParameterValue)"),
        "{}",
        e.stderr
    );
    assert!(e.error().contains("MasterUserPassword"), "{}", e.stderr);
    let mut bad = restore_args("reserved", "xbstream", "3999");
    let i = bad.iter().position(|a| *a == "admin").unwrap();
    bad[i] = "select";
    let e = serve.aws(&bad);
    assert!(
        e.error().contains("(InvalidParameterValue)"),
        "{}",
        e.stderr
    );
    assert!(e.error().contains("reserved word"), "{}", e.stderr);
    // Nothing was created by any of them.
    let all = serve.aws(&["rds", "describe-db-clusters"]).json();
    assert_eq!(all["DBClusters"].as_array().unwrap().len(), 0);
    let e = serve.aws(&[
        "rds",
        "create-db-instance",
        "--db-instance-identifier",
        "orphan",
        "--db-cluster-identifier",
        "nope",
        "--engine",
        "aurora-mysql",
        "--db-instance-class",
        "db.t3.medium",
    ]);
    assert!(
        e.error().contains("(DBClusterNotFoundFault)"),
        "{}",
        e.stderr
    );
    let e = serve.aws(&[
        "rds",
        "create-db-instance",
        "--db-instance-identifier",
        "odd",
        "--db-cluster-identifier",
        "nope",
        "--engine",
        "aurora-mysql",
        "--db-instance-class",
        "db.t3.gigantic",
    ]);
    assert!(
        e.error().contains("(InvalidParameterCombination)"),
        "{}",
        e.stderr
    );
    // One ferry serve per data dir.
    let second = common::run(common::ferry().args([
        "serve",
        "--data-dir",
        &dir.display().to_string(),
        "--listen",
        "127.0.0.1:0",
    ]));
    assert_eq!(second.status, 1);
    assert!(
        second
            .stderr
            .contains("another ferry serve is already using the data dir"),
        "{}",
        second.stderr
    );
    // Events in a window that has not happened yet: none.
    let v = serve
        .aws(&[
            "rds",
            "describe-events",
            "--start-time",
            "2100-01-01T00:00:00Z",
        ])
        .json();
    assert_eq!(v["Events"].as_array().unwrap().len(), 0);
}

/// CreateDBCluster: an empty cluster (for logical imports) with a working master user.
#[test]
fn empty_cluster() {
    let (_tmp, dir) = data_dir();
    let serve = Serve::start(&dir, &common::fixtures().join("chains"), &[]);
    let port = ferry_testkit::free_port();
    let c = serve
        .aws(&[
            "rds",
            "create-db-cluster",
            "--db-cluster-identifier",
            "empty",
            "--engine",
            "mariadb",
            "--master-username",
            "boss",
            "--master-user-password",
            PASSWORD,
            "--port",
            &port.to_string(),
            "--tags",
            "Key=team,Value=data",
            "--database-name",
            "appdb",
        ])
        .json();
    assert_eq!(c["DBCluster"]["Status"], "creating");
    assert_eq!(c["DBCluster"]["TagList"][0]["Key"], "team");
    serve.wait(
        "db_cluster_available",
        json!({"DBClusterIdentifier": "empty"}),
    );
    serve
        .aws(&[
            "rds",
            "create-db-instance",
            "--db-instance-identifier",
            "empty-1",
            "--db-cluster-identifier",
            "empty",
            "--engine",
            "mariadb",
            "--db-instance-class",
            "db.t3.micro",
        ])
        .json();
    serve.wait(
        "db_instance_available",
        json!({"DBInstanceIdentifier": "empty-1"}),
    );

    // Tags by ARN, as Terraform manages them.
    let arn = serve.cluster("empty")["DBClusterArn"]
        .as_str()
        .unwrap()
        .to_string();
    let tags = |serve: &Serve, arn: &str| -> Vec<(String, String)> {
        let v = serve
            .aws(&["rds", "list-tags-for-resource", "--resource-name", arn])
            .json();
        v["TagList"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["Key"].as_str().unwrap().to_string(),
                    t["Value"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert_eq!(tags(&serve, &arn), vec![("team".into(), "data".into())]);
    assert!(
        serve
            .aws(&[
                "rds",
                "add-tags-to-resource",
                "--resource-name",
                &arn,
                "--tags",
                "Key=env,Value=test",
                "Key=team,Value=ops",
            ])
            .ok
    );
    assert!(
        serve
            .aws(&[
                "rds",
                "remove-tags-from-resource",
                "--resource-name",
                &arn,
                "--tag-keys",
                "env",
            ])
            .ok
    );
    assert_eq!(tags(&serve, &arn), vec![("team".into(), "ops".into())]);
    let instance_arn = arn.replace(":cluster:empty", ":db:empty-1");
    assert_eq!(tags(&serve, &instance_arn), Vec::<(String, String)>::new());
    let e = serve.aws(&[
        "rds",
        "list-tags-for-resource",
        "--resource-name",
        &arn.replace(":cluster:empty", ":cluster:nope"),
    ]);
    assert!(
        e.error().contains("(DBClusterNotFoundFault)"),
        "{}",
        e.stderr
    );
    let e = serve.aws(&["rds", "list-tags-for-resource", "--resource-name", "empty"]);
    assert!(
        e.error().contains("(InvalidParameterValue)"),
        "{}",
        e.stderr
    );

    let (rt, mut conn) = connect(port, "boss", PASSWORD);
    rt.block_on(async {
        // A fresh datadir's password-less root accounts are gone: only the master user and
        // ferry's own account remain.
        let users: Vec<(String, String)> = conn
            .query("SELECT User, Host FROM mysql.user ORDER BY User, Host")
            .await
            .unwrap();
        let names: Vec<String> = users.iter().map(|(u, h)| format!("{u}@{h}")).collect();
        assert_eq!(
            names,
            vec!["boss@%", "ferry_admin@localhost", "mariadb.sys@localhost"]
        );
        let root = mysql_async::OptsBuilder::default()
            .ip_or_hostname("127.0.0.1")
            .tcp_port(port)
            .user(Some("root"))
            .prefer_socket(false);
        assert!(
            mysql_async::Conn::new(root).await.is_err(),
            "root without a password"
        );
        let dbs: Vec<String> = conn.query("SHOW DATABASES LIKE 'appdb'").await.unwrap();
        assert_eq!(
            dbs,
            vec!["appdb".to_string()],
            "DatabaseName creates the database"
        );
        conn.query_drop("CREATE DATABASE app").await.unwrap();
        conn.query_drop("CREATE TABLE app.t (id INT PRIMARY KEY)")
            .await
            .unwrap();
        conn.query_drop("INSERT INTO app.t VALUES (1), (2)")
            .await
            .unwrap();
        let n: Option<u64> = conn
            .query_first("SELECT COUNT(*) FROM app.t")
            .await
            .unwrap();
        assert_eq!(n, Some(2));
        let pool: Option<u64> = conn
            .query_first("SELECT @@innodb_buffer_pool_size")
            .await
            .unwrap();
        assert_eq!(pool, Some(64 << 20), "db.t3.micro's buffer pool");
        // The master user can remove ferry's own account (it holds CREATE USER)...
        conn.query_drop("DROP USER 'ferry_admin'@'localhost'")
            .await
            .unwrap();
        conn.disconnect().await.unwrap();
    });
    // ... and the next start of the server puts it back.
    let pid_file = dir.join("clusters/empty/instances/empty-1/mariadbd.pid");
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // SAFETY: kill(2) on the instance's server, whose pid file ferry's server wrote.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    while !serve
        .cluster_events("empty")
        .iter()
        .any(|e| e.contains("administrative account on the cluster had been changed or removed"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "admin account not repaired:\n{}",
            serve.log_text()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    serve.wait(
        "db_instance_available",
        json!({"DBInstanceIdentifier": "empty-1"}),
    );
    let (rt, conn) = connect(port, "boss", PASSWORD);
    rt.block_on(conn.disconnect()).unwrap();
    serve
        .aws(&[
            "rds",
            "delete-db-instance",
            "--db-instance-identifier",
            "empty-1",
        ])
        .json();
    serve.wait(
        "db_instance_deleted",
        json!({"DBInstanceIdentifier": "empty-1"}),
    );
    serve
        .aws(&[
            "rds",
            "delete-db-cluster",
            "--db-cluster-identifier",
            "empty",
            "--skip-final-snapshot",
        ])
        .json();
    serve.wait(
        "db_cluster_deleted",
        json!({"DBClusterIdentifier": "empty"}),
    );
}

/// Buckets on an S3-protocol server: through the environment `ferry serve` started with, and
/// through a `[[bucket]]` mapping in the config file; a bucket ferry cannot reach fails the
/// restore with RDS's event.
#[test]
fn restores_from_s3_buckets() {
    let s3_root = tempfile::tempdir().unwrap();
    let s3 = ferry_testkit::S3Server::start(s3_root.path()).unwrap();
    s3.create_bucket("backups").unwrap();
    s3.put_tree("backups", "prod/db1", &common::chain("zst"))
        .unwrap();
    s3.create_bucket("mapped").unwrap();
    s3.put_tree("mapped", "", &common::chain("dir")).unwrap();

    // 1. The environment reaches every bucket.
    let (_tmp, dir) = data_dir();
    let serve = Serve::launch(&dir, &[], s3.env_vars());
    let port = ferry_testkit::free_port();
    let port_s = port.to_string();
    let mut args = restore_args("from-env", "backups", &port_s);
    args.extend(["--s3-prefix", "prod/db1"]);
    serve.aws(&args).json();
    serve.wait(
        "db_cluster_available",
        json!({"DBClusterIdentifier": "from-env"}),
    );
    let (file, pos, _) = common::expected_binlog(&common::fixtures().join("expected"));
    let coords = format!("Recovered from Binary log filename '{file}', position '{pos}'.");
    assert!(serve.cluster_events("from-env").contains(&coords));
    serve
        .aws(&[
            "rds",
            "create-db-instance",
            "--db-instance-identifier",
            "from-env-1",
            "--db-cluster-identifier",
            "from-env",
            "--engine",
            "aurora-mysql",
            "--db-instance-class",
            "db.t3.small",
        ])
        .json();
    serve.wait(
        "db_instance_available",
        json!({"DBInstanceIdentifier": "from-env-1"}),
    );
    let (rt, mut conn) = connect(port, "admin", PASSWORD);
    rt.block_on(async {
        common::verify_connection(&mut conn, &common::fixtures().join("expected")).await;
        conn.disconnect().await.unwrap();
    });
    drop(serve);

    // 2. No environment: only the bucket mapped in the config file is reachable.
    let (_tmp2, dir2) = data_dir();
    let config = dir2.with_extension("toml");
    std::fs::write(
        &config,
        format!(
            "[[bucket]]\nname = \"mapped\"\nendpoint_url = \"{}\"\naccess_key_id = \"{}\"\nsecret_access_key = \"{}\"\n",
            s3.endpoint(),
            s3.access_key(),
            s3.secret_key()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let config_s = config.display().to_string();
    let serve = Serve::launch(&dir2, &["--config", &config_s], Vec::new());
    let p1 = ferry_testkit::free_port().to_string();
    let p2 = ferry_testkit::free_port().to_string();
    serve.aws(&restore_args("mapped", "mapped", &p1)).json();
    serve
        .aws(&restore_args("unreachable", "backups", &p2))
        .json();
    serve.wait(
        "db_cluster_available",
        json!({"DBClusterIdentifier": "mapped"}),
    );
    serve.poll_cluster_status("unreachable", "migration-failed", Duration::from_secs(120));
    let events = serve.cluster_events("unreachable");
    assert!(
        events.iter().any(|e| e.starts_with(
            "Amazon RDS has been unable to create credentials to access your Amazon S3 Bucket for your DB cluster unreachable."
        )),
        "{events:#?}"
    );
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
