//! `ferry serve` when its resources fail it: a data directory whose filesystem fills up in the
//! middle of a restore, and a metadata store that is damaged or unreadable at start-up.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::serve::{connect, restore_args, Serve, PASSWORD};
use mysql_async::prelude::Queryable;
use serde_json::json;

/// A size-limited tmpfs mounted on `dir` for one test, unmounted when dropped.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    /// Mounts it, or says why not (the test is then skipped: mounting needs root).
    fn mount(dir: &Path, size_mib: u64) -> Result<Tmpfs, String> {
        // SAFETY: geteuid(2) has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err("not running as root".into());
        }
        std::fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o"])
            .arg(format!("size={size_mib}m,mode=0711"))
            .arg("tmpfs")
            .arg(dir)
            .output()
            .map_err(|e| format!("run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Tmpfs {
            dir: dir.to_path_buf(),
        })
    }

    /// Changes the size limit (it must stay above what is used).
    fn resize(&self, bytes: u64) {
        let out = Command::new("mount")
            .arg("-o")
            .arg(format!("remount,size={}k", bytes.div_ceil(1024)))
            .arg(&self.dir)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "remount {}: {}",
            self.dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Bytes in use on it.
    fn used(&self) -> u64 {
        let out = Command::new("df")
            .args(["--output=used", "-B1"])
            .arg(&self.dir)
            .output()
            .expect("run df");
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines()
            .nth(1)
            .and_then(|l| l.trim().parse().ok())
            .unwrap_or_else(|| panic!("df printed {text:?}"))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            // Something still holds it (a test failed before its servers were gone).
            let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        }
    }
}

/// A restore that fills the data directory's filesystem ends `migration-failed` with an event
/// that says so, leaves none of its directories behind, and the cluster already running on
/// the same filesystem keeps serving.
#[test]
fn a_full_filesystem_fails_the_restore_and_spares_the_other_clusters() {
    let tmp = ferry_testkit::short_tempdir();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    // The data directory is the mount point; `ferry serve`'s log stays outside, beside it.
    let dir = tmp.path().join("d");
    // Generous while the first cluster is made, then cut to what it uses plus HEADROOM.
    let fs = match Tmpfs::mount(&dir, 1024) {
        Ok(fs) => fs,
        Err(why) => {
            eprintln!("SKIPPED: this test needs a tmpfs of its own: {why}");
            return;
        }
    };
    let serve = Serve::start(&dir, &common::fixtures().join("chains"), &[]);

    let keep_port = ferry_testkit::free_port();
    serve
        .aws(&[
            "rds",
            "create-db-cluster",
            "--db-cluster-identifier",
            "keep",
            "--engine",
            "mariadb",
            "--master-username",
            "admin",
            "--master-user-password",
            PASSWORD,
            "--port",
            &keep_port.to_string(),
        ])
        .json();
    serve.wait(
        "db_cluster_available",
        json!({"DBClusterIdentifier": "keep"}),
    );
    serve
        .aws(&[
            "rds",
            "create-db-instance",
            "--db-instance-identifier",
            "keep-1",
            "--db-cluster-identifier",
            "keep",
            "--engine",
            "mariadb",
            "--db-instance-class",
            "db.t3.micro",
        ])
        .json();
    serve.wait(
        "db_instance_available",
        json!({"DBInstanceIdentifier": "keep-1"}),
    );
    let (rt, mut conn) = connect(keep_port, "admin", PASSWORD);
    rt.block_on(conn.query_drop(
        "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY); INSERT INTO app.t VALUES (1)",
    ))
    .unwrap();

    // Room for the store and logs, not for the backup (the `dir` chain is ~65 MB).
    const HEADROOM: u64 = 24 << 20;
    let used_before = fs.used();
    fs.resize(used_before + HEADROOM);

    let port = ferry_testkit::free_port().to_string();
    serve.aws(&restore_args("full", "dir", &port)).json();
    let c = serve.poll_cluster_status("full", "migration-failed", Duration::from_secs(600));
    assert!(c.get("PercentProgress").is_none(), "{c}");

    let events = serve.cluster_events("full");
    let failed = events
        .iter()
        .find(|e| e.starts_with("Failed to migrate from mysql 10.11 to full. Reason: "))
        .unwrap_or_else(|| panic!("no failure event: {events:#?}"));
    let data_dir = dir.display().to_string();
    assert!(
        failed.contains(&format!(
            "the filesystem of the data directory {data_dir} is full (No space left on device)"
        )),
        "the event does not say the disk is full: {failed}"
    );
    assert!(
        failed.contains("No space left on device (os error 28)") || failed.contains("error 28"),
        "the event does not carry the OS's words: {failed}"
    );

    // Nothing of the failed restore is left.
    let cluster_dir = dir.join("clusters/full");
    for sub in ["restoring", "volume", "boot"] {
        let p = cluster_dir.join(sub);
        assert!(!p.exists(), "{} left behind", p.display());
    }
    let staging = dir.join("staging/full");
    assert!(!staging.exists(), "{} left behind", staging.display());
    let used_after = fs.used();
    assert!(
        used_after < used_before + HEADROOM / 2,
        "the space the restore took was not given back: {used_after} bytes used, {used_before} before"
    );

    // The other cluster never noticed.
    assert_eq!(serve.cluster("keep")["Status"], "available");
    let inst = serve
        .aws(&[
            "rds",
            "describe-db-instances",
            "--db-instance-identifier",
            "keep-1",
        ])
        .json();
    assert_eq!(inst["DBInstances"][0]["DBInstanceStatus"], "available");
    let rows: Vec<i32> = rt
        .block_on(async {
            conn.query_drop("INSERT INTO app.t VALUES (2)").await?;
            conn.query("SELECT id FROM app.t ORDER BY id").await
        })
        .expect("keep-1 still answers SQL");
    assert_eq!(rows, vec![1, 2]);
    drop(conn);
    drop(rt);
    drop(serve);
}

/// Runs `ferry serve` on `dir` expecting it to refuse to start; returns its exit code and
/// everything it printed.
fn serve_refuses(dir: &Path) -> (i32, String) {
    let mut child = common::ferry()
        .args(["serve", "--data-dir"])
        .arg(dir)
        .args(["--listen", "127.0.0.1:0"])
        .env("RUST_BACKTRACE", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start ferry serve");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for ferry serve") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ferry serve started on a corrupt store instead of refusing");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = child.wait_with_output().expect("read ferry serve's output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !text.contains("panicked") && !text.contains("stack backtrace"),
        "ferry serve crashed instead of refusing:\n{text}"
    );
    (status.code().unwrap_or(-1), text)
}

/// A store that is not a database, or whose rows ferry cannot read, stops `ferry serve` at
/// start with a message naming the file and the damage; nothing panics.
#[test]
fn a_corrupt_store_stops_start_up_with_a_clear_message() {
    // Garbage bytes where the database should be.
    let (_tmp, dir) = common::serve::data_dir();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let db = dir.join("ferry.sqlite");
    let garbage: Vec<u8> = (0..65536u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(&db, &garbage).unwrap();
    let (code, text) = serve_refuses(&dir);
    assert_ne!(code, 0, "{text}");
    assert!(
        text.contains(&format!(
            "{} is corrupt: not an SQLite database",
            db.display()
        )),
        "{text}"
    );
    assert_eq!(
        std::fs::read(&db).unwrap(),
        garbage,
        "the file is left as it was"
    );

    // A real store whose cluster document is not JSON.
    let (_tmp, dir) = common::serve::data_dir();
    let mut serve = Serve::launch(&dir, &[], Vec::new());
    serve.stop();
    let db = dir.join("ferry.sqlite");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute(
            "INSERT INTO clusters (id, status, port, created_at, doc)
             VALUES ('broken', 'available', 3306, 0, '{\"id\": \"broken\", truncated')",
            [],
        )
        .unwrap();
    let (code, text) = serve_refuses(&dir);
    assert_ne!(code, 0, "{text}");
    assert!(
        text.contains(&format!(
            "the stored DB cluster 'broken' in {} is corrupt: ",
            db.display()
        )),
        "{text}"
    );
    assert!(!text.contains("metadata store: metadata store"), "{text}");
    drop(serve);
}
