//! IAM's grammar ("Syntax errors in policy." for any fault), and compiling a checked document
//! into what the evaluator runs.

use super::{Actions, Malformed, Policy, Principals, Resources, Statement, Version};
use crate::condition::{Condition, Operator};
use crate::json::{Json, Node};
use crate::pattern::Template;

const TOP_ELEMENTS: &[&str] = &["Version", "Id", "Statement"];
const STATEMENT_ELEMENTS: &[&str] = &[
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Principal",
    "NotPrincipal",
    "Condition",
];

/// A document that passed the grammar, before the semantic checks.
pub(super) struct RawDoc<'a> {
    pub(super) version: Option<Version>,
    pub(super) id: Option<String>,
    pub(super) statements: Vec<RawStatement<'a>>,
}

pub(super) struct RawStatement<'a> {
    pub(super) node: &'a Node,
    pub(super) index: usize,
    pub(super) sid: Option<String>,
    pub(super) effect: String,
    /// `Action` or `NotAction` (`action_negated`).
    pub(super) action: Option<RawList>,
    pub(super) action_negated: bool,
    pub(super) resource: Option<RawList>,
    pub(super) resource_negated: bool,
    pub(super) principal: Option<&'a Node>,
    pub(super) principal_negated: bool,
    pub(super) conditions: Vec<RawCondition>,
}

/// A string or a list of strings (list items may be `null`).
pub(super) struct RawList {
    pub(super) items: Vec<Option<String>>,
    pub(super) is_list: bool,
}

pub(super) struct RawCondition {
    /// `None` for an operator IAM does not know (only allowed with an empty block).
    pub(super) op: Option<Operator>,
    pub(super) keys: Vec<(String, Vec<String>)>,
}

pub(super) fn document(root: &Node) -> Result<RawDoc<'_>, Malformed> {
    let Json::Object(members) = &root.value else {
        return Err(Malformed::syntax());
    };
    if members
        .iter()
        .any(|(k, _)| !TOP_ELEMENTS.contains(&k.as_str()))
    {
        return Err(Malformed::syntax());
    }
    let version = match root.get("Version").map(|n| &n.value) {
        None => None,
        Some(Json::String(v)) if v == "2012-10-17" => Some(Version::V2012),
        Some(Json::String(v)) if v == "2008-10-17" => Some(Version::V2008),
        Some(_) => return Err(Malformed::syntax()),
    };
    let id = match root.get("Id").map(|n| &n.value) {
        None => None,
        Some(Json::String(s)) => Some(s.clone()),
        Some(_) => return Err(Malformed::syntax()),
    };
    let nodes: Vec<&Node> = match root.get("Statement") {
        Some(
            n @ Node {
                value: Json::Object(_),
                ..
            },
        ) => vec![n],
        Some(Node {
            value: Json::Array(items),
            ..
        }) => items.iter().collect(),
        _ => return Err(Malformed::syntax()),
    };
    if nodes.is_empty() {
        return Err(Malformed::syntax());
    }
    let statements = nodes
        .into_iter()
        .enumerate()
        .map(|(index, node)| statement(node, index))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RawDoc {
        version,
        id,
        statements,
    })
}

fn statement(node: &Node, index: usize) -> Result<RawStatement<'_>, Malformed> {
    let Json::Object(members) = &node.value else {
        return Err(Malformed::syntax());
    };
    if members
        .iter()
        .any(|(k, _)| !STATEMENT_ELEMENTS.contains(&k.as_str()))
    {
        return Err(Malformed::syntax());
    }
    let (action, action_negated) = either(node, "Action", "NotAction")?;
    let (resource, resource_negated) = either(node, "Resource", "NotResource")?;
    let (principal, principal_negated) = match (node.get("Principal"), node.get("NotPrincipal")) {
        (Some(_), Some(_)) => return Err(Malformed::syntax()),
        (Some(p), None) => (Some(p), false),
        (None, Some(p)) => (Some(p), true),
        (None, None) => (None, false),
    };
    if let Some(p) = principal {
        principal_syntax(p)?;
    }
    let effect = match node.get("Effect").map(|n| &n.value) {
        Some(Json::String(e))
            if e.eq_ignore_ascii_case("allow") || e.eq_ignore_ascii_case("deny") =>
        {
            e.clone()
        }
        _ => return Err(Malformed::syntax()),
    };
    let conditions = match node.get("Condition") {
        None => Vec::new(),
        Some(c) => conditions(c)?,
    };
    let sid = match node.get("Sid").map(|n| &n.value) {
        None => None,
        Some(Json::String(s)) => Some(s.clone()),
        Some(_) => return Err(Malformed::syntax()),
    };
    Ok(RawStatement {
        node,
        index,
        sid,
        effect,
        action,
        action_negated,
        resource,
        resource_negated,
        principal,
        principal_negated,
        conditions,
    })
}

fn either(node: &Node, yes: &str, not: &str) -> Result<(Option<RawList>, bool), Malformed> {
    match (node.get(yes), node.get(not)) {
        (Some(_), Some(_)) => Err(Malformed::syntax()),
        (Some(n), None) => Ok((Some(string_or_list(n)?), false)),
        (None, Some(n)) => Ok((Some(string_or_list(n)?), true)),
        (None, None) => Ok((None, false)),
    }
}

fn string_or_list(node: &Node) -> Result<RawList, Malformed> {
    match &node.value {
        Json::String(s) => Ok(RawList {
            items: vec![Some(s.clone())],
            is_list: false,
        }),
        Json::Array(items) => {
            let items = items
                .iter()
                .map(|i| match &i.value {
                    Json::String(s) => Ok(Some(s.clone())),
                    Json::Null => Ok(None),
                    _ => Err(Malformed::syntax()),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(RawList {
                items,
                is_list: true,
            })
        }
        _ => Err(Malformed::syntax()),
    }
}

fn principal_syntax(node: &Node) -> Result<(), Malformed> {
    match &node.value {
        Json::String(s) if s == "*" => Ok(()),
        Json::Object(members) if !members.is_empty() => {
            for (k, v) in members {
                if !matches!(
                    k.as_str(),
                    "AWS" | "Service" | "Federated" | "CanonicalUser"
                ) {
                    return Err(Malformed::syntax());
                }
                let list = string_or_list(v)?;
                if list.items.iter().any(Option::is_none) || list.items.is_empty() {
                    return Err(Malformed::syntax());
                }
            }
            Ok(())
        }
        _ => Err(Malformed::syntax()),
    }
}

fn conditions(node: &Node) -> Result<Vec<RawCondition>, Malformed> {
    let Json::Object(ops) = &node.value else {
        return Err(Malformed::syntax());
    };
    let mut out = Vec::with_capacity(ops.len());
    for (name, block) in ops {
        let Json::Object(keys) = &block.value else {
            return Err(Malformed::syntax());
        };
        let op = Operator::parse(name);
        if op.is_none() && !keys.is_empty() {
            return Err(Malformed::syntax());
        }
        let mut parsed = Vec::with_capacity(keys.len());
        for (key, values) in keys {
            let values = match &values.value {
                Json::Array(items) => items
                    .iter()
                    .map(|i| scalar(&i.value))
                    .collect::<Result<Vec<_>, _>>()?,
                other => vec![scalar(other)?],
            };
            parsed.push((key.clone(), values));
        }
        out.push(RawCondition { op, keys: parsed });
    }
    Ok(out)
}

/// A condition value: a string, a boolean or a number, read as text.
fn scalar(v: &Json) -> Result<String, Malformed> {
    match v {
        Json::String(s) => Ok(s.clone()),
        Json::Bool(b) => Ok(b.to_string()),
        Json::Number(n) => Ok(n.clone()),
        _ => Err(Malformed::syntax()),
    }
}

/// Turns a checked document into its compiled form.
pub(super) fn compile(doc: &RawDoc<'_>) -> Policy {
    let version = doc.version.unwrap_or(Version::V2008);
    let variables = version == Version::V2012;
    let statements = doc
        .statements
        .iter()
        .map(|s| Statement {
            sid: s.sid.clone().filter(|sid| !sid.is_empty()),
            allow: s.effect == "Allow",
            actions: Actions {
                negated: s.action_negated,
                patterns: s
                    .action
                    .iter()
                    .flat_map(|l| l.items.iter().flatten())
                    .map(|a| {
                        let t = Template::compile(a, false, true);
                        t.resolve(&crate::eval::Context::new())
                            .map(|p| p.into_owned())
                            .unwrap_or_default()
                    })
                    .collect(),
            },
            resources: s.resource.as_ref().map(|l| Resources {
                negated: s.resource_negated,
                patterns: l
                    .items
                    .iter()
                    .flatten()
                    .map(|r| Template::compile(r, variables, true))
                    .collect(),
            }),
            principals: s.principal.map(|p| principals(p, s.principal_negated)),
            conditions: s
                .conditions
                .iter()
                .flat_map(|c| {
                    let op = c.op.unwrap_or_else(Operator::unknown);
                    c.keys
                        .iter()
                        .map(move |(k, vs)| Condition::new(op, k, vs, variables))
                })
                .collect(),
            index: s.index,
            start: s.node.start,
            end: s.node.end,
        })
        .collect();
    Policy {
        version,
        id: doc.id.clone(),
        statements,
    }
}

fn principals(node: &Node, negated: bool) -> Principals {
    let mut p = Principals {
        negated,
        ..Principals::default()
    };
    let Json::Object(members) = &node.value else {
        p.anyone = true;
        return p;
    };
    for (kind, v) in members {
        let items: Vec<String> = string_or_list(v)
            .map(|l| l.items.into_iter().flatten().collect())
            .unwrap_or_default();
        for item in items {
            match kind.as_str() {
                "AWS" if item == "*" => p.anyone = true,
                "AWS" => p.aws.push(super::checks::aws_principal_arn(&item)),
                "Service" => p.services.push(item.to_ascii_lowercase()),
                "Federated" => p.federated.push(item),
                _ => p.canonical_users.push(item),
            }
        }
    }
    p
}
