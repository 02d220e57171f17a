//! The condition keys of an RDS request, for IAM policies' `Condition` blocks: the tags the
//! request sets (`aws:RequestTag/<key>`, `aws:TagKeys`), the tags of the resource it acts on
//! (`aws:ResourceTag/<key>`, and RDS's `rds:cluster-tag/<key>` / `rds:db-tag/<key>`), and
//! what it creates (`rds:DatabaseEngine`, `rds:DatabaseClass`).

use ferry_control::model::{EngineName, Tag};
use ferry_control::ControlPlane;
use ferry_iam::Context;

/// Keys for a request that creates a resource with `engine` and `tags`.
pub(super) fn creating(engine: EngineName, tags: &[Tag]) -> Context {
    let mut keys = Context::new();
    keys.set("rds:DatabaseEngine", engine.as_str());
    request_tags(&mut keys, tags);
    keys
}

/// `aws:RequestTag/<key>` for each tag and `aws:TagKeys` with all the keys.
pub(super) fn request_tags(keys: &mut Context, tags: &[Tag]) {
    for t in tags {
        keys.set(&format!("aws:RequestTag/{}", t.key), &t.value);
    }
    keys.set_multi("aws:TagKeys", tags.iter().map(|t| t.key.clone()).collect());
}

/// Keys for a request on the existing resource `arn` (none when it does not exist: the
/// action then answers its own not-found error once authorized).
pub(super) fn on_resource(cp: &ControlPlane, arn: &str) -> Context {
    let mut keys = Context::new();
    add_resource_tags(cp, &mut keys, arn);
    keys
}

pub(super) fn add_resource_tags(cp: &ControlPlane, keys: &mut Context, arn: &str) {
    let Ok(tags) = cp.list_tags(arn) else {
        return;
    };
    let rds_key = if arn.contains(":cluster:") {
        "rds:cluster-tag"
    } else {
        "rds:db-tag"
    };
    for t in &tags {
        keys.set(&format!("aws:ResourceTag/{}", t.key), &t.value);
        keys.set(&format!("{rds_key}/{}", t.key), &t.value);
    }
}
