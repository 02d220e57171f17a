//! The staging area of one restore: where sets are unpacked and prepared before the result
//! is moved to the target directory. One type draws the tree:
//!
//! ```text
//! <staging>/                     default: <target parent>/.<target name>.ferry-staging
//!   ferry-staging.json           which source this staging belongs to (refuse to mix)
//!   sets/<set>/                  one unpacked backup set; <set> is `d-` (directory set) or
//!                                `s-` (stream) and the set's name escaped (see [`SetId`])
//!   sets/<set>.complete          JSON list of the objects the set was made from; present
//!                                only while the set is complete, verified and unmodified
//!   sets/<set>.files             journal of the files of a directory set already downloaded
//!   sets/<set>.nested/<escaped path>/  a backup set an archive held inside another
//!                                of its sets, moved apart before any prepare (`crate::archive`)
//!   logs/prepare-<NN>.log        the backup tool's output of each prepare step
//!   ferry-<tool>-<hex>.lease     while a prepare runs: held by the tool, so a later ferry
//!                                finds one left running (`ferry_engine::process::stop_left_behind`)
//! ```
//!
//! Staging sits beside the target so the final move is a `rename` on one filesystem. A set's
//! entries are named from the set alone (not from its place in the listing), so the fetch
//! that starts while the source is still being listed (`crate::pipeline`) writes where the
//! fetch after the listing looks.

use std::path::{Path, PathBuf};

use ferry_backup::discover::{SetLayout, SetSource};

use crate::error::RestoreError;
use crate::fetch::RemoteObject;

/// Names one listed set in staging. A directory set's name is a key prefix and a stream
/// set's an object key: the two may be spelled alike, so the kind is part of the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetId<'a> {
    pub name: &'a str,
    pub directory: bool,
}

impl<'a> SetId<'a> {
    pub fn of(set: &'a SetSource) -> Self {
        SetId {
            name: &set.name,
            directory: matches!(set.layout, SetLayout::Directory { .. }),
        }
    }

    /// The directory set named `name` (its root without the trailing `/`, `.` for the prefix).
    pub fn directory(name: &'a str) -> Self {
        SetId {
            name,
            directory: true,
        }
    }

    /// `d-` or `s-` and the name with every byte outside `[A-Za-z0-9._-]` written `%XX`:
    /// distinct sets never share a stem. A name too long for one file name keeps its start
    /// and ends in a digest of the whole.
    fn stem(self) -> String {
        use sha2::Digest;
        use std::fmt::Write;
        let mut out = String::from(if self.directory { "d-" } else { "s-" });
        for b in self.name.bytes() {
            if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_' {
                out.push(b as char);
            } else {
                let _ = write!(out, "%{b:02X}");
            }
        }
        // Room for the longest suffix (`.complete.tmp`, `.nested`) under NAME_MAX (255).
        const MAX: usize = 200;
        if out.len() > MAX {
            let digest = sha2::Sha256::digest(self.name.as_bytes());
            let mut short = out[..MAX - 33].to_string();
            short.push('~');
            for b in &digest[..16] {
                let _ = write!(short, "{b:02x}");
            }
            out = short;
        }
        out
    }
}

#[derive(Debug, Clone)]
pub struct Staging {
    root: PathBuf,
}

/// The staging tree's version: 2 names sets by [`SetId`] (1 named them by listing index).
const FORMAT: u32 = 2;

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
            format: FORMAT,
            source: source.to_string(),
        };
        if manifest_path.exists() {
            let text = std::fs::read_to_string(&manifest_path)
                .map_err(|e| RestoreError::staging(&manifest_path, e))?;
            let have: Manifest = serde_json::from_str(&text).map_err(|e| {
                RestoreError::staging(&manifest_path, format!("unreadable manifest: {e}"))
            })?;
            if have.format != FORMAT {
                return Err(RestoreError::staging(
                    root,
                    format!(
                        "holds an interrupted restore made by another ferry version (staging \
                         format {}, this one writes {FORMAT}); remove it to start over",
                        have.format
                    ),
                ));
            }
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

    pub fn set_dir(&self, set: SetId<'_>) -> PathBuf {
        self.root.join("sets").join(set.stem())
    }

    /// Where the sets an archive held nested inside its other sets are moved apart.
    pub fn nested_dir(&self, set: SetId<'_>) -> PathBuf {
        self.root
            .join("sets")
            .join(format!("{}.nested", set.stem()))
    }

    fn marker(&self, set: SetId<'_>) -> PathBuf {
        self.root
            .join("sets")
            .join(format!("{}.complete", set.stem()))
    }

    pub fn journal(&self, set: SetId<'_>) -> PathBuf {
        self.root.join("sets").join(format!("{}.files", set.stem()))
    }

    pub fn prepare_log(&self, step: usize) -> PathBuf {
        self.root
            .join("logs")
            .join(format!("prepare-{step:02}.log"))
    }

    /// Whether a completion marker exists for set `index` (whatever objects it names).
    pub fn has_marker(&self, set: SetId<'_>) -> bool {
        self.marker(set).exists()
    }

    /// Whether set `index` is complete and was made from exactly `objects`.
    pub fn set_is_complete(&self, set: SetId<'_>, objects: &[RemoteObject]) -> bool {
        let Ok(text) = std::fs::read_to_string(self.marker(set)) else {
            return false;
        };
        let Ok(have) = serde_json::from_str::<Vec<RemoteObject>>(&text) else {
            return false;
        };
        have == objects && self.set_dir(set).is_dir()
    }

    pub fn mark_complete(
        &self,
        set: SetId<'_>,
        objects: &[RemoteObject],
    ) -> Result<(), RestoreError> {
        let path = self.marker(set);
        let tmp = path.with_extension("complete.tmp");
        let json = serde_json::to_string(objects).expect("objects serialize");
        std::fs::write(&tmp, json).map_err(|e| RestoreError::staging(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| RestoreError::staging(&path, e))
    }

    /// Forgets that a set is complete: done before a step (prepare) changes its files.
    pub fn mark_consumed(&self, set: SetId<'_>) -> Result<(), RestoreError> {
        let path = self.marker(set);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(RestoreError::staging(&path, e)),
        }
    }

    /// Empties a set's directory for a fresh download.
    pub fn reset_set(&self, set: SetId<'_>) -> Result<PathBuf, RestoreError> {
        self.mark_consumed(set)?;
        let nested = self.nested_dir(set);
        if nested.exists() {
            std::fs::remove_dir_all(&nested).map_err(|e| RestoreError::staging(&nested, e))?;
        }
        let dir = self.set_dir(set);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| RestoreError::staging(&dir, e))?;
        }
        std::fs::create_dir_all(&dir).map_err(|e| RestoreError::staging(&dir, e))?;
        Ok(dir)
    }

    /// Forgets everything staging holds of a set (files, journal, marker): it is fetched
    /// again from nothing.
    pub fn forget_set(&self, set: SetId<'_>) -> Result<(), RestoreError> {
        for file in [self.marker(set), self.journal(set)] {
            match std::fs::remove_file(&file) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(RestoreError::staging(&file, e)),
            }
        }
        for dir in [self.nested_dir(set), self.set_dir(set)] {
            if dir.exists() {
                std::fs::remove_dir_all(&dir).map_err(|e| RestoreError::staging(&dir, e))?;
            }
        }
        Ok(())
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
        let full = SetId {
            name: "full.xbstream",
            directory: false,
        };
        st.reset_set(full).unwrap();
        assert!(!st.set_is_complete(full, &objs));
        st.mark_complete(full, &objs).unwrap();
        assert!(st.set_is_complete(full, &objs));
        // A directory set spelled like the stream is another set.
        assert!(!st.set_is_complete(SetId::directory("full.xbstream"), &objs));
        let mut changed = objs.clone();
        changed[0].size = 11;
        assert!(!st.set_is_complete(full, &changed));
        st.mark_consumed(full).unwrap();
        assert!(!st.set_is_complete(full, &objs));
    }

    #[test]
    fn set_stems_are_distinct_and_fit_a_file_name() {
        let stems: Vec<String> = ["a/b", "a_b", "a%2Fb", ".", "inc 1"]
            .iter()
            .map(|n| SetId::directory(n).stem())
            .collect();
        assert_eq!(stems, ["d-a%2Fb", "d-a_b", "d-a%252Fb", "d-.", "d-inc%201"]);
        let long_a = "x/".repeat(300);
        let long_b = format!("{long_a}y");
        let (a, b) = (
            SetId::directory(&long_a).stem(),
            SetId::directory(&long_b).stem(),
        );
        assert!(a.len() <= 200 && b.len() <= 200, "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn staging_of_another_version_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("s");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(
            root.join("ferry-staging.json"),
            r#"{"format":1,"source":"s3://a"}"#,
        )
        .unwrap();
        let err = Staging::open(&root, "s3://a").unwrap_err().to_string();
        assert!(err.contains("another ferry version"), "{err}");
    }

    #[test]
    fn default_staging_is_a_hidden_sibling() {
        assert_eq!(
            Staging::default_for(Path::new("/data/restored")),
            PathBuf::from("/data/.restored.ferry-staging")
        );
    }
}
