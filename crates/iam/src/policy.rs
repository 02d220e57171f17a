//! Policy documents: IAM's grammar and the checks IAM makes at every write.

use serde_json::Value;

/// Which kind of document is being read: what the `Principal` element may do depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    /// A user, group or role policy (inline or managed): `Principal` is refused.
    Identity,
    /// A role's trust policy (`AssumeRolePolicyDocument`): each statement names a `Principal`.
    Trust,
}

/// A document IAM refuses: `message` is IAM's own text for the fault
/// (`MalformedPolicyDocument`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Malformed {
    pub message: String,
}

/// A parsed policy document.
#[derive(Debug, Clone)]
pub struct Policy {
    #[allow(dead_code)] // read by the evaluator
    pub(crate) doc: Value,
}

/// Reads a document, or says why IAM would refuse it.
pub fn parse(text: &str, _kind: DocumentKind) -> Result<Policy, Malformed> {
    let doc: Value = serde_json::from_str(text).map_err(|_| Malformed {
        message: "Syntax errors in policy.".into(),
    })?;
    if !doc.is_object() {
        return Err(Malformed {
            message: "Syntax errors in policy.".into(),
        });
    }
    Ok(Policy { doc })
}

/// The size IAM's quotas count: the document's characters, whitespace outside strings not
/// counted.
pub fn document_size(text: &str) -> usize {
    text.chars().filter(|c| !c.is_whitespace()).count()
}
