//! Fetching object bytes: ranged GETs in parallel, retried with backoff and resumed from the
//! byte where a transfer broke, with a global bound on requests in flight (and so on memory).
//!
//! The bound is one [`Limiter`] per [`Fetcher`] (and so per restore), shared by every set and
//! every file: `parallel` requests in flight in total, lowered while the store throttles. A
//! request holds at most one block (`block_size`) of memory; a directory-set block also holds
//! a memory slot (`2 × parallel` of them) until it is written, so blocks fetched faster than
//! the disk takes them cannot pile up.
//!
//! Two shapes of work use it:
//! - a stream set (one logical byte stream split over parts) is read as an ordered sequence of
//!   blocks: up to `window` blocks are fetched concurrently and handed on in order
//!   ([`Fetcher::stream_blocks`]);
//! - a file of a directory set is written block by block at its offset
//!   ([`Fetcher::download_file`]), blocks in any order.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use object_store::{GetOptions, GetRange, GetResultPayload, ObjectStore};
use tokio::sync::Semaphore;

use crate::error::{FetchErrorKind, RestoreError};
use crate::limit::Limiter;
use crate::progress::Progress;

/// One object to read.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct RemoteObject {
    /// Key relative to the source prefix (what messages show).
    pub key: String,
    /// Full location in the store.
    pub location: String,
    pub size: u64,
    pub etag: Option<String>,
}

/// Tuning of the fetcher.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Requests in flight at once over the whole restore, each for up to one block.
    pub parallel: usize,
    /// Requests in flight at once when they are for small objects (a file of at most
    /// `block_size / 8`, a few KiB to 1 MiB in a backup of many tables): latency, not bytes,
    /// bounds those, so more of them keep the store busy. A whole multiple of `parallel`
    /// counts (`parallel` for no difference).
    pub small_parallel: usize,
    /// Bytes per ranged GET.
    pub block_size: u64,
    /// Give up on a block after this many consecutive failures without progress.
    pub max_attempts: u32,
    /// First backoff; doubles per attempt up to `max_backoff`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// A transfer that delivers no byte for this long is abandoned and resumed.
    pub stall_timeout: Duration,
}

impl FetchOptions {
    /// The most requests that may be in flight at once (all for small objects): how many
    /// files to start at once so that the bound stays busy.
    pub fn max_requests(&self) -> usize {
        self.parallel.max(1) * self.large_share()
    }

    /// How many small requests one large request counts for in the bounds.
    pub fn large_share(&self) -> usize {
        (self.small_parallel / self.parallel.max(1)).max(1)
    }
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            parallel: 8,
            small_parallel: 32,
            block_size: 8 << 20,
            max_attempts: 8,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            stall_timeout: Duration::from_secs(30),
        }
    }
}

#[derive(Clone)]
pub struct Fetcher {
    store: Arc<dyn ObjectStore>,
    /// Requests in flight, over the whole restore.
    limiter: Arc<Limiter>,
    /// Fetched directory-set blocks not yet written, in the limiter's shares (room for twice
    /// what may be in flight).
    buffers: Arc<Semaphore>,
    /// Shares a block takes in `buffers` (a small object's takes one).
    block_shares: u32,
    opts: FetchOptions,
    progress: Arc<Progress>,
}

impl Fetcher {
    pub fn new(store: Arc<dyn ObjectStore>, opts: FetchOptions, progress: Arc<Progress>) -> Self {
        let limiter = Limiter::new(
            opts.parallel,
            opts.large_share(),
            opts.initial_backoff.max(Duration::from_secs(1)),
        );
        let block_shares = opts.large_share();
        let buffers = Arc::new(Semaphore::new(2 * opts.max_requests()));
        Fetcher {
            store,
            limiter,
            buffers,
            block_shares: u32::try_from(block_shares).unwrap_or(u32::MAX),
            opts,
            progress,
        }
    }

    pub fn options(&self) -> &FetchOptions {
        &self.opts
    }

    /// The restore-wide bound on requests in flight (its current limit, its peak so far).
    pub fn limiter(&self) -> &Arc<Limiter> {
        &self.limiter
    }

    /// Whether a request for `bytes` is for a small object (one share of the bounds).
    fn is_small(&self, bytes: u64) -> bool {
        bytes <= self.opts.block_size / 8
    }

    /// Reads `range` of `obj` completely, retrying and resuming as needed.
    pub async fn fetch_range(
        &self,
        obj: &RemoteObject,
        range: Range<u64>,
    ) -> Result<Bytes, RestoreError> {
        let want = range.end - range.start;
        // Allocated once a request slot is ours, so queued blocks hold no memory.
        let mut buf = BytesMut::new();
        let mut attempt = 0u32;
        loop {
            let start = range.start + buf.len() as u64;
            if start >= range.end {
                return Ok(buf.freeze());
            }
            let before = buf.len();
            let result = {
                let _slot = self
                    .limiter
                    .acquire(self.is_small(want))
                    .await
                    .ok_or(RestoreError::Interrupted)?;
                if buf.capacity() == 0 {
                    buf.reserve(want as usize);
                }
                self.try_get(obj, start..range.end, &mut buf).await
            };
            match result {
                Ok(()) => {
                    self.limiter.on_success();
                    continue;
                }
                Err(kind) => {
                    if kind.is_throttling() {
                        if let Some(limit) = self.limiter.on_throttled() {
                            tracing::warn!(
                                object = %obj.key,
                                "the store is throttling ({kind}); requests in flight lowered to {limit}"
                            );
                        }
                    }
                    if buf.len() > before {
                        // Progress was made: the failure budget starts again.
                        attempt = 0;
                    }
                    attempt += 1;
                    let offset = range.start + buf.len() as u64;
                    if !kind.is_retryable() || attempt >= self.opts.max_attempts {
                        return Err(RestoreError::Fetch {
                            object: obj.key.clone(),
                            offset,
                            kind,
                        });
                    }
                    self.progress.add_retry();
                    let backoff = self
                        .opts
                        .initial_backoff
                        .saturating_mul(1 << (attempt - 1).min(16))
                        .min(self.opts.max_backoff);
                    tracing::warn!(
                        object = %obj.key,
                        offset,
                        attempt,
                        "transfer failed ({kind}); resuming from byte {offset} in {backoff:?}"
                    );
                    tokio::time::sleep(backoff).await;
                }
            }
        }
    }

    /// One GET of `range`, appending what arrives to `buf` (so a failure keeps the bytes
    /// already received).
    async fn try_get(
        &self,
        obj: &RemoteObject,
        range: Range<u64>,
        buf: &mut BytesMut,
    ) -> Result<(), FetchErrorKind> {
        let location = crate::source::store_path(&obj.location);
        let want = range.end - range.start;
        let opts = GetOptions {
            range: Some(GetRange::Bounded(range.clone())),
            if_match: obj.etag.clone(),
            ..Default::default()
        };
        let stall = self.opts.stall_timeout;
        let result = match tokio::time::timeout(stall, self.store.get_opts(&location, opts)).await {
            Ok(r) => r.map_err(FetchErrorKind::from_store)?,
            Err(_) => return Err(FetchErrorKind::Stalled(stall)),
        };
        let got_before = buf.len();
        match result.payload {
            GetResultPayload::File(file, _path) => {
                // Local file: one positioned read, no 8 KiB streaming.
                let len = want as usize;
                let start = range.start;
                let data = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
                    use std::os::unix::fs::FileExt;
                    let mut v = vec![0u8; len];
                    file.read_exact_at(&mut v, start)?;
                    Ok(v)
                })
                .await
                .map_err(|e| FetchErrorKind::Transport(e.to_string()))?
                .map_err(|e| FetchErrorKind::Transport(e.to_string()))?;
                self.progress.add_bytes(data.len() as u64);
                buf.extend_from_slice(&data);
            }
            GetResultPayload::Stream(mut body) => loop {
                match tokio::time::timeout(stall, body.next()).await {
                    Err(_) => return Err(FetchErrorKind::Stalled(stall)),
                    Ok(None) => break,
                    Ok(Some(Err(e))) => return Err(FetchErrorKind::from_store(e)),
                    Ok(Some(Ok(chunk))) => {
                        let room = (want as usize).saturating_sub(buf.len() - got_before);
                        let take = chunk.len().min(room);
                        buf.extend_from_slice(&chunk[..take]);
                        self.progress.add_bytes(take as u64);
                    }
                }
            },
        }
        let got = (buf.len() - got_before) as u64;
        if got < want {
            return Err(FetchErrorKind::ShortBody { got, want });
        }
        Ok(())
    }

    /// The concatenation of `parts` as an ordered stream of blocks, fetched `window` at a
    /// time. Memory held: at most `window` blocks. Each part counts as one file done in the
    /// progress once its last block arrived.
    pub fn stream_blocks(
        &self,
        parts: Vec<RemoteObject>,
        window: usize,
    ) -> BoxStream<'static, Result<Bytes, RestoreError>> {
        let bs = self.opts.block_size.max(1);
        // An empty part has no block: it is complete at once.
        let empty = parts.iter().filter(|p| p.size == 0).count();
        for _ in 0..empty {
            self.progress.add_file();
        }
        let blocks: Vec<(RemoteObject, Range<u64>)> = parts
            .into_iter()
            .flat_map(|p| {
                let size = p.size;
                (0..size.div_ceil(bs)).map(move |i| (p.clone(), i * bs..((i + 1) * bs).min(size)))
            })
            .collect();
        let me = self.clone();
        stream::iter(blocks)
            .map(move |(obj, range)| {
                let me = me.clone();
                async move {
                    let data = me.fetch_range(&obj, range.clone()).await?;
                    // The part's last block: one more object complete.
                    if range.end == obj.size {
                        me.progress.add_file();
                    }
                    Ok(data)
                }
            })
            .buffered(window.max(1))
            .boxed()
    }

    /// Downloads `obj` into `dest` (created or truncated, its parent directories too),
    /// blocks written at their offsets, and counts one file done in the progress. A file of one block (most files of a directory set of
    /// many tables) is one GET and one blocking write; larger ones are split into ranges
    /// fetched concurrently under the restore-wide bound.
    ///
    /// The directory and the file are made here, not on a blocking thread: a write still
    /// running on one after the restore failed must never create paths again in a staging
    /// directory that is being removed.
    pub async fn download_file(&self, obj: &RemoteObject, dest: &Path) -> Result<(), RestoreError> {
        if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| RestoreError::staging(parent, e))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(dest)
            .map_err(|e| RestoreError::staging(dest, e))?;
        let bs = self.opts.block_size.max(1);
        if obj.size == 0 {
            self.progress.add_file();
            return Ok(());
        }
        if obj.size <= bs {
            let _buffer = self.buffer_slot(obj.size).await?;
            let data = self.fetch_range(obj, 0..obj.size).await?;
            blocking(dest, move || {
                use std::io::Write;
                (&file).write_all(&data)
            })
            .await?;
            self.progress.add_file();
            return Ok(());
        }
        file.set_len(obj.size)
            .map_err(|e| RestoreError::staging(dest, e))?;
        let file = Arc::new(file);
        let ranges: Vec<Range<u64>> = (0..obj.size.div_ceil(bs))
            .map(|i| i * bs..((i + 1) * bs).min(obj.size))
            .collect();
        let window = self.opts.parallel.max(1);
        stream::iter(ranges)
            .map(|range| {
                let file = file.clone();
                async move {
                    let _buffer = self.buffer_slot(range.end - range.start).await?;
                    let data = self.fetch_range(obj, range.clone()).await?;
                    blocking(dest, move || {
                        use std::os::unix::fs::FileExt;
                        file.write_all_at(&data, range.start)?;
                        ferry_backup::sink::start_writeback(&file, range.start, data.len() as u64);
                        Ok(())
                    })
                    .await
                }
            })
            .buffer_unordered(window)
            .try_collect::<Vec<()>>()
            .await?;
        self.progress.add_file();
        Ok(())
    }

    /// Room for one fetched block of `bytes` that is not yet written.
    async fn buffer_slot(
        &self,
        bytes: u64,
    ) -> Result<tokio::sync::SemaphorePermit<'_>, RestoreError> {
        let shares = if self.is_small(bytes) {
            1
        } else {
            self.block_shares
        };
        self.buffers
            .acquire_many(shares)
            .await
            .map_err(|_| RestoreError::Interrupted)
    }
}

/// Runs file-system work off the async threads; an error names `path`.
async fn blocking<T: Send + 'static>(
    path: &Path,
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, RestoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| RestoreError::staging(path, e))?
        .map_err(|e| RestoreError::staging(path, e))
}
