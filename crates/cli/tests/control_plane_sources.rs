//! Where a cluster's data comes from besides the file-root buckets: nothing (CreateDBCluster,
//! an empty cluster for logical imports, with its tags and accounts), or buckets on an
//! S3-protocol server reached through the environment or the config file's `[[bucket]]`.

mod common;

use std::time::Duration;

use common::serve::{connect, data_dir, restore_args, Serve, PASSWORD};
use mysql_async::prelude::Queryable;
use serde_json::json;

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
    // An empty cluster is small: the smallest class's 16 MiB redo log, not MariaDB's 96 MiB
    // default (the whole volume was ~114 MiB with it).
    let volume = serve.data_dir.join("clusters/empty/volume");
    assert_eq!(
        std::fs::metadata(volume.join("ib_logfile0")).unwrap().len(),
        16 << 20
    );
    let volume_bytes = common::tree_size(&volume);
    assert!(
        volume_bytes < 64 << 20,
        "empty volume: {volume_bytes} bytes"
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
