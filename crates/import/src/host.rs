//! [`Host`]: what differs when the target is a ferry cluster (the control plane creates
//! objects with their definers, and shows the import's progress); [`PlainServer`] for any
//! other server.

use crate::error::HostError;
use crate::{FinishReport, ProgressReport};

/// The start of an import, told to the host.
#[derive(Clone, Debug)]
pub struct ImportStart {
    pub source: String,
    pub source_size: Option<u64>,
    pub parallel: usize,
    pub resumed: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectKind {
    View,
    Trigger,
    Procedure,
    Function,
    Event,
}

impl ObjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::View => "view",
            ObjectKind::Trigger => "trigger",
            ObjectKind::Procedure => "procedure",
            ObjectKind::Function => "function",
            ObjectKind::Event => "event",
        }
    }
}

/// An object whose DEFINER differs from the importing account.
#[derive(Clone, Debug)]
pub struct ObjectRequest {
    pub database: String,
    pub kind: ObjectKind,
    pub name: String,
    pub definer: ferry_dump::Definer,
    /// The statement as the dump has it (UTF-8, lossy).
    pub sql: String,
    /// Session variables in force where the dump created it: name -> SQL literal.
    pub session: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DefinerOutcome {
    /// The host created it with the definer as written.
    Created,
    /// The loader creates it with `DEFINER=CURRENT_USER`.
    Rewrite { reason: String },
    /// The loader tries it as written and, on ER_SPECIFIC_ACCESS_DENIED (1227), rewrites.
    NotHandled,
}

#[async_trait::async_trait]
pub trait Host: Send + Sync {
    async fn begin(&self, start: &ImportStart) -> Result<(), HostError>;
    /// Every ~2 s and at each phase change.
    async fn report(&self, progress: &ProgressReport) -> Result<(), HostError>;
    async fn create_with_definer(&self, obj: &ObjectRequest) -> Result<DefinerOutcome, HostError>;
    async fn finish(&self, end: &FinishReport) -> Result<(), HostError>;
}

/// Any MySQL-protocol server: nothing to tell, definers as the server allows.
#[derive(Clone, Copy, Debug, Default)]
pub struct PlainServer;

#[async_trait::async_trait]
impl Host for PlainServer {
    async fn begin(&self, _start: &ImportStart) -> Result<(), HostError> {
        Ok(())
    }
    async fn report(&self, _progress: &ProgressReport) -> Result<(), HostError> {
        Ok(())
    }
    async fn create_with_definer(&self, _obj: &ObjectRequest) -> Result<DefinerOutcome, HostError> {
        Ok(DefinerOutcome::NotHandled)
    }
    async fn finish(&self, _end: &FinishReport) -> Result<(), HostError> {
        Ok(())
    }
}
