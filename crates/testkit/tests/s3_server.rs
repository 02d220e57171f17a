//! The S3 server behaves like a bucket would for the requests ferry makes: signed GETs,
//! ranged GETs (206 with exactly the asked bytes), listing, 403 for bad signatures, real AWS
//! CLI uploads including multipart; and it stops when dropped.

mod common;

use std::io::{BufRead as _, BufReader};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{pattern, send, BodyEnd, Creds, Request};
use ferry_testkit::S3Server;

#[test]
fn signed_get_returns_the_object_with_its_md5_etag() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s3 = S3Server::start(dir.path()).expect("start");
    s3.create_bucket("bkt").expect("bucket");
    s3.put_object("bkt", "a/b.txt", b"hello ferry")
        .expect("put");

    let resp = send(s3.addr(), &Request::get("/bkt/a/b.txt")).expect("get");
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.body, b"hello ferry");
    // md5("hello ferry"), as a PUT through the API would have recorded it.
    assert_eq!(
        resp.header("etag"),
        Some("\"ad9f72211c92ab79b91bbbd183b291a7\"")
    );
}

#[test]
fn ranged_gets_return_206_with_exactly_the_requested_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s3 = S3Server::start(dir.path()).expect("start");
    s3.create_bucket("bkt").expect("bucket");
    let data = pattern(3 * 1024 * 1024 + 17);
    s3.put_object("bkt", "set/backup.xbstream00", &data)
        .expect("put");
    let len = data.len() as u64;

    for (first, last) in [
        (0, 0),
        (1000, 1999),
        (1 << 20, (2 << 20) - 1),
        (len - 10, len - 1),
    ] {
        let resp = send(
            s3.addr(),
            &Request::get("/bkt/set/backup.xbstream00").range(first, last),
        )
        .expect("get");
        assert_eq!(resp.status, 206, "range {first}-{last}: {}", resp.text());
        assert_eq!(resp.body_end, BodyEnd::Complete);
        assert_eq!(
            resp.body,
            &data[first as usize..=last as usize],
            "range {first}-{last}"
        );
        assert_eq!(
            resp.header("content-range"),
            Some(format!("bytes {first}-{last}/{len}").as_str())
        );
    }

    // A range running past the end is cut to the object, as S3 does.
    let resp = send(
        s3.addr(),
        &Request::get("/bkt/set/backup.xbstream00").range(len - 5, len + 100),
    )
    .expect("get");
    assert_eq!(
        (resp.status, resp.body.as_slice()),
        (206, &data[data.len() - 5..])
    );

    // A range starting past the end is refused.
    let resp = send(
        s3.addr(),
        &Request::get("/bkt/set/backup.xbstream00").range(len, len + 1),
    )
    .expect("get");
    assert_eq!(resp.status, 416, "{}", resp.text());
}

/// The server reads bodies in 1 MiB chunks: objects and ranges that do not line up with them
/// must still come back byte for byte, and a rewritten object must be served anew.
#[test]
fn large_objects_come_back_byte_for_byte_whole_by_range_and_after_a_rewrite() {
    use md5::{Digest as _, Md5};

    let dir = tempfile::tempdir().expect("tempdir");
    let s3 = S3Server::start(dir.path()).expect("start");
    s3.create_bucket("bkt").expect("bucket");
    let data = pattern((5 << 20) / 2 + 3);
    s3.put_object("bkt", "big", &data).expect("put");
    let len = data.len() as u64;

    let resp = send(s3.addr(), &Request::get("/bkt/big")).expect("get");
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.body_end, BodyEnd::Complete);
    assert_eq!(resp.content_length(), Some(len));
    assert!(resp.body == data, "whole-object body differs");
    let md5 = common::hex(&Md5::digest(&data));
    assert_eq!(resp.header("etag"), Some(format!("\"{md5}\"").as_str()));

    // Across both chunk boundaries, from odd offsets.
    let (first, last) = (1000, (2 << 20) + 4999);
    let resp = send(s3.addr(), &Request::get("/bkt/big").range(first, last)).expect("get");
    assert_eq!(resp.status, 206, "{}", resp.text());
    assert!(
        resp.body == data[first as usize..=last as usize],
        "range {first}-{last} differs"
    );

    // A suffix range: the last 5000 bytes.
    let resp = send(
        s3.addr(),
        &Request::get("/bkt/big").header("Range", "bytes=-5000"),
    )
    .expect("get");
    assert_eq!(resp.status, 206, "{}", resp.text());
    assert_eq!(
        resp.header("content-range"),
        Some(format!("bytes {}-{}/{len}", len - 5000, len - 1).as_str())
    );
    assert!(
        resp.body == data[data.len() - 5000..],
        "suffix range differs"
    );

    // Rewritten shorter: the new bytes and ETag, nothing of the old object.
    let new_data = pattern(1 << 20);
    s3.put_object("bkt", "big", &new_data[1..])
        .expect("rewrite");
    let resp = send(s3.addr(), &Request::get("/bkt/big")).expect("get");
    assert_eq!((resp.status, &resp.body_end), (200, &BodyEnd::Complete));
    assert!(resp.body == new_data[1..], "rewritten object differs");
    let md5 = common::hex(&Md5::digest(&new_data[1..]));
    assert_eq!(resp.header("etag"), Some(format!("\"{md5}\"").as_str()));

    s3.put_object("bkt", "empty", b"").expect("put empty");
    let resp = send(s3.addr(), &Request::get("/bkt/empty")).expect("get");
    assert_eq!((resp.status, &resp.body_end), (200, &BodyEnd::Complete));
    assert_eq!((resp.content_length(), resp.body.len()), (Some(0), 0));
}

#[test]
fn missing_objects_and_buckets_get_404_with_an_s3_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s3 = S3Server::start(dir.path()).expect("start");
    s3.create_bucket("bkt").expect("bucket");
    s3.put_object("bkt", "there", b"x").expect("put");

    for target in ["/bkt/missing", "/bkt/there/below", "/nobucket/there"] {
        let resp = send(s3.addr(), &Request::get(target)).expect("get");
        assert_eq!(resp.status, 404, "{target}: {}", resp.text());
        assert!(
            resp.text().contains("<Code>NoSuchKey</Code>"),
            "{target}: {}",
            resp.text()
        );
    }
}

#[test]
fn unsigned_and_badly_signed_requests_are_refused_with_403() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s3 = S3Server::start(dir.path()).expect("start");
    s3.create_bucket("bkt").expect("bucket");
    s3.put_object("bkt", "k", b"secret").expect("put");

    let unsigned = send(s3.addr(), &Request::get("/bkt/k").unsigned()).expect("get");
    assert_eq!(unsigned.status, 403, "{}", unsigned.text());
    assert!(!unsigned.text().contains("secret"));

    let wrong_secret = Creds {
        access_key: ferry_testkit::TEST_ACCESS_KEY,
        secret_key: "not-the-secret",
    };
    let bad = send(s3.addr(), &Request::get("/bkt/k").creds(wrong_secret)).expect("get");
    assert_eq!(bad.status, 403, "{}", bad.text());
    assert!(
        bad.text().contains("SignatureDoesNotMatch"),
        "{}",
        bad.text()
    );

    let unknown_key = Creds {
        access_key: "someone-else",
        secret_key: ferry_testkit::TEST_SECRET_KEY,
    };
    let unknown = send(s3.addr(), &Request::get("/bkt/k").creds(unknown_key)).expect("get");
    assert_eq!(unknown.status, 403, "{}", unknown.text());
}

#[test]
fn put_tree_uploads_a_directory_under_a_prefix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(src.path().join("full/db1")).expect("mkdir");
    std::fs::write(
        src.path().join("full/xtrabackup_checkpoints"),
        b"backup_type = full-backuped\n",
    )
    .expect("write");
    std::fs::write(src.path().join("full/db1/t.ibd"), pattern(70_000)).expect("write");
    std::fs::write(src.path().join("inc1.xbstream"), b"XBSTCK01").expect("write");

    let s3 = S3Server::start(&dir.path().join("s3-root")).expect("start");
    s3.create_bucket("backups").expect("bucket");
    let n = s3
        .put_tree("backups", "chain1/", src.path())
        .expect("put_tree");
    assert_eq!(n, 3);

    let list = send(
        s3.addr(),
        &Request::get("/backups?list-type=2&prefix=chain1"),
    )
    .expect("list");
    assert_eq!(list.status, 200, "{}", list.text());
    let text = list.text();
    let keys: Vec<&str> = text
        .split("<Key>")
        .skip(1)
        .filter_map(|s| s.split("</Key>").next())
        .collect();
    assert_eq!(
        keys,
        [
            "chain1/full/db1/t.ibd",
            "chain1/full/xtrabackup_checkpoints",
            "chain1/inc1.xbstream"
        ]
    );

    let resp = send(s3.addr(), &Request::get("/backups/chain1/full/db1/t.ibd")).expect("get");
    assert_eq!((resp.status, resp.body.len()), (200, 70_000));
    assert_eq!(resp.body, pattern(70_000));

    // The fixture itself is untouched by later writes to the object.
    s3.put_object("backups", "chain1/inc1.xbstream", b"corrupted")
        .expect("overwrite");
    assert_eq!(
        std::fs::read(src.path().join("inc1.xbstream")).expect("read"),
        b"XBSTCK01"
    );
    let resp = send(s3.addr(), &Request::get("/backups/chain1/inc1.xbstream")).expect("get");
    assert_eq!(resp.body, b"corrupted");
}

#[test]
fn bad_bucket_names_and_keys_are_refused_with_a_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s3 = S3Server::start(dir.path()).expect("start");
    let err = s3.create_bucket("Bad_Bucket").expect_err("invalid name");
    assert!(
        format!("{err:#}").contains("not a valid S3 bucket name"),
        "{err:#}"
    );
    let err = s3
        .put_object("nobucket", "k", b"x")
        .expect_err("missing bucket");
    assert!(format!("{err:#}").contains("does not exist"), "{err:#}");
    s3.create_bucket("bkt").expect("bucket");
    let err = s3
        .put_object("bkt", "../escape", b"x")
        .expect_err("bad key");
    assert!(format!("{err:#}").contains("cannot be stored"), "{err:#}");
}

#[test]
fn dropping_the_server_closes_its_port() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s3 = S3Server::start(dir.path()).expect("start");
    let addr = s3.addr();
    TcpStream::connect(addr).expect("server accepts while running");
    drop(s3);
    assert!(
        TcpStream::connect(addr).is_err(),
        "port {addr} still accepts after drop"
    );
}

#[tokio::test]
async fn works_from_an_async_test_and_drops_there() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s3 = S3Server::start(dir.path()).expect("start");
    s3.create_bucket("bkt").expect("bucket");
    s3.put_object("bkt", "k", b"async").expect("put");
    let addr = s3.addr();
    let resp = tokio::task::spawn_blocking(move || send(addr, &Request::get("/bkt/k")))
        .await
        .expect("join")
        .expect("get");
    assert_eq!(resp.body, b"async");
    drop(s3); // must not panic inside a runtime
}

#[test]
fn env_vars_name_the_endpoint_and_credentials() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s3 = S3Server::start(dir.path()).expect("start");
    let env: std::collections::HashMap<String, String> = s3.env_vars().into_iter().collect();
    assert_eq!(env["AWS_ENDPOINT_URL"], s3.endpoint());
    assert_eq!(env["AWS_ACCESS_KEY_ID"], "ferry-test-key");
    assert_eq!(env["AWS_SECRET_ACCESS_KEY"], "ferry-test-secret-please");
    assert_eq!(env["AWS_REGION"], "us-east-1");
    assert!(s3.endpoint().starts_with("http://127.0.0.1:"));
}

#[test]
fn aws_cli_uploads_multipart_lists_and_reads_ranges() {
    let Some(aws) = common::aws_cli("aws_cli_uploads_multipart_lists_and_reads_ranges") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let s3 = S3Server::start(&dir.path().join("root")).expect("start");
    let cfg = dir.path().join("awscfg");
    std::fs::create_dir_all(&cfg).expect("mkdir");
    // Small parts so a 13 MB file takes three parts.
    std::fs::write(
        cfg.join("config"),
        "[default]\ns3 =\n  multipart_threshold = 5MB\n  multipart_chunksize = 5MB\n",
    )
    .expect("config");
    let env = s3.env_vars();
    let aws_cmd = || common::aws_command(&aws, &env, &cfg);

    let data = pattern(13 * 1024 * 1024 + 5);
    let local = dir.path().join("big.bin");
    std::fs::write(&local, &data).expect("write");
    common::run_ok(aws_cmd().args(["s3", "mb", "s3://bkt"]));
    common::run_ok(
        aws_cmd()
            .args(["s3", "cp", "--only-show-errors"])
            .arg(&local)
            .arg("s3://bkt/x/big.bin"),
    );

    let head = common::run_ok(aws_cmd().args([
        "s3api",
        "head-object",
        "--bucket",
        "bkt",
        "--key",
        "x/big.bin",
    ]));
    assert!(head.contains("-3\\\""), "multipart ETag ends in -3: {head}");
    let listing = common::run_ok(aws_cmd().args(["s3", "ls", "--recursive", "s3://bkt/"]));
    assert!(
        listing.contains(&format!("{} x/big.bin", data.len())),
        "{listing}"
    );

    let back = dir.path().join("back.bin");
    common::run_ok(
        aws_cmd()
            .args(["s3", "cp", "--only-show-errors", "s3://bkt/x/big.bin"])
            .arg(&back),
    );
    assert!(
        std::fs::read(&back).expect("read") == data,
        "downloaded bytes differ"
    );

    let part = dir.path().join("part.bin");
    let out = common::run_ok(
        aws_cmd()
            .args([
                "s3api",
                "get-object",
                "--bucket",
                "bkt",
                "--key",
                "x/big.bin",
                "--range",
                "bytes=5242870-5242889",
            ])
            .arg(&part),
    );
    assert!(out.contains("bytes 5242870-5242889/"), "{out}");
    assert_eq!(
        std::fs::read(&part).expect("read"),
        &data[5_242_870..=5_242_889]
    );

    let wrong = common::aws_command(&aws, &env, &cfg)
        .env("AWS_SECRET_ACCESS_KEY", "wrong")
        .args(["s3", "ls", "s3://bkt/"])
        .output()
        .expect("run aws");
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("SignatureDoesNotMatch"));
}

#[test]
fn ferry_s3_binary_prints_its_endpoint_serves_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferry-s3"))
        .arg("--root")
        .arg(&root)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--access-key",
            "bench-key",
            "--secret-key",
            "bench-secret",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn ferry-s3");
    let guard = KillOnDrop(&mut child);
    let stdout = guard.0.stdout.take().expect("stdout piped");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read endpoint");
    let endpoint = line.trim();
    let addr = endpoint
        .strip_prefix("http://")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("ferry-s3 printed {line:?}, not an endpoint"));

    std::fs::create_dir(root.join("bkt")).expect("bucket dir");
    std::fs::write(root.join("bkt/k"), b"from the binary").expect("object");
    let creds = Creds {
        access_key: "bench-key",
        secret_key: "bench-secret",
    };
    let resp = send(addr, &Request::get("/bkt/k").creds(creds)).expect("get");
    assert_eq!(
        (resp.status, resp.body.as_slice()),
        (200, b"from the binary".as_slice())
    );
    let refused = send(addr, &Request::get("/bkt/k")).expect("get with test creds");
    assert_eq!(refused.status, 403);

    let pid = guard.0.id().to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("run kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = guard.0.try_wait().expect("try_wait") {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "ferry-s3 did not exit within 10 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "ferry-s3 exited with {exit}");
}

/// Kills and reaps the child if the test fails before it exits.
struct KillOnDrop<'a>(&'a mut std::process::Child);

impl Drop for KillOnDrop<'_> {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}
