//! A browser dropped without being closed (a console test that panics half-way) leaves no
//! process behind: chromedriver and every Chromium process of its group are gone.

use std::time::{Duration, Instant};

use ferry_testkit::Browser;

/// The pids of the processes whose process group is `pgid`.
fn members(pgid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp ...: comm may hold spaces, so read after its `)`.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // A zombie is already dead; its parent reaps it.
        if fields.first() == Some(&"Z") {
            continue;
        }
        if fields.get(2).and_then(|g| g.parse::<u32>().ok()) == Some(pgid) {
            out.push(pid);
        }
    }
    out
}

#[test]
fn a_browser_dropped_without_closing_leaves_no_process() {
    let shots = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let b = rt.block_on(Browser::start(shots.path(), 800, 600)).unwrap();
    let pgid = b.process_group();
    rt.block_on(b.client.goto("about:blank")).unwrap();
    let before = members(pgid);
    assert!(
        before.len() > 1,
        "chromedriver and the browser share a group: {before:?}"
    );
    drop(b);
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let left = members(pgid);
        if left.is_empty() {
            break;
        }
        assert!(Instant::now() < until, "still running: {left:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
