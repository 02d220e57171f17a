use proptest::prelude::*;

use super::*;
use crate::sink::{DirSink, MetaSink};

fn header(path: &[u8], size: u64, kind: tar::EntryType) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    let name = &mut h.as_old_mut().name;
    name[..path.len()].copy_from_slice(path);
    h.set_size(size);
    h.set_mode(0o640);
    h.set_entry_type(kind);
    h.set_cksum();
    h
}

/// A tar with a `./` root entry, directories, a long name, an empty file and pax headers.
fn sample_tar() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut dir = tar::Header::new_gnu();
    dir.set_entry_type(tar::EntryType::Directory);
    dir.set_size(0);
    dir.set_mode(0o755);
    b.append_data(&mut dir.clone(), "./", &[][..]).unwrap();
    b.append_data(&mut dir, "./db/", &[][..]).unwrap();
    let file = |b: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o640);
        b.append_data(&mut h, path, data).unwrap();
    };
    file(
        &mut b,
        "./xtrabackup_checkpoints",
        b"backup_type = full-backuped\n",
    );
    file(&mut b, "./db/t1.ibd", &vec![7u8; 70_000]);
    let long = format!("db/{}.frm", "x".repeat(150));
    file(&mut b, &long, b"long name");
    file(&mut b, "empty.opt", b"");
    b.append_pax_extensions([("comment", &b"pax header"[..])])
        .unwrap();
    file(&mut b, "paxed", b"after pax");
    b.into_inner().unwrap()
}

#[test]
fn extracts_files_directories_long_names_and_pax() {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = MetaSink::new(DirSink::new(dir.path()).unwrap());
    let stats = extract(&sample_tar()[..], &mut sink).unwrap();
    assert_eq!(stats.files, 5);
    assert_eq!(stats.bytes, 28 + 70_000 + 9 + 9);
    assert_eq!(
        sink.captured("xtrabackup_checkpoints"),
        Some(&b"backup_type = full-backuped\n"[..])
    );
    sink.into_inner().unwrap().finish().unwrap();
    let read = |p: &str| std::fs::read(dir.path().join(p)).unwrap();
    assert_eq!(read("db/t1.ibd"), vec![7u8; 70_000]);
    assert_eq!(read(&format!("db/{}.frm", "x".repeat(150))), b"long name");
    assert_eq!(read("empty.opt"), b"");
    assert_eq!(read("paxed"), b"after pax");
}

#[test]
fn concatenated_archives_are_read_whole() {
    let mut two = sample_tar();
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(3);
    b.append_data(&mut h, "second", &b"two"[..]).unwrap();
    two.extend(b.into_inner().unwrap());
    let stats = extract(&two[..], &mut MetaSink::discard()).unwrap();
    assert_eq!(stats.files, 6);
}

fn single(entry: tar::Header, data: &[u8]) -> Vec<u8> {
    let mut out = entry.as_bytes().to_vec();
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512 + 1024, 0);
    out
}

#[test]
fn links_and_devices_are_refused_by_name() {
    for (kind, label) in [
        (tar::EntryType::Symlink, "symbolic link"),
        (tar::EntryType::Link, "hard link"),
        (tar::EntryType::Char, "character device"),
        (tar::EntryType::Fifo, "FIFO"),
    ] {
        let bytes = single(header(b"db/link", 0, kind), b"");
        let err = extract(&bytes[..], &mut MetaSink::discard()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "member db/link: unsupported {label} entry (only regular files and directories \
                 can be restored)"
            )
        );
    }
}

#[test]
fn unsafe_paths_are_refused() {
    for (path, msg) in [
        (&b"../evil"[..], "contains a `..` component"),
        (b"/etc/cron.d/x", "is absolute"),
        (b"a/../../b", "contains a `..` component"),
    ] {
        let bytes = single(header(path, 1, tar::EntryType::Regular), b"x");
        let err = extract(&bytes[..], &mut MetaSink::discard()).unwrap_err();
        assert!(matches!(err.reason, UnpackReason::UnsafePath(_)), "{err}");
        assert!(err.to_string().contains(msg), "{err}");
    }
}

#[test]
fn truncation_is_detected() {
    let full = sample_tar();
    // Inside t1.ibd's data (it starts after 4 headers + one 512-byte data block).
    let err = extract(&full[..5 * 512 + 1000], &mut MetaSink::discard()).unwrap_err();
    assert!(
        matches!(err.reason, UnpackReason::Truncated { .. }),
        "{err}"
    );
    assert_eq!(err.member.as_ref().unwrap().as_str(), "db/t1.ibd");
    assert!(
        err.to_string()
            .contains("ends after 1000 of the entry's 70000 bytes"),
        "{err}"
    );
    // Inside t1.ibd's header.
    let err = extract(&full[..4 * 512 + 100], &mut MetaSink::discard()).unwrap_err();
    assert!(
        matches!(err.reason, UnpackReason::Truncated { .. }),
        "{err}"
    );
    // Right after an entry, before the end-of-archive marker.
    let one = single(header(b"f", 3, tar::EntryType::Regular), b"abc");
    let err = extract(&one[..1024], &mut MetaSink::discard()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "truncated stream: the tar archive ends at byte 1024 without its end-of-archive marker"
    );
}

#[test]
fn header_checksum_errors_are_malformed_tar() {
    let mut bytes = single(header(b"f", 3, tar::EntryType::Regular), b"abc");
    bytes[0] = b'g';
    let err = extract(&bytes[..], &mut MetaSink::discard()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "malformed tar archive: archive header checksum mismatch"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..3000)) {
        let _ = extract(&bytes[..], &mut MetaSink::discard());
    }

    #[test]
    fn corrupting_a_valid_archive_never_panics(pos in 0usize..4096, byte in any::<u8>()) {
        let mut bytes = sample_tar();
        bytes.truncate(4096);
        bytes[pos] = byte;
        let _ = extract(&bytes[..], &mut MetaSink::discard());
    }
}
