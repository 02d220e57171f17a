//! A real headless Chromium for the web console's tests: Debian's `chromium`, driven through
//! WebDriver by Debian's `chromedriver` (both installed by `scripts/install-deps --browser`),
//! from Rust with `fantoccini`. Nothing is downloaded: the browser is the machine's.
//!
//! Chromium runs with a fresh profile in a temporary directory, without sandbox (tests run as
//! root), GPU, or any of its background connections (this machine's network is closed, and
//! they would only slow it down). chromedriver runs in a process group of its own, and the
//! browser it starts with it: dropping the [`Browser`] (also when a test panics half-way)
//! kills the whole group, so no Chromium outlives its test.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

/// Where Debian puts them.
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    shots: PathBuf,
    taken: u32,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a window of `width` x `height`;
    /// screenshots go to `shots` (made if missing).
    pub async fn start(shots: &Path, width: u32, height: u32) -> anyhow::Result<Browser> {
        for tool in [CHROMIUM, CHROMEDRIVER] {
            if !Path::new(tool).exists() {
                bail!("{tool} is missing: run `make deps-test` (scripts/install-deps --browser)");
            }
        }
        std::fs::create_dir_all(shots).with_context(|| format!("create {}", shots.display()))?;
        let profile = tempfile::tempdir().context("make a browser profile directory")?;
        let port = crate::free_port();
        let log = std::fs::File::create(profile.path().join("chromedriver.log"))?;
        let driver = Command::new(CHROMEDRIVER)
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("start chromedriver")?;
        let mut browser_driver = DriverGuard(Some(driver));
        wait_ready(port, Duration::from_secs(30))?;
        let user_data = profile.path().join("profile");
        let args = vec![
            "--headless".to_string(),
            "--no-sandbox".to_string(),
            "--disable-gpu".to_string(),
            "--disable-dev-shm-usage".to_string(),
            "--disable-quic".to_string(),
            "--no-first-run".to_string(),
            "--disable-background-networking".to_string(),
            "--disable-component-update".to_string(),
            "--disable-sync".to_string(),
            "--disable-extensions".to_string(),
            format!("--user-data-dir={}", user_data.display()),
            format!("--window-size={width},{height}"),
        ];
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({ "binary": CHROMIUM, "args": args }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .context("open a WebDriver session in chromium")?;
        Ok(Browser {
            client,
            driver: browser_driver.0.take().expect("started"),
            _profile: profile,
            shots: shots.to_path_buf(),
            taken: 0,
        })
    }

    /// Saves a PNG of the window as `NN-name.png`; returns its path.
    pub async fn screenshot(&mut self, name: &str) -> anyhow::Result<PathBuf> {
        self.taken += 1;
        let png = self
            .client
            .screenshot()
            .await
            .context("take a screenshot")?;
        let path = self.shots.join(format!("{:02}-{name}.png", self.taken));
        std::fs::write(&path, png).with_context(|| format!("write {}", path.display()))?;
        Ok(path)
    }

    /// The text of the page's body, as a user reads it. A page that reloads itself (a live
    /// page whose work ended) may replace the body between finding and reading it: that is
    /// asked again, for up to 10 s.
    pub async fn text(&self) -> anyhow::Result<String> {
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            let read = async { self.client.find(Locator::Css("body")).await?.text().await };
            match read.await {
                Ok(text) => return Ok(text),
                Err(e) if Instant::now() > until => return Err(e.into()),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Waits (polling, up to `deadline`) for an element matching `css` to appear.
    pub async fn wait_for(&self, css: &str, deadline: Duration) -> anyhow::Result<()> {
        let until = Instant::now() + deadline;
        loop {
            if self.client.find(Locator::Css(css)).await.is_ok() {
                return Ok(());
            }
            if Instant::now() > until {
                bail!("no element {css} within {deadline:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Ends the WebDriver session (the browser exits) and stops chromedriver's group.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
        // Dropping `self` kills and reaps the group.
    }

    /// The process group of chromedriver and the browser it started.
    pub fn process_group(&self) -> u32 {
        self.driver.id()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Once only: after the reap, the group id may belong to another process.
        kill_group(&mut self.driver);
    }
}

/// Kills chromedriver if the start fails half-way.
struct DriverGuard(Option<Child>);

impl Drop for DriverGuard {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            kill_group(&mut c);
        }
    }
}

/// Kills chromedriver's process group (it and the browser it started), then reaps it.
fn kill_group(driver: &mut Child) {
    if let Ok(pgid) = i32::try_from(driver.id()) {
        // SAFETY: kill takes plain integers; the group is chromedriver's own (it was
        // spawned with `process_group(0)`, so its pid is the group id) and not yet reaped.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
    let _ = driver.kill();
    let _ = driver.wait();
}

/// Polls chromedriver's `/status` until it says it is ready.
fn wait_ready(port: u16, deadline: Duration) -> anyhow::Result<()> {
    let until = Instant::now() + deadline;
    loop {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let req = "GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
            if s.write_all(req.as_bytes()).is_ok() {
                let mut answer = String::new();
                let _ = s.read_to_string(&mut answer);
                if answer.contains("\"ready\":true") || answer.contains("\"ready\": true") {
                    return Ok(());
                }
            }
        }
        if Instant::now() > until {
            bail!("chromedriver did not get ready on port {port} within {deadline:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
