//! ferry's own S3 client library (`object_store`) works against the test server, directly and
//! through the fault proxy: its SigV4 signature (made for the proxy's host:port) is accepted
//! upstream, its connection pool copes with one request per connection, and injected 503s
//! are retried and counted.

mod common;

use std::sync::Arc;

use futures::TryStreamExt as _;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::ObjectStore;

use common::pattern;
use ferry_testkit::{FaultPlan, FaultProxy, FaultRule, S3Server};

fn store(endpoint: &str, s3: &S3Server) -> Arc<dyn ObjectStore> {
    let store = AmazonS3Builder::new()
        .with_endpoint(endpoint)
        .with_bucket_name("bkt")
        .with_region(s3.region())
        .with_access_key_id(s3.access_key())
        .with_secret_access_key(s3.secret_key())
        .with_allow_http(true)
        .build()
        .expect("build S3 store");
    Arc::new(store)
}

#[tokio::test]
async fn lists_and_reads_ranges_directly_and_through_the_proxy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s3 = S3Server::start(dir.path()).expect("start");
    s3.create_bucket("bkt").expect("bucket");
    let data = pattern(2 * 1024 * 1024 + 1);
    s3.put_object("bkt", "chain/full.xbstream00", &data)
        .expect("put");
    s3.put_object("bkt", "chain/full.xbstream01", b"tail")
        .expect("put");
    let plan = FaultPlan::single(FaultRule::status(503).first(2).path_contains("xbstream00"));
    let proxy = FaultProxy::start(s3.addr(), plan).expect("proxy");

    for endpoint in [s3.endpoint(), proxy.endpoint()] {
        let store = store(&endpoint, &s3);
        let mut listed: Vec<(String, u64)> = store
            .list(Some(&ObjectPath::from("chain")))
            .map_ok(|meta| (meta.location.to_string(), meta.size))
            .try_collect()
            .await
            .expect("list");
        listed.sort();
        assert_eq!(
            listed,
            [
                ("chain/full.xbstream00".to_owned(), data.len() as u64),
                ("chain/full.xbstream01".to_owned(), 4)
            ],
            "via {endpoint}"
        );
        let path = ObjectPath::from("chain/full.xbstream00");
        let range = store
            .get_range(&path, 1_000_000..1_000_100)
            .await
            .expect("get_range");
        assert_eq!(&range[..], &data[1_000_000..1_000_100], "via {endpoint}");
        let whole = store
            .get(&path)
            .await
            .expect("get")
            .bytes()
            .await
            .expect("body");
        assert!(whole[..] == data[..], "via {endpoint}");
    }
    let stats = proxy.stats();
    assert_eq!(
        stats.status_errors, 2,
        "the 503s were served, and object_store retried them"
    );
    assert!(stats.requests >= 5, "{stats:?}");

    // A wrong secret is refused, also through the proxy.
    let bad = AmazonS3Builder::new()
        .with_endpoint(proxy.endpoint())
        .with_bucket_name("bkt")
        .with_region("us-east-1")
        .with_access_key_id(s3.access_key())
        .with_secret_access_key("wrong")
        .with_allow_http(true)
        .build()
        .expect("build");
    let err = bad
        .get(&ObjectPath::from("chain/full.xbstream01"))
        .await
        .expect_err("bad signature");
    assert!(
        err.to_string().contains("403") || err.to_string().contains("SignatureDoesNotMatch"),
        "{err}"
    );
}
