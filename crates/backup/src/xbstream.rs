//! A native, streaming xbstream reader (`--stream=xbstream`, `mbstream`).
//!
//! An xbstream is a plain concatenation of self-describing chunks (see
//! `docs/backup-formats.md` §1): payload (`P`), sparse payload (`S`, PXB 8.0) and end-of-file
//! (`E`) chunks, several files interleaved. This reader never holds a whole chunk in memory
//! (chunks are 10 MiB or more): payloads go to the [`Sink`] in pieces of at most 1 MiB while
//! their CRC-32 is computed, and the checksum is verified when the chunk ends. Unlike stock
//! `mbstream`, which skips unsafe paths and duplicate files and exits 0, every irregularity is
//! an error naming the member and the byte offset in the stream.

use std::collections::{HashMap, HashSet};
use std::io::{self, Read};

use serde::Serialize;

use crate::path::SafePath;
use crate::sink::Sink;
use crate::unpack::{UnpackError, UnpackReason};

/// Magic at the start of every chunk.
pub const MAGIC: &[u8; 8] = b"XBSTCK01";
/// Flag bit: a reader that does not know the chunk type may skip it.
pub const FLAG_IGNORABLE: u8 = 0x01;
/// Paths are refused from this length on (FN_REFLEN in the C readers).
pub const MAX_PATH_LEN: u32 = 512;
/// Payload is handed to the sink in pieces of at most this size.
const PIECE: usize = 1 << 20;
/// Upper bound on the entries of one sparse map (a 10 MiB chunk of 1 KiB extents has 10k).
const MAX_SPARSE_ENTRIES: u32 = 1 << 22;

/// The kind of a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ChunkType {
    /// `P`: file data at an offset.
    Payload,
    /// `S`: file data with holes (PXB 8.0), described by a sparse map.
    Sparse,
    /// `E`: the file is complete.
    Eof,
    /// Any other type byte; only returned when the chunk is flagged ignorable.
    Unknown(u8),
}

/// One `{skip, len}` entry of a sparse chunk's map: leave `skip` bytes as a hole, then write
/// `len` bytes of payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SparseEntry {
    pub skip: u32,
    pub len: u32,
}

/// A chunk header (everything but the payload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChunkHeader {
    /// Byte offset of the chunk in the stream.
    pub stream_offset: u64,
    pub flags: u8,
    pub chunk_type: ChunkType,
    pub path: SafePath,
    /// Payload bytes that follow the header (0 for `E`).
    pub payload_len: u64,
    /// File offset the chunk's data starts at.
    pub payload_offset: u64,
    /// Stored CRC-32 (payload, preceded by the sparse map for `S`).
    pub checksum: u32,
    /// Only for `S` chunks.
    pub sparse_map: Vec<SparseEntry>,
}

/// What an extraction did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ExtractStats {
    /// Files completed.
    pub files: u64,
    /// Payload bytes written (holes excluded).
    pub bytes: u64,
    /// Chunks (xbstream) or entries (tar) read.
    pub records: u64,
}

/// A chunk-by-chunk xbstream reader.
///
/// Call [`Reader::next_chunk`] for a header, then optionally [`Reader::read_payload`] to stream
/// and verify its payload; an unread payload is skipped (unverified) by the next
/// `next_chunk`.
pub struct Reader<R> {
    input: R,
    /// Bytes consumed from `input`.
    position: u64,
    /// Header of the current chunk, while its payload is unread.
    current: Option<Current>,
    buf: Vec<u8>,
}

struct Current {
    stream_offset: u64,
    path: SafePath,
    remaining: u64,
    checksum: u32,
    file_offset: u64,
    crc: crc32fast::Hasher,
}

impl<R: Read> Reader<R> {
    pub fn new(input: R) -> Reader<R> {
        Reader {
            input,
            position: 0,
            current: None,
            buf: Vec::new(),
        }
    }

    /// Bytes consumed from the input so far.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Gives the input back.
    pub fn into_inner(self) -> R {
        self.input
    }

    /// Reads into `out` until full. `Ok(false)` when the input ends before the first byte
    /// and `eof_ok`; a short read otherwise is a truncation error.
    fn fill(
        &mut self,
        out: &mut [u8],
        eof_ok: bool,
        chunk_start: u64,
        member: Option<&SafePath>,
    ) -> Result<bool, UnpackError> {
        let mut done = 0;
        while done < out.len() {
            match self.input.read(&mut out[done..]) {
                Ok(0) if done == 0 && eof_ok => return Ok(false),
                Ok(0) => {
                    let at = self.position;
                    return Err(UnpackError::new(
                        UnpackReason::Truncated {
                            detail: format!(
                                "the stream ends at byte {at}, inside the chunk that starts at \
                                 byte {chunk_start}"
                            ),
                        },
                        chunk_start,
                        member.cloned(),
                    ));
                }
                Ok(n) => {
                    done += n;
                    self.position += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(UnpackError::new(
                        UnpackReason::Input(e),
                        chunk_start,
                        member.cloned(),
                    ))
                }
            }
        }
        Ok(true)
    }

    fn read_u32(&mut self, start: u64, member: Option<&SafePath>) -> Result<u32, UnpackError> {
        let mut b = [0u8; 4];
        self.fill(&mut b, false, start, member)?;
        Ok(u32::from_le_bytes(b))
    }

    fn read_u64(&mut self, start: u64, member: Option<&SafePath>) -> Result<u64, UnpackError> {
        let mut b = [0u8; 8];
        self.fill(&mut b, false, start, member)?;
        Ok(u64::from_le_bytes(b))
    }

    /// Skips the unread payload of the current chunk, if any.
    fn skip_payload(&mut self) -> Result<(), UnpackError> {
        if self.current.is_some() {
            self.stream_payload(false, |_| Ok(()))?;
        }
        Ok(())
    }

    /// The next chunk's header, or `None` at the end of the stream (which must fall between
    /// chunks).
    pub fn next_chunk(&mut self) -> Result<Option<ChunkHeader>, UnpackError> {
        self.skip_payload()?;
        let start = self.position;
        let mut fixed = [0u8; 14];
        if !self.fill(&mut fixed, true, start, None)? {
            return Ok(None);
        }
        if &fixed[..8] != MAGIC {
            return Err(UnpackError::new(
                UnpackReason::BadMagic {
                    found: fixed[..8].to_vec(),
                },
                start,
                None,
            ));
        }
        let flags = fixed[8];
        let type_byte = fixed[9];
        let path_len = u32::from_le_bytes([fixed[10], fixed[11], fixed[12], fixed[13]]);
        if path_len >= MAX_PATH_LEN {
            return Err(UnpackError::new(
                UnpackReason::PathTooLong { len: path_len },
                start,
                None,
            ));
        }
        let mut path_buf = [0u8; MAX_PATH_LEN as usize];
        let path_bytes = &mut path_buf[..path_len as usize];
        self.fill(path_bytes, false, start, None)?;
        let path = SafePath::from_bytes(path_bytes)
            .map_err(|e| UnpackError::new(UnpackReason::UnsafePath(e), start, None))?;
        let chunk_type = match type_byte {
            b'P' => ChunkType::Payload,
            b'S' => ChunkType::Sparse,
            b'E' => ChunkType::Eof,
            other if flags & FLAG_IGNORABLE != 0 => ChunkType::Unknown(other),
            other => {
                return Err(UnpackError::new(
                    UnpackReason::UnknownChunkType { chunk_type: other },
                    start,
                    Some(path),
                ))
            }
        };
        let mut header = ChunkHeader {
            stream_offset: start,
            flags,
            chunk_type,
            path,
            payload_len: 0,
            payload_offset: 0,
            checksum: 0,
            sparse_map: Vec::new(),
        };
        if chunk_type == ChunkType::Eof {
            return Ok(Some(header));
        }
        let member = Some(&header.path);
        let entries = if chunk_type == ChunkType::Sparse {
            self.read_u32(start, member)?
        } else {
            0
        };
        header.payload_len = self.read_u64(start, member)?;
        header.payload_offset = self.read_u64(start, member)?;
        header.checksum = self.read_u32(start, member)?;
        let mut crc = crc32fast::Hasher::new();
        if chunk_type == ChunkType::Sparse {
            header.sparse_map = self.read_sparse_map(&header, entries, &mut crc)?;
        }
        self.current = Some(Current {
            stream_offset: start,
            path: header.path.clone(),
            remaining: header.payload_len,
            checksum: header.checksum,
            file_offset: header.payload_offset,
            crc,
        });
        Ok(Some(header))
    }

    fn read_sparse_map(
        &mut self,
        header: &ChunkHeader,
        entries: u32,
        crc: &mut crc32fast::Hasher,
    ) -> Result<Vec<SparseEntry>, UnpackError> {
        let start = header.stream_offset;
        let bad = |detail: String| {
            UnpackError::new(
                UnpackReason::BadSparseMap { detail },
                start,
                Some(header.path.clone()),
            )
        };
        if entries > MAX_SPARSE_ENTRIES {
            return Err(bad(format!(
                "{entries} map entries (limit {MAX_SPARSE_ENTRIES})"
            )));
        }
        // Grown as entries arrive: a lying count cannot make us allocate more than the input.
        let mut map = Vec::new();
        let mut data_total = 0u64;
        let mut extent = 0u64;
        let mut raw = [0u8; 8];
        for _ in 0..entries {
            self.fill(&mut raw, false, start, Some(&header.path))?;
            crc.update(&raw);
            let skip = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]);
            let len = u32::from_le_bytes([raw[4], raw[5], raw[6], raw[7]]);
            data_total += u64::from(len);
            extent += u64::from(skip) + u64::from(len);
            map.push(SparseEntry { skip, len });
        }
        if data_total != header.payload_len {
            return Err(bad(format!(
                "the map covers {data_total} data bytes but the payload is {} bytes",
                header.payload_len
            )));
        }
        if header.payload_offset.checked_add(extent).is_none() {
            return Err(bad(
                "the map reaches beyond the largest file offset".to_string()
            ));
        }
        Ok(map)
    }

    /// Streams the current chunk's remaining payload to `each` in pieces of at most 1 MiB,
    /// then verifies its checksum. Does nothing after an `E` chunk.
    pub fn read_payload(
        &mut self,
        each: impl FnMut(&[u8]) -> Result<(), UnpackError>,
    ) -> Result<(), UnpackError> {
        self.stream_payload(true, each)
    }

    fn stream_payload(
        &mut self,
        verify: bool,
        mut each: impl FnMut(&[u8]) -> Result<(), UnpackError>,
    ) -> Result<(), UnpackError> {
        let Some(mut cur) = self.current.take() else {
            return Ok(());
        };
        if self.buf.len() < PIECE {
            self.buf = vec![0; PIECE];
        }
        let mut buf = std::mem::take(&mut self.buf);
        let result = (|| {
            while cur.remaining > 0 {
                let want = cur.remaining.min(PIECE as u64) as usize;
                let n = self.read_some(&mut buf[..want], &cur)?;
                cur.crc.update(&buf[..n]);
                cur.remaining -= n as u64;
                each(&buf[..n])?;
            }
            Ok(())
        })();
        self.buf = buf;
        result?;
        let computed = cur.crc.finalize();
        if verify && computed != cur.checksum {
            return Err(UnpackError::new(
                UnpackReason::ChecksumMismatch {
                    file_offset: cur.file_offset,
                    stored: cur.checksum,
                    computed,
                },
                cur.stream_offset,
                Some(cur.path),
            ));
        }
        Ok(())
    }

    /// One read of at least one byte of payload.
    fn read_some(&mut self, out: &mut [u8], cur: &Current) -> Result<usize, UnpackError> {
        loop {
            match self.input.read(out) {
                Ok(0) => {
                    let at = self.position;
                    return Err(UnpackError::new(
                        UnpackReason::Truncated {
                            detail: format!(
                                "the stream ends at byte {at}, {} bytes short of the end of the \
                                 chunk that starts at byte {}",
                                cur.remaining, cur.stream_offset
                            ),
                        },
                        cur.stream_offset,
                        Some(cur.path.clone()),
                    ));
                }
                Ok(n) => {
                    self.position += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(UnpackError::new(
                        UnpackReason::Input(e),
                        cur.stream_offset,
                        Some(cur.path.clone()),
                    ))
                }
            }
        }
    }
}

/// Extracts a whole xbstream into `sink`, checking every chunk's checksum, that each file's
/// chunks are contiguous and in order, that no file reappears after its `E` chunk, and that no
/// file is left without its `E` chunk when the stream ends.
pub fn extract<R: Read, S: Sink>(input: R, sink: &mut S) -> Result<ExtractStats, UnpackError> {
    let mut reader = Reader::new(input);
    let mut open: HashMap<SafePath, u64> = HashMap::new();
    let mut ended: HashSet<SafePath> = HashSet::new();
    let mut stats = ExtractStats::default();
    while let Some(header) = reader.next_chunk()? {
        stats.records += 1;
        let start = header.stream_offset;
        let fail = |reason| UnpackError::new(reason, start, Some(header.path.clone()));
        if ended.contains(&header.path) {
            return Err(fail(UnpackReason::AfterEnd));
        }
        match header.chunk_type {
            ChunkType::Unknown(_) => continue,
            ChunkType::Eof => {
                let len = open.remove(&header.path).unwrap_or(0);
                sink.finish_file(&header.path, len)
                    .map_err(|e| fail(UnpackReason::Sink(e)))?;
                stats.files += 1;
                ended.insert(header.path);
                continue;
            }
            ChunkType::Payload | ChunkType::Sparse => {}
        }
        let expected = open.get(&header.path).copied().unwrap_or(0);
        if header.payload_offset != expected {
            return Err(fail(UnpackReason::OutOfOrder {
                expected,
                found: header.payload_offset,
            }));
        }
        let path = &header.path;
        let end = if header.chunk_type == ChunkType::Sparse {
            write_sparse(&mut reader, sink, &header)?
        } else {
            let mut pos = header.payload_offset;
            reader.read_payload(|piece| {
                sink.write_at(path, pos, piece).map_err(|e| {
                    UnpackError::new(UnpackReason::Sink(e), start, Some(path.clone()))
                })?;
                pos += piece.len() as u64;
                Ok(())
            })?;
            pos
        };
        stats.bytes += header.payload_len;
        open.insert(header.path, end);
    }
    if !open.is_empty() {
        let mut unfinished: Vec<SafePath> = open.into_keys().collect();
        unfinished.sort();
        let others = unfinished.len() - 1;
        let first = unfinished.swap_remove(0);
        return Err(UnpackError::new(
            UnpackReason::Incomplete { others },
            reader.position(),
            Some(first),
        ));
    }
    Ok(stats)
}

/// Writes a sparse chunk's payload at the places its map says; returns the file offset after
/// the chunk (holes included).
fn write_sparse<R: Read, S: Sink>(
    reader: &mut Reader<R>,
    sink: &mut S,
    header: &ChunkHeader,
) -> Result<u64, UnpackError> {
    let map = &header.sparse_map;
    let path = &header.path;
    let start = header.stream_offset;
    let mut next = 0usize;
    let mut left = 0u64;
    // Bounds were checked with the map: offset + all skips + all lens fits in u64.
    let mut pos = header.payload_offset;
    reader.read_payload(|mut piece| {
        while !piece.is_empty() {
            while left == 0 {
                let Some(&entry) = map.get(next) else {
                    return Err(UnpackError::new(
                        UnpackReason::BadSparseMap {
                            detail: "more payload than the map describes".into(),
                        },
                        start,
                        Some(path.clone()),
                    ));
                };
                next += 1;
                pos += u64::from(entry.skip);
                left = u64::from(entry.len);
            }
            let n = left.min(piece.len() as u64) as usize;
            sink.write_at(path, pos, &piece[..n])
                .map_err(|e| UnpackError::new(UnpackReason::Sink(e), start, Some(path.clone())))?;
            pos += n as u64;
            left -= n as u64;
            piece = &piece[n..];
        }
        Ok(())
    })?;
    // Entries after the last data byte can only be holes (their lens sum to zero).
    for entry in map.get(next..).unwrap_or_default() {
        pos += u64::from(entry.skip) + u64::from(entry.len);
    }
    Ok(pos)
}

#[cfg(test)]
pub(crate) mod testutil;

#[cfg(test)]
mod tests;
