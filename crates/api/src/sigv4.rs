//! AWS Signature Version 4, both sides: [`verify`] authenticates a request that reached ferry's
//! API, [`sign`] signs a request ferry's own [`crate::client`] sends.
//!
//! Every request to the API must be signed the way the AWS CLI and SDKs sign requests to RDS
//! (service `rds`, header-based `AWS4-HMAC-SHA256`), so the real clients work against ferry with
//! nothing but `--endpoint-url`. Both directions share one canonicalisation
//! ([`canonical`]), so a request ferry signs is checked by exactly the code that checks the AWS
//! CLI's. Failures come back as [`AuthError`], which carries the AWS error code and HTTP status
//! a client of the real service would see.
//!
//! What is checked, in order: the `Authorization` header's shape; the request timestamp
//! (`X-Amz-Date`, else `Date`); the credential scope (terminator, day, region, service); the
//! access key; the clock skew (15 minutes either way); the payload hash; the signature,
//! compared in constant time. Presigned (query-string) authentication and session tokens are
//! not supported: ferry issues neither.

mod canonical;
mod error;

use axum::http::HeaderMap;
use time::format_description::well_known::Rfc2822;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, UtcOffset};

pub use error::AuthError;

use canonical::CanonicalHeader;

/// The only signing algorithm ferry accepts.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The last element of every credential scope.
pub const TERMINATOR: &str = "aws4_request";

/// How far the request timestamp may be from the server's clock, either way.
pub const MAX_CLOCK_SKEW: Duration = Duration::minutes(15);

/// The `x-amz-content-sha256` value that means "body not signed": S3 only. For a Query API the
/// body *is* the request, so ferry refuses it.
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// The parts of an HTTP request that a SigV4 signature covers.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequestParts<'a> {
    /// `GET`, `POST`, ...
    pub method: &'a str,
    /// The path as it travelled on the wire (still percent-encoded), e.g. `/`.
    pub path: &'a str,
    /// The raw query string without `?`, possibly empty.
    pub query: &'a str,
    /// All request headers (axum and reqwest both use `http::HeaderMap`).
    pub headers: &'a HeaderMap,
    /// The complete request body.
    pub body: &'a [u8],
}

/// What the key store knows about an access key id: its secret and who it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    pub secret_access_key: ferry_base::Secret,
    pub user: String,
}

/// Who signed a request that [`verify`] accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub access_key_id: String,
    pub user: String,
}

/// An access key pair to sign with.
#[derive(Debug, Clone, Copy)]
pub struct Credentials<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a ferry_base::Secret,
}

/// The three parameters of an `Authorization: AWS4-HMAC-SHA256 ...` header.
struct AuthorizationHeader<'a> {
    credential: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
}

/// `AKID/20150830/us-east-1/service/aws4_request`, split.
struct CredentialScope<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    terminator: &'a str,
}

impl CredentialScope<'_> {
    /// The scope as it enters the string to sign (everything after the access key id).
    fn scope(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.date, self.region, self.service, self.terminator
        )
    }
}

/// The service and region a request's `Authorization` header is scoped to, read without
/// verifying anything (so the endpoint can route the request to the service it names before
/// [`verify`] checks it); `None` when there is no readable scope.
pub fn claimed_scope(headers: &HeaderMap) -> Option<(String, String)> {
    let authorization = headers.get("authorization")?.to_str().ok()?;
    let header = parse_authorization(authorization, true).ok()?;
    let scope = parse_credential(header.credential).ok()?;
    Some((scope.service.to_owned(), scope.region.to_owned()))
}

/// Authenticates a request signed with SigV4 by one of the keys `lookup` knows.
///
/// `expected_service` / `expected_region` are what this endpoint serves (`rds`, `us-east-1`);
/// `now` is the server's clock. On success returns who signed the request.
pub fn verify(
    parts: &SignedRequestParts<'_>,
    lookup: &dyn Fn(&str) -> Option<Secret>,
    expected_service: &str,
    expected_region: &str,
    now: OffsetDateTime,
) -> Result<Principal, AuthError> {
    let Some(authorization) = parts.headers.get("authorization") else {
        return Err(AuthError::MissingAuthenticationToken);
    };
    let authorization = authorization.to_str().map_err(|_| {
        AuthError::incomplete("The Authorization header contains characters that are not ASCII.")
    })?;
    let time = request_timestamp(parts.headers)?;
    let header = parse_authorization(authorization, time.is_some())?;
    let Some((timestamp, request_time)) = time else {
        // parse_authorization reports a missing date together with any other missing part.
        return Err(AuthError::incomplete(missing_date_message()));
    };
    let scope = parse_credential(header.credential)?;
    check_scope(&scope, &timestamp, expected_service, expected_region)?;

    let signed_headers = parse_signed_headers(header.signed_headers)?;
    let Some(secret) = lookup(scope.access_key_id) else {
        return Err(AuthError::InvalidClientTokenId {
            access_key_id: scope.access_key_id.to_owned(),
        });
    };
    if parts.headers.contains_key("x-amz-security-token") {
        // Ferry never issues session credentials, so no session token is valid.
        return Err(AuthError::InvalidClientTokenId {
            access_key_id: scope.access_key_id.to_owned(),
        });
    }
    check_skew(request_time, now)?;
    let payload_hash = payload_hash(parts, expected_service)?;

    let headers: Vec<CanonicalHeader<'_>> = signed_headers
        .iter()
        .map(|name| CanonicalHeader {
            name,
            value: canonical::header_value(parts.headers, name).unwrap_or_default(),
        })
        .collect();
    let creq = canonical::canonical_request(
        parts.method,
        &canonical::canonical_uri(parts.path),
        &canonical::canonical_query(parts.query, None),
        &headers,
        &payload_hash,
    );
    let sts = canonical::string_to_sign(&timestamp, &scope.scope(), &creq);
    let expected = canonical::signature(
        secret.secret_access_key.expose(),
        scope.date,
        scope.region,
        scope.service,
        &sts,
    );
    if !canonical::constant_time_eq(expected.as_bytes(), header.signature.as_bytes()) {
        return Err(AuthError::SignatureMismatch);
    }
    Ok(Principal {
        access_key_id: scope.access_key_id.to_owned(),
        user: secret.user,
    })
}

/// Signs a request for `service` in `region` at time `now`, the way botocore does: every
/// header in `parts.headers` except hop-by-hop ones (and `user-agent`), plus `host` and
/// `x-amz-date`, with the SHA-256 of the body as payload hash.
///
/// `host` is the `Host` header value the request will carry (`127.0.0.1:8080`); it replaces
/// any `host` in `parts.headers`. Returns the headers to add to the request, lower-case:
/// `host`, `x-amz-date` and `authorization`. Any `x-amz-date` or `authorization` already in
/// `parts.headers` is ignored and must be replaced by the returned ones.
pub fn sign(
    parts: &SignedRequestParts<'_>,
    host: &str,
    credentials: &Credentials<'_>,
    region: &str,
    service: &str,
    now: OffsetDateTime,
) -> Vec<(String, String)> {
    let now = now.to_offset(UtcOffset::UTC);
    let timestamp = format_timestamp(now);
    let date = &timestamp[..8];

    let mut names: Vec<String> = parts
        .headers
        .keys()
        .map(|name| name.as_str().to_owned())
        .filter(|name| {
            !canonical::UNSIGNABLE_HEADERS.contains(&name.as_str())
                && name != "host"
                && name != "x-amz-date"
        })
        .collect();
    names.push("host".to_owned());
    names.push("x-amz-date".to_owned());
    names.sort();
    names.dedup();

    let headers: Vec<CanonicalHeader<'_>> = names
        .iter()
        .map(|name| {
            let value = match name.as_str() {
                "host" => host.as_bytes().to_vec(),
                "x-amz-date" => timestamp.as_bytes().to_vec(),
                other => canonical::header_value(parts.headers, other).unwrap_or_default(),
            };
            CanonicalHeader { name, value }
        })
        .collect();
    let payload_hash = match parts.headers.get("x-amz-content-sha256") {
        Some(value) => String::from_utf8_lossy(value.as_bytes()).into_owned(),
        None => canonical::sha256_hex(parts.body),
    };
    let creq = canonical::canonical_request(
        parts.method,
        &canonical::canonical_uri(parts.path),
        &canonical::canonical_query(parts.query, None),
        &headers,
        &payload_hash,
    );
    let scope = format!("{date}/{region}/{service}/{TERMINATOR}");
    let sts = canonical::string_to_sign(&timestamp, &scope, &creq);
    let signature = canonical::signature(
        credentials.secret_access_key.expose(),
        date,
        region,
        service,
        &sts,
    );
    let authorization = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={signature}",
        credentials.access_key_id,
        canonical::signed_headers_line(&headers),
    );
    vec![
        ("host".to_owned(), host.to_owned()),
        ("x-amz-date".to_owned(), timestamp),
        ("authorization".to_owned(), authorization),
    ]
}

/// `20150830T123600Z`: the ISO 8601 basic format SigV4 uses.
fn format_timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn missing_date_message() -> &'static str {
    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
}

/// The request time from `X-Amz-Date` (ISO 8601 basic) or else `Date` (RFC 1123), as the
/// basic-format string that enters the string to sign. `None` if neither is present.
fn request_timestamp(headers: &HeaderMap) -> Result<Option<(String, OffsetDateTime)>, AuthError> {
    if let Some(value) = headers.get("x-amz-date") {
        let text = String::from_utf8_lossy(value.as_bytes());
        let format = format_description!("[year][month][day]T[hour][minute][second]Z");
        let parsed = time::PrimitiveDateTime::parse(text.trim(), format).map_err(|_| {
            AuthError::incomplete(format!(
                "Date must be in ISO-8601 'basic format'. Got '{}'. See \
                 http://en.wikipedia.org/wiki/ISO_8601",
                truncate(&text, 64)
            ))
        })?;
        let t = parsed.assume_utc();
        return Ok(Some((format_timestamp(t), t)));
    }
    if let Some(value) = headers.get("date") {
        let text = String::from_utf8_lossy(value.as_bytes());
        let t = parse_http_date(text.trim()).ok_or_else(|| {
            AuthError::incomplete(format!(
                "Date must be an RFC 1123 date such as 'Sun, 06 Nov 1994 08:49:37 GMT'. Got '{}'.",
                truncate(&text, 64)
            ))
        })?;
        return Ok(Some((format_timestamp(t), t)));
    }
    Ok(None)
}

/// Parses an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`), the form botocore writes.
fn parse_http_date(text: &str) -> Option<OffsetDateTime> {
    let format = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::PrimitiveDateTime::parse(text, format)
        .map(|t| t.assume_utc())
        .ok()
        .or_else(|| OffsetDateTime::parse(text, &Rfc2822).ok())
}

/// Splits `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
fn parse_authorization(value: &str, has_date: bool) -> Result<AuthorizationHeader<'_>, AuthError> {
    let value = value.trim();
    let (algorithm, rest) = value.split_once(' ').unwrap_or((value, ""));
    if algorithm != ALGORITHM && algorithm.starts_with("AWS") {
        return Err(AuthError::incomplete(format!(
            "Unsupported AWS 'algorithm': '{}'.",
            truncate(algorithm, 64)
        )));
    }
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    if algorithm == ALGORITHM {
        for piece in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((key, val)) = piece.split_once('=') else {
                return Err(AuthError::incomplete(format!(
                    "'{}' not a valid key=value pair (missing equal-sign) in Authorization \
                     header: '{}'.",
                    truncate(piece, 128),
                    truncate(value, 512)
                )));
            };
            let slot = match key.trim() {
                "Credential" => &mut credential,
                "SignedHeaders" => &mut signed_headers,
                "Signature" => &mut signature,
                _ => continue,
            };
            if slot.is_some() {
                return Err(AuthError::incomplete(format!(
                    "Authorization header has more than one '{}' parameter.",
                    key.trim()
                )));
            }
            *slot = Some(val.trim());
        }
    }
    let mut missing = Vec::new();
    for (name, slot) in [
        ("Credential", credential),
        ("Signature", signature),
        ("SignedHeaders", signed_headers),
    ] {
        if slot.is_none_or(str::is_empty) {
            missing.push(format!("Authorization header requires '{name}' parameter."));
        }
    }
    if !has_date {
        missing.push(missing_date_message().to_owned());
    }
    match (credential, signed_headers, signature) {
        (Some(credential), Some(signed_headers), Some(signature)) if missing.is_empty() => {
            Ok(AuthorizationHeader {
                credential,
                signed_headers,
                signature,
            })
        }
        _ => Err(AuthError::incomplete(missing.join(" "))),
    }
}

fn parse_credential(credential: &str) -> Result<CredentialScope<'_>, AuthError> {
    let elements: Vec<&str> = credential.split('/').collect();
    match elements.as_slice() {
        [access_key_id, date, region, service, terminator] if !access_key_id.is_empty() => {
            Ok(CredentialScope {
                access_key_id,
                date,
                region,
                service,
                terminator,
            })
        }
        _ => Err(AuthError::incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. \
             keyid/date/region/service/term, got '{}'",
            truncate(credential, 256)
        ))),
    }
}

fn check_scope(
    scope: &CredentialScope<'_>,
    timestamp: &str,
    expected_service: &str,
    expected_region: &str,
) -> Result<(), AuthError> {
    if scope.terminator != TERMINATOR {
        return Err(AuthError::WrongTerminator {
            got: truncate(scope.terminator, 64),
        });
    }
    let request_date = &timestamp[..8];
    if scope.date != request_date {
        return Err(AuthError::ScopeDateMismatch {
            scope_date: truncate(scope.date, 64),
            request_date: request_date.to_owned(),
            request_time: timestamp.to_owned(),
        });
    }
    if scope.region != expected_region {
        return Err(AuthError::WrongRegion {
            got: truncate(scope.region, 64),
            expected: expected_region.to_owned(),
        });
    }
    if scope.service != expected_service {
        return Err(AuthError::WrongService {
            got: truncate(scope.service, 64),
            expected: expected_service.to_owned(),
        });
    }
    Ok(())
}

/// The `SignedHeaders` list, lower-cased and sorted as the canonical request wants it; it must
/// include `host`, or a proxy could send the signed request to another server.
fn parse_signed_headers(list: &str) -> Result<Vec<String>, AuthError> {
    let mut names: Vec<String> = list
        .split(';')
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect();
    names.sort();
    names.dedup();
    if !names.iter().any(|n| n == "host") {
        return Err(AuthError::incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    Ok(names)
}

fn check_skew(request_time: OffsetDateTime, now: OffsetDateTime) -> Result<(), AuthError> {
    let now = now.to_offset(UtcOffset::UTC);
    let skew_minutes = MAX_CLOCK_SKEW.whole_minutes();
    let earliest = now - MAX_CLOCK_SKEW;
    let latest = now + MAX_CLOCK_SKEW;
    if request_time < earliest {
        return Err(AuthError::SignatureExpired {
            request_time: format_timestamp(request_time),
            earliest: format_timestamp(earliest),
            now: format_timestamp(now),
            skew_minutes,
        });
    }
    if request_time > latest {
        return Err(AuthError::SignatureNotYetCurrent {
            request_time: format_timestamp(request_time),
            latest: format_timestamp(latest),
            now: format_timestamp(now),
            skew_minutes,
        });
    }
    Ok(())
}

/// The payload hash that enters the canonical request: `x-amz-content-sha256` as sent when
/// present (it must then match the body), else the SHA-256 of the body.
fn payload_hash(parts: &SignedRequestParts<'_>, service: &str) -> Result<String, AuthError> {
    let computed = canonical::sha256_hex(parts.body);
    let Some(claimed) = parts.headers.get("x-amz-content-sha256") else {
        return Ok(computed);
    };
    let claimed = String::from_utf8_lossy(claimed.as_bytes())
        .trim()
        .to_owned();
    if claimed == UNSIGNED_PAYLOAD && service == "s3" {
        return Ok(claimed);
    }
    if claimed == UNSIGNED_PAYLOAD || claimed.starts_with("STREAMING-") {
        return Err(AuthError::incomplete(format!(
            "x-amz-content-sha256 '{}' is not supported by service '{service}': sign the request \
             body.",
            truncate(&claimed, 64)
        )));
    }
    if !canonical::constant_time_eq(claimed.as_bytes(), computed.as_bytes()) {
        return Err(AuthError::PayloadHashMismatch);
    }
    Ok(claimed)
}

/// At most `max` characters of `text`, for echoing client input in error messages.
fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}
