//! A hand-rolled xbstream writer for tests (the format is simple enough to write by hand,
//! which keeps the tests independent of any producer).

use super::{SparseEntry, MAGIC};

/// Appends chunks to a byte vector.
#[derive(Default)]
pub struct StreamWriter {
    pub bytes: Vec<u8>,
}

impl StreamWriter {
    pub fn new() -> Self {
        Self::default()
    }

    fn head(&mut self, flags: u8, kind: u8, path: &str) {
        self.bytes.extend_from_slice(MAGIC);
        self.bytes.push(flags);
        self.bytes.push(kind);
        self.bytes
            .extend_from_slice(&(path.len() as u32).to_le_bytes());
        self.bytes.extend_from_slice(path.as_bytes());
    }

    /// A `P` chunk with a correct checksum.
    pub fn payload(&mut self, path: &str, offset: u64, data: &[u8]) -> &mut Self {
        self.payload_with_crc(path, offset, data, crc32fast::hash(data))
    }

    pub fn payload_with_crc(
        &mut self,
        path: &str,
        offset: u64,
        data: &[u8],
        crc: u32,
    ) -> &mut Self {
        self.typed(0, b'P', path, offset, data, crc)
    }

    /// A chunk of any type with the P-style tail.
    pub fn typed(
        &mut self,
        flags: u8,
        kind: u8,
        path: &str,
        offset: u64,
        data: &[u8],
        crc: u32,
    ) -> &mut Self {
        self.head(flags, kind, path);
        self.bytes
            .extend_from_slice(&(data.len() as u64).to_le_bytes());
        self.bytes.extend_from_slice(&offset.to_le_bytes());
        self.bytes.extend_from_slice(&crc.to_le_bytes());
        self.bytes.extend_from_slice(data);
        self
    }

    /// An `S` chunk: `map` entries of {skip, len}, `data` = the concatenated data.
    pub fn sparse(
        &mut self,
        path: &str,
        offset: u64,
        map: &[SparseEntry],
        data: &[u8],
    ) -> &mut Self {
        self.head(0, b'S', path);
        let mut map_bytes = Vec::new();
        for e in map {
            map_bytes.extend_from_slice(&e.skip.to_le_bytes());
            map_bytes.extend_from_slice(&e.len.to_le_bytes());
        }
        let mut crc = crc32fast::Hasher::new();
        crc.update(&map_bytes);
        crc.update(data);
        self.bytes
            .extend_from_slice(&(map.len() as u32).to_le_bytes());
        self.bytes
            .extend_from_slice(&(data.len() as u64).to_le_bytes());
        self.bytes.extend_from_slice(&offset.to_le_bytes());
        self.bytes.extend_from_slice(&crc.finalize().to_le_bytes());
        self.bytes.extend_from_slice(&map_bytes);
        self.bytes.extend_from_slice(data);
        self
    }

    /// An `E` chunk.
    pub fn eof(&mut self, path: &str) -> &mut Self {
        self.head(0, b'E', path);
        self
    }

    /// A whole file as chunks of `chunk` bytes followed by its `E` chunk.
    pub fn file(&mut self, path: &str, data: &[u8], chunk: usize) -> &mut Self {
        for (i, piece) in data.chunks(chunk.max(1)).enumerate() {
            self.payload(path, (i * chunk) as u64, piece);
        }
        self.eof(path)
    }

    pub fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.bytes)
    }
}
