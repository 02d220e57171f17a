//! The restore chain: which set is the base, which incrementals follow in which order, and
//! every reason to refuse.
//!
//! Each incremental holds the pages changed since its parent's `to_lsn` (its `from_lsn`), so
//! the order is fixed by LSNs: each `from_lsn` must equal the previous `to_lsn`. A restore that
//! applied a wrong or incomplete chain would produce a datadir that starts but holds the wrong
//! data, so every doubt is a refusal that names the sets and LSNs involved, and all of them are
//! reported at once. The one ambiguity that is resolved rather than refused is the quiet server:
//! its checkpoint does not move, so several incrementals can share one LSN range; they are
//! ordered by `last_lsn`, then backup end time, and the plan says so.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::meta::{BackupType, BinlogInfo, Checkpoints, Info, Lsn};

/// What the planner knows about one set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetMeta {
    pub name: String,
    pub checkpoints: Checkpoints,
    pub info: Option<Info>,
    pub binlog: Option<BinlogInfo>,
}

impl SetMeta {
    fn end_time(&self) -> &str {
        self.info.as_ref().map_or("", |i| i.end_time.as_str())
    }

    fn range(&self) -> String {
        format!("{}..{}", self.checkpoints.from_lsn, self.checkpoints.to_lsn)
    }
}

/// The chain to restore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Index of the full backup in the input slice.
    pub base: usize,
    /// Indices of the incrementals in apply order.
    pub incrementals: Vec<usize>,
    /// Decisions the user should know about (e.g. how sets with equal LSNs were ordered).
    pub notes: Vec<String>,
    /// The base is already prepared and there is nothing to apply: skip prepare.
    pub prepared_base: bool,
}

/// A reason the sets cannot be restored as a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum ChainProblem {
    NoSets,
    NoBase {
        incrementals: Vec<String>,
    },
    TwoBases {
        bases: Vec<String>,
    },
    Gap {
        from: Lsn,
        to: Lsn,
        before: String,
        after: String,
    },
    DoesNotFit {
        set: String,
        from_lsn: Lsn,
        to_lsn: Lsn,
        chain_lsn: Lsn,
    },
    Branch {
        from_lsn: Lsn,
        sets: Vec<(String, Lsn)>,
    },
    Partial {
        set: String,
        reason: String,
    },
    Compact {
        set: String,
    },
    MixedServerVersions {
        versions: Vec<(String, Vec<String>)>,
    },
    PreparedBaseWithIncrementals {
        base: String,
        backup_type: String,
        incrementals: Vec<String>,
    },
    PreparedIncremental {
        set: String,
        backup_type: String,
    },
    UnknownBackupType {
        set: String,
        value: String,
    },
    Inconsistent {
        set: String,
        detail: String,
    },
}

/// `a`, `a and b`, `a, b and c`.
fn join_names<S: AsRef<str>>(names: &[S]) -> String {
    match names {
        [] => String::new(),
        [one] => one.as_ref().to_string(),
        [init @ .., last] => format!(
            "{} and {}",
            init.iter()
                .map(AsRef::as_ref)
                .collect::<Vec<_>>()
                .join(", "),
            last.as_ref()
        ),
    }
}

impl fmt::Display for ChainProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainProblem::NoSets => write!(f, "there are no backup sets to restore"),
            ChainProblem::NoBase { incrementals } => write!(
                f,
                "incremental {} has no base: no full backup was found",
                join_names(incrementals)
            ),
            ChainProblem::TwoBases { bases } if bases.len() == 2 => write!(
                f,
                "two candidate bases: {}; keep only one full backup (and its incrementals) \
                 under the source",
                join_names(bases)
            ),
            ChainProblem::TwoBases { bases } => write!(
                f,
                "{} candidate bases: {}; keep only one full backup (and its incrementals) under \
                 the source",
                bases.len(),
                join_names(bases)
            ),
            ChainProblem::Gap {
                from,
                to,
                before,
                after,
            } => write!(
                f,
                "no backup covers LSN {from}..{to} (between {before} ending at {from} and \
                 {after} starting at {to})"
            ),
            ChainProblem::DoesNotFit {
                set,
                from_lsn,
                to_lsn,
                chain_lsn,
            } => write!(
                f,
                "incremental {set} (LSN {from_lsn}..{to_lsn}) does not continue the chain, which \
                 had already reached LSN {chain_lsn}: it belongs to another base or duplicates \
                 another incremental"
            ),
            ChainProblem::Branch { from_lsn, sets } => {
                let list: Vec<String> = sets
                    .iter()
                    .map(|(name, to)| format!("{name} (to {to})"))
                    .collect();
                write!(
                    f,
                    "incrementals {} all start at LSN {from_lsn}: the chain branches and ferry \
                     cannot tell which one to apply",
                    join_names(&list)
                )
            }
            ChainProblem::Partial { set, reason } => write!(
                f,
                "backup set {set} is a partial backup ({reason}); only backups of the whole \
                 server can be restored"
            ),
            ChainProblem::Compact { set } => write!(
                f,
                "backup set {set} is a compact backup (compact = 1): its secondary index pages \
                 were not copied, and ferry does not rebuild them"
            ),
            ChainProblem::MixedServerVersions { versions } => {
                let list: Vec<String> = versions
                    .iter()
                    .map(|(v, sets)| format!("{v} ({})", join_names(sets)))
                    .collect();
                write!(
                    f,
                    "the backup sets come from different server versions: {}",
                    list.join(", ")
                )
            }
            ChainProblem::PreparedBaseWithIncrementals {
                base,
                backup_type,
                incrementals,
            } => write!(
                f,
                "base {base} is already prepared (backup_type = {backup_type}), so the \
                 incrementals {} cannot be applied to it; use an unprepared copy of the base",
                join_names(incrementals)
            ),
            ChainProblem::PreparedIncremental { set, backup_type } => write!(
                f,
                "incremental {set} is already prepared (backup_type = {backup_type}); only \
                 unprepared incrementals can be applied"
            ),
            ChainProblem::UnknownBackupType { set, value } => write!(
                f,
                "backup set {set} has an unknown backup_type `{value}` in xtrabackup_checkpoints"
            ),
            ChainProblem::Inconsistent { set, detail } => {
                write!(
                    f,
                    "backup set {set}: xtrabackup_checkpoints is inconsistent: {detail}"
                )
            }
        }
    }
}

/// The role a set can play.
enum Role {
    Base,
    Incremental,
    Unusable,
}

fn role(set: &SetMeta, problems: &mut Vec<ChainProblem>) -> Role {
    let cp = &set.checkpoints;
    let inconsistent = |detail: String| ChainProblem::Inconsistent {
        set: set.name.clone(),
        detail,
    };
    if cp.to_lsn < cp.from_lsn {
        problems.push(inconsistent(format!(
            "to_lsn {} is below from_lsn {}",
            cp.to_lsn, cp.from_lsn
        )));
        return Role::Unusable;
    }
    let full = cp.from_lsn == Lsn(0);
    match &cp.backup_type {
        BackupType::Other(value) => {
            problems.push(ChainProblem::UnknownBackupType {
                set: set.name.clone(),
                value: value.clone(),
            });
            Role::Unusable
        }
        BackupType::FullBackuped if full => Role::Base,
        BackupType::FullBackuped => {
            problems.push(inconsistent(format!(
                "backup_type is full-backuped but from_lsn is {}",
                cp.from_lsn
            )));
            Role::Unusable
        }
        BackupType::LogApplied | BackupType::FullPrepared if full => Role::Base,
        BackupType::LogApplied | BackupType::FullPrepared => {
            problems.push(ChainProblem::PreparedIncremental {
                set: set.name.clone(),
                backup_type: cp.backup_type.to_string(),
            });
            Role::Unusable
        }
        BackupType::Incremental if full => {
            problems.push(inconsistent(
                "backup_type is incremental but from_lsn is 0".into(),
            ));
            Role::Unusable
        }
        BackupType::Incremental => Role::Incremental,
    }
}

/// Plans the chain: one full base, then incrementals each starting where the previous one
/// ended. Returns every problem found, not just the first.
pub fn plan(sets: &[SetMeta]) -> Result<Plan, Vec<ChainProblem>> {
    if sets.is_empty() {
        return Err(vec![ChainProblem::NoSets]);
    }
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let mut bases = Vec::new();
    let mut incs = Vec::new();
    for (i, set) in sets.iter().enumerate() {
        match role(set, &mut problems) {
            Role::Base => bases.push(i),
            Role::Incremental => incs.push(i),
            Role::Unusable => {}
        }
        if set.checkpoints.compact {
            problems.push(ChainProblem::Compact {
                set: set.name.clone(),
            });
        }
        match &set.info {
            Some(info) => {
                if let Some(reason) = info.partial_reason() {
                    problems.push(ChainProblem::Partial {
                        set: set.name.clone(),
                        reason,
                    });
                }
            }
            None => notes.push(format!(
                "backup set {} has no xtrabackup_info: its server version and whether it is \
                 partial cannot be checked",
                set.name
            )),
        }
    }

    let mut versions: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for set in sets {
        if let Some(info) = set.info.as_ref().filter(|i| !i.server_version.is_empty()) {
            versions
                .entry(info.server_version.as_str())
                .or_default()
                .push(set.name.clone());
        }
    }
    if versions.len() > 1 {
        problems.push(ChainProblem::MixedServerVersions {
            versions: versions
                .into_iter()
                .map(|(v, s)| (v.to_string(), s))
                .collect(),
        });
    }

    let names = |idx: &[usize]| {
        idx.iter()
            .map(|&i| sets[i].name.clone())
            .collect::<Vec<_>>()
    };
    let base = match bases.as_slice() {
        [] => {
            if !incs.is_empty() {
                problems.push(ChainProblem::NoBase {
                    incrementals: names(&incs),
                });
            }
            None
        }
        [one] => Some(*one),
        many => {
            problems.push(ChainProblem::TwoBases { bases: names(many) });
            None
        }
    };
    let Some(base) = base else {
        return Err(problems);
    };
    let base_type = &sets[base].checkpoints.backup_type;
    if base_type.is_prepared() && !incs.is_empty() {
        problems.push(ChainProblem::PreparedBaseWithIncrementals {
            base: sets[base].name.clone(),
            backup_type: base_type.to_string(),
            incrementals: names(&incs),
        });
    }

    let order = walk_chain(sets, base, incs, &mut problems, &mut notes);
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Plan {
        base,
        prepared_base: base_type.is_prepared() && order.is_empty(),
        incrementals: order,
        notes,
    })
}

/// Orders the incrementals from the base's `to_lsn` on, reporting gaps, strays and branches.
fn walk_chain(
    sets: &[SetMeta],
    base: usize,
    mut remaining: Vec<usize>,
    problems: &mut Vec<ChainProblem>,
    notes: &mut Vec<String>,
) -> Vec<usize> {
    let cp = |i: usize| &sets[i].checkpoints;
    let mut order = Vec::new();
    let mut current = cp(base).to_lsn;
    let mut previous = base;
    while !remaining.is_empty() {
        let (here, rest): (Vec<usize>, Vec<usize>) =
            remaining.iter().partition(|&&i| cp(i).from_lsn == current);
        remaining = rest;
        if here.is_empty() {
            let (stale, later): (Vec<usize>, Vec<usize>) =
                remaining.iter().partition(|&&i| cp(i).from_lsn < current);
            for i in stale {
                problems.push(ChainProblem::DoesNotFit {
                    set: sets[i].name.clone(),
                    from_lsn: cp(i).from_lsn,
                    to_lsn: cp(i).to_lsn,
                    chain_lsn: current,
                });
            }
            remaining = later;
            let Some(&next) = remaining
                .iter()
                .min_by_key(|&&i| (cp(i).from_lsn, &sets[i].name))
            else {
                break;
            };
            problems.push(ChainProblem::Gap {
                from: current,
                to: cp(next).from_lsn,
                before: sets[previous].name.clone(),
                after: sets[next].name.clone(),
            });
            // Carry on past the gap to find any further problems.
            current = cp(next).from_lsn;
            continue;
        }
        let (mut still, advancing): (Vec<usize>, Vec<usize>) =
            here.into_iter().partition(|&i| cp(i).to_lsn == current);
        if still.len() > 1 {
            notes.push(order_quiet(sets, &mut still));
        }
        if let Some(&last) = still.last() {
            previous = last;
        }
        order.extend(still);
        match advancing.as_slice() {
            [] => {}
            [one] => {
                order.push(*one);
                previous = *one;
                current = cp(*one).to_lsn;
            }
            many => {
                let mut branch: Vec<(String, Lsn)> = many
                    .iter()
                    .map(|&i| (sets[i].name.clone(), cp(i).to_lsn))
                    .collect();
                branch.sort();
                problems.push(ChainProblem::Branch {
                    from_lsn: current,
                    sets: branch,
                });
                break;
            }
        }
    }
    order
}

/// Orders incrementals that share one LSN range (the checkpoint did not move) by `last_lsn`,
/// then backup end time, then name; returns the note that says how.
fn order_quiet(sets: &[SetMeta], group: &mut [usize]) -> String {
    group.sort_by(|&a, &b| {
        let (sa, sb) = (&sets[a], &sets[b]);
        (sa.checkpoints.last_lsn, sa.end_time(), &sa.name).cmp(&(
            sb.checkpoints.last_lsn,
            sb.end_time(),
            &sb.name,
        ))
    });
    let mut tie_lsn = false;
    let mut undecided = Vec::new();
    for pair in group.windows(2) {
        let (a, b) = (&sets[pair[0]], &sets[pair[1]]);
        if a.checkpoints.last_lsn == b.checkpoints.last_lsn {
            tie_lsn = true;
            let (ta, tb) = (a.end_time(), b.end_time());
            if ta.is_empty() || tb.is_empty() || ta == tb {
                undecided.push(format!("{} and {}", a.name, b.name));
            }
        }
    }
    let names: Vec<String> = group.iter().map(|&i| sets[i].name.clone()).collect();
    let how = if !undecided.is_empty() {
        format!(
            "by last_lsn and backup end time, and by name where both were equal ({}): check \
             that this is the order they were taken in",
            undecided.join("; ")
        )
    } else if tie_lsn {
        "by last_lsn, then by backup end time".to_string()
    } else {
        "by last_lsn".to_string()
    };
    format!(
        "{} all cover LSN range {} (the checkpoint did not move between these backups); they \
         are applied in the order {}, decided {how}",
        join_names(&names),
        sets[group[0]].range(),
        names.join(", ")
    )
}

#[cfg(test)]
mod tests;
