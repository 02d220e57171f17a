//! `ferry iam ...`: IAM conveniences on top of the IAM API of a running `ferry serve`.
//!
//! `create-ingestion-role` is the console's "Create a new role" of the seed's restore wizard:
//! one role that `rds.amazonaws.com` may assume, with a managed policy that lets it list the
//! bucket and read the objects under the prefix (and decrypt with a KMS key when given). The
//! server makes the role, the policy and the attachment together or not at all
//! (`FerryCreateIngestionRole`), authorized as `iam:CreateRole`, `iam:CreatePolicy` and
//! `iam:AttachRolePolicy`, the permissions the seed's console policy grants.

use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::replication::ApiArgs;

#[derive(Subcommand)]
pub enum IamCommand {
    /// Create the S3 ingestion role a restore passes as --s3-ingestion-role-arn: trusted by
    /// rds.amazonaws.com, allowed to list BUCKET and read the objects under PREFIX.
    CreateIngestionRole(CreateIngestionRoleArgs),
}

#[derive(Args)]
pub struct CreateIngestionRoleArgs {
    /// The bucket the restore reads (`*`: any bucket).
    #[arg(long)]
    pub bucket: String,
    /// The key prefix of the backup (default: the whole bucket).
    #[arg(long, default_value = "")]
    pub prefix: String,
    /// The role's name (default: `ferry-s3-import-<bucket>`); its policy is named
    /// `<name>-policy`.
    #[arg(long)]
    pub name: Option<String>,
    /// A KMS key ARN the backup objects are encrypted with (SSE-KMS): the role may decrypt
    /// with it.
    #[arg(long)]
    pub kms_key_arn: Option<String>,
    #[command(flatten)]
    pub api: ApiArgs,
}

pub async fn run(cmd: IamCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        IamCommand::CreateIngestionRole(args) => create_ingestion_role(args).await,
    }
}

async fn create_ingestion_role(args: CreateIngestionRoleArgs) -> anyhow::Result<ExitCode> {
    let client = args.api.client()?;
    let mut params = vec![("S3BucketName", args.bucket.as_str())];
    if !args.prefix.is_empty() {
        params.push(("S3Prefix", args.prefix.as_str()));
    }
    if let Some(name) = &args.name {
        params.push(("RoleName", name.as_str()));
    }
    if let Some(key) = &args.kms_key_arn {
        params.push(("KmsKeyArn", key.as_str()));
    }
    let r = client.call("FerryCreateIngestionRole", &params).await?;
    println!("{}", r.text("RoleArn").unwrap_or_default());
    eprintln!(
        "created role {} (trusted by rds.amazonaws.com) with policy {}",
        r.text("RoleName").unwrap_or_default(),
        r.text("PolicyArn").unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}
