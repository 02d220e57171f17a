//! Who a cluster's servers run as, and what confines them: the OS-level containment of a
//! tenant that holds every privilege inside its own server.
//!
//! When ferry runs as root, each cluster gets its own uid (its gid is the same number) from
//! [`Config::server_uids`], recorded in the cluster's directory
//! ([`Layout::cluster_server_uid`], root's, 0644) the first time one of its servers starts and
//! kept for the cluster's life. The uid has no passwd entry: the engine switches to it in the
//! child before `exec` with no supplementary groups, and only that cluster's volume, files and
//! run directories are given to it. A second cluster's files, ferry's store and keys, and every
//! other user's files are then out of its reach by plain Unix permissions; the Landlock sandbox
//! ([`ferry_engine::sandbox`]) adds a second, path-based wall that holds even for the same uid
//! (ferry not root).
//!
//! What cannot be provided (ferry not root; a kernel without Landlock) is said once at start
//! (a warning) and in an event on each cluster whose server starts without it.

use std::collections::HashSet;
use std::sync::Mutex;

use ferry_engine::sandbox::{self, SandboxSpec, Support};
use ferry_engine::OsUser;

use crate::config::{Config, UidRange};
use crate::error::ControlError;
use crate::layout::Layout;
use crate::model::ClusterId;

/// How servers are given an OS identity.
#[derive(Debug)]
pub(crate) enum Identities {
    /// As ferry's own user (ferry is not root, or no usable server user).
    Own,
    /// Every cluster's servers as one user (`server_uids = "shared"`).
    Shared(OsUser),
    /// Each cluster's servers as their own uid from the range.
    PerCluster(UidRange),
}

/// What contains the servers of this ferry, decided once at start.
#[derive(Debug)]
pub(crate) struct Containment {
    pub(crate) identities: Identities,
    /// Whether servers are started in a Landlock sandbox.
    pub(crate) sandbox: bool,
    /// Why containment is partial, if it is (said in each cluster's event).
    pub(crate) gap: Option<String>,
    /// Serialises uid allocation, so two clusters never get the same one.
    allocate: Mutex<()>,
    /// Clusters whose event about the gap was recorded by this process.
    reported: Mutex<HashSet<ClusterId>>,
}

impl Containment {
    /// Decides from the configuration and the host: `resolved` is the user the service
    /// found servers may run as (with per-cluster uids, the range's first one), `None` when
    /// they run as ferry's own user (ferry not root, or the data dir unreachable).
    pub(crate) fn decide(config: &Config, resolved: Option<OsUser>) -> Containment {
        let identities = match (resolved, config.server_uids) {
            (Some(_), Some(range)) => Identities::PerCluster(range),
            (Some(user), None) => Identities::Shared(user),
            (None, _) => Identities::Own,
        };
        let mut gaps = Vec::new();
        match &identities {
            Identities::PerCluster(range) => {
                tracing::info!(uids = %range, "each cluster's database servers run as their own uid");
            }
            Identities::Shared(user) => gaps.push(format!(
                "every cluster's server runs as the same OS user ({})",
                user.name
            )),
            Identities::Own => gaps.push(
                "servers run as ferry's own OS user (ferry is not root, or the data dir is unreachable for other users)".to_string(),
            ),
        }
        let sandbox = config.sandbox
            && match sandbox::support() {
                Support::Full { abi } => {
                    tracing::info!(abi, "database servers run in a Landlock sandbox");
                    true
                }
                Support::FilesystemOnly { abi } => {
                    gaps.push(format!(
                        "the kernel's Landlock (ABI {abi}) cannot keep a server from signalling other processes"
                    ));
                    true
                }
                Support::Unavailable { reason } => {
                    gaps.push(format!("no filesystem sandbox: {reason}"));
                    false
                }
            };
        if !config.sandbox {
            gaps.push("the filesystem sandbox is off (sandbox = false)".to_string());
        }
        let gap = (!gaps.is_empty()).then(|| gaps.join("; "));
        if let Some(gap) = &gap {
            tracing::warn!("database servers are only partly contained: {gap}");
        }
        Containment {
            identities,
            sandbox,
            gap,
            allocate: Mutex::new(()),
            reported: Mutex::new(HashSet::new()),
        }
    }

    /// True the first time it is asked for `cluster` while there is a gap to report.
    pub(crate) fn first_report(&self, cluster: &ClusterId) -> bool {
        self.gap.is_some()
            && self
                .reported
                .lock()
                .map(|mut set| set.insert(cluster.clone()))
                .unwrap_or(false)
    }

    /// The OS user `cluster`'s servers run as (`None`: ferry's own), allocating and recording
    /// its uid the first time.
    pub(crate) fn server_user(
        &self,
        layout: &Layout,
        cluster: &ClusterId,
    ) -> Result<Option<OsUser>, ControlError> {
        let range = match &self.identities {
            Identities::Own => return Ok(None),
            Identities::Shared(user) => return Ok(Some(user.clone())),
            Identities::PerCluster(range) => *range,
        };
        let _held = self
            .allocate
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let record = layout.cluster_server_uid(cluster);
        if let Some(uid) = read_record(&record)? {
            return Ok(Some(cluster_user(uid)));
        }
        // Every other cluster's record, read the one way: a damaged record is an error, not a
        // free uid (two clusters must never share one).
        let mut used = HashSet::new();
        let clusters = layout.clusters_dir();
        if let Ok(entries) = std::fs::read_dir(&clusters) {
            for entry in entries.flatten() {
                let Ok(dir) = camino::Utf8PathBuf::from_path_buf(entry.path()) else {
                    continue;
                };
                used.extend(read_record(&dir.join(crate::layout::SERVER_UID_FILE))?);
            }
        }
        let uid = (range.first..=range.last)
            .find(|uid| !used.contains(uid))
            .ok_or_else(|| ControlError::Damaged {
                path: clusters.clone(),
                problem: format!("every uid of server_uids ({range}) is taken by a cluster"),
            })?;
        ferry_base::fs::write_private_file(&record, format!("{uid}\n").as_bytes())
            .map_err(ControlError::io("write", &record))?;
        tracing::info!(cluster = %cluster, uid, "the cluster's servers run as uid {uid}");
        Ok(Some(cluster_user(uid)))
    }

    /// The sandbox for `cluster`'s servers, or `None` when servers are not sandboxed: the
    /// system read-only, the cluster's `files/` read-write, its replication SSL material
    /// readable. The engine adds the server's own datadir, run dir and program tree.
    pub(crate) fn sandbox_for(&self, layout: &Layout, cluster: &ClusterId) -> Option<SandboxSpec> {
        self.sandbox.then(|| {
            SandboxSpec::system()
                .read_write(layout.cluster_files(cluster).into_std_path_buf())
                .read_exec(layout.replication_ssl_dir(cluster).into_std_path_buf())
        })
    }
}

/// A cluster's identity: `uid` as both uid and gid, named for messages only.
fn cluster_user(uid: u32) -> OsUser {
    OsUser {
        name: format!("uid {uid}"),
        uid,
        gid: uid,
    }
}

fn read_record(path: &camino::Utf8Path) -> Result<Option<u32>, ControlError> {
    match std::fs::read_to_string(path) {
        Ok(text) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| ControlError::Damaged {
                path: path.to_path_buf(),
                problem: format!("{text:?} is not a uid"),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ControlError::io("read", path)(e)),
    }
}
