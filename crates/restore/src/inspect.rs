//! `ferry backup inspect`: discover and validate the backup sets under a source without
//! restoring anything, and say what a restore would do.
//!
//! Directory sets cost three small GETs each (their metadata files). A stream set has its
//! metadata inside the stream, so the stream is read through the unpacker with a sink that
//! keeps only the metadata files and writes nothing (an uncompressed xbstream is first tried
//! from its last 2 MiB). The metadata files are kept at any depth: an archive holding a
//! backup tree shows each set it holds, named `archive:prefix`. Reading a compressed archive
//! costs one pass over all its bytes (download and decompression, nothing written): a tar.gz
//! has no index, and tar writes the metadata wherever the directory walk put it.

use std::sync::Arc;

use ferry_backup::chain::{self, SetMeta};
use ferry_backup::discover::{archive_set_name, SetLayout, SetSource};
use ferry_backup::format::{Compression, Container};
use ferry_backup::meta::{BackupType, BinlogInfo};
use ferry_backup::sink::MetaSink;
use futures::stream::{self, StreamExt};

use crate::error::RestoreError;
use crate::fetch::{FetchOptions, Fetcher};
use crate::listing::Listing;
use crate::metadata;
use crate::progress::{Phase, Progress};
use crate::restore::discover_sets;
use crate::sets;
use crate::source::Source;

/// One backup set as inspect reports it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SetReport {
    pub name: String,
    /// The archive holding this set under a directory prefix (`name` is then
    /// `archive:prefix`); `None` for a directory set and a set at an archive's root.
    pub archive: Option<String>,
    /// `full`, `incremental`, or `unknown` when its metadata could not be read.
    pub kind: String,
    /// `directory`, `xbstream`, `tar`, `tar.gz`, `xbstream.zst`, ...
    pub format: String,
    pub parts: usize,
    pub bytes: u64,
    pub backup_type: Option<String>,
    pub from_lsn: Option<u64>,
    pub to_lsn: Option<u64>,
    pub last_lsn: Option<u64>,
    pub partial: Option<bool>,
    pub server_version: Option<String>,
    pub tool: Option<String>,
    pub end_time: Option<String>,
    pub binlog: Option<BinlogInfo>,
    /// Why the metadata could not be read, if it could not.
    pub error: Option<String>,
}

/// The whole inspect answer (`--json` prints this).
#[derive(Debug, Clone, serde::Serialize)]
pub struct InspectReport {
    pub source: String,
    pub sets: Vec<SetReport>,
    /// Set names in apply order (base first), when a chain could be planned.
    pub chain: Vec<String>,
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
    /// Objects under the prefix that belong to no set.
    pub ignored: Vec<String>,
    pub problems: Vec<String>,
    pub restorable: bool,
}

/// Reads a directory set's metadata files straight from the source.
pub(crate) async fn directory_set_meta(
    source: &Source,
    fetcher: &Fetcher,
    set: &SetSource,
    listing: &Listing,
) -> Result<SetMeta, RestoreError> {
    let SetLayout::Directory { root, files } = &set.layout else {
        unreachable!("directory_set_meta is only called for directory sets")
    };
    // Only the metadata files are made into fetchable objects, not the whole set.
    let mut found: Vec<(String, Vec<u8>)> = Vec::new();
    for name in metadata::CHECKPOINTS
        .iter()
        .chain(metadata::INFO.iter())
        .chain(metadata::BINLOG_INFO.iter())
    {
        let key = format!("{root}{name}");
        if let Some(file) = files.iter().find(|f| f.key == key) {
            let obj = sets::remote_object(source, file, &listing.etags);
            let bytes = fetcher.fetch_range(&obj, 0..obj.size).await?;
            found.push((name.to_string(), bytes.to_vec()));
        }
    }
    metadata::set_meta(&set.name, |name| {
        Ok(found
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.clone()))
    })
}

/// What a listed set holds: one backup set for a directory, one or more for an archive, each
/// named, with its metadata or why it cannot be read.
type Found = Vec<(String, Result<SetMeta, RestoreError>)>;

/// The backup sets an archive holds, from its metadata files at any depth ([`MetaSink`] keeps
/// them by member path). A stream without a checkpoints file anywhere is one set named by the
/// archive whose checkpoints are missing.
async fn stream_set_meta(
    source: &Source,
    fetcher: &Fetcher,
    set: &SetSource,
    listing: &Listing,
) -> Result<(Found, Vec<String>), RestoreError> {
    let objects = sets::set_objects(source, set, &listing.etags);
    if let Some(meta) = xbstream_tail_meta(fetcher, set, &objects).await? {
        return Ok((vec![(set.name.clone(), Ok(meta))], Vec::new()));
    }
    let window = fetcher.options().parallel.max(2);
    let (sink, warnings) =
        sets::fetch_stream_set(fetcher, set, objects, window, || Ok(MetaSink::discard())).await?;
    let mut prefixes = sink.set_prefixes();
    if prefixes.is_empty() {
        prefixes.push(String::new());
    }
    let found = prefixes
        .iter()
        .map(|prefix| {
            let name = archive_set_name(&set.name, prefix);
            let meta = metadata::set_meta(&name, |file| {
                Ok(sink.captured_in(prefix, file).map(|b| b.to_vec()))
            });
            (name, meta)
        })
        .collect();
    Ok((found, warnings))
}

/// How much of an uncompressed xbstream's end is read to find its metadata.
const TAIL_BYTES: u64 = 2 << 20;

/// The metadata of an uncompressed xbstream set from its last bytes, when they hold it whole
/// (they do for xtrabackup and mariabackup streams, which write metadata last). `None` means
/// "read the whole stream".
async fn xbstream_tail_meta(
    fetcher: &Fetcher,
    set: &SetSource,
    objects: &[crate::fetch::RemoteObject],
) -> Result<Option<SetMeta>, RestoreError> {
    let SetLayout::Stream { format, .. } = &set.layout else {
        return Ok(None);
    };
    if format.compression != Compression::None || format.container != Some(Container::Xbstream) {
        return Ok(None);
    }
    // The last TAIL_BYTES of the concatenated parts.
    let total: u64 = objects.iter().map(|o| o.size).sum();
    let tail_start = total.saturating_sub(TAIL_BYTES);
    let mut tail = Vec::with_capacity((total - tail_start) as usize);
    let mut start = 0u64;
    for obj in objects {
        let end = start + obj.size;
        if end > tail_start && obj.size > 0 {
            let from = tail_start.saturating_sub(start);
            tail.extend_from_slice(&fetcher.fetch_range(obj, from..obj.size).await?);
        }
        start = end;
    }
    let found = ferry_backup::tailscan::scan_xbstream_tail(&tail);
    let meta = match metadata::set_meta(&set.name, |name| Ok(found.get(name).cloned())) {
        Ok(m) => m,
        Err(_) => return Ok(None),
    };
    let complete = match &meta.info {
        None => false,
        // Without binlog info in the tail, trust it only if the backup recorded no position.
        Some(info) => meta.binlog.is_some() || info.binlog_pos.trim().is_empty(),
    };
    if complete {
        tracing::info!(set = %set.name, tail_bytes = tail.len(), "metadata read from the stream's tail");
    }
    Ok(complete.then_some(meta))
}

/// A problem line for `set`: the error's own text when it already names the set (it starts
/// with "backup set NAME"), else that text after the set's name, so the name appears once.
fn about_set(set: &str, e: &RestoreError) -> String {
    match e {
        RestoreError::Unpack { set: named, .. }
        | RestoreError::Metadata { set: named, .. }
        | RestoreError::Prepare { set: named, .. }
            if named == set =>
        {
            e.to_string()
        }
        _ => format!("backup set {set}: {e}"),
    }
}

/// The row of backup set `name`, found in the listed set `set` (itself, or the archive that
/// holds it: then `archive` names it, and `parts` and `bytes` are the archive's).
fn report_for(set: &SetSource, name: &str, meta: Result<&SetMeta, String>) -> SetReport {
    let mut r = SetReport {
        name: name.to_string(),
        archive: (name != set.name).then(|| set.name.clone()),
        kind: "unknown".into(),
        format: set.kind_label().to_string(),
        parts: set.part_count(),
        bytes: set.total_bytes(),
        backup_type: None,
        from_lsn: None,
        to_lsn: None,
        last_lsn: None,
        partial: None,
        server_version: None,
        tool: None,
        end_time: None,
        binlog: None,
        error: None,
    };
    match meta {
        Err(e) => r.error = Some(e),
        Ok(m) => {
            let cp = &m.checkpoints;
            r.kind = if cp.from_lsn.0 == 0 && cp.backup_type != BackupType::Incremental {
                "full".into()
            } else {
                "incremental".into()
            };
            r.backup_type = Some(cp.backup_type.to_string());
            r.from_lsn = Some(cp.from_lsn.0);
            r.to_lsn = Some(cp.to_lsn.0);
            r.last_lsn = Some(cp.last_lsn.0);
            if let Some(info) = &m.info {
                r.partial = Some(info.partial_reason().is_some());
                r.server_version = Some(info.server_version.clone());
                r.tool = Some(format!("{} {}", info.tool_name, info.tool_version));
                r.end_time = Some(info.end_time.clone());
            }
            r.binlog = m.binlog.clone();
        }
    }
    r
}

/// The metadata of one listed set (an archive may hold several backup sets).
async fn set_meta_of(
    source: &Source,
    fetcher: &Fetcher,
    set: &SetSource,
    listing: &Listing,
    progress: &Progress,
) -> Result<(Found, Vec<String>), RestoreError> {
    let r = match set.layout {
        SetLayout::Directory { .. } => {
            let meta = directory_set_meta(source, fetcher, set, listing).await;
            Ok((vec![(set.name.clone(), meta)], Vec::new()))
        }
        SetLayout::Stream { .. } => stream_set_meta(source, fetcher, set, listing).await,
    };
    progress.set_done();
    r
}

pub async fn inspect(
    source: &Source,
    fetch: FetchOptions,
    progress: Arc<Progress>,
) -> Result<InspectReport, RestoreError> {
    inspect_with(source, fetch, progress, None).await
}

/// [`inspect`], every listed object passing `gate` first (the control plane's pre-flight
/// reads the backup as the ingestion role may, as the restore would).
pub async fn inspect_with(
    source: &Source,
    fetch: FetchOptions,
    progress: Arc<Progress>,
    gate: Option<&crate::listing::ObjectGate>,
) -> Result<InspectReport, RestoreError> {
    let (discovery, listing) = discover_sets(source, &progress, gate).await?;
    let fetcher = Fetcher::new(source.store.clone(), fetch, progress.clone());
    let stream_bytes: u64 = discovery
        .sets
        .iter()
        .filter(|s| matches!(s.layout, SetLayout::Stream { .. }))
        .map(|s| s.total_bytes())
        .sum();
    progress.set_totals(stream_bytes, discovery.sets.len() as u64);
    progress.set_phase(Phase::Download, "reading backup metadata");

    // The futures are made up front by a named function, not by a closure inside the
    // stream: a closure over borrowed sets would make this future `Send` only for one
    // lifetime, and the control plane's pre-flight runs it in a request handler.
    let reads: Vec<_> = discovery
        .sets
        .iter()
        .map(|set| set_meta_of(source, &fetcher, set, &listing, &progress))
        .collect();
    let results: Vec<Result<(Found, Vec<String>), RestoreError>> =
        stream::iter(reads).buffered(2).collect().await;

    let mut problems: Vec<String> = discovery.problems.iter().map(|p| p.to_string()).collect();
    let mut set_reports = Vec::new();
    let mut metas = Vec::new();
    let mut warnings = discovery.warnings.clone();
    for (set, res) in discovery.sets.iter().zip(results) {
        // A failure to read the whole archive is about the listed set itself.
        let (found, w) = res.unwrap_or_else(|e| (vec![(set.name.clone(), Err(e))], Vec::new()));
        warnings.extend(w);
        for (name, meta) in found {
            match meta {
                Ok(m) => {
                    set_reports.push(report_for(set, &name, Ok(&m)));
                    metas.push(m);
                }
                Err(e) => {
                    // Transport failures are not a verdict on the backup: surface them as
                    // errors.
                    if let RestoreError::Fetch { kind, .. } = &e {
                        if kind.is_retryable() {
                            return Err(e);
                        }
                    }
                    problems.push(about_set(&name, &e));
                    // The report row carries the set's name already.
                    let text = e.to_string();
                    let prefix = format!("backup set {name}: ");
                    let text = text
                        .strip_prefix(&prefix)
                        .map(str::to_string)
                        .unwrap_or(text);
                    set_reports.push(report_for(set, &name, Err(text)));
                }
            }
        }
    }
    let mut chain_names = Vec::new();
    let mut notes = Vec::new();
    if problems.is_empty() && !metas.is_empty() {
        match chain::plan(&metas) {
            Ok(plan) => {
                chain_names.push(metas[plan.base].name.clone());
                chain_names.extend(plan.incrementals.iter().map(|&i| metas[i].name.clone()));
                notes = plan.notes;
            }
            Err(ps) => problems.extend(ps.iter().map(|p| p.to_string())),
        }
    }
    progress.set_phase(Phase::Done, "inspected");
    Ok(InspectReport {
        source: source.url.display(),
        sets: set_reports,
        chain: chain_names,
        notes,
        warnings,
        ignored: discovery.ignored.clone(),
        restorable: problems.is_empty(),
        problems,
    })
}
