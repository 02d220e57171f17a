//! The one place that decides whether a caller may perform an action.
//!
//! Every API action (RDS, IAM, ferry's own) calls [`Authorizer::authorize`] with its IAM
//! action name (`rds:RestoreDBClusterFromS3`, `iam:CreateRole`, `ferry:Cutover`), the
//! resource ARN AWS uses and the request's own condition keys, before it acts. The caller's
//! identity-based policies (inline and attached, its groups' too) are read from the store and
//! evaluated by `ferry_iam` with the global condition keys added here (`aws:username`,
//! `aws:userid`, `aws:PrincipalArn`, `aws:PrincipalTag/*`, `aws:SourceIp`,
//! `aws:SecureTransport`, `aws:CurrentTime`, `aws:EpochTime`, `aws:RequestedRegion`). The
//! account root (the bootstrap admin) is not restricted by policies, as in AWS.
//!
//! A denial answers `AccessDenied` with AWS's message; the log line names the policy and
//! statement that decided. With `[iam] mode = "audit"` the denial is logged and the call goes
//! ahead.
//!
//! The ingestion role of a restore is evaluated here too: its trust policy must let
//! `rds.amazonaws.com` assume it, and its permission policies must allow what the restore
//! reads ([`Authorizer::role_allows`]).

mod ingestion;

pub use ingestion::IngestionRefusal;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use ferry_iam::{Context, Decision, Effect, NamedPolicy, Policy, PrincipalRef, Request};
use time::OffsetDateTime;

use crate::config::{Config, IamMode};
use crate::error::{ControlError, DenyReason};
use crate::iam::{self, EntityKind};
use crate::store::{AppliedPolicy, IamRole, PolicySourceType, Store};

/// Who signed a request: the access key and the IAM user it belongs to ([`ROOT_USER`] for
/// the account root), and where the request came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub access_key_id: String,
    pub user_name: String,
    /// The client's address (`aws:SourceIp`), when known.
    pub source_ip: Option<IpAddr>,
    /// Whether the request came over TLS (`aws:SecureTransport`).
    pub secure_transport: bool,
}

impl Principal {
    /// A principal known by its key and user only (no address, not over TLS).
    pub fn new(access_key_id: impl Into<String>, user_name: impl Into<String>) -> Principal {
        Principal {
            access_key_id: access_key_id.into(),
            user_name: user_name.into(),
            source_ip: None,
            secure_transport: false,
        }
    }

    /// The account root (the bootstrap admin `ferry serve` creates on first start), which
    /// no policy restricts.
    pub fn is_root(&self) -> bool {
        self.user_name == ROOT_USER
    }
}

pub use crate::iam::{RDS_SERVICE, ROOT_USER};

/// How many parsed documents are kept; past it the cache starts again (documents change
/// rarely, a principal has at most a few dozen).
const CACHE_ENTRIES: usize = 4096;

/// Decides requests; holds the parsed policy documents.
pub struct Authorizer {
    mode: IamMode,
    account_id: String,
    region: String,
    parsed: Mutex<HashMap<String, Option<Arc<Policy>>>>,
}

/// A policy as evaluation reports it: a managed policy by its ARN, an inline policy as
/// `<kind> <holder> inline policy <name>`.
fn policy_label(p: &AppliedPolicy) -> String {
    let holder_kind = match p.source_type {
        PolicySourceType::User => "user",
        PolicySourceType::Group => "group",
        PolicySourceType::Role => "role",
        PolicySourceType::UserManaged | PolicySourceType::AwsManaged => return p.id.clone(),
    };
    format!("{holder_kind} {} inline policy {}", p.holder, p.id)
}

impl Authorizer {
    pub fn new(config: &Config) -> Authorizer {
        Authorizer {
            mode: config.iam_mode,
            account_id: config.account_id.clone(),
            region: config.region.clone(),
            parsed: Mutex::new(HashMap::new()),
        }
    }

    /// Authorizes `action` on `resource` for `principal`, with the request's own condition
    /// keys `keys` (the global keys are added here). `Ok` when allowed (or denied in audit
    /// mode), `AccessDenied` otherwise.
    pub fn authorize(
        &self,
        store: &Store,
        principal: &Principal,
        action: &str,
        resource: &str,
        keys: &Context,
    ) -> Result<(), ControlError> {
        if principal.is_root() {
            return Ok(());
        }
        let (arn, decision) = self.decide(store, principal, action, resource, keys)?;
        let reason = match decision.effect {
            Effect::Allow => {
                tracing::debug!(
                    principal = %arn, action, resource,
                    policy = decision.deciding.as_ref().map(|d| d.policy.as_str()).unwrap_or("-"),
                    sid = decision.deciding.as_ref().and_then(|d| d.sid.as_deref()).unwrap_or("-"),
                    "allowed"
                );
                return Ok(());
            }
            Effect::ExplicitDeny => DenyReason::ExplicitDeny,
            Effect::ImplicitDeny => DenyReason::NoAllow,
        };
        let (policy, sid) = match &decision.deciding {
            Some(d) => (d.policy.as_str(), d.sid.as_deref().unwrap_or("-")),
            None => ("-", "-"),
        };
        if self.mode == IamMode::Audit {
            tracing::warn!(
                principal = %arn, action, resource, policy, sid, reason = reason.as_str(),
                "would be denied (iam mode audit: allowed)"
            );
            return Ok(());
        }
        tracing::info!(
            principal = %arn, action, resource, policy, sid, reason = reason.as_str(),
            "denied"
        );
        Err(ControlError::AccessDenied {
            principal: arn,
            action: action.to_string(),
            resource: resource.to_string(),
            reason,
        })
    }

    /// The decision for `principal` (not the root) and its ARN.
    pub fn decide(
        &self,
        store: &Store,
        principal: &Principal,
        action: &str,
        resource: &str,
        keys: &Context,
    ) -> Result<(String, Decision), ControlError> {
        let user = store.iam_user(&principal.user_name)?;
        let Some(user) = user else {
            // The key's user is gone: nothing allows it.
            let arn = iam::arn(&self.account_id, "user", "/", &principal.user_name);
            return Ok((arn, implicit_deny()));
        };
        let arn = iam::arn(&self.account_id, "user", &user.path, &user.name);
        let mut context = keys.clone();
        context.set("aws:username", &user.name);
        context.set("aws:userid", &user.id);
        context.set("aws:PrincipalArn", &arn);
        context.set("aws:PrincipalAccount", &self.account_id);
        context.set("aws:PrincipalType", "User");
        for (k, v) in store.iam_tags(EntityKind::User, &user.name)? {
            context.set(&format!("aws:PrincipalTag/{k}"), v);
        }
        if let Some(ip) = principal.source_ip {
            context.set("aws:SourceIp", ip.to_string());
        }
        context.set(
            "aws:SecureTransport",
            if principal.secure_transport {
                "true"
            } else {
                "false"
            },
        );
        self.add_time_and_region(&mut context);
        let applied = store.policies_of_user(&user.name)?;
        Ok((arn, self.evaluate(&applied, action, resource, &context)))
    }

    /// Whether `role`'s permission policies allow `action` on `resource` when a service
    /// acts with it (the restore reading a bucket).
    pub fn role_allows(
        &self,
        store: &Store,
        role: &IamRole,
        action: &str,
        resource: &str,
        keys: &Context,
    ) -> Result<Decision, ControlError> {
        let arn = iam::arn(&self.account_id, "role", &role.path, &role.name);
        let mut context = keys.clone();
        context.set("aws:userid", format!("{}:ferry-restore", role.id));
        context.set("aws:PrincipalArn", &arn);
        context.set("aws:PrincipalAccount", &self.account_id);
        context.set("aws:PrincipalType", "AssumedRole");
        for (k, v) in store.iam_tags(EntityKind::Role, &role.name)? {
            context.set(&format!("aws:PrincipalTag/{k}"), v);
        }
        context.set("aws:SecureTransport", "true");
        self.add_time_and_region(&mut context);
        let applied = store.policies_of_role(&role.name)?;
        Ok(self.evaluate(&applied, action, resource, &context))
    }

    /// Whether `role`'s trust policy lets the service `service` perform `sts:AssumeRole`.
    pub fn role_trusts(&self, role: &IamRole, service: &str) -> Decision {
        let Some(trust) = self.parse(&role.assume_role_policy, ferry_iam::DocumentKind::Trust)
        else {
            return implicit_deny();
        };
        let mut context = Context::new();
        self.add_time_and_region(&mut context);
        ferry_iam::trusts(
            &trust,
            &PrincipalRef::Service(service),
            "sts:AssumeRole",
            &context,
        )
    }

    fn add_time_and_region(&self, context: &mut Context) {
        let now = OffsetDateTime::now_utc();
        if let Ok(t) = now.format(&time::format_description::well_known::Rfc3339) {
            context.set("aws:CurrentTime", t);
        }
        context.set("aws:EpochTime", now.unix_timestamp().to_string());
        if context.get("aws:RequestedRegion").is_none() {
            context.set("aws:RequestedRegion", &self.region);
        }
    }

    fn evaluate(
        &self,
        applied: &[AppliedPolicy],
        action: &str,
        resource: &str,
        context: &Context,
    ) -> Decision {
        let parsed: Vec<(String, Arc<Policy>)> = applied
            .iter()
            .filter_map(|p| {
                self.parse(&p.document, ferry_iam::DocumentKind::Identity)
                    .map(|policy| (policy_label(p), policy))
            })
            .collect();
        let named: Vec<NamedPolicy<'_>> = parsed
            .iter()
            .map(|(name, policy)| NamedPolicy { name, policy })
            .collect();
        ferry_iam::evaluate(
            &named,
            &Request {
                action,
                resource,
                context,
            },
        )
    }

    /// `document` parsed (once: later calls hit the cache). A stored document that does not
    /// parse (written by an older ferry with other rules) grants nothing, and says so in the
    /// log once.
    fn parse(&self, document: &str, kind: ferry_iam::DocumentKind) -> Option<Arc<Policy>> {
        let mut cache = self.parsed.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(hit) = cache.get(document) {
            return hit.clone();
        }
        let parsed = match ferry_iam::parse(document, kind) {
            Ok(p) => Some(Arc::new(p)),
            Err(e) => {
                tracing::error!(error = %e, "a stored policy document does not parse; it grants nothing");
                None
            }
        };
        if cache.len() >= CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(document.to_string(), parsed.clone());
        parsed
    }
}

fn implicit_deny() -> Decision {
    Decision {
        effect: Effect::ImplicitDeny,
        deciding: None,
        missing_context: Vec::new(),
    }
}
