//! `ferry import FILE|-`: loads a mysqldump / mariadb-dump file (plain, .gz, .zst) into a
//! MySQL-protocol server (`--host/--port/--user`) or a ferry cluster (`--cluster ID`), in
//! parallel and resumably (see the `ferry-import` crate), with progress on the terminal and
//! a summary at the end.
//!
//! `--parallel` defaults to the machine's cores when the server is on this machine
//! (127.0.0.1, ::1, localhost: the same cores load and serve), else 4 (a remote server's
//! cores are not visible to a client; `@@thread_pool_size` is not a core count on servers
//! without the thread pool).

use std::cell::RefCell;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context};
use camino::Utf8PathBuf;
use clap::Args;
use ferry_base::Secret;
use ferry_import::{ImportOptions, PlainServer, ProgressReport, Resume, Summary, Target};
use indicatif::{ProgressBar, ProgressStyle};

use crate::progress::human_bytes;
use crate::replication::ApiArgs;

pub(crate) mod cluster;

#[derive(Args)]
pub struct ImportArgs {
    /// The dump: a file (plain, gzip or zstd, by content) or `-` for standard input.
    pub file: String,
    /// The server's host (not with --cluster).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// The server's port.
    #[arg(long, default_value_t = 3306)]
    pub port: u16,
    /// The account to load as (default: root).
    #[arg(long)]
    pub user: Option<String>,
    /// A file whose first line is the password. Else FERRY_IMPORT_PASSWORD, else a prompt
    /// on a terminal, else no password.
    #[arg(long)]
    pub password_file: Option<Utf8PathBuf>,
    /// Connections loading table data (default: this machine's cores for a local server,
    /// else 4).
    #[arg(long)]
    pub parallel: Option<usize>,
    /// Load only this schema (a dump without USE loads into it, as `mariadb DB < dump`).
    #[arg(long)]
    pub database: Option<String>,
    /// Go on after a failing statement; every failure is listed at the end.
    #[arg(long)]
    pub continue_on_error: bool,
    /// Continue an interrupted import (the default when its progress file is found); fails
    /// when there is nothing to continue.
    #[arg(long, conflicts_with = "fresh")]
    pub resume: bool,
    /// Forget an interrupted import's progress and start over.
    #[arg(long)]
    pub fresh: bool,
    /// The progress file (default: FILE.ferry-import.json beside the dump; for `-`,
    /// ~/.local/state/ferry/import-stdin-HOST-PORT.json).
    #[arg(long)]
    pub state_file: Option<PathBuf>,
    /// Parse the whole dump and print what would be loaded; connects to nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Recreate the accounts and grants of an --all-databases dump.
    #[arg(long)]
    pub include_accounts: bool,
    /// Bytes of INSERT statements per transaction (a unit of work).
    #[arg(long, default_value_t = ferry_import::DEFAULT_UNIT_BYTES)]
    pub unit_bytes: u64,
    /// Create every index with its table, as the dump says. By default an InnoDB table's
    /// plain secondary indexes (KEY / INDEX) are built after its rows, one sort per index.
    #[arg(long)]
    pub no_defer_indexes: bool,
    /// Send the dump's INSERT statements as written. By default the rows of plain INSERTs of
    /// literals go as LOAD DATA LOCAL INFILE input (the server parses far less), checked to
    /// give exactly the INSERTs' rows.
    #[arg(long)]
    pub no_load_data: bool,
    /// Load into this ferry cluster (through `ferry serve`'s API) instead of --host.
    #[arg(long)]
    pub cluster: Option<String>,
    #[command(flatten)]
    pub api: ApiArgs,
}

pub async fn run(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let (input, counter, size) = open(&args.file)?;
    let state_file = match &args.state_file {
        Some(p) => p.clone(),
        None => default_state_file(&args)?,
    };
    if args.resume && !args.dry_run && !state_file.exists() {
        bail!(
            "--resume: no progress file {} (nothing to continue; drop --resume to start)",
            state_file.display()
        );
    }
    let local = matches!(args.host.as_str(), "127.0.0.1" | "localhost" | "::1");
    let parallel = args.parallel.unwrap_or_else(|| {
        if local && args.cluster.is_none() {
            std::thread::available_parallelism().map_or(4, |n| n.get())
        } else {
            4
        }
    });
    if parallel == 0 {
        bail!("--parallel must be at least 1");
    }
    let mut opts = ImportOptions::new(args.file.clone(), state_file);
    opts.parallel = parallel;
    opts.database = args.database.clone();
    opts.continue_on_error = args.continue_on_error;
    opts.resume = if args.fresh {
        Resume::Fresh
    } else {
        Resume::Auto
    };
    opts.dry_run = args.dry_run;
    opts.accounts = args.include_accounts;
    opts.source_size = size;
    opts.unit_bytes = args.unit_bytes.max(1);
    opts.defer_indexes = !args.no_defer_indexes;
    opts.load_data = !args.no_load_data;

    if args.dry_run {
        let plan =
            ferry_import::plan(input, &opts).with_context(|| format!("parse {}", args.file))?;
        print!("{plan}");
        if let Some(call) = coordinates_line(&plan.coordinates) {
            println!("{call}");
        }
        return Ok(ExitCode::SUCCESS);
    }

    let password = password(&args)?;
    let (target, host) = target_and_host(&args, password).await?;
    let display = Display::new(size);
    let started = Instant::now();
    let result = ferry_import::import(input, Some(counter), &target, &opts, host.as_ref(), &|p| {
        display.show(p)
    })
    .await;
    display.finish();
    let summary = result.with_context(|| {
        format!(
            "import {} into {} (rerun the same command to continue from where it stopped)",
            args.file,
            target.describe()
        )
    })?;
    print_summary(&summary, size, started);
    Ok(if summary.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

type Input = (
    Box<dyn std::io::BufRead + Send>,
    ferry_dump::CountHandle,
    Option<u64>,
);

fn open(file: &str) -> anyhow::Result<Input> {
    if file == "-" {
        let (r, c) =
            ferry_dump::open_decompressed(std::io::stdin()).context("read standard input")?;
        return Ok((r, c, None));
    }
    let f = std::fs::File::open(file).with_context(|| format!("open {file}"))?;
    let size = f.metadata().ok().map(|m| m.len());
    let (r, c) = ferry_dump::open_decompressed(f).with_context(|| format!("read {file}"))?;
    Ok((r, c, size))
}

fn default_state_file(args: &ImportArgs) -> anyhow::Result<PathBuf> {
    if args.file != "-" {
        return Ok(PathBuf::from(format!("{}.ferry-import.json", args.file)));
    }
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .context("neither XDG_STATE_HOME nor HOME is set: pass --state-file")?;
    let dir = base.join("ferry");
    std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
    let target = match &args.cluster {
        Some(c) => c.clone(),
        None => format!("{}-{}", args.host, args.port),
    };
    Ok(dir.join(format!("import-stdin-{target}.json")))
}

fn password(args: &ImportArgs) -> anyhow::Result<Secret> {
    if let Some(path) = &args.password_file {
        return Ok(Secret::new(first_line(path, "")?));
    }
    if let Ok(p) = std::env::var("FERRY_IMPORT_PASSWORD") {
        return Ok(Secret::new(p));
    }
    if std::io::stdin().is_terminal() && args.file != "-" {
        return prompt("Password: ");
    }
    Ok(Secret::new(String::new()))
}

/// The first line of a password file (`what`: whose password, for the error message): the one
/// reading of `--password-file`, `--source-password-file` and `--replication-password-file`.
pub(crate) fn first_line(path: &camino::Utf8Path, what: &str) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("read the {what}password from {path}"))?;
    Ok(text.lines().next().unwrap_or_default().to_owned())
}

/// Reads a line from the terminal with echo off.
pub(crate) fn prompt(label: &str) -> anyhow::Result<Secret> {
    use std::io::Write;
    eprint!("{label}");
    std::io::stderr().flush().ok();
    let fd = 0;
    // SAFETY: termios is plain data; tcgetattr fills it for a valid fd (0, a terminal here).
    let mut term: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: fd 0 is open and `term` is a valid termios to fill.
    let saved = unsafe { libc::tcgetattr(fd, &mut term) } == 0;
    if saved {
        let mut quiet = term;
        quiet.c_lflag &= !libc::ECHO;
        // SAFETY: a termios derived from the one tcgetattr returned, for the same fd.
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &quiet) };
    }
    let mut line = String::new();
    let read = std::io::stdin().read_line(&mut line);
    if saved {
        // SAFETY: restores the termios tcgetattr returned for this fd.
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &term) };
    }
    eprintln!();
    read.context("read the password")?;
    Ok(Secret::new(line.trim_end_matches(['\n', '\r']).to_owned()))
}

async fn target_and_host(
    args: &ImportArgs,
    password: Secret,
) -> anyhow::Result<(Target, Box<dyn ferry_import::Host>)> {
    if let Some(cluster) = &args.cluster {
        return cluster::connect(cluster, &args.api, args.user.as_deref(), password).await;
    }
    let target = Target {
        host: args.host.clone(),
        port: args.port,
        user: args.user.clone().unwrap_or_else(|| "root".to_owned()),
        password,
    };
    Ok((target, Box::new(PlainServer)))
}

/// The progress on stderr: a bar on a terminal, a line every 5 s otherwise.
pub(crate) struct Display {
    bar: Option<ProgressBar>,
    state: RefCell<(Instant, u64, Instant)>,
}

impl Display {
    pub(crate) fn new(size: Option<u64>) -> Display {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(size.unwrap_or(0));
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {prefix:>8} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta} {msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar
        });
        let now = Instant::now();
        Display {
            bar,
            state: RefCell::new((now, 0, now)),
        }
    }

    pub(crate) fn show(&self, p: &ProgressReport) {
        let mut st = self.state.borrow_mut();
        let now = Instant::now();
        let dt = now.duration_since(st.0).as_secs_f64().max(0.001);
        let rate = p.rows.saturating_sub(st.1) as f64 / dt;
        *st = (now, p.rows, st.2);
        let msg = format!(
            "tables {}/{}, {} rows ({}/s){}{}",
            p.tables_done,
            p.tables_total,
            p.rows,
            rate.round() as u64,
            if p.failures > 0 {
                format!(", {} failures", p.failures)
            } else {
                String::new()
            },
            if p.definers_rewritten > 0 {
                format!(", {} definers rewritten", p.definers_rewritten)
            } else {
                String::new()
            }
        );
        match &self.bar {
            Some(bar) => {
                bar.set_prefix(p.phase.as_str());
                if let Some(t) = p.bytes_total {
                    bar.set_length(t);
                }
                bar.set_position(p.bytes_read);
                bar.set_message(msg);
            }
            None => {
                if now.duration_since(st.2).as_secs() >= 5 {
                    st.2 = now;
                    let of = p.bytes_total.map_or(String::new(), |t| {
                        format!(
                            " of {} ({}%)",
                            human_bytes(t),
                            p.bytes_read * 100 / t.max(1)
                        )
                    });
                    eprintln!(
                        "{}: {}{of}, {msg}",
                        p.phase.as_str(),
                        human_bytes(p.bytes_read)
                    );
                }
            }
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn coordinates_line(c: &ferry_dump::Coordinates) -> Option<String> {
    let mut out = String::new();
    if let (Some(file), Some(pos)) = (&c.file, c.position) {
        out.push_str(&format!(
            "binlog coordinates{}: {file} {pos}\n  CALL mysql.rds_set_external_master('<source host>', <port>, '<user>', '<password>', '{file}', {pos}, 0);",
            if c.of_source_of_source { " (of the source's source, --dump-slave)" } else { "" }
        ));
    }
    if let Some(gtid) = &c.gtid {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&format!("gtid: {gtid}"));
    }
    (!out.is_empty()).then_some(out)
}

fn print_summary(s: &Summary, size: Option<u64>, started: Instant) {
    let secs = started.elapsed().as_secs_f64().max(0.001);
    println!(
        "imported {} tables, {} rows, {} views, {} triggers, {} routines, {} events in {:.1}s{}",
        s.tables,
        s.rows,
        s.views,
        s.triggers,
        s.routines,
        s.events,
        s.elapsed.as_secs_f64(),
        size.map_or(String::new(), |b| format!(
            " ({:.1} MB/s)",
            b as f64 / 1e6 / secs
        )),
    );
    if s.rows_load_data > 0 {
        println!(
            "rows sent as LOAD DATA LOCAL input: {} (the rest as the dump's INSERTs)",
            s.rows_load_data
        );
    }
    if s.indexes_deferred > 0 {
        println!(
            "secondary indexes built after the rows: {} on {} tables",
            s.indexes_deferred, s.tables_with_deferred_indexes
        );
    }
    if !s.definer_rewrites.is_empty() {
        println!("definers rewritten ({}):", s.definer_rewrites.len());
        for r in &s.definer_rewrites {
            println!(
                "  {} {}: {} -> {} ({})",
                r.kind.as_str(),
                r.object,
                r.from,
                r.to,
                r.reason
            );
        }
    }
    if !s.failures.is_empty() {
        println!("failures ({}):", s.failures.len());
        for f in &s.failures {
            println!("  line {}: `{}`: {}", f.line, f.statement_head, f.error);
        }
    }
    for note in &s.skipped {
        println!("skipped: {note}");
    }
    if let Some(c) = coordinates_line(&s.coordinates) {
        println!("{c}");
    }
}
