//! A minimal RDS Query-protocol server made only of ferry-api's building blocks, on its own
//! thread and loopback port: every request is SigV4-verified, its parameters parsed, and a
//! canned XML response (or an AWS error document) written. It lets real clients (boto3, the
//! AWS CLI, ferry's own client) prove the blocks fit together over HTTP, independently of the
//! control plane.

use std::net::SocketAddr;
use std::thread::JoinHandle;

use axum::body::Bytes;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use ferry_api::params::Params;
use ferry_api::sigv4::{self, Secret, SignedRequestParts};
use ferry_api::xml::{self, ErrorType, XmlWriter};
use time::macros::datetime;
use time::OffsetDateTime;

use super::{ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, USER};

/// The running server; stopped and joined when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    pub fn start() -> TestServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = listener.local_addr().expect("listener address");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("test server runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                let app = axum::Router::new().fallback(handle);
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await
                    .expect("test server");
            });
        });
        TestServer {
            addr,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn lookup(access_key_id: &str) -> Option<Secret> {
    (access_key_id == ACCESS_KEY_ID).then(|| Secret {
        secret_access_key: SECRET_ACCESS_KEY.into(),
        user: USER.to_owned(),
    })
}

fn xml_response(status: u16, body: String) -> axum::response::Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(header::CONTENT_TYPE, "text/xml")], body).into_response()
}

fn error(status: u16, code: &str, message: &str, request_id: &str) -> axum::response::Response {
    xml_response(
        status,
        xml::error_response(ErrorType::for_status(status), code, message, request_id),
    )
}

async fn handle(
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let parts = SignedRequestParts {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query().unwrap_or(""),
        headers: &headers,
        body: &body,
    };
    let principal = match sigv4::verify(&parts, &lookup, "rds", REGION, OffsetDateTime::now_utc()) {
        Ok(principal) => principal,
        Err(e) => return error(e.status(), e.code(), &e.to_string(), &request_id),
    };
    let params = match Params::parse(uri.query().unwrap_or(""), &body) {
        Ok(params) => params,
        Err(e) => return error(e.status(), e.code, &e.message, &request_id),
    };
    match params.action() {
        Some("DescribeDBClusters") => {
            let ids: Vec<String> = match params.get("DBClusterIdentifier") {
                Some(id) => vec![id.to_owned()],
                None => match params.filters() {
                    Ok(filters) => filters
                        .into_iter()
                        .filter(|(name, _)| name == "db-cluster-id")
                        .flat_map(|(_, values)| values)
                        .collect(),
                    Err(e) => return error(e.status(), e.code, &e.message, &request_id),
                },
            };
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            xml_response(200, describe_db_clusters_xml(&request_id, &ids))
        }
        Some("DeleteDBCluster") => match params.required("DBClusterIdentifier") {
            Ok(id) => error(
                404,
                "DBClusterNotFoundFault",
                &format!("DBCluster {id} not found."),
                &request_id,
            ),
            Err(e) => error(e.status(), e.code, &e.message, &request_id),
        },
        Some("WhoAmI") => xml_response(
            200,
            xml::response("WhoAmI", &request_id, |w| {
                w.elem("User", &principal.user)
                    .elem("AccessKeyId", &principal.access_key_id);
            }),
        ),
        Some(other) => error(
            400,
            "InvalidAction",
            &format!("The action {other} is not valid for this web service."),
            &request_id,
        ),
        None => error(
            400,
            "MissingAction",
            "The request must contain the parameter Action",
            &request_id,
        ),
    }
}

/// A `DescribeDBClusters` response listing `ids` (or one cluster, `cluster-1`, if empty), with
/// the members the CLI's waiters and a user look at.
pub fn describe_db_clusters_xml(request_id: &str, ids: &[&str]) -> String {
    let ids: Vec<&str> = if ids.is_empty() {
        vec!["cluster-1"]
    } else {
        ids.to_vec()
    };
    xml::response("DescribeDBClusters", request_id, |w| {
        w.start("DBClusters");
        for id in &ids {
            write_cluster(w, id);
        }
        w.end();
    })
}

fn write_cluster(w: &mut XmlWriter, id: &str) {
    w.start("DBCluster");
    w.elem("DBClusterIdentifier", id)
        .elem("Status", "available")
        .elem("Engine", "aurora-mysql")
        .elem("EngineVersion", "10.11.6-MariaDB")
        .elem("Endpoint", format!("{id}.cluster.ferry.local"))
        .elem("Port", 3306)
        .elem("MasterUsername", "admin")
        .opt_elem("PercentProgress", None::<&str>)
        .bool_elem("StorageEncrypted", false)
        .elem("AllocatedStorage", 1)
        .time_elem("ClusterCreateTime", datetime!(2024-01-31 12:00:00.123 UTC))
        .list("AvailabilityZones", "AvailabilityZone", ["local-a"]);
    w.start("DBClusterMembers").start("DBClusterMember");
    w.elem("DBInstanceIdentifier", format!("{id}-writer"))
        .bool_elem("IsClusterWriter", true)
        .elem("PromotionTier", 1);
    w.end().end();
    w.start("TagList").start("Tag");
    w.elem("Key", "note").elem("Value", "a <b> & \"c\" 'd'");
    w.end().end();
    w.end();
}
