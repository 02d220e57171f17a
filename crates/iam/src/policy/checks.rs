//! IAM's checks after the grammar, in IAM's order, each with IAM's message.

use super::syntax::{RawDoc, RawList, RawStatement};
use super::{DocumentKind, Malformed};
use crate::date;
use crate::json::Json;

/// Partitions IAM knows.
const PARTITIONS: &[&str] = &[
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

const IAM_PATHS: &[&str] = &[
    "user/",
    "federated-user/",
    "role/",
    "group/",
    "instance-profile/",
    "mfa/",
    "server-certificate/",
    "policy/",
    "sms-mfa/",
    "saml-provider/",
    "oidc-provider/",
    "report/",
    "access-report/",
];

/// Actions a trust policy may name.
const TRUST_ACTIONS: &[&str] = &[
    "sts:AssumeRole",
    "sts:AssumeRoleWithSAML",
    "sts:AssumeRoleWithWebIdentity",
    "sts:DecodeAuthorizationMessage",
    "sts:GetAccessKeyInfo",
    "sts:GetCallerIdentity",
    "sts:GetFederationToken",
    "sts:GetServiceBearerToken",
    "sts:GetSessionToken",
    "sts:SetSourceIdentity",
    "sts:TagSession",
];

/// Characters outside U+0009, U+000A, U+000D, U+0020..U+00FF are refused before anything
/// else, as a parameter validation error.
pub(super) fn characters(text: &str) -> Option<Malformed> {
    let ok = |c: char| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}');
    if text.is_empty() || !text.chars().all(ok) {
        return Some(Malformed {
            message: "1 validation error detected: Value at 'policyDocument' failed to satisfy \
                      constraint: Member must satisfy regular expression pattern: \
                      [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+"
                .into(),
            code: "ValidationError",
        });
    }
    None
}

pub(super) fn all(doc: &RawDoc<'_>, kind: DocumentKind) -> Result<(), Malformed> {
    let legacy = || Malformed::new("The policy failed legacy parsing");
    // Legacy parsing: exact effects and dates first, then resource formats (which remember
    // the last format fault and skip the legacy ARN check once one is found).
    for s in &doc.statements {
        if s.effect != "Allow" && s.effect != "Deny" {
            return Err(legacy());
        }
        for c in &s.conditions {
            if c.op.is_some_and(|op| op.is_date())
                && !c
                    .keys
                    .iter()
                    .flat_map(|(_, vs)| vs)
                    .all(|v| date::legacy_valid(v))
            {
                return Err(legacy());
            }
        }
    }
    let mut resource_error: Option<String> = None;
    for negated in [false, true] {
        for s in &doc.statements {
            let Some(list) = s
                .resource
                .as_ref()
                .filter(|_| s.resource_negated == negated)
            else {
                continue;
            };
            let mut items: Vec<&str> = list.items.iter().flatten().map(String::as_str).collect();
            if list.is_list {
                // In a list, empty strings are skipped and the rest checked in reverse order.
                items.retain(|r| !r.is_empty());
                items.sort_unstable_by(|a, b| b.cmp(a));
            }
            for r in &items {
                if let Some(e) = resource_format(r) {
                    resource_error = Some(e);
                }
            }
            if resource_error.is_none() && !legacy_resources(list) {
                return Err(legacy());
            }
        }
    }
    let mut seen: Vec<&str> = Vec::new();
    for s in &doc.statements {
        if let Some(sid) = s.sid.as_deref().filter(|sid| !sid.is_empty()) {
            if !sid.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(Malformed::new(
                    "Statement IDs (SID) must be alpha-numeric. Check that your input \
                     satisfies the regular expression [0-9A-Za-z]*",
                ));
            }
            if seen.contains(&sid) {
                return Err(Malformed::new(
                    "Statement IDs (SID) in a single policy must be unique.",
                ));
            }
            seen.push(sid);
        }
    }
    if doc.statements.iter().any(|s| {
        s.action
            .as_ref()
            .is_none_or(|l| l.is_list && l.items.is_empty())
    }) {
        return Err(Malformed::new("Policy statement must contain actions."));
    }
    if let Some(e) = resource_error {
        return Err(Malformed::new(e));
    }
    for negated in [false, true] {
        for s in doc
            .statements
            .iter()
            .filter(|s| s.action_negated == negated)
        {
            for a in s.action.iter().flat_map(|l| l.items.iter()) {
                action_prefix(a.as_deref().unwrap_or(""))?;
            }
        }
    }
    match kind {
        DocumentKind::Identity => identity(doc),
        DocumentKind::Trust => trust(doc),
    }
}

fn identity(doc: &RawDoc<'_>) -> Result<(), Malformed> {
    if doc.statements.iter().any(|s| s.principal.is_some()) {
        return Err(Malformed::new(
            "Policy document should not specify a principal.",
        ));
    }
    if doc.statements.iter().any(|s| {
        s.resource
            .as_ref()
            .is_none_or(|l| l.is_list && l.items.is_empty())
    }) {
        return Err(Malformed::new("Policy statement must contain resources."));
    }
    Ok(())
}

fn trust(doc: &RawDoc<'_>) -> Result<(), Malformed> {
    let allowed = |a: &str| {
        TRUST_ACTIONS.contains(&a)
            || (a.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("sts:"))
                && a.contains(['*', '?']))
    };
    for s in &doc.statements {
        let ok = !s.action_negated
            && s.action
                .iter()
                .flat_map(|l| l.items.iter())
                .all(|a| a.as_deref().is_some_and(allowed));
        if !ok {
            return Err(Malformed::new(
                "Trust Policy statement actions can only be sts:AssumeRole, \
                 sts:AssumeRoleWithSAML,  and sts:AssumeRoleWithWebIdentity",
            ));
        }
    }
    if doc.statements.iter().any(|s| s.resource.is_some()) {
        return Err(Malformed::new("Has prohibited field Resource."));
    }
    for s in &doc.statements {
        principals(s)?;
    }
    Ok(())
}

fn principals(s: &RawStatement<'_>) -> Result<(), Malformed> {
    let Some(node) = s.principal else {
        return Err(Malformed::new(
            "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: \
             The passed in policy has a statement with no principals!",
        ));
    };
    let Json::Object(members) = &node.value else {
        return Ok(()); // "*"
    };
    for (kind, v) in members {
        let items: Vec<&str> = match &v.value {
            Json::String(one) => vec![one.as_str()],
            Json::Array(items) => items
                .iter()
                .filter_map(|i| match &i.value {
                    Json::String(x) => Some(x.as_str()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        for item in items {
            let valid = match kind.as_str() {
                "AWS" => item == "*" || aws_principal_valid(item),
                "Service" => service_valid(item),
                _ => !item.is_empty(),
            };
            if !valid {
                let label = if kind == "Service" { "SERVICE" } else { kind };
                return Err(Malformed::new(format!(
                    "Invalid principal in policy: \"{label}\":\"{item}\""
                )));
            }
        }
    }
    Ok(())
}

fn account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// `123456789012`, `arn:aws:iam::123456789012:root`, `...:user/...`, `...:role/...`,
/// `arn:aws:sts::123456789012:assumed-role/...`.
fn aws_principal_valid(s: &str) -> bool {
    if account_id(s) {
        return true;
    }
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts[..] else {
        return false;
    };
    arn == "arn"
        && PARTITIONS.contains(&partition)
        && region.is_empty()
        && account_id(account)
        && match service {
            "iam" => {
                resource == "root"
                    || ["user/", "role/", "federated-user/"]
                        .iter()
                        .any(|p| resource.starts_with(p) && resource.len() > p.len())
            }
            "sts" => {
                resource.starts_with("assumed-role/") || resource.starts_with("federated-user/")
            }
            _ => false,
        }
        && !resource.contains(['*', '?'])
}

/// An account id stands for that account's root.
pub(super) fn aws_principal_arn(s: &str) -> String {
    if account_id(s) {
        format!("arn:aws:iam::{s}:root")
    } else {
        s.to_owned()
    }
}

fn service_valid(s: &str) -> bool {
    !s.is_empty()
        && s.contains('.')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && !s.starts_with('.')
        && !s.ends_with('.')
}

/// `iam:PassRole`: a vendor, one colon, an action; or `*`.
fn action_prefix(action: &str) -> Result<(), Malformed> {
    let parts: Vec<&str> = action.split(':').collect();
    if parts.len() == 1 && parts[0] != "*" {
        return Err(Malformed::new(
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
        ));
    }
    if parts.len() > 2 {
        return Err(Malformed::new(
            "Actions/Condition can contain only one colon.",
        ));
    }
    let vendor = parts[0];
    if vendor != "*"
        && vendor
            .bytes()
            .any(|b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'.'))
    {
        return Err(Malformed::new(format!("Vendor {vendor} is not valid")));
    }
    Ok(())
}

/// The format fault of one resource, if any (IAM's messages).
fn resource_format(resource: &str) -> Option<String> {
    if resource == "*" {
        return None;
    }
    let Some((_, after_arn)) = resource.split_once(':') else {
        return Some(format!(
            "Resource {resource} must be in ARN format or \"*\"."
        ));
    };
    let (partition, rest) = match after_arn.split_once(':') {
        Some((p, r)) => (p, Some(r)),
        None => (after_arn, None),
    };
    if partition != "*" && !PARTITIONS.contains(&partition) {
        let parts: Vec<&str> = rest.unwrap_or("").split(':').collect();
        let part = |i: usize| parts.get(i).copied().unwrap_or("*");
        let first = if parts[0].is_empty() && parts.len() == 1 {
            "*"
        } else {
            parts[0]
        };
        let last = if parts.len() > 3 {
            parts[3..].join(":")
        } else {
            "*".to_owned()
        };
        return Some(format!(
            "Partition \"{partition}\" is not valid for resource \"arn:{partition}:{first}:{}:{}:{last}\".",
            part(1),
            part(2)
        ));
    }
    let Some(rest) = rest else {
        return Some("Resource vendor must be fully qualified and cannot contain regexes.".into());
    };
    let (service, after_service) = rest.split_once(':').unwrap_or((rest, ""));
    let (region, after_region) = after_service.split_once(':').unwrap_or((after_service, ""));
    let (_account, resource_id) = after_region.split_once(':').unwrap_or((after_region, ""));
    if !region.is_empty() {
        match service {
            "iam" => {
                return Some(format!(
                    "IAM resource {resource} cannot contain region information."
                ))
            }
            "s3" if !resource_id.starts_with("accesspoint/") => {
                return Some(format!(
                    "Resource {resource} can not contain region information."
                ))
            }
            _ => {}
        }
    }
    if service == "iam"
        && resource_id != "*"
        && !IAM_PATHS.iter().any(|p| resource_id.starts_with(p))
    {
        return Some(format!(
            "IAM resource path must either be \"*\" or start with {}.",
            IAM_PATHS.join(", ")
        ));
    }
    None
}

/// IAM's legacy ARN check: an ARN with `::` needs all six parts, and a single ARN's service
/// must be present.
fn legacy_resources(list: &RawList) -> bool {
    list.items.iter().flatten().all(|r| {
        if r.is_empty() || r == "*" {
            return true;
        }
        let enough = r.matches(':').count() >= 5 || !r.contains("::");
        let service = list.is_list || r.split(':').nth(2).is_some_and(|s| !s.is_empty());
        enough && service
    })
}
