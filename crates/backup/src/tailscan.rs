//! Finding a stream's metadata files in its last bytes, without reading the whole stream.
//!
//! xtrabackup and mariabackup write `xtrabackup_checkpoints`, `xtrabackup_info` and
//! `xtrabackup_binlog_info` after the data files, so for an uncompressed xbstream they sit in
//! the stream's tail. [`scan_xbstream_tail`] looks for chunk headers in such a tail and keeps
//! the metadata files whose chunks are complete there and whose CRC-32 checks. A caller that
//! finds what it needs skips reading gigabytes; one that does not falls back to a full scan.

use std::collections::BTreeMap;

use crate::meta::METADATA_FILES;
use crate::xbstream::MAGIC;

/// Metadata files found whole in `tail` (the last bytes of an uncompressed xbstream), by name.
/// Only files written as a single payload chunk at offset 0 followed by their EOF chunk count;
/// anything else is left for a full scan.
pub fn scan_xbstream_tail(tail: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut found = BTreeMap::new();
    let mut pos = 0;
    while let Some(rel) = find(&tail[pos..], MAGIC) {
        let at = pos + rel;
        pos = at + 1;
        if let Some((name, payload, end)) = payload_chunk(tail, at) {
            if METADATA_FILES.contains(&name.as_str()) && eof_chunk_follows(tail, end, &name) {
                found.insert(name, payload.to_vec());
            }
        }
    }
    found
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// A complete `P` chunk at `at` for a whole small file: (path, payload, end offset).
fn payload_chunk(b: &[u8], at: usize) -> Option<(String, &[u8], usize)> {
    if *b.get(at + 9)? != b'P' {
        return None;
    }
    let path_len = u32_at(b, at + 10)? as usize;
    if path_len == 0 || path_len >= 512 {
        return None;
    }
    let path = std::str::from_utf8(b.get(at + 14..at + 14 + path_len)?).ok()?;
    let base = at + 14 + path_len;
    let len = usize::try_from(u64_at(b, base)?).ok()?;
    let offset = u64_at(b, base + 8)?;
    let crc = u32_at(b, base + 16)?;
    if offset != 0 || len > (1 << 20) {
        return None;
    }
    let payload = b.get(base + 20..base.checked_add(20)?.checked_add(len)?)?;
    if crc32fast::hash(payload) != crc {
        return None;
    }
    Some((path.to_string(), payload, base + 20 + len))
}

fn eof_chunk_follows(b: &[u8], at: usize, name: &str) -> bool {
    // The EOF chunk is the file's next chunk but other files' chunks may come between.
    let mut pos = at;
    while let Some(rel) = find(&b[pos..], MAGIC) {
        let c = pos + rel;
        pos = c + 1;
        let Some(&kind) = b.get(c + 9) else {
            return false;
        };
        let Some(path_len) = u32_at(b, c + 10) else {
            return false;
        };
        let path = b.get(c + 14..c + 14 + path_len as usize);
        if path == Some(name.as_bytes()) {
            return kind == b'E';
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xbstream::testutil::StreamWriter;

    const CHECKPOINTS: &[u8] = b"backup_type = full-backuped\n";

    #[test]
    fn finds_whole_metadata_files_in_a_tail() {
        let mut s = vec![7u8; 100]; // the end of some data chunk
        s.extend(
            StreamWriter::new()
                .payload("xtrabackup_checkpoints", 0, CHECKPOINTS)
                .payload("ibdata1", 0, b"data")
                .eof("xtrabackup_checkpoints")
                // No EOF chunk for xtrabackup_info: not trusted.
                .payload("xtrabackup_info", 0, b"partial = N\n")
                .finish(),
        );
        let found = scan_xbstream_tail(&s);
        assert_eq!(
            found.get("xtrabackup_checkpoints").map(Vec::as_slice),
            Some(CHECKPOINTS)
        );
        assert!(!found.contains_key("xtrabackup_info"));
        assert!(!found.contains_key("ibdata1"));
    }

    #[test]
    fn a_bad_crc_is_not_trusted() {
        let stored = crc32fast::hash(CHECKPOINTS) ^ 1;
        let c = StreamWriter::new()
            .payload_with_crc("xtrabackup_checkpoints", 0, CHECKPOINTS, stored)
            .eof("xtrabackup_checkpoints")
            .finish();
        assert!(scan_xbstream_tail(&c).is_empty());
    }

    #[test]
    fn arbitrary_bytes_do_not_panic() {
        let mut junk: Vec<u8> = (0..5000u32).map(|i| (i * 31 % 251) as u8).collect();
        junk.extend_from_slice(MAGIC);
        junk.extend_from_slice(&[0, b'P', 255, 255, 255, 255]);
        assert!(scan_xbstream_tail(&junk).is_empty());
        assert!(scan_xbstream_tail(MAGIC).is_empty());
        assert!(scan_xbstream_tail(b"").is_empty());
    }
}
