//! The one entry point a restore calls to turn a byte stream into files: decompress (gzip,
//! zstd), recognise the container (xbstream, tar) and extract into a [`Sink`].
//!
//! Runs on a blocking thread over a plain `Read` (the parts of a split stream concatenated).
//! Errors carry the *raw* byte offset (in the bytes as stored, before decompression) so the
//! caller can name the part object where things went wrong, plus the member being written.

use std::fmt;
use std::io::{self, BufRead, Cursor, Read};

use serde::Serialize;

use crate::format::{sniff, Compression, Container, Sniffed, StreamFormat, SNIFF_LEN};
use crate::path::{PathError, SafePath};
use crate::sink::{Sink, SinkError};
use crate::xbstream::ExtractStats;
use crate::{tarball, xbstream};

/// Read buffer for the raw input: large reads, few system calls.
const RAW_BUFFER: usize = 1 << 20;

/// Why unpacking stopped.
#[derive(Debug, thiserror::Error)]
pub enum UnpackReason {
    #[error("truncated stream: {detail}")]
    Truncated { detail: String },
    #[error(
        "checksum mismatch in the chunk for file offset {file_offset}: stored {stored:08x}, \
         computed {computed:08x}"
    )]
    ChecksumMismatch {
        file_offset: u64,
        stored: u32,
        computed: u32,
    },
    #[error("unsafe member path refused: {0}")]
    UnsafePath(PathError),
    #[error(
        "out-of-order chunk: it starts at file offset {found} but {expected} bytes were written"
    )]
    OutOfOrder { expected: u64, found: u64 },
    #[error("the file appears again after its end-of-file chunk")]
    AfterEnd,
    #[error(
        "the stream ends before the file was complete{}",
        if *.others > 0 { format!(" (and {} other files)", .others) } else { String::new() }
    )]
    Incomplete { others: usize },
    #[error("not an xbstream chunk: the magic bytes are {}", show_bytes(.found))]
    BadMagic { found: Vec<u8> },
    #[error("unknown chunk type {} without the ignorable flag", show_bytes(&[*.chunk_type]))]
    UnknownChunkType { chunk_type: u8 },
    #[error("chunk path is {len} bytes long (the limit is 511)")]
    PathTooLong { len: u32 },
    #[error("invalid sparse chunk: {detail}")]
    BadSparseMap { detail: String },
    #[error("unsupported {kind} entry (only regular files and directories can be restored)")]
    UnsupportedEntry { kind: String },
    #[error("malformed tar archive: {detail}")]
    Tar { detail: String },
    #[error("{codec} decompression failed: {detail}")]
    Decompress { codec: &'static str, detail: String },
    #[error("the content is neither xbstream nor tar ({detail})")]
    UnknownContainer { detail: String },
    #[error("the stream is empty")]
    Empty,
    #[error("reading the input failed: {0}")]
    Input(io::Error),
    #[error("{0}")]
    Sink(SinkError),
}

fn show_bytes(bytes: &[u8]) -> String {
    let printable = bytes.iter().all(|b| b.is_ascii_graphic() || *b == b' ');
    if printable && !bytes.is_empty() {
        format!("{:?}", String::from_utf8_lossy(bytes))
    } else {
        bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// An unpack failure: the reason, the member being written (when known) and where.
#[derive(Debug)]
pub struct UnpackError {
    /// Offset in the raw input (as stored, before decompression): for an uncompressed stream
    /// the start of the failing chunk or entry; for a compressed one, how far the decoder had
    /// read. Map it to a part object to name the object.
    pub raw_offset: u64,
    /// Offset in the container stream (after decompression) of the failing chunk or entry.
    pub stream_offset: u64,
    /// The member being read or written, when known.
    pub member: Option<SafePath>,
    pub reason: UnpackReason,
}

impl UnpackError {
    pub(crate) fn new(reason: UnpackReason, stream_offset: u64, member: Option<SafePath>) -> Self {
        UnpackError {
            raw_offset: stream_offset,
            stream_offset,
            member,
            reason,
        }
    }

    /// See the field.
    pub fn raw_offset(&self) -> u64 {
        self.raw_offset
    }

    /// See the field.
    pub fn member(&self) -> Option<&SafePath> {
        self.member.as_ref()
    }

    /// See the field.
    pub fn reason(&self) -> &UnpackReason {
        &self.reason
    }
}

impl fmt::Display for UnpackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.member {
            Some(m) => write!(f, "member {m}: {}", self.reason),
            None => write!(f, "{}", self.reason),
        }
    }
}

impl std::error::Error for UnpackError {}

/// What [`unpack`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnpackStats {
    /// The format actually read (content wins over the name).
    pub format: StreamFormat,
    pub files: u64,
    /// Data bytes written to the sink.
    pub bytes: u64,
    /// Chunks (xbstream) or entries (tar).
    pub records: u64,
    /// Raw input bytes consumed.
    pub raw_bytes: u64,
    /// Name/content mismatches, e.g. "the stream is named as tar but its content is
    /// gzip-compressed; reading it as tar.gz".
    pub warnings: Vec<String>,
}

/// The raw input: a 1 MiB buffer that counts consumed bytes, can peek ahead, and remembers
/// whether the underlying reader failed (to tell input errors from decoder errors).
struct RawInput<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    filled: usize,
    consumed: u64,
    failed: bool,
    eof: bool,
}

impl<R: Read> RawInput<R> {
    fn new(inner: R) -> Self {
        RawInput {
            inner,
            buf: vec![0; RAW_BUFFER].into_boxed_slice(),
            pos: 0,
            filled: 0,
            consumed: 0,
            failed: false,
            eof: false,
        }
    }

    fn read_inner(&mut self, range_start: usize) -> io::Result<usize> {
        loop {
            match self.inner.read(&mut self.buf[range_start..]) {
                Ok(n) => {
                    if n == 0 {
                        self.eof = true;
                    }
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.failed = true;
                    return Err(e);
                }
            }
        }
    }

    /// Up to `n` buffered bytes without consuming them (fewer only at end of input).
    fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        let n = n.min(self.buf.len());
        if self.filled - self.pos < n && self.pos > 0 {
            self.buf.copy_within(self.pos..self.filled, 0);
            self.filled -= self.pos;
            self.pos = 0;
        }
        while self.filled - self.pos < n && !self.eof {
            let got = self.read_inner(self.filled)?;
            self.filled += got;
        }
        let end = self.filled.min(self.pos + n);
        Ok(&self.buf[self.pos..end])
    }
}

impl<R: Read> Read for RawInput<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.filled && out.len() >= self.buf.len() {
            // Large read with nothing buffered: straight into the caller's buffer.
            let n = loop {
                match self.inner.read(out) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        self.failed = true;
                        return Err(e);
                    }
                }
            };
            self.consumed += n as u64;
            return Ok(n);
        }
        let avail = self.fill_buf()?;
        let n = avail.len().min(out.len());
        out[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for RawInput<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.filled {
            self.pos = 0;
            self.filled = 0;
            self.filled = self.read_inner(0)?;
        }
        Ok(&self.buf[self.pos..self.filled])
    }

    fn consume(&mut self, n: usize) {
        let n = n.min(self.filled - self.pos);
        self.pos += n;
        self.consumed += n as u64;
    }
}

fn codec_name(c: Compression) -> &'static str {
    match c {
        Compression::None => "none",
        Compression::Gzip => "gzip",
        Compression::Zstd => "zstd",
    }
}

fn mismatch(named: StreamFormat, actual: StreamFormat) -> String {
    let container = match actual.container {
        Some(Container::Xbstream) => "xbstream",
        Some(Container::Tar) => "tar archive",
        None => "stream",
    };
    let content = match actual.compression {
        Compression::None => format!("an uncompressed {container}"),
        c => format!("a {}-compressed {container}", codec_name(c)),
    };
    format!(
        "the stream is named as {} but its content is {content}; reading it as {}",
        named.label(),
        actual.label()
    )
}

/// Unpacks one stream into `sink`.
///
/// `format` is what the object name says (see [`crate::format`]); the content wins where it
/// disagrees (the leading bytes are checked for a compression magic, and the container is
/// recognised after decompression), and [`UnpackStats::warnings`] says so. gzip may have several
/// members and zstd several frames (including long-window frames up to 2 GiB windows).
pub fn unpack<R: Read, S: Sink>(
    input: R,
    format: StreamFormat,
    sink: &mut S,
) -> Result<UnpackStats, UnpackError> {
    let mut raw = RawInput::new(input);
    let mut warnings = Vec::new();
    let input_error = |e: io::Error| UnpackError::new(UnpackReason::Input(e), 0, None);

    let raw_sniff = sniff(raw.peek(SNIFF_LEN).map_err(input_error)?);
    if raw.filled == raw.pos {
        return Err(UnpackError::new(UnpackReason::Empty, 0, None));
    }
    let mut actual = format;
    actual.compression = match raw_sniff {
        Sniffed::Gzip => Compression::Gzip,
        Sniffed::Zstd => Compression::Zstd,
        Sniffed::Xbstream | Sniffed::Tar => Compression::None,
        Sniffed::Unknown => format.compression,
    };

    let compression = actual.compression;
    let result = match compression {
        Compression::None => run_container(&mut raw, &mut actual, format, sink, &mut warnings),
        Compression::Gzip => {
            let mut dec = flate2::bufread::MultiGzDecoder::new(&mut raw);
            run_container(&mut dec, &mut actual, format, sink, &mut warnings)
        }
        Compression::Zstd => match zstd::stream::read::Decoder::with_buffer(&mut raw) {
            Ok(mut dec) => match dec.window_log_max(31) {
                Ok(()) => run_container(&mut dec, &mut actual, format, sink, &mut warnings),
                Err(e) => Err(UnpackError::new(
                    UnpackReason::Decompress {
                        codec: "zstd",
                        detail: e.to_string(),
                    },
                    0,
                    None,
                )),
            },
            Err(e) => Err(UnpackError::new(
                UnpackReason::Decompress {
                    codec: "zstd",
                    detail: e.to_string(),
                },
                0,
                None,
            )),
        },
    };
    match result {
        Ok(stats) => Ok(UnpackStats {
            format: actual,
            files: stats.files,
            bytes: stats.bytes,
            records: stats.records,
            raw_bytes: raw.consumed,
            warnings,
        }),
        Err(mut e) => {
            if compression != Compression::None {
                e.raw_offset = raw.consumed;
                if let UnpackReason::Input(io) = &e.reason {
                    if !raw.failed {
                        // The decoder, not the input, failed.
                        let detail = io.to_string();
                        e.reason = if io.kind() == io::ErrorKind::UnexpectedEof {
                            UnpackReason::Truncated {
                                detail: format!(
                                    "the {} data ends early ({detail})",
                                    codec_name(compression)
                                ),
                            }
                        } else {
                            UnpackReason::Decompress {
                                codec: codec_name(compression),
                                detail,
                            }
                        };
                    }
                }
            }
            Err(e)
        }
    }
}

/// Recognises the container of the (decompressed) stream and extracts it.
fn run_container<R: Read, S: Sink>(
    stream: &mut R,
    actual: &mut StreamFormat,
    named: StreamFormat,
    sink: &mut S,
    warnings: &mut Vec<String>,
) -> Result<ExtractStats, UnpackError> {
    let mut prefix = Vec::with_capacity(SNIFF_LEN);
    stream
        .by_ref()
        .take(SNIFF_LEN as u64)
        .read_to_end(&mut prefix)
        .map_err(|e| UnpackError::new(UnpackReason::Input(e), 0, None))?;
    if prefix.is_empty() {
        return Err(UnpackError::new(UnpackReason::Empty, 0, None));
    }
    let sniffed = sniff(&prefix);
    let container = match sniffed {
        Sniffed::Xbstream => Container::Xbstream,
        Sniffed::Tar => Container::Tar,
        Sniffed::Gzip | Sniffed::Zstd => {
            return Err(UnpackError::new(
                UnpackReason::UnknownContainer {
                    detail: format!(
                        "after decompression it is {} again",
                        if sniffed == Sniffed::Gzip {
                            "gzip-compressed"
                        } else {
                            "zstd-compressed"
                        }
                    ),
                },
                0,
                None,
            ))
        }
        Sniffed::Unknown => match actual.container {
            Some(c) => c,
            None => {
                let shown = &prefix[..prefix.len().min(8)];
                return Err(UnpackError::new(
                    UnpackReason::UnknownContainer {
                        detail: format!("it starts with {}", show_bytes(shown)),
                    },
                    0,
                    None,
                ));
            }
        },
    };
    let container_differs = named.container.is_some_and(|c| c != container);
    actual.container = Some(container);
    if container_differs || actual.compression != named.compression {
        warnings.push(mismatch(named, *actual));
    }
    let mut joined = Cursor::new(prefix).chain(stream);
    match container {
        Container::Xbstream => xbstream::extract(&mut joined, sink),
        Container::Tar => tarball::extract(&mut joined, sink),
    }
}

#[cfg(test)]
mod tests;
