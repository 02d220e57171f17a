//! Background jobs: restoring a cluster volume from S3, or initialising an empty one, then
//! preparing it for use (ferry's admin account, the master user, time zones).
//!
//! A job is recorded in the store in the same transaction as its cluster, so a restart of
//! `ferry serve` finds it and runs it again: the restore pipeline resumes from its staging
//! area (complete backup sets are not fetched again), and each later step is idempotent.
//! A restore writes into `clusters/<id>/restoring` and renames it to `volume` only after the
//! data is complete and its report is saved, so a `volume` directory always holds whole data.
//!
//! Failures end the cluster in `migration-failed` with an event naming the cause; the
//! partial data and the staging area are removed and no instance is ever started on them.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use camino::Utf8PathBuf;
use ferry_base::error::flatten;
use ferry_engine::accounts::{self, AdminAccount};
use ferry_engine::{ReadyProbe, Server, ServerConfig};
use ferry_restore::{Phase, Progress, RestoreOptions, RestoreReport, Source};
use tokio::task::JoinHandle;

use crate::error::ControlError;
use crate::model::{Cluster, ClusterId, ClusterStatus, Job, JobKind, SourceType};
use crate::service::ControlPlane;
use crate::{secrets, supervisor};

const STAGE_RESTORE: u8 = 0;
const STAGE_BOOTSTRAP: u8 = 1;
const REPORT_FILE: &str = "restore-report.json";
const RESTORING_DIR: &str = "restoring";
const BOOT_DIR: &str = "boot";
const ZONEINFO: &str = "/usr/share/zoneinfo";

/// A running job as the service sees it: its progress and a way to stop it.
pub(crate) struct JobHandle {
    progress: Arc<Progress>,
    stage: Arc<AtomicU8>,
    task: JoinHandle<()>,
}

impl JobHandle {
    /// `PercentProgress`: listing 1, download 2-80 by bytes, prepare 82, finalize 92, then
    /// 96 while the engine is being set up.
    pub(crate) fn percent(&self) -> u8 {
        if self.stage.load(Ordering::Relaxed) == STAGE_BOOTSTRAP {
            return 96;
        }
        let s = self.progress.snapshot();
        match s.phase {
            Phase::Listing => 1,
            Phase::Download => {
                let done = s.bytes_done + s.bytes_reused;
                let share = (78 * done.min(s.bytes_total)).checked_div(s.bytes_total);
                2 + share.unwrap_or(0) as u8
            }
            Phase::Prepare => 82,
            Phase::Finalize => 92,
            Phase::Done => 94,
        }
    }

    /// Interrupts the job (its staging stays for the next run) and waits until it is gone.
    pub(crate) async fn abort_and_wait(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

pub(crate) fn spawn(cp: ControlPlane, job: Job) -> JobHandle {
    let progress = Arc::new(Progress::new());
    let stage = Arc::new(AtomicU8::new(STAGE_RESTORE));
    let task = {
        let progress = progress.clone();
        let stage = stage.clone();
        tokio::spawn(async move {
            let id = job.cluster_id.clone();
            run(&cp, &job, progress, stage).await;
            cp.job_finished(&id);
        })
    };
    JobHandle {
        progress,
        stage,
        task,
    }
}

/// Why a job failed: the reason for the event, and the event text when RDS has a specific one.
struct Failure {
    reason: String,
    event: Option<String>,
}

impl Failure {
    fn new(reason: impl Into<String>) -> Self {
        Failure {
            reason: reason.into(),
            event: None,
        }
    }
}

impl From<ControlError> for Failure {
    fn from(e: ControlError) -> Self {
        Failure::new(e.to_string())
    }
}

async fn run(cp: &ControlPlane, job: &Job, progress: Arc<Progress>, stage: Arc<AtomicU8>) {
    let store = cp.store();
    let cluster = match store.get_cluster(&job.cluster_id) {
        Ok(Some(c)) => c,
        Ok(None) => {
            let _ = store.finish_job(job.id);
            return;
        }
        Err(e) => {
            tracing::error!(cluster = %job.cluster_id, error = %e, "cannot read the cluster for its job");
            return;
        }
    };
    if cluster.status != ClusterStatus::Creating {
        let _ = store.finish_job(job.id);
        return;
    }
    let id = cluster.id.clone();
    if job.attempts > 1 {
        cp.event(
            SourceType::DbCluster,
            id.as_str(),
            &format!(
                "The control plane restarted while the DB cluster was being created; resuming (attempt {}).",
                job.attempts
            ),
            &["notification"],
        );
    }
    let result = match job.kind {
        JobKind::RestoreFromS3 => restore_volume(cp, &cluster, progress).await,
        JobKind::InitEmpty => init_volume(cp, &cluster).await.map(|()| None),
    };
    let result = match result {
        Ok(report) => {
            stage.store(STAGE_BOOTSTRAP, Ordering::Relaxed);
            let gtid = report
                .as_ref()
                .and_then(|r| r.gtid.clone())
                .filter(|g| !g.is_empty());
            prepare_cluster(cp, &cluster, gtid)
                .await
                .map(|()| report)
                .map_err(Failure::from)
        }
        Err(f) => Err(f),
    };
    match result {
        Ok(report) => succeed(cp, job, cluster, report),
        Err(f) => fail(cp, job, &cluster, f),
    }
}

fn succeed(cp: &ControlPlane, job: &Job, cluster: Cluster, report: Option<RestoreReport>) {
    let id = cluster.id.clone();
    // A fresh copy: tags may have been changed through the API while the job ran.
    let mut cluster = match cp.store().get_cluster(&id) {
        Ok(Some(c)) => c,
        Ok(None) => return,
        Err(e) => {
            tracing::error!(cluster = %id, error = %e, "cannot read the cluster");
            return;
        }
    };
    let mut messages = Vec::new();
    if let Some(r) = &report {
        if let (Some(file), Some(pos)) = (&r.binlog_file, r.binlog_position) {
            messages.push(format!(
                "Recovered from Binary log filename '{file}', position '{pos}'."
            ));
            cluster.recovered_binlog = Some((file.clone(), pos));
        }
        if let Some(gtid) = r.gtid.as_ref().filter(|g| !g.is_empty()) {
            messages.push(format!("Recovered from GTID '{gtid}'."));
            cluster.recovered_gtid = Some(gtid.clone());
        }
    }
    cluster.status = ClusterStatus::Available;
    // Only from `creating`: a deletion requested meanwhile wins.
    match cp
        .store()
        .transition_cluster(&cluster, &[ClusterStatus::Creating])
    {
        Ok(true) => {
            for m in &messages {
                cp.event(SourceType::DbCluster, id.as_str(), m, &["notification"]);
            }
            cp.event(
                SourceType::DbCluster,
                id.as_str(),
                "DB cluster created.",
                &["creation"],
            );
        }
        Ok(false) => {
            tracing::info!(cluster = %id, "the cluster was deleted while it was being created");
        }
        Err(e) => {
            tracing::error!(cluster = %id, error = %e, "cannot mark the cluster available");
            return;
        }
    }
    if let Err(e) = cp.store().finish_job(job.id) {
        tracing::error!(cluster = %id, error = %e, "cannot mark the job finished");
    }
    // Last: a crash before this point resumes the job, which still needs the password.
    secrets::remove_pending_master_password(cp.layout(), &id);
}

fn fail(cp: &ControlPlane, job: &Job, cluster: &Cluster, f: Failure) {
    let id = &cluster.id;
    tracing::warn!(cluster = %id, reason = %f.reason, "creating the DB cluster failed");
    let layout = cp.layout();
    for dir in [
        layout.cluster_dir(id).join(RESTORING_DIR),
        layout.cluster_dir(id).join(BOOT_DIR),
        layout.volume(id),
        layout.staging(id),
    ] {
        if dir.exists() {
            if let Err(e) = layout.remove_dir_safely(&dir) {
                tracing::error!(cluster = %id, error = %e, "cannot remove {dir}");
            }
        }
    }
    secrets::remove_pending_master_password(layout, id);
    let message = f.event.unwrap_or_else(|| match &cluster.s3_origin {
        Some(o) => format!(
            "Failed to migrate from {} {} to {id}. Reason: {}.",
            o.source_engine,
            o.source_engine_version,
            f.reason.trim_end_matches('.')
        ),
        None => format!(
            "Failed to create DB cluster {id}. Reason: {}.",
            f.reason.trim_end_matches('.')
        ),
    });
    let mut c = match cp.store().get_cluster(id) {
        Ok(Some(fresh)) => fresh,
        _ => cluster.clone(),
    };
    c.status = ClusterStatus::MigrationFailed;
    match cp
        .store()
        .transition_cluster(&c, &[ClusterStatus::Creating])
    {
        Ok(true) => cp.event(SourceType::DbCluster, id.as_str(), &message, &["failure"]),
        Ok(false) => {}
        Err(e) => tracing::error!(cluster = %id, error = %e, "cannot mark the cluster failed"),
    }
    if let Err(e) = cp.store().finish_job(job.id) {
        tracing::error!(cluster = %id, error = %e, "cannot mark the job finished");
    }
}

/// Restores the cluster's volume from its S3 origin; returns the pipeline's report.
async fn restore_volume(
    cp: &ControlPlane,
    cluster: &Cluster,
    progress: Arc<Progress>,
) -> Result<Option<RestoreReport>, Failure> {
    let layout = cp.layout();
    let id = &cluster.id;
    let origin = cluster
        .s3_origin
        .as_ref()
        .ok_or_else(|| Failure::new("the cluster has no S3 origin recorded"))?;
    let volume = layout.volume(id);
    let report_path = layout.cluster_dir(id).join(REPORT_FILE);
    if volume.exists() {
        // A previous run finished restoring before the control plane stopped.
        let text = std::fs::read_to_string(&report_path)
            .map_err(|e| Failure::new(format!("read {report_path}: {e}")))?;
        let report: RestoreReport = serde_json::from_str(&text)
            .map_err(|e| Failure::new(format!("read {report_path}: {e}")))?;
        return Ok(Some(report));
    }
    let restoring = layout.cluster_dir(id).join(RESTORING_DIR);
    if restoring.exists() {
        layout
            .remove_dir_safely(&restoring)
            .map_err(|e| Failure::new(format!("remove {restoring}: {e}")))?;
    }
    let bucket_unreachable = || {
        format!(
            "Amazon RDS has been unable to create credentials to access your Amazon S3 Bucket for your DB cluster {id}. This is due to the S3 snapshot ingestion IAM role not being configured correctly in your account or the specified Amazon S3 bucket cannot be found. Please refer to the troubleshooting section in the Amazon RDS documentation for further details."
        )
    };
    let (url, s3) = cp
        .config()
        .bucket_source(&origin.bucket, &origin.prefix)
        .map_err(|e| Failure {
            reason: e.to_string(),
            event: Some(bucket_unreachable()),
        })?;
    let source = Source::open(&url, &s3).map_err(|e| Failure {
        reason: e.to_string(),
        event: Some(format!("{} ({e})", bucket_unreachable())),
    })?;
    cp.event(
        SourceType::DbCluster,
        id.as_str(),
        &format!("Restoring the DB cluster from {}.", describe_origin(origin)),
        &["notification"],
    );
    let mut opts = RestoreOptions::new(restoring.as_std_path());
    opts.staging_dir = Some(layout.staging(id).into_std_path_buf());

    // Aborted with the job too (dropping a JoinHandle would detach the task instead).
    let watcher = AbortOnDrop(tokio::spawn(announce_phases(
        cp.clone(),
        id.clone(),
        progress.clone(),
    )));
    let result = ferry_restore::restore(&source, &opts, progress.clone()).await;
    drop(watcher);
    let report = result.map_err(|e| match e {
        // The bucket could not be listed at all: RDS's "unable to access your bucket" event.
        ferry_restore::RestoreError::List { .. } | ferry_restore::RestoreError::Store { .. } => {
            Failure {
                event: Some(format!("{} ({e})", bucket_unreachable())),
                reason: e.to_string(),
            }
        }
        other => Failure::new(other.to_string()),
    })?;

    check_source_version(origin, &report).map_err(Failure::new)?;
    let text = serde_json::to_string_pretty(&report)
        .map_err(|e| Failure::new(format!("serialize the restore report: {e}")))?;
    ferry_base::fs::write_private_file(&report_path, text.as_bytes())
        .map_err(|e| Failure::new(format!("write {report_path}: {e}")))?;
    std::fs::rename(&restoring, &volume)
        .map_err(|e| Failure::new(format!("rename {restoring} to {volume}: {e}")))?;
    Ok(Some(report))
}

/// A task that is aborted when this handle is dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn describe_origin(o: &crate::model::S3Origin) -> String {
    if o.prefix.is_empty() {
        format!("Amazon S3 bucket {}", o.bucket)
    } else {
        format!("Amazon S3 bucket {}, prefix {}", o.bucket, o.prefix)
    }
}

/// Emits an event each time the restore enters a new phase.
async fn announce_phases(cp: ControlPlane, id: ClusterId, progress: Arc<Progress>) {
    let mut last = None;
    loop {
        let s = progress.snapshot();
        if last != Some(s.phase) {
            last = Some(s.phase);
            let text = match s.phase {
                Phase::Listing => None,
                Phase::Download => Some(format!(
                    "Downloading and unpacking {} backup set(s) ({} MB).",
                    s.sets_total,
                    s.bytes_total.div_ceil(1_000_000)
                )),
                Phase::Prepare => Some(
                    "Preparing the backup: applying incremental backups and the redo log."
                        .to_string(),
                ),
                Phase::Finalize | Phase::Done => None,
            };
            if let Some(t) = text {
                cp.event(SourceType::DbCluster, id.as_str(), &t, &["notification"]);
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The backup's server must be of the major version the caller said (`SourceEngineVersion`).
fn check_source_version(
    origin: &crate::model::S3Origin,
    report: &RestoreReport,
) -> Result<(), String> {
    let Some(server) = &report.server_version else {
        return Ok(());
    };
    let series = |s: &str| -> Option<(u32, u32)> {
        let mut it = s
            .split(|c: char| !c.is_ascii_digit())
            .filter(|p| !p.is_empty());
        Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
    };
    let (Some(want), Some(have)) = (series(&origin.source_engine_version), series(server)) else {
        return Ok(());
    };
    if want != have {
        return Err(format!(
            "the backup was taken from server version {server} (major version {}.{}), but SourceEngineVersion is {} (major version {}.{})",
            have.0, have.1, origin.source_engine_version, want.0, want.1
        ));
    }
    Ok(())
}

/// CreateDBCluster: a fresh datadir as the volume.
async fn init_volume(cp: &ControlPlane, cluster: &Cluster) -> Result<(), Failure> {
    let layout = cp.layout();
    let volume = layout.volume(&cluster.id);
    if volume.exists() {
        return Ok(());
    }
    let restoring = layout.cluster_dir(&cluster.id).join(RESTORING_DIR);
    if restoring.exists() {
        layout
            .remove_dir_safely(&restoring)
            .map_err(|e| Failure::new(format!("remove {restoring}: {e}")))?;
    }
    let opts = ferry_engine::InitOptions {
        log_path: Some(
            layout
                .cluster_dir(&cluster.id)
                .join("install-db.log")
                .into_std_path_buf(),
        ),
        ..Default::default()
    };
    ferry_engine::init_datadir(&cp.inner.toolbox, restoring.as_std_path(), &opts)
        .await
        .map_err(|e| Failure::new(e.to_string()))?;
    std::fs::rename(&restoring, &volume)
        .map_err(|e| Failure::new(format!("rename {restoring} to {volume}: {e}")))
}

/// Starts the volume once without networking or privilege checks, creates ferry's admin
/// account, sets up the master user and loads the time zone tables, then stops it.
///
/// `gtid` is the source's GTID position at the backup: it becomes the server's
/// `gtid_slave_pos`, where `mysql.rds_set_external_master_with_auto_position` starts from.
async fn prepare_cluster(
    cp: &ControlPlane,
    cluster: &Cluster,
    gtid: Option<String>,
) -> Result<(), ControlError> {
    let layout = cp.layout();
    let id = &cluster.id;
    let password = secrets::read_pending_master_password(layout, id)?.ok_or_else(|| {
        ControlError::Internal(
            "the master user password was lost (the pending password file is missing)".into(),
        )
    })?;
    cp.event(
        SourceType::DbCluster,
        id.as_str(),
        "Starting the database engine on the cluster volume to set up the master user and time zones.",
        &["notification"],
    );
    let admin = AdminAccount::generate();
    let (server, run_dir) = start_one_off(cp, id, None).await?;
    let master = cluster.master_username.clone();
    let database = cluster.database_name.clone();
    let restored = cluster.s3_origin.is_some();
    let result = set_up_engine(
        cp.inner.toolbox.clone(),
        &server,
        &admin,
        EngineWanted {
            master,
            password,
            database,
            drop_others: !restored,
            gtid,
        },
    )
    .await;
    let stopped = server.stop(Duration::from_secs(120)).await;
    let set_up = result?;
    stopped.map_err(|e| ControlError::Internal(format!("stop the database engine: {e}")))?;
    let _ = std::fs::remove_dir_all(&run_dir);
    secrets::write_admin(layout, id, &admin)?;
    if restored && !set_up.other_accounts.is_empty() {
        const SHOWN: usize = 20;
        let n = set_up.other_accounts.len();
        let mut names = set_up.other_accounts[..n.min(SHOWN)].join(", ");
        if n > SHOWN {
            names.push_str(&format!(" and {} more", n - SHOWN));
        }
        cp.event(
            SourceType::DbCluster,
            id.as_str(),
            &format!(
                "{n} account(s) restored from the source were locked: {names}. User accounts are not carried over by a restore from Amazon S3; review them and unlock the ones to keep with ALTER USER ... ACCOUNT UNLOCK."
            ),
            &["notification"],
        );
    }
    if !set_up.time_zones_loaded {
        cp.event(
            SourceType::DbCluster,
            id.as_str(),
            &format!("Time zone tables were not loaded: {ZONEINFO} does not exist on this host."),
            &["notification"],
        );
    }
    Ok(())
}

/// What the engine set-up is to make of the volume.
struct EngineWanted {
    master: String,
    password: String,
    /// `DatabaseName`, created if set.
    database: Option<String>,
    /// Drop (fresh volume) rather than lock (restored) the accounts ferry did not make.
    drop_others: bool,
    /// The GTID recovered from the backup, for `gtid_slave_pos`.
    gtid: Option<String>,
}

/// What the engine set-up did beyond the master user.
struct EngineSetUp {
    time_zones_loaded: bool,
    /// Accounts other than the master user and ferry's, `'user'@'host'`: locked on a
    /// restored volume, dropped on a fresh one.
    other_accounts: Vec<String>,
}

/// ferry's admin account, the master user, the initial database (`DatabaseName`), the other
/// accounts closed, and the time zones, on a server started with `skip_grant_tables`.
///
/// Other accounts: a fresh datadir has `root` without a password on 127.0.0.1 and ::1, which
/// must not survive; a restored one carries the source's accounts, which RDS does not carry
/// over. They are dropped (fresh) or locked (restored: they stay as definers of views and
/// routines, and the master user can review and unlock them).
async fn set_up_engine(
    toolbox: ferry_engine::Toolbox,
    server: &ferry_engine::RunningServer,
    admin: &AdminAccount,
    wanted: EngineWanted,
) -> Result<EngineSetUp, ControlError> {
    let EngineWanted {
        master,
        password,
        database,
        drop_others,
        gtid,
    } = wanted;
    use mysql_async::prelude::Queryable;
    let sql_err = |action: &'static str| {
        let endpoint = server.socket().to_string();
        move |source| ferry_engine::EngineError::Sql {
            endpoint: endpoint.clone(),
            action,
            source,
        }
    };
    accounts::bootstrap_admin(server, admin).await?;
    let mut conn = server
        .connect(&admin.user, Some(admin.password.expose()))
        .await?;
    set_master_user(&mut conn, &master, &password).await?;
    if let Some(gtid) = gtid {
        // A fresh server has no replica configured, so the position can be set.
        conn.exec_drop("SET GLOBAL gtid_slave_pos = ?", (gtid.as_str(),))
            .await
            .map_err(sql_err(
                "set gtid_slave_pos to the GTID recovered from the backup",
            ))?;
    }
    if let Some(db) = database {
        // `DatabaseName`: validated as letters, digits and underscores, so quoting is plain.
        conn.query_drop(format!("CREATE DATABASE IF NOT EXISTS `{db}`"))
            .await
            .map_err(sql_err("create the cluster's initial database"))?;
    }
    let others: Vec<(String, String)> = conn
        .exec(
            "SELECT User, Host FROM mysql.global_priv \
             WHERE NOT (User = ? AND Host = 'localhost') AND NOT (User = ? AND Host = '%') \
               AND NOT (User = 'mariadb.sys' AND Host = 'localhost') \
               AND NOT (User = 'PUBLIC' AND Host = '') \
               AND IFNULL(JSON_VALUE(Priv, '$.is_role'), 'false') <> 'true' \
             ORDER BY User, Host",
            (admin.user.as_str(), master.as_str()),
        )
        .await
        .map_err(sql_err("list the other accounts"))?;
    let mut closed = Vec::new();
    for (user, host) in others {
        let account = format!(
            "{}@{}",
            mysql_async::Value::from(user.as_str()).as_sql(false),
            mysql_async::Value::from(host.as_str()).as_sql(false)
        );
        if drop_others {
            // Rows, not DROP USER: accounts with a host name are not loaded under
            // skip-name-resolve, and DROP USER refuses what is not loaded.
            conn.exec_drop(
                "DELETE FROM mysql.global_priv WHERE User = ? AND Host = ?",
                (user.as_str(), host.as_str()),
            )
            .await
            .map_err(sql_err("drop an account the cluster does not need"))?;
            closed.push(account);
            continue;
        }
        match conn
            .query_drop(format!("ALTER USER {account} ACCOUNT LOCK"))
            .await
        {
            Ok(()) => closed.push(account),
            // ER_CANNOT_USER: an account with a host name, not loaded under
            // skip-name-resolve (ferry's servers always run with it), so it can never log in.
            Err(mysql_async::Error::Server(e)) if e.code == 1396 => {}
            Err(e) => return Err(sql_err("lock an account the cluster does not need")(e).into()),
        }
    }
    if drop_others {
        conn.query_drop("FLUSH PRIVILEGES")
            .await
            .map_err(sql_err("reload the privilege tables"))?;
    }
    drop(conn);
    let zoneinfo = std::path::Path::new(ZONEINFO);
    let time_zones_loaded = zoneinfo.is_dir();
    if time_zones_loaded {
        accounts::load_time_zones(&toolbox, server, admin, zoneinfo).await?;
    }
    Ok(EngineSetUp {
        time_zones_loaded,
        other_accounts: closed,
    })
}

/// Starts a one-off server on the cluster's volume: socket only, in the boot run dir. With
/// `admin`, privileges are checked and the readiness probe logs in as ferry's admin; without,
/// the server runs with `skip-grant-tables` (for setting up accounts ferry does not know).
async fn start_one_off(
    cp: &ControlPlane,
    id: &ClusterId,
    admin: Option<&AdminAccount>,
) -> Result<(ferry_engine::RunningServer, Utf8PathBuf), ControlError> {
    let run_dir = boot_dir(cp, id).await?;
    let mut cfg = ServerConfig::new(cp.layout().volume(id), &run_dir, 0);
    cfg.skip_networking = true;
    cfg.skip_grant_tables = admin.is_none();
    let files =
        supervisor::private_dir(&cp.layout().cluster_files(id)).map_err(ControlError::Internal)?;
    cfg.extra
        .push(("secure-file-priv".to_string(), files.to_string()));
    cp.hand_over(&mut cfg, id)?;
    let probe = match admin {
        Some(a) => ReadyProbe::user(a.user.clone(), Some(a.password.clone())),
        None => ReadyProbe::root(),
    };
    let server = Server::start(
        &cp.inner.toolbox,
        &cfg,
        run_dir.as_std_path(),
        probe,
        Duration::from_secs(600),
    )
    .await
    .map_err(|e| ControlError::Internal(format!("start the database engine: {}", flatten(&e))))?;
    Ok((server, run_dir))
}

/// The run dir for a one-off server on the cluster's volume, with any process left by an
/// earlier control plane in it stopped first.
async fn boot_dir(cp: &ControlPlane, id: &ClusterId) -> Result<Utf8PathBuf, ControlError> {
    let dir = cp.layout().cluster_dir(id).join(BOOT_DIR);
    supervisor::stop_stale_server(&dir).await;
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .map_err(|e| ControlError::Internal(format!("remove {dir}: {e}")))?;
    }
    std::fs::create_dir_all(&dir)
        .map_err(|e| ControlError::Internal(format!("create {dir}: {e}")))?;
    Ok(dir)
}

/// Re-creates ferry's admin account on a cluster whose server refused it (the master user
/// holds CREATE USER and can alter or drop any account, ferry's included): one start with
/// `skip-grant-tables` and no networking, a new admin with a new password, stop.
pub(crate) async fn repair_admin(
    cp: &ControlPlane,
    id: &ClusterId,
) -> Result<AdminAccount, ControlError> {
    let layout = cp.layout();
    let engine_err = |e: ferry_engine::EngineError| ControlError::Internal(flatten(&e));
    let (server, run_dir) = start_one_off(cp, id, None).await?;
    let admin = AdminAccount::generate();
    let result = accounts::bootstrap_admin(&server, &admin).await;
    let stopped = server.stop(Duration::from_secs(120)).await;
    let _ = std::fs::remove_dir_all(&run_dir);
    result.map_err(engine_err)?;
    stopped.map_err(engine_err)?;
    secrets::write_admin(layout, id, &admin)?;
    cp.event(
        SourceType::DbCluster,
        id.as_str(),
        "ferry's administrative account on the cluster had been changed or removed; it was re-created.",
        &["notification"],
    );
    Ok(admin)
}

/// ModifyDBCluster(MasterUserPassword): through the running writer if there is one, else a
/// one-off socket-only server on the volume. Like RDS, resetting the master password also
/// restores the master user's privileges (and re-creates it if it was dropped).
pub(crate) async fn reset_master_password(
    cp: &ControlPlane,
    cluster: &Cluster,
    password: &str,
) -> Result<(), ControlError> {
    let admin = secrets::read_admin(cp.layout(), &cluster.id)?;
    let engine_err = |e: ferry_engine::EngineError| ControlError::Internal(flatten(&e));
    let running = cp
        .inner
        .supervisor
        .admin_conn(&cluster.id, &admin)
        .await
        .map_err(|e| {
            ControlError::InvalidClusterState(format!(
                "ferry cannot log in to the running instance of DB cluster {} ({e}); its administrative account was changed from inside. Delete and re-create the instance (ferry repairs the account when the server starts), then retry.",
                cluster.id
            ))
        })?;
    if let Some(mut conn) = running {
        return set_master_user(&mut conn, &cluster.master_username, password).await;
    }
    let (server, run_dir) = start_one_off(cp, &cluster.id, Some(&admin)).await?;
    let result = async {
        let mut conn = server
            .connect(&admin.user, Some(admin.password.expose()))
            .await?;
        set_master_user(&mut conn, &cluster.master_username, password).await
    }
    .await;
    let stopped = server.stop(Duration::from_secs(120)).await;
    let _ = std::fs::remove_dir_all(&run_dir);
    result?;
    stopped.map_err(engine_err)?;
    Ok(())
}

/// The master user with RDS's privileges and `EXECUTE` on the `mysql.rds_*` procedures, which
/// are installed (or brought up to date) first: a grant needs its routine to exist.
pub(crate) async fn set_master_user(
    conn: &mut mysql_async::Conn,
    user: &str,
    password: &str,
) -> Result<(), ControlError> {
    ferry_replication::procedures::install(conn, &[]).await?;
    accounts::set_master_user(
        conn,
        user,
        password,
        ferry_replication::procedures::PROCEDURES,
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(v: &str) -> crate::model::S3Origin {
        crate::model::S3Origin {
            bucket: "b".into(),
            prefix: String::new(),
            ingestion_role_arn: "arn:aws:iam::000000000000:role/r".into(),
            source_engine: "mysql".into(),
            source_engine_version: v.into(),
        }
    }

    fn report(server: &str) -> RestoreReport {
        serde_json::from_value(serde_json::json!({
            "target_dir": "/x", "chain": [], "notes": [], "warnings": [],
            "binlog_file": null, "binlog_position": null, "binlog_source": null,
            "innodb_binlog_file": null, "innodb_binlog_position": null, "gtid": null,
            "server_version": server, "bytes_downloaded": 0, "bytes_reused": 0,
            "retries": 0, "elapsed_secs": 0.0
        }))
        .expect("report json")
    }

    #[test]
    fn source_version_must_match_major() {
        let r = report("10.11.6-MariaDB-0+deb12u1-log");
        assert!(check_source_version(&origin("10.11"), &r).is_ok());
        assert!(check_source_version(&origin("10.11.14"), &r).is_ok());
        let err = check_source_version(&origin("8.0.28"), &r).unwrap_err();
        assert!(err.contains("major version 10.11"), "{err}");
        assert!(err.contains("SourceEngineVersion is 8.0.28"), "{err}");
    }
}
