//! A cluster's replication on its page: the latest sample as facts, the lag over the last
//! samples as a chart drawn on the server (SVG, no script), and the stop form, which is the
//! API's cutover (`FerryCutover`: wait until the cluster has applied the source up to a
//! position, then stop replication). Everything comes through the API's typed handler
//! ([`Handler::describe_replication`], [`Handler::cutover`]), authorized as
//! `ferry:DescribeReplication` and `ferry:Cutover` on the cluster.
//!
//! `GET /console/clusters/{id}/replication` answers the live part alone (state, lag, chart),
//! which `static/live.js` fetches every few seconds; without script the page is reloaded by
//! hand.

use std::fmt::Write as _;
use std::time::Duration;

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use ferry_api::params::Params;
use ferry_api::rds::Handler;
use ferry_api::replication::Replication;
use ferry_api::server::Peer;
use ferry_control::{LagPoint, Principal};
use ferry_replication::status::ThreadState;
use ferry_replication::view::ReplicationView;
use serde::Deserialize;
use time::OffsetDateTime;

use crate::cluster::{cluster_page, Note};
use crate::pages::{form_sender, principal, Decision};
use crate::{html, to_sign_in, Console};

/// The spans of time the chart may show, ending at the newest sample: the shortest that
/// holds the history (a young replica's line is not squeezed to the right edge), at most the
/// last (the history the control plane keeps).
pub const CHART_WINDOWS: [Duration; 4] = [
    Duration::from_secs(60),
    Duration::from_secs(5 * 60),
    Duration::from_secs(10 * 60),
    Duration::from_secs(30 * 60),
];
/// Two samples further apart than this are not joined by the line (the agent was not
/// sampling in between).
const GAP: Duration = Duration::from_secs(10);

/// The replication part of a cluster page.
pub struct ReplicationSection {
    pub cluster: String,
    /// `running`, `connecting`, `stopped` or `error` (also the CSS status class).
    pub state: &'static str,
    /// The lag now, as text (`1.250 s`, `unknown`).
    pub lag: String,
    pub facts: Vec<(&'static str, String)>,
    pub errors: Vec<String>,
    pub chart: Chart,
    /// May the principal stop replication (cut over)?
    pub stop: Decision,
    /// The form's default target: the source's position at the last sample (everything it
    /// had written then), else what the replica has read.
    pub stop_file: String,
    pub stop_position: u64,
}

impl ReplicationSection {
    pub fn of(cluster: &str, r: &Replication, stop: Decision) -> ReplicationSection {
        let v = &r.view;
        let state = state(v);
        let mut facts = vec![
            (
                "Source",
                format!("{}:{} as {}", v.source_host, v.source_port, v.source_user),
            ),
            (
                "IO thread",
                match v.io_thread {
                    ThreadState::Yes => "running",
                    ThreadState::No => "stopped",
                    ThreadState::Connecting => "connecting",
                    ThreadState::Preparing => "registering with the source",
                }
                .to_string(),
            ),
            (
                "SQL thread",
                if v.sql_thread_running {
                    "running"
                } else {
                    "stopped"
                }
                .to_string(),
            ),
            (
                "Read up to",
                format!("{}:{}", v.read_log_file, v.read_log_position),
            ),
            (
                "Applied up to",
                format!("{}:{}", v.executed_log_file, v.executed_log_position),
            ),
        ];
        if let (Some(f), Some(p)) = (&v.source_log_file, v.source_log_position) {
            facts.push(("Source is at", format!("{f}:{p}")));
        }
        if let Some(g) = &v.gtid_io_pos {
            facts.push(("GTID position read", g.clone()));
        }
        facts.push(("TLS", if v.ssl { "yes" } else { "no" }.to_string()));
        facts.push(("Sampled", crate::pages::format_time(v.sampled_at)));
        let mut errors = Vec::new();
        if v.last_io_errno != 0 {
            errors.push(format!(
                "IO thread error {}: {}",
                v.last_io_errno, v.last_io_error
            ));
        }
        if v.last_sql_errno != 0 {
            errors.push(format!(
                "SQL thread error {}: {}",
                v.last_sql_errno, v.last_sql_error
            ));
        }
        if let Some(e) = &v.source_error {
            errors.push(format!("Lag measured without the source: {e}"));
        }
        let (stop_file, stop_position) = match (&v.source_log_file, v.source_log_position) {
            (Some(f), Some(p)) => (f.clone(), p),
            _ => (v.read_log_file.clone(), v.read_log_position),
        };
        ReplicationSection {
            cluster: cluster.to_string(),
            state,
            lag: v.lag.map_or_else(|| "unknown".to_string(), seconds),
            facts,
            errors,
            chart: Chart::of(&r.history),
            stop,
            stop_file,
            stop_position,
        }
    }
}

/// A sample's state as the pages name it (and its CSS status class): `error` when a thread
/// reports an error, `running`, `stopped`, or `connecting` in between.
pub(crate) fn state(v: &ReplicationView) -> &'static str {
    let errored = v.last_io_errno != 0 || v.last_sql_errno != 0;
    match (v.io_thread, v.sql_thread_running) {
        _ if errored => "error",
        (ThreadState::Yes, true) => "running",
        (ThreadState::No, false) => "stopped",
        _ => "connecting",
    }
}

/// `1.250 s`.
pub(crate) fn seconds(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

/// The lag chart: SVG markup made of numbers only (nothing a user wrote), and the same
/// facts in words for those who cannot see it.
pub struct Chart {
    pub svg: String,
    pub summary: String,
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 180.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 24.0;

impl Chart {
    /// The chart of `history` (oldest first) over the shortest of [`CHART_WINDOWS`] that
    /// holds it, ending at its newest point.
    pub fn of(history: &[LagPoint]) -> Chart {
        let (Some(oldest), Some(newest)) = (history.first(), history.last()) else {
            return Chart {
                svg: String::new(),
                summary: "No lag samples yet.".to_string(),
            };
        };
        let end = newest.at;
        let span = end - oldest.at;
        let window = CHART_WINDOWS
            .iter()
            .map(|w| time::Duration::try_from(*w).unwrap_or(time::Duration::ZERO))
            .find(|w| *w >= span)
            .unwrap_or_else(|| {
                time::Duration::try_from(CHART_WINDOWS[CHART_WINDOWS.len() - 1])
                    .unwrap_or(time::Duration::ZERO)
            });
        let minutes = window.whole_minutes();
        let start = end - window;
        let shown: Vec<&LagPoint> = history.iter().filter(|p| p.at >= start).collect();
        let highest = shown.iter().filter_map(|p| p.lag).max().unwrap_or_default();
        let top = nice_ceiling(highest.as_secs_f64());
        let (plot_w, plot_h) = (WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
        let x = |t: OffsetDateTime| {
            LEFT + plot_w * ((t - start).as_seconds_f64() / window.as_seconds_f64()).clamp(0.0, 1.0)
        };
        let y = |lag: Duration| TOP + plot_h * (1.0 - (lag.as_secs_f64() / top).min(1.0));

        let mut svg = String::new();
        let label = format!(
            "Replication lag over the last {} minute{}, highest {}, now {}",
            minutes,
            if minutes == 1 { "" } else { "s" },
            seconds(highest),
            newest.lag.map_or_else(|| "unknown".to_string(), seconds)
        );
        let _ = write!(
            svg,
            r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="lag-chart-title" preserveAspectRatio="none"><title id="lag-chart-title">{label}</title>"#
        );
        // Grid and axis labels: 0, half and the top of the scale; the window's ends.
        for frac in [0.0, 0.5, 1.0] {
            let gy = TOP + plot_h * (1.0 - frac);
            let _ = write!(
                svg,
                r#"<line class="grid" x1="{LEFT}" y1="{gy:.1}" x2="{:.1}" y2="{gy:.1}"/><text class="axis" x="{:.1}" y="{:.1}" text-anchor="end">{} s</text>"#,
                WIDTH - RIGHT,
                LEFT - 6.0,
                gy + 4.0,
                trim(top * frac)
            );
        }
        let _ = write!(
            svg,
            r#"<text class="axis" x="{LEFT}" y="{:.1}">−{} min</text><text class="axis" x="{:.1}" y="{:.1}" text-anchor="end">now</text>"#,
            HEIGHT - 6.0,
            minutes,
            WIDTH - RIGHT,
            HEIGHT - 6.0
        );
        // The line, broken where the lag was unknown or the samples stopped for a while.
        let gap = time::Duration::try_from(GAP).unwrap_or(time::Duration::ZERO);
        let mut segment: Vec<(f64, f64)> = Vec::new();
        let mut last_at: Option<OffsetDateTime> = None;
        let flush = |segment: &mut Vec<(f64, f64)>, svg: &mut String| {
            match segment.len() {
                0 => {}
                1 => {
                    let (px, py) = segment[0];
                    let _ = write!(
                        svg,
                        r#"<circle class="point" cx="{px:.1}" cy="{py:.1}" r="2"/>"#
                    );
                }
                _ => {
                    svg.push_str(r#"<polyline class="line" points=""#);
                    for (i, (px, py)) in segment.iter().enumerate() {
                        let sep = if i == 0 { "" } else { " " };
                        let _ = write!(svg, "{sep}{px:.1},{py:.1}");
                    }
                    svg.push_str(r#""/>"#);
                }
            }
            segment.clear();
        };
        for p in &shown {
            if last_at.is_some_and(|t| p.at - t > gap) {
                flush(&mut segment, &mut svg);
            }
            last_at = Some(p.at);
            match p.lag {
                Some(lag) => segment.push((x(p.at), y(lag))),
                None => flush(&mut segment, &mut svg),
            }
        }
        flush(&mut segment, &mut svg);
        svg.push_str("</svg>");
        let shown_minutes = (end - shown[0].at).whole_minutes();
        let summary = format!(
            "Lag now {}; highest {} over the last {} ({} samples).",
            newest.lag.map_or_else(|| "unknown".to_string(), seconds),
            seconds(highest),
            if shown_minutes < 1 {
                "minute".to_string()
            } else {
                format!("{shown_minutes} min")
            },
            shown.len()
        );
        Chart { svg, summary }
    }
}

/// The smallest of 1, 2 or 5 times a power of ten (at least 1 s) that is `>= v`.
fn nice_ceiling(v: f64) -> f64 {
    if v.is_nan() || v <= 1.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|c| *c >= v)
        .unwrap_or(10.0 * magnitude)
}

/// A scale value without trailing zeros (`2.5`, `10`).
fn trim(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The cluster's replication section for principal `p`: `Ok(None)` when it is not
/// replicating, `Err` with the policy decision when the principal may not see it.
pub fn section(
    console: &Console,
    p: &Principal,
    id: &str,
    arn: &str,
) -> Result<Option<ReplicationSection>, String> {
    let params = Params::from_pairs([("DBClusterIdentifier", id)]);
    let h = Handler::new(console.cp(), p, &params);
    let r = h
        .describe_replication_with_history()
        .map_err(|e| e.message)?;
    Ok(r.map(|r| {
        let stop = Decision::of(h.authorize_ferry("Cutover", arn));
        ReplicationSection::of(id, &r, stop)
    }))
}

#[derive(Template)]
#[template(path = "replication_live.html")]
struct LivePart<'a> {
    r: &'a ReplicationSection,
}

impl ReplicationSection {
    /// The live part (state, lag, chart) as HTML, for the page and for `live.js`.
    pub fn live_html(&self) -> String {
        LivePart { r: self }.render().unwrap_or_default()
    }
}

/// The live part of a cluster's replication, for `live.js` to put in place: `204` when the
/// cluster is not replicating any more (the page is reloaded then).
pub async fn live(
    State(console): State<Console>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Path(id): Path<String>,
) -> Response {
    let (_, p) = match principal(&console, &headers, peer) {
        Ok(x) => x,
        Err(why) => return to_sign_in(why),
    };
    let arn = console
        .cp()
        .cluster_arn(&ferry_control::model::ClusterId::new_unchecked(
            id.to_lowercase(),
        ));
    match section(&console, &p, &id, &arn) {
        Ok(Some(r)) => html(&LivePart { r: &r }),
        Ok(None) => StatusCode::NO_CONTENT.into_response(),
        Err(why) => (StatusCode::FORBIDDEN, why).into_response(),
    }
}

#[derive(Deserialize)]
pub struct StopForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    log_file: String,
    #[serde(default)]
    log_position: String,
    #[serde(default)]
    timeout: String,
}

/// Stops replication once the cluster has applied the source up to the position given: the
/// API's `FerryCutover` with the form's values.
pub async fn stop(
    State(console): State<Console>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Path(id): Path<String>,
    Form(f): Form<StopForm>,
) -> Response {
    let (s, p) = match form_sender(&console, &headers, peer, &f.csrf) {
        Ok(x) => x,
        Err(refused) => return refused.into_response(),
    };
    let params = Params::from_pairs([
        ("DBClusterIdentifier", id.as_str()),
        ("SourceLogFile", f.log_file.trim()),
        ("SourceLogPosition", f.log_position.trim()),
        ("TimeoutSeconds", f.timeout.trim()),
    ]);
    let note = match Handler::new(console.cp(), &p, &params).cutover().await {
        Ok(o) => Note::Stopped(format!(
            "Replication stopped: the cluster applied the source up to {}:{}{} (waited {:.1} s).",
            o.executed.file,
            o.executed.pos,
            o.gtid.map(|g| format!(", GTID {g}")).unwrap_or_default(),
            o.waited.as_secs_f64()
        )),
        Err(e) => Note::StopError(e.message),
    };
    cluster_page(&console, &s, &p, &id, note)
}

/// The start form of a cluster that is not replicating: where its data came from is where
/// replication starts (the binlog position recovered by the restore), the rest is typed.
pub struct StartSection {
    pub cluster: String,
    pub start: Decision,
    pub values: StartValues,
}

/// What the start form holds (never the password: it is typed again after an error).
#[derive(Default, Clone)]
pub struct StartValues {
    pub host: String,
    pub port: String,
    pub user: String,
    pub log_file: String,
    pub log_position: String,
    pub ssl: bool,
}

impl StartSection {
    /// The form for cluster `id` (`arn`), its fields filled with `values`.
    pub fn of(console: &Console, p: &Principal, id: &str, arn: &str, values: StartValues) -> Self {
        let params = Params::from_pairs([("DBClusterIdentifier", id)]);
        let h = Handler::new(console.cp(), p, &params);
        StartSection {
            cluster: id.to_string(),
            start: Decision::of(h.authorize_ferry("StartReplication", arn)),
            values,
        }
    }
}

#[derive(Deserialize)]
pub struct StartForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    host: String,
    #[serde(default)]
    port: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    log_file: String,
    #[serde(default)]
    log_position: String,
    ssl: Option<String>,
}

/// Starts replication from the source the form names: the API's `FerryStartReplication`,
/// which calls `mysql.rds_set_external_master` and `mysql.rds_start_replication`.
pub async fn start(
    State(console): State<Console>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Path(id): Path<String>,
    Form(f): Form<StartForm>,
) -> Response {
    let (s, p) = match form_sender(&console, &headers, peer, &f.csrf) {
        Ok(x) => x,
        Err(refused) => return refused.into_response(),
    };
    let values = StartValues {
        host: f.host.trim().to_string(),
        port: f.port.trim().to_string(),
        user: f.user.trim().to_string(),
        log_file: f.log_file.trim().to_string(),
        log_position: f.log_position.trim().to_string(),
        ssl: f.ssl.is_some(),
    };
    let mut pairs = vec![
        ("DBClusterIdentifier", id.as_str()),
        ("SourceHost", values.host.as_str()),
        ("SourceUser", values.user.as_str()),
        ("SourcePassword", f.password.as_str()),
        ("SourceLogFile", values.log_file.as_str()),
        ("SourceLogPosition", values.log_position.as_str()),
        ("SourceSsl", if values.ssl { "true" } else { "false" }),
    ];
    if !values.port.is_empty() {
        pairs.push(("SourcePort", values.port.as_str()));
    }
    let params = Params::from_pairs(pairs);
    let note = match Handler::new(console.cp(), &p, &params)
        .start_replication()
        .await
    {
        Ok(messages) => Note::Started(messages.join(" ")),
        Err(e) => Note::StartError(e.message, values),
    };
    cluster_page(&console, &s, &p, &id, note)
}

#[cfg(test)]
mod tests;
