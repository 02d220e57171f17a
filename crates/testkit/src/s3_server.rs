//! A real S3-protocol server on loopback, backed by files, that checks every SigV4 signature.
//!
//! ferry's object-storage code must be tested against a server that speaks the real protocol
//! (signing, ranged GETs, listing, multipart), never a mock of our own client. This module runs
//! `s3s-fs` (a file-backed implementation of the S3 API) behind `s3s`'s HTTP service with
//! `SimpleAuth`, so a request without a valid signature for the one configured key pair is
//! refused with 403, as a real bucket would. GetObject bodies are read in 1 MiB chunks instead
//! of `s3s-fs`'s 4 KiB, the pages of a listing are cut from one walk of the bucket instead of
//! one walk a page (`store`, `listing`), and connections set TCP_NODELAY, so the server does
//! not become what a benchmark measures.
//!
//! The same serving code backs the [`S3Server`] handle used by tests and the `ferry-s3` binary
//! used by the benchmark script.

mod file_body;
mod listing;
mod objects;
mod store;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::{S3Service, S3ServiceBuilder};
use tokio::net::TcpListener;

use crate::runtime::BackgroundRuntime;

/// The access key every test server accepts.
pub const TEST_ACCESS_KEY: &str = "ferry-test-key";
/// The secret key every test server accepts.
pub const TEST_SECRET_KEY: &str = "ferry-test-secret-please";
/// The region test clients sign for (s3s accepts any region; clients still need one).
pub const TEST_REGION: &str = "us-east-1";

/// Worker threads of a test server's runtime: enough for a few concurrent ranged GETs without
/// competing with the code under test on a small machine.
const SERVER_WORKERS: usize = 2;

/// Builds the S3 HTTP service over the directory `root`, accepting only requests signed with
/// `access_key` / `secret_key`.
///
/// Each top-level directory of `root` is a bucket; objects are files below it. `s3s-fs` keeps
/// its own bookkeeping (ETags, user metadata, multipart parts) in dot-files directly in `root`.
pub fn s3_service(root: &Path, access_key: &str, secret_key: &str) -> anyhow::Result<S3Service> {
    let root = root
        .canonicalize()
        .with_context(|| format!("open S3 root directory {}", root.display()))?;
    let store = store::FileStore::new(&root)?;
    let mut builder = S3ServiceBuilder::new(store);
    builder.set_auth(SimpleAuth::from_single(access_key, secret_key));
    Ok(builder.build())
}

/// Serves `service` on every connection `listener` accepts, until the future is dropped.
///
/// Each connection runs in its own task (HTTP/1.1 with keep-alive, or HTTP/2). A failed
/// `accept` (for example too many open files) is logged and the loop goes on.
pub async fn serve_connections(listener: TcpListener, service: S3Service) {
    loop {
        let socket = match listener.accept().await {
            Ok((socket, _peer)) => socket,
            Err(error) => {
                tracing::warn!(%error, "S3 server: accept failed");
                // Back off a little so a persistent error (EMFILE) does not spin a core.
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        // As every real S3 endpoint: without TCP_NODELAY, a body's last partial segment
        // waits for the client's delayed ACK (Nagle), which stalled every small object's GET
        // for milliseconds and made the server, not the client, the limit of a restore of
        // many small files (curl at 32 in flight: 4.9 s for 10,201 objects, 1.4 s with it).
        if let Err(error) = socket.set_nodelay(true) {
            tracing::debug!(%error, "S3 server: could not set TCP_NODELAY");
        }
        let service = service.clone();
        tokio::spawn(async move {
            let builder = ConnBuilder::new(TokioExecutor::new());
            if let Err(error) = builder
                .serve_connection(TokioIo::new(socket), service)
                .await
            {
                tracing::debug!(%error, "S3 server: connection ended with an error");
            }
        });
    }
}

/// A running S3 server on `127.0.0.1`, serving the directory it was started on.
///
/// The server runs on a thread and runtime of its own, so it works the same from sync and
/// async tests. Dropping the handle stops it and closes its port. The files stay: they belong
/// to whoever owns `root` (usually a test's temp dir).
///
/// ```no_run
/// # fn main() -> anyhow::Result<()> {
/// let dir = tempfile::tempdir()?;
/// let s3 = ferry_testkit::S3Server::start(dir.path())?;
/// s3.create_bucket("backups")?;
/// s3.put_object("backups", "full/xtrabackup_checkpoints", b"backup_type = full-backuped\n")?;
/// let mut cmd = std::process::Command::new("aws");
/// cmd.envs(s3.env_vars()).args(["s3", "ls", "s3://backups/", "--recursive"]);
/// # Ok(()) }
/// ```
pub struct S3Server {
    root: PathBuf,
    addr: SocketAddr,
    access_key: String,
    secret_key: String,
    _runtime: BackgroundRuntime,
}

impl std::fmt::Debug for S3Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Server")
            .field("root", &self.root)
            .field("addr", &self.addr)
            .field("access_key", &self.access_key)
            .finish_non_exhaustive()
    }
}

impl S3Server {
    /// Starts a server on `127.0.0.1` with a free port, serving `root` (created if missing),
    /// with the fixed test credentials [`TEST_ACCESS_KEY`] / [`TEST_SECRET_KEY`].
    pub fn start(root: &Path) -> anyhow::Result<S3Server> {
        std::fs::create_dir_all(root)
            .with_context(|| format!("create S3 root directory {}", root.display()))?;
        let root = root
            .canonicalize()
            .with_context(|| format!("resolve S3 root directory {}", root.display()))?;
        let service = s3_service(&root, TEST_ACCESS_KEY, TEST_SECRET_KEY)?;
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .context("bind the S3 server to a free port on 127.0.0.1")?;
        let addr = listener
            .local_addr()
            .context("read the S3 server's bound address")?;
        listener
            .set_nonblocking(true)
            .context("make the S3 server's listener non-blocking")?;
        let runtime = BackgroundRuntime::start("ferry-s3-server", SERVER_WORKERS, move || {
            let listener = TcpListener::from_std(listener)
                .context("register the S3 server's listener with tokio")?;
            Ok(serve_connections(listener, service))
        })?;
        tracing::debug!(%addr, root = %root.display(), "S3 server started");
        Ok(S3Server {
            root,
            addr,
            access_key: TEST_ACCESS_KEY.to_owned(),
            secret_key: TEST_SECRET_KEY.to_owned(),
            _runtime: runtime,
        })
    }

    /// The socket address the server listens on (what a [`crate::FaultProxy`] forwards to).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The endpoint URL for clients, `http://127.0.0.1:PORT` (path-style addressing).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The access key the server accepts.
    pub fn access_key(&self) -> &str {
        &self.access_key
    }

    /// The secret key the server accepts.
    pub fn secret_key(&self) -> &str {
        &self.secret_key
    }

    /// The region clients should sign for.
    pub fn region(&self) -> &str {
        TEST_REGION
    }

    /// The directory served (canonical path): buckets are its subdirectories.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Creates bucket `name` (a directory under the root). Creating an existing bucket is not
    /// an error.
    pub fn create_bucket(&self, name: &str) -> anyhow::Result<()> {
        objects::create_bucket(&self.root, name)
    }

    /// Stores `data` as object `key` in `bucket`, with the ETag bookkeeping `s3s-fs` expects.
    pub fn put_object(&self, bucket: &str, key: &str, data: &[u8]) -> anyhow::Result<()> {
        objects::put_bytes(&self.root, bucket, key, data)
    }

    /// Copies every regular file under `local_dir` (recursively, following symlinks) into
    /// `bucket` under `prefix`: `local_dir/a/b` becomes key `prefix/a/b` (or `a/b` for an
    /// empty prefix). Returns how many objects were written.
    ///
    /// Files are copied, not linked, so a test that later overwrites or corrupts an object
    /// cannot damage the fixture it came from. Each object's MD5 is recorded as its ETag, as a
    /// PUT through the API would do, so GETs need not hash the whole file again.
    pub fn put_tree(&self, bucket: &str, prefix: &str, local_dir: &Path) -> anyhow::Result<usize> {
        objects::put_tree(&self.root, bucket, prefix, local_dir)
    }

    /// Where object `key` of `bucket` lives on disk (whether or not it exists yet).
    pub fn object_path(&self, bucket: &str, key: &str) -> anyhow::Result<PathBuf> {
        objects::object_path(&self.root, bucket, key)
    }

    /// Environment for a child process (the AWS CLI, `ferry`) to reach this server:
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION` (and `AWS_DEFAULT_REGION`,
    /// which AWS CLI v1 reads), `AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP=true` (object_store refuses
    /// plain-HTTP endpoints without it) and `AWS_EC2_METADATA_DISABLED=true` (so no client
    /// probes the instance-metadata address for credentials).
    pub fn env_vars(&self) -> Vec<(String, String)> {
        self.env_vars_via(&self.endpoint())
    }

    /// Like [`S3Server::env_vars`], but pointing clients at `endpoint` instead, for example a
    /// [`crate::FaultProxy`] in front of this server.
    pub fn env_vars_via(&self, endpoint: &str) -> Vec<(String, String)> {
        client_env(endpoint, &self.access_key, &self.secret_key)
    }
}

/// The environment a client needs to reach an S3 endpoint with the given key pair.
pub(crate) fn client_env(
    endpoint: &str,
    access_key: &str,
    secret_key: &str,
) -> Vec<(String, String)> {
    [
        ("AWS_ACCESS_KEY_ID", access_key),
        ("AWS_SECRET_ACCESS_KEY", secret_key),
        ("AWS_REGION", TEST_REGION),
        ("AWS_DEFAULT_REGION", TEST_REGION),
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}
