//! The policy simulator: SimulatePrincipalPolicy and SimulateCustomPolicy, evaluated by the
//! same `ferry_iam::evaluate` as authorization.
//!
//! Each (action, resource) pair is one `EvaluationResult` (resource `*` when no
//! `ResourceArns` are given); with `ResourceArns`, each result also carries its
//! `ResourceSpecificResults` entry. `MatchedStatements` names the statement that decided
//! (`SourcePolicyId`: the policy's name, or `PolicyInputList.N` for a document in the
//! request). Beyond AWS, each result carries `<FerryDecidingSid>` (the deciding statement's
//! `Sid`, when it has one) and `<FerryDecidingStatementIndex>` (its index in the document's
//! `Statement` list); botocore ignores elements its model does not name.

use ferry_control::service::{ContextEntry, Evaluation, MatchedStatement, SimulatedPolicy};
use ferry_iam::Effect;

use super::{page, reply, write_paging};
use crate::error::ApiError;
use crate::iam::{Handler, Reply};
use crate::xml::XmlWriter;

pub(super) fn principal(h: &Handler<'_>) -> Result<Reply, ApiError> {
    let source = h.params.required("PolicySourceArn")?;
    h.authorize("SimulatePrincipalPolicy", source)?;
    let mut policies = h.cp.policies_of_principal(source)?;
    policies.extend(input_policies(h));
    run(h, policies)
}

pub(super) fn custom(h: &Handler<'_>) -> Result<Reply, ApiError> {
    h.authorize("SimulateCustomPolicy", "*")?;
    let policies = input_policies(h);
    if policies.is_empty() {
        return Err(crate::params::ParamError::missing("PolicyInputList").into());
    }
    run(h, policies)
}

/// `PolicyInputList.member.N`, reported as `PolicyInputList.N`.
fn input_policies(h: &Handler<'_>) -> Vec<SimulatedPolicy> {
    h.params
        .list("PolicyInputList", "member")
        .into_iter()
        .enumerate()
        .map(|(i, document)| SimulatedPolicy {
            source_id: format!("PolicyInputList.{}", i + 1),
            source_type: "IAM Policy".into(),
            document: document.into(),
        })
        .collect()
}

/// `ContextEntries.member.N.{ContextKeyName, ContextKeyValues.member.M, ContextKeyType}`.
fn context(h: &Handler<'_>) -> Result<Vec<ContextEntry>, ApiError> {
    let mut out = Vec::new();
    for (i, mut entry) in h
        .params
        .structs("ContextEntries", "member")
        .into_iter()
        .enumerate()
    {
        let key = entry.remove("ContextKeyName").ok_or_else(|| {
            crate::params::ParamError::missing(&format!(
                "ContextEntries.member.{}.ContextKeyName",
                i + 1
            ))
        })?;
        let mut values = Vec::new();
        for n in 1usize.. {
            match entry.remove(&format!("ContextKeyValues.member.{n}")) {
                Some(v) => values.push(v),
                None => break,
            }
        }
        out.push(ContextEntry {
            key,
            values,
            kind: entry.remove("ContextKeyType"),
        });
    }
    Ok(out)
}

fn run(h: &Handler<'_>, policies: Vec<SimulatedPolicy>) -> Result<Reply, ApiError> {
    let strings = |name: &str| -> Vec<String> {
        h.params
            .list(name, "member")
            .into_iter()
            .map(str::to_string)
            .collect()
    };
    let actions = strings("ActionNames");
    if actions.is_empty() {
        return Err(crate::params::ParamError::missing("ActionNames").into());
    }
    let resources = strings("ResourceArns");
    let per_resource = !resources.is_empty();
    let results =
        h.cp.simulate(&policies, &actions, &resources, &context(h)?)?;
    let (results, next) = page(h, results)?;
    reply(move |w| {
        w.start("EvaluationResults");
        for r in &results {
            write_result(w, r, per_resource);
        }
        w.end();
        write_paging(w, &next);
    })
}

fn decision(effect: Effect) -> &'static str {
    match effect {
        Effect::Allow => "allowed",
        Effect::ExplicitDeny => "explicitDeny",
        Effect::ImplicitDeny => "implicitDeny",
    }
}

fn write_matched(w: &mut XmlWriter, matched: &[MatchedStatement]) {
    w.start("MatchedStatements");
    for m in matched {
        w.start("member")
            .elem("SourcePolicyId", &m.source_id)
            .elem("SourcePolicyType", &m.source_type)
            .end();
    }
    w.end();
}

fn write_result(w: &mut XmlWriter, r: &Evaluation, per_resource: bool) {
    w.start("member")
        .elem("EvalActionName", &r.action)
        .elem("EvalResourceName", &r.resource)
        .elem("EvalDecision", decision(r.decision));
    write_matched(w, &r.matched);
    w.list("MissingContextValues", "member", &r.missing_context);
    if per_resource {
        w.start("ResourceSpecificResults")
            .start("member")
            .elem("EvalResourceName", &r.resource)
            .elem("EvalResourceDecision", decision(r.decision));
        write_matched(w, &r.matched);
        w.list("MissingContextValues", "member", &r.missing_context);
        w.end().end();
    }
    if let Some(m) = r.matched.first() {
        w.opt_elem("FerryDecidingSid", m.sid.as_deref());
        w.elem("FerryDecidingStatementIndex", m.index);
    }
    w.end();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_names_the_deciding_statement_and_its_sid() {
        let r = Evaluation {
            action: "iam:PassRole".into(),
            resource: "arn:aws:iam::123456789012:role/S3Access".into(),
            decision: Effect::Allow,
            matched: vec![MatchedStatement {
                source_id: "PolicyInputList.1".into(),
                source_type: "IAM Policy".into(),
                sid: Some("AllowS3AccessRole".into()),
                index: 0,
            }],
            missing_context: vec!["aws:SourceIp".into()],
        };
        let mut w = XmlWriter::new();
        write_result(&mut w, &r, true);
        let xml = w.finish();
        let matched = "<MatchedStatements><member><SourcePolicyId>PolicyInputList.1</SourcePolicyId>\
                       <SourcePolicyType>IAM Policy</SourcePolicyType></member></MatchedStatements>";
        assert!(
            xml.starts_with(&format!(
                "<member><EvalActionName>iam:PassRole</EvalActionName>\
             <EvalResourceName>arn:aws:iam::123456789012:role/S3Access</EvalResourceName>\
             <EvalDecision>allowed</EvalDecision>{matched}\
             <MissingContextValues><member>aws:SourceIp</member></MissingContextValues>\
             <ResourceSpecificResults><member>\
             <EvalResourceName>arn:aws:iam::123456789012:role/S3Access</EvalResourceName>\
             <EvalResourceDecision>allowed</EvalResourceDecision>{matched}"
            )),
            "{xml}"
        );
        assert!(
            xml.ends_with(
                "<FerryDecidingSid>AllowS3AccessRole</FerryDecidingSid>\
             <FerryDecidingStatementIndex>0</FerryDecidingStatementIndex></member>"
            ),
            "{xml}"
        );
    }
}
