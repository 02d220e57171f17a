//! Archives that hold a backup tree rather than one set at their root (issue 14, part B):
//! the sets inside are found by their checkpoints at any depth, named `archive:prefix`,
//! planned with the sets stored beside the archive and restored equal to the source; the
//! refusals keep working inside archives and name the set once.

mod common;

use std::path::{Path, PathBuf};

use common::*;

const BASE: &str = "base/2026-12-01_10-00-00";
const INC1: &str = "incr/2026-12-01_12-00-00";
/// The second incremental nested inside the base's directory, as some scripts keep them.
const INC2: &str = "base/2026-12-01_10-00-00/incr/2026-12-01_14-00-00";

struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Self {
        let s = Scratch {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir_all(s.source()).unwrap();
        std::fs::create_dir_all(s.out()).unwrap();
        s
    }
    /// The backup source (what a bucket prefix would hold).
    fn source(&self) -> PathBuf {
        self.dir.path().join("src")
    }
    fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }
    /// Lays out `(fixture set dir, path in the tree)` pairs under a fresh tree directory.
    /// Copies, not hard links: tar refuses a file whose inode changes while it reads it, and
    /// tests running beside this one hard-link the same fixture files.
    fn tree(&self, name: &str, sets: &[(PathBuf, &str)]) -> PathBuf {
        let root = self.dir.path().join(name);
        for (from, to) in sets {
            copy_tree(from, &root.join(to));
        }
        root
    }
    fn inspect(&self) -> Run {
        run(ferry().args(["backup", "inspect"]).arg(self.source()))
    }
    fn restore(&self) -> (Run, PathBuf) {
        let target = self.out().join("datadir");
        let r = run(ferry()
            .args(["backup", "restore"])
            .arg(self.source())
            .arg("--target-dir")
            .arg(&target));
        (r, target)
    }
}

fn copy_tree(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let to = dst.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &to);
        } else {
            std::fs::copy(entry.path(), &to).unwrap();
        }
    }
}

fn raw(set: &str) -> PathBuf {
    fixtures().join("raw").join(set)
}

/// Every file under `root`, relative, in a shuffled (but reproducible) order.
fn shuffled_files(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                let rel = e.path().strip_prefix(root).unwrap().to_owned();
                files.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    files.sort();
    // Sorted by a hash of the name: metadata files land anywhere, sets interleave.
    let hash = |s: &str| {
        s.bytes().fold(0xcbf29ce484222325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x100000001b3)
        })
    };
    files.sort_by_key(|f| hash(f));
    files
}

/// `tar -czf archive -C root <entries>`; with `shuffle`, the files one by one in a shuffled
/// order instead of the directory walk's.
fn tar_gz(archive: &Path, root: &Path, entries: &[&str], shuffle: bool) {
    let mut cmd = std::process::Command::new("tar");
    cmd.arg("-czf").arg(archive).arg("-C").arg(root);
    if shuffle {
        let list = root.with_extension("list");
        std::fs::write(&list, shuffled_files(root).join("\n")).unwrap();
        cmd.arg("--no-recursion").arg("-T").arg(&list);
    } else {
        cmd.args(entries);
    }
    assert!(cmd.status().unwrap().success());
}

/// Splits `archive` into `archive00`, `archive01`, ... (`split -d`) and removes it.
fn split(archive: &Path, parts: u64) {
    let size = std::fs::metadata(archive).unwrap().len();
    let status = std::process::Command::new("split")
        .arg("-d")
        .arg("-b")
        .arg((size / parts + 1).to_string())
        .arg(archive)
        .arg(archive)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::remove_file(archive).unwrap();
}

fn assert_restored(s: &Scratch, chain_names: &[&str]) {
    let (r, target) = s.restore();
    r.assert_ok();
    let expected = expected_for("dir");
    let (file, pos, _) = expected_binlog(&expected);
    assert!(
        r.stdout.contains(&format!(
            "Recovered from Binary log filename '{file}', position '{pos}'."
        )),
        "{}",
        r.stdout
    );
    let chain_line = chain_names.join(" -> ");
    assert!(
        r.stdout.contains(&chain_line),
        "no {chain_line:?} in:\n{}",
        r.stdout
    );
    // Only the datadir is left, and it carries no nested backup directory.
    let names: Vec<_> = std::fs::read_dir(s.out())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("datadir")]);
    assert!(!target.join("incr").exists());
    verify_datadir(&target, &expected);
}

#[test]
fn a_backup_tree_in_one_shuffled_tar_gz_restores() {
    let s = Scratch::new();
    let tree = s.tree(
        "tree",
        &[
            (raw("full"), BASE),
            (raw("inc1"), INC1),
            (raw("inc2"), INC2),
        ],
    );
    tar_gz(&s.source().join("all-backups.tar.gz"), &tree, &[], true);

    let r = s.inspect();
    r.assert_ok();
    let names = [
        format!("all-backups.tar.gz:{BASE}"),
        format!("all-backups.tar.gz:{INC1}"),
        format!("all-backups.tar.gz:{INC2}"),
    ];
    assert!(r.stdout.contains("Backup sets: 3"), "{}", r.stdout);
    for n in &names {
        assert!(
            r.stdout.contains(&format!("  {n} ")),
            "no row {n}:\n{}",
            r.stdout
        );
    }
    let chain_line = format!("Chain (apply order): {}", names.join(" -> "));
    assert!(r.stdout.contains(&chain_line), "{}", r.stdout);
    assert!(r.stdout.contains("Result: restorable"), "{}", r.stdout);

    assert_restored(&s, &names.iter().map(String::as_str).collect::<Vec<_>>());
}

#[test]
fn a_full_under_its_own_top_level_directory_with_directory_incrementals() {
    let s = Scratch::new();
    let tree = s.tree("tree", &[(raw("full"), "2026-12-01_10-00-00")]);
    tar_gz(
        &s.source().join("full.tar.gz"),
        &tree,
        &["2026-12-01_10-00-00"],
        false,
    );
    link_copy(&chain("dir").join("inc1"), &s.source().join("inc1"));
    link_copy(&chain("dir").join("inc2"), &s.source().join("inc2"));

    let r = s.inspect();
    r.assert_ok();
    let chain_line = "Chain (apply order): full.tar.gz:2026-12-01_10-00-00 -> inc1 -> inc2";
    assert!(r.stdout.contains(chain_line), "{}", r.stdout);
    assert_restored(&s, &["full.tar.gz:2026-12-01_10-00-00", "inc1", "inc2"]);
}

#[test]
fn a_split_full_under_its_own_top_level_directory() {
    let s = Scratch::new();
    let tree = s.tree(
        "tree",
        &[
            (raw("full"), "2026-12-01_10-00-00"),
            (raw("inc1"), "2026-12-01_10-00-00/inc1"),
        ],
    );
    let archive = s.source().join("full.tar.gz");
    tar_gz(&archive, &tree, &["2026-12-01_10-00-00"], false);
    split(&archive, 3);
    link_copy(&chain("dir").join("inc2"), &s.source().join("inc2"));

    let r = s.inspect();
    r.assert_ok();
    assert!(
        r.stdout.contains(
            "Chain (apply order): full.tar.gz:2026-12-01_10-00-00 -> \
             full.tar.gz:2026-12-01_10-00-00/inc1 -> inc2"
        ),
        "{}",
        r.stdout
    );
    assert_restored(
        &s,
        &[
            "full.tar.gz:2026-12-01_10-00-00",
            "full.tar.gz:2026-12-01_10-00-00/inc1",
            "inc2",
        ],
    );
}

/// Inspect and restore both refuse; every line that names `set` names it once.
fn assert_refused(s: &Scratch, set: &str, needle: &str) {
    let r = s.inspect();
    assert_eq!(r.status, 2, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    let problem = r
        .stdout
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no {needle:?} in:\n{}", r.stdout));
    assert!(problem.contains(set), "{problem}");
    for line in r.stdout.lines().filter(|l| l.contains(needle)) {
        assert_eq!(line.matches(set).count(), 1, "{}", r.stdout);
    }
    let (r, _) = s.restore();
    assert_eq!(r.status, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains(needle), "{}", r.stderr);
    for line in r.stderr.lines().filter(|l| l.contains(needle)) {
        assert_eq!(line.matches(set).count(), 1, "{}", r.stderr);
    }
    assert_no_leftovers(&s.out());
}

#[test]
fn a_partial_backup_inside_an_archive_is_refused() {
    let s = Scratch::new();
    let tree = s.tree("tree", &[(chain("partial").join("full"), "nightly/full")]);
    tar_gz(
        &s.source().join("backups.tar.gz"),
        &tree,
        &["nightly"],
        false,
    );
    assert_refused(
        &s,
        "backups.tar.gz:nightly/full",
        "backup set backups.tar.gz:nightly/full is a partial backup",
    );
}

#[test]
fn a_gap_inside_an_archive_is_refused_naming_the_set_once() {
    let s = Scratch::new();
    let tree = s.tree("tree", &[(raw("full"), BASE), (raw("inc2"), INC1)]);
    tar_gz(
        &s.source().join("all.tar.gz"),
        &tree,
        &["base", "incr"],
        false,
    );
    assert_refused(&s, &format!("all.tar.gz:{INC1}"), "no backup covers LSN");
}

#[test]
fn an_archive_without_any_backup_names_itself_once() {
    let s = Scratch::new();
    let tree = s.tree("tree", &[(raw("full").join("mysql"), "notes/mysql")]);
    tar_gz(&s.source().join("full.tar.gz"), &tree, &["notes"], false);
    let r = s.inspect();
    assert_eq!(r.status, 2, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    let lines: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.contains("missing from the set"))
        .collect();
    assert_eq!(lines.len(), 2, "{}", r.stdout);
    for line in lines {
        assert_eq!(line.matches("full.tar.gz").count(), 1, "{}", r.stdout);
    }
}

#[test]
fn corrupt_data_inside_an_archive_is_refused_naming_it() {
    let s = Scratch::new();
    let tree = s.tree("tree", &[(raw("full"), BASE), (raw("inc1"), INC1)]);
    let archive = s.source().join("all.tar.gz");
    tar_gz(&archive, &tree, &["base", "incr"], false);
    // Cut the archive short: the gzip stream ends early.
    let bytes = std::fs::read(&archive).unwrap();
    std::fs::write(&archive, &bytes[..bytes.len() / 2]).unwrap();
    let r = s.inspect();
    assert_eq!(r.status, 2, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("backup set all.tar.gz"), "{}", r.stdout);
    let (r, _) = s.restore();
    assert_eq!(r.status, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("all.tar.gz"), "{}", r.stderr);
    assert_no_leftovers(&s.out());
}

/// `mbstream -c` of the tree's files in a shuffled order: an uncompressed xbstream, whose
/// tail holds no metadata at its root, so inspect reads it whole.
fn xbstream(archive: &Path, root: &Path) {
    let out = std::fs::File::create(archive).unwrap();
    let status = std::process::Command::new("mbstream")
        .arg("-c")
        .arg("-C")
        .arg(root)
        .args(shuffled_files(root))
        .stdout(out)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_backup_tree_in_an_xbstream_or_a_split_tar_zst_reads_the_same() {
    let s = Scratch::new();
    let tree = s.tree(
        "tree",
        &[
            (raw("full"), BASE),
            (raw("inc1"), INC1),
            (raw("inc2"), INC2),
        ],
    );
    let names = |archive: &str| {
        [BASE, INC1, INC2]
            .iter()
            .map(|p| format!("{archive}:{p}"))
            .collect::<Vec<_>>()
    };

    // tar.zst, split in parts, alone under the prefix.
    let zst = s.source().join("all.tar.zst");
    let status = std::process::Command::new("tar")
        .arg("--zstd")
        .arg("-cf")
        .arg(&zst)
        .arg("-C")
        .arg(&tree)
        .args(["incr", "base"])
        .status()
        .unwrap();
    assert!(status.success());
    split(&zst, 2);
    let r = s.inspect();
    r.assert_ok();
    let chain_line = format!("Chain (apply order): {}", names("all.tar.zst").join(" -> "));
    assert!(r.stdout.contains(&chain_line), "{}", r.stdout);

    // xbstream, restored.
    for e in std::fs::read_dir(s.source()).unwrap() {
        std::fs::remove_file(e.unwrap().path()).unwrap();
    }
    xbstream(&s.source().join("all.xbstream"), &tree);
    let r = s.inspect();
    r.assert_ok();
    let names = names("all.xbstream");
    let chain_line = format!("Chain (apply order): {}", names.join(" -> "));
    assert!(r.stdout.contains(&chain_line), "{}", r.stdout);
    assert_restored(&s, &names.iter().map(String::as_str).collect::<Vec<_>>());
}

#[test]
fn a_backup_tree_as_the_only_object_in_a_bucket_restores_from_s3() {
    let s = Scratch::new();
    let tree = s.tree(
        "tree",
        &[
            (raw("full"), BASE),
            (raw("inc1"), INC1),
            (raw("inc2"), INC2),
        ],
    );
    tar_gz(&s.source().join("all-backups.tar.gz"), &tree, &[], true);
    let root = tempfile::tempdir().unwrap();
    let s3 = ferry_testkit::S3Server::start(root.path()).unwrap();
    s3.create_bucket("backups").unwrap();
    s3.put_tree("backups", "nightly", &s.source()).unwrap();
    let names: Vec<String> = [BASE, INC1, INC2]
        .iter()
        .map(|p| format!("all-backups.tar.gz:{p}"))
        .collect();

    let r = run(ferry()
        .envs(s3.env_vars())
        .args(["backup", "inspect", "s3://backups/nightly"]));
    r.assert_ok();
    let chain_line = format!("Chain (apply order): {}", names.join(" -> "));
    assert!(r.stdout.contains(&chain_line), "{}", r.stdout);

    let target = s.out().join("datadir");
    let r = run(ferry()
        .envs(s3.env_vars())
        .args(["backup", "restore", "s3://backups/nightly", "--target-dir"])
        .arg(&target));
    r.assert_ok();
    assert!(r.stdout.contains(&names.join(" -> ")), "{}", r.stdout);
    assert!(!target.join("incr").exists());
    verify_datadir(&target, &expected_for("dir"));
}

#[test]
fn an_interrupted_restore_of_archives_resumes_with_their_sets_found_again() {
    use ferry_testkit::{FaultPlan, FaultProxy, FaultRule};
    let s = Scratch::new();
    // The base with inc1 nested inside it (moved apart in staging), and inc2 in an archive of
    // its own that cannot be fetched at first.
    let tree = s.tree("tree", &[(raw("full"), "full"), (raw("inc1"), "full/inc1")]);
    tar_gz(&s.source().join("all.tar.gz"), &tree, &["full"], false);
    let tree2 = s.tree("tree2", &[(raw("inc2"), "inc2")]);
    tar_gz(&s.source().join("zz.tar.gz"), &tree2, &["inc2"], false);
    let root = tempfile::tempdir().unwrap();
    let s3 = ferry_testkit::S3Server::start(root.path()).unwrap();
    s3.create_bucket("backups").unwrap();
    s3.put_tree("backups", "nightly", &s.source()).unwrap();
    let proxy = FaultProxy::start(
        s3.addr(),
        FaultPlan::single(FaultRule::status(503).always().path_contains("zz.tar.gz")),
    )
    .unwrap();
    let env = s3.env_vars_via(&proxy.endpoint());
    let target = s.out().join("datadir");
    let restore = |extra: &[&str]| {
        run(ferry()
            .envs(env.iter().cloned())
            .args(["backup", "restore", "s3://backups/nightly", "--target-dir"])
            .arg(&target)
            .args(extra))
    };
    let first = restore(&[
        "--max-attempts",
        "2",
        "--retry-backoff-ms",
        "10",
        "--sets-parallel",
        "1",
    ]);
    assert_eq!(first.status, 1, "{}\n{}", first.stdout, first.stderr);
    assert!(first.stderr.contains("zz.tar.gz"), "{}", first.stderr);
    assert!(s.out().join(".datadir.ferry-staging").is_dir());

    proxy.set_plan(FaultPlan::none());
    let second = restore(&[]);
    second.assert_ok();
    assert!(
        second.stdout.contains("reused from an earlier run"),
        "{}",
        second.stdout
    );
    assert!(
        second
            .stdout
            .contains("all.tar.gz:full -> all.tar.gz:full/inc1 -> zz.tar.gz:inc2"),
        "{}",
        second.stdout
    );
    assert!(!target.join("inc1").exists());
    verify_datadir(&target, &expected_for("dir"));
}
