//! `open_decompressed` tells plain, gzip (also several members) and zstd input by its magic
//! bytes and counts the compressed bytes read.

mod common;

use std::io::{Read, Write};

use common::read_data;
use ferry_dump::{open_decompressed, Reader};

/// A reader that hands out at most one byte per call, as a slow pipe may.
struct Trickle(std::io::Cursor<Vec<u8>>);

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(1);
        self.0.read(&mut buf[..n])
    }
}

fn roundtrip(compressed: Vec<u8>, plain: &[u8], trickle: bool) {
    let size = compressed.len() as u64;
    let (mut r, count) = if trickle {
        open_decompressed(Trickle(std::io::Cursor::new(compressed))).expect("open")
    } else {
        open_decompressed(std::io::Cursor::new(compressed)).expect("open")
    };
    let mut out = Vec::new();
    r.read_to_end(&mut out).expect("read");
    assert_eq!(out, plain);
    assert_eq!(count.get(), size);
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

#[test]
fn plain_gzip_multi_member_gzip_and_zstd() {
    let plain = read_data("full.sql");
    roundtrip(plain.clone(), &plain, false);
    roundtrip(plain.clone(), &plain, true);
    roundtrip(gzip(&plain), &plain, false);
    roundtrip(gzip(&plain), &plain, true);
    let (a, b) = plain.split_at(10_000);
    let mut two = gzip(a);
    two.extend_from_slice(&gzip(b));
    roundtrip(two, &plain, false);
    roundtrip(
        zstd::encode_all(&plain[..], 3).expect("zstd"),
        &plain,
        false,
    );
    // Shorter than any magic.
    roundtrip(b"S".to_vec(), b"S", true);
    roundtrip(Vec::new(), b"", false);
}

#[test]
fn a_compressed_dump_reads_like_the_plain_one() {
    let plain = read_data("master-data-2.sql");
    let compressed = zstd::encode_all(&plain[..], 3).expect("zstd");
    let (input, count) = open_decompressed(std::io::Cursor::new(compressed)).expect("open");
    let mut r = Reader::new(input, common::TARGET);
    let mut n = 0;
    while r.next_statement().expect("parse").is_some() {
        n += 1;
    }
    let (plain_statements, coords) = common::statements_of(&plain);
    assert_eq!(n, plain_statements.len());
    assert_eq!(r.coordinates(), &coords);
    assert!(count.get() > 0 && count.get() < plain.len() as u64);
}

#[test]
fn corrupt_gzip_is_an_io_error() {
    let mut bad = gzip(b"SELECT 1;");
    let len = bad.len();
    bad[len / 2] ^= 0xff;
    bad.truncate(len - 3);
    let (input, _) = open_decompressed(std::io::Cursor::new(bad)).expect("open");
    let mut r = Reader::new(input, common::TARGET);
    let err = loop {
        match r.next_statement() {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("no error"),
            Err(e) => break e,
        }
    };
    assert!(err.io.is_some(), "{err}");
    assert!(
        err.to_string().starts_with("line 1: reading the input"),
        "{err}"
    );
}
