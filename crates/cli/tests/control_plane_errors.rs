//! The errors users of `ferry serve` see: bad identifiers and parameters, unknown clusters and
//! buckets, bad signatures, failed restores (a partial backup, a version mismatch, a corrupt
//! part) and what they leave behind, event paging; and requests the AWS CLI would refuse
//! before sending them, sent raw.

mod common;

use std::time::Duration;

use common::serve::{data_dir, restore_args, Serve, PASSWORD, ROLE};
use serde_json::json;

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
    // A cutover of a failed cluster is the caller's mistake: a 400 naming the cluster and its
    // status, not a 500 naming a file ferry could not read.
    let (status, code, message) = api_error(
        &serve,
        "FerryCutover",
        &[
            ("DBClusterIdentifier", "partial"),
            ("SourceLogFile", "mysql-bin.000001"),
            ("SourceLogPosition", "4"),
        ],
    );
    assert_eq!(
        (status, code.as_str()),
        (400, "InvalidDBClusterStateFault"),
        "{message}"
    );
    assert!(
        message.contains("DB cluster partial") && message.contains("migration-failed"),
        "{message}"
    );
    assert_no_server_path(&message, &dir);
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

/// A message a client reads names nothing on the server's disk.
fn assert_no_server_path(message: &str, data_dir: &std::path::Path) {
    let dir = data_dir.display().to_string();
    assert!(
        !message.contains(&dir) && !message.contains("/clusters/") && !message.contains(".cnf"),
        "{message}"
    );
}

/// Ports that ferry's API or another process holds are refused, whether asked for or
/// allocated, with the reason; a port another cluster has keeps its own reason.
#[test]
fn ports_held_on_the_host() {
    let (_tmp, dir) = data_dir();
    // Another process: one listener on loopback, one on every address (instances bind
    // 127.0.0.1 here, which either one blocks).
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let held_port = held.local_addr().unwrap().port();
    let held_any = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let held_any_port = held_any.local_addr().unwrap().port();
    // The allocation range starts at the held port.
    let last = held_port + 8;
    let config = dir.with_extension("toml");
    std::fs::write(
        &config,
        format!("instance_port_range = \"{held_port}-{last}\"\n"),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let config_s = config.display().to_string();
    let root = common::fixtures().join("chains").display().to_string();
    let serve = Serve::launch(
        &dir,
        &["--config", &config_s, "--file-root", &root],
        Vec::new(),
    );
    let create = |id: &str, port: Option<u16>| {
        let port = port.map(|p| p.to_string());
        let mut args = vec![
            "rds",
            "create-db-cluster",
            "--db-cluster-identifier",
            id,
            "--engine",
            "mariadb",
            "--master-username",
            "boss",
            "--master-user-password",
            PASSWORD,
        ];
        if let Some(p) = &port {
            args.extend(["--port", p.as_str()]);
        }
        serve.aws(&args)
    };

    // ferry's own API port, through both actions that take a Port.
    let api = serve.port;
    let e = create("on-api", Some(api));
    assert!(
        e.error().contains(&format!(
            "(InvalidParameterValue) when calling the CreateDBCluster operation: Port {api} is in use on this host: ferry's API listens on it"
        )),
        "{}",
        e.stderr
    );
    let api_s = api.to_string();
    let e = serve.aws(&restore_args("on-api", "xbstream", &api_s));
    assert!(
        e.error().contains(&format!(
            "(InvalidParameterValue) when calling the RestoreDBClusterFromS3 operation: Port {api} is in use on this host: ferry's API listens on it"
        )),
        "{}",
        e.stderr
    );
    // Ports another process listens on.
    for port in [held_port, held_any_port] {
        let e = create("on-held", Some(port));
        assert!(
            e.error().contains(&format!(
                "(InvalidParameterValue) when calling the CreateDBCluster operation: Port {port} is in use on this host: another process listens on it"
            )),
            "{}",
            e.stderr
        );
    }
    let held_s = held_port.to_string();
    let e = serve.aws(&restore_args("on-held", "xbstream", &held_s));
    assert!(
        e.error().contains("another process listens on it"),
        "{}",
        e.stderr
    );
    let none = serve.aws(&["rds", "describe-db-clusters"]).json();
    assert_eq!(none["DBClusters"].as_array().unwrap().len(), 0, "{none}");

    // An allocation skips the held first port of the range.
    let c = create("allocated", None).json();
    let allocated = c["DBCluster"]["Port"].as_u64().unwrap() as u16;
    assert!(
        allocated != held_port && (held_port..=last).contains(&allocated),
        "allocated {allocated} of {held_port}-{last}"
    );
    // Asked for again: the other cluster's, with that reason.
    let e = create("twice", Some(allocated));
    assert!(
        e.error()
            .contains("is already used by another DB cluster on this ferry host"),
        "{}",
        e.stderr
    );
    // A cutover of a cluster with no running instance (creating, or available without an
    // instance) is the caller's mistake too.
    let (status, code, message) = api_error(
        &serve,
        "FerryCutover",
        &[
            ("DBClusterIdentifier", "allocated"),
            ("SourceLogFile", "mysql-bin.000001"),
            ("SourceLogPosition", "4"),
        ],
    );
    assert_eq!(
        (status, code.as_str()),
        (400, "InvalidDBClusterStateFault"),
        "{message}"
    );
    assert!(message.contains("DB cluster allocated"), "{message}");
    assert_no_server_path(&message, &dir);

    serve
        .aws(&[
            "rds",
            "delete-db-cluster",
            "--db-cluster-identifier",
            "allocated",
            "--skip-final-snapshot",
        ])
        .json();
    serve.wait(
        "db_cluster_deleted",
        json!({ "DBClusterIdentifier": "allocated" }),
    );
    drop(held);
    drop(held_any);
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
