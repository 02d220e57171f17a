//! ferry's wire protocols: the AWS Query protocol (the RDS subset ferry implements) over HTTP,
//! authenticated with AWS Signature Version 4.
//!
//! The building blocks here know nothing about clusters or instances: [`sigv4`] signs and
//! verifies requests, [`params`] reads Query-protocol parameters, [`xml`] writes responses and
//! AWS error documents, and [`client`] is ferry's own signed client of the API. The action
//! handlers ([`rds`]) and the HTTP server ([`server`]) join them to the control plane;
//! [`error`] is the one mapping from failures to HTTP status and AWS error code.

pub mod client;
pub mod error;
pub mod iam;
pub mod ingestion;
pub mod params;
pub mod rds;
pub mod replication;
pub mod server;
pub mod sigv4;
pub mod sts;
pub mod xml;
