//! `ferry-engine`: one MySQL-compatible server process and the vendor tools around it.
//!
//! ferry's data plane is real MariaDB (or MySQL) processes. This crate is the only place that
//! knows how to find those programs ([`toolbox`]), run any child process safely ([`process`]),
//! prepare a physical backup with the vendor's tool ([`prepare`]), create a datadir
//! ([`datadir`]), render a server's configuration ([`config`]) and start, probe, watch and stop
//! a server ([`server`]), and set up what a server needs before it is handed out: ferry's admin
//! account, the master user and the time zone tables ([`accounts`]). It knows nothing about
//! object storage, backup formats or clusters.
//!
//! Everything is async on tokio. Errors are [`EngineError`].

pub mod accounts;
pub mod config;
pub mod datadir;
mod error;
pub mod os_user;
pub mod prepare;
pub mod process;
pub mod sandbox;
pub mod server;
pub mod toolbox;

pub use accounts::{
    bootstrap_admin, load_time_zones, set_master_user, set_password, AdminAccount,
    MasterUserReport, TimeZoneReport,
};
pub use config::{BinlogConfig, BinlogFormat, ServerConfig};
pub use datadir::{init_datadir, redo_log_size, set_root_password, InitOptions, RootAuth};
pub use error::EngineError;
pub use os_user::OsUser;
pub use prepare::{prepare, PrepareOptions, PrepareReport};
pub use process::{
    run_to_completion, stop_left_behind, ChildGuard, LeftBehind, Output, ProcessError, ProcessSpec,
    Stopped,
};
pub use sandbox::SandboxSpec;
pub use server::{is_login_refused, ReadyProbe, RunningServer, Server, ServerStatus};
pub use toolbox::{BackupFlavor, Flavor, ToolKind, Toolbox, Version};

/// Whether ferry runs with effective uid 0, in which case `mariadbd` and
/// `mariadb-install-db` need `--user=root`.
pub fn running_as_root() -> bool {
    // SAFETY: geteuid(2) takes no arguments, cannot fail and touches no memory of ours.
    unsafe { libc::geteuid() == 0 }
}
