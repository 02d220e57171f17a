//! Opens a dump that may be compressed: gzip (`1f 8b`, several members as `gzip` and
//! `pigz` write them) or zstd (`28 b5 2f fd`), told by its magic bytes, never by its name.

use std::io::{BufRead, BufReader, Cursor, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

const BUFFER: usize = 256 * 1024;

/// Bytes read so far from the underlying (compressed) input, for progress against the
/// file's size. Cloned handles share the count.
#[derive(Clone, Debug, Default)]
pub struct CountHandle(Arc<AtomicU64>);

impl CountHandle {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Opens plain / gzip / zstd input (by magic bytes) into a `BufRead` of the plain dump, and
/// a counter of the bytes read from `r` itself.
pub fn open_decompressed<R: Read + Send + 'static>(
    r: R,
) -> std::io::Result<(Box<dyn BufRead + Send>, CountHandle)> {
    let handle = CountHandle::default();
    let mut counting = Counting {
        inner: r,
        count: handle.0.clone(),
    };
    let mut magic = Vec::with_capacity(4);
    while magic.len() < 4 {
        let mut b = [0u8; 4];
        let want = 4 - magic.len();
        match counting.read(&mut b[..want]) {
            Ok(0) => break,
            Ok(n) => magic.extend_from_slice(&b[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let gzip = magic.starts_with(&[0x1f, 0x8b]);
    let zstd = magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]);
    let raw = BufReader::with_capacity(BUFFER, Cursor::new(magic).chain(counting));
    let out: Box<dyn BufRead + Send> = if gzip {
        Box::new(BufReader::with_capacity(
            BUFFER,
            flate2::bufread::MultiGzDecoder::new(raw),
        ))
    } else if zstd {
        Box::new(BufReader::with_capacity(
            BUFFER,
            zstd::stream::read::Decoder::with_buffer(raw)?,
        ))
    } else {
        Box::new(raw)
    };
    Ok((out, handle))
}
