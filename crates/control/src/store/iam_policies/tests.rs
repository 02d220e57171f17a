use time::OffsetDateTime;

use super::*;
use crate::iam::{EntityKind, IamErrorKind};

const DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
const ACCOUNT_POLICY: &str = "arn:aws:iam::123456789012:policy/Readers";
const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

fn role(name: &str) -> IamRole {
    IamRole {
        name: name.into(),
        id: format!("AROA{name}"),
        path: "/".into(),
        created_at: OffsetDateTime::now_utc(),
        assume_role_policy: "{}".into(),
        description: None,
        max_session_duration: 3600,
    }
}

fn managed(name: &str) -> ManagedPolicy {
    let now = OffsetDateTime::now_utc();
    ManagedPolicy {
        arn: format!("arn:aws:iam::123456789012:policy/{name}"),
        name: name.into(),
        id: format!("ANPA{name}"),
        path: "/".into(),
        description: None,
        default_version: "v1".into(),
        created_at: now,
        updated_at: now,
        attachment_count: 0,
        aws_managed: false,
    }
}

fn kind_of<T: std::fmt::Debug>(r: IamResult<T>) -> IamErrorKind {
    r.unwrap().unwrap_err().kind
}

#[test]
fn roles_are_unique_regardless_of_case_and_keep_their_tags() {
    let store = Store::open_in_memory().unwrap();
    let tags = vec![("team".to_string(), "data".to_string())];
    store
        .create_iam_role(&role("S3Access"), &tags)
        .unwrap()
        .unwrap();
    assert_eq!(
        kind_of(store.create_iam_role(&role("s3access"), &[])),
        IamErrorKind::EntityAlreadyExists
    );
    let got = store.iam_role("s3ACCESS").unwrap().unwrap();
    assert_eq!(got.name, "S3Access");
    assert_eq!(store.iam_tags(EntityKind::Role, "S3Access").unwrap(), tags);
    store
        .update_iam_role("S3Access", Some("reads backups"), None)
        .unwrap()
        .unwrap();
    let got = store.iam_role("S3Access").unwrap().unwrap();
    assert_eq!(got.description.as_deref(), Some("reads backups"));
    assert_eq!(got.max_session_duration, 3600);
    store.delete_iam_role("S3Access").unwrap().unwrap();
    assert_eq!(store.iam_role("S3Access").unwrap(), None);
    // Deleting the role takes its tags with it.
    assert!(store
        .iam_tags(EntityKind::Role, "S3Access")
        .unwrap()
        .is_empty());
}

#[test]
fn a_role_with_policies_cannot_be_deleted() {
    let store = Store::open_in_memory().unwrap();
    store.create_iam_role(&role("r"), &[]).unwrap().unwrap();
    store
        .attach_policy(EntityKind::Role, "r", ADMIN)
        .unwrap()
        .unwrap();
    let e = store.delete_iam_role("r").unwrap().unwrap_err();
    assert_eq!(
        e.message,
        "Cannot delete entity, must detach all policies first."
    );
    store
        .detach_policy(EntityKind::Role, "r", ADMIN)
        .unwrap()
        .unwrap();
    store
        .put_inline_policy(EntityKind::Role, "r", "p", DOC)
        .unwrap()
        .unwrap();
    let e = store.delete_iam_role("r").unwrap().unwrap_err();
    assert_eq!(
        e.message,
        "Cannot delete entity, must delete policies first."
    );
}

#[test]
fn versions_default_and_limits() {
    let store = Store::open_in_memory().unwrap();
    store
        .create_managed_policy(&managed("Readers"), DOC)
        .unwrap()
        .unwrap();
    for n in 2..=5 {
        let v = store
            .create_policy_version(ACCOUNT_POLICY, DOC, n == 3)
            .unwrap()
            .unwrap();
        assert_eq!(v.version_id, format!("v{n}"));
    }
    let e = store
        .create_policy_version(ACCOUNT_POLICY, DOC, false)
        .unwrap()
        .unwrap_err();
    assert_eq!(e.kind, IamErrorKind::LimitExceeded);
    let p = store.managed_policy(ACCOUNT_POLICY).unwrap().unwrap();
    assert_eq!(p.default_version, "v3");
    assert_eq!(
        store
            .delete_policy_version(ACCOUNT_POLICY, "v3")
            .unwrap()
            .unwrap_err()
            .message,
        "Cannot delete the default version of a policy."
    );
    assert_eq!(
        kind_of(store.delete_managed_policy(ACCOUNT_POLICY)),
        IamErrorKind::DeleteConflict
    );
    for v in ["v1", "v2", "v4"] {
        store
            .delete_policy_version(ACCOUNT_POLICY, v)
            .unwrap()
            .unwrap();
    }
    // Numbers are never reused.
    let v = store
        .create_policy_version(ACCOUNT_POLICY, DOC, true)
        .unwrap()
        .unwrap();
    assert_eq!(v.version_id, "v6");
    let ids: Vec<_> = store
        .policy_versions(ACCOUNT_POLICY)
        .unwrap()
        .unwrap()
        .into_iter()
        .map(|v| (v.version_id, v.is_default))
        .collect();
    assert_eq!(
        ids,
        [
            ("v6".into(), true),
            ("v5".into(), false),
            ("v3".into(), false)
        ]
    );
    assert_eq!(
        kind_of(store.policy_version(ACCOUNT_POLICY, "v1")),
        IamErrorKind::NoSuchEntity
    );
}

#[test]
fn attachments_quota_and_the_policies_of_a_user_through_groups() {
    let store = Store::open_in_memory().unwrap();
    store.insert_test_entity(EntityKind::User, "alice");
    store.insert_test_entity(EntityKind::Group, "ops");
    store.insert_test_membership("ops", "alice");
    store
        .create_managed_policy(&managed("Readers"), DOC)
        .unwrap()
        .unwrap();
    assert_eq!(
        store
            .attach_policy(
                EntityKind::User,
                "alice",
                "arn:aws:iam::123456789012:policy/Nope"
            )
            .unwrap()
            .unwrap_err()
            .message,
        "Policy arn:aws:iam::123456789012:policy/Nope does not exist or is not attachable."
    );
    assert_eq!(
        store
            .attach_policy(EntityKind::User, "bob", ADMIN)
            .unwrap()
            .unwrap_err()
            .message,
        "The user with name bob cannot be found."
    );
    store
        .attach_policy(EntityKind::User, "alice", ACCOUNT_POLICY)
        .unwrap()
        .unwrap();
    store
        .attach_policy(EntityKind::Group, "ops", ADMIN)
        .unwrap()
        .unwrap();
    store
        .put_inline_policy(EntityKind::Group, "ops", "inline", DOC)
        .unwrap()
        .unwrap();
    let applied: Vec<_> = store
        .policies_of_user("ALICE")
        .unwrap()
        .into_iter()
        .map(|p| (p.source_type, p.id, p.holder))
        .collect();
    assert_eq!(
        applied,
        [
            (
                PolicySourceType::UserManaged,
                ACCOUNT_POLICY.into(),
                "alice".into()
            ),
            (PolicySourceType::Group, "inline".into(), "ops".into()),
            (PolicySourceType::AwsManaged, ADMIN.into(), "ops".into()),
        ]
    );
    assert_eq!(
        store
            .managed_policy(ADMIN)
            .unwrap()
            .unwrap()
            .attachment_count,
        1
    );
    assert_eq!(
        kind_of(store.delete_managed_policy(ACCOUNT_POLICY)),
        IamErrorKind::DeleteConflict
    );
    // Ten attached at most.
    for n in 0..9 {
        store
            .create_managed_policy(&managed(&format!("p{n}")), DOC)
            .unwrap()
            .unwrap();
        store
            .attach_policy(
                EntityKind::User,
                "alice",
                &format!("arn:aws:iam::123456789012:policy/p{n}"),
            )
            .unwrap()
            .unwrap();
    }
    assert_eq!(
        store
            .attach_policy(EntityKind::User, "alice", ADMIN)
            .unwrap()
            .unwrap_err()
            .message,
        "Cannot exceed quota for PoliciesPerUser: 10"
    );
    // Attaching again what is attached is not an error.
    store
        .attach_policy(EntityKind::User, "alice", ACCOUNT_POLICY)
        .unwrap()
        .unwrap();
}

#[test]
fn inline_policies_count_toward_the_entitys_quota() {
    let store = Store::open_in_memory().unwrap();
    store.insert_test_entity(EntityKind::User, "alice");
    let big = |n: usize| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{}"}}]}}"#,
            "b".repeat(n)
        )
    };
    store
        .put_inline_policy(EntityKind::User, "alice", "one", &big(1000))
        .unwrap()
        .unwrap();
    // Replacing a policy counts its new size only.
    store
        .put_inline_policy(EntityKind::User, "alice", "ONE", &big(1500))
        .unwrap()
        .unwrap();
    assert_eq!(
        store
            .put_inline_policy(EntityKind::User, "alice", "two", &big(500))
            .unwrap()
            .unwrap_err()
            .message,
        "Maximum policy size of 2048 bytes exceeded for user alice"
    );
    assert_eq!(
        store
            .inline_policy_names(EntityKind::User, "alice")
            .unwrap()
            .unwrap(),
        ["one"]
    );
    let (name, doc) = store
        .inline_policy(EntityKind::User, "alice", "One")
        .unwrap()
        .unwrap();
    assert_eq!((name.as_str(), doc), ("one", big(1500)));
    store
        .delete_inline_policy(EntityKind::User, "alice", "one")
        .unwrap()
        .unwrap();
    assert_eq!(
        store
            .delete_inline_policy(EntityKind::User, "alice", "one")
            .unwrap()
            .unwrap_err()
            .message,
        "The user policy with name one cannot be found."
    );
}

#[test]
fn aws_managed_policies_are_listed_and_read_only() {
    let store = Store::open_in_memory().unwrap();
    store
        .create_managed_policy(&managed("Readers"), DOC)
        .unwrap()
        .unwrap();
    let all = store.managed_policies(true, true, "/", false).unwrap();
    assert_eq!(all.len(), 1 + crate::iam::policies::AWS_MANAGED.len());
    let local = store.managed_policies(true, false, "/", false).unwrap();
    assert_eq!(local.len(), 1);
    assert!(store
        .managed_policies(true, true, "/", true)
        .unwrap()
        .is_empty());
    assert_eq!(
        kind_of(store.delete_managed_policy(ADMIN)),
        IamErrorKind::Unmodifiable
    );
    let v = store.policy_version(ADMIN, "v1").unwrap().unwrap();
    assert!(v.is_default && v.document.contains(r#""Action":"*""#));
}
