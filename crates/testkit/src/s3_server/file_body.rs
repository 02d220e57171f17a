//! The body of a GetObject response: a byte range of an open file, read in large chunks.
//!
//! `s3s-fs` 0.14 streams an object through `ReaderStream::with_capacity(file, 4096)`, so every
//! 4 KiB is a round trip through tokio's blocking pool. That costs the server 5 to 9
//! CPU-seconds per GB and caps a client at 130 to 290 MB/s on a 2-core machine, which would
//! make the server, not the client, what a benchmark measures. [`FileRange`] instead reads
//! [`CHUNK`] bytes with one positioned read (`pread`) per trip to the blocking pool, and starts
//! reading the next chunk as soon as it hands one out, so disk reads overlap socket writes.
//!
//! The range is fixed when the stream is made; a file that turns out shorter (truncated while
//! being served) ends the stream with [`ReadError::Truncated`], so the client sees a body
//! shorter than its `Content-Length`, never bytes from a different range.

use std::fs::File;
use std::future::Future as _;
use std::io;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use futures::Stream;
use tokio::task::JoinHandle;

/// Bytes read per trip to the blocking pool: large enough that the trip's cost vanishes, small
/// enough that two chunks in flight per response stay cheap.
pub(super) const CHUNK: usize = 1 << 20;

/// Why a [`FileRange`] stopped early. The response's head is already sent by then, so the
/// client sees a short body; the error is what the HTTP server logs.
#[derive(Debug, thiserror::Error)]
pub(super) enum ReadError {
    /// The read itself failed.
    #[error("read object file {} at offset {offset}", path.display())]
    Read {
        path: PathBuf,
        offset: u64,
        #[source]
        source: io::Error,
    },
    /// The file ended before the range did.
    #[error(
        "object file {} ended before offset {end}: it was truncated while being served",
        path.display()
    )]
    Truncated { path: PathBuf, end: u64 },
    /// The blocking task doing the read panicked or was cancelled.
    #[error("the task reading object file {} at offset {offset} did not finish", path.display())]
    Task {
        path: PathBuf,
        offset: u64,
        #[source]
        source: tokio::task::JoinError,
    },
}

/// A stream of the bytes `range` of `file`, in chunks of at most [`CHUNK`] bytes.
///
/// Must be polled inside a tokio runtime (it is: hyper polls it on the server's runtime).
/// Dropping it mid-way lets an in-flight read finish in the background; the file is closed
/// when that read is done.
pub(super) struct FileRange {
    file: Arc<File>,
    /// For error messages.
    path: Arc<Path>,
    /// Where the next read to be started begins.
    next_offset: u64,
    /// End of the range (exclusive).
    end: u64,
    /// The read in flight, if any: it covers the bytes just before `next_offset`.
    pending: Option<PendingRead>,
    /// Set once an error was returned: the stream then ends.
    failed: bool,
}

struct PendingRead {
    offset: u64,
    len: usize,
    task: JoinHandle<io::Result<Bytes>>,
}

impl FileRange {
    /// Streams bytes `range` of `file`, which lives at `path`. An empty range yields nothing.
    pub(super) fn new(file: File, path: &Path, range: std::ops::Range<u64>) -> FileRange {
        FileRange {
            file: Arc::new(file),
            path: Arc::from(path),
            next_offset: range.start,
            end: range.end.max(range.start),
            pending: None,
            failed: false,
        }
    }

    /// Bytes not yet handed out.
    fn remaining(&self) -> u64 {
        if self.failed {
            return 0;
        }
        let from = self
            .pending
            .as_ref()
            .map_or(self.next_offset, |read| read.offset);
        self.end - from
    }

    /// Starts reading the next chunk on the blocking pool, unless the range is all read.
    fn start_next_read(&mut self) {
        let left = self.end - self.next_offset;
        if left == 0 {
            return;
        }
        // A `left` beyond usize (32-bit targets) still means a whole chunk.
        let len = usize::try_from(left).map_or(CHUNK, |left| left.min(CHUNK));
        let offset = self.next_offset;
        let file = Arc::clone(&self.file);
        let task = tokio::task::spawn_blocking(move || {
            let mut buf = vec![0u8; len];
            file.read_exact_at(&mut buf, offset)?;
            Ok(Bytes::from(buf))
        });
        self.next_offset += len as u64;
        self.pending = Some(PendingRead { offset, len, task });
    }
}

impl Stream for FileRange {
    type Item = Result<Bytes, ReadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.failed {
            return Poll::Ready(None);
        }
        if this.pending.is_none() {
            this.start_next_read();
        }
        let Some(pending) = this.pending.as_mut() else {
            return Poll::Ready(None);
        };
        let joined = ready!(Pin::new(&mut pending.task).poll(cx));
        let PendingRead { offset, len, .. } = pending;
        let (offset, len) = (*offset, *len);
        this.pending = None;
        let error = match joined {
            Ok(Ok(bytes)) => {
                // Read ahead while this chunk goes out on the socket.
                this.start_next_read();
                return Poll::Ready(Some(Ok(bytes)));
            }
            Ok(Err(source)) if source.kind() == io::ErrorKind::UnexpectedEof => {
                ReadError::Truncated {
                    path: this.path.to_path_buf(),
                    end: offset + len as u64,
                }
            }
            Ok(Err(source)) => ReadError::Read {
                path: this.path.to_path_buf(),
                offset,
                source,
            },
            Err(source) => ReadError::Task {
                path: this.path.to_path_buf(),
                offset,
                source,
            },
        };
        this.failed = true;
        Poll::Ready(Some(Err(error)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match usize::try_from(self.remaining()) {
            Ok(n) => (n, Some(n)),
            Err(_) => (usize::MAX, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt as _;
    use std::io::Write as _;

    fn file_with(data: &[u8]) -> (tempfile::NamedTempFile, File) {
        let mut tmp = tempfile::NamedTempFile::new().expect("temp file");
        tmp.write_all(data).expect("write temp file");
        let file = File::open(tmp.path()).expect("open temp file");
        (tmp, file)
    }

    fn pattern(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i % 251) as u8).collect()
    }

    async fn collect(mut stream: FileRange) -> (Vec<u8>, Vec<usize>, Option<ReadError>) {
        let (mut data, mut sizes) = (Vec::new(), Vec::new());
        while let Some(item) = stream.next().await {
            match item {
                Ok(chunk) => {
                    sizes.push(chunk.len());
                    data.extend_from_slice(&chunk);
                }
                Err(error) => {
                    assert!(
                        stream.next().await.is_none(),
                        "stream goes on after {error}"
                    );
                    return (data, sizes, Some(error));
                }
            }
        }
        (data, sizes, None)
    }

    #[tokio::test]
    async fn yields_exactly_the_range_in_large_chunks() {
        let data = pattern(2 * CHUNK + 12345);
        let (tmp, file) = file_with(&data);
        let (start, end) = (100u64, (2 * CHUNK + 12000) as u64);
        let stream = FileRange::new(file, tmp.path(), start..end);
        assert_eq!(
            stream.size_hint(),
            (end as usize - 100, Some(end as usize - 100))
        );

        let (got, sizes, error) = collect(stream).await;
        assert!(error.is_none(), "{error:?}");
        assert_eq!(got, &data[start as usize..end as usize]);
        assert_eq!(sizes, [CHUNK, CHUNK, 12000 - 100]);
    }

    #[tokio::test]
    async fn an_empty_range_yields_nothing() {
        let (tmp, file) = file_with(b"");
        let (got, sizes, error) = collect(FileRange::new(file, tmp.path(), 0..0)).await;
        assert!(got.is_empty() && sizes.is_empty() && error.is_none());
    }

    #[tokio::test]
    async fn a_file_truncated_while_served_ends_with_an_error_naming_it() {
        let data = pattern(4 * CHUNK);
        let (tmp, file) = file_with(&data);
        let mut stream = FileRange::new(file, tmp.path(), 0..data.len() as u64);
        let first = stream
            .next()
            .await
            .expect("a chunk")
            .expect("first chunk reads");
        assert_eq!(first, &data[..CHUNK]);
        // The second chunk is being read ahead, so cut the file just after it: the third read
        // starts only once the second chunk is handed out, and finds 10 bytes.
        std::fs::OpenOptions::new()
            .write(true)
            .open(tmp.path())
            .and_then(|f| f.set_len(2 * CHUNK as u64 + 10))
            .expect("truncate");

        let (rest, _, error) = collect(stream).await;
        assert!(rest == data[CHUNK..2 * CHUNK], "second chunk differs");
        let error = error.expect("the stream reports the truncation");
        assert!(
            matches!(error, ReadError::Truncated { end, .. } if end == 3 * CHUNK as u64),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(
            message.contains(&tmp.path().display().to_string()) && message.contains("truncated"),
            "{message}"
        );
    }
}
