//! [`SslDir`]: a cluster server's replication SSL material on disk.
//!
//! Layout (the directory is ferry's; nothing else writes there):
//!
//! ```text
//! <dir>/                 ferry's: 0700, or 0711 when the files go to another OS user
//!   current -> set-7     symlink to the live set: the paths handed to CHANGE MASTER go through it
//!   set-7/               0700, owned by the server's OS user
//!     ssl_ca.pem         0600 each, owned by the server's OS user
//!     ssl_cert.pem
//!     ssl_key.pem
//! ```
//!
//! Why `<dir>` itself stays ferry's: ferry writes there as root. Were the directory the
//! server's OS user's, that user could replace a set directory by a symlink between ferry
//! creating it and ferry opening it, and have root give away or write into whatever the link
//! names. In a directory only ferry can change, each name ferry creates stays what it created;
//! inside a set, files are created with `O_EXCL` (never through a planted link) and given
//! away through their open descriptors.
//!
//! Why a symlink: the three files only make sense together (the key must match the
//! certificate), and a set is replaced by writing the new one beside it, syncing it, and then
//! renaming a fresh symlink over `current`, one atomic step. A crash or error at any point
//! leaves either the old set or the new one live, never a mix; leftovers (a half-written set,
//! a stale temporary link) are cleared by the next store or remove. Removal unlinks `current`
//! first, so the material stops being usable at once, then deletes every set.
//!
//! Not for concurrent use on one directory: each cluster server has one agent that stores.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};

use camino::{Utf8Path, Utf8PathBuf};
use ferry_engine::OsUser;

use super::{SslMaterial, CA_FILE, CERT_FILE, KEY_FILE};
use crate::ReplicationError;

/// The symlink naming the live set.
const CURRENT: &str = "current";
/// The symlink being prepared before it is renamed over [`CURRENT`].
const CURRENT_TMP: &str = ".current.tmp";
/// Sets are `set-<n>`, `n` counting up.
const SET_PREFIX: &str = "set-";

/// Where the live material is (through the `current` link), for `MASTER_SSL_CA` and friends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SslPaths {
    pub ca: Utf8PathBuf,
    pub cert: Utf8PathBuf,
    pub key: Utf8PathBuf,
}

/// A cluster server's replication SSL directory.
#[derive(Debug, Clone)]
pub struct SslDir {
    dir: Utf8PathBuf,
    owner: Option<OsUser>,
}

impl SslDir {
    /// The directory `dir` (created by [`SslDir::store`]); files are given to `owner` (the
    /// server's OS user) when ferry runs as root, as the engine does with datadirs.
    pub fn new(dir: Utf8PathBuf, owner: Option<OsUser>) -> SslDir {
        SslDir { dir, owner }
    }

    /// The directory itself.
    pub fn dir(&self) -> &Utf8Path {
        &self.dir
    }

    /// The stable paths of the three files (they exist only while material is stored).
    pub fn paths(&self) -> SslPaths {
        let live = self.dir.join(CURRENT);
        SslPaths {
            ca: live.join(CA_FILE),
            cert: live.join(CERT_FILE),
            key: live.join(KEY_FILE),
        }
    }

    /// Whether a complete set is stored.
    pub fn is_present(&self) -> bool {
        let paths = self.paths();
        [paths.ca, paths.cert, paths.key]
            .iter()
            .all(|path| path.is_file())
    }

    /// Stores `material` as the live set, replacing any previous one atomically.
    pub fn store(&self, material: &SslMaterial) -> Result<(), ReplicationError> {
        self.prepare_dir()?;
        let live = self.live_set()?;
        let next = self.next_set_name()?;
        let set_dir = self.dir.join(&next);
        if let Err(err) = self
            .write_set(&set_dir, material)
            .and_then(|()| self.switch_to(&next))
        {
            // Best effort: the live set is untouched either way, and the next store or remove
            // clears what is left.
            let _ = fs::remove_dir_all(&set_dir);
            return Err(err);
        }
        sync_dir(&self.dir)?;
        tracing::debug!(dir = %self.dir, set = %next, "stored replication SSL material");
        if let Err(err) = self.remove_sets_except(Some(&next)) {
            tracing::warn!(
                dir = %self.dir,
                previous = live.as_deref().unwrap_or("-"),
                "stored the new SSL material but could not erase older copies: {err}"
            );
        }
        Ok(())
    }

    /// Erases the stored material; `true` if a complete set was there.
    pub fn remove(&self) -> Result<bool, ReplicationError> {
        if !self.dir.exists() {
            return Ok(false);
        }
        let was_present = self.is_present();
        let current = self.dir.join(CURRENT);
        remove_if_present(&current).map_err(file_error("cannot remove", &current))?;
        sync_dir(&self.dir)?;
        self.remove_sets_except(None)?;
        Ok(was_present)
    }

    /// Points `current` at the set `name`: a new link renamed over the old one.
    fn switch_to(&self, name: &str) -> Result<(), ReplicationError> {
        let tmp_link = self.dir.join(CURRENT_TMP);
        remove_if_present(&tmp_link)
            .map_err(file_error("cannot remove the stale link", &tmp_link))?;
        std::os::unix::fs::symlink(name, &tmp_link)
            .map_err(file_error("cannot create the link", &tmp_link))?;
        let current = self.dir.join(CURRENT);
        fs::rename(&tmp_link, &current)
            .map_err(file_error("cannot switch the SSL material link", &current))
    }

    /// Whether files are given to another OS user (ferry runs as root and has an owner).
    fn gives_away(&self) -> bool {
        self.owner.is_some() && ferry_engine::running_as_root()
    }

    /// Creates the directory, or fixes its mode and owner: ferry's (see the module docs),
    /// 0711 when the server's OS user must pass through it to its sets, else 0700.
    fn prepare_dir(&self) -> Result<(), ReplicationError> {
        let mode = if self.gives_away() { 0o711 } else { 0o700 };
        match fs::DirBuilder::new().mode(mode).create(&self.dir) {
            Ok(()) => {}
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
            Err(err) => {
                return Err(file_error(
                    "cannot create the SSL material directory",
                    &self.dir,
                )(err))
            }
        }
        let meta =
            fs::symlink_metadata(&self.dir).map_err(file_error("cannot inspect", &self.dir))?;
        if !meta.is_dir() {
            return Err(ReplicationError::File {
                what: "cannot use the SSL material directory".to_owned(),
                path: self.dir.clone(),
                source: io::Error::other("it exists and is not a directory"),
            });
        }
        let handle = File::open(&self.dir).map_err(file_error("cannot open", &self.dir))?;
        handle
            .set_permissions(fs::Permissions::from_mode(mode))
            .map_err(file_error("cannot set the mode of", &self.dir))?;
        if self.gives_away() {
            // Taken back from the server's OS user if an older ferry gave it away.
            std::os::unix::fs::fchown(&handle, Some(0), Some(0))
                .map_err(file_error("cannot take back", &self.dir))?;
        }
        Ok(())
    }

    /// Writes the three files into a new set directory and syncs them.
    fn write_set(
        &self,
        set_dir: &Utf8Path,
        material: &SslMaterial,
    ) -> Result<(), ReplicationError> {
        fs::DirBuilder::new()
            .mode(0o700)
            .create(set_dir)
            .map_err(file_error("cannot create", set_dir))?;
        self.give(
            &File::open(set_dir).map_err(file_error("cannot open", set_dir))?,
            set_dir,
        )?;
        for (name, text) in [
            (CA_FILE, material.ca_pem()),
            (CERT_FILE, material.cert_pem()),
            (KEY_FILE, material.key_pem()),
        ] {
            let path = set_dir.join(name);
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .map_err(file_error("cannot create", &path))?;
            self.give(&file, &path)?;
            file.write_all(text.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(file_error("cannot write", &path))?;
        }
        sync_dir(set_dir)
    }

    /// Gives an open file or directory to the server's OS user (only possible as root).
    fn give(&self, file: &File, path: &Utf8Path) -> Result<(), ReplicationError> {
        match &self.owner {
            Some(owner) if ferry_engine::running_as_root() => {
                std::os::unix::fs::fchown(file, Some(owner.uid), Some(owner.gid)).map_err(
                    file_error(&format!("cannot give to OS user {}", owner.name), path),
                )
            }
            Some(_) | None => Ok(()),
        }
    }

    /// The set `current` points at, if any.
    fn live_set(&self) -> Result<Option<String>, ReplicationError> {
        let current = self.dir.join(CURRENT);
        match fs::read_link(&current) {
            Ok(target) => Ok(Some(target.to_string_lossy().into_owned())),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(file_error("cannot read the link", &current)(err)),
        }
    }

    /// `set-<n>` with `n` above every set in the directory.
    fn next_set_name(&self) -> Result<String, ReplicationError> {
        let highest = self
            .sets()?
            .iter()
            .filter_map(|name| name.strip_prefix(SET_PREFIX)?.parse::<u64>().ok())
            .max()
            .unwrap_or(0);
        Ok(format!("{SET_PREFIX}{}", highest + 1))
    }

    /// Names of the set directories (and anything else named like one).
    fn sets(&self) -> Result<Vec<String>, ReplicationError> {
        let mut names = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(file_error("cannot list", &self.dir))? {
            let entry = entry.map_err(file_error("cannot list", &self.dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(SET_PREFIX) {
                names.push(name);
            }
        }
        Ok(names)
    }

    /// Deletes every set but `keep`, and a stale temporary link.
    fn remove_sets_except(&self, keep: Option<&str>) -> Result<(), ReplicationError> {
        let tmp_link = self.dir.join(CURRENT_TMP);
        remove_if_present(&tmp_link).map_err(file_error("cannot remove", &tmp_link))?;
        for name in self.sets()? {
            if Some(name.as_str()) == keep {
                continue;
            }
            let path = self.dir.join(&name);
            let removed = match fs::symlink_metadata(&path) {
                Ok(meta) if meta.is_dir() => fs::remove_dir_all(&path),
                Ok(_) => fs::remove_file(&path),
                Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(err) => Err(err),
            };
            removed.map_err(file_error("cannot erase old SSL material", &path))?;
        }
        sync_dir(&self.dir)
    }
}

/// Unlinks `path` (not following a symlink); fine if it is not there.
fn remove_if_present(path: &Utf8Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Makes a directory's entries durable.
fn sync_dir(dir: &Utf8Path) -> Result<(), ReplicationError> {
    File::open(dir)
        .and_then(|handle| handle.sync_all())
        .map_err(file_error("cannot sync", dir))
}

fn file_error<'a>(
    what: &'a str,
    path: &'a Utf8Path,
) -> impl FnOnce(io::Error) -> ReplicationError + 'a {
    move |source| ReplicationError::File {
        what: what.to_owned(),
        path: path.to_owned(),
        source,
    }
}
