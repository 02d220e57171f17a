//! botocore (what the AWS CLI runs) signs requests; ferry must accept them, and refuse them
//! once anything signed is changed.

mod common;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use ferry_api::sigv4::{self, AuthError, Secret, SignedRequestParts};
use time::OffsetDateTime;

const BODY: &str = "Action=DescribeDBClusters&Version=2014-10-31";

/// Signs a POST of `body` to `url` with botocore's `SigV4Auth` (service `rds`, region
/// `us-east-1`) and prints the request's headers as JSON. `extra` headers are added before
/// signing (a `Date` header makes botocore date the request with it instead of X-Amz-Date).
const SIGN_SCRIPT: &str = r#"
import json, sys
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
args = json.loads(sys.stdin.read())
headers = {'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8'}
headers.update(args['extra'])
request = AWSRequest(method='POST', url=args['url'], data=args['body'].encode(), headers=headers)
SigV4Auth(Credentials(args['key'], args['secret']), 'rds', 'us-east-1').add_auth(request)
print(json.dumps(dict(request.headers.items())))
"#;

fn botocore_sign(python: &std::path::PathBuf, body: &str, extra: serde_json::Value) -> HeaderMap {
    let input = serde_json::json!({
        "url": "http://127.0.0.1:1234/",
        "body": body,
        "key": common::ACCESS_KEY_ID,
        "secret": common::SECRET_ACCESS_KEY,
        "extra": extra,
    });
    let out = common::run_python(python, SIGN_SCRIPT, &[], input.to_string().as_bytes());
    let printed: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&out).expect("botocore printed a JSON object");
    let mut headers = HeaderMap::new();
    // The HTTP client adds Host from the URL; botocore signs that value.
    headers.insert("host", HeaderValue::from_static("127.0.0.1:1234"));
    for (name, value) in printed {
        let value = value.as_str().expect("header values are strings");
        headers.insert(
            HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    headers
}

fn lookup(id: &str) -> Option<Secret> {
    (id == common::ACCESS_KEY_ID).then(|| Secret {
        secret_access_key: common::SECRET_ACCESS_KEY.into(),
        user: common::USER.to_owned(),
    })
}

fn verify(headers: &HeaderMap, body: &str) -> Result<sigv4::Principal, AuthError> {
    let parts = SignedRequestParts {
        method: "POST",
        path: "/",
        query: "",
        headers,
        body: body.as_bytes(),
    };
    sigv4::verify(
        &parts,
        &lookup,
        "rds",
        "us-east-1",
        OffsetDateTime::now_utc(),
    )
}

#[test]
fn botocore_signed_request_is_accepted_and_tampering_is_not() {
    let Some(python) = common::venv_bin("python") else {
        return;
    };
    let headers = botocore_sign(&python, BODY, serde_json::json!({}));
    assert!(headers.contains_key("x-amz-date"), "{headers:?}");
    let principal = verify(&headers, BODY).expect("ferry accepts botocore's signature");
    assert_eq!(principal.user, common::USER);
    assert_eq!(principal.access_key_id, common::ACCESS_KEY_ID);

    let e = verify(&headers, "Action=DeleteDBCluster&Version=2014-10-31").unwrap_err();
    assert_eq!(e, AuthError::SignatureMismatch);

    let mut changed = headers.clone();
    changed.insert("host", HeaderValue::from_static("127.0.0.1:4321"));
    assert_eq!(verify(&changed, BODY), Err(AuthError::SignatureMismatch));
}

#[test]
fn botocore_date_header_and_awkward_values_are_accepted() {
    let Some(python) = common::venv_bin("python") else {
        return;
    };
    // A Date header instead of X-Amz-Date, a header with runs of spaces, and a body with
    // characters that need encoding.
    let body = "Action=DescribeDBClusters&Version=2014-10-31&Filters.Filter.1.Name=db-cluster-id\
                &Filters.Filter.1.Values.Value.1=a%20b%2Bc%C3%A9";
    let extra = serde_json::json!({
        "Date": "Mon, 01 Jan 2024 00:00:00 GMT",
        "X-Custom": "  spaced    out   value ",
    });
    let headers = botocore_sign(&python, body, extra);
    assert!(headers.contains_key("date") && !headers.contains_key("x-amz-date"));
    verify(&headers, body).expect("ferry accepts a Date-dated botocore signature");
}
