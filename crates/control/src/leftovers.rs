//! Processes an earlier `ferry serve` left running (it was killed before it could stop
//! them): servers on a cluster's volume and tools working in its staging area or restore
//! target.

use std::time::Duration;

use camino::Utf8Path;
use ferry_engine::config::PID_FILE;

use crate::model::ClusterId;

/// Kills tools (mariabackup's prepare, ...) an earlier control plane that was killed left
/// working on a cluster's staging area or restore target: children run in their own process
/// groups and outlive ferry, and a resumed job must not share those directories with them.
pub(crate) async fn stop_stale_tools_of(layout: &crate::layout::Layout, ids: &[ClusterId]) {
    // One scan of /proc for every cluster at once.
    let needles: Vec<String> = ids
        .iter()
        .flat_map(|id| {
            [
                format!("{}/", layout.staging(id)),
                layout.restoring(id).to_string(),
            ]
        })
        .collect();
    if needles.is_empty() {
        return;
    }
    let matching = || -> Vec<i32> {
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
            .filter(|pid| *pid > 1 && *pid != std::process::id() as i32)
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .map(|c| {
                        let c = String::from_utf8_lossy(&c).replace('\0', " ");
                        needles.iter().any(|n| c.contains(n.as_str()))
                    })
                    .unwrap_or(false)
            })
            .collect()
    };
    let pids = matching();
    if pids.is_empty() {
        return;
    }
    for pid in &pids {
        tracing::warn!(pid, "killing a tool left running by an earlier ferry serve");
        // SAFETY: kill(2) on a process whose command line names a cluster's staging area or
        // restore target, which only ferry's own tools do.
        unsafe { libc::kill(*pid, libc::SIGKILL) };
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !matching().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Stops a server left running from `run_dir` by an earlier control plane (one that was
/// killed before it could shut its servers down).
pub(crate) async fn stop_stale_server(run_dir: &Utf8Path) {
    let Ok(text) = std::fs::read_to_string(run_dir.join(PID_FILE)) else {
        return;
    };
    let Ok(pid) = text.trim().parse::<i32>() else {
        return;
    };
    let alive = |pid: i32| -> bool {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|c| {
                let c = String::from_utf8_lossy(&c);
                c.contains(run_dir.as_str())
            })
            .unwrap_or(false)
    };
    if pid <= 1 || !alive(pid) {
        return;
    }
    tracing::warn!(pid, dir = %run_dir, "stopping a server left running by an earlier ferry serve");
    // SAFETY: kill(2) on a pid whose command line names our run dir.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while alive(pid) {
        if std::time::Instant::now() > deadline {
            // SAFETY: as above.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        if std::time::Instant::now() > deadline + Duration::from_secs(10) {
            break;
        }
    }
}
