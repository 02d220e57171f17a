//! ListObjectsV2 pages cut from one walk of the bucket, so a paginated listing costs one walk
//! instead of one per page.
//!
//! `s3s-fs` 0.14 answers every ListObjectsV2 page by walking the whole bucket through
//! `tokio::fs` (three trips to the blocking pool per entry), sorting every key, then keeping
//! the page. A listing of 10,201 keys in 11 pages cost the server 4 CPU-seconds, on the same
//! two cores as the client it serves. Here the first page walks the bucket once ([`walk`]: the
//! same walk with `std::fs` in one blocking task; a bucket that is missing or unreadable goes
//! to `s3s-fs`, which answers the error), keeps the whole listing and cuts the page from it; a
//! later page of the same listing (a request with a continuation token for the same bucket,
//! prefix and delimiter) is cut from the kept walk with the same rules `s3s-fs` applies, so the
//! answers are the ones `s3s-fs` gives (a test pages through both and compares). One
//! difference: a common prefix ends with the whole delimiter, as on S3, where `s3s-fs` keeps
//! only its first byte (the same for the `/` everyone uses).
//!
//! A kept walk is used only for continuation requests, for [`KEEP_FOR`] at most, and never
//! after a write through the server (`Listings::changed`). A file changed directly on disk
//! between two pages of one listing may go unseen by the rest of that listing: real S3 gives
//! no snapshot across pages either.

use std::collections::{BTreeSet, VecDeque};
use std::path::{Component, Path};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use s3s::dto::{CommonPrefix, ListObjectsV2Input, ListObjectsV2Output, Object, Timestamp};

/// How long a walk serves the pages after the first.
const KEEP_FOR: Duration = Duration::from_secs(10);
/// Walks kept at once (one per listing in progress).
const KEPT: usize = 8;

/// What identifies one listing across its pages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct ListingKey {
    bucket: String,
    prefix: Option<String>,
    delimiter: Option<String>,
}

impl ListingKey {
    pub(super) fn of(input: &ListObjectsV2Input) -> ListingKey {
        ListingKey {
            bucket: input.bucket.clone(),
            prefix: input.prefix.clone(),
            delimiter: input.delimiter.clone(),
        }
    }
}

/// Every key of one listing, sorted as `s3s-fs` sorts them.
#[derive(Debug)]
pub(super) struct Walk {
    objects: Vec<Object>,
    prefixes: Vec<CommonPrefix>,
}

impl Walk {
    /// The whole answer of `s3s-fs` to a request without resume point or page limit.
    pub(super) fn from_output(out: ListObjectsV2Output) -> Walk {
        Walk {
            objects: out.contents.unwrap_or_default(),
            prefixes: out.common_prefixes.unwrap_or_default(),
        }
    }

    /// The page `input` asks for, as `s3s-fs` would cut it: objects and common prefixes after
    /// the later of the continuation token and `StartAfter`, merged in key order, at most
    /// `MaxKeys` (default 1000) of them; the next token is the page's last key. Both lists are
    /// sorted (a [`walk`] sorts its objects, `s3s-fs` sorts its own; prefixes come from a set),
    /// so the resume point is found by bisection.
    pub(super) fn page(&self, input: ListObjectsV2Input) -> ListObjectsV2Output {
        let after = match (
            input.continuation_token.as_deref(),
            input.start_after.as_deref(),
        ) {
            (Some(ct), Some(sa)) => Some(ct.max(sa)),
            (ct, sa) => ct.or(sa),
        };
        let objects = match after {
            Some(a) => &self.objects[self.objects.partition_point(|o| key(o) <= a)..],
            None => &self.objects[..],
        };
        let prefixes = match after {
            Some(a) => &self.prefixes[self.prefixes.partition_point(|p| prefix(p) <= a)..],
            None => &self.prefixes[..],
        };
        let max_keys = input.max_keys.unwrap_or(1000);
        let limit = usize::try_from(max_keys).unwrap_or(1000);
        let (mut oi, mut pi) = (0, 0);
        let mut last = None;
        while oi + pi < limit {
            let take_object = match (objects.get(oi), prefixes.get(pi)) {
                (Some(o), Some(p)) => key(o) < prefix(p),
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            if take_object {
                last = Some(key(&objects[oi]));
                oi += 1;
            } else {
                last = Some(prefix(&prefixes[pi]));
                pi += 1;
            }
        }
        // Truncated means at least one key was taken (limit > 0): the token is the last one.
        let truncated = limit > 0 && (oi < objects.len() || pi < prefixes.len());
        let next = last.filter(|_| truncated).map(str::to_owned);
        let (page_objects, page_prefixes) = (objects[..oi].to_vec(), prefixes[..pi].to_vec());
        let count = page_objects.len() + page_prefixes.len();
        ListObjectsV2Output {
            key_count: Some(i32::try_from(count).unwrap_or(i32::MAX)),
            max_keys: Some(max_keys),
            is_truncated: Some(truncated),
            contents: (!page_objects.is_empty()).then_some(page_objects),
            common_prefixes: (!page_prefixes.is_empty()).then_some(page_prefixes),
            continuation_token: input.continuation_token,
            next_continuation_token: next,
            delimiter: input.delimiter,
            encoding_type: input.encoding_type,
            name: Some(input.bucket),
            prefix: input.prefix,
            start_after: input.start_after,
            ..Default::default()
        }
    }
}

fn key(o: &Object) -> &str {
    o.key.as_deref().unwrap_or("")
}

fn prefix(p: &CommonPrefix) -> &str {
    p.prefix.as_deref().unwrap_or("")
}

/// The whole listing of the bucket directory `bucket_root` under `prefix` (grouped at
/// `delimiter`), walked as `s3s-fs` 0.14 walks it (breadth first, entries not followed through
/// symbolic links, keys of non-UTF-8 names left out, each file's size and modification time)
/// but with `std::fs` on the calling thread: `s3s-fs` makes three trips to tokio's blocking
/// pool per entry. Call it on a blocking thread.
pub(super) fn walk(
    bucket_root: &Path,
    prefix: Option<&str>,
    delimiter: Option<&str>,
) -> std::io::Result<Walk> {
    let prefix = prefix.unwrap_or("").trim_start_matches('/');
    let mut objects = Vec::new();
    let mut prefixes = BTreeSet::new();
    let mut dirs = VecDeque::from([bucket_root.to_path_buf()]);
    while let Some(dir) = dirs.pop_front() {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let file_type = entry.file_type()?;
            let path = entry.path();
            let Some(key) = relative_key(&path, bucket_root) else {
                continue;
            };
            let Some(delimiter) = delimiter else {
                if file_type.is_dir() {
                    dirs.push_back(path);
                } else if key.starts_with(prefix) {
                    objects.push(object(key, &entry.metadata()?)?);
                }
                continue;
            };
            if file_type.is_dir() {
                if key.starts_with(prefix) || prefix.starts_with(key.as_str()) {
                    dirs.push_back(path);
                }
                continue;
            }
            let Some(rest) = key.strip_prefix(prefix) else {
                continue;
            };
            match rest.find(delimiter) {
                Some(at) => {
                    prefixes.insert(format!("{prefix}{}", &rest[..at + delimiter.len()]));
                }
                None => objects.push(object(key, &entry.metadata()?)?),
            }
        }
    }
    objects.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(Walk {
        objects,
        prefixes: prefixes
            .into_iter()
            .map(|p| CommonPrefix { prefix: Some(p) })
            .collect(),
    })
}

/// `path` below `root` as a key: its components joined with `/`; `None` for a name that is not
/// UTF-8.
fn relative_key(path: &Path, root: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let parts: Option<Vec<&str>> = rel
        .components()
        .map(|c| match c {
            Component::Normal(name) => name.to_str(),
            _ => None,
        })
        .collect();
    Some(parts?.join("/"))
}

fn object(key: String, meta: &std::fs::Metadata) -> std::io::Result<Object> {
    Ok(Object {
        key: Some(key),
        last_modified: Some(Timestamp::from(meta.modified()?)),
        size: Some(i64::try_from(meta.len()).map_err(std::io::Error::other)?),
        ..Default::default()
    })
}

/// The walks kept for the listings in progress.
#[derive(Debug, Default)]
pub(super) struct Listings {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Bumped by every write through the server: walks made before are not used.
    generation: u64,
    kept: Vec<Kept>,
}

#[derive(Debug)]
struct Kept {
    key: ListingKey,
    generation: u64,
    made: Instant,
    walk: std::sync::Arc<Walk>,
}

impl Listings {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The generation a walk about to be made belongs to.
    pub(super) fn generation(&self) -> u64 {
        self.state().generation
    }

    /// A write went through the server: no kept walk serves another page.
    pub(super) fn changed(&self) {
        let mut st = self.state();
        st.generation += 1;
        st.kept.clear();
    }

    /// The walk kept for `key`, if it is recent and no write came after it.
    pub(super) fn get(&self, key: &ListingKey) -> Option<std::sync::Arc<Walk>> {
        let st = self.state();
        st.kept
            .iter()
            .find(|k| k.key == *key && k.generation == st.generation && k.made.elapsed() < KEEP_FOR)
            .map(|k| k.walk.clone())
    }

    /// Keeps `walk` (made at `generation`) for the next pages of `key`.
    pub(super) fn keep(&self, key: ListingKey, generation: u64, walk: std::sync::Arc<Walk>) {
        let mut st = self.state();
        if generation != st.generation {
            return;
        }
        st.kept
            .retain(|k| k.key != key && k.made.elapsed() < KEEP_FOR);
        if st.kept.len() >= KEPT {
            st.kept.remove(0);
        }
        st.kept.push(Kept {
            key,
            generation,
            made: Instant::now(),
            walk,
        });
    }
}

#[cfg(test)]
mod tests {
    use s3s::{S3Request, S3};

    use super::*;
    use crate::s3_server::store::FileStore;

    fn request<T>(input: T) -> S3Request<T> {
        S3Request {
            input,
            method: Default::default(),
            uri: Default::default(),
            headers: Default::default(),
            extensions: Default::default(),
            credentials: None,
            region: None,
            service: None,
            trailing_headers: None,
        }
    }

    /// Every page of a listing, through `list`, following the continuation tokens.
    async fn pages<F, Fut>(first: ListObjectsV2Input, list: F) -> Vec<ListObjectsV2Output>
    where
        F: Fn(ListObjectsV2Input) -> Fut,
        Fut: std::future::Future<Output = ListObjectsV2Output>,
    {
        let mut out = Vec::new();
        let mut input = first.clone();
        loop {
            let page = list(input.clone()).await;
            let next = page.next_continuation_token.clone();
            out.push(page);
            match next {
                Some(token) if out.len() < 100 => input.continuation_token = Some(token),
                _ => return out,
            }
        }
    }

    #[tokio::test]
    async fn every_page_is_the_one_s3s_fs_gives() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        for key in [
            "a", "b/1", "b/2", "b/c/3", "b/c/4", "b0", "c/5", "c/d/e/6", "d", "e/7", "e/8",
        ] {
            let path = root.join("bkt").join(key);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, key.as_bytes()).unwrap();
        }
        let store = FileStore::new(&root).unwrap();
        let inner = s3s_fs::FileSystem::new(&root).unwrap();
        for prefix in [None, Some("b"), Some("b/"), Some("c/d/"), Some("zz")] {
            for delimiter in [None, Some("/")] {
                for max_keys in [None, Some(0), Some(1), Some(2), Some(3)] {
                    for start_after in [None, Some("b/1"), Some("b0")] {
                        let input = ListObjectsV2Input {
                            bucket: "bkt".into(),
                            prefix: prefix.map(str::to_owned),
                            delimiter: delimiter.map(str::to_owned),
                            max_keys,
                            start_after: start_after.map(str::to_owned),
                            ..Default::default()
                        };
                        let ours = pages(input.clone(), |i| async {
                            store.list_objects_v2(request(i)).await.unwrap().output
                        })
                        .await;
                        let theirs = pages(input.clone(), |i| async {
                            inner.list_objects_v2(request(i)).await.unwrap().output
                        })
                        .await;
                        assert_eq!(ours, theirs, "{input:?}");
                    }
                }
            }
        }
    }

    #[tokio::test]
    async fn a_missing_bucket_is_refused_as_s3s_fs_refuses_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let store = FileStore::new(&root).unwrap();
        let inner = s3s_fs::FileSystem::new(&root).unwrap();
        let input = ListObjectsV2Input {
            bucket: "nobucket".into(),
            ..Default::default()
        };
        let ours = store
            .list_objects_v2(request(input.clone()))
            .await
            .unwrap_err();
        let theirs = inner.list_objects_v2(request(input)).await.unwrap_err();
        assert_eq!(ours.code(), theirs.code());
        assert_eq!(ours.code(), &s3s::S3ErrorCode::NoSuchBucket);
    }

    #[tokio::test]
    async fn a_write_between_pages_is_seen_by_the_next_page() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        for key in ["a", "c"] {
            let path = root.join("bkt").join(key);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, b"x").unwrap();
        }
        let store = FileStore::new(&root).unwrap();
        let first = ListObjectsV2Input {
            bucket: "bkt".into(),
            max_keys: Some(1),
            ..Default::default()
        };
        let page = store
            .list_objects_v2(request(first.clone()))
            .await
            .unwrap()
            .output;
        assert_eq!(page.next_continuation_token.as_deref(), Some("a"));
        // A write through the server: the kept walk is dropped.
        let put = s3s::dto::PutObjectInput {
            bucket: "bkt".into(),
            key: "b".into(),
            body: Some(s3s::dto::StreamingBlob::from(s3s::Body::from(
                bytes::Bytes::from_static(b"y"),
            ))),
            content_length: Some(1),
            ..Default::default()
        };
        store.put_object(request(put)).await.unwrap();
        let next = ListObjectsV2Input {
            continuation_token: Some("a".into()),
            ..first
        };
        let page = store.list_objects_v2(request(next)).await.unwrap().output;
        let keys: Vec<_> = page
            .contents
            .unwrap()
            .into_iter()
            .map(|o| o.key.unwrap())
            .collect();
        assert_eq!(keys, ["b"]);
    }
}
