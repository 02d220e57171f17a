//! A small HTTP/1.1 client for the web console's tests and benchmark: one request per
//! connection, cookies carried by hand, so a caller sees exactly what a browser would get
//! (status, headers, body, chunked bodies joined).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    /// The first header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every `Set-Cookie` header.
    pub fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The value `Set-Cookie` gives cookie `name`, if it sets it.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookies().into_iter().find_map(|c| {
            let (pair, _) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = pair.split_once('=')?;
            (k.trim() == name).then(|| v.trim().to_string())
        })
    }

    /// The value of the first `<input name="NAME" value="...">` on the page.
    pub fn input_value(&self, name: &str) -> Option<String> {
        let at = self.body.find(&format!("name=\"{name}\" value=\""))?;
        let rest = &self.body[at + name.len() + 15..];
        Some(rest[..rest.find('"')?].to_string())
    }
}

/// Sends one request to `addr` (`127.0.0.1:PORT`); `form` is sent form-urlencoded.
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    form: Option<&[(&str, &str)]>,
) -> Response {
    let mut s = TcpStream::connect(addr).expect("connect to ferry serve");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let body = form
        .map(|f| {
            f.iter()
                .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
                .collect::<Vec<_>>()
                .join("&")
        })
        .unwrap_or_default();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(c) = cookie {
        head.push_str(&format!("Cookie: {c}\r\n"));
    }
    if form.is_some() {
        head.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read the answer");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let headers: Vec<(String, String)> = headers;
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    Response {
        status,
        body: if chunked {
            dechunk(body)
        } else {
            body.to_string()
        },
        headers,
    }
}

/// The payload of a `Transfer-Encoding: chunked` body.
fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].strip_prefix("\r\n").unwrap_or(&after[n..]);
    }
    out
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The access key id and secret of the `default` profile of an AWS credentials file (read by
/// ferry's own reader of those files).
pub fn read_key(path: &std::path::Path) -> (String, String) {
    use ferry_base::aws_files::{FileKind, Profiles};
    let creds = Profiles::read(path, FileKind::Credentials)
        .ok()
        .flatten()
        .and_then(|p| p.get("default").and_then(|d| d.credentials()))
        .unwrap_or_else(|| panic!("no default key in {}", path.display()));
    (
        creds.access_key_id,
        creds.secret_access_key.expose().to_string(),
    )
}

/// Signs in to the console with a key; returns the session cookie (`name=value`).
pub fn sign_in(addr: &str, key: &(String, String)) -> String {
    let form = request(addr, "GET", "/console/sign-in", None, None);
    assert_eq!(form.status, 200, "{}", form.body);
    let pre = form.cookie("ferry_signin").expect("a pre-session cookie");
    let token = form.input_value("csrf").expect("the form's token");
    let r = request(
        addr,
        "POST",
        "/console/sign-in",
        Some(&format!("ferry_signin={pre}")),
        Some(&[
            ("csrf", &token),
            ("access_key_id", &key.0),
            ("secret_access_key", &key.1),
        ]),
    );
    assert_eq!(r.status, 303, "sign-in refused: {}", r.body);
    format!(
        "ferry_session={}",
        r.cookie("ferry_session").expect("a session cookie")
    )
}
