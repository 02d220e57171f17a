//! ferry's actions for logical imports (`ferry import --cluster`), beside RDS's:
//!
//! - `FerryStartImport` (`DBClusterIdentifier`, `Source`, optional `SourceBytes`, `Parallel`
//!   default 1, `Resumed`) -> `<Import>`.
//! - `FerryReportImport` (`ImportId`, `Phase`, the counters, optional
//!   `Tables.member.N.Name`/`.Rows`/`.Done`: the tables loading and finished last, at most
//!   64, kept in memory for the console) -> `<Import>`.
//! - `FerryCreateImportObject` (`ImportId`, `Database`, `ObjectType`, `ObjectName`,
//!   `Definer` as `user@host`, `Statement`, `Session.member.N.Name`/`.Value`) ->
//!   `<Outcome>created|rewrite</Outcome>` and, for a rewrite, `<Reason>`.
//! - `FerryFinishImport` (`ImportId`, `Status` completed|failed, optional `Error`, the
//!   counters) -> `<Import>`.
//! - `FerryDescribeImports` (optional `DBClusterIdentifier`, optional `ImportId`) ->
//!   `<Imports><Import>...</Import></Imports>`, oldest first.
//!
//! The counters are `BytesRead`, `BytesTotal`, `TablesDone`, `TablesTotal`, `Rows`,
//! `Statements`, `Failures`, `DefinersRewritten` (non-negative integers, 0 when absent).
//! Each action is authorized as `ferry:<Action without Ferry>` (`ferry:StartImport`, ...) on
//! the cluster's ARN; an unknown `ImportId` is `ImportNotFound` (404).

use ferry_control::model::{Import, ImportCounters, ImportPhase, TableProgress};
use ferry_control::service::statement::{Account, ObjectType};
use ferry_control::service::{
    plain_literal, FinishStatus, ImportObject, ObjectOutcome, StartImport, SESSION_ALLOW_LIST,
};
use serde::{Deserialize, Serialize};

use super::Handler;
use crate::error::ApiError;
use crate::params::ParamError;
use crate::xml::{self, XmlWriter};

/// The element an import is returned in.
pub const IMPORT_ELEMENT: &str = "Import";

/// The longest `Source` and `Error` kept.
const MAX_TEXT: usize = 4096;
/// The longest user name MariaDB accepts (`ferry_engine::accounts::MAX_USER_NAME_LEN`).
const MAX_USER_NAME_LEN: usize = 80;
/// The most connections an import may say it uses.
const MAX_PARALLEL: i64 = 256;

/// The most tables a report may name.
const MAX_TABLES: usize = 64;
/// The longest table name kept (`schema.table`, each part up to 64 characters).
const MAX_TABLE_NAME: usize = 140;

/// `Tables.member.N.Name` / `.Rows` / `.Done` of `FerryReportImport` (N from 1, no gaps).
fn tables(p: &crate::params::Params) -> Result<Vec<TableProgress>, ApiError> {
    let mut out = Vec::new();
    for n in 1.. {
        let key = |field: &str| format!("Tables.member.{n}.{field}");
        let Some(name) = p.get(&key("Name")) else {
            break;
        };
        if out.len() == MAX_TABLES {
            return Err(ApiError::invalid_value(format!(
                "A report names at most {MAX_TABLES} tables."
            )));
        }
        if name.is_empty() || name.chars().count() > MAX_TABLE_NAME {
            return Err(ApiError::invalid_value(format!(
                "{} must be 1 to {MAX_TABLE_NAME} characters.",
                key("Name")
            )));
        }
        let rows = match p.i64(&key("Rows"))? {
            None => 0,
            Some(r) => u64::try_from(r).map_err(|_| {
                ApiError::invalid_value(format!("{} must not be negative.", key("Rows")))
            })?,
        };
        out.push(TableProgress {
            name: name.to_owned(),
            rows,
            done: p.bool(&key("Done"))?.unwrap_or(false),
        });
    }
    Ok(out)
}

/// An import as the actions return it; its serde form is the wire form (see
/// [`crate::xml::members`]), so the CLI reads it back with [`crate::client::Response::members`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImportView {
    pub import_id: String,
    #[serde(rename = "DBClusterIdentifier")]
    pub db_cluster_identifier: String,
    pub source: String,
    pub status: String,
    pub phase: String,
    pub parallel: u32,
    pub resumed: bool,
    pub bytes_read: u64,
    pub bytes_total: Option<u64>,
    pub tables_done: u64,
    pub tables_total: u64,
    pub rows: u64,
    pub statements: u64,
    pub failures: u64,
    pub definers_rewritten: u64,
    pub start_time: String,
    pub end_time: Option<String>,
    pub error: Option<String>,
}

impl ImportView {
    pub fn of(i: &Import) -> ImportView {
        let c = &i.counters;
        ImportView {
            import_id: i.id.to_string(),
            db_cluster_identifier: i.cluster_id.to_string(),
            source: i.source.clone(),
            status: i.status.as_str().to_owned(),
            phase: i.phase.as_str().to_owned(),
            parallel: i.parallel,
            resumed: i.resumed,
            bytes_read: c.bytes_read,
            bytes_total: c.bytes_total,
            tables_done: c.tables_done,
            tables_total: c.tables_total,
            rows: c.rows,
            statements: c.statements,
            failures: c.failures,
            definers_rewritten: c.definers_rewritten,
            start_time: xml::timestamp(i.started_at),
            end_time: i.ended_at.map(xml::timestamp),
            error: i.error.clone(),
        }
    }
}

pub(super) type Body = Box<dyn FnOnce(&mut XmlWriter) + Send>;

fn one(import: &Import) -> Result<Body, ApiError> {
    let members = xml::members(&ImportView::of(import))?;
    Ok(Box::new(move |w| {
        w.start(IMPORT_ELEMENT).members(&members).end();
    }))
}

impl Handler<'_> {
    /// Runs one of the import actions; `None` when `action` is not one of them.
    pub(super) async fn import_action(&self, action: &str) -> Option<Result<Body, ApiError>> {
        Some(match action {
            "FerryStartImport" => self.start_import().await,
            "FerryReportImport" => self.report_import(),
            "FerryCreateImportObject" => self.create_import_object().await,
            "FerryFinishImport" => self.finish_import().await,
            "FerryDescribeImports" => self.describe_imports(),
            _ => return None,
        })
    }

    async fn start_import(&self) -> Result<Body, ApiError> {
        let p = self.params;
        let raw = p.required("DBClusterIdentifier")?;
        self.authorize_ferry("StartImport", &self.cluster_arn_for(raw))?;
        let source = text(p.required("Source")?, "Source")?;
        let source_bytes = counter(p, "SourceBytes")?;
        let parallel = match p.i64("Parallel")? {
            None => 1,
            Some(n @ 1..=MAX_PARALLEL) => n as u32,
            Some(n) => {
                return Err(ApiError::invalid_value(format!(
                    "Parallel {n} must be between 1 and {MAX_PARALLEL}."
                )))
            }
        };
        let import = self
            .cp
            .start_import(StartImport {
                cluster: raw.to_owned(),
                source,
                source_bytes,
                parallel,
                resumed: p.bool("Resumed")?.unwrap_or(false),
            })
            .await?;
        one(&import)
    }

    /// The import `ImportId` names, after authorizing `action` on its cluster.
    fn authorized_import(&self, action: &str) -> Result<Import, ApiError> {
        let id = self.params.required("ImportId")?;
        let import = self.cp.import(id)?;
        self.authorize_ferry(action, &self.cp.cluster_arn(&import.cluster_id))?;
        Ok(import)
    }

    fn report_import(&self) -> Result<Body, ApiError> {
        let import = self.authorized_import("ReportImport")?;
        let phase = phase(self.params.required("Phase")?)?;
        let counters = counters(self.params)?;
        let tables = tables(self.params)?;
        let import = self
            .cp
            .report_import(import.id.as_str(), phase, counters, tables)?;
        one(&import)
    }

    async fn finish_import(&self) -> Result<Body, ApiError> {
        let import = self.authorized_import("FinishImport")?;
        let p = self.params;
        let status = match p.required("Status")? {
            "completed" => FinishStatus::Completed,
            "failed" => FinishStatus::Failed,
            other => {
                return Err(ApiError::invalid_value(format!(
                    "Status {other:?} must be completed or failed."
                )))
            }
        };
        let error = p
            .get("Error")
            .filter(|e| !e.is_empty())
            .map(|e| e.chars().take(MAX_TEXT).collect::<String>());
        let counters = counters(p)?;
        let import = self
            .cp
            .finish_import(import.id.as_str(), status, error, counters)
            .await?;
        one(&import)
    }

    fn describe_imports(&self) -> Result<Body, ApiError> {
        let imports = self.imports()?;
        let members = imports
            .iter()
            .map(|i| xml::members(&ImportView::of(i)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Box::new(move |w| {
            w.start("Imports");
            for m in &members {
                w.start(IMPORT_ELEMENT).members(m).end();
            }
            w.end();
        }))
    }

    /// `FerryDescribeImports`: the imports of the cluster named by `DBClusterIdentifier`
    /// (or the one `ImportId` names, or all), oldest first; authorized as
    /// `ferry:DescribeImports` on the cluster (on every cluster when none is named).
    pub fn imports(&self) -> Result<Vec<Import>, ApiError> {
        let p = self.params;
        let cluster = p.get("DBClusterIdentifier").filter(|c| !c.is_empty());
        let id = p.get("ImportId").filter(|i| !i.is_empty());
        let resource = match (id, cluster) {
            (Some(id), _) => self.cp.cluster_arn(&self.cp.import(id)?.cluster_id),
            (None, Some(raw)) => self.cluster_arn_for(raw),
            (None, None) => self
                .cp
                .cluster_arn(&ferry_control::model::ClusterId::new_unchecked("*")),
        };
        self.authorize_ferry("DescribeImports", &resource)?;
        Ok(self.cp.describe_imports(cluster, id)?)
    }

    async fn create_import_object(&self) -> Result<Body, ApiError> {
        let import = self.authorized_import("CreateImportObject")?;
        let obj = import_object(self.params)?;
        let outcome = self
            .cp
            .create_import_object(import.id.as_str(), &obj)
            .await?;
        Ok(Box::new(move |w| match outcome {
            ObjectOutcome::Created => {
                w.elem("Outcome", "created");
            }
            ObjectOutcome::Rewrite { reason } => {
                w.elem("Outcome", "rewrite");
                w.elem("Reason", reason);
            }
        }))
    }
}

/// FerryCreateImportObject's parameters, validated.
fn import_object(p: &crate::params::Params) -> Result<ImportObject, ApiError> {
    let database = identifier(p.required("Database")?, "Database")?;
    let kind_text = p.required("ObjectType")?;
    let kind = ObjectType::parse(kind_text).ok_or_else(|| {
        ApiError::invalid_value(format!(
            "ObjectType {kind_text:?} must be one of view, trigger, procedure, function, event."
        ))
    })?;
    let name = identifier(p.required("ObjectName")?, "ObjectName")?;
    let definer_text = p.required("Definer")?;
    let definer = match definer_text.rsplit_once('@') {
        Some((user, host))
            if !user.is_empty()
                && user.chars().count() <= MAX_USER_NAME_LEN
                && !host.is_empty()
                && host.len() <= 255
                && !definer_text.chars().any(char::is_control) =>
        {
            Account {
                user: user.to_owned(),
                host: host.to_owned(),
            }
        }
        _ => {
            return Err(ApiError::invalid_value(format!(
                "Definer {definer_text:?} must be an account as user@host."
            )))
        }
    };
    let statement = p.required("Statement")?.to_owned();
    let mut session = Vec::new();
    for (i, member) in p.structs("Session", "member").into_iter().enumerate() {
        let n = i + 1;
        let name = member
            .get("Name")
            .ok_or_else(|| ParamError::missing(&format!("Session.member.{n}.Name")))?
            .to_ascii_lowercase();
        if !SESSION_ALLOW_LIST.contains(&name.as_str()) {
            return Err(ApiError::invalid_value(format!(
                "Session.member.{n}.Name {name:?} is not one of {}.",
                SESSION_ALLOW_LIST.join(", ")
            )));
        }
        let value = member
            .get("Value")
            .ok_or_else(|| ParamError::missing(&format!("Session.member.{n}.Value")))?;
        if !plain_literal(value) {
            return Err(ApiError::invalid_value(format!(
                "Session.member.{n}.Value for {name} must be a quoted string without quotes or backslashes inside, or a word of letters, digits and _."
            )));
        }
        session.push((name, value.clone()));
    }
    Ok(ImportObject {
        database,
        kind,
        name,
        definer,
        statement,
        session,
    })
}

/// A schema or object name: 1 to 64 characters, no NUL.
fn identifier(value: &str, param: &str) -> Result<String, ApiError> {
    if value.chars().count() > 64 || value.contains('\0') {
        return Err(ApiError::invalid_value(format!(
            "{param} {value:?} must be a name of 1 to 64 characters without NUL."
        )));
    }
    Ok(value.to_owned())
}

fn text(value: &str, param: &str) -> Result<String, ApiError> {
    if value.len() > MAX_TEXT || value.chars().any(char::is_control) {
        return Err(ApiError::invalid_value(format!(
            "{param} must be at most {MAX_TEXT} bytes without control characters."
        )));
    }
    Ok(value.to_owned())
}

fn phase(value: &str) -> Result<ImportPhase, ApiError> {
    ImportPhase::parse(value).ok_or_else(|| {
        ApiError::invalid_value(format!(
            "Phase {value:?} must be one of schema, data, objects, done, failed."
        ))
    })
}

fn counter(p: &crate::params::Params, name: &str) -> Result<Option<u64>, ApiError> {
    match p.i64(name)? {
        None => Ok(None),
        Some(n) => u64::try_from(n)
            .map(Some)
            .map_err(|_| ApiError::invalid_value(format!("{name} {n} must not be negative."))),
    }
}

fn counters(p: &crate::params::Params) -> Result<ImportCounters, ApiError> {
    let c = |name| counter(p, name).map(Option::unwrap_or_default);
    Ok(ImportCounters {
        bytes_read: c("BytesRead")?,
        bytes_total: counter(p, "BytesTotal")?,
        tables_done: c("TablesDone")?,
        tables_total: c("TablesTotal")?,
        rows: c("Rows")?,
        statements: c("Statements")?,
        failures: c("Failures")?,
        definers_rewritten: c("DefinersRewritten")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::Params;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::from_pairs(pairs.iter().copied())
    }

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![
            ("Database", "app"),
            ("ObjectType", "view"),
            ("ObjectName", "v"),
            ("Definer", "root@localhost"),
            (
                "Statement",
                "CREATE DEFINER=root@localhost VIEW v AS SELECT 1",
            ),
            ("Session.member.1.Name", "SQL_MODE"),
            ("Session.member.1.Value", "'STRICT_TRANS_TABLES'"),
            ("Session.member.2.Name", "time_zone"),
            ("Session.member.2.Value", "'+00:00'"),
        ]
    }

    #[test]
    fn object_parameters_are_read_and_checked_by_name() {
        let o = import_object(&params(&base())).unwrap();
        assert_eq!(o.kind, ObjectType::View);
        assert_eq!(o.definer.user, "root");
        assert_eq!(o.definer.host, "localhost");
        assert_eq!(
            o.session,
            [
                ("sql_mode".to_owned(), "'STRICT_TRANS_TABLES'".to_owned()),
                ("time_zone".to_owned(), "'+00:00'".to_owned())
            ]
        );
        // A user name with `@` splits at the last one.
        let mut p = base();
        p[3] = ("Definer", "a@b@%");
        let o = import_object(&params(&p)).unwrap();
        assert_eq!(
            (o.definer.user.as_str(), o.definer.host.as_str()),
            ("a@b", "%")
        );

        for (name, value, says) in [
            ("ObjectType", "table", "ObjectType"),
            ("Definer", "root", "Definer"),
            ("Definer", "@localhost", "Definer"),
            (
                "Session.member.1.Name",
                "autocommit",
                "Session.member.1.Name",
            ),
            ("Session.member.2.Value", "f()", "Session.member.2.Value"),
            (
                "Session.member.2.Value",
                "(SELECT 1)",
                "Session.member.2.Value",
            ),
            ("Database", &"x".repeat(65), "Database"),
        ] {
            let mut p = base();
            p.retain(|(n, _)| *n != name);
            p.push((name, value));
            let e = import_object(&params(&p)).unwrap_err();
            assert_eq!(
                (e.status, e.code.as_str()),
                (400, "InvalidParameterValue"),
                "{name}={value}"
            );
            assert!(e.message.contains(says), "{name}={value}: {}", e.message);
        }
        let mut p = base();
        p.retain(|(n, _)| *n != "Statement");
        let e = import_object(&params(&p)).unwrap_err();
        assert_eq!(e.code, "MissingParameter");
    }

    #[test]
    fn counters_and_phases() {
        let c = counters(&params(&[("Rows", "5"), ("BytesTotal", "9")])).unwrap();
        assert_eq!((c.rows, c.bytes_total, c.tables_done), (5, Some(9), 0));
        let e = counters(&params(&[("Rows", "-1")])).unwrap_err();
        assert!(e.message.contains("Rows"), "{}", e.message);
        assert!(phase("data").is_ok());
        assert!(phase("loading").unwrap_err().message.contains("Phase"));
    }

    #[test]
    fn a_view_survives_the_round_trip_through_xml() {
        let view = ImportView {
            import_id: "import-0123456789abcdef".into(),
            db_cluster_identifier: "c1".into(),
            source: "dump <1>.sql".into(),
            status: "running".into(),
            phase: "data".into(),
            parallel: 4,
            resumed: false,
            bytes_read: 10,
            bytes_total: None,
            tables_done: 1,
            tables_total: 3,
            rows: 100,
            statements: 7,
            failures: 0,
            definers_rewritten: 2,
            start_time: "2026-01-01T00:00:00.000Z".into(),
            end_time: None,
            error: None,
        };
        let members = xml::members(&view).unwrap();
        let r = crate::client::Response {
            xml: xml::response("FerryDescribeImports", "r", |w| {
                w.start("Imports")
                    .start(IMPORT_ELEMENT)
                    .members(&members)
                    .end()
                    .end();
            }),
        };
        assert_eq!(r.members::<ImportView>(IMPORT_ELEMENT).unwrap(), Some(view));
        assert_eq!(r.text("DBClusterIdentifier").as_deref(), Some("c1"));
    }
}
