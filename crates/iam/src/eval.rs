//! Evaluation of a request against policies.

use std::collections::BTreeMap;

use crate::policy::Policy;

/// The request's condition keys and their values (several for a multi-valued key such as
/// `aws:TagKeys`). Keys compare case-insensitively.
#[derive(Debug, Clone, Default)]
pub struct Context {
    values: BTreeMap<String, Vec<String>>,
}

impl Context {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a single-valued key.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.values
            .insert(key.to_ascii_lowercase(), vec![value.into()]);
    }

    /// Sets a multi-valued key.
    pub fn set_multi(&mut self, key: &str, values: Vec<String>) {
        self.values.insert(key.to_ascii_lowercase(), values);
    }

    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.values
            .get(&key.to_ascii_lowercase())
            .map(Vec::as_slice)
    }
}

/// What is asked: `action` as `service:Name`, the resource ARN (or `*`), the condition keys.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub action: &'a str,
    pub resource: &'a str,
    pub context: &'a Context,
}

/// A policy and the name it is reported by: a managed policy's ARN, or for an inline policy
/// `<entity arn>:<policy name>` style text chosen by the caller.
#[derive(Debug, Clone, Copy)]
pub struct NamedPolicy<'a> {
    pub name: &'a str,
    pub policy: &'a Policy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    ExplicitDeny,
    ImplicitDeny,
}

/// The statement that decided: the policy's name, the statement's `Sid` and its index in the
/// document's `Statement` list (0 for a single statement object).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deciding {
    pub policy: String,
    pub sid: Option<String>,
    pub index: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub effect: Effect,
    /// The first `Deny` that matched for an explicit deny, the first `Allow` for an allow;
    /// none for an implicit deny.
    pub deciding: Option<Deciding>,
    /// Condition keys a matching statement's conditions needed and the context lacked.
    pub missing_context: Vec<String>,
}

/// Who a trust policy is asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalRef<'a> {
    /// A service principal, such as `rds.amazonaws.com`.
    Service(&'a str),
    /// An IAM principal by ARN (`arn:aws:iam::123456789012:user/alice`, `...:root`).
    Aws(&'a str),
}

/// Decides `request` against `policies` (all of the principal's identity-based policies).
pub fn evaluate(_policies: &[NamedPolicy<'_>], _request: &Request<'_>) -> Decision {
    // Replaced by the full evaluator (statements, wildcards, conditions, variables).
    Decision {
        effect: Effect::ImplicitDeny,
        deciding: None,
        missing_context: Vec::new(),
    }
}

/// Decides whether `trust` (a role's trust policy) lets `principal` perform `action`.
pub fn trusts(
    _trust: &Policy,
    _principal: &PrincipalRef<'_>,
    _action: &str,
    _context: &Context,
) -> Decision {
    Decision {
        effect: Effect::ImplicitDeny,
        deciding: None,
        missing_context: Vec::new(),
    }
}
