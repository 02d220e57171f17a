use std::io::Read;

use proptest::prelude::*;

use super::testutil::StreamWriter;
use super::*;
use crate::sink::{DirSink, MetaSink};

/// Hands out at most `n` bytes per read, to exercise partial reads.
struct Dribble<'a> {
    data: &'a [u8],
    n: usize,
}

impl Read for Dribble<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let k = self.n.min(out.len()).min(self.data.len());
        out[..k].copy_from_slice(&self.data[..k]);
        self.data = &self.data[k..];
        Ok(k)
    }
}

fn extract_err(bytes: &[u8]) -> UnpackError {
    extract(bytes, &mut MetaSink::discard()).unwrap_err()
}

#[test]
fn interleaved_empty_and_sparse_files_round_trip() {
    let big: Vec<u8> = (0..3 * PIECE + 17).map(|i| (i % 251) as u8).collect();
    let stream = StreamWriter::new()
        .payload("ibdata1", 0, b"first-")
        .payload("db/t1.ibd", 0, b"table")
        .payload("ibdata1", 6, b"second")
        .eof("db/t1.ibd")
        .eof("empty.opt")
        .sparse(
            "db/sparse.ibd",
            0,
            &[
                SparseEntry { skip: 0, len: 3 },
                SparseEntry { skip: 5, len: 2 },
            ],
            b"abcXY",
        )
        .sparse(
            "db/sparse.ibd",
            10,
            &[
                SparseEntry { skip: 4, len: 1 },
                SparseEntry { skip: 6, len: 0 },
            ],
            b"Z",
        )
        .payload("big", 0, &big)
        .eof("db/sparse.ibd")
        .eof("ibdata1")
        .eof("big")
        .finish();
    let dir = tempfile::tempdir().unwrap();
    let mut sink = DirSink::new(dir.path()).unwrap();
    let stats = extract(
        Dribble {
            data: &stream,
            n: 7,
        },
        &mut sink,
    )
    .unwrap();
    assert_eq!(stats.files, 5);
    assert_eq!(stats.records, 11);
    assert_eq!(stats.bytes, 12 + 5 + 5 + 1 + big.len() as u64);
    sink.finish().unwrap();
    let read = |p: &str| std::fs::read(dir.path().join(p)).unwrap();
    assert_eq!(read("ibdata1"), b"first-second");
    assert_eq!(read("db/t1.ibd"), b"table");
    assert_eq!(read("empty.opt"), b"");
    assert_eq!(read("big"), big);
    // abc, 5-byte hole, XY, 4-byte hole, Z, trailing 6-byte hole = 21 bytes.
    let mut want = b"abc\0\0\0\0\0XY\0\0\0\0Z".to_vec();
    want.resize(21, 0);
    assert_eq!(read("db/sparse.ibd"), want);
}

#[test]
fn empty_stream_is_an_empty_archive() {
    let stats = extract(&b""[..], &mut MetaSink::discard()).unwrap();
    assert_eq!(stats, ExtractStats::default());
}

#[test]
fn checksum_mismatch_names_the_file_and_offset() {
    let stream = StreamWriter::new()
        .payload("ibdata1", 0, b"0123")
        .payload_with_crc("ibdata1", 4, b"4567", 0xdead_beef)
        .eof("ibdata1")
        .finish();
    let err = extract_err(&stream);
    assert!(matches!(
        err.reason,
        UnpackReason::ChecksumMismatch { file_offset: 4, .. }
    ));
    assert_eq!(err.member.as_ref().unwrap().as_str(), "ibdata1");
    assert_eq!(err.stream_offset, 14 + 7 + 20 + 4);
    assert_eq!(
        err.to_string(),
        format!(
            "member ibdata1: checksum mismatch in the chunk for file offset 4: stored deadbeef, \
             computed {:08x}",
            crc32fast::hash(b"4567")
        )
    );
}

#[test]
fn sparse_checksum_covers_the_map() {
    let mut stream = StreamWriter::new()
        .sparse("f", 0, &[SparseEntry { skip: 1, len: 1 }], b"x")
        .eof("f")
        .finish();
    // Flip the map's skip: the data is intact, but the checksum must fail.
    let map_at = 14 + 1 + 4 + 8 + 8 + 4;
    stream[map_at] = 2;
    let err = extract_err(&stream);
    assert!(
        matches!(err.reason, UnpackReason::ChecksumMismatch { .. }),
        "{err}"
    );
}

#[test]
fn truncation_inside_a_chunk_is_an_error_with_offsets() {
    let stream = StreamWriter::new()
        .payload("a", 0, b"0123456789")
        .eof("a")
        .finish();
    let first_chunk = 14 + 1 + 20 + 10;
    for cut in [3, 14, 20, 40, first_chunk - 1, first_chunk + 5] {
        let err = extract_err(&stream[..cut]);
        assert!(
            matches!(err.reason, UnpackReason::Truncated { .. }),
            "cut {cut}: {err}"
        );
        assert!(
            err.to_string().contains(&format!("ends at byte {cut}")),
            "cut {cut}: {err}"
        );
    }
    // Cut at the chunk boundary: a clean end, but `a` never got its E chunk.
    let err = extract_err(&stream[..first_chunk]);
    assert_eq!(
        err.to_string(),
        "member a: the stream ends before the file was complete"
    );
}

#[test]
fn files_without_eof_chunk_are_reported() {
    let stream = StreamWriter::new()
        .payload("b", 0, b"1")
        .payload("a", 0, b"1")
        .payload("c", 0, b"1")
        .eof("c")
        .finish();
    let err = extract_err(&stream);
    assert_eq!(
        err.to_string(),
        "member a: the stream ends before the file was complete (and 1 other files)"
    );
}

#[test]
fn out_of_order_chunks_are_refused() {
    let stream = StreamWriter::new()
        .payload("a", 0, b"0123")
        .payload("a", 8, b"89")
        .finish();
    let err = extract_err(&stream);
    assert_eq!(
        err.to_string(),
        "member a: out-of-order chunk: it starts at file offset 8 but 4 bytes were written"
    );
    let err = extract_err(&StreamWriter::new().payload("a", 5, b"x").finish());
    assert!(matches!(
        err.reason,
        UnpackReason::OutOfOrder {
            expected: 0,
            found: 5
        }
    ));
}

#[test]
fn a_file_reappearing_after_its_end_is_refused() {
    let stream = StreamWriter::new()
        .payload("a", 0, b"1")
        .eof("a")
        .payload("a", 0, b"2")
        .finish();
    let err = extract_err(&stream);
    assert_eq!(
        err.to_string(),
        "member a: the file appears again after its end-of-file chunk"
    );
    let err = extract_err(&StreamWriter::new().eof("a").eof("a").finish());
    assert!(matches!(err.reason, UnpackReason::AfterEnd));
}

#[test]
fn unsafe_paths_are_refused_not_skipped() {
    for (path, msg) in [
        ("../etc/passwd", "contains a `..` component"),
        ("/etc/passwd", "is absolute"),
        ("a//b", "empty component"),
        ("", "empty member path"),
    ] {
        let stream = StreamWriter::new()
            .payload(path, 0, b"x")
            .eof(path)
            .finish();
        let err = extract_err(&stream);
        assert!(
            matches!(err.reason, UnpackReason::UnsafePath(_)),
            "{path}: {err}"
        );
        assert!(
            err.to_string().starts_with("unsafe member path refused"),
            "{err}"
        );
        assert!(err.to_string().contains(msg), "{path}: {err}");
    }
}

#[test]
fn overlong_paths_are_refused() {
    let long = "a".repeat(512);
    let err = extract_err(&StreamWriter::new().eof(&long).finish());
    assert_eq!(
        err.to_string(),
        "chunk path is 512 bytes long (the limit is 511)"
    );
    assert!(extract(
        &StreamWriter::new().eof(&long[..511]).finish()[..],
        &mut MetaSink::discard()
    )
    .is_ok());
}

#[test]
fn unknown_chunk_types_need_the_ignorable_flag() {
    let stream = StreamWriter::new()
        .typed(0, b'X', "a", 0, b"zz", 0)
        .finish();
    let err = extract_err(&stream);
    assert_eq!(
        err.to_string(),
        "member a: unknown chunk type \"X\" without the ignorable flag"
    );
    let stream = StreamWriter::new()
        .typed(FLAG_IGNORABLE, b'X', "a", 0, b"zz", 0)
        .payload("b", 0, b"1")
        .eof("b")
        .finish();
    let stats = extract(&stream[..], &mut MetaSink::discard()).unwrap();
    assert_eq!((stats.files, stats.records), (1, 3));
}

#[test]
fn bad_magic_is_reported_at_its_offset() {
    let mut stream = StreamWriter::new().eof("a").finish();
    stream.extend_from_slice(b"GARBAGE!and more bytes");
    let err = extract_err(&stream);
    assert_eq!(err.stream_offset, 15);
    assert_eq!(
        err.to_string(),
        "not an xbstream chunk: the magic bytes are \"GARBAGE!\""
    );
}

#[test]
fn sparse_map_must_match_the_payload() {
    let mut w = StreamWriter::new();
    w.sparse("f", 0, &[SparseEntry { skip: 0, len: 5 }], b"abc");
    let err = extract_err(&w.finish());
    assert_eq!(
        err.to_string(),
        "member f: invalid sparse chunk: the map covers 5 data bytes but the payload is 3 bytes"
    );
}

#[test]
fn reader_exposes_headers() {
    let stream = StreamWriter::new()
        .payload("x/y", 0, b"hello")
        .eof("x/y")
        .finish();
    let mut r = Reader::new(&stream[..]);
    let h = r.next_chunk().unwrap().unwrap();
    assert_eq!(h.chunk_type, ChunkType::Payload);
    assert_eq!(
        (h.path.as_str(), h.payload_len, h.payload_offset),
        ("x/y", 5, 0)
    );
    // Payload not read: skipped by the next call.
    let h = r.next_chunk().unwrap().unwrap();
    assert_eq!(h.chunk_type, ChunkType::Eof);
    assert!(r.next_chunk().unwrap().is_none());
    assert_eq!(r.position(), stream.len() as u64);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = extract(&bytes[..], &mut MetaSink::discard());
    }

    #[test]
    fn arbitrary_chunks_after_the_magic_never_panic(
        tail in proptest::collection::vec(any::<u8>(), 0..600),
        kind in prop::sample::select(vec![b'P', b'S', b'E', b'X']),
    ) {
        let mut bytes = MAGIC.to_vec();
        bytes.push(0);
        bytes.push(kind);
        bytes.extend_from_slice(&tail);
        let _ = extract(&bytes[..], &mut MetaSink::discard());
    }

    #[test]
    fn corrupting_a_valid_stream_never_panics(pos in 0usize..200, byte in any::<u8>()) {
        let mut stream = StreamWriter::new()
            .payload("a", 0, b"0123456789")
            .sparse("b", 0, &[SparseEntry { skip: 3, len: 2 }], b"xy")
            .eof("a")
            .eof("b")
            .finish();
        let pos = pos % stream.len();
        stream[pos] = byte;
        let dir = tempfile::tempdir().unwrap();
        let mut sink = DirSink::new(dir.path()).unwrap();
        let _ = extract(&stream[..], &mut sink);
    }
}
