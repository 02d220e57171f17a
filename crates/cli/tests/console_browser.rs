//! The web console in a real headless Chromium (Debian's, through chromedriver), as a person
//! walks the seed: signing in with the keyboard only, the Restore-from-S3 wizard on a bucket
//! of real backups with its pre-flight (a bad prefix caught first), Launch, the cluster going from `creating` to
//! `available` with its writer, the recovered binlog position on the cluster's page and in
//! the events, replication started from the page's form, its lag chart, and stopped from it,
//! a narrow (390 px) phone-sized window, a delete confirmed by typing the
//! cluster's name, sign-out, and a user who may only look seeing IAM's denial in the
//! pre-flight with Launch disabled. A screenshot of each step goes to
//! `target/tmp/console-screenshots/` (not committed).

mod common;

use std::time::Duration;

use common::replication::runtime;
use common::serve::{data_dir, Serve, LOOK_ONLY};
use fantoccini::key::Key;
use fantoccini::Locator;
use ferry_testkit::http::read_key;
use ferry_testkit::Browser;

const CLUSTER: &str = "orders";

#[test]
fn a_person_restores_a_cluster_with_the_wizard_and_deletes_it_in_chromium() {
    let (_tmp, dir) = data_dir();
    let serve = Serve::start(&dir, &common::fixtures().join("chains"), &[]);
    let (akid, secret) = read_key(&serve.credentials());
    let viewer = serve.user_with_policy("viewer", LOOK_ONLY);
    let (binlog_file, binlog_pos, _) = common::expected_binlog(&common::expected_for("xbstream"));
    let binlog = format!("{binlog_file}:{binlog_pos}");
    let base = serve.endpoint();
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");

    let rt = runtime();
    rt.block_on(async {
        let mut b = Browser::start(&shots, 1280, 800).await.unwrap();
        let c = b.client.clone();

        // Signed out: the console sends the browser to the sign-in page.
        c.goto(&format!("{base}/console")).await.unwrap();
        b.wait_for("#access_key_id", Duration::from_secs(10))
            .await
            .unwrap();
        assert!(c.current_url().await.unwrap().path().ends_with("/console/sign-in"));
        b.screenshot("sign-in").await.unwrap();

        // Keyboard only: the skip link first, then the fields, in order; Enter submits.
        let body = c.find(Locator::Css("body")).await.unwrap();
        body.send_keys(&Key::Tab.to_string()).await.unwrap();
        let focused = || async {
            c.execute(
                "return document.activeElement.id || document.activeElement.className",
                vec![],
            )
            .await
            .unwrap()
            .as_str()
            .unwrap_or_default()
            .to_string()
        };
        assert_eq!(focused().await, "skip");
        // The focused element is visibly outlined.
        let outline = c
            .execute(
                "return getComputedStyle(document.activeElement).outlineStyle",
                vec![],
            )
            .await
            .unwrap();
        assert_ne!(outline.as_str(), Some("none"), "focus must be visible");
        let field = c.find(Locator::Id("access_key_id")).await.unwrap();
        field.click().await.unwrap();
        assert_eq!(focused().await, "access_key_id");
        field.send_keys(&akid).await.unwrap();
        field.send_keys(&Key::Tab.to_string()).await.unwrap();
        assert_eq!(focused().await, "secret_access_key");
        let secret_field = c.find(Locator::Id("secret_access_key")).await.unwrap();
        secret_field.send_keys(&secret).await.unwrap();
        secret_field
            .send_keys(&Key::Enter.to_string())
            .await
            .unwrap();
        b.wait_for("a.button", Duration::from_secs(10))
            .await
            .unwrap();
        assert!(c.current_url().await.unwrap().path().ends_with("/console/clusters"));
        assert!(b.text().await.unwrap().contains("No clusters yet"));
        b.screenshot("clusters-empty").await.unwrap();

        // The seed's wizard: source backup details, DB details, advanced settings. A prefix
        // with no backup first: the pre-flight says so, and Launch stays disabled.
        c.find(Locator::Css("a.button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        fill_wizard(&mut b, "nothing-here").await;
        let text = b.text().await.unwrap();
        assert!(
            text.contains("no backup sets found under s3://xbstream/nothing-here"),
            "{text}"
        );
        assert!(launch_disabled(&b).await, "Launch must be disabled");
        b.screenshot("pre-flight-bad-prefix").await.unwrap();
        c.find(Locator::LinkText("Start over"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        fill_wizard(&mut b, "").await;

        // The pre-flight: every check passed, the chain in order, then Launch.
        let text = b.text().await.unwrap();
        assert!(!text.contains('✗'), "a check failed:\n{text}");
        assert!(text.contains("Applied in this order"), "{text}");
        assert!(text.contains(&binlog), "the newest set's binlog position: {text}");
        b.screenshot("pre-flight").await.unwrap();
        c.find(Locator::Css("form[action='/console/restore/launch'] button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();

        // The new cluster: creating (the page reloads itself), then available with its writer.
        b.wait_for("h1 .status", Duration::from_secs(10))
            .await
            .unwrap();
        assert!(c
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with(&format!("/console/clusters/{CLUSTER}")));
        b.screenshot("creating").await.unwrap();
        let until = std::time::Instant::now() + Duration::from_secs(300);
        loop {
            let text = b.text().await.unwrap();
            let writer_up = text
                .lines()
                .any(|l| l.contains(&format!("{CLUSTER}-instance-1")) && l.contains("available"));
            if writer_up {
                break;
            }
            assert!(std::time::Instant::now() < until, "not available:\n{text}");
            tokio::time::sleep(Duration::from_millis(500)).await;
            c.refresh().await.unwrap();
        }
        let text = b.text().await.unwrap();
        for want in [
            format!("{CLUSTER}-instance-1"),
            "writer".to_string(),
            "mariadb --host 127.0.0.1 --port".to_string(),
            format!("Recovered binlog position\n{binlog}"),
            "s3://xbstream".to_string(),
        ] {
            assert!(text.contains(&want), "{want} missing:\n{text}");
        }
        b.screenshot("cluster").await.unwrap();
        replicate_and_stop(&mut b, &base).await;

        // The recovered position in the events, as the seed finds it.
        c.find(Locator::LinkText("All events of this cluster"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        b.wait_for("form.filters", Duration::from_secs(10))
            .await
            .unwrap();
        let text = b.text().await.unwrap();
        assert!(
            text.contains(&format!(
                "Recovered from Binary log filename '{binlog_file}', position '{binlog_pos}'."
            )),
            "{text}"
        );
        b.screenshot("events").await.unwrap();
        c.back().await.unwrap();
        b.wait_for("#confirm", Duration::from_secs(10)).await.unwrap();

        // Readable on a phone: nothing wider than the window but the tables' own scrollers.
        c.set_window_size(390, 844).await.unwrap();
        let overflow = c
            .execute(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
                vec![],
            )
            .await
            .unwrap();
        assert!(overflow.as_i64().unwrap_or(1) <= 0, "page wider than 390 px: {overflow}");
        b.screenshot("cluster-390px").await.unwrap();
        c.set_window_size(1280, 800).await.unwrap();

        // Delete: the wrong name is refused next to the field, the right one deletes.
        let confirm = c.find(Locator::Id("confirm")).await.unwrap();
        confirm.send_keys("order").await.unwrap();
        confirm.send_keys(&Key::Enter.to_string()).await.unwrap();
        b.wait_for("#delete-error", Duration::from_secs(10))
            .await
            .unwrap();
        let error = c
            .find(Locator::Id("delete-error"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(error, format!("Type {CLUSTER} exactly to confirm the deletion."));
        b.screenshot("delete-refused").await.unwrap();
        let confirm = c.find(Locator::Id("confirm")).await.unwrap();
        confirm.send_keys(CLUSTER).await.unwrap();
        c.find(Locator::Css("button.danger"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let until = std::time::Instant::now() + Duration::from_secs(120);
        let mut shot_deleting = false;
        loop {
            let text = b.text().await.unwrap();
            if text.contains(&format!("DBCluster {CLUSTER} not found.")) {
                break;
            }
            assert!(
                text.contains("deleting") || text.contains(CLUSTER),
                "after delete:\n{text}"
            );
            assert!(std::time::Instant::now() < until, "not deleted:\n{text}");
            if text.contains("deleting") && !shot_deleting {
                b.screenshot("deleting").await.unwrap();
                shot_deleting = true;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            c.refresh().await.unwrap();
        }

        // Sign out, then the console asks to sign in again.
        c.goto(&format!("{base}/console/clusters")).await.unwrap();
        c.find(Locator::Css("header form button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        b.wait_for("#access_key_id", Duration::from_secs(10))
            .await
            .unwrap();
        c.goto(&format!("{base}/console/clusters")).await.unwrap();
        b.wait_for("#access_key_id", Duration::from_secs(10))
            .await
            .unwrap();

        // A user who may only look: the pre-flight's first finding is IAM's denial, and
        // Launch is disabled with the reason on hover.
        sign_in(&b, &viewer).await;
        c.goto(&format!("{base}/console/restore")).await.unwrap();
        fill_wizard(&mut b, "").await;
        let text = b.text().await.unwrap();
        assert!(
            text.contains("is not authorized to perform: rds:RestoreDBClusterFromS3"),
            "{text}"
        );
        assert!(launch_disabled(&b).await);
        b.screenshot("pre-flight-denied").await.unwrap();
        b.close().await;
    });
}

/// Starts the cluster's replication from a source server with the cluster page's form (at
/// the source's current position), writes on the source until the lag chart has a line, and
/// stops replication with the page's stop form; the browser ends on the cluster's page.
async fn replicate_and_stop(b: &mut Browser, base: &str) {
    use mysql_async::prelude::Queryable;
    const REPL_PASSWORD: &str = "Repl-pw-2024";
    let c = b.client.clone();
    let mut source =
        ferry_testkit::TestServer::start(ferry_testkit::TestServerOptions::with_binlog(7))
            .await
            .unwrap();
    let mut admin = source.admin_conn().await.unwrap();
    for sql in [
        format!("CREATE USER repl@'%' IDENTIFIED BY '{REPL_PASSWORD}'"),
        "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO repl@'%'".to_string(),
    ] {
        admin.query_drop(sql).await.unwrap();
    }
    let row: mysql_async::Row = admin
        .query_first("SHOW MASTER STATUS")
        .await
        .unwrap()
        .unwrap();
    let file: String = row.get("File").unwrap();
    let pos: u64 = row.get("Position").unwrap();
    let port = source.port().to_string();
    let pos_text = pos.to_string();
    for (id, value) in [
        ("host", "127.0.0.1"),
        ("port", port.as_str()),
        ("user", "repl"),
        ("password", REPL_PASSWORD),
        ("start_log_file", file.as_str()),
        ("start_log_position", pos_text.as_str()),
    ] {
        let field = c.find(Locator::Id(id)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }
    c.execute(
        "document.getElementById('start-replication').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    b.screenshot("replication-start").await.unwrap();
    c.find(Locator::Css("#start-replication button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for("p.notice", Duration::from_secs(60))
        .await
        .unwrap();
    let text = b.text().await.unwrap();
    assert!(text.contains("Slave running normally."), "{text}");

    // Writes on the source; the page (read again, as a person would) draws the lag.
    for sql in [
        "CREATE DATABASE live",
        "CREATE TABLE live.t (id INT PRIMARY KEY, v VARCHAR(20))",
    ] {
        admin.query_drop(sql).await.unwrap();
    }
    let page = format!("{base}/console/clusters/{CLUSTER}");
    let until = std::time::Instant::now() + Duration::from_secs(90);
    for i in 0.. {
        admin
            .exec_drop("INSERT INTO live.t VALUES (?, 'row')", (i,))
            .await
            .unwrap();
        c.goto(&page).await.unwrap();
        // The page is there when its delete form is (the replication section comes with the
        // first sample, every 2 s).
        b.wait_for("#confirm", Duration::from_secs(10))
            .await
            .unwrap();
        if c.find(Locator::Css("svg.chart polyline")).await.is_ok() {
            break;
        }
        assert!(
            std::time::Instant::now() < until,
            "no lag line:\n{}",
            b.text().await.unwrap()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let text = b.text().await.unwrap();
    assert!(text.contains("running lag"), "{text}");
    c.execute(
        "document.getElementById('replication').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    b.screenshot("replication").await.unwrap();

    // Stop: the form holds the source's position as last sampled.
    c.find(Locator::Css(
        "form[action$='/stop-replication'] button[type=submit]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    b.wait_for("p.notice", Duration::from_secs(120))
        .await
        .unwrap();
    let text = b.text().await.unwrap();
    assert!(
        text.contains("Replication stopped: the cluster applied the source up to"),
        "{text}"
    );
    c.execute(
        "document.querySelector('p.notice').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    b.screenshot("replication-stopped").await.unwrap();
    drop(admin);
    source.stop().await.unwrap();
    c.goto(&page).await.unwrap();
    b.wait_for("#confirm", Duration::from_secs(10))
        .await
        .unwrap();
}

/// Fills the wizard for the xbstream chain under `prefix` and asks for the pre-flight.
async fn fill_wizard(b: &mut Browser, prefix: &str) {
    let c = b.client.clone();
    b.wait_for("#S3BucketName", Duration::from_secs(10))
        .await
        .unwrap();
    for (id, value) in [
        ("SourceEngineVersion", "10.11"),
        ("S3BucketName", "xbstream"),
        ("S3Prefix", prefix),
        ("S3IngestionRoleArn", common::serve::ROLE),
        ("DBClusterIdentifier", CLUSTER),
        ("MasterUserPassword", common::serve::PASSWORD),
    ] {
        let field = c.find(Locator::Id(id)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }
    b.screenshot("wizard").await.unwrap();
    c.find(Locator::Css("form.wizard button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for("ul.checks", Duration::from_secs(60))
        .await
        .unwrap();
}

async fn launch_disabled(b: &Browser) -> bool {
    let button = b
        .client
        .find(Locator::Css(
            "form[action='/console/restore/launch'] button",
        ))
        .await
        .unwrap();
    button.attr("disabled").await.unwrap().is_some()
}

/// Signs in on the sign-in page with `key`.
async fn sign_in(b: &Browser, key: &(String, String)) {
    let c = &b.client;
    b.wait_for("#access_key_id", Duration::from_secs(10))
        .await
        .unwrap();
    c.find(Locator::Id("access_key_id"))
        .await
        .unwrap()
        .send_keys(&key.0)
        .await
        .unwrap();
    let secret = c.find(Locator::Id("secret_access_key")).await.unwrap();
    secret.send_keys(&key.1).await.unwrap();
    secret.send_keys(&Key::Enter.to_string()).await.unwrap();
    b.wait_for("a.button", Duration::from_secs(10))
        .await
        .unwrap();
}
