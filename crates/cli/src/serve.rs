//! `ferry serve`: the control plane in the foreground — metadata store, restore jobs,
//! instance supervisor and the RDS Query API — until SIGTERM or Ctrl-C.

use std::process::ExitCode;

use anyhow::Context;
use camino::Utf8PathBuf;
use clap::Args;
use ferry_control::config::Config;
use ferry_control::layout::Layout;
use ferry_control::ControlPlane;

#[derive(Args, Clone)]
pub struct ServeArgs {
    /// Where ferry keeps its metadata, cluster volumes and admin credentials.
    #[arg(long, env = "FERRY_DATA_DIR", default_value = "ferry-data")]
    pub data_dir: Utf8PathBuf,
    /// Address of the API (overrides `listen` in the config file).
    #[arg(long)]
    pub listen: Option<std::net::SocketAddr>,
    /// A TOML config file (see the control crate's README for its keys).
    #[arg(long)]
    pub config: Option<Utf8PathBuf>,
    /// Serve buckets from subdirectories of this directory (overrides `[storage] file_root`).
    #[arg(long)]
    pub file_root: Option<Utf8PathBuf>,
    /// Host name or address clients are told to connect to (overrides `advertised_host`).
    #[arg(long)]
    pub advertised_host: Option<String>,
}

/// A running control plane with its API, for `ferry serve` and `ferry demo`.
pub struct Running {
    pub cp: ControlPlane,
    pub addr: std::net::SocketAddr,
    pub credentials: Utf8PathBuf,
    stop: tokio::sync::oneshot::Sender<()>,
    api: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Stops the API, then the control plane (jobs interrupted, instances shut down).
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        let api = self.api.await.context("the API task panicked")?;
        self.cp.shutdown().await;
        api.context("serve the API")
    }
}

pub async fn start(args: &ServeArgs) -> anyhow::Result<Running> {
    let mut config = Config::load(args.config.as_deref()).context("load the configuration")?;
    if let Some(l) = args.listen {
        config.listen = l;
    }
    if let Some(root) = &args.file_root {
        let root = std::path::absolute(root).context("resolve --file-root")?;
        config.file_root = Some(
            Utf8PathBuf::from_path_buf(root)
                .map_err(|p| anyhow::anyhow!("--file-root {} is not UTF-8", p.display()))?,
        );
    }
    if let Some(h) = &args.advertised_host {
        config.advertised_host = h.clone();
    }
    let data_dir = std::path::absolute(&args.data_dir).context("resolve --data-dir")?;
    let data_dir = Utf8PathBuf::from_path_buf(data_dir)
        .map_err(|p| anyhow::anyhow!("--data-dir {} is not UTF-8", p.display()))?;
    let layout = Layout::new(data_dir);
    let listen = config.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listen on {listen}"))?;
    let addr = listener.local_addr().context("read the API address")?;
    // The port really held (`listen` may ask for port 0): no cluster may be given it.
    config.listen = addr;
    let credentials = layout.admin_credentials();
    let cp = ControlPlane::open(layout, config)
        .await
        .context("start the control plane")?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let console = ferry_console::router(cp.clone());
    let api = tokio::spawn(ferry_api::server::serve_with(
        listener,
        cp.clone(),
        console,
        async {
            let _ = stopped.await;
        },
    ));
    Ok(Running {
        cp,
        addr,
        credentials,
        stop,
        api,
    })
}

pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    // Listen for signals before anything else: a SIGTERM that arrives while the control plane
    // is still starting must stop it cleanly once it is up, not kill the process mid-start.
    let signals = Signals::new()?;
    let running = start(&args).await?;
    println!("ferry serve: RDS API on http://{}", running.addr);
    println!(
        "  web console:       http://{}/console (sign in with an access key)",
        running.addr
    );
    println!("  data dir:          {}", running.cp.layout().root());
    println!("  admin credentials: {}", running.credentials);
    println!(
        "  try:  AWS_SHARED_CREDENTIALS_FILE={} aws --endpoint-url http://{} rds describe-db-clusters",
        running.credentials, running.addr
    );
    use std::io::Write;
    let _ = std::io::stdout().flush();
    signals.wait().await;
    eprintln!(
        "ferry serve: stopping (restore jobs resume and instances start again at the next start)"
    );
    running.shutdown().await?;
    Ok(ExitCode::SUCCESS)
}

/// SIGTERM and SIGINT, listened for from the moment this is made (a signal that arrives
/// before [`Signals::wait`] is kept, not lost and not fatal).
pub struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    pub fn new() -> anyhow::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            term: signal(SignalKind::terminate()).context("listen for SIGTERM")?,
            int: signal(SignalKind::interrupt()).context("listen for SIGINT")?,
        })
    }

    /// Until SIGTERM or SIGINT arrives (or has arrived since [`Signals::new`]).
    pub async fn wait(mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}
