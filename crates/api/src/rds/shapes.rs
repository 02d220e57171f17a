//! The `DBCluster`, `DBInstance`, `Event` and `TagList` shapes of RDS's responses, as ferry
//! writes them.
//!
//! Every member RDS always returns for an Aurora MySQL cluster or instance is written, because
//! tools built on the AWS SDKs read them without checking that they exist. Where ferry has no
//! such thing (a VPC, an option group, a CA certificate) the value is nominal and fixed; the
//! nominal values are listed in `docs/rds-api.md`. `tests/shapes_botocore.rs` checks the
//! members against botocore's service model.

use ferry_control::model::{ClusterSettings, EngineName, Event, Tag};
use ferry_control::{ClusterView, InstanceView};

use crate::xml::XmlWriter;

/// The Route 53 zone RDS names beside every endpoint. ferry's endpoints are a host of its
/// configuration (`advertised_host`), in no hosted zone: the value is nominal.
pub const HOSTED_ZONE_ID: &str = "ZFERRYNOMINAL";
/// The one VPC of ferry's nominal subnet groups: ferry's servers listen on the host's network.
pub const VPC_ID: &str = "vpc-ferry";
/// The subnet of ferry's nominal subnet groups.
pub const SUBNET_ID: &str = "subnet-ferry";
/// ferry's servers accept no TLS connections, so there is no CA certificate to name.
pub const CA_CERTIFICATE_IDENTIFIER: &str = "ferry-no-tls";

/// `<TagList>` with one `<Tag>` per tag.
pub fn write_tags(w: &mut XmlWriter, tags: &[Tag]) {
    w.start("TagList");
    for t in tags {
        w.start("Tag");
        w.elem("Key", &t.key);
        w.elem("Value", &t.value);
        w.end();
    }
    w.end();
}

/// `arn:aws:rds:<region>:<account>` of a resource's ARN, for the ARNs of the nominal
/// resources beside it (subnet groups).
fn arn_prefix(arn: &str) -> &str {
    match arn.match_indices(':').nth(4) {
        Some((i, _)) => &arn[..i],
        None => arn,
    }
}

/// The name of the default option group RDS gives an engine (`default:aurora-mysql`).
fn option_group(engine: EngineName) -> String {
    format!("default:{}", engine.as_str())
}

/// `<VpcSecurityGroups>`: the groups the caller named, each `active`.
fn write_security_groups(w: &mut XmlWriter, s: &ClusterSettings) {
    w.start("VpcSecurityGroups");
    for sg in &s.vpc_security_group_ids {
        w.start("VpcSecurityGroupMembership");
        w.elem("VpcSecurityGroupId", sg);
        w.elem("Status", "active");
        w.end();
    }
    w.end();
}

/// An empty list, `<tag></tag>`, which botocore reads as `[]`.
fn empty(w: &mut XmlWriter, tag: &str) {
    w.start(tag).end();
}

pub fn write_cluster(w: &mut XmlWriter, v: &ClusterView) {
    let c = &v.cluster;
    let s = &c.settings;
    w.start("DBCluster");
    w.elem("AllocatedStorage", "1");
    w.list(
        "AvailabilityZones",
        "AvailabilityZone",
        &s.availability_zones,
    );
    w.elem("BackupRetentionPeriod", s.backup_retention_period);
    w.opt_elem("DatabaseName", s.database_name.as_deref());
    w.elem("DBClusterIdentifier", c.id.as_str());
    w.elem("DBClusterParameterGroup", &s.parameter_group);
    w.elem("DBSubnetGroup", &s.db_subnet_group);
    w.elem("Status", c.status.as_str());
    w.opt_elem(
        "PercentProgress",
        v.percent_progress.map(|p| p.to_string()).as_deref(),
    );
    w.opt_elem("Endpoint", v.endpoint.as_deref());
    w.opt_elem("ReaderEndpoint", v.endpoint.as_deref());
    empty(w, "CustomEndpoints");
    w.bool_elem("MultiAZ", false);
    w.elem("Engine", c.engine.as_str());
    w.elem("EngineVersion", &c.engine_version);
    w.elem("Port", c.port);
    w.elem("MasterUsername", &c.master_username);
    empty(w, "DBClusterOptionGroupMemberships");
    w.elem("PreferredBackupWindow", &s.preferred_backup_window);
    w.elem(
        "PreferredMaintenanceWindow",
        &s.preferred_maintenance_window,
    );
    empty(w, "ReadReplicaIdentifiers");
    w.start("DBClusterMembers");
    for m in &v.members {
        w.start("DBClusterMember");
        w.elem("DBInstanceIdentifier", m.id.as_str());
        w.bool_elem("IsClusterWriter", m.is_writer);
        w.elem("DBClusterParameterGroupStatus", "in-sync");
        w.elem("PromotionTier", m.promotion_tier);
        w.end();
    }
    w.end();
    write_security_groups(w, s);
    w.elem("HostedZoneId", HOSTED_ZONE_ID);
    w.bool_elem("StorageEncrypted", s.storage_encrypted);
    w.opt_elem("KmsKeyId", s.kms_key_id.as_deref());
    w.elem("DbClusterResourceId", &c.resource_id);
    w.elem("DBClusterArn", &v.arn);
    w.start("AssociatedRoles");
    if let Some(o) = &c.s3_origin {
        w.start("DBClusterRole");
        w.elem("RoleArn", &o.ingestion_role_arn);
        w.elem("Status", "ACTIVE");
        w.elem("FeatureName", "s3Import");
        w.end();
    }
    w.end();
    w.bool_elem(
        "IAMDatabaseAuthenticationEnabled",
        s.iam_database_authentication,
    );
    w.time_elem("ClusterCreateTime", c.created_at);
    w.elem("EngineMode", "provisioned");
    w.bool_elem("AutoMinorVersionUpgrade", false);
    w.bool_elem("DeletionProtection", s.deletion_protection);
    w.bool_elem("HttpEndpointEnabled", false);
    w.elem("ActivityStreamStatus", "stopped");
    w.bool_elem("CopyTagsToSnapshot", s.copy_tags_to_snapshot);
    w.bool_elem("CrossAccountClone", false);
    empty(w, "DomainMemberships");
    write_tags(w, &c.tags);
    w.elem("NetworkType", "IPV4");
    w.elem("StorageType", "aurora");
    w.elem("MonitoringInterval", 0);
    w.bool_elem("PerformanceInsightsEnabled", false);
    w.end();
}

/// `<DBSubnetGroup>` of an instance: ferry's nominal subnet group, named as the cluster's, one
/// subnet per availability zone of the cluster.
fn write_subnet_group(w: &mut XmlWriter, s: &ClusterSettings, arn: &str) {
    w.start("DBSubnetGroup");
    w.elem("DBSubnetGroupName", &s.db_subnet_group);
    w.elem(
        "DBSubnetGroupDescription",
        "ferry: instances listen on the host's network; no VPC",
    );
    w.elem("VpcId", VPC_ID);
    w.elem("SubnetGroupStatus", "Complete");
    w.start("Subnets");
    for az in &s.availability_zones {
        w.start("Subnet");
        w.elem("SubnetIdentifier", SUBNET_ID);
        w.start("SubnetAvailabilityZone").elem("Name", az).end();
        w.elem("SubnetStatus", "Active");
        w.end();
    }
    w.end();
    w.elem(
        "DBSubnetGroupArn",
        format!("{}:subgrp:{}", arn_prefix(arn), s.db_subnet_group),
    );
    w.list("SupportedNetworkTypes", "member", ["IPV4"]);
    w.end();
}

fn write_certificate(w: &mut XmlWriter) {
    w.elem("CACertificateIdentifier", CA_CERTIFICATE_IDENTIFIER);
    w.start("CertificateDetails");
    w.elem("CAIdentifier", CA_CERTIFICATE_IDENTIFIER);
    w.end();
}

pub fn write_instance(w: &mut XmlWriter, v: &InstanceView) {
    let i = &v.instance;
    let s = &v.cluster_settings;
    w.start("DBInstance");
    w.elem("DBInstanceIdentifier", i.id.as_str());
    w.elem("DBInstanceClass", &i.instance_class);
    w.elem("Engine", i.engine.as_str());
    w.elem("DBInstanceStatus", i.status.as_str());
    w.elem("MasterUsername", &v.master_username);
    w.opt_elem("DBName", s.database_name.as_deref());
    if let Some((host, port)) = &v.endpoint {
        w.start("Endpoint");
        w.elem("Address", host);
        w.elem("Port", port);
        w.elem("HostedZoneId", HOSTED_ZONE_ID);
        w.end();
    }
    w.elem("AllocatedStorage", "1");
    w.time_elem("InstanceCreateTime", i.created_at);
    w.elem("PreferredBackupWindow", &s.preferred_backup_window);
    w.elem("BackupRetentionPeriod", s.backup_retention_period);
    empty(w, "DBSecurityGroups");
    write_security_groups(w, s);
    w.start("DBParameterGroups").start("DBParameterGroup");
    w.elem(
        "DBParameterGroupName",
        format!("default.{}", i.engine.as_str()),
    );
    w.elem("ParameterApplyStatus", "in-sync");
    w.end().end();
    w.elem("AvailabilityZone", &i.availability_zone);
    write_subnet_group(w, s, &v.arn);
    w.elem(
        "PreferredMaintenanceWindow",
        &s.preferred_maintenance_window,
    );
    w.start("PendingModifiedValues").end();
    w.bool_elem("MultiAZ", false);
    w.elem("EngineVersion", &v.engine_version);
    w.bool_elem("AutoMinorVersionUpgrade", false);
    empty(w, "ReadReplicaDBInstanceIdentifiers");
    empty(w, "ReadReplicaDBClusterIdentifiers");
    w.elem("LicenseModel", "general-public-license");
    w.start("OptionGroupMemberships")
        .start("OptionGroupMembership");
    w.elem("OptionGroupName", option_group(i.engine));
    w.elem("Status", "in-sync");
    w.end().end();
    w.bool_elem("PubliclyAccessible", false);
    w.elem("StorageType", "aurora");
    w.elem("DbInstancePort", 0);
    w.elem("DBClusterIdentifier", i.cluster_id.as_str());
    w.bool_elem("StorageEncrypted", s.storage_encrypted);
    w.opt_elem("KmsKeyId", s.kms_key_id.as_deref());
    w.elem("DbiResourceId", &i.resource_id);
    write_certificate(w);
    empty(w, "DomainMemberships");
    w.bool_elem("CopyTagsToSnapshot", s.copy_tags_to_snapshot);
    w.elem("MonitoringInterval", 0);
    w.elem("PromotionTier", i.promotion_tier);
    w.elem("DBInstanceArn", &v.arn);
    w.bool_elem(
        "IAMDatabaseAuthenticationEnabled",
        s.iam_database_authentication,
    );
    w.bool_elem("PerformanceInsightsEnabled", false);
    w.bool_elem("DeletionProtection", false);
    empty(w, "AssociatedRoles");
    write_tags(w, &i.tags);
    w.bool_elem("CustomerOwnedIpEnabled", false);
    w.elem("NetworkType", "IPV4");
    w.elem("ActivityStreamStatus", "stopped");
    w.elem("BackupTarget", "region");
    w.bool_elem("DedicatedLogVolume", false);
    w.bool_elem("IsStorageConfigUpgradeAvailable", false);
    w.end();
}

pub fn write_event(w: &mut XmlWriter, e: &Event, arn: &str) {
    w.start("Event");
    w.elem("SourceIdentifier", &e.source_id);
    w.elem("SourceType", e.source_type.as_str());
    w.elem("Message", &e.message);
    w.start("EventCategories");
    for c in &e.categories {
        w.elem("EventCategory", c);
    }
    w.end();
    w.time_elem("Date", e.date);
    w.elem("SourceArn", arn);
    w.end();
}
