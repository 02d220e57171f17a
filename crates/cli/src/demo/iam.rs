//! The demo's permissions, as the seed's "Required Permissions" and "Creating the IAM Service
//! Role" sections set them up: the administrator (the account root) creates the S3 ingestion
//! role `S3Access`, a user `migrator` holding only the seed's two policies and one that lets
//! it restore and watch, and an access key; the rest of the demo runs as that user.

use anyhow::Context;
use camino::Utf8Path;
use ferry_api::client::Client;

use super::{say, write_private};

/// The seed's minimal console policy (with the comma the seed's text lacks after
/// `"s3:ListObjects"`).
const CONSOLE_POLICY: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "iam:ListRoles",
                "iam:CreateRole",
                "iam:CreatePolicy",
                "iam:AttachRolePolicy",
                "s3:ListBucket",
                "s3:ListObjects",
                "kms:ListKeys"
            ],
            "Resource": "*"
        }
    ]
}"#;

/// What the migration itself needs: restore, the writer, watching, replication and cutover,
/// and `ferry import --cluster` (a mysqldump loaded into a second cluster).
const MIGRATE_POLICY: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "RestoreAndWatch",
            "Effect": "Allow",
            "Action": [
                "rds:RestoreDBClusterFromS3",
                "rds:CreateDBCluster",
                "rds:CreateDBInstance",
                "rds:Describe*",
                "ferry:DescribeReplication",
                "ferry:Cutover",
                "ferry:StartImport",
                "ferry:ReportImport",
                "ferry:CreateImportObject",
                "ferry:FinishImport",
                "ferry:DescribeImports"
            ],
            "Resource": "*"
        }
    ]
}"#;

const USER: &str = "migrator";
const ROLE: &str = "S3Access";

/// The restricted user's client, the ingestion role's ARN and the user's credentials file.
pub(super) async fn restricted_user(
    admin: &Client,
    dir: &Utf8Path,
    bucket: &str,
    prefix: &str,
) -> anyhow::Result<(Client, String, camino::Utf8PathBuf)> {
    say("== IAM: the ingestion role and a migrating user holding only the seed's policies");
    let role = admin
        .call(
            "FerryCreateIngestionRole",
            &[
                ("S3BucketName", bucket),
                ("S3Prefix", prefix),
                ("RoleName", ROLE),
            ],
        )
        .await
        .context("FerryCreateIngestionRole")?;
    let role_arn = role.text("RoleArn").context("no RoleArn")?;
    say(&format!(
        "   role {role_arn}: trusted by rds.amazonaws.com, may list {bucket} and read {prefix}*"
    ));
    let account = role_arn
        .strip_prefix("arn:aws:iam::")
        .and_then(|r| r.split(':').next())
        .context("a role ARN with an account")?
        .to_owned();
    let pass_role = format!(
        r#"{{
    "Version":"2012-10-17",
    "Statement":[
        {{
            "Sid":"AllowS3AccessRole",
            "Effect":"Allow",
            "Action":"iam:PassRole",
            "Resource":"arn:aws:iam::{account}:role/{ROLE}"
        }}
    ]
}}"#
    );
    admin
        .call_iam("CreateUser", &[("UserName", USER)])
        .await
        .context("CreateUser")?;
    for (name, document) in [
        ("seed-console-minimal", CONSOLE_POLICY),
        ("seed-pass-s3access", pass_role.as_str()),
        ("migrate", MIGRATE_POLICY),
    ] {
        let p = admin
            .call_iam(
                "CreatePolicy",
                &[("PolicyName", name), ("PolicyDocument", document)],
            )
            .await
            .with_context(|| format!("CreatePolicy {name}"))?;
        let arn = p.text("Arn").context("no policy Arn")?;
        admin
            .call_iam(
                "AttachUserPolicy",
                &[("UserName", USER), ("PolicyArn", &arn)],
            )
            .await
            .with_context(|| format!("AttachUserPolicy {name}"))?;
        say(&format!("   policy {arn} attached to {USER}:"));
        for line in document.lines() {
            say(&format!("      {line}"));
        }
    }
    let key = admin
        .call_iam("CreateAccessKey", &[("UserName", USER)])
        .await
        .context("CreateAccessKey")?;
    let id = key.text("AccessKeyId").context("no AccessKeyId")?;
    let secret = key.text("SecretAccessKey").context("no SecretAccessKey")?;
    let credentials = dir.join("migrator-credentials");
    write_private(
        &credentials,
        &format!(
            "# ferry demo: the migrating user {USER}\n[default]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\nregion = {}\n",
            admin.region()
        ),
    )?;
    let client = Client::new(admin.endpoint(), &id, &secret, admin.region())?;
    say(&format!(
        "   user arn:aws:iam::{account}:user/{USER}, key {id} (secret in {credentials})"
    ));
    Ok((client, role_arn, credentials))
}
