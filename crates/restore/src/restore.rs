//! `ferry backup restore`: the whole pipeline from a source to a prepared datadir.
//!
//! ```text
//! list -> discover sets -> (directory sets: metadata first, refuse early)
//!      -> fetch every set into staging, `sets_parallel` at a time, skipping complete ones;
//!         an archive is unpacked in one streaming pass and may hold several backup sets
//!         (found by their checkpoints at any depth, nested ones moved apart: `archive`)
//!      -> read each backup set's metadata -> chain plan (refuse partial, gaps, ...)
//!      -> prepare the base, then each incremental in LSN order (the engine's tool)
//!      -> rename the prepared base to the target directory -> remove staging
//! ```
//!
//! The target directory appears only when everything succeeded. A failure that says the
//! backup is bad removes staging; a transient one (network, interruption) keeps it so that
//! the same command resumes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ferry_backup::chain::{self, ChainProblem, Plan, SetMeta};
use ferry_backup::discover::{self, Discovery, SetLayout, SetSource};
use ferry_engine::prepare::PrepareOptions;
use ferry_engine::toolbox::Toolbox;
use futures::stream::{self, StreamExt, TryStreamExt};

use crate::archive::{self, StagedSet};
use crate::durable;
use crate::error::RestoreError;
use crate::fetch::{FetchOptions, Fetcher};
use crate::listing;
use crate::metadata;
use crate::pipeline::{self, EarlyDone};
use crate::progress::{Phase, Progress};
use crate::sets;
use crate::source::Source;
use crate::staging::{SetId, Staging};

#[derive(Debug, Clone)]
pub struct RestoreOptions {
    pub target_dir: PathBuf,
    /// Default: [`Staging::default_for`] the target.
    pub staging_dir: Option<PathBuf>,
    pub fetch: FetchOptions,
    /// Backup sets fetched and unpacked at once.
    pub sets_parallel: usize,
    /// Bytes for the backup tool's `--use-memory` (default: the engine's).
    pub prepare_memory: Option<u64>,
    /// Asked for every listed object before anything of it is read.
    pub object_gate: Option<crate::listing::ObjectGate>,
}

impl RestoreOptions {
    pub fn new(target_dir: impl Into<PathBuf>) -> Self {
        RestoreOptions {
            target_dir: target_dir.into(),
            staging_dir: None,
            fetch: FetchOptions::default(),
            sets_parallel: 2,
            prepare_memory: None,
            object_gate: None,
        }
    }
}

/// What a successful restore reports.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RestoreReport {
    pub target_dir: PathBuf,
    /// Set names in the order they were applied (base first).
    pub chain: Vec<String>,
    pub notes: Vec<String>,
    /// Things the user should fix but that did not stop the restore (e.g. a misnamed stream).
    pub warnings: Vec<String>,
    /// Binary log coordinates the data was recovered to: where replication from the source
    /// starts. See [`recovered_coordinates`] for which record they come from.
    pub binlog_file: Option<String>,
    pub binlog_position: Option<u64>,
    /// `xtrabackup_binlog_info` or `prepare`.
    pub binlog_source: Option<String>,
    /// What the last prepare printed as `Last binlog file ..., position ...`: the position of
    /// the last InnoDB commit, which lags behind when non-InnoDB changes (MyISAM, DDL) came last.
    pub innodb_binlog_file: Option<String>,
    pub innodb_binlog_position: Option<u64>,
    /// GTID position from the newest set's `xtrabackup_binlog_info`.
    pub gtid: Option<String>,
    pub server_version: Option<String>,
    pub bytes_downloaded: u64,
    pub bytes_reused: u64,
    /// Objects fetched this run (files of directory sets, parts of stream sets).
    #[serde(default)]
    pub files_downloaded: u64,
    /// Objects reused from an interrupted earlier run.
    #[serde(default)]
    pub files_reused: u64,
    pub retries: u64,
    pub elapsed_secs: f64,
}

/// Refuses a target that exists and is not an empty directory.
fn check_target(target: &Path) -> Result<(), RestoreError> {
    let err = |reason: &str| RestoreError::Target {
        path: target.to_path_buf(),
        reason: reason.to_string(),
    };
    match std::fs::metadata(target) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(err(&e.to_string())),
        Ok(m) if !m.is_dir() => Err(err("exists and is not a directory")),
        Ok(_) => {
            let mut entries = std::fs::read_dir(target).map_err(|e| err(&e.to_string()))?;
            if entries.next().is_some() {
                Err(err(
                    "exists and is not empty; ferry never restores over existing data",
                ))
            } else {
                Ok(())
            }
        }
    }
}

pub(crate) async fn discover_sets(
    source: &Source,
    progress: &Progress,
    gate: Option<&listing::ObjectGate>,
) -> Result<(Discovery, listing::Listing), RestoreError> {
    discover_sets_with(source, progress, gate, |_, _| {}).await
}

/// [`discover_sets`], handing each object to `each` as the listing goes.
async fn discover_sets_with(
    source: &Source,
    progress: &Progress,
    gate: Option<&listing::ObjectGate>,
    each: impl FnMut(&ferry_backup::discover::ObjectEntry, &Option<String>),
) -> Result<(Discovery, listing::Listing), RestoreError> {
    progress.set_phase(Phase::Listing, format!("listing {}", source.url.display()));
    let listing = listing::list_each(source, gate, each).await?;
    let discovery = discover::discover(&listing.objects);
    if discovery.sets.is_empty() && discovery.problems.is_empty() {
        return Err(RestoreError::NoSets {
            source_url: source.url.display(),
            objects: listing.objects.len(),
        });
    }
    // The sets hold their own copies of the entries: the flat list is not needed again.
    let mut listing = listing;
    listing.objects = Vec::new();
    Ok((discovery, listing))
}

pub async fn restore(
    source: &Source,
    opts: &RestoreOptions,
    progress: Arc<Progress>,
) -> Result<RestoreReport, RestoreError> {
    // Child processes run in other directories: every path handed on must be absolute.
    let mut opts = opts.clone();
    opts.target_dir = absolute(&opts.target_dir)?;
    if let Some(s) = &opts.staging_dir {
        opts.staging_dir = Some(absolute(s)?);
    }
    let opts = &opts;
    let target = opts.target_dir.clone();
    check_target(&target)?;
    let parent = target.parent().unwrap_or(Path::new("/"));
    std::fs::create_dir_all(parent).map_err(|e| RestoreError::Target {
        path: target.clone(),
        reason: format!("cannot create parent directory: {e}"),
    })?;
    // Before the first byte is written: see `durable`.
    let flush = durable::Flush::begin(parent)?;
    // Fail before downloading anything if the engine's tools are missing.
    let toolbox = Toolbox::discover()
        .await
        .map_err(|e| RestoreError::Engine(e.to_string()))?;

    let fetcher = Fetcher::new(source.store.clone(), opts.fetch.clone(), progress.clone());

    // Directory sets at the prefix or one directory below it are fetched while they are
    // listed (`pipeline`), into a staging area made when the first is found; otherwise
    // staging is made once the listing and the pre-check accepted the backup.
    let (listed, staging) = if source.local {
        let listed = discover_sets(source, &progress, opts.object_gate.as_ref()).await;
        (listed.map(|l| (l, EarlyDone::default())), None)
    } else {
        let open: pipeline::OpenStaging = {
            let (opts, source, target) = (opts.clone(), source.clone(), target.clone());
            Box::new(move || open_staging(&opts, &source, &target))
        };
        let (mut dispatcher, early_fetch) = pipeline::start(
            source,
            &fetcher,
            opts.object_gate.clone(),
            staging_root(opts, &target),
            open,
        );
        // The listing is a request in flight too: it holds one of the `--parallel` slots
        // while the early fetch uses the others.
        let slot = fetcher.limiter().acquire(false).await;
        let listed = discover_sets_with(source, &progress, opts.object_gate.as_ref(), |e, t| {
            dispatcher.on_object(e, t)
        })
        .await;
        drop(slot);
        dispatcher.finish();
        match listed {
            Ok(l) => {
                let (done, st) = early_fetch.finish().await;
                (done.map(|d| (l, d)), st)
            }
            Err(e) => (Err(e), early_fetch.stop().await),
        }
    };
    let prepared = async {
        let ((discovery, listing), early_done) = listed?;
        let files: u64 = early_done.sets.values().map(|s| s.files).sum();
        if files > 0 {
            tracing::info!(files, "fetched while listing");
        }
        ferry_base::fail_point!("restore.after-listing");
        if !discovery.problems.is_empty() {
            return Err(RestoreError::Plan(
                discovery.problems.iter().map(|p| p.to_string()).collect(),
            ));
        }
        // Directory sets: read their metadata before downloading anything, so that a partial
        // backup or a broken chain is refused at once.
        precheck_directory_sets(source, &fetcher, &discovery.sets, &listing).await?;
        Ok((discovery, listing, early_done))
    }
    .await;
    let (discovery, listing, mut early_done, staging) = match (prepared, staging) {
        (Ok((d, l, e)), Some(st)) => (d, l, e, st),
        (Ok((d, l, e)), None) => (d, l, e, open_staging(opts, source, &target)?),
        (Err(e), None) => return Err(e),
        (Err(e), Some(st)) => return Err(settle_failure(st, e)),
    };
    if let Err(e) = early_done.check(&discovery.sets, &staging) {
        return Err(settle_failure(staging, e));
    }

    let result = run(
        source,
        opts,
        &progress,
        &toolbox,
        &fetcher,
        &discovery,
        &listing,
        &staging,
        &early_done,
        flush,
    )
    .await;
    match result {
        Ok(report) => {
            staging.remove()?;
            Ok(report)
        }
        Err(e) => Err(settle_failure(staging, e)),
    }
}

/// Keeps staging for a rerun after a transient failure, removes it otherwise.
fn settle_failure(staging: Staging, e: RestoreError) -> RestoreError {
    if e.keeps_staging() {
        tracing::warn!(
            staging = %staging.root().display(),
            "keeping staging: run the same command again to resume"
        );
    } else if let Err(cleanup) = staging.remove() {
        tracing::error!("{cleanup}");
    }
    e
}

fn staging_root(opts: &RestoreOptions, target: &Path) -> PathBuf {
    opts.staging_dir
        .clone()
        .unwrap_or_else(|| Staging::default_for(target))
}

/// Opens staging beside the target (same filesystem, checked).
fn open_staging(
    opts: &RestoreOptions,
    source: &Source,
    target: &Path,
) -> Result<Staging, RestoreError> {
    let staging = Staging::open(&staging_root(opts, target), &source.url.display())?;
    same_filesystem(&staging, target)?;
    Ok(staging)
}

async fn precheck_directory_sets(
    source: &Source,
    fetcher: &Fetcher,
    sets: &[SetSource],
    listing: &listing::Listing,
) -> Result<(), RestoreError> {
    let mut metas = Vec::new();
    for set in sets {
        if let SetLayout::Directory { .. } = set.layout {
            metas.push(crate::inspect::directory_set_meta(source, fetcher, set, listing).await?);
        }
    }
    if metas.len() == sets.len() {
        chain::plan(&metas).map_err(RestoreError::plan)?;
    } else {
        // Not every set's metadata is known yet: refuse what is already certain.
        let problems: Vec<String> = metas
            .iter()
            .filter_map(|m| {
                let reason = m.info.as_ref()?.partial_reason()?;
                Some(
                    ChainProblem::Partial {
                        set: m.name.clone(),
                        reason,
                    }
                    .to_string(),
                )
            })
            .collect();
        if !problems.is_empty() {
            return Err(RestoreError::Plan(problems));
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn run(
    source: &Source,
    opts: &RestoreOptions,
    progress: &Arc<Progress>,
    toolbox: &Toolbox,
    fetcher: &Fetcher,
    discovery: &Discovery,
    listing: &listing::Listing,
    staging: &Staging,
    early_done: &EarlyDone,
    mut flush: durable::Flush,
) -> Result<RestoreReport, RestoreError> {
    let sets = &discovery.sets;
    let total: u64 = sets.iter().map(|s| s.total_bytes()).sum();
    let files: u64 = sets.iter().map(|s| s.part_count() as u64).sum();
    progress.set_totals(total, sets.len() as u64);
    progress.set_files_total(files);
    progress.set_phase(
        Phase::Download,
        format!(
            "fetching {} backup sets ({} files, {} bytes)",
            sets.len(),
            files,
            total
        ),
    );

    // Fetch every set.
    let window = opts.fetch.parallel.max(2);
    let warnings = std::sync::Mutex::new(discovery.warnings.clone());
    let warnings = &warnings;
    let ctx = SetFetch {
        source,
        listing,
        staging,
        fetcher,
        progress,
        warnings,
        window,
        early_done,
    };
    let ctx = &ctx;
    // The futures are made up front, not by a closure inside the stream: a closure over
    // borrowed sets would make the whole restore future `Send` only for one lifetime.
    let fetches: Vec<_> = sets
        .iter()
        .enumerate()
        .map(|(index, set)| fetch_set(ctx, index, set))
        .collect();
    let mut fetched: Vec<(usize, Vec<StagedSet>)> = stream::iter(fetches)
        .buffer_unordered(opts.sets_parallel.max(1))
        .try_collect()
        .await?;
    fetched.sort_by_key(|(index, _)| *index);
    // Every backup set in staging, with the index of the listed set (directory or archive)
    // it came from: an archive may hold several.
    let staged: Vec<(usize, StagedSet)> = fetched
        .into_iter()
        .flat_map(|(index, found)| found.into_iter().map(move |s| (index, s)))
        .collect();

    // Plan the chain from what was unpacked.
    let mut metas: Vec<SetMeta> = Vec::with_capacity(staged.len());
    for (_, set) in &staged {
        metas.push(metadata::set_meta_from_dir(&set.name, &set.dir)?);
    }
    let plan: Plan = chain::plan(&metas).map_err(RestoreError::plan)?;
    for note in &plan.notes {
        tracing::info!("{note}");
    }

    // Prepare.
    progress.set_sets_done(0);
    let steps = if plan.prepared_base {
        0
    } else {
        1 + plan.incrementals.len()
    };
    progress.set_totals(total, steps as u64);
    let base_dir = staged[plan.base].1.dir.clone();
    // The downloaded files go to disk while the prepare runs (it reads them from the page
    // cache), so the flush after the move waits only for what the prepare wrote.
    if !plan.prepared_base {
        flush.start_early();
    }
    // Preparing changes a set's files: the listed set it came from is no longer complete.
    let consume = |i: usize| {
        let index = staged[i].0;
        staging.mark_consumed(SetId::of(&sets[index]))
    };
    let mut last_binlog = None;
    if !plan.prepared_base {
        consume(plan.base)?;
        for step in 0..steps {
            let (label, inc_dir) = if step == 0 {
                (staged[plan.base].1.name.clone(), None)
            } else {
                let i = plan.incrementals[step - 1];
                consume(i)?;
                (staged[i].1.name.clone(), Some(staged[i].1.dir.clone()))
            };
            progress.set_phase(
                Phase::Prepare,
                format!("prepare {}/{}: {label}", step + 1, steps),
            );
            ferry_base::fail_point!("restore.before-prepare");
            let mut popts = PrepareOptions::new(staging.prepare_log(step));
            // A prepare left running by a ferry that was killed is found (and stopped) through
            // the staging directory before a resumed restore touches it.
            popts.owner_dir = Some(staging.root().to_path_buf());
            if opts.prepare_memory.is_some() {
                popts.use_memory = opts.prepare_memory;
            }
            popts.more_incrementals_follow = step + 1 < steps;
            let report =
                ferry_engine::prepare::prepare(toolbox, &base_dir, inc_dir.as_deref(), &popts)
                    .await
                    .map_err(|e| RestoreError::Prepare {
                        set: label.clone(),
                        reason: e.to_string(),
                    })?;
            if report.last_binlog.is_some() {
                last_binlog = report.last_binlog;
            }
            progress.set_done();
            ferry_base::fail_point!("restore.after-prepare");
        }
    }

    // Move into place.
    progress.set_phase(
        Phase::Finalize,
        format!("moving into {}", opts.target_dir.display()),
    );
    let target = &opts.target_dir;
    if target.exists() {
        std::fs::remove_dir(target).map_err(|e| RestoreError::Target {
            path: target.clone(),
            reason: e.to_string(),
        })?;
    }
    std::fs::rename(&base_dir, target).map_err(|e| RestoreError::Target {
        path: target.clone(),
        reason: format!("cannot move the prepared data into place: {e}"),
    })?;
    flush.finish(target)?;

    let newest = plan.incrementals.last().copied().unwrap_or(plan.base);
    let newest_meta = &metas[newest];
    let coords = recovered_coordinates(newest_meta, last_binlog.clone());
    let snap = progress.snapshot();
    progress.set_phase(Phase::Done, "restore complete");
    let mut chain_names = vec![staged[plan.base].1.name.clone()];
    chain_names.extend(plan.incrementals.iter().map(|&i| staged[i].1.name.clone()));
    Ok(RestoreReport {
        target_dir: target.clone(),
        chain: chain_names,
        notes: plan.notes.clone(),
        warnings: warnings.lock().map(|w| w.clone()).unwrap_or_default(),
        binlog_file: coords.as_ref().map(|c| c.0.clone()),
        binlog_position: coords.as_ref().map(|c| c.1),
        binlog_source: coords.as_ref().map(|c| c.2.to_string()),
        innodb_binlog_file: last_binlog.as_ref().map(|b| b.0.clone()),
        innodb_binlog_position: last_binlog.as_ref().map(|b| b.1),
        gtid: newest_meta.binlog.as_ref().and_then(|b| b.gtid.clone()),
        server_version: newest_meta.info.as_ref().map(|i| i.server_version.clone()),
        bytes_downloaded: snap.bytes_done - snap.bytes_reused,
        bytes_reused: snap.bytes_reused,
        files_downloaded: snap.files_done.saturating_sub(snap.files_reused),
        files_reused: snap.files_reused,
        retries: snap.retries,
        elapsed_secs: snap.elapsed_secs,
    })
}

/// Which binary log coordinates the restored data corresponds to.
///
/// mariabackup (MariaDB 10.2+) and XtraBackup with backup locks record
/// `xtrabackup_binlog_info` while commits of every engine are blocked, so it is exact for
/// InnoDB, MyISAM and DDL alike; the prepare's `Last binlog file` line only knows the last
/// InnoDB commit and lags when non-InnoDB changes came last (starting replication there would
/// replay them twice). XtraBackup's lockless mode (`recover_binlog_info = 1` in
/// `xtrabackup_checkpoints`) records no exact file, so there the prepare's answer is the one.
pub fn recovered_coordinates(
    newest: &SetMeta,
    prepare: Option<(String, u64)>,
) -> Option<(String, u64, &'static str)> {
    let is_mariabackup = newest
        .info
        .as_ref()
        .map(|i| {
            i.tool_name.starts_with("mariabackup") || i.tool_name.starts_with("mariadb-backup")
        })
        .unwrap_or(false);
    let lockless = newest.checkpoints.recover_binlog_info && !is_mariabackup;
    match (&newest.binlog, prepare) {
        (Some(b), _) if !lockless => Some((b.file.clone(), b.position, "xtrabackup_binlog_info")),
        (_, Some((f, p))) => Some((f, p, "prepare")),
        (Some(b), None) => Some((b.file.clone(), b.position, "xtrabackup_binlog_info")),
        (None, None) => None,
    }
}

/// Staging must be on the target's filesystem so the final move is one `rename`; checked
/// before any download rather than discovered after the last prepare.
fn same_filesystem(staging: &Staging, target: &Path) -> Result<(), RestoreError> {
    use std::os::unix::fs::MetadataExt;
    let parent = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let dev = |p: &Path| std::fs::metadata(p).map(|m| m.dev());
    match (dev(staging.root()), dev(parent)) {
        (Ok(a), Ok(b)) if a != b => Err(RestoreError::staging(
            staging.root(),
            format!(
                "is on another filesystem than {}; put --staging-dir beside the target",
                target.display()
            ),
        )),
        _ => Ok(()),
    }
}

fn absolute(p: &Path) -> Result<PathBuf, RestoreError> {
    std::path::absolute(p).map_err(|e| RestoreError::Target {
        path: p.to_path_buf(),
        reason: format!("cannot resolve the path: {e}"),
    })
}

/// What fetching one set needs; borrowed for the duration of the fetch phase.
struct SetFetch<'a> {
    source: &'a Source,
    listing: &'a listing::Listing,
    staging: &'a Staging,
    fetcher: &'a Fetcher,
    progress: &'a Progress,
    warnings: &'a std::sync::Mutex<Vec<String>>,
    window: usize,
    /// What was fetched while listing (`pipeline`): a set's fetch finds those files in its
    /// journal, but they were downloaded, not reused.
    early_done: &'a EarlyDone,
}

/// Fetches (or reuses from staging) one listed set, and returns the backup sets it holds in
/// staging (an archive may hold several: [`archive::staged_sets`]). A named function rather
/// than a closure's async block, so that the restore future is `Send` for every lifetime and
/// can be spawned.
async fn fetch_set(
    ctx: &SetFetch<'_>,
    index: usize,
    set: &SetSource,
) -> Result<(usize, Vec<StagedSet>), RestoreError> {
    let SetFetch {
        source,
        listing,
        staging,
        fetcher,
        progress,
        warnings,
        window,
        early_done,
    } = *ctx;

    let objects = sets::set_objects(source, set, &listing.etags);
    if staging.set_is_complete(SetId::of(set), &objects) {
        tracing::info!(set = %set.name, "already complete in staging: reused");
        let found = staged_sets_of(staging, set).await?;
        progress.add_reused(set.total_bytes());
        progress.add_files_reused(objects.len() as u64);
        progress.set_done();
        return Ok((index, found));
    }
    match &set.layout {
        SetLayout::Stream { .. } => {
            let dir = staging.reset_set(SetId::of(set))?;
            let w =
                sets::fetch_stream_set_to_dir(fetcher, set, objects.clone(), window, &dir).await?;
            if let Ok(mut all) = warnings.lock() {
                all.extend(w);
            }
        }
        SetLayout::Directory { .. } => {
            let dir = staging.set_dir(SetId::of(set));
            std::fs::create_dir_all(&dir).map_err(|e| RestoreError::staging(&dir, e))?;
            let journal = staging.journal(SetId::of(set));
            // As many files at once as requests may be in flight: a file of a directory
            // set of many tables is typically one small GET.
            let files_parallel = fetcher.options().max_requests();
            let (mut reused, mut reused_files) =
                sets::fetch_directory_set(fetcher, set, &objects, &dir, &journal, files_parallel)
                    .await?;
            let (early_bytes, early_files) = early_done.of(&set.name);
            reused = reused.saturating_sub(early_bytes);
            reused_files = reused_files.saturating_sub(early_files);
            if reused > 0 {
                progress.add_reused(reused);
            }
            progress.add_files_reused(reused_files);
        }
    }
    let dir = staging.set_dir(SetId::of(set));
    let set_name = set.name.clone();
    let n = tokio::task::spawn_blocking(move || sets::decompress_qpress(&set_name, &dir))
        .await
        .map_err(|e| RestoreError::Unpack {
            set: set.name.clone(),
            reason: e.to_string(),
        })??;
    if n > 0 {
        tracing::info!(set = %set.name, files = n, "decompressed qpress (.qp) files");
    }
    // Before the set is marked complete: nested sets of an archive are moved apart first.
    let found = staged_sets_of(staging, set).await?;
    staging.mark_complete(SetId::of(set), &objects)?;
    ferry_base::fail_point!("restore.after-set-downloaded");
    progress.set_done();
    tracing::info!(set = %set.name, sets = found.len(), "fetched");
    Ok((index, found))
}

/// The backup sets a listed set holds in staging: a directory set is one, an archive holds
/// one or more ([`archive::staged_sets`], on a blocking thread: it walks the tree).
async fn staged_sets_of(
    staging: &Staging,
    set: &SetSource,
) -> Result<Vec<StagedSet>, RestoreError> {
    let dir = staging.set_dir(SetId::of(set));
    if let SetLayout::Directory { .. } = set.layout {
        return Ok(vec![StagedSet {
            name: set.name.clone(),
            dir,
        }]);
    }
    let nested = staging.nested_dir(SetId::of(set));
    let name = set.name.clone();
    tokio::task::spawn_blocking(move || archive::staged_sets(&name, &dir, &nested))
        .await
        .map_err(|e| RestoreError::Unpack {
            set: set.name.clone(),
            reason: e.to_string(),
        })?
}
