//! The store enforces the lifecycle tables of [`crate::model`]: over the whole product of
//! states, every edge of a table is applied and every other `(from, to)` pair is refused,
//! leaving the row as it was; a write that keeps the status never changes one.

use super::tests::{cluster, instance};
use super::Store;
use crate::model::{ClusterStatus, InstanceStatus, JobKind, JobStatus, Lifecycle, Tag};

/// A change to the rest of the document, so a test can tell whether it was written.
fn tags(n: usize) -> Vec<Tag> {
    vec![Tag {
        key: "step".into(),
        value: n.to_string(),
    }]
}

/// The `status` column (the lookup copy of the document's status).
fn status_column(store: &Store, table: &str, id: &str) -> String {
    store
        .conn()
        .query_row(
            &format!("SELECT status FROM {table} WHERE id = ?1"),
            [id],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn clusters_move_only_along_the_table() {
    let store = Store::open_in_memory().unwrap();
    let mut n = 0;
    let mut applied_edges = 0;
    for &from in ClusterStatus::STATES {
        for &to in ClusterStatus::STATES {
            n += 1;
            let port = 3300 + u16::try_from(n).unwrap();
            let mut stored = cluster(&format!("c{n}"), port);
            stored.status = from;
            store.insert_cluster(&stored, None, None).unwrap();
            let mut next = stored.clone();
            next.status = to;
            next.tags = tags(n);

            let applied = store.transition_cluster(&next).unwrap();
            let edge = format!("{} -> {}", from.as_str(), to.as_str());
            assert_eq!(applied, ClusterStatus::allowed(from, to), "{edge}");
            let now = if applied { &next } else { &stored };
            assert_eq!(
                store.get_cluster(&stored.id).unwrap().as_ref(),
                Some(now),
                "{edge}"
            );
            assert_eq!(
                status_column(&store, "clusters", stored.id.as_str()),
                now.status.as_str(),
                "{edge}"
            );
            applied_edges += usize::from(applied);
        }
    }
    assert_eq!(applied_edges, ClusterStatus::TRANSITIONS.len());
}

#[test]
fn instances_move_only_along_the_table() {
    let store = Store::open_in_memory().unwrap();
    store
        .insert_cluster(&cluster("c1", 3306), None, None)
        .unwrap();
    let mut n = 0;
    let mut applied_edges = 0;
    for &from in InstanceStatus::STATES {
        for &to in InstanceStatus::STATES {
            n += 1;
            let mut stored = instance(&format!("i{n}"), "c1");
            stored.status = from;
            store.insert_instance(&stored, None).unwrap();
            let mut next = stored.clone();
            next.status = to;
            next.tags = tags(n);

            let applied = store.transition_instance(&next).unwrap();
            let edge = format!("{} -> {}", from.as_str(), to.as_str());
            assert_eq!(applied, InstanceStatus::allowed(from, to), "{edge}");
            let now = if applied { &next } else { &stored };
            assert_eq!(
                store.get_instance(&stored.id).unwrap().as_ref(),
                Some(now),
                "{edge}"
            );
            assert_eq!(
                status_column(&store, "instances", stored.id.as_str()),
                now.status.as_str(),
                "{edge}"
            );
            applied_edges += usize::from(applied);
        }
    }
    assert_eq!(applied_edges, InstanceStatus::TRANSITIONS.len());
}

/// `update_*` writes the document only while the stored status is the document's: it cannot
/// change a status, and a copy read before a status change cannot undo it.
#[test]
fn updates_never_change_a_status() {
    let store = Store::open_in_memory().unwrap();
    store
        .insert_cluster(&cluster("host", 3306), None, None)
        .unwrap();
    let mut n = 0;
    for &stored_status in ClusterStatus::STATES {
        for &doc_status in ClusterStatus::STATES {
            n += 1;
            let mut stored = cluster(&format!("c{n}"), 3306);
            stored.status = stored_status;
            store.insert_cluster(&stored, None, None).unwrap();
            let mut copy = stored.clone();
            copy.status = doc_status;
            copy.tags = tags(n);
            let applied = store.update_cluster(&copy).unwrap();
            assert_eq!(applied, stored_status == doc_status);
            let now = if applied { &copy } else { &stored };
            assert_eq!(store.get_cluster(&stored.id).unwrap().as_ref(), Some(now));
        }
    }
    for &stored_status in InstanceStatus::STATES {
        for &doc_status in InstanceStatus::STATES {
            n += 1;
            let mut stored = instance(&format!("i{n}"), "host");
            stored.status = stored_status;
            store.insert_instance(&stored, None).unwrap();
            let mut copy = stored.clone();
            copy.status = doc_status;
            copy.tags = tags(n);
            let applied = store.update_instance(&copy).unwrap();
            assert_eq!(applied, stored_status == doc_status);
            let now = if applied { &copy } else { &stored };
            assert_eq!(store.get_instance(&stored.id).unwrap().as_ref(), Some(now));
        }
    }
}

/// A job's row: `(attempts, finished_at)`.
fn job_row(store: &Store, id: i64) -> (u32, Option<i64>) {
    store
        .conn()
        .query_row(
            "SELECT attempts, finished_at FROM jobs WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
}

#[test]
fn jobs_move_only_along_the_table() {
    let store = Store::open_in_memory().unwrap();
    let mut n = 0;
    let mut applied_edges = 0;
    for &from in JobStatus::STATES {
        for &to in JobStatus::STATES {
            n += 1;
            let port = 3300 + u16::try_from(n).unwrap();
            let job = store
                .insert_cluster(
                    &cluster(&format!("c{n}"), port),
                    Some(JobKind::InitEmpty),
                    None,
                )
                .unwrap()
                .expect("a job was asked for");
            // Put the row in `from` directly (two attempts: a resumed job).
            let (attempts, finished_at) = match from {
                JobStatus::Pending => (0, None),
                JobStatus::Started => (2, None),
                JobStatus::Finished => (2, Some(1_i64)),
            };
            store
                .conn()
                .execute(
                    "UPDATE jobs SET attempts = ?2, finished_at = ?3 WHERE id = ?1",
                    rusqlite::params![job.id, attempts, finished_at],
                )
                .unwrap();
            assert_eq!(store.job_status(job.id).unwrap(), Some(from));
            let before = job_row(&store, job.id);

            let written = store.transition_job(job.id, to).unwrap();
            let edge = format!("{} -> {}", from.as_str(), to.as_str());
            assert_eq!(written.is_some(), JobStatus::allowed(from, to), "{edge}");
            let after = job_row(&store, job.id);
            if written.is_some() {
                assert_eq!(store.job_status(job.id).unwrap(), Some(to), "{edge}");
                let attempts = match to {
                    JobStatus::Started => before.0 + 1,
                    JobStatus::Pending | JobStatus::Finished => before.0,
                };
                assert_eq!(after.0, attempts, "{edge}");
                assert_eq!(written.map(|w| w.3), Some(attempts), "{edge}");
                applied_edges += 1;
            } else {
                assert_eq!(after, before, "{edge}: the row must be unchanged");
            }
        }
    }
    assert_eq!(applied_edges, JobStatus::TRANSITIONS.len());
    assert_eq!(store.job_status(9999).unwrap(), None);
    assert!(store
        .transition_job(9999, JobStatus::Started)
        .unwrap()
        .is_none());
}

/// The public job calls are the table's edges: a finished job cannot start again, and
/// finishing one twice is a no-op that keeps the first finish time.
#[test]
fn start_and_finish_follow_the_job_table() {
    let store = Store::open_in_memory().unwrap();
    let job = store
        .insert_cluster(&cluster("c1", 3306), Some(JobKind::RestoreFromS3), None)
        .unwrap()
        .expect("a job was asked for");
    assert_eq!(store.job_status(job.id).unwrap(), Some(JobStatus::Pending));
    store.start_job(job.id).unwrap();
    assert_eq!(store.job_status(job.id).unwrap(), Some(JobStatus::Started));
    store.finish_job(job.id).unwrap();
    let finished = job_row(&store, job.id);
    assert!(finished.1.is_some());
    store.finish_job(job.id).unwrap();
    assert_eq!(job_row(&store, job.id), finished);
    assert!(store.start_job(job.id).is_err());
    assert_eq!(job_row(&store, job.id), finished);

    let never_run = store
        .insert_cluster(&cluster("c2", 3307), Some(JobKind::InitEmpty), None)
        .unwrap()
        .expect("a job was asked for");
    store.finish_job(never_run.id).unwrap();
    assert_eq!(
        store.job_status(never_run.id).unwrap(),
        Some(JobStatus::Finished)
    );
    assert!(store.finish_job(9999).is_err());
}
