//! Real clients over HTTP against a server made of ferry-api's blocks (tests/common/server.rs):
//! boto3, the AWS CLI and ferry's own [`ferry_api::client::Client`] are signed, verified,
//! parsed and answered end to end, including the errors a user sees.

mod common;

use std::process::Command;

use common::server::TestServer;
use ferry_api::client::{Client, ClientError};

/// Drives the test server with boto3 and prints what a user's script would see, as JSON.
const BOTO3_SCRIPT: &str = r#"
import json, sys
import boto3, botocore.config, botocore.exceptions
endpoint, key, secret = sys.argv[1:4]
config = botocore.config.Config(retries={'max_attempts': 1, 'mode': 'standard'})
def client(key, secret):
    return boto3.client('rds', endpoint_url=endpoint, region_name='us-east-1',
                        aws_access_key_id=key, aws_secret_access_key=secret, config=config)
def error(call):
    try:
        call()
    except botocore.exceptions.ClientError as e:
        return [e.response['Error']['Code'], e.response['Error']['Message'],
                e.response['ResponseMetadata']['HTTPStatusCode']]
    return None
rds = client(key, secret)
out = {}
out['ids'] = [c['DBClusterIdentifier'] for c in
              rds.describe_db_clusters(DBClusterIdentifier='my-cluster')['DBClusters']]
out['filtered'] = [c['DBClusterIdentifier'] for c in rds.describe_db_clusters(
    Filters=[{'Name': 'db-cluster-id', 'Values': ['f 1', 'f&2=\u00e9']}])['DBClusters']]
rds.get_waiter('db_cluster_available').wait(
    DBClusterIdentifier='my-cluster', WaiterConfig={'Delay': 1, 'MaxAttempts': 2})
out['waited'] = True
out['not_found'] = error(lambda: rds.delete_db_cluster(DBClusterIdentifier='gone',
                                                       SkipFinalSnapshot=True))
out['bad_secret'] = error(lambda: client(key, 'wrong').describe_db_clusters())
out['bad_key'] = error(lambda: client('AKIANOBODY', secret).describe_db_clusters())
print(json.dumps(out))
"#;

#[test]
fn boto3_drives_the_blocks_end_to_end() {
    let Some(python) = common::venv_bin("python") else {
        return;
    };
    let server = TestServer::start();
    let out = common::run_python(
        &python,
        BOTO3_SCRIPT,
        &[
            &server.endpoint(),
            common::ACCESS_KEY_ID,
            common::SECRET_ACCESS_KEY,
        ],
        b"",
    );
    let out: serde_json::Value = serde_json::from_str(&out).expect("script prints JSON");
    assert_eq!(out["ids"], serde_json::json!(["my-cluster"]), "{out}");
    assert_eq!(
        out["filtered"],
        serde_json::json!(["f 1", "f&2=\u{e9}"]),
        "{out}"
    );
    assert_eq!(out["waited"], true);
    assert_eq!(
        out["not_found"],
        serde_json::json!(["DBClusterNotFoundFault", "DBCluster gone not found.", 404])
    );
    assert_eq!(out["bad_secret"][0], "SignatureDoesNotMatch", "{out}");
    assert_eq!(out["bad_secret"][2], 403);
    assert_eq!(
        out["bad_key"],
        serde_json::json!([
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
            403
        ])
    );
}

#[test]
fn aws_cli_with_a_ferry_credentials_file_just_works() {
    let Some(aws) = common::venv_bin("aws") else {
        return;
    };
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let credentials = dir.path().join("admin-credentials");
    std::fs::write(
        &credentials,
        format!(
            "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\nregion = {}\n",
            common::ACCESS_KEY_ID,
            common::SECRET_ACCESS_KEY,
            common::REGION
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        Command::new(&aws)
            .args(["--endpoint-url", &server.endpoint(), "--output", "json"])
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", dir.path())
            .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
            .env("AWS_CONFIG_FILE", dir.path().join("no-config"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .expect("run the AWS CLI")
    };

    let out = run(&[
        "rds",
        "describe-db-clusters",
        "--db-cluster-identifier",
        "cli-cluster",
    ]);
    assert!(
        out.status.success(),
        "aws failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let parsed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        parsed["DBClusters"][0]["DBClusterIdentifier"],
        "cli-cluster"
    );
    assert_eq!(parsed["DBClusters"][0]["Port"], 3306);

    let out = run(&[
        "rds",
        "wait",
        "db-cluster-available",
        "--db-cluster-identifier",
        "cli-cluster",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = run(&[
        "rds",
        "delete-db-cluster",
        "--db-cluster-identifier",
        "gone",
        "--skip-final-snapshot",
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("An error occurred (DBClusterNotFoundFault) when calling the DeleteDBCluster operation: DBCluster gone not found."),
        "{stderr}"
    );
}

#[test]
fn ferry_client_calls_and_reports_api_errors() {
    let server = TestServer::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let credentials = dir.path().join("admin-credentials");
    std::fs::write(
        &credentials,
        format!(
            "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\nregion = {}\n",
            common::ACCESS_KEY_ID,
            common::SECRET_ACCESS_KEY,
            common::REGION
        ),
    )
    .unwrap();
    let client = Client::from_credentials_file(&server.endpoint(), &credentials).unwrap();
    runtime.block_on(async {
        let r = client
            .call(
                "DescribeDBClusters",
                &[
                    ("Filters.Filter.1.Name", "db-cluster-id"),
                    ("Filters.Filter.1.Values.Value.1", "x y+z&"),
                ],
            )
            .await
            .unwrap();
        assert_eq!(r.text("DBClusterIdentifier").as_deref(), Some("x y+z&"));
        assert_eq!(r.text("Status").as_deref(), Some("available"));
        assert!(r.request_id().is_some());
        let members = r.all_of("DBClusterMember");
        assert_eq!(members[0]["IsClusterWriter"], "true");

        let r = client.call("WhoAmI", &[]).await.unwrap();
        assert_eq!(r.text("User").as_deref(), Some(common::USER));

        let e = client.call("DeleteDBCluster", &[]).await.unwrap_err();
        match &e {
            ClientError::Api {
                status,
                code,
                message,
                ..
            } => {
                assert_eq!((*status, code.as_str()), (400, "MissingParameter"));
                assert_eq!(
                    message,
                    "The request must contain the parameter DBClusterIdentifier"
                );
            }
            other => panic!("unexpected {other:?}"),
        }

        let e = client.call("Frobnicate", &[]).await.unwrap_err();
        assert!(matches!(&e, ClientError::Api { code, .. } if code == "InvalidAction"), "{e}");

        let wrong =
            Client::new(&server.endpoint(), common::ACCESS_KEY_ID, "wrong", common::REGION).unwrap();
        let e = wrong.call("DescribeDBClusters", &[]).await.unwrap_err();
        assert!(
            matches!(&e, ClientError::Api { status: 403, code, .. } if code == "SignatureDoesNotMatch"),
            "{e}"
        );

        let other_region =
            Client::new(&server.endpoint(), common::ACCESS_KEY_ID, common::SECRET_ACCESS_KEY, "eu-west-1")
                .unwrap();
        let e = other_region.call("DescribeDBClusters", &[]).await.unwrap_err();
        assert!(e.to_string().contains("us-east-1"), "{e}");
    });
    drop(server);

    // Nothing listening any more: a transport error naming the action and endpoint.
    let e = runtime
        .block_on(client.call("DescribeDBClusters", &[]))
        .unwrap_err();
    assert!(matches!(e, ClientError::Http { .. }), "{e}");
    assert!(e.to_string().contains("DescribeDBClusters"), "{e}");
}
