//! `ferry replication status|cutover CLUSTER`: the replication of a cluster from its external
//! source, through the running `ferry serve`'s API (signed with the admin credentials).
//!
//! Cutover talks to the source itself (the source's credentials never travel to the server):
//! optionally `SET GLOBAL read_only = ON`, read the source's binary log position, ask the
//! server to wait until the cluster has executed up to it and to stop replication, then
//! report the coordinates and how long the source refused writes. If the cluster does not get
//! there in time (replication still running) the source is made writable again, so a failed
//! cutover blocks nothing.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use camino::Utf8PathBuf;
use clap::{Args, Subcommand};
use ferry_api::client::Client;
use ferry_api::replication::REPLICATION_ELEMENT;
use ferry_replication::monitor::LagSource;
use ferry_replication::source::{self, SourceEndpoint, SourcePosition};
use ferry_replication::view::ReplicationView;

#[derive(Subcommand)]
pub enum ReplicationCommand {
    /// Show a cluster's replication from its external source: threads, lag, positions, errors.
    Status(StatusArgs),
    /// Cut over: wait until the cluster has executed everything the source has written (the
    /// source's current binary log position, not merely Seconds_Behind_Master = 0), then stop
    /// replication.
    Cutover(CutoverArgs),
}

#[derive(Args)]
pub struct ApiArgs {
    /// The `ferry serve` API.
    #[arg(
        long,
        env = "FERRY_ENDPOINT_URL",
        default_value = "http://127.0.0.1:8900"
    )]
    pub endpoint_url: String,
    /// An AWS shared-credentials file with the key to sign with; default: the admin
    /// credentials in the data dir.
    #[arg(long)]
    pub credentials: Option<Utf8PathBuf>,
    /// `ferry serve`'s data dir (for its admin credentials).
    #[arg(long, env = "FERRY_DATA_DIR", default_value = "ferry-data")]
    pub data_dir: Utf8PathBuf,
}

impl ApiArgs {
    pub(crate) fn client(&self) -> anyhow::Result<Client> {
        let path = self
            .credentials
            .clone()
            .unwrap_or_else(|| self.data_dir.join("admin-credentials"));
        Ok(Client::from_credentials_file(
            &self.endpoint_url,
            path.as_std_path(),
        )?)
    }
}

#[derive(Args)]
pub struct StatusArgs {
    /// The DB cluster identifier.
    pub cluster: String,
    /// Print it again every 2 seconds (ferry's sampling interval) until Ctrl-C.
    #[arg(long)]
    pub watch: bool,
    #[command(flatten)]
    pub api: ApiArgs,
}

#[derive(Args)]
pub struct CutoverArgs {
    /// The DB cluster identifier.
    pub cluster: String,
    /// The source, `mysql://user[:password]@host[:port][?ssl-mode=REQUIRED&ssl-ca=FILE...]`.
    /// Prefer --source-password-file or FERRY_SOURCE_PASSWORD to a password in the URL,
    /// which other users of the machine can see in the process list.
    #[arg(long)]
    pub source: String,
    /// A file whose first line is the source user's password.
    #[arg(long)]
    pub source_password_file: Option<Utf8PathBuf>,
    /// Set the source read-only (`SET GLOBAL read_only = ON`) before reading its position, so
    /// nothing written after the cutover is lost. Needs SUPER or READ_ONLY ADMIN on the source.
    #[arg(long)]
    pub set_read_only: bool,
    /// How long to wait for the cluster to reach the source's position.
    #[arg(long, default_value_t = 300)]
    pub timeout_seconds: u64,
    #[command(flatten)]
    pub api: ApiArgs,
}

pub async fn run(cmd: ReplicationCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ReplicationCommand::Status(args) => status(args).await,
        ReplicationCommand::Cutover(args) => cutover(args).await,
    }
}

/// The cluster's latest replication sample; `None` when it is not replicating.
pub async fn describe(client: &Client, cluster: &str) -> anyhow::Result<Option<ReplicationView>> {
    let response = client
        .call(
            "FerryDescribeReplication",
            &[("DBClusterIdentifier", cluster)],
        )
        .await?;
    Ok(response.members(REPLICATION_ELEMENT)?)
}

async fn status(args: StatusArgs) -> anyhow::Result<ExitCode> {
    let client = args.api.client()?;
    if !args.watch {
        print_status(&client, &args.cluster).await?;
        return Ok(ExitCode::SUCCESS);
    }
    // One listener for the whole loop, made before the first request: a Ctrl-C that arrives
    // while a request is under way is kept for the next wait, not lost.
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .context("listen for Ctrl-C")?;
    loop {
        tokio::select! {
            printed = print_status(&client, &args.cluster) => printed?,
            _ = interrupt.recv() => return Ok(ExitCode::SUCCESS),
        }
        println!();
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = interrupt.recv() => return Ok(ExitCode::SUCCESS),
        }
    }
}

async fn print_status(client: &Client, cluster: &str) -> anyhow::Result<()> {
    let Some(r) = describe(client, cluster).await? else {
        println!(
            "DB cluster {cluster} has no external source (call mysql.rds_set_external_master on its writer), or its writer is not running."
        );
        return Ok(());
    };
    let lag = match r.lag {
        Some(lag) => format!(
            "{:.3} s (measured by {})",
            lag.as_secs_f64(),
            match r.lag_source {
                LagSource::Heartbeat => "heartbeat",
                LagSource::SecondsBehindMaster => "seconds behind master",
            }
        ),
        None => "unknown (replication is not running)".to_owned(),
    };
    println!("DB cluster:              {}", cluster);
    println!(
        "Source:                  {}:{} as {}{}",
        r.source_host,
        r.source_port,
        r.source_user,
        if r.ssl { ", over SSL" } else { "" }
    );
    println!("IO thread:               {}", r.io_thread.as_str());
    println!(
        "SQL thread:              {}",
        if r.sql_thread_running { "Yes" } else { "No" }
    );
    println!("Lag:                     {lag}");
    println!(
        "Seconds_Behind_Master:   {}",
        r.seconds_behind_master
            .map_or_else(|| "NULL".to_owned(), |s| s.to_string())
    );
    println!(
        "Read up to:              {}:{}",
        r.read_log_file, r.read_log_position
    );
    println!(
        "Executed up to:          {}:{}",
        r.executed_log_file, r.executed_log_position
    );
    if let (Some(f), Some(p)) = (&r.source_log_file, r.source_log_position) {
        println!("Source is at:            {f}:{p}");
    }
    if r.using_gtid {
        println!(
            "GTID (IO thread):        {}",
            r.gtid_io_pos.as_deref().unwrap_or_default()
        );
    }
    for (kind, errno, error) in [
        ("IO", r.last_io_errno, &r.last_io_error),
        ("SQL", r.last_sql_errno, &r.last_sql_error),
    ] {
        if errno != 0 {
            println!("Last {kind} error:          {errno} {error}");
        }
    }
    if let Some(e) = &r.source_error {
        println!("Lag not measured on the source: {e}");
    }
    println!(
        "Sampled at:              {}",
        ferry_api::xml::timestamp(r.sampled_at)
    );
    Ok(())
}

/// The source endpoint of `--source URL`, its password from `--source-password-file` (first
/// line), else `FERRY_SOURCE_PASSWORD`, else the URL: the one reading of a source for every
/// command that takes one.
pub(crate) fn source_endpoint(
    url: &str,
    password_file: Option<&Utf8PathBuf>,
) -> anyhow::Result<SourceEndpoint> {
    let parsed = SourceEndpoint::from_url(url)?;
    let password = if let Some(path) = password_file {
        Some(crate::import::first_line(path, "source ")?)
    } else {
        std::env::var("FERRY_SOURCE_PASSWORD").ok()
    };
    Ok(match password {
        Some(pw) => SourceEndpoint::new(
            parsed.host.clone(),
            parsed.port,
            parsed.user.clone(),
            pw,
            parsed.tls.clone(),
        ),
        None => parsed,
    })
}

async fn cutover(args: CutoverArgs) -> anyhow::Result<ExitCode> {
    let client = args.api.client()?;
    let endpoint = source_endpoint(&args.source, args.source_password_file.as_ref())?;
    let done = cut_over(
        &client,
        &args.cluster,
        &endpoint,
        args.set_read_only,
        Duration::from_secs(args.timeout_seconds),
        &|line| println!("{line}"),
    )
    .await?;
    println!(
        "DB cluster {} executed the source up to {}{}; replication is stopped.",
        args.cluster,
        done.executed,
        done.executed_gtid
            .as_deref()
            .map(|g| format!(" (GTID {g})"))
            .unwrap_or_default()
    );
    match done.blocked {
        Some(d) => println!(
            "Writes on the source were blocked for {:.2} s. The source stays read-only: point the application at the cluster.",
            d.as_secs_f64()
        ),
        None => println!(
            "The source was not made read-only: anything written there after {} is not in the cluster.",
            done.target.coord
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// What a cutover did.
pub struct CutoverDone {
    /// The source's position the cluster was brought to.
    pub target: SourcePosition,
    /// The cluster's executed position after replication stopped.
    pub executed: String,
    pub executed_gtid: Option<String>,
    /// How long the source was read-only before the cluster had everything (`None`: it was
    /// not made read-only).
    pub blocked: Option<Duration>,
}

/// How long a failed cutover waits for a sample of the cluster taken after the failure.
const FRESH_SAMPLE_WAIT: Duration = Duration::from_secs(15);

/// Whether the cluster's replication runs, judged from a sample taken after this call began
/// (the latest one when a cutover fails may predate its `STOP SLAVE`): the first sample
/// newer than the one ferry had when asked. `None` when ferry cannot be asked or has no
/// newer sample within [`FRESH_SAMPLE_WAIT`].
async fn runs_now(client: &Client, cluster: &str) -> Option<bool> {
    let first = match describe(client, cluster).await {
        Ok(Some(view)) => view,
        Ok(None) => return Some(false),
        Err(_) => return None,
    };
    let deadline = Instant::now() + FRESH_SAMPLE_WAIT;
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(250)).await;
        match describe(client, cluster).await {
            Ok(Some(view)) if view.sampled_at > first.sampled_at => {
                return Some(view.sql_thread_running)
            }
            Ok(Some(_)) => {}
            Ok(None) => return Some(false),
            Err(_) => return None,
        }
    }
    None
}

/// The cutover itself (see the module docs), for `ferry replication cutover` and the demo.
pub async fn cut_over(
    client: &Client,
    cluster: &str,
    endpoint: &SourceEndpoint,
    set_read_only: bool,
    timeout: Duration,
    say: &(dyn Fn(&str) + Sync),
) -> anyhow::Result<CutoverDone> {
    let Some(before) = describe(client, cluster).await? else {
        bail!(
            "DB cluster {cluster} is not replicating from an external source: nothing to cut over"
        );
    };
    if !before.sql_thread_running {
        let error = &before.last_sql_error;
        bail!(
            "replication on DB cluster {cluster} is not running (SQL thread stopped{}): start it with mysql.rds_start_replication or skip the error first",
            if error.is_empty() {
                String::new()
            } else {
                format!(": {error}")
            }
        );
    }
    let mut conn = endpoint.connect().await?;
    let blocked_since = if set_read_only {
        source::set_read_only(&mut conn, true).await?;
        say(&format!("Source {endpoint} is read-only."));
        Some(Instant::now())
    } else {
        None
    };
    let target = match source::read_position(&mut conn).await {
        Ok(t) => t,
        Err(e) => {
            undo_read_only(&mut conn, endpoint, set_read_only).await;
            return Err(e.into());
        }
    };
    say(&format!(
        "Source position: {}{}",
        target.coord,
        target
            .gtid
            .as_deref()
            .map(|g| format!(" (GTID {g})"))
            .unwrap_or_default()
    ));
    let pos = target.coord.pos.to_string();
    let timeout_text = timeout.as_secs().max(1).to_string();
    let mut params = vec![
        ("DBClusterIdentifier", cluster),
        ("SourceLogFile", target.coord.file.as_str()),
        ("SourceLogPosition", pos.as_str()),
        ("TimeoutSeconds", timeout_text.as_str()),
    ];
    if let Some(g) = &target.gtid {
        params.push(("SourceGtid", g.as_str()));
    }
    let waited = client
        .clone()
        .with_timeout(timeout + Duration::from_secs(30))
        .call("FerryCutover", &params)
        .await;
    let r = match waited {
        Ok(r) => r,
        Err(e) => {
            // The wait may have failed (timeout, broken replication: replication runs on or
            // is broken) or only its answer was lost (the cluster stopped at the target).
            // Only in the first case is the source the primary still.
            // Unknown when ferry cannot be asked (it may have died after stopping
            // replication): the source stays read-only, so it cannot take writes the
            // cluster would miss.
            let still_replicating = runs_now(client, cluster).await;
            let Some(still_replicating) = still_replicating else {
                return Err(anyhow::Error::from(e).context(format!(
                    "the cutover call for DB cluster {cluster} failed and ferry could not be asked whether its replication still runs: check `ferry replication status {cluster}` (executed position against {}) and run the cutover again{}",
                    target.coord,
                    if set_read_only {
                        "; the source stays read-only"
                    } else {
                        ""
                    }
                )));
            };
            if still_replicating {
                undo_read_only(&mut conn, endpoint, set_read_only).await;
                return Err(anyhow::Error::from(e).context(format!(
                    "cutover of DB cluster {cluster} did not complete; replication was left running"
                )));
            }
            return Err(anyhow::Error::from(e).context(format!(
                "the cutover call for DB cluster {cluster} failed, but its replication is no longer running: check `ferry replication status {cluster}` (executed position against {}){}",
                target.coord,
                if set_read_only {
                    "; the source stays read-only"
                } else {
                    ""
                }
            )));
        }
    };
    let blocked = blocked_since.map(|t| t.elapsed());
    let _ = conn.disconnect().await;
    Ok(CutoverDone {
        executed: format!(
            "{}:{}",
            r.text("ExecutedLogFile").unwrap_or_default(),
            r.text("ExecutedLogPosition").unwrap_or_default()
        ),
        executed_gtid: r.text("ExecutedGtid").filter(|g| !g.is_empty()),
        target,
        blocked,
    })
}

/// Makes the source writable again after a cutover that did not complete.
async fn undo_read_only(conn: &mut mysql_async::Conn, endpoint: &SourceEndpoint, was_set: bool) {
    if !was_set {
        return;
    }
    match source::set_read_only(conn, false).await {
        Ok(()) => eprintln!("Source {endpoint} is writable again."),
        Err(e) => eprintln!(
            "warning: the source {endpoint} could not be made writable again ({e}); run SET GLOBAL read_only = OFF on it"
        ),
    }
}
