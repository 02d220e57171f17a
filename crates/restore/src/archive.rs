//! The backup sets an unpacked archive holds.
//!
//! An archive (a stream set: tar, tar.gz, xbstream, ...) may hold one backup set at its root,
//! one under a directory prefix (`tar -czf full.tar.gz 2026-12-01_10-00-00`), or a whole
//! backup tree: a full and its incrementals at any depth, in any entry order. Each set is a
//! directory holding a checkpoints file, named by its path in the archive
//! ([`archive_set_name`]: `all-backups.tar.gz:incr/2026-12-01_12-00-00`). A set that sits
//! inside another one (incrementals inside the base's directory are common) is moved apart,
//! into the archive's `.nested` staging directory, so that preparing the outer set never
//! sees it and the restored datadir does not carry it.
//!
//! [`staged_sets`] is idempotent: run right after unpacking it moves nested sets apart; run
//! again on a staged archive (a resumed restore) it finds the same sets where it left them.

use std::path::{Path, PathBuf};

use ferry_backup::discover::archive_set_name;
use ferry_backup::meta::CHECKPOINTS_FILES;

use crate::error::RestoreError;

/// One backup set in staging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedSet {
    /// The name the user sees: the set's own for a directory set, `archive[:prefix]` for a set
    /// inside an archive.
    pub name: String,
    /// The directory `--prepare` works on.
    pub dir: PathBuf,
}

/// The sets an archive named `archive`, unpacked into `dir`, holds, sorted by name. Sets
/// nested inside another are moved under `nested` first. An archive without any checkpoints
/// file is returned as one set at `dir` named `archive` (its metadata check then says what is
/// missing).
pub fn staged_sets(
    archive: &str,
    dir: &Path,
    nested: &Path,
) -> Result<Vec<StagedSet>, RestoreError> {
    let prefixes = set_prefixes(dir)?;
    let is_nested = |p: &str| prefixes.iter().any(|q| q != p && p.starts_with(q.as_str()));
    let mut to_move: Vec<&String> = prefixes.iter().filter(|p| is_nested(p)).collect();
    to_move.sort_by_key(|p| std::cmp::Reverse(p.len()));
    if !to_move.is_empty() {
        std::fs::create_dir_all(nested).map_err(|e| RestoreError::staging(nested, e))?;
    }
    for p in to_move {
        let from = dir.join(p.trim_end_matches('/'));
        let to = nested.join(escape(p.trim_end_matches('/')));
        std::fs::rename(&from, &to).map_err(|e| RestoreError::staging(&from, e))?;
    }

    let mut sets: Vec<StagedSet> = prefixes
        .iter()
        .filter(|p| !is_nested(p))
        .map(|p| StagedSet {
            name: archive_set_name(archive, p),
            dir: if p.is_empty() {
                dir.to_path_buf()
            } else {
                dir.join(p.trim_end_matches('/'))
            },
        })
        .collect();
    if nested.is_dir() {
        for entry in std::fs::read_dir(nested).map_err(|e| RestoreError::staging(nested, e))? {
            let entry = entry.map_err(|e| RestoreError::staging(nested, e))?;
            let file_name = entry.file_name();
            let Some(prefix) = file_name.to_str().and_then(unescape) else {
                continue;
            };
            sets.push(StagedSet {
                name: archive_set_name(archive, &prefix),
                dir: entry.path(),
            });
        }
    }
    if sets.is_empty() {
        sets.push(StagedSet {
            name: archive.to_string(),
            dir: dir.to_path_buf(),
        });
    }
    sets.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(sets)
}

/// The directories under `dir` holding a checkpoints file: `""` for `dir` itself, else the
/// relative path with a trailing `/`.
fn set_prefixes(dir: &Path) -> Result<Vec<String>, RestoreError> {
    let mut found = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((d, prefix)) = stack.pop() {
        let mut is_set = false;
        for entry in std::fs::read_dir(&d).map_err(|e| RestoreError::staging(&d, e))? {
            let entry = entry.map_err(|e| RestoreError::staging(&d, e))?;
            let ft = entry
                .file_type()
                .map_err(|e| RestoreError::staging(entry.path(), e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                continue;
            };
            if ft.is_dir() {
                stack.push((entry.path(), format!("{prefix}{name}/")));
            } else if ft.is_file() && CHECKPOINTS_FILES.contains(&name) {
                is_set = true;
            }
        }
        if is_set {
            found.push(prefix);
        }
    }
    found.sort();
    Ok(found)
}

/// A relative path as one directory name: `%` -> `%25`, `/` -> `%2F`.
fn escape(path: &str) -> String {
    path.replace('%', "%25").replace('/', "%2F")
}

/// The prefix (with its trailing `/`) an [`escape`]d name stands for.
fn unescape(name: &str) -> Option<String> {
    let mut out = String::with_capacity(name.len() + 1);
    let mut rest = name;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        match rest.get(i..i + 3)? {
            "%25" => out.push('%'),
            "%2F" => out.push('/'),
            _ => return None,
        }
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    (!out.is_empty()).then(|| format!("{out}/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(root: &Path, path: &str) {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"x").unwrap();
    }

    #[test]
    fn escaping_round_trips() {
        for p in ["a", "a/b", "100%/x", "%2F/y%"] {
            assert_eq!(unescape(&escape(p)), Some(format!("{p}/")), "{p}");
        }
        assert_eq!(unescape("bad%zz"), None);
    }

    #[test]
    fn a_set_at_the_root_keeps_the_archive_name() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("00-full.tar.gz");
        touch(&dir, "xtrabackup_checkpoints");
        touch(&dir, "db/t.ibd");
        let sets = staged_sets("full.tar.gz", &dir, &t.path().join("n")).unwrap();
        assert_eq!(
            sets,
            [StagedSet {
                name: "full.tar.gz".into(),
                dir: dir.clone()
            }]
        );
        assert!(!t.path().join("n").exists());
    }

    #[test]
    fn a_tree_is_split_into_its_sets_once() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("00-all.tar");
        let nested = t.path().join("00-all.tar.nested");
        touch(&dir, "README");
        touch(&dir, "base/full/xtrabackup_checkpoints");
        touch(&dir, "base/full/db/t.ibd");
        touch(&dir, "base/full/inc1/xtrabackup_checkpoints");
        touch(&dir, "base/full/inc1/inc2/mariadb_backup_checkpoints");
        touch(&dir, "incr/inc3/xtrabackup_checkpoints");
        let want = |sets: &[StagedSet]| {
            let names: Vec<&str> = sets.iter().map(|s| s.name.as_str()).collect();
            assert_eq!(
                names,
                [
                    "all.tar:base/full",
                    "all.tar:base/full/inc1",
                    "all.tar:base/full/inc1/inc2",
                    "all.tar:incr/inc3"
                ]
            );
            assert_eq!(sets[0].dir, dir.join("base/full"));
            assert_eq!(sets[1].dir, nested.join("base%2Ffull%2Finc1"));
            assert_eq!(sets[2].dir, nested.join("base%2Ffull%2Finc1%2Finc2"));
            assert_eq!(sets[3].dir, dir.join("incr/inc3"));
        };
        let first = staged_sets("all.tar", &dir, &nested).unwrap();
        want(&first);
        assert!(!dir.join("base/full/inc1").exists());
        assert!(!nested.join("base%2Ffull%2Finc1/inc2").exists());
        // A resumed restore finds the same sets where the first run left them.
        want(&staged_sets("all.tar", &dir, &nested).unwrap());
    }

    #[test]
    fn no_checkpoints_anywhere_is_one_set_named_by_the_archive() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("d");
        touch(&dir, "full/ibdata1");
        let sets = staged_sets("full.tar.gz", &dir, &t.path().join("n")).unwrap();
        assert_eq!(sets.len(), 1);
        assert_eq!(sets[0].name, "full.tar.gz");
    }
}
