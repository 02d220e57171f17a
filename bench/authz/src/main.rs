//! `bench/authz`: how long one authorization decision takes for a principal with 10 attached
//! policies of 10 statements each. Prints p50 and p99 per evaluation for several requests
//! (allowed early, allowed late, explicitly denied, implicitly denied after every statement).

use std::hint::black_box;
use std::time::Instant;

use ferry_iam::{evaluate, parse, Context, DocumentKind, NamedPolicy, Policy, Request};

/// Ten statements in the shapes people write: service wildcards, ARN wildcards, a variable,
/// a few conditions (IP, tags, dates, IfExists, set operators), one Deny.
fn policy_text(n: usize) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[
  {{"Sid":"List{n}","Effect":"Allow","Action":["s3:ListBucket","s3:GetBucketLocation"],"Resource":"arn:aws:s3:::bucket-{n}"}},
  {{"Sid":"Read{n}","Effect":"Allow","Action":"s3:GetObject","Resource":["arn:aws:s3:::bucket-{n}/backups/*","arn:aws:s3:::bucket-{n}/dumps/*.sql"]}},
  {{"Sid":"Home{n}","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::home-{n}/${{aws:username}}/*"}},
  {{"Sid":"Describe{n}","Effect":"Allow","Action":["rds:Describe*","rds:List*"],"Resource":"*","Condition":{{"StringEqualsIfExists":{{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}}}}},
  {{"Sid":"Pass{n}","Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::123456789012:role/team-{n}-*","Condition":{{"StringEquals":{{"iam:PassedToService":"rds.amazonaws.com"}}}}}},
  {{"Sid":"Office{n}","Effect":"Allow","Action":"rds:Modify*","Resource":"arn:aws:rds:*:123456789012:cluster:team-{n}-*","Condition":{{"IpAddress":{{"aws:SourceIp":["10.{n}.0.0/16","2001:db8:{n}::/48"]}}}}}},
  {{"Sid":"Tags{n}","Effect":"Allow","Action":"rds:AddTagsToResource","Resource":"arn:aws:rds:*:*:cluster:team-{n}-*","Condition":{{"ForAllValues:StringEquals":{{"aws:TagKeys":["env","team","cost"]}}}}}},
  {{"Sid":"Window{n}","Effect":"Allow","Action":"rds:RestoreDBClusterFromS3","Resource":"arn:aws:rds:*:*:cluster:team-{n}-*","Condition":{{"DateLessThan":{{"aws:CurrentTime":"2031-01-01T00:00:00Z"}},"Bool":{{"aws:SecureTransport":"true"}}}}}},
  {{"Sid":"Kms{n}","Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:us-east-1:123456789012:key/*","Condition":{{"StringLike":{{"kms:ViaService":"s3.*.amazonaws.com"}}}}}},
  {{"Sid":"NoProd{n}","Effect":"Deny","Action":["rds:Delete*","rds:Stop*"],"Resource":"arn:aws:rds:*:*:cluster:prod-*"}}
]}}"#
    )
}

fn measure(name: &str, policies: &[NamedPolicy<'_>], req: &Request<'_>, samples: usize) {
    let expected = evaluate(policies, req);
    // Warm-up.
    for _ in 0..samples / 10 {
        black_box(evaluate(black_box(policies), black_box(req)));
    }
    // Each sample times a batch of 8 decisions, so the clock's own cost stays small.
    const BATCH: u32 = 8;
    let mut ns: Vec<f64> = Vec::with_capacity(samples);
    for _ in 0..samples {
        let t = Instant::now();
        for _ in 0..BATCH {
            black_box(evaluate(black_box(policies), black_box(req)));
        }
        ns.push(t.elapsed().as_nanos() as f64 / f64::from(BATCH));
    }
    ns.sort_by(f64::total_cmp);
    let pct = |p: f64| ns[((ns.len() as f64 * p) as usize).min(ns.len() - 1)] / 1000.0;
    let deciding = expected
        .deciding
        .map(|d| format!("{}/{}", d.policy, d.sid.unwrap_or_default()))
        .unwrap_or_else(|| "-".into());
    println!(
        "{name:<28} {:<13} {deciding:<22} p50 {:>6.2} µs   p99 {:>6.2} µs   max {:>7.2} µs",
        format!("{:?}", expected.effect),
        pct(0.50),
        pct(0.99),
        pct(1.0),
    );
}

fn main() {
    let samples: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let texts: Vec<String> = (0..10).map(policy_text).collect();
    let parsed: Vec<Policy> = texts
        .iter()
        .map(|t| parse(t, DocumentKind::Identity).expect("benchmark policy is valid"))
        .collect();
    let names: Vec<String> = (0..10)
        .map(|i| format!("arn:aws:iam::123456789012:policy/team-{i}"))
        .collect();
    let policies: Vec<NamedPolicy<'_>> = names
        .iter()
        .zip(&parsed)
        .map(|(name, policy)| NamedPolicy { name, policy })
        .collect();
    let statements: usize = parsed.iter().map(|p| p.statements().len()).sum();

    let mut ctx = Context::new();
    ctx.set("aws:username", "alice");
    ctx.set("aws:userid", "AIDAEXAMPLEALICE");
    ctx.set("aws:PrincipalArn", "arn:aws:iam::123456789012:user/alice");
    ctx.set("aws:SourceIp", "10.9.3.4");
    ctx.set("aws:SecureTransport", "true");
    ctx.set("aws:CurrentTime", "2026-12-02T12:00:00Z");
    ctx.set("aws:EpochTime", "1764676800");
    ctx.set("aws:RequestedRegion", "us-east-1");
    ctx.set("iam:PassedToService", "rds.amazonaws.com");
    ctx.set_multi("aws:TagKeys", vec!["env".into(), "team".into()]);

    println!(
        "bench/authz: {} policies, {statements} statements, {samples} samples per request, one thread",
        parsed.len()
    );
    let cases = [
        (
            "allow, first policy",
            "s3:GetObject",
            "arn:aws:s3:::bucket-0/backups/full.xb",
        ),
        (
            "allow, last policy",
            "s3:GetObject",
            "arn:aws:s3:::bucket-9/dumps/db.sql",
        ),
        (
            "allow, variable",
            "s3:PutObject",
            "arn:aws:s3:::home-7/alice/notes.txt",
        ),
        (
            "allow, IP condition",
            "rds:ModifyDBCluster",
            "arn:aws:rds:us-east-1:123456789012:cluster:team-9-a",
        ),
        (
            "allow, set operator",
            "rds:AddTagsToResource",
            "arn:aws:rds:us-east-1:123456789012:cluster:team-5-a",
        ),
        (
            "allow, dates",
            "rds:RestoreDBClusterFromS3",
            "arn:aws:rds:us-east-1:123456789012:cluster:team-8-x",
        ),
        (
            "explicit deny",
            "rds:DeleteDBCluster",
            "arn:aws:rds:us-east-1:123456789012:cluster:prod-1",
        ),
        (
            "implicit deny (all scanned)",
            "ec2:RunInstances",
            "arn:aws:ec2:us-east-1:123456789012:instance/i-1",
        ),
    ];
    for (name, action, resource) in cases {
        let req = Request {
            action,
            resource,
            context: &ctx,
        };
        measure(name, &policies, &req, samples);
    }
}
