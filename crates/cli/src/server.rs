//! `ferry server run`: start a MariaDB server on a datadir (for example one that
//! `ferry backup restore` produced) under ferry's supervision, in the foreground.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use camino::Utf8PathBuf;
use clap::Subcommand;
use ferry_engine::{ReadyProbe, Server, ServerConfig, ServerStatus, Toolbox};

#[derive(Subcommand)]
pub enum ServerCommand {
    /// Start mariadbd on DATADIR, wait until it answers SELECT 1, and keep it running until
    /// Ctrl-C or SIGTERM, then shut it down cleanly.
    ///
    /// The readiness probe logs in as --probe-user over the unix socket with the password in
    /// the MYSQL_PWD environment variable (never on the command line).
    Run {
        /// The datadir to serve.
        #[arg(long)]
        datadir: PathBuf,
        /// TCP port on 127.0.0.1.
        #[arg(long, default_value_t = 3306)]
        port: u16,
        /// Where the socket, pid file, my.cnf and error log go (default: DATADIR.run).
        #[arg(long)]
        run_dir: Option<PathBuf>,
        /// Account the readiness probe logs in with.
        #[arg(long, default_value = "root")]
        probe_user: String,
        /// InnoDB buffer pool, in MiB.
        #[arg(long, default_value_t = 128)]
        buffer_pool_mb: u64,
        /// Seconds to wait for the server to answer.
        #[arg(long, default_value_t = 120)]
        start_timeout: u64,
    },
}

fn utf8(p: PathBuf, what: &str) -> anyhow::Result<Utf8PathBuf> {
    Utf8PathBuf::from_path_buf(p)
        .map_err(|p| anyhow::anyhow!("{what} {} is not UTF-8", p.display()))
}

pub async fn run(cmd: ServerCommand) -> anyhow::Result<ExitCode> {
    let ServerCommand::Run {
        datadir,
        port,
        run_dir,
        probe_user,
        buffer_pool_mb,
        start_timeout,
    } = cmd;
    let datadir = std::path::absolute(&datadir).context("resolve the datadir path")?;
    let run_dir = match run_dir {
        Some(d) => std::path::absolute(d).context("resolve the run directory")?,
        None => PathBuf::from(format!("{}.run", datadir.display())),
    };
    std::fs::create_dir_all(&run_dir)
        .with_context(|| format!("create run directory {}", run_dir.display()))?;
    let tb = Toolbox::discover().await?;
    let run_utf8 = utf8(run_dir.clone(), "run directory")?;
    let mut cfg = ServerConfig::new(utf8(datadir.clone(), "datadir")?, &run_utf8, port);
    cfg.buffer_pool_bytes = buffer_pool_mb << 20;
    let password = std::env::var("MYSQL_PWD").ok().filter(|p| !p.is_empty());
    let mut server = Server::start(
        &tb,
        &cfg,
        &run_dir,
        ReadyProbe::user(probe_user.clone(), password.map(Into::into)),
        Duration::from_secs(start_timeout),
    )
    .await
    .with_context(|| format!("start MariaDB on {}", datadir.display()))?;
    let (major, minor, patch) = tb.server_version().numbers();
    println!(
        "MariaDB {major}.{minor}.{patch} is ready on 127.0.0.1:{port} (socket {}), pid {}.",
        server.socket(),
        server.pid()
    );
    println!("Connect with: mariadb -h 127.0.0.1 -P {port} -u {probe_user} -p");
    println!("Stop with Ctrl-C.");

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("install the SIGTERM handler")?;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {
                if let ServerStatus::Exited { status, log_tail } = server.try_status()? {
                    anyhow::bail!("MariaDB exited on its own ({status}); last log lines:\n{log_tail}");
                }
            }
        }
    }
    eprintln!("Shutting down MariaDB...");
    server.stop(Duration::from_secs(60)).await?;
    eprintln!("Stopped.");
    Ok(ExitCode::SUCCESS)
}
