//! A deliberately small HTTP/1.1 client with SigV4 signing, for the test kit's own tests.
//!
//! The fault proxy's tests must see exactly what a client sees: the status line, how many
//! body bytes arrived, and whether the connection then ended cleanly, was reset, or went
//! silent. A full HTTP client library would retry, buffer or hide those, so these tests speak
//! HTTP over a plain `TcpStream`.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

pub const REGION: &str = "us-east-1";

/// Key pair to sign with.
#[derive(Clone, Copy)]
pub struct Creds<'a> {
    pub access_key: &'a str,
    pub secret_key: &'a str,
}

pub fn test_creds() -> Creds<'static> {
    Creds {
        access_key: ferry_testkit::TEST_ACCESS_KEY,
        secret_key: ferry_testkit::TEST_SECRET_KEY,
    }
}

/// One request to send.
pub struct Request<'a> {
    pub method: &'a str,
    /// Path and query, already percent-encoded (`/bucket/key?list-type=2`).
    pub target: &'a str,
    pub headers: Vec<(&'a str, String)>,
    pub body: &'a [u8],
    /// Sign with these credentials (SigV4, `UNSIGNED-PAYLOAD`); `None` sends it unsigned.
    pub creds: Option<Creds<'a>>,
    /// Give up reading after this long without data.
    pub read_timeout: Duration,
}

impl<'a> Request<'a> {
    pub fn get(target: &'a str) -> Self {
        Self {
            method: "GET",
            target,
            headers: Vec::new(),
            body: b"",
            creds: Some(test_creds()),
            read_timeout: Duration::from_secs(30),
        }
    }

    pub fn range(mut self, first: u64, last: u64) -> Self {
        self.headers
            .push(("Range", format!("bytes={first}-{last}")));
        self
    }

    pub fn header(mut self, name: &'a str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn unsigned(mut self) -> Self {
        self.creds = None;
        self
    }

    pub fn creds(mut self, creds: Creds<'a>) -> Self {
        self.creds = Some(creds);
        self
    }

    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }
}

/// What the client saw.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// Body bytes received (all of them, or those before the connection failed).
    pub body: Vec<u8>,
    /// How the body ended if not complete: `None` when `Content-Length` bytes arrived.
    pub body_end: BodyEnd,
}

#[derive(Debug, PartialEq, Eq)]
pub enum BodyEnd {
    /// All `Content-Length` bytes arrived.
    Complete,
    /// The connection closed cleanly before `Content-Length` bytes.
    Eof,
    /// The connection was reset.
    Reset,
    /// No data for longer than the read timeout.
    TimedOut,
    /// Another I/O error.
    Other(String),
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn content_length(&self) -> Option<u64> {
        self.header("content-length")?.parse().ok()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `req` to `addr` on a new connection and reads the response until its body is
/// complete or the connection ends.
pub fn send(addr: SocketAddr, req: &Request<'_>) -> io::Result<Response> {
    let host = addr.to_string();
    let mut headers: Vec<(String, String)> = vec![("Host".into(), host.clone())];
    headers.extend(
        req.headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.clone())),
    );
    if !req.body.is_empty() || req.method == "PUT" {
        headers.push(("Content-Length".into(), req.body.len().to_string()));
    }
    if let Some(creds) = req.creds {
        sign(req.method, req.target, &host, creds, &mut headers);
    }
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(req.read_timeout))?;
    let mut head = format!("{} {} HTTP/1.1\r\n", req.method, req.target);
    for (name, value) in &headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("Connection: close\r\n\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(req.body)?;

    // Head.
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "closed before a response head",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head_text = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head_text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad status line {status_line:?}"),
            )
        })?;
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut response = Response {
        status,
        headers,
        body: buf[head_end..].to_vec(),
        body_end: BodyEnd::Complete,
    };
    let expected = if req.method == "HEAD" {
        Some(0)
    } else {
        response.content_length()
    };

    // Body.
    response.body_end = loop {
        if expected.is_some_and(|len| response.body.len() as u64 >= len) {
            break BodyEnd::Complete;
        }
        match stream.read(&mut chunk) {
            Ok(0) if expected.is_none() => break BodyEnd::Complete,
            Ok(0) => break BodyEnd::Eof,
            Ok(n) => response.body.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => break BodyEnd::Reset,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                break BodyEnd::TimedOut
            }
            Err(e) => break BodyEnd::Other(e.to_string()),
        }
    };
    Ok(response)
}

/// Adds SigV4 headers (`x-amz-date`, `x-amz-content-sha256`, `Authorization`) signing
/// `host`, `x-amz-content-sha256` and `x-amz-date`.
fn sign(
    method: &str,
    target: &str,
    host: &str,
    creds: Creds<'_>,
    headers: &mut Vec<(String, String)>,
) {
    let (amz_date, date) = amz_now();
    let payload = "UNSIGNED-PAYLOAD";
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut params: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect();
    params.sort();
    let canonical_query = params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let signed_headers = "host;x-amz-content-sha256;x-amz-date";
    let canonical_request = format!(
        "{method}\n{path}\n{canonical_query}\nhost:{host}\nx-amz-content-sha256:{payload}\nx-amz-date:{amz_date}\n\n{signed_headers}\n{payload}"
    );
    let scope = format!("{date}/{REGION}/s3/aws4_request");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    );
    let mut key = hmac(
        format!("AWS4{}", creds.secret_key).as_bytes(),
        date.as_bytes(),
    );
    for part in [REGION, "s3", "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let signature = hex(&hmac(&key, string_to_sign.as_bytes()));
    headers.push(("x-amz-date".into(), amz_date));
    headers.push(("x-amz-content-sha256".into(), payload.into()));
    headers.push((
        "Authorization".into(),
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            creds.access_key
        ),
    ));
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let ipad: Vec<u8> = block.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = block.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new()
        .chain_update(&ipad)
        .chain_update(data)
        .finalize();
    Sha256::new()
        .chain_update(&opad)
        .chain_update(inner)
        .finalize()
        .to_vec()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Now as (`YYYYMMDDTHHMMSSZ`, `YYYYMMDD`) in UTC.
fn amz_now() -> (String, String) {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let date = format!("{year:04}{month:02}{day:02}");
    let time = format!("{:02}{:02}{:02}", rem / 3600, rem % 3600 / 60, rem % 60);
    (format!("{date}T{time}Z"), date)
}

/// `n` bytes of a fixed pseudo-random pattern, so a wrong offset shows as a mismatch.
pub fn pattern(n: usize) -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// The AWS CLI, or `None` (and a note on stderr) when it is not installed.
pub fn aws_cli(test: &str) -> Option<std::path::PathBuf> {
    let aws = ferry_testkit::venv_bin("aws");
    if aws.is_none() {
        eprintln!("SKIP {test}: the AWS CLI (`aws`) is neither in <repo>/.venv/bin nor on PATH; run scripts/install-deps");
    }
    aws
}

/// An `aws` command with the given environment, reading config only from `config_dir`.
pub fn aws_command(aws: &Path, env: &[(String, String)], config_dir: &Path) -> Command {
    let mut cmd = Command::new(aws);
    // Not env_clear(): a pyenv shim needs its own variables and HOME.
    cmd.env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env("AWS_CONFIG_FILE", config_dir.join("config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            config_dir.join("credentials"),
        )
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    cmd
}

/// Runs `cmd`, returning stdout; fails with stdout and stderr if it exits non-zero.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run command");
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
