//! Bringing one backup set into a local directory: a stream set is fetched in ordered blocks,
//! decoded and unpacked on a blocking thread while the download goes on (no copy of the
//! archive on disk); a directory set is downloaded file by file, with a journal so that an
//! interrupted run skips the files it already has.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use bytes::{Buf, Bytes};
use ferry_backup::discover::{ObjectEntry, SetLayout, SetSource};
use ferry_backup::path::SafePath;
use ferry_backup::sink::{DirSink, Sink};
use futures::stream::{self, StreamExt, TryStreamExt};
use tokio::sync::mpsc;

use crate::error::RestoreError;
use crate::fetch::{Fetcher, RemoteObject};
use crate::source::Source;

/// The objects a set is made of, in consumption order, as the fetcher wants them.
pub fn set_objects(
    source: &Source,
    set: &SetSource,
    etags: &HashMap<String, Option<String>>,
) -> Vec<RemoteObject> {
    let entries = match &set.layout {
        SetLayout::Directory { files, .. } => files,
        SetLayout::Stream { parts, .. } => parts,
    };
    entries
        .iter()
        .map(|e| remote_object(source, e, etags))
        .collect()
}

/// One listed object as the fetcher wants it.
pub fn remote_object(
    source: &Source,
    entry: &ObjectEntry,
    etags: &HashMap<String, Option<String>>,
) -> RemoteObject {
    RemoteObject {
        key: entry.key.clone(),
        location: source.location(&entry.key).to_string(),
        size: entry.size,
        etag: etags.get(&entry.key).cloned().flatten(),
    }
}

/// A `Read` over blocks arriving on a channel. A fetch error is parked in `failure` (so the
/// caller reports it rather than the unpacker's "unexpected end") and surfaces as an I/O error.
struct ChannelReader {
    rx: mpsc::Receiver<Result<Bytes, RestoreError>>,
    current: Bytes,
    failure: Arc<Mutex<Option<RestoreError>>>,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while !self.current.has_remaining() {
            match self.rx.blocking_recv() {
                None => return Ok(0),
                Some(Ok(b)) => self.current = b,
                Some(Err(e)) => {
                    let msg = e.to_string();
                    if let Ok(mut slot) = self.failure.lock() {
                        *slot = Some(e);
                    }
                    return Err(io::Error::other(msg));
                }
            }
        }
        let n = out.len().min(self.current.len());
        self.current.copy_to_slice(&mut out[..n]);
        Ok(n)
    }
}

/// Which part object a raw offset into the concatenated stream falls in.
fn locate(parts: &[RemoteObject], raw_offset: u64) -> (String, u64) {
    let mut start = 0u64;
    for p in parts {
        if raw_offset < start + p.size {
            return (p.key.clone(), raw_offset - start);
        }
        start += p.size;
    }
    match parts.last() {
        Some(p) => (p.key.clone(), p.size),
        None => (String::new(), raw_offset),
    }
}

/// Fetches and unpacks a stream set into `dir` (which must be empty).
pub async fn fetch_stream_set<S, F>(
    fetcher: &Fetcher,
    set: &SetSource,
    objects: Vec<RemoteObject>,
    window: usize,
    make_sink: F,
) -> Result<(S, Vec<String>), RestoreError>
where
    S: Sink + Send + 'static,
    F: FnOnce() -> Result<S, RestoreError> + Send + 'static,
{
    let SetLayout::Stream { format, .. } = &set.layout else {
        unreachable!("fetch_stream_set is only called for stream sets")
    };
    let format = *format;
    let (tx, rx) = mpsc::channel::<Result<Bytes, RestoreError>>(2);
    let failure = Arc::new(Mutex::new(None));
    let reader_failure = failure.clone();
    let set_name = set.name.clone();
    let parts = objects.clone();

    let consumer =
        tokio::task::spawn_blocking(move || -> Result<(S, Vec<String>), RestoreError> {
            let mut sink = make_sink()?;
            let reader = ChannelReader {
                rx,
                current: Bytes::new(),
                failure: reader_failure,
            };
            match ferry_backup::unpack::unpack(reader, format, &mut sink) {
                Ok(stats) => {
                    let warnings: Vec<String> = stats
                        .warnings
                        .into_iter()
                        .map(|w| format!("backup set {set_name}: {w}"))
                        .collect();
                    for w in &warnings {
                        tracing::warn!("{w}");
                    }
                    Ok((sink, warnings))
                }
                Err(e) => {
                    let (object, offset) = locate(&parts, e.raw_offset());
                    Err(RestoreError::Unpack {
                        set: set_name,
                        reason: format!("{e} (object {object}, byte {offset})"),
                    })
                }
            }
        });

    let mut blocks = fetcher.stream_blocks(objects, window);
    while let Some(block) = blocks.next().await {
        let stop = block.is_err();
        if tx.send(block).await.is_err() || stop {
            break;
        }
    }
    drop(tx);
    let result = consumer.await.map_err(|e| RestoreError::Unpack {
        set: set.name.clone(),
        reason: format!("unpacker thread failed: {e}"),
    })?;
    if let Some(err) = failure.lock().ok().and_then(|mut f| f.take()) {
        return Err(err);
    }
    result
}

/// Unpacks a stream set into `dir`.
pub async fn fetch_stream_set_to_dir(
    fetcher: &Fetcher,
    set: &SetSource,
    objects: Vec<RemoteObject>,
    window: usize,
    dir: &Path,
) -> Result<Vec<String>, RestoreError> {
    let dir_owned = dir.to_path_buf();
    let set_name = set.name.clone();
    let (sink, warnings) = fetch_stream_set(fetcher, set, objects, window, move || {
        DirSink::new(&dir_owned).map_err(|e| RestoreError::Unpack {
            set: set_name,
            reason: e.to_string(),
        })
    })
    .await?;
    let set_name = set.name.clone();
    tokio::task::spawn_blocking(move || sink.finish())
        .await
        .map_err(|e| RestoreError::Unpack {
            set: set_name.clone(),
            reason: e.to_string(),
        })?
        .map_err(|e| RestoreError::Unpack {
            set: set.name.clone(),
            reason: e.to_string(),
        })?;
    Ok(warnings)
}

/// The path of a directory-set file relative to the set's root, checked for safety.
pub fn relative_in_set(set: &SetSource, key: &str) -> Result<SafePath, RestoreError> {
    let root = match &set.layout {
        SetLayout::Directory { root, .. } => root.as_str(),
        SetLayout::Stream { .. } => "",
    };
    let rel = key.strip_prefix(root).unwrap_or(key);
    SafePath::new(rel).map_err(|e| RestoreError::Unpack {
        set: set.name.clone(),
        reason: format!("object {key}: {e}"),
    })
}

/// Downloads a directory set into `dir`, skipping files the journal says are already there
/// (same size and ETag, file present with that size). Returns the bytes and files reused.
///
/// Resume at scale: the journal (`<set>.files`, one line appended per file as it completes)
/// is read once, and a file it lists is checked with one `stat` (its length: a journal line
/// is written only after the file's bytes, but neither is fsynced), on a blocking thread;
/// no complete file is read or requested again. A first run (no journal) stats nothing.
///
/// Files are started `files_parallel` at a time; what bounds the requests in flight is the
/// fetcher's restore-wide limiter, so `files_parallel` only needs to be large enough to keep
/// it busy (the restore passes `FetchOptions::max_requests`: with many small files, that many
/// GETs at once).
/// What is left to fetch is held as indices into `objects` (8 bytes per file).
pub async fn fetch_directory_set(
    fetcher: &Fetcher,
    set: &SetSource,
    objects: &[RemoteObject],
    dir: &Path,
    journal: &Path,
    files_parallel: usize,
) -> Result<(u64, u64), RestoreError> {
    let path = journal.to_path_buf();
    let done = tokio::task::spawn_blocking(move || read_journal(&path))
        .await
        .map_err(|e| RestoreError::staging(journal, e))?;
    // Every path is checked before anything is fetched (and made again, not kept, below).
    for obj in objects {
        relative_in_set(set, &obj.key)?;
    }
    let dest_of = |obj: &RemoteObject| -> Result<std::path::PathBuf, RestoreError> {
        Ok(dir.join(relative_in_set(set, &obj.key)?.as_str()))
    };
    // Files the journal lists with this size and ETag: still there with that length?
    let mut listed: Vec<(usize, std::path::PathBuf, u64)> = Vec::new();
    for (i, obj) in objects.iter().enumerate() {
        let same = done.get(&obj.key).is_some_and(|(size, etag)| {
            *size == obj.size && etag.as_str() == obj.etag.as_deref().unwrap_or("")
        });
        if same {
            listed.push((i, dest_of(obj)?, obj.size));
        }
    }
    drop(done);
    let mut have = vec![false; objects.len()];
    if !listed.is_empty() {
        let present = tokio::task::spawn_blocking(move || {
            listed
                .into_iter()
                .filter(|(_, dest, size)| {
                    std::fs::metadata(dest)
                        .map(|m| m.len() == *size)
                        .unwrap_or(false)
                })
                .map(|(i, _, _)| i)
                .collect::<Vec<usize>>()
        })
        .await
        .map_err(|e| RestoreError::staging(dir, e))?;
        for i in present {
            have[i] = true;
        }
    }
    let mut reused = 0u64;
    let mut reused_files = 0u64;
    let mut todo: Vec<usize> = Vec::new();
    for (i, obj) in objects.iter().enumerate() {
        if have[i] {
            reused += obj.size;
            reused_files += 1;
        } else {
            todo.push(i);
        }
    }
    drop(have);
    let journal_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(journal)
        .map_err(|e| RestoreError::staging(journal, e))?;
    let journal_file = Arc::new(Mutex::new(journal_file));
    let dest_of = &dest_of;
    stream::iter(todo)
        .map(|i| {
            let journal_file = journal_file.clone();
            async move {
                let obj = &objects[i];
                let dest = dest_of(obj)?;
                fetcher.download_file(obj, &dest).await?;
                append_journal(&journal_file, journal, obj)
            }
        })
        .buffer_unordered(files_parallel.max(1))
        .try_collect::<Vec<()>>()
        .await?;
    Ok((reused, reused_files))
}

/// Records in a set's journal that `obj` is downloaded (after its bytes were written).
pub fn append_journal(
    file: &Mutex<std::fs::File>,
    path: &Path,
    obj: &RemoteObject,
) -> Result<(), RestoreError> {
    let line = format!(
        "{}\t{}\t{}\n",
        obj.size,
        obj.etag.as_deref().unwrap_or(""),
        obj.key
    );
    let mut f = file.lock().map_err(|_| RestoreError::Interrupted)?;
    f.write_all(line.as_bytes())
        .map_err(|e| RestoreError::staging(path, e))
}

fn read_journal(path: &Path) -> HashMap<String, (u64, String)> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return HashMap::new();
    };
    text.lines()
        .filter_map(|line| {
            let mut it = line.splitn(3, '\t');
            let size = it.next()?.parse().ok()?;
            let etag = it.next()?.to_string();
            let key = it.next()?.to_string();
            Some((key, (size, etag)))
        })
        .collect()
}

/// Refuses per-file encryption (`*.xbcrypt`) and lz4 compression it cannot decode, and
/// decompresses every `*.qp` file (mariabackup / XtraBackup `--compress`) under `dir` in
/// place, as `--decompress` would but without the external `qpress` binary. Returns how many
/// files were decompressed.
pub fn decompress_qpress(set: &str, dir: &Path) -> Result<usize, RestoreError> {
    let mut count = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| RestoreError::staging(&d, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| RestoreError::staging(&d, e))?;
            let path = entry.path();
            let ft = entry
                .file_type()
                .map_err(|e| RestoreError::staging(&path, e))?;
            if ft.is_dir() {
                stack.push(path);
                continue;
            }
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if name.ends_with(".xbcrypt") || name.ends_with(".lz4") {
                return Err(RestoreError::Unpack {
                    set: set.to_string(),
                    reason: format!(
                        "file {name} is {}, which ferry cannot decode yet; decrypt/decompress the \
                         backup with xtrabackup first (`xtrabackup --decrypt/--decompress`)",
                        if name.ends_with(".xbcrypt") {
                            "encrypted with xbcrypt (--encrypt)"
                        } else {
                            "compressed with lz4 (--compress=lz4)"
                        }
                    ),
                });
            }
            let Some(plain) = name.strip_suffix(".qp") else {
                continue;
            };
            let out_path = path.with_file_name(plain);
            let input = std::fs::File::open(&path).map_err(|e| RestoreError::staging(&path, e))?;
            let output = std::fs::File::create(&out_path)
                .map_err(|e| RestoreError::staging(&out_path, e))?;
            let mut writer = io::BufWriter::with_capacity(1 << 20, output);
            ferry_backup::qpress::decompress(
                io::BufReader::with_capacity(1 << 20, input),
                &mut writer,
            )
            .map_err(|e| RestoreError::Unpack {
                set: set.to_string(),
                reason: format!("cannot decompress {name}: {e}"),
            })?;
            writer
                .flush()
                .map_err(|e| RestoreError::staging(&out_path, e))?;
            std::fs::remove_file(&path).map_err(|e| RestoreError::staging(&path, e))?;
            count += 1;
        }
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_encrypted_member_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("db")).unwrap();
        std::fs::write(dir.path().join("db/t.ibd.xbcrypt"), b"x").unwrap();
        let err = decompress_qpress("full", dir.path())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("t.ibd.xbcrypt") && err.contains("encrypted"),
            "{err}"
        );
    }

    #[test]
    fn locates_offsets_in_parts() {
        let p = |k: &str, size| RemoteObject {
            key: k.into(),
            location: k.into(),
            size,
            etag: None,
        };
        let parts = vec![p("a00", 10), p("a01", 10), p("a02", 5)];
        assert_eq!(locate(&parts, 0), ("a00".into(), 0));
        assert_eq!(locate(&parts, 9), ("a00".into(), 9));
        assert_eq!(locate(&parts, 10), ("a01".into(), 0));
        assert_eq!(locate(&parts, 24), ("a02".into(), 4));
        assert_eq!(locate(&parts, 25), ("a02".into(), 5));
    }
}
