//! Tags on clusters and instances, by ARN: ListTagsForResource, AddTagsToResource,
//! RemoveTagsFromResource (what Terraform and the console call around every resource).

use super::*;
use crate::model::Tag;

/// What an RDS ARN names.
enum Resource {
    Cluster(ClusterId),
    Instance(InstanceId),
}

/// Attempts at a compare-and-set write before giving up (each loses only to another change of
/// the same resource).
const ATTEMPTS: usize = 5;

impl ControlPlane {
    fn resource_of(&self, arn: &str) -> Result<Resource, ControlError> {
        let c = &self.ctx().config;
        let parts: Vec<&str> = arn.splitn(7, ':').collect();
        if parts.len() == 7
            && parts[0] == "arn"
            && parts[2] == "rds"
            && parts[3] == c.region
            && parts[4] == c.account_id
            && !parts[6].is_empty()
        {
            let id = parts[6].to_lowercase();
            match parts[5] {
                "cluster" => return Ok(Resource::Cluster(ClusterId::new_unchecked(id))),
                "db" => return Ok(Resource::Instance(InstanceId::new_unchecked(id))),
                _ => {}
            }
        }
        Err(ControlError::invalid_value(format!(
            "The specified resource name does not match an RDS resource in this region: {arn}"
        )))
    }

    pub fn list_tags(&self, arn: &str) -> Result<Vec<Tag>, ControlError> {
        let store = &self.ctx().store;
        match self.resource_of(arn)? {
            Resource::Cluster(id) => store
                .get_cluster(&id)?
                .map(|c| c.tags)
                .ok_or_else(|| ControlError::ClusterNotFound(id.to_string())),
            Resource::Instance(id) => store
                .get_instance(&id)?
                .map(|i| i.tags)
                .ok_or_else(|| ControlError::InstanceNotFound(id.to_string())),
        }
    }

    /// Adds `tags`, replacing the values of keys the resource already has.
    pub fn add_tags(&self, arn: &str, tags: &[Tag]) -> Result<(), ControlError> {
        self.change_tags(arn, |current| {
            for t in tags {
                match current.iter_mut().find(|c| c.key == t.key) {
                    Some(c) => c.value = t.value.clone(),
                    None => current.push(t.clone()),
                }
            }
        })
    }

    /// Removes the tags with these keys (absent keys are not an error, as in RDS).
    pub fn remove_tags(&self, arn: &str, keys: &[String]) -> Result<(), ControlError> {
        self.change_tags(arn, |current| current.retain(|t| !keys.contains(&t.key)))
    }

    fn change_tags(&self, arn: &str, change: impl Fn(&mut Vec<Tag>)) -> Result<(), ControlError> {
        let store = &self.ctx().store;
        let check = |tags: &[Tag]| {
            let pairs: Vec<(String, String)> = tags
                .iter()
                .map(|t| (t.key.clone(), t.value.clone()))
                .collect();
            crate::validate::tags(&pairs).map(drop)
        };
        let resource = self.resource_of(arn)?;
        for _ in 0..ATTEMPTS {
            let written = match &resource {
                Resource::Cluster(id) => {
                    let mut c = store
                        .get_cluster(id)?
                        .ok_or_else(|| ControlError::ClusterNotFound(id.to_string()))?;
                    change(&mut c.tags);
                    check(&c.tags)?;
                    store.update_cluster(&c)?
                }
                Resource::Instance(id) => {
                    let mut i = store
                        .get_instance(id)?
                        .ok_or_else(|| ControlError::InstanceNotFound(id.to_string()))?;
                    change(&mut i.tags);
                    check(&i.tags)?;
                    store.update_instance(&i)?
                }
            };
            if written {
                return Ok(());
            }
        }
        Err(ControlError::Contended(format!(
            "{arn} kept changing while its tags were being updated; retry"
        )))
    }
}
