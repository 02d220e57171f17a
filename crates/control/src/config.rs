//! `ferry serve`'s configuration file (TOML) and where the buckets that `S3BucketName` names
//! live.
//!
//! The file is parsed into raw serde structs (every field optional, unknown keys refused with
//! the key named) and validated once into [`Config`], whose fields are plain values the CLI
//! may override. A file holding secret keys must not be readable by group or others.
//!
//! ```toml
//! listen = "127.0.0.1:8900"          # the API
//! region = "us-east-1"               # SigV4 region and ARNs
//! account_id = "000000000000"        # 12 digits, in ARNs
//! advertised_host = "127.0.0.1"      # the host in cluster endpoints
//! instance_port_range = "3306-3399"  # ports allocated to clusters a request gives none
//! server_uids = "1900000000-1900099999" # when ferry runs as root: each cluster's servers run as
//!                                    # their own uid (and gid) from this range; "shared": all
//!                                    # as server_user
//! server_user = "mysql"              # with server_uids = "shared": the OS user servers run as
//! sandbox = true                     # confine each server with Landlock to its cluster's dir
//!
//! [api]                              # the HTTP edge (defaults shown)
//! header_read_timeout_secs = 30      # a request's headers must arrive within this
//! body_read_timeout_secs = 60        # and its body within this (then 408)
//! max_connections = 512              # more wait until one closes
//!
//! [console]                          # web console sessions: see config/console.rs
//! session_idle_secs = 1800
//!
//! [iam]
//! mode = "enforce"                   # every call authorized by IAM policies; "audit": log what
//!                                    # would be denied and allow it
//!
//! [import]
//! lease_seconds = 60                 # an import with no progress report for this long is
//!                                    # `interrupted` and the cluster's durability put back
//!
//! [replication]
//! connect_retry_seconds = 60         # MASTER_CONNECT_RETRY of the replicas rds_* configure
//!
//! [storage]
//! file_root = "/srv/buckets"         # bucket <name> is the directory /srv/buckets/<name>
//!
//! [[bucket]]                         # one bucket on another endpoint, with its own keys
//! name = "backups"
//! endpoint_url = "http://127.0.0.1:9000"
//! region = "us-east-1"
//! access_key_id = "AKIA..."
//! secret_access_key = "..."          # or: profile = "minio", credentials_file = "/path"
//! path_style = true                  # default: true with endpoint_url, false without
//! ```
//!
//! Bucket resolution ([`Config::bucket_source`]): a `[[bucket]]` entry of that name first; else,
//! with a `file_root`, the directory `<file_root>/<bucket>`; else S3 through the AWS
//! environment `ferry serve` was started with (`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, ...).

use std::fmt;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::str::FromStr;
use std::time::Duration;

use camino::{Utf8Path, Utf8PathBuf};
use ferry_base::aws_files::{self, FileKind, ProfileCredentials};
use ferry_base::Secret;
use ferry_restore::{S3Options, SourceUrl};
use serde::Deserialize;

mod api;
mod bounded;
mod console;
pub use api::ApiLimits;
pub use console::ConsoleConfig;

use crate::validate;
use bounded::bounded;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8900";
pub const DEFAULT_REGION: &str = "us-east-1";
pub const DEFAULT_ACCOUNT_ID: &str = "000000000000";
pub const DEFAULT_ADVERTISED_HOST: &str = "127.0.0.1";
pub const DEFAULT_PORT_RANGE: PortRange = PortRange {
    first: 3306,
    last: 3399,
};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("read the configuration file {path}")]
    Read {
        path: Utf8PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("configuration file {path}: {message}")]
    Parse { path: String, message: String },
    #[error("configuration file {path}: {key}: {reason}")]
    Invalid {
        path: String,
        key: String,
        reason: String,
    },
    #[error(
        "configuration file {path} holds secret keys but other users can read it (mode {mode:o}): \
         run `chmod 600 {path}`"
    )]
    InsecurePermissions { path: Utf8PathBuf, mode: u32 },
    /// The bucket is served from local files and its directory does not exist (the API's
    /// `InvalidS3BucketFault`).
    #[error("S3 bucket '{bucket}' not found: no directory {path}")]
    BucketNotFound { bucket: String, path: Utf8PathBuf },
    #[error("S3 bucket '{bucket}': {reason}")]
    InvalidBucket { bucket: String, reason: String },
    #[error("S3 bucket '{bucket}': credentials: {reason}")]
    BucketCredentials { bucket: String, reason: String },
}

/// The default [`Config::server_uids`]: far above the ids distributions give users and
/// system accounts, and below 2^31 (some tools read uids as signed).
pub const DEFAULT_SERVER_UIDS: UidRange = UidRange {
    first: 1_900_000_000,
    last: 1_900_099_999,
};

/// An inclusive range of uids, written `first-last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UidRange {
    pub first: u32,
    pub last: u32,
}

impl UidRange {
    pub fn contains(&self, uid: u32) -> bool {
        (self.first..=self.last).contains(&uid)
    }
}

impl fmt::Display for UidRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

impl FromStr for UidRange {
    type Err = String;

    /// `first-last`, `1000 <= first <= last < 2^31` (never root or a system account).
    fn from_str(s: &str) -> Result<UidRange, String> {
        let bad =
            || format!("{s:?} is not a uid range such as 1900000000-1900099999 or \"shared\"");
        let (a, b) = s.split_once('-').ok_or_else(bad)?;
        let first: u32 = a.trim().parse().map_err(|_| bad())?;
        let last: u32 = b.trim().parse().map_err(|_| bad())?;
        if first > last {
            return Err(format!("{s:?}: the first uid is above the last"));
        }
        if first < 1000 || last >= 1 << 31 {
            return Err(format!("{s:?}: uids must lie between 1000 and 2147483647"));
        }
        Ok(UidRange { first, last })
    }
}

/// An inclusive range of TCP ports, written `first-last` (`3306-3399`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    pub first: u16,
    pub last: u16,
}

impl PortRange {
    pub fn contains(&self, port: u16) -> bool {
        (self.first..=self.last).contains(&port)
    }

    /// The lowest port of the range not in `used`.
    pub fn first_free(&self, used: &[u16]) -> Option<u16> {
        (self.first..=self.last).find(|p| !used.contains(p))
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

impl FromStr for PortRange {
    type Err = String;

    /// `first-last`, both within RDS's port range (1150-65535), `first <= last`.
    fn from_str(s: &str) -> Result<PortRange, String> {
        let bad = || format!("{s:?} is not a port range such as 3306-3399");
        let (a, b) = s.split_once('-').ok_or_else(bad)?;
        let first: u16 = a.trim().parse().map_err(|_| bad())?;
        let last: u16 = b.trim().parse().map_err(|_| bad())?;
        if first > last {
            return Err(format!("{s:?}: the first port is above the last"));
        }
        for p in [first, last] {
            if !validate::PORT_RANGE.contains(&p) {
                return Err(format!(
                    "{s:?}: port {p} is outside the range DB clusters may use ({}-{})",
                    validate::PORT_RANGE.start(),
                    validate::PORT_RANGE.end()
                ));
            }
        }
        Ok(PortRange { first, last })
    }
}

/// The validated configuration of `ferry serve`.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Where the API listens.
    pub listen: SocketAddr,
    /// The region SigV4 requests are signed for and ARNs name.
    pub region: String,
    /// The 12-digit account in ARNs.
    pub account_id: String,
    /// The host clients are told to connect to (cluster and instance endpoints).
    pub advertised_host: String,
    /// When ferry runs as root: the OS user its MariaDB servers run as, so that a database
    /// account that gains SUPER writes files as that user, not as root. `root` (or a user
    /// that does not exist, or a data dir it cannot reach) runs them as root, with a warning.
    pub server_user: String,
    /// When ferry runs as root: the uids (each also the gid) given one per cluster, so that one
    /// cluster's server cannot touch another's files; `None` (`"shared"` in the file): every
    /// server runs as [`Config::server_user`].
    pub server_uids: Option<UidRange>,
    /// Confine each server with Landlock to its own cluster's directory (and the system's
    /// programs and libraries, read-only).
    pub sandbox: bool,
    /// Ports given to clusters whose request names none.
    pub instance_port_range: PortRange,
    /// Serve bucket `<b>` from the directory `<file_root>/<b>`.
    pub file_root: Option<Utf8PathBuf>,
    /// Buckets on their own endpoint or with their own credentials.
    pub buckets: Vec<BucketConfig>,
    /// The `[api]` table.
    pub api: ApiLimits,
    /// `[guardian] interval_ms`: how often each running instance's guardian checks that ferry
    /// still controls the server and that no account holds more than the master user's
    /// privileges (100 ms to 60 s; 1 s by default).
    pub guardian_interval: Duration,
    /// `[iam] mode`: whether IAM denials refuse the call (`enforce`, the default) or are only
    /// logged (`audit`, to ease adoption).
    pub iam_mode: IamMode,
    /// `[import] lease_seconds`: an import (`ferry import --cluster`) that reports no
    /// progress for this long is marked `interrupted` and its cluster's durability settings
    /// are put back (1 s to 1 h; 60 s by default).
    pub import_lease: Duration,
    /// `[replication] connect_retry_seconds`: the `MASTER_CONNECT_RETRY` of the replicas the
    /// `rds_set_external_master*` procedures configure (and that `rds_start_replication` or a
    /// resume after a restart puts on a replica configured with another), i.e. how long a
    /// replica that lost its source waits before trying again (1 s to 1 h; 60 s by default,
    /// as RDS).
    pub replication_connect_retry: u32,
    /// The `[console]` table.
    pub console: ConsoleConfig,
}

/// What an IAM denial does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IamMode {
    /// The call is refused with `AccessDenied`.
    Enforce,
    /// The call goes ahead; the log says it would have been denied, and by what.
    Audit,
}

/// The default of [`Config::import_lease`].
pub const DEFAULT_IMPORT_LEASE: Duration = Duration::from_secs(60);

/// The default of [`Config::guardian_interval`].
pub const DEFAULT_GUARDIAN_INTERVAL: Duration = Duration::from_secs(1);

impl Default for Config {
    fn default() -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8900)),
            region: DEFAULT_REGION.to_string(),
            account_id: DEFAULT_ACCOUNT_ID.to_string(),
            advertised_host: DEFAULT_ADVERTISED_HOST.to_string(),
            server_user: "mysql".to_string(),
            server_uids: Some(DEFAULT_SERVER_UIDS),
            sandbox: true,
            instance_port_range: DEFAULT_PORT_RANGE,
            file_root: None,
            buckets: Vec::new(),
            api: ApiLimits::default(),
            guardian_interval: DEFAULT_GUARDIAN_INTERVAL,
            iam_mode: IamMode::Enforce,
            import_lease: DEFAULT_IMPORT_LEASE,
            replication_connect_retry: ferry_replication::agent::DEFAULT_CONNECT_RETRY_SECS,
            console: ConsoleConfig::default(),
        }
    }
}

/// One `[[bucket]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketConfig {
    pub name: String,
    /// `http(s)://host[:port]`, without a trailing `/`; `None`: the environment's
    /// `AWS_ENDPOINT_URL` if set, else AWS.
    pub endpoint_url: Option<String>,
    pub region: Option<String>,
    pub credentials: BucketCredentials,
    /// Path-style requests (`host/bucket/key`) rather than virtual-hosted (`bucket.host/key`).
    pub path_style: bool,
}

/// Where a mapped bucket's credentials come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketCredentials {
    /// The AWS environment `ferry serve` was started with.
    Environment,
    Static {
        access_key_id: String,
        secret_access_key: Secret,
        session_token: Option<Secret>,
    },
    /// A profile of an AWS shared-credentials file (default: `AWS_SHARED_CREDENTIALS_FILE`,
    /// else `~/.aws/credentials`), read each time a restore opens the bucket.
    Profile {
        profile: String,
        credentials_file: Option<Utf8PathBuf>,
    },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    listen: Option<String>,
    region: Option<String>,
    account_id: Option<String>,
    advertised_host: Option<String>,
    instance_port_range: Option<String>,
    server_user: Option<String>,
    server_uids: Option<String>,
    sandbox: Option<bool>,
    storage: Option<RawStorage>,
    api: Option<api::RawApi>,
    guardian: Option<RawGuardian>,
    iam: Option<RawIam>,
    import: Option<RawImport>,
    replication: Option<RawReplication>,
    console: Option<console::RawConsole>,
    #[serde(default)]
    bucket: Vec<RawBucket>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGuardian {
    interval_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImport {
    lease_seconds: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReplication {
    connect_retry_seconds: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIam {
    mode: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStorage {
    file_root: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBucket {
    name: String,
    endpoint_url: Option<String>,
    region: Option<String>,
    access_key_id: Option<String>,
    secret_access_key: Option<Secret>,
    session_token: Option<Secret>,
    profile: Option<String>,
    credentials_file: Option<String>,
    path_style: Option<bool>,
}

impl RawConfig {
    fn has_secrets(&self) -> bool {
        self.bucket
            .iter()
            .any(|b| b.secret_access_key.is_some() || b.session_token.is_some())
    }
}

impl Config {
    /// The configuration in `path`, or the defaults when there is no file.
    pub fn load(path: Option<&Utf8Path>) -> Result<Config, ConfigError> {
        let Some(path) = path else {
            return Ok(Config::default());
        };
        let read_err = |source| ConfigError::Read {
            path: path.to_owned(),
            source,
        };
        let text = std::fs::read_to_string(path).map_err(read_err)?;
        let raw = parse_raw(&text, path.as_str())?;
        if raw.has_secrets() {
            let mode = std::fs::metadata(path)
                .map_err(read_err)?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(ConfigError::InsecurePermissions {
                    path: path.to_owned(),
                    mode: mode & 0o7777,
                });
            }
        }
        Config::from_raw(raw, path.as_str())
    }

    /// Parses configuration text; `origin` names it in errors. No permission check (that is
    /// [`Config::load`]'s, which has a file).
    pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
        Config::from_raw(parse_raw(text, origin)?, origin)
    }

    fn from_raw(raw: RawConfig, origin: &str) -> Result<Config, ConfigError> {
        let invalid = |key: &str, reason: String| ConfigError::Invalid {
            path: origin.to_string(),
            key: key.to_string(),
            reason,
        };
        let defaults = Config::default();
        let listen = match raw.listen {
            None => defaults.listen,
            Some(l) => l.parse().map_err(|_| {
                invalid(
                    "listen",
                    format!("{l:?} is not an address such as {DEFAULT_LISTEN}"),
                )
            })?,
        };
        let region = match raw.region {
            None => defaults.region,
            Some(r) if is_region(&r) => r,
            Some(r) => {
                return Err(invalid(
                    "region",
                    format!("{r:?} is not a region such as us-east-1"),
                ))
            }
        };
        let account_id = match raw.account_id {
            None => defaults.account_id,
            Some(a) if a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()) => a,
            Some(a) => return Err(invalid("account_id", format!("{a:?} is not 12 digits"))),
        };
        let advertised_host = match raw.advertised_host {
            None => defaults.advertised_host,
            Some(h) if is_host(&h) => h,
            Some(h) => {
                return Err(invalid(
                    "advertised_host",
                    format!("{h:?} is not a host name or IP address"),
                ))
            }
        };
        let server_user = match raw.server_user {
            None => defaults.server_user,
            Some(u)
                if !u.is_empty()
                    && u.len() <= 32
                    && u.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) =>
            {
                u
            }
            Some(u) => return Err(invalid("server_user", format!("{u:?} is not a user name"))),
        };
        let server_uids = match raw.server_uids.as_deref() {
            None => defaults.server_uids,
            Some("shared") => None,
            Some(r) => Some(r.parse().map_err(|e| invalid("server_uids", e))?),
        };
        let sandbox = raw.sandbox.unwrap_or(defaults.sandbox);
        let instance_port_range = match raw.instance_port_range {
            None => defaults.instance_port_range,
            Some(r) => r.parse().map_err(|e| invalid("instance_port_range", e))?,
        };
        let file_root = raw
            .storage
            .and_then(|s| s.file_root)
            .map(|root| file_root(&root).map_err(|e| invalid("storage.file_root", e)))
            .transpose()?;
        let api = api::api_limits(raw.api.unwrap_or_default()).map_err(|(k, e)| invalid(k, e))?;
        let console =
            console::console(raw.console.unwrap_or_default()).map_err(|(k, e)| invalid(k, e))?;
        let within = |key, value, range, unit| {
            bounded(key, value, range, unit).map_err(|(k, e)| invalid(k, e))
        };
        let guardian_interval = within(
            "guardian.interval_ms",
            raw.guardian.and_then(|g| g.interval_ms),
            100..=60_000,
            "milliseconds",
        )?
        .map_or(DEFAULT_GUARDIAN_INTERVAL, Duration::from_millis);
        let iam_mode = match raw.iam.and_then(|i| i.mode).as_deref() {
            None | Some("enforce") => IamMode::Enforce,
            Some("audit") => IamMode::Audit,
            Some(other) => {
                return Err(invalid(
                    "iam.mode",
                    format!("{other:?} is not \"enforce\" or \"audit\""),
                ))
            }
        };
        let import_lease = within(
            "import.lease_seconds",
            raw.import.and_then(|i| i.lease_seconds),
            1..=3600,
            "seconds",
        )?
        .map_or(DEFAULT_IMPORT_LEASE, Duration::from_secs);
        let replication_connect_retry = within(
            "replication.connect_retry_seconds",
            raw.replication.and_then(|r| r.connect_retry_seconds),
            1..=3600,
            "seconds",
        )?
        // At most 3600: fits.
        .map_or(ferry_replication::agent::DEFAULT_CONNECT_RETRY_SECS, |s| {
            s as u32
        });
        let mut buckets: Vec<BucketConfig> = Vec::new();
        for b in raw.bucket {
            let key = format!("bucket '{}'", b.name);
            let bucket = bucket_config(b).map_err(|e| invalid(&key, e))?;
            if buckets.iter().any(|other| other.name == bucket.name) {
                return Err(invalid(&key, "the bucket is configured twice".into()));
            }
            buckets.push(bucket);
        }
        Ok(Config {
            listen,
            region,
            account_id,
            advertised_host,
            server_user,
            server_uids,
            sandbox,
            instance_port_range,
            file_root,
            buckets,
            api,
            guardian_interval,
            iam_mode,
            import_lease,
            replication_connect_retry,
            console,
        })
    }

    /// Where `S3BucketName` = `bucket`, `S3Prefix` = `prefix` is read from: a `[[bucket]]`
    /// entry first, else `<file_root>/<bucket>/<prefix>` (`BucketNotFound` when the bucket's
    /// directory is missing), else S3 through the environment `ferry serve` runs in.
    pub fn bucket_source(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<(SourceUrl, S3Options), ConfigError> {
        let invalid = |e: validate::ValidationError| ConfigError::InvalidBucket {
            bucket: bucket.to_string(),
            reason: e.message,
        };
        validate::s3_bucket_name(bucket).map_err(invalid)?;
        let prefix = validate::s3_prefix(prefix).map_err(invalid)?;
        if let Some(b) = self.buckets.iter().find(|b| b.name == bucket) {
            let mut opts = S3Options {
                endpoint_url: b.endpoint_url.clone(),
                region: b.region.clone(),
                virtual_hosted_style: !b.path_style,
                ..S3Options::default()
            };
            let keys = match &b.credentials {
                BucketCredentials::Environment => None,
                BucketCredentials::Static {
                    access_key_id,
                    secret_access_key,
                    session_token,
                } => Some(ProfileCredentials {
                    access_key_id: access_key_id.clone(),
                    secret_access_key: secret_access_key.clone(),
                    session_token: session_token.clone(),
                }),
                BucketCredentials::Profile {
                    profile,
                    credentials_file,
                } => Some(profile_keys(profile, credentials_file.as_deref()).map_err(
                    |reason| ConfigError::BucketCredentials {
                        bucket: bucket.to_string(),
                        reason,
                    },
                )?),
            };
            if let Some(keys) = keys {
                opts.access_key_id = Some(keys.access_key_id);
                opts.secret_access_key = Some(keys.secret_access_key);
                opts.session_token = keys.session_token;
            }
            let url = SourceUrl::S3 {
                bucket: bucket.to_string(),
                prefix,
            };
            return Ok((url, opts));
        }
        if let Some(root) = &self.file_root {
            let dir = root.join(bucket);
            if !dir.is_dir() {
                return Err(ConfigError::BucketNotFound {
                    bucket: bucket.to_string(),
                    path: dir,
                });
            }
            let path = if prefix.is_empty() {
                dir
            } else {
                dir.join(&prefix)
            };
            return Ok((
                SourceUrl::Local(path.into_std_path_buf()),
                S3Options::default(),
            ));
        }
        let url = SourceUrl::S3 {
            bucket: bucket.to_string(),
            prefix,
        };
        Ok((url, S3Options::default()))
    }
}

/// Parses the TOML. The error names the line and column but never quotes the line: it may
/// hold a secret key.
fn parse_raw(text: &str, origin: &str) -> Result<RawConfig, ConfigError> {
    toml::from_str(text).map_err(|e: toml::de::Error| {
        let message = e.message().trim_end();
        let message = match e.span() {
            Some(span) => {
                let before = text.get(..span.start).unwrap_or(text);
                let line = before.matches('\n').count() + 1;
                let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                format!("line {line}, column {column}: {message}")
            }
            None => message.to_string(),
        };
        ConfigError::Parse {
            path: origin.to_string(),
            message,
        }
    })
}

/// `us-east-1`, `eu-central-2`, `cn-north-1`, `us-gov-west-1`, or a private name of the same
/// shape (lower-case letters, digits and hyphens).
fn is_region(r: &str) -> bool {
    !r.is_empty()
        && r.len() <= 32
        && r.starts_with(|c: char| c.is_ascii_lowercase())
        && r.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A DNS name or an IP address (IPv6 without brackets).
fn is_host(h: &str) -> bool {
    if h.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    !h.is_empty()
        && h.len() <= 253
        && h.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// `/dir` or `file:///dir`: an existing directory, absolute.
fn file_root(root: &str) -> Result<Utf8PathBuf, String> {
    let path = Utf8PathBuf::from(root.strip_prefix("file://").unwrap_or(root));
    if !path.is_absolute() {
        return Err(format!(
            "{root:?} must be an absolute path (or file:///path)"
        ));
    }
    if !path.is_dir() {
        return Err(format!("{path} does not exist or is not a directory"));
    }
    Ok(path)
}

fn bucket_config(b: RawBucket) -> Result<BucketConfig, String> {
    validate::s3_bucket_name(&b.name).map_err(|e| e.message)?;
    let endpoint_url = b
        .endpoint_url
        .map(|ep| {
            if ep.starts_with("http://") || ep.starts_with("https://") {
                Ok(ep.trim_end_matches('/').to_string())
            } else {
                Err(format!(
                    "endpoint_url {ep:?} must start with http:// or https://"
                ))
            }
        })
        .transpose()?;
    if let Some(r) = &b.region {
        if !is_region(r) {
            return Err(format!("region {r:?} is not a region such as us-east-1"));
        }
    }
    let keys = (b.access_key_id, b.secret_access_key, b.session_token);
    let credentials =
        match (keys, b.profile, b.credentials_file) {
            ((None, None, None), None, None) => BucketCredentials::Environment,
            ((Some(access_key_id), Some(secret_access_key), session_token), None, None) => {
                BucketCredentials::Static {
                    access_key_id,
                    secret_access_key,
                    session_token,
                }
            }
            ((None, None, None), profile, file) => {
                let profile = profile.unwrap_or_else(|| "default".to_string());
                let credentials_file = file.map(Utf8PathBuf::from);
                // Fail at start rather than at the first restore.
                profile_keys(&profile, credentials_file.as_deref())?;
                BucketCredentials::Profile {
                    profile,
                    credentials_file,
                }
            }
            ((Some(_), Some(_), _), _, _) => return Err(
                "give either access_key_id + secret_access_key or profile (+ credentials_file), \
                 not both"
                    .into(),
            ),
            _ => return Err(
                "access_key_id and secret_access_key go together (session_token only with them)"
                    .into(),
            ),
        };
    Ok(BucketConfig {
        name: b.name,
        path_style: b.path_style.unwrap_or(endpoint_url.is_some()),
        endpoint_url,
        region: b.region,
        credentials,
    })
}

/// The key pair (and token) of `profile` in a shared-credentials file.
fn profile_keys(profile: &str, file: Option<&Utf8Path>) -> Result<ProfileCredentials, String> {
    let path = match file {
        Some(f) => f.as_std_path().to_owned(),
        None => aws_files::credentials_file()
            .ok_or_else(|| "HOME is not set: give credentials_file".to_string())?,
    };
    let shown = path.display();
    let text = std::fs::read_to_string(&path).map_err(|e| format!("read {shown}: {e}"))?;
    aws_files::Profiles::parse(&text, FileKind::Credentials)
        .get(profile)
        .ok_or_else(|| format!("no [{profile}] profile in {shown}"))?
        .credentials()
        .ok_or_else(|| {
            format!(
                "the [{profile}] profile in {shown} lacks aws_access_key_id or \
                 aws_secret_access_key"
            )
        })
}

#[cfg(test)]
mod tests;
