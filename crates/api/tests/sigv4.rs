//! SigV4 against the official AWS test suite vectors (credentials `AKIDEXAMPLE`, 2015-08-30,
//! service `service`, region `us-east-1`), a sign/verify round trip, each way a request can be
//! wrong giving the error code a client of AWS would see, and garbage that must never panic.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use ferry_api::sigv4::{
    self, AuthError, Credentials, Principal, Secret, SignedRequestParts, MAX_CLOCK_SKEW,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const SUITE_KEY_ID: &str = "AKIDEXAMPLE";
const SUITE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SUITE_NOW: OffsetDateTime = datetime!(2015-08-30 12:36:00 UTC);
const SUITE_HOST: &str = "example.amazonaws.com";

/// One vector: the request and the signature AWS's suite expects for it.
struct Vector {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    query: &'static str,
    /// Headers besides `host` and `x-amz-date`, in order (repeats allowed).
    headers: &'static [(&'static str, &'static str)],
    body: &'static str,
    signed_headers: &'static str,
    signature: &'static str,
}

const VECTORS: &[Vector] = &[
    Vector {
        name: "get-vanilla",
        method: "GET",
        path: "/",
        query: "",
        headers: &[],
        body: "",
        signed_headers: "host;x-amz-date",
        signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    },
    Vector {
        name: "get-vanilla-empty-query-key",
        method: "GET",
        path: "/",
        query: "Param1=value1",
        headers: &[],
        body: "",
        signed_headers: "host;x-amz-date",
        signature: "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb",
    },
    Vector {
        name: "get-vanilla-query-order-key-case",
        method: "GET",
        path: "/",
        query: "Param2=value2&Param1=value1",
        headers: &[],
        body: "",
        signed_headers: "host;x-amz-date",
        signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
    },
    Vector {
        name: "get-vanilla-query-unreserved",
        method: "GET",
        path: "/",
        query: "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=\
                -._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        headers: &[],
        body: "",
        signed_headers: "host;x-amz-date",
        signature: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
    },
    Vector {
        name: "get-vanilla-utf8-query",
        method: "GET",
        path: "/",
        query: "%E1%88%B4=bar",
        headers: &[],
        body: "",
        signed_headers: "host;x-amz-date",
        signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
    },
    Vector {
        name: "get-unreserved",
        method: "GET",
        path: "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        query: "",
        headers: &[],
        body: "",
        signed_headers: "host;x-amz-date",
        signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
    },
    Vector {
        name: "get-utf8",
        method: "GET",
        path: "/\u{1234}",
        query: "",
        headers: &[],
        body: "",
        signed_headers: "host;x-amz-date",
        signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
    },
    Vector {
        name: "get-header-key-duplicate",
        method: "GET",
        path: "/",
        query: "",
        headers: &[
            ("my-header1", "value2"),
            ("my-header1", "value2"),
            ("my-header1", "value1"),
        ],
        body: "",
        signed_headers: "host;my-header1;x-amz-date",
        signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
    },
    Vector {
        name: "get-header-value-order",
        method: "GET",
        path: "/",
        query: "",
        headers: &[
            ("my-header1", "value4"),
            ("my-header1", "value1"),
            ("my-header1", "value3"),
            ("my-header1", "value2"),
        ],
        body: "",
        signed_headers: "host;my-header1;x-amz-date",
        signature: "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01",
    },
    Vector {
        name: "get-header-value-trim",
        method: "GET",
        path: "/",
        query: "",
        headers: &[("my-header1", " value1"), ("my-header2", " \"a   b   c\"")],
        body: "",
        signed_headers: "host;my-header1;my-header2;x-amz-date",
        signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
    },
    Vector {
        name: "post-vanilla",
        method: "POST",
        path: "/",
        query: "",
        headers: &[],
        body: "",
        signed_headers: "host;x-amz-date",
        signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
    },
    Vector {
        name: "post-vanilla-query",
        method: "POST",
        path: "/",
        query: "Param1=value1",
        headers: &[],
        body: "",
        signed_headers: "host;x-amz-date",
        signature: "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11",
    },
    Vector {
        name: "post-header-value-case",
        method: "POST",
        path: "/",
        query: "",
        headers: &[("my-header1", "VALUE1")],
        body: "",
        signed_headers: "host;my-header1;x-amz-date",
        signature: "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d",
    },
    Vector {
        name: "post-x-www-form-urlencoded",
        method: "POST",
        path: "/",
        query: "",
        headers: &[("content-type", "application/x-www-form-urlencoded")],
        body: "Param1=value1",
        signed_headers: "content-type;host;x-amz-date",
        signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
    },
    Vector {
        name: "post-x-www-form-urlencoded-parameters",
        method: "POST",
        path: "/",
        query: "",
        headers: &[(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf8",
        )],
        body: "Param1=value1",
        signed_headers: "content-type;host;x-amz-date",
        signature: "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe",
    },
];

fn suite_lookup(id: &str) -> Option<Secret> {
    (id == SUITE_KEY_ID).then(|| Secret {
        secret_access_key: SUITE_SECRET.into(),
        user: "example".to_owned(),
    })
}

fn suite_headers(v: &Vector) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static(SUITE_HOST));
    headers.insert("x-amz-date", HeaderValue::from_static("20150830T123600Z"));
    for (name, value) in v.headers {
        headers.append(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    headers
}

fn authorization(v: &Vector) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={SUITE_KEY_ID}/20150830/us-east-1/service/aws4_request, \
         SignedHeaders={}, Signature={}",
        v.signed_headers, v.signature
    )
}

#[test]
fn verify_accepts_every_suite_vector() {
    for v in VECTORS {
        let mut headers = suite_headers(v);
        headers.insert("authorization", authorization(v).parse().unwrap());
        let parts = SignedRequestParts {
            method: v.method,
            path: v.path,
            query: v.query,
            headers: &headers,
            body: v.body.as_bytes(),
        };
        let got = sigv4::verify(&parts, &suite_lookup, "service", "us-east-1", SUITE_NOW);
        assert_eq!(
            got,
            Ok(Principal {
                access_key_id: SUITE_KEY_ID.to_owned(),
                user: "example".to_owned()
            }),
            "vector {}",
            v.name
        );
    }
}

#[test]
fn sign_reproduces_every_suite_vector() {
    let secret = ferry_base::Secret::new(SUITE_SECRET);
    let credentials = Credentials {
        access_key_id: SUITE_KEY_ID,
        secret_access_key: &secret,
    };
    for v in VECTORS {
        let mut headers = HeaderMap::new();
        for (name, value) in v.headers {
            headers.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        let parts = SignedRequestParts {
            method: v.method,
            path: v.path,
            query: v.query,
            headers: &headers,
            body: v.body.as_bytes(),
        };
        let added = sigv4::sign(
            &parts,
            SUITE_HOST,
            &credentials,
            "us-east-1",
            "service",
            SUITE_NOW,
        );
        let find = |name: &str| {
            added
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(find("host").as_deref(), Some(SUITE_HOST), "{}", v.name);
        assert_eq!(
            find("x-amz-date").as_deref(),
            Some("20150830T123600Z"),
            "{}",
            v.name
        );
        assert_eq!(
            find("authorization"),
            Some(authorization(v)),
            "vector {}",
            v.name
        );
    }
}

#[test]
fn sign_reproduces_the_session_token_vector() {
    // post-sts-header-before: the token is signed like any other header. (verify refuses
    // session tokens: ferry issues none.)
    const TOKEN: &str = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";
    let mut headers = HeaderMap::new();
    headers.insert("x-amz-security-token", HeaderValue::from_static(TOKEN));
    let parts = SignedRequestParts {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        body: b"",
    };
    let secret = ferry_base::Secret::new(SUITE_SECRET);
    let credentials = Credentials {
        access_key_id: SUITE_KEY_ID,
        secret_access_key: &secret,
    };
    let added = sigv4::sign(
        &parts,
        SUITE_HOST,
        &credentials,
        "us-east-1",
        "service",
        SUITE_NOW,
    );
    assert!(added.iter().any(|(n, v)| n == "authorization"
        && v.ends_with(
            "SignedHeaders=host;x-amz-date;x-amz-security-token, \
             Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"
        )));

    // Presented to verify, the signed token is refused as an invalid token.
    let mut signed = headers.clone();
    for (n, v) in &added {
        signed.insert(
            HeaderName::from_bytes(n.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    let parts = SignedRequestParts {
        headers: &signed,
        ..parts
    };
    let e = sigv4::verify(&parts, &suite_lookup, "service", "us-east-1", SUITE_NOW).unwrap_err();
    assert_eq!(e.code(), "InvalidClientTokenId");
}

// ---------------------------------------------------------------------------------------------
// Round trip and tampering, with ferry's own parameters: service rds, a form body.

const KEY_ID: &str = "AKIAFERRYEXAMPLE0001";
const SECRET: &str = "ferrySecret/abc+def/0123456789";
const NOW: OffsetDateTime = datetime!(2024-05-01 10:00:00 UTC);
const BODY: &[u8] = b"Action=DescribeDBClusters&Version=2014-10-31";

fn lookup(id: &str) -> Option<Secret> {
    (id == KEY_ID).then(|| Secret {
        secret_access_key: SECRET.into(),
        user: "admin".to_owned(),
    })
}

/// A request signed at `signed_at` with `secret`: its headers.
fn signed_request(
    secret: &str,
    signed_at: OffsetDateTime,
    region: &str,
    service: &str,
) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"),
    );
    headers.insert("user-agent", HeaderValue::from_static("ferry-test/1"));
    let parts = SignedRequestParts {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        body: BODY,
    };
    let secret = ferry_base::Secret::new(secret);
    let credentials = Credentials {
        access_key_id: KEY_ID,
        secret_access_key: &secret,
    };
    for (n, v) in sigv4::sign(
        &parts,
        "127.0.0.1:8080",
        &credentials,
        region,
        service,
        signed_at,
    ) {
        headers.insert(
            HeaderName::from_bytes(n.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    headers
}

fn check(headers: &HeaderMap, body: &[u8], now: OffsetDateTime) -> Result<Principal, AuthError> {
    let parts = SignedRequestParts {
        method: "POST",
        path: "/",
        query: "",
        headers,
        body,
    };
    sigv4::verify(&parts, &lookup, "rds", "us-east-1", now)
}

fn good() -> HeaderMap {
    signed_request(SECRET, NOW, "us-east-1", "rds")
}

#[test]
fn round_trip_is_accepted_and_names_the_user() {
    let principal = check(&good(), BODY, NOW).unwrap();
    assert_eq!(principal.access_key_id, KEY_ID);
    assert_eq!(principal.user, "admin");
    // user-agent is not signed, so a proxy rewriting it does not break the signature.
    let mut headers = good();
    headers.insert("user-agent", HeaderValue::from_static("other"));
    assert!(check(&headers, BODY, NOW).is_ok());
}

#[test]
fn tampered_body_header_or_secret_does_not_match() {
    let e = check(&good(), b"Action=DeleteDBCluster&Version=2014-10-31", NOW).unwrap_err();
    assert_eq!(e, AuthError::SignatureMismatch);
    assert_eq!((e.code(), e.status()), ("SignatureDoesNotMatch", 403));
    assert_eq!(
        e.to_string(),
        "The request signature we calculated does not match the signature you provided. Check \
         your AWS Secret Access Key and signing method. Consult the service documentation for \
         details."
    );

    let mut headers = good();
    headers.insert("content-type", HeaderValue::from_static("text/plain"));
    assert_eq!(
        check(&headers, BODY, NOW),
        Err(AuthError::SignatureMismatch)
    );

    let mut headers = good();
    headers.insert("host", HeaderValue::from_static("evil.example:8080"));
    assert_eq!(
        check(&headers, BODY, NOW),
        Err(AuthError::SignatureMismatch)
    );

    let wrong = signed_request("not-the-secret", NOW, "us-east-1", "rds");
    assert_eq!(check(&wrong, BODY, NOW), Err(AuthError::SignatureMismatch));

    let mut headers = good();
    let auth = headers["authorization"].to_str().unwrap().to_owned();
    let flipped = if auth.ends_with('0') {
        format!("{}1", &auth[..auth.len() - 1])
    } else {
        format!("{}0", &auth[..auth.len() - 1])
    };
    headers.insert("authorization", flipped.parse().unwrap());
    assert_eq!(
        check(&headers, BODY, NOW),
        Err(AuthError::SignatureMismatch)
    );
}

#[test]
fn clock_skew_beyond_fifteen_minutes_is_refused() {
    let minute = Duration::minutes(1);
    // Within the window either way: accepted.
    assert!(check(&good(), BODY, NOW + MAX_CLOCK_SKEW - minute).is_ok());
    assert!(check(&good(), BODY, NOW - MAX_CLOCK_SKEW + minute).is_ok());

    let e = check(&good(), BODY, NOW + MAX_CLOCK_SKEW + minute).unwrap_err();
    assert_eq!((e.code(), e.status()), ("SignatureDoesNotMatch", 403));
    assert_eq!(
        e.to_string(),
        "Signature expired: 20240501T100000Z is now earlier than 20240501T100100Z \
         (20240501T101600Z - 15 min.)"
    );

    let e = check(&good(), BODY, NOW - MAX_CLOCK_SKEW - minute).unwrap_err();
    assert_eq!(e.code(), "SignatureDoesNotMatch");
    assert_eq!(
        e.to_string(),
        "Signature not yet current: 20240501T100000Z is still later than 20240501T095900Z \
         (20240501T094400Z + 15 min.)"
    );
}

#[test]
fn unknown_key_missing_header_and_wrong_scope() {
    let mut headers = good();
    let auth = headers["authorization"]
        .to_str()
        .unwrap()
        .replace(KEY_ID, "AKIANOBODY");
    headers.insert("authorization", auth.parse().unwrap());
    let e = check(&headers, BODY, NOW).unwrap_err();
    assert_eq!((e.code(), e.status()), ("InvalidClientTokenId", 403));
    assert_eq!(
        e.to_string(),
        "The security token included in the request is invalid."
    );

    let mut headers = good();
    headers.remove("authorization");
    let e = check(&headers, BODY, NOW).unwrap_err();
    assert_eq!((e.code(), e.status()), ("MissingAuthenticationToken", 403));
    assert_eq!(e.to_string(), "Request is missing Authentication Token");

    let e = check(&signed_request(SECRET, NOW, "eu-west-1", "rds"), BODY, NOW).unwrap_err();
    assert_eq!((e.code(), e.status()), ("SignatureDoesNotMatch", 403));
    assert!(e.to_string().contains("not 'eu-west-1'"), "{e}");
    assert!(e.to_string().contains("'us-east-1'"), "{e}");

    let e = check(&signed_request(SECRET, NOW, "us-east-1", "iam"), BODY, NOW).unwrap_err();
    assert_eq!(e.code(), "SignatureDoesNotMatch");
    assert!(e.to_string().contains("correct service: 'rds'"), "{e}");
}

#[test]
fn malformed_authorization_headers_are_incomplete_signatures() {
    let cases: &[(&str, &str)] = &[
        ("Bearer abc", "requires 'Credential' parameter"),
        ("AWS4-HMAC-SHA1 Credential=a", "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA1'"),
        ("AWS4-HMAC-SHA256", "requires 'Signature' parameter"),
        (
            "AWS4-HMAC-SHA256 Credential=AKIAFERRYEXAMPLE0001/20240501/us-east-1/rds/aws4_request",
            "requires 'SignedHeaders' parameter",
        ),
        (
            "AWS4-HMAC-SHA256 Credential AKID, SignedHeaders=host, Signature=00",
            "not a valid key=value pair (missing equal-sign)",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKID/20240501/us-east-1, SignedHeaders=host, Signature=00",
            "Credential must have exactly 5 slash-delimited elements",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIAFERRYEXAMPLE0001/20240501/us-east-1/rds/aws4_request, \
             SignedHeaders=x-amz-date, Signature=00",
            "'Host' or ':authority' must be a 'SignedHeader'",
        ),
    ];
    for (value, expected) in cases {
        let mut headers = good();
        headers.insert("authorization", value.parse().unwrap());
        let e = check(&headers, BODY, NOW).unwrap_err();
        assert_eq!(
            (e.code(), e.status()),
            ("IncompleteSignature", 400),
            "{value}: {e}"
        );
        assert!(e.to_string().contains(expected), "{value}: {e}");
    }

    let mut headers = good();
    headers.remove("x-amz-date");
    let e = check(&headers, BODY, NOW).unwrap_err();
    assert_eq!(e.code(), "IncompleteSignature");
    assert!(
        e.to_string().contains("'X-Amz-Date' or a 'Date' header"),
        "{e}"
    );

    let mut headers = good();
    headers.insert(
        "x-amz-date",
        HeaderValue::from_static("2024-05-01T10:00:00Z"),
    );
    let e = check(&headers, BODY, NOW).unwrap_err();
    assert!(e.to_string().contains("ISO-8601 'basic format'"), "{e}");
}

#[test]
fn scope_day_and_terminator_are_checked() {
    let mut headers = good();
    let auth = headers["authorization"]
        .to_str()
        .unwrap()
        .replace("/20240501/", "/20240502/");
    headers.insert("authorization", auth.parse().unwrap());
    let e = check(&headers, BODY, NOW).unwrap_err();
    assert_eq!(e.code(), "SignatureDoesNotMatch");
    assert_eq!(
        e.to_string(),
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from \
         HTTP: '20240502' != '20240501', from '20240501T100000Z'."
    );

    let mut headers = good();
    let auth = headers["authorization"]
        .to_str()
        .unwrap()
        .replace("/aws4_request", "/aws5_request");
    headers.insert("authorization", auth.parse().unwrap());
    let e = check(&headers, BODY, NOW).unwrap_err();
    assert!(e.to_string().contains("valid terminator"), "{e}");
}

#[test]
fn content_sha256_header_must_match_the_body() {
    let body_hash = "0c1ddb1b0a5a2fe6e95a5e7e0c6d02ba5de2a9ca3ef9a25fc0c2d2f9e6fcd8a1";
    let mut headers = good();
    headers.insert("x-amz-content-sha256", HeaderValue::from_static(body_hash));
    assert_eq!(
        check(&headers, BODY, NOW),
        Err(AuthError::PayloadHashMismatch)
    );

    let mut headers = good();
    headers.insert(
        "x-amz-content-sha256",
        HeaderValue::from_static("UNSIGNED-PAYLOAD"),
    );
    let e = check(&headers, BODY, NOW).unwrap_err();
    assert_eq!(e.code(), "IncompleteSignature");

    // A correct hash, signed by the client, is accepted.
    let mut headers = HeaderMap::new();
    let hash = {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(BODY);
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    headers.insert("x-amz-content-sha256", hash.parse().unwrap());
    let parts = SignedRequestParts {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        body: BODY,
    };
    let secret_key = ferry_base::Secret::new(SECRET);
    let credentials = Credentials {
        access_key_id: KEY_ID,
        secret_access_key: &secret_key,
    };
    for (n, v) in sigv4::sign(&parts, "h", &credentials, "us-east-1", "rds", NOW) {
        headers.insert(
            HeaderName::from_bytes(n.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    assert!(check(&headers, BODY, NOW).is_ok());
}

#[test]
fn secrets_are_not_in_debug_output() {
    let secret = lookup(KEY_ID).unwrap();
    assert!(!format!("{secret:?}").contains(SECRET));
    let secret_key = ferry_base::Secret::new(SECRET);
    let credentials = Credentials {
        access_key_id: KEY_ID,
        secret_access_key: &secret_key,
    };
    assert!(!format!("{credentials:?}").contains(SECRET));
}

#[test]
fn garbage_authorization_headers_never_panic() {
    let fragments: &[&str] = &[
        "AWS4-HMAC-SHA256",
        " ",
        ",",
        "=",
        "/",
        "Credential=",
        "SignedHeaders=",
        "Signature=",
        "AKIAFERRYEXAMPLE0001",
        "20240501",
        "us-east-1",
        "rds",
        "aws4_request",
        "host;x-amz-date",
        ";;",
        "\u{e9}",
        "\u{1234}",
        "ffff",
        "Credential=AKIAFERRYEXAMPLE0001/20240501/us-east-1/rds/aws4_request",
    ];
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let dates = [
        "20240501T100000Z",
        "",
        "x",
        "99999999T999999Z",
        "00000101T000000Z",
        "20240501T1000",
    ];
    for _ in 0..5000 {
        let n = (next() % 12) as usize;
        let value: String = (0..n)
            .map(|_| fragments[(next() % fragments.len() as u64) as usize])
            .collect();
        let Ok(value) = HeaderValue::from_bytes(value.as_bytes()) else {
            continue;
        };
        let mut headers = HeaderMap::new();
        headers.insert("authorization", value);
        headers.insert("host", HeaderValue::from_static("h"));
        let date = dates[(next() % dates.len() as u64) as usize];
        if next() % 2 == 0 {
            headers.insert("x-amz-date", date.parse().unwrap());
        } else {
            headers.insert("date", date.parse().unwrap());
        }
        let result = check(&headers, BODY, NOW);
        assert!(result.is_err(), "{headers:?}");
    }
    // Non-UTF-8 bytes in the header.
    let mut headers = good();
    headers.insert(
        "authorization",
        HeaderValue::from_bytes(b"AWS4-HMAC-SHA256 \xff\xfe").unwrap(),
    );
    assert_eq!(
        check(&headers, BODY, NOW).unwrap_err().code(),
        "IncompleteSignature"
    );
}
