//! Shared helpers for ferry-dump's integration tests.
#![allow(dead_code)]

use std::io::{BufReader, Cursor};
use std::path::PathBuf;

use ferry_dump::{Kind, Reader, Statement, Version};

pub const TARGET: Version = Version {
    number: 101119,
    flavor: ferry_dump::Flavor::MariaDb,
};

pub fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

pub fn read_data(name: &str) -> Vec<u8> {
    std::fs::read(data(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
}

/// Every statement of `input`, read through a tiny `BufReader` so that every lexical state
/// crosses a refill boundary somewhere.
pub fn statements_of(input: &[u8]) -> (Vec<Statement>, ferry_dump::Coordinates) {
    let mut r = Reader::new(BufReader::with_capacity(7, Cursor::new(input)), TARGET);
    let mut out = Vec::new();
    while let Some(s) = r.next_statement().expect("parse") {
        out.push(s);
    }
    assert_eq!(r.bytes_read(), input.len() as u64, "consumed everything");
    (out, r.coordinates().clone())
}

pub fn statements(name: &str) -> (Vec<Statement>, ferry_dump::Coordinates) {
    statements_of(&read_data(name))
}

/// The statements as strings (lossy), for short inline inputs.
pub fn split(input: &str) -> Vec<String> {
    statements_of(input.as_bytes())
        .0
        .into_iter()
        .map(|s| String::from_utf8_lossy(&s.sql).into_owned())
        .collect()
}

pub fn kinds(input: &str) -> Vec<Kind> {
    statements_of(input.as_bytes())
        .0
        .into_iter()
        .map(|s| s.kind)
        .collect()
}

pub fn crc(bytes: &[u8]) -> u32 {
    let mut c = flate2::Crc::new();
    c.update(bytes);
    c.sum()
}
