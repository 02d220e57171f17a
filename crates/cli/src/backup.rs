//! `ferry backup inspect` and `ferry backup restore`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use ferry_restore::{FetchOptions, Progress, RestoreOptions, S3Options, Source, SourceUrl};

use crate::output;
use crate::progress::Reporter;

#[derive(Subcommand)]
pub enum BackupCommand {
    /// Discover and validate the backup sets under SOURCE and print the restore plan.
    ///
    /// Exits 0 when the sets form a restorable chain, 2 when they do not (the problems are
    /// listed), 1 on any other error.
    Inspect {
        #[command(flatten)]
        source: SourceArgs,
        /// Print one JSON document (see docs/inspect-json.md) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Fetch, unpack and prepare the whole chain into a datadir that mariadbd starts on.
    Restore {
        #[command(flatten)]
        source: SourceArgs,
        /// Where the prepared datadir goes. Must not exist or be an empty directory.
        #[arg(long)]
        target_dir: PathBuf,
        /// Where sets are unpacked and prepared meanwhile (default: a hidden sibling of
        /// the target directory). Kept after a transient failure so a rerun resumes.
        #[arg(long)]
        staging_dir: Option<PathBuf>,
        /// Requests in flight to the object store, whatever their size. Default: 8 for
        /// large objects (ranges of one block each) and up to 32 for objects under 1/8 of a
        /// block (a backup of many small tables is bound by latency, not bytes).
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..=64))]
        parallel: Option<u16>,
        /// Backup sets fetched and unpacked at once.
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=16))]
        sets_parallel: u16,
        /// Memory for the backup tool's prepare (`--use-memory`), e.g. `512M`, `2G`.
        #[arg(long, value_parser = parse_size)]
        prepare_memory: Option<u64>,
        /// Print the result as one JSON document.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct SourceArgs {
    /// A local directory, file:///path, or s3://bucket/prefix.
    source: String,
    /// S3-compatible endpoint (default: AWS_ENDPOINT_URL, else AWS).
    #[arg(long)]
    endpoint_url: Option<String>,
    /// Region (default: AWS_REGION, the profile's, else us-east-1).
    #[arg(long)]
    region: Option<String>,
    /// SSE-C customer key for the objects (32 bytes, raw or base64).
    #[arg(long, env = "FERRY_SSE_C_KEY", hide_env_values = true)]
    sse_c_key: Option<String>,
    /// Do not sign requests (public buckets).
    #[arg(long)]
    no_sign_request: bool,
    #[command(flatten)]
    tuning: Tuning,
}

/// Transfer tuning; mostly for tests and benchmarks.
#[derive(Args)]
struct Tuning {
    /// Bytes per ranged GET.
    #[arg(long, default_value_t = 8 << 20, hide = true)]
    block_size: u64,
    /// Seconds without a byte before a transfer is abandoned and resumed.
    #[arg(long, default_value_t = 30.0, hide = true)]
    stall_timeout: f64,
    /// Consecutive failed attempts (without progress) before giving up on an object.
    #[arg(long, default_value_t = 8, hide = true)]
    max_attempts: u32,
    /// First retry backoff in milliseconds (doubles per attempt).
    #[arg(long, default_value_t = 200, hide = true)]
    retry_backoff_ms: u64,
    /// Seconds one request may take in all.
    #[arg(long, default_value_t = 300.0, hide = true)]
    request_timeout: f64,
}

impl SourceArgs {
    fn open(&self) -> anyhow::Result<Source> {
        let url = SourceUrl::parse(&self.source)?;
        let opts = S3Options {
            endpoint_url: self.endpoint_url.clone(),
            region: self.region.clone(),
            sse_c_key: self.sse_c_key.clone().map(Into::into),
            no_sign_request: self.no_sign_request,
            request_timeout: Some(Duration::from_secs_f64(
                self.tuning.request_timeout.max(0.1),
            )),
            ..Default::default()
        };
        Ok(Source::open(&url, &opts)?)
    }

    /// The fetcher's tuning; `parallel`, when given, bounds every request alike.
    fn fetch_options(&self, parallel: Option<u16>) -> FetchOptions {
        let defaults = FetchOptions::default();
        let (parallel, small_parallel) = match parallel {
            Some(n) => (usize::from(n), usize::from(n)),
            None => (defaults.parallel, defaults.small_parallel),
        };
        FetchOptions {
            parallel,
            small_parallel,
            block_size: self.tuning.block_size.max(64 << 10),
            max_attempts: self.tuning.max_attempts.max(1),
            initial_backoff: Duration::from_millis(self.tuning.retry_backoff_ms),
            max_backoff: Duration::from_secs(5)
                .max(Duration::from_millis(self.tuning.retry_backoff_ms)),
            stall_timeout: Duration::from_secs_f64(self.tuning.stall_timeout.max(0.1)),
        }
    }
}

pub async fn run(cmd: BackupCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        BackupCommand::Inspect { source, json } => {
            let src = source.open()?;
            let progress = Arc::new(Progress::new());
            let reporter = Reporter::start(progress.clone(), json);
            let result = ferry_restore::inspect(&src, source.fetch_options(None), progress).await;
            reporter.finish().await;
            let report = result.with_context(|| format!("inspect {}", src.url.display()))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", output::inspect_text(&report));
            }
            Ok(if report.restorable {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
        BackupCommand::Restore {
            source,
            target_dir,
            staging_dir,
            parallel,
            sets_parallel,
            prepare_memory,
            json,
        } => {
            let src = source.open()?;
            let mut opts = RestoreOptions::new(target_dir);
            opts.staging_dir = staging_dir;
            opts.fetch = source.fetch_options(parallel);
            opts.sets_parallel = sets_parallel as usize;
            opts.prepare_memory = prepare_memory;
            let progress = Arc::new(Progress::new());
            let reporter = Reporter::start(progress.clone(), json);
            let result = tokio::select! {
                r = ferry_restore::restore(&src, &opts, progress) => r,
                _ = tokio::signal::ctrl_c() => Err(ferry_restore::RestoreError::Interrupted),
            };
            reporter.finish().await;
            if let Err(ferry_restore::RestoreError::Interrupted) = &result {
                let staging = opts.staging_dir.clone().unwrap_or_else(|| {
                    ferry_restore::staging::Staging::default_for(&opts.target_dir)
                });
                if staging.exists() {
                    eprintln!(
                        "Interrupted. Work done so far is kept in {}: run the same command again to resume.",
                        staging.display()
                    );
                }
            }
            let report = result.with_context(|| {
                format!(
                    "restore {} into {}",
                    src.url.display(),
                    opts.target_dir.display()
                )
            })?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", output::restore_text(&report));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Parses `512M`, `2G`, `1048576` into bytes.
fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&s[..s.len() - 1], 1u64 << 10),
        Some('M') => (&s[..s.len() - 1], 1 << 20),
        Some('G') => (&s[..s.len() - 1], 1 << 30),
        Some('T') => (&s[..s.len() - 1], 1 << 40),
        _ => (s, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("{s:?} is not a size such as 512M or 2G"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes() {
        assert_eq!(super::parse_size("512M"), Ok(512 << 20));
        assert_eq!(super::parse_size("2g"), Ok(2 << 30));
        assert_eq!(super::parse_size("1000"), Ok(1000));
        assert!(super::parse_size("lots").is_err());
    }
}
