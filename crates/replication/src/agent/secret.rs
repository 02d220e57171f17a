//! The source endpoint the replica was pointed at, kept by ferry in a 0600 file so the monitor
//! can read the source's binlog position (true lag) without asking anyone for a password.
//!
//! Written when `rds_set_external_master[_with_auto_position]` succeeds, removed by
//! `rds_reset_external_master`. The file belongs to the user ferry runs as (not the server's
//! OS user): only ferry reads it. It is replaced atomically (temporary file, fsync, rename).

use camino::Utf8Path;
use ferry_base::Secret;
use serde::{Deserialize, Serialize};

use crate::error::ReplicationError;

/// What ferry keeps about the source (the password as a plain JSON string, see [`Secret`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceSecret {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Secret,
    /// The link uses TLS with the imported material.
    pub ssl: bool,
    /// The link positions itself by GTID (auto position).
    #[serde(default)]
    pub gtid: bool,
}

impl SourceSecret {
    /// `host:port`, for messages.
    pub fn endpoint(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Reads the file; `None` when it does not exist.
    pub fn load(path: &Utf8Path) -> Result<Option<SourceSecret>, ReplicationError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(ReplicationError::File {
                    what: "cannot read the replication source file".to_owned(),
                    path: path.to_owned(),
                    source,
                })
            }
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|error| ReplicationError::File {
                what: "cannot parse the replication source file".to_owned(),
                path: path.to_owned(),
                // The position only: serde's message may quote part of the file.
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("line {}, column {}", error.line(), error.column()),
                ),
            })
    }

    /// Writes the file (mode 0600, replaced atomically).
    pub fn store(&self, path: &Utf8Path) -> Result<(), ReplicationError> {
        let file_error = |what: &str, at: &Utf8Path| {
            let what = what.to_owned();
            let at = at.to_owned();
            move |source| ReplicationError::File {
                what,
                path: at,
                source,
            }
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(file_error("cannot create the directory", parent))?;
        }
        let text = serde_json::to_vec(self).map_err(|error| ReplicationError::File {
            what: "cannot encode the replication source file".to_owned(),
            path: path.to_owned(),
            source: std::io::Error::other(error.to_string()),
        })?;
        ferry_base::fs::write_private_file(path, &text).map_err(file_error("cannot store", path))
    }

    /// Removes the file; `true` if it was there.
    pub fn remove(path: &Utf8Path) -> Result<bool, ReplicationError> {
        match std::fs::remove_file(path) {
            Ok(()) => Ok(true),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(ReplicationError::File {
                what: "cannot remove the replication source file".to_owned(),
                path: path.to_owned(),
                source,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn stored_privately_and_read_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path =
            camino::Utf8PathBuf::from_path_buf(dir.path().join("sub/source.json")).expect("utf8");
        assert_eq!(SourceSecret::load(&path).expect("missing is fine"), None);
        let secret = SourceSecret {
            host: "db1".into(),
            port: 3306,
            user: "repl".into(),
            password: "s3cr3t".into(),
            ssl: true,
            gtid: false,
        };
        assert!(!format!("{secret:?}").contains("s3cr3t"));
        secret.store(&path).expect("store");
        secret.store(&path).expect("replace");
        let mode = std::fs::metadata(&path).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(SourceSecret::load(&path).expect("load"), Some(secret));
        assert!(SourceSecret::remove(&path).expect("remove"));
        assert!(!SourceSecret::remove(&path).expect("remove again"));
        std::fs::write(&path, "{\"host\": \"s3cr3t").expect("write junk");
        let err = SourceSecret::load(&path).expect_err("junk");
        assert!(!format!("{err:?}").contains("s3cr3t"), "{err:?}");
    }
}
