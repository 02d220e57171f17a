//! Cross-checks the xbstream reader against the real producer: MariaDB's `mbstream -c`
//! (installed with `mariadb-backup` by `scripts/install-deps`). Files larger than the 10 MiB
//! chunk size, empty files and nested directories go through `mbstream -c` and come back out
//! of `ferry_backup::unpack` byte-identical; and a chunk corrupted on purpose is refused by
//! both readers.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use ferry_backup::format::StreamFormat;
use ferry_backup::sink::{DirSink, MetaSink};
use ferry_backup::unpack::unpack;

fn mbstream() -> Command {
    Command::new("mbstream")
}

fn require_mbstream() {
    let ok = mbstream()
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "mbstream not found: install mariadb-backup (scripts/install-deps)"
    );
}

fn write_tree(root: &Path) -> Vec<(&'static str, Vec<u8>)> {
    let big: Vec<u8> = (0..(23 << 20) + 123)
        .map(|i: u32| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let files: Vec<(&'static str, Vec<u8>)> = vec![
        ("ibdata1", big),
        (
            "xtrabackup_checkpoints",
            b"backup_type = full-backuped\nfrom_lsn = 0\nto_lsn = 44404\nlast_lsn = 44413\n"
                .to_vec(),
        ),
        ("db/t1.ibd", vec![0xab; 65536]),
        ("db/empty.opt", Vec::new()),
        ("db/sub/deep.frm", b"frm".to_vec()),
    ];
    for (name, data) in &files {
        let path = root.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, data).unwrap();
    }
    files
}

#[test]
fn reads_what_mbstream_writes() {
    require_mbstream();
    let src = tempfile::tempdir().unwrap();
    let files = write_tree(src.path());
    let out = mbstream()
        .arg("-c")
        .args(files.iter().map(|(n, _)| *n))
        .current_dir(src.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "mbstream -c failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stream = out.stdout;
    assert!(stream.starts_with(b"XBSTCK01"));

    let dst = tempfile::tempdir().unwrap();
    let mut sink = MetaSink::new(DirSink::new(dst.path()).unwrap());
    let stats = unpack(&stream[..], StreamFormat::XBSTREAM, &mut sink).unwrap();
    assert_eq!(stats.files, files.len() as u64);
    assert_eq!(stats.raw_bytes, stream.len() as u64);
    assert!(sink
        .captured("xtrabackup_checkpoints")
        .unwrap()
        .ends_with(b"44413\n"));
    sink.into_inner().unwrap().finish().unwrap();
    for (name, data) in &files {
        assert_eq!(&fs::read(dst.path().join(name)).unwrap(), data, "{name}");
    }
}

#[test]
fn mbstream_and_ferry_agree_on_a_corrupt_stream() {
    require_mbstream();
    let src = tempfile::tempdir().unwrap();
    fs::write(src.path().join("f"), vec![1u8; 5000]).unwrap();
    let out = mbstream()
        .arg("-c")
        .arg("f")
        .current_dir(src.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut stream = out.stdout;
    // Flip one payload byte: the header of the first chunk is 14 + 1 + 20 bytes.
    stream[40] ^= 0xff;
    let err = unpack(
        &stream[..],
        StreamFormat::XBSTREAM,
        &mut MetaSink::discard(),
    )
    .unwrap_err();
    assert!(
        err.to_string().starts_with("member f: checksum mismatch"),
        "{err}"
    );

    let dst = tempfile::tempdir().unwrap();
    let mut child = mbstream()
        .arg("-x")
        .current_dir(dst.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&stream).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        !out.status.success(),
        "mbstream -x accepted a corrupt chunk"
    );
}
