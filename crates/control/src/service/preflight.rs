//! The pre-flight of a restore from S3, which the console's wizard shows before its Launch
//! button: the checks `RestoreDBClusterFromS3` makes before it creates anything, each with its
//! outcome, and the plan `ferry backup inspect` would print (sets, chain order, sizes, binlog
//! position, problems), read through the ingestion role exactly as the restore job would
//! read it. Nothing is created or changed; a failed check says what to fix.
//!
//! The caller's own permissions (`rds:RestoreDBClusterFromS3`, `iam:PassRole`) are the API
//! handler's to ask (it owns the request's condition keys); this part is what the control
//! plane knows: the identifier, the role, the bucket and the backup.

use std::sync::Arc;
use std::time::Duration;

pub use ferry_restore::InspectReport;
use ferry_restore::{FetchOptions, Progress, Source};

use super::ControlPlane;
use crate::error::ControlError;
use crate::requests::RestoreFromS3Request;

/// How long reading the backup's metadata may take before the pre-flight says so.
const INSPECT_TIMEOUT: Duration = Duration::from_secs(60);

/// One check and how it came out: `Err` holds what is wrong, in the API's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreflightCheck {
    pub what: String,
    pub outcome: Result<(), String>,
}

#[derive(Debug, Clone)]
pub struct Preflight {
    pub checks: Vec<PreflightCheck>,
    /// The inspect plan, when the role let ferry list and read the prefix.
    pub plan: Option<InspectReport>,
}

impl Preflight {
    /// Every check passed and the backup is restorable.
    pub fn ready(&self) -> bool {
        self.checks.iter().all(|c| c.outcome.is_ok())
            && self.plan.as_ref().is_some_and(|p| p.restorable)
    }
}

/// Whether `e` says what is wrong with the request (a finding to show), not that ferry failed.
fn is_finding(e: &ControlError) -> bool {
    matches!(
        e,
        ControlError::ClusterAlreadyExists(_)
            | ControlError::Validation(_)
            | ControlError::InvalidS3Bucket(_)
            | ControlError::AccessDenied { .. }
    )
}

impl ControlPlane {
    /// Runs the pre-flight of `req` (see the module documentation).
    pub async fn preflight_restore(
        &self,
        req: &RestoreFromS3Request,
    ) -> Result<Preflight, ControlError> {
        let mut checks = Vec::new();
        let mut check = |what: String, r: Result<(), ControlError>| -> Result<bool, ControlError> {
            let outcome = match r {
                Ok(()) => Ok(()),
                Err(e) if is_finding(&e) => Err(e.to_string()),
                // A failure inside ferry is not a finding about the request.
                Err(e) => return Err(e),
            };
            let ok = outcome.is_ok();
            checks.push(PreflightCheck { what, outcome });
            Ok(ok)
        };
        let location = if req.prefix.is_empty() {
            format!("s3://{}", req.bucket)
        } else {
            format!("s3://{}/{}", req.bucket, req.prefix)
        };
        let mut ok = check(
            format!("no cluster is named {}", req.id),
            self.refuse_existing(&req.id),
        )?;
        ok &= check(
            format!(
                "the role {} trusts rds.amazonaws.com and may list {location}",
                req.ingestion_role_arn
            ),
            self.check_ingestion_role(&req.ingestion_role_arn, &req.bucket, &req.prefix),
        )?;
        let mapped = self.bucket_source(&req.bucket, &req.prefix);
        let (mapped, refusal) = match mapped {
            Ok(m) => (Some(m), Ok(())),
            Err(e) => (None, Err(e)),
        };
        ok &= check(
            format!("ferry can reach the bucket {}", req.bucket),
            refusal,
        )?;
        let (true, Some((url, s3))) = (ok, mapped) else {
            return Ok(Preflight { checks, plan: None });
        };
        let origin = req.origin();
        let what = format!(
            "the role may read every object under {location}, and the backup there is restorable"
        );
        let read = async {
            // Messages name the bucket as the caller does: a bucket ferry serves from a
            // directory must never show that directory's path.
            let source = Source::open(&url, &s3)
                .map_err(|_| format!("no backup sets found under {location} (nothing is there)"))?;
            let local = source.url.display();
            let as_asked =
                |e: ferry_restore::RestoreError| e.to_string().replace(&local, &location);
            let gate =
                crate::jobs::ingestion_gate(&self.inner.ctx, &origin).map_err(|e| e.to_string())?;
            let progress = Arc::new(Progress::new());
            match tokio::time::timeout(
                INSPECT_TIMEOUT,
                ferry_restore::inspect_with(
                    &source,
                    FetchOptions::default(),
                    progress,
                    Some(&gate),
                ),
            )
            .await
            {
                Ok(r) => r.map_err(as_asked),
                Err(_) => Err(format!(
                    "reading the backup's metadata took longer than {} s",
                    INSPECT_TIMEOUT.as_secs()
                )),
            }
        };
        let plan = match read.await {
            Ok(plan) => {
                let outcome = if plan.restorable {
                    Ok(())
                } else {
                    Err(plan.problems.join("; "))
                };
                checks.push(PreflightCheck { what, outcome });
                Some(plan)
            }
            Err(reason) => {
                checks.push(PreflightCheck {
                    what,
                    outcome: Err(reason),
                });
                None
            }
        };
        Ok(Preflight { checks, plan })
    }
}
