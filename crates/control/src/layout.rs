//! [`Layout`]: every path under `ferry serve`'s data directory comes from here, so the tree
//! below is the whole truth about what ferry keeps on disk.
//!
//! ```text
//! <data-dir>/                    (0700)
//!   ferry.sqlite                 metadata (clusters, instances, events, jobs, access keys), 0600
//!   ferry.lock                   held (flock) by the running `ferry serve`
//!   admin-credentials            the admin access key, AWS shared-credentials format, 0600
//!   clusters/<cluster-id>/
//!     volume/                    the cluster volume: the MariaDB datadir (restored or initialised)
//!     restoring/                 the restore's (or init's) target until complete, then renamed
//!                                to volume/
//!     restore-report.json        what the restore recovered (binlog coordinates, chain)
//!     install-db.log             mariadb-install-db's output (empty clusters)
//!     pending-master-password    the requested password until the job has set it, 0600
//!     boot/                      run dir of one-off servers (engine set-up, password reset,
//!                                admin repair)
//!     server-uid                 the uid (and gid) the cluster's servers run as, when ferry is
//!                                root (ferry's, 0644)
//!     admin.cnf                  ferry's internal account on this cluster ([client] file), 0600
//!     files/                     the servers' secure_file_priv: the only directory LOAD DATA
//!                                INFILE, SELECT ... INTO OUTFILE and LOAD_FILE may touch (0700)
//!     replication-ssl/           SSL material imported by mysql.rds_import_binlog_ssl_material:
//!                                ssl_ca.pem, ssl_cert.pem, ssl_key.pem (0700 dir, 0600 files,
//!                                owned by the servers' OS user, outside secure_file_priv)
//!     replication-source.json    the external source (host, port, user, password, ssl) set by
//!                                mysql.rds_set_external_master, for lag sampling (0600, ferry's)
//!     instances/<instance-id>/   run dir of one instance: my.cnf, mariadbd.log, mariadbd.pid, mysqld.sock, tmp/
//!   staging/<cluster-id>/        backup sets unpacked while a restore runs (removed after)
//!   trash/                       directories being removed (renamed here first, deleted after)
//! ```
//!
//! Directories are removed by renaming them into `trash/` first ([`Layout::remove_dir_safely`]),
//! so a crash in the middle of a removal leaves a half-deleted tree in `trash/` (emptied at the
//! next start, [`Layout::empty_trash`]) and never under `clusters/`. Files holding secrets are
//! written by [`ferry_base::fs::write_private_file`]: mode 0600 from the first byte.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};

use camino::{Utf8Path, Utf8PathBuf};
use ferry_engine::config::{MAX_SOCKET_PATH, SOCKET_FILE};

use crate::model::{ClusterId, InstanceId};

pub const DATABASE_FILE: &str = "ferry.sqlite";
pub const LOCK_FILE: &str = "ferry.lock";
pub const ADMIN_CREDENTIALS_FILE: &str = "admin-credentials";
pub const CLUSTERS_DIR: &str = "clusters";
pub const VOLUME_DIR: &str = "volume";
pub const CLUSTER_ADMIN_CNF: &str = "admin.cnf";
pub const INSTANCES_DIR: &str = "instances";
pub const RESTORING_DIR: &str = "restoring";
pub const BOOT_DIR: &str = "boot";
pub const RESTORE_REPORT_FILE: &str = "restore-report.json";
pub const INSTALL_DB_LOG: &str = "install-db.log";
pub const PENDING_PASSWORD_FILE: &str = "pending-master-password";
pub const SERVER_UID_FILE: &str = "server-uid";
pub const FILES_DIR: &str = "files";
pub const REPLICATION_SSL_DIR: &str = "replication-ssl";
pub const REPLICATION_SOURCE_FILE: &str = "replication-source.json";
pub const STAGING_DIR: &str = "staging";
pub const TRASH_DIR: &str = "trash";

/// A path ferry cannot use.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error(
        "the unix socket of DB instance '{instance}' would be {path} ({len} bytes), longer than \
         the kernel's limit of {max} bytes: start ferry with a shorter --data-dir than {data_dir}, \
         or use shorter cluster and instance identifiers"
    )]
    SocketPathTooLong {
        instance: InstanceId,
        path: Utf8PathBuf,
        len: usize,
        max: usize,
        data_dir: Utf8PathBuf,
    },
}

/// The data directory's tree. Cheap to clone; computing a path touches nothing on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    root: Utf8PathBuf,
}

impl Layout {
    /// The layout under `root`, made absolute against the current directory (server processes
    /// get these paths in their configuration and must not depend on their working directory).
    pub fn new(root: impl Into<Utf8PathBuf>) -> Layout {
        let root = root.into();
        let root = std::path::absolute(&root)
            .ok()
            .and_then(|p| Utf8PathBuf::from_path_buf(p).ok())
            .unwrap_or(root);
        Layout { root }
    }

    pub fn root(&self) -> &Utf8Path {
        &self.root
    }

    pub fn database(&self) -> Utf8PathBuf {
        self.root.join(DATABASE_FILE)
    }

    pub fn lock_file(&self) -> Utf8PathBuf {
        self.root.join(LOCK_FILE)
    }

    pub fn admin_credentials(&self) -> Utf8PathBuf {
        self.root.join(ADMIN_CREDENTIALS_FILE)
    }

    pub fn clusters_dir(&self) -> Utf8PathBuf {
        self.root.join(CLUSTERS_DIR)
    }

    pub fn cluster_dir(&self, cluster: &ClusterId) -> Utf8PathBuf {
        self.clusters_dir().join(cluster.as_str())
    }

    /// The cluster volume: the MariaDB datadir all of the cluster's instances run on.
    pub fn volume(&self, cluster: &ClusterId) -> Utf8PathBuf {
        self.cluster_dir(cluster).join(VOLUME_DIR)
    }

    /// The `[client]` option file of ferry's internal account on this cluster (0600).
    pub fn cluster_admin_cnf(&self, cluster: &ClusterId) -> Utf8PathBuf {
        self.cluster_dir(cluster).join(CLUSTER_ADMIN_CNF)
    }

    /// The uid the cluster's servers run as ([`crate::identity`]).
    pub fn cluster_server_uid(&self, cluster: &ClusterId) -> Utf8PathBuf {
        self.cluster_dir(cluster).join(SERVER_UID_FILE)
    }

    /// The only directory the cluster's servers may read or write files in
    /// (`secure_file_priv`). Without it a server run as root would read any file of the host
    /// for an account holding FILE.
    pub fn cluster_files(&self, cluster: &ClusterId) -> Utf8PathBuf {
        self.cluster_dir(cluster).join(FILES_DIR)
    }

    /// Replication SSL material the servers read (`MASTER_SSL_CA`/`CERT`/`KEY`).
    pub fn replication_ssl_dir(&self, cluster: &ClusterId) -> Utf8PathBuf {
        self.cluster_dir(cluster).join(REPLICATION_SSL_DIR)
    }

    /// The external source's endpoint and credentials, kept by the replication agent.
    pub fn replication_source_file(&self, cluster: &ClusterId) -> Utf8PathBuf {
        self.cluster_dir(cluster).join(REPLICATION_SOURCE_FILE)
    }

    /// Where a restore (or an empty cluster's init) builds the volume; renamed to
    /// [`Layout::volume`] only when it is complete, so `volume/` always holds whole data.
    pub fn restoring(&self, cluster: &ClusterId) -> Utf8PathBuf {
        self.cluster_dir(cluster).join(RESTORING_DIR)
    }

    /// What the restore recovered, saved before `restoring/` becomes `volume/`: a job resumed
    /// after a crash reads it instead of restoring again.
    pub fn restore_report(&self, cluster: &ClusterId) -> Utf8PathBuf {
        self.cluster_dir(cluster).join(RESTORE_REPORT_FILE)
    }

    /// `mariadb-install-db`'s output when an empty cluster's volume is initialised.
    pub fn install_db_log(&self, cluster: &ClusterId) -> Utf8PathBuf {
        self.cluster_dir(cluster).join(INSTALL_DB_LOG)
    }

    /// The master password between the API request and the job that sets it (0600).
    pub fn pending_master_password(&self, cluster: &ClusterId) -> Utf8PathBuf {
        self.cluster_dir(cluster).join(PENDING_PASSWORD_FILE)
    }

    /// The run dir of one-off servers on the cluster's volume (engine set-up, password reset
    /// without a running instance, repair of ferry's account).
    pub fn boot_dir(&self, cluster: &ClusterId) -> Utf8PathBuf {
        self.cluster_dir(cluster).join(BOOT_DIR)
    }

    /// Where the cluster's instances have their run dirs.
    pub fn instances_dir(&self, cluster: &ClusterId) -> Utf8PathBuf {
        self.cluster_dir(cluster).join(INSTANCES_DIR)
    }

    /// Every run dir a server of the cluster may have used: the one-off one and each
    /// instance's that exists on disk.
    pub fn server_run_dirs(&self, cluster: &ClusterId) -> Vec<Utf8PathBuf> {
        let mut dirs = vec![self.boot_dir(cluster)];
        if let Ok(entries) = fs::read_dir(self.instances_dir(cluster)) {
            dirs.extend(
                entries
                    .flatten()
                    .filter_map(|e| Utf8PathBuf::from_path_buf(e.path()).ok()),
            );
        }
        dirs
    }

    /// The run directory of one instance: its `my.cnf`, error log, pid file and socket.
    pub fn instance_dir(&self, cluster: &ClusterId, instance: &InstanceId) -> Utf8PathBuf {
        self.instances_dir(cluster).join(instance.as_str())
    }

    /// The instance's unix socket (`instance_dir/mysqld.sock`), or an error naming the data
    /// dir when the path is too long for a unix socket. Check it before creating the instance:
    /// with long identifiers and a deep data dir the path can exceed the limit.
    pub fn instance_socket(
        &self,
        cluster: &ClusterId,
        instance: &InstanceId,
    ) -> Result<Utf8PathBuf, LayoutError> {
        let path = self.instance_dir(cluster, instance).join(SOCKET_FILE);
        if path.as_str().len() > MAX_SOCKET_PATH {
            return Err(LayoutError::SocketPathTooLong {
                instance: instance.clone(),
                len: path.as_str().len(),
                path,
                max: MAX_SOCKET_PATH,
                data_dir: self.root.clone(),
            });
        }
        Ok(path)
    }

    /// Where a restore of `cluster` unpacks backup sets.
    pub fn staging(&self, cluster: &ClusterId) -> Utf8PathBuf {
        self.root.join(STAGING_DIR).join(cluster.as_str())
    }

    pub fn trash(&self) -> Utf8PathBuf {
        self.root.join(TRASH_DIR)
    }

    /// Creates the data directory (0700) and its top-level directories.
    ///
    /// An existing data directory that group or others can enter is tightened to 0700 when it
    /// is empty or already ferry's (it holds `ferry.sqlite`); any other such directory is
    /// refused rather than changed, so pointing `--data-dir` at a shared directory by mistake
    /// does not alter it.
    pub fn ensure_root(&self) -> io::Result<()> {
        private_dir_builder()
            .create(&self.root)
            .map_err(|e| with_path(e, "create the data directory", &self.root))?;
        let mode = fs::metadata(&self.root)
            .map_err(|e| with_path(e, "inspect the data directory", &self.root))?
            .permissions()
            .mode();
        // Group or others may pass (x: servers running as their own OS user need that) but
        // never read or write.
        if mode & 0o066 != 0 {
            let ours = self.database().exists()
                || fs::read_dir(&self.root)
                    .map_err(|e| with_path(e, "list the data directory", &self.root))?
                    .next()
                    .is_none();
            if !ours {
                return Err(io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    format!(
                        "the data directory {} is not empty and can be read by other users \
                         (mode {:o}); it will hold credentials: choose a new directory, or \
                         `chmod 700` this one if it is meant for ferry",
                        self.root,
                        mode & 0o7777
                    ),
                ));
            }
            fs::set_permissions(&self.root, fs::Permissions::from_mode(0o700))
                .map_err(|e| with_path(e, "restrict the data directory to 0700", &self.root))?;
        }
        for dir in [
            self.clusters_dir(),
            self.root.join(STAGING_DIR),
            self.trash(),
        ] {
            private_dir_builder()
                .create(&dir)
                .map_err(|e| with_path(e, "create directory", &dir))?;
        }
        Ok(())
    }

    /// Removes a directory under the data dir without ever leaving it half-deleted in place:
    /// it is renamed into `trash/` under a unique name (durably), then deleted there. A path
    /// that does not exist is already removed; a path outside the data dir is refused.
    pub fn remove_dir_safely(&self, path: &Utf8Path) -> io::Result<()> {
        if !path.starts_with(&self.root) || path == self.root || path.starts_with(self.trash()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "refusing to remove {path}: not a directory inside {}",
                    self.root
                ),
            ));
        }
        if fs::symlink_metadata(path).is_err() {
            return Ok(());
        }
        let trash = self.trash();
        private_dir_builder()
            .create(&trash)
            .map_err(|e| with_path(e, "create directory", &trash))?;
        let name = path.file_name().unwrap_or("dir");
        let target = trash.join(format!("{name}.{:016x}", rand::random::<u64>()));
        match fs::rename(path, &target) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(with_path(e, &format!("move into {trash}"), path)),
        }
        if let Some(parent) = path.parent() {
            sync_dir(parent)?;
        }
        sync_dir(&trash)?;
        fs::remove_dir_all(&target).map_err(|e| with_path(e, "remove", &target))
    }

    /// Deletes whatever an interrupted [`Layout::remove_dir_safely`] left in `trash/`.
    pub fn empty_trash(&self) -> io::Result<()> {
        let trash = self.trash();
        let entries = match fs::read_dir(&trash) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(with_path(e, "list", &trash)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| with_path(e, "list", &trash))?;
            let path = entry.path();
            let result = if entry.file_type().is_ok_and(|t| t.is_dir()) {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
            result
                .map_err(|e| io::Error::new(e.kind(), format!("remove {}: {e}", path.display())))?;
        }
        Ok(())
    }
}

fn private_dir_builder() -> fs::DirBuilder {
    let mut b = fs::DirBuilder::new();
    b.recursive(true).mode(0o700);
    b
}

fn sync_dir(dir: &Utf8Path) -> io::Result<()> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| with_path(e, "sync directory", dir))
}

/// An I/O error that says what was being done to which path (std's errors name neither).
fn with_path(e: io::Error, what: &str, path: &Utf8Path) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {path}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_layout() -> (tempfile::TempDir, Layout) {
        let tmp = tempfile::tempdir().expect("temp dir");
        let root = Utf8PathBuf::from_path_buf(tmp.path().join("data")).expect("utf-8 temp path");
        (tmp, Layout::new(root))
    }

    fn mode(path: &Utf8Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn paths_follow_the_drawn_tree() {
        let l = Layout::new("/var/lib/ferry");
        let c = ClusterId::new_unchecked("c1");
        let i = InstanceId::new_unchecked("i1");
        assert_eq!(l.database(), "/var/lib/ferry/ferry.sqlite");
        assert_eq!(l.lock_file(), "/var/lib/ferry/ferry.lock");
        assert_eq!(l.admin_credentials(), "/var/lib/ferry/admin-credentials");
        assert_eq!(l.cluster_dir(&c), "/var/lib/ferry/clusters/c1");
        assert_eq!(l.volume(&c), "/var/lib/ferry/clusters/c1/volume");
        assert_eq!(
            l.cluster_admin_cnf(&c),
            "/var/lib/ferry/clusters/c1/admin.cnf"
        );
        assert_eq!(
            l.instance_dir(&c, &i),
            "/var/lib/ferry/clusters/c1/instances/i1"
        );
        assert_eq!(
            l.instance_socket(&c, &i).unwrap(),
            "/var/lib/ferry/clusters/c1/instances/i1/mysqld.sock"
        );
        assert_eq!(l.staging(&c), "/var/lib/ferry/staging/c1");
        assert_eq!(l.trash(), "/var/lib/ferry/trash");
        assert!(Layout::new("relative/dir").root().is_absolute());
    }

    #[test]
    fn too_long_socket_paths_name_the_data_dir() {
        let l = Layout::new("/var/lib/ferry");
        let c = ClusterId::new_unchecked("c".repeat(63));
        let i = InstanceId::new_unchecked("i".repeat(63));
        let err = l.instance_socket(&c, &i).unwrap_err().to_string();
        assert!(
            err.contains("shorter --data-dir than /var/lib/ferry"),
            "{err}"
        );
        assert!(err.contains("limit of 107 bytes"), "{err}");
    }

    #[test]
    fn ensure_root_creates_a_private_tree() {
        let (_tmp, l) = temp_layout();
        l.ensure_root().unwrap();
        for dir in [
            l.root().to_owned(),
            l.clusters_dir(),
            l.trash(),
            l.root().join(STAGING_DIR),
        ] {
            assert!(dir.is_dir(), "{dir}");
            assert_eq!(mode(&dir), 0o700, "{dir}");
        }
        l.ensure_root().unwrap();
    }

    #[test]
    fn ensure_root_tightens_an_empty_dir_but_refuses_a_foreign_one() {
        let (_tmp, l) = temp_layout();
        fs::create_dir(l.root()).unwrap();
        fs::set_permissions(l.root(), fs::Permissions::from_mode(0o755)).unwrap();
        l.ensure_root().unwrap();
        assert_eq!(mode(l.root()), 0o700);

        fs::set_permissions(l.root(), fs::Permissions::from_mode(0o755)).unwrap();
        fs::remove_dir_all(l.root()).unwrap();
        fs::create_dir(l.root()).unwrap();
        fs::write(l.root().join("someone-elses-file"), "x").unwrap();
        fs::set_permissions(l.root(), fs::Permissions::from_mode(0o755)).unwrap();
        let err = l.ensure_root().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
        assert!(err.to_string().contains("chmod 700"), "{err}");
        assert_eq!(mode(l.root()), 0o755, "a foreign directory is left alone");
    }

    #[test]
    fn remove_dir_safely_goes_through_the_trash() {
        let (_tmp, l) = temp_layout();
        l.ensure_root().unwrap();
        let c = ClusterId::new_unchecked("c1");
        fs::create_dir_all(l.volume(&c).join("db")).unwrap();
        fs::write(l.volume(&c).join("db/t.ibd"), "data").unwrap();
        l.remove_dir_safely(&l.cluster_dir(&c)).unwrap();
        assert!(!l.cluster_dir(&c).exists());
        assert_eq!(fs::read_dir(l.trash()).unwrap().count(), 0);
        // Removing what is gone is fine.
        l.remove_dir_safely(&l.cluster_dir(&c)).unwrap();
        // Outside the data dir, the root itself and the trash are refused.
        for bad in [Utf8PathBuf::from("/tmp"), l.root().to_owned(), l.trash()] {
            let err = l.remove_dir_safely(&bad).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad}");
        }
    }

    #[test]
    fn empty_trash_removes_leftovers() {
        let (_tmp, l) = temp_layout();
        l.ensure_root().unwrap();
        fs::create_dir_all(l.trash().join("c1.0123/volume")).unwrap();
        fs::write(l.trash().join("c1.0123/volume/f"), "x").unwrap();
        fs::write(l.trash().join("stray"), "x").unwrap();
        l.empty_trash().unwrap();
        assert_eq!(fs::read_dir(l.trash()).unwrap().count(), 0);
    }
}
