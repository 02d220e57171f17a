//! The evaluation table: each case names the request, the expected decision and the statement
//! (policy, Sid) that decided it.

use ferry_iam::{
    evaluate, parse, trusts, Context, DocumentKind, Effect, NamedPolicy, Policy, PrincipalRef,
    Request,
};

const POLICIES: &[(&str, &str)] = &[
    (
        "ingest",
        r#"{"Version":"2012-10-17","Statement":[
        {"Sid":"List","Effect":"Allow","Action":["s3:ListBucket","s3:GetBucketLocation"],"Resource":"arn:aws:s3:::bucket"},
        {"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/backups/*"},
        {"Sid":"Kms","Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:us-east-1:123456789012:key/*"}]}"#,
    ),
    (
        "pass",
        r#"{"Version":"2012-10-17","Statement":[
        {"Sid":"Pass","Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::123456789012:role/S3Access",
         "Condition":{"StringEquals":{"iam:PassedToService":"rds.amazonaws.com"}}},
        {"Sid":"ListRoles","Effect":"Allow","Action":["iam:ListRoles","iam:GetRole"],"Resource":"*"}]}"#,
    ),
    (
        "rds",
        r#"{"Version":"2012-10-17","Statement":{"Sid":"Rds","Effect":"Allow","Action":"rds:*","Resource":"*"}}"#,
    ),
    (
        "noprod",
        r#"{"Version":"2012-10-17","Statement":[
        {"Sid":"NoProdDelete","Effect":"Deny","Action":"rds:Delete*","Resource":"arn:aws:rds:*:*:cluster:prod-*"},
        {"Sid":"NoProdModify","Effect":"Deny","Action":["rds:ModifyDBCluster","rds:Reboot?BInstance"],"Resource":["arn:aws:rds:*:*:cluster:prod-*","arn:aws:rds:*:*:db:prod-*"]}]}"#,
    ),
    (
        "notaction",
        r#"{"Version":"2012-10-17","Statement":{"Sid":"AllButIam","Effect":"Allow","NotAction":["iam:*","sts:*"],"Resource":"*"}}"#,
    ),
    (
        "notresource",
        r#"{"Version":"2012-10-17","Statement":[
        {"Sid":"S3All","Effect":"Allow","Action":"s3:*","Resource":"*"},
        {"Sid":"OnlyPayroll","Effect":"Deny","Action":"s3:*","NotResource":["arn:aws:s3:::hr/payroll","arn:aws:s3:::hr/payroll/*"]}]}"#,
    ),
    (
        "vars",
        r#"{"Version":"2012-10-17","Statement":[
        {"Sid":"Home","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::home/${aws:username}/*"},
        {"Sid":"Self","Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::*:user/${aws:username}"},
        {"Sid":"ListHome","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::home","Condition":{"StringLike":{"s3:prefix":["home/${aws:username}/*",""]}}},
        {"Sid":"Drop","Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::drop/${aws:username, 'anonymous'}/*"},
        {"Sid":"Literal","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::lit/${*}${?}${$}"},
        {"Sid":"ById","Effect":"Allow","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::ids/${aws:userid}/*"},
        {"Sid":"TeamTag","Effect":"Allow","Action":"rds:ModifyDBCluster","Resource":"arn:aws:rds:*:*:cluster:*","Condition":{"StringEquals":{"rds:cluster-tag/team":"${aws:PrincipalTag/team}"}}}]}"#,
    ),
    (
        "old",
        r#"{"Version":"2008-10-17","Statement":{"Sid":"OldHome","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::home/${aws:username}/*"}}"#,
    ),
    (
        "noversion",
        r#"{"Statement":{"Sid":"Bare","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bare/${aws:username}"}}"#,
    ),
    (
        "cond",
        r#"{"Version":"2012-10-17","Statement":[
        {"Sid":"IpOnly","Effect":"Allow","Action":"ec2:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:db8::/32"]}}},
        {"Sid":"NotFromOffice","Effect":"Deny","Action":"ec2:TerminateInstances","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},
        {"Sid":"Window","Effect":"Allow","Action":"dynamodb:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"},"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}},
        {"Sid":"MaxKeys","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::nums","Condition":{"NumericLessThanEquals":{"s3:max-keys":"100"}}},
        {"Sid":"Region","Effect":"Allow","Action":"rds:Describe*","Resource":"*","Condition":{"StringEqualsIfExists":{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}},
        {"Sid":"TagKeys","Effect":"Allow","Action":"rds:AddTagsToResource","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}},
        {"Sid":"TempTags","Effect":"Allow","Action":"rds:RemoveTagsFromResource","Resource":"*","Condition":{"ForAnyValue:StringLike":{"aws:TagKeys":["temp-*"]}}},
        {"Sid":"Engine","Effect":"Allow","Action":"rds:CreateDBCluster","Resource":"*","Condition":{"StringEquals":{"rds:DatabaseEngine":"aurora-mysql"},"StringEqualsIgnoreCase":{"aws:RequestTag/env":"PROD"}}},
        {"Sid":"OwnerTag","Effect":"Allow","Action":"rds:CreateDBInstance","Resource":"*","Condition":{"Null":{"aws:RequestTag/owner":"false"}}},
        {"Sid":"Admins","Effect":"Allow","Action":"iam:CreateUser","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/admin-*"}}},
        {"Sid":"NoGuests","Effect":"Allow","Action":"sqs:*","Resource":"*","Condition":{"StringNotLike":{"aws:username":"guest*"}}},
        {"Sid":"Epoch","Effect":"Allow","Action":"sns:Publish","Resource":"*","Condition":{"DateLessThan":{"aws:EpochTime":"1893456000"}}},
        {"Sid":"Bin","Effect":"Allow","Action":"kms:Encrypt","Resource":"*","Condition":{"BinaryEquals":{"kms:Blob":"QmluYXJ5"}}},
        {"Sid":"NoTls","Effect":"Deny","Action":"kms:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}},
        {"Sid":"Ratio","Effect":"Allow","Action":"lambda:Invoke","Resource":"*","Condition":{"NumericGreaterThan":{"x:ratio":"0.5"},"NumericNotEquals":{"x:ratio":"0.75"}}},
        {"Sid":"NotProd","Effect":"Allow","Action":"logs:*","Resource":"*","Condition":{"StringNotEquals":{"aws:ResourceTag/env":"prod"}}},
        {"Sid":"NoTempKeys","Effect":"Allow","Action":"rds:CreateDBSnapshot","Resource":"*","Condition":{"ForAllValues:StringNotLike":{"aws:TagKeys":"temp-*"}}},
        {"Sid":"ArnNot","Effect":"Allow","Action":"sts:TagSession","Resource":"*","Condition":{"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::123456789012:role/blocked"}}},
        {"Sid":"Mfa","Effect":"Allow","Action":"iam:DeleteUser","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"true"}}},
        {"Sid":"Since","Effect":"Allow","Action":"ssm:GetParameter","Resource":"*","Condition":{"DateGreaterThanEquals":{"aws:CurrentTime":"2024-06-01"}}}]}"#,
    ),
];

enum Want {
    Allow(&'static str, &'static str),
    Deny(&'static str, &'static str),
    Implicit,
}
use Want::*;

struct Case {
    policies: &'static [&'static str],
    action: &'static str,
    resource: &'static str,
    context: &'static [(&'static str, &'static str)],
    want: Want,
}

const fn c(
    policies: &'static [&'static str],
    action: &'static str,
    resource: &'static str,
    context: &'static [(&'static str, &'static str)],
    want: Want,
) -> Case {
    Case {
        policies,
        action,
        resource,
        context,
        want,
    }
}

const BUCKET: &str = "arn:aws:s3:::bucket";
const NOW: (&str, &str) = ("aws:CurrentTime", "2026-12-02T12:00:00Z");
const ALICE: (&str, &str) = ("aws:username", "alice");

#[rustfmt::skip]
const CASES: &[Case] = &[
    // The seed's ingestion role: exactly the bucket, the prefix, the key.
    c(&["ingest"], "s3:ListBucket", BUCKET, &[], Allow("ingest", "List")),
    c(&["ingest"], "S3:LISTBUCKET", BUCKET, &[], Allow("ingest", "List")),
    c(&["ingest"], "s3:listbucket", BUCKET, &[], Allow("ingest", "List")),
    c(&["ingest"], "s3:GetBucketLocation", BUCKET, &[], Allow("ingest", "List")),
    c(&["ingest"], "s3:ListBucket", "arn:aws:s3:::other", &[], Implicit),
    c(&["ingest"], "s3:ListBucket", "arn:aws:s3:::BUCKET", &[], Implicit),
    c(&["ingest"], "s3:ListBucket", "arn:aws:s3:::bucket/", &[], Implicit),
    c(&["ingest"], "s3:GetObject", "arn:aws:s3:::bucket/backups/full.xb", &[], Allow("ingest", "Read")),
    c(&["ingest"], "s3:GetObject", "arn:aws:s3:::bucket/backups/2026/12/inc:1.xb", &[], Allow("ingest", "Read")),
    c(&["ingest"], "s3:GetObject", "arn:aws:s3:::bucket/backups/", &[], Allow("ingest", "Read")),
    c(&["ingest"], "s3:GetObject", "arn:aws:s3:::bucket/other/full.xb", &[], Implicit),
    c(&["ingest"], "s3:GetObject", "arn:aws:s3:::bucket/Backups/full.xb", &[], Implicit),
    c(&["ingest"], "s3:GetObject", "arn:aws:s3:::bucket/backups", &[], Implicit),
    c(&["ingest"], "s3:PutObject", "arn:aws:s3:::bucket/backups/x", &[], Implicit),
    c(&["ingest"], "s3:GetObjectVersion", "arn:aws:s3:::bucket/backups/x", &[], Implicit),
    c(&["ingest"], "kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/abcd", &[], Allow("ingest", "Kms")),
    c(&["ingest"], "kms:Decrypt", "arn:aws:kms:us-west-2:123456789012:key/abcd", &[], Implicit),
    c(&["ingest"], "kms:Encrypt", "arn:aws:kms:us-east-1:123456789012:key/abcd", &[], Implicit),
    c(&["ingest"], "s3:ListBucket", "*", &[], Implicit),
    c(&[], "s3:ListBucket", BUCKET, &[], Implicit),
    // PassRole with iam:PassedToService.
    c(&["pass"], "iam:PassRole", "arn:aws:iam::123456789012:role/S3Access", &[("iam:PassedToService", "rds.amazonaws.com")], Allow("pass", "Pass")),
    c(&["pass"], "iam:passrole", "arn:aws:iam::123456789012:role/S3Access", &[("IAM:PASSEDTOSERVICE", "rds.amazonaws.com")], Allow("pass", "Pass")),
    c(&["pass"], "iam:PassRole", "arn:aws:iam::123456789012:role/S3Access", &[("iam:PassedToService", "ec2.amazonaws.com")], Implicit),
    c(&["pass"], "iam:PassRole", "arn:aws:iam::123456789012:role/S3Access", &[("iam:PassedToService", "RDS.amazonaws.com")], Implicit),
    c(&["pass"], "iam:PassRole", "arn:aws:iam::123456789012:role/S3Access", &[], Implicit),
    c(&["pass"], "iam:PassRole", "arn:aws:iam::123456789012:role/Admin", &[("iam:PassedToService", "rds.amazonaws.com")], Implicit),
    c(&["pass"], "iam:PassRole", "arn:aws:iam::123456789012:role/s3access", &[("iam:PassedToService", "rds.amazonaws.com")], Implicit),
    c(&["pass"], "iam:PassRole", "arn:aws:iam::210987654321:role/S3Access", &[("iam:PassedToService", "rds.amazonaws.com")], Implicit),
    c(&["pass"], "iam:ListRoles", "*", &[], Allow("pass", "ListRoles")),
    c(&["pass"], "iam:GetRole", "arn:aws:iam::123456789012:role/S3Access", &[], Allow("pass", "ListRoles")),
    c(&["pass"], "iam:CreateRole", "arn:aws:iam::123456789012:role/New", &[], Implicit),
    c(&["pass", "ingest"], "s3:GetObject", "arn:aws:s3:::bucket/backups/a", &[], Allow("ingest", "Read")),
    // Deny beats Allow, wherever it stands.
    c(&["rds"], "rds:DeleteDBCluster", "arn:aws:rds:us-east-1:123456789012:cluster:prod-1", &[], Allow("rds", "Rds")),
    c(&["rds", "noprod"], "rds:DeleteDBCluster", "arn:aws:rds:us-east-1:123456789012:cluster:prod-1", &[], Deny("noprod", "NoProdDelete")),
    c(&["noprod", "rds"], "rds:DeleteDBCluster", "arn:aws:rds:us-east-1:123456789012:cluster:prod-1", &[], Deny("noprod", "NoProdDelete")),
    c(&["rds", "noprod"], "rds:DeleteDBCluster", "arn:aws:rds:us-east-1:123456789012:cluster:dev-1", &[], Allow("rds", "Rds")),
    c(&["rds", "noprod"], "rds:deletedbinstance", "arn:aws:rds:eu-west-1:123456789012:cluster:prod-x", &[], Deny("noprod", "NoProdDelete")),
    c(&["rds", "noprod"], "rds:DeleteDBInstance", "arn:aws:rds:eu-west-1:123456789012:db:prod-x", &[], Allow("rds", "Rds")),
    c(&["rds", "noprod"], "rds:ModifyDBCluster", "arn:aws:rds:eu-west-1:123456789012:cluster:prod-x", &[], Deny("noprod", "NoProdModify")),
    c(&["rds", "noprod"], "rds:RebootDBInstance", "arn:aws:rds:eu-west-1:123456789012:db:prod-x", &[], Deny("noprod", "NoProdModify")),
    c(&["rds", "noprod"], "rds:RebootXBInstance", "arn:aws:rds:eu-west-1:123456789012:db:prod-x", &[], Deny("noprod", "NoProdModify")),
    c(&["rds", "noprod"], "rds:RebootDBBInstance", "arn:aws:rds:eu-west-1:123456789012:db:prod-x", &[], Allow("rds", "Rds")),
    c(&["rds", "noprod"], "rds:ModifyDBCluster", "arn:aws:rds:eu-west-1:123456789012:cluster:Prod-x", &[], Allow("rds", "Rds")),
    c(&["rds", "noprod"], "rds:DescribeDBClusters", "arn:aws:rds:eu-west-1:123456789012:cluster:prod-x", &[], Allow("rds", "Rds")),
    c(&["noprod"], "rds:DescribeDBClusters", "arn:aws:rds:eu-west-1:123456789012:cluster:prod-x", &[], Implicit),
    c(&["noprod"], "rds:DeleteDBCluster", "arn:aws:rds:eu-west-1:123456789012:cluster:dev", &[], Implicit),
    c(&["rds"], "rds:RestoreDBClusterFromS3", "arn:aws:rds:us-east-1:123456789012:cluster:c1", &[], Allow("rds", "Rds")),
    c(&["rds"], "rdsdata:ExecuteStatement", "*", &[], Implicit),
    c(&["rds"], "ferry:ImportDump", "*", &[], Implicit),
    // NotAction.
    c(&["notaction"], "rds:DescribeDBClusters", "*", &[], Allow("notaction", "AllButIam")),
    c(&["notaction"], "s3:GetObject", "arn:aws:s3:::x/y", &[], Allow("notaction", "AllButIam")),
    c(&["notaction"], "iam:CreateUser", "*", &[], Implicit),
    c(&["notaction"], "IAM:CreateUser", "*", &[], Implicit),
    c(&["notaction"], "sts:AssumeRole", "*", &[], Implicit),
    c(&["notaction"], "iamx:CreateUser", "*", &[], Allow("notaction", "AllButIam")),
    c(&["notaction", "pass"], "iam:ListRoles", "*", &[], Allow("pass", "ListRoles")),
    c(&["notaction", "noprod"], "rds:DeleteDBCluster", "arn:aws:rds:us-east-1:1:cluster:prod-a", &[], Deny("noprod", "NoProdDelete")),
    // NotResource.
    c(&["notresource"], "s3:GetObject", "arn:aws:s3:::hr/payroll/2026.csv", &[], Allow("notresource", "S3All")),
    c(&["notresource"], "s3:ListBucket", "arn:aws:s3:::hr/payroll", &[], Allow("notresource", "S3All")),
    c(&["notresource"], "s3:GetObject", "arn:aws:s3:::hr/other.csv", &[], Deny("notresource", "OnlyPayroll")),
    c(&["notresource"], "s3:GetObject", "arn:aws:s3:::hr/payrolls", &[], Deny("notresource", "OnlyPayroll")),
    c(&["notresource"], "s3:GetObject", "arn:aws:s3:::HR/payroll/x", &[], Deny("notresource", "OnlyPayroll")),
    c(&["notresource"], "ec2:RunInstances", "arn:aws:s3:::hr/other.csv", &[], Implicit),
    c(&["notresource"], "s3:PutObject", "*", &[], Deny("notresource", "OnlyPayroll")),
    // Policy variables (2012-10-17 only).
    c(&["vars"], "s3:GetObject", "arn:aws:s3:::home/alice/notes.txt", &[ALICE], Allow("vars", "Home")),
    c(&["vars"], "s3:GetObject", "arn:aws:s3:::home/bob/notes.txt", &[ALICE], Implicit),
    c(&["vars"], "s3:GetObject", "arn:aws:s3:::home/alice/notes.txt", &[], Implicit),
    c(&["vars"], "s3:GetObject", "arn:aws:s3:::home/ALICE/notes.txt", &[ALICE], Implicit),
    c(&["vars"], "s3:GetObject", "arn:aws:s3:::home/a*/x", &[("aws:username", "a*")], Allow("vars", "Home")),
    c(&["vars"], "s3:GetObject", "arn:aws:s3:::home/ab/x", &[("aws:username", "a*")], Implicit),
    c(&["vars"], "iam:GetUser", "arn:aws:iam::123456789012:user/alice", &[ALICE], Allow("vars", "Self")),
    c(&["vars"], "iam:GetUser", "arn:aws:iam::123456789012:user/alice2", &[ALICE], Implicit),
    c(&["vars"], "iam:GetUser", "arn:aws:iam::123456789012:user/bob", &[ALICE], Implicit),
    c(&["vars"], "s3:ListBucket", "arn:aws:s3:::home", &[ALICE, ("s3:prefix", "home/alice/docs/")], Allow("vars", "ListHome")),
    c(&["vars"], "s3:ListBucket", "arn:aws:s3:::home", &[ALICE, ("s3:prefix", "")], Allow("vars", "ListHome")),
    c(&["vars"], "s3:ListBucket", "arn:aws:s3:::home", &[ALICE, ("s3:prefix", "home/bob/")], Implicit),
    c(&["vars"], "s3:ListBucket", "arn:aws:s3:::home", &[ALICE], Implicit),
    c(&["vars"], "s3:PutObject", "arn:aws:s3:::drop/alice/f", &[ALICE], Allow("vars", "Drop")),
    c(&["vars"], "s3:PutObject", "arn:aws:s3:::drop/anonymous/f", &[], Allow("vars", "Drop")),
    c(&["vars"], "s3:PutObject", "arn:aws:s3:::drop/anonymous/f", &[ALICE], Implicit),
    c(&["vars"], "s3:GetObject", "arn:aws:s3:::lit/*?$", &[], Allow("vars", "Literal")),
    c(&["vars"], "s3:GetObject", "arn:aws:s3:::lit/ab$", &[], Implicit),
    c(&["vars"], "s3:DeleteObject", "arn:aws:s3:::ids/AIDAEXAMPLE/x", &[("aws:userid", "AIDAEXAMPLE")], Allow("vars", "ById")),
    c(&["vars"], "s3:DeleteObject", "arn:aws:s3:::ids/AIDAEXAMPLE/x", &[ALICE], Implicit),
    c(&["vars"], "rds:ModifyDBCluster", "arn:aws:rds:us-east-1:1:cluster:c", &[("aws:PrincipalTag/team", "data"), ("rds:cluster-tag/team", "data")], Allow("vars", "TeamTag")),
    c(&["vars"], "rds:ModifyDBCluster", "arn:aws:rds:us-east-1:1:cluster:c", &[("aws:principaltag/TEAM", "data"), ("rds:cluster-tag/team", "data")], Allow("vars", "TeamTag")),
    c(&["vars"], "rds:ModifyDBCluster", "arn:aws:rds:us-east-1:1:cluster:c", &[("aws:PrincipalTag/team", "web"), ("rds:cluster-tag/team", "data")], Implicit),
    c(&["vars"], "rds:ModifyDBCluster", "arn:aws:rds:us-east-1:1:cluster:c", &[("rds:cluster-tag/team", "data")], Implicit),
    c(&["vars"], "rds:ModifyDBCluster", "arn:aws:rds:us-east-1:1:cluster:c", &[("aws:PrincipalTag/team", "data")], Implicit),
    c(&["old"], "s3:GetObject", "arn:aws:s3:::home/alice/x", &[ALICE], Implicit),
    c(&["old"], "s3:GetObject", "arn:aws:s3:::home/${aws:username}/x", &[ALICE], Allow("old", "OldHome")),
    c(&["noversion"], "s3:GetObject", "arn:aws:s3:::bare/alice", &[ALICE], Implicit),
    c(&["noversion"], "s3:GetObject", "arn:aws:s3:::bare/${aws:username}", &[ALICE], Allow("noversion", "Bare")),
    // IpAddress / NotIpAddress, IPv4 and IPv6.
    c(&["cond"], "ec2:DescribeInstances", "*", &[("aws:SourceIp", "203.0.113.7")], Allow("cond", "IpOnly")),
    c(&["cond"], "ec2:DescribeInstances", "*", &[("aws:SourceIp", "203.0.114.7")], Implicit),
    c(&["cond"], "ec2:DescribeInstances", "*", &[("aws:SourceIp", "2001:db8:1::9")], Allow("cond", "IpOnly")),
    c(&["cond"], "ec2:DescribeInstances", "*", &[("aws:SourceIp", "2001:db9::9")], Implicit),
    c(&["cond"], "ec2:DescribeInstances", "*", &[("aws:SourceIp", "not-an-ip")], Implicit),
    c(&["cond"], "ec2:DescribeInstances", "*", &[], Implicit),
    c(&["cond"], "ec2:TerminateInstances", "*", &[("aws:SourceIp", "203.0.113.7")], Deny("cond", "NotFromOffice")),
    c(&["cond"], "ec2:TerminateInstances", "*", &[("aws:SourceIp", "10.1.2.3")], Implicit),
    c(&["cond"], "ec2:TerminateInstances", "*", &[], Deny("cond", "NotFromOffice")),
    // Dates: ISO 8601 and epoch seconds.
    c(&["cond"], "dynamodb:GetItem", "*", &[NOW], Allow("cond", "Window")),
    c(&["cond"], "dynamodb:GetItem", "*", &[("aws:CurrentTime", "2019-12-31T23:59:59Z")], Implicit),
    c(&["cond"], "dynamodb:GetItem", "*", &[("aws:CurrentTime", "2030-01-01T00:00:00Z")], Implicit),
    c(&["cond"], "dynamodb:GetItem", "*", &[("aws:CurrentTime", "1700000000")], Allow("cond", "Window")),
    c(&["cond"], "dynamodb:GetItem", "*", &[("aws:CurrentTime", "2029-12-31T23:00:00-00:00")], Implicit),
    c(&["cond"], "dynamodb:GetItem", "*", &[("aws:CurrentTime", "garbage")], Implicit),
    c(&["cond"], "dynamodb:GetItem", "*", &[], Implicit),
    c(&["cond"], "sns:Publish", "*", &[("aws:EpochTime", "1764676800")], Allow("cond", "Epoch")),
    c(&["cond"], "sns:Publish", "*", &[("aws:EpochTime", "1893456000")], Implicit),
    c(&["cond"], "sns:Publish", "*", &[("aws:EpochTime", "2026-12-02T12:00:00Z")], Allow("cond", "Epoch")),
    c(&["cond"], "ssm:GetParameter", "*", &[NOW], Allow("cond", "Since")),
    c(&["cond"], "ssm:GetParameter", "*", &[("aws:CurrentTime", "2024-06-01T00:00:00Z")], Allow("cond", "Since")),
    c(&["cond"], "ssm:GetParameter", "*", &[("aws:CurrentTime", "2024-05-31T23:59:59Z")], Implicit),
    // Numeric.
    c(&["cond"], "s3:ListBucket", "arn:aws:s3:::nums", &[("s3:max-keys", "100")], Allow("cond", "MaxKeys")),
    c(&["cond"], "s3:ListBucket", "arn:aws:s3:::nums", &[("s3:max-keys", "99.5")], Allow("cond", "MaxKeys")),
    c(&["cond"], "s3:ListBucket", "arn:aws:s3:::nums", &[("s3:max-keys", "101")], Implicit),
    c(&["cond"], "s3:ListBucket", "arn:aws:s3:::nums", &[("s3:max-keys", "ten")], Implicit),
    c(&["cond"], "s3:ListBucket", "arn:aws:s3:::nums", &[], Implicit),
    c(&["cond"], "lambda:Invoke", "*", &[("x:ratio", "0.6")], Allow("cond", "Ratio")),
    c(&["cond"], "lambda:Invoke", "*", &[("x:ratio", "0.75")], Implicit),
    c(&["cond"], "lambda:Invoke", "*", &[("x:ratio", "0.5")], Implicit),
    // IfExists.
    c(&["cond"], "rds:DescribeDBClusters", "*", &[], Allow("cond", "Region")),
    c(&["cond"], "rds:DescribeDBClusters", "*", &[("aws:RequestedRegion", "eu-west-1")], Allow("cond", "Region")),
    c(&["cond"], "rds:DescribeDBClusters", "*", &[("aws:RequestedRegion", "ap-south-1")], Implicit),
    c(&["cond"], "rds:DescribeDBClusters", "*", &[("aws:RequestedRegion", "US-EAST-1")], Implicit),
    c(&["cond"], "iam:DeleteUser", "*", &[], Allow("cond", "Mfa")),
    c(&["cond"], "iam:DeleteUser", "*", &[("aws:MultiFactorAuthPresent", "true")], Allow("cond", "Mfa")),
    c(&["cond"], "iam:DeleteUser", "*", &[("aws:MultiFactorAuthPresent", "false")], Implicit),
    // Set operators.
    c(&["cond"], "rds:AddTagsToResource", "*", &[], Allow("cond", "TagKeys")),
    c(&["cond"], "rds:RemoveTagsFromResource", "*", &[], Implicit),
    c(&["cond"], "rds:CreateDBSnapshot", "*", &[], Allow("cond", "NoTempKeys")),
    // Strings, case and negation.
    c(&["cond"], "rds:CreateDBCluster", "*", &[("rds:DatabaseEngine", "aurora-mysql"), ("aws:RequestTag/env", "prod")], Allow("cond", "Engine")),
    c(&["cond"], "rds:CreateDBCluster", "*", &[("rds:DatabaseEngine", "aurora-mysql"), ("aws:RequestTag/env", "Prod")], Allow("cond", "Engine")),
    c(&["cond"], "rds:CreateDBCluster", "*", &[("rds:DatabaseEngine", "Aurora-MySQL"), ("aws:RequestTag/env", "prod")], Implicit),
    c(&["cond"], "rds:CreateDBCluster", "*", &[("rds:DatabaseEngine", "aurora-mysql"), ("aws:RequestTag/env", "dev")], Implicit),
    c(&["cond"], "rds:CreateDBCluster", "*", &[("rds:DatabaseEngine", "aurora-mysql")], Implicit),
    c(&["cond"], "sqs:SendMessage", "*", &[ALICE], Allow("cond", "NoGuests")),
    c(&["cond"], "sqs:SendMessage", "*", &[("aws:username", "guest42")], Implicit),
    c(&["cond"], "sqs:SendMessage", "*", &[("aws:username", "Guest42")], Allow("cond", "NoGuests")),
    c(&["cond"], "sqs:SendMessage", "*", &[], Allow("cond", "NoGuests")),
    c(&["cond"], "logs:PutLogEvents", "*", &[("aws:ResourceTag/env", "dev")], Allow("cond", "NotProd")),
    c(&["cond"], "logs:PutLogEvents", "*", &[("aws:ResourceTag/env", "prod")], Implicit),
    c(&["cond"], "logs:PutLogEvents", "*", &[("aws:ResourceTag/env", "PROD")], Allow("cond", "NotProd")),
    // Null.
    c(&["cond"], "rds:CreateDBInstance", "*", &[("aws:RequestTag/owner", "alice")], Allow("cond", "OwnerTag")),
    c(&["cond"], "rds:CreateDBInstance", "*", &[], Implicit),
    // Arn operators.
    c(&["cond"], "iam:CreateUser", "*", &[("aws:PrincipalArn", "arn:aws:iam::123456789012:user/admin-bob")], Allow("cond", "Admins")),
    c(&["cond"], "iam:CreateUser", "*", &[("aws:PrincipalArn", "arn:aws:iam::123456789012:user/bob")], Implicit),
    c(&["cond"], "iam:CreateUser", "*", &[("aws:PrincipalArn", "arn:aws:iam::123456789012:role/admin-bob")], Implicit),
    c(&["cond"], "iam:CreateUser", "*", &[("aws:PrincipalArn", "not-an-arn")], Implicit),
    c(&["cond"], "sts:TagSession", "*", &[("aws:PrincipalArn", "arn:aws:iam::123456789012:role/ok")], Allow("cond", "ArnNot")),
    c(&["cond"], "sts:TagSession", "*", &[("aws:PrincipalArn", "arn:aws:iam::123456789012:role/blocked")], Implicit),
    // Bool and Binary.
    c(&["cond"], "kms:Encrypt", "*", &[("kms:Blob", "QmluYXJ5")], Allow("cond", "Bin")),
    c(&["cond"], "kms:Encrypt", "*", &[("kms:Blob", "qmluyxj5")], Implicit),
    c(&["cond"], "kms:Encrypt", "*", &[("kms:Blob", "QmluYXJ5"), ("aws:SecureTransport", "false")], Deny("cond", "NoTls")),
    c(&["cond"], "kms:Encrypt", "*", &[("kms:Blob", "QmluYXJ5"), ("aws:SecureTransport", "FALSE")], Deny("cond", "NoTls")),
    c(&["cond"], "kms:Encrypt", "*", &[("kms:Blob", "QmluYXJ5"), ("aws:SecureTransport", "true")], Allow("cond", "Bin")),
    c(&["cond", "ingest"], "kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/k", &[("aws:SecureTransport", "false")], Deny("cond", "NoTls")),
    c(&["cond", "ingest"], "kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/k", &[("aws:SecureTransport", "true")], Allow("ingest", "Kms")),
];

fn policies() -> Vec<(&'static str, Policy)> {
    POLICIES
        .iter()
        .map(|(name, text)| {
            let p = parse(text, DocumentKind::Identity).unwrap_or_else(|e| panic!("{name}: {e}"));
            (*name, p)
        })
        .collect()
}

fn run(all: &[(&'static str, Policy)], case: &Case, ctx: &Context) -> ferry_iam::Decision {
    let attached: Vec<NamedPolicy<'_>> = case
        .policies
        .iter()
        .map(|n| {
            let (name, policy) = all.iter().find(|(p, _)| p == n).expect("known policy");
            NamedPolicy { name, policy }
        })
        .collect();
    evaluate(
        &attached,
        &Request {
            action: case.action,
            resource: case.resource,
            context: ctx,
        },
    )
}

#[test]
fn the_table() {
    assert!(CASES.len() >= 150, "{} cases", CASES.len());
    let all = policies();
    let mut wrong = Vec::new();
    for (i, case) in CASES.iter().enumerate() {
        let mut ctx = Context::new();
        for (k, v) in case.context {
            ctx.set(k, *v);
        }
        let d = run(&all, case, &ctx);
        let got = (
            d.effect,
            d.deciding
                .as_ref()
                .map(|s| (s.policy.as_str(), s.sid.as_deref())),
        );
        let want = match case.want {
            Allow(p, s) => (Effect::Allow, Some((p, Some(s)))),
            Deny(p, s) => (Effect::ExplicitDeny, Some((p, Some(s)))),
            Implicit => (Effect::ImplicitDeny, None),
        };
        if got != want {
            wrong.push(format!(
                "case {i}: {} on {} {:?}: want {want:?}, got {got:?}",
                case.action, case.resource, case.context
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

fn multi(policy: &str, action: &str, key: &str, values: Option<&[&str]>) -> Effect {
    let all = policies();
    let mut ctx = Context::new();
    if let Some(v) = values {
        ctx.set_multi(key, v.iter().map(|s| s.to_string()).collect());
    }
    let (name, p) = all.iter().find(|(n, _)| *n == policy).expect("policy");
    evaluate(
        &[NamedPolicy { name, policy: p }],
        &Request {
            action,
            resource: "*",
            context: &ctx,
        },
    )
    .effect
}

#[test]
fn set_operators_on_multi_valued_keys() {
    use Effect::*;
    let add = "rds:AddTagsToResource";
    assert_eq!(
        multi("cond", add, "aws:TagKeys", Some(&["env", "team"])),
        Allow
    );
    assert_eq!(multi("cond", add, "aws:TagKeys", Some(&["env"])), Allow);
    assert_eq!(
        multi("cond", add, "aws:TagKeys", Some(&["env", "cost"])),
        ImplicitDeny
    );
    assert_eq!(multi("cond", add, "aws:TagKeys", Some(&[])), Allow);
    assert_eq!(multi("cond", add, "aws:TagKeys", None), Allow);
    let rm = "rds:RemoveTagsFromResource";
    assert_eq!(
        multi("cond", rm, "aws:TagKeys", Some(&["env", "temp-1"])),
        Allow
    );
    assert_eq!(
        multi("cond", rm, "aws:TagKeys", Some(&["env"])),
        ImplicitDeny
    );
    assert_eq!(multi("cond", rm, "aws:TagKeys", Some(&[])), ImplicitDeny);
    let snap = "rds:CreateDBSnapshot";
    assert_eq!(
        multi("cond", snap, "aws:TagKeys", Some(&["env", "team"])),
        Allow
    );
    assert_eq!(
        multi("cond", snap, "aws:TagKeys", Some(&["env", "temp-x"])),
        ImplicitDeny
    );
}

#[test]
fn missing_context_and_positions_are_reported() {
    let all = policies();
    let ctx = Context::new();
    let case = c(&["cond"], "rds:CreateDBCluster", "*", &[], Implicit);
    let d = run(&all, &case, &ctx);
    assert_eq!(
        d.missing_context,
        vec![
            "aws:RequestTag/env".to_owned(),
            "rds:DatabaseEngine".to_owned()
        ]
    );
    let case = c(&["rds"], "rds:DescribeDBClusters", "*", &[], Implicit);
    let d = run(&all, &case, &ctx);
    let s = d.deciding.expect("allowed");
    assert_eq!((s.index, s.start.line, s.start.column), (0, 1, 37));
}

#[test]
fn trust_policies_decide_who_may_assume() {
    let rds = parse(
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"Rds","Effect":"Allow","Principal":{"Service":["rds.amazonaws.com"]},"Action":"sts:AssumeRole"}]}"#,
        DocumentKind::Trust,
    ).expect("trust");
    let ctx = Context::new();
    assert_eq!(
        trusts(
            &rds,
            &PrincipalRef::Service("rds.amazonaws.com"),
            "sts:AssumeRole",
            &ctx
        )
        .effect,
        Effect::Allow
    );
    assert_eq!(
        trusts(
            &rds,
            &PrincipalRef::Service("ec2.amazonaws.com"),
            "sts:AssumeRole",
            &ctx
        )
        .effect,
        Effect::ImplicitDeny
    );
    assert_eq!(
        trusts(
            &rds,
            &PrincipalRef::Service("rds.amazonaws.com"),
            "sts:TagSession",
            &ctx
        )
        .effect,
        Effect::ImplicitDeny
    );
    assert_eq!(
        trusts(
            &rds,
            &PrincipalRef::Aws("arn:aws:iam::123456789012:root"),
            "sts:AssumeRole",
            &ctx
        )
        .effect,
        Effect::ImplicitDeny
    );

    let acct = parse(
        r#"{"Version":"2012-10-17","Statement":[
            {"Sid":"Acct","Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}},
            {"Sid":"NotBob","Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::123456789012:user/alice","arn:aws:iam::123456789012:root"]},"Action":"sts:AssumeRole"}]}"#,
        DocumentKind::Trust,
    ).expect("trust");
    let mut mfa = Context::new();
    mfa.set("aws:MultiFactorAuthPresent", "true");
    let alice = PrincipalRef::Aws("arn:aws:iam::123456789012:user/alice");
    let bob = PrincipalRef::Aws("arn:aws:iam::123456789012:user/bob");
    let d = trusts(&acct, &alice, "sts:AssumeRole", &mfa);
    assert_eq!(
        (d.effect, d.deciding.and_then(|s| s.sid)),
        (Effect::Allow, Some("Acct".into()))
    );
    assert_eq!(
        trusts(&acct, &alice, "sts:AssumeRole", &ctx).effect,
        Effect::ImplicitDeny
    );
    let d = trusts(&acct, &bob, "sts:AssumeRole", &mfa);
    assert_eq!(
        (d.effect, d.deciding.and_then(|s| s.sid)),
        (Effect::ExplicitDeny, Some("NotBob".into()))
    );
    assert_eq!(
        trusts(
            &acct,
            &PrincipalRef::Aws("arn:aws:iam::999999999999:user/alice"),
            "sts:AssumeRole",
            &mfa
        )
        .effect,
        Effect::ExplicitDeny
    );

    let anyone = parse(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}}"#, DocumentKind::Trust).expect("trust");
    assert_eq!(
        trusts(
            &anyone,
            &PrincipalRef::Service("x.amazonaws.com"),
            "sts:AssumeRole",
            &ctx
        )
        .effect,
        Effect::Allow
    );
}
