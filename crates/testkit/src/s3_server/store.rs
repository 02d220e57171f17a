//! The S3 operations the test server implements: `s3s-fs`'s, with a faster GetObject body and
//! ListObjectsV2 pages cut from one walk.
//!
//! Every operation `s3s-fs` 0.14 implements is handed to its [`FileSystem`], so errors
//! (`NoSuchBucket`, `NoSuchKey`, `InvalidRange` as 416), ETags from the sidecars,
//! `Content-Range`, listing and multipart uploads behave exactly as `s3s-fs` has them. Two
//! things are done differently, for speed only: GetObject's *body*, because `s3s-fs` reads it
//! 4 KiB per trip to the blocking pool (see [`super::file_body`]), and ListObjectsV2, because
//! `s3s-fs` walks the whole bucket through the blocking pool for every page: here one walk
//! with `std::fs` serves all the pages of a listing (see [`super::listing`]; every write
//! through the server drops the kept walks).
//!
//! How GetObject works here:
//!
//! 1. open the object's file ourselves, at the path `s3s-fs` uses (`<root>/<bucket>/<key>`);
//! 2. let `s3s-fs` answer the request as usual: it opens the file too and computes the status,
//!    headers, `Content-Length`, `Content-Range` and ETag (or the error, which we return);
//! 3. check that our file is the one it described (same length, modification time and
//!    resolved range), drop its body (closing its file) and stream the same range of ours in
//!    large chunks.
//!
//! If any step cannot be matched (a key that `s3s-fs` would normalise to another path, an
//! object replaced between the two opens) the response of `s3s-fs` goes out untouched: slower,
//! never different.

use std::fs::{File, Metadata};
use std::ops::Range as ByteRange;
use std::path::{Path, PathBuf};

use s3s::dto::{
    AbortMultipartUploadInput, AbortMultipartUploadOutput, CompleteMultipartUploadInput,
    CompleteMultipartUploadOutput, CopyObjectInput, CopyObjectOutput, CreateBucketInput,
    CreateBucketOutput, CreateMultipartUploadInput, CreateMultipartUploadOutput, DeleteBucketInput,
    DeleteBucketOutput, DeleteObjectInput, DeleteObjectOutput, DeleteObjectsInput,
    DeleteObjectsOutput, GetBucketLocationInput, GetBucketLocationOutput, GetObjectInput,
    GetObjectOutput, HeadBucketInput, HeadBucketOutput, HeadObjectInput, HeadObjectOutput,
    ListBucketsInput, ListBucketsOutput, ListObjectsInput, ListObjectsOutput, ListObjectsV2Input,
    ListObjectsV2Output, ListPartsInput, ListPartsOutput, PutObjectInput, PutObjectOutput, Range,
    StreamingBlob, Timestamp, UploadPartCopyInput, UploadPartCopyOutput, UploadPartInput,
    UploadPartOutput,
};
use s3s::{S3Request, S3Response, S3Result, S3};
use s3s_fs::FileSystem;

use super::file_body::FileRange;
use super::listing::{self, ListingKey, Listings, Walk};
use super::objects;

/// `s3s-fs`'s [`FileSystem`] with GetObject bodies read in large chunks and listings paged
/// from one walk.
pub(super) struct FileStore {
    inner: FileSystem,
    /// The canonical root `inner` serves.
    root: PathBuf,
    /// Walks kept for the later pages of a listing (see [`super::listing`]).
    listings: Listings,
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileStore")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl FileStore {
    /// Serves the directory `root`, which must be canonical (absolute, no symlinks), as
    /// `s3s-fs` resolves its root that way and our paths must match its paths.
    pub(super) fn new(root: &Path) -> anyhow::Result<FileStore> {
        let inner = FileSystem::new(root)
            .map_err(|e| anyhow::anyhow!("open S3 root directory {}: {e:?}", root.display()))?;
        Ok(FileStore {
            inner,
            root: root.to_path_buf(),
            listings: Listings::default(),
        })
    }

    /// Opens the file of `bucket`/`key` as `s3s-fs` would find it, with its metadata; `None`
    /// when the key is not a plain path (`s3s-fs` would normalise it) or the open fails (then
    /// `s3s-fs` reports why).
    async fn open_object(&self, bucket: &str, key: &str) -> Option<(File, Metadata, PathBuf)> {
        let path = objects::object_path(&self.root, bucket, key).ok()?;
        let opened = tokio::task::spawn_blocking(move || {
            let file = File::open(&path)?;
            let meta = file.metadata()?;
            Ok::<_, std::io::Error>((file, meta, path))
        })
        .await;
        match opened {
            Ok(Ok(opened)) => Some(opened),
            Ok(Err(error)) => {
                tracing::debug!(bucket, key, %error, "GetObject: cannot open the object file; s3s-fs answers");
                None
            }
            Err(error) => {
                tracing::warn!(bucket, key, %error, "GetObject: the task opening the object file failed");
                None
            }
        }
    }
}

/// The byte range of the file described by `meta` that `output` (s3s-fs's answer to a GET with
/// `range`) promises, or what does not match when `output` describes another file.
fn promised_range(
    meta: &Metadata,
    range: Option<Range>,
    output: &GetObjectOutput,
) -> Result<ByteRange<u64>, &'static str> {
    let file_len = meta.len();
    let (bytes, content_range) = match range {
        None => (0..file_len, None),
        Some(range) => {
            let bytes = range
                .check(file_len)
                .map_err(|_| "the range does not fit our file's length")?;
            let content_range = format!("bytes {}-{}/{file_len}", bytes.start, bytes.end - 1);
            (bytes, Some(content_range))
        }
    };
    let len = i64::try_from(bytes.end - bytes.start).map_err(|_| "the range is too long")?;
    if output.content_length != Some(len) {
        return Err("Content-Length differs");
    }
    if output.content_range != content_range {
        return Err("Content-Range differs");
    }
    let modified = meta
        .modified()
        .map_err(|_| "the file system gives no modification time")?;
    if output.last_modified != Some(Timestamp::from(modified)) {
        return Err("Last-Modified differs");
    }
    Ok(bytes)
}

#[async_trait::async_trait]
impl S3 for FileStore {
    #[tracing::instrument(skip_all, fields(bucket = %req.input.bucket, key = %req.input.key))]
    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let range = req.input.range;
        let ours = self.open_object(&req.input.bucket, &req.input.key).await;
        let mut response = self.inner.get_object(req).await?;
        let Some((file, meta, path)) = ours else {
            return Ok(response);
        };
        match promised_range(&meta, range, &response.output) {
            Ok(bytes) => {
                // Dropping s3s-fs's body closes its file; nothing was read from it.
                drop(response.output.body.take());
                let body = FileRange::new(file, &path, bytes);
                response.output.body = Some(StreamingBlob::wrap(body));
            }
            Err(mismatch) => {
                tracing::debug!(
                    mismatch,
                    "GetObject: the object changed while opening it; s3s-fs streams it"
                );
            }
        }
        Ok(response)
    }

    // Everything else goes to s3s-fs as is: every operation it implements, so the AWS CLI
    // (`s3 cp/ls/sync/mb`, multipart), object_store and the tests see s3s-fs's behaviour.

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        self.inner.abort_multipart_upload(req).await
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let answer = self.inner.complete_multipart_upload(req).await;
        self.listings.changed();
        answer
    }

    async fn copy_object(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        let answer = self.inner.copy_object(req).await;
        self.listings.changed();
        answer
    }

    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        let answer = self.inner.create_bucket(req).await;
        self.listings.changed();
        answer
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        self.inner.create_multipart_upload(req).await
    }

    async fn delete_bucket(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        let answer = self.inner.delete_bucket(req).await;
        self.listings.changed();
        answer
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        let answer = self.inner.delete_object(req).await;
        self.listings.changed();
        answer
    }

    async fn delete_objects(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let answer = self.inner.delete_objects(req).await;
        self.listings.changed();
        answer
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        self.inner.get_bucket_location(req).await
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        self.inner.head_bucket(req).await
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        self.inner.head_object(req).await
    }

    async fn list_buckets(
        &self,
        req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        self.inner.list_buckets(req).await
    }

    async fn list_objects(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        self.inner.list_objects(req).await
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        let key = ListingKey::of(&req.input);
        if req.input.continuation_token.is_some() {
            if let Some(walk) = self.listings.get(&key) {
                return Ok(S3Response::new(walk.page(req.input)));
            }
        }
        let generation = self.listings.generation();
        let input = req.input.clone();
        let walked = match objects::bucket_dir(&self.root, &input.bucket) {
            Ok(dir) => {
                let (prefix, delimiter) = (input.prefix.clone(), input.delimiter.clone());
                tokio::task::spawn_blocking(move || {
                    if !dir.is_dir() {
                        return None;
                    }
                    listing::walk(&dir, prefix.as_deref(), delimiter.as_deref()).ok()
                })
                .await
                .ok()
                .flatten()
            }
            Err(_) => None,
        };
        // A bucket that is missing or cannot be walked: s3s-fs answers (and says why).
        let walk = match walked {
            Some(walk) => walk,
            None => {
                let whole = req.map_input(|mut i| {
                    i.continuation_token = None;
                    i.start_after = None;
                    i.max_keys = Some(i32::MAX);
                    i
                });
                Walk::from_output(self.inner.list_objects_v2(whole).await?.output)
            }
        };
        let walk = std::sync::Arc::new(walk);
        self.listings.keep(key, generation, walk.clone());
        Ok(S3Response::new(walk.page(input)))
    }

    async fn list_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        self.inner.list_parts(req).await
    }

    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let answer = self.inner.put_object(req).await;
        self.listings.changed();
        answer
    }

    async fn upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        self.inner.upload_part(req).await
    }

    async fn upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        self.inner.upload_part_copy(req).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn file_meta(len: usize) -> (tempfile::NamedTempFile, Metadata) {
        let mut tmp = tempfile::NamedTempFile::new().expect("temp file");
        tmp.write_all(&vec![7u8; len]).expect("write temp file");
        let meta = tmp.as_file().metadata().expect("stat temp file");
        (tmp, meta)
    }

    fn output_for(meta: &Metadata, len: i64, content_range: Option<&str>) -> GetObjectOutput {
        GetObjectOutput {
            content_length: Some(len),
            content_range: content_range.map(str::to_owned),
            last_modified: Some(Timestamp::from(meta.modified().expect("mtime"))),
            ..GetObjectOutput::default()
        }
    }

    #[test]
    fn whole_and_ranged_gets_of_the_same_file_match() {
        let (_tmp, meta) = file_meta(1000);
        let whole = output_for(&meta, 1000, None);
        assert_eq!(promised_range(&meta, None, &whole), Ok(0..1000));

        let ranged = output_for(&meta, 100, Some("bytes 900-999/1000"));
        let range = Range::Int {
            first: 900,
            last: Some(5000),
        };
        assert_eq!(promised_range(&meta, Some(range), &ranged), Ok(900..1000));
        let suffix = Range::Suffix { length: 100 };
        assert_eq!(promised_range(&meta, Some(suffix), &ranged), Ok(900..1000));
    }

    #[test]
    fn an_answer_about_another_file_does_not_match() {
        let (_tmp, meta) = file_meta(1000);
        // The object grew between our open and s3s-fs's.
        let longer = output_for(&meta, 1001, None);
        assert!(promised_range(&meta, None, &longer).is_err());
        let range = Range::Int {
            first: 0,
            last: Some(99),
        };
        let other_total = output_for(&meta, 100, Some("bytes 0-99/1001"));
        assert!(promised_range(&meta, Some(range), &other_total).is_err());
        // Same length, other modification time.
        let mut rewritten = output_for(&meta, 1000, None);
        rewritten.last_modified = Some(Timestamp::from(std::time::UNIX_EPOCH));
        assert!(promised_range(&meta, None, &rewritten).is_err());
    }
}
