//! Evaluation of a request against policies, as AWS does it: an explicit `Deny` wins, then an
//! `Allow`, otherwise an implicit deny. Patterns and condition values were compiled when the
//! documents were read, so a decision allocates only for variables and missing keys.

use std::collections::BTreeMap;

use crate::json::Position;
use crate::pattern::matches;
use crate::policy::{Policy, Principals, Statement};

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
        self.get_lower(&key.to_ascii_lowercase())
    }

    /// As [`Context::get`] for a key already lower-cased (no allocation).
    pub(crate) fn get_lower(&self, key: &str) -> Option<&[String]> {
        self.values.get(key).map(Vec::as_slice)
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

/// The statement that decided: the policy's name, the statement's `Sid`, its index in the
/// document's `Statement` list (0 for a single statement object), and where it stands in the
/// document text (first and last character, as the simulator's `StartPosition` /
/// `EndPosition`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deciding {
    pub policy: String,
    pub sid: Option<String>,
    pub index: usize,
    pub start: Position,
    pub end: Position,
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

impl Decision {
    pub fn is_allowed(&self) -> bool {
        self.effect == Effect::Allow
    }
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
pub fn evaluate(policies: &[NamedPolicy<'_>], request: &Request<'_>) -> Decision {
    decide(
        policies
            .iter()
            .flat_map(|p| p.policy.statements.iter().map(move |s| (p.name, s))),
        request.context,
        |s| {
            action_matches(s, request.action)
                && resource_matches(s, request.resource, request.context)
        },
    )
}

/// Decides whether `trust` (a role's trust policy) lets `principal` perform `action`.
///
/// An account in `"AWS"` (`"123456789012"` or its `...:root` ARN) trusts every principal of
/// that account, as in AWS: the caller must still check that the principal's own policies allow
/// the action (for example `sts:AssumeRole` on the role).
pub fn trusts(
    trust: &Policy,
    principal: &PrincipalRef<'_>,
    action: &str,
    context: &Context,
) -> Decision {
    decide(
        trust
            .statements
            .iter()
            .map(|s| ("AssumeRolePolicyDocument", s)),
        context,
        |s| action_matches(s, action) && principal_matches(s.principals.as_ref(), principal),
    )
}

fn decide<'p>(
    statements: impl Iterator<Item = (&'p str, &'p Statement)>,
    ctx: &Context,
    applies: impl Fn(&Statement) -> bool,
) -> Decision {
    let mut allow: Option<(&str, &Statement)> = None;
    let mut deny: Option<(&str, &Statement)> = None;
    let mut missing: Vec<String> = Vec::new();
    for (name, s) in statements {
        if deny.is_some() && s.allow {
            continue;
        }
        if !s.allow || allow.is_none() {
            if !applies(s) {
                continue;
            }
            let mut holds = true;
            for c in &s.conditions {
                // Every condition is looked at, so that all missing keys are reported.
                holds &= c.holds(ctx, &mut missing);
            }
            if holds {
                if s.allow {
                    allow = Some((name, s));
                } else {
                    deny = Some((name, s));
                    break;
                }
            }
        }
    }
    missing.sort_unstable_by_key(|k| k.to_ascii_lowercase());
    missing.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    let (effect, by) = match (deny, allow) {
        (Some(d), _) => (Effect::ExplicitDeny, Some(d)),
        (None, Some(a)) => (Effect::Allow, Some(a)),
        (None, None) => (Effect::ImplicitDeny, None),
    };
    Decision {
        effect,
        deciding: by.map(|(name, s)| Deciding {
            policy: name.to_owned(),
            sid: s.sid.clone(),
            index: s.index,
            start: s.start,
            end: s.end,
        }),
        missing_context: missing,
    }
}

fn action_matches(s: &Statement, action: &str) -> bool {
    let hit = s.actions.patterns.iter().any(|p| matches(p, action, true));
    hit != s.actions.negated
}

fn resource_matches(s: &Statement, resource: &str, ctx: &Context) -> bool {
    let Some(r) = &s.resources else {
        return true;
    };
    // A pattern whose variable has no value matches nothing.
    let hit = r
        .patterns
        .iter()
        .any(|t| t.resolve(ctx).is_some_and(|p| matches(&p, resource, false)));
    hit != r.negated
}

fn principal_matches(p: Option<&Principals>, who: &PrincipalRef<'_>) -> bool {
    let Some(p) = p else {
        return false;
    };
    let hit = p.anyone
        || match who {
            PrincipalRef::Service(name) => p.services.iter().any(|s| s.eq_ignore_ascii_case(name)),
            // In `NotPrincipal` an account's root ARN names the root only (AWS documents
            // listing it beside a user's ARN so that the user is excluded).
            PrincipalRef::Aws(arn) => p
                .aws
                .iter()
                .any(|a| a == arn || (!p.negated && same_account_root(a, arn))),
        };
    hit != p.negated
}

/// `arn:aws:iam::123456789012:root` stands for every principal of account 123456789012.
fn same_account_root(trusted: &str, arn: &str) -> bool {
    let Some(account) = trusted
        .strip_prefix("arn:aws:iam::")
        .and_then(|r| r.strip_suffix(":root"))
    else {
        return false;
    };
    let mut parts = arn.splitn(6, ':');
    let account_of_arn = parts.nth(4);
    account_of_arn == Some(account) && arn.starts_with("arn:aws:")
}
