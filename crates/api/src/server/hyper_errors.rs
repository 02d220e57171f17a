//! hyper's own answers, rewritten as AWS's XML `ErrorResponse`.
//!
//! A request hyper cannot parse (a malformed request line or header, too many or too long
//! headers, an over-long URI, an unsupported HTTP version) never reaches the router: hyper
//! answers it itself, `HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n
//! date: ...\r\n\r\n`, and closes the connection. hyper has no hook for that answer, so
//! [`XmlErrors`] sits between hyper and the socket and replaces it on its way out: same status
//! (a 5xx, which can only be about the client's HTTP, becomes 400), AWS's error document with
//! a request id in the body and in `x-amzn-RequestId`, and one `api request` log line.
//!
//! The router's answers always start with `content-type`, never with hyper's
//! `connection: close` + `content-length: 0` pair, so nothing ferry writes is mistaken for one
//! of hyper's.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::xml::{self, ErrorType};

/// What hyper's error answers start with after the status line.
const HYPER_ERROR_HEADERS: &[u8] = b"connection: close\r\ncontent-length: 0\r\n";

/// A socket whose outgoing hyper error answers are rewritten (see the module docs).
pub(super) struct XmlErrors<S> {
    inner: S,
    peer: SocketAddr,
    /// The rewritten answer still to be sent, from `sent` on.
    pending: Vec<u8>,
    sent: usize,
}

impl<S> XmlErrors<S> {
    pub(super) fn new(inner: S, peer: SocketAddr) -> XmlErrors<S> {
        XmlErrors {
            inner,
            peer,
            pending: Vec::new(),
            sent: 0,
        }
    }
}

/// The status of `head` if it is the whole of one of hyper's own error answers.
fn hyper_error_status(head: &[u8]) -> Option<u16> {
    let rest = head.strip_prefix(b"HTTP/1.1 ")?;
    let status: u16 = std::str::from_utf8(rest.get(..3)?).ok()?.parse().ok()?;
    if status < 400 || !head.ends_with(b"\r\n\r\n") {
        return None;
    }
    let line_end = head.windows(2).position(|w| w == b"\r\n")?;
    head[line_end + 2..]
        .starts_with(HYPER_ERROR_HEADERS)
        .then_some(status)
}

/// The AWS answer standing in for hyper's `status`, and its log line.
fn xml_answer(status: u16, peer: SocketAddr) -> Vec<u8> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let (status, reason, code, message) = match status {
        414 => (
            414,
            "URI Too Long",
            "RequestURITooLong",
            "The request URI is longer than ferry accepts (64 KiB).",
        ),
        431 => (
            431,
            "Request Header Fields Too Large",
            "RequestHeaderSectionTooLarge",
            "The request has more headers (over 100) or longer ones than ferry accepts.",
        ),
        _ => (
            400,
            "Bad Request",
            "MalformedHTTPRequest",
            "The request is not well-formed HTTP/1.1.",
        ),
    };
    tracing::info!(
        request_id = %request_id,
        peer = %peer,
        method = "-",
        path = "-",
        action = "-",
        status,
        error = code,
        "api request"
    );
    let body = xml::error_response(ErrorType::Sender, code, message, &request_id);
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: text/xml\r\nx-amzn-requestid: {request_id}\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

impl<S: AsyncWrite + Unpin> XmlErrors<S> {
    /// Sends what is left of a rewritten answer.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.pending.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        Poll::Ready(Ok(()))
    }

    /// Takes `head` in place of hyper's error answer; hyper is told all of it was written.
    fn replace(
        &mut self,
        cx: &mut Context<'_>,
        status: u16,
        len: usize,
    ) -> Poll<io::Result<usize>> {
        self.pending = xml_answer(status, self.peer);
        self.sent = 0;
        // What does not go now goes at hyper's flush or shutdown, which follow.
        if let Poll::Ready(Err(e)) = self.poll_pending(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(len))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for XmlErrors<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for XmlErrors<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        ready!(this.poll_pending(cx))?;
        if let Some(status) = hyper_error_status(buf) {
            return this.replace(cx, status, buf.len());
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        ready!(this.poll_pending(cx))?;
        // hyper queues an answer's head as one buffer; an error answer has nothing after it.
        let mut filled = bufs.iter().filter(|b| !b.is_empty());
        if let (Some(head), None) = (filled.next(), filled.next()) {
            if let Some(status) = hyper_error_status(head) {
                return this.replace(cx, status, head.len());
            }
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_only_hyper_error_answers() {
        let hyper = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\n\
                      content-length: 0\r\ndate: Wed, 02 Dec 2026 06:23:46 GMT\r\n\r\n";
        assert_eq!(hyper_error_status(hyper), Some(431));
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-type: text/xml\r\n\
                     content-length: 0\r\n\r\n";
        assert_eq!(hyper_error_status(ours), None);
        let ok = b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(hyper_error_status(ok), None);
        assert_eq!(hyper_error_status(b"HTTP/1.1 4"), None);
    }

    #[test]
    fn the_answer_is_an_aws_error_document() {
        let peer: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let answer = String::from_utf8(xml_answer(505, peer)).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{head}");
        assert!(head.contains(&format!("content-length: {}\r\n", body.len())));
        let doc = roxmltree::Document::parse(body).unwrap();
        assert_eq!(doc.root_element().tag_name().name(), "ErrorResponse");
        let id = head
            .lines()
            .find_map(|l| l.strip_prefix("x-amzn-requestid: "))
            .unwrap();
        assert!(body.contains(&format!("<RequestId>{id}</RequestId>")));
    }
}
