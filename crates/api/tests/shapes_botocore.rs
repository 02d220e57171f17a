//! Golden test of the `DBCluster` and `DBInstance` shapes ferry writes, member by member,
//! against botocore's RDS service model: every member RDS always returns for an Aurora MySQL
//! cluster or instance is there (the lists below, from the examples of RDS's API reference
//! and the AWS CLI's), every element ferry writes is a member of the shape (no misspelt
//! names, at any depth), and botocore's Query parser reads each into its type.

use ferry_api::rds::shapes::{write_cluster, write_instance};
use ferry_api::xml;
use ferry_control::model::{
    Cluster, ClusterId, ClusterSettings, ClusterStatus, EngineName, Instance, InstanceId,
    InstanceStatus, S3Origin, Tag,
};
use ferry_control::{ClusterView, InstanceView};
use time::macros::datetime;

/// Reads argv[1] (operation), argv[2] (result member: `DBCluster`, `DBClusters`, ...) and the
/// response on stdin; prints JSON `{"errors": [...], "parsed": ...}`.
const CHECK_SCRIPT: &str = r#"
import datetime, json, sys
import xml.etree.ElementTree as ET
import botocore.session
from botocore.parsers import create_parser

# What RDS returns for every Aurora MySQL cluster / instance (API reference and AWS CLI
# examples of DescribeDBClusters / DescribeDBInstances), beside members that depend on the
# resource's state (Endpoint before an instance exists, PercentProgress, KmsKeyId, ...).
ALWAYS = {
  'DBCluster': ['AllocatedStorage', 'AvailabilityZones', 'BackupRetentionPeriod',
    'DBClusterIdentifier', 'DBClusterParameterGroup', 'DBSubnetGroup', 'Status',
    'CustomEndpoints', 'MultiAZ', 'Engine', 'EngineVersion', 'Port', 'MasterUsername',
    'DBClusterOptionGroupMemberships', 'PreferredBackupWindow', 'PreferredMaintenanceWindow',
    'ReadReplicaIdentifiers', 'DBClusterMembers', 'VpcSecurityGroups', 'HostedZoneId',
    'StorageEncrypted', 'DbClusterResourceId', 'DBClusterArn', 'AssociatedRoles',
    'IAMDatabaseAuthenticationEnabled', 'ClusterCreateTime', 'EngineMode',
    'AutoMinorVersionUpgrade', 'DeletionProtection', 'HttpEndpointEnabled',
    'ActivityStreamStatus', 'CopyTagsToSnapshot', 'CrossAccountClone', 'DomainMemberships',
    'TagList', 'NetworkType', 'StorageType', 'MonitoringInterval',
    'PerformanceInsightsEnabled'],
  'DBInstance': ['DBInstanceIdentifier', 'DBInstanceClass', 'Engine', 'DBInstanceStatus',
    'MasterUsername', 'AllocatedStorage', 'InstanceCreateTime', 'PreferredBackupWindow',
    'BackupRetentionPeriod', 'DBSecurityGroups', 'VpcSecurityGroups', 'DBParameterGroups',
    'AvailabilityZone', 'DBSubnetGroup', 'PreferredMaintenanceWindow', 'PendingModifiedValues',
    'MultiAZ', 'EngineVersion', 'AutoMinorVersionUpgrade', 'ReadReplicaDBInstanceIdentifiers',
    'ReadReplicaDBClusterIdentifiers', 'LicenseModel', 'OptionGroupMemberships',
    'PubliclyAccessible', 'StorageType', 'DbInstancePort', 'DBClusterIdentifier',
    'StorageEncrypted', 'DbiResourceId', 'CACertificateIdentifier', 'DomainMemberships',
    'CopyTagsToSnapshot', 'MonitoringInterval', 'PromotionTier', 'DBInstanceArn',
    'IAMDatabaseAuthenticationEnabled', 'PerformanceInsightsEnabled', 'DeletionProtection',
    'AssociatedRoles', 'TagList', 'CustomerOwnedIpEnabled', 'NetworkType',
    'ActivityStreamStatus', 'BackupTarget', 'CertificateDetails', 'DedicatedLogVolume',
    'IsStorageConfigUpgradeAvailable'],
}
NESTED = {
  'DBInstance': {
    'DBSubnetGroup': ['DBSubnetGroupName', 'DBSubnetGroupDescription', 'VpcId',
                      'SubnetGroupStatus', 'Subnets', 'DBSubnetGroupArn'],
    'CertificateDetails': ['CAIdentifier'],
  },
}

op_name, result_member = sys.argv[1], sys.argv[2]
model = botocore.session.get_session().get_service_model('rds')
op = model.operation_model(op_name)
body = sys.stdin.buffer.read()
parsed = create_parser('query').parse(
    {'body': body, 'headers': {}, 'status_code': 200}, op.output_shape)
errors = []

def local(tag):
    return tag.split('}', 1)[-1]

def check_names(elem, shape, path):
    """Every element is a member of its shape, at every depth."""
    if shape.type_name == 'structure':
        by_name = {m.serialization.get('name', n): n for n, m in shape.members.items()}
        for child in elem:
            name = local(child.tag)
            if name not in by_name:
                errors.append(f'{path}.{name}: not a member of {shape.name}')
                continue
            check_names(child, shape.members[by_name[name]], f'{path}.{name}')
    elif shape.type_name == 'list':
        want = shape.member.serialization.get('name', 'member')
        for child in elem:
            if local(child.tag) != want:
                errors.append(f'{path}: list item <{local(child.tag)}>, model says <{want}>')
            check_names(child, shape.member, f'{path}[]')
    elif len(elem):
        errors.append(f'{path}: scalar {shape.type_name} has child elements')

def check_types(value, shape, path):
    t = shape.type_name
    ok = {
        'string': lambda v: isinstance(v, str),
        'integer': lambda v: isinstance(v, int) and not isinstance(v, bool),
        'long': lambda v: isinstance(v, int) and not isinstance(v, bool),
        'double': lambda v: isinstance(v, float),
        'boolean': lambda v: isinstance(v, bool),
        'timestamp': lambda v: isinstance(v, datetime.datetime),
        'structure': lambda v: isinstance(v, dict),
        'list': lambda v: isinstance(v, list),
    }[t](value)
    if not ok:
        errors.append(f'{path}: {value!r} is not a {t}')
        return
    if t == 'structure':
        for k, v in value.items():
            check_types(v, shape.members[k], f'{path}.{k}')
    elif t == 'list':
        for i, v in enumerate(value):
            check_types(v, shape.member, f'{path}[{i}]')

root = ET.fromstring(body)
result = next(e for e in root if local(e.tag).endswith('Result'))
out_shape = op.output_shape
member_shape = out_shape.members[result_member]
elems = [e for e in result if local(e.tag) == result_member]
assert len(elems) == 1, f'one <{result_member}> in the result'
items = parsed[result_member]
if member_shape.type_name == 'list':
    check_names(elems[0], member_shape, result_member)
    shape = member_shape.member
else:
    check_names(elems[0], member_shape, result_member)
    shape = member_shape
    items = [items]
check_types(parsed[result_member], member_shape, result_member)
for i, item in enumerate(items):
    for m in ALWAYS[shape.name]:
        if m not in item:
            errors.append(f'{shape.name}[{i}]: {m} is missing')
    for outer, inner in NESTED.get(shape.name, {}).items():
        for m in inner:
            if m not in item.get(outer, {}):
                errors.append(f'{shape.name}[{i}].{outer}: {m} is missing')
print(json.dumps({'errors': errors, 'parsed': parsed}, default=lambda o: o.isoformat()))
"#;

fn settings() -> ClusterSettings {
    let mut s = ClusterSettings::defaults(EngineName::AuroraMysql, "us-east-1");
    s.database_name = Some("shop".into());
    s.availability_zones = vec!["us-east-1a".into(), "us-east-1b".into()];
    s.vpc_security_group_ids = vec!["sg-0123456789abcdef0".into()];
    s
}

fn instance(status: InstanceStatus) -> Instance {
    Instance {
        id: InstanceId::new_unchecked("shop-writer"),
        resource_id: "db-ABCDEFGHIJKLMNOPQRSTUVWXYZ".into(),
        cluster_id: ClusterId::new_unchecked("shop"),
        status,
        instance_class: "db.r6g.large".into(),
        engine: EngineName::AuroraMysql,
        is_writer: true,
        promotion_tier: 1,
        availability_zone: "us-east-1a".into(),
        tags: vec![Tag {
            key: "team".into(),
            value: "shop".into(),
        }],
        created_at: datetime!(2024-03-01 10:00:00.5 UTC),
    }
}

fn cluster_view(with_member: bool, restored: bool) -> ClusterView {
    let cluster = Cluster {
        id: ClusterId::new_unchecked("shop"),
        resource_id: "cluster-ABCDEFGHIJKLMNOPQRSTUVWXYZ".into(),
        status: ClusterStatus::Available,
        engine: EngineName::AuroraMysql,
        engine_version: "10.11.14".into(),
        master_username: "admin".into(),
        port: 3307,
        settings: settings(),
        tags: vec![Tag {
            key: "env".into(),
            value: "test".into(),
        }],
        s3_origin: restored.then(|| S3Origin {
            bucket: "backups".into(),
            prefix: "shop".into(),
            ingestion_role_arn: "arn:aws:iam::000000000000:role/ferry-s3-import".into(),
            source_engine: "mysql".into(),
            source_engine_version: "10.11".into(),
        }),
        recovered_binlog: None,
        recovered_gtid: None,
        created_at: datetime!(2024-03-01 09:59:00 UTC),
    };
    ClusterView {
        cluster,
        members: if with_member {
            vec![instance(InstanceStatus::Available)]
        } else {
            Vec::new()
        },
        endpoint: with_member.then(|| "127.0.0.1".to_string()),
        percent_progress: None,
        arn: "arn:aws:rds:us-east-1:000000000000:cluster:shop".into(),
    }
}

fn instance_view(status: InstanceStatus) -> InstanceView {
    InstanceView {
        endpoint: (status == InstanceStatus::Available).then(|| ("127.0.0.1".to_string(), 3307)),
        instance: instance(status),
        arn: "arn:aws:rds:us-east-1:000000000000:db:shop-writer".into(),
        master_username: "admin".into(),
        engine_version: "10.11.14".into(),
        cluster_settings: settings(),
    }
}

/// Runs the check script on `body`, panics listing every problem, returns botocore's parse.
fn check(operation: &str, member: &str, body: &str) -> Option<serde_json::Value> {
    let python = ferry_testkit::venv_bin("python")?;
    let mut cmd = std::process::Command::new(python);
    cmd.arg("-c")
        .arg(CHECK_SCRIPT)
        .args([operation, member])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("start python");
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(body.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "check script failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["errors"],
        serde_json::json!([]),
        "{operation}: {}\n{body}",
        v["errors"]
    );
    Some(v["parsed"].clone())
}

#[test]
fn db_cluster_has_every_member_rds_returns_for_aurora_mysql() {
    for (op, member) in [
        ("CreateDBCluster", "DBCluster"),
        ("RestoreDBClusterFromS3", "DBCluster"),
        ("ModifyDBCluster", "DBCluster"),
        ("DeleteDBCluster", "DBCluster"),
    ] {
        let view = cluster_view(false, op == "RestoreDBClusterFromS3");
        let body = xml::response(op, "req-1", |w| write_cluster(w, &view));
        check(op, member, &body);
    }
    let views = [cluster_view(true, true), cluster_view(false, false)];
    let body = xml::response("DescribeDBClusters", "req-2", |w| {
        w.start("DBClusters");
        for v in &views {
            write_cluster(w, v);
        }
        w.end();
    });
    let Some(parsed) = check("DescribeDBClusters", "DBClusters", &body) else {
        return;
    };
    let c = &parsed["DBClusters"][0];
    assert_eq!(c["Port"], 3307);
    assert_eq!(c["AllocatedStorage"], 1);
    assert_eq!(c["Endpoint"], "127.0.0.1");
    assert_eq!(c["ReaderEndpoint"], "127.0.0.1");
    assert_eq!(c["ClusterCreateTime"], "2024-03-01T09:59:00+00:00");
    assert_eq!(c["StorageEncrypted"], false);
    assert_eq!(c["DeletionProtection"], false);
    assert_eq!(c["DBSubnetGroup"], "default");
    assert_eq!(c["DBClusterParameterGroup"], "default.aurora-mysql");
    assert_eq!(
        c["VpcSecurityGroups"],
        serde_json::json!([{"VpcSecurityGroupId": "sg-0123456789abcdef0", "Status": "active"}])
    );
    assert_eq!(
        c["AvailabilityZones"],
        serde_json::json!(["us-east-1a", "us-east-1b"])
    );
    assert_eq!(c["AssociatedRoles"][0]["FeatureName"], "s3Import");
    assert_eq!(c["DBClusterMembers"][0]["IsClusterWriter"], true);
    assert_eq!(c["CustomEndpoints"], serde_json::json!([]));
    assert_eq!(c["DatabaseName"], "shop");
    assert!(parsed["DBClusters"][1].get("Endpoint").is_none());
}

#[test]
fn db_instance_has_every_member_rds_returns_for_aurora_mysql() {
    for op in ["CreateDBInstance", "DeleteDBInstance"] {
        let view = instance_view(InstanceStatus::Creating);
        let body = xml::response(op, "req-1", |w| write_instance(w, &view));
        check(op, "DBInstance", &body);
    }
    let views = [
        instance_view(InstanceStatus::Available),
        instance_view(InstanceStatus::Starting),
    ];
    let body = xml::response("DescribeDBInstances", "req-2", |w| {
        w.start("DBInstances");
        for v in &views {
            write_instance(w, v);
        }
        w.end();
    });
    let Some(parsed) = check("DescribeDBInstances", "DBInstances", &body) else {
        return;
    };
    let i = &parsed["DBInstances"][0];
    assert_eq!(
        i["Endpoint"],
        serde_json::json!({"Address": "127.0.0.1", "Port": 3307, "HostedZoneId": "ZFERRYNOMINAL"})
    );
    assert_eq!(i["InstanceCreateTime"], "2024-03-01T10:00:00.500000+00:00");
    assert_eq!(i["DBSubnetGroup"]["VpcId"], "vpc-ferry");
    assert_eq!(i["DBSubnetGroup"]["SubnetGroupStatus"], "Complete");
    assert_eq!(
        i["DBSubnetGroup"]["Subnets"][1]["SubnetAvailabilityZone"]["Name"],
        "us-east-1b"
    );
    assert_eq!(
        i["DBSubnetGroup"]["DBSubnetGroupArn"],
        "arn:aws:rds:us-east-1:000000000000:subgrp:default"
    );
    assert_eq!(
        i["DBParameterGroups"],
        serde_json::json!([{"DBParameterGroupName": "default.aurora-mysql", "ParameterApplyStatus": "in-sync"}])
    );
    assert_eq!(i["OptionGroupMemberships"][0]["Status"], "in-sync");
    assert_eq!(i["PendingModifiedValues"], serde_json::json!({}));
    assert_eq!(i["CACertificateIdentifier"], "ferry-no-tls");
    assert_eq!(i["DBName"], "shop");
    assert_eq!(i["MonitoringInterval"], 0);
    assert_eq!(i["PerformanceInsightsEnabled"], false);
    assert!(parsed["DBInstances"][1].get("Endpoint").is_none());
}
