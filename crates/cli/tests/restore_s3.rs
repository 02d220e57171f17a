//! Restoring from a real S3-protocol server (s3s-fs with SigV4 checks) on loopback, directly
//! and through a proxy that injects faults, plus resuming an interrupted restore and the
//! errors a user sees for bad credentials.

mod common;

use std::time::Duration;

use common::*;
use ferry_testkit::{FaultPlan, FaultProxy, FaultRule, S3Server};

struct Bucket {
    _root: tempfile::TempDir,
    s3: S3Server,
}

/// A server with `chains/<chain_name>` uploaded to `s3://backups/<prefix>`.
fn bucket_with(chain_name: &str, prefix: &str) -> Bucket {
    let root = tempfile::tempdir().unwrap();
    let s3 = S3Server::start(root.path()).unwrap();
    s3.create_bucket("backups").unwrap();
    s3.put_tree("backups", prefix, &chain(chain_name)).unwrap();
    Bucket { _root: root, s3 }
}

fn restore_cmd(
    env: &[(String, String)],
    source: &str,
    target: &std::path::Path,
) -> std::process::Command {
    let mut cmd = ferry();
    cmd.envs(env.iter().cloned())
        .args(["backup", "restore", source, "--target-dir"])
        .arg(target);
    cmd
}

fn restore_from_s3_and_verify(chain_name: &str) {
    let b = bucket_with(chain_name, "prod/db1");
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("datadir");
    run(&mut restore_cmd(
        &b.s3.env_vars(),
        "s3://backups/prod/db1",
        &target,
    ))
    .assert_ok();
    verify_datadir(&target, &expected_for(chain_name));
}

#[test]
fn restores_split_xbstream_from_s3() {
    restore_from_s3_and_verify("xbstream");
}

#[test]
fn restores_directories_from_s3() {
    restore_from_s3_and_verify("dir");
}

#[test]
fn restores_mixture_from_s3() {
    restore_from_s3_and_verify("mixed");
}

#[test]
fn restores_incrementals_copied_into_the_full_backups_directory() {
    // `full/inc1/` and `full/inc1/inc2/` inside the full backup's directory: the sets are
    // fetched while listed, and each file lands in its own set, not in the one around it.
    let root = tempfile::tempdir().unwrap();
    let s3 = S3Server::start(root.path()).unwrap();
    s3.create_bucket("backups").unwrap();
    let c = chain("dir");
    for (dir, prefix) in [
        ("full", "nested/full"),
        ("inc1", "nested/full/inc1"),
        ("inc2", "nested/full/inc1/inc2"),
    ] {
        s3.put_tree("backups", prefix, &c.join(dir)).unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("datadir");
    let r = run(&mut restore_cmd(
        &s3.env_vars(),
        "s3://backups/nested",
        &target,
    ));
    r.assert_ok();
    assert!(
        r.stdout.contains("full -> full/inc1 -> full/inc1/inc2"),
        "{}",
        r.stdout
    );
    verify_datadir(&target, &expected_for("dir"));
}

#[test]
fn inspect_reads_s3_with_endpoint_flag() {
    let b = bucket_with("targz", "nightly");
    let env: Vec<(String, String)> =
        b.s3.env_vars()
            .into_iter()
            .filter(|(k, _)| k != "AWS_ENDPOINT_URL")
            .collect();
    let r = run(ferry()
        .envs(env)
        .args([
            "backup",
            "inspect",
            "s3://backups/nightly",
            "--endpoint-url",
        ])
        .arg(b.s3.endpoint()));
    r.assert_ok();
    assert!(r.stdout.contains("Result: restorable"), "{}", r.stdout);
    assert!(r.stdout.contains("tar.gz"), "{}", r.stdout);
}

#[test]
fn survives_5xx_resets_truncations_and_stalls() {
    let b = bucket_with("xbstream", "prod/db1");
    let plan = FaultPlan::none()
        .with(
            FaultRule::status(503)
                .first(3)
                .path_contains("full.xbstream00"),
        )
        .with(
            FaultRule::status(500)
                .first(2)
                .path_contains("inc1.xbstream"),
        )
        .with(
            FaultRule::reset_after(50_000)
                .first(3)
                .path_contains("full.xbstream01"),
        )
        .with(
            FaultRule::truncate_after(70_000)
                .first(2)
                .path_contains("inc2.xbstream"),
        )
        .with(
            FaultRule::stall_after(10_000, Duration::from_secs(30))
                .first(1)
                .path_contains("full.xbstream02"),
        );
    let proxy = FaultProxy::start(b.s3.addr(), plan).unwrap();
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("datadir");
    let r = run(restore_cmd(
        &b.s3.env_vars_via(&proxy.endpoint()),
        "s3://backups/prod/db1",
        &target,
    )
    .args(["--stall-timeout", "2", "--retry-backoff-ms", "20"]));
    r.assert_ok();
    let stats = proxy.stats();
    assert_eq!(stats.status_errors, 5, "{stats:?}");
    assert_eq!(stats.resets, 3, "{stats:?}");
    assert_eq!(stats.truncations, 2, "{stats:?}");
    assert_eq!(stats.stalls, 1, "{stats:?}");
    verify_datadir(&target, &expected_for("xbstream"));
}

#[test]
fn resumes_an_interrupted_restore_without_downloading_complete_sets_again() {
    let b = bucket_with("xbstream", "prod/db1");
    // inc2 is unreachable: every GET of it fails.
    let proxy = FaultProxy::start(
        b.s3.addr(),
        FaultPlan::single(
            FaultRule::status(503)
                .always()
                .path_contains("inc2.xbstream"),
        ),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("datadir");
    let env = b.s3.env_vars_via(&proxy.endpoint());
    let first = run(restore_cmd(&env, "s3://backups/prod/db1", &target).args([
        "--max-attempts",
        "2",
        "--retry-backoff-ms",
        "10",
        "--sets-parallel",
        "1",
    ]));
    assert_eq!(first.status, 1, "{}", first.stdout);
    assert!(first.stderr.contains("inc2.xbstream"), "{}", first.stderr);
    assert!(
        first.stderr.contains("run the same command again"),
        "{}",
        first.stderr
    );
    assert!(!target.exists(), "no datadir after a failure");
    assert!(
        out.path().join(".datadir.ferry-staging").is_dir(),
        "staging kept for resume"
    );

    // The network is back: the rerun fetches only what is missing.
    proxy.set_plan(FaultPlan::none());
    proxy.reset_stats();
    let second = run(&mut restore_cmd(&env, "s3://backups/prod/db1", &target));
    second.assert_ok();
    assert!(
        second.stdout.contains("reused from an earlier run"),
        "{}",
        second.stdout
    );
    // One listing, the HEAD that asks whether the prefix is itself one directory set (to
    // fetch while listing), plus one GET per inc2 part (each is smaller than a block):
    // nothing of full or inc1, which were complete, is fetched again.
    let inc2_parts = std::fs::read_dir(chain("xbstream"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("inc2.")
        })
        .count() as u64;
    let requests = proxy.stats().requests;
    assert!(
        (inc2_parts..=inc2_parts + 2).contains(&requests),
        "the rerun made {requests} requests; only the {inc2_parts} parts of inc2 were missing"
    );
    verify_datadir(&target, &expected_for("xbstream"));
    assert!(
        !out.path().join(".datadir.ferry-staging").exists(),
        "staging removed after success"
    );
}

#[test]
fn wrong_secret_is_refused_with_a_clear_error() {
    let b = bucket_with("dir", "prod/db1");
    let env: Vec<(String, String)> =
        b.s3.env_vars()
            .into_iter()
            .map(|(k, v)| {
                if k == "AWS_SECRET_ACCESS_KEY" {
                    (k, "not-the-secret".to_string())
                } else {
                    (k, v)
                }
            })
            .collect();
    let out = tempfile::tempdir().unwrap();
    let r = run(&mut restore_cmd(
        &env,
        "s3://backups/prod/db1",
        &out.path().join("d"),
    ));
    assert_eq!(r.status, 1);
    assert!(r.stderr.contains("s3://backups/prod/db1"), "{}", r.stderr);
    assert!(
        r.stderr.contains("403") || r.stderr.contains("SignatureDoesNotMatch"),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("not-the-secret"),
        "the secret must never be echoed"
    );
    assert_no_leftovers(out.path());
}

#[test]
fn missing_credentials_are_explained() {
    let b = bucket_with("dir", "p");
    let env: Vec<(String, String)> =
        b.s3.env_vars()
            .into_iter()
            .filter(|(k, _)| !k.starts_with("AWS_ACCESS") && !k.starts_with("AWS_SECRET"))
            .collect();
    let r = run(ferry()
        .envs(env)
        .args(["backup", "inspect", "s3://backups/p"]));
    assert_eq!(r.status, 1);
    assert!(r.stderr.contains("no AWS credentials"), "{}", r.stderr);
}

#[test]
fn missing_bucket_is_reported() {
    let b = bucket_with("dir", "p");
    let r = run(ferry()
        .envs(b.s3.env_vars())
        .args(["backup", "inspect", "s3://no-such-bucket/p"]));
    assert_eq!(r.status, 1);
    assert!(r.stderr.contains("s3://no-such-bucket/p"), "{}", r.stderr);
}

#[test]
fn ctrl_c_keeps_work_for_a_rerun() {
    let b = bucket_with("xbstream", "prod/db1");
    // inc2 stalls for a long time, so the run is surely still going when interrupted.
    let proxy = FaultProxy::start(
        b.s3.addr(),
        FaultPlan::single(
            FaultRule::stall(Duration::from_secs(120))
                .always()
                .path_contains("inc2.xbstream"),
        ),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("datadir");
    let env = b.s3.env_vars_via(&proxy.endpoint());
    let child = restore_cmd(&env, "s3://backups/prod/db1", &target)
        .args(["--sets-parallel", "1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait (with a deadline) until the first sets are complete in staging.
    let sets = out.path().join(".datadir.ferry-staging/sets");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let complete = std::fs::read_dir(&sets)
            .map(|d| {
                d.filter(|e| {
                    e.as_ref()
                        .map(|e| e.file_name().to_string_lossy().ends_with(".complete"))
                        .unwrap_or(false)
                })
                .count()
            })
            .unwrap_or(0);
        if complete >= 2 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "sets never completed");
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("run the same command again to resume"),
        "{stderr}"
    );
    assert!(!target.exists());

    proxy.set_plan(FaultPlan::none());
    let second = run(&mut restore_cmd(&env, "s3://backups/prod/db1", &target));
    second.assert_ok();
    assert!(
        second.stdout.contains("reused from an earlier run"),
        "{}",
        second.stdout
    );
    verify_datadir(&target, &expected_for("xbstream"));
}

#[test]
fn inspect_of_an_xbstream_reads_only_its_tail() {
    let b = bucket_with("xbstream", "big");
    let proxy = FaultProxy::start(b.s3.addr(), FaultPlan::none()).unwrap();
    let r = run(ferry().envs(b.s3.env_vars_via(&proxy.endpoint())).args([
        "backup",
        "inspect",
        "s3://backups/big",
    ]));
    r.assert_ok();
    assert!(r.stdout.contains("Result: restorable"), "{}", r.stdout);
    let parts = std::fs::read_dir(chain("xbstream")).unwrap().count() as u64;
    let requests = proxy.stats().requests;
    assert!(
        requests < parts / 2,
        "inspect made {requests} requests for {parts} parts: it should read only each stream's tail"
    );
}
