//! `ferry-load`: a load generator for ferry's RDS Query API (bench/api runs it).
//!
//! N clients, each on its own keep-alive connection, send one action (`DescribeDBClusters` by
//! default) back to back for a fixed time. Every request is signed with SigV4 at the moment it
//! is sent, as an AWS SDK signs it, with the same signer as ferry's own client
//! ([`ferry_api::sigv4::sign`]). It prints the latency percentiles, the throughput, the
//! errors, and (with `--rss-pid`) the resident memory of the server sampled every 100 ms.
//!
//! ```text
//! ferry-load --endpoint http://127.0.0.1:8080 --credentials DATA/admin-credentials \
//!            --clients 50 --duration 20 [--warmup 2] [--action DescribeDBClusters] [--rss-pid PID]
//! ```
//!
//! The last line of its output is machine-readable: `result key=value ...`.
//!
//! With `--create-clusters N` it sets up instead: it creates the clusters `bench-0001` ...
//! `bench-N` that do not exist yet through `CreateDBCluster` (ferry's own client, at most
//! `--create-parallel` at once) and waits until every one is `available`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use ferry_api::sigv4;
use ferry_base::aws_files::{self, FileKind};
use ferry_base::Secret;

struct Args {
    endpoint: String,
    credentials: PathBuf,
    clients: usize,
    duration: Duration,
    warmup: Duration,
    action: String,
    rss_pid: Option<u32>,
    /// Set-up mode: create this many clusters (`bench-0001`, ...) and wait until they are
    /// all `available`, instead of measuring.
    create_clusters: Option<usize>,
    /// How many CreateDBCluster requests are in flight at once in set-up mode.
    create_parallel: usize,
}

const USAGE: &str = "usage: ferry-load --endpoint URL --credentials FILE [--clients N] \
[--duration SECONDS] [--warmup SECONDS] [--action ACTION] [--rss-pid PID]
       ferry-load --endpoint URL --credentials FILE --create-clusters N [--create-parallel P]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        endpoint: String::new(),
        credentials: PathBuf::new(),
        clients: 1,
        duration: Duration::from_secs(10),
        warmup: Duration::from_secs(1),
        action: "DescribeDBClusters".to_owned(),
        rss_pid: None,
        create_clusters: None,
        create_parallel: 4,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.to_owned());
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let secs = |v: &str| {
            v.parse::<f64>()
                .ok()
                .filter(|s| *s >= 0.0)
                .map(Duration::from_secs_f64)
                .ok_or_else(|| format!("{flag}: not a number of seconds: {v}"))
        };
        match flag.as_str() {
            "--endpoint" => args.endpoint = value,
            "--credentials" => args.credentials = value.into(),
            "--clients" => {
                args.clients = value
                    .parse()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| format!("--clients: not a positive integer: {value}"))?
            }
            "--duration" => args.duration = secs(&value)?,
            "--warmup" => args.warmup = secs(&value)?,
            "--action" => args.action = value,
            "--rss-pid" => {
                args.rss_pid = Some(
                    value
                        .parse()
                        .map_err(|_| format!("--rss-pid: not a pid: {value}"))?,
                )
            }
            "--create-clusters" => {
                args.create_clusters = Some(
                    value
                        .parse()
                        .map_err(|_| format!("--create-clusters: not a number: {value}"))?,
                )
            }
            "--create-parallel" => {
                args.create_parallel =
                    value.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                        format!("--create-parallel: not a positive integer: {value}")
                    })?
            }
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    if args.endpoint.is_empty() || args.credentials.as_os_str().is_empty() {
        return Err(USAGE.to_owned());
    }
    Ok(args)
}

/// The `[default]` key of an AWS credentials file (such as `ferry serve`'s
/// `admin-credentials`): access key id, secret, region.
fn read_credentials(path: &PathBuf) -> Result<(String, Secret, String), String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("read {}: {e}", path.display()))?;
    let profiles = aws_files::Profiles::parse(&text, FileKind::Credentials);
    let section = profiles
        .get("default")
        .ok_or_else(|| format!("{} has no [default] section", path.display()))?;
    let get = |key: &str| {
        section
            .get(key)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| format!("{} has no {key}", path.display()))
    };
    let region = section
        .region()
        .filter(|r| !r.is_empty())
        .unwrap_or("us-east-1")
        .to_owned();
    Ok((
        get("aws_access_key_id")?,
        Secret::from(get("aws_secret_access_key")?),
        region,
    ))
}

/// What every client shares: the target and the key.
struct Target {
    url: reqwest::Url,
    host: String,
    body: String,
    access_key_id: String,
    secret: Secret,
    region: String,
}

impl Target {
    /// The headers of one request, signed now.
    fn signed_headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            "content-type",
            HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"),
        );
        let parts = sigv4::SignedRequestParts {
            method: "POST",
            path: self.url.path(),
            query: "",
            headers: &headers,
            body: self.body.as_bytes(),
        };
        let credentials = sigv4::Credentials {
            access_key_id: &self.access_key_id,
            secret_access_key: &self.secret,
        };
        let signed = sigv4::sign(
            &parts,
            &self.host,
            &credentials,
            &self.region,
            "rds",
            time::OffsetDateTime::now_utc(),
        );
        for (name, value) in signed {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                headers.insert(name, value);
            }
        }
        headers
    }
}

/// One client's tally.
#[derive(Default)]
struct Tally {
    /// Latencies of the successful requests after the warm-up, in microseconds.
    latencies_us: Vec<u32>,
    errors: u64,
    first_error: Option<String>,
    bytes: u64,
}

async fn client(
    target: Arc<Target>,
    measuring: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    answer_bytes: Arc<AtomicU64>,
) -> Tally {
    // One connection per client (a pool of one), kept alive, as one SDK client would.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .build()
        .expect("an HTTP client");
    let mut tally = Tally::default();
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let result = async {
            let response = http
                .post(target.url.clone())
                .headers(target.signed_headers())
                .body(target.body.clone())
                .send()
                .await
                .map_err(|e| format!("send: {e}"))?;
            let status = response.status().as_u16();
            let body = response.bytes().await.map_err(|e| format!("read: {e}"))?;
            if status != 200 {
                let text = String::from_utf8_lossy(&body);
                return Err(format!(
                    "HTTP {status}: {}",
                    text.chars().take(300).collect::<String>()
                ));
            }
            Ok(body.len())
        }
        .await;
        let elapsed = started.elapsed();
        if !measuring.load(Ordering::Relaxed) {
            continue;
        }
        match result {
            Ok(len) => {
                tally
                    .latencies_us
                    .push(elapsed.as_micros().min(u32::MAX as u128) as u32);
                tally.bytes += len as u64;
                answer_bytes.store(len as u64, Ordering::Relaxed);
            }
            Err(e) => {
                tally.errors += 1;
                tally.first_error.get_or_insert(e);
            }
        }
    }
    tally
}

/// VmRSS of `pid` in kB.
fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if let Some(n) = args.create_clusters {
        return match create_clusters(&args, n).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("ferry-load: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let (access_key_id, secret, region) = match read_credentials(&args.credentials) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ferry-load: {e}");
            return ExitCode::from(2);
        }
    };
    let url = match reqwest::Url::parse(&args.endpoint) {
        Ok(u) if u.host_str().is_some() => u,
        _ => {
            eprintln!("ferry-load: not an http URL: {}", args.endpoint);
            return ExitCode::from(2);
        }
    };
    let host = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_owned(),
    };
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("Action", &args.action)
        .append_pair("Version", "2014-10-31")
        .finish();
    let target = Arc::new(Target {
        url,
        host,
        body,
        access_key_id,
        secret,
        region,
    });

    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let answer_bytes = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..args.clients)
        .map(|_| {
            tokio::spawn(client(
                target.clone(),
                measuring.clone(),
                stop.clone(),
                answer_bytes.clone(),
            ))
        })
        .collect();

    tokio::time::sleep(args.warmup).await;
    let rss_before = args.rss_pid.and_then(rss_kb);
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    let mut rss_peak = rss_before.unwrap_or(0);
    while started.elapsed() < args.duration {
        tokio::time::sleep(Duration::from_millis(100).min(args.duration)).await;
        if let Some(kb) = args.rss_pid.and_then(rss_kb) {
            rss_peak = rss_peak.max(kb);
        }
    }
    measuring.store(false, Ordering::Relaxed);
    let measured = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let rss_after = args.rss_pid.and_then(rss_kb);

    let mut latencies = Vec::new();
    let (mut errors, mut bytes, mut first_error) = (0, 0, None);
    for task in tasks {
        match task.await {
            Ok(t) => {
                latencies.extend(t.latencies_us);
                errors += t.errors;
                bytes += t.bytes;
                if first_error.is_none() {
                    first_error = t.first_error;
                }
            }
            Err(e) => {
                errors += 1;
                first_error.get_or_insert(format!("a client task failed: {e}"));
            }
        }
    }
    latencies.sort_unstable();
    let n = latencies.len();
    let rps = n as f64 / measured.as_secs_f64();
    let mb = |kb: Option<u64>| kb.map_or("-".to_owned(), |k| format!("{:.0}", k as f64 / 1024.0));
    println!(
        "{} x{}: {n} requests in {:.1} s = {rps:.0} requests/s, {errors} errors, answer {:.1} KB",
        args.action,
        args.clients,
        measured.as_secs_f64(),
        answer_bytes.load(Ordering::Relaxed) as f64 / 1024.0
    );
    println!(
        "  latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
        percentile(&latencies, 50.0),
        percentile(&latencies, 90.0),
        percentile(&latencies, 99.0),
        percentile(&latencies, 100.0)
    );
    if args.rss_pid.is_some() {
        println!(
            "  server RSS MB: before {}  peak {}  after {}",
            mb(rss_before),
            mb(Some(rss_peak)),
            mb(rss_after)
        );
    }
    if let Some(e) = &first_error {
        println!("  first error: {e}");
    }
    println!(
        "result clients={} requests={n} seconds={:.2} rps={rps:.1} errors={errors} \
         p50_ms={:.2} p90_ms={:.2} p99_ms={:.2} max_ms={:.2} answer_bytes={} mb_received={:.1} \
         rss_before_mb={} rss_peak_mb={} rss_after_mb={}",
        args.clients,
        measured.as_secs_f64(),
        percentile(&latencies, 50.0),
        percentile(&latencies, 90.0),
        percentile(&latencies, 99.0),
        percentile(&latencies, 100.0),
        answer_bytes.load(Ordering::Relaxed),
        bytes as f64 / 1e6,
        mb(rss_before),
        if args.rss_pid.is_some() {
            mb(Some(rss_peak))
        } else {
            "-".to_owned()
        },
        mb(rss_after),
    );
    if errors > 0 || n == 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Creates `bench-0001` ... `bench-{n}` (those missing), `parallel` at a time, then waits
/// until all are `available` (the engine set-up of each runs in ferry's job).
async fn create_clusters(args: &Args, n: usize) -> Result<(), String> {
    use ferry_api::client::Client;
    let client = Client::from_credentials_file(&args.endpoint, &args.credentials)
        .map_err(|e| e.to_string())?;
    let statuses = |client: Client| async move {
        let mut seen = std::collections::BTreeMap::new();
        let mut marker: Option<String> = None;
        loop {
            let mut params = vec![("MaxRecords", "100")];
            if let Some(m) = &marker {
                params.push(("Marker", m.as_str()));
            }
            let r = client
                .call("DescribeDBClusters", &params)
                .await
                .map_err(|e| e.to_string())?;
            for mut c in r.all_of("DBCluster") {
                if let (Some(id), Some(st)) = (c.remove("DBClusterIdentifier"), c.remove("Status"))
                {
                    seen.insert(id, st);
                }
            }
            marker = r.text("Marker").filter(|m| !m.is_empty());
            if marker.is_none() {
                return Ok::<_, String>(seen);
            }
        }
    };
    let existing = statuses(client.clone()).await?;
    let wanted: Vec<String> = (1..=n).map(|i| format!("bench-{i:04}")).collect();
    let missing: Vec<String> = wanted
        .iter()
        .filter(|id| !existing.contains_key(*id))
        .cloned()
        .collect();
    eprintln!(
        "ferry-load: {} of {n} clusters exist; creating {}",
        n - missing.len(),
        missing.len()
    );
    let started = Instant::now();
    let slots = Arc::new(tokio::sync::Semaphore::new(args.create_parallel));
    let mut tasks = Vec::new();
    for id in missing {
        let client = client.clone();
        let slots = slots.clone();
        tasks.push(tokio::spawn(async move {
            let _slot = slots.acquire_owned().await.expect("never closed");
            let params = [
                ("DBClusterIdentifier", id.as_str()),
                ("Engine", "aurora-mysql"),
                ("MasterUsername", "admin"),
                ("MasterUserPassword", "bench-password-1"),
            ];
            client
                .call("CreateDBCluster", &params)
                .await
                .map_err(|e| format!("create {id}: {e}"))?;
            // Wait for this one before taking the next slot: the set-up is what costs.
            loop {
                let r = client
                    .call(
                        "DescribeDBClusters",
                        &[("DBClusterIdentifier", id.as_str())],
                    )
                    .await
                    .map_err(|e| format!("describe {id}: {e}"))?;
                let status = r
                    .all_of("DBCluster")
                    .into_iter()
                    .next()
                    .and_then(|mut c| c.remove("Status"));
                match status.as_deref() {
                    Some("available") => return Ok::<_, String>(()),
                    Some("creating") | None => {}
                    Some(other) => return Err(format!("cluster {id} is {other}")),
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }));
    }
    for task in tasks {
        task.await.map_err(|e| e.to_string())??;
    }
    let all = statuses(client).await?;
    let ready = wanted
        .iter()
        .filter(|id| all.get(*id).map(String::as_str) == Some("available"))
        .count();
    eprintln!(
        "ferry-load: {ready} of {n} clusters available ({} in total) after {:.1} s",
        all.len(),
        started.elapsed().as_secs_f64()
    );
    if ready == n {
        Ok(())
    } else {
        Err(format!("only {ready} of {n} clusters are available"))
    }
}
