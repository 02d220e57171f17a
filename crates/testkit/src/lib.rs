//! Test and benchmark support for ferry: real servers on loopback, fault injection, fixtures.
//!
//! ferry is tested against real things, never mocks of its own code. This crate provides them:
//!
//! - [`S3Server`]: a file-backed S3-protocol server (`s3s-fs`) that verifies every request's
//!   SigV4 signature, on its own thread, for sync and async tests alike; the `ferry-s3`
//!   binary runs the same server for the benchmark script.
//! - [`FaultProxy`]: an HTTP proxy in front of it that injects the failures real networks
//!   produce (5xx answers, connections reset or closed mid-body, stalled bodies) exactly as a
//!   [`FaultPlan`] says, and counts them.
//! - [`TcpFaultProxy`]: a TCP forwarder for long-lived links (a replica's binlog dump) that a
//!   test cuts (RST), refuses or blackholes and restores at will, counting what it did.
//! - [`Browser`]: Debian's headless Chromium driven through chromedriver (WebDriver, with
//!   `fantoccini`), screenshots written where the test says, for the web console's tests.
//! - [`http`]: a small HTTP/1.1 client that signs in to the console and reads its pages.
//! - [`fixtures_dir`] and small helpers ([`free_port`], [`short_tempdir`], [`venv_bin`]).
//!
//! It is used as a dev-dependency only; errors are `anyhow` since callers are tests.

mod browser;
mod fault_proxy;
mod fixtures;
pub mod http;
mod mariadb;
mod runtime;
mod s3_server;
mod tls;

pub use browser::Browser;
pub use fault_proxy::{
    Fault, FaultEvent, FaultPlan, FaultProxy, FaultRule, FaultStats, LinkMode, Schedule,
    TcpFaultProxy, TcpProxyStats,
};
pub use fixtures::{fixtures_dir, free_port, repo_root, short_tempdir, venv_bin, FIXTURES_ENV};
pub use mariadb::{TestServer, TestServerOptions, BINLOG_BASENAME};
pub use s3_server::{
    s3_service, serve_connections, S3Server, TEST_ACCESS_KEY, TEST_REGION, TEST_SECRET_KEY,
};
pub use tls::{TestCa, TestIdentity, TestPki};
