//! Processes an earlier `ferry serve` left running (it was killed before it could stop them):
//! servers on a cluster's volume and tools working in its staging area or restore target.
//!
//! The engine finds them: every child it spawns holds a lease in an owner directory
//! (`ferry_engine::stop_left_behind`); this module only knows which directories those are for
//! a cluster: a server's run dir, the staging root (prepares), the cluster's directory
//! (`mariadb-install-db`, whose lease sits beside `restoring/`).

use std::time::Duration;

use camino::Utf8Path;
use ferry_base::error::flatten;

use crate::error::ControlError;
use crate::layout::Layout;
use crate::model::ClusterId;

/// How long a left-behind server gets to shut down cleanly before it is killed.
const SERVER_GRACE: Duration = Duration::from_secs(120);

/// Stops a server left running from `run_dir`.
pub(crate) async fn stop_server_in(run_dir: &Utf8Path) -> Result<(), ControlError> {
    for left in ferry_engine::stop_left_behind(run_dir.as_std_path(), SERVER_GRACE).await? {
        tracing::warn!(pid = left.pid, name = %left.name, dir = %run_dir, forced = left.forced, "stopped a process left running by an earlier ferry serve");
    }
    Ok(())
}

/// Stops every server left running on a cluster's volume: its one-off run dir and every
/// instance run dir. Failures are logged: the caller goes on with what it can.
pub(crate) async fn stop_servers_of(layout: &Layout, id: &ClusterId) {
    for dir in layout.server_run_dirs(id) {
        if let Err(e) = stop_server_in(&dir).await {
            tracing::error!(cluster = %id, dir = %dir, error = %flatten(&e), "cannot stop a server left running");
        }
    }
}

/// Kills tools (mariabackup's prepare, mariadb-install-db) left working on a cluster's staging
/// area or restore target: a resumed job must not share those directories with them. They
/// are killed at once: their work is redone.
pub(crate) async fn stop_tools_of(layout: &Layout, id: &ClusterId) {
    for dir in [layout.staging(id), layout.cluster_dir(id)] {
        match ferry_engine::stop_left_behind(dir.as_std_path(), Duration::ZERO).await {
            Ok(stopped) => {
                for left in stopped {
                    tracing::warn!(cluster = %id, pid = left.pid, name = %left.name, "killed a tool left running by an earlier ferry serve");
                }
            }
            Err(e) => {
                tracing::error!(cluster = %id, dir = %dir, error = %flatten(&e), "cannot stop a tool left running")
            }
        }
    }
}
