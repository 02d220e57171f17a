//! The HTTP edge of the real server (`server::serve` over a `ControlPlane` with no clusters),
//! spoken to over raw TCP: every error ferry writes is AWS's XML `ErrorResponse` with a
//! request id that botocore reads; headers or bodies that stall are cut off; connections
//! past the bound wait.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use ferry_api::server;
use ferry_control::config::{ApiLimits, Config};
use ferry_control::layout::Layout;
use ferry_control::ControlPlane;

/// `server::serve` on a loopback port, over a control plane in a temporary data dir.
struct Edge {
    addr: SocketAddr,
    cp: ControlPlane,
    runtime: tokio::runtime::Runtime,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    credentials: String,
    _dir: tempfile::TempDir,
}

impl Edge {
    fn start(api: ApiLimits) -> Edge {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().to_str().expect("UTF-8 temp dir").to_string();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let config = Config {
            api,
            ..Config::default()
        };
        let layout = Layout::new(root);
        let credentials = layout.admin_credentials().to_string();
        let (cp, listener) = runtime.block_on(async {
            let cp = ControlPlane::open(layout, config)
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
        Edge {
            addr,
            cp,
            runtime,
            stop: Some(stop),
            task: Some(task),
            credentials,
            _dir: dir,
        }
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(20)))
            .expect("read timeout");
        s
    }

    /// Sends `request` on a new connection and reads one answer.
    fn exchange(&self, request: &[u8]) -> Answer {
        let mut s = self.connect();
        s.write_all(request).expect("send the request");
        read_answer(&mut s)
    }
}

impl Drop for Edge {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = self
                .runtime
                .block_on(async { tokio::time::timeout(Duration::from_secs(30), task).await });
        }
        self.runtime.block_on(self.cp.shutdown());
    }
}

#[derive(Debug)]
struct Answer {
    status: u16,
    /// Lower-cased names.
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `(Type, Code, RequestId)` of an `ErrorResponse`, after checking its shape and that
    /// the request id is the header's.
    fn aws_error(&self) -> (String, String, String) {
        assert_eq!(self.header("content-type"), Some("text/xml"), "{self:?}");
        let doc = roxmltree::Document::parse(&self.body).expect("the body is XML");
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "ErrorResponse", "{}", self.body);
        let text = |name: &str| {
            root.descendants()
                .find(|n| n.has_tag_name(name))
                .and_then(|n| n.text())
                .unwrap_or_else(|| panic!("no {name} in {}", self.body))
                .to_string()
        };
        let request_id = text("RequestId");
        assert_eq!(
            self.header("x-amzn-requestid"),
            Some(request_id.as_str()),
            "{self:?}"
        );
        assert!(!text("Message").is_empty());
        (text("Type"), text("Code"), request_id)
    }
}

/// Reads one HTTP/1.1 answer (with a `Content-Length`, as ferry's always have).
fn read_answer(s: &mut TcpStream) -> Answer {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut chunk).expect("read the answer");
        assert!(
            n > 0,
            "closed before an answer: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).expect("ASCII head");
    let mut lines = head.split("\r\n");
    let status = lines.next().expect("status line")[9..12]
        .parse()
        .expect("status code");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map_or(0, |(_, v)| v.parse().expect("content-length"));
    while buf.len() < head_end + length {
        let n = s.read(&mut chunk).expect("read the body");
        assert!(n > 0, "closed mid-body");
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8(buf[head_end..head_end + length].to_vec()).expect("UTF-8");
    Answer {
        status,
        headers,
        body,
    }
}

/// True once the server closes `s` (EOF or reset), false if `wait` passes first.
fn closed_within(s: &mut TcpStream, wait: Duration) -> bool {
    let deadline = Instant::now() + wait;
    let mut chunk = [0u8; 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        s.set_read_timeout(Some(left)).expect("read timeout");
        match s.read(&mut chunk) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false
            }
            Err(_) => return true,
        }
    }
}

fn request(method: &str, path: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: \
         application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

/// botocore's Query parser reads each `(status, body)` as an RDS error; returns the
/// `(Code, RequestId)` it found for each.
fn botocore_errors(python: &std::path::PathBuf, answers: &[&Answer]) -> Vec<(String, String)> {
    const SCRIPT: &str = r#"
import json, sys
import botocore.session
from botocore.parsers import create_parser
model = botocore.session.get_session().get_service_model('rds')
out = []
for a in json.load(sys.stdin):
    parsed = create_parser('query').parse(
        {'body': a['body'].encode(), 'headers': {}, 'status_code': a['status']},
        model.operation_model('DescribeDBClusters').output_shape)
    out.append([parsed['Error']['Code'], parsed['ResponseMetadata']['RequestId']])
print(json.dumps(out))
"#;
    let input: Vec<serde_json::Value> = answers
        .iter()
        .map(|a| serde_json::json!({"status": a.status, "body": a.body}))
        .collect();
    let out = common::run_python(
        python,
        SCRIPT,
        &[],
        serde_json::to_string(&input).unwrap().as_bytes(),
    );
    serde_json::from_str(&out).expect("JSON from the parser")
}

#[test]
fn every_error_of_the_edge_is_aws_xml() {
    let edge = Edge::start(ApiLimits::default());

    // A 2 MiB form: refused by ferry, in RDS's words, after the body was read and dropped.
    let big = vec![b'a'; 2 << 20];
    let too_large = edge.exchange(&request("POST", "/", &big));
    assert_eq!(too_large.status, 413, "{too_large:?}");
    let (kind, code, _) = too_large.aws_error();
    assert_eq!(
        (kind.as_str(), code.as_str()),
        ("Sender", "RequestEntityTooLarge")
    );

    let mut answers = vec![too_large];
    for method in ["PUT", "DELETE", "PATCH"] {
        let a = edge.exchange(&request(method, "/", b"Action=DescribeDBClusters"));
        assert_eq!(a.status, 405, "{method}: {a:?}");
        assert_eq!(a.aws_error().1, "MethodNotAllowed");
        assert_eq!(a.header("allow"), Some("GET, HEAD, POST"));
        answers.push(a);
    }
    let a = edge.exchange(&request("POST", "/healthz", b""));
    assert_eq!(
        (a.status, a.aws_error().1.as_str()),
        (405, "MethodNotAllowed")
    );
    assert_eq!(a.header("allow"), Some("GET, HEAD"));
    answers.push(a);
    for path in ["/nothing", "/healthz/x", "/x/y?Action=DescribeDBClusters"] {
        let a = edge.exchange(&request("GET", path, b""));
        assert_eq!(a.status, 404, "{path}: {a:?}");
        assert_eq!(a.aws_error().1, "InvalidAction");
        answers.push(a);
    }
    // Unsigned GET and POST on /: SigV4's refusal, in the same shape.
    for method in ["GET", "POST"] {
        let a = edge.exchange(&request(method, "/?Action=DescribeDBClusters", b""));
        assert_eq!(a.status, 403, "{method}: {a:?}");
        assert_eq!(a.aws_error().1, "MissingAuthenticationToken");
        answers.push(a);
    }
    // Every request id is new.
    let mut ids: Vec<String> = answers.iter().map(|a| a.aws_error().2).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), answers.len());
    // The health check is untouched.
    let ok = edge.exchange(&request("GET", "/healthz", b""));
    assert_eq!((ok.status, ok.body.as_str()), (200, "ok\n"));

    let Some(python) = common::venv_bin("python") else {
        return;
    };
    let parsed = botocore_errors(&python, &answers.iter().collect::<Vec<_>>());
    for (a, (code, request_id)) in answers.iter().zip(&parsed) {
        let (_, want_code, want_id) = a.aws_error();
        assert_eq!((code, request_id), (&want_code, &want_id), "{a:?}");
    }
}

/// boto3 over the wire: a 2 MiB request is a `ClientError` with ferry's code and request id.
#[test]
fn boto3_reads_the_too_large_refusal() {
    let Some(python) = common::venv_bin("python") else {
        return;
    };
    let edge = Edge::start(ApiLimits::default());
    const SCRIPT: &str = r#"
import json, sys
import boto3, botocore.exceptions
rds = boto3.client('rds', endpoint_url=sys.argv[1], region_name='us-east-1')
try:
    rds.describe_db_clusters(Marker='m' * (2 << 20))
    print(json.dumps(None))
except botocore.exceptions.ClientError as e:
    r = e.response
    print(json.dumps([r['ResponseMetadata']['HTTPStatusCode'], r['Error']['Code'],
                      r['ResponseMetadata']['RequestId']]))
"#;
    let mut cmd = std::process::Command::new(&python);
    cmd.arg("-c")
        .arg(SCRIPT)
        .arg(format!("http://{}", edge.addr))
        .env("AWS_SHARED_CREDENTIALS_FILE", &edge.credentials)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_MAX_ATTEMPTS", "1");
    let out = cmd.output().expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, code, request_id): (u16, String, String) =
        serde_json::from_slice(&out.stdout).expect("status, code and request id");
    assert_eq!((status, code.as_str()), (413, "RequestEntityTooLarge"));
    assert_eq!(request_id.len(), 36, "a UUID: {request_id}");
}

#[test]
fn a_body_that_stalls_gets_408_then_the_connection_closes() {
    let edge = Edge::start(ApiLimits {
        body_read_timeout: Duration::from_secs(1),
        ..ApiLimits::default()
    });
    let mut s = edge.connect();
    let started = Instant::now();
    s.write_all(b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\nAction=Desc")
        .expect("send half a request");
    let a = read_answer(&mut s);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "answered too early: {a:?}"
    );
    assert_eq!(a.status, 408, "{a:?}");
    assert_eq!(a.aws_error().1, "RequestTimeout");
    assert_eq!(a.header("connection"), Some("close"));
    assert!(closed_within(&mut s, Duration::from_secs(10)));
}

#[test]
fn headers_that_stall_are_cut_off() {
    let edge = Edge::start(ApiLimits {
        header_read_timeout: Duration::from_secs(1),
        ..ApiLimits::default()
    });
    let started = Instant::now();
    let mut half = edge.connect();
    half.write_all(b"POST / HTTP/1.1\r\nHost: loc")
        .expect("send half a header");
    let mut silent = edge.connect();
    assert!(
        closed_within(&mut half, Duration::from_secs(15)),
        "a connection that stopped mid-header is still open"
    );
    assert!(
        closed_within(&mut silent, Duration::from_secs(15)),
        "a connection that never sent anything is still open"
    );
    assert!(started.elapsed() >= Duration::from_millis(900));
    // The server still answers.
    let ok = edge.exchange(&request("GET", "/healthz", b""));
    assert_eq!(ok.status, 200);
}

#[test]
fn connections_past_the_bound_wait_for_a_free_one() {
    let edge = Edge::start(ApiLimits {
        max_connections: 2,
        ..ApiLimits::default()
    });
    let health = request("GET", "/healthz", b"");
    // Two kept-alive connections, each proven served (so each holds a slot).
    let mut held: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut s = edge.connect();
            s.write_all(&health).expect("send");
            assert_eq!(read_answer(&mut s).status, 200);
            s
        })
        .collect();
    // A third connects (the kernel's backlog takes it) but is not served...
    let mut third = edge.connect();
    third.write_all(&health).expect("send");
    third
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("read timeout");
    let mut byte = [0u8; 1];
    match third.read(&mut byte) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!("the connection past the bound was served: {other:?}"),
    }
    // ...until one of the two closes.
    drop(held.remove(0));
    third
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    let a = read_answer(&mut third);
    assert_eq!((a.status, a.body.as_str()), (200, "ok\n"));
    // The one still held is still served.
    held[0].write_all(&health).expect("send");
    assert_eq!(read_answer(&mut held[0]).status, 200);
}

/// What hyper refuses before the router sees it (malformed HTTP, too many headers, a long URI,
/// another HTTP version) is AWS's XML error too, with a request id, and the connection closes.
#[test]
fn hyper_refusals_are_aws_xml_too() {
    let edge = Edge::start(ApiLimits::default());
    let many_headers: String = (0..200).map(|i| format!("X-H{i}: 1\r\n")).collect();
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (b"GARBAGE\r\n\r\n".to_vec(), 400, "MalformedHTTPRequest"),
        (
            b"\x00\x01\x02\xff\r\n\r\n".to_vec(),
            400,
            "MalformedHTTPRequest",
        ),
        (
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n".to_vec(),
            400,
            "MalformedHTTPRequest",
        ),
        (
            format!("GET / HTTP/1.1\r\nHost: x\r\n{many_headers}\r\n").into_bytes(),
            431,
            "RequestHeaderSectionTooLarge",
        ),
        (
            format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70_000)).into_bytes(),
            414,
            "RequestURITooLong",
        ),
    ];
    let mut answers = Vec::new();
    for (raw, status, code) in &cases {
        let mut s = edge.connect();
        s.write_all(raw).expect("send");
        let a = read_answer(&mut s);
        assert_eq!(a.status, *status, "{a:?}");
        let (kind, got, _) = a.aws_error();
        assert_eq!((kind.as_str(), got.as_str()), ("Sender", *code));
        assert_eq!(a.header("connection"), Some("close"));
        assert!(closed_within(&mut s, Duration::from_secs(10)));
        answers.push(a);
    }
    // The server still answers.
    let ok = edge.exchange(&request("GET", "/healthz", b""));
    assert_eq!((ok.status, ok.body.as_str()), (200, "ok\n"));

    let Some(python) = common::venv_bin("python") else {
        return;
    };
    let parsed = botocore_errors(&python, &answers.iter().collect::<Vec<_>>());
    for (a, (code, request_id)) in answers.iter().zip(&parsed) {
        let (_, want_code, want_id) = a.aws_error();
        assert_eq!((code, request_id), (&want_code, &want_id), "{a:?}");
    }
}
