//! Events: what happened to a cluster or an instance, as `DescribeEvents` returns it.

use rusqlite::types::Value;
use rusqlite::{params, Connection};
use time::OffsetDateTime;

use super::{from_nanos, now, to_nanos, Context, Store, StoreError};
use crate::model::{ClusterId, Event, InstanceId, SourceType};

/// An event to record; the store gives it its `seq` and date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub source_type: SourceType,
    pub source_id: String,
    pub message: String,
    /// RDS's categories, e.g. `creation`, `deletion`, `failure`, `notification`.
    pub categories: Vec<String>,
}

impl NewEvent {
    /// An event about a DB cluster.
    pub fn cluster(id: &ClusterId, message: impl Into<String>, categories: &[&str]) -> NewEvent {
        NewEvent::new(SourceType::DbCluster, id.as_str(), message, categories)
    }

    /// An event about a DB instance.
    pub fn instance(id: &InstanceId, message: impl Into<String>, categories: &[&str]) -> NewEvent {
        NewEvent::new(SourceType::DbInstance, id.as_str(), message, categories)
    }

    fn new(
        source_type: SourceType,
        source_id: &str,
        message: impl Into<String>,
        categories: &[&str],
    ) -> NewEvent {
        NewEvent {
            source_type,
            source_id: source_id.to_string(),
            message: message.into(),
            categories: categories.iter().map(|c| c.to_string()).collect(),
        }
    }
}

/// Which events to return; every field narrows the result, the default returns them all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventQuery {
    pub source_type: Option<SourceType>,
    pub source_id: Option<String>,
    /// Events at or after this time.
    pub start: Option<OffsetDateTime>,
    /// Events at or before this time.
    pub end: Option<OffsetDateTime>,
    /// Events after this `seq` (for paging with a marker); with `newest_first`, before it.
    pub after_seq: Option<i64>,
    pub limit: Option<usize>,
    /// Newest first (the console's order) instead of oldest first (the API's).
    pub newest_first: bool,
}

impl Store {
    /// Records an event dated now (UTC).
    pub fn add_event(&self, event: NewEvent) -> Result<Event, StoreError> {
        insert_event(&self.conn(), event)
    }

    /// The events `query` selects, oldest first (in `seq` order).
    pub fn events(&self, query: &EventQuery) -> Result<Vec<Event>, StoreError> {
        let mut sql = String::from(
            "SELECT seq, source_type, source_id, date, message, categories FROM events WHERE 1",
        );
        let mut args: Vec<Value> = Vec::new();
        let mut filter = |clause: &str, value: Value| {
            args.push(value);
            sql.push_str(&format!(" AND {clause} ?{}", args.len()));
        };
        if let Some(t) = query.source_type {
            filter("source_type =", Value::Text(t.as_str().into()));
        }
        if let Some(id) = &query.source_id {
            filter("source_id =", Value::Text(id.clone()));
        }
        if let Some(start) = query.start {
            filter("date >=", Value::Integer(to_nanos(start)));
        }
        if let Some(end) = query.end {
            filter("date <=", Value::Integer(to_nanos(end)));
        }
        if let Some(seq) = query.after_seq {
            let clause = if query.newest_first { "seq <" } else { "seq >" };
            filter(clause, Value::Integer(seq));
        }
        let limit = query
            .limit
            .map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
        let order = if query.newest_first { "DESC" } else { "ASC" };
        sql.push_str(&format!(" ORDER BY seq {order} LIMIT {limit}"));

        let ctx = || "read events".to_string();
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&sql).ctx(ctx)?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args), |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })
            .ctx(ctx)?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, source_type, source_id, date, message, categories) = row.ctx(ctx)?;
            let what = || format!("event {seq}");
            let corrupt = |reason: String| StoreError::Corrupt {
                what: what(),
                reason,
            };
            out.push(Event {
                seq,
                source_type: SourceType::parse(&source_type)
                    .ok_or_else(|| corrupt(format!("unknown source type {source_type:?}")))?,
                source_id,
                message,
                categories: serde_json::from_str(&categories)
                    .map_err(|e| corrupt(format!("categories {categories:?}: {e}")))?,
                date: from_nanos(date, what)?,
            });
        }
        Ok(out)
    }

    /// Deletes events dated before `older_than` (RDS keeps 14 days); returns how many.
    pub fn prune_events(&self, older_than: OffsetDateTime) -> Result<usize, StoreError> {
        self.conn()
            .execute("DELETE FROM events WHERE date < ?1", [to_nanos(older_than)])
            .ctx(|| "prune events".to_string())
    }
}

/// Inserts an event on `conn` (a transaction or the connection itself).
pub(super) fn insert_event(conn: &Connection, event: NewEvent) -> Result<Event, StoreError> {
    let date = now();
    let categories = serde_json::to_string(&event.categories).map_err(|e| StoreError::Corrupt {
        what: format!("event categories {:?}", event.categories),
        reason: e.to_string(),
    })?;
    let ctx = || {
        format!(
            "record event for {} '{}'",
            event.source_type.as_str(),
            event.source_id
        )
    };
    conn.prepare_cached(
        "INSERT INTO events (source_type, source_id, date, message, categories)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut s| {
        s.execute(params![
            event.source_type.as_str(),
            event.source_id,
            to_nanos(date),
            event.message,
            categories
        ])
    })
    .ctx(ctx)?;
    let seq = conn.last_insert_rowid();
    Ok(Event {
        seq,
        source_type: event.source_type,
        source_id: event.source_id,
        message: event.message,
        categories: event.categories,
        date,
    })
}

#[cfg(test)]
mod tests {
    use time::Duration;

    use super::*;

    fn cid(s: &str) -> ClusterId {
        ClusterId::new_unchecked(s)
    }

    /// Backdates event `seq` by `ago`.
    fn backdate(store: &Store, seq: i64, ago: Duration) {
        store
            .conn()
            .execute(
                "UPDATE events SET date = ?2 WHERE seq = ?1",
                params![seq, to_nanos(OffsetDateTime::now_utc() - ago)],
            )
            .unwrap();
    }

    #[test]
    fn events_round_trip_in_order() {
        let store = Store::open_in_memory().unwrap();
        let a = store
            .add_event(NewEvent::cluster(
                &cid("c1"),
                "DB cluster created.",
                &["creation"],
            ))
            .unwrap();
        let b = store
            .add_event(NewEvent::instance(
                &InstanceId::new_unchecked("i1"),
                "DB instance created.",
                &["creation", "notification"],
            ))
            .unwrap();
        assert!(b.seq > a.seq);
        let all = store.events(&EventQuery::default()).unwrap();
        assert_eq!(all, vec![a, b]);
    }

    #[test]
    fn queries_by_type_id_time_and_seq() {
        let store = Store::open_in_memory().unwrap();
        let c1 = store
            .add_event(NewEvent::cluster(&cid("c1"), "old", &[]))
            .unwrap();
        let c2 = store
            .add_event(NewEvent::cluster(&cid("c2"), "c2 event", &[]))
            .unwrap();
        let i1 = store
            .add_event(NewEvent::instance(
                &InstanceId::new_unchecked("c1"),
                "instance named like the cluster",
                &[],
            ))
            .unwrap();
        let c1b = store
            .add_event(NewEvent::cluster(&cid("c1"), "new", &[]))
            .unwrap();
        backdate(&store, c1.seq, Duration::hours(3));

        let msgs = |q: EventQuery| -> Vec<String> {
            store
                .events(&q)
                .unwrap()
                .into_iter()
                .map(|e| e.message)
                .collect()
        };
        assert_eq!(
            msgs(EventQuery {
                source_type: Some(SourceType::DbCluster),
                source_id: Some("c1".into()),
                ..Default::default()
            }),
            ["old", "new"]
        );
        assert_eq!(
            msgs(EventQuery {
                source_type: Some(SourceType::DbInstance),
                ..Default::default()
            }),
            ["instance named like the cluster"]
        );
        let hour_ago = OffsetDateTime::now_utc() - Duration::hours(1);
        assert_eq!(
            msgs(EventQuery {
                start: Some(hour_ago),
                source_type: Some(SourceType::DbCluster),
                ..Default::default()
            }),
            ["c2 event", "new"]
        );
        assert_eq!(
            msgs(EventQuery {
                end: Some(hour_ago),
                ..Default::default()
            }),
            ["old"]
        );
        assert_eq!(
            msgs(EventQuery {
                start: Some(c2.date),
                end: Some(i1.date),
                ..Default::default()
            }),
            ["c2 event", "instance named like the cluster"]
        );
        assert_eq!(
            msgs(EventQuery {
                after_seq: Some(c2.seq),
                limit: Some(1),
                ..Default::default()
            }),
            std::slice::from_ref(&i1.message)
        );
        assert_eq!(
            msgs(EventQuery {
                after_seq: Some(c1b.seq),
                ..Default::default()
            }),
            Vec::<String>::new()
        );
        // Newest first, paged backwards from a marker.
        let newest = |after_seq, limit| {
            msgs(EventQuery {
                newest_first: true,
                after_seq,
                limit,
                ..Default::default()
            })
        };
        assert_eq!(newest(None, Some(1)), ["new"]);
        assert_eq!(
            newest(Some(c1b.seq), Some(2)),
            [i1.message.clone(), "c2 event".to_string()]
        );
    }

    #[test]
    fn prune_deletes_only_old_events() {
        let store = Store::open_in_memory().unwrap();
        let old = store
            .add_event(NewEvent::cluster(&cid("c1"), "old", &[]))
            .unwrap();
        store
            .add_event(NewEvent::cluster(&cid("c1"), "new", &[]))
            .unwrap();
        backdate(&store, old.seq, Duration::days(15));
        let pruned = store
            .prune_events(OffsetDateTime::now_utc() - Duration::days(14))
            .unwrap();
        assert_eq!(pruned, 1);
        let left = store.events(&EventQuery::default()).unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].message, "new");
        // seq keeps growing after a prune (AUTOINCREMENT never reuses).
        let next = store
            .add_event(NewEvent::cluster(&cid("c1"), "next", &[]))
            .unwrap();
        assert!(next.seq > left[0].seq);
    }
}
