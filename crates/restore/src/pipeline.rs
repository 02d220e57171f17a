//! Fetching while listing: when the source prefix is itself one directory backup set (the
//! common "copy the backup directory as it is" case), its files are downloaded as listing
//! pages arrive instead of after the whole listing.
//!
//! Whether a listed file belongs to the prefix's own set depends on keys not listed yet: a
//! directory holding its own `xtrabackup_checkpoints` (at any depth) is another set. S3 lists
//! keys in ascending order, so once the listing has moved past a top-level directory
//! (`db07/`), everything in it is known. So:
//! - a file directly under the prefix belongs to its set: fetched at once;
//! - the files of a top-level directory are held until the listing leaves it, then fetched
//!   unless that directory holds a checkpoints file anywhere (then it is left to the normal
//!   path, which knows the whole listing);
//! - a key out of order stops the early fetching (nothing wrong is fetched; the rest waits).
//!
//! It only starts when the prefix holds `xtrabackup_checkpoints` and `backup-my.cnf` (so
//! discovery will see a directory set at the root, listed set 0, named `.`) and its metadata
//! says the backup is not partial: a backup that is refused is not downloaded. Files land in
//! that set's staging directory and journal, exactly as [`crate::sets::fetch_directory_set`]
//! writes them, so the normal fetch that follows the listing skips them (one `stat` each)
//! and fetches what is left. If the listing then shows a broken chain, the refusal removes
//! staging as it always does.
//!
//! Memory: the files of one top-level directory wait (one [`RemoteObject`] each) until the
//! listing leaves it; what is dispatched waits in the queue until a download starts.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use ferry_backup::discover::ObjectEntry;
use ferry_backup::meta::{BACKUP_MY_CNF, CHECKPOINTS_FILES};
use ferry_backup::path::SafePath;
use futures::stream::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::error::RestoreError;
use crate::fetch::{Fetcher, RemoteObject};
use crate::metadata;
use crate::source::Source;
use crate::staging::Staging;

/// The name discovery gives a directory set at the prefix's root, and its listed index.
pub const ROOT_SET: &str = ".";
pub const ROOT_INDEX: usize = 0;

/// Splits the listing into what can be fetched now and what must wait.
pub struct Dispatcher {
    source: Source,
    tx: Option<mpsc::UnboundedSender<RemoteObject>>,
    /// The top-level directory being listed, its files so far, and whether it holds a set.
    dir: Option<String>,
    held: Vec<RemoteObject>,
    nested: bool,
    last_key: String,
}

impl Dispatcher {
    /// Called for each listed object, in listing order.
    pub fn on_object(&mut self, entry: &ObjectEntry, etag: &Option<String>) {
        if self.tx.is_none() || entry.key.ends_with('/') {
            return;
        }
        if entry.key < self.last_key {
            // Not in ascending order: nothing can be concluded from order any more.
            tracing::debug!("listing out of order: fetching waits for the whole listing");
            self.tx = None;
            self.held.clear();
            return;
        }
        self.last_key.clone_from(&entry.key);
        let obj = RemoteObject {
            key: entry.key.clone(),
            location: self.source.location(&entry.key).to_string(),
            size: entry.size,
            etag: etag.clone(),
        };
        let Some((top, _)) = entry.key.split_once('/') else {
            self.flush();
            self.send(obj);
            return;
        };
        if self.dir.as_deref() != Some(top) {
            self.flush();
            self.dir = Some(top.to_string());
        }
        let name = entry.key.rsplit('/').next().unwrap_or_default();
        if CHECKPOINTS_FILES.contains(&name) {
            self.nested = true;
            self.held.clear();
        }
        if !self.nested {
            self.held.push(obj);
        }
    }

    /// The listing ended: the last directory is complete too.
    pub fn finish(mut self) {
        self.flush();
    }

    fn flush(&mut self) {
        let held = std::mem::take(&mut self.held);
        if !self.nested {
            for obj in held {
                self.send(obj);
            }
        }
        self.nested = false;
        self.dir = None;
    }

    fn send(&mut self, obj: RemoteObject) {
        if let Some(tx) = &self.tx {
            if tx.send(obj).is_err() {
                self.tx = None;
            }
        }
    }
}

/// The early fetch running beside the listing.
pub struct EarlyFetch {
    task: JoinHandle<Result<(u64, u64), RestoreError>>,
}

impl EarlyFetch {
    /// Stops it (a failure elsewhere): no download of it runs on once this returns.
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }

    /// Waits for what was dispatched to be downloaded; returns (bytes, files) fetched.
    pub async fn finish(self) -> Result<(u64, u64), RestoreError> {
        self.task.await.map_err(|e| RestoreError::Unpack {
            set: ROOT_SET.to_string(),
            reason: e.to_string(),
        })?
    }
}

/// Whether the source prefix is itself one directory backup set that is not partial (see
/// the module documentation): a few HEADs and the metadata files' GETs.
pub async fn probe(
    source: &Source,
    fetcher: &Fetcher,
    gate: Option<&crate::listing::ObjectGate>,
) -> Result<bool, RestoreError> {
    if source.local {
        return Ok(false);
    }
    // Every name probed passes the gate first: a HEAD reads an object's metadata.
    if let Some(crate::listing::ObjectGate(allows)) = gate {
        for name in std::iter::once(&BACKUP_MY_CNF)
            .chain(metadata::CHECKPOINTS.iter())
            .chain(metadata::INFO.iter())
            .chain(metadata::BINLOG_INFO.iter())
        {
            allows(name).map_err(|reason| RestoreError::Refused {
                object: name.to_string(),
                reason,
            })?;
        }
    }
    let head = |name: &str| {
        let location = source.location(name);
        async move { source.store.head(&location).await.ok() }
    };
    if head(BACKUP_MY_CNF).await.is_none() {
        return Ok(false);
    }
    let mut found = Vec::new();
    for name in metadata::CHECKPOINTS
        .iter()
        .chain(metadata::INFO.iter())
        .chain(metadata::BINLOG_INFO.iter())
    {
        if let Some(meta) = head(name).await {
            let obj = RemoteObject {
                key: name.to_string(),
                location: meta.location.to_string(),
                size: meta.size,
                etag: meta.e_tag.clone(),
            };
            let bytes = fetcher.fetch_range(&obj, 0..obj.size).await?;
            found.push((name.to_string(), bytes.to_vec()));
        }
    }
    if !found
        .iter()
        .any(|(n, _)| CHECKPOINTS_FILES.contains(&n.as_str()))
    {
        return Ok(false);
    }
    // Unreadable metadata or a partial backup: refused once the listing is known, and
    // nothing is downloaded before.
    let Ok(meta) = metadata::set_meta(ROOT_SET, |name| {
        Ok(found
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.clone()))
    }) else {
        return Ok(false);
    };
    Ok(meta
        .info
        .as_ref()
        .and_then(|i| i.partial_reason())
        .is_none())
}

/// Starts fetching the root set while it is listed. `None` when staging already holds work
/// of an earlier run for it (the normal path resumes that, with its journal).
pub fn start(
    source: &Source,
    fetcher: &Fetcher,
    staging: &Staging,
) -> Result<Option<(Dispatcher, EarlyFetch)>, RestoreError> {
    let journal = staging.journal(ROOT_INDEX, ROOT_SET);
    if staging.has_marker(ROOT_INDEX, ROOT_SET) || journal.exists() {
        return Ok(None);
    }
    let dir = staging.set_dir(ROOT_INDEX, ROOT_SET);
    std::fs::create_dir_all(&dir).map_err(|e| RestoreError::staging(&dir, e))?;
    let (tx, rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(run(fetcher.clone(), rx, dir, journal));
    tracing::info!("the source prefix is one directory backup set: fetching while listing");
    Ok(Some((
        Dispatcher {
            source: source.clone(),
            tx: Some(tx),
            dir: None,
            held: Vec::new(),
            nested: false,
            last_key: String::new(),
        },
        EarlyFetch { task },
    )))
}

async fn run(
    fetcher: Fetcher,
    rx: mpsc::UnboundedReceiver<RemoteObject>,
    dir: PathBuf,
    journal: PathBuf,
) -> Result<(u64, u64), RestoreError> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&journal)
        .map_err(|e| RestoreError::staging(&journal, e))?;
    let file = Arc::new(Mutex::new(file));
    let parallel = fetcher.options().max_requests();
    let done = Arc::new(Mutex::new((0u64, 0u64)));
    let mut results = tokio_stream_of(rx)
        .map(|obj| {
            let (fetcher, dir, journal, file, done) = (
                fetcher.clone(),
                dir.clone(),
                journal.clone(),
                file.clone(),
                done.clone(),
            );
            async move {
                let rel = SafePath::new(&obj.key).map_err(|e| RestoreError::Unpack {
                    set: ROOT_SET.to_string(),
                    reason: format!("object {}: {e}", obj.key),
                })?;
                fetcher.download_file(&obj, &dir.join(rel.as_str())).await?;
                crate::sets::append_journal(&file, &journal, &obj)?;
                if let Ok(mut d) = done.lock() {
                    d.0 += obj.size;
                    d.1 += 1;
                }
                Ok::<(), RestoreError>(())
            }
        })
        .buffer_unordered(parallel);
    while let Some(r) = results.next().await {
        r?;
    }
    let d = *done.lock().map_err(|_| RestoreError::Interrupted)?;
    Ok(d)
}

fn tokio_stream_of<T: Send + 'static>(
    mut rx: mpsc::UnboundedReceiver<T>,
) -> impl futures::Stream<Item = T> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
