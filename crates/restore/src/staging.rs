//! The staging area of one restore: where sets are unpacked and prepared before the result
//! is moved to the target directory. One type draws the tree:
//!
//! ```text
//! <staging>/                     default: <target parent>/.<target name>.ferry-staging
//!   ferry-staging.json           which source this staging belongs to (refuse to mix)
//!   sets/<NN>-<set name>/        one unpacked backup set
//!   sets/<NN>-<set name>.complete  JSON list of the objects the set was made from; present
//!                                only while the set is complete, verified and unmodified
//!   sets/<NN>-<set name>.files   journal of the files of a directory set already downloaded
//!   sets/<NN>-<set name>.nested/<escaped path>/  a backup set an archive held inside another
//!                                of its sets, moved apart before any prepare (`crate::archive`)
//!   logs/prepare-<NN>.log        the backup tool's output of each prepare step
//!   ferry-<tool>-<hex>.lease     while a prepare runs: held by the tool, so a later ferry
//!                                finds one left running (`ferry_engine::process::stop_left_behind`)
//! ```
//!
//! Staging sits beside the target so the final move is a `rename` on one filesystem.

use std::path::{Path, PathBuf};

use crate::error::RestoreError;
use crate::fetch::RemoteObject;

#[derive(Debug, Clone)]
pub struct Staging {
    root: PathBuf,
}

#[derive(Debug, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
struct Manifest {
    format: u32,
    source: String,
}

impl Staging {
    /// The default staging directory for a target directory.
    pub fn default_for(target: &Path) -> PathBuf {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "target".into());
        let parent = target.parent().unwrap_or(Path::new("."));
        parent.join(format!(".{name}.ferry-staging"))
    }

    /// Opens (or creates) the staging area for `source`. An area left by a restore of another
    /// source is refused rather than mixed in.
    pub fn open(root: &Path, source: &str) -> Result<Staging, RestoreError> {
        let manifest_path = root.join("ferry-staging.json");
        let want = Manifest {
            format: 1,
            source: source.to_string(),
        };
        if manifest_path.exists() {
            let text = std::fs::read_to_string(&manifest_path)
                .map_err(|e| RestoreError::staging(&manifest_path, e))?;
            let have: Manifest = serde_json::from_str(&text).map_err(|e| {
                RestoreError::staging(&manifest_path, format!("unreadable manifest: {e}"))
            })?;
            if have != want {
                return Err(RestoreError::staging(
                    root,
                    format!(
                        "holds an interrupted restore of {}, not {source}; remove it to start over",
                        have.source
                    ),
                ));
            }
        } else if root.exists()
            && std::fs::read_dir(root)
                .map_err(|e| RestoreError::staging(root, e))?
                .next()
                .is_some()
        {
            return Err(RestoreError::staging(
                root,
                "exists, is not empty and was not made by ferry",
            ));
        }
        for dir in [root.to_path_buf(), root.join("sets"), root.join("logs")] {
            std::fs::create_dir_all(&dir).map_err(|e| RestoreError::staging(&dir, e))?;
        }
        let json = serde_json::to_string_pretty(&want).expect("manifest serializes");
        std::fs::write(&manifest_path, json)
            .map_err(|e| RestoreError::staging(&manifest_path, e))?;
        Ok(Staging {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn set_stem(index: usize, name: &str) -> String {
        let clean: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("{index:02}-{clean}")
    }

    pub fn set_dir(&self, index: usize, name: &str) -> PathBuf {
        self.root.join("sets").join(Self::set_stem(index, name))
    }

    /// Where the sets an archive held nested inside its other sets are moved apart.
    pub fn nested_dir(&self, index: usize, name: &str) -> PathBuf {
        self.root
            .join("sets")
            .join(format!("{}.nested", Self::set_stem(index, name)))
    }

    fn marker(&self, index: usize, name: &str) -> PathBuf {
        self.root
            .join("sets")
            .join(format!("{}.complete", Self::set_stem(index, name)))
    }

    pub fn journal(&self, index: usize, name: &str) -> PathBuf {
        self.root
            .join("sets")
            .join(format!("{}.files", Self::set_stem(index, name)))
    }

    pub fn prepare_log(&self, step: usize) -> PathBuf {
        self.root
            .join("logs")
            .join(format!("prepare-{step:02}.log"))
    }

    /// Whether a completion marker exists for set `index` (whatever objects it names).
    pub fn has_marker(&self, index: usize, name: &str) -> bool {
        self.marker(index, name).exists()
    }

    /// Whether set `index` is complete and was made from exactly `objects`.
    pub fn set_is_complete(&self, index: usize, name: &str, objects: &[RemoteObject]) -> bool {
        let Ok(text) = std::fs::read_to_string(self.marker(index, name)) else {
            return false;
        };
        let Ok(have) = serde_json::from_str::<Vec<RemoteObject>>(&text) else {
            return false;
        };
        have == objects && self.set_dir(index, name).is_dir()
    }

    pub fn mark_complete(
        &self,
        index: usize,
        name: &str,
        objects: &[RemoteObject],
    ) -> Result<(), RestoreError> {
        let path = self.marker(index, name);
        let tmp = path.with_extension("complete.tmp");
        let json = serde_json::to_string(objects).expect("objects serialize");
        std::fs::write(&tmp, json).map_err(|e| RestoreError::staging(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| RestoreError::staging(&path, e))
    }

    /// Forgets that a set is complete: done before a step (prepare) changes its files.
    pub fn mark_consumed(&self, index: usize, name: &str) -> Result<(), RestoreError> {
        let path = self.marker(index, name);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(RestoreError::staging(&path, e)),
        }
    }

    /// Empties a set's directory for a fresh download.
    pub fn reset_set(&self, index: usize, name: &str) -> Result<PathBuf, RestoreError> {
        self.mark_consumed(index, name)?;
        let nested = self.nested_dir(index, name);
        if nested.exists() {
            std::fs::remove_dir_all(&nested).map_err(|e| RestoreError::staging(&nested, e))?;
        }
        let dir = self.set_dir(index, name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| RestoreError::staging(&dir, e))?;
        }
        std::fs::create_dir_all(&dir).map_err(|e| RestoreError::staging(&dir, e))?;
        Ok(dir)
    }

    /// Removes the whole staging area.
    pub fn remove(self) -> Result<(), RestoreError> {
        match std::fs::remove_dir_all(&self.root) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(RestoreError::staging(&self.root, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_foreign_staging() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("s");
        Staging::open(&root, "s3://a").unwrap();
        Staging::open(&root, "s3://a").unwrap();
        let err = Staging::open(&root, "s3://b").unwrap_err().to_string();
        assert!(err.contains("interrupted restore of s3://a"), "{err}");
    }

    #[test]
    fn completion_markers_compare_objects() {
        let dir = tempfile::tempdir().unwrap();
        let st = Staging::open(&dir.path().join("s"), "x").unwrap();
        let objs = vec![RemoteObject {
            key: "full.xbstream00".into(),
            location: "p/full.xbstream00".into(),
            size: 10,
            etag: Some("e".into()),
        }];
        st.reset_set(0, "full").unwrap();
        assert!(!st.set_is_complete(0, "full", &objs));
        st.mark_complete(0, "full", &objs).unwrap();
        assert!(st.set_is_complete(0, "full", &objs));
        let mut changed = objs.clone();
        changed[0].size = 11;
        assert!(!st.set_is_complete(0, "full", &changed));
        st.mark_consumed(0, "full").unwrap();
        assert!(!st.set_is_complete(0, "full", &objs));
    }

    #[test]
    fn default_staging_is_a_hidden_sibling() {
        assert_eq!(
            Staging::default_for(Path::new("/data/restored")),
            PathBuf::from("/data/.restored.ferry-staging")
        );
    }
}
