//! Logical imports into a cluster (`ferry import --cluster`): what the control plane records
//! of each, and its lifecycle.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{ClusterId, Lifecycle};

/// `import-` + 16 lower-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ImportId(String);

impl ImportId {
    /// A fresh random id.
    pub fn generate() -> ImportId {
        use rand::Rng;
        let n: u64 = rand::rng().random();
        ImportId(format!("import-{n:016x}"))
    }

    /// The id `s` names, if it has the shape of one.
    pub fn parse(s: &str) -> Option<ImportId> {
        let hex = s.strip_prefix("import-")?;
        (hex.len() == 16
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        .then(|| ImportId(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ImportId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where an import is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ImportStatus {
    Running,
    Completed,
    Failed,
    Interrupted,
}

impl ImportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportStatus::Running => "running",
            ImportStatus::Completed => "completed",
            ImportStatus::Failed => "failed",
            ImportStatus::Interrupted => "interrupted",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::STATES.iter().copied().find(|c| c.as_str() == s)
    }
}

/// The import lifecycle. Every end is final: a resumed import (`ferry import --resume`) is a
/// new import.
///
/// ```text
///                FerryFinishImport (completed)
///       running ─────────────────────────────▶ completed
///        │    │  FerryFinishImport (failed)
///        │    └──────────────────────────────▶ failed
///        │  no report within the lease, or ferry serve restarted
///        └───────────────────────────────────▶ interrupted
/// ```
///
/// | from | to | when |
/// |---|---|---|
/// | `running` | `completed` | FerryFinishImport with Status completed |
/// | `running` | `failed` | FerryFinishImport with Status failed |
/// | `running` | `interrupted` | no FerryReportImport within the lease, or ferry serve restarted |
impl Lifecycle for ImportStatus {
    const STATES: &'static [Self] = &[
        ImportStatus::Running,
        ImportStatus::Completed,
        ImportStatus::Failed,
        ImportStatus::Interrupted,
    ];
    const INITIAL: Self = ImportStatus::Running;
    const TRANSITIONS: &'static [(Self, Self)] = {
        use ImportStatus::*;
        &[
            (Running, Completed),
            (Running, Failed),
            (Running, Interrupted),
        ]
    };
}

/// The loader's phase, as `ferry_import::Phase` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ImportPhase {
    Schema,
    Data,
    Objects,
    Done,
    Failed,
}

impl ImportPhase {
    pub const ALL: [ImportPhase; 5] = [
        ImportPhase::Schema,
        ImportPhase::Data,
        ImportPhase::Objects,
        ImportPhase::Done,
        ImportPhase::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ImportPhase::Schema => "schema",
            ImportPhase::Data => "data",
            ImportPhase::Objects => "objects",
            ImportPhase::Done => "done",
            ImportPhase::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|p| p.as_str() == s)
    }
}

/// The counters a loader reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCounters {
    pub bytes_read: u64,
    pub bytes_total: Option<u64>,
    pub tables_done: u64,
    pub tables_total: u64,
    pub rows: u64,
    pub statements: u64,
    pub failures: u64,
    pub definers_rewritten: u64,
}

/// One table of a running import as its loader last reported it (kept in memory only: the
/// console's per-table progress).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableProgress {
    /// `schema.table`.
    pub name: String,
    /// Rows the loader committed into it in this run.
    pub rows: u64,
    pub done: bool,
}

/// The durability settings an import relaxed, as they were before it (restored at its end).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedDurability {
    pub innodb_flush_log_at_trx_commit: String,
    pub sync_binlog: String,
}

/// One import into a cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Import {
    pub id: ImportId,
    pub cluster_id: ClusterId,
    /// The dump's name as the loader gave it (a path, or `-`).
    pub source: String,
    pub parallel: u32,
    pub resumed: bool,
    pub status: ImportStatus,
    pub phase: ImportPhase,
    pub counters: ImportCounters,
    /// Set while the import runs with relaxed durability: what to put back.
    pub saved_durability: Option<SavedDurability>,
    pub error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub ended_at: Option<OffsetDateTime>,
    /// The last report (or the start): the lease runs from here.
    #[serde(with = "time::serde::rfc3339")]
    pub renewed_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_one_shape() {
        let id = ImportId::generate();
        assert_eq!(ImportId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(id.as_str().len(), "import-".len() + 16);
        for bad in [
            "import-",
            "import-0123456789abcdeg",
            "import-0123456789ABCDEF",
            "x-0123456789abcdef",
            "import-0123456789abcdef0",
        ] {
            assert_eq!(ImportId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_lifecycle_is_the_documented_table() {
        let source = include_str!("imports.rs");
        let documented: Vec<(String, String)> = source
            .lines()
            .filter_map(|l| {
                let l = l.trim_start().strip_prefix("///")?;
                let mut cells = l.split('|').skip(1).map(str::trim);
                let from = cells.next()?.strip_prefix('`')?.strip_suffix('`')?;
                let to = cells.next()?.strip_prefix('`')?.strip_suffix('`')?;
                Some((from.to_owned(), to.to_owned()))
            })
            .collect();
        let table: Vec<(String, String)> = ImportStatus::TRANSITIONS
            .iter()
            .map(|(f, t)| (f.as_str().to_owned(), t.as_str().to_owned()))
            .collect();
        assert_eq!(documented, table);
        for &s in ImportStatus::STATES {
            assert_eq!(ImportStatus::parse(s.as_str()), Some(s));
        }
        for p in ImportPhase::ALL {
            assert_eq!(ImportPhase::parse(p.as_str()), Some(p));
        }
        // Every end is final.
        for &(from, _) in ImportStatus::TRANSITIONS {
            assert_eq!(from, ImportStatus::Running);
        }
    }
}
