//! IAM roles, managed policies and versions, attachments, inline policies, role tags and the
//! policy simulator: the operations behind the IAM API. Names and documents are checked here
//! (IAM's grammar through `ferry_iam::parse` at every write); the rows and the quotas that
//! need them are the store's (`store::iam_policies`).

use ferry_iam::{DocumentKind, NamedPolicy};

use super::*;
use crate::iam::policies::{self as rules, AWS_POLICY_PREFIX};
use crate::iam::{self, EntityKind, IamError, IamErrorKind};
use crate::store::{AppliedPolicy, AttachedPolicy, IamRole, ManagedPolicy, PolicyVersion};

/// What CreateRole asks for, before checks.
#[derive(Debug, Clone, Default)]
pub struct CreateRoleRequest {
    pub name: String,
    pub path: Option<String>,
    pub assume_role_policy: String,
    pub description: Option<String>,
    pub max_session_duration: Option<i64>,
    pub tags: Vec<(String, String)>,
}

/// Which managed policies ListPolicies shows (`Scope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyScope {
    All,
    Aws,
    Local,
}

/// A policy given to the simulator, with the names it is reported by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulatedPolicy {
    /// `SourcePolicyId`: a managed policy's name, an inline policy's name, or
    /// `PolicyInputList.N`.
    pub source_id: String,
    /// `SourcePolicyType`: `user`, `group`, `role`, `user-managed`, `aws-managed`, or
    /// `IAM Policy` for a document given in the request.
    pub source_type: String,
    pub document: String,
}

/// A condition key given to the simulator (`ContextEntries`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextEntry {
    pub key: String,
    pub values: Vec<String>,
    /// `string`, `stringList`, `numeric`, ... (a `...List` type makes the key multi-valued).
    pub kind: Option<String>,
}

/// The statement that decided a simulated request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedStatement {
    pub source_id: String,
    pub source_type: String,
    /// Beyond AWS: the deciding statement's `Sid` and its index in the document.
    pub sid: Option<String>,
    pub index: usize,
    /// Where the statement starts and ends in its document: (line, column), 1-based.
    pub start: (usize, usize),
    pub end: (usize, usize),
}

/// One simulated (action, resource) pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub action: String,
    pub resource: String,
    pub decision: ferry_iam::Effect,
    pub matched: Vec<MatchedStatement>,
    pub missing_context: Vec<String>,
}

fn iam_err(kind: IamErrorKind, message: impl Into<String>) -> ControlError {
    IamError::new(kind, message).into()
}

/// `ValidationError` for a string longer than its model allows.
fn check_len(param: &str, value: &str, max: usize) -> Result<(), IamError> {
    if value.chars().count() > max {
        return Err(IamError::new(
            IamErrorKind::Validation,
            format!(
                "1 validation error detected: Value at '{}' failed to satisfy constraint: \
                 Member must have length less than or equal to {max}",
                iam::lower_first(param)
            ),
        ));
    }
    Ok(())
}

fn check_session_duration(value: i64) -> Result<(), IamError> {
    if !rules::SESSION_DURATION.contains(&value) {
        let bound = if value < *rules::SESSION_DURATION.start() {
            format!(
                "greater than or equal to {}",
                rules::SESSION_DURATION.start()
            )
        } else {
            format!("less than or equal to {}", rules::SESSION_DURATION.end())
        };
        return Err(IamError::new(
            IamErrorKind::Validation,
            format!(
                "1 validation error detected: Value '{value}' at 'maxSessionDuration' failed to \
                 satisfy constraint: Member must have value {bound}"
            ),
        ));
    }
    Ok(())
}

impl ControlPlane {
    fn account_id(&self) -> &str {
        &self.ctx().config.account_id
    }

    /// The ARN of role `role`.
    pub fn role_arn(&self, role: &IamRole) -> String {
        iam::arn(self.account_id(), "role", &role.path, &role.name)
    }

    // ---- roles ----------------------------------------------------------------------------

    pub fn create_role(&self, req: CreateRoleRequest) -> Result<IamRole, ControlError> {
        iam::validate_name("RoleName", &req.name, 64)?;
        let path = req.path.unwrap_or_else(|| "/".into());
        iam::validate_path("Path", &path)?;
        if let Some(d) = &req.description {
            check_len("Description", d, 1000)?;
        }
        let max_session_duration = req.max_session_duration.unwrap_or(3600);
        check_session_duration(max_session_duration)?;
        crate::iam::identities::validate_tags(&req.tags)?;
        rules::check_document(&req.assume_role_policy, DocumentKind::Trust)?;
        let role = IamRole {
            name: req.name,
            id: iam::new_id(EntityKind::Role.id_prefix()),
            path,
            created_at: OffsetDateTime::now_utc(),
            assume_role_policy: req.assume_role_policy,
            description: req.description,
            max_session_duration,
        };
        self.ctx().store.create_iam_role(&role, &req.tags)??;
        Ok(role)
    }

    /// A role and its tags.
    pub fn get_role(&self, name: &str) -> Result<(IamRole, Vec<(String, String)>), ControlError> {
        let store = &self.ctx().store;
        let role = store
            .iam_role(name)?
            .ok_or_else(|| rules::no_such_entity(EntityKind::Role, name))?;
        let tags = store.iam_tags(EntityKind::Role, &role.name)?;
        Ok((role, tags))
    }

    pub fn list_roles(&self, path_prefix: &str) -> Result<Vec<IamRole>, ControlError> {
        iam::validate_path_prefix(path_prefix)?;
        Ok(self.ctx().store.iam_roles(path_prefix)?)
    }

    pub fn update_role(
        &self,
        name: &str,
        description: Option<&str>,
        max_session_duration: Option<i64>,
    ) -> Result<(), ControlError> {
        if let Some(d) = description {
            check_len("Description", d, 1000)?;
        }
        if let Some(m) = max_session_duration {
            check_session_duration(m)?;
        }
        Ok(self
            .ctx()
            .store
            .update_iam_role(name, description, max_session_duration)??)
    }

    pub fn update_assume_role_policy(
        &self,
        name: &str,
        document: &str,
    ) -> Result<(), ControlError> {
        rules::check_document(document, DocumentKind::Trust)?;
        Ok(self
            .ctx()
            .store
            .update_assume_role_policy(name, document)??)
    }

    pub fn delete_role(&self, name: &str) -> Result<(), ControlError> {
        Ok(self.ctx().store.delete_iam_role(name)??)
    }

    /// Adds tags to a role, replacing the values of keys it has. `LimitExceeded` past 50.
    pub fn tag_role(&self, name: &str, tags: &[(String, String)]) -> Result<(), ControlError> {
        crate::iam::identities::validate_tags(tags)?;
        let role = self.get_role(name)?.0;
        let store = &self.ctx().store;
        match store.put_iam_tags(EntityKind::Role, &role.name, tags, rules::MAX_ROLE_TAGS)? {
            crate::store::IamWrite::Done => Ok(()),
            _ => Err(iam_err(
                IamErrorKind::LimitExceeded,
                format!(
                    "Cannot exceed quota for TagsPerRole: {}",
                    rules::MAX_ROLE_TAGS
                ),
            )),
        }
    }

    /// Removes tags from a role (absent keys are not an error).
    pub fn untag_role(&self, name: &str, keys: &[String]) -> Result<(), ControlError> {
        let role = self.get_role(name)?.0;
        Ok(self
            .ctx()
            .store
            .remove_iam_tags(EntityKind::Role, &role.name, keys)?)
    }

    pub fn role_tags(&self, name: &str) -> Result<Vec<(String, String)>, ControlError> {
        Ok(self.get_role(name)?.1)
    }

    // ---- managed policies -----------------------------------------------------------------

    /// The ARN a customer managed policy of this name and path gets.
    pub fn policy_arn(&self, path: &str, name: &str) -> String {
        iam::arn(self.account_id(), "policy", path, name)
    }

    pub fn create_policy(
        &self,
        name: &str,
        path: Option<&str>,
        document: &str,
        description: Option<&str>,
    ) -> Result<ManagedPolicy, ControlError> {
        iam::validate_name("PolicyName", name, 128)?;
        let path = path.unwrap_or("/");
        iam::validate_path("Path", path)?;
        if let Some(d) = description {
            check_len("Description", d, 1000)?;
        }
        rules::check_managed_document(document)?;
        let now = OffsetDateTime::now_utc();
        let policy = ManagedPolicy {
            arn: self.policy_arn(path, name),
            name: name.into(),
            id: iam::new_id("ANPA"),
            path: path.into(),
            description: description.map(str::to_string),
            default_version: "v1".into(),
            created_at: now,
            updated_at: now,
            attachment_count: 0,
            aws_managed: false,
        };
        self.ctx()
            .store
            .create_managed_policy(&policy, document)??;
        Ok(policy)
    }

    pub fn get_policy(&self, arn: &str) -> Result<ManagedPolicy, ControlError> {
        Ok(self
            .ctx()
            .store
            .managed_policy(arn)?
            .ok_or_else(|| rules::no_such_policy(arn))?)
    }

    pub fn list_policies(
        &self,
        scope: PolicyScope,
        only_attached: bool,
        path_prefix: &str,
    ) -> Result<Vec<ManagedPolicy>, ControlError> {
        iam::validate_path_prefix(path_prefix)?;
        let (local, aws) = match scope {
            PolicyScope::All => (true, true),
            PolicyScope::Aws => (false, true),
            PolicyScope::Local => (true, false),
        };
        Ok(self
            .ctx()
            .store
            .managed_policies(local, aws, path_prefix, only_attached)?)
    }

    pub fn delete_policy(&self, arn: &str) -> Result<(), ControlError> {
        Ok(self.ctx().store.delete_managed_policy(arn)??)
    }

    pub fn create_policy_version(
        &self,
        arn: &str,
        document: &str,
        set_as_default: bool,
    ) -> Result<PolicyVersion, ControlError> {
        rules::check_managed_document(document)?;
        Ok(self
            .ctx()
            .store
            .create_policy_version(arn, document, set_as_default)??)
    }

    pub fn get_policy_version(
        &self,
        arn: &str,
        version: &str,
    ) -> Result<PolicyVersion, ControlError> {
        Ok(self.ctx().store.policy_version(arn, version)??)
    }

    pub fn list_policy_versions(&self, arn: &str) -> Result<Vec<PolicyVersion>, ControlError> {
        Ok(self.ctx().store.policy_versions(arn)??)
    }

    pub fn delete_policy_version(&self, arn: &str, version: &str) -> Result<(), ControlError> {
        Ok(self.ctx().store.delete_policy_version(arn, version)??)
    }

    pub fn set_default_policy_version(&self, arn: &str, version: &str) -> Result<(), ControlError> {
        Ok(self
            .ctx()
            .store
            .set_default_policy_version(arn, version)??)
    }

    // ---- attachments and inline policies --------------------------------------------------

    /// The ARN of entity `name` of `kind` as stored (its path), or `NoSuchEntity`.
    pub fn entity_arn(&self, kind: EntityKind, name: &str) -> Result<String, ControlError> {
        let (name, path) = self
            .ctx()
            .store
            .iam_entity_path(kind, name)?
            .ok_or_else(|| rules::no_such_entity(kind, name))?;
        Ok(iam::arn(self.account_id(), kind.as_str(), &path, &name))
    }

    pub fn attach_policy(
        &self,
        kind: EntityKind,
        entity: &str,
        arn: &str,
    ) -> Result<(), ControlError> {
        check_policy_arn(arn)?;
        Ok(self.ctx().store.attach_policy(kind, entity, arn)??)
    }

    pub fn detach_policy(
        &self,
        kind: EntityKind,
        entity: &str,
        arn: &str,
    ) -> Result<(), ControlError> {
        check_policy_arn(arn)?;
        Ok(self.ctx().store.detach_policy(kind, entity, arn)??)
    }

    pub fn attached_policies(
        &self,
        kind: EntityKind,
        entity: &str,
        path_prefix: &str,
    ) -> Result<Vec<AttachedPolicy>, ControlError> {
        iam::validate_path_prefix(path_prefix)?;
        let mut all = self.ctx().store.attached_policies(kind, entity)??;
        all.retain(|p| p.path.starts_with(path_prefix));
        Ok(all)
    }

    pub fn put_inline_policy(
        &self,
        kind: EntityKind,
        entity: &str,
        name: &str,
        document: &str,
    ) -> Result<(), ControlError> {
        iam::validate_name("PolicyName", name, 128)?;
        rules::check_document(document, DocumentKind::Identity)?;
        Ok(self
            .ctx()
            .store
            .put_inline_policy(kind, entity, name, document)??)
    }

    /// An inline policy's name (as stored) and document.
    pub fn get_inline_policy(
        &self,
        kind: EntityKind,
        entity: &str,
        name: &str,
    ) -> Result<(String, String), ControlError> {
        Ok(self.ctx().store.inline_policy(kind, entity, name)??)
    }

    pub fn inline_policy_names(
        &self,
        kind: EntityKind,
        entity: &str,
    ) -> Result<Vec<String>, ControlError> {
        Ok(self.ctx().store.inline_policy_names(kind, entity)??)
    }

    pub fn delete_inline_policy(
        &self,
        kind: EntityKind,
        entity: &str,
        name: &str,
    ) -> Result<(), ControlError> {
        Ok(self
            .ctx()
            .store
            .delete_inline_policy(kind, entity, name)??)
    }

    // ---- the simulator --------------------------------------------------------------------

    /// The policies of the user, group or role `source_arn` names, as the simulator reports
    /// them. `NoSuchEntity` when it names nothing that exists; `InvalidInput` when it is not
    /// an IAM user, group or role ARN of this account.
    pub fn policies_of_principal(
        &self,
        source_arn: &str,
    ) -> Result<(Vec<SimulatedPolicy>, ferry_iam::Context), ControlError> {
        let prefix = format!("arn:aws:iam::{}:", self.account_id());
        let invalid = || {
            iam_err(
                IamErrorKind::InvalidInput,
                format!("Invalid ARN: {source_arn}"),
            )
        };
        let rest = source_arn.strip_prefix(&prefix).ok_or_else(invalid)?;
        let (kind, path_and_name) = rest.split_once('/').ok_or_else(invalid)?;
        let kind = match kind {
            "user" => EntityKind::User,
            "group" => EntityKind::Group,
            "role" => EntityKind::Role,
            _ => return Err(invalid()),
        };
        let name = path_and_name.rsplit('/').next().unwrap_or(path_and_name);
        let store = &self.ctx().store;
        if store.iam_entity_path(kind, name)?.is_none() {
            return Err(rules::no_such_entity(kind, name).into());
        }
        // The principal's own condition keys, as enforcement sees them; the request's
        // ContextEntries are laid over them.
        let authz = &self.ctx().authz;
        let (applied, keys) = match kind {
            EntityKind::User => {
                let keys = match store.iam_user(name)? {
                    Some(user) => authz.user_keys(store, &user)?,
                    None => authz.request_keys(),
                };
                (store.policies_of_user(name)?, keys)
            }
            EntityKind::Group => (store.policies_of_group(name)?, authz.request_keys()),
            EntityKind::Role => {
                let keys = match store.iam_role(name)? {
                    Some(role) => authz.role_keys(store, &role)?,
                    None => authz.request_keys(),
                };
                (store.policies_of_role(name)?, keys)
            }
        };
        Ok((applied.into_iter().map(simulated).collect(), keys))
    }

    /// Evaluates each action on each resource (`*` when none) against `policies`, as
    /// authorization does. Every document is parsed first: `MalformedPolicyDocument` names
    /// the fault.
    pub fn simulate(
        &self,
        policies: &[SimulatedPolicy],
        actions: &[String],
        resources: &[String],
        base: ferry_iam::Context,
        context: &[ContextEntry],
    ) -> Result<Vec<Evaluation>, ControlError> {
        let parsed = policies
            .iter()
            .map(|p| {
                ferry_iam::parse(&p.document, DocumentKind::Identity)
                    .map_err(|m| iam_err(IamErrorKind::MalformedPolicyDocument, m.message))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let names: Vec<String> = (0..policies.len()).map(|i| i.to_string()).collect();
        let named: Vec<NamedPolicy<'_>> = parsed
            .iter()
            .zip(&names)
            .map(|(policy, name)| NamedPolicy { name, policy })
            .collect();
        let mut ctx = base;
        for entry in context {
            let multi = entry.kind.as_deref().is_some_and(|k| k.ends_with("List"));
            match entry.values.as_slice() {
                [one] if !multi => ctx.set(&entry.key, one.clone()),
                values => ctx.set_multi(&entry.key, values.to_vec()),
            }
        }
        let star = ["*".to_string()];
        let resources = if resources.is_empty() {
            &star[..]
        } else {
            resources
        };
        let mut out = Vec::new();
        for action in actions {
            for resource in resources {
                let decision = ferry_iam::evaluate(
                    &named,
                    &ferry_iam::Request {
                        action,
                        resource,
                        context: &ctx,
                    },
                );
                let matched = decision
                    .deciding
                    .iter()
                    .filter_map(|d| {
                        let p = policies.get(d.policy.parse::<usize>().ok()?)?;
                        Some(MatchedStatement {
                            source_id: p.source_id.clone(),
                            source_type: p.source_type.clone(),
                            sid: d.sid.clone(),
                            index: d.index,
                            start: (d.start.line, d.start.column),
                            end: (d.end.line, d.end.column),
                        })
                    })
                    .collect();
                out.push(Evaluation {
                    action: action.clone(),
                    resource: resource.clone(),
                    decision: decision.effect,
                    matched,
                    missing_context: decision.missing_context,
                });
            }
        }
        Ok(out)
    }
}

/// How an applied policy is reported by the simulator: a managed policy by its name, an
/// inline one by its name.
fn simulated(p: AppliedPolicy) -> SimulatedPolicy {
    let source_id = match p.id.rsplit_once('/') {
        Some((_, name)) if p.id.starts_with("arn:") => name.to_string(),
        _ => p.id,
    };
    SimulatedPolicy {
        source_id,
        source_type: p.source_type.as_str().into(),
        document: p.document,
    }
}

/// `PolicyArn` must be an IAM policy ARN (20..=2048 characters): `InvalidInput` otherwise.
fn check_policy_arn(arn: &str) -> Result<(), IamError> {
    let is_policy = arn.starts_with(AWS_POLICY_PREFIX)
        || (arn.starts_with("arn:aws:iam::") && arn.contains(":policy/"));
    if !is_policy || arn.len() > 2048 {
        return Err(IamError::new(
            IamErrorKind::InvalidInput,
            format!("ARN {arn} is not valid."),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_arns_and_session_durations() {
        assert!(check_policy_arn("arn:aws:iam::aws:policy/AdministratorAccess").is_ok());
        assert!(check_policy_arn("arn:aws:iam::123456789012:policy/a/b").is_ok());
        assert_eq!(
            check_policy_arn("arn:aws:s3:::bucket").unwrap_err().kind,
            IamErrorKind::InvalidInput
        );
        assert!(check_session_duration(3600).is_ok());
        assert!(check_session_duration(43200).is_ok());
        let e = check_session_duration(100).unwrap_err();
        assert!(
            e.message.ends_with("greater than or equal to 3600"),
            "{}",
            e.message
        );
        assert!(check_session_duration(43201).is_err());
    }

    #[test]
    fn applied_policies_are_reported_by_name() {
        let p = simulated(AppliedPolicy {
            source_type: crate::store::PolicySourceType::AwsManaged,
            id: "arn:aws:iam::aws:policy/AdministratorAccess".into(),
            holder: "ops".into(),
            document: "{}".into(),
        });
        assert_eq!(
            (p.source_id.as_str(), p.source_type.as_str()),
            ("AdministratorAccess", "aws-managed")
        );
    }
}
