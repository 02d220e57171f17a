//! Background jobs: restoring a cluster volume from S3 ([`restore`]), or initialising an
//! empty one, then preparing it for use ([`setup`]: ferry's admin account, the master user,
//! time zones).
//!
//! A job is recorded in the store in the same transaction as its cluster, so a restart of
//! `ferry serve` finds it and runs it again: the restore pipeline resumes from its staging
//! area (complete backup sets are not fetched again), and each later step is idempotent.
//! A restore writes into `clusters/<id>/restoring` and renames it to `volume` only after the
//! data is complete and its report is saved, so a `volume` directory always holds whole data.
//!
//! Failures end the cluster in `migration-failed` with an event naming the cause; the
//! partial data and the staging area are removed and no instance is ever started on them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use ferry_restore::{Phase, Progress, RestoreReport};
use tokio::task::JoinHandle;

use crate::ctx::Ctx;
use crate::error::ControlError;
use crate::events::ClusterEvent;
use crate::model::{Cluster, ClusterId, ClusterStatus, Job, JobKind};
use crate::secrets;

mod restore;
pub(crate) use restore::ingestion_gate;
mod setup;

const STAGE_RESTORE: u8 = 0;
const STAGE_BOOTSTRAP: u8 = 1;

/// Why a job failed. The event's wording is chosen from the variant in [`fail`].
#[derive(Debug, thiserror::Error)]
pub(crate) enum JobError {
    #[error("the cluster has no S3 origin recorded")]
    NoOrigin,
    /// The bucket is not one ferry can map to a source.
    #[error("S3 bucket")]
    BucketNotMapped(#[source] crate::config::ConfigError),
    /// The bucket could not be opened or listed at all.
    #[error("S3 bucket")]
    BucketUnreachable(#[source] ferry_restore::RestoreError),
    /// The ingestion role cannot be assumed, or may not list the bucket.
    #[error("S3 ingestion role")]
    IngestionRole(#[source] crate::auth::IngestionRefusal),
    #[error(transparent)]
    Restore(ferry_restore::RestoreError),
    #[error(
        "the backup was taken from server version {server} (major version {}.{}), but SourceEngineVersion is {wanted} (major version {}.{})",
        have.0, have.1, want.0, want.1
    )]
    SourceVersionMismatch {
        server: String,
        have: (u32, u32),
        wanted: String,
        want: (u32, u32),
    },
    #[error("{action} the restore report {path}")]
    Report {
        /// `"read"` (a resumed job's saved report) or `"encode"` (before saving it).
        action: &'static str,
        path: camino::Utf8PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("the master user password was lost (the pending password file is missing)")]
    PasswordLost,
    #[error(transparent)]
    Control(#[from] ControlError),
}

impl From<ferry_base::failpoint::Injected> for JobError {
    fn from(e: ferry_base::failpoint::Injected) -> Self {
        JobError::Control(e.into())
    }
}

/// A running job as the service sees it: its progress and a way to stop it.
struct JobHandle {
    progress: Arc<Progress>,
    stage: Arc<AtomicU8>,
    task: JoinHandle<()>,
}

impl JobHandle {
    /// `PercentProgress`: listing 1, download 2-80 by bytes, prepare 82, finalize 92, then
    /// 96 while the engine is being set up.
    fn percent(&self) -> u8 {
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
    async fn abort_and_wait(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// The jobs running in this process, one per cluster at most.
pub(crate) struct Jobs {
    ctx: Arc<Ctx>,
    running: Arc<Mutex<HashMap<ClusterId, JobHandle>>>,
}

impl Jobs {
    pub(crate) fn new(ctx: Arc<Ctx>) -> Jobs {
        Jobs {
            ctx,
            running: Arc::default(),
        }
    }

    /// Marks the job started in the store and runs it in a task.
    pub(crate) fn spawn(&self, job: Job) -> Result<(), ControlError> {
        let job = self.ctx.store.start_job(job.id)?;
        let progress = Arc::new(Progress::new());
        let stage = Arc::new(AtomicU8::new(STAGE_RESTORE));
        let id = job.cluster_id.clone();
        // Held while the task is registered, so a job that ends at once cannot remove its
        // entry before it is inserted.
        let mut running = self.running.lock().expect("jobs lock poisoned");
        let task = {
            let ctx = self.ctx.clone();
            let progress = progress.clone();
            let stage = stage.clone();
            let registry = self.running.clone();
            tokio::spawn(async move {
                let id = job.cluster_id.clone();
                run(&ctx, &job, progress, stage).await;
                registry.lock().expect("jobs lock poisoned").remove(&id);
            })
        };
        running.insert(
            id,
            JobHandle {
                progress,
                stage,
                task,
            },
        );
        Ok(())
    }

    /// `PercentProgress` of the cluster's running job (0 when none runs).
    pub(crate) fn percent(&self, id: &ClusterId) -> u8 {
        let running = self.running.lock().expect("jobs lock poisoned");
        running.get(id).map(JobHandle::percent).unwrap_or(0)
    }

    /// Where the cluster's running job is: its restore's progress and `PercentProgress`
    /// (`None` when no job runs).
    pub(crate) fn progress(
        &self,
        id: &ClusterId,
    ) -> Option<(ferry_restore::progress::Snapshot, u8, bool)> {
        let running = self.running.lock().expect("jobs lock poisoned");
        running.get(id).map(|h| {
            (
                h.progress.snapshot(),
                h.percent(),
                h.stage.load(Ordering::Relaxed) == STAGE_BOOTSTRAP,
            )
        })
    }

    /// Interrupts the cluster's job, if one runs, and waits until it is gone.
    pub(crate) async fn abort(&self, id: &ClusterId) {
        let handle = self.running.lock().expect("jobs lock poisoned").remove(id);
        if let Some(h) = handle {
            h.abort_and_wait().await;
        }
    }

    /// Interrupts every job (each resumes at the next start, from its staging).
    pub(crate) async fn abort_all(&self) {
        let handles: Vec<JobHandle> = {
            let mut running = self.running.lock().expect("jobs lock poisoned");
            running.drain().map(|(_, h)| h).collect()
        };
        for h in handles {
            h.abort_and_wait().await;
        }
    }
}

#[tracing::instrument(skip_all, fields(cluster = %job.cluster_id, job = job.kind.as_str()))]
async fn run(ctx: &Arc<Ctx>, job: &Job, progress: Arc<Progress>, stage: Arc<AtomicU8>) {
    let store = &ctx.store;
    let cluster = match store.get_cluster(&job.cluster_id) {
        Ok(Some(c)) => c,
        Ok(None) => {
            let _ = store.finish_job(job.id);
            return;
        }
        Err(e) => {
            tracing::error!(error = %ferry_base::error::flatten(&e), "cannot read the cluster for its job");
            return;
        }
    };
    if cluster.status != ClusterStatus::Creating {
        let _ = store.finish_job(job.id);
        return;
    }
    if job.attempts > 1 {
        ctx.cluster_event(
            &cluster.id,
            ClusterEvent::JobResumed {
                attempt: job.attempts,
            },
        );
    }
    let result = match job.kind {
        JobKind::RestoreFromS3 => restore::restore_volume(ctx, &cluster, progress).await,
        JobKind::InitEmpty => restore::init_volume(ctx, &cluster).await.map(|()| None),
    };
    let result = match result {
        Ok(report) => {
            stage.store(STAGE_BOOTSTRAP, Ordering::Relaxed);
            let gtid = report
                .as_ref()
                .and_then(|r| r.gtid.clone())
                .filter(|g| !g.is_empty());
            setup::prepare_cluster(ctx, &cluster, gtid)
                .await
                .map(|()| report)
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(report) => succeed(ctx, job, cluster, report),
        Err(e) => fail(ctx, job, &cluster, e),
    }
}

fn succeed(ctx: &Ctx, job: &Job, cluster: Cluster, report: Option<RestoreReport>) {
    let id = cluster.id.clone();
    // A fresh copy: tags may have been changed through the API while the job ran.
    let mut cluster = match ctx.store.get_cluster(&id) {
        Ok(Some(c)) => c,
        Ok(None) => return,
        Err(e) => {
            tracing::error!(error = %ferry_base::error::flatten(&e), "cannot read the cluster");
            return;
        }
    };
    if let Some(r) = &report {
        if let (Some(file), Some(pos)) = (&r.binlog_file, r.binlog_position) {
            cluster.recovered_binlog = Some((file.clone(), pos));
        }
        if let Some(gtid) = r.gtid.as_ref().filter(|g| !g.is_empty()) {
            cluster.recovered_gtid = Some(gtid.clone());
        }
    }
    cluster.status = ClusterStatus::Available;
    ferry_base::fail_point!("job.before-available", return);
    // Only from `creating` (the table's other way in, from resetting-master-credentials, needs
    // an available cluster): a deletion requested meanwhile wins.
    match ctx.store.transition_cluster(&cluster) {
        Ok(true) => {
            if let Some((file, position)) = &cluster.recovered_binlog {
                ctx.cluster_event(
                    &id,
                    ClusterEvent::Recovered {
                        file,
                        position: *position,
                    },
                );
            }
            if let Some(gtid) = &cluster.recovered_gtid {
                ctx.cluster_event(&id, ClusterEvent::RecoveredGtid { gtid });
            }
            ctx.cluster_event(&id, ClusterEvent::Created);
        }
        Ok(false) => {
            tracing::info!("the cluster was deleted while it was being created");
        }
        Err(e) => {
            tracing::error!(error = %ferry_base::error::flatten(&e), "cannot mark the cluster available");
            return;
        }
    }
    ferry_base::fail_point!("job.after-available", return);
    if let Err(e) = ctx.store.finish_job(job.id) {
        tracing::error!(error = %ferry_base::error::flatten(&e), "cannot mark the job finished");
    }
    // Last: a crash before this point resumes the job, which still needs the password.
    secrets::remove_pending_master_password(&ctx.layout, &id);
}

fn fail(ctx: &Ctx, job: &Job, cluster: &Cluster, error: JobError) {
    let id = &cluster.id;
    tracing::warn!(reason = %ferry_base::error::flatten(&error), "creating the DB cluster failed");
    let layout = &ctx.layout;
    for dir in [
        layout.restoring(id),
        layout.boot_dir(id),
        layout.volume(id),
        layout.staging(id),
    ] {
        if dir.exists() {
            if let Err(e) = layout.remove_dir_safely(&dir) {
                tracing::error!(error = %e, "cannot remove {dir}");
            }
        }
    }
    secrets::remove_pending_master_password(layout, id);
    let event = match &error {
        JobError::BucketNotMapped(_) => ClusterEvent::BucketUnreachable { id, cause: None },
        JobError::BucketUnreachable(cause) => ClusterEvent::BucketUnreachable {
            id,
            cause: Some(cause),
        },
        JobError::IngestionRole(cause) => ClusterEvent::BucketUnreachable {
            id,
            cause: Some(cause),
        },
        _ => ClusterEvent::CreateFailed {
            id,
            origin: cluster.s3_origin.as_ref(),
            data_dir: layout.root(),
            reason: &error,
        },
    };
    let mut c = match ctx.store.get_cluster(id) {
        Ok(Some(fresh)) => fresh,
        _ => cluster.clone(),
    };
    c.status = ClusterStatus::MigrationFailed;
    ferry_base::fail_point!("job.before-failed", return);
    // Only from `creating` (the table's one way in): a deletion requested meanwhile wins.
    match ctx.store.transition_cluster(&c) {
        Ok(true) => ctx.cluster_event(id, event),
        Ok(false) => {}
        Err(e) => {
            tracing::error!(error = %ferry_base::error::flatten(&e), "cannot mark the cluster failed")
        }
    }
    if let Err(e) = ctx.store.finish_job(job.id) {
        tracing::error!(error = %ferry_base::error::flatten(&e), "cannot mark the job finished");
    }
}
