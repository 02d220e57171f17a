//! `ferry demo` (what `make demo` runs) end to end, small: it must keep working after every
//! change.

mod common;

#[test]
fn demo_runs_end_to_end() {
    let tmp = ferry_testkit::short_tempdir();
    let dir = tmp.path().join("demo");
    let r = common::run(common::ferry().args([
        "demo",
        "--no-wait",
        "--rows",
        "3000",
        "--listen",
        "127.0.0.1:0",
        "--dir",
        &dir.display().to_string(),
    ]));
    r.assert_ok();
    for want in [
        "== RestoreDBClusterFromS3",
        "Recovered from Binary log filename 'mysql-bin.",
        "DB instance created.",
        "tables equal the source",
        "CALL mysql.rds_start_replication -> Slave running normally.",
        "Replication source set to 127.0.0.1:",
        "replication stopped; writes were blocked for",
        "with the source after the cutover",
        "Cutover: the cluster executed the source up to mysql-bin.",
        "mariadb -h 127.0.0.1 -P ",
        // The seed's mysqldump road into a second cluster: every table, the source's
        // root@localhost objects given the master user as definer, the data equal.
        "== the seed's mysqldump road",
        "imported 8 tables",
        "definers rewritten (3):",
        "'root'@'localhost' does not exist on DB cluster demo-import",
        "all 8 tables equal the source",
        "/console (sign in with access key ID ",
    ] {
        assert!(
            r.stdout.contains(want),
            "missing {want:?} in:\n{}",
            r.stdout
        );
    }
    // The password is in a private file, never printed.
    let password = std::fs::read_to_string(dir.join("master-password")).unwrap();
    assert!(!r.stdout.contains(&password) && !r.stderr.contains(&password));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.join("master-password"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // Everything was stopped: no server still runs from the demo directory.
    let running = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .any(|c| String::from_utf8_lossy(&c).contains(&dir.display().to_string()));
    assert!(!running, "a process from the demo is still running");
}
