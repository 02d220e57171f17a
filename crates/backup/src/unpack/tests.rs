use std::io::Write;

use proptest::prelude::*;

use super::*;
use crate::format::format_from_name;
use crate::sink::{DirSink, MetaSink};
use crate::xbstream::testutil::StreamWriter;

fn sample_xbstream() -> Vec<u8> {
    let big: Vec<u8> = (0..(2 << 20) + 5).map(|i| (i % 253) as u8).collect();
    StreamWriter::new()
        .payload("ibdata1", 0, b"abc")
        .file(
            "xtrabackup_checkpoints",
            b"backup_type = full-backuped\nfrom_lsn = 0\n",
            16,
        )
        .payload("ibdata1", 3, &big)
        .eof("ibdata1")
        .file("db/empty.opt", b"", 1)
        .finish()
}

fn sample_tar() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    let data = b"backup_type = full-backuped\nfrom_lsn = 0\n";
    h.set_size(data.len() as u64);
    b.append_data(&mut h, "./xtrabackup_checkpoints", &data[..])
        .unwrap();
    b.into_inner().unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 1).unwrap()
}

fn run(
    bytes: &[u8],
    name: &str,
) -> Result<(UnpackStats, MetaSink<crate::sink::NullSink>), UnpackError> {
    let mut sink = MetaSink::discard();
    let format = format_from_name(name).unwrap();
    unpack(bytes, format, &mut sink).map(|s| (s, sink))
}

#[test]
fn every_format_round_trips() {
    let xb = sample_xbstream();
    let tar = sample_tar();
    let cases: Vec<(&str, Vec<u8>, u64)> = vec![
        ("b.xbstream", xb.clone(), 3),
        ("b.xbstream.gz", gzip(&xb), 3),
        ("b.xbstream.zst", zstd(&xb), 3),
        ("b.gz", gzip(&xb), 3),
        ("b.zst", zstd(&xb), 3),
        ("b.tar", tar.clone(), 1),
        ("b.tar.gz", gzip(&tar), 1),
        ("b.tzst", zstd(&tar), 1),
        ("b.zst", zstd(&tar), 1),
    ];
    for (name, bytes, files) in cases {
        let (stats, sink) = run(&bytes, name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(stats.files, files, "{name}");
        assert_eq!(stats.raw_bytes, bytes.len() as u64, "{name}");
        assert!(stats.warnings.is_empty(), "{name}: {:?}", stats.warnings);
        assert!(stats.format.container.is_some(), "{name}");
        assert!(
            sink.captured("xtrabackup_checkpoints")
                .unwrap()
                .starts_with(b"backup_type"),
            "{name}"
        );
    }
}

#[test]
fn multi_member_gzip_and_multi_frame_zstd() {
    let xb = sample_xbstream();
    let (a, rest) = xb.split_at(100);
    let (b, c) = rest.split_at(rest.len() / 2);
    let gz: Vec<u8> = [gzip(a), gzip(b), gzip(c)].concat();
    let zs: Vec<u8> = [zstd(a), zstd(b), zstd(c)].concat();
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [("x.xbstream.gz", gz), ("x.xbstream.zst", zs)] {
        let target = dir.path().join(name);
        let mut sink = DirSink::new(&target).unwrap();
        let stats = unpack(&bytes[..], format_from_name(name).unwrap(), &mut sink).unwrap();
        assert_eq!(stats.files, 3, "{name}");
        sink.finish().unwrap();
        let ibdata = std::fs::read(target.join("ibdata1")).unwrap();
        assert_eq!(ibdata.len(), 3 + (2 << 20) + 5);
        assert_eq!(&ibdata[..4], b"abc\0");
    }
}

#[test]
fn content_wins_over_the_name_and_says_so() {
    let xb = sample_xbstream();
    let (stats, _) = run(&gzip(&xb), "backup.tar").unwrap();
    assert_eq!(stats.format.label(), "xbstream.gz");
    assert_eq!(
        stats.warnings,
        [
            "the stream is named as tar but its content is a gzip-compressed xbstream; reading it \
          as xbstream.gz"
        ]
    );
    let (stats, _) = run(&xb, "backup.tar.gz").unwrap();
    assert_eq!(
        stats.warnings,
        ["the stream is named as tar.gz but its content is an uncompressed xbstream; reading it \
          as xbstream"]
    );
    let (stats, _) = run(&zstd(&sample_tar()), "backup.xbstream.gz").unwrap();
    assert_eq!(stats.format.label(), "tar.zst");
    assert_eq!(stats.warnings.len(), 1);
}

#[test]
fn unknown_content_is_an_error() {
    let err = run(&gzip(b"-- MySQL dump\nCREATE TABLE"), "backup.gz").unwrap_err();
    assert_eq!(
        err.to_string(),
        "the content is neither xbstream nor tar (it starts with \"-- MySQL\")"
    );
    let err = run(&gzip(&gzip(&sample_xbstream())), "backup.gz").unwrap_err();
    assert_eq!(
        err.to_string(),
        "the content is neither xbstream nor tar (after decompression it is gzip-compressed again)"
    );
    let err = run(b"", "backup.xbstream").unwrap_err();
    assert_eq!(err.to_string(), "the stream is empty");
    let err = run(&gzip(b""), "backup.tar.gz").unwrap_err();
    assert_eq!(err.to_string(), "the stream is empty");
}

#[test]
fn truncated_and_corrupt_compressed_streams() {
    let xb = sample_xbstream();
    for (name, bytes) in [("b.xbstream.gz", gzip(&xb)), ("b.xbstream.zst", zstd(&xb))] {
        let cut = bytes.len() / 2;
        let err = run(&bytes[..cut], name).unwrap_err();
        assert!(
            matches!(err.reason, UnpackReason::Truncated { .. }),
            "{name}: {err}"
        );
        assert!(
            err.raw_offset > 0 && err.raw_offset <= cut as u64,
            "{name}: {}",
            err.raw_offset
        );
        let mut bad = bytes.clone();
        let at = bytes.len() / 3;
        for b in &mut bad[at..at + 64] {
            *b ^= 0x5a;
        }
        let err = run(&bad, name).unwrap_err();
        assert!(
            matches!(
                err.reason,
                UnpackReason::Decompress { .. } | UnpackReason::ChecksumMismatch { .. }
            ),
            "{name}: {err}"
        );
    }
}

#[test]
fn uncompressed_errors_report_the_chunk_offset_as_raw_offset() {
    let mut w = StreamWriter::new();
    w.payload("a", 0, b"0123")
        .eof("a")
        .payload_with_crc("b", 0, b"x", 1);
    let bytes = w.finish();
    let err = run(&bytes, "b.xbstream").unwrap_err();
    assert_eq!(err.raw_offset(), (14 + 1 + 20 + 4) + (14 + 1));
    assert_eq!(err.member().unwrap().as_str(), "b");
}

/// Fails after handing out `ok` bytes.
struct Failing<'a> {
    data: &'a [u8],
    ok: usize,
}

impl Read for Failing<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.ok == 0 {
            return Err(io::Error::other("connection reset by peer"));
        }
        let n = out.len().min(self.ok).min(self.data.len());
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        self.ok -= n;
        Ok(n)
    }
}

#[test]
fn input_failures_are_not_blamed_on_the_data() {
    let xb = sample_xbstream();
    for (name, bytes) in [("b.xbstream", xb.clone()), ("b.xbstream.gz", gzip(&xb))] {
        let input = Failing {
            data: &bytes,
            ok: 1000,
        };
        let err = unpack(
            input,
            format_from_name(name).unwrap(),
            &mut MetaSink::discard(),
        )
        .unwrap_err();
        assert!(
            matches!(err.reason, UnpackReason::Input(_)),
            "{name}: {err}"
        );
        assert!(
            err.to_string().contains("connection reset by peer"),
            "{name}: {err}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
        name in prop::sample::select(vec!["b.xbstream", "b.tar", "b.tar.gz", "b.zst", "b.gz"]),
    ) {
        let _ = run(&bytes, name);
    }

    #[test]
    fn arbitrary_compressed_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
        zst in any::<bool>(),
    ) {
        let packed = if zst { zstd(&bytes) } else { gzip(&bytes) };
        let _ = run(&packed, "b.gz");
        let mut magic = b"XBSTCK01".to_vec();
        magic.extend_from_slice(&bytes);
        let packed = if zst { zstd(&magic) } else { gzip(&magic) };
        let _ = run(&packed, "b.xbstream.gz");
    }
}
