//! IAM users, groups, access keys and STS GetCallerIdentity against a real `ferry serve`,
//! driven by the real AWS CLI: a new user's key signs requests, is refused once Inactive,
//! and the refusals carry IAM's codes and texts.

mod common;

use std::path::{Path, PathBuf};

use common::serve::{data_dir, CliRun, Serve};

const REGION: &str = "us-east-1";

fn iam(serve: &Serve, args: &[&str]) -> CliRun {
    let mut all = vec!["--region", REGION, "iam"];
    all.extend_from_slice(args);
    serve.aws(&all)
}

/// A shared-credentials file for one key pair.
fn credentials_file(dir: &Path, name: &str, key: &serde_json::Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            key["AccessKeyId"].as_str().unwrap(),
            key["SecretAccessKey"].as_str().unwrap()
        ),
    )
    .unwrap();
    path
}

fn error_of(run: &CliRun, code: &str, action: &str, message: &str) {
    assert_eq!(
        run.error(),
        format!("An error occurred ({code}) when calling the {action} operation: {message}")
    );
}

#[test]
fn users_keys_groups_and_caller_identity_with_the_aws_cli() {
    let (_tmp, dir) = data_dir();
    let files = tempfile::tempdir().unwrap();
    let serve = Serve::start(&dir, files.path(), &[]);

    // The root, as IAM and STS show it.
    let me = serve
        .aws(&["--region", REGION, "sts", "get-caller-identity"])
        .json();
    assert_eq!(me["Arn"], "arn:aws:iam::000000000000:root");
    assert_eq!(me["UserId"], "000000000000");
    assert_eq!(me["Account"], "000000000000");

    let user = iam(
        &serve,
        &[
            "create-user",
            "--user-name",
            "alice",
            "--path",
            "/eng/",
            "--tags",
            "Key=team,Value=data",
        ],
    )
    .json();
    assert_eq!(
        user["User"]["Arn"],
        "arn:aws:iam::000000000000:user/eng/alice"
    );
    assert!(user["User"]["UserId"].as_str().unwrap().starts_with("AIDA"));
    error_of(
        &iam(&serve, &["create-user", "--user-name", "ALICE"]),
        "EntityAlreadyExists",
        "CreateUser",
        "User with name ALICE already exists.",
    );
    error_of(
        &iam(&serve, &["get-user", "--user-name", "nobody"]),
        "NoSuchEntity",
        "GetUser",
        "The user with name nobody cannot be found.",
    );

    // A key for alice signs requests as alice.
    let key =
        iam(&serve, &["create-access-key", "--user-name", "alice"]).json()["AccessKey"].clone();
    assert_eq!(key["Status"], "Active");
    assert_eq!(key["UserName"], "alice");
    let creds = credentials_file(files.path(), "alice", &key);
    let who = serve
        .aws_with(&creds, &["--region", REGION, "sts", "get-caller-identity"])
        .json();
    assert_eq!(who["Arn"], "arn:aws:iam::000000000000:user/eng/alice");
    assert_eq!(who["UserId"], user["User"]["UserId"]);
    let id = key["AccessKeyId"].as_str().unwrap();
    let last = iam(&serve, &["get-access-key-last-used", "--access-key-id", id]).json();
    assert_eq!(last["UserName"], "alice");
    assert_eq!(last["AccessKeyLastUsed"]["ServiceName"], "sts");
    assert_eq!(last["AccessKeyLastUsed"]["Region"], REGION);

    // At most two keys; the secret is never listed.
    let second = iam(&serve, &["create-access-key", "--user-name", "alice"]).json();
    let second_id = second["AccessKey"]["AccessKeyId"]
        .as_str()
        .unwrap()
        .to_string();
    let never = iam(
        &serve,
        &["get-access-key-last-used", "--access-key-id", &second_id],
    )
    .json();
    assert_eq!(never["AccessKeyLastUsed"]["ServiceName"], "N/A");
    assert!(never["AccessKeyLastUsed"].get("LastUsedDate").is_none());
    error_of(
        &iam(&serve, &["create-access-key", "--user-name", "alice"]),
        "LimitExceeded",
        "CreateAccessKey",
        "Cannot exceed quota for AccessKeysPerUser: 2",
    );
    let listed = iam(&serve, &["list-access-keys", "--user-name", "alice"]);
    assert!(!listed.stdout.contains("SecretAccessKey"));
    assert_eq!(
        listed.json()["AccessKeyMetadata"].as_array().unwrap().len(),
        2
    );

    // Deactivated, the key stops working at once, as AWS answers an unknown key.
    iam(
        &serve,
        &[
            "update-access-key",
            "--user-name",
            "alice",
            "--access-key-id",
            id,
            "--status",
            "Inactive",
        ],
    )
    .json_or_empty();
    error_of(
        &serve.aws_with(&creds, &["--region", REGION, "sts", "get-caller-identity"]),
        "InvalidClientTokenId",
        "GetCallerIdentity",
        "The security token included in the request is invalid.",
    );
    iam(
        &serve,
        &[
            "update-access-key",
            "--user-name",
            "alice",
            "--access-key-id",
            id,
            "--status",
            "Active",
        ],
    )
    .json_or_empty();
    serve
        .aws_with(&creds, &["--region", REGION, "sts", "get-caller-identity"])
        .json();

    // Groups and membership.
    iam(&serve, &["create-group", "--group-name", "devs"]).json();
    iam(
        &serve,
        &[
            "add-user-to-group",
            "--group-name",
            "devs",
            "--user-name",
            "alice",
        ],
    )
    .json_or_empty();
    let groups = iam(&serve, &["list-groups-for-user", "--user-name", "alice"]).json();
    assert_eq!(groups["Groups"][0]["GroupName"], "devs");
    let group = iam(&serve, &["get-group", "--group-name", "devs"]).json();
    assert_eq!(group["Users"][0]["UserName"], "alice");
    error_of(
        &iam(&serve, &["delete-group", "--group-name", "devs"]),
        "DeleteConflict",
        "DeleteGroup",
        "Cannot delete entity, must remove users from group first.",
    );
    error_of(
        &iam(&serve, &["delete-user", "--user-name", "alice"]),
        "DeleteConflict",
        "DeleteUser",
        "Cannot delete entity, must delete access keys first.",
    );

    // Rename: the keys follow.
    iam(
        &serve,
        &[
            "update-user",
            "--user-name",
            "alice",
            "--new-user-name",
            "alicia",
        ],
    )
    .json_or_empty();
    let who = serve
        .aws_with(&creds, &["--region", REGION, "sts", "get-caller-identity"])
        .json();
    assert_eq!(who["Arn"], "arn:aws:iam::000000000000:user/eng/alicia");
    let tags = iam(&serve, &["list-user-tags", "--user-name", "alicia"]).json();
    assert_eq!(tags["Tags"][0]["Key"], "team");

    // Paging, as the CLI drives it.
    for i in 0..5 {
        iam(&serve, &["create-user", "--user-name", &format!("u{i}")]).json();
    }
    let all = iam(&serve, &["list-users", "--page-size", "2"]).json();
    assert_eq!(all["Users"].as_array().unwrap().len(), 6);
    let first = iam(
        &serve,
        &["list-users", "--max-items", "4", "--page-size", "3"],
    )
    .json();
    assert_eq!(first["Users"].as_array().unwrap().len(), 4);
    let token = first["NextToken"]
        .as_str()
        .expect("a NextToken")
        .to_string();
    let rest = iam(
        &serve,
        &["list-users", "--starting-token", &token, "--page-size", "3"],
    )
    .json();
    let names: Vec<&str> = rest["Users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["UserName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["u3", "u4"]);

    // Cleaning up in IAM's order lets the user go.
    for k in [id, second_id.as_str()] {
        iam(
            &serve,
            &[
                "delete-access-key",
                "--user-name",
                "alicia",
                "--access-key-id",
                k,
            ],
        )
        .json_or_empty();
    }
    iam(
        &serve,
        &[
            "remove-user-from-group",
            "--group-name",
            "devs",
            "--user-name",
            "alicia",
        ],
    )
    .json_or_empty();
    iam(&serve, &["delete-user", "--user-name", "alicia"]).json_or_empty();
    iam(&serve, &["delete-group", "--group-name", "devs"]).json_or_empty();
    error_of(
        &serve.aws_with(&creds, &["--region", REGION, "sts", "get-caller-identity"]),
        "InvalidClientTokenId",
        "GetCallerIdentity",
        "The security token included in the request is invalid.",
    );

    // No secret in clear on disk: the database holds only sealed ones.
    let mut db = std::fs::read(dir.join("ferry.sqlite")).unwrap();
    db.extend(std::fs::read(dir.join("ferry.sqlite-wal")).unwrap_or_default());
    let admin = std::fs::read_to_string(serve.credentials()).unwrap();
    let admin_secret = admin
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == "aws_secret_access_key").then(|| v.trim())
        })
        .expect("the admin secret");
    assert!(!contains(&db, admin_secret.as_bytes()));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.join("secrets.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

trait EmptyOk {
    fn json_or_empty(&self);
}

impl EmptyOk for CliRun {
    /// Actions with no output print nothing.
    fn json_or_empty(&self) {
        assert!(self.ok, "aws failed:\n{}", self.stderr);
    }
}

/// boto3 reads the same shapes: the root's own GetUser, its own keys (no `UserName`), paged
/// listings through boto3's paginator, group paging in GetGroup, and the error codes.
#[test]
fn boto3_reads_the_identities_shapes() {
    let (_tmp, dir) = data_dir();
    let files = tempfile::tempdir().unwrap();
    let serve = Serve::start(&dir, files.path(), &[]);
    let script = r#"
import sys, boto3, botocore.exceptions
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1")
root = iam.get_user()["User"]
assert root["Arn"] == "arn:aws:iam::000000000000:root", root
assert root["UserId"] == "000000000000", root
mine = iam.list_access_keys()["AccessKeyMetadata"]
assert len(mine) == 1 and mine[0]["Status"] == "Active", mine
extra = iam.create_access_key()["AccessKey"]
assert "UserName" not in extra and len(extra["SecretAccessKey"]) == 40, extra
try:
    iam.create_access_key()
    raise SystemExit("a third root key was allowed")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "LimitExceeded", e.response
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 409
iam.delete_access_key(AccessKeyId=extra["AccessKeyId"])
iam.create_group(GroupName="ops", Path="/teams/")
for i in range(7):
    iam.create_user(UserName="user%d" % i, Path="/p/" if i % 2 else "/")
    iam.add_user_to_group(GroupName="ops", UserName="user%d" % i)
pages = list(iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 3}))
assert [len(p["Users"]) for p in pages] == [3, 3, 1], [len(p["Users"]) for p in pages]
assert pages[0]["IsTruncated"] and not pages[-1]["IsTruncated"]
odd = iam.list_users(PathPrefix="/p/")["Users"]
assert [u["UserName"] for u in odd] == ["user1", "user3", "user5"], odd
members = [u["UserName"] for p in iam.get_paginator("get_group").paginate(GroupName="ops", PaginationConfig={"PageSize": 2}) for u in p["Users"]]
assert members == ["user%d" % i for i in range(7)], members
g = iam.get_group(GroupName="ops")["Group"]
assert g["Arn"] == "arn:aws:iam::000000000000:group/teams/ops" and g["GroupId"].startswith("AGPA"), g
iam.tag_user(UserName="user0", Tags=[{"Key": "env", "Value": "prod"}])
iam.untag_user(UserName="user0", TagKeys=["nope"])
assert iam.list_user_tags(UserName="user0")["Tags"] == [{"Key": "env", "Value": "prod"}]
assert iam.get_user(UserName="user0")["User"]["Tags"] == [{"Key": "env", "Value": "prod"}]
try:
    iam.remove_user_from_group(GroupName="nope", UserName="user0")
    raise SystemExit("an unknown group was accepted")
except iam.exceptions.NoSuchEntityException as e:
    assert e.response["Error"]["Message"] == "The group with name nope cannot be found.", e.response
print("ok")
"#;
    let python = ferry_testkit::venv_bin("python").expect("python in the test virtualenv");
    let mut cmd = std::process::Command::new(python);
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    let out = cmd
        .env("AWS_SHARED_CREDENTIALS_FILE", serve.credentials())
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_MAX_ATTEMPTS", "1")
        .arg("-c")
        .arg(script)
        .arg(serve.endpoint())
        .output()
        .expect("run python");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "ok",
        "boto3 check failed:\n{}{}\nserve log:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        serve.log_text()
    );
}
