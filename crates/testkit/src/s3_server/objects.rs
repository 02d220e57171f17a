//! Writing buckets and objects straight into the directory `s3s-fs` serves.
//!
//! Loading fixtures through the S3 API would cost a multipart upload per large file; since the
//! server is file-backed, tests can write the files directly. What we write must look exactly
//! like what `s3s-fs` 0.14 writes for a PUT, or it would serve something different:
//!
//! ```text
//! <root>/<bucket>/<key>                                         the object's bytes
//! <root>/.bucket-<b64(bucket)>.object-<b64(key)>.internal.json  {"e_tag": "<md5 hex>"}
//! <root>/.bucket-<b64(bucket)>.object-<b64(key)>.metadata.json  user metadata (optional)
//! ```
//!
//! (`b64` is URL-safe base64 without padding.) Without the `internal.json` sidecar `s3s-fs`
//! hashes the whole file on every GET and HEAD, even for a 1-byte range, which makes ranged
//! reads of large objects quadratic; so we record the ETag once here.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{bail, Context as _};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use md5::{Digest as _, Md5};

/// Distinguishes temporary files written concurrently by one process.
static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Size of the copy buffer: large enough that hashing dominates, small enough for many threads.
const COPY_BUF: usize = 1 << 20;

pub(super) fn create_bucket(root: &Path, name: &str) -> anyhow::Result<()> {
    let dir = bucket_dir(root, name)?;
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("create bucket {name:?} at {}", dir.display()))
}

pub(super) fn object_path(root: &Path, bucket: &str, key: &str) -> anyhow::Result<PathBuf> {
    check_key(key)?;
    Ok(bucket_dir(root, bucket)?.join(key))
}

pub(super) fn put_bytes(root: &Path, bucket: &str, key: &str, data: &[u8]) -> anyhow::Result<()> {
    write_object(root, bucket, key, &mut &data[..])
        .with_context(|| format!("store object s3://{bucket}/{key}"))
}

pub(super) fn put_tree(
    root: &Path,
    bucket: &str,
    prefix: &str,
    local_dir: &Path,
) -> anyhow::Result<usize> {
    let prefix = prefix.trim_matches('/');
    let mut files = Vec::new();
    collect_files(local_dir, local_dir, &mut files)?;
    for (path, rel) in &files {
        let key = if prefix.is_empty() {
            rel.clone()
        } else {
            format!("{prefix}/{rel}")
        };
        let mut file =
            File::open(path).with_context(|| format!("open fixture file {}", path.display()))?;
        write_object(root, bucket, &key, &mut file)
            .with_context(|| format!("copy {} to object s3://{bucket}/{key}", path.display()))?;
    }
    Ok(files.len())
}

/// Lists regular files under `dir` as (path, key relative to `base` with `/` separators),
/// sorted so the upload order (and any error) is deterministic.
fn collect_files(base: &Path, dir: &Path, out: &mut Vec<(PathBuf, String)>) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("list fixture directory {}", dir.display()))?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("list fixture directory {}", dir.display()))?;
        paths.push(entry.path());
    }
    paths.sort();
    for path in paths {
        let meta = std::fs::metadata(&path)
            .with_context(|| format!("stat fixture file {}", path.display()))?;
        if meta.is_dir() {
            collect_files(base, &path, out)?;
        } else if meta.is_file() {
            let rel = path
                .strip_prefix(base)
                .with_context(|| format!("{} is not under {}", path.display(), base.display()))?;
            let mut key = String::new();
            for component in rel.components() {
                let Component::Normal(part) = component else {
                    bail!(
                        "fixture path {} has an unexpected component",
                        path.display()
                    );
                };
                let Some(part) = part.to_str() else {
                    bail!(
                        "fixture path {} is not UTF-8, so it cannot be an S3 key",
                        path.display()
                    );
                };
                if !key.is_empty() {
                    key.push('/');
                }
                key.push_str(part);
            }
            out.push((path, key));
        }
        // Sockets, FIFOs and devices have no place in a bucket: skipped.
    }
    Ok(())
}

/// Writes the object's bytes and ETag sidecar, replacing any previous object of that key.
fn write_object(root: &Path, bucket: &str, key: &str, source: &mut dyn Read) -> anyhow::Result<()> {
    let dest = object_path(root, bucket, key)?;
    let bucket_path = bucket_dir(root, bucket)?;
    if !bucket_path.is_dir() {
        bail!("bucket {bucket:?} does not exist (create it with create_bucket first)");
    }
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("create directory {}", parent.display()))?;
    }

    let tmp = root.join(format!(
        ".ferry-testkit.{}.{}.tmp",
        std::process::id(),
        TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = copy_hashing(source, &tmp).and_then(|md5| {
        std::fs::rename(&tmp, &dest)
            .with_context(|| format!("move {} to {}", tmp.display(), dest.display()))?;
        Ok(md5)
    });
    let md5 = match result {
        Ok(md5) => md5,
        Err(error) => {
            // Best effort: the error being reported matters more than a stray temp file.
            let _ = std::fs::remove_file(&tmp);
            return Err(error);
        }
    };

    let info = serde_json::json!({ "e_tag": md5 });
    let info_path = sidecar_path(root, bucket, key, "internal");
    std::fs::write(&info_path, info.to_string())
        .with_context(|| format!("write ETag sidecar {}", info_path.display()))?;
    // A previous PUT may have left content-type or user metadata for this key: it described
    // other bytes.
    let meta_path = sidecar_path(root, bucket, key, "metadata");
    match std::fs::remove_file(&meta_path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(e).with_context(|| format!("remove stale sidecar {}", meta_path.display()))
        }
    }
    Ok(())
}

/// Copies `source` into a new file at `dest`, returning the MD5 of the bytes as lowercase hex.
fn copy_hashing(source: &mut dyn Read, dest: &Path) -> anyhow::Result<String> {
    let mut out =
        File::create(dest).with_context(|| format!("create temporary file {}", dest.display()))?;
    let mut hasher = Md5::new();
    let mut buf = vec![0u8; COPY_BUF];
    loop {
        let n = match source.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).context("read the object's source"),
        };
        let chunk = buf
            .get(..n)
            .context("reader returned more bytes than asked")?;
        hasher.update(chunk);
        out.write_all(chunk)
            .with_context(|| format!("write {}", dest.display()))?;
    }
    out.sync_data()
        .with_context(|| format!("flush {}", dest.display()))?;
    Ok(hex(&hasher.finalize()))
}

fn sidecar_path(root: &Path, bucket: &str, key: &str, kind: &str) -> PathBuf {
    root.join(format!(
        ".bucket-{}.object-{}.{kind}.json",
        URL_SAFE_NO_PAD.encode(bucket),
        URL_SAFE_NO_PAD.encode(key)
    ))
}

pub(super) fn bucket_dir(root: &Path, name: &str) -> anyhow::Result<PathBuf> {
    if !s3s::path::check_bucket_name(name) {
        bail!("{name:?} is not a valid S3 bucket name (3-63 of a-z 0-9 . -)");
    }
    Ok(root.join(name))
}

/// Keys become file paths under the bucket, so they must be relative paths without `.`/`..`
/// or empty segments, and must not name a directory (end with `/`).
fn check_key(key: &str) -> anyhow::Result<()> {
    let ok = !key.is_empty()
        && key
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
        && !key.contains('\0');
    if !ok {
        bail!("object key {key:?} cannot be stored as a file (empty, `.`/`..` or `//` in it)");
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sidecar_names_match_s3s_fs() {
        // s3s-fs encodes bucket and key with URL-safe base64 without padding.
        let p = sidecar_path(Path::new("/r"), "bkt", "a/b?", "internal");
        assert_eq!(p, Path::new("/r/.bucket-Ymt0.object-YS9iPw.internal.json"));
    }

    #[test]
    fn keys_that_are_not_paths_are_refused() {
        for bad in ["", "/a", "a//b", "a/../b", "./a", "a/"] {
            assert!(check_key(bad).is_err(), "{bad:?} should be refused");
        }
        check_key("full/ibdata1").expect("plain key is fine");
    }

    #[test]
    fn md5_hex_of_empty_input() {
        let mut h = Md5::new();
        h.update(b"");
        assert_eq!(hex(&h.finalize()), "d41d8cd98f00b204e9800998ecf8427e");
    }
}
