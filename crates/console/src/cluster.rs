//! One cluster's page: its facts, a restore's progress (live by server-sent events), the
//! connection command, instances, replication ([`crate::replication`]), imports, recent
//! events, and deletion.

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use ferry_api::error::ApiError;
use ferry_api::params::Params;
use ferry_api::rds::Handler;
use ferry_api::server::Peer;
use ferry_control::model::{Import, ImportCounters, InstanceStatus, TableProgress};
use ferry_control::service::CreationProgress;
use ferry_control::{ClusterView, Principal};
use serde::Deserialize;

use crate::pages::{api_error, form_sender, principal, url_part, ClusterRow, Decision, EventRow};
use crate::replication::{ReplicationSection, StartSection, StartValues};
use crate::session::Session;
use crate::{html, session_token, to_sign_in, Chrome, Console};

/// One instance on the cluster page.
pub struct InstanceRow {
    pub id: String,
    pub role: &'static str,
    pub status: &'static str,
    pub class: String,
    pub endpoint: Option<String>,
}

/// A restore's progress as the cluster page shows it (and its live events carry).
pub struct ProgressView {
    pub percent: u8,
    pub text: String,
}

impl ProgressView {
    pub fn of(p: &CreationProgress) -> ProgressView {
        let mb = |b: u64| format!("{:.1} MB", b as f64 / 1e6);
        let mut text = format!("{}: {}%", p.phase, p.percent);
        if p.bytes_total > 0 {
            text.push_str(&format!(", {} of {}", mb(p.bytes_done), mb(p.bytes_total)));
        }
        if p.files_total > 0 {
            text.push_str(&format!(", {} of {} files", p.files_done, p.files_total));
        }
        if let Some(eta) = p.eta_secs {
            text.push_str(&match eta {
                0..=59 => format!(", about {eta} s left"),
                _ => format!(", about {} min {} s left", eta / 60, eta % 60),
            });
        }
        if !p.detail.is_empty() {
            text.push_str(&format!(" ({})", p.detail));
        }
        ProgressView {
            percent: p.percent,
            text,
        }
    }
}

/// What a form sent from the cluster page came to, shown on the page it answers with.
#[derive(Default)]
pub enum Note {
    #[default]
    None,
    /// The deletion was refused (the identifier typed did not match, or the API said no).
    DeleteError(String),
    /// Stopping replication failed (the API's message).
    StopError(String),
    /// Replication was stopped (the cutover's outcome).
    Stopped(String),
    /// Starting replication failed: the API's message, and the form's values to show again.
    StartError(String, StartValues),
    /// Replication was started (the procedures' messages).
    Started(String),
}

impl Note {
    fn is_error(&self) -> bool {
        matches!(
            self,
            Note::DeleteError(_) | Note::StopError(_) | Note::StartError(..)
        )
    }
}

#[derive(Template)]
#[template(path = "cluster.html")]
struct ClusterPage {
    chrome: Chrome,
    c: ClusterRow,
    progress: Option<ProgressView>,
    connect: Option<String>,
    instances: Vec<InstanceRow>,
    /// `Ok(None)`: not replicating; `Err`: the principal may not see it (the decision).
    replication: Result<Option<ReplicationSection>, String>,
    /// The start form, when the cluster is available and not replicating.
    start: Option<StartSection>,
    imports: Vec<ImportRow>,
    events: Vec<EventRow>,
    delete: Decision,
    note: Note,
}

/// The cluster page of `id`, or the page that says why not.
pub(crate) fn cluster_page(
    console: &Console,
    s: &Session,
    p: &Principal,
    id: &str,
    note: Note,
) -> Response {
    let chrome = Chrome::for_session(id.to_string(), "clusters", s);
    let cp = console.cp();
    let params = Params::from_pairs([("DBClusterIdentifier", id)]);
    let h = Handler::new(cp, p, &params);
    let view = match h.describe_db_clusters() {
        Ok(page) => match page.items.into_iter().next() {
            Some(v) => v,
            None => return api_error(chrome, &not_found_error(id)),
        },
        Err(e) => return api_error(chrome, &e),
    };
    let c = ClusterRow::of(&view);
    let progress = (view.cluster.status == ferry_control::model::ClusterStatus::Creating)
        .then(|| cp.creation_progress(&view.cluster.id))
        .flatten()
        .map(|p| ProgressView::of(&p));
    let mut chrome = chrome;
    chrome.refresh = in_progress(&view) && !note.is_error();
    chrome.live = progress.is_some();
    let filter = [
        ("Filters.Filter.1.Name", "db-cluster-id"),
        ("Filters.Filter.1.Values.Value.1", id),
    ];
    let instances = match Handler::new(cp, p, &Params::from_pairs(filter)).describe_db_instances() {
        Ok(page) => page
            .items
            .iter()
            .map(|v| InstanceRow {
                id: v.instance.id.to_string(),
                role: if v.instance.is_writer {
                    "writer"
                } else {
                    "reader"
                },
                status: v.instance.status.as_str(),
                class: v.instance.instance_class.clone(),
                endpoint: v.endpoint.as_ref().map(|(h, port)| format!("{h}:{port}")),
            })
            .collect(),
        // Not allowed to list instances: the cluster's own view names them.
        Err(_) => view
            .members
            .iter()
            .map(|i| InstanceRow {
                id: i.id.to_string(),
                role: if i.is_writer { "writer" } else { "reader" },
                status: i.status.as_str(),
                class: i.instance_class.clone(),
                endpoint: None,
            })
            .collect(),
    };
    let events_params = Params::from_pairs([
        ("SourceType", "db-cluster"),
        ("SourceIdentifier", id),
        ("Duration", "20160"),
        ("MaxRecords", "20"),
    ]);
    let events = Handler::new(cp, p, &events_params)
        .describe_events_ordered(true)
        .map(|(page, _)| page.items.iter().map(EventRow::of).collect())
        .unwrap_or_default();
    let connect = c.endpoint.as_ref().map(|e| {
        format!(
            "mariadb --host {e} --port {} --user {} --password",
            c.port, c.master_username
        )
    });
    let delete = Decision::of(h.authorize("DeleteDBCluster", &view.arn));
    let replication = crate::replication::section(console, p, id, &view.arn);
    chrome.live |= matches!(replication, Ok(Some(_)));
    let start = (matches!(replication, Ok(None))
        && view.cluster.status == ferry_control::model::ClusterStatus::Available)
        .then(|| {
            let values = match &note {
                Note::StartError(_, v) => v.clone(),
                _ => {
                    let (log_file, log_position) = match &view.cluster.recovered_binlog {
                        Some((file, pos)) => (file.clone(), pos.to_string()),
                        None => Default::default(),
                    };
                    StartValues {
                        port: "3306".into(),
                        log_file,
                        log_position,
                        ..Default::default()
                    }
                }
            };
            StartSection::of(console, p, id, &view.arn, values)
        });
    let imports = Handler::new(cp, p, &params)
        .imports()
        .map(|all| {
            all.iter()
                .rev()
                .take(5)
                .map(|i| ImportRow::of(i, &cp.import_tables(&i.id)))
                .collect()
        })
        .unwrap_or_default();
    let failed = note.is_error();
    let mut r = html(&ClusterPage {
        chrome,
        c,
        progress,
        connect,
        instances,
        replication,
        start,
        imports,
        events,
        delete,
        note,
    });
    if failed {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    r
}

/// A cluster being restored, created or deleted: its page reloads itself.
pub(crate) fn in_progress(v: &ClusterView) -> bool {
    use ferry_control::model::ClusterStatus;
    matches!(
        v.cluster.status,
        ClusterStatus::Creating | ClusterStatus::Deleting
    ) || v.members.iter().any(|i| {
        matches!(
            i.status,
            InstanceStatus::Creating | InstanceStatus::Starting | InstanceStatus::Deleting
        )
    })
}

fn not_found_error(id: &str) -> ApiError {
    ApiError::new(
        404,
        "DBClusterNotFoundFault",
        format!("DBCluster {id} not found."),
    )
}

pub async fn cluster(
    State(console): State<Console>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Path(id): Path<String>,
) -> Response {
    match principal(&console, &headers, peer) {
        Ok((s, p)) => cluster_page(&console, &s, &p, &id, Note::None),
        Err(why) => to_sign_in(why),
    }
}

/// Server-sent events of a cluster's restore: `progress` every second while its creation
/// job runs (JSON: `percent`, `text`), then one `done` (the page reloads). Authorized as the
/// cluster's page; the stream ends when the session does.
pub async fn progress_events(
    State(console): State<Console>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Path(id): Path<String>,
) -> Response {
    use axum::response::sse::{Event, KeepAlive, Sse};
    let (s, p) = match principal(&console, &headers, peer) {
        Ok(x) => x,
        Err(why) => return to_sign_in(why),
    };
    let params = Params::from_pairs([("DBClusterIdentifier", id.as_str())]);
    let view = match Handler::new(console.cp(), &p, &params).describe_db_clusters() {
        Ok(page) => match page.items.into_iter().next() {
            Some(v) => v,
            None => return api_error(Chrome::for_session(&id, "", &s), &not_found_error(&id)),
        },
        Err(e) => return api_error(Chrome::for_session(&id, "", &s), &e),
    };
    let cluster = view.cluster.id;
    let token = session_token(&headers).unwrap_or_default().to_string();
    let events = futures::stream::unfold(Some(true), move |state| {
        let (console, cluster, token) = (console.clone(), cluster.clone(), token.clone());
        async move {
            let first = state?;
            if !first {
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
            let event = match console.sessions().get(&token) {
                Err(_) => None,
                Ok(_) => console.cp().creation_progress(&cluster),
            };
            Some(match event {
                Some(p) => {
                    let v = ProgressView::of(&p);
                    let data = serde_json::json!({ "percent": v.percent, "text": v.text });
                    (
                        Ok::<_, std::convert::Infallible>(
                            Event::default().event("progress").data(data.to_string()),
                        ),
                        Some(false),
                    )
                }
                None => (Ok(Event::default().event("done").data("")), None),
            })
        }
    });
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirm: String,
}

/// Deletes the cluster's instances, then the cluster, as `aws rds delete-db-instance` and
/// `delete-db-cluster --skip-final-snapshot` would, once the identifier is typed.
pub async fn delete_cluster(
    State(console): State<Console>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Path(id): Path<String>,
    Form(f): Form<DeleteForm>,
) -> Response {
    let (s, p) = match form_sender(&console, &headers, peer, &f.csrf) {
        Ok(x) => x,
        Err(refused) => return refused.into_response(),
    };
    if f.confirm.trim() != id {
        let why = format!("Type {id} exactly to confirm the deletion.");
        return cluster_page(&console, &s, &p, &id, Note::DeleteError(why));
    }
    let cp = console.cp();
    let params = Params::from_pairs([("DBClusterIdentifier", id.as_str())]);
    let view = match Handler::new(cp, &p, &params).describe_db_clusters() {
        Ok(page) => match page.items.into_iter().next() {
            Some(v) => v,
            None => return api_error(Chrome::for_session(&id, "", &s), &not_found_error(&id)),
        },
        Err(e) => return api_error(Chrome::for_session(&id, "", &s), &e),
    };
    // The cluster first, so that a principal who may not delete it deletes nothing.
    if let Err(e) = Handler::new(cp, &p, &params).authorize("DeleteDBCluster", &view.arn) {
        return cluster_page(&console, &s, &p, &id, Note::DeleteError(e.message));
    }
    for member in view
        .members
        .iter()
        .filter(|i| i.status != InstanceStatus::Deleting)
    {
        let iid = member.id.to_string();
        let params = Params::from_pairs([
            ("DBInstanceIdentifier", iid.as_str()),
            ("SkipFinalSnapshot", "true"),
        ]);
        if let Err(e) = Handler::new(cp, &p, &params).delete_db_instance().await {
            return cluster_page(&console, &s, &p, &id, Note::DeleteError(e.message));
        }
    }
    let params = Params::from_pairs([
        ("DBClusterIdentifier", id.as_str()),
        ("SkipFinalSnapshot", "true"),
    ]);
    match Handler::new(cp, &p, &params).delete_db_cluster().await {
        Ok(_) => Redirect::to(&format!("/console/clusters/{}", url_part(&id))).into_response(),
        Err(e) => cluster_page(&console, &s, &p, &id, Note::DeleteError(e.message)),
    }
}

/// How much of an import's dump was read, when its size is known.
pub(crate) fn read_percent(c: &ImportCounters) -> Option<u8> {
    c.bytes_total
        .filter(|t| *t > 0)
        .map(|t| (c.bytes_read.min(t) * 100 / t) as u8)
}

/// One import into the cluster, as its page shows it.
pub struct ImportRow {
    pub id: String,
    pub source: String,
    pub status: &'static str,
    pub phase: &'static str,
    /// `percent` of the dump read, when its size is known.
    pub percent: Option<u8>,
    pub text: String,
    pub error: Option<String>,
    /// A running import's tables: loading ones, then the ones finished last.
    pub tables: Vec<(String, &'static str, u64)>,
}

impl ImportRow {
    pub fn of(i: &Import, tables: &[TableProgress]) -> ImportRow {
        let c = &i.counters;
        let percent = read_percent(c);
        let mut text = format!(
            "{} of {} tables, {} rows",
            c.tables_done, c.tables_total, c.rows
        );
        match c.bytes_total {
            Some(t) => text.push_str(&format!(
                ", {:.1} of {:.1} MB read",
                c.bytes_read as f64 / 1e6,
                t as f64 / 1e6
            )),
            None => text.push_str(&format!(", {:.1} MB read", c.bytes_read as f64 / 1e6)),
        }
        if c.failures > 0 {
            text.push_str(&format!(", {} failed statements", c.failures));
        }
        if c.definers_rewritten > 0 {
            text.push_str(&format!(", {} definers rewritten", c.definers_rewritten));
        }
        text.push_str(&format!(
            "; {} connections; started {}",
            i.parallel,
            crate::pages::format_time(i.started_at)
        ));
        if let Some(end) = i.ended_at {
            text.push_str(&format!(", ended {}", crate::pages::format_time(end)));
        }
        ImportRow {
            id: i.id.to_string(),
            source: i.source.clone(),
            status: i.status.as_str(),
            phase: i.phase.as_str(),
            percent,
            text,
            error: i.error.clone(),
            tables: tables
                .iter()
                .map(|t| {
                    (
                        t.name.clone(),
                        if t.done { "done" } else { "loading" },
                        t.rows,
                    )
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests;
