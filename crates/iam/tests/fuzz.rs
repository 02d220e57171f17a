//! Random and mutated documents and condition values: always a refusal or a decision, never a
//! panic, and quickly.

mod common;

use std::time::{Duration, Instant};

use ferry_iam::{
    evaluate, parse, trusts, Context, DocumentKind, NamedPolicy, PrincipalRef, Request,
};
use proptest::prelude::*;

const SEED: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":["s3:Get*","iam:PassRole"],"Resource":"arn:aws:s3:::b/${aws:username}/*","Condition":{"StringLike":{"s3:prefix":"a*"},"ForAnyValue:StringEquals":{"aws:TagKeys":["x"]},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}},{"Effect":"Deny","NotAction":"s3:*","NotResource":"*"}]}"#;

fn exercise(text: &str) {
    let started = Instant::now();
    for kind in [DocumentKind::Identity, DocumentKind::Trust] {
        if let Ok(policy) = parse(text, kind) {
            let mut ctx = Context::new();
            ctx.set("aws:username", "alice");
            ctx.set("s3:prefix", "abc");
            ctx.set("aws:SourceIp", "10.1.2.3");
            ctx.set_multi("aws:TagKeys", vec!["x".into(), "y".into()]);
            let named = [NamedPolicy {
                name: "p",
                policy: &policy,
            }];
            let req = Request {
                action: "s3:GetObject",
                resource: "arn:aws:s3:::b/alice/k",
                context: &ctx,
            };
            let _ = evaluate(&named, &req);
            let _ = trusts(
                &policy,
                &PrincipalRef::Service("rds.amazonaws.com"),
                "sts:AssumeRole",
                &ctx,
            );
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "slow on {text:?}"
    );
}

fn corpus() -> Vec<String> {
    let (malformed, valid) = common::iam_answers();
    let mut all: Vec<String> = malformed.into_iter().map(|(d, _)| d).collect();
    all.extend(valid);
    all.push(SEED.to_owned());
    all
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(text in "\\PC{0,200}") {
        exercise(&text);
    }

    #[test]
    fn mutated_documents_never_panic(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
    ) {
        let all = corpus();
        let mut bytes = all[pick.index(all.len())].clone().into_bytes();
        for (at, byte, op) in edits {
            if bytes.is_empty() { break; }
            let i = at.index(bytes.len());
            const ALPHABET: &[u8] = b"{}[]\",:*?$ \\aZ09-/";
            let b = ALPHABET[byte as usize % ALPHABET.len()];
            match op {
                0 => bytes[i] = b,
                1 => bytes.insert(i, b),
                _ => { bytes.remove(i); }
            }
        }
        exercise(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn condition_values_never_panic(
        op in prop::sample::select(vec![
            "StringEquals", "StringNotLike", "StringEqualsIgnoreCase", "NumericLessThan", "NumericNotEquals",
            "DateGreaterThan", "DateEquals", "Bool", "BinaryEquals", "IpAddress", "NotIpAddress", "ArnLike",
            "ArnNotEquals", "Null", "ForAllValues:StringLike", "ForAnyValue:NumericEqualsIfExists", "StringLikeIfExists",
        ]),
        value in "[ -~]{0,40}",
        request in "[ -~]{0,40}",
    ) {
        let doc = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {op: {"k:v": value}}},
        });
        if let Ok(policy) = parse(&doc.to_string(), DocumentKind::Identity) {
            let mut ctx = Context::new();
            ctx.set("k:v", request.clone());
            ctx.set("aws:username", request);
            let named = [NamedPolicy { name: "p", policy: &policy }];
            let _ = evaluate(&named, &Request { action: "a:b", resource: "*", context: &ctx });
        }
    }

    #[test]
    fn wildcard_patterns_are_fast(pattern in "[a*?]{0,60}", subject in "a{0,2000}") {
        let doc = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": {"Effect": "Allow", "Action": "*", "Resource": format!("arn:aws:s3:::{pattern}")},
        });
        let policy = parse(&doc.to_string(), DocumentKind::Identity).expect("valid");
        let ctx = Context::new();
        let resource = format!("arn:aws:s3:::{subject}b");
        let started = Instant::now();
        let _ = evaluate(&[NamedPolicy { name: "p", policy: &policy }], &Request { action: "s3:GetObject", resource: &resource, context: &ctx });
        prop_assert!(started.elapsed() < Duration::from_millis(200));
    }
}
