//! Jobs: background work that must survive a restart of `ferry serve`. A job is unfinished
//! (listed by [`Store::pending_jobs`]) until [`Store::finish_job`]; every (re)start of it counts an attempt, so the runner can tell a
//! first run from a resumption after a crash. Its lifecycle ([`JobStatus`]: pending, started,
//! finished) is derived from `attempts` and `finished_at` and moves only along
//! [`JobStatus::TRANSITIONS`].

use rusqlite::{params, Connection, OptionalExtension};

use super::{now, to_nanos, Context, ObjectKind, Store, StoreError};
use crate::model::{ClusterId, Job, JobKind, JobStatus, Lifecycle as _};

impl Store {
    /// Jobs not finished yet (pending or started), oldest first.
    pub fn pending_jobs(&self) -> Result<Vec<Job>, StoreError> {
        let ctx = || "list pending jobs".to_string();
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, cluster_id, kind, attempts FROM jobs
                 WHERE finished_at IS NULL ORDER BY id",
            )
            .ctx(ctx)?;
        let rows = stmt.query_map([], raw_job).ctx(ctx)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(job(row.ctx(ctx)?)?);
        }
        Ok(out)
    }

    /// Counts a start of a job and returns it: the edge to `started` of
    /// [`JobStatus::TRANSITIONS`]. `NotFound` if there is no such job to start (never
    /// created, finished, or gone with its cluster).
    pub fn start_job(&self, id: i64) -> Result<Job, StoreError> {
        match self.transition_job(id, JobStatus::Started)? {
            Some(raw) => job(raw),
            None => Err(StoreError::NotFound {
                kind: ObjectKind::Job,
                id: id.to_string(),
            }),
        }
    }

    /// Marks a job done (whatever its outcome: the cluster's status tells that). Finishing a
    /// finished job is a no-op; `NotFound` if there is no such job.
    pub fn finish_job(&self, id: i64) -> Result<(), StoreError> {
        if self.transition_job(id, JobStatus::Finished)?.is_some() {
            return Ok(());
        }
        match self.job_status(id)? {
            // Finished already.
            Some(_) => Ok(()),
            None => Err(StoreError::NotFound {
                kind: ObjectKind::Job,
                id: id.to_string(),
            }),
        }
    }

    /// Moves a job to `to` if [`JobStatus::TRANSITIONS`] has the edge from its current status
    /// (derived from its columns, in the same statement: compare-and-set). Returns the job as
    /// written, or `None` (the row unchanged) when the edge is not in the table or there is no
    /// such job.
    pub(super) fn transition_job(
        &self,
        id: i64,
        to: JobStatus,
    ) -> Result<Option<RawJob>, StoreError> {
        let (attempts, finished_at) = match to {
            JobStatus::Pending => ("0", None),
            JobStatus::Started => ("attempts + 1", None),
            JobStatus::Finished => ("attempts", Some(to_nanos(now()))),
        };
        let from = serde_json::Value::from(
            JobStatus::sources(to)
                .map(JobStatus::as_str)
                .collect::<Vec<_>>(),
        )
        .to_string();
        let sql = format!(
            "UPDATE jobs SET attempts = {attempts}, finished_at = ?2
             WHERE id = ?1 AND {JOB_STATUS} IN (SELECT value FROM json_each(?3))
             RETURNING id, cluster_id, kind, attempts"
        );
        self.conn()
            .prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_row(params![id, finished_at, from], raw_job)
                    .optional()
            })
            .ctx(|| format!("move job {id} to {}", to.as_str()))
    }

    /// Where a job is in its lifecycle; `None` if there is no such job.
    pub(super) fn job_status(&self, id: i64) -> Result<Option<JobStatus>, StoreError> {
        let status: Option<String> = self
            .conn()
            .prepare_cached(&format!("SELECT {JOB_STATUS} FROM jobs WHERE id = ?1"))
            .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())
            .ctx(|| format!("read job {id}"))?;
        status
            .map(|s| {
                JobStatus::parse(&s).ok_or_else(|| StoreError::Corrupt {
                    what: format!("job {id}"),
                    reason: format!("unknown job status {s:?}"),
                })
            })
            .transpose()
    }
}

/// A job's [`JobStatus`], as SQL over its row: it has no column of its own.
const JOB_STATUS: &str = "(CASE WHEN finished_at IS NOT NULL THEN 'finished' \
     WHEN attempts = 0 THEN 'pending' ELSE 'started' END)";

/// Inserts a pending job with no attempts yet.
pub(super) fn insert_job(
    conn: &Connection,
    cluster: &ClusterId,
    kind: JobKind,
) -> Result<Job, StoreError> {
    conn.prepare_cached(
        "INSERT INTO jobs (cluster_id, kind, attempts, created_at) VALUES (?1, ?2, 0, ?3)",
    )
    .and_then(|mut s| s.execute(params![cluster.as_str(), kind.as_str(), to_nanos(now())]))
    .ctx(|| format!("add a {} job for DB cluster '{cluster}'", kind.as_str()))?;
    Ok(Job {
        id: conn.last_insert_rowid(),
        cluster_id: cluster.clone(),
        kind,
        attempts: 0,
    })
}

type RawJob = (i64, String, String, u32);

fn raw_job(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawJob> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn job((id, cluster, kind, attempts): RawJob) -> Result<Job, StoreError> {
    let kind = JobKind::parse(&kind).ok_or_else(|| StoreError::Corrupt {
        what: format!("job {id}"),
        reason: format!("unknown job kind {kind:?}"),
    })?;
    Ok(Job {
        id,
        cluster_id: ClusterId::new_unchecked(cluster),
        kind,
        attempts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::cluster;

    #[test]
    fn a_job_runs_until_finished_and_counts_its_attempts() {
        let store = Store::open_in_memory().unwrap();
        let job = store
            .insert_cluster(&cluster("c1", 3306), Some(JobKind::RestoreFromS3), None)
            .unwrap()
            .unwrap();
        let other = store
            .insert_cluster(&cluster("c2", 3307), Some(JobKind::InitEmpty), None)
            .unwrap()
            .unwrap();
        assert_eq!(
            store.pending_jobs().unwrap(),
            vec![job.clone(), other.clone()]
        );

        assert_eq!(store.start_job(job.id).unwrap().attempts, 1);
        // A restart of ferry serve starts it again.
        let again = store.start_job(job.id).unwrap();
        assert_eq!(again.attempts, 2);
        assert_eq!(store.pending_jobs().unwrap()[0].attempts, 2);

        store.finish_job(job.id).unwrap();
        store.finish_job(job.id).unwrap();
        assert_eq!(store.pending_jobs().unwrap(), vec![other]);
        let err = store.start_job(job.id).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::NotFound {
                    kind: ObjectKind::Job,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(err.to_string(), format!("job '{}' not found", job.id));
        assert!(store.finish_job(9999).is_err());
    }

    #[test]
    fn an_unknown_job_kind_is_corrupt() {
        let store = Store::open_in_memory().unwrap();
        store
            .insert_cluster(&cluster("c1", 3306), Some(JobKind::InitEmpty), None)
            .unwrap();
        store
            .conn()
            .execute("UPDATE jobs SET kind = 'teleport'", [])
            .unwrap();
        let err = store.pending_jobs().unwrap_err();
        assert!(
            err.to_string().contains("unknown job kind \"teleport\""),
            "{err}"
        );
    }
}
