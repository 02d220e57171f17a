//! `ferry import --cluster ID`: the target is a ferry cluster's writer, found with
//! DescribeDBClusters, and the [`ferry_import::Host`] is the control plane, through ferry's
//! import actions (`FerryStartImport`, `FerryReportImport`, `FerryCreateImportObject`,
//! `FerryFinishImport`; see `ferry_api::rds::imports`).
//!
//! The control plane relaxes the cluster's durability while the import runs and puts it
//! back at the finish, or when no report arrives within its lease (a killed `ferry import`).
//! Objects whose definer is not the importing user are created by the control plane with
//! that definer when the account exists on the cluster; otherwise the loader creates them
//! with `DEFINER = CURRENT_USER` and lists the rewrite with ferry's reason.

use std::sync::Mutex;

use anyhow::{bail, Context};
use ferry_api::client::{Client, ClientError, Response};
use ferry_api::rds::imports::{ImportView, IMPORT_ELEMENT};
use ferry_base::Secret;
use ferry_import::{
    DefinerOutcome, FinishReport, Host, HostError, ImportStart, ObjectRequest, ProgressReport,
    Target,
};

/// The cluster's writer as the target (as `user`, default the master user) and the control
/// plane as the host.
pub async fn connect(
    cluster: &str,
    api: &crate::replication::ApiArgs,
    user: Option<&str>,
    password: Secret,
) -> anyhow::Result<(Target, Box<dyn Host>)> {
    let client = api.client()?;
    let r = client
        .call("DescribeDBClusters", &[("DBClusterIdentifier", cluster)])
        .await
        .with_context(|| format!("find DB cluster {cluster}"))?;
    let status = r.text("Status").unwrap_or_default();
    let Some(host) = r.text("Endpoint").filter(|e| !e.is_empty()) else {
        bail!("DB cluster {cluster} has no endpoint yet (status {status}): create its DB instance and wait until it is available");
    };
    let port: u16 = r
        .text("Port")
        .and_then(|p| p.parse().ok())
        .with_context(|| format!("DescribeDBClusters gave DB cluster {cluster} no port"))?;
    let master = r
        .text("MasterUsername")
        .with_context(|| format!("DescribeDBClusters gave DB cluster {cluster} no master user"))?;
    let target = Target {
        host,
        port,
        user: user.map_or(master, str::to_owned),
        password,
    };
    let host = ClusterHost {
        client,
        cluster: cluster.to_owned(),
        import: Mutex::new(None),
    };
    Ok((target, Box::new(host)))
}

/// The control plane as the loader's host.
pub struct ClusterHost {
    client: Client,
    cluster: String,
    /// Set by `begin`.
    import: Mutex<Option<String>>,
}

impl ClusterHost {
    fn import_id(&self) -> Result<String, HostError> {
        self.import
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
            .ok_or_else(|| HostError("the import was not started with the control plane".into()))
    }

    async fn call(&self, action: &str, params: &[(&str, &str)]) -> Result<Response, HostError> {
        self.client
            .call(action, params)
            .await
            .map_err(|e| HostError(ferry_base::error::flatten(&e)))
    }
}

/// The counters as the import actions name them.
fn counters(p: &ProgressReport) -> Vec<(&'static str, String)> {
    let mut out = vec![
        ("BytesRead", p.bytes_read.to_string()),
        ("TablesDone", p.tables_done.to_string()),
        ("TablesTotal", p.tables_total.to_string()),
        ("Rows", p.rows.to_string()),
        ("Statements", p.statements.to_string()),
        ("Failures", p.failures.to_string()),
        ("DefinersRewritten", p.definers_rewritten.to_string()),
    ];
    if let Some(total) = p.bytes_total {
        out.push(("BytesTotal", total.to_string()));
    }
    out
}

fn borrowed<'a>(pairs: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    pairs.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[async_trait::async_trait]
impl Host for ClusterHost {
    async fn begin(&self, start: &ImportStart) -> Result<(), HostError> {
        let parallel = start.parallel.to_string();
        let size = start.source_size.map(|s| s.to_string());
        let mut params = vec![
            ("DBClusterIdentifier", self.cluster.as_str()),
            ("Source", start.source.as_str()),
            ("Parallel", parallel.as_str()),
            ("Resumed", if start.resumed { "true" } else { "false" }),
        ];
        if let Some(size) = &size {
            params.push(("SourceBytes", size));
        }
        let r = self.call("FerryStartImport", &params).await?;
        let view: ImportView = r
            .members(IMPORT_ELEMENT)
            .map_err(|e| HostError(ferry_base::error::flatten(&e)))?
            .ok_or_else(|| HostError("FerryStartImport returned no <Import>".into()))?;
        *self
            .import
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(view.import_id);
        Ok(())
    }

    async fn report(&self, progress: &ProgressReport) -> Result<(), HostError> {
        let id = self.import_id()?;
        let counters = counters(progress);
        let mut params = vec![
            ("ImportId", id.as_str()),
            ("Phase", progress.phase.as_str()),
        ];
        params.extend(borrowed(&counters));
        let tables: Vec<(String, String)> = progress
            .tables
            .iter()
            .enumerate()
            .flat_map(|(i, t)| {
                let n = i + 1;
                [
                    (format!("Tables.member.{n}.Name"), t.name.clone()),
                    (format!("Tables.member.{n}.Rows"), t.rows.to_string()),
                    (format!("Tables.member.{n}.Done"), t.done.to_string()),
                ]
            })
            .collect();
        params.extend(tables.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        self.call("FerryReportImport", &params).await.map(drop)
    }

    async fn create_with_definer(&self, obj: &ObjectRequest) -> Result<DefinerOutcome, HostError> {
        let id = self.import_id()?;
        let definer = format!("{}@{}", obj.definer.user, obj.definer.host);
        // Only what shapes how an object is created travels (the dump's header also sets
        // unique_checks, foreign_key_checks, sql_notes...): the control plane takes the
        // allow-list and refuses anything else.
        let names: Vec<(String, String)> = obj
            .session
            .iter()
            .filter(|(name, _)| {
                ferry_control::service::SESSION_ALLOW_LIST
                    .contains(&name.to_ascii_lowercase().as_str())
            })
            .enumerate()
            .flat_map(|(i, (name, value))| {
                [
                    (format!("Session.member.{}.Name", i + 1), name.clone()),
                    (format!("Session.member.{}.Value", i + 1), value.clone()),
                ]
            })
            .collect();
        let mut params = vec![
            ("ImportId", id.as_str()),
            ("Database", obj.database.as_str()),
            ("ObjectType", obj.kind.as_str()),
            ("ObjectName", obj.name.as_str()),
            ("Definer", definer.as_str()),
            ("Statement", obj.sql.as_str()),
        ];
        params.extend(names.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        match self.client.call("FerryCreateImportObject", &params).await {
            Ok(r) => match r.text("Outcome").as_deref() {
                Some("created") => Ok(DefinerOutcome::Created),
                Some("rewrite") => Ok(DefinerOutcome::Rewrite {
                    reason: r.text("Reason").unwrap_or_default(),
                }),
                other => Err(HostError(format!(
                    "FerryCreateImportObject answered an unknown outcome {other:?}"
                ))),
            },
            // ferry would not run the statement as its own account (it does not read as the
            // object claimed, or the server refused it): the loader creates it as the
            // importing user, who may then see the server's own error.
            Err(ClientError::Api {
                status: 400,
                code,
                message,
                ..
            }) if code == "InvalidParameterValue" => Ok(DefinerOutcome::Rewrite {
                reason: format!("ferry did not create it with that definer: {message}"),
            }),
            Err(e) => Err(HostError(ferry_base::error::flatten(&e))),
        }
    }

    async fn finish(&self, end: &FinishReport) -> Result<(), HostError> {
        let id = self.import_id()?;
        let counters = counters(&end.progress);
        let mut params = vec![
            ("ImportId", id.as_str()),
            (
                "Status",
                if end.error.is_none() {
                    "completed"
                } else {
                    "failed"
                },
            ),
        ];
        if let Some(e) = &end.error {
            params.push(("Error", e.as_str()));
        }
        params.extend(borrowed(&counters));
        self.call("FerryFinishImport", &params).await.map(drop)
    }
}
