use super::*;

use proptest::prelude::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/qpress/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn decode(bytes: &[u8]) -> Result<Vec<u8>, QpressError> {
    let mut out = Vec::new();
    decompress(bytes, &mut out)?;
    Ok(out)
}

/// `.qp` files written by mariabackup 10.11.19 `--compress`, with the length and CRC-32 of the
/// same files in an uncompressed backup of the same (idle) server taken right after.
#[test]
fn decodes_files_written_by_mariabackup() {
    for (name, len, crc) in [
        ("m.frm.qp", 1145, 0xc33a269c),
        ("m.MYI.qp", 43008, 0xc4d008bf),
        ("m.MYD.qp", 310856, 0xaaaa40eb),
        ("backup-my.cnf.qp", 285, 0xf641ada9),
    ] {
        let out = decode(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(out.len(), len, "{name}");
        assert_eq!(crc32fast::hash(&out), crc, "{name}");
    }
}

#[test]
fn decodes_through_read_and_reports_the_name() {
    let bytes = fixture("i.new.qp");
    let mut dec = Decoder::new(&bytes[..]);
    let mut out = Vec::new();
    // Small reads exercise the buffering.
    let mut buf = [0u8; 1000];
    loop {
        let n = dec.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    assert_eq!(dec.file_name(), Some("i.new"));
    assert_eq!(out.len(), 65536);
    let info = decode(&fixture("xtrabackup_info.qp")).unwrap();
    let info = crate::meta::Info::parse(&String::from_utf8(info).unwrap()).unwrap();
    assert_eq!(info.tool_name, "mariabackup");
    assert!(info.compressed);
}

#[test]
fn empty_file_and_stored_blocks() {
    let mut archive = MAGIC.to_vec();
    archive.extend_from_slice(&65536u64.to_le_bytes());
    archive.push(b'F');
    archive.extend_from_slice(&1u32.to_le_bytes());
    archive.extend_from_slice(b"e\0");
    let mut empty = archive.clone();
    empty.extend_from_slice(END);
    empty.extend_from_slice(&0u64.to_le_bytes());
    assert_eq!(decode(&empty).unwrap(), b"");

    // One stored (uncompressed) block with a short header: 0x44 = level 1, not compressed.
    let mut block = vec![0x44, 3 + 5, 5];
    block.extend_from_slice(b"hello");
    archive.extend_from_slice(NEW_BLOCK);
    archive.extend_from_slice(&0u64.to_le_bytes());
    archive.extend_from_slice(&adler32(&block).to_le_bytes());
    archive.extend_from_slice(&block);
    archive.extend_from_slice(END);
    archive.extend_from_slice(&0u64.to_le_bytes());
    assert_eq!(decode(&archive).unwrap(), b"hello");
}

#[test]
fn corruption_is_detected() {
    let good = fixture("m.frm.qp");
    let mut bad = good.clone();
    let last = bad.len() - 20;
    bad[last] ^= 1;
    let err = decode(&bad).unwrap_err();
    assert!(matches!(err, QpressError::Checksum { .. }), "{err}");
    assert!(
        err.to_string().starts_with("corrupt qpress block at byte"),
        "{err}"
    );

    let err = decode(&good[..good.len() - 30]).unwrap_err();
    assert!(matches!(err, QpressError::Truncated { .. }), "{err}");

    let err = decode(b"qpress11xxxxxxxxxxxx").unwrap_err();
    assert_eq!(
        err.to_string(),
        "not a qpress archive: the magic bytes are not `qpress10` at byte 0"
    );

    let mut trailing = good.clone();
    trailing.push(0);
    assert!(matches!(
        decode(&trailing).unwrap_err(),
        QpressError::BadBlock { .. }
    ));
}

#[test]
fn adler32_matches_zlib() {
    assert_eq!(adler32(b""), 1);
    assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    // zlib.adler32(b"\xff" * 100000)
    assert_eq!(adler32(&vec![0xffu8; 100_000]), 0x149a_302c);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_blocks_never_panic(
        payload in proptest::collection::vec(any::<u8>(), 0..600),
        size in 0usize..2000,
    ) {
        let mut out = Vec::new();
        let _ = decode_level1(&payload, size, &mut out);
    }

    #[test]
    fn corrupted_archives_never_panic(pos in 0usize..400, byte in any::<u8>()) {
        let mut bytes = fixture("i.new.qp");
        let pos = pos % bytes.len();
        bytes[pos] = byte;
        let _ = decode(&bytes);
    }
}
