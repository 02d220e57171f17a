//! The seed's "Required Permissions" and "Creating the IAM Service Role" sections carried out
//! with the real AWS CLI against `ferry serve`, as an administrator and a restricted user
//! would: the policies as the seed prints them, `iam:PassRole` on the ingestion role, a role
//! whose policy covers another prefix, groups, an explicit deny, the simulator agreeing with
//! enforcement, and audit mode.

mod common;

use std::path::{Path, PathBuf};

use common::serve::{data_dir, restore_args, Serve};
use serde_json::json;

const ACCOUNT: &str = "000000000000";

use common::SEED_CONSOLE_POLICY_AS_PRINTED;

/// The seed's PassRole policy, for this installation's account.
fn seed_pass_role_policy() -> String {
    format!(
        r#"{{
    "Version":"2012-10-17",
    "Statement":[
        {{
            "Sid":"AllowS3AccessRole",
            "Effect":"Allow",
            "Action":"iam:PassRole",
            "Resource":"arn:aws:iam::{ACCOUNT}:role/S3Access"
        }}
    ]
}}"#
    )
}

/// What a migrating user needs of RDS besides the seed's policies.
const RESTORE_POLICY: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "RestoreAndWatch",
            "Effect": "Allow",
            "Action": ["rds:RestoreDBClusterFromS3", "rds:CreateDBInstance", "rds:Describe*"],
            "Resource": "*"
        }
    ]
}"#;

/// A user with an access key, its credentials in a file of the test's.
struct User {
    name: String,
    credentials: PathBuf,
}

fn create_user(serve: &Serve, dir: &Path, name: &str) -> User {
    serve
        .aws(&["iam", "create-user", "--user-name", name])
        .json();
    let key = serve
        .aws(&["iam", "create-access-key", "--user-name", name])
        .json();
    let id = key["AccessKey"]["AccessKeyId"].as_str().unwrap();
    let secret = key["AccessKey"]["SecretAccessKey"].as_str().unwrap();
    let credentials = dir.with_extension(format!("{name}.credentials"));
    std::fs::write(
        &credentials,
        format!(
            "[default]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\nregion = us-east-1\n"
        ),
    )
    .unwrap();
    User {
        name: name.to_string(),
        credentials,
    }
}

fn create_policy(serve: &Serve, name: &str, document: &str) -> String {
    let p = serve
        .aws(&[
            "iam",
            "create-policy",
            "--policy-name",
            name,
            "--policy-document",
            document,
        ])
        .json();
    p["Policy"]["Arn"].as_str().unwrap().to_string()
}

fn attach(serve: &Serve, user: &User, policy_arn: &str) {
    serve
        .aws(&[
            "iam",
            "attach-user-policy",
            "--user-name",
            &user.name,
            "--policy-arn",
            policy_arn,
        ])
        .succeeds();
}

fn ingestion_role(serve: &Serve, name: &str, bucket: &str, prefix: &str) -> String {
    let out = common::ferry()
        .args(["iam", "create-ingestion-role", "--bucket", bucket])
        .args(["--prefix", prefix, "--name", name])
        .arg("--endpoint-url")
        .arg(serve.endpoint())
        .arg("--credentials")
        .arg(serve.credentials())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// `restore_args` with another role.
fn restore_with_role<'a>(
    id: &'a str,
    bucket: &'a str,
    port: &'a str,
    role: &'a str,
) -> Vec<&'a str> {
    let mut args = restore_args(id, bucket, port);
    let i = args
        .iter()
        .position(|a| *a == "--s3-ingestion-role-arn")
        .unwrap();
    args[i + 1] = role;
    args
}

/// The AWS CLI's line for an `AccessDenied` answer, in AWS's current message shape.
fn assert_denied(
    err: &str,
    operation: &str,
    action: &str,
    resource: &str,
    user: &str,
    explicit: bool,
) {
    let because = if explicit {
        "with an explicit deny in an identity-based policy".to_string()
    } else {
        format!("because no identity-based policy allows the {action} action")
    };
    let want = format!(
        "An error occurred (AccessDenied) when calling the {operation} operation: User: \
         arn:aws:iam::{ACCOUNT}:user/{user} is not authorized to perform: {action} on resource: \
         {resource} {because}"
    );
    assert_eq!(err, want);
}

#[test]
fn the_seed_permissions_with_the_aws_cli() {
    let (_tmp, dir) = data_dir();
    let chains = common::fixtures().join("chains");
    let serve = Serve::start(&dir, &chains, &[]);

    // The seed's console policy as printed is refused, as IAM refuses it; with the comma it
    // is accepted.
    let e = serve
        .aws(&[
            "iam",
            "create-policy",
            "--policy-name",
            "console-minimal",
            "--policy-document",
            SEED_CONSOLE_POLICY_AS_PRINTED,
        ])
        .error()
        .to_string();
    assert_eq!(
        e,
        "An error occurred (MalformedPolicyDocument) when calling the CreatePolicy operation: Syntax errors in policy."
    );
    let fixed = SEED_CONSOLE_POLICY_AS_PRINTED.replace("\"s3:ListObjects\"", "\"s3:ListObjects\",");
    let console = create_policy(&serve, "console-minimal", &fixed);
    let pass_role = create_policy(&serve, "pass-s3access", &seed_pass_role_policy());
    let restore = create_policy(&serve, "restore", RESTORE_POLICY);

    // The role, made by the administrator ("Creating the IAM Service Role").
    let role = ingestion_role(&serve, "S3Access", "*", "");
    assert_eq!(role, format!("arn:aws:iam::{ACCOUNT}:role/S3Access"));
    let other_role = ingestion_role(&serve, "OtherRole", "*", "");

    let alice = create_user(&serve, &dir, "alice");
    let who = serve
        .aws_with(&alice.credentials, &["sts", "get-caller-identity"])
        .json();
    assert_eq!(who["Arn"], format!("arn:aws:iam::{ACCOUNT}:user/alice"));
    assert_eq!(who["Account"], ACCOUNT);

    // New users start with nothing.
    let e = serve
        .aws_with(&alice.credentials, &["rds", "describe-db-clusters"])
        .error()
        .to_string();
    assert_denied(
        &e,
        "DescribeDBClusters",
        "rds:DescribeDBClusters",
        &format!("arn:aws:rds:us-east-1:{ACCOUNT}:cluster:*"),
        "alice",
        false,
    );

    attach(&serve, &alice, &console);
    attach(&serve, &alice, &restore);
    // The console policy lets alice list roles.
    let roles = serve
        .aws_with(&alice.credentials, &["iam", "list-roles"])
        .json();
    assert!(roles["Roles"].as_array().unwrap().len() >= 2);

    // Without iam:PassRole she cannot restore.
    let port = ferry_testkit::free_port().to_string();
    let e = serve
        .aws_with(
            &alice.credentials,
            &restore_with_role("seed-1", "dir", &port, &role),
        )
        .error()
        .to_string();
    assert_denied(
        &e,
        "RestoreDBClusterFromS3",
        "iam:PassRole",
        &role,
        "alice",
        false,
    );

    // With the seed's PassRole policy she may pass S3Access, and no other role.
    attach(&serve, &alice, &pass_role);
    let e = serve
        .aws_with(
            &alice.credentials,
            &restore_with_role("seed-1", "dir", &port, &other_role),
        )
        .error()
        .to_string();
    assert_denied(
        &e,
        "RestoreDBClusterFromS3",
        "iam:PassRole",
        &other_role,
        "alice",
        false,
    );
    let c = serve
        .aws_with(
            &alice.credentials,
            &restore_with_role("seed-1", "dir", &port, &role),
        )
        .json();
    assert_eq!(c["DBCluster"]["Status"], "creating");

    // The simulator agrees with what was enforced.
    let sim = serve
        .aws(&[
            "iam",
            "simulate-principal-policy",
            "--policy-source-arn",
            &format!("arn:aws:iam::{ACCOUNT}:user/alice"),
            "--action-names",
            "iam:PassRole",
            "--resource-arns",
            &role,
            &other_role,
        ])
        .json();
    let results = sim["EvaluationResults"].as_array().unwrap();
    let decisions: Vec<(&str, &str)> = results
        .iter()
        .flat_map(|r| {
            r["ResourceSpecificResults"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|x| {
                    (
                        x["EvalResourceName"].as_str().unwrap(),
                        x["EvalResourceDecision"].as_str().unwrap(),
                    )
                })
        })
        .collect();
    assert!(decisions.contains(&(role.as_str(), "allowed")), "{sim}");
    assert!(
        decisions.contains(&(other_role.as_str(), "implicitDeny")),
        "{sim}"
    );

    serve.wait(
        "db_cluster_available",
        json!({"DBClusterIdentifier": "seed-1"}),
    );

    // An explicit deny beats the allow.
    let deny = create_policy(
        &serve,
        "no-describe",
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoDescribe","Effect":"Deny","Action":"rds:DescribeDBClusters","Resource":"*"}]}"#,
    );
    attach(&serve, &alice, &deny);
    let e = serve
        .aws_with(
            &alice.credentials,
            &[
                "rds",
                "describe-db-clusters",
                "--db-cluster-identifier",
                "seed-1",
            ],
        )
        .error()
        .to_string();
    assert_denied(
        &e,
        "DescribeDBClusters",
        "rds:DescribeDBClusters",
        &format!("arn:aws:rds:us-east-1:{ACCOUNT}:cluster:seed-1"),
        "alice",
        true,
    );
    // The server log names the policy and the statement that decided.
    let log = serve.log_text();
    assert!(
        log.lines()
            .any(|l| l.contains("denied") && l.contains(&deny) && l.contains("NoDescribe")),
        "{log}"
    );
}

#[test]
fn a_role_for_another_prefix_is_refused_before_any_object_is_read() {
    let (_tmp, dir) = data_dir();
    let chains = common::fixtures().join("chains");
    let serve = Serve::start(&dir, &chains, &[]);
    // Allowed to read only under `elsewhere/` of bucket `dir`.
    let role = ingestion_role(&serve, "Elsewhere", "dir", "elsewhere/");
    let port = ferry_testkit::free_port().to_string();
    let c = serve
        .aws(&restore_with_role("wrong-prefix", "dir", &port, &role))
        .json();
    assert_eq!(c["DBCluster"]["Status"], "creating");
    let cluster = serve.poll_cluster_status(
        "wrong-prefix",
        "migration-failed",
        std::time::Duration::from_secs(120),
    );
    assert_eq!(cluster["Status"], "migration-failed");
    let events = serve.cluster_events("wrong-prefix");
    let refusal = events
        .iter()
        .find(|e| e.starts_with("Amazon RDS has been unable to create credentials"))
        .unwrap_or_else(|| panic!("events: {events:#?}"));
    assert!(
        refusal.contains(&format!(
            "the policies of role {role} do not allow s3:GetObject on arn:aws:s3:::dir/"
        )),
        "{refusal}"
    );
    // Nothing was staged: no object was read.
    let staging = dir.join("staging").join("wrong-prefix");
    assert!(!staging.exists(), "{staging:?} exists");

    // A role whose policy does not allow listing the bucket is refused by the call itself.
    let none = ingestion_role(&serve, "OtherBucket", "another-bucket", "");
    let e = serve
        .aws(&restore_with_role("wrong-bucket", "dir", &port, &none))
        .error()
        .to_string();
    assert!(
        e.starts_with(
            "An error occurred (InvalidS3BucketFault) when calling the RestoreDBClusterFromS3 operation: The specified bucket dir can't be found or Amazon RDS isn't authorized to access the specified Amazon S3 bucket."
        ) && e.contains(&format!(
            "the policies of role {none} do not allow s3:ListBucket on arn:aws:s3:::dir"
        )),
        "{e}"
    );
    // A role that does not exist.
    let missing = format!("arn:aws:iam::{ACCOUNT}:role/NoSuchRole");
    let e = serve
        .aws(&restore_with_role("no-role", "dir", &port, &missing))
        .error()
        .to_string();
    assert!(
        e.starts_with(
            "An error occurred (InvalidParameterValue) when calling the RestoreDBClusterFromS3 operation: Files from the specified Amazon S3 bucket cannot be downloaded."
        ) && e.contains(&format!("the role {missing} does not exist")),
        "{e}"
    );
}

#[test]
fn groups_grant_and_removal_revokes_and_audit_mode_logs() {
    let (_tmp, dir) = data_dir();
    let chains = common::fixtures().join("chains");
    let config = dir.with_extension("toml");
    std::fs::write(&config, "[iam]\nmode = \"audit\"\n").unwrap();
    let serve = Serve::start(&dir, &chains, &[]);
    let bob = create_user(&serve, &dir, "bob");
    let describe = create_policy(
        &serve,
        "describe",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rds:Describe*","Resource":"*"}]}"#,
    );
    serve
        .aws(&["iam", "create-group", "--group-name", "readers"])
        .json();
    serve
        .aws(&[
            "iam",
            "attach-group-policy",
            "--group-name",
            "readers",
            "--policy-arn",
            &describe,
        ])
        .succeeds();
    assert!(
        !serve
            .aws_with(&bob.credentials, &["rds", "describe-db-clusters"])
            .ok
    );
    serve
        .aws(&[
            "iam",
            "add-user-to-group",
            "--group-name",
            "readers",
            "--user-name",
            "bob",
        ])
        .succeeds();
    serve
        .aws_with(&bob.credentials, &["rds", "describe-db-clusters"])
        .json();
    serve
        .aws(&[
            "iam",
            "remove-user-from-group",
            "--group-name",
            "readers",
            "--user-name",
            "bob",
        ])
        .succeeds();
    assert!(
        !serve
            .aws_with(&bob.credentials, &["rds", "describe-db-clusters"])
            .ok
    );
    drop(serve);

    // The same data dir in audit mode: the denial is logged, the call goes ahead.
    let (_tmp2, dir2) = data_dir();
    let serve = Serve::start(&dir2, &chains, &["--config", config.to_str().unwrap()]);
    let carol = create_user(&serve, &dir2, "carol");
    serve
        .aws_with(&carol.credentials, &["rds", "describe-db-clusters"])
        .json();
    let log = serve.log_text();
    assert!(
        log.contains("would be denied") && log.contains("rds:DescribeDBClusters"),
        "{log}"
    );
}
