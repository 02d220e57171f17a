//! `ferry-base`: the few things every ferry crate shares, and nothing about databases'
//! contents, backups, clusters or the API.
//!
//! - [`Secret`]: a string that never shows itself in `Debug` or `Display`;
//! - [`aws_files`]: the AWS CLI's shared credentials and config files, read and written;
//! - [`version::ServerVersion`]: a MySQL/MariaDB version number as servers print it;
//! - [`fs::write_private_file`]: a file only ferry's user may read, never half-written;
//! - [`error::flatten`]: an error and its causes on one line;
//! - [`fail_point!`]: named injection points for crash tests, compiled in only for tests.
//!
//! It depends on no other ferry crate. Anything that needs the engine, the store or a wire
//! protocol belongs in the crate that owns that.

pub mod aws_files;
pub mod error;
pub mod failpoint;
pub mod fs;
mod secret;
pub mod version;

pub use secret::Secret;
