//! Reading a set's xtrabackup metadata (checkpoints, info, binlog info) from the bytes of
//! its files, wherever they came from (a staged directory, a stream scan, a direct GET).

use ferry_backup::chain::SetMeta;
use ferry_backup::meta::{BinlogInfo, Checkpoints, Info};

use crate::error::RestoreError;

/// File names, newest MariaDB (11.1+) spelling last.
pub use ferry_backup::meta::{
    BINLOG_INFO_FILES as BINLOG_INFO, CHECKPOINTS_FILES as CHECKPOINTS, INFO_FILES as INFO,
};

/// Builds a [`SetMeta`] with `read(name)` returning a file's bytes when it exists.
pub fn set_meta(
    set: &str,
    mut read: impl FnMut(&str) -> Result<Option<Vec<u8>>, RestoreError>,
) -> Result<SetMeta, RestoreError> {
    let mut first =
        |names: [&'static str; 2]| -> Result<Option<(&'static str, String)>, RestoreError> {
            for n in names {
                if let Some(bytes) = read(n)? {
                    return Ok(Some((n, String::from_utf8_lossy(&bytes).into_owned())));
                }
            }
            Ok(None)
        };
    let meta_err = |file: &str, reason: String| RestoreError::Metadata {
        set: set.to_string(),
        file: file.to_string(),
        reason,
    };
    let (cp_name, cp_text) = first(CHECKPOINTS)?
        .ok_or_else(|| meta_err("xtrabackup_checkpoints", "missing from the set".into()))?;
    let checkpoints = Checkpoints::parse(&cp_text).map_err(|e| meta_err(cp_name, e.to_string()))?;
    let info = match first(INFO)? {
        Some((n, text)) => Some(Info::parse(&text).map_err(|e| meta_err(n, e.to_string()))?),
        None => None,
    };
    let binlog = match first(BINLOG_INFO)? {
        Some((n, text)) => BinlogInfo::parse(&text).map_err(|e| meta_err(n, e.to_string()))?,
        None => None,
    };
    Ok(SetMeta {
        name: set.to_string(),
        checkpoints,
        info,
        binlog,
    })
}

/// [`set_meta`] over a local directory.
pub fn set_meta_from_dir(set: &str, dir: &std::path::Path) -> Result<SetMeta, RestoreError> {
    set_meta(set, |name| {
        let path = dir.join(name);
        match std::fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(RestoreError::Metadata {
                set: set.to_string(),
                file: name.to_string(),
                reason: e.to_string(),
            }),
        }
    })
}
