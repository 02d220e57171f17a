//! Fetching object bytes: ranged GETs in parallel, retried with backoff and resumed from the
//! byte where a transfer broke, with a global bound on requests in flight (and so on memory).
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
    /// Requests in flight at once, over the whole restore.
    pub parallel: usize,
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

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            parallel: 8,
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
    permits: Arc<Semaphore>,
    opts: FetchOptions,
    progress: Arc<Progress>,
}

impl Fetcher {
    pub fn new(store: Arc<dyn ObjectStore>, opts: FetchOptions, progress: Arc<Progress>) -> Self {
        let permits = Arc::new(Semaphore::new(opts.parallel.max(1)));
        Fetcher {
            store,
            permits,
            opts,
            progress,
        }
    }

    pub fn options(&self) -> &FetchOptions {
        &self.opts
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
                let _permit = self
                    .permits
                    .acquire()
                    .await
                    .map_err(|_| RestoreError::Interrupted)?;
                if buf.capacity() == 0 {
                    buf.reserve(want as usize);
                }
                self.try_get(obj, start..range.end, &mut buf).await
            };
            match result {
                Ok(()) => continue,
                Err(kind) => {
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
    /// time. Memory held: at most `window` blocks.
    pub fn stream_blocks(
        &self,
        parts: Vec<RemoteObject>,
        window: usize,
    ) -> BoxStream<'static, Result<Bytes, RestoreError>> {
        let bs = self.opts.block_size.max(1);
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
                async move { me.fetch_range(&obj, range).await }
            })
            .buffered(window.max(1))
            .boxed()
    }

    /// Downloads `obj` into `dest` (created or truncated), blocks written at their offsets.
    pub async fn download_file(&self, obj: &RemoteObject, dest: &Path) -> Result<(), RestoreError> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(dest)
            .map_err(|e| RestoreError::staging(dest, e))?;
        file.set_len(obj.size)
            .map_err(|e| RestoreError::staging(dest, e))?;
        let file = Arc::new(file);
        let bs = self.opts.block_size.max(1);
        let ranges: Vec<Range<u64>> = (0..obj.size.div_ceil(bs))
            .map(|i| i * bs..((i + 1) * bs).min(obj.size))
            .collect();
        let window = self.opts.parallel.max(1);
        stream::iter(ranges)
            .map(|range| {
                let file = file.clone();
                async move {
                    let data = self.fetch_range(obj, range.clone()).await?;
                    let dest_owned = dest.to_path_buf();
                    tokio::task::spawn_blocking(move || {
                        use std::os::unix::fs::FileExt;
                        file.write_all_at(&data, range.start)?;
                        ferry_backup::sink::start_writeback(&file, range.start, data.len() as u64);
                        Ok::<(), std::io::Error>(())
                    })
                    .await
                    .map_err(|e| RestoreError::staging(&dest_owned, e))?
                    .map_err(|e| RestoreError::staging(&dest_owned, e))
                }
            })
            .buffer_unordered(window)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }
}
