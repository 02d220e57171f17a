//! Per-table progress for the host (the console's import section): the rows committed into
//! each table still loading, and the tables finished last.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::TableProgress;

/// The most tables a report names: the loading ones first, then the ones finished last.
pub(crate) const REPORTED_TABLES: usize = 32;

#[derive(Default)]
pub(crate) struct Tables {
    /// Rows committed this run into each table not finished yet.
    rows: HashMap<String, u64>,
    /// The tables finished last, newest at the back, with their rows.
    finished: VecDeque<(String, u64)>,
}

impl Tables {
    pub(crate) fn add_rows(&mut self, table: &str, rows: u64) {
        *self.rows.entry(table.to_owned()).or_default() += rows;
    }

    pub(crate) fn finished(&mut self, table: &str) {
        let rows = self.rows.remove(table).unwrap_or(0);
        if self.finished.len() == REPORTED_TABLES {
            self.finished.pop_front();
        }
        self.finished.push_back((table.to_owned(), rows));
    }

    /// The loading tables of `waiting` that have rows in flight or committed (sorted by
    /// name), then the finished ones newest first; at most [`REPORTED_TABLES`].
    pub(crate) fn report(
        &self,
        waiting: &HashSet<String>,
        in_flight: &HashMap<String, usize>,
    ) -> Vec<TableProgress> {
        let mut loading: Vec<TableProgress> = waiting
            .iter()
            .filter(|t| self.rows.contains_key(*t) || in_flight.get(*t).is_some_and(|n| *n > 0))
            .map(|t| TableProgress {
                name: t.clone(),
                rows: self.rows.get(t).copied().unwrap_or(0),
                done: false,
            })
            .collect();
        loading.sort_by(|a, b| a.name.cmp(&b.name));
        loading.truncate(REPORTED_TABLES);
        let room = REPORTED_TABLES - loading.len();
        loading.extend(
            self.finished
                .iter()
                .rev()
                .take(room)
                .map(|(name, rows)| TableProgress {
                    name: name.clone(),
                    rows: *rows,
                    done: true,
                }),
        );
        loading
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loading_tables_come_first_then_the_last_finished_and_the_list_is_bounded() {
        let mut t = Tables::default();
        let mut waiting = HashSet::new();
        let mut in_flight = HashMap::new();
        for i in 0..40 {
            let name = format!("`shop`.`t{i:02}`");
            t.add_rows(&name, i);
            t.finished(&name);
        }
        waiting.insert("`shop`.`big`".to_owned());
        waiting.insert("`shop`.`empty_yet`".to_owned());
        waiting.insert("`shop`.`created_only`".to_owned());
        t.add_rows("`shop`.`big`", 1000);
        t.add_rows("`shop`.`big`", 500);
        in_flight.insert("`shop`.`empty_yet`".to_owned(), 1);
        let r = t.report(&waiting, &in_flight);
        assert_eq!(r.len(), REPORTED_TABLES);
        assert_eq!(
            (r[0].name.as_str(), r[0].rows, r[0].done),
            ("`shop`.`big`", 1500, false)
        );
        assert_eq!(
            (r[1].name.as_str(), r[1].rows, r[1].done),
            ("`shop`.`empty_yet`", 0, false)
        );
        assert_eq!(
            (r[2].name.as_str(), r[2].rows, r[2].done),
            ("`shop`.`t39`", 39, true)
        );
        assert!(r.iter().all(|p| p.name != "`shop`.`created_only`"));
        assert_eq!(r.last().unwrap().name, "`shop`.`t10`");
    }
}
