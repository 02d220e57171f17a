//! `ferry-control`: the control plane's domain.
//!
//! Clusters and instances with their lifecycles ([`model`]), the rules RDS applies to names
//! and parameters ([`validate`]), the metadata store in SQLite ([`store`]), the on-disk layout
//! ([`layout`]), the `ferry serve` configuration and where buckets live ([`config`]), and the
//! [`service::ControlPlane`] that runs it all: operations behind the API, restore jobs
//! ([`jobs`]) and the instance supervisor ([`supervisor`]).

pub mod auth;
pub mod config;
mod credentials;
mod ctx;
pub mod error;
mod events;
pub mod iam;
mod identity;
pub mod instance_class;
mod jobs;
pub mod layout;
mod leftovers;
pub mod model;
pub mod replication;
pub mod requests;
mod samples;
mod secrets;
pub mod service;
pub mod store;
mod supervisor;
pub mod validate;
mod volume;

pub use auth::Principal;
pub use error::ControlError;
pub use samples::{LagPoint, HISTORY_POINTS};
pub use service::{ClusterView, ControlPlane, InstanceView, Page};
