//! ferry-backup: the formats of Percona XtraBackup / mariabackup backups and the planning of a
//! restore chain, as pure code over `std::io::Read` (no network, no async, no policy).
//!
//! * [`path`]: member paths, validated once ([`path::SafePath`]).
//! * [`format`], [`parts`], [`discover`]: from an object listing to backup sets.
//! * [`meta`]: `xtrabackup_checkpoints`, `_info`, `_binlog_info`.
//! * [`sink`], [`xbstream`], [`tarball`], [`unpack`]: streaming extraction.
//! * [`chain`]: base + incrementals in LSN order, and every reason to refuse.
//! * [`qpress`]: the `.qp` files of `mariabackup --compress`.
//!
//! `docs/backup-formats.md` in the shared documentation is the byte-level reference.

pub mod chain;
pub mod discover;
pub mod format;
pub mod meta;
pub mod parts;
pub mod path;
pub mod qpress;
pub mod sink;
pub mod tailscan;
pub mod tarball;
pub mod unpack;
pub mod xbstream;
