//! The volume a creation job builds: restored from the cluster's S3 origin, or a fresh
//! datadir for an empty cluster. Both are built in `restoring/` and renamed to `volume/` when
//! complete.

use std::sync::Arc;
use std::time::Duration;

use ferry_base::version::ServerVersion;
use ferry_restore::listing::ObjectGate;
use ferry_restore::{Phase, Progress, RestoreOptions, RestoreReport, Source};
use tokio::task::JoinHandle;

use super::JobError;
use crate::ctx::Ctx;
use crate::error::ControlError;
use crate::events::ClusterEvent;
use crate::model::{Cluster, ClusterId, S3Origin};

/// The ingestion role as it is now (it may have changed since the API call), and a gate that
/// lets the restore read an object only when the role's policies allow `s3:GetObject` on it.
pub(crate) fn ingestion_gate(ctx: &Arc<Ctx>, origin: &S3Origin) -> Result<ObjectGate, JobError> {
    let role = ctx
        .authz
        .ingestion_role(&ctx.store, &origin.ingestion_role_arn)?
        .map_err(JobError::IngestionRole)?;
    if let Err(refusal) =
        ctx.authz
            .ingestion_may_list(&ctx.store, &role, &origin.bucket, &origin.prefix)?
    {
        return Err(JobError::IngestionRole(refusal));
    }
    let ctx = ctx.clone();
    let bucket = origin.bucket.clone();
    let prefix = origin.prefix.trim_end_matches('/').to_string();
    Ok(ObjectGate(Arc::new(move |key: &str| {
        let full = if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}/{key}")
        };
        match ctx
            .authz
            .ingestion_may_read(&ctx.store, &role, &bucket, &full)
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(refusal)) => Err(refusal.to_string()),
            Err(e) => Err(format!(
                "its policies could not be read: {}",
                ferry_base::error::flatten(&e)
            )),
        }
    })))
}

/// Restores the cluster's volume from its S3 origin; returns the pipeline's report.
pub(super) async fn restore_volume(
    ctx: &Arc<Ctx>,
    cluster: &Cluster,
    progress: Arc<Progress>,
) -> Result<Option<RestoreReport>, JobError> {
    let layout = &ctx.layout;
    let id = &cluster.id;
    let origin = cluster.s3_origin.as_ref().ok_or(JobError::NoOrigin)?;
    let volume = layout.volume(id);
    let report_path = layout.restore_report(id);
    if volume.exists() {
        // A previous run finished restoring before the control plane stopped.
        let text = std::fs::read_to_string(&report_path)
            .map_err(ControlError::io("read", &report_path))?;
        let report: RestoreReport =
            serde_json::from_str(&text).map_err(|source| JobError::Report {
                action: "read",
                path: report_path.clone(),
                source,
            })?;
        return Ok(Some(report));
    }
    let restoring = layout.restoring(id);
    if restoring.exists() {
        layout
            .remove_dir_safely(&restoring)
            .map_err(ControlError::io("remove", &restoring))?;
    }
    let (url, s3) = ctx
        .config
        .bucket_source(&origin.bucket, &origin.prefix)
        .map_err(JobError::BucketNotMapped)?;
    let source = Source::open(&url, &s3).map_err(JobError::BucketUnreachable)?;
    ctx.cluster_event(id, ClusterEvent::Restoring { origin });
    let mut opts = RestoreOptions::new(restoring.as_std_path());
    opts.staging_dir = Some(layout.staging(id).into_std_path_buf());
    opts.object_gate = Some(ingestion_gate(ctx, origin)?);

    // Aborted with the job too (dropping a JoinHandle would detach the task instead).
    let watcher = AbortOnDrop(tokio::spawn(announce_phases(
        ctx.clone(),
        id.clone(),
        progress.clone(),
    )));
    let result = ferry_restore::restore(&source, &opts, progress.clone()).await;
    drop(watcher);
    let report = result.map_err(|e| match e {
        // The bucket could not be listed at all: RDS's "unable to access your bucket" event.
        // ... or the ingestion role may not read an object: the same event, with the reason.
        ferry_restore::RestoreError::List { .. }
        | ferry_restore::RestoreError::Store { .. }
        | ferry_restore::RestoreError::Refused { .. } => JobError::BucketUnreachable(e),
        other => JobError::Restore(other),
    })?;

    check_source_version(origin, &report)?;
    let text = serde_json::to_string_pretty(&report).map_err(|source| JobError::Report {
        action: "encode",
        path: report_path.clone(),
        source,
    })?;
    ferry_base::fs::write_private_file(&report_path, text.as_bytes())
        .map_err(ControlError::io("write", &report_path))?;
    ferry_base::fail_point!("restore.after-report");
    std::fs::rename(&restoring, &volume).map_err(ControlError::io("rename", &restoring))?;
    ferry_base::fail_point!("restore.after-volume-rename");
    Ok(Some(report))
}

/// CreateDBCluster: a fresh datadir as the volume.
pub(super) async fn init_volume(ctx: &Ctx, cluster: &Cluster) -> Result<(), JobError> {
    let layout = &ctx.layout;
    let volume = layout.volume(&cluster.id);
    if volume.exists() {
        return Ok(());
    }
    let restoring = layout.restoring(&cluster.id);
    if restoring.exists() {
        layout
            .remove_dir_safely(&restoring)
            .map_err(ControlError::io("remove", &restoring))?;
    }
    let opts = ferry_engine::InitOptions {
        log_path: Some(layout.install_db_log(&cluster.id).into_std_path_buf()),
        server_args: vec![format!(
            "--innodb-log-file-size={}",
            crate::instance_class::INITIAL_REDO_LOG_BYTES
        )],
        ..Default::default()
    };
    ferry_base::fail_point!("engine.before-install-db");
    ferry_engine::init_datadir(&ctx.toolbox, restoring.as_std_path(), &opts)
        .await
        .map_err(ControlError::from)?;
    ferry_base::fail_point!("engine.after-install-db");
    std::fs::rename(&restoring, &volume).map_err(ControlError::io("rename", &restoring))?;
    Ok(())
}

/// A task that is aborted when this handle is dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Emits an event each time the restore enters a new phase.
async fn announce_phases(ctx: Arc<Ctx>, id: ClusterId, progress: Arc<Progress>) {
    let mut last = None;
    loop {
        let s = progress.snapshot();
        if last != Some(s.phase) {
            last = Some(s.phase);
            let event = match s.phase {
                Phase::Listing | Phase::Finalize | Phase::Done => None,
                Phase::Download => Some(ClusterEvent::Downloading {
                    sets: s.sets_total,
                    bytes: s.bytes_total,
                }),
                Phase::Prepare => Some(ClusterEvent::Preparing),
            };
            if let Some(event) = event {
                ctx.cluster_event(&id, event);
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The backup's server must be of the major version the caller said (`SourceEngineVersion`).
fn check_source_version(origin: &S3Origin, report: &RestoreReport) -> Result<(), JobError> {
    let Some(server) = &report.server_version else {
        return Ok(());
    };
    let series = |s: &str| ServerVersion::parse(s).ok().map(|v| v.series());
    let (Some(want), Some(have)) = (series(&origin.source_engine_version), series(server)) else {
        return Ok(());
    };
    if want != have {
        return Err(JobError::SourceVersionMismatch {
            server: server.clone(),
            have,
            wanted: origin.source_engine_version.clone(),
            want,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(v: &str) -> S3Origin {
        S3Origin {
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
        let err = check_source_version(&origin("8.0.28"), &r)
            .unwrap_err()
            .to_string();
        assert!(err.contains("major version 10.11"), "{err}");
        assert!(err.contains("SourceEngineVersion is 8.0.28"), "{err}");
    }
}
