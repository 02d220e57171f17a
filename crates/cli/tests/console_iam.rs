//! The web console's IAM pages over HTTP, as a browser sees them: users (access keys,
//! attached policies), the policy simulator, groups and their members, roles' trust policies
//! and policy documents, each refusal in IAM's words.

mod common;

use common::serve::{data_dir, Serve, LOOK_ONLY, ROLE};
use ferry_testkit::http::{read_key, request, sign_in};

fn addr(serve: &Serve) -> String {
    format!("127.0.0.1:{}", serve.port)
}

#[test]
fn iam_pages_make_a_user_with_a_key_and_a_policy_and_simulate_it() {
    let (_tmp, dir) = data_dir();
    let files = tempfile::tempdir().unwrap();
    let serve = Serve::start(&dir, files.path(), &[]);
    let a = addr(&serve);
    let root = sign_in(&a, &read_key(&serve.credentials()));
    let page = request(&a, "GET", "/console/iam", Some(&root), None);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("ferry-s3-import"),
        "the roles: {}",
        page.body
    );
    let csrf = page.input_value("csrf").unwrap();

    // A user, made from the form; the same name again gets IAM's own refusal.
    let r = request(
        &a,
        "POST",
        "/console/iam/users",
        Some(&root),
        Some(&[("csrf", &csrf), ("user_name", "carol")]),
    );
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/console/iam/users/carol"))
    );
    let r = request(
        &a,
        "POST",
        "/console/iam/users",
        Some(&root),
        Some(&[("csrf", &csrf), ("user_name", "carol")]),
    );
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("User with name carol already exists."),
        "{}",
        r.body
    );
    let r = request(
        &a,
        "POST",
        "/console/iam/users",
        Some(&root),
        Some(&[("user_name", "dave")]),
    );
    assert_eq!(r.status, 403, "no token, no user");

    // An access key: its secret on that one answer, never again.
    let r = request(
        &a,
        "POST",
        "/console/iam/users/carol",
        Some(&root),
        Some(&[("csrf", &csrf), ("action", "create-key")]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let field = |body: &str, id: &str| {
        let at = body.find(&format!(r#"<code id="{id}">"#)).unwrap() + id.len() + 12;
        body[at..at + body[at..].find('<').unwrap()].to_string()
    };
    let key = (
        field(&r.body, "new-key-id"),
        field(&r.body, "new-key-secret"),
    );
    assert_eq!(key.1.len(), 40, "{key:?}");
    let page = request(&a, "GET", "/console/iam/users/carol", Some(&root), None);
    assert!(page.body.contains(&key.0));
    assert!(!page.body.contains(&key.1), "the secret is shown once");

    // A policy (made with the AWS CLI), attached from the user's page.
    let policy = serve
        .aws(&[
            "iam",
            "create-policy",
            "--policy-name",
            "look-only",
            "--policy-document",
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"Look","Effect":"Allow","Action":"rds:Describe*","Resource":"*"}]}"#,
        ])
        .json();
    let policy_arn = policy["Policy"]["Arn"].as_str().unwrap().to_string();
    let r = request(
        &a,
        "POST",
        "/console/iam/users/carol",
        Some(&root),
        Some(&[
            ("csrf", &csrf),
            ("action", "attach"),
            ("policy_arn", &policy_arn),
        ]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains(&format!("<code>{policy_arn}</code>")),
        "{}",
        r.body
    );
    let r = request(
        &a,
        "POST",
        "/console/iam/users/carol",
        Some(&root),
        Some(&[
            ("csrf", &csrf),
            ("action", "attach"),
            ("policy_arn", "arn:aws:iam::000000000000:policy/nope"),
        ]),
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains("nope"), "{}", r.body);

    // The simulator names the deciding statement, and the default deny.
    let carol = "arn:aws:iam::000000000000:user/carol";
    let r = request(
        &a,
        "GET",
        &format!("/console/iam/simulate?principal_arn={carol}&action=rds:DescribeDBClusters"),
        Some(&root),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Allowed"), "{}", r.body);
    assert!(
        r.body
            .contains("Decided by policy look-only, statement Look."),
        "{}",
        r.body
    );
    let r = request(
        &a,
        "GET",
        &format!("/console/iam/simulate?principal_arn={carol}&action=rds:DeleteDBCluster"),
        Some(&root),
        None,
    );
    assert!(
        r.body.contains("Not allowed") && r.body.contains("implicitDeny"),
        "{}",
        r.body
    );

    // Carol signs in with her new key and sees what her policy lets her see.
    let carol_session = sign_in(&a, &key);
    let r = request(&a, "GET", "/console/clusters", Some(&carol_session), None);
    assert_eq!(r.status, 200, "{}", r.body);
    let r = request(&a, "GET", "/console/iam", Some(&carol_session), None);
    assert_eq!(r.status, 200);
    assert!(
        r.body
            .contains("is not authorized to perform: iam:ListUsers"),
        "{}",
        r.body
    );
}

/// The text of the page's first `<pre>` as a browser shows it (askama's entities decoded).
fn pre_text(body: &str) -> String {
    let start = body.find("<pre").expect("a <pre>");
    let start = start + body[start..].find("<code>").unwrap() + "<code>".len();
    let end = start + body[start..].find("</code></pre>").unwrap();
    body[start..end]
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#38;", "&")
}

#[test]
fn iam_pages_make_a_group_of_users_and_show_roles_and_policy_documents() {
    let (_tmp, dir) = data_dir();
    let files = tempfile::tempdir().unwrap();
    let serve = Serve::start(&dir, files.path(), &[]);
    let a = addr(&serve);
    let root = sign_in(&a, &read_key(&serve.credentials()));
    let csrf = request(&a, "GET", "/console/iam", Some(&root), None)
        .input_value("csrf")
        .unwrap();
    let post = |path: &str, form: &[(&str, &str)]| {
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(form);
        request(&a, "POST", path, Some(&root), Some(&all))
    };
    let get = |path: &str| request(&a, "GET", path, Some(&root), None);
    let r = post("/console/iam/users", &[("user_name", "erin")]);
    assert_eq!(r.status, 303, "{}", r.body);

    // A group, made from the IAM page's form; the same name again gets IAM's refusal.
    let r = post("/console/iam/groups", &[("group_name", "ops")]);
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/console/iam/groups/ops"))
    );
    let r = post("/console/iam/groups", &[("group_name", "ops")]);
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains(r#"<p class="error" id="group-error" role="alert">Group with name ops already exists.</p>"#),
        "{}",
        r.body
    );
    let r = request(
        &a,
        "POST",
        "/console/iam/groups",
        Some(&root),
        Some(&[("group_name", "ops2")]),
    );
    assert_eq!(r.status, 403, "no token, no group");
    let page = get("/console/iam");
    assert!(
        page.body
            .contains(r#"<a href="/console/iam/groups/ops">ops</a>"#),
        "{}",
        page.body
    );

    // Erin joins; a user that does not exist is refused beside the form.
    let r = post(
        "/console/iam/groups/ops",
        &[("action", "add-user"), ("user_name", "erin")],
    );
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/console/iam/groups/ops"))
    );
    let r = post(
        "/console/iam/groups/ops",
        &[("action", "add-user"), ("user_name", "nobody")],
    );
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains(r#"<p class="error" id="add-error" role="alert">The user with name nobody cannot be found.</p>"#),
        "{}",
        r.body
    );

    // A policy (made with the AWS CLI), attached from the group's page.
    let policy = serve
        .aws(&[
            "iam",
            "create-policy",
            "--policy-name",
            "look-only",
            "--policy-document",
            LOOK_ONLY,
        ])
        .json();
    let policy_arn = policy["Policy"]["Arn"].as_str().unwrap().to_string();
    let r = post(
        "/console/iam/groups/ops",
        &[("action", "attach"), ("policy_arn", &policy_arn)],
    );
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/console/iam/groups/ops"))
    );
    let policy_link = r#"<a href="/console/iam/policies/arn%3Aaws%3Aiam%3A%3A000000000000%3Apolicy%2Flook-only">look-only</a>"#;
    let page = get("/console/iam/groups/ops");
    assert_eq!(page.status, 200, "{}", page.body);
    for seen in [
        "<h1>Group ops</h1>",
        "<code>arn:aws:iam::000000000000:group/ops</code>",
        r#"<a href="/console/iam/users/erin">erin</a>"#,
        r#"<button type="submit" aria-label="Remove erin from ops">Remove</button>"#,
        policy_link,
        &format!("<code>{policy_arn}</code>"),
    ] {
        assert!(page.body.contains(seen), "{seen}: {}", page.body);
    }
    let page = get("/console/iam/users/erin");
    assert!(
        page.body
            .contains(r#"<a href="/console/iam/groups/ops">ops</a>"#),
        "{}",
        page.body
    );

    // Erin leaves: the group has no members, erin no groups.
    let r = post(
        "/console/iam/groups/ops",
        &[("action", "remove-user"), ("user_name", "erin")],
    );
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/console/iam/groups/ops"))
    );
    let page = get("/console/iam/groups/ops");
    assert!(
        page.body.contains("<h2>Members</h2>\n<p>None.</p>"),
        "{}",
        page.body
    );
    let page = get("/console/iam/users/erin");
    assert!(
        page.body.contains("<h2>Groups</h2>\n<p>None.</p>"),
        "{}",
        page.body
    );
    let r = post(
        "/console/iam/groups/ops",
        &[("action", "remove-user"), ("user_name", "erin")],
    );
    assert_eq!(r.status, 400);
    assert!(
        r.body
            .contains("The user with name erin cannot be found in group ops."),
        "{}",
        r.body
    );
    let r = get("/console/iam/groups/nope");
    assert_eq!(r.status, 404);
    assert!(
        r.body
            .contains("<p>The group with name nope cannot be found.</p>"),
        "{}",
        r.body
    );

    // The ingestion role's page: its trust policy lets RDS assume it; a policy attached.
    let role = ROLE.rsplit('/').next().unwrap();
    let role_path = format!("/console/iam/roles/{role}");
    assert!(get("/console/iam")
        .body
        .contains(&format!(r#"<a href="{role_path}">{role}</a>"#)));
    let page = get(&role_path);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(&format!("<code>{ROLE}</code>")));
    let trust = pre_text(&page.body);
    assert!(
        trust
            .lines()
            .any(|l| l.trim() == r#""Service": "rds.amazonaws.com""#),
        "{trust}"
    );
    let r = post(
        &role_path,
        &[("action", "attach"), ("policy_arn", &policy_arn)],
    );
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some(role_path.as_str()))
    );
    assert!(get(&role_path).body.contains(policy_link));
    let r = post(
        &role_path,
        &[
            ("action", "attach"),
            ("policy_arn", "arn:aws:iam::000000000000:policy/nope"),
        ],
    );
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains(r#"<p class="error" id="attach-error" role="alert">Policy arn:aws:iam::000000000000:policy/nope does not exist or is not attachable.</p>"#),
        "{}",
        r.body
    );
    let r = get("/console/iam/roles/nope");
    assert_eq!(r.status, 404);
    assert!(r.body.contains("The role with name nope cannot be found."));

    // The policy's page, from its link on the IAM page (or by its name): its document.
    let page = get("/console/iam");
    assert!(page.body.contains(policy_link), "{}", page.body);
    let page = get("/console/iam/policies/arn%3Aaws%3Aiam%3A%3A000000000000%3Apolicy%2Flook-only");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<dt>Default version</dt><dd>v1</dd>"));
    assert!(page.body.contains("<dd>2 entities</dd>"), "{}", page.body);
    assert_eq!(
        pre_text(&page.body),
        r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "rds:Describe*",
      "Resource": "*"
    }
  ]
}"#
    );
    assert_eq!(get("/console/iam/policies/look-only").body, page.body);
    let r = get("/console/iam/policies/nope");
    assert_eq!(r.status, 404);
    assert!(
        r.body
            .contains("Policy arn:aws:iam::000000000000:policy/nope was not found."),
        "{}",
        r.body
    );

    // A user who may only describe RDS resources sees IAM's denial, not the pages.
    let viewer = sign_in(&a, &serve.user_with_policy("viewer", LOOK_ONLY));
    let r = request(&a, "GET", &role_path, Some(&viewer), None);
    assert_eq!(r.status, 403);
    assert!(
        r.body.contains("is not authorized to perform: iam:GetRole"),
        "{}",
        r.body
    );
}
