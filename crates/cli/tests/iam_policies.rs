//! Roles, managed policies and their versions, attachments, inline policies and the policy
//! simulator, driven with the real AWS CLI against `ferry serve` as the account root: the
//! seed's policies and trust policy, IAM's refusal texts, quotas, and the wire shapes botocore
//! reads (documents URL-encoded, simulator results).

mod common;

use common::serve::{data_dir, Serve};
use serde_json::{json, Value};

use common::SEED_CONSOLE_POLICY_AS_PRINTED as SEED_CONSOLE_POLICY;

const SEED_PASS_ROLE_POLICY: &str = r#"{
    "Version":"2012-10-17",
    "Statement":[
        {
            "Sid":"AllowS3AccessRole",
            "Effect":"Allow",
            "Action":"iam:PassRole",
            "Resource":"arn:aws:iam::123456789012:role/S3Access"
        }
    ]
}"#;

const TRUST_RDS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"rds.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

fn start() -> (tempfile::TempDir, tempfile::TempDir, Serve) {
    let (tmp, dir) = data_dir();
    let buckets = tempfile::tempdir().unwrap();
    let serve = Serve::start(&dir, buckets.path(), &[]);
    (tmp, buckets, serve)
}

fn doc(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[test]
fn roles_trust_policies_tags_and_inline_policies() {
    let (_tmp, _buckets, serve) = start();
    let role = serve
        .aws(&[
            "iam",
            "create-role",
            "--role-name",
            "S3Access",
            "--path",
            "/service-role/",
            "--assume-role-policy-document",
            TRUST_RDS,
            "--description",
            "reads backups",
            "--tags",
            "Key=team,Value=data",
        ])
        .json()["Role"]
        .clone();
    let arn = role["Arn"].as_str().unwrap().to_string();
    assert!(
        arn.starts_with("arn:aws:iam::") && arn.ends_with(":role/service-role/S3Access"),
        "{arn}"
    );
    assert!(role["RoleId"].as_str().unwrap().starts_with("AROA"));
    assert_eq!(role["MaxSessionDuration"], 3600);
    // The CLI decodes the URL-encoded document back into JSON.
    assert_eq!(role["AssumeRolePolicyDocument"], doc(TRUST_RDS));

    let e = serve.aws(&[
        "iam",
        "create-role",
        "--role-name",
        "s3access",
        "--assume-role-policy-document",
        TRUST_RDS,
    ]);
    assert!(
        e.error().contains("(EntityAlreadyExists)")
            && e.error()
                .contains("Role with name s3access already exists."),
        "{}",
        e.error()
    );

    // The trust policy is replaced and read back.
    let trust2 = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Rds","Effect":"Allow","Principal":{"Service":["rds.amazonaws.com"]},"Action":"sts:AssumeRole"}]}"#;
    serve
        .aws(&[
            "iam",
            "update-assume-role-policy",
            "--role-name",
            "S3Access",
            "--policy-document",
            trust2,
        ])
        .succeeds();
    let got = serve
        .aws(&["iam", "get-role", "--role-name", "S3Access"])
        .json();
    assert_eq!(got["Role"]["AssumeRolePolicyDocument"], doc(trust2));
    assert_eq!(got["Role"]["Description"], "reads backups");
    assert_eq!(
        got["Role"]["Tags"],
        json!([{"Key": "team", "Value": "data"}])
    );
    let e = serve.aws(&[
        "iam",
        "update-assume-role-policy",
        "--role-name",
        "S3Access",
        "--policy-document",
        "{nope",
    ]);
    assert!(
        e.error().contains("(MalformedPolicyDocument)")
            && e.error().contains("Syntax errors in policy."),
        "{}",
        e.error()
    );

    // UpdateRole: bounds of MaxSessionDuration.
    // (The CLI itself refuses a MaxSessionDuration outside 3600..=43200 before sending.)
    serve
        .aws(&[
            "iam",
            "update-role",
            "--role-name",
            "S3Access",
            "--max-session-duration",
            "7200",
        ])
        .succeeds();
    let listed = serve
        .aws(&["iam", "list-roles", "--path-prefix", "/service-role/"])
        .json();
    assert_eq!(listed["Roles"][0]["MaxSessionDuration"], 7200);
    assert_eq!(
        serve
            .aws(&["iam", "list-roles", "--path-prefix", "/other/"])
            .json()["Roles"],
        json!([])
    );

    // Tags.
    serve
        .aws(&[
            "iam",
            "tag-role",
            "--role-name",
            "S3Access",
            "--tags",
            "Key=env,Value=prod",
            "Key=team,Value=ops",
        ])
        .succeeds();
    serve
        .aws(&[
            "iam",
            "untag-role",
            "--role-name",
            "S3Access",
            "--tag-keys",
            "env",
        ])
        .succeeds();
    assert_eq!(
        serve
            .aws(&["iam", "list-role-tags", "--role-name", "S3Access"])
            .json()["Tags"],
        json!([{"Key": "team", "Value": "ops"}])
    );

    // Inline policies: round trip, the role's 10,240-character quota, DeleteConflict.
    let inline = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"arn:aws:s3:::backups/prod/*"}]}"#;
    serve
        .aws(&[
            "iam",
            "put-role-policy",
            "--role-name",
            "S3Access",
            "--policy-name",
            "read",
            "--policy-document",
            inline,
        ])
        .succeeds();
    let got = serve
        .aws(&[
            "iam",
            "get-role-policy",
            "--role-name",
            "S3Access",
            "--policy-name",
            "read",
        ])
        .json();
    assert_eq!(got["PolicyDocument"], doc(inline));
    assert_eq!(got["RoleName"], "S3Access");
    let big = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{}"}}]}}"#,
        "b".repeat(10_200)
    );
    let e = serve.aws(&[
        "iam",
        "put-role-policy",
        "--role-name",
        "S3Access",
        "--policy-name",
        "big",
        "--policy-document",
        &big,
    ]);
    assert!(
        e.error().contains("(LimitExceeded)")
            && e.error()
                .contains("Maximum policy size of 10240 bytes exceeded for role S3Access"),
        "{}",
        e.error()
    );
    assert_eq!(
        serve
            .aws(&["iam", "list-role-policies", "--role-name", "S3Access"])
            .json()["PolicyNames"],
        json!(["read"])
    );
    let e = serve.aws(&["iam", "delete-role", "--role-name", "S3Access"]);
    assert!(
        e.error().contains("(DeleteConflict)")
            && e.error()
                .contains("Cannot delete entity, must delete policies first."),
        "{}",
        e.error()
    );
    serve
        .aws(&[
            "iam",
            "delete-role-policy",
            "--role-name",
            "S3Access",
            "--policy-name",
            "read",
        ])
        .succeeds();
    serve
        .aws(&["iam", "delete-role", "--role-name", "S3Access"])
        .succeeds();
    let e = serve.aws(&["iam", "get-role", "--role-name", "S3Access"]);
    assert!(
        e.error().contains("(NoSuchEntity)")
            && e.error()
                .contains("The role with name S3Access cannot be found."),
        "{}",
        e.error()
    );
}

#[test]
fn managed_policies_versions_attachments_and_the_simulator() {
    let (_tmp, _buckets, serve) = start();
    // The seed's console policy as printed is refused; with the comma it is accepted.
    let e = serve.aws(&[
        "iam",
        "create-policy",
        "--policy-name",
        "Console",
        "--policy-document",
        SEED_CONSOLE_POLICY,
    ]);
    assert!(
        e.error().contains("(MalformedPolicyDocument)")
            && e.error().contains("Syntax errors in policy."),
        "{}",
        e.error()
    );
    let fixed = SEED_CONSOLE_POLICY.replace(r#""s3:ListObjects""#, r#""s3:ListObjects","#);
    let console = serve
        .aws(&[
            "iam",
            "create-policy",
            "--policy-name",
            "Console",
            "--policy-document",
            &fixed,
            "--description",
            "seed console policy",
        ])
        .json()["Policy"]
        .clone();
    let console_arn = console["Arn"].as_str().unwrap().to_string();
    assert!(console_arn.ends_with(":policy/Console"), "{console_arn}");
    assert!(console["PolicyId"].as_str().unwrap().starts_with("ANPA"));
    assert_eq!(console["DefaultVersionId"], "v1");
    assert_eq!(console["AttachmentCount"], 0);
    assert_eq!(console["IsAttachable"], true);
    let pass = serve
        .aws(&[
            "iam",
            "create-policy",
            "--policy-name",
            "PassS3Access",
            "--path",
            "/seed/",
            "--policy-document",
            SEED_PASS_ROLE_POLICY,
        ])
        .json()["Policy"]
        .clone();
    let pass_arn = pass["Arn"].as_str().unwrap().to_string();
    assert!(
        pass_arn.ends_with(":policy/seed/PassS3Access"),
        "{pass_arn}"
    );

    // Attach both, and an AWS managed one, to a role.
    serve
        .aws(&[
            "iam",
            "create-role",
            "--role-name",
            "Restorer",
            "--assume-role-policy-document",
            TRUST_RDS,
        ])
        .json();
    for arn in [
        &console_arn,
        &pass_arn,
        "arn:aws:iam::aws:policy/AmazonRDSReadOnlyAccess",
    ] {
        serve
            .aws(&[
                "iam",
                "attach-role-policy",
                "--role-name",
                "Restorer",
                "--policy-arn",
                arn,
            ])
            .succeeds();
    }
    let attached = serve
        .aws(&[
            "iam",
            "list-attached-role-policies",
            "--role-name",
            "Restorer",
        ])
        .json();
    let names: Vec<&str> = attached["AttachedPolicies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["PolicyName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["AmazonRDSReadOnlyAccess", "Console", "PassS3Access"]
    );
    let only_seed = serve
        .aws(&[
            "iam",
            "list-attached-role-policies",
            "--role-name",
            "Restorer",
            "--path-prefix",
            "/seed/",
        ])
        .json();
    assert_eq!(
        only_seed["AttachedPolicies"],
        json!([{"PolicyName": "PassS3Access", "PolicyArn": pass_arn}])
    );
    let e = serve.aws(&[
        "iam",
        "attach-role-policy",
        "--role-name",
        "Restorer",
        "--policy-arn",
        "arn:aws:iam::aws:policy/Nope",
    ]);
    assert!(
        e.error().contains("(NoSuchEntity)")
            && e.error().contains(
                "Policy arn:aws:iam::aws:policy/Nope does not exist or is not attachable."
            ),
        "{}",
        e.error()
    );
    let e = serve.aws(&[
        "iam",
        "attach-role-policy",
        "--role-name",
        "Nobody",
        "--policy-arn",
        &console_arn,
    ]);
    assert!(
        e.error()
            .contains("The role with name Nobody cannot be found."),
        "{}",
        e.error()
    );
    assert_eq!(
        serve
            .aws(&["iam", "get-policy", "--policy-arn", &console_arn])
            .json()["Policy"]["AttachmentCount"],
        1
    );
    let e = serve.aws(&["iam", "delete-role", "--role-name", "Restorer"]);
    assert!(
        e.error()
            .contains("Cannot delete entity, must detach all policies first."),
        "{}",
        e.error()
    );
    let e = serve.aws(&["iam", "delete-policy", "--policy-arn", &console_arn]);
    assert!(
        e.error().contains("(DeleteConflict)")
            && e.error()
                .contains("Cannot delete a policy attached to entities."),
        "{}",
        e.error()
    );

    // Scopes: AWS managed ones are built in, listed under AWS.
    let aws = serve
        .aws(&["iam", "list-policies", "--scope", "AWS"])
        .json();
    let aws_names: Vec<&str> = aws["Policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["PolicyName"].as_str().unwrap())
        .collect();
    assert!(
        aws_names.contains(&"AdministratorAccess") && aws_names.contains(&"IAMReadOnlyAccess"),
        "{aws_names:?}"
    );
    let local = serve
        .aws(&["iam", "list-policies", "--scope", "Local"])
        .json();
    // The two made here and the harness's ingestion role policy (attached to its role).
    assert_eq!(local["Policies"].as_array().unwrap().len(), 3);
    let attached_only = serve
        .aws(&["iam", "list-policies", "--only-attached"])
        .json();
    assert_eq!(attached_only["Policies"].as_array().unwrap().len(), 4);
    // Paging as the CLI does it (MaxItems + Marker, followed until IsTruncated is false).
    let paged = serve
        .aws(&["iam", "list-policies", "--page-size", "2"])
        .json();
    // Six AWS managed ones and the three local ones, across pages of two.
    assert_eq!(paged["Policies"].as_array().unwrap().len(), 9);

    // Versions: at most five, the default cannot be deleted, documents round-trip.
    let v2_doc = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Two","Effect":"Allow","Action":"iam:ListRoles","Resource":"*"}]}"#;
    let v2 = serve
        .aws(&[
            "iam",
            "create-policy-version",
            "--policy-arn",
            &console_arn,
            "--policy-document",
            v2_doc,
            "--set-as-default",
        ])
        .json();
    assert_eq!(v2["PolicyVersion"]["VersionId"], "v2");
    assert_eq!(v2["PolicyVersion"]["IsDefaultVersion"], true);
    for _ in 3..=5 {
        serve
            .aws(&[
                "iam",
                "create-policy-version",
                "--policy-arn",
                &console_arn,
                "--policy-document",
                &fixed,
            ])
            .json();
    }
    let e = serve.aws(&[
        "iam",
        "create-policy-version",
        "--policy-arn",
        &console_arn,
        "--policy-document",
        &fixed,
    ]);
    assert!(
        e.error().contains("(LimitExceeded)")
            && e.error()
                .contains("A managed policy can have up to 5 versions."),
        "{}",
        e.error()
    );
    let got = serve
        .aws(&[
            "iam",
            "get-policy-version",
            "--policy-arn",
            &console_arn,
            "--version-id",
            "v2",
        ])
        .json();
    assert_eq!(got["PolicyVersion"]["Document"], doc(v2_doc));
    assert_eq!(got["PolicyVersion"]["IsDefaultVersion"], true);
    let got = serve
        .aws(&[
            "iam",
            "get-policy-version",
            "--policy-arn",
            &console_arn,
            "--version-id",
            "v1",
        ])
        .json();
    assert_eq!(got["PolicyVersion"]["Document"], doc(&fixed));
    let e = serve.aws(&[
        "iam",
        "delete-policy-version",
        "--policy-arn",
        &console_arn,
        "--version-id",
        "v2",
    ]);
    assert!(
        e.error().contains("(DeleteConflict)")
            && e.error()
                .contains("Cannot delete the default version of a policy."),
        "{}",
        e.error()
    );
    serve
        .aws(&[
            "iam",
            "set-default-policy-version",
            "--policy-arn",
            &console_arn,
            "--version-id",
            "v1",
        ])
        .succeeds();
    let versions = serve
        .aws(&["iam", "list-policy-versions", "--policy-arn", &console_arn])
        .json();
    let listed: Vec<(String, bool)> = versions["Versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["VersionId"].as_str().unwrap().to_string(),
                v["IsDefaultVersion"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("v5", false),
            ("v4", false),
            ("v3", false),
            ("v2", false),
            ("v1", true)
        ]
        .map(|(v, d)| (v.to_string(), d))
    );
    serve
        .aws(&[
            "iam",
            "detach-role-policy",
            "--role-name",
            "Restorer",
            "--policy-arn",
            &console_arn,
        ])
        .succeeds();
    let e = serve.aws(&["iam", "delete-policy", "--policy-arn", &console_arn]);
    assert!(
        e.error().contains("This policy has more than one version. Before you delete a policy, you must delete the policy's versions."),
        "{}",
        e.error()
    );
    for v in ["v2", "v3", "v4", "v5"] {
        serve
            .aws(&[
                "iam",
                "delete-policy-version",
                "--policy-arn",
                &console_arn,
                "--version-id",
                v,
            ])
            .succeeds();
    }
    serve
        .aws(&["iam", "delete-policy", "--policy-arn", &console_arn])
        .succeeds();
    let e = serve.aws(&["iam", "get-policy", "--policy-arn", &console_arn]);
    assert!(e.error().contains("(NoSuchEntity)"), "{}", e.error());

    // The simulator's wire shape, through the CLI.
    let sim = serve
        .aws(&[
            "iam",
            "simulate-custom-policy",
            "--policy-input-list",
            SEED_PASS_ROLE_POLICY,
            "--action-names",
            "iam:PassRole",
            "rds:DeleteDBCluster",
            "--resource-arns",
            "arn:aws:iam::123456789012:role/S3Access",
        ])
        .json();
    let results = sim["EvaluationResults"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{sim}");
    assert_eq!(results[0]["EvalActionName"], "iam:PassRole");
    assert_eq!(
        results[0]["EvalResourceName"],
        "arn:aws:iam::123456789012:role/S3Access"
    );
    assert_eq!(results[0]["EvalDecision"], "allowed", "{sim}");
    let matched = &results[0]["MatchedStatements"][0];
    assert_eq!(matched["SourcePolicyId"], "PolicyInputList.1", "{sim}");
    assert!(
        matched["StartPosition"]["Line"].as_i64().unwrap() >= 1,
        "{sim}"
    );
    assert_eq!(results[1]["EvalActionName"], "rds:DeleteDBCluster");
    assert_eq!(results[1]["EvalDecision"], "implicitDeny");
    assert_eq!(results[1]["MatchedStatements"], json!([]));
    assert_eq!(
        results[1]["ResourceSpecificResults"][0]["EvalResourceDecision"],
        "implicitDeny"
    );
    let e = serve.aws(&[
        "iam",
        "simulate-custom-policy",
        "--policy-input-list",
        "{",
        "--action-names",
        "s3:GetObject",
    ]);
    assert!(
        e.error().contains("(MalformedPolicyDocument)"),
        "{}",
        e.error()
    );
    // The principal simulator reads the role's policies.
    let role_arn = serve
        .aws(&["iam", "get-role", "--role-name", "Restorer"])
        .json()["Role"]["Arn"]
        .as_str()
        .unwrap()
        .to_string();
    let sim = serve
        .aws(&[
            "iam",
            "simulate-principal-policy",
            "--policy-source-arn",
            &role_arn,
            "--action-names",
            "ec2:RunInstances",
        ])
        .json();
    assert_eq!(sim["EvaluationResults"][0]["EvalDecision"], "implicitDeny");
    assert_eq!(sim["EvaluationResults"][0]["EvalResourceName"], "*");
    let missing = role_arn.replace("Restorer", "Nobody");
    let e = serve.aws(&[
        "iam",
        "simulate-principal-policy",
        "--policy-source-arn",
        &missing,
        "--action-names",
        "s3:GetObject",
    ]);
    assert!(e.error().contains("(NoSuchEntity)"), "{}", e.error());
}
