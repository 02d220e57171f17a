//! Finding and stopping what a ferry that died left running: leases held by real `mariadbd`,
//! `mariadb-install-db` and `mariabackup --prepare`, a server whose owner vanished, a tool and
//! its descendants in a staging dir, stale leases and reused pids that must not be signalled.
//!
//! A killed ferry is simulated by forgetting the guard (`std::mem::forget`): nothing stops or
//! reaps the child, exactly as when its parent is gone.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{
    process_alive, short_tempdir, test_config, test_init_options, toolbox, wait_for_line,
    wait_gone, ServerDirs,
};
use ferry_engine::process::{run_to_completion, ProcessSpec};
use ferry_engine::{init_datadir, prepare, stop_left_behind, PrepareOptions, ReadyProbe, Server};

const START_TIMEOUT: Duration = Duration::from_secs(60);

fn leases_in(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("ferry-") && n.ends_with(".lease"))
        })
        .collect();
    found.sort();
    found
}

/// `(process group, start time)` from `/proc/<pid>/stat` (fields 5 and 22).
fn stat_of(pid: u32) -> Option<(u32, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = text.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some((fields.get(2)?.parse().ok()?, fields.get(19)?.parse().ok()?))
}

fn holds(pid: u32, lease: &Path) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten()
        .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| target == lease))
}

/// Watches `dir` until stopped: for every lease there, the program names (`/proc/<pid>/exe`
/// file names) of the processes in the lease's group that hold it open.
struct HolderWatch {
    seen: Arc<Mutex<BTreeSet<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl HolderWatch {
    fn start(dir: &Path) -> Self {
        let seen = Arc::new(Mutex::new(BTreeSet::new()));
        let into = Arc::clone(&seen);
        let dir = dir.to_path_buf();
        let task = tokio::spawn(async move {
            loop {
                for lease in leases_in(&dir) {
                    let Ok(text) = std::fs::read_to_string(&lease) else {
                        continue;
                    };
                    let Some(pgid) = text
                        .lines()
                        .find_map(|l| l.strip_prefix("pgid="))
                        .and_then(|v| v.parse::<u32>().ok())
                    else {
                        continue;
                    };
                    for pid in group_members(pgid) {
                        if holds(pid, &lease) {
                            if let Ok(exe) = std::fs::read_link(format!("/proc/{pid}/exe")) {
                                let name =
                                    exe.file_name().map(|n| n.to_string_lossy().into_owned());
                                into.lock().expect("lock").extend(name);
                            }
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
        HolderWatch { seen, task }
    }

    fn finish(self) -> BTreeSet<String> {
        self.task.abort();
        self.seen.lock().expect("lock").clone()
    }
}

fn group_members(pgid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .expect("read /proc")
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| stat_of(*pid).is_some_and(|(group, _)| group == pgid))
        .collect()
}

/// The real programs keep the lease descriptor they inherit for their whole life, and a server
/// whose ferry vanished is found and stopped through its run dir.
#[tokio::test]
async fn real_programs_hold_their_lease_and_a_forgotten_server_is_stopped() {
    let tb = toolbox().await;
    let dirs = ServerDirs::new();

    // mariadb-install-db (a shell script) and the `mariadbd --bootstrap` it runs. Its lease
    // goes beside the datadir.
    let watch = HolderWatch::start(dirs.root.path());
    init_datadir(
        &tb,
        &dirs.datadir,
        &test_init_options(&dirs.path("install.log")),
    )
    .await
    .expect("init datadir");
    let seen = watch.finish();
    assert!(
        seen.contains("mariadbd"),
        "mariadbd --bootstrap held the lease: {seen:?}"
    );
    assert_eq!(
        leases_in(dirs.root.path()),
        Vec::<PathBuf>::new(),
        "released"
    );

    // mariadbd.
    let cfg = test_config(&dirs.datadir, &dirs.run_dir, common::free_port());
    let server = Server::start(&tb, &cfg, &dirs.run_dir, ReadyProbe::root(), START_TIMEOUT)
        .await
        .expect("start");
    let pid = server.pid();
    let leases = leases_in(&dirs.run_dir);
    assert_eq!(leases.len(), 1, "{leases:?}");
    assert!(holds(pid, &leases[0]), "mariadbd keeps the inherited lease");

    // A backup to prepare below.
    let backup = dirs.path("backup");
    run_to_completion(
        ProcessSpec::new(tb.backup_tool())
            .arg("--no-defaults")
            .arg("--backup")
            .arg(format!("--target-dir={}", backup.display()))
            .arg(format!("--socket={}", server.socket()))
            .arg("--user=root")
            .timeout(Duration::from_secs(120)),
    )
    .await
    .expect("mariabackup --backup");

    // Nothing is left behind in an unrelated directory; a missing one is fine too.
    let elsewhere = short_tempdir();
    assert!(stop_left_behind(elsewhere.path(), Duration::from_secs(1))
        .await
        .expect("nothing")
        .is_empty());
    assert!(
        stop_left_behind(&elsewhere.path().join("missing"), Duration::from_secs(1))
            .await
            .expect("nothing")
            .is_empty()
    );

    // ferry "dies": nobody owns the server any more.
    std::mem::forget(server);
    let _cleanup = KillGroupOnDrop(pid);
    assert!(process_alive(pid));
    let stopped = stop_left_behind(&dirs.run_dir, Duration::from_secs(60))
        .await
        .expect("stop what was left");
    assert_eq!(stopped.len(), 1, "{stopped:?}");
    assert_eq!(stopped[0].pid, pid);
    assert_eq!(stopped[0].pgid, pid);
    assert_eq!(stopped[0].name, "mariadbd");
    assert!(!stopped[0].forced, "mariadbd honours SIGTERM");
    assert_eq!(stopped[0].lease, leases[0]);
    assert!(
        !process_alive(pid),
        "the server is gone when the call returns"
    );
    assert!(leases_in(&dirs.run_dir).is_empty());
    assert!(stop_left_behind(&dirs.run_dir, Duration::from_secs(1))
        .await
        .expect("again")
        .is_empty());

    // mariabackup --prepare, its lease in the owner dir the caller names.
    let staging = dirs.path("staging");
    std::fs::create_dir_all(&staging).expect("staging");
    let watch = HolderWatch::start(&staging);
    let mut opts = PrepareOptions::new(dirs.path("prepare.log"));
    opts.owner_dir = Some(staging.clone());
    prepare(&tb, &backup, None, &opts).await.expect("prepare");
    let seen = watch.finish();
    // `mariabackup` is a symlink to `mariadb-backup` on Debian; /proc names the real file.
    let tool = std::fs::canonicalize(tb.backup_tool()).expect("backup tool");
    let tool = tool.file_name().expect("file name").to_string_lossy();
    assert!(
        seen.contains(tool.as_ref()),
        "{tool} held the lease: {seen:?}"
    );
    assert!(leases_in(&staging).is_empty(), "released");
}

/// Kills a process group on drop, so a failing test leaves nothing running. Once the group
/// is gone this does nothing (a process group id is not reused while the test runs).
struct KillGroupOnDrop(u32);

impl Drop for KillGroupOnDrop {
    fn drop(&mut self) {
        if group_members(self.0).is_empty() {
            return;
        }
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.0)])
            .status();
    }
}

fn sh(script: &str) -> ProcessSpec {
    ProcessSpec::new("/bin/sh").arg("-c").arg(script)
}

fn observed(spec: ProcessSpec) -> (ProcessSpec, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let spec = spec.on_line(move |_stream, line| {
        let _ = tx.send(line.to_owned());
    });
    (spec, rx)
}

/// A `sleep` in its own process group that no lease knows about; killed on drop.
struct Bystander(std::process::Child);

impl Bystander {
    fn start() -> Self {
        use std::os::unix::process::CommandExt;
        let child = std::process::Command::new("sleep")
            .arg("600")
            .process_group(0)
            .spawn()
            .expect("spawn sleep");
        Bystander(child)
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Bystander {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn a_tool_and_what_it_forked_are_stopped_even_when_they_ignore_sigterm() {
    let staging = short_tempdir();
    let (spec, mut rx) = observed(
        sh("trap '' TERM; sleep 600 & echo \"grandchild $!\"; while :; do sleep 0.05; done")
            .name("mariabackup --prepare")
            .owner_dir(staging.path()),
    );
    let guard = spec.spawn().expect("spawn");
    let pid = guard.pid();
    let line = wait_for_line(&mut rx, Duration::from_secs(10), |l| {
        l.starts_with("grandchild ")
    })
    .await;
    let grandchild: u32 = line["grandchild ".len()..].parse().expect("pid");
    std::mem::forget(guard);
    let _cleanup = KillGroupOnDrop(pid);

    let stopped = stop_left_behind(staging.path(), Duration::from_millis(300))
        .await
        .expect("stop");
    assert_eq!(stopped.len(), 1, "{stopped:?}");
    assert_eq!(stopped[0].name, "mariabackup --prepare");
    assert_eq!(stopped[0].pid, pid);
    assert!(stopped[0].forced, "SIGTERM was ignored, so SIGKILL");
    assert!(!process_alive(pid));
    assert!(
        wait_gone(grandchild, Duration::from_secs(5)).await,
        "the whole group went"
    );
    assert!(leases_in(staging.path()).is_empty());
}

#[tokio::test]
async fn zero_grace_kills_at_once() {
    let dir = short_tempdir();
    let guard = sh("exec sleep 600")
        .owner_dir(dir.path())
        .spawn()
        .expect("spawn");
    let pid = guard.pid();
    std::mem::forget(guard);
    let _cleanup = KillGroupOnDrop(pid);
    let started = std::time::Instant::now();
    let stopped = stop_left_behind(dir.path(), Duration::ZERO)
        .await
        .expect("stop");
    assert_eq!(stopped.len(), 1);
    assert!(stopped[0].forced);
    assert!(!process_alive(pid));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_descendant_still_holding_the_lease_is_stopped_after_its_parent_exited() {
    // mariadb-install-db's shape: a script whose child does the work. Here the script exits
    // and leaves its child behind, holding the lease.
    let dir = short_tempdir();
    let (spec, mut rx) =
        observed(sh("sleep 600 >/dev/null 2>&1 & echo \"grandchild $!\"").owner_dir(dir.path()));
    let mut guard = spec.spawn().expect("spawn");
    let line = wait_for_line(&mut rx, Duration::from_secs(10), |l| {
        l.starts_with("grandchild ")
    })
    .await;
    let grandchild: u32 = line["grandchild ".len()..].parse().expect("pid");
    let _cleanup = KillGroupOnDrop(guard.pid());
    let status = guard.wait().await.expect("the script exits");
    assert!(status.success());
    let leases = leases_in(dir.path());
    assert_eq!(leases.len(), 1, "kept: the grandchild holds it");
    assert!(holds(grandchild, &leases[0]));
    drop(guard);

    let stopped = stop_left_behind(dir.path(), Duration::from_secs(10))
        .await
        .expect("stop");
    assert_eq!(stopped.len(), 1, "{stopped:?}");
    assert!(!stopped[0].forced);
    assert!(wait_gone(grandchild, Duration::from_secs(5)).await);
    assert!(leases_in(dir.path()).is_empty());
}

#[tokio::test]
async fn a_stale_lease_is_removed_and_nothing_is_signalled() {
    let dir = short_tempdir();
    // A lease naming a live process exactly (pid, group, start time), but not locked: its
    // child is gone, and the process named is not ferry's.
    let bystander = Bystander::start();
    let (pgid, start) = stat_of(bystander.pid()).expect("stat");
    let lease = dir.path().join("ferry-mariadbd-00000000000000aa.lease");
    std::fs::write(
        &lease,
        format!(
            "pid={}\npgid={pgid}\nstart_time={start}\nname=mariadbd\n",
            bystander.pid()
        ),
    )
    .expect("write lease");
    // A child that exited normally leaves no lease at all.
    let out = run_to_completion(sh("true").owner_dir(dir.path()))
        .await
        .expect("true");
    assert!(out.status.success());

    let stopped = stop_left_behind(dir.path(), Duration::from_secs(1))
        .await
        .expect("stop");
    assert!(stopped.is_empty(), "{stopped:?}");
    assert!(!lease.exists(), "the stale lease is removed");
    assert!(leases_in(dir.path()).is_empty());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        process_alive(bystander.pid()),
        "the bystander was not signalled"
    );
}

#[tokio::test]
async fn a_reused_pid_in_a_held_lease_is_not_signalled() {
    let dir = short_tempdir();
    let mut guard = sh("exec sleep 600")
        .owner_dir(dir.path())
        .spawn()
        .expect("spawn");
    let child = guard.pid();
    let lease = guard.lease_path().expect("has a lease").to_path_buf();
    // The lease now names another process (a group leader) under a start time it does not
    // have: what a recycled pid looks like.
    let bystander = Bystander::start();
    let (pgid, start) = stat_of(bystander.pid()).expect("stat");
    assert_eq!(pgid, bystander.pid());
    std::fs::write(
        &lease,
        format!(
            "pid={0}\npgid={0}\nstart_time={1}\nname=sleep\n",
            bystander.pid(),
            start + 1
        ),
    )
    .expect("rewrite lease");

    let stopped = stop_left_behind(dir.path(), Duration::from_secs(10))
        .await
        .expect("stop");
    assert_eq!(stopped.len(), 1, "{stopped:?}");
    assert_eq!(
        (stopped[0].pid, stopped[0].pgid),
        (child, child),
        "reports what it stopped"
    );
    // The process that really held the lease was stopped ...
    let status = guard.wait().await.expect("reaped");
    assert!(!status.success(), "killed by a signal: {status:?}");
    assert!(!process_alive(child));
    // ... and the one the record named was not.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        process_alive(bystander.pid()),
        "the bystander was not signalled"
    );
}
