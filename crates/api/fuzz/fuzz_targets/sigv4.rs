//! Arbitrary Authorization / X-Amz-Date headers and bodies through SigV4 verification.
#![no_main]

use ferry_api::sigv4::{verify, Secret, SignedRequestParts};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\n');
    let auth = parts.next().unwrap_or_default();
    let date = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default();
    let mut headers = axum_http::HeaderMap::new();
    if let Ok(v) = auth.parse() {
        headers.insert("authorization", v);
    }
    if let Ok(v) = date.parse() {
        headers.insert("x-amz-date", v);
    }
    headers.insert("host", "127.0.0.1:8900".parse().expect("static header"));
    let req = SignedRequestParts {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        body: body.as_bytes(),
    };
    let lookup = |_: &str| {
        Some(Secret {
            secret_access_key: "secret".into(),
            user: "admin".to_string(),
        })
    };
    let _ = verify(&req, &lookup, "rds", "us-east-1", time::OffsetDateTime::now_utc());
});
