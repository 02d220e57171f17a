//! Binlog replication into a ferry cluster (issue 4).
//!
//! The master user of a cluster has no `SUPER` and cannot run `CHANGE MASTER`; the
//! `mysql.rds_*` procedures are its only door, as on RDS. In ferry they are thin
//! `SQL SECURITY DEFINER` routines owned by ferry's admin account that hand each call to a
//! ferry-side agent through a private in-memory request table and wait for its answer: the
//! logic, validation (SSL material needs real X.509 parsing) and file writing happen in Rust.

pub mod agent;
pub mod cutover;
pub mod error;
pub mod lag;
pub mod monitor;
pub mod procedures;
pub mod source;
pub mod ssl;
pub mod status;
pub mod view;

pub use error::ReplicationError;
