//! Where backups are read from: a local directory (`/path`, `file:///path`) or an
//! S3-compatible bucket (`s3://bucket/prefix`), both behind `object_store`'s one trait.
//!
//! S3 settings come first from the explicit [`S3Options`], then from the standard AWS
//! environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
//! `AWS_REGION` / `AWS_DEFAULT_REGION`, `AWS_ENDPOINT_URL`), then from the shared credentials
//! file (`AWS_PROFILE`, default `default`). Requests are path-style unless
//! [`S3Options::virtual_hosted_style`] is set.
//! ferry never falls back to the EC2 instance metadata service: with no credentials at all it
//! refuses with a clear error unless `no_sign_request` is set.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use object_store::aws::{AmazonS3Builder, AwsCredential};
use object_store::local::LocalFileSystem;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStore, RetryConfig, StaticCredentialProvider,
};

use ferry_base::aws_files;
use ferry_base::Secret;

use crate::error::RestoreError;

/// A parsed SOURCE argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceUrl {
    Local(PathBuf),
    S3 { bucket: String, prefix: String },
}

impl SourceUrl {
    pub fn parse(s: &str) -> Result<Self, RestoreError> {
        let invalid = |reason: &str| RestoreError::InvalidSource {
            source_url: s.to_string(),
            reason: reason.to_string(),
        };
        if let Some(rest) = s.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(invalid("no bucket name after s3://"));
            }
            if !bucket
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
            {
                return Err(invalid(
                    "bucket names use letters, digits, '-', '.' and '_'",
                ));
            }
            let prefix = prefix.trim_matches('/').to_string();
            return Ok(SourceUrl::S3 {
                bucket: bucket.to_string(),
                prefix,
            });
        }
        if let Some(rest) = s.strip_prefix("file://") {
            if !rest.starts_with('/') {
                return Err(invalid("file:// URLs need an absolute path (file:///dir)"));
            }
            return Ok(SourceUrl::Local(PathBuf::from(rest)));
        }
        if s.contains("://") {
            return Err(invalid(
                "unsupported scheme: use a local path, file:///path or s3://bucket/prefix",
            ));
        }
        if s.is_empty() {
            return Err(invalid("empty source"));
        }
        Ok(SourceUrl::Local(PathBuf::from(s)))
    }

    /// A stable, credential-free rendering used in messages and in staging fingerprints.
    pub fn display(&self) -> String {
        match self {
            SourceUrl::Local(p) => p.display().to_string(),
            SourceUrl::S3 { bucket, prefix } if prefix.is_empty() => format!("s3://{bucket}"),
            SourceUrl::S3 { bucket, prefix } => format!("s3://{bucket}/{prefix}"),
        }
    }
}

/// Options for S3-compatible sources. The SSE-C key, the secret access key and the session
/// token are [`Secret`]s.
#[derive(Debug, Clone, Default)]
pub struct S3Options {
    /// Overrides `AWS_ENDPOINT_URL`.
    pub endpoint_url: Option<String>,
    /// Overrides `AWS_REGION`; default `us-east-1`.
    pub region: Option<String>,
    /// SSE-C customer key: 32 raw bytes, or their base64 encoding.
    pub sse_c_key: Option<Secret>,
    /// Send unsigned requests (public buckets).
    pub no_sign_request: bool,
    /// Per-request timeout (0 = default 5 minutes).
    pub request_timeout: Option<Duration>,
    /// Explicit credentials, used ahead of the environment and the shared credentials file.
    /// The key id and the secret come together; the token only with them.
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<Secret>,
    pub session_token: Option<Secret>,
    /// Address the bucket virtual-hosted-style (`https://bucket.host/key`) rather than
    /// path-style (`https://host/bucket/key`, the default, which every S3-compatible server
    /// understands). With a custom endpoint the bucket is prefixed to its host.
    pub virtual_hosted_style: bool,
}

/// An opened source: the store and the prefix inside it.
#[derive(Debug, Clone)]
pub struct Source {
    pub url: SourceUrl,
    pub store: Arc<dyn ObjectStore>,
    pub prefix: Option<object_store::path::Path>,
    /// True for local files: reads are `pread`s, not HTTP.
    pub local: bool,
}

impl Source {
    pub fn open(url: &SourceUrl, opts: &S3Options) -> Result<Source, RestoreError> {
        match url {
            SourceUrl::Local(path) => open_local(url, path),
            SourceUrl::S3 { bucket, prefix } => open_s3(url, bucket, prefix, opts),
        }
    }

    /// The key of `location` relative to the prefix.
    pub fn relative_key<'a>(&self, location: &'a str) -> &'a str {
        match &self.prefix {
            Some(p) if !p.as_ref().is_empty() => location
                .strip_prefix(p.as_ref())
                .map(|r| r.trim_start_matches('/'))
                .unwrap_or(location),
            _ => location,
        }
    }

    /// The store location of a key relative to the prefix.
    pub fn location(&self, relative: &str) -> object_store::path::Path {
        match &self.prefix {
            Some(p) if !p.as_ref().is_empty() => {
                store_path(&format!("{}/{}", p.as_ref(), relative))
            }
            _ => store_path(relative),
        }
    }
}

/// A store path from a key exactly as listed. `Path::from` would percent-encode characters
/// such as `#` (common in MariaDB partition files, `t#P#p0.ibd`) and name another object.
pub fn store_path(key: &str) -> object_store::path::Path {
    object_store::path::Path::parse(key).unwrap_or_else(|_| object_store::path::Path::from(key))
}

fn open_local(url: &SourceUrl, path: &Path) -> Result<Source, RestoreError> {
    let meta = std::fs::metadata(path).map_err(|e| RestoreError::InvalidSource {
        source_url: url.display(),
        reason: e.to_string(),
    })?;
    if !meta.is_dir() {
        return Err(RestoreError::InvalidSource {
            source_url: url.display(),
            reason: "not a directory".into(),
        });
    }
    let store = LocalFileSystem::new_with_prefix(path).map_err(|e| RestoreError::Store {
        source_url: url.display(),
        reason: e.to_string(),
    })?;
    Ok(Source {
        url: url.clone(),
        store: Arc::new(store),
        prefix: None,
        local: true,
    })
}

fn open_s3(
    url: &SourceUrl,
    bucket: &str,
    prefix: &str,
    opts: &S3Options,
) -> Result<Source, RestoreError> {
    let store_err = |reason: String| RestoreError::Store {
        source_url: url.display(),
        reason,
    };
    let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
    // Client options first: setting them later would reset allow_http.
    let timeout = opts.request_timeout.unwrap_or(Duration::from_secs(300));
    builder = builder
        .with_client_options(
            ClientOptions::new()
                .with_timeout(timeout)
                .with_connect_timeout(Duration::from_secs(10))
                .with_pool_max_idle_per_host(32),
        )
        .with_retry(RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(5),
                base: 2.0,
            },
            max_retries: 4,
            retry_timeout: Duration::from_secs(120),
        });

    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let has_env_keys = env("AWS_ACCESS_KEY_ID").is_some() && env("AWS_SECRET_ACCESS_KEY").is_some();
    let profile_name = env("AWS_PROFILE").unwrap_or_else(|| "default".to_string());
    let profile = aws_files::load_profile(&profile_name);

    let explicit = match (&opts.access_key_id, &opts.secret_access_key) {
        (Some(key_id), Some(secret_key)) => Some(AwsCredential {
            key_id: key_id.clone(),
            secret_key: secret_key.expose().to_owned(),
            token: opts.session_token.as_ref().map(|t| t.expose().to_owned()),
        }),
        (None, None) if opts.session_token.is_none() => None,
        _ => {
            return Err(store_err(
                "explicit S3 credentials need both an access key id and a secret access key \
                 (and a session token only with them)"
                    .to_string(),
            ))
        }
    };
    if let (Some(credential), false) = (explicit, opts.no_sign_request) {
        // A provider overrides every other credential source, including an AWS_SESSION_TOKEN
        // in the environment that would otherwise be sent along with these keys.
        builder = builder.with_credentials(Arc::new(StaticCredentialProvider::new(credential)));
    } else if !has_env_keys && !opts.no_sign_request {
        match profile.as_ref().and_then(|p| p.credentials()) {
            Some(keys) => {
                builder = builder
                    .with_access_key_id(keys.access_key_id)
                    .with_secret_access_key(keys.secret_access_key.expose());
                if let Some(t) = &keys.session_token {
                    builder = builder.with_token(t.expose());
                }
            }
            None => {
                return Err(store_err(format!(
                    "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a \
                     [{profile_name}] profile in the shared credentials file, or use \
                     --no-sign-request for a public bucket"
                )))
            }
        }
    }
    if opts.no_sign_request {
        builder = builder.with_skip_signature(true);
    }

    let region = opts
        .region
        .clone()
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .or_else(|| profile.as_ref().and_then(|p| p.region()).map(str::to_owned))
        .unwrap_or_else(|| "us-east-1".to_string());
    builder = builder.with_region(region);

    let endpoint = opts
        .endpoint_url
        .clone()
        .or_else(|| env("AWS_ENDPOINT_URL_S3"))
        .or_else(|| env("AWS_ENDPOINT_URL"))
        .or_else(|| {
            profile
                .as_ref()
                .and_then(|p| p.endpoint_url())
                .map(str::to_owned)
        });
    if let Some(ep) = endpoint {
        let ep = ep.trim_end_matches('/').to_string();
        if !(ep.starts_with("http://") || ep.starts_with("https://")) {
            return Err(store_err(format!(
                "endpoint URL {ep:?} must start with http:// or https://"
            )));
        }
        let ep = if opts.virtual_hosted_style {
            virtual_hosted_endpoint(&ep, bucket)
        } else {
            ep
        };
        builder = builder
            .with_allow_http(ep.starts_with("http://"))
            .with_endpoint(ep)
            .with_virtual_hosted_style_request(opts.virtual_hosted_style);
    } else if opts.virtual_hosted_style {
        builder = builder.with_virtual_hosted_style_request(true);
    }

    if let Some(key) = &opts.sse_c_key {
        builder = builder.with_ssec_encryption(sse_c_key_base64(key.expose()).map_err(store_err)?);
    }

    let store = builder.build().map_err(|e| store_err(e.to_string()))?;
    let prefix = if prefix.is_empty() {
        None
    } else {
        Some(store_path(prefix))
    };
    Ok(Source {
        url: url.clone(),
        store: Arc::new(store),
        prefix,
        local: false,
    })
}

/// `scheme://host...` -> `scheme://bucket.host...`: with virtual-hosted-style requests
/// object_store uses a custom endpoint as is, so it must name the bucket.
fn virtual_hosted_endpoint(endpoint: &str, bucket: &str) -> String {
    match endpoint.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{bucket}.{rest}"),
        None => format!("{bucket}.{endpoint}"),
    }
}

/// The SSE-C key as object_store wants it (base64 of the 32 raw key bytes).
fn sse_c_key_base64(key: &str) -> Result<String, String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    if key.len() == 32 {
        return Ok(b64.encode(key.as_bytes()));
    }
    match b64.decode(key.trim()) {
        Ok(raw) if raw.len() == 32 => Ok(key.trim().to_string()),
        _ => Err("the SSE-C key must be 32 bytes, given raw or base64-encoded".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sources() {
        assert_eq!(
            SourceUrl::parse("s3://b/p/q/").unwrap(),
            SourceUrl::S3 {
                bucket: "b".into(),
                prefix: "p/q".into()
            }
        );
        assert_eq!(
            SourceUrl::parse("s3://b").unwrap(),
            SourceUrl::S3 {
                bucket: "b".into(),
                prefix: "".into()
            }
        );
        assert_eq!(
            SourceUrl::parse("file:///tmp/x").unwrap(),
            SourceUrl::Local("/tmp/x".into())
        );
        assert_eq!(
            SourceUrl::parse("rel/dir").unwrap(),
            SourceUrl::Local("rel/dir".into())
        );
        let err = SourceUrl::parse("gs://x").unwrap_err().to_string();
        assert!(err.contains("unsupported scheme"), "{err}");
        assert!(SourceUrl::parse("s3:///x").is_err());
        assert!(SourceUrl::parse("file://rel").is_err());
    }

    #[test]
    fn options_debug_redacts_secrets() {
        let opts = S3Options {
            access_key_id: Some("AKIAEXAMPLE".into()),
            secret_access_key: Some("wJalrXUtnFEMI".into()),
            session_token: Some("FwoGZXIvYXdzE".into()),
            sse_c_key: Some("0123456789abcdef0123456789abcdef".into()),
            ..Default::default()
        };
        let shown = format!("{opts:?}");
        assert!(shown.contains("AKIAEXAMPLE"), "{shown}");
        for secret in ["wJalrXUtnFEMI", "FwoGZXIvYXdzE", "0123456789abcdef"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn explicit_credentials_come_in_pairs() {
        let url = SourceUrl::parse("s3://bucket/prefix").unwrap();
        for opts in [
            S3Options {
                access_key_id: Some("AKIA".into()),
                ..Default::default()
            },
            S3Options {
                secret_access_key: Some("secret".into()),
                ..Default::default()
            },
            S3Options {
                session_token: Some("token".into()),
                ..Default::default()
            },
        ] {
            let err = Source::open(&url, &opts).unwrap_err().to_string();
            assert!(err.contains("both an access key id and a secret"), "{err}");
        }
        // With both, no environment or profile is needed to open the source.
        let opts = S3Options {
            access_key_id: Some("AKIA".into()),
            secret_access_key: Some("secret".into()),
            endpoint_url: Some("http://127.0.0.1:9".into()),
            ..Default::default()
        };
        assert!(Source::open(&url, &opts).is_ok());
    }

    #[test]
    fn virtual_hosted_endpoints_name_the_bucket() {
        assert_eq!(
            virtual_hosted_endpoint("https://s3.example.com:9000", "b"),
            "https://b.s3.example.com:9000"
        );
        assert_eq!(
            virtual_hosted_endpoint("s3.example.com", "b"),
            "b.s3.example.com"
        );
    }

    #[test]
    fn sse_c_keys() {
        let raw = "0123456789abcdef0123456789abcdef";
        let enc = sse_c_key_base64(raw).unwrap();
        assert_eq!(sse_c_key_base64(&enc).unwrap(), enc);
        assert!(sse_c_key_base64("short").is_err());
    }
}
