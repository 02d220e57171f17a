//! A directory backup set of thousands of small files (a schema of many tables), restored from
//! S3 through the fault proxy: `--parallel` is what the S3 side sees in flight, a broken small
//! object is retried and resumed, an interrupted run fetches only what it lacks, and the result
//! is the source, file for file.
//!
//! The source is the set's own directory (`s3://backups/many/full`), so the restore fetches
//! its files while the listing goes on; one test proves that, from there and from the prefix
//! above it (the set one directory below the prefix).
//!
//! The set is synthetic, made in milliseconds: the fixture full set's real metadata files
//! (`backup-my.cnf`, `xtrabackup_info`, `xtrabackup_binlog_info`) with `xtrabackup_checkpoints`
//! saying `full-prepared`, plus 3,000 small files of random bytes in 30 schema directories.
//! A prepared full set is restored without a prepare step, so the restored tree must equal the
//! source byte for byte: every file is hashed on both sides. What this leaves out (running
//! mariabackup on the result) is what the fixture chains' tests cover; the download path is
//! the same one every directory set takes.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;
use ferry_testkit::{FaultPlan, FaultProxy, FaultRule, S3Server};

const SCHEMAS: usize = 30;
const TABLES: usize = 100;
/// The synthetic set's files: the data files plus the four metadata files.
const FILES: usize = SCHEMAS * TABLES + 4;
/// Two larger objects, broken in the middle of their body.
const BIG: &str = "db13/t043.ibd";
const BIG2: &str = "db21/t077.ibd";
const BIG_SIZE: usize = 96 * 1024;

struct Bucket {
    _root: tempfile::TempDir,
    src: tempfile::TempDir,
    s3: S3Server,
}

/// A small deterministic generator (xorshift): the set is the same on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

/// Writes the synthetic set into `dir`.
fn make_set(dir: &Path) {
    let full = chain("dir").join("full");
    std::fs::create_dir_all(dir).unwrap();
    for name in ["backup-my.cnf", "xtrabackup_info", "xtrabackup_binlog_info"] {
        std::fs::copy(full.join(name), dir.join(name)).unwrap();
    }
    let checkpoints = std::fs::read_to_string(full.join("xtrabackup_checkpoints")).unwrap();
    let checkpoints = checkpoints.replace("full-backuped", "full-prepared");
    assert!(checkpoints.contains("full-prepared"), "{checkpoints}");
    std::fs::write(dir.join("xtrabackup_checkpoints"), checkpoints).unwrap();
    let mut rng = Rng(0x5eed_f00d_1234_5678);
    for s in 0..SCHEMAS {
        let schema = dir.join(format!("db{s:02}"));
        std::fs::create_dir_all(&schema).unwrap();
        for t in 0..TABLES {
            let name = format!("t{t:03}.{}", if t % 2 == 0 { "frm" } else { "ibd" });
            let rel = format!("db{s:02}/{name}");
            let size = if rel == BIG || rel == BIG2 {
                BIG_SIZE
            } else {
                1 + (rng.next() % 6000) as usize
            };
            let mut data = vec![0u8; size];
            rng.fill(&mut data);
            std::fs::write(schema.join(name), data).unwrap();
        }
    }
}

fn bucket() -> Bucket {
    let root = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    make_set(src.path());
    let s3 = S3Server::start(root.path()).unwrap();
    s3.create_bucket("backups").unwrap();
    for big in [BIG, BIG2] {
        let len = std::fs::metadata(src.path().join(big)).unwrap().len();
        assert_eq!(len, BIG_SIZE as u64);
    }
    let n = s3.put_tree("backups", "many/full", src.path()).unwrap();
    assert_eq!(n, FILES);
    Bucket {
        _root: root,
        src,
        s3,
    }
}

/// Every regular file under `root` by relative path, with its length and CRC-32.
fn hashes(root: &Path) -> BTreeMap<PathBuf, (u64, u32)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                stack.push(path);
            } else {
                let data = std::fs::read(&path).unwrap();
                let rel = path.strip_prefix(root).unwrap().to_path_buf();
                out.insert(rel, (data.len() as u64, crc32fast::hash(&data)));
            }
        }
    }
    out
}

fn assert_same_tree(restored: &Path, source: &Path) {
    let got = hashes(restored);
    let want = hashes(source);
    assert_eq!(got.len(), FILES, "restored files");
    assert!(got == want, "the restored tree differs from the source");
}

/// The source is the set's own directory, as a user who copied the backup directory as it is
/// would give it: the restore fetches while it lists (`ferry_restore::pipeline`).
fn restore_cmd(
    b: &Bucket,
    proxy: &FaultProxy,
    target: &Path,
    parallel: u16,
) -> std::process::Command {
    restore_from(b, proxy, target, parallel, "s3://backups/many/full")
}

fn restore_from(
    b: &Bucket,
    proxy: &FaultProxy,
    target: &Path,
    parallel: u16,
    source: &str,
) -> std::process::Command {
    let mut cmd = ferry();
    cmd.envs(b.s3.env_vars_via(&proxy.endpoint()))
        .args(["backup", "restore", source, "--json", "--target-dir"])
        .arg(target)
        .args([
            "--parallel",
            &parallel.to_string(),
            "--retry-backoff-ms",
            "20",
        ]);
    cmd
}

fn report(r: &Run) -> serde_json::Value {
    r.assert_ok();
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

#[test]
fn parallel_sets_the_requests_in_flight_over_thousands_of_small_files() {
    let b = bucket();
    for parallel in [2u16, 12] {
        // The 100 files of one schema wait 30 ms before their body: while the restore goes
        // through them the proxy sees as many at once as the restore keeps in flight.
        let plan = FaultPlan::single(
            FaultRule::stall(Duration::from_millis(30))
                .always()
                .path_contains("/many/full/db07/"),
        );
        let proxy = FaultProxy::start(b.s3.addr(), plan).unwrap();
        let out = tempfile::tempdir().unwrap();
        let target = out.path().join("datadir");
        let rep = report(&run(&mut restore_cmd(&b, &proxy, &target, parallel)));
        let stats = proxy.stats();
        assert_eq!(stats.stalls, TABLES as u64, "{stats:?}");
        assert_eq!(
            stats.peak_in_flight,
            u64::from(parallel),
            "--parallel {parallel}: the bound is reached and never exceeded"
        );
        assert_eq!(rep["files_downloaded"], FILES as u64, "{rep}");
        assert_eq!(rep["files_reused"], 0, "{rep}");
        assert_same_tree(&target, b.src.path());
    }
}

#[test]
fn a_broken_small_object_is_retried_and_resumed() {
    let b = bucket();
    // One object's body stops after 40,000 bytes (the restore gives up on the silent
    // transfer after a second and resumes from byte 40,000), another's is cut by a reset,
    // a third answers 500 six times (one more than the S3 client's own retries absorb).
    let plan = FaultPlan::none()
        .with(
            FaultRule::stall_after(40_000, Duration::from_secs(20))
                .first(1)
                .path_contains(format!("/many/full/{BIG}")),
        )
        .with(
            FaultRule::reset_after(30_000)
                .first(1)
                .path_contains(format!("/many/full/{BIG2}")),
        )
        .with(
            FaultRule::status(500)
                .first(6)
                .path_contains("/many/full/db02/t011.ibd"),
        );
    let proxy = FaultProxy::start(b.s3.addr(), plan).unwrap();
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("datadir");
    let r = run(restore_cmd(&b, &proxy, &target, 8).args(["--stall-timeout", "3"]));
    let rep = report(&r);
    let stats = proxy.stats();
    assert_eq!(
        (stats.stalls, stats.resets, stats.status_errors),
        (1, 1, 6),
        "{stats:?}"
    );
    assert!(
        r.stderr.contains("resuming from byte 40000"),
        "the broken body resumes where it broke:\n{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("t011.ibd") && r.stderr.contains("500 Internal Server Error"),
        "the restore retried the object the store failed:\n{}",
        r.stderr
    );
    assert!(rep["retries"].as_u64().unwrap() >= 2, "{rep}");
    assert_eq!(rep["files_downloaded"], FILES as u64, "{rep}");
    assert_same_tree(&target, b.src.path());
}

/// Lines in the set's download journal (one per file already complete).
fn journaled(staging: &Path) -> usize {
    let Ok(dir) = std::fs::read_dir(staging.join("sets")) else {
        return 0;
    };
    dir.filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "files"))
        .map(|e| {
            std::fs::read_to_string(e.path())
                .map(|t| t.lines().count())
                .unwrap_or(0)
        })
        .sum()
}

#[test]
fn an_interrupted_restore_fetches_only_the_files_it_lacks() {
    let b = bucket();
    // The first run: one file's body never comes; every other file completes, then ferry is
    // killed (as an operator or the OOM killer would) while it waits for that one.
    let stuck = "db05/t050.frm";
    let plan = FaultPlan::single(
        FaultRule::stall(Duration::from_secs(120))
            .first(1)
            .path_contains(format!("/many/full/{stuck}")),
    );
    let proxy = FaultProxy::start(b.s3.addr(), plan).unwrap();
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("datadir");
    let staging = out.path().join(".datadir.ferry-staging");
    let mut child = restore_cmd(&b, &proxy, &target, 8)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run ferry");
    let deadline = Instant::now() + Duration::from_secs(120);
    while journaled(&staging) < FILES - 1 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "ferry ended before it was interrupted"
        );
        assert!(
            Instant::now() < deadline,
            "the first run never got that far"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(journaled(&staging), FILES - 1);
    assert!(!target.exists());

    // The rerun: every GET is recorded (a stall of 1 ms each); only the missing file's data
    // is fetched again, beside the metadata files (read by the probe for fetching while
    // listing, which a rerun then does not do, and by the pre-check: three each).
    proxy.set_plan(FaultPlan::single(
        FaultRule::stall(Duration::from_millis(1)).always(),
    ));
    proxy.reset_stats();
    let rep = report(&run(&mut restore_cmd(&b, &proxy, &target, 8)));
    let gets: Vec<String> = proxy
        .stats()
        .events
        .iter()
        .filter(|e| e.method == "GET" && !e.target.contains("list-type"))
        .map(|e| e.target.clone())
        .collect();
    let data_gets: Vec<&String> = gets
        .iter()
        .filter(|t| t.contains("/many/full/db"))
        .collect();
    assert_eq!(data_gets.len(), 1, "only the missing file: {data_gets:?}");
    assert!(data_gets[0].contains(stuck), "{data_gets:?}");
    assert!(
        gets.len() <= 7,
        "the missing file and the metadata: {gets:?}"
    );
    assert_eq!(rep["files_reused"], FILES as u64 - 1, "{rep}");
    assert_eq!(rep["files_downloaded"], 1, "{rep}");
    assert_same_tree(&target, b.src.path());
    assert!(!staging.exists(), "staging is removed after success");
}

/// Index of the last LIST request among the recorded events.
fn last_list(events: &[ferry_testkit::FaultEvent]) -> usize {
    events
        .iter()
        .rposition(|e| e.target.contains("list-type"))
        .expect("the restore listed")
}

#[test]
fn fetching_starts_while_the_listing_goes_on() {
    let b = bucket();
    // Every page of the listing after the first waits 2 s; every other GET is recorded.
    let paged_plan = || {
        FaultPlan::none()
            .with(
                FaultRule::stall(Duration::from_secs(2))
                    .always()
                    .path_contains("continuation-token"),
            )
            .with(FaultRule::stall(Duration::from_millis(1)).always())
    };
    let proxy = FaultProxy::start(b.s3.addr(), paged_plan()).unwrap();
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("datadir");
    let rep = report(&run(&mut restore_cmd(&b, &proxy, &target, 8)));
    let events = proxy.stats().events;
    let pages = events
        .iter()
        .filter(|e| e.target.contains("list-type"))
        .count();
    assert!(pages >= 3, "a listing of several pages: {pages}");
    let before_end = events[..last_list(&events)]
        .iter()
        .filter(|e| e.target.contains("/many/full/db"))
        .count();
    assert!(
        before_end >= 1000,
        "files of the first pages are fetched before the last page is asked for: {before_end}"
    );
    assert_eq!(rep["files_downloaded"], FILES as u64, "{rep}");
    assert_eq!(rep["files_reused"], 0, "{rep}");
    assert_same_tree(&target, b.src.path());

    // From the prefix above the set (the set is one directory below it), the same.
    proxy.set_plan(paged_plan());
    proxy.reset_stats();
    let target = out.path().join("datadir2");
    report(&run(&mut restore_from(
        &b,
        &proxy,
        &target,
        8,
        "s3://backups/many",
    )));
    let events = proxy.stats().events;
    let early = events[..last_list(&events)]
        .iter()
        .filter(|e| e.target.contains("/many/full/"))
        .count();
    assert!(
        early >= 1000,
        "a set one directory below the prefix is fetched while listed too: {early}"
    );
    assert_same_tree(&target, b.src.path());
}
