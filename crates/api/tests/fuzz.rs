//! 10,000 generated odd and malformed requests over raw TCP to the real server
//! (`server::serve` over a `ControlPlane` with no clusters): random methods, paths, actions,
//! parameters, bodies, header counts and sizes, garbage and truncated HTTP, missing, bad and
//! expired signatures, huge values, unicode. Every answer must be AWS's format (an
//! `ErrorResponse`, or the action's `...Response`, each with a request id that is also in
//! `x-amzn-RequestId`) and never a 5xx; only a request cut off by the client may go
//! unanswered; the server must still answer afterwards.
//!
//! The generator is seeded: the seed is printed, and `FERRY_FUZZ_SEED=<n>` replays a run
//! (`FERRY_FUZZ_REQUESTS=<n>` changes the count).

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use ferry_api::server;
use ferry_api::sigv4;
use ferry_control::config::Config;
use ferry_control::layout::Layout;
use ferry_control::ControlPlane;

/// SplitMix64: small, seedable, good enough to pick cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

const ACTIONS_SAFE: &[&str] = &[
    "DescribeDBClusters",
    "DescribeDBInstances",
    "DescribeEvents",
    "ListTagsForResource",
    "FerryDescribeReplication",
    "DeleteDBCluster",
    "DeleteDBInstance",
    "ModifyDBCluster",
    "AddTagsToResource",
    "RemoveTagsFromResource",
    "FerryCutover",
    "DescribeNothing",
    "",
    "Describe%00",
    "ÄctionÜ",
];
/// Only ever sent unsigned or with a wrong signature: they would start real work.
const ACTIONS_UNSAFE: &[&str] = &[
    "CreateDBCluster",
    "CreateDBInstance",
    "RestoreDBClusterFromS3",
    "FerryStartReplication",
];
const PARAMS: &[&str] = &[
    "DBClusterIdentifier",
    "DBInstanceIdentifier",
    "MaxRecords",
    "Marker",
    "Filters.Filter.1.Name",
    "Filters.Filter.1.Values.Value.1",
    "ResourceName",
    "Tags.Tag.1.Key",
    "Tags.Tag.1.Value",
    "TagKeys.member.1",
    "SourceType",
    "StartTime",
    "Duration",
    "SkipFinalSnapshot",
    "Version",
    "Action",
    "Port",
    "X",
    "",
    "Filters.Filter.999999999999.Name",
];
const VALUES: &[&str] = &[
    "",
    "c1",
    "my-cluster",
    "arn:aws:rds:us-east-1:000000000000:cluster:c1",
    "arn:aws:rds:::",
    "-1",
    "0",
    "20",
    "100",
    "99999999999999999999999",
    "true",
    "maybe",
    "db-cluster-id",
    "engine",
    "2014-10-31",
    "2012-01-01",
    "2026-13-45T99:99:99Z",
    "<x>&amp;</x>",
    "'; DROP TABLE clusters; --",
    "日本語のクラスター",
    "\u{0}\u{1}\u{1b}",
    "\u{FFFF}\u{FFFE}",
    "%ZZ%",
    "a\r\nX-Injected: 1",
    "🦀🦀🦀",
];

/// What the generator made: the bytes, and whether the client cuts the request off (then the
/// server may close without an answer).
struct Case {
    raw: Vec<u8>,
    truncated: bool,
    head_request: bool,
}

struct Signer {
    access_key_id: String,
    secret: ferry_base::Secret,
    host: String,
}

fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn random_value(rng: &mut Rng) -> String {
    match rng.below(200) {
        // Huge values are rare: their cost in a debug build is what bounds the run's time.
        0 => "v".repeat(rng.below(1_500_000)),
        1..=10 => {
            let n = rng.below(64);
            String::from_utf8_lossy(&rng.bytes(n)).into_owned()
        }
        11..=20 => (0..rng.below(40))
            .map(|_| char::from_u32(rng.below(0x11_0000) as u32).unwrap_or('\u{FFFD}'))
            .collect(),
        _ => rng.pick(VALUES).to_string(),
    }
}

/// A query string of random parameters (`Action` and `Version` usually among them).
fn random_form(rng: &mut Rng, action: &str) -> String {
    let mut parts = Vec::new();
    if !rng.chance(10) {
        parts.push(format!("Action={}", encode(action)));
    }
    if !rng.chance(10) {
        let v = if rng.chance(90) {
            "2014-10-31"
        } else {
            "2099-01-01"
        };
        parts.push(format!("Version={v}"));
    }
    for _ in 0..rng.below(6) {
        let name = rng.pick(PARAMS);
        let value = random_value(rng);
        if rng.chance(5) {
            // Raw, unencoded: `&`, `=`, `%` and bytes as they are.
            parts.push(format!("{name}={value}"));
        } else {
            parts.push(format!("{}={}", encode(name), encode(&value)));
        }
    }
    if rng.chance(5) {
        parts.push("&&==&%".to_string());
    }
    parts.join("&")
}

fn generate(rng: &mut Rng, signer: &Signer) -> Case {
    let kind = rng.below(100);
    // Garbage and broken HTTP.
    if kind < 8 {
        let n = rng.below(300);
        let mut raw = rng.bytes(n);
        raw.extend_from_slice(b"\r\n\r\n");
        return Case {
            raw,
            truncated: false,
            head_request: false,
        };
    }
    if kind < 12 {
        let lines: &[&[u8]] = &[
            b"GET / HTTP/9.9\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef",
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
            b"GET  /  HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nBad Header\r\n\r\n",
            b"GET / HTTP/1.1\r\n: empty-name\r\n\r\n",
            b"GET http://other.example/ HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET * HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET / HTTP/1.0\r\n\r\n",
            b"CONNECT x:1 HTTP/1.1\r\nHost: x\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
            b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: \xff\xfe\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello",
        ];
        return Case {
            raw: rng.pick(lines).to_vec(),
            truncated: false,
            head_request: false,
        };
    }
    // A well-formed request, then perhaps cut off.
    let method = *rng.pick(&[
        "POST", "POST", "POST", "POST", "POST", "GET", "GET", "GET", "HEAD", "PUT", "DELETE",
        "OPTIONS", "PATCH", "FOO",
    ]);
    let signed = rng.below(4); // 0 none, 1 valid, 2 wrong, 3 garbage / expired
    let action = if signed == 1 {
        rng.pick(ACTIONS_SAFE).to_string()
    } else if rng.chance(30) {
        rng.pick(ACTIONS_UNSAFE).to_string()
    } else {
        rng.pick(ACTIONS_SAFE).to_string()
    };
    let form = random_form(rng, &action);
    let path = match rng.below(40) {
        0 => "/healthz".to_string(),
        1 => "/metrics".to_string(),
        2 => "/nothing/here".to_string(),
        3 => format!("/{}", encode("日本/🦀")),
        4 => format!("/{}", "p".repeat(rng.below(80_000))),
        5 => "//".to_string(),
        _ => "/".to_string(),
    };
    let (query, body) = if method == "GET" || rng.chance(10) {
        (form, String::new())
    } else {
        (String::new(), form)
    };
    let mut headers = HeaderMap::new();
    if !rng.chance(5) {
        headers.insert(
            "content-type",
            HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"),
        );
    }
    if signed == 1 || signed == 2 {
        let parts = sigv4::SignedRequestParts {
            method,
            path: &path,
            query: &query,
            headers: &headers,
            body: body.as_bytes(),
        };
        let credentials = sigv4::Credentials {
            access_key_id: &signer.access_key_id,
            secret_access_key: &signer.secret,
        };
        let when = if signed == 2 && rng.chance(30) {
            time::OffsetDateTime::now_utc() - time::Duration::hours(2)
        } else {
            time::OffsetDateTime::now_utc()
        };
        for (name, mut value) in
            sigv4::sign(&parts, &signer.host, &credentials, "us-east-1", "rds", when)
        {
            if signed == 2 && name == "authorization" && rng.chance(70) {
                // One character of the signature changed.
                let last = value.pop().unwrap_or('0');
                value.push(if last == '0' { '1' } else { '0' });
            }
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                headers.insert(n, v);
            }
        }
    } else if signed == 3 {
        let value = *rng.pick(&[
            "AWS4-HMAC-SHA256",
            "AWS4-HMAC-SHA256 Credential=, SignedHeaders=, Signature=",
            "AWS4-HMAC-SHA256 Credential=AKIAX/20260101/us-east-1/rds/aws4_request, SignedHeaders=host, Signature=00",
            "Basic dXNlcjpwYXNz",
            "AWS4-HMAC-SHA256 Credential=a/b/c/d/e/f/g/h, SignedHeaders=;;;, Signature=zz",
        ]);
        headers.insert("authorization", HeaderValue::from_static(value));
        headers.insert("x-amz-date", HeaderValue::from_static("20260101T000000Z"));
    }
    let target = if query.is_empty() {
        path.clone()
    } else {
        format!("{path}?{query}")
    };
    let mut raw = format!("{method} {target} HTTP/1.1\r\nhost: {}\r\n", signer.host).into_bytes();
    for (name, value) in &headers {
        raw.extend_from_slice(name.as_str().as_bytes());
        raw.extend_from_slice(b": ");
        raw.extend_from_slice(value.as_bytes());
        raw.extend_from_slice(b"\r\n");
    }
    // Odd extra headers: many, long, non-ASCII.
    match rng.below(40) {
        0 => {
            for i in 0..rng.below(150) {
                raw.extend_from_slice(format!("x-extra-{i}: {i}\r\n").as_bytes());
            }
        }
        1 => {
            let n = rng.below(120_000);
            raw.extend_from_slice(format!("x-long: {}\r\n", "h".repeat(n)).as_bytes());
        }
        2 => raw.extend_from_slice("x-unicode: ünï¢ødé 🦀\r\n".as_bytes()),
        3 => raw.extend_from_slice(b"x-binary: \x01\x7f\r\n"),
        _ => {}
    }
    let declared = if rng.chance(5) {
        body.len() + 1 + rng.below(100)
    } else {
        body.len()
    };
    raw.extend_from_slice(format!("content-length: {declared}\r\n\r\n").as_bytes());
    raw.extend_from_slice(body.as_bytes());
    let mut truncated = declared != body.len();
    if rng.chance(5) {
        let cut = rng.below(raw.len().max(1));
        raw.truncate(cut);
        truncated = true;
    }
    Case {
        raw,
        truncated,
        head_request: method == "HEAD",
    }
}

/// One answer: status, lower-cased headers, body.
struct Answer {
    status: u16,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

/// Reads one answer (skipping `100 Continue`); `None` if the server closed without one.
fn read_answer(s: &mut TcpStream, head_request: bool) -> Result<Option<Answer>, String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    loop {
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match s.read(&mut chunk) {
                Ok(0) => {
                    return if buf.is_empty() {
                        Ok(None)
                    } else {
                        Err(format!(
                            "closed mid-head: {:?}",
                            String::from_utf8_lossy(&buf)
                        ))
                    }
                }
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::ConnectionReset && buf.is_empty() => {
                    return Ok(None)
                }
                Err(e) => return Err(format!("read: {e}")),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status: u16 = status_line
            .strip_prefix("HTTP/1.1 ")
            .or_else(|| status_line.strip_prefix("HTTP/1.0 "))
            .and_then(|r| r.get(..3))
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| format!("not an HTTP/1.x status line: {status_line:?}"))?;
        if (100..200).contains(&status) {
            buf.drain(..head_end);
            continue;
        }
        let headers: BTreeMap<String, String> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let length: usize = match headers.get("content-length") {
            Some(v) => v.parse().map_err(|_| format!("content-length {v:?}"))?,
            None => return Err(format!("no content-length: {head:?}")),
        };
        let length = if head_request { 0 } else { length };
        while buf.len() < head_end + length {
            match s.read(&mut chunk) {
                Ok(0) => return Err("closed mid-body".to_string()),
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) => return Err(format!("read the body: {e}")),
            }
        }
        return Ok(Some(Answer {
            status,
            headers,
            body: buf[head_end..head_end + length].to_vec(),
        }));
    }
}

/// Checks that `a` is in AWS's format; returns its error code (or `-` for a success).
fn check(a: &Answer, head_request: bool) -> Result<String, String> {
    if a.status >= 500 {
        return Err(format!("HTTP {}", a.status));
    }
    let request_id = a.headers.get("x-amzn-requestid").cloned();
    let body = String::from_utf8_lossy(&a.body);
    if a.headers.get("content-type").map(String::as_str) != Some("text/xml") {
        // Only the unauthenticated probes answer anything but XML.
        if a.status == 200 && (body == "ok\n" || body.starts_with("# ") || body.is_empty()) {
            return Ok("-".to_string());
        }
        return Err(format!("HTTP {} is not text/xml: {body:.200}", a.status));
    }
    let request_id = request_id.ok_or("no x-amzn-requestid")?;
    if head_request {
        return Ok("(head)".to_string());
    }
    let doc =
        roxmltree::Document::parse(&body).map_err(|e| format!("not XML ({e}): {body:.300}"))?;
    let root = doc.root_element();
    let text = |name: &str| {
        root.descendants()
            .find(|n| n.has_tag_name(name))
            .and_then(|n| n.text())
            .map(str::to_string)
    };
    if text("RequestId").as_deref() != Some(request_id.as_str()) {
        return Err(format!("request id differs from the header: {body:.300}"));
    }
    if a.status >= 300 {
        if root.tag_name().name() != "ErrorResponse" {
            return Err(format!(
                "HTTP {} without ErrorResponse: {body:.300}",
                a.status
            ));
        }
        let code = text("Code").ok_or("no Code")?;
        if text("Message").is_none_or(|m| m.is_empty()) || text("Type").is_none() {
            return Err(format!("no Message or Type: {body:.300}"));
        }
        Ok(code)
    } else if root.tag_name().name().ends_with("Response") {
        Ok("-".to_string())
    } else {
        Err(format!(
            "HTTP {} with root {}",
            a.status,
            root.tag_name().name()
        ))
    }
}

fn exchange(addr: SocketAddr, case: &Case) -> Result<Option<Answer>, String> {
    let mut s = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    // Longer than the server's own header and body timeouts (30 s and 60 s by default), so
    // that a request the server waits on is ended by the server, never by this read.
    s.set_read_timeout(Some(Duration::from_secs(90)))
        .map_err(|e| e.to_string())?;
    // The server may answer and close before taking everything (a 413, a bad head): a write
    // error then is not a failure, the answer is what counts.
    let _ = s.write_all(&case.raw);
    // Blank lines alone are no request: the server would wait for one until its header
    // timeout; the end of the stream tells it none comes.
    if case.truncated || case.raw.iter().all(u8::is_ascii_whitespace) {
        let _ = s.shutdown(Shutdown::Write);
    }
    read_answer(&mut s, case.head_request)
}

fn read_credentials(path: &str) -> (String, String) {
    let text = std::fs::read_to_string(path).expect("admin credentials");
    let get = |key: &str| {
        text.lines()
            .filter_map(|l| l.split_once('='))
            .find(|(k, _)| k.trim() == key)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_else(|| panic!("{key} in {path}"))
    };
    (get("aws_access_key_id"), get("aws_secret_access_key"))
}

#[test]
fn ten_thousand_fuzzed_requests_get_aws_answers() {
    let seed: u64 = std::env::var("FERRY_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    let count: usize = std::env::var("FERRY_FUZZ_REQUESTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    eprintln!("fuzz: seed {seed} (FERRY_FUZZ_SEED={seed} replays it), {count} requests");

    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().to_str().expect("UTF-8 temp dir").to_string();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let layout = Layout::new(root);
    let credentials = layout.admin_credentials().to_string();
    let (cp, listener) = runtime.block_on(async {
        let cp = ControlPlane::open(layout, Config::default())
            .await
            .expect("open the control plane");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        (cp, listener)
    });
    let addr = listener.local_addr().expect("local address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = runtime.spawn(server::serve(listener, cp.clone(), async {
        let _ = stopped.await;
    }));
    let (access_key_id, secret) = read_credentials(&credentials);
    let signer = Signer {
        access_key_id,
        secret: secret.into(),
        host: addr.to_string(),
    };

    let started = Instant::now();
    let threads = 4;
    let codes: Mutex<BTreeMap<(u16, String), usize>> = Mutex::new(BTreeMap::new());
    let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let unanswered = Mutex::new(0usize);
    std::thread::scope(|scope| {
        for t in 0..threads {
            let (codes, failures, unanswered, signer) = (&codes, &failures, &unanswered, &signer);
            scope.spawn(move || {
                for i in (t..count).step_by(threads) {
                    // Each request has its own seed, so one failure replays alone.
                    let mut rng = Rng(seed ^ (i as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
                    let case = generate(&mut rng, signer);
                    let outcome = exchange(addr, &case).and_then(|a| match a {
                        None if case.truncated => Ok((0, "(cut off, no answer)".to_string())),
                        // Blank lines before a request line are skipped (RFC 9112, 2.2): this
                        // sent no request at all.
                        None if case.raw.iter().all(u8::is_ascii_whitespace) => {
                            Ok((0, "(no request)".to_string()))
                        }
                        None => Err("closed without an answer".to_string()),
                        Some(a) => check(&a, case.head_request).map(|c| (a.status, c)),
                    });
                    match outcome {
                        Ok((0, _)) => *unanswered.lock().unwrap() += 1,
                        Ok(key) => *codes.lock().unwrap().entry(key).or_default() += 1,
                        Err(e) => failures.lock().unwrap().push(format!(
                            "request {i}: {e}\n  sent: {:?}",
                            String::from_utf8_lossy(&case.raw[..case.raw.len().min(400)])
                        )),
                    }
                }
            });
        }
    });
    let elapsed = started.elapsed();

    // The server still answers, signed requests included.
    let client = ferry_api::client::Client::from_credentials_file(
        &format!("http://{addr}"),
        std::path::Path::new(&credentials),
    )
    .expect("client");
    let after = runtime.block_on(client.call("DescribeDBClusters", &[]));
    let _ = stop.send(());
    let _ = runtime.block_on(async { tokio::time::timeout(Duration::from_secs(30), task).await });
    runtime.block_on(cp.shutdown());

    let codes = codes.into_inner().unwrap();
    eprintln!(
        "fuzz: {count} requests in {:.1} s; {} cut off by the client without an answer; answers \
         by status and code:",
        elapsed.as_secs_f64(),
        unanswered.into_inner().unwrap()
    );
    for ((status, code), n) in &codes {
        eprintln!("  {status} {code}: {n}");
    }
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "seed {seed}: {} of {count} answers were not AWS's format:\n{}",
        failures.len(),
        failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    after.expect("DescribeDBClusters after the fuzzing");
}
