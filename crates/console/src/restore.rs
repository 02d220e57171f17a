//! The seed's "Restore from S3" wizard: source backup details, DB details, advanced settings;
//! then a pre-flight of what ferry found (every check `RestoreDBClusterFromS3` makes and the
//! backup's plan, through the API handler's own pre-flight); then Launch, which makes the
//! cluster (`RestoreDBClusterFromS3`) with exactly those values and, once it is available,
//! its writer (`CreateDBInstance`, permission asked before the Launch), through the same
//! handlers the AWS CLI reaches.
//!
//! The form's fields are the API's parameter names, so what the wizard sends is what
//! `aws rds restore-db-cluster-from-s3` would send. An error the API gives about a parameter
//! is shown next to its field. The master password never goes back to the browser: the
//! values wait server-side for the Launch (`Sessions::stash`).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use ferry_api::error::ApiError;
use ferry_api::params::Params;
use ferry_api::rds::Handler;
use ferry_api::server::Peer;
use ferry_control::service::preflight::{InspectReport, Preflight};
use ferry_control::Principal;

use crate::pages::url_part;
use crate::session::Session;
use crate::{html, message, to_sign_in, Chrome, Console};

/// One field of the form: its API parameter name, label, kind (`text`, `password`,
/// `number`, `select`, `checkbox`), hint and default.
struct Spec {
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    hint: &'static str,
    default: &'static str,
    options: &'static [&'static str],
}

const fn field(
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    hint: &'static str,
    default: &'static str,
) -> Spec {
    Spec {
        name,
        label,
        kind,
        hint,
        default,
        options: &[],
    }
}

/// The wizard's three steps, as the seed's console has them.
const SECTIONS: &[(&str, &[Spec])] = &[
    (
        "Source backup details",
        &[
            Spec {
                options: &["mysql"],
                ..field("SourceEngine", "Source engine", "select", "", "mysql")
            },
            field(
                "SourceEngineVersion",
                "Source engine version",
                "text",
                "The version of the server the backup was taken from, e.g. 8.0.36 or 10.11.6.",
                "",
            ),
            field("S3BucketName", "S3 bucket", "text", "", ""),
            field(
                "S3Prefix",
                "S3 folder path prefix (optional)",
                "text",
                "Where the backup files are in the bucket; empty for the whole bucket.",
                "",
            ),
            field(
                "S3IngestionRoleArn",
                "IAM role",
                "role",
                "The role ferry assumes to read the bucket: pick one of the account's roles, or \
                 choose \"Create a new role\" below the form for one that may read only this \
                 bucket and prefix.",
                "",
            ),
        ],
    ),
    (
        "DB details",
        &[
            field(
                "DBClusterIdentifier",
                "DB cluster identifier",
                "text",
                "1 to 63 letters, digits or hyphens; starts with a letter.",
                "",
            ),
            field("MasterUsername", "Master username", "text", "", "admin"),
            field(
                "MasterUserPassword",
                "Master password",
                "password",
                "8 to 41 printable characters, none of / \" @ or space.",
                "",
            ),
            field(
                "DBInstanceClass",
                "DB instance class",
                "text",
                "Sizes the writer's buffer pool and connections, e.g. db.r6g.large.",
                "db.r6g.large",
            ),
        ],
    ),
    (
        "Advanced settings",
        &[
            field(
                "Port",
                "Database port (optional)",
                "number",
                "Empty: the first free port of ferry's range.",
                "",
            ),
            field(
                "DBClusterParameterGroupName",
                "DB cluster parameter group (optional)",
                "text",
                "",
                "",
            ),
            field(
                "BackupRetentionPeriod",
                "Backup retention period, days",
                "number",
                "",
                "1",
            ),
            field(
                "DeletionProtection",
                "Deletion protection",
                "checkbox",
                "",
                "",
            ),
        ],
    ),
];

/// Which field an API error is about: its parameter name, or words of its message.
fn field_of(e: &ApiError) -> Option<&'static str> {
    let m = e.message.to_lowercase();
    const WORDS: &[(&str, &[&str])] = &[
        (
            "SourceEngineVersion",
            &["sourceengineversion", "source engine version"],
        ),
        ("SourceEngine", &["sourceengine", "source engine"]),
        ("S3IngestionRoleArn", &["s3ingestionrolearn", "role"]),
        ("S3Prefix", &["s3prefix", "prefix"]),
        ("S3BucketName", &["s3bucketname", "bucket"]),
        ("DBClusterParameterGroupName", &["parameter group"]),
        (
            "DBClusterIdentifier",
            &["dbclusteridentifier", "identifier"],
        ),
        ("MasterUserPassword", &["masteruserpassword", "password"]),
        ("MasterUsername", &["masterusername", "master user"]),
        ("DBInstanceClass", &["dbinstanceclass", "instance class"]),
        (
            "BackupRetentionPeriod",
            &["backupretentionperiod", "retention"],
        ),
        ("Port", &["port"]),
    ];
    WORDS
        .iter()
        .find(|(_, words)| words.iter().any(|w| m.contains(w)))
        .map(|(name, _)| *name)
}

pub struct FieldView {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: &'static str,
    pub hint: &'static str,
    pub value: String,
    pub options: &'static [&'static str],
    pub error: Option<String>,
}

pub struct SectionView {
    pub title: &'static str,
    pub fields: Vec<FieldView>,
}

#[derive(Template)]
#[template(path = "restore.html")]
struct RestorePage {
    chrome: Chrome,
    sections: Vec<SectionView>,
    general_error: Option<String>,
    /// The account's roles the principal may list, offered for `S3IngestionRoleArn`.
    roles: Vec<String>,
    /// What the last action did (a role created).
    notice: Option<String>,
}

/// The wizard's form with `values`, the error of the last try next to its field, and
/// `notice`.
async fn form_page(
    console: &Console,
    s: &Session,
    p: &Principal,
    values: &BTreeMap<String, String>,
    error: Option<&ApiError>,
    notice: Option<String>,
) -> Response {
    let on_field = error.and_then(field_of);
    let sections = SECTIONS
        .iter()
        .map(|(title, specs)| SectionView {
            title,
            fields: specs
                .iter()
                .map(|f| FieldView {
                    name: f.name,
                    label: f.label,
                    kind: f.kind,
                    hint: f.hint,
                    value: values
                        .get(f.name)
                        .cloned()
                        .unwrap_or_else(|| f.default.to_string()),
                    options: f.options,
                    error: (on_field == Some(f.name))
                        .then(|| error.map(|e| e.message.clone()))
                        .flatten(),
                })
                .collect(),
        })
        .collect();
    let mut r = html(&RestorePage {
        chrome: Chrome::for_session("Restore from S3", "restore", s),
        sections,
        general_error: error
            .filter(|_| on_field.is_none())
            .map(|e| e.message.clone()),
        roles: crate::iam::role_arns(console, p).await,
        notice,
    });
    if let Some(e) = error {
        // The API's own status for a refusal (403 denied, 409 exists), else 400.
        *r.status_mut() = StatusCode::from_u16(e.status)
            .ok()
            .filter(StatusCode::is_client_error)
            .unwrap_or(StatusCode::BAD_REQUEST);
    }
    r
}

pub async fn form(
    State(console): State<Console>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
) -> Response {
    match crate::pages::principal(&console, &headers, peer) {
        Ok((s, p)) => form_page(&console, &s, &p, &BTreeMap::new(), None, None).await,
        Err(why) => to_sign_in(why),
    }
}

/// "Create a new role": `FerryCreateIngestionRole` for the form's bucket and prefix (a role
/// RDS may assume, with a policy that may list the prefix and read the objects under it),
/// then the form again with the new role filled in. The master password is not kept.
pub async fn create_role(
    State(console): State<Console>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Form(mut values): Form<BTreeMap<String, String>>,
) -> Response {
    let csrf = values.get("csrf").map(String::as_str).unwrap_or("");
    let (s, p) = match crate::pages::form_sender(&console, &headers, peer, csrf) {
        Ok(x) => x,
        Err(refused) => return refused.into_response(),
    };
    let typed_password = values
        .remove("MasterUserPassword")
        .is_some_and(|v| !v.is_empty());
    let get = |k: &str| {
        values
            .get(k)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let (bucket, prefix) = (get("S3BucketName"), get("S3Prefix"));
    let params = Params::from_pairs([
        ("S3BucketName", bucket.as_str()),
        ("S3Prefix", prefix.as_str()),
    ]);
    match ferry_api::ingestion::create_ingestion_role(console.cp(), &p, &params) {
        Ok(made) => {
            values.insert("S3IngestionRoleArn".into(), made.role_arn.clone());
            let mut notice = format!(
                "Created role {} with policy {}: RDS may assume it, and it may list and read \
                 s3://{}/{} only.",
                made.role_name,
                made.policy_arn,
                bucket,
                prefix.trim_matches('/')
            );
            if typed_password {
                notice.push_str(" Type the master password again.");
            }
            form_page(&console, &s, &p, &values, None, Some(notice)).await
        }
        Err(e) => form_page(&console, &s, &p, &values, Some(&e), None).await,
    }
}

/// The form's values as API parameters: empty fields left out (the API's defaults apply),
/// the engine fixed (ferry restores into aurora-mysql, as the seed does).
fn params_of(values: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let mut out = vec![("Engine".to_string(), "aurora-mysql".to_string())];
    for (_, specs) in SECTIONS {
        for f in *specs {
            if let Some(v) = values
                .get(f.name)
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
            {
                if f.name != "DBInstanceClass" {
                    out.push((f.name.to_string(), v.to_string()));
                }
            }
        }
    }
    out
}

pub struct CheckView {
    pub what: String,
    pub ok: bool,
    pub reason: Option<String>,
}

pub struct SetView {
    pub name: String,
    pub kind: String,
    pub format: String,
    pub parts: usize,
    pub bytes: u64,
    pub lsns: String,
    pub server: String,
}

pub struct PlanView {
    pub sets: Vec<SetView>,
    pub chain: String,
    pub binlog: Option<String>,
    pub warnings: Vec<String>,
    pub problems: Vec<String>,
}

#[derive(Template)]
#[template(path = "restore_review.html")]
struct ReviewPage {
    chrome: Chrome,
    cluster: String,
    source: String,
    role: String,
    writer: String,
    class: String,
    checks: Vec<CheckView>,
    plan: Option<PlanView>,
    ready: bool,
    wizard: String,
    launch_error: Option<String>,
}

fn plan_view(p: &InspectReport) -> PlanView {
    let opt = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_else(|| "?".into());
    PlanView {
        sets: p
            .sets
            .iter()
            .map(|s| SetView {
                name: s.name.clone(),
                kind: s.kind.clone(),
                format: s.format.clone(),
                parts: s.parts,
                bytes: s.bytes,
                lsns: format!("{} → {}", opt(s.from_lsn), opt(s.to_lsn)),
                server: s.server_version.clone().unwrap_or_default(),
            })
            .collect(),
        chain: p.chain.join(" → "),
        binlog: p
            .sets
            .iter()
            .rev()
            .find_map(|s| s.binlog.as_ref())
            .map(|b| match &b.gtid {
                Some(g) => format!("{}:{} (GTID {g})", b.file, b.position),
                None => format!("{}:{}", b.file, b.position),
            }),
        warnings: p.warnings.clone(),
        problems: p.problems.clone(),
    }
}

/// The writer instance Launch makes: `<cluster>-instance-1`, as the seed's console names it.
fn writer_of(cluster: &str) -> String {
    format!("{cluster}-instance-1")
}

fn review_page(
    s: &Session,
    values: &BTreeMap<String, String>,
    preflight: &Preflight,
    wizard: String,
    launch_error: Option<String>,
) -> Response {
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    let cluster = get("DBClusterIdentifier").to_lowercase();
    let prefix = get("S3Prefix");
    let source = if prefix.is_empty() {
        format!("s3://{}", get("S3BucketName"))
    } else {
        format!("s3://{}/{}", get("S3BucketName"), prefix.trim_matches('/'))
    };
    let mut r = html(&ReviewPage {
        chrome: Chrome::for_session("Pre-flight", "restore", s),
        writer: writer_of(&cluster),
        cluster,
        source,
        role: get("S3IngestionRoleArn"),
        class: get("DBInstanceClass"),
        checks: preflight
            .checks
            .iter()
            .map(|c| CheckView {
                what: c.what.clone(),
                ok: c.outcome.is_ok(),
                reason: c.outcome.clone().err(),
            })
            .collect(),
        plan: preflight.plan.as_ref().map(plan_view),
        ready: preflight.ready(),
        wizard,
        launch_error: launch_error.clone(),
    });
    if launch_error.is_some() {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    r
}

/// Checks the form: the API's validation (errors next to their fields), then the pre-flight.
pub async fn check(
    State(console): State<Console>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Form(values): Form<BTreeMap<String, String>>,
) -> Response {
    let csrf = values.get("csrf").map(String::as_str).unwrap_or("");
    let (s, p) = match crate::pages::form_sender(&console, &headers, peer, csrf) {
        Ok(x) => x,
        Err(refused) => return refused.into_response(),
    };
    let class = values
        .get("DBInstanceClass")
        .map(|c| c.trim())
        .unwrap_or("");
    if let Err(e) = ferry_control::validate::instance_class(class) {
        let e = ApiError::from(ferry_control::ControlError::from(e));
        return form_page(&console, &s, &p, &values, Some(&e), None).await;
    }
    let pairs = params_of(&values);
    let params = Params::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let preflight = match Handler::new(console.cp(), &p, &params)
        .preflight_restore_db_cluster_from_s3()
        .await
    {
        Ok(pf) => pf,
        Err(e) if e.status < 500 => {
            return form_page(&console, &s, &p, &values, Some(&e), None).await
        }
        Err(e) => {
            return crate::pages::api_error(
                Chrome::for_session("Restore from S3", "restore", &s),
                &e,
            )
        }
    };
    let mut stashed = pairs;
    stashed.push(("DBInstanceClass".into(), class.to_string()));
    let wizard = console.sessions().stash(&s, stashed);
    review_page(&s, &values, &preflight, wizard, None)
}

#[derive(serde::Deserialize)]
pub struct LaunchForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    wizard: String,
}

/// Launch: the cluster, then its writer, with the values the pre-flight checked.
pub async fn launch(
    State(console): State<Console>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Form(f): Form<LaunchForm>,
) -> Response {
    let (s, p) = match crate::pages::form_sender(&console, &headers, peer, &f.csrf) {
        Ok(x) => x,
        Err(refused) => return refused.into_response(),
    };
    let Some(values) = console.sessions().take_stash(&s, &f.wizard) else {
        return message(
            StatusCode::BAD_REQUEST,
            Chrome::for_session("Restore from S3", "restore", &s),
            "Start over",
            "This pre-flight is no longer current (it was launched already, or has expired). \
             Fill in the form again.",
        );
    };
    match launch_values(&console, &p, &values).await {
        Ok(cluster) => {
            Redirect::to(&format!("/console/clusters/{}", url_part(&cluster))).into_response()
        }
        Err(e) => {
            // Shown with the form the values came from (the password is not sent back).
            let form: BTreeMap<String, String> = values
                .into_iter()
                .filter(|(k, _)| k != "MasterUserPassword")
                .collect();
            form_page(&console, &s, &p, &form, Some(&e), None).await
        }
    }
}

async fn launch_values(
    console: &Console,
    p: &Principal,
    values: &[(String, String)],
) -> Result<String, ApiError> {
    let get = |k: &str| {
        values
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let restore: Vec<(&str, &str)> = values
        .iter()
        .filter(|(k, _)| k != "DBInstanceClass")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let restore = Params::from_pairs(restore);
    let h = Handler::new(console.cp(), p, &restore);
    // The writer is made once the cluster is available: whether the caller may make it is
    // asked now, before anything is created.
    let id = get("DBClusterIdentifier").to_lowercase();
    let writer = writer_of(&id);
    h.authorize("CreateDBInstance", &h.instance_arn_for(&writer))?;
    let cluster = h.restore_db_cluster_from_s3().await?;
    let id = cluster.cluster.id.to_string();
    tokio::spawn(make_writer_when_available(
        console.clone(),
        p.clone(),
        id.clone(),
        writer,
        get("DBInstanceClass").to_string(),
    ));
    Ok(id)
}

/// How often the cluster is looked at while the writer waits for it, and for how long.
const WRITER_POLL: std::time::Duration = std::time::Duration::from_secs(1);
const WRITER_PATIENCE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// `CreateDBInstance` for the launched cluster's writer as soon as the cluster is
/// `available` (ferry, like RDS, adds instances to an available cluster), as the principal
/// who launched it. A cluster that fails or goes away gets none. Not resumed across a
/// restart of `ferry serve`: the cluster's page then shows no instance, and
/// `aws rds create-db-instance` adds it.
async fn make_writer_when_available(
    console: Console,
    p: Principal,
    cluster: String,
    writer: String,
    class: String,
) {
    use ferry_control::model::ClusterStatus;
    let started = std::time::Instant::now();
    let look = Params::from_pairs([("DBClusterIdentifier", cluster.as_str())]);
    loop {
        let status = Handler::new(console.cp(), &p, &look)
            .describe_db_clusters()
            .ok()
            .and_then(|page| page.items.into_iter().next())
            .map(|v| v.cluster.status);
        match status {
            Some(ClusterStatus::Available) => break,
            Some(ClusterStatus::Creating | ClusterStatus::ResettingMasterCredentials)
                if started.elapsed() < WRITER_PATIENCE => {}
            other => {
                tracing::warn!(cluster = %cluster, status = ?other, "the console does not add the writer: the cluster is not becoming available");
                return;
            }
        }
        tokio::time::sleep(WRITER_POLL).await;
    }
    let params = Params::from_pairs([
        ("DBInstanceIdentifier", writer.as_str()),
        ("DBClusterIdentifier", cluster.as_str()),
        ("Engine", "aurora-mysql"),
        ("DBInstanceClass", class.as_str()),
    ]);
    match Handler::new(console.cp(), &p, &params)
        .create_db_instance()
        .await
    {
        Ok(_) => {
            tracing::info!(cluster = %cluster, instance = %writer, "the console added the launched cluster's writer")
        }
        Err(e) => {
            tracing::error!(cluster = %cluster, instance = %writer, error = %e.message, "the console could not add the launched cluster's writer")
        }
    }
}
