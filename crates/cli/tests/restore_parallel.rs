//! `--parallel` is the number of requests in flight over the whole restore, observed at the S3
//! server (through the fault proxy), and a restore that follows it gives the source's data
//! whatever the bound, also while the store throttles.

mod common;

use std::time::Duration;

use common::*;
use ferry_testkit::{FaultPlan, FaultProxy, FaultRule, S3Server};

struct Bucket {
    _root: tempfile::TempDir,
    s3: S3Server,
}

/// The directory-layout chain (three sets, ~775 files, most of them small) in S3.
fn dir_bucket() -> Bucket {
    let root = tempfile::tempdir().unwrap();
    let s3 = S3Server::start(root.path()).unwrap();
    s3.create_bucket("backups").unwrap();
    s3.put_tree("backups", "prod/db1", &chain("dir")).unwrap();
    Bucket { _root: root, s3 }
}

/// `ferry backup restore` through `proxy`, with `--parallel` if given.
fn restore_via(
    proxy: &FaultProxy,
    b: &Bucket,
    target: &std::path::Path,
    parallel: Option<u16>,
) -> Run {
    let mut cmd = ferry();
    cmd.envs(b.s3.env_vars_via(&proxy.endpoint()))
        .args(["backup", "restore", "s3://backups/prod/db1", "--target-dir"])
        .arg(target)
        .args(["--retry-backoff-ms", "20"]);
    if let Some(n) = parallel {
        cmd.args(["--parallel", &n.to_string()]);
    }
    run(&mut cmd)
}

#[test]
fn one_request_at_a_time_with_parallel_1() {
    let b = dir_bucket();
    let proxy = FaultProxy::start(b.s3.addr(), FaultPlan::none()).unwrap();
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("datadir");
    restore_via(&proxy, &b, &target, Some(1)).assert_ok();
    let stats = proxy.stats();
    assert!(stats.requests > 700, "{stats:?}");
    assert_eq!(stats.peak_in_flight, 1, "{stats:?}");
    verify_datadir(&target, &expected_for("dir"));
}

#[test]
fn parallel_16_keeps_16_requests_in_flight_across_files_and_sets() {
    let b = dir_bucket();
    // Every GET waits 50 ms before its body: the restore has to keep many small files in
    // flight to get through, and the proxy sees each one for at least that long.
    let plan = FaultPlan::single(FaultRule::stall(Duration::from_millis(50)).always());
    let proxy = FaultProxy::start(b.s3.addr(), plan).unwrap();
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("datadir");
    restore_via(&proxy, &b, &target, Some(16)).assert_ok();
    let stats = proxy.stats();
    assert!(stats.stalls > 700, "{stats:?}");
    assert_eq!(
        stats.peak_in_flight, 16,
        "the bound is reached and never exceeded"
    );
    verify_datadir(&target, &expected_for("dir"));
}

#[test]
fn by_default_small_files_get_more_requests_in_flight_than_large_ones() {
    let b = dir_bucket();
    let plan = FaultPlan::single(FaultRule::stall(Duration::from_millis(50)).always());
    let proxy = FaultProxy::start(b.s3.addr(), plan).unwrap();
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("datadir");
    restore_via(&proxy, &b, &target, None).assert_ok();
    let stats = proxy.stats();
    // 8 requests for large objects, up to 32 for files under 1 MiB (most of this backup).
    assert!(
        stats.peak_in_flight > 8 && stats.peak_in_flight <= 32,
        "{stats:?}"
    );
    verify_datadir(&target, &expected_for("dir"));
}

#[test]
fn throttling_lowers_the_requests_in_flight_and_the_restore_completes() {
    let b = dir_bucket();
    // 503 SlowDown for the first 10 GETs of one file of the full set: twice what the S3
    // client's own retries absorb (5 attempts), so the restore sees the throttling twice.
    let plan = FaultPlan::single(
        FaultRule::status(503)
            .first(10)
            .path_contains("/prod/db1/full/aria_log.00000001"),
    );
    let proxy = FaultProxy::start(b.s3.addr(), plan).unwrap();
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("datadir");
    let r = restore_via(&proxy, &b, &target, Some(16));
    r.assert_ok();
    assert_eq!(proxy.stats().status_errors, 10);
    assert!(
        r.stderr.contains("requests in flight lowered to 8"),
        "{}",
        r.stderr
    );
    verify_datadir(&target, &expected_for("dir"));
}
