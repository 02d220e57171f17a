//! Tests of the IAM identity operations over an in-memory store.

use super::*;
use crate::store::Store;

fn err(e: ControlError) -> IamError {
    match e {
        ControlError::Iam(e) => e,
        other => panic!("not an IAM error: {other}"),
    }
}

fn tags(n: usize) -> Vec<(String, String)> {
    (0..n).map(|i| (format!("k{i}"), format!("v{i}"))).collect()
}

#[test]
fn users_are_created_listed_paged_renamed_and_deleted() {
    let store = Store::open_in_memory().unwrap();
    let alice = create_user(&store, "alice", Some("/eng/"), &tags(2)).unwrap();
    assert!(alice.id.starts_with("AIDA"));
    let e = err(create_user(&store, "ALICE", None, &[]).unwrap_err());
    assert_eq!(e.kind, IamErrorKind::EntityAlreadyExists);
    assert_eq!(e.message, "User with name ALICE already exists.");
    for n in ["bob", "carol", "dave"] {
        create_user(&store, n, None, &[]).unwrap();
    }
    let page = list_users(
        &store,
        None,
        &Paging {
            marker: None,
            max_items: Some(3),
        },
    )
    .unwrap();
    let names: Vec<_> = page.items.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["alice", "bob", "carol"]);
    let rest = list_users(
        &store,
        None,
        &Paging {
            marker: page.marker.clone(),
            max_items: Some(3),
        },
    )
    .unwrap();
    assert_eq!(rest.items.len(), 1);
    assert!(rest.marker.is_none());
    let eng = list_users(&store, Some("/eng/"), &Paging::default()).unwrap();
    assert_eq!(eng.items.len(), 1);

    // A rename carries keys, memberships and tags.
    let key = create_access_key(&store, "alice").unwrap();
    create_group(&store, "devs", None).unwrap();
    add_user_to_group(&store, "devs", "alice").unwrap();
    update_user(&store, "alice", Some("alicia"), Some("/ops/")).unwrap();
    assert_eq!(
        err(get_user(&store, "alice").unwrap_err()).kind,
        IamErrorKind::NoSuchEntity
    );
    let alicia = get_user(&store, "alicia").unwrap();
    assert_eq!(
        (alicia.id.as_str(), alicia.path.as_str()),
        (alice.id.as_str(), "/ops/")
    );
    assert_eq!(
        store
            .get_access_key(&key.access_key_id)
            .unwrap()
            .unwrap()
            .user_name,
        "alicia"
    );
    assert_eq!(
        groups_for_user(&store, "alicia", &Paging::default())
            .unwrap()
            .items
            .len(),
        1
    );
    assert_eq!(
        user_tags(&store, "alicia", &Paging::default())
            .unwrap()
            .items
            .len(),
        2
    );
    let e = err(update_user(&store, "alicia", Some("bob"), None).unwrap_err());
    assert_eq!(e.kind, IamErrorKind::EntityAlreadyExists);

    // Deletion is refused while keys and groups remain, in IAM's words.
    let e = err(delete_user(&store, "alicia").unwrap_err());
    assert_eq!(
        (e.kind, e.message.as_str()),
        (
            IamErrorKind::DeleteConflict,
            "Cannot delete entity, must delete access keys first."
        )
    );
    delete_access_key(&store, "alicia", &key.access_key_id).unwrap();
    let e = err(delete_user(&store, "alicia").unwrap_err());
    assert_eq!(
        e.message,
        "Cannot delete entity, must remove from all groups first."
    );
    let e = err(delete_group(&store, "devs").unwrap_err());
    assert_eq!(
        e.message,
        "Cannot delete entity, must remove users from group first."
    );
    remove_user_from_group(&store, "devs", "alicia").unwrap();
    delete_user(&store, "alicia").unwrap();
    delete_group(&store, "devs").unwrap();
    let e = err(delete_user(&store, "alicia").unwrap_err());
    assert_eq!(e.message, "The user with name alicia cannot be found.");
    // Its tags went with it.
    create_user(&store, "alicia", None, &[]).unwrap();
    assert!(user_tags(&store, "alicia", &Paging::default())
        .unwrap()
        .items
        .is_empty());
}

#[test]
fn access_keys_quota_status_and_last_use() {
    let store = Store::open_in_memory().unwrap();
    create_user(&store, "svc", None, &[]).unwrap();
    let holder = key_holder(&store, Some("SVC"), ROOT_USER).unwrap();
    assert_eq!(holder, "svc");
    assert_eq!(key_holder(&store, None, ROOT_USER).unwrap(), ROOT_USER);
    let k1 = create_access_key(&store, &holder).unwrap();
    assert_eq!(k1.access_key_id.len(), 20);
    assert_eq!(k1.secret_access_key.expose().len(), 40);
    create_access_key(&store, &holder).unwrap();
    let e = err(create_access_key(&store, &holder).unwrap_err());
    assert_eq!(
        (e.kind, e.message.as_str()),
        (
            IamErrorKind::LimitExceeded,
            "Cannot exceed quota for AccessKeysPerUser: 2"
        )
    );
    update_access_key(&store, &holder, &k1.access_key_id, "Inactive").unwrap();
    let e = err(update_access_key(&store, &holder, &k1.access_key_id, "Off").unwrap_err());
    assert_eq!(e.kind, IamErrorKind::Validation);
    let e = err(update_access_key(&store, &holder, "AKIANOPE", "Active").unwrap_err());
    assert_eq!(
        e.message,
        "The Access Key with id AKIANOPE cannot be found."
    );

    let now = OffsetDateTime::now_utc();
    let (user, last) = access_key_last_used(&store, &k1.access_key_id).unwrap();
    assert_eq!((user.as_str(), last), ("svc", None));
    note_key_use(&store, &k1, "sts", "us-east-1", now).unwrap();
    let k = store.get_access_key(&k1.access_key_id).unwrap().unwrap();
    // Within the granularity, nothing is written again.
    note_key_use(
        &store,
        &k,
        "sts",
        "us-east-1",
        now + time::Duration::seconds(5),
    )
    .unwrap();
    let (_, last) = access_key_last_used(&store, &k1.access_key_id).unwrap();
    let last = last.unwrap();
    assert_eq!((last.service.as_str(), last.at), ("sts", now));
    note_key_use(
        &store,
        &k,
        "iam",
        "us-east-1",
        now + time::Duration::seconds(5),
    )
    .unwrap();
    let (_, last) = access_key_last_used(&store, &k1.access_key_id).unwrap();
    assert_eq!(last.unwrap().service, "iam");
}

#[test]
fn groups_quota_and_tag_rules() {
    let store = Store::open_in_memory().unwrap();
    create_user(&store, "u", None, &[]).unwrap();
    for i in 0..GROUPS_PER_USER {
        create_group(&store, &format!("g{i}"), None).unwrap();
        add_user_to_group(&store, &format!("g{i}"), "u").unwrap();
    }
    // Adding again is no change.
    add_user_to_group(&store, "g0", "u").unwrap();
    create_group(&store, "g10", None).unwrap();
    let e = err(add_user_to_group(&store, "g10", "u").unwrap_err());
    assert_eq!(e.message, "Cannot exceed quota for GroupsPerUser: 10");
    let e = err(add_user_to_group(&store, "nope", "u").unwrap_err());
    assert_eq!(e.message, "The group with name nope cannot be found.");

    tag_user(&store, "u", &tags(49)).unwrap();
    tag_user(&store, "u", &[("K0".into(), "new".into())]).unwrap();
    let t = user_tags(&store, "u", &Paging::default()).unwrap().items;
    assert_eq!(t.len(), 49);
    assert_eq!(t[0], ("K0".to_string(), "new".to_string()));
    let e = err(tag_user(
        &store,
        "u",
        &[("a".into(), "".into()), ("b".into(), "".into())],
    )
    .unwrap_err());
    assert_eq!(e.message, "Cannot exceed quota for TagsPerUser: 50");
    let e = err(tag_user(&store, "u", &[("x".repeat(129), "".into())]).unwrap_err());
    assert_eq!(e.kind, IamErrorKind::Validation);
    let e = err(tag_user(
        &store,
        "u",
        &[("a".into(), "".into()), ("A".into(), "".into())],
    )
    .unwrap_err());
    assert_eq!(e.kind, IamErrorKind::InvalidInput);
    untag_user(&store, "u", &["k1".into(), "absent".into()]).unwrap();
    assert_eq!(
        user_tags(&store, "u", &Paging::default())
            .unwrap()
            .items
            .len(),
        48
    );
    let e = err(list_users(
        &store,
        None,
        &Paging {
            marker: Some("x".into()),
            max_items: None,
        },
    )
    .unwrap_err());
    assert_eq!(e.kind, IamErrorKind::InvalidInput);
}
