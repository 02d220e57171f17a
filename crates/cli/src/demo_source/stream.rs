//! `mariabackup --backup --stream=xbstream`, its stream cut into numbered part files as it
//! arrives: what a user does with `mariabackup ... | split -d -b SIZE - backup.xbstream.`
//! before uploading the parts to a bucket.
//!
//! The engine's process module drains a child's stdout line by line into its log (it has no
//! way to hand stdout over as a byte stream), so the stream goes through a named pipe instead:
//! the child is `/bin/sh -c 'exec "$@" >"$FERRY_STREAM_FIFO"' sh mariabackup ...` (the shell
//! only redirects and `exec`s; arguments are passed as positional parameters, never parsed),
//! and ferry reads the FIFO and writes the parts. Memory stays at one read buffer; a slow disk
//! slows the backup through the pipe's back-pressure.
//!
//! Part names follow GNU `split -d`'s auto-widening suffixes (`.00` ... `.89`, `.9000` ...
//! `.9899`, `.990000` ...), so byte-wise name order is stream order and ferry's own part
//! ordering (`ferry_backup::parts`) reads them back whatever their number.

use std::time::Duration;

use anyhow::Context;
use camino::{Utf8Path, Utf8PathBuf};
use ferry_engine::process::{ProcessError, ProcessSpec};
use ferry_engine::Toolbox;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::pipe;

/// The environment variable the wrapper shell reads the FIFO path from.
const FIFO_ENV: &str = "FERRY_STREAM_FIFO";
/// Redirects stdout into the FIFO and becomes the backup tool.
const WRAPPER_SCRIPT: &str = r#"exec "$@" >"$FERRY_STREAM_FIFO""#;
const READ_CHUNK: usize = 256 * 1024;
/// SIGTERM-to-SIGKILL grace for a backup tool being stopped.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// One streamed backup to take.
#[derive(Debug)]
pub(super) struct StreamJob<'a> {
    /// Set name for messages and file names (`full`, `inc1`).
    pub name: &'a str,
    /// A `[mariabackup]` option file with the credentials and socket (mode 0600).
    pub defaults_file: &'a Utf8Path,
    /// `--target-dir`: mariabackup's scratch space while streaming; created, then removed.
    pub scratch_dir: &'a Utf8Path,
    /// `--extra-lsndir`: where `xtrabackup_checkpoints` / `xtrabackup_info` are kept.
    pub lsn_dir: &'a Utf8Path,
    /// `--incremental-basedir`: the previous backup's `lsn_dir`, for an incremental.
    pub incremental_basedir: Option<&'a Utf8Path>,
    /// The named pipe the stream flows through (created and removed here).
    pub fifo: &'a Utf8Path,
    /// mariabackup's own output (appended).
    pub log: &'a Utf8Path,
    /// Where the parts go; must not exist yet or be empty.
    pub out_dir: &'a Utf8Path,
    /// Part file names are `<stem>.<NN>`.
    pub stem: &'a str,
    pub part_size: u64,
    /// The whole backup must finish within this.
    pub timeout: Duration,
}

/// The parts one backup was written to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct StreamedSet {
    /// In stream order.
    pub parts: Vec<Utf8PathBuf>,
    pub bytes: u64,
}

/// The suffix of part `index` (0-based), GNU `split -d` style.
pub(super) fn part_suffix(index: u64) -> String {
    // Group k holds 9 * 10^(k+1) counters of k+2 digits, prefixed with k nines.
    let mut rest = index;
    let mut k = 0u32;
    loop {
        let size = 9 * 10u64.saturating_pow(k + 1);
        if rest < size {
            break;
        }
        rest -= size;
        k += 1;
    }
    let width = k as usize + 2;
    format!("{}{rest:0width$}", "9".repeat(k as usize))
}

/// Takes the backup and writes its stream as parts into `job.out_dir`. On any failure the
/// child is stopped and the parts written so far are removed.
pub(super) async fn stream_backup(
    tb: &Toolbox,
    job: &StreamJob<'_>,
) -> anyhow::Result<StreamedSet> {
    prepare_dirs(job)?;
    let result = run(tb, job).await;
    remove_quietly(job.fifo.as_std_path(), false);
    remove_quietly(job.scratch_dir.as_std_path(), true);
    if result.is_err() {
        remove_quietly(job.out_dir.as_std_path(), true);
    }
    result
}

fn prepare_dirs(job: &StreamJob<'_>) -> anyhow::Result<()> {
    match std::fs::read_dir(job.out_dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                anyhow::bail!(
                    "{} already holds files: refusing to mix a new {} backup into them",
                    job.out_dir,
                    job.name
                );
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("read {}", job.out_dir)),
    }
    for dir in [job.out_dir, job.lsn_dir, job.scratch_dir] {
        std::fs::create_dir_all(dir).with_context(|| format!("create {dir}"))?;
    }
    remove_quietly(job.fifo.as_std_path(), false);
    make_fifo(job.fifo)
}

fn make_fifo(path: &Utf8Path) -> anyhow::Result<()> {
    let c_path = std::ffi::CString::new(path.as_str())
        .with_context(|| format!("FIFO path {path} contains a NUL byte"))?;
    // SAFETY: `c_path` is a valid NUL-terminated string that outlives the call; mkfifo(3)
    // reads it and touches no other memory.
    let rc = unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error())
            .with_context(|| format!("create the named pipe {path}"));
    }
    Ok(())
}

fn remove_quietly(path: &std::path::Path, dir: bool) {
    let result = if dir {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    };
    if let Err(error) = result {
        if error.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(path = %path.display(), %error, "cannot remove");
        }
    }
}

fn spec(tb: &Toolbox, job: &StreamJob<'_>) -> ProcessSpec {
    let mut spec = ProcessSpec::new("/bin/sh")
        .name(format!("mariabackup --backup ({})", job.name))
        .arg("-c")
        .arg(WRAPPER_SCRIPT)
        .arg("sh")
        .arg(tb.backup_tool())
        // Must come first: read only this file, never /etc/mysql or ~/.my.cnf.
        .arg(format!("--defaults-file={}", job.defaults_file))
        .arg("--backup")
        .arg("--stream=xbstream")
        .arg("--parallel=2")
        .arg(format!("--target-dir={}", job.scratch_dir))
        .arg(format!("--extra-lsndir={}", job.lsn_dir))
        .env(FIFO_ENV, job.fifo.as_str())
        .log_file(job.log)
        .stop_grace(STOP_GRACE);
    if let Some(base) = job.incremental_basedir {
        spec = spec.arg(format!("--incremental-basedir={base}"));
    }
    spec
}

async fn run(tb: &Toolbox, job: &StreamJob<'_>) -> anyhow::Result<StreamedSet> {
    // Our own write end keeps the pipe from reporting EOF before the child has opened it;
    // it is closed once the child exited, and then EOF means "everything was read".
    let mut receiver = pipe::OpenOptions::new()
        .open_receiver(job.fifo)
        .with_context(|| format!("open the named pipe {} for reading", job.fifo))?;
    let mut keepalive = Some(
        pipe::OpenOptions::new()
            .open_sender(job.fifo)
            .with_context(|| format!("open the named pipe {} for writing", job.fifo))?,
    );
    let mut parts = PartWriter::new(job.out_dir, job.stem, job.part_size);
    let mut guard = spec(tb, job)
        .spawn()
        .with_context(|| format!("start mariabackup for the {} backup", job.name))?;

    let mut status = None;
    let mut buf = vec![0u8; READ_CHUNK];
    let copy = async {
        loop {
            tokio::select! {
                read = receiver.read(&mut buf) => {
                    let n = read.with_context(|| format!("read the {} backup stream", job.name))?;
                    if n == 0 {
                        return anyhow::Ok(());
                    }
                    parts.write(&buf[..n]).await?;
                }
                exited = guard.wait(), if status.is_none() => {
                    status = Some(exited?);
                    drop(keepalive.take());
                }
            }
        }
    };
    let copied = match tokio::time::timeout(job.timeout, copy).await {
        Ok(result) => result,
        Err(_elapsed) => Err(anyhow::anyhow!(
            "the {} backup did not finish within {} s",
            job.name,
            job.timeout.as_secs()
        )),
    };
    if let Err(error) = copied {
        if let Err(stop_error) = guard.stop(STOP_GRACE).await {
            tracing::warn!(error = %stop_error, "cannot stop mariabackup");
        }
        return Err(error.context(format!(
            "stream the {} backup into {} (mariabackup log: {})",
            job.name, job.out_dir, job.log
        )));
    }
    let status = match status {
        Some(status) => status,
        // EOF can only come after the keepalive end was closed, i.e. after the exit.
        None => guard.wait().await?,
    };
    if !status.success() {
        return Err(ProcessError::Failed {
            name: guard.name().to_owned(),
            pid: guard.pid(),
            status,
            tail: guard.failure_tail(),
            log_path: guard.log_path().map(std::path::Path::to_path_buf),
        })
        .with_context(|| format!("take the {} backup", job.name));
    }
    let set = parts.finish().await?;
    if set.bytes == 0 {
        anyhow::bail!(
            "mariabackup exited successfully but streamed nothing for the {} backup (log: {})",
            job.name,
            job.log
        );
    }
    let checkpoints = job.lsn_dir.join("xtrabackup_checkpoints");
    if !checkpoints.is_file() {
        anyhow::bail!(
            "mariabackup left no {checkpoints} for the {} backup: an incremental cannot follow",
            job.name
        );
    }
    Ok(set)
}

/// Writes a byte stream into consecutive part files of `part_size` bytes (the last shorter).
struct PartWriter {
    dir: Utf8PathBuf,
    stem: String,
    part_size: u64,
    current: Option<(tokio::fs::File, u64)>,
    parts: Vec<Utf8PathBuf>,
    bytes: u64,
}

impl PartWriter {
    fn new(dir: &Utf8Path, stem: &str, part_size: u64) -> Self {
        PartWriter {
            dir: dir.to_owned(),
            stem: stem.to_owned(),
            part_size: part_size.max(1),
            current: None,
            parts: Vec::new(),
            bytes: 0,
        }
    }

    async fn write(&mut self, mut data: &[u8]) -> anyhow::Result<()> {
        while !data.is_empty() {
            let full = matches!(&self.current, Some((_, written)) if *written >= self.part_size);
            if full || self.current.is_none() {
                self.close_current().await?;
                let path = self.dir.join(format!(
                    "{}.{}",
                    self.stem,
                    part_suffix(self.parts.len() as u64)
                ));
                let file = tokio::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&path)
                    .await
                    .with_context(|| format!("create part {path}"))?;
                self.parts.push(path);
                self.current = Some((file, 0));
            }
            let Some((file, written)) = self.current.as_mut() else {
                unreachable!("a part was opened just above");
            };
            let room = self.part_size - *written;
            let n = usize::try_from(room).map_or(data.len(), |room| room.min(data.len()));
            if let Err(error) = file.write_all(&data[..n]).await {
                return Err(error).context(format!("write part {}", self.current_path()));
            }
            *written += n as u64;
            self.bytes += n as u64;
            data = &data[n..];
        }
        Ok(())
    }

    fn current_path(&self) -> &Utf8Path {
        self.parts
            .last()
            .map_or(self.dir.as_path(), Utf8PathBuf::as_path)
    }

    async fn close_current(&mut self) -> anyhow::Result<()> {
        if let Some((mut file, _)) = self.current.take() {
            file.flush()
                .await
                .with_context(|| format!("write part {}", self.current_path()))?;
        }
        Ok(())
    }

    async fn finish(mut self) -> anyhow::Result<StreamedSet> {
        self.close_current().await?;
        Ok(StreamedSet {
            parts: self.parts,
            bytes: self.bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_suffixes_widen_like_gnu_split() {
        assert_eq!(part_suffix(0), "00");
        assert_eq!(part_suffix(89), "89");
        assert_eq!(part_suffix(90), "9000");
        assert_eq!(part_suffix(989), "9899");
        assert_eq!(part_suffix(990), "990000");
    }

    #[test]
    fn ferry_reads_the_parts_back_in_stream_order() {
        let names: Vec<String> = (0..1200)
            .rev()
            .map(|i| format!("backup.xbstream.{}", part_suffix(i)))
            .collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let ordered = ferry_backup::parts::order_parts(&refs).expect("a valid part sequence");
        let expected: Vec<String> = (0..1200)
            .map(|i| format!("backup.xbstream.{}", part_suffix(i)))
            .collect();
        assert_eq!(ordered, expected);
        let mut sorted = expected.clone();
        sorted.sort();
        assert_eq!(sorted, expected, "byte-wise name order is stream order");
    }

    #[tokio::test]
    async fn a_failed_backup_quotes_the_tool_and_leaves_no_parts() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = Utf8Path::from_path(dir.path()).expect("UTF-8 temp dir");
        let tb = Toolbox::discover().await.expect("MariaDB tools installed");
        let defaults = root.join("backup.cnf");
        std::fs::write(
            &defaults,
            format!("[mariabackup]\nuser=root\nsocket={root}/no-server.sock\n"),
        )
        .expect("write option file");
        let (out_dir, fifo) = (root.join("bucket/full"), root.join("stream.fifo"));
        let job = StreamJob {
            name: "full",
            defaults_file: &defaults,
            scratch_dir: &root.join("tmp"),
            lsn_dir: &root.join("lsn"),
            incremental_basedir: None,
            fifo: &fifo,
            log: &root.join("mariabackup.log"),
            out_dir: &out_dir,
            stem: "backup.xbstream",
            part_size: 1 << 20,
            timeout: Duration::from_secs(60),
        };
        let error = stream_backup(&tb, &job)
            .await
            .expect_err("no server to back up");
        let message = format!("{error:#}");
        assert!(
            message.contains("take the full backup") && message.contains("failed with"),
            "{message}"
        );
        assert!(
            message.contains("no-server.sock"),
            "the tool's own words: {message}"
        );
        assert!(!out_dir.exists() && !fifo.exists() && !root.join("tmp").exists());
    }

    #[tokio::test]
    async fn parts_are_cut_at_the_part_size() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = Utf8Path::from_path(dir.path()).expect("UTF-8 temp dir");
        let mut writer = PartWriter::new(root, "s.xbstream", 10);
        let data: Vec<u8> = (0..=24u8).collect();
        writer.write(&data[..7]).await.expect("write");
        writer.write(&data[7..]).await.expect("write");
        let set = writer.finish().await.expect("finish");
        assert_eq!(set.bytes, 25);
        let names: Vec<&str> = set.parts.iter().filter_map(|p| p.file_name()).collect();
        assert_eq!(names, ["s.xbstream.00", "s.xbstream.01", "s.xbstream.02"]);
        let mut joined = Vec::new();
        for (part, len) in set.parts.iter().zip([10, 10, 5]) {
            let bytes = std::fs::read(part).expect("read part");
            assert_eq!(bytes.len(), len, "{part}");
            joined.extend(bytes);
        }
        assert_eq!(joined, data);
    }
}
