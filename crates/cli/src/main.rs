//! The `ferry` command-line tool.

mod backup;
mod demo;
mod demo_source;
mod iam;
mod import;
mod migrate;
mod output;
mod progress;
mod replication;
mod serve;
mod server;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "ferry",
    version,
    about = "Move a MySQL-family database into a cluster you run yourself",
    long_about = "ferry restores Percona XtraBackup / mariabackup backups (full + incrementals) \
                  from object storage into MariaDB clusters it runs, behind an RDS-compatible \
                  API (`ferry serve`), or into a ready-to-start datadir (`ferry backup restore`)."
)]
struct Cli {
    /// Log filter (also RUST_LOG), e.g. `info`, `ferry_restore=debug`. Default: `info` for
    /// `ferry serve` (one line per API request and job step), `warn` otherwise.
    #[arg(long, global = true)]
    log: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Inspect and restore XtraBackup / mariabackup backup chains.
    #[command(subcommand)]
    Backup(backup::BackupCommand),
    /// Run a MariaDB server on a datadir under ferry's supervision.
    #[command(subcommand)]
    Server(server::ServerCommand),
    /// Run the control plane: the RDS API, restore jobs and the DB instances.
    Serve(serve::ServeArgs),
    /// Show the whole migration on this machine: source, backups, restore through the API,
    /// the writer instance, the data compared with the source.
    Demo(demo::DemoArgs),
    /// A cluster's replication from its external source: status and cutover.
    #[command(subcommand)]
    Replication(replication::ReplicationCommand),
    /// IAM conveniences on a running control plane (the API itself is IAM's: use the AWS CLI).
    #[command(subcommand)]
    Iam(iam::IamCommand),
    /// Load a mysqldump / mariadb-dump file into a server or a ferry cluster, in parallel and
    /// resumably.
    Import(import::ImportArgs),
    /// Reduced-downtime migration of a live source: a consistent snapshot streamed into a
    /// cluster, then replication from the snapshot's coordinates until the cutover.
    #[command(subcommand)]
    Migrate(migrate::MigrateCommand),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let default_log = match cli.command {
        Command::Serve(_) => "info",
        _ => "warn",
    };
    let filter = std::env::var("RUST_LOG")
        .ok()
        .or_else(|| cli.log.clone())
        .unwrap_or_else(|| default_log.to_string());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(
            std::io::IsTerminal::is_terminal(&std::io::stderr())
                && std::env::var_os("NO_COLOR").is_none(),
        )
        .with_target(false)
        .init();

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Backup(cmd) => backup::run(cmd).await,
            Command::Server(cmd) => server::run(cmd).await,
            Command::Serve(args) => serve::run(args).await,
            Command::Demo(args) => demo::run(args).await,
            Command::Replication(cmd) => replication::run(cmd).await,
            Command::Iam(cmd) => iam::run(cmd).await,
            Command::Import(args) => import::run(args).await,
            Command::Migrate(cmd) => migrate::run(cmd).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(1)
        }
    }
}
