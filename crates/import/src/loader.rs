//! The import itself: one pass over the dump on a blocking reader thread; DDL in dump order
//! on the control connection; data units to the workers; deferred objects at the end.

mod objects;
mod run;
mod tables;

use std::io::{BufRead, Read};
use std::time::Instant;

use ferry_dump::{CountHandle, Reader, Statement};
use mysql_async::prelude::Queryable as _;
use tokio::sync::mpsc;

use crate::error::ImportError;
use crate::host::{Host, ImportStart};
use crate::state::{self, StateFile};
use crate::worker::connect;
use crate::{FinishReport, ImportOptions, Phase, ProgressReport, Resume, Summary, Target};

pub(crate) use run::Run;

/// What the reader thread sends.
pub(crate) enum Msg {
    Statement(Box<Statement>, u64),
    End(ferry_dump::Coordinates, u64),
    Error(ferry_dump::ParseError),
}

/// Statements queued between the reader thread and the loader.
const READ_AHEAD: usize = 16;

/// Starts the reader thread over `input` (its first bytes `head` already read).
pub(crate) fn spawn_reader(
    head: Vec<u8>,
    input: Box<dyn BufRead + Send>,
    version: ferry_dump::Version,
) -> mpsc::Receiver<Msg> {
    let (tx, rx) = mpsc::channel(READ_AHEAD);
    std::thread::Builder::new()
        .name("ferry-import-reader".into())
        .spawn(move || {
            let chained = std::io::BufReader::with_capacity(
                256 << 10,
                std::io::Cursor::new(head).chain(input),
            );
            let mut reader = Reader::new(chained, version);
            loop {
                match reader.next_statement() {
                    Ok(Some(st)) => {
                        let n = reader.bytes_read();
                        if tx.blocking_send(Msg::Statement(Box::new(st), n)).is_err() {
                            return;
                        }
                    }
                    Ok(None) => {
                        let _ = tx.blocking_send(Msg::End(
                            reader.coordinates().clone(),
                            reader.bytes_read(),
                        ));
                        return;
                    }
                    Err(e) => {
                        let _ = tx.blocking_send(Msg::Error(e));
                        return;
                    }
                }
            }
        })
        .expect("spawn the reader thread");
    rx
}

/// The server's version as the parser judges conditional comments by it.
pub(crate) fn dump_version(version: &str) -> ferry_dump::Version {
    let flavor = if version.to_ascii_lowercase().contains("mariadb") {
        ferry_dump::Flavor::MariaDb
    } else {
        ferry_dump::Flavor::MySql
    };
    let number = ferry_base::version::ServerVersion::parse(version)
        .map(|v| {
            let (a, b, c) = v.numbers();
            a * 10000 + b * 100 + c
        })
        .unwrap_or(101106);
    ferry_dump::Version { number, flavor }
}

/// Loads `input` into `target`. See the crate's documentation for how.
pub async fn import(
    mut input: Box<dyn BufRead + Send>,
    counter: Option<CountHandle>,
    target: &Target,
    opts: &ImportOptions,
    host: &dyn Host,
    progress: &dyn Fn(&ProgressReport),
) -> Result<Summary, ImportError> {
    let started = Instant::now();
    if opts.dry_run {
        let plan = crate::plan::plan(input, opts)?;
        return Ok(plan.summary(started.elapsed()));
    }
    let (dump, head) = state::identify(&mut input, &opts.source_name, opts.source_size)?;
    let mut control = connect(target, false).await?;
    let version: String = control
        .query_first("SELECT VERSION()")
        .await
        .map_err(|e| connect_error(target, e))?
        .unwrap_or_default();
    let current_user: String = control
        .query_first("SELECT CURRENT_USER()")
        .await
        .map_err(|e| connect_error(target, e))?
        .unwrap_or_default();

    // Resume or start afresh.
    let existing = match opts.resume {
        Resume::Fresh => {
            StateFile::remove(&opts.state_file)?;
            None
        }
        Resume::Auto => StateFile::load(&opts.state_file)?,
    };
    let describe = target.describe();
    let (state, units) = match existing {
        Some(st) => {
            if let Some(why) =
                state::mismatch(&st, &dump, &describe, opts.unit_bytes, &opts.database)
            {
                return Err(ImportError::State(format!(
                    "progress file {} does not fit this import: {why}; pass --fresh to start over \
                     (or --state-file to keep both)",
                    opts.state_file.display()
                )));
            }
            match state::target_units(&mut control, &st.import_id)
                .await
                .map_err(|e| connect_error(target, e))?
            {
                Ok(units) => (st, Some(units)),
                Err(why) => {
                    return Err(ImportError::State(format!(
                        "cannot resume from progress file {}: {why}; pass --fresh to start over",
                        opts.state_file.display()
                    )))
                }
            }
        }
        None => {
            let id = format!("import-{:016x}", rand::random::<u64>());
            state::create_target_state(&mut control, &id)
                .await
                .map_err(|e| {
                    ImportError::State(format!(
                        "create the import's state schema `{}` in {describe}: {e}",
                        state::STATE_SCHEMA
                    ))
                })?;
            let st = StateFile {
                version: 1,
                import_id: id,
                dump,
                target: describe.clone(),
                unit_bytes: opts.unit_bytes,
                database: opts.database.clone(),
                phase: Phase::Schema,
                ddl_done_end: 0,
                objects_done_end: 0,
                units_done: Default::default(),
            };
            st.save(&opts.state_file)?;
            (st, None)
        }
    };
    let resumed = units.is_some();
    host.begin(&ImportStart {
        source: opts.source_name.clone(),
        source_size: opts.source_size,
        parallel: opts.parallel,
        resumed,
    })
    .await?;

    let reader = spawn_reader(head, input, dump_version(&version));
    let mut run = Run::new(run::Setup {
        target: target.clone(),
        opts: opts.clone(),
        host,
        progress,
        control,
        current_user,
        state,
        units_done: units.unwrap_or_default(),
        resumed,
        counter,
    });
    let result = run.go(reader).await;
    let summary = run.summary(started.elapsed());
    match result {
        Ok(()) => {
            run.finish_state().await?;
            let report = run.report(Phase::Done);
            progress(&report);
            host.finish(&FinishReport {
                progress: report,
                error: None,
                summary: summary.clone(),
            })
            .await?;
            Ok(summary)
        }
        Err(e) => {
            let report = run.report(Phase::Failed);
            progress(&report);
            let _ = host
                .finish(&FinishReport {
                    progress: report,
                    error: Some(e.to_string()),
                    summary,
                })
                .await;
            Err(e)
        }
    }
}

fn connect_error(target: &Target, e: mysql_async::Error) -> ImportError {
    ImportError::Connect {
        target: target.describe(),
        error: e.to_string(),
    }
}
