//! The units waiting for a worker, shared by the loader (which adds them) and the workers
//! (which take them whenever they are free, whatever the loader is doing).
//!
//! A free worker takes an index build first (one long `ALTER TABLE` on one core: the sooner
//! it starts, the more of it overlaps the other tables' rows), then units of rows in dump
//! order. An index build is taken only once the workers finished its table's rows, so it
//! starts the moment they are in even while the loader waits on a statement (a `DROP TABLE`
//! waiting for a lock, say). The loader adds a unit of rows only while fewer than one waits
//! (`Run::send_unit`), so memory stays bounded.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use tokio::sync::Notify;

use crate::worker::Unit;

#[derive(Default)]
pub(crate) struct Units {
    state: Mutex<State>,
    /// A unit was added, or the work closed.
    added: Notify,
    /// A worker took a unit.
    taken: Notify,
}

#[derive(Default)]
struct State {
    builds: VecDeque<Unit>,
    rows: VecDeque<Unit>,
    /// Units of rows added and not finished, by table.
    outstanding: HashMap<String, usize>,
    /// Index builds waiting for their table's rows to be finished.
    after_rows: HashMap<String, Unit>,
    closed: bool,
}

impl Units {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add(&self, unit: Unit) {
        let mut st = self.state();
        if unit.indexes.is_some() {
            if st.outstanding.get(&unit.table).copied().unwrap_or(0) > 0 {
                st.after_rows.insert(unit.table.clone(), unit);
                return;
            }
            st.builds.push_back(unit);
        } else {
            *st.outstanding.entry(unit.table.clone()).or_default() += 1;
            st.rows.push_back(unit);
        }
        drop(st);
        self.added.notify_one();
    }

    /// A worker finished a unit of rows of `table` (committed or not).
    pub fn finished(&self, table: &str) {
        let mut st = self.state();
        let Some(n) = st.outstanding.get_mut(table) else {
            return;
        };
        *n = n.saturating_sub(1);
        if *n > 0 {
            return;
        }
        st.outstanding.remove(table);
        if let Some(build) = st.after_rows.remove(table) {
            st.builds.push_back(build);
            drop(st);
            self.added.notify_one();
        }
    }

    /// Units of rows that no worker took yet.
    pub fn waiting_rows(&self) -> usize {
        self.state().rows.len()
    }

    /// Resolves once a worker took a unit since the last call (or right away when one did
    /// before it was called).
    pub async fn taken(&self) {
        self.taken.notified().await
    }

    /// No more units: workers end once they are out of work. Returns the units that were
    /// waiting (not loaded: a resume loads them).
    pub fn close(&self) -> Vec<Unit> {
        let mut guard = self.state();
        let st = &mut *guard;
        st.closed = true;
        let mut dropped: Vec<Unit> = st.builds.drain(..).chain(st.rows.drain(..)).collect();
        dropped.extend(st.after_rows.drain().map(|(_, u)| u));
        drop(guard);
        self.added.notify_waiters();
        dropped
    }

    /// The next unit for a worker; None once closed.
    pub async fn next(&self) -> Option<Unit> {
        loop {
            let added = self.added.notified();
            tokio::pin!(added);
            added.as_mut().enable();
            {
                let mut st = self.state();
                if let Some(u) = st.builds.pop_front().or_else(|| st.rows.pop_front()) {
                    drop(st);
                    self.taken.notify_one();
                    return Some(u);
                }
                if st.closed {
                    return None;
                }
            }
            added.await;
        }
    }
}

#[cfg(test)]
mod tests;
