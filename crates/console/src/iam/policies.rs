//! A managed policy's page: its facts (`GetPolicy`) and its default version's document
//! (`GetPolicyVersion`), decoded and indented. Also how the pages show a policy document
//! ([`document`]): IAM sends documents URL-encoded, as AWS does.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use ferry_api::server::Peer;

use super::call;
use crate::pages::{api_error, principal};
use crate::{html, to_sign_in, Chrome, Console};

/// A policy document as IAM sends it (URL-encoded) as the pages show it: decoded, and
/// indented when it is JSON (keys in the document's own order).
pub(crate) fn document(encoded: &str) -> String {
    let text = percent_encoding::percent_decode_str(encoded).decode_utf8_lossy();
    pretty_json(&text).unwrap_or_else(|| text.into_owned())
}

/// `text` indented by two spaces a level, one member or element a line, or `None` when it is
/// not JSON. Unlike `serde_json::to_string_pretty` of a `Value`, keys keep their order.
pub(crate) fn pretty_json(text: &str) -> Option<String> {
    serde_json::from_str::<serde::de::IgnoredAny>(text).ok()?;
    fn newline(out: &mut String, depth: usize) {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    }
    let mut out = String::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push('"');
                while let Some(c) = chars.next() {
                    out.push(c);
                    if c == '\\' {
                        out.extend(chars.next());
                    } else if c == '"' {
                        break;
                    }
                }
            }
            '{' | '[' => {
                let close = if c == '{' { '}' } else { ']' };
                while chars.next_if(|c| c.is_ascii_whitespace()).is_some() {}
                out.push(c);
                if chars.next_if_eq(&close).is_some() {
                    out.push(close);
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(',');
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_ascii_whitespace() => {}
            c => out.push(c),
        }
    }
    Some(out)
}

#[derive(Template)]
#[template(path = "iam_policy.html")]
pub(crate) struct PolicyPage {
    pub chrome: Chrome,
    pub name: String,
    pub arn: String,
    pub description: String,
    pub version: String,
    pub attachments: String,
    /// The default version's document, or IAM's refusal to show it.
    pub document: Result<String, String>,
}

/// `/console/iam/policies/{policy}`: `policy` is the policy's ARN (URL-encoded as one path
/// segment), or the name of a customer managed policy at path `/`.
pub async fn policy(
    State(console): State<Console>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Path(policy): Path<String>,
) -> Response {
    let (s, p) = match principal(&console, &headers, peer) {
        Ok(x) => x,
        Err(why) => return to_sign_in(why),
    };
    let arn = if policy.starts_with("arn:") {
        policy
    } else {
        console.cp().policy_arn("/", &policy)
    };
    let name = arn.rsplit('/').next().unwrap_or_default().to_string();
    let chrome = Chrome::for_session(format!("IAM policy {name}"), "iam", &s);
    // A policy that does not exist (NoSuchEntity) is the 404 page, in IAM's words.
    let got = match call(&console, &p, "GetPolicy", &[("PolicyArn", &arn)]).await {
        Ok(a) => a,
        Err(e) => return api_error(chrome, &e),
    };
    let facts = got.find("Policy").cloned().unwrap_or_default();
    let version = facts.get("DefaultVersionId").to_string();
    let shown = match call(
        &console,
        &p,
        "GetPolicyVersion",
        &[("PolicyArn", &arn), ("VersionId", &version)],
    )
    .await
    {
        Ok(a) => Ok(document(
            a.find("PolicyVersion")
                .map(|v| v.get("Document"))
                .unwrap_or(""),
        )),
        Err(e) if e.status < 500 => Err(e.message),
        Err(e) => return api_error(chrome, &e),
    };
    html(&PolicyPage {
        chrome,
        name: facts.get("PolicyName").to_string(),
        arn: facts.get("Arn").to_string(),
        description: facts.get("Description").to_string(),
        version,
        attachments: facts.get("AttachmentCount").to_string(),
        document: shown,
    })
}
