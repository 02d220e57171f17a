//! `ferry-s3`: the file-backed, SigV4-checking S3 server of the test kit, as a process.
//!
//! The benchmark script needs a real S3 server that outlives any one test; this runs the same
//! server as `ferry_testkit::S3Server`. Once it listens it prints its endpoint URL
//! (`http://127.0.0.1:PORT`) as one line on stdout, so a script can wait for that line. It
//! stops on SIGINT or SIGTERM.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser;
use tokio::signal::unix::{signal, SignalKind};

/// Serve a directory over the S3 protocol on loopback, checking SigV4 signatures.
#[derive(Debug, Parser)]
#[command(name = "ferry-s3", version)]
struct Args {
    /// Directory served: each subdirectory is a bucket (created if missing).
    #[arg(long)]
    root: PathBuf,
    /// Address to listen on; port 0 picks a free port (see the printed endpoint).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// The only access key accepted.
    #[arg(long, env = "AWS_ACCESS_KEY_ID", default_value = ferry_testkit::TEST_ACCESS_KEY)]
    access_key: String,
    /// The secret key for that access key.
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", default_value = ferry_testkit::TEST_SECRET_KEY, hide_env_values = true)]
    secret_key: String,
}

fn main() -> std::process::ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    match run(args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ferry-s3: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[tokio::main]
async fn run(args: Args) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.root)
        .with_context(|| format!("create root directory {}", args.root.display()))?;
    let service = ferry_testkit::s3_service(&args.root, &args.access_key, &args.secret_key)?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listen on {}", args.listen))?;
    let addr = listener.local_addr().context("read the bound address")?;

    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "http://{addr}").context("print the endpoint")?;
    stdout.flush().context("print the endpoint")?;
    drop(stdout);

    let mut terminate = signal(SignalKind::terminate()).context("watch for SIGTERM")?;
    tokio::select! {
        () = ferry_testkit::serve_connections(listener, service) => {}
        result = tokio::signal::ctrl_c() => result.context("watch for SIGINT")?,
        _ = terminate.recv() => {}
    }
    Ok(())
}
