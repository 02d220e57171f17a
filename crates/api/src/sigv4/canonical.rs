//! The canonicalisation both sides of SigV4 share: canonical URI, query string and headers, the
//! string to sign and the derived signing key.
//!
//! It lives apart from [`super::verify`] and [`super::sign`] so that the two can never drift:
//! a request ferry signs is canonicalised by exactly the code that checks it. The rules follow
//! the AWS SigV4 documentation and botocore (`botocore/auth.py`, `SigV4Auth`), which is what
//! the AWS CLI runs.

use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};

/// Bytes SigV4 leaves unencoded: the RFC 3986 unreserved set `A-Za-z0-9-_.~`.
const QUERY_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The canonical URI also keeps `/` (botocore: `quote(path, safe='/~')`).
const PATH_ENCODE: &AsciiSet = &QUERY_ENCODE.remove(b'/');

/// Headers a signer must never include (they are hop-by-hop or rewritten by proxies); the same
/// list botocore uses (`SIGNED_HEADERS_BLACKLIST`).
pub(super) const UNSIGNABLE_HEADERS: &[&str] = &[
    "authorization",
    "baggage",
    "connection",
    "expect",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "traceparent",
    "tracestate",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "x-amzn-trace-id",
];

/// The canonical URI of a non-S3 service: the path as it travelled on the wire (already
/// percent-encoded once by the client), with dot segments and repeated slashes removed, then
/// percent-encoded again. That second encoding is the "double encoding" AWS applies to every
/// service except S3.
pub(super) fn canonical_uri(path: &str) -> String {
    let normalized = normalize_path(path);
    utf8_percent_encode(&normalized, PATH_ENCODE).to_string()
}

/// RFC 3986 "remove dot segments", plus the removal of empty segments AWS requires; keeps a
/// leading and a trailing slash (botocore `remove_dot_segments`).
fn normalize_path(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    let mut out = String::with_capacity(path.len());
    if path.starts_with('/') {
        out.push('/');
    }
    out.push_str(&segments.join("/"));
    if path.ends_with('/') && !segments.is_empty() {
        out.push('/');
    }
    out
}

/// The canonical query string: every `name=value` pair of the raw query, percent-decoded and
/// re-encoded with the SigV4 rules (so `%7e` and `~` agree), sorted by name and then value.
/// `exclude` names a parameter left out (`X-Amz-Signature` of a presigned request).
pub(super) fn canonical_query(query: &str, exclude: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            (reencode(name), reencode(value))
        })
        .filter(|(name, _)| exclude.is_none_or(|excluded| name != excluded))
        .collect();
    pairs.sort();
    let mut out = String::with_capacity(query.len() + 8);
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// Percent-decodes `raw` (a `+` stays a literal `+`, as in the SigV4 spec) and encodes the
/// bytes again with the SigV4 set. Invalid escapes are kept as they are, then encoded.
fn reencode(raw: &str) -> String {
    let bytes: Vec<u8> = percent_decode_str(raw).collect();
    percent_encoding::percent_encode(&bytes, QUERY_ENCODE).to_string()
}

/// The SigV4 canonical value of header `name` (lower-case): every occurrence, each with its
/// surrounding whitespace removed and inner runs of whitespace collapsed to one space, joined
/// by `,`. `None` if the header is absent.
pub(super) fn header_value(headers: &HeaderMap, name: &str) -> Option<Vec<u8>> {
    let mut values = headers.get_all(name).iter().peekable();
    values.peek()?;
    let mut out = Vec::new();
    for (i, value) in values.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        trim_all(value.as_bytes(), &mut out);
    }
    Some(out)
}

/// SigV4 `Trimall`: drops leading and trailing whitespace and collapses inner whitespace runs
/// to a single space (botocore: `' '.join(value.split())`).
fn trim_all(value: &[u8], out: &mut Vec<u8>) {
    let mut first = true;
    for word in value
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
    {
        if !first {
            out.push(b' ');
        }
        out.extend_from_slice(word);
        first = false;
    }
}

/// One signed header as it enters the canonical request: its lower-case name and canonical
/// value (empty when the request lacks it, which then simply fails to match).
pub(super) struct CanonicalHeader<'a> {
    pub(super) name: &'a str,
    pub(super) value: Vec<u8>,
}

/// Assembles the canonical request:
/// `METHOD \n URI \n QUERY \n name:value\n... \n signed;headers \n payload-hash`.
pub(super) fn canonical_request(
    method: &str,
    canonical_uri: &str,
    canonical_query: &str,
    headers: &[CanonicalHeader<'_>],
    payload_hash: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(method.to_ascii_uppercase().as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_uri.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_query.as_bytes());
    out.push(b'\n');
    for header in headers {
        out.extend_from_slice(header.name.as_bytes());
        out.push(b':');
        out.extend_from_slice(&header.value);
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(signed_headers_line(headers).as_bytes());
    out.push(b'\n');
    out.extend_from_slice(payload_hash.as_bytes());
    out
}

/// `content-type;host;x-amz-date`: the names of the signed headers joined by `;`.
pub(super) fn signed_headers_line(headers: &[CanonicalHeader<'_>]) -> String {
    headers.iter().map(|h| h.name).collect::<Vec<_>>().join(";")
}

/// `AWS4-HMAC-SHA256 \n timestamp \n date/region/service/aws4_request \n hex(sha256(creq))`.
pub(super) fn string_to_sign(timestamp: &str, scope: &str, canonical_request: &[u8]) -> String {
    format!(
        "{}\n{timestamp}\n{scope}\n{}",
        super::ALGORITHM,
        sha256_hex(canonical_request)
    )
}

/// The hex signature of `string_to_sign` under the key derived from `secret` for one day,
/// region and service: `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region),
/// service), "aws4_request")`.
pub(super) fn signature(
    secret: &str,
    date: &str,
    region: &str,
    service: &str,
    string_to_sign: &str,
) -> String {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    let k_signing = hmac(&k_service, super::TERMINATOR.as_bytes());
    hex(&hmac(&k_signing, string_to_sign.as_bytes()))
}

fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Compares two byte strings in time that depends only on their lengths, so a caller cannot
/// learn a correct signature byte by byte from response times.
pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised_then_encoded_again() {
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(canonical_uri("//"), "/");
        assert_eq!(canonical_uri("/example/.."), "/");
        assert_eq!(canonical_uri("/example1/example2/../.."), "/");
        assert_eq!(canonical_uri("/./"), "/");
        assert_eq!(canonical_uri("/example/"), "/example/");
        assert_eq!(canonical_uri("//example//"), "/example/");
        assert_eq!(canonical_uri("/example space/"), "/example%20space/");
        // Already encoded once by the client: encoded a second time.
        assert_eq!(canonical_uri("/a%20b"), "/a%2520b");
        assert_eq!(canonical_uri("/\u{1234}"), "/%E1%88%B4");
    }

    #[test]
    fn query_is_decoded_reencoded_and_sorted() {
        assert_eq!(canonical_query("", None), "");
        assert_eq!(
            canonical_query("Param2=value2&Param1=value1", None),
            "Param1=value1&Param2=value2"
        );
        assert_eq!(canonical_query("b=2&a", None), "a=&b=2");
        assert_eq!(canonical_query("a=%7e&a=~&a=%2f", None), "a=%2F&a=~&a=~");
        assert_eq!(canonical_query("a=b+c", None), "a=b%2Bc");
        assert_eq!(canonical_query("a=%zz", None), "a=%25zz");
        assert_eq!(
            canonical_query("X-Amz-Signature=abc&b=1", Some("X-Amz-Signature")),
            "b=1"
        );
    }

    #[test]
    fn header_values_are_trimmed_collapsed_and_joined() {
        let mut headers = HeaderMap::new();
        headers.append("my-header", "  a   b \t c  ".parse().unwrap());
        headers.append("my-header", "d".parse().unwrap());
        assert_eq!(header_value(&headers, "my-header").unwrap(), b"a b c,d");
        assert_eq!(header_value(&headers, "absent"), None);
    }

    #[test]
    fn constant_time_eq_compares_content_and_length() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
