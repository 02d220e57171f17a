//! A decoder for qpress archives (`.qp`), which `mariabackup --compress` (and PXB <= 8.0.33
//! `--compress`) writes for every data file.
//!
//! `mariabackup --decompress` shells out to the `qpress` binary, which Debian does not ship, so
//! ferry decodes `.qp` itself: a `Read` adapter over the archive that yields the original
//! file's bytes. The layout (docs/backup-formats.md §4.1) is a `qpress10` header with one file
//! entry, then `NEWBNEWB` blocks (an Adler-32 and one QuickLZ 1.5.0 level-1 block each), then
//! an `ENDSENDS` trailer. Every block's Adler-32 is verified, and the QuickLZ decoder checks
//! every back-reference and length, so corrupt input is an error, never a panic or an
//! out-of-bounds access.

use std::io::{self, Read, Write};

/// Archive magic.
pub const MAGIC: &[u8; 8] = b"qpress10";
const NEW_BLOCK: &[u8; 8] = b"NEWBNEWB";
const END: &[u8; 8] = b"ENDSENDS";
/// Largest block accepted (the default is 64 KiB; `--compress-chunk-size` rarely goes past
/// a few MiB).
const MAX_CHUNK: u64 = 64 << 20;
const MAX_NAME: u32 = 4096;

/// A `.qp` archive that cannot be decoded.
#[derive(Debug, thiserror::Error)]
pub enum QpressError {
    #[error("qpress archive ends early, at byte {at}")]
    Truncated { at: u64 },
    #[error("not a qpress archive: {detail} at byte {at}")]
    BadHeader { at: u64, detail: String },
    #[error("corrupt qpress block at byte {at}: {detail}")]
    BadBlock { at: u64, detail: String },
    #[error(
        "corrupt qpress block at byte {at}: stored Adler-32 {stored:08x}, computed {computed:08x}"
    )]
    Checksum { at: u64, stored: u32, computed: u32 },
    #[error("reading the qpress archive failed: {0}")]
    Io(io::Error),
}

impl From<QpressError> for io::Error {
    fn from(e: QpressError) -> io::Error {
        match e {
            QpressError::Io(e) => e,
            QpressError::Truncated { .. } => io::Error::new(io::ErrorKind::UnexpectedEof, e),
            other => io::Error::new(io::ErrorKind::InvalidData, other),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Header,
    Blocks,
    Done,
}

/// Reads a qpress archive and yields the decompressed content of its (single) file.
pub struct Decoder<R> {
    input: R,
    state: State,
    position: u64,
    chunk_size: u64,
    name: Option<String>,
    block: Vec<u8>,
    out: Vec<u8>,
    out_pos: usize,
}

fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65521;
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

impl<R: Read> Decoder<R> {
    pub fn new(input: R) -> Decoder<R> {
        Decoder {
            input,
            state: State::Header,
            position: 0,
            chunk_size: 0,
            name: None,
            block: Vec::new(),
            out: Vec::new(),
            out_pos: 0,
        }
    }

    /// The file name stored in the archive (e.g. `ibdata1`), once the header was read.
    pub fn file_name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    fn fill(&mut self, buf: &mut [u8]) -> Result<(), QpressError> {
        let mut done = 0;
        while done < buf.len() {
            match self.input.read(&mut buf[done..]) {
                Ok(0) => return Err(QpressError::Truncated { at: self.position }),
                Ok(n) => {
                    done += n;
                    self.position += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(QpressError::Io(e)),
            }
        }
        Ok(())
    }

    fn u32(&mut self) -> Result<u32, QpressError> {
        let mut b = [0u8; 4];
        self.fill(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn u64(&mut self) -> Result<u64, QpressError> {
        let mut b = [0u8; 8];
        self.fill(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn read_header(&mut self) -> Result<(), QpressError> {
        let bad = |at, detail: String| QpressError::BadHeader { at, detail };
        let mut magic = [0u8; 8];
        self.fill(&mut magic)?;
        if &magic != MAGIC {
            return Err(bad(0, "the magic bytes are not `qpress10`".into()));
        }
        self.chunk_size = self.u64()?;
        if self.chunk_size == 0 || self.chunk_size > MAX_CHUNK {
            return Err(bad(
                8,
                format!("chunk size {} is out of range", self.chunk_size),
            ));
        }
        let mut kind = [0u8; 1];
        self.fill(&mut kind)?;
        if kind[0] != b'F' {
            return Err(bad(
                16,
                format!("entry type {:#04x} is not a file (`F`)", kind[0]),
            ));
        }
        let len = self.u32()?;
        if len > MAX_NAME {
            return Err(bad(17, format!("file name length {len} is out of range")));
        }
        let mut name = vec![0u8; len as usize + 1];
        self.fill(&mut name)?;
        if name.pop() != Some(0) {
            return Err(bad(
                self.position - 1,
                "the file name is not NUL-terminated".into(),
            ));
        }
        self.name = Some(String::from_utf8_lossy(&name).into_owned());
        self.state = State::Blocks;
        Ok(())
    }

    /// Decodes the next block into `self.out`; at the trailer, checks it and ends.
    fn next_block(&mut self) -> Result<(), QpressError> {
        let at = self.position;
        let mut tag = [0u8; 8];
        self.fill(&mut tag)?;
        if &tag == END {
            let _ = self.u64()?;
            let mut extra = [0u8; 1];
            loop {
                match self.input.read(&mut extra) {
                    Ok(0) => break,
                    Ok(_) => {
                        return Err(QpressError::BadBlock {
                            at: self.position,
                            detail: "data after the end of the archive".into(),
                        })
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(QpressError::Io(e)),
                }
            }
            self.state = State::Done;
            return Ok(());
        }
        if &tag != NEW_BLOCK {
            return Err(QpressError::BadBlock {
                at,
                detail: "expected a block (`NEWBNEWB`) or the end (`ENDSENDS`)".into(),
            });
        }
        let _uncompressed_offset = self.u64()?; // unreliable in some writers: ignored
        let stored = self.u32()?;
        let block_at = self.position;
        let bad = |detail: String| QpressError::BadBlock {
            at: block_at,
            detail,
        };
        let mut first = [0u8; 1];
        self.fill(&mut first)?;
        let flags = first[0];
        let header_len = if flags & 2 != 0 { 9 } else { 3 };
        let mut block = std::mem::take(&mut self.block);
        block.clear();
        block.resize(header_len, 0);
        block[0] = flags;
        let rest = self.fill(&mut block[1..]);
        let result = rest.and_then(|()| {
            let (comp, decomp) = if header_len == 9 {
                (
                    u64::from(u32::from_le_bytes([block[1], block[2], block[3], block[4]])),
                    u64::from(u32::from_le_bytes([block[5], block[6], block[7], block[8]])),
                )
            } else {
                (u64::from(block[1]), u64::from(block[2]))
            };
            if (flags >> 2) & 3 != 1 {
                return Err(bad(format!("QuickLZ level {} is not 1", (flags >> 2) & 3)));
            }
            if decomp > self.chunk_size {
                return Err(bad(format!(
                    "block of {decomp} bytes is larger than the chunk size {}",
                    self.chunk_size
                )));
            }
            if comp < header_len as u64 || comp > decomp + 400 + header_len as u64 {
                return Err(bad(format!(
                    "compressed size {comp} is impossible for {decomp} bytes"
                )));
            }
            block.resize(comp as usize, 0);
            self.fill(&mut block[header_len..])?;
            let computed = adler32(&block);
            if computed != stored {
                return Err(QpressError::Checksum {
                    at: block_at,
                    stored,
                    computed,
                });
            }
            let payload = &block[header_len..];
            self.out.clear();
            self.out_pos = 0;
            if flags & 1 == 0 {
                if payload.len() as u64 != decomp {
                    return Err(bad(format!(
                        "stored block holds {} bytes, its header says {decomp}",
                        payload.len()
                    )));
                }
                self.out.extend_from_slice(payload);
                Ok(())
            } else {
                decode_level1(payload, decomp as usize, &mut self.out).map_err(bad)
            }
        });
        self.block = block;
        result
    }

    /// The next piece of decompressed data; empty at the end.
    fn next_piece(&mut self) -> Result<&[u8], QpressError> {
        loop {
            if self.out_pos < self.out.len() {
                return Ok(&self.out[self.out_pos..]);
            }
            match self.state {
                State::Done => return Ok(&[]),
                State::Header => self.read_header()?,
                State::Blocks => self.next_block()?,
            }
        }
    }
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let piece = self.next_piece()?;
        let n = piece.len().min(buf.len());
        buf[..n].copy_from_slice(&piece[..n]);
        self.out_pos += n;
        Ok(n)
    }
}

/// Decompresses a whole `.qp` archive from `input` into `output`; returns the bytes written.
pub fn decompress<R: Read, W: Write>(input: R, mut output: W) -> Result<u64, QpressError> {
    let mut dec = Decoder::new(input);
    let mut total = 0u64;
    loop {
        let piece = dec.next_piece()?;
        if piece.is_empty() {
            return Ok(total);
        }
        output.write_all(piece).map_err(QpressError::Io)?;
        total += piece.len() as u64;
        dec.out_pos = dec.out.len();
    }
}

/// QuickLZ 1.5.0 level-1 decompression of one block's payload (after its header) into `out`,
/// which ends up `size` bytes long. A port of `qlz_decompress_core` with every bound checked.
fn decode_level1(src: &[u8], size: usize, out: &mut Vec<u8>) -> Result<(), String> {
    const BITLUT: [usize; 16] = [4, 0, 1, 0, 2, 0, 1, 0, 3, 0, 1, 0, 2, 0, 1, 0];
    const UNSET: usize = usize::MAX;
    out.clear();
    out.resize(size, 0);
    let truncated = || "the compressed data ends early".to_string();
    let read_u32 = |at: usize| -> u32 {
        let mut b = [0u8; 4];
        let end = src.len().min(at + 4);
        if at < end {
            b[..end - at].copy_from_slice(&src[at..end]);
        }
        u32::from_le_bytes(b)
    };
    let mut table = vec![UNSET; 4096];
    let mut next_to_hash = 0usize;
    // Hashes every position from next_to_hash up to and including `max`.
    let hash_upto = |out: &[u8], table: &mut [usize], next: &mut usize, max: usize| {
        while *next <= max && *next + 2 < out.len() {
            let p = *next;
            let v = u32::from(out[p]) | u32::from(out[p + 1]) << 8 | u32::from(out[p + 2]) << 16;
            table[(((v >> 12) ^ v) & 0xfff) as usize] = p;
            *next += 1;
        }
        *next = (*next).max(max + 1);
    };
    let mut s = 0usize;
    let mut d = 0usize;
    let mut cword: u32 = 1;
    loop {
        if cword == 1 {
            if s + 4 > src.len() {
                return Err(truncated());
            }
            cword = read_u32(s);
            s += 4;
        }
        let fetch = read_u32(s);
        if cword & 1 == 1 {
            cword >>= 1;
            let hash = ((fetch >> 4) & 0xfff) as usize;
            let from = table[hash];
            let len = if fetch & 0xf != 0 {
                s += 2;
                (fetch & 0xf) as usize + 2
            } else {
                s += 3;
                ((fetch >> 16) & 0xff) as usize
            };
            if s > src.len() {
                return Err(truncated());
            }
            if from == UNSET || from + 3 > d {
                return Err(format!("back-reference at output byte {d} points nowhere"));
            }
            if d + len + 4 > size {
                return Err(format!(
                    "match of {len} bytes at output byte {d} overruns the block"
                ));
            }
            for k in 0..len {
                out[d + k] = out[from + k];
            }
            hash_upto(out, &mut table, &mut next_to_hash, d);
            d += len;
            next_to_hash = d;
        } else if d + 11 < size {
            let n = BITLUT[(cword & 0xf) as usize];
            if s + n > src.len() {
                return Err(truncated());
            }
            out[d..d + n].copy_from_slice(&src[s..s + n]);
            cword >>= n;
            d += n;
            s += n;
            if d >= 3 {
                hash_upto(out, &mut table, &mut next_to_hash, d - 3);
            }
        } else {
            while d < size {
                if cword == 1 {
                    s += 4;
                    cword = 1 << 31;
                }
                let Some(&b) = src.get(s) else {
                    return Err(truncated());
                };
                out[d] = b;
                d += 1;
                s += 1;
                cword >>= 1;
            }
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests;
