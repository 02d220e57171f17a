//! The demo's source database: a throwaway MariaDB with sample data and a binary log, backed
//! up with `mariabackup` (a full and one incremental) into a local bucket directory as split
//! xbstream parts, the way a user would upload backups before asking for a restore.
//!
//! It exists so `ferry demo` needs nothing but the repo: [`build`] produces both the backups a
//! cluster is restored from and the numbers the restored cluster must match (row counts and
//! checksums per table, the binary log coordinates right after the incremental). The source
//! server keeps running afterwards: the demo writes to it again and replicates from it as `repl`
//! (`BINLOG MONITOR` lets ferry read its position to measure the lag).
//!
//! On disk:
//!
//! ```text
//! <work_dir>/
//!   data/                    the source datadir (binary log mysql-bin.*, ROW, server_id 1)
//!   run/                     my.cnf, mysqld.sock, mariadbd.pid, mariadbd.log
//!   logs/                    install-db.log, mariabackup-full.log, mariabackup-inc1.log
//!   full-lsn/  inc1-lsn/     --extra-lsndir of each backup (xtrabackup_checkpoints, _info)
//!   backup.cnf               mariabackup's credentials (0600), removed after the backups
//!   backup-tmp/, stream.fifo scratch of the backup in progress
//! <bucket_dir>/<prefix>/
//!   full/backup.xbstream.00, .01, ...   the full backup's stream, part_size bytes a part
//!   inc1/backup.xbstream.00, ...        the incremental's
//! ```

mod sample;
mod stream;

use std::time::Duration;

use anyhow::Context;
use camino::{Utf8Path, Utf8PathBuf};
use ferry_base::Secret;
use ferry_engine::{
    init_datadir, set_root_password, BinlogConfig, BinlogFormat, InitOptions, ReadyProbe,
    RunningServer, Server, ServerConfig, Toolbox,
};
use mysql_async::prelude::Queryable;
use rand::Rng;

pub use sample::{summarize_schema, TableSummary, SCHEMA};
use stream::{stream_backup, StreamJob};

/// The replication account created for the replication issue.
pub const REPL_USER: &str = "repl";
/// The set names (directories under the prefix) of the two backups.
pub const FULL_SET: &str = "full";
pub const INCREMENTAL_SET: &str = "inc1";
/// File name of each backup's stream before the part suffix.
pub const STREAM_STEM: &str = "backup.xbstream";

const START_TIMEOUT: Duration = Duration::from_secs(120);
const STOP_TIMEOUT: Duration = Duration::from_secs(60);
const BACKUP_TIMEOUT: Duration = Duration::from_secs(600);
const REDO_LOG_BYTES: u64 = 32 << 20;
const PASSWORD_LEN: usize = 24;
const MIN_PART_SIZE: u64 = 64 << 10;

/// What to build and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSourceOptions {
    /// The source's datadir, run directory and backup scratch live here (see the module docs).
    /// Its datadir must not exist yet or be empty.
    pub work_dir: Utf8PathBuf,
    /// The local bucket: a directory.
    pub bucket_dir: Utf8PathBuf,
    /// Key prefix of the backups inside the bucket, e.g. `demo` (`/`-separated, relative).
    pub prefix: String,
    /// TCP port of the source on 127.0.0.1.
    pub port: u16,
    /// About how many rows the sample data has in all.
    pub rows: u64,
    /// Bytes per split part (at least 64 KiB).
    pub part_size: u64,
}

impl DemoSourceOptions {
    /// Defaults: 50 000 rows, 4 MiB parts, prefix `demo`.
    pub fn new(work_dir: Utf8PathBuf, bucket_dir: Utf8PathBuf, port: u16) -> Self {
        DemoSourceOptions {
            work_dir,
            bucket_dir,
            prefix: "demo".to_owned(),
            port,
            rows: 50_000,
            part_size: 4 << 20,
        }
    }

    fn validate(&self) -> anyhow::Result<()> {
        let segments_ok = !self.prefix.is_empty()
            && self
                .prefix
                .split('/')
                .all(|s| !s.is_empty() && s != "." && s != "..");
        if !segments_ok {
            anyhow::bail!(
                "demo bucket prefix {:?} must be a relative path of non-empty segments without . or ..",
                self.prefix
            );
        }
        if self.part_size < MIN_PART_SIZE {
            anyhow::bail!(
                "demo part size {} B is below the minimum of {MIN_PART_SIZE} B",
                self.part_size
            );
        }
        if self.port == 0 {
            anyhow::bail!("the demo source needs a TCP port (got 0)");
        }
        Ok(())
    }
}

/// The running source and everything recorded about it.
#[derive(Debug)]
pub struct DemoSource {
    pub server: RunningServer,
    /// `SELECT VERSION()`, e.g. `10.11.19-MariaDB-...`: what `SourceEngineVersion` names.
    pub server_version: String,
    pub root_password: Secret,
    pub repl_user: String,
    pub repl_password: Secret,
    /// Every base table of [`SCHEMA`] right after the incremental backup, by name.
    pub tables: Vec<TableSummary>,
    /// `SHOW MASTER STATUS` right after the incremental backup. (This and `gtid` are what a
    /// restore must recover: the tests compare them; the binary only shows them in `Debug`.)
    #[cfg_attr(not(test), allow(dead_code))]
    pub binlog_file: String,
    #[cfg_attr(not(test), allow(dead_code))]
    pub binlog_position: u64,
    /// `@@gtid_binlog_pos` right after the incremental backup (e.g. `0-1-42`).
    #[cfg_attr(not(test), allow(dead_code))]
    pub gtid: String,
    pub bucket_dir: Utf8PathBuf,
    pub prefix: String,
    /// Every part written, full backup first, each in stream order.
    pub parts: Vec<Utf8PathBuf>,
}

impl DemoSource {
    /// `<bucket_dir>/<prefix>`: the directory a restore reads.
    pub fn backup_root(&self) -> Utf8PathBuf {
        self.bucket_dir.join(&self.prefix)
    }

    /// Shuts the source server down cleanly.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.server
            .stop(STOP_TIMEOUT)
            .await
            .context("stop the demo source server")?;
        Ok(())
    }
}

/// A random password of ASCII letters and digits (safe in option files and SQL literals).
pub fn random_password() -> String {
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(PASSWORD_LEN)
        .map(char::from)
        .collect()
}

/// Starts the source, loads the sample data, takes the full and the incremental backup into
/// `<bucket_dir>/<prefix>/{full,inc1}/` and records the state the backups hold. `report` gets
/// one short line per step. On failure the server is stopped before the error returns.
pub async fn build(
    opts: &DemoSourceOptions,
    report: &(dyn Fn(&str) + Sync),
) -> anyhow::Result<DemoSource> {
    opts.validate()?;
    let opts = &DemoSourceOptions {
        work_dir: absolute(&opts.work_dir)?,
        bucket_dir: absolute(&opts.bucket_dir)?,
        ..opts.clone()
    };
    let work = &opts.work_dir;
    let logs = work.join("logs");
    std::fs::create_dir_all(&logs).with_context(|| format!("create {logs}"))?;
    let tb = Toolbox::discover()
        .await
        .context("find the MariaDB programs")?;

    report("initialising the source datadir");
    let datadir = work.join("data");
    let init = InitOptions {
        log_path: Some(logs.join("install-db.log").into_std_path_buf()),
        server_args: vec![format!("--innodb-log-file-size={REDO_LOG_BYTES}")],
        ..InitOptions::default()
    };
    init_datadir(&tb, datadir.as_std_path(), &init)
        .await
        .with_context(|| format!("initialise the source datadir {datadir}"))?;

    let run_dir = work.join("run");
    let mut cfg = ServerConfig::new(datadir.clone(), &run_dir, opts.port);
    cfg.server_id = 1;
    cfg.binlog = Some(BinlogConfig {
        basename: "mysql-bin".to_owned(),
        format: BinlogFormat::Row,
    });
    cfg.redo_log_bytes = Some(REDO_LOG_BYTES);
    cfg.extra.extend([
        ("character-set-server".to_owned(), "utf8mb4".to_owned()),
        (
            "collation-server".to_owned(),
            "utf8mb4_unicode_ci".to_owned(),
        ),
        // A demo: commits need not reach the disk one by one.
        ("innodb-flush-log-at-trx-commit".to_owned(), "2".to_owned()),
        ("sync-binlog".to_owned(), "0".to_owned()),
    ]);
    report(&format!(
        "starting the source MariaDB on 127.0.0.1:{} (binary log on, ROW)",
        opts.port
    ));
    let server = Server::start(
        &tb,
        &cfg,
        run_dir.as_std_path(),
        ReadyProbe::root(),
        START_TIMEOUT,
    )
    .await
    .with_context(|| format!("start the source MariaDB on 127.0.0.1:{}", opts.port))?;

    let root_password = random_password();
    let repl_password = random_password();
    match fill_and_back_up(&tb, &server, opts, &root_password, &repl_password, report).await {
        Ok(recorded) => Ok(DemoSource {
            server,
            server_version: recorded.server_version,
            root_password: root_password.into(),
            repl_user: REPL_USER.to_owned(),
            repl_password: repl_password.into(),
            tables: recorded.tables,
            binlog_file: recorded.binlog.file,
            binlog_position: recorded.binlog.position,
            gtid: recorded.binlog.gtid,
            bucket_dir: opts.bucket_dir.clone(),
            prefix: opts.prefix.clone(),
            parts: recorded.parts,
        }),
        Err(error) => {
            if let Err(stop_error) = server.stop(STOP_TIMEOUT).await {
                tracing::warn!(error = %format!("{stop_error:#}"), "cannot stop the demo source after a failure");
            }
            Err(error)
        }
    }
}

fn absolute(path: &Utf8Path) -> anyhow::Result<Utf8PathBuf> {
    let absolute = std::path::absolute(path).with_context(|| format!("resolve the path {path}"))?;
    Utf8PathBuf::from_path_buf(absolute)
        .map_err(|p| anyhow::anyhow!("path {} is not UTF-8", p.display()))
}

/// What [`fill_and_back_up`] recorded.
struct Recorded {
    server_version: String,
    tables: Vec<TableSummary>,
    binlog: sample::BinlogCoordinates,
    parts: Vec<Utf8PathBuf>,
}

async fn fill_and_back_up(
    tb: &Toolbox,
    server: &RunningServer,
    opts: &DemoSourceOptions,
    root_password: &str,
    repl_password: &str,
    report: &(dyn Fn(&str) + Sync),
) -> anyhow::Result<Recorded> {
    let work = &opts.work_dir;
    set_root_password(server, root_password)
        .await
        .context("set the source's root password")?;
    let mut conn = server
        .connect("root", Some(root_password))
        .await
        .context("connect to the source as root")?;
    let server_version: Option<String> = conn
        .query_first("SELECT VERSION()")
        .await
        .context("read the source's version")?;
    let server_version = server_version.context("SELECT VERSION() returned no row")?;
    conn.query_drop(format!(
        "CREATE USER '{REPL_USER}'@'%' IDENTIFIED BY '{repl_password}'"
    ))
    .await
    .context("create the replication user")?;
    conn.query_drop(format!(
        "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO '{REPL_USER}'@'%'"
    ))
    .await
    .context("grant REPLICATION SLAVE and BINLOG MONITOR to the replication user")?;

    let scale = sample::Scale::for_rows(opts.rows);
    report(&format!(
        "loading the sample schema `{SCHEMA}` (about {} rows)",
        opts.rows
    ));
    sample::create_and_load(&mut conn, &scale).await?;

    let defaults_file = work.join("backup.cnf");
    write_backup_defaults(&defaults_file, server.socket(), root_password)?;
    let backups = take_backups(tb, opts, &defaults_file, &mut conn, &scale, report).await;
    if let Err(error) = std::fs::remove_file(&defaults_file) {
        tracing::warn!(path = %defaults_file, %error, "cannot remove mariabackup's credentials file");
    }
    let parts = backups?;

    let binlog = sample::binlog_coordinates(&mut conn).await?;
    let tables = summarize_schema(&mut conn, SCHEMA).await?;
    conn.disconnect()
        .await
        .context("disconnect from the source")?;
    report(&format!(
        "recorded the source state: binlog {} position {}, GTID {}, {} tables",
        binlog.file,
        binlog.position,
        if binlog.gtid.is_empty() {
            "(none)"
        } else {
            &binlog.gtid
        },
        tables.len()
    ));
    check_backup_binlog(&work.join(format!("{INCREMENTAL_SET}-lsn")), &binlog)?;
    Ok(Recorded {
        server_version,
        tables,
        binlog,
        parts,
    })
}

/// The full backup, the changes, the incremental: every part written.
async fn take_backups(
    tb: &Toolbox,
    opts: &DemoSourceOptions,
    defaults_file: &Utf8Path,
    conn: &mut mysql_async::Conn,
    scale: &sample::Scale,
    report: &(dyn Fn(&str) + Sync),
) -> anyhow::Result<Vec<Utf8PathBuf>> {
    let mut parts = one_backup(tb, opts, defaults_file, FULL_SET, None, report).await?;
    report("writing changes for the incremental backup (new orders, updates, deletes)");
    sample::apply_changes(conn, scale).await?;
    let incremental = one_backup(
        tb,
        opts,
        defaults_file,
        INCREMENTAL_SET,
        Some(FULL_SET),
        report,
    )
    .await?;
    parts.extend(incremental);
    Ok(parts)
}

/// Backup set `name` into `<bucket>/<prefix>/<name>/`, incremental on top of set `base`.
async fn one_backup(
    tb: &Toolbox,
    opts: &DemoSourceOptions,
    defaults_file: &Utf8Path,
    name: &str,
    base: Option<&str>,
    report: &(dyn Fn(&str) + Sync),
) -> anyhow::Result<Vec<Utf8PathBuf>> {
    let work = &opts.work_dir;
    let lsn_dir = |set: &str| work.join(format!("{set}-lsn"));
    let out_dir = opts.bucket_dir.join(&opts.prefix).join(name);
    let kind = if base.is_some() {
        "incremental"
    } else {
        "full"
    };
    report(&format!(
        "taking the {kind} backup with mariabackup into {out_dir}"
    ));
    let set = stream_backup(
        tb,
        &StreamJob {
            name,
            defaults_file,
            scratch_dir: &work.join("backup-tmp").join(name),
            lsn_dir: &lsn_dir(name),
            incremental_basedir: base.map(lsn_dir).as_deref(),
            fifo: &work.join("stream.fifo"),
            log: &work.join("logs").join(format!("mariabackup-{name}.log")),
            out_dir: &out_dir,
            stem: STREAM_STEM,
            part_size: opts.part_size,
            timeout: BACKUP_TIMEOUT,
        },
    )
    .await?;
    report(&format!(
        "{kind} backup: {} parts, {:.1} MiB",
        set.parts.len(),
        set.bytes as f64 / f64::from(1 << 20)
    ));
    Ok(set.parts)
}

/// mariabackup's option file: the credentials stay off the command line (and out of `ps`).
fn write_backup_defaults(path: &Utf8Path, socket: &Utf8Path, password: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("remove the old {path}")),
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("create {path}"))?;
    write!(
        file,
        "[mariabackup]\nuser=root\npassword={password}\nsocket={socket}\n"
    )
    .with_context(|| format!("write {path}"))?;
    Ok(())
}

/// The incremental saw the binary log where the source's state was recorded: nothing wrote
/// in between, so a restore of the chain holds exactly the recorded data.
fn check_backup_binlog(
    lsn_dir: &Utf8Path,
    recorded: &sample::BinlogCoordinates,
) -> anyhow::Result<()> {
    let path = lsn_dir.join("xtrabackup_info");
    let text = std::fs::read_to_string(&path).with_context(|| format!("read {path}"))?;
    let info = ferry_backup::meta::Info::parse(&text).with_context(|| format!("parse {path}"))?;
    let expected = format!(
        "filename '{}', position '{}'",
        recorded.file, recorded.position
    );
    if !info.binlog_pos.contains(&expected) {
        anyhow::bail!(
            "the incremental backup saw the binary log at {:?}, but the source reports {expected} \
             right after it: something wrote to the source in between",
            info.binlog_pos
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests;
