//! Documents IAM refuses, each with IAM's exact message, and documents IAM accepts.

mod common;

use ferry_iam::{parse, parse_managed, DocumentKind};

#[test]
fn every_recorded_malformed_document_gets_iams_message() {
    let (malformed, _) = common::iam_answers();
    assert!(malformed.len() >= 40, "{} cases", malformed.len());
    let mut wrong = Vec::new();
    for (doc, message) in &malformed {
        match parse_managed(doc) {
            Ok(_) => wrong.push(format!("accepted: {doc}")),
            Err(e) if e.message != *message => {
                wrong.push(format!("{doc}\n  want: {message}\n  got:  {}", e.message))
            }
            Err(e) => assert_eq!(e.code, "MalformedPolicyDocument"),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_recorded_valid_document_is_accepted() {
    let (_, valid) = common::iam_answers();
    assert!(valid.len() >= 50);
    for doc in &valid {
        if let Err(e) = parse_managed(doc) {
            panic!("{doc}: {e}");
        }
    }
}

const OK: &str = r#""Effect":"Allow","Action":"s3:GetObject","Resource":"*""#;

fn identity(statement: &str) -> Result<(), String> {
    let doc = format!(r#"{{"Version":"2012-10-17","Statement":{{{statement}}}}}"#);
    parse(&doc, DocumentKind::Identity)
        .map(|_| ())
        .map_err(|e| e.message)
}

fn trust(statement: &str) -> Result<(), String> {
    let doc = format!(r#"{{"Version":"2012-10-17","Statement":[{{{statement}}}]}}"#);
    parse(&doc, DocumentKind::Trust)
        .map(|_| ())
        .map_err(|e| e.message)
}

#[test]
fn identity_policies_refuse_principals_and_odd_sids() {
    assert_eq!(
        identity(&format!(r#"{OK},"Principal":"*""#)),
        Err("Policy document should not specify a principal.".into())
    );
    assert_eq!(
        identity(&format!(r#"{OK},"NotPrincipal":{{"AWS":"123456789012"}}"#)),
        Err("Policy document should not specify a principal.".into())
    );
    assert_eq!(
        identity(&format!(r#"{OK},"Sid":"has space""#)),
        Err("Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*".into())
    );
    assert_eq!(identity(&format!(r#"{OK},"Sid":"Abc123""#)), Ok(()));
}

#[test]
fn the_seeds_console_policy_without_its_comma_is_a_syntax_error() {
    let broken = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:ListAllMyBuckets","s3:ListObjects" "s3:GetBucketLocation"],"Resource":"*"}]}"#;
    let e = parse(broken, DocumentKind::Identity).expect_err("no comma");
    assert_eq!(e.message, "Syntax errors in policy.");
    let fixed = broken.replace(r#""s3:ListObjects" "#, r#""s3:ListObjects","#);
    assert!(parse(&fixed, DocumentKind::Identity).is_ok());
}

#[test]
fn duplicate_keys_and_foreign_characters_are_refused() {
    let dup = r#"{"Version":"2012-10-17","Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#;
    assert_eq!(
        parse(dup, DocumentKind::Identity).expect_err("dup").message,
        "Syntax errors in policy."
    );
    let cjk = r#"{"Version":"2012-10-17","Statement":{"Sid":"中","Effect":"Allow","Action":"*","Resource":"*"}}"#;
    let e = parse(cjk, DocumentKind::Identity).expect_err("U+4E2D");
    assert_eq!(e.code, "ValidationError");
    let latin1 = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::café"}}"#;
    assert!(parse(latin1, DocumentKind::Identity).is_ok());
}

#[test]
fn missing_version_is_legal_for_inline_policies_but_not_managed_ones() {
    let doc = r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#;
    let p = parse(doc, DocumentKind::Identity).expect("inline");
    assert_eq!(p.version(), ferry_iam::Version::V2008);
    assert_eq!(
        parse_managed(doc).expect_err("managed").message,
        "Policy document must be version 2012-10-17 or greater."
    );
}

#[test]
fn trust_policies() {
    let rds =
        r#""Effect":"Allow","Principal":{"Service":"rds.amazonaws.com"},"Action":"sts:AssumeRole""#;
    assert_eq!(trust(rds), Ok(()));
    assert_eq!(
        trust(r#""Effect":"Allow","Action":"sts:AssumeRole""#),
        Err("Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: The passed in policy has a statement with no principals!".into())
    );
    assert_eq!(
        trust(&format!(r#"{rds},"Resource":"*""#)),
        Err("Has prohibited field Resource.".into())
    );
    assert_eq!(
        trust(r#""Effect":"Allow","Principal":{"Service":"rds.amazonaws.com"},"Action":"s3:GetObject""#),
        Err("Trust Policy statement actions can only be sts:AssumeRole, sts:AssumeRoleWithSAML,  and sts:AssumeRoleWithWebIdentity".into())
    );
    assert_eq!(
        trust(r#""Effect":"Allow","Principal":{"AWS":"alice"},"Action":"sts:AssumeRole""#),
        Err(r#"Invalid principal in policy: "AWS":"alice""#.into())
    );
    assert_eq!(
        trust(
            r#""Effect":"Allow","Principal":{"Service":"not a service"},"Action":"sts:AssumeRole""#
        ),
        Err(r#"Invalid principal in policy: "SERVICE":"not a service""#.into())
    );
    assert_eq!(
        trust(
            r#""Effect":"Allow","Principal":{"AWS":["123456789012","arn:aws:iam::123456789012:role/x"]},"Action":"sts:AssumeRole""#
        ),
        Ok(())
    );
    assert_eq!(
        trust(r#""Effect":"Allow","Principal":"*","Action":"sts:AssumeRole""#),
        Ok(())
    );
}

#[test]
fn statement_positions_are_reported() {
    let doc = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Sid\": \"A\", \"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\"},\n    {\"Sid\": \"B\", \"Effect\": \"Deny\", \"Action\": \"*\", \"Resource\": \"*\"}\n  ]\n}";
    let p = parse(doc, DocumentKind::Identity).expect("valid");
    let s = &p.statements()[1];
    assert_eq!(s.sid(), Some("B"));
    assert_eq!((s.start().line, s.start().column), (5, 5));
    assert_eq!((s.end().line, s.end().column), (5, 66));
}

#[test]
fn document_size_ignores_whitespace() {
    assert_eq!(ferry_iam::document_size("{ \"a\" :\n\t1 }"), 7);
}
