//! `ferry migrate logical --source mysql://user@host:port --cluster ID`: the reduced-downtime
//! road for sources ferry cannot take a physical backup of. A consistent snapshot of the
//! live source (`ferry_import::snapshot`: `START TRANSACTION WITH CONSISTENT SNAPSHOT` on
//! parallel connections, with the binlog coordinates and GTID of that instant) is streamed
//! straight into the cluster's writer by the loader (`ferry_import::import`, through the
//! control plane as `ferry import --cluster` does), with no intermediate file; then, as the
//! cluster's master user, `mysql.rds_set_external_master` from those coordinates and
//! `mysql.rds_start_replication`. The cluster catches up while the source stays open;
//! `ferry replication status` and `ferry replication cutover` finish the job.
//!
//! Events: an event enabled on the source would also run on the cluster while it replicates
//! the source's own runs; the cluster's copies are set `DISABLE ON SLAVE` before replication
//! starts, and listed to enable after the cutover.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use camino::Utf8PathBuf;
use clap::{Args, Subcommand};
use ferry_base::Secret;
use ferry_import::snapshot::{self, Method, SnapshotError, SnapshotOptions};
use ferry_import::{ImportOptions, Resume, Target};
use ferry_replication::source::{SourceEndpoint, SourceTls};
use ferry_replication::status::ThreadState;
use mysql_async::prelude::Queryable as _;

use crate::import::Display;
use crate::replication::ApiArgs;

#[derive(Subcommand)]
pub enum MigrateCommand {
    /// Copy a live MySQL/MariaDB source into a cluster through a consistent snapshot, then
    /// replicate from the snapshot's binlog coordinates until `ferry replication cutover`.
    Logical(LogicalArgs),
}

#[derive(Args)]
pub struct LogicalArgs {
    /// The source, `mysql://user@host[:port][?ssl-mode=REQUIRED&ssl-ca=FILE...]`. Its account
    /// needs SELECT, SHOW VIEW, TRIGGER, EVENT, RELOAD (for FLUSH TABLES WITH READ LOCK; a
    /// MariaDB source without it is copied on one connection) and BINLOG MONITOR / REPLICATION
    /// CLIENT.
    #[arg(long)]
    pub source: String,
    /// A file whose first line is the source user's password (else FERRY_SOURCE_PASSWORD,
    /// else the URL's).
    #[arg(long)]
    pub source_password_file: Option<Utf8PathBuf>,
    /// The DB cluster to load into and replicate to.
    #[arg(long)]
    pub cluster: String,
    /// The cluster account to load as (default: the master user, who must also be the one
    /// calling the mysql.rds_* procedures).
    #[arg(long)]
    pub user: Option<String>,
    /// A file whose first line is the cluster account's password. Else FERRY_IMPORT_PASSWORD,
    /// else a prompt on a terminal.
    #[arg(long)]
    pub password_file: Option<Utf8PathBuf>,
    /// Copy only this database (repeatable); default every database but mysql,
    /// information_schema, performance_schema and sys.
    #[arg(long = "database")]
    pub databases: Vec<String>,
    /// Connections reading the source (each one snapshot transaction) and loading the cluster.
    #[arg(long, default_value_t = 4)]
    pub parallel: usize,
    /// The account the cluster replicates as (REPLICATION SLAVE on the source); default the
    /// source user.
    #[arg(long)]
    pub replication_user: Option<String>,
    /// A file whose first line is the replication account's password. Else
    /// FERRY_REPLICATION_PASSWORD, else the source user's password.
    #[arg(long)]
    pub replication_password_file: Option<Utf8PathBuf>,
    #[command(flatten)]
    pub api: ApiArgs,
}

pub async fn run(cmd: MigrateCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        MigrateCommand::Logical(args) => logical(args).await,
    }
}

fn cluster_password(args: &LogicalArgs) -> anyhow::Result<Secret> {
    if let Some(path) = &args.password_file {
        return Ok(Secret::new(crate::import::first_line(
            path,
            "cluster account's ",
        )?));
    }
    if let Ok(p) = std::env::var("FERRY_IMPORT_PASSWORD") {
        return Ok(Secret::new(p));
    }
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return crate::import::prompt(&format!("Password of the cluster {}: ", args.cluster));
    }
    bail!("no password for the cluster account: pass --password-file or set FERRY_IMPORT_PASSWORD")
}

/// The replication account: user and password.
fn replication_account(
    args: &LogicalArgs,
    source: &SourceEndpoint,
) -> anyhow::Result<(String, Secret)> {
    let user = args
        .replication_user
        .clone()
        .unwrap_or_else(|| source.user.clone());
    let password = match &args.replication_password_file {
        Some(path) => Secret::new(crate::import::first_line(path, "replication ")?),
        None => match std::env::var("FERRY_REPLICATION_PASSWORD") {
            Ok(p) => Secret::new(p),
            Err(_) => source.password().clone(),
        },
    };
    Ok((user, password))
}

/// A string as an SQL literal (for the procedures' arguments).
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

async fn logical(args: LogicalArgs) -> anyhow::Result<ExitCode> {
    if args.parallel == 0 {
        bail!("--parallel must be at least 1");
    }
    let source =
        crate::replication::source_endpoint(&args.source, args.source_password_file.as_ref())?;
    let (repl_user, repl_password) = replication_account(&args, &source)?;
    let password = cluster_password(&args)?;
    let client = args.api.client()?;
    if let Some(r) = crate::replication::describe(&client, &args.cluster).await? {
        bail!(
            "DB cluster {} already replicates from {}:{} (IO thread {}): a logical migration starts replication itself; call mysql.rds_reset_external_master on the cluster first",
            args.cluster,
            r.source_host,
            r.source_port,
            r.io_thread.as_str()
        );
    }
    let (target, host) =
        crate::import::cluster::connect(&args.cluster, &args.api, args.user.as_deref(), password)
            .await?;

    let started = Instant::now();
    let opts = SnapshotOptions {
        databases: args.databases.clone(),
        connections: args.parallel,
        ..SnapshotOptions::default()
    };
    let snap = snapshot::start(&source, &opts)
        .await
        .with_context(|| format!("take a consistent snapshot of {source}"))?;
    let position = snap.position.clone();
    let gtid = position
        .gtid
        .as_deref()
        .map(|g| format!(", GTID {g}"))
        .unwrap_or_default();
    eprintln!(
        "snapshot of {source} ({}) at {}{gtid}: {} on {} connection{}{}",
        snap.version,
        position.coord,
        if snap.databases.is_empty() {
            "no databases".to_owned()
        } else {
            format!("databases {}", snap.databases.join(", "))
        },
        snap.connections,
        if snap.connections == 1 { "" } else { "s" },
        match snap.method {
            Method::ReadLock => String::new(),
            Method::SnapshotStatus => format!(
                " (FLUSH TABLES WITH READ LOCK refused: {} lacks RELOAD; coordinates from MariaDB's Binlog_snapshot_file/position, copied on one connection)",
                source.user
            ),
        }
    );

    let state_file = std::env::temp_dir().join(format!(
        "ferry-migrate-{}-{}.json",
        args.cluster,
        std::process::id()
    ));
    let mut import_opts = ImportOptions::new(format!("snapshot of {source}"), state_file.clone());
    import_opts.parallel = args.parallel;
    // A snapshot cannot be continued: a rerun takes a new one.
    import_opts.resume = Resume::Fresh;
    let display = Display::new(None);
    let loaded = ferry_import::import(
        Box::new(snap.input),
        None,
        &target,
        &import_opts,
        host.as_ref(),
        &|p| display.show(p),
    )
    .await;
    display.finish();
    let _ = std::fs::remove_file(&state_file);
    let generated = snap.done.await;
    let summary = match (loaded, generated) {
        (Ok(summary), Ok(Ok(_))) => summary,
        // The generator's own error says more than the loader's "read ..." of it.
        (_, Ok(Err(e))) if !matches!(e, SnapshotError::ReaderGone) => {
            return Err(anyhow::Error::new(e).context(format!(
                "copy the snapshot of {source} into DB cluster {} (rerun the command to start over with a new snapshot)",
                args.cluster
            )))
        }
        (Err(e), _) => {
            return Err(anyhow::Error::new(e).context(format!(
                "load the snapshot of {source} into DB cluster {} (rerun the command to start over with a new snapshot)",
                args.cluster
            )))
        }
        (Ok(_), Ok(Err(e))) => return Err(e.into()),
        (Ok(_), Err(_)) => bail!("the snapshot's generator ended without a result"),
    };
    println!(
        "copied {} tables, {} rows, {} views, {} triggers, {} routines, {} events into DB cluster {} in {:.1}s",
        summary.tables,
        summary.rows,
        summary.views,
        summary.triggers,
        summary.routines,
        summary.events,
        args.cluster,
        started.elapsed().as_secs_f64()
    );
    for r in &summary.definer_rewrites {
        println!(
            "  definer rewritten: {} {}: {} -> {} ({})",
            r.kind.as_str(),
            r.object,
            r.from,
            r.to,
            r.reason
        );
    }
    for note in &summary.skipped {
        println!("  skipped: {note}");
    }

    let disabled = start_replication(
        &target,
        &args.cluster,
        &source,
        &repl_user,
        &repl_password,
        &position,
    )
    .await?;
    println!(
        "replication of DB cluster {} started from {}:{} at {}{gtid} as {repl_user}",
        args.cluster, source.host, source.port, position.coord
    );
    seen_running(&client, &args.cluster).await?;
    if !disabled.is_empty() {
        println!(
            "events set DISABLE ON SLAVE on the cluster (the source runs them; enable them after the cutover with ALTER EVENT ... ENABLE): {}",
            disabled.join(", ")
        );
    }
    let source_url = format!(
        "mysql://{}@{}",
        source.user,
        if source.host.contains(':') {
            format!("[{}]:{}", source.host, source.port)
        } else {
            format!("{}:{}", source.host, source.port)
        }
    );
    println!(
        "watch it:  ferry replication status {} --watch",
        args.cluster
    );
    println!(
        "cut over:  ferry replication cutover {} --source {source_url} --set-read-only",
        args.cluster
    );
    Ok(ExitCode::SUCCESS)
}

/// How long to wait for ferry's replication monitor to see the replication running.
const SEEN_RUNNING_WITHIN: Duration = Duration::from_secs(60);

/// Waits until ferry's replication monitor (sampling every 2 s) shows both threads running,
/// so `ferry replication status` / `cutover` work as soon as this command returns; fails on
/// a replication error (a wrong replication password, an unreachable source) rather than
/// leaving it to be found later.
async fn seen_running(client: &ferry_api::client::Client, cluster: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + SEEN_RUNNING_WITHIN;
    loop {
        if let Some(r) = crate::replication::describe(client, cluster).await? {
            for (kind, errno, error) in [
                ("IO", r.last_io_errno, &r.last_io_error),
                ("SQL", r.last_sql_errno, &r.last_sql_error),
            ] {
                if errno != 0 {
                    bail!(
                        "the replication of DB cluster {cluster} from {}:{} fails ({kind} thread): {errno} {error}; fix it and call mysql.rds_start_replication (see `ferry replication status {cluster}`)",
                        r.source_host,
                        r.source_port
                    );
                }
            }
            if r.io_thread == ThreadState::Yes && r.sql_thread_running {
                println!(
                    "replication running: executed up to {}:{}{}",
                    r.executed_log_file,
                    r.executed_log_position,
                    r.lag
                        .map(|l| format!(", {:.1} s behind", l.as_secs_f64()))
                        .unwrap_or_default()
                );
                return Ok(());
            }
        }
        if Instant::now() >= deadline {
            println!(
                "replication not yet seen running by ferry after {} s: check `ferry replication status {cluster}`",
                SEEN_RUNNING_WITHIN.as_secs()
            );
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// As the cluster account: events enabled on the source set `DISABLE ON SLAVE`, then
/// `rds_set_external_master` from `position` and `rds_start_replication`. Returns the events
/// disabled (`db.name`).
async fn start_replication(
    target: &Target,
    cluster: &str,
    source: &SourceEndpoint,
    repl_user: &str,
    repl_password: &Secret,
    position: &ferry_replication::source::SourcePosition,
) -> anyhow::Result<Vec<String>> {
    let opts = mysql_async::OptsBuilder::default()
        .ip_or_hostname(target.host.as_str())
        .tcp_port(target.port)
        .prefer_socket(false)
        .user(Some(target.user.as_str()))
        .pass(Some(target.password.expose()));
    let mut conn = mysql_async::Conn::new(opts)
        .await
        .with_context(|| format!("connect to DB cluster {cluster} as {}", target.describe()))?;
    let events: Vec<(String, String)> = conn
        .query(
            "SELECT EVENT_SCHEMA, EVENT_NAME FROM information_schema.EVENTS \
             WHERE STATUS = 'ENABLED' ORDER BY EVENT_SCHEMA, EVENT_NAME",
        )
        .await
        .with_context(|| format!("list the events on DB cluster {cluster}"))?;
    let mut disabled = Vec::new();
    for (db, name) in events {
        let sql = format!(
            "ALTER EVENT `{}`.`{}` DISABLE ON SLAVE",
            db.replace('`', "``"),
            name.replace('`', "``")
        );
        conn.query_drop(&sql)
            .await
            .with_context(|| format!("{sql} on DB cluster {cluster}"))?;
        disabled.push(format!("{db}.{name}"));
    }
    let ssl = u8::from(!matches!(source.tls, SourceTls::Off));
    // The statement carries the password: errors name the procedure, never the text.
    let call = format!(
        "CALL mysql.rds_set_external_master({}, {}, {}, {}, {}, {}, {ssl})",
        literal(&source.host),
        source.port,
        literal(repl_user),
        literal(repl_password.expose()),
        literal(&position.coord.file),
        position.coord.pos
    );
    conn.query_drop(call).await.with_context(|| {
        format!(
            "CALL mysql.rds_set_external_master('{}', {}, '{repl_user}', ..., '{}', {}, {ssl}) on DB cluster {cluster}",
            source.host, source.port, position.coord.file, position.coord.pos
        )
    })?;
    conn.query_drop("CALL mysql.rds_start_replication")
        .await
        .with_context(|| format!("CALL mysql.rds_start_replication on DB cluster {cluster}"))?;
    let _ = conn.disconnect().await;
    Ok(disabled)
}
