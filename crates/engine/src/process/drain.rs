//! Concurrent draining of a child's stdout and stderr: every line goes to the log file (if
//! any), a bounded tail per stream, the optional line observer, and (for stdout, if asked) a
//! bounded capture buffer. A drain never stops reading because a sink failed: a child blocked
//! on a full pipe would hang, which is worse than a short log.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::task::JoinHandle;

use super::LineObserver;

/// Longest line kept as one line; longer output is split (a child printing megabytes without a
/// newline must not grow memory).
const MAX_LINE: usize = 8 * 1024;
/// Longest line kept in a tail (the log keeps the whole line).
const MAX_TAIL_LINE: usize = 1024;
const READ_CHUNK: usize = 16 * 1024;

/// Which of the child's output streams a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStream {
    Stdout,
    Stderr,
}

/// Shared by the two drain tasks and the guard.
#[derive(Clone)]
pub(crate) struct Capture(Arc<Mutex<CaptureState>>);

struct CaptureState {
    log: Option<LogSink>,
    stdout: StreamState,
    stderr: StreamState,
}

struct LogSink {
    writer: BufWriter<File>,
    path: PathBuf,
    failed: bool,
}

struct StreamState {
    tail: VecDeque<String>,
    tail_lines: usize,
    /// `Some` when the full stream is captured, with its byte limit.
    full: Option<(Vec<u8>, usize)>,
    truncated: bool,
}

impl StreamState {
    fn new(tail_lines: usize, capture_limit: Option<usize>) -> Self {
        StreamState {
            tail: VecDeque::with_capacity(tail_lines),
            tail_lines,
            full: capture_limit.map(|limit| (Vec::new(), limit)),
            truncated: false,
        }
    }

    fn push_line(&mut self, line: &str) {
        if self.tail.len() == self.tail_lines {
            self.tail.pop_front();
        }
        let mut kept = line.to_owned();
        if kept.len() > MAX_TAIL_LINE {
            let mut end = MAX_TAIL_LINE;
            while !kept.is_char_boundary(end) {
                end -= 1;
            }
            kept.truncate(end);
            kept.push_str(" [...]");
        }
        self.tail.push_back(kept);
    }

    fn push_raw(&mut self, bytes: &[u8]) {
        if let Some((buf, limit)) = self.full.as_mut() {
            let room = limit.saturating_sub(buf.len());
            if bytes.len() > room {
                self.truncated = true;
            }
            buf.extend_from_slice(&bytes[..bytes.len().min(room)]);
        }
    }

    fn tail_text(&self) -> String {
        let mut text = String::new();
        for line in &self.tail {
            text.push_str(line);
            text.push('\n');
        }
        text
    }
}

/// A snapshot of what the drains have seen so far.
pub(crate) struct Snapshot {
    pub stdout: Vec<u8>,
    pub stdout_truncated: bool,
    pub stdout_tail: String,
    pub stderr_tail: String,
}

impl Capture {
    pub(crate) fn new(
        log: Option<(File, PathBuf)>,
        tail_lines: usize,
        stdout_capture_limit: Option<usize>,
    ) -> Self {
        Capture(Arc::new(Mutex::new(CaptureState {
            log: log.map(|(file, path)| LogSink {
                writer: BufWriter::new(file),
                path,
                failed: false,
            }),
            stdout: StreamState::new(tail_lines, stdout_capture_limit),
            stderr: StreamState::new(tail_lines, None),
        })))
    }

    fn lock(&self) -> MutexGuard<'_, CaptureState> {
        // A poisoned lock only means another drain panicked mid-update; the tails are still
        // good enough to report from.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        let state = self.lock();
        Snapshot {
            stdout: state
                .stdout
                .full
                .as_ref()
                .map(|(buf, _)| buf.clone())
                .unwrap_or_default(),
            stdout_truncated: state.stdout.truncated,
            stdout_tail: state.stdout.tail_text(),
            stderr_tail: state.stderr.tail_text(),
        }
    }

    /// Records one chunk of raw bytes and the complete lines cut from it.
    fn record(&self, stream: OutputStream, raw: &[u8], lines: &[String]) {
        let mut state = self.lock();
        let state = &mut *state;
        let target = match stream {
            OutputStream::Stdout => &mut state.stdout,
            OutputStream::Stderr => &mut state.stderr,
        };
        target.push_raw(raw);
        for line in lines {
            target.push_line(line);
        }
        if let Some(log) = state.log.as_mut() {
            if !log.failed {
                let mut result = Ok(());
                for line in lines {
                    result = log
                        .writer
                        .write_all(line.as_bytes())
                        .and_then(|()| log.writer.write_all(b"\n"));
                    if result.is_err() {
                        break;
                    }
                }
                if let Err(error) = result.and_then(|()| log.writer.flush()) {
                    // Keep draining; only the log suffers.
                    log.failed = true;
                    tracing::warn!(log = %log.path.display(), %error, "cannot write child output to its log file; output from now on is only kept as a tail");
                }
            }
        }
    }
}

/// Splits a byte stream into lines of at most [`MAX_LINE`] bytes.
#[derive(Default)]
struct LineSplitter {
    pending: Vec<u8>,
}

impl LineSplitter {
    fn feed(&mut self, bytes: &[u8], out: &mut Vec<String>) {
        for &byte in bytes {
            if byte == b'\n' {
                out.push(take_line(&mut self.pending));
            } else {
                self.pending.push(byte);
                if self.pending.len() >= MAX_LINE {
                    out.push(take_line(&mut self.pending));
                }
            }
        }
    }

    fn finish(&mut self, out: &mut Vec<String>) {
        if !self.pending.is_empty() {
            out.push(take_line(&mut self.pending));
        }
    }
}

fn take_line(pending: &mut Vec<u8>) -> String {
    let mut line = String::from_utf8_lossy(pending).into_owned();
    pending.clear();
    if line.ends_with('\r') {
        line.pop();
    }
    line
}

/// Spawns a task that reads `reader` to EOF, feeding every sink.
pub(crate) fn spawn_drain<R>(
    mut reader: R,
    stream: OutputStream,
    capture: Capture,
    observer: Option<LineObserver>,
) -> JoinHandle<()>
where
    R: AsyncRead + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let mut buf = vec![0u8; READ_CHUNK];
        let mut splitter = LineSplitter::default();
        let mut lines = Vec::new();
        loop {
            let read = match reader.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => n,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    tracing::warn!(?stream, %error, "cannot read child output; stopping this drain");
                    break;
                }
            };
            lines.clear();
            splitter.feed(&buf[..read], &mut lines);
            capture.record(stream, &buf[..read], &lines);
            if let Some(observer) = &observer {
                for line in &lines {
                    observer(stream, line);
                }
            }
        }
        lines.clear();
        splitter.finish(&mut lines);
        capture.record(stream, &[], &lines);
        if let Some(observer) = &observer {
            for line in &lines {
                observer(stream, line);
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitter_handles_partial_long_and_crlf_lines() {
        let mut splitter = LineSplitter::default();
        let mut out = Vec::new();
        splitter.feed(b"first\r\nsec", &mut out);
        splitter.feed(b"ond\n", &mut out);
        splitter.feed(&vec![b'x'; MAX_LINE + 10], &mut out);
        splitter.finish(&mut out);
        assert_eq!(out[0], "first");
        assert_eq!(out[1], "second");
        assert_eq!(out[2].len(), MAX_LINE);
        assert_eq!(out[3].len(), 10);
        assert_eq!(out.len(), 4);
    }

    #[test]
    fn tail_keeps_only_the_last_lines_and_caps_capture() {
        let capture = Capture::new(None, 3, Some(8));
        let lines: Vec<String> = (1..=5).map(|i| format!("line {i}")).collect();
        capture.record(OutputStream::Stdout, b"0123456789", &lines);
        let snap = capture.snapshot();
        assert_eq!(snap.stdout_tail, "line 3\nline 4\nline 5\n");
        assert_eq!(snap.stdout, b"01234567");
        assert!(snap.stdout_truncated);
        assert_eq!(snap.stderr_tail, "");
    }
}
