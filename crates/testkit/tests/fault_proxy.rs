//! The fault proxy forwards signed requests untouched, and injects each fault exactly as its
//! plan says: which requests, how many, what the client sees, and what the stats count.

mod common;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{pattern, send, BodyEnd, Request};
use ferry_testkit::{Fault, FaultPlan, FaultProxy, FaultRule, S3Server};

const OBJECT_LEN: usize = 1024 * 1024 + 333;

/// A server with bucket `bkt` holding `set/part00` and `set/part01` (`OBJECT_LEN` bytes each,
/// different contents), and a proxy in front of it.
struct Rig {
    _dir: tempfile::TempDir,
    s3: S3Server,
    proxy: FaultProxy,
    part00: Vec<u8>,
    part01: Vec<u8>,
}

fn rig(plan: FaultPlan) -> Rig {
    let dir = tempfile::tempdir().expect("tempdir");
    let s3 = S3Server::start(dir.path()).expect("start server");
    s3.create_bucket("bkt").expect("bucket");
    let part00 = pattern(OBJECT_LEN);
    let part01: Vec<u8> = part00.iter().rev().copied().collect();
    s3.put_object("bkt", "set/part00", &part00).expect("put");
    s3.put_object("bkt", "set/part01", &part01).expect("put");
    let proxy = FaultProxy::start(s3.addr(), plan).expect("start proxy");
    Rig {
        _dir: dir,
        s3,
        proxy,
        part00,
        part01,
    }
}

#[test]
fn signed_requests_pass_through_unchanged() {
    let rig = rig(FaultPlan::none());
    let resp = send(rig.proxy.addr(), &Request::get("/bkt/set/part00")).expect("get");
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.body_end, BodyEnd::Complete);
    assert!(resp.body == rig.part00, "body differs");
    assert_eq!(resp.header("connection"), Some("close"));

    let ranged = send(
        rig.proxy.addr(),
        &Request::get("/bkt/set/part01").range(10, 19),
    )
    .expect("get");
    assert_eq!(
        (ranged.status, ranged.body.as_slice()),
        (206, &rig.part01[10..20])
    );

    // The signature check still happens upstream.
    let unsigned = send(
        rig.proxy.addr(),
        &Request::get("/bkt/set/part00").unsigned(),
    )
    .expect("get");
    assert_eq!(unsigned.status, 403);

    let stats = rig.proxy.stats();
    assert_eq!((stats.requests, stats.faults()), (3, 0));
}

#[test]
fn first_n_matching_gets_are_answered_503_with_an_s3_error() {
    let rig = rig(FaultPlan::single(
        FaultRule::status(503).first(2).path_contains("part01"),
    ));
    let other = send(rig.proxy.addr(), &Request::get("/bkt/set/part00")).expect("get");
    assert_eq!(
        other.status, 200,
        "a request not matching the path is forwarded"
    );

    for attempt in 1..=2 {
        let resp = send(rig.proxy.addr(), &Request::get("/bkt/set/part01")).expect("get");
        assert_eq!(resp.status, 503, "attempt {attempt}");
        assert_eq!(resp.header("content-type"), Some("application/xml"));
        assert!(
            resp.text().contains("<Code>SlowDown</Code>"),
            "{}",
            resp.text()
        );
        assert!(
            resp.text().contains("<Resource>/bkt/set/part01</Resource>"),
            "{}",
            resp.text()
        );
    }
    let third = send(rig.proxy.addr(), &Request::get("/bkt/set/part01")).expect("get");
    assert_eq!(third.status, 200);
    assert!(third.body == rig.part01);

    let stats = rig.proxy.stats();
    assert_eq!(
        (stats.requests, stats.status_errors, stats.faults()),
        (4, 2, 2)
    );
    assert_eq!(stats.events.len(), 2);
    assert!(stats
        .events
        .iter()
        .all(|e| e.target == "/bkt/set/part01" && e.method == "GET"));
}

#[test]
fn every_mth_request_gets_a_500() {
    let rig = rig(FaultPlan::single(FaultRule::status(500).every(3)));
    let statuses: Vec<u16> = (0..7)
        .map(|_| {
            send(
                rig.proxy.addr(),
                &Request::get("/bkt/set/part00").range(0, 9),
            )
            .expect("get")
            .status
        })
        .collect();
    assert_eq!(statuses, [206, 206, 500, 206, 206, 500, 206]);
    let stats = rig.proxy.stats();
    assert_eq!((stats.requests, stats.status_errors), (7, 2));
    assert_eq!(
        stats.events[0].fault,
        Fault::Status {
            status: 500,
            code: "InternalError".into()
        }
    );
}

#[test]
fn reset_mid_body_delivers_exactly_k_bytes_then_a_reset() {
    let rig = rig(FaultPlan::single(FaultRule::reset_after(100_000).first(1)));
    let resp = send(rig.proxy.addr(), &Request::get("/bkt/set/part00")).expect("get");
    assert_eq!(resp.status, 200, "the client sees success before the reset");
    assert_eq!(resp.content_length(), Some(OBJECT_LEN as u64));
    assert_eq!(resp.body_end, BodyEnd::Reset);
    assert_eq!(resp.body.len(), 100_000);
    assert!(
        resp.body == rig.part00[..100_000],
        "the bytes before the reset are the object's"
    );

    let again = send(rig.proxy.addr(), &Request::get("/bkt/set/part00")).expect("get");
    assert_eq!(
        again.body_end,
        BodyEnd::Complete,
        "only the first response is cut"
    );
    assert!(again.body == rig.part00);
    let stats = rig.proxy.stats();
    assert_eq!((stats.requests, stats.resets, stats.faults()), (2, 1, 1));
}

#[test]
fn reset_applies_to_ranged_gets_and_resume_gets_the_rest() {
    let plan = FaultPlan::single(
        FaultRule::reset_after(5000)
            .first(2)
            .path_contains("part01"),
    );
    let rig = rig(plan);
    // A client reading 200_000..300_000 in the way ferry resumes: after a cut, ask for the rest.
    let (first, last) = (200_000u64, 299_999u64);
    let mut got = Vec::new();
    let mut cuts = 0;
    while (got.len() as u64) < last - first + 1 {
        let from = first + got.len() as u64;
        let resp = send(
            rig.proxy.addr(),
            &Request::get("/bkt/set/part01").range(from, last),
        )
        .expect("get");
        assert_eq!(resp.status, 206);
        if resp.body_end == BodyEnd::Reset {
            assert_eq!(resp.body.len(), 5000);
            cuts += 1;
        } else {
            assert_eq!(resp.body_end, BodyEnd::Complete);
        }
        got.extend_from_slice(&resp.body);
        assert!(cuts <= 2, "more resets than planned");
    }
    assert_eq!(cuts, 2);
    assert!(
        got == rig.part01[first as usize..=last as usize],
        "resumed bytes differ"
    );
    assert_eq!(rig.proxy.stats().resets, 2);
}

#[test]
fn reset_skips_responses_too_short_to_cut() {
    let rig = rig(FaultPlan::single(FaultRule::reset_after(50).first(1)));
    // 10 bytes is not more than 50: forwarded whole, and the rule is still armed.
    let short = send(
        rig.proxy.addr(),
        &Request::get("/bkt/set/part00").range(0, 9),
    )
    .expect("get");
    assert_eq!((short.status, short.body_end), (206, BodyEnd::Complete));
    // Error responses are never cut.
    let missing = send(rig.proxy.addr(), &Request::get("/bkt/set/nope")).expect("get");
    assert_eq!((missing.status, missing.body_end), (404, BodyEnd::Complete));
    assert_eq!(rig.proxy.stats().resets, 0);
    let long = send(
        rig.proxy.addr(),
        &Request::get("/bkt/set/part00").range(0, 99),
    )
    .expect("get");
    assert_eq!((long.body_end, long.body.len()), (BodyEnd::Reset, 50));
    assert_eq!(rig.proxy.stats().resets, 1);
}

#[test]
fn truncate_closes_cleanly_after_k_bytes() {
    let rig = rig(FaultPlan::single(FaultRule::truncate_after(12_345)));
    let resp = send(rig.proxy.addr(), &Request::get("/bkt/set/part00")).expect("get");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body_end, BodyEnd::Eof);
    assert!(resp.body == rig.part00[..12_345]);
    assert_eq!(rig.proxy.stats().truncations, 1);
}

#[test]
fn stall_after_headers_makes_a_client_time_out() {
    let rig = rig(FaultPlan::single(FaultRule::stall(Duration::from_secs(30))));
    let started = Instant::now();
    let req = Request::get("/bkt/set/part00").read_timeout(Duration::from_millis(300));
    let resp = send(rig.proxy.addr(), &req).expect("head arrives before the stall");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body_end, BodyEnd::TimedOut);
    assert!(resp.body.is_empty(), "no body byte before the stall");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the client timed out, not the stall"
    );
    assert_eq!(rig.proxy.stats().stalls, 1);
    // Dropping the proxy (end of test) must not wait for the 30 s stall.
}

#[test]
fn stall_mid_body_pauses_then_delivers_everything() {
    let pause = Duration::from_millis(400);
    let rig = rig(FaultPlan::single(FaultRule::stall_after(1000, pause)));
    let started = Instant::now();
    let resp = send(rig.proxy.addr(), &Request::get("/bkt/set/part00")).expect("get");
    assert_eq!(resp.body_end, BodyEnd::Complete);
    assert!(resp.body == rig.part00);
    assert!(started.elapsed() >= pause, "the body was not paused");
    assert_eq!(rig.proxy.stats().stalls, 1);
}

#[test]
fn set_plan_changes_faults_at_runtime_and_stats_accumulate() {
    let rig = rig(FaultPlan::none());
    let get = || {
        send(
            rig.proxy.addr(),
            &Request::get("/bkt/set/part00").range(0, 0),
        )
        .expect("get")
        .status
    };
    assert_eq!(get(), 206);
    rig.proxy
        .set_plan(FaultPlan::single(FaultRule::status(500).first(1)));
    assert_eq!(get(), 500);
    assert_eq!(get(), 206);
    rig.proxy
        .set_plan(FaultPlan::single(FaultRule::status(503).first(1)));
    assert_eq!(get(), 503, "a new plan counts from zero");
    let stats = rig.proxy.stats();
    assert_eq!((stats.requests, stats.status_errors), (4, 2));
    rig.proxy.reset_stats();
    assert_eq!(rig.proxy.stats(), ferry_testkit::FaultStats::default());
}

#[test]
fn put_bodies_are_forwarded_and_method_filters_apply() {
    let plan = FaultPlan::single(FaultRule::status(503).method("PUT").first(1));
    let rig = rig(plan);
    let body = pattern(200_000);
    let put = |body: &[u8]| {
        let mut req = Request::get("/bkt/uploaded/obj");
        req.method = "PUT";
        req.body = body;
        send(rig.proxy.addr(), &req).expect("put")
    };
    assert_eq!(put(&body).status, 503, "the first PUT is refused");
    let ok = put(&body);
    assert_eq!(ok.status, 200, "{}", ok.text());
    let stored =
        std::fs::read(rig.s3.object_path("bkt", "uploaded/obj").expect("path")).expect("read");
    assert!(stored == body, "stored object differs from the PUT body");
    // GETs are not PUTs.
    assert_eq!(
        send(rig.proxy.addr(), &Request::get("/bkt/uploaded/obj"))
            .expect("get")
            .status,
        200
    );
    assert_eq!(rig.proxy.stats().status_errors, 1);
}

#[test]
fn dropping_the_proxy_closes_its_port() {
    let rig = rig(FaultPlan::none());
    let addr = rig.proxy.addr();
    TcpStream::connect(addr).expect("proxy accepts while running");
    drop(rig);
    assert!(
        TcpStream::connect(addr).is_err(),
        "port {addr} still accepts after drop"
    );
}

#[test]
fn aws_cli_through_the_proxy_retries_503s_and_uploads_with_100_continue() {
    let Some(aws) =
        common::aws_cli("aws_cli_through_the_proxy_retries_503s_and_uploads_with_100_continue")
    else {
        return;
    };
    let plan = FaultPlan::single(FaultRule::status(503).first(2).path_contains("part01"));
    let rig = rig(plan);
    let cfg = rig._dir.path().join("awscfg");
    std::fs::create_dir_all(&cfg).expect("mkdir");
    std::fs::write(
        cfg.join("config"),
        "[default]\nretry_mode = standard\nmax_attempts = 5\ns3 =\n  multipart_threshold = 5MB\n  multipart_chunksize = 5MB\n",
    )
    .expect("config");
    let env = rig.s3.env_vars_via(&rig.proxy.endpoint());
    let aws_cmd = || common::aws_command(&aws, &env, &cfg);

    let out = rig._dir.path().join("part01.out");
    common::run_ok(
        aws_cmd()
            .args(["s3", "cp", "--only-show-errors", "s3://bkt/set/part01"])
            .arg(&out),
    );
    assert!(
        std::fs::read(&out).expect("read") == rig.part01,
        "downloaded bytes differ"
    );
    assert_eq!(
        rig.proxy.stats().status_errors,
        2,
        "both 503s were served and retried"
    );

    // A multipart upload through the proxy: PUTs with `Expect: 100-continue`.
    let big = pattern(11 * 1024 * 1024);
    let local = rig._dir.path().join("big.bin");
    std::fs::write(&local, &big).expect("write");
    common::run_ok(
        aws_cmd()
            .args(["s3", "cp", "--only-show-errors"])
            .arg(&local)
            .arg("s3://bkt/up/big.bin"),
    );
    let stored =
        std::fs::read(rig.s3.object_path("bkt", "up/big.bin").expect("path")).expect("read");
    assert!(stored == big, "uploaded bytes differ");
}
