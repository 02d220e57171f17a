//! `ferry serve` driven with the real AWS CLI and boto3, as a user would, end to end: restore
//! clusters from "buckets" (directories under a file root holding the fixture chains), add the
//! writer instance, connect as the master user and compare with the source, read the events,
//! reset the master password, delete everything.
//!
//! The other `control_plane_*` files cover the errors users see, restarts and crashes, and
//! clusters made empty or restored from S3-protocol buckets; helpers are in `common::serve`.

mod common;

use common::serve::{connect, data_dir, restore_args, Serve, PASSWORD};
use mysql_async::prelude::Queryable;
use serde_json::json;

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

    // The server runs as the cluster's own unprivileged uid (ferry runs as root here), from
    // the default `server_uids` range, not as root.
    {
        if ferry_engine::running_as_root() {
            let pid_file = dir.join("clusters/flow-1/instances/flow-1-writer/mariadbd.pid");
            let pid: i32 = std::fs::read_to_string(&pid_file)
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            let uid = process_uid(pid);
            assert!(
                (1_900_000_000..=1_900_099_999).contains(&uid),
                "the instance's mariadbd runs as its cluster's uid, not {uid}"
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
        // db.t3.medium: a 256 MiB buffer pool and a redo log a quarter of it (resized from
        // the restored backup's log at start).
        let sizes: Option<(u64, u64)> = conn
            .query_first("SELECT @@innodb_buffer_pool_size, @@innodb_log_file_size")
            .await
            .unwrap();
        assert_eq!(sizes, Some((256 << 20, 64 << 20)), "sized by the class");
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
