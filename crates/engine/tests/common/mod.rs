//! Shared helpers for the engine's integration tests: short temp dirs (unix socket paths must
//! stay under 108 bytes), free ports, fast-starting server configs, and line waiters.

#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};
use std::time::Duration;

use camino::{Utf8Path, Utf8PathBuf};
use ferry_engine::{InitOptions, ServerConfig, Toolbox};

/// A temp dir directly under /tmp (not $TMPDIR, which may be long), removed on drop.
pub fn short_tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("fe-")
        .tempdir_in("/tmp")
        .expect("create a temp dir under /tmp")
}

pub fn utf8(path: &Path) -> &Utf8Path {
    Utf8Path::from_path(path).expect("test paths are UTF-8")
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read, release).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

pub async fn toolbox() -> Toolbox {
    Toolbox::discover()
        .await
        .expect("MariaDB 10.11 tools are installed (scripts/install-deps)")
}

/// Server options that make a test server start and stop fast.
pub const SMALL_REDO: u64 = 8 << 20;
pub const SMALL_POOL: u64 = 32 << 20;

/// A config for a throwaway test server: small buffer pool and redo log, no fsync per commit.
pub fn test_config(datadir: &Path, run_dir: &Path, port: u16) -> ServerConfig {
    let mut cfg = ServerConfig::new(utf8(datadir).to_owned(), utf8(run_dir), port);
    cfg.buffer_pool_bytes = SMALL_POOL;
    cfg.redo_log_bytes = Some(SMALL_REDO);
    cfg.max_connections = 20;
    cfg.extra = vec![("innodb-flush-log-at-trx-commit".to_owned(), "2".to_owned())];
    cfg
}

/// Options for `init_datadir` matching [`test_config`] (so the first start need not resize
/// the redo log).
pub fn test_init_options(log: &Path) -> InitOptions {
    InitOptions {
        log_path: Some(log.to_path_buf()),
        server_args: vec![
            format!("--innodb-log-file-size={SMALL_REDO}"),
            format!("--innodb-buffer-pool-size={SMALL_POOL}"),
        ],
        ..InitOptions::default()
    }
}

/// Layout of one test server under a short temp dir: `data/`, `run/`.
pub struct ServerDirs {
    pub root: tempfile::TempDir,
    pub datadir: PathBuf,
    pub run_dir: PathBuf,
}

impl ServerDirs {
    pub fn new() -> Self {
        let root = short_tempdir();
        let datadir = root.path().join("data");
        let run_dir = root.path().join("run");
        std::fs::create_dir_all(&run_dir).expect("create run dir");
        ServerDirs {
            root,
            datadir,
            run_dir,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.root.path().join(name)
    }

    pub fn utf8_run_dir(&self) -> Utf8PathBuf {
        utf8(&self.run_dir).to_owned()
    }
}

/// Waits (with a deadline) for a line matching `pred` on a channel fed by a line observer.
pub async fn wait_for_line(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<String>,
    within: Duration,
    pred: impl Fn(&str) -> bool,
) -> String {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(line)) if pred(&line) => return line,
            Ok(Some(_)) => continue,
            Ok(None) => panic!("output ended before the expected line"),
            Err(_) => panic!("expected line did not appear within {within:?}"),
        }
    }
}

/// Whether a process with this pid still exists (and is not a zombie).
pub fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state is the field after the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, rest)| !rest.trim_start().starts_with('Z'))
            .unwrap_or(true),
        Err(_) => false,
    }
}

/// Polls until `pid` is gone, at most `within`.
pub async fn wait_gone(pid: u32, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if !process_alive(pid) {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Recursive copy of a directory of plain files (a backup), preserving nothing but contents.
pub fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).expect("create copy target");
    for entry in std::fs::read_dir(src).expect("read source dir") {
        let entry = entry.expect("dir entry");
        let kind = entry.file_type().expect("file type");
        let to = dst.join(entry.file_name());
        if kind.is_dir() {
            copy_dir(&entry.path(), &to);
        } else {
            std::fs::copy(entry.path(), &to).expect("copy file");
        }
    }
}

/// `(file, position)` from a backup's `xtrabackup_binlog_info`.
pub fn binlog_info(backup: &Path) -> (String, u64) {
    let text = std::fs::read_to_string(backup.join("xtrabackup_binlog_info"))
        .expect("the backup has xtrabackup_binlog_info");
    let mut fields = text.split('\t');
    let file = fields.next().expect("file field").trim().to_owned();
    let position = fields
        .next()
        .expect("position field")
        .trim()
        .parse()
        .expect("numeric position");
    (file, position)
}
