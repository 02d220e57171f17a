//! Policy documents: IAM's grammar and the checks IAM makes at every write.
//!
//! The checks run in IAM's order, so that a document with several faults gets the message IAM
//! gives (the order and the messages are those AWS answered, as recorded by moto's
//! `tests/test_iam/test_iam_policies.py`):
//! 1. the characters (U+0009, U+000A, U+000D, U+0020..U+00FF), then the grammar: "Syntax
//!    errors in policy." (not JSON, duplicate member names, unknown elements, wrong types, no
//!    statement, an `Effect` that is not allow/deny in any case, an unknown condition operator
//!    with values);
//! 2. for managed policies only ([`parse_managed`]): the version;
//! 3. "legacy parsing": `Effect` spelled exactly `Allow`/`Deny`, `Date*` values, resource ARNs
//!    with too few parts;
//! 4. `Sid` characters and uniqueness; 5. actions present; 6. resource formats;
//! 7. action vendors; 8. principals (refused in identity policies, required in trust policies),
//!    resources present (identity) or absent (trust), trust actions.

mod checks;
mod syntax;

use crate::condition::Condition;
use crate::json::Position;
use crate::pattern::{Piece, Template};

/// Which kind of document is being read: what the `Principal` element may do depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    /// A user, group or role policy (inline or managed): `Principal` is refused.
    Identity,
    /// A role's trust policy (`AssumeRolePolicyDocument`): each statement names a `Principal`.
    Trust,
}

/// A document IAM refuses: `message` is IAM's own text for the fault, `code` the error code
/// IAM answers with (`MalformedPolicyDocument`, or `ValidationError` for characters outside
/// the allowed set, which IAM refuses before reading the document).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Malformed {
    pub message: String,
    pub code: &'static str,
}

impl Malformed {
    pub(crate) fn new(message: impl Into<String>) -> Malformed {
        Malformed {
            message: message.into(),
            code: "MalformedPolicyDocument",
        }
    }

    pub(crate) fn syntax() -> Malformed {
        Malformed::new("Syntax errors in policy.")
    }
}

/// The policy language version: only 2012-10-17 substitutes policy variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `2008-10-17`, or no `Version` element.
    V2008,
    V2012,
}

impl Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V2008 => "2008-10-17",
            Version::V2012 => "2012-10-17",
        }
    }
}

/// A parsed policy document, compiled for evaluation.
#[derive(Debug, Clone)]
pub struct Policy {
    pub(crate) version: Version,
    pub(crate) id: Option<String>,
    pub(crate) statements: Vec<Statement>,
}

impl Policy {
    pub fn version(&self) -> Version {
        self.version
    }

    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }
}

/// One statement, with where it stands in the document text.
#[derive(Debug, Clone)]
pub struct Statement {
    pub(crate) sid: Option<String>,
    pub(crate) allow: bool,
    pub(crate) actions: Actions,
    pub(crate) resources: Option<Resources>,
    pub(crate) principals: Option<Principals>,
    pub(crate) conditions: Vec<Condition>,
    pub(crate) index: usize,
    pub(crate) start: Position,
    pub(crate) end: Position,
}

impl Statement {
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    pub fn is_allow(&self) -> bool {
        self.allow
    }

    /// Its index in the `Statement` list (0 for a single statement object).
    pub fn index(&self) -> usize {
        self.index
    }

    /// Its first character (`{`) in the document text.
    pub fn start(&self) -> Position {
        self.start
    }

    /// Its last character (`}`) in the document text.
    pub fn end(&self) -> Position {
        self.end
    }
}

/// `Action` or `NotAction` (`negated`): patterns compared case-insensitively.
#[derive(Debug, Clone)]
pub(crate) struct Actions {
    pub(crate) negated: bool,
    pub(crate) patterns: Vec<Vec<Piece>>,
}

/// `Resource` or `NotResource` (`negated`): templates, with variables in 2012-10-17.
#[derive(Debug, Clone)]
pub(crate) struct Resources {
    pub(crate) negated: bool,
    pub(crate) patterns: Vec<Template>,
}

/// `Principal` or `NotPrincipal` (`negated`) of a trust policy.
#[derive(Debug, Clone, Default)]
pub(crate) struct Principals {
    pub(crate) negated: bool,
    /// `"Principal": "*"` or `{"AWS": "*"}`.
    pub(crate) anyone: bool,
    /// IAM principal ARNs; an account id is kept as its root ARN.
    pub(crate) aws: Vec<String>,
    /// Service principals, lower-cased.
    pub(crate) services: Vec<String>,
    pub(crate) federated: Vec<String>,
    pub(crate) canonical_users: Vec<String>,
}

/// Reads a user, group, role or trust policy, or says why IAM would refuse it. A missing
/// `Version` is accepted (it means 2008-10-17: policy variables are then literal text).
pub fn parse(text: &str, kind: DocumentKind) -> Result<Policy, Malformed> {
    read(text, kind, false)
}

/// Reads a managed policy document (`CreatePolicy`, `CreatePolicyVersion`): as [`parse`] for
/// an identity policy, and the version must be 2012-10-17.
pub fn parse_managed(text: &str) -> Result<Policy, Malformed> {
    read(text, DocumentKind::Identity, true)
}

fn read(text: &str, kind: DocumentKind, managed: bool) -> Result<Policy, Malformed> {
    if let Some(err) = checks::characters(text) {
        return Err(err);
    }
    let root = crate::json::parse(text).map_err(|_| Malformed::syntax())?;
    let doc = syntax::document(&root)?;
    if managed && doc.version != Some(Version::V2012) {
        return Err(Malformed::new(
            "Policy document must be version 2012-10-17 or greater.",
        ));
    }
    checks::all(&doc, kind)?;
    Ok(syntax::compile(&doc))
}

/// The size IAM's quotas count: the document's characters, whitespace not counted.
pub fn document_size(text: &str) -> usize {
    text.chars().filter(|c| !c.is_whitespace()).count()
}
