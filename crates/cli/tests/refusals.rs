//! Every refusal a user can run into, checked by its message: bad chains, partial backups,
//! corrupt or incomplete streams, unsafe member paths, and unusable targets. None of them may
//! leave a target directory or staging behind.

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// A scratch source made from parts of fixture chains.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Self {
        Scratch {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn source(&self) -> PathBuf {
        self.dir.path().join("src")
    }
    /// Adds `chain/name` (a directory set or a stream's parts) to the source.
    fn add(&self, chain_name: &str, name: &str) -> &Self {
        let from = chain(chain_name);
        std::fs::create_dir_all(self.source()).unwrap();
        for entry in std::fs::read_dir(&from).unwrap() {
            let entry = entry.unwrap();
            let fname = entry.file_name().to_string_lossy().into_owned();
            if fname == name || (fname.starts_with(name) && !entry.path().is_dir()) {
                let to = self.source().join(&fname);
                if entry.path().is_dir() {
                    link_copy(&entry.path(), &to);
                } else {
                    std::fs::hard_link(entry.path(), &to).unwrap();
                }
            }
        }
        self
    }
    fn add_as(&self, chain_name: &str, name: &str, as_name: &str) -> &Self {
        link_copy(&chain(chain_name).join(name), &self.source().join(as_name));
        self
    }
    fn path(&self, rel: &str) -> PathBuf {
        self.source().join(rel)
    }
    fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    /// Runs inspect and restore; both must refuse with a message containing every `needle`.
    fn assert_refused(&self, needles: &[&str]) {
        let inspect = run(ferry().args(["backup", "inspect"]).arg(self.source()));
        assert_eq!(
            inspect.status, 2,
            "inspect should say not restorable\nstdout:\n{}\nstderr:\n{}",
            inspect.stdout, inspect.stderr
        );
        assert!(
            inspect.stdout.contains("Result: NOT restorable"),
            "{}",
            inspect.stdout
        );
        for n in needles {
            assert!(
                inspect.stdout.contains(n),
                "inspect output lacks {n:?}:\n{}",
                inspect.stdout
            );
        }
        self.assert_restore_fails(needles);
    }

    fn assert_restore_fails(&self, needles: &[&str]) -> Run {
        std::fs::create_dir_all(self.out()).unwrap();
        let restore = run(ferry()
            .args(["backup", "restore"])
            .arg(self.source())
            .arg("--target-dir")
            .arg(self.out().join("datadir")));
        assert_eq!(
            restore.status, 1,
            "restore should fail:\n{}",
            restore.stdout
        );
        for n in needles {
            assert!(
                restore.stderr.contains(n),
                "restore error lacks {n:?}:\n{}",
                restore.stderr
            );
        }
        assert_no_leftovers(&self.out());
        restore
    }
}

fn replace_in(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has no {from:?}", path.display());
    rewrite(path, text.replace(from, to).as_bytes());
}

#[test]
fn refuses_partial_backup() {
    let s = Scratch::new();
    link_copy(&chain("partial"), &s.source());
    s.assert_refused(&["backup set full is a partial backup", "partial = Y"]);
}

#[test]
fn refuses_partial_incremental_in_a_chain() {
    let s = Scratch::new();
    link_copy(&chain("partialinc"), &s.source());
    s.assert_refused(&["backup set inc3 is a partial backup"]);
}

#[test]
fn refuses_a_gap_in_the_lsn_chain_naming_the_range() {
    let s = Scratch::new();
    s.add("dir", "full").add("dir", "inc2");
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("expected/meta.json")).unwrap(),
    )
    .unwrap();
    let from = meta["sets"]["full"]["to_lsn"].as_u64().unwrap();
    let to = meta["sets"]["inc2"]["from_lsn"].as_u64().unwrap();
    s.assert_refused(&[&format!("no backup covers LSN {from}..{to}")]);
}

#[test]
fn refuses_incrementals_without_a_base() {
    let s = Scratch::new();
    s.add("dir", "inc1").add("dir", "inc2");
    s.assert_refused(&["has no base: no full backup was found"]);
}

#[test]
fn refuses_two_candidate_bases() {
    let s = Scratch::new();
    s.add("dir", "full").add_as("dir", "full", "full-copy");
    s.assert_refused(&["two candidate bases", "full", "full-copy"]);
}

#[test]
fn refuses_sets_from_different_server_versions() {
    let s = Scratch::new();
    s.add("dir", "full").add("dir", "inc1").add("dir", "inc2");
    replace_in(
        &s.path("inc2/xtrabackup_info"),
        "server_version = 10.11.",
        "server_version = 10.6.",
    );
    s.assert_refused(&["different server versions"]);
}

#[test]
fn refuses_prepared_base_mixed_with_unprepared_incrementals() {
    let s = Scratch::new();
    s.add("dir", "full").add("dir", "inc1");
    replace_in(
        &s.path("full/xtrabackup_checkpoints"),
        "backup_type = full-backuped",
        "backup_type = log-applied",
    );
    s.assert_refused(&["base full is already prepared", "inc1"]);
}

#[test]
fn refuses_a_missing_part_naming_it() {
    let s = Scratch::new();
    s.add("xbstream", "full.xbstream");
    std::fs::remove_file(s.path("full.xbstream03")).unwrap();
    s.assert_refused(&["missing part full.xbstream03 between full.xbstream02 and full.xbstream04"]);
}

#[test]
fn split_d_jump_from_89_to_9000_is_not_a_hole() {
    let s = Scratch::new();
    s.add("xbstream", "full.xbstream");
    assert!(s.path("full.xbstream89").exists() && s.path("full.xbstream9000").exists());
    let r = run(ferry().args(["backup", "inspect"]).arg(s.source()));
    r.assert_ok();
}

#[test]
fn refuses_a_corrupt_chunk_naming_the_object() {
    let s = Scratch::new();
    s.add("xbstream", "full.xbstream");
    let victim = s.path("full.xbstream05");
    let mut bytes = std::fs::read(&victim).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    rewrite(&victim, &bytes);
    let r = s.assert_restore_fails(&["checksum mismatch", "backup set full.xbstream"]);
    assert!(r.stderr.contains("object full.xbstream"), "{}", r.stderr);
}

#[test]
fn refuses_a_truncated_stream() {
    let s = Scratch::new();
    s.add("single", "full.xbstream");
    let victim = s.path("full.xbstream");
    let bytes = std::fs::read(&victim).unwrap();
    rewrite(&victim, &bytes[..bytes.len() - 1000]);
    s.assert_restore_fails(&["truncated stream", "full.xbstream"]);
}

/// One xbstream chunk, written by hand.
fn chunk(kind: u8, path: &str, offset: u64, payload: &[u8]) -> Vec<u8> {
    let mut c = b"XBSTCK01".to_vec();
    c.push(0);
    c.push(kind);
    c.extend_from_slice(&(path.len() as u32).to_le_bytes());
    c.extend_from_slice(path.as_bytes());
    if kind == b'E' {
        return c;
    }
    c.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    c.extend_from_slice(&offset.to_le_bytes());
    let mut h = crc32fast::Hasher::new();
    h.update(payload);
    c.extend_from_slice(&h.finalize().to_le_bytes());
    c.extend_from_slice(payload);
    c
}

#[test]
fn refuses_member_paths_outside_the_set() {
    let s = Scratch::new();
    std::fs::create_dir_all(s.source()).unwrap();
    let mut stream = chunk(
        b'P',
        "xtrabackup_checkpoints",
        0,
        b"backup_type = full-backuped\nfrom_lsn = 0\nto_lsn = 10\nlast_lsn = 10\n",
    );
    stream.extend(chunk(b'E', "xtrabackup_checkpoints", 0, b""));
    stream.extend(chunk(b'P', "../escaped-by-ferry-test", 0, b"owned"));
    stream.extend(chunk(b'E', "../escaped-by-ferry-test", 0, b""));
    std::fs::write(s.path("evil.xbstream"), &stream).unwrap();
    s.assert_restore_fails(&["unsafe member path refused", "../escaped-by-ferry-test"]);
    assert!(!s.dir.path().join("escaped-by-ferry-test").exists());
    assert!(!s.out().join("escaped-by-ferry-test").exists());
}

#[test]
fn says_when_no_sets_are_found() {
    let s = Scratch::new();
    std::fs::create_dir_all(s.path("notes")).unwrap();
    std::fs::write(s.path("notes/readme.txt"), "hello").unwrap();
    let r = run(ferry().args(["backup", "inspect"]).arg(s.source()));
    assert_eq!(r.status, 1);
    assert!(
        r.stderr.contains("no backup sets found under"),
        "{}",
        r.stderr
    );
    s.assert_restore_fails(&["no backup sets found under"]);
}

#[test]
fn refuses_a_non_empty_target() {
    let s = Scratch::new();
    s.add("dir", "full");
    let target = s.dir.path().join("busy");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("precious"), "data").unwrap();
    let r = run(ferry()
        .args(["backup", "restore"])
        .arg(s.source())
        .arg("--target-dir")
        .arg(&target));
    assert_eq!(r.status, 1);
    assert!(r.stderr.contains("exists and is not empty"), "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(target.join("precious")).unwrap(),
        "data"
    );
}

#[test]
fn a_misnamed_stream_is_read_by_its_content_and_reported() {
    let s = Scratch::new();
    std::fs::create_dir_all(s.source()).unwrap();
    // The gzip-compressed tar parts of the full backup, named as plain tar.
    for entry in std::fs::read_dir(chain("targz")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(suffix) = name.strip_prefix("full.tar.gz") {
            std::fs::hard_link(
                chain("targz").join(&name),
                s.path(&format!("full.tar{suffix}")),
            )
            .unwrap();
        }
    }
    let r = run(ferry().args(["backup", "inspect"]).arg(s.source()));
    r.assert_ok();
    assert!(
        r.stdout.contains("Warning:") && r.stdout.contains("gzip"),
        "{}",
        r.stdout
    );
}
