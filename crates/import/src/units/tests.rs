use std::sync::Arc;

use super::*;
use crate::session::Snapshot;
use crate::worker::IndexBuild;

fn unit(table: &str, id: u64) -> Unit {
    Unit {
        id,
        table: table.to_owned(),
        database: None,
        statements: Default::default(),
        rows: 1,
        bytes: 10,
        session: Snapshot::default(),
        indexes: None,
    }
}

fn build(table: &str, id: u64) -> Unit {
    Unit {
        indexes: Some(IndexBuild {
            schema: "s".into(),
            table: table.into(),
            keys: Vec::new(),
        }),
        ..unit(table, id)
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn ids(units: &Units, n: usize) -> Vec<u64> {
    let rt = runtime();
    (0..n)
        .map(|_| rt.block_on(units.next()).map_or(0, |u| u.id))
        .collect()
}

#[test]
fn an_index_build_goes_first_once_the_workers_finished_its_tables_rows() {
    let units = Units::default();
    units.add(unit("s.t", 1));
    units.add(unit("s.t", 2));
    units.add(build("s.t", 100));
    units.add(unit("s.u", 3));
    assert_eq!(units.waiting_rows(), 3);
    // Not taken while rows of s.t are loading.
    assert_eq!(ids(&units, 2), [1, 2]);
    units.finished("s.t");
    units.add(unit("s.u", 4));
    assert_eq!(ids(&units, 1), [3]);
    units.finished("s.t");
    // Ahead of the rows waiting.
    assert_eq!(ids(&units, 2), [100, 4]);
    // A table with no rows loading gets its build at once.
    units.add(unit("s.v", 5));
    units.add(build("s.w", 101));
    assert_eq!(ids(&units, 2), [101, 5]);
    assert_eq!(units.waiting_rows(), 0);
}

#[test]
fn closing_hands_back_what_waited_and_ends_the_workers() {
    let units = Arc::new(Units::default());
    let rt = runtime();
    // A worker waiting for work ends when the work closes.
    let waiting = {
        let units = units.clone();
        rt.spawn(async move { units.next().await.map(|u| u.id) })
    };
    rt.block_on(tokio::task::yield_now());
    assert!(units.close().is_empty());
    assert_eq!(rt.block_on(waiting).unwrap(), None);

    let units = Units::default();
    units.add(unit("s.a", 1));
    units.add(build("s.a", 2));
    units.add(unit("s.b", 3));
    let mut back: Vec<u64> = units.close().iter().map(|u| u.id).collect();
    back.sort();
    assert_eq!(back, [1, 2, 3]);
    assert_eq!(rt.block_on(units.next()).map(|u| u.id), None);
}
