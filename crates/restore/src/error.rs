//! Errors of the restore pipeline.
//!
//! Every variant names the object (or set, or file) it is about and says what is wrong, so that
//! the message printed by the CLI is enough to act on. [`RestoreError::keeps_staging`] tells the
//! pipeline whether the staging area is worth keeping for a resumed run.

use std::path::PathBuf;

use ferry_backup::chain::ChainProblem;
use ferry_base::error::flatten;

/// Why fetching bytes of one object failed, after retries.
#[derive(Debug, thiserror::Error)]
pub enum FetchErrorKind {
    #[error("object not found")]
    NotFound,
    #[error("access denied (403): the credentials may not read this object")]
    PermissionDenied,
    #[error("authentication failed: {0}")]
    Unauthenticated(String),
    #[error("object changed while it was being read (ETag no longer matches)")]
    Changed,
    #[error("no data for {0:?}: the transfer stalled")]
    Stalled(std::time::Duration),
    #[error("connection ended early: got {got} of {want} bytes")]
    ShortBody { got: u64, want: u64 },
    #[error("{0}")]
    Transport(String),
}

impl FetchErrorKind {
    /// Whether trying again (from the byte where the transfer broke) may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            FetchErrorKind::Stalled(_)
            | FetchErrorKind::ShortBody { .. }
            | FetchErrorKind::Transport(_) => true,
            FetchErrorKind::NotFound
            | FetchErrorKind::PermissionDenied
            | FetchErrorKind::Unauthenticated(_)
            | FetchErrorKind::Changed => false,
        }
    }

    /// Whether the store said it is overloaded (503 SlowDown, 429, any other 5xx), after the
    /// client's own retries: the restore then lowers its requests in flight
    /// ([`crate::limit::Limiter::on_throttled`]).
    pub fn is_throttling(&self) -> bool {
        let FetchErrorKind::Transport(text) = self else {
            return false;
        };
        text.contains("SlowDown")
            || text.contains("status code: 429")
            || text.contains("status code: 5")
    }

    pub(crate) fn from_store(err: object_store::Error) -> Self {
        match err {
            object_store::Error::NotFound { .. } => FetchErrorKind::NotFound,
            object_store::Error::PermissionDenied { .. } => FetchErrorKind::PermissionDenied,
            object_store::Error::Unauthenticated { source, .. } => {
                FetchErrorKind::Unauthenticated(source.to_string())
            }
            object_store::Error::Precondition { .. } => FetchErrorKind::Changed,
            other => FetchErrorKind::Transport(flatten(&other)),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// A test's failpoint failed the step (only in builds with the `failpoints` feature).
    #[error(transparent)]
    Injected(#[from] ferry_base::failpoint::Injected),

    #[error("invalid source {source_url:?}: {reason}")]
    InvalidSource { source_url: String, reason: String },

    #[error("cannot open object storage for {source_url}: {reason}")]
    Store { source_url: String, reason: String },

    #[error("cannot list objects under {source_url}: {reason}")]
    List { source_url: String, reason: String },

    #[error("no backup sets found under {source_url} ({objects} objects looked at; a set is a directory with xtrabackup_checkpoints or a .xbstream/.tar/.tar.gz/.zst stream)")]
    NoSets { source_url: String, objects: usize },

    #[error("object {object} at byte {offset}: {kind}")]
    Fetch {
        object: String,
        offset: u64,
        kind: FetchErrorKind,
    },

    #[error("backup set {set}: {reason}")]
    Unpack { set: String, reason: String },

    #[error("backup set {set}: cannot read {file}: {reason}")]
    Metadata {
        set: String,
        file: String,
        reason: String,
    },

    #[error("the backup sets cannot be restored:\n{}", format_problems(.0))]
    Plan(Vec<String>),

    #[error("target directory {}: {reason}", .path.display())]
    Target { path: PathBuf, reason: String },

    #[error("staging directory {}: {reason}", .path.display())]
    Staging { path: PathBuf, reason: String },

    #[error("prepare of backup set {set} failed: {reason}")]
    Prepare { set: String, reason: String },

    #[error("engine: {0}")]
    Engine(String),

    #[error("restore interrupted")]
    Interrupted,

    /// The caller's [`crate::listing::ObjectGate`] refused an object before it was read.
    #[error("object {object} may not be read: {reason}")]
    Refused { object: String, reason: String },
}

fn format_problems(problems: &[String]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl RestoreError {
    /// Whether the staging area holds work that a rerun of the same command can reuse.
    ///
    /// Transient failures (the network gave up, the run was interrupted) keep staging so that
    /// the next run resumes; anything that says the backup itself is bad removes it, since
    /// running again would fail the same way.
    pub fn keeps_staging(&self) -> bool {
        match self {
            RestoreError::Fetch { kind, .. } => kind.is_retryable(),
            RestoreError::Interrupted | RestoreError::List { .. } | RestoreError::Injected(_) => {
                true
            }
            RestoreError::InvalidSource { .. }
            | RestoreError::Store { .. }
            | RestoreError::NoSets { .. }
            | RestoreError::Unpack { .. }
            | RestoreError::Metadata { .. }
            | RestoreError::Plan(_)
            | RestoreError::Target { .. }
            | RestoreError::Staging { .. }
            | RestoreError::Prepare { .. }
            | RestoreError::Refused { .. }
            | RestoreError::Engine(_) => false,
        }
    }

    pub(crate) fn plan(problems: Vec<ChainProblem>) -> Self {
        RestoreError::Plan(problems.iter().map(|p| p.to_string()).collect())
    }

    pub(crate) fn staging(path: impl Into<PathBuf>, err: impl std::fmt::Display) -> Self {
        RestoreError::Staging {
            path: path.into(),
            reason: err.to_string(),
        }
    }
}
