//! Grouping an object listing into backup sets.
//!
//! A bucket prefix holds whatever the user uploaded: backup directories copied file by file
//! (possibly with incremental directories nested inside the base's), streams as single objects
//! or split into parts, and unrelated files. This module decides which objects form which set,
//! from names alone (no object is read), so a listing can be planned before any download.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use crate::format::{format_from_name, StreamFormat};
use crate::meta::{BACKUP_MY_CNF, CHECKPOINTS_FILES};
use crate::parts::{order_indices, split_part, PartsError};

/// One object of the listing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ObjectEntry {
    /// The key relative to the source prefix, `/`-separated.
    pub key: String,
    pub size: u64,
}

/// How a backup set is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SetLayout {
    /// A directory tree of plain files. `root` is the key prefix of the directory (`""` or
    /// ending with `/`); `files` keep their full keys, sorted by key.
    Directory {
        root: String,
        files: Vec<ObjectEntry>,
    },
    /// One stream stored as one object or split into parts; `parts` in consumption order.
    Stream {
        format: StreamFormat,
        parts: Vec<ObjectEntry>,
    },
}

/// One backup set found in a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetSource {
    /// A directory set: its root without the trailing `/`, or `.` for the prefix itself.
    /// A stream set: the key of the stream without any part suffix (`inc1/backup.xbstream`).
    pub name: String,
    pub layout: SetLayout,
}

impl SetSource {
    fn entries(&self) -> &[ObjectEntry] {
        match &self.layout {
            SetLayout::Directory { files, .. } => files,
            SetLayout::Stream { parts, .. } => parts,
        }
    }

    /// Bytes stored (sum of object sizes).
    pub fn total_bytes(&self) -> u64 {
        self.entries().iter().map(|e| e.size).sum()
    }

    /// Number of objects: files of a directory, parts of a stream.
    pub fn part_count(&self) -> usize {
        self.entries().len()
    }

    /// `directory`, or the stream format label (`xbstream`, `tar`, `tar.gz`, `zst`, ...).
    pub fn kind_label(&self) -> &'static str {
        match &self.layout {
            SetLayout::Directory { .. } => "directory",
            SetLayout::Stream { format, .. } => format.label(),
        }
    }
}

/// Something wrong with the objects of a would-be set; the set is left out of
/// [`Discovery::sets`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum DiscoverProblem {
    /// The parts of a stream cannot be put together (a hole, mixed naming, ...).
    Parts {
        stream: String,
        #[serde(serialize_with = "as_display")]
        error: PartsError,
    },
}

fn as_display<S: serde::Serializer, T: fmt::Display>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

impl fmt::Display for DiscoverProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiscoverProblem::Parts { stream, error } => write!(f, "stream {stream}: {error}"),
        }
    }
}

/// The result of grouping a listing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Discovery {
    /// Sets sorted by name. Empty when nothing looks like a backup.
    pub sets: Vec<SetSource>,
    /// Keys that belong to no set, sorted.
    pub ignored: Vec<String>,
    /// Would-be sets that cannot be used, naming their objects.
    pub problems: Vec<DiscoverProblem>,
    /// Things the user may want to know that do not stop a restore.
    pub warnings: Vec<String>,
}

/// The name of a backup set found inside an archive (a stream set) under the directory
/// `prefix` (`""` or ending with `/`): the archive's own name for a set at its root, else
/// `archive:prefix` without the trailing `/` (`all-backups.tar.gz:incr/2026-12-01_12-00-00`).
pub fn archive_set_name(archive: &str, prefix: &str) -> String {
    match prefix.trim_end_matches('/') {
        "" => archive.to_string(),
        dir => format!("{archive}:{dir}"),
    }
}

fn parent_prefix(key: &str) -> &str {
    match key.rfind('/') {
        Some(i) => &key[..=i],
        None => "",
    }
}

fn file_name(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}

/// Groups `objects` into backup sets.
///
/// * A directory set is a directory holding `xtrabackup_checkpoints` (or MariaDB 11.1+
///   `mariadb_backup_checkpoints`). It owns every key under it except those of a deeper
///   nested directory set (incremental directories inside the base directory are common).
///   Exception: a directory whose checkpoints file sits next to stream objects and that has no
///   `backup-my.cnf` is an `--extra-lsndir` copy of a stream's metadata, not a backup: its
///   streams are stream sets and its metadata files are ignored.
/// * A stream set is a key outside directory sets whose name (without a split-part suffix)
///   has a stream extension ([`format_from_name`]); parts are ordered and checked for holes.
/// * Keys ending in `/` (folder markers some tools create) are skipped silently.
pub fn discover(objects: &[ObjectEntry]) -> Discovery {
    let mut discovery = Discovery::default();

    // Directory roots, deepest first so nested sets take their own keys.
    let mut roots: BTreeSet<&str> = objects
        .iter()
        .filter(|o| CHECKPOINTS_FILES.contains(&file_name(&o.key)))
        .map(|o| parent_prefix(&o.key))
        .collect();
    let is_direct_child = |root: &str, key: &str| {
        key.strip_prefix(root)
            .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
    };
    let lsndir_copies: Vec<&str> = roots
        .iter()
        .copied()
        .filter(|root| {
            let children = || objects.iter().filter(|o| is_direct_child(root, &o.key));
            let has_cnf = children().any(|o| file_name(&o.key) == BACKUP_MY_CNF);
            let has_stream = children()
                .any(|o| format_from_name(&o.key).is_some() || split_part(&o.key).is_some());
            !has_cnf && has_stream
        })
        .collect();
    for root in lsndir_copies {
        roots.remove(root);
        discovery.warnings.push(format!(
            "{} holds {} next to stream objects but no {BACKUP_MY_CNF}: treating it as \
             metadata copied beside the streams, not as a backup directory",
            if root.is_empty() {
                "the source prefix"
            } else {
                root
            },
            CHECKPOINTS_FILES[0]
        ));
    }
    let mut by_depth: Vec<&str> = roots.iter().copied().collect();
    by_depth.sort_by_key(|r| std::cmp::Reverse(r.len()));

    let mut dir_files: BTreeMap<&str, Vec<ObjectEntry>> = BTreeMap::new();
    // base key -> (object index, ...)
    let mut streams: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, obj) in objects.iter().enumerate() {
        if obj.key.ends_with('/') {
            continue;
        }
        if let Some(root) = by_depth.iter().find(|r| obj.key.starts_with(**r)) {
            dir_files.entry(root).or_default().push(obj.clone());
            continue;
        }
        let base = if format_from_name(&obj.key).is_some() {
            Some(obj.key.as_str())
        } else {
            split_part(&obj.key).map(|(base, _)| base)
        };
        match base {
            Some(base) => streams.entry(base.to_string()).or_default().push(i),
            None => discovery.ignored.push(obj.key.clone()),
        }
    }

    for (root, mut files) in dir_files {
        files.sort_by(|a, b| a.key.cmp(&b.key));
        let name = match root.strip_suffix('/') {
            Some(n) => n.to_string(),
            None => ".".to_string(),
        };
        discovery.sets.push(SetSource {
            name,
            layout: SetLayout::Directory {
                root: root.to_string(),
                files,
            },
        });
    }

    for (base, indices) in streams {
        let names: Vec<&str> = indices.iter().map(|&i| objects[i].key.as_str()).collect();
        let Some(format) = format_from_name(&base) else {
            continue;
        };
        match order_indices(&names) {
            Ok(order) => discovery.sets.push(SetSource {
                name: base,
                layout: SetLayout::Stream {
                    format,
                    parts: order
                        .into_iter()
                        .map(|j| objects[indices[j]].clone())
                        .collect(),
                },
            }),
            Err(error) => discovery.problems.push(DiscoverProblem::Parts {
                stream: base,
                error,
            }),
        }
    }

    discovery.sets.sort_by(|a, b| a.name.cmp(&b.name));
    discovery.ignored.sort();
    discovery
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objs(keys: &[&str]) -> Vec<ObjectEntry> {
        keys.iter()
            .enumerate()
            .map(|(i, k)| ObjectEntry {
                key: k.to_string(),
                size: 10 + i as u64,
            })
            .collect()
    }

    fn keys(entries: &[ObjectEntry]) -> Vec<&str> {
        entries.iter().map(|e| e.key.as_str()).collect()
    }

    #[test]
    fn nested_directory_sets_own_their_keys() {
        let d = discover(&objs(&[
            "full/xtrabackup_checkpoints",
            "full/backup-my.cnf",
            "full/ibdata1",
            "full/db/t.ibd",
            "full/inc1/xtrabackup_checkpoints",
            "full/inc1/db/t.ibd.delta",
            "notes.txt",
            "empty/",
        ]));
        assert_eq!(d.sets.len(), 2);
        assert_eq!(d.sets[0].name, "full");
        assert_eq!(d.sets[0].kind_label(), "directory");
        let SetLayout::Directory { root, files } = &d.sets[0].layout else {
            panic!()
        };
        assert_eq!(root, "full/");
        assert_eq!(
            keys(files),
            [
                "full/backup-my.cnf",
                "full/db/t.ibd",
                "full/ibdata1",
                "full/xtrabackup_checkpoints"
            ]
        );
        assert_eq!(d.sets[1].name, "full/inc1");
        assert_eq!(d.sets[1].part_count(), 2);
        assert_eq!(d.ignored, ["notes.txt"]);
        assert!(d.problems.is_empty());
    }

    #[test]
    fn a_backup_at_the_prefix_root_is_named_dot() {
        let d = discover(&objs(&[
            "mariadb_backup_checkpoints",
            "ibdata1",
            "db/t.frm",
        ]));
        assert_eq!(d.sets.len(), 1);
        assert_eq!(d.sets[0].name, ".");
        assert_eq!(d.sets[0].total_bytes(), 10 + 11 + 12);
    }

    #[test]
    fn streams_whole_and_split() {
        let d = discover(&objs(&[
            "inc1/backup.xbstream01",
            "inc1/backup.xbstream00",
            "full.tar.gz",
            "inc2.xbstream.zst.001",
            "inc2.xbstream.zst.002",
            "dump.sql.gz",
        ]));
        let names: Vec<&str> = d.sets.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["full.tar.gz", "inc1/backup.xbstream", "inc2.xbstream.zst"]
        );
        assert_eq!(d.sets[0].kind_label(), "tar.gz");
        let SetLayout::Stream { parts, format } = &d.sets[1].layout else {
            panic!()
        };
        assert_eq!(*format, StreamFormat::XBSTREAM);
        assert_eq!(
            keys(parts),
            ["inc1/backup.xbstream00", "inc1/backup.xbstream01"]
        );
        assert_eq!(d.sets[2].kind_label(), "xbstream.zst");
        assert_eq!(d.sets[2].part_count(), 2);
        assert_eq!(d.ignored, ["dump.sql.gz"]);
    }

    #[test]
    fn holes_are_problems_naming_the_part() {
        let d = discover(&objs(&["b.xbstream00", "b.xbstream02", "full.xbstream"]));
        assert_eq!(d.sets.len(), 1);
        assert_eq!(d.problems.len(), 1);
        assert_eq!(
            d.problems[0].to_string(),
            "stream b.xbstream: missing part b.xbstream01 between b.xbstream00 and b.xbstream02"
        );
    }

    #[test]
    fn streams_inside_a_directory_set_belong_to_it() {
        let d = discover(&objs(&[
            "full/xtrabackup_checkpoints",
            "full/backup-my.cnf",
            "full/x.tar",
        ]));
        assert_eq!(d.sets.len(), 1);
        assert_eq!(d.sets[0].part_count(), 3);
    }

    #[test]
    fn extra_lsndir_metadata_beside_a_stream_is_not_a_directory_set() {
        let d = discover(&objs(&[
            "full/xtrabackup_checkpoints",
            "full/xtrabackup_info",
            "full/full.xbstream",
        ]));
        assert_eq!(d.sets.len(), 1);
        assert_eq!(d.sets[0].name, "full/full.xbstream");
        assert_eq!(
            d.ignored,
            ["full/xtrabackup_checkpoints", "full/xtrabackup_info"]
        );
        assert_eq!(d.warnings.len(), 1);
        assert!(
            d.warnings[0].starts_with("full/ holds xtrabackup_checkpoints next to stream objects")
        );
    }

    #[test]
    fn sets_inside_archives_are_named_by_their_path() {
        assert_eq!(archive_set_name("full.tar.gz", ""), "full.tar.gz");
        assert_eq!(
            archive_set_name("b/all.tar.gz", "incr/2026-12-01_12-00-00/"),
            "b/all.tar.gz:incr/2026-12-01_12-00-00"
        );
    }

    #[test]
    fn nothing_found() {
        let d = discover(&objs(&["a.txt", "b/c.csv"]));
        assert!(d.sets.is_empty());
        assert_eq!(d.ignored.len(), 2);
    }
}
