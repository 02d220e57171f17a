//! Jobs: background work that must survive a restart of `ferry serve`. A job is pending until
//! [`Store::finish_job`]; every (re)start of it counts an attempt, so the runner can tell a
//! first run from a resumption after a crash.

use rusqlite::{params, Connection, OptionalExtension};

use super::{now, to_nanos, Context, ObjectKind, Store, StoreError};
use crate::model::{ClusterId, Job, JobKind};

impl Store {
    /// Jobs not finished yet, oldest first.
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

    /// Counts a start of a pending job and returns it. `NotFound` if there is no such pending
    /// job (never created, finished, or gone with its cluster).
    pub fn start_job(&self, id: i64) -> Result<Job, StoreError> {
        let ctx = || format!("start job {id}");
        let conn = self.conn();
        let row = conn
            .prepare_cached(
                "UPDATE jobs SET attempts = attempts + 1 WHERE id = ?1 AND finished_at IS NULL
                 RETURNING id, cluster_id, kind, attempts",
            )
            .and_then(|mut s| s.query_row([id], raw_job).optional())
            .ctx(ctx)?;
        match row {
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
        let ctx = || format!("finish job {id}");
        let conn = self.conn();
        conn.execute(
            "UPDATE jobs SET finished_at = ?2 WHERE id = ?1 AND finished_at IS NULL",
            params![id, to_nanos(now())],
        )
        .ctx(ctx)?;
        let exists = conn
            .query_row("SELECT 1 FROM jobs WHERE id = ?1", [id], |_| Ok(()))
            .optional()
            .ctx(ctx)?
            .is_some();
        if exists {
            Ok(())
        } else {
            Err(StoreError::NotFound {
                kind: ObjectKind::Job,
                id: id.to_string(),
            })
        }
    }
}

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
