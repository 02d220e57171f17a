//! Just enough HTTP/1.1 for the fault proxy: read a message head, parse it, and write it back
//! with `Connection: close`.
//!
//! The proxy never parses bodies. Every request it forwards says `Connection: close`, so the
//! upstream ends each response by closing its connection and the proxy can pass body bytes
//! through verbatim (whatever the framing: `Content-Length`, chunked, or close-delimited)
//! while counting them.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt as _};

/// Longest message head accepted, like common servers' default limits.
pub(super) const MAX_HEAD: usize = 64 * 1024;
/// Most header fields in one head.
const MAX_HEADERS: usize = 128;
/// Header fields that describe the connection, not the message: the proxy replaces them.
const HOP_BY_HOP: [&str; 3] = ["connection", "keep-alive", "proxy-connection"];

/// Buffers bytes read from a stream until a whole head (ending in CRLF CRLF) is there; bytes
/// after the head stay buffered for the body (or the next head, after a `100 Continue`).
#[derive(Default)]
pub(super) struct HeadReader {
    buf: Vec<u8>,
}

impl HeadReader {
    /// Returns the next head, `Ok(None)` if the stream ended cleanly before its first byte.
    pub(super) async fn read_head<R: AsyncRead + Unpin>(
        &mut self,
        reader: &mut R,
    ) -> io::Result<Option<Vec<u8>>> {
        let mut searched = 0;
        loop {
            if let Some(end) = find_head_end(&self.buf, searched) {
                let rest = self.buf.split_off(end);
                let head = std::mem::replace(&mut self.buf, rest);
                return Ok(Some(head));
            }
            if self.buf.len() > MAX_HEAD {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("message head longer than {MAX_HEAD} bytes"),
                ));
            }
            searched = self.buf.len().saturating_sub(3);
            let mut chunk = [0u8; 8192];
            let n = reader.read(&mut chunk).await?;
            if n == 0 {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "stream ended inside a message head ({} bytes)",
                        self.buf.len()
                    ),
                ));
            }
            self.buf
                .extend_from_slice(chunk.get(..n).unwrap_or_default());
        }
    }

    /// Takes the bytes read past the last head.
    pub(super) fn take_rest(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }
}

/// Index just past the first CRLF CRLF at or after `from`.
fn find_head_end(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| from + i + 4)
}

/// A parsed request line and header fields, values kept byte for byte (they may be signed).
#[derive(Debug, Clone)]
pub(super) struct RequestHead {
    pub(super) method: String,
    pub(super) target: String,
    minor_version: u8,
    headers: Vec<(String, Vec<u8>)>,
}

impl RequestHead {
    pub(super) fn parse(head: &[u8]) -> io::Result<Self> {
        let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut fields);
        match req.parse(head) {
            Ok(httparse::Status::Complete(_)) => {}
            Ok(httparse::Status::Partial) => return Err(invalid("incomplete request head")),
            Err(e) => return Err(invalid(format!("malformed request head: {e}"))),
        }
        Ok(Self {
            method: req.method.unwrap_or_default().to_owned(),
            target: req.path.unwrap_or_default().to_owned(),
            minor_version: req.version.unwrap_or(1),
            headers: copy_fields(req.headers),
        })
    }

    /// The head to send upstream: unchanged except that it asks to close the connection
    /// after the response.
    pub(super) fn to_upstream_bytes(&self) -> Vec<u8> {
        let start = format!(
            "{} {} HTTP/1.{}\r\n",
            self.method, self.target, self.minor_version
        );
        write_head(start, &self.headers)
    }

    /// True when a SigV4 signature covers the `Connection` header, which the proxy must
    /// rewrite (then the upstream would reject the signature).
    pub(super) fn signs_connection_header(&self) -> bool {
        let auth = self
            .headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("authorization"))
            .map(|(_, value)| String::from_utf8_lossy(value).to_ascii_lowercase());
        let query = std::iter::once(self.target.to_ascii_lowercase().replace("%3b", ";"));
        auth.chain(query).any(|text| {
            text.split_once("signedheaders=").is_some_and(|(_, rest)| {
                rest.split([',', '&', ' '])
                    .next()
                    .unwrap_or_default()
                    .split(';')
                    .any(|h| h == "connection")
            })
        })
    }
}

/// A parsed status line and header fields.
#[derive(Debug, Clone)]
pub(super) struct ResponseHead {
    pub(super) status: u16,
    reason: String,
    minor_version: u8,
    headers: Vec<(String, Vec<u8>)>,
}

impl ResponseHead {
    pub(super) fn parse(head: &[u8]) -> io::Result<Self> {
        let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut resp = httparse::Response::new(&mut fields);
        match resp.parse(head) {
            Ok(httparse::Status::Complete(_)) => {}
            Ok(httparse::Status::Partial) => return Err(invalid("incomplete response head")),
            Err(e) => return Err(invalid(format!("malformed response head: {e}"))),
        }
        Ok(Self {
            status: resp.code.unwrap_or_default(),
            reason: resp.reason.unwrap_or_default().to_owned(),
            minor_version: resp.version.unwrap_or(1),
            headers: copy_fields(resp.headers),
        })
    }

    /// `1xx` responses other than `101` come before the real response (`100 Continue`).
    pub(super) fn is_interim(&self) -> bool {
        (100..200).contains(&self.status) && self.status != 101
    }

    /// The head to send the client, saying the connection closes after this response.
    pub(super) fn to_client_bytes(&self) -> Vec<u8> {
        let start = format!(
            "HTTP/1.{} {} {}\r\n",
            self.minor_version, self.status, self.reason
        );
        write_head(start, &self.headers)
    }

    /// Body length when the head states it: `None` for chunked or close-delimited bodies.
    pub(super) fn content_length(&self) -> Option<u64> {
        let chunked = self
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("transfer-encoding"));
        if chunked {
            return None;
        }
        self.headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, value)| std::str::from_utf8(value).ok()?.trim().parse().ok())
    }
}

fn copy_fields(fields: &[httparse::Header<'_>]) -> Vec<(String, Vec<u8>)> {
    fields
        .iter()
        .map(|h| (h.name.to_owned(), h.value.to_vec()))
        .collect()
}

fn write_head(start_line: String, headers: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = start_line.into_bytes();
    for (name, value) in headers {
        if HOP_BY_HOP.iter().any(|h| name.eq_ignore_ascii_case(h)) {
            continue;
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out
}

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn head_reader_keeps_body_bytes_and_handles_split_terminators() {
        let data: &[u8] =
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
        let mut reader = HeadReader::default();
        let mut src = data;
        let first = reader
            .read_head(&mut src)
            .await
            .expect("read")
            .expect("head");
        assert_eq!(first, b"HTTP/1.1 100 Continue\r\n\r\n");
        let second = reader
            .read_head(&mut src)
            .await
            .expect("read")
            .expect("head");
        let head = ResponseHead::parse(&second).expect("parse");
        assert_eq!((head.status, head.content_length()), (200, Some(3)));
        assert_eq!(reader.take_rest(), b"abc");
    }

    #[tokio::test]
    async fn head_reader_reports_truncated_head() {
        let mut reader = HeadReader::default();
        let mut src: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n";
        let err = reader.read_head(&mut src).await.expect_err("truncated");
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        let mut empty: &[u8] = b"";
        assert!(HeadReader::default()
            .read_head(&mut empty)
            .await
            .expect("eof")
            .is_none());
    }

    #[test]
    fn request_is_forwarded_with_connection_close_and_headers_intact() {
        let raw = b"GET /b/k?x=1 HTTP/1.1\r\nHost: 127.0.0.1:9\r\nConnection: keep-alive\r\nX-Amz-Date: 20250101T000000Z\r\n\r\n";
        let head = RequestHead::parse(raw).expect("parse");
        assert_eq!(
            (head.method.as_str(), head.target.as_str()),
            ("GET", "/b/k?x=1")
        );
        let out = String::from_utf8(head.to_upstream_bytes()).expect("utf8");
        assert_eq!(
            out,
            "GET /b/k?x=1 HTTP/1.1\r\nHost: 127.0.0.1:9\r\nX-Amz-Date: 20250101T000000Z\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn detects_signatures_over_the_connection_header() {
        let signed = b"GET / HTTP/1.1\r\nAuthorization: AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=connection;host;x-amz-date, Signature=00\r\n\r\n";
        assert!(RequestHead::parse(signed)
            .expect("parse")
            .signs_connection_header());
        let normal = b"GET / HTTP/1.1\r\nAuthorization: AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=host;x-amz-date, Signature=00\r\n\r\n";
        assert!(!RequestHead::parse(normal)
            .expect("parse")
            .signs_connection_header());
        let presigned =
            b"GET /b/k?X-Amz-SignedHeaders=connection%3Bhost&X-Amz-Signature=00 HTTP/1.1\r\n\r\n";
        assert!(RequestHead::parse(presigned)
            .expect("parse")
            .signs_connection_header());
    }

    #[test]
    fn chunked_responses_have_no_stated_length() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n";
        assert_eq!(
            ResponseHead::parse(raw).expect("parse").content_length(),
            None
        );
    }
}
