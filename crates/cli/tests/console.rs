//! The web console of `ferry serve` over HTTP, as a browser sees it: sign-in with an access
//! key, the session cookie's flags, CSRF refusals, the clusters and cluster pages, events
//! newest first, a restricted IAM user's disabled button (and the same refusal if the form is
//! sent anyway), the delete confirmation, 404 pages, sign-out, and an idle session's end.
//! The IAM pages are in `console_iam.rs`.

mod common;

use std::time::{Duration, Instant};

use common::serve::{data_dir, Serve, LOOK_ONLY};
use ferry_testkit::http::{read_key, request, sign_in};

const CLUSTER: &str = "shop";

fn addr(serve: &Serve) -> String {
    format!("127.0.0.1:{}", serve.port)
}

#[test]
fn sign_in_pages_and_forms_as_a_browser_sees_them() {
    let (_tmp, dir) = data_dir();
    let files = tempfile::tempdir().unwrap();
    let serve = Serve::start(&dir, files.path(), &[]);
    let a = addr(&serve);
    let root_key = read_key(&serve.credentials());

    // Not signed in: every page leads to the sign-in form.
    let r = request(&a, "GET", "/console", None, None);
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/console/clusters"))
    );
    let r = request(&a, "GET", "/console/clusters", None, None);
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/console/sign-in"))
    );

    // A wrong secret: refused, the secret never echoed, no session.
    let form = request(&a, "GET", "/console/sign-in", None, None);
    let pre = form.cookie("ferry_signin").unwrap();
    let token = form.input_value("csrf").unwrap();
    let wrong = request(
        &a,
        "POST",
        "/console/sign-in",
        Some(&format!("ferry_signin={pre}")),
        Some(&[
            ("csrf", &token),
            ("access_key_id", &root_key.0),
            ("secret_access_key", "not-the-secret-4711"),
        ]),
    );
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    assert!(wrong
        .body
        .contains("The access key ID or the secret access key is not valid."));
    assert!(!wrong.body.contains("not-the-secret-4711"));
    assert!(wrong.cookie("ferry_session").is_none());
    // The sign-in form without its pre-session cookie (sent from elsewhere): refused.
    let forged = request(
        &a,
        "POST",
        "/console/sign-in",
        None,
        Some(&[
            ("csrf", &token),
            ("access_key_id", &root_key.0),
            ("secret_access_key", &root_key.1),
        ]),
    );
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert!(forged.cookie("ferry_session").is_none());

    // The right key: a session cookie only scripts cannot read and other sites do not send.
    let form = request(&a, "GET", "/console/sign-in", None, None);
    let pre = form.cookie("ferry_signin").unwrap();
    let ok = request(
        &a,
        "POST",
        "/console/sign-in",
        Some(&format!("ferry_signin={pre}")),
        Some(&[
            ("csrf", &form.input_value("csrf").unwrap()),
            ("access_key_id", &root_key.0),
            ("secret_access_key", &root_key.1),
        ]),
    );
    assert_eq!(ok.status, 303, "{}", ok.body);
    let set = ok
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("ferry_session="))
        .unwrap()
        .to_string();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(set.contains(flag), "{set}");
    }
    let root = format!("ferry_session={}", ok.cookie("ferry_session").unwrap());

    // An empty list, then a cluster made with the AWS CLI shows up with its endpoint.
    let r = request(&a, "GET", "/console/clusters", Some(&root), None);
    assert_eq!(r.status, 200);
    assert!(r.body.contains("No clusters yet"), "{}", r.body);
    for header in ["content-security-policy", "x-content-type-options"] {
        assert!(r.header(header).is_some(), "{header}");
    }
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let port = ferry_testkit::free_port();
    serve.create_cluster_with_writer(CLUSTER, "Secret-pass-1", port);
    let r = request(&a, "GET", "/console/clusters", Some(&root), None);
    assert!(
        r.body.contains(&format!(
            r#"<a href="/console/clusters/{CLUSTER}">{CLUSTER}</a>"#
        )),
        "{}",
        r.body
    );
    assert!(r.body.contains("status-available"), "{}", r.body);
    assert!(r.body.contains(&format!(":{port}</code>")), "{}", r.body);

    // The cluster page: instances, the connection command, events newest first.
    let page = request(
        &a,
        "GET",
        &format!("/console/clusters/{CLUSTER}"),
        Some(&root),
        None,
    );
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(&format!("{CLUSTER}-1")), "{}", page.body);
    assert!(page.body.contains("writer"));
    assert!(
        page.body
            .contains(&format!("--port {port} --user admin --password")),
        "{}",
        page.body
    );
    let events = serve.cluster_events(CLUSTER);
    assert!(!events.is_empty());
    let newest = events.last().unwrap();
    let oldest = events.first().unwrap();
    let (at_newest, at_oldest) = (
        page.body.find(newest.as_str()).expect("newest event shown"),
        page.body.find(oldest.as_str()).expect("oldest event shown"),
    );
    assert!(at_newest <= at_oldest, "newest first:\n{}", page.body);
    assert!(
        !page.body.contains(r#"class="danger" disabled"#),
        "root may delete"
    );

    // The events page, filtered, and a filter the API would refuse explained on the page.
    let r = request(
        &a,
        "GET",
        &format!("/console/events?source_type=db-cluster&source_id={CLUSTER}&hours=2"),
        Some(&root),
        None,
    );
    assert_eq!(r.status, 200);
    assert!(r.body.contains(newest.as_str()), "{}", r.body);
    let r = request(&a, "GET", "/console/events?hours=abc", Some(&root), None);
    assert_eq!(r.status, 400);
    assert!(r.body.contains("from 1 to 336"), "{}", r.body);

    // Pages that do not exist.
    let r = request(&a, "GET", "/console/clusters/nope", Some(&root), None);
    assert_eq!(r.status, 404);
    assert!(r.body.contains("DBCluster nope not found."), "{}", r.body);
    let r = request(&a, "GET", "/console/no/such/page", Some(&root), None);
    assert_eq!(r.status, 404);
    assert!(r.body.contains("There is no such page"), "{}", r.body);

    // A user allowed to look only: the delete button is disabled with IAM's decision, and
    // the form sent anyway is refused with the same words; the cluster stays.
    let viewer = serve.user_with_policy("viewer", LOOK_ONLY);
    let bob = sign_in(&a, &viewer);
    let page = request(
        &a,
        "GET",
        &format!("/console/clusters/{CLUSTER}"),
        Some(&bob),
        None,
    );
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains(r#"class="danger" disabled title="#),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("is not authorized to perform: rds:DeleteDBCluster"),
        "{}",
        page.body
    );
    let csrf = page.input_value("csrf").unwrap();
    let r = request(
        &a,
        "POST",
        &format!("/console/clusters/{CLUSTER}/delete"),
        Some(&bob),
        Some(&[("csrf", &csrf), ("confirm", CLUSTER)]),
    );
    assert_eq!(r.status, 400);
    assert!(r
        .body
        .contains("is not authorized to perform: rds:DeleteDBCluster"));
    let status = |serve: &Serve| {
        serve.aws(&[
            "rds",
            "describe-db-clusters",
            "--db-cluster-identifier",
            CLUSTER,
        ])
    };
    assert_eq!(
        status(&serve).json()["DBClusters"][0]["Status"],
        "available"
    );

    // The root's form without the session's token, or with the wrong name: refused.
    let csrf = request(
        &a,
        "GET",
        &format!("/console/clusters/{CLUSTER}"),
        Some(&root),
        None,
    )
    .input_value("csrf")
    .unwrap();
    let r = request(
        &a,
        "POST",
        &format!("/console/clusters/{CLUSTER}/delete"),
        Some(&root),
        Some(&[("confirm", CLUSTER)]),
    );
    assert_eq!(r.status, 403);
    assert!(r.body.contains("security token"), "{}", r.body);
    let r = request(
        &a,
        "POST",
        &format!("/console/clusters/{CLUSTER}/delete"),
        Some(&root),
        Some(&[("csrf", &csrf), ("confirm", "sho")]),
    );
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("Type shop exactly to confirm"),
        "{}",
        r.body
    );
    assert_eq!(
        status(&serve).json()["DBClusters"][0]["Status"],
        "available"
    );

    // Deleted from the console: the instance and the cluster go, as with the AWS CLI.
    let r = request(
        &a,
        "POST",
        &format!("/console/clusters/{CLUSTER}/delete"),
        Some(&root),
        Some(&[("csrf", &csrf), ("confirm", CLUSTER)]),
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let run = status(&serve);
        if !run.ok {
            assert!(
                run.stderr.contains("DBClusterNotFoundFault"),
                "{}",
                run.stderr
            );
            break;
        }
        assert!(Instant::now() < deadline, "the cluster was not deleted");
        std::thread::sleep(Duration::from_millis(200));
    }

    // Sign-out ends the session.
    let r = request(
        &a,
        "POST",
        "/console/sign-out",
        Some(&root),
        Some(&[("csrf", &csrf)]),
    );
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/console/sign-in"))
    );
    let r = request(&a, "GET", "/console/clusters", Some(&root), None);
    assert_eq!(r.header("location"), Some("/console/sign-in"));
    let r = request(&a, "GET", "/console/clusters", Some(&bob), None);
    assert_eq!(r.status, 200, "another session goes on");
}

#[test]
fn an_idle_session_ends_by_itself() {
    let (_tmp, dir) = data_dir();
    let files = tempfile::tempdir().unwrap();
    let config = files.path().join("ferry.toml");
    std::fs::write(&config, "[console]\nsession_idle_secs = 2\n").unwrap();
    let config = config.to_str().unwrap().to_string();
    let serve = Serve::start(&dir, files.path(), &["--config", &config]);
    let a = addr(&serve);
    let session = sign_in(&a, &read_key(&serve.credentials()));
    let r = request(&a, "GET", "/console/clusters", Some(&session), None);
    assert_eq!(r.status, 200);
    // Used within the limit it goes on; then 2 s without a page end it.
    let last_use = Instant::now();
    while last_use.elapsed() < Duration::from_millis(2100) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let r = request(&a, "GET", "/console/clusters", Some(&session), None);
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/console/sign-in?expired=1"))
    );
    let r = request(&a, "GET", "/console/sign-in?expired=1", None, None);
    assert!(r.body.contains("Your session ended"), "{}", r.body);
    // The token is gone for good, not only for that one request.
    let r = request(&a, "GET", "/console/clusters", Some(&session), None);
    assert_eq!(r.header("location"), Some("/console/sign-in"));
}

/// The fields of the wizard for restoring `bucket`/`prefix` into cluster `id`.
fn wizard_form<'a>(
    csrf: &'a str,
    id: &'a str,
    bucket: &'a str,
    prefix: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("SourceEngine", "mysql"),
        ("SourceEngineVersion", "10.11"),
        ("S3BucketName", bucket),
        ("S3Prefix", prefix),
        ("S3IngestionRoleArn", common::serve::ROLE),
        ("DBClusterIdentifier", id),
        ("MasterUsername", "admin"),
        ("MasterUserPassword", common::serve::PASSWORD),
        ("DBInstanceClass", "db.r6g.large"),
        ("Port", ""),
        ("BackupRetentionPeriod", "1"),
    ]
}

#[test]
fn the_restore_wizard_checks_before_it_launches() {
    let (_tmp, dir) = data_dir();
    let chains = common::fixtures().join("chains");
    let serve = Serve::start(&dir, &chains, &[]);
    let a = addr(&serve);
    let root = sign_in(&a, &read_key(&serve.credentials()));
    let form = request(&a, "GET", "/console/restore", Some(&root), None);
    assert_eq!(form.status, 200, "{}", form.body);
    for field in [
        "SourceEngineVersion",
        "S3BucketName",
        "S3IngestionRoleArn",
        "MasterUserPassword",
    ] {
        assert!(
            form.body.contains(&format!(r#"<label for="{field}">"#)),
            "{field}"
        );
    }
    // Enter in any field sends the form with its first submit button: the pre-flight, never
    // "Create a new role".
    let check = form.body.find("Check (pre-flight)").unwrap();
    let create = form.body.find(r#"id="create-role""#).unwrap();
    assert!(check < create, "{}", form.body);
    let csrf = form.input_value("csrf").unwrap();

    // An identifier the API refuses: the API's words, next to the field.
    let r = request(
        &a,
        "POST",
        "/console/restore",
        Some(&root),
        Some(&wizard_form(&csrf, "1bad", "xbstream", "")),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.contains(r#"id="DBClusterIdentifier-error""#),
        "{}",
        r.body
    );
    assert!(
        !r.body.contains(common::serve::PASSWORD),
        "the password is never sent back"
    );

    // A prefix with no backup: the pre-flight says so, and Launch is disabled.
    let r = request(
        &a,
        "POST",
        "/console/restore",
        Some(&root),
        Some(&wizard_form(&csrf, "wiz", "xbstream", "nothing-here")),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains(r#"<li class="bad">"#), "{}", r.body);
    assert!(
        r.body
            .contains("no backup sets found under s3://xbstream/nothing-here"),
        "{}",
        r.body
    );
    assert!(!r.body.contains("/chains/"), "no server path: {}", r.body);
    assert!(r.body.contains(r#"class="primary" disabled"#), "{}", r.body);

    // A user who may look but not restore: the denial is the pre-flight's first finding,
    // and nothing of the bucket is read for them.
    let viewer = serve.user_with_policy("viewer", LOOK_ONLY);
    let bob = sign_in(&a, &viewer);
    let bob_csrf = request(&a, "GET", "/console/restore", Some(&bob), None)
        .input_value("csrf")
        .unwrap();
    let r = request(
        &a,
        "POST",
        "/console/restore",
        Some(&bob),
        Some(&wizard_form(&bob_csrf, "wiz", "xbstream", "")),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body
            .contains("is not authorized to perform: rds:RestoreDBClusterFromS3"),
        "{}",
        r.body
    );
    assert!(
        !r.body.contains("Backup sets"),
        "no plan for a caller who may not restore"
    );
    assert!(r.body.contains(r#"class="primary" disabled"#));

    // "Create a new role": the form comes back with a role scoped to the bucket filled in;
    // the account's roles are offered to pick from; a second one of the same name is
    // refused next to the field; a user who may not create roles gets IAM's refusal.
    let r = request(
        &a,
        "POST",
        "/console/restore/role",
        Some(&root),
        Some(&wizard_form(&csrf, "wiz", "xbstream", "")),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let new_role = "arn:aws:iam::000000000000:role/ferry-s3-import-xbstream";
    assert_eq!(
        r.input_value("S3IngestionRoleArn").as_deref(),
        Some(new_role)
    );
    assert!(
        r.body
            .contains("Created role ferry-s3-import-xbstream with policy")
            && r.body.contains("Type the master password again."),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains(&format!(r#"<option value="{}">"#, common::serve::ROLE)),
        "{}",
        r.body
    );
    assert!(!r.body.contains(common::serve::PASSWORD));
    let again = request(
        &a,
        "POST",
        "/console/restore/role",
        Some(&root),
        Some(&wizard_form(&csrf, "wiz", "xbstream", "")),
    );
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(
        again.body.contains(r#"id="S3IngestionRoleArn-error""#)
            && again.body.contains("already exists"),
        "{}",
        again.body
    );
    let denied = request(
        &a,
        "POST",
        "/console/restore/role",
        Some(&bob),
        Some(&wizard_form(&bob_csrf, "wiz", "other", "")),
    );
    assert_eq!(denied.status, 403, "{}", denied.body);
    assert!(
        denied
            .body
            .contains("is not authorized to perform: iam:CreateRole"),
        "{}",
        denied.body
    );

    // The real thing, with the new role: every check passes, the plan is the chain, Launch
    // makes the cluster and its writer with these values.
    let mut real = wizard_form(&csrf, "wiz", "xbstream", "");
    for (k, v) in real.iter_mut() {
        if *k == "S3IngestionRoleArn" {
            *v = new_role;
        }
    }
    let r = request(&a, "POST", "/console/restore", Some(&root), Some(&real));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body.contains(r#"<li class="bad">"#), "{}", r.body);
    assert!(r.body.contains("Applied in this order"), "{}", r.body);
    assert!(
        !r.body.contains(common::serve::PASSWORD),
        "the password stays on the server"
    );
    let (binlog_file, binlog_pos, _) = common::expected_binlog(&common::expected_for("xbstream"));
    let wizard = r.input_value("wizard").unwrap();
    let launched = request(
        &a,
        "POST",
        "/console/restore/launch",
        Some(&root),
        Some(&[("csrf", &csrf), ("wizard", &wizard)]),
    );
    assert_eq!(
        (launched.status, launched.header("location")),
        (303, Some("/console/clusters/wiz")),
        "{}",
        launched.body
    );
    // While it restores, its page shows the progress and follows it live: the events stream
    // progress (percent and text) until the job ends, then `done`.
    let page = request(&a, "GET", "/console/clusters/wiz", Some(&root), None);
    let creating = page.body.contains(r#"id="progress""#);
    if creating {
        assert!(page.body.contains("<progress"), "{}", page.body);
        assert!(
            page.body.contains("/console/static/live.js"),
            "{}",
            page.body
        );
    }
    let events = request(
        &a,
        "GET",
        "/console/clusters/wiz/progress",
        Some(&root),
        None,
    );
    assert_eq!(events.status, 200);
    assert_eq!(events.header("content-type"), Some("text/event-stream"));
    let progress: Vec<serde_json::Value> = events
        .body
        .split("\n\n")
        .filter(|e| e.contains("event: progress"))
        .map(|e| {
            let data = e.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
            serde_json::from_str(data).unwrap()
        })
        .collect();
    let last = events
        .body
        .trim_end()
        .rsplit("\n\n")
        .next()
        .unwrap_or_default();
    assert!(last.starts_with("event: done"), "{}", events.body);
    // The page showed the job running a moment ago, and the stream's first event is sent at
    // once: it reports the job.
    assert!(!creating || !progress.is_empty(), "{}", events.body);
    for p in &progress {
        assert!(p["percent"].as_u64().unwrap() <= 100, "{p}");
        assert!(p["text"].as_str().unwrap().contains('%'), "{p}");
    }
    // A second Launch of the same pre-flight makes nothing.
    let again = request(
        &a,
        "POST",
        "/console/restore/launch",
        Some(&root),
        Some(&[("csrf", &csrf), ("wizard", &wizard)]),
    );
    assert_eq!(again.status, 400);
    assert!(again.body.contains("no longer current"), "{}", again.body);
    serve.wait(
        "db_cluster_available",
        serde_json::json!({ "DBClusterIdentifier": "wiz" }),
    );
    // The writer comes once the cluster is available (the console adds it then).
    let deadline = Instant::now() + Duration::from_secs(60);
    while !serve
        .aws(&[
            "rds",
            "describe-db-instances",
            "--db-instance-identifier",
            "wiz-instance-1",
        ])
        .ok
    {
        assert!(Instant::now() < deadline, "the writer was not added");
        std::thread::sleep(Duration::from_millis(250));
    }
    serve.wait(
        "db_instance_available",
        serde_json::json!({ "DBInstanceIdentifier": "wiz-instance-1" }),
    );
    let page = request(&a, "GET", "/console/clusters/wiz", Some(&root), None);
    assert!(
        page.body.contains(&format!("{binlog_file}:{binlog_pos}")),
        "{}",
        page.body
    );
    assert!(page.body.contains("s3://xbstream"), "{}", page.body);
    assert!(page.body.contains("wiz-instance-1"), "{}", page.body);
}
