//! [`MetaSink`]: keeps a set's metadata files in memory while passing everything on.

use std::collections::BTreeMap;

use super::{NullSink, Sink, SinkError, SinkStats};
use crate::meta::{CHECKPOINTS_FILES, METADATA_FILES};
use crate::path::SafePath;

/// Largest metadata file kept in memory; a bigger one is not metadata we understand.
const MAX_CAPTURE: u64 = 4 << 20;

/// A `Vec` writer that refuses to grow past `max`.
struct Limited<'a> {
    out: &'a mut Vec<u8>,
    max: usize,
}

impl std::io::Write for Limited<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.out.len() + buf.len() > self.max {
            return Err(std::io::Error::other("metadata file too large"));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[derive(Debug, Default)]
struct Capture {
    data: Vec<u8>,
    complete: bool,
    too_big: bool,
}

/// Wraps a sink (or nothing) and keeps copies of the metadata files of the set
/// ([`METADATA_FILES`]: checkpoints, info, binlog info, `backup-my.cnf`), so the caller can
/// plan without reading them back from disk. They are kept at any depth, by their member path:
/// an archive may hold several backup sets under directory prefixes ([`MetaSink::set_prefixes`]). In a `--compress` backup these files arrive as
/// `xtrabackup_info.qp` etc.; they are decompressed and kept under their plain names.
#[derive(Debug)]
pub struct MetaSink<S> {
    inner: Option<S>,
    captures: BTreeMap<String, Capture>,
    stats: SinkStats,
}

impl MetaSink<NullSink> {
    /// A sink that writes nothing and only keeps the metadata files.
    pub fn discard() -> MetaSink<NullSink> {
        MetaSink {
            inner: None,
            captures: BTreeMap::new(),
            stats: SinkStats::default(),
        }
    }
}

impl<S: Sink> MetaSink<S> {
    /// Passes everything on to `inner` and keeps the metadata files.
    pub fn new(inner: S) -> MetaSink<S> {
        MetaSink {
            inner: Some(inner),
            captures: BTreeMap::new(),
            stats: SinkStats::default(),
        }
    }

    /// The complete content of the metadata file at member path `name` (e.g.
    /// `xtrabackup_checkpoints` at the stream's root, `incr/2026-12-01/xtrabackup_checkpoints`).
    pub fn captured(&self, name: &str) -> Option<&[u8]> {
        self.captures
            .get(name)
            .filter(|c| c.complete && !c.too_big)
            .map(|c| c.data.as_slice())
    }

    /// The complete content of the metadata file `name` of the set under `prefix` (`""` for
    /// the stream's root, else a directory path ending with `/`).
    pub fn captured_in(&self, prefix: &str, name: &str) -> Option<&[u8]> {
        self.captured(&format!("{prefix}{name}"))
    }

    /// The directories of the stream that hold a checkpoints file, i.e. the backup sets it
    /// carries: `""` for its root, else the directory path with a trailing `/`; sorted.
    pub fn set_prefixes(&self) -> Vec<String> {
        let mut prefixes: Vec<String> = self
            .captured_files()
            .filter_map(|(path, _)| {
                let (dir, file) = match path.rfind('/') {
                    Some(i) => (&path[..=i], &path[i + 1..]),
                    None => ("", path),
                };
                CHECKPOINTS_FILES.contains(&file).then(|| dir.to_string())
            })
            .collect();
        prefixes.sort();
        prefixes.dedup();
        prefixes
    }

    /// Every complete metadata file, by member path.
    pub fn captured_files(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.captures
            .iter()
            .filter(|(_, c)| c.complete && !c.too_big)
            .map(|(n, c)| (n.as_str(), c.data.as_slice()))
    }

    /// Files and bytes seen so far.
    pub fn stats(&self) -> SinkStats {
        self.stats
    }

    /// The wrapped sink (`None` for [`MetaSink::discard`]).
    pub fn inner(&self) -> Option<&S> {
        self.inner.as_ref()
    }

    /// The wrapped sink, mutably.
    pub fn inner_mut(&mut self) -> Option<&mut S> {
        self.inner.as_mut()
    }

    /// The wrapped sink, giving up the captured files.
    pub fn into_inner(self) -> Option<S> {
        self.inner
    }

    fn capture_slot(&mut self, path: &SafePath) -> Option<&mut Capture> {
        let name = path.as_str();
        let plain = name.strip_suffix(".qp").unwrap_or(name);
        let file = plain.rsplit('/').next().unwrap_or(plain);
        if !METADATA_FILES.contains(&file) {
            return None;
        }
        Some(self.captures.entry(path.as_str().to_string()).or_default())
    }
}

impl<S> MetaSink<S> {
    /// Decodes a captured `.qp` metadata file into the slot of its plain name (unless the plain
    /// file was captured too). An undecodable one is simply not kept: the caller then reports
    /// the file as missing, and the restore's own decompression reports why.
    fn decompress_capture(&mut self, qp: &str, plain: &str) {
        if self.captures.get(plain).is_some_and(|c| c.complete) {
            return;
        }
        let Some(compressed) = self.captures.get(qp).filter(|c| c.complete && !c.too_big) else {
            return;
        };
        let mut data = Vec::new();
        let limited = Limited {
            out: &mut data,
            max: MAX_CAPTURE as usize,
        };
        if crate::qpress::decompress(compressed.data.as_slice(), limited).is_ok() {
            self.captures.insert(
                plain.to_string(),
                Capture {
                    data,
                    complete: true,
                    too_big: false,
                },
            );
        }
    }
}

impl<S: Sink> Sink for MetaSink<S> {
    fn write_at(&mut self, path: &SafePath, offset: u64, data: &[u8]) -> Result<(), SinkError> {
        if let Some(slot) = self.capture_slot(path) {
            let end = offset.saturating_add(data.len() as u64);
            if end > MAX_CAPTURE {
                slot.too_big = true;
            } else if !slot.too_big {
                // Bounded by MAX_CAPTURE, so these fit in usize.
                let (start, end) = (offset as usize, end as usize);
                if slot.data.len() < end {
                    slot.data.resize(end, 0);
                }
                slot.data[start..end].copy_from_slice(data);
            }
        }
        self.stats.bytes += data.len() as u64;
        match self.inner.as_mut() {
            Some(inner) => inner.write_at(path, offset, data),
            None => Ok(()),
        }
    }

    fn finish_file(&mut self, path: &SafePath, len: u64) -> Result<(), SinkError> {
        if let Some(slot) = self.capture_slot(path) {
            if len > MAX_CAPTURE {
                slot.too_big = true;
            } else if !slot.too_big {
                slot.data.resize(len as usize, 0);
                slot.complete = true;
            }
            if let Some(plain) = path.as_str().strip_suffix(".qp") {
                self.decompress_capture(path.as_str(), plain);
            }
        }
        self.stats.files += 1;
        match self.inner.as_mut() {
            Some(inner) => inner.finish_file(path, len),
            None => Ok(()),
        }
    }

    fn create_dir(&mut self, path: &SafePath) -> Result<(), SinkError> {
        match self.inner.as_mut() {
            Some(inner) => inner.create_dir(path),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> SafePath {
        SafePath::new(s).unwrap()
    }

    #[test]
    fn keeps_metadata_files_by_path() {
        let mut sink = MetaSink::discard();
        sink.write_at(&p("xtrabackup_checkpoints"), 0, b"backup_type = ")
            .unwrap();
        sink.write_at(&p("db/xtrabackup_info"), 0, b"nested")
            .unwrap();
        sink.write_at(&p("ibdata1"), 0, &[1; 100]).unwrap();
        assert_eq!(
            sink.captured("xtrabackup_checkpoints"),
            None,
            "not complete yet"
        );
        sink.write_at(&p("xtrabackup_checkpoints"), 14, b"incremental\n")
            .unwrap();
        sink.finish_file(&p("xtrabackup_checkpoints"), 26).unwrap();
        sink.finish_file(&p("db/xtrabackup_info"), 6).unwrap();
        sink.finish_file(&p("ibdata1"), 100).unwrap();
        assert_eq!(
            sink.captured("xtrabackup_checkpoints"),
            Some(&b"backup_type = incremental\n"[..])
        );
        assert_eq!(sink.captured("xtrabackup_info"), None);
        assert_eq!(
            sink.captured_in("db/", "xtrabackup_info"),
            Some(&b"nested"[..])
        );
        assert_eq!(sink.captured_files().count(), 2);
        assert_eq!(sink.set_prefixes(), [""]);
        assert_eq!(
            sink.stats(),
            SinkStats {
                files: 3,
                bytes: 132
            }
        );
    }

    #[test]
    fn finds_the_sets_of_a_tree_at_any_depth() {
        let mut sink = MetaSink::discard();
        for path in [
            "incr/2026-12-01_12-00-00/xtrabackup_checkpoints",
            "base/2026-12-01_10-00-00/ibdata1",
            "base/2026-12-01_10-00-00/mariadb_backup_checkpoints",
            "base/2026-12-01_10-00-00/inc/xtrabackup_checkpoints",
            "notes/xtrabackup_checkpoints.txt",
        ] {
            sink.write_at(&p(path), 0, b"x").unwrap();
            sink.finish_file(&p(path), 1).unwrap();
        }
        assert_eq!(
            sink.set_prefixes(),
            [
                "base/2026-12-01_10-00-00/",
                "base/2026-12-01_10-00-00/inc/",
                "incr/2026-12-01_12-00-00/"
            ]
        );
        assert_eq!(
            sink.captured_in("incr/2026-12-01_12-00-00/", "xtrabackup_checkpoints"),
            Some(&b"x"[..])
        );
    }

    #[test]
    fn empty_metadata_file_is_captured_empty() {
        let mut sink = MetaSink::discard();
        sink.finish_file(&p("xtrabackup_binlog_info"), 0).unwrap();
        assert_eq!(sink.captured("xtrabackup_binlog_info"), Some(&b""[..]));
    }

    #[test]
    fn compressed_metadata_is_kept_decompressed() {
        let qp = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/qpress/xtrabackup_info.qp"
        ))
        .unwrap();
        let mut sink = MetaSink::discard();
        let (a, b) = qp.split_at(100);
        sink.write_at(&p("xtrabackup_info.qp"), 0, a).unwrap();
        sink.write_at(&p("xtrabackup_info.qp"), 100, b).unwrap();
        sink.finish_file(&p("xtrabackup_info.qp"), qp.len() as u64)
            .unwrap();
        let info = sink.captured("xtrabackup_info").unwrap();
        assert!(
            info.starts_with(b"uuid = "),
            "{}",
            String::from_utf8_lossy(info)
        );
        assert!(sink.captured("ibdata1").is_none());
    }

    #[test]
    fn oversized_files_are_not_kept() {
        let mut sink = MetaSink::discard();
        sink.write_at(&p("backup-my.cnf"), MAX_CAPTURE, b"x")
            .unwrap();
        sink.finish_file(&p("backup-my.cnf"), MAX_CAPTURE + 1)
            .unwrap();
        assert_eq!(sink.captured("backup-my.cnf"), None);
    }

    #[test]
    fn passes_writes_to_the_inner_sink() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = MetaSink::new(crate::sink::DirSink::new(dir.path()).unwrap());
        sink.write_at(&p("xtrabackup_info"), 0, b"partial = N\n")
            .unwrap();
        sink.finish_file(&p("xtrabackup_info"), 12).unwrap();
        assert_eq!(
            sink.captured("xtrabackup_info"),
            Some(&b"partial = N\n"[..])
        );
        let inner = sink.into_inner().unwrap();
        inner.finish().unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("xtrabackup_info")).unwrap(),
            b"partial = N\n"
        );
    }
}
