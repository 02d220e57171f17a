//! A bounded in-memory pipe from the async dump generator to the loader's blocking reader:
//! chunks of bytes, at most `capacity` bytes queued (a single chunk larger than that is let
//! through alone, so one long row never deadlocks), closed by the writer with an end or an
//! error, and by the reader by dropping it.
//!
//! The reader blocks its thread (a `Condvar`), never a runtime: the loader reads its input
//! on a plain thread, and its first bytes from inside an async function, so the writer must
//! not need that thread. The writer awaits room asynchronously (`Notify`).

use std::collections::VecDeque;
use std::io::{self, BufRead, Read};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use tokio::sync::Notify;

struct State {
    chunks: VecDeque<Vec<u8>>,
    /// Bytes queued in `chunks`.
    queued: usize,
    /// The writer is done: `Some(Ok)` at the end, `Some(Err)` after a failure.
    closed: Option<Result<(), String>>,
    /// The reader is gone: nobody will read what is written.
    reader_gone: bool,
}

struct Shared {
    state: Mutex<State>,
    /// Wakes the reader (data or close).
    readable: Condvar,
    /// Wakes the writer (room, or the reader gone).
    writable: Notify,
    capacity: usize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A pipe holding at most `capacity` bytes (at least one chunk).
pub fn pipe(capacity: usize) -> (PipeWriter, PipeReader) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            chunks: VecDeque::new(),
            queued: 0,
            closed: None,
            reader_gone: false,
        }),
        readable: Condvar::new(),
        writable: Notify::new(),
        capacity,
    });
    (
        PipeWriter {
            shared: shared.clone(),
            finished: false,
        },
        PipeReader {
            shared,
            current: Vec::new(),
            pos: 0,
        },
    )
}

/// The reader dropped its end: nothing more will be read.
#[derive(Debug, thiserror::Error)]
#[error("the loader stopped reading the snapshot")]
pub struct ReaderGone;

/// The writing end. Dropped without [`PipeWriter::finish`] or [`PipeWriter::fail`], the
/// reader sees an error (a generator that vanished must not look like a complete dump).
pub struct PipeWriter {
    shared: Arc<Shared>,
    finished: bool,
}

impl PipeWriter {
    /// Queues `chunk`, waiting while the pipe is full.
    pub async fn write(&self, chunk: Vec<u8>) -> Result<(), ReaderGone> {
        if chunk.is_empty() {
            return Ok(());
        }
        loop {
            // Registered before the check, so a wake between the check and the wait is kept.
            let notified = self.shared.writable.notified();
            {
                let mut st = self.shared.lock();
                if st.reader_gone {
                    return Err(ReaderGone);
                }
                if st.queued == 0 || st.queued + chunk.len() <= self.shared.capacity {
                    st.queued += chunk.len();
                    st.chunks.push_back(chunk);
                    self.shared.readable.notify_one();
                    return Ok(());
                }
            }
            notified.await;
        }
    }

    /// The end of the input: the reader sees EOF after the queued bytes.
    pub fn finish(mut self) {
        self.close(Ok(()));
    }

    /// The input failed: the reader sees this error after the queued bytes.
    pub fn fail(mut self, message: String) {
        self.close(Err(message));
    }

    fn close(&mut self, how: Result<(), String>) {
        self.finished = true;
        let mut st = self.shared.lock();
        if st.closed.is_none() {
            st.closed = Some(how);
        }
        self.shared.readable.notify_all();
    }
}

impl Drop for PipeWriter {
    fn drop(&mut self) {
        if !self.finished {
            self.close(Err("the snapshot's generator stopped before the end".into()));
        }
    }
}

/// The reading end: a blocking [`BufRead`].
pub struct PipeReader {
    shared: Arc<Shared>,
    current: Vec<u8>,
    pos: usize,
}

impl Drop for PipeReader {
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        st.reader_gone = true;
        st.chunks.clear();
        st.queued = 0;
        drop(st);
        self.shared.writable.notify_one();
    }
}

impl BufRead for PipeReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.current.len() {
            let mut st = self.shared.lock();
            loop {
                if let Some(chunk) = st.chunks.pop_front() {
                    st.queued -= chunk.len();
                    self.current = chunk;
                    self.pos = 0;
                    drop(st);
                    self.shared.writable.notify_one();
                    break;
                }
                match &st.closed {
                    Some(Ok(())) => return Ok(&[]),
                    Some(Err(message)) => return Err(io::Error::other(message.clone())),
                    None => {
                        st = self
                            .shared
                            .readable
                            .wait(st)
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                    }
                }
            }
        }
        Ok(&self.current[self.pos..])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.current.len());
    }
}

impl Read for PipeReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    #[test]
    fn bytes_arrive_in_order_and_end() {
        let (w, mut r) = pipe(8);
        let reader = std::thread::spawn(move || {
            let mut all = Vec::new();
            r.read_to_end(&mut all).map(|_| all)
        });
        runtime().block_on(async {
            for i in 0..100u8 {
                w.write(vec![i; (i % 5) as usize + 1])
                    .await
                    .expect("reader alive");
            }
            w.finish();
        });
        let all = reader.join().expect("reader thread").expect("read");
        let want: Vec<u8> = (0..100u8)
            .flat_map(|i| std::iter::repeat_n(i, (i % 5) as usize + 1))
            .collect();
        assert_eq!(all, want);
    }

    #[test]
    fn the_writer_waits_while_full_and_a_large_chunk_passes_alone() {
        let (w, mut r) = pipe(4);
        let rt = runtime();
        rt.block_on(async {
            w.write(vec![1; 3]).await.expect("room");
            // 3 + 3 > 4: this write must wait until the reader takes the first chunk.
            let second = w.write(vec![2; 3]);
            tokio::pin!(second);
            assert!(
                tokio::time::timeout(Duration::from_millis(50), &mut second)
                    .await
                    .is_err(),
                "a write beyond the capacity waits"
            );
            let mut first = [0u8; 3];
            r.read_exact(&mut first).expect("first chunk");
            assert_eq!(first, [1; 3]);
            second.await.expect("room after the read");
            let mut b = [0u8; 3];
            r.read_exact(&mut b).expect("second chunk");
            // Larger than the capacity, into an empty pipe: let through.
            w.write(vec![3; 10])
                .await
                .expect("an empty pipe takes any chunk");
        });
        let mut big = [0u8; 10];
        r.read_exact(&mut big).expect("big chunk");
        assert_eq!(big, [3; 10]);
    }

    #[test]
    fn a_failure_reaches_the_reader_after_the_queued_bytes() {
        let (w, mut r) = pipe(64);
        runtime().block_on(async {
            w.write(b"abc".to_vec()).await.expect("room");
            w.fail("table t: connection lost".into());
        });
        let mut buf = [0u8; 3];
        r.read_exact(&mut buf).expect("queued bytes first");
        let err = r.read(&mut buf).expect_err("then the error");
        assert!(
            err.to_string().contains("table t: connection lost"),
            "{err}"
        );
    }

    #[test]
    fn a_dropped_writer_is_an_error_not_an_end() {
        let (w, mut r) = pipe(64);
        drop(w);
        let mut all = Vec::new();
        let err = r.read_to_end(&mut all).expect_err("not a clean end");
        assert!(err.to_string().contains("stopped before the end"), "{err}");
    }

    #[test]
    fn a_dropped_reader_stops_a_waiting_writer() {
        let (w, r) = pipe(2);
        runtime().block_on(async {
            w.write(vec![0; 2]).await.expect("room");
            let blocked = w.write(vec![0; 2]);
            tokio::pin!(blocked);
            assert!(
                tokio::time::timeout(Duration::from_millis(20), &mut blocked)
                    .await
                    .is_err()
            );
            drop(r);
            assert!(
                blocked.await.is_err(),
                "the writer learns the reader is gone"
            );
        });
    }
}
