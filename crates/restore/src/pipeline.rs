//! Fetching while listing: the files of a directory backup set are downloaded as listing
//! pages arrive instead of after the whole listing, when the set is the source prefix itself
//! (the seed's "copy the backup directory as it is") or one directory below it
//! (`<prefix>/full/`, `<prefix>/inc1/`: a chain copied directory by directory).
//!
//! S3 lists keys in ascending order, so a set's metadata files (`xtrabackup_checkpoints`,
//! sorting late) come after most of its data: whether a directory is a set is asked of the
//! store instead (a few HEADs and the metadata's GETs, [`probe_set`]) when the listing enters
//! it. The prefix is asked first, then, if it is not a set, each top-level directory as the
//! listing reaches it. A set found not partial is fetched as it is listed; a partial one is
//! not (it is refused once the listing is known, and nothing of it is downloaded before).
//!
//! Within a set rooted at `R`, a file directly in `R` is its own; a file below a directory
//! `R/a/` is its own unless `R/a/` holds a nested set (a `xtrabackup_checkpoints` at any
//! depth there). So the files of `R/a/` are held until the listing leaves `R/a/` and fetched
//! unless a checkpoints file showed up in it; a directory holding many files (a database
//! of thousands of tables) is asked once whether `R/a/` itself is a set root, and if not its
//! direct files go on without waiting. A key out of order stops the early fetching.
//!
//! Files land in the set's staging directory and journal, exactly as
//! [`crate::sets::fetch_directory_set`] writes them, so the normal fetch that follows the
//! listing skips them and fetches what is left. The guesses above only save work: once the
//! listing is known, [`EarlyDone::check`] compares what was fetched with the sets discovery
//! found, and a set holding a file that is not its own is fetched again from nothing.
//!
//! Memory: objects wait in the queue (one [`RemoteObject`] each) until the router reaches
//! them, and the held files of one directory until the listing leaves it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use ferry_backup::discover::{ObjectEntry, SetLayout, SetSource};
use ferry_backup::meta::{BACKUP_MY_CNF, CHECKPOINTS_FILES};
use ferry_backup::path::SafePath;
use futures::stream::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::error::RestoreError;
use crate::fetch::{Fetcher, RemoteObject};
use crate::listing::ObjectGate;
use crate::metadata;
use crate::source::Source;
use crate::staging::{SetId, Staging};

/// A directory below a set's root holding this many direct files is asked whether it is a
/// set root itself instead of being held until the listing leaves it.
const HOLD_LIMIT: usize = 64;

/// Hands each listed object to the router, in listing order.
pub struct Dispatcher {
    /// `None` tells the router the order broke: it drops what it holds and stops.
    tx: Option<mpsc::UnboundedSender<Option<RemoteObject>>>,
    source: Source,
    last_key: String,
}

impl Dispatcher {
    /// Called for each listed object, in listing order.
    pub fn on_object(&mut self, entry: &ObjectEntry, etag: &Option<String>) {
        if self.tx.is_none() || entry.key.ends_with('/') {
            return;
        }
        if entry.key < self.last_key {
            // Not in ascending order: nothing can be concluded from order any more.
            tracing::debug!("listing out of order: fetching waits for the whole listing");
            if let Some(tx) = self.tx.take() {
                let _ = tx.send(None);
            }
            return;
        }
        self.last_key.clone_from(&entry.key);
        let obj = RemoteObject {
            key: entry.key.clone(),
            location: self.source.location(&entry.key).to_string(),
            size: entry.size,
            etag: etag.clone(),
        };
        if let Some(tx) = &self.tx {
            if tx.send(Some(obj)).is_err() {
                self.tx = None;
            }
        }
    }

    /// The listing ended (in order): what is still held is complete too.
    pub fn finish(self) {}
}

/// What one set got while it was listed.
#[derive(Debug, Default)]
pub struct EarlySet {
    pub bytes: u64,
    pub files: u64,
    /// The keys fetched, to check against the set discovery finds.
    keys: Vec<String>,
}

/// What the early fetch did, by directory set name.
#[derive(Debug, Default)]
pub struct EarlyDone {
    pub sets: HashMap<String, EarlySet>,
}

impl EarlyDone {
    /// Drops (from staging and from these counts) every early set that discovery does not
    /// confirm file for file: the listing, once whole, is what decides which set owns a key.
    pub fn check(&mut self, sets: &[SetSource], staging: &Staging) -> Result<(), RestoreError> {
        let mut wrong = Vec::new();
        for (name, early) in &self.sets {
            let own = sets.iter().find_map(|s| match &s.layout {
                SetLayout::Directory { files, .. } if s.name == *name => Some(files),
                _ => None,
            });
            let confirmed = own.is_some_and(|files| {
                early.keys.iter().all(|k| {
                    files
                        .binary_search_by(|f| f.key.as_str().cmp(k.as_str()))
                        .is_ok()
                })
            });
            if !confirmed {
                wrong.push(name.clone());
            }
        }
        for name in wrong {
            tracing::warn!(set = %name, "files fetched while listing are not all this set's: fetching it again");
            staging.forget_set(SetId::directory(&name))?;
            self.sets.remove(&name);
        }
        Ok(())
    }

    /// Bytes and files of directory set `name` fetched while listing.
    pub fn of(&self, name: &str) -> (u64, u64) {
        self.sets
            .get(name)
            .map(|s| (s.bytes, s.files))
            .unwrap_or_default()
    }
}

/// Opens staging the first time a set is found (nothing is made for a source with none).
pub type OpenStaging = Box<dyn Fn() -> Result<Staging, RestoreError> + Send + Sync>;

/// The early fetch running beside the listing.
pub struct EarlyFetch {
    task: JoinHandle<Result<EarlyDone, RestoreError>>,
    staging: Arc<OnceLock<Staging>>,
}

impl EarlyFetch {
    /// Stops it (a failure elsewhere): no download of it runs on once this returns. Returns
    /// the staging it opened, if any, for the caller to settle.
    pub async fn stop(self) -> Option<Staging> {
        self.task.abort();
        let _ = self.task.await;
        self.staging.get().cloned()
    }

    /// Waits for what was dispatched to be downloaded.
    pub async fn finish(self) -> (Result<EarlyDone, RestoreError>, Option<Staging>) {
        let done = match self.task.await {
            Ok(r) => r,
            Err(e) => Err(RestoreError::Unpack {
                set: "(fetched while listing)".to_string(),
                reason: e.to_string(),
            }),
        };
        (done, self.staging.get().cloned())
    }
}

/// Starts the early fetch: the returned dispatcher is fed the listing. `staging_root` is
/// where `open` makes staging: an existing one (an interrupted earlier run) is opened at once
/// so that sets it already holds are left to the normal path, which resumes them.
pub fn start(
    source: &Source,
    fetcher: &Fetcher,
    gate: Option<ObjectGate>,
    staging_root: PathBuf,
    open: OpenStaging,
) -> (Dispatcher, EarlyFetch) {
    let (tx, rx) = mpsc::unbounded_channel();
    let staging = Arc::new(OnceLock::new());
    let router = Router {
        source: source.clone(),
        fetcher: fetcher.clone(),
        gate,
        staging_root,
        open,
        staging: staging.clone(),
        root_is_set: false,
        set: None,
        top: None,
        gate_dir: None,
        done: Arc::new(Mutex::new(EarlyDone::default())),
    };
    let task = tokio::spawn(router.run(rx));
    (
        Dispatcher {
            tx: Some(tx),
            source: source.clone(),
            last_key: String::new(),
        },
        EarlyFetch { task, staging },
    )
}

/// One download handed to the pool.
struct Job {
    obj: RemoteObject,
    dest: PathBuf,
    set: Arc<SetWriter>,
}

/// A set being fetched while listed: its staging directory and journal.
struct SetWriter {
    name: String,
    /// The key prefix of its root (`""` or `full/`).
    root: String,
    dir: PathBuf,
    journal: PathBuf,
    file: Mutex<std::fs::File>,
}

/// The directory directly below the current set's root that the listing is in.
struct GateDir {
    /// Its key prefix, ending with `/`.
    prefix: String,
    /// Files directly in it, waiting; and files deeper in it, waiting.
    direct: Vec<RemoteObject>,
    deeper: Vec<RemoteObject>,
    /// A checkpoints file was listed somewhere in it: it holds a nested set.
    nested: bool,
    /// Asked: it is not a set root itself, so its direct files go on at once.
    not_a_root: bool,
}

struct Router {
    source: Source,
    fetcher: Fetcher,
    gate: Option<ObjectGate>,
    staging_root: PathBuf,
    open: OpenStaging,
    staging: Arc<OnceLock<Staging>>,
    /// The prefix itself is a set: every file is weighed against it.
    root_is_set: bool,
    /// The set being fetched (the prefix's, or the current top-level directory's).
    set: Option<Arc<SetWriter>>,
    /// The top-level directory the listing is in, when the prefix is not a set.
    top: Option<String>,
    gate_dir: Option<GateDir>,
    done: Arc<Mutex<EarlyDone>>,
}

impl Router {
    async fn run(
        mut self,
        mut rx: mpsc::UnboundedReceiver<Option<RemoteObject>>,
    ) -> Result<EarlyDone, RestoreError> {
        let (jobs_tx, jobs_rx) = mpsc::unbounded_channel::<Job>();
        let pool = pool(self.fetcher.clone(), jobs_rx, self.done.clone());
        let route = async {
            if self.staging_root.exists() {
                self.staging()?;
            }
            self.root_is_set = self.enter_set("").await?;
            let mut in_order = true;
            while let Some(obj) = rx.recv().await {
                let Some(obj) = obj else {
                    in_order = false;
                    break;
                };
                self.route(obj, &jobs_tx).await?;
            }
            if in_order {
                self.leave_gate_dir(&jobs_tx);
            }
            drop(jobs_tx);
            Ok::<(), RestoreError>(())
        };
        let (routed, pooled) = tokio::join!(route, pool);
        // The pool's own failure first: the router only sees that the pool stopped.
        pooled?;
        routed?;
        let done = std::mem::take(&mut *self.done.lock().map_err(|_| RestoreError::Interrupted)?);
        Ok(done)
    }

    fn staging(&self) -> Result<&Staging, RestoreError> {
        if let Some(st) = self.staging.get() {
            return Ok(st);
        }
        let st = (self.open)()?;
        Ok(self.staging.get_or_init(|| st))
    }

    async fn route(
        &mut self,
        obj: RemoteObject,
        jobs: &mpsc::UnboundedSender<Job>,
    ) -> Result<(), RestoreError> {
        if !self.root_is_set {
            let Some((top, _)) = obj.key.split_once('/') else {
                return Ok(());
            };
            if self.top.as_deref() != Some(top) {
                self.leave_gate_dir(jobs);
                self.top = Some(top.to_string());
                if !self.enter_set(&format!("{top}/")).await? {
                    self.set = None;
                }
            }
        }
        let Some(set) = self.set.clone() else {
            return Ok(());
        };
        let Some(rel) = obj.key.strip_prefix(set.root.as_str()) else {
            return Ok(());
        };
        let Some((first, rest)) = rel.split_once('/') else {
            self.leave_gate_dir(jobs);
            return self.send(&set, obj, jobs);
        };
        let prefix = format!("{}{first}/", set.root);
        if self.gate_dir.as_ref().map(|g| g.prefix.as_str()) != Some(prefix.as_str()) {
            self.leave_gate_dir(jobs);
            self.gate_dir = Some(GateDir {
                prefix,
                direct: Vec::new(),
                deeper: Vec::new(),
                nested: false,
                not_a_root: false,
            });
        }
        let name = rest.rsplit('/').next().unwrap_or_default();
        let Some(g) = self.gate_dir.as_mut() else {
            return Ok(());
        };
        if CHECKPOINTS_FILES.contains(&name) {
            g.nested = true;
            g.direct.clear();
            g.deeper.clear();
        }
        if g.nested {
            return Ok(());
        }
        if rest.contains('/') {
            g.deeper.push(obj);
            return Ok(());
        }
        if g.not_a_root {
            return self.send(&set, obj, jobs);
        }
        g.direct.push(obj);
        if g.direct.len() >= HOLD_LIMIT {
            let prefix = g.prefix.clone();
            if self.is_set_root(&prefix).await {
                if let Some(g) = self.gate_dir.as_mut() {
                    g.nested = true;
                    g.direct.clear();
                    g.deeper.clear();
                }
            } else if let Some(g) = self.gate_dir.as_mut() {
                g.not_a_root = true;
                for obj in std::mem::take(&mut g.direct) {
                    self.send(&set, obj, jobs)?;
                }
            }
        }
        Ok(())
    }

    /// The listing left the current gate directory: what it held is its set's unless it
    /// holds a nested set.
    fn leave_gate_dir(&mut self, jobs: &mpsc::UnboundedSender<Job>) {
        let (Some(g), Some(set)) = (self.gate_dir.take(), self.set.clone()) else {
            return;
        };
        if g.nested {
            return;
        }
        for obj in g.direct.into_iter().chain(g.deeper) {
            // A failure to queue means the pool stopped: its error is reported by `run`.
            if self.send(&set, obj, jobs).is_err() {
                return;
            }
        }
    }

    fn send(
        &self,
        set: &Arc<SetWriter>,
        obj: RemoteObject,
        jobs: &mpsc::UnboundedSender<Job>,
    ) -> Result<(), RestoreError> {
        let rel = obj.key.strip_prefix(set.root.as_str()).unwrap_or(&obj.key);
        let rel = SafePath::new(rel).map_err(|e| RestoreError::Unpack {
            set: set.name.clone(),
            reason: format!("object {}: {e}", obj.key),
        })?;
        let dest = set.dir.join(rel.as_str());
        jobs.send(Job {
            obj,
            dest,
            set: set.clone(),
        })
        .map_err(|_| RestoreError::Interrupted)
    }

    /// Whether a checkpoints file sits directly at `root` (a key prefix ending with `/`).
    async fn is_set_root(&self, root: &str) -> bool {
        for name in CHECKPOINTS_FILES {
            let key = format!("{root}{name}");
            if self.allowed(&key) && self.head(&key).await.is_some() {
                return true;
            }
        }
        false
    }

    fn allowed(&self, key: &str) -> bool {
        self.gate
            .as_ref()
            .is_none_or(|ObjectGate(allows)| allows(key).is_ok())
    }

    /// A HEAD, counted against the bound on requests in flight like every GET.
    async fn head(&self, key: &str) -> Option<object_store::ObjectMeta> {
        let location = self.source.location(key);
        let _slot = self.fetcher.limiter().acquire(true).await;
        self.source.store.head(&location).await.ok()
    }

    /// Asks whether `root` (`""` or `dir/`) is a directory set that is not partial; if so
    /// (and staging holds nothing of it from an earlier run), makes it the current set.
    async fn enter_set(&mut self, root: &str) -> Result<bool, RestoreError> {
        let name = match root.strip_suffix('/') {
            Some(n) => n.to_string(),
            None => ".".to_string(),
        };
        let id = SetId::directory(&name);
        if let Some(st) = self.staging.get() {
            if st.has_marker(id) || st.journal(id).exists() {
                return Ok(false);
            }
        }
        if !self.probe_set(root, &name).await? {
            return Ok(false);
        }
        let staging = self.staging()?;
        let dir = staging.set_dir(id);
        std::fs::create_dir_all(&dir).map_err(|e| RestoreError::staging(&dir, e))?;
        let journal = staging.journal(id);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&journal)
            .map_err(|e| RestoreError::staging(&journal, e))?;
        tracing::info!(set = %name, "a directory backup set: fetching it while listing");
        self.set = Some(Arc::new(SetWriter {
            name,
            root: root.to_string(),
            dir,
            journal,
            file: Mutex::new(file),
        }));
        Ok(true)
    }

    /// `root` holds `backup-my.cnf` and readable, not partial metadata: a few HEADs and the
    /// metadata files' GETs. A name the gate refuses is not asked for (the listing refuses
    /// it when it gets there).
    async fn probe_set(&self, root: &str, name: &str) -> Result<bool, RestoreError> {
        if self.source.local {
            return Ok(false);
        }
        let names = std::iter::once(&BACKUP_MY_CNF)
            .chain(metadata::CHECKPOINTS.iter())
            .chain(metadata::INFO.iter())
            .chain(metadata::BINLOG_INFO.iter());
        if !names.clone().all(|n| self.allowed(&format!("{root}{n}"))) {
            return Ok(false);
        }
        if self.head(&format!("{root}{BACKUP_MY_CNF}")).await.is_none() {
            return Ok(false);
        }
        let mut found = Vec::new();
        for n in names.skip(1) {
            let key = format!("{root}{n}");
            if let Some(meta) = self.head(&key).await {
                let obj = RemoteObject {
                    key,
                    location: meta.location.to_string(),
                    size: meta.size,
                    etag: meta.e_tag.clone(),
                };
                let bytes = self.fetcher.fetch_range(&obj, 0..obj.size).await?;
                found.push((n.to_string(), bytes.to_vec()));
            }
        }
        if !found
            .iter()
            .any(|(n, _)| CHECKPOINTS_FILES.contains(&n.as_str()))
        {
            return Ok(false);
        }
        // Unreadable metadata or a partial backup: refused once the listing is known, and
        // nothing is downloaded before.
        let Ok(meta) = metadata::set_meta(name, |n| {
            Ok(found.iter().find(|(f, _)| f == n).map(|(_, b)| b.clone()))
        }) else {
            return Ok(false);
        };
        Ok(meta
            .info
            .as_ref()
            .and_then(|i| i.partial_reason())
            .is_none())
    }
}

/// Downloads the routed files, as many at once as requests may be in flight.
async fn pool(
    fetcher: Fetcher,
    jobs: mpsc::UnboundedReceiver<Job>,
    done: Arc<Mutex<EarlyDone>>,
) -> Result<(), RestoreError> {
    let parallel = fetcher.options().max_requests();
    let mut results = stream_of(jobs)
        .map(|job| {
            let (fetcher, done) = (fetcher.clone(), done.clone());
            async move {
                fetcher.download_file(&job.obj, &job.dest).await?;
                crate::sets::append_journal(&job.set.file, &job.set.journal, &job.obj)?;
                let mut d = done.lock().map_err(|_| RestoreError::Interrupted)?;
                let s = d.sets.entry(job.set.name.clone()).or_default();
                s.bytes += job.obj.size;
                s.files += 1;
                s.keys.push(job.obj.key);
                Ok::<(), RestoreError>(())
            }
        })
        .buffer_unordered(parallel);
    while let Some(r) = results.next().await {
        r?;
    }
    Ok(())
}

fn stream_of<T: Send + 'static>(
    mut rx: mpsc::UnboundedReceiver<T>,
) -> impl futures::Stream<Item = T> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_set(name: &str, keys: &[&str]) -> SetSource {
        SetSource {
            name: name.to_string(),
            layout: SetLayout::Directory {
                root: format!("{name}/"),
                files: keys
                    .iter()
                    .map(|k| ObjectEntry {
                        key: k.to_string(),
                        size: 1,
                    })
                    .collect(),
            },
        }
    }

    #[test]
    fn a_set_holding_a_file_that_is_not_its_own_is_fetched_again() {
        let dir = tempfile::tempdir().unwrap();
        let st = Staging::open(&dir.path().join("s"), "s3://b/p").unwrap();
        let mut done = EarlyDone::default();
        for (name, keys) in [
            ("full", vec!["full/a", "full/inc1/b"]),
            ("other", vec!["other/a"]),
        ] {
            let id = SetId::directory(name);
            std::fs::create_dir_all(st.set_dir(id)).unwrap();
            std::fs::write(st.journal(id), "1\t\tx\n").unwrap();
            done.sets.insert(
                name.to_string(),
                EarlySet {
                    bytes: keys.len() as u64,
                    files: keys.len() as u64,
                    keys: keys.into_iter().map(String::from).collect(),
                },
            );
        }
        // Discovery gave `full/inc1/b` to the nested set `full/inc1`.
        let sets = [
            dir_set("full", &["full/a", "full/backup-my.cnf"]),
            dir_set("full/inc1", &["full/inc1/b"]),
            dir_set("other", &["other/a", "other/b"]),
        ];
        done.check(&sets, &st).unwrap();
        let full = SetId::directory("full");
        assert!(!st.set_dir(full).exists() && !st.journal(full).exists());
        assert_eq!(done.of("full"), (0, 0));
        let other = SetId::directory("other");
        assert!(st.set_dir(other).exists() && st.journal(other).exists());
        assert_eq!(done.of("other"), (1, 1));
    }
}
