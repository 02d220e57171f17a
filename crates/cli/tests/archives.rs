//! Archives that hold a backup tree rather than one set at their root (issue 14, part B).
//! What works today: the refusal of such an archive names the set once.

mod common;

use common::*;

#[test]
fn a_refused_archive_names_its_set_once() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    // A full backup tarred with its own top-level directory, as `tar -czf full.tar.gz full`.
    let status = std::process::Command::new("tar")
        .arg("-czhf")
        .arg(src.join("full.tar.gz"))
        .arg("-C")
        .arg(chain("dir"))
        .arg("full")
        .status()
        .unwrap();
    assert!(status.success());
    let r = run(ferry().args(["backup", "inspect"]).arg(&src));
    assert_eq!(r.status, 2, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    // The set's row and the problem list both say it, each naming the set once.
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
