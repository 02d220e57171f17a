//! tar extraction (PXB 2.x `--stream=tar`, or a backup directory tarred by hand) into a
//! [`Sink`], with the same safety rules as xbstream.
//!
//! Header parsing (ustar, pax extended headers, GNU long names, header checksums) is the `tar`
//! crate's; this module decides what may be restored: regular files and directories only,
//! paths validated as [`SafePath`]s (the `./` root entry of `tar -C dir .` is skipped), data
//! streamed in 1 MiB pieces. Zero blocks between concatenated archives are skipped (old
//! innobackupex concatenated tar streams), but the archive must end with an end-of-archive
//! marker: a stream that stops right after an entry is reported as truncated.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

use crate::path::SafePath;
use crate::sink::Sink;
use crate::unpack::{UnpackError, UnpackReason};
use crate::xbstream::ExtractStats;

const PIECE: usize = 1 << 20;
const BLOCK: u64 = 512;

#[derive(Default)]
struct Tracking {
    position: Cell<u64>,
    /// Zero bytes at the end of what was read so far.
    zero_run: Cell<u64>,
    failed: Cell<bool>,
}

/// Counts bytes and trailing zeros, and notes input failures, under the tar reader.
struct Tracked<R> {
    inner: R,
    state: Rc<Tracking>,
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match self.inner.read(buf) {
            Ok(n) => n,
            Err(e) => {
                if e.kind() != io::ErrorKind::Interrupted {
                    self.state.failed.set(true);
                }
                return Err(e);
            }
        };
        let got = &buf[..n];
        let s = &self.state;
        s.position.set(s.position.get() + n as u64);
        match got.iter().rposition(|&b| b != 0) {
            Some(last) => s.zero_run.set((n - last - 1) as u64),
            None => s.zero_run.set(s.zero_run.get() + n as u64),
        }
        Ok(n)
    }
}

fn kind_name(t: tar::EntryType) -> String {
    match t {
        tar::EntryType::Symlink => "symbolic link".into(),
        tar::EntryType::Link => "hard link".into(),
        tar::EntryType::Char => "character device".into(),
        tar::EntryType::Block => "block device".into(),
        tar::EntryType::Fifo => "FIFO".into(),
        tar::EntryType::GNUSparse => "GNU sparse file".into(),
        other => format!("type {:?}", char::from(other.as_byte())),
    }
}

/// Extracts a tar archive into `sink`.
pub fn extract<R: Read, S: Sink>(input: R, sink: &mut S) -> Result<ExtractStats, UnpackError> {
    let state = Rc::new(Tracking::default());
    let mut archive = tar::Archive::new(Tracked {
        inner: input,
        state: state.clone(),
    });
    archive.set_ignore_zeros(true);
    let io_error = |e: io::Error, offset: u64, member: Option<SafePath>| {
        let reason = if state.failed.get() {
            UnpackReason::Input(e)
        } else if e.to_string().contains("failed to read entire block") {
            UnpackReason::Truncated {
                detail: format!(
                    "the tar archive ends inside a header, at byte {}",
                    state.position.get()
                ),
            }
        } else {
            UnpackReason::Tar {
                detail: e.to_string(),
            }
        };
        UnpackError::new(reason, offset, member)
    };
    let mut stats = ExtractStats::default();
    let mut buf = vec![0u8; PIECE];
    let entries = archive.entries().map_err(|e| io_error(e, 0, None))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| {
            let at = state.position.get();
            io_error(e, at.saturating_sub(at % BLOCK), None)
        })?;
        let offset = entry.raw_header_position();
        let entry_type = entry.header().entry_type();
        if entry_type.is_pax_global_extensions() {
            continue;
        }
        stats.records += 1;
        let raw_path = entry.path_bytes().into_owned();
        let mut text = match std::str::from_utf8(&raw_path) {
            Ok(t) => t,
            Err(_) => {
                let err = SafePath::from_bytes(&raw_path).err();
                let reason = err.map_or(
                    UnpackReason::Tar {
                        detail: "invalid path".into(),
                    },
                    UnpackReason::UnsafePath,
                );
                return Err(UnpackError::new(reason, offset, None));
            }
        };
        if entry_type.is_dir() {
            text = text.trim_end_matches('/');
        }
        if matches!(text, "" | "." | "./") {
            continue; // the archive's root directory entry
        }
        let path = SafePath::new(text)
            .map_err(|e| UnpackError::new(UnpackReason::UnsafePath(e), offset, None))?;
        let fail = |reason| UnpackError::new(reason, offset, Some(path.clone()));
        if entry_type.is_dir() {
            sink.create_dir(&path)
                .map_err(|e| fail(UnpackReason::Sink(e)))?;
            continue;
        }
        let is_pax_sparse = entry
            .pax_extensions()
            .ok()
            .flatten()
            .is_some_and(|mut exts| {
                exts.any(|x| x.is_ok_and(|x| x.key_bytes().starts_with(b"GNU.sparse")))
            });
        if !(entry_type.is_file() || entry_type.is_contiguous()) || is_pax_sparse {
            let kind = if is_pax_sparse {
                "GNU sparse file".to_string()
            } else {
                kind_name(entry_type)
            };
            return Err(fail(UnpackReason::UnsupportedEntry { kind }));
        }
        let size = entry.size();
        let mut written = 0u64;
        loop {
            let n = match entry.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_error(e, offset, Some(path.clone()))),
            };
            if n == 0 {
                break;
            }
            sink.write_at(&path, written, &buf[..n])
                .map_err(|e| fail(UnpackReason::Sink(e)))?;
            written += n as u64;
        }
        if written != size {
            return Err(fail(UnpackReason::Truncated {
                detail: format!(
                    "the tar archive ends after {written} of the entry's {size} bytes, at byte {}",
                    state.position.get()
                ),
            }));
        }
        sink.finish_file(&path, size)
            .map_err(|e| fail(UnpackReason::Sink(e)))?;
        stats.files += 1;
        stats.bytes += size;
    }
    if state.zero_run.get() < BLOCK {
        let at = state.position.get();
        return Err(UnpackError::new(
            UnpackReason::Truncated {
                detail: format!(
                    "the tar archive ends at byte {at} without its end-of-archive marker"
                ),
            },
            at,
            None,
        ));
    }
    Ok(stats)
}

#[cfg(test)]
mod tests;
