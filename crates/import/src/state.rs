//! Resume: the progress file (JSON, written atomically) and the import's state in the target.
//!
//! The file records the dump's identity, the target, the last DDL statement done (by its
//! `end` offset), the objects done, and the data units done as last seen. The target holds
//! the truth for data units: a worker inserts its unit's id into
//! `ferry_import_state.units` inside the unit's own transaction, so a unit is recorded done
//! exactly when its rows are committed, whatever crashes (ferry or the server).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use camino::Utf8Path;
use mysql_async::prelude::Queryable as _;
use mysql_async::Conn;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ImportError;
use crate::Phase;

/// The schema the loader keeps its state in, in the target (dropped when the import ends).
pub(crate) const STATE_SCHEMA: &str = "ferry_import_state";
/// Bytes of the dump hashed for its identity.
pub(crate) const HEAD_BYTES: usize = 64 << 10;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DumpIdentity {
    pub path: String,
    pub size: Option<u64>,
    /// Seconds since the epoch.
    pub mtime: Option<u64>,
    /// SHA-256 of the first 64 KiB (decompressed), hex.
    pub head_sha256: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct StateFile {
    pub version: u32,
    pub import_id: String,
    pub dump: DumpIdentity,
    /// `user@host:port`
    pub target: String,
    pub unit_bytes: u64,
    pub database: Option<String>,
    pub phase: Phase,
    /// `end` of the last DDL statement done in dump order (0: none).
    pub ddl_done_end: u64,
    /// `end` of the last deferred object created (objects are created in dump order).
    pub objects_done_end: u64,
    /// Units (by their first statement's offset) known done when this was written; the
    /// target's `ferry_import_state.units` is authoritative.
    pub units_done: BTreeSet<u64>,
}

impl StateFile {
    pub fn load(path: &Path) -> Result<Option<StateFile>, ImportError> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                ImportError::State(format!(
                    "progress file {} is not readable ({e}); remove it or pass --fresh",
                    path.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ImportError::io(format!("read {}", path.display()), e)),
        }
    }

    /// Temp file + fsync + rename + fsync of the directory.
    pub fn save(&self, path: &Path) -> Result<(), ImportError> {
        let json = serde_json::to_vec_pretty(self).expect("the state serializes");
        let utf8 = Utf8Path::from_path(path).ok_or_else(|| {
            ImportError::State(format!(
                "progress file path {} is not UTF-8",
                path.display()
            ))
        })?;
        ferry_base::fs::write_private_file(utf8, &json)
            .map_err(|e| ImportError::io(format!("write progress file {}", path.display()), e))
    }

    pub fn remove(path: &Path) -> Result<(), ImportError> {
        match std::fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(ImportError::io(format!("remove {}", path.display()), e)),
        }
    }
}

/// Reads the dump's first [`HEAD_BYTES`] for its identity; returns them to be read again.
pub(crate) fn identify(
    input: &mut dyn Read,
    source_name: &str,
    size: Option<u64>,
) -> Result<(DumpIdentity, Vec<u8>), ImportError> {
    let mut head = Vec::with_capacity(HEAD_BYTES);
    input
        .take(HEAD_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(|e| ImportError::io(format!("read {source_name}"), e))?;
    let digest = Sha256::digest(&head);
    let head_sha256 = digest.iter().map(|b| format!("{b:02x}")).collect();
    let (path, mtime, size) = if source_name == "-" {
        ("-".to_owned(), None, size)
    } else {
        let meta = std::fs::metadata(source_name).ok();
        let path = std::fs::canonicalize(source_name)
            .unwrap_or_else(|_| PathBuf::from(source_name))
            .display()
            .to_string();
        let mtime = meta
            .as_ref()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs());
        (path, mtime, size.or(meta.map(|m| m.len())))
    };
    Ok((
        DumpIdentity {
            path,
            size,
            mtime,
            head_sha256,
        },
        head,
    ))
}

/// Why a progress file does not fit this run, or None when it does.
pub(crate) fn mismatch(
    state: &StateFile,
    dump: &DumpIdentity,
    target: &str,
    unit_bytes: u64,
    database: &Option<String>,
) -> Option<String> {
    if state.dump != *dump {
        return Some(format!(
            "it is for dump {} ({} bytes, first 64 KiB {}), not this one ({} bytes, {})",
            state.dump.path,
            state.dump.size.map_or("?".into(), |s| s.to_string()),
            &state.dump.head_sha256[..12.min(state.dump.head_sha256.len())],
            dump.size.map_or("?".into(), |s| s.to_string()),
            &dump.head_sha256[..12],
        ));
    }
    if state.target != target {
        return Some(format!("it is for target {}, not {target}", state.target));
    }
    if state.unit_bytes != unit_bytes {
        return Some(format!(
            "it was made with units of {} bytes, not {unit_bytes}",
            state.unit_bytes
        ));
    }
    if state.database != *database {
        return Some(format!(
            "it was made with --database {:?}, not {database:?}",
            state.database
        ));
    }
    None
}

/// Creates the target's state schema afresh for import `id`.
pub(crate) async fn create_target_state(
    conn: &mut Conn,
    id: &str,
) -> Result<(), mysql_async::Error> {
    conn.query_drop(format!("DROP DATABASE IF EXISTS {STATE_SCHEMA}"))
        .await?;
    conn.query_drop(format!("CREATE DATABASE {STATE_SCHEMA}"))
        .await?;
    conn.query_drop(format!(
        "CREATE TABLE {STATE_SCHEMA}.import (id VARCHAR(64) NOT NULL PRIMARY KEY) ENGINE=InnoDB"
    ))
    .await?;
    conn.query_drop(format!(
        "CREATE TABLE {STATE_SCHEMA}.units (unit BIGINT UNSIGNED NOT NULL PRIMARY KEY, \
         `rows` BIGINT UNSIGNED NOT NULL) ENGINE=InnoDB"
    ))
    .await?;
    conn.exec_drop(
        format!("INSERT INTO {STATE_SCHEMA}.import (id) VALUES (?)"),
        (id,),
    )
    .await
}

/// The units the target has committed for import `id`, or an error saying why it cannot
/// continue it.
pub(crate) async fn target_units(
    conn: &mut Conn,
    id: &str,
) -> Result<Result<BTreeMap<u64, u64>, String>, mysql_async::Error> {
    let ids: Vec<String> = match conn
        .query(format!("SELECT id FROM {STATE_SCHEMA}.import"))
        .await
    {
        Ok(ids) => ids,
        Err(mysql_async::Error::Server(e)) if e.code == 1146 || e.code == 1049 => {
            return Ok(Err(format!(
                "the target has no `{STATE_SCHEMA}` schema (was it replaced or restored?)"
            )))
        }
        Err(e) => return Err(e),
    };
    if ids.first().map(String::as_str) != Some(id) {
        return Ok(Err(format!(
            "the target's `{STATE_SCHEMA}` belongs to another import ({})",
            ids.first().map_or("none", String::as_str)
        )));
    }
    let units: Vec<(u64, u64)> = conn
        .query(format!("SELECT unit, `rows` FROM {STATE_SCHEMA}.units"))
        .await?;
    Ok(Ok(units.into_iter().collect()))
}

pub(crate) async fn drop_target_state(conn: &mut Conn) -> Result<(), mysql_async::Error> {
    conn.query_drop(format!("DROP DATABASE IF EXISTS {STATE_SCHEMA}"))
        .await
}
