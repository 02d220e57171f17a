//! An SDK-based tool's create / read / update against a real `ferry serve`, the way
//! Terraform's AWS provider works: create the cluster and its instance if absent, read back the
//! members the provider reads (without checking that they exist), modify what differs from the
//! desired configuration, and a second run with the same configuration that changes nothing.

mod common;

use std::process::Command;

use common::serve::{data_dir, Serve, PASSWORD};

/// argv: endpoint, desired BackupRetentionPeriod, port. Prints JSON: the changes made and
/// what was read.
const APPLY: &str = r#"
import json, sys
import boto3, botocore.config
endpoint, retention, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rds = boto3.client('rds', endpoint_url=endpoint,
                   config=botocore.config.Config(retries={'max_attempts': 1}))
fast = {'Delay': 1, 'MaxAttempts': 300}
changes = []

def find(call, key, **kw):
    try:
        return call(**kw)[key][0]
    except rds.exceptions.ClientError as e:
        if e.response['Error']['Code'] in ('DBClusterNotFoundFault', 'DBInstanceNotFound'):
            return None
        raise

if find(rds.describe_db_clusters, 'DBClusters', DBClusterIdentifier='tf') is None:
    rds.create_db_cluster(DBClusterIdentifier='tf', Engine='aurora-mysql',
                          MasterUsername='admin', MasterUserPassword=sys.argv[4],
                          Port=port, BackupRetentionPeriod=retention,
                          VpcSecurityGroupIds=['sg-0123456789abcdef0'],
                          Tags=[{'Key': 'managed-by', 'Value': 'sdk-tool'}])
    changes.append('create cluster')
rds.get_waiter('db_cluster_available').wait(DBClusterIdentifier='tf', WaiterConfig=fast)
if find(rds.describe_db_instances, 'DBInstances', DBInstanceIdentifier='tf-1') is None:
    rds.create_db_instance(DBInstanceIdentifier='tf-1', DBClusterIdentifier='tf',
                           Engine='aurora-mysql', DBInstanceClass='db.t3.medium')
    changes.append('create instance')
rds.get_waiter('db_instance_available').wait(DBInstanceIdentifier='tf-1', WaiterConfig=fast)

c = rds.describe_db_clusters(DBClusterIdentifier='tf')['DBClusters'][0]
if c['BackupRetentionPeriod'] != retention:
    rds.modify_db_cluster(DBClusterIdentifier='tf', BackupRetentionPeriod=retention,
                          ApplyImmediately=True)
    changes.append('modify cluster')
    rds.get_waiter('db_cluster_available').wait(DBClusterIdentifier='tf', WaiterConfig=fast)
    c = rds.describe_db_clusters(DBClusterIdentifier='tf')['DBClusters'][0]
i = rds.describe_db_instances(DBInstanceIdentifier='tf-1')['DBInstances'][0]

# What the provider reads into its state, indexing without checks as it does.
cluster = {k: c[k] for k in [
    'DBClusterArn', 'DbClusterResourceId', 'Endpoint', 'ReaderEndpoint', 'Port',
    'AvailabilityZones', 'StorageEncrypted', 'DeletionProtection',
    'IAMDatabaseAuthenticationEnabled', 'BackupRetentionPeriod', 'PreferredBackupWindow',
    'PreferredMaintenanceWindow', 'DBSubnetGroup', 'DBClusterParameterGroup', 'EngineMode',
    'EngineVersion', 'HostedZoneId', 'CopyTagsToSnapshot', 'HttpEndpointEnabled',
    'NetworkType', 'StorageType', 'AllocatedStorage', 'MasterUsername', 'Engine']}
cluster['VpcSecurityGroupIds'] = [g['VpcSecurityGroupId'] for g in c['VpcSecurityGroups']]
cluster['Members'] = [m['DBInstanceIdentifier'] for m in c['DBClusterMembers']]
cluster['ClusterCreateTime'] = c['ClusterCreateTime'].isoformat()
instance = {k: i[k] for k in [
    'DBInstanceArn', 'DbiResourceId', 'AvailabilityZone', 'CACertificateIdentifier',
    'PubliclyAccessible', 'AutoMinorVersionUpgrade', 'MonitoringInterval',
    'PerformanceInsightsEnabled', 'StorageEncrypted', 'StorageType', 'PromotionTier',
    'CopyTagsToSnapshot', 'NetworkType', 'PendingModifiedValues', 'DBInstanceClass',
    'DBClusterIdentifier', 'LicenseModel', 'MultiAZ', 'DeletionProtection']}
instance['Endpoint'] = [i['Endpoint']['Address'], i['Endpoint']['Port'],
                        i['Endpoint']['HostedZoneId']]
instance['SubnetGroup'] = [i['DBSubnetGroup']['DBSubnetGroupName'], i['DBSubnetGroup']['VpcId'],
                           i['DBSubnetGroup']['SubnetGroupStatus']]
instance['ParameterGroups'] = [[p['DBParameterGroupName'], p['ParameterApplyStatus']]
                               for p in i['DBParameterGroups']]
instance['OptionGroups'] = [g['OptionGroupName'] for g in i['OptionGroupMemberships']]
instance['InstanceCreateTime'] = i['InstanceCreateTime'].isoformat()
print(json.dumps({'changes': changes, 'cluster': cluster, 'instance': instance}))
"#;

fn apply(serve: &Serve, retention: u32, port: u16) -> serde_json::Value {
    let python = ferry_testkit::venv_bin("python").expect("python with boto3: run `make deps`");
    let mut cmd = Command::new(python);
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    let out = cmd
        .env("AWS_SHARED_CREDENTIALS_FILE", serve.credentials())
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .arg("-c")
        .arg(APPLY)
        .arg(serve.endpoint())
        .arg(retention.to_string())
        .arg(port.to_string())
        .arg(PASSWORD)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "the tool failed:\n{}\nserve log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        serve.log_text()
    );
    serde_json::from_slice(&out.stdout).expect("the tool prints JSON")
}

#[test]
fn sdk_tool_creates_reads_updates_and_a_second_run_changes_nothing() {
    let (tmp, dir) = data_dir();
    let root = tmp.path().join("buckets");
    std::fs::create_dir_all(&root).unwrap();
    let serve = Serve::start(&dir, &root, &[]);
    let port = ferry_testkit::free_port();

    let first = apply(&serve, 1, port);
    assert_eq!(
        first["changes"],
        serde_json::json!(["create cluster", "create instance"]),
        "{first}"
    );
    let c = &first["cluster"];
    assert_eq!(c["Port"], port);
    assert_eq!(c["Endpoint"], "127.0.0.1");
    assert_eq!(c["DBSubnetGroup"], "default");
    assert_eq!(
        c["VpcSecurityGroupIds"],
        serde_json::json!(["sg-0123456789abcdef0"])
    );
    assert_eq!(c["Members"], serde_json::json!(["tf-1"]));
    assert!(c["DbClusterResourceId"]
        .as_str()
        .unwrap()
        .starts_with("cluster-"));
    let i = &first["instance"];
    assert_eq!(
        i["Endpoint"],
        serde_json::json!(["127.0.0.1", port, "ZFERRYNOMINAL"])
    );
    assert_eq!(
        i["SubnetGroup"],
        serde_json::json!(["default", "vpc-ferry", "Complete"])
    );
    assert_eq!(i["PendingModifiedValues"], serde_json::json!({}));

    // Update: the desired retention changes.
    let second = apply(&serve, 7, port);
    assert_eq!(
        second["changes"],
        serde_json::json!(["modify cluster"]),
        "{second}"
    );
    assert_eq!(second["cluster"]["BackupRetentionPeriod"], 7);

    // The same configuration again: nothing to do, and the same state read back.
    let third = apply(&serve, 7, port);
    assert_eq!(third["changes"], serde_json::json!([]), "{third}");
    assert_eq!(third["cluster"], second["cluster"]);
    assert_eq!(third["instance"], second["instance"]);
}
