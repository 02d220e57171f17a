//! [`Run`]: the loader's state during one import and its main loop.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferry_dump::{CountHandle, Kind, Name, Statement};
use mysql_async::prelude::Queryable as _;
use mysql_async::Conn;
use tokio::sync::mpsc;

use super::Msg;
use crate::deferred::{head, Deferred, Item, ObjectInfo};
use crate::error::{is_connection_lost, server_code, ImportError};
use crate::host::{Host, ObjectKind};
use crate::session::Tracker;
use crate::state::{self, StateFile};
use crate::units::Units;
use crate::worker::{self, Done, Unit, Worker};
use crate::{DefinerRewrite, Failure, ImportOptions, Phase, ProgressReport, Summary, Target};

mod build;
mod indexes;

const TICK: Duration = Duration::from_millis(500);
const HOST_REPORT: Duration = Duration::from_secs(2);

/// Errors meaning "it is already there": a DDL statement redone after a crash counts as done.
pub(super) const ALREADY_EXISTS: [u16; 6] = [1007, 1050, 1304, 1359, 1537, 1396];

pub(crate) struct Setup<'a> {
    pub target: Target,
    pub opts: ImportOptions,
    pub host: &'a dyn Host,
    pub progress: &'a dyn Fn(&ProgressReport),
    pub control: Conn,
    pub current_user: String,
    pub state: StateFile,
    pub units_done: BTreeMap<u64, u64>,
    pub resumed: bool,
    pub counter: Option<CountHandle>,
}

pub(crate) struct Run<'a> {
    pub(super) s: Setup<'a>,
    pub(super) tracker: Tracker,
    // Data units.
    building: Option<Unit>,
    /// Units waiting for a worker, shared with the workers.
    units: Arc<Units>,
    done_rx: mpsc::UnboundedReceiver<Done>,
    workers: Vec<tokio::task::JoinHandle<()>>,
    inflight: HashMap<String, usize>,
    inflight_total: usize,
    fatal: Option<ImportError>,
    // Tables.
    tables_waiting: HashSet<String>,
    tables_seen: HashSet<String>,
    system_skipped: HashSet<String>,
    accounts_skipped: u64,
    pub(super) deferred: Deferred,
    /// Secondary indexes waiting for their table's rows.
    indexes: indexes::Pending,
    /// Tables' engines, asked of the server at `ALTER TABLE .. ENABLE KEYS`.
    engines: HashMap<String, String>,
    /// Rows the workers committed through LOAD DATA.
    load_data_rows: Arc<std::sync::atomic::AtomicU64>,
    // Resume: the first DDL redone after the checkpoint may find its work already done.
    pub(super) ddl_redo_window: bool,
    // Counters.
    pub(super) phase: Phase,
    bytes_read: u64,
    pub(super) statements: u64,
    rows: u64,
    tables_done: u64,
    /// Rows by table, for the host's per-table progress.
    table_rows: super::tables::Tables,
    pub(super) failures: Vec<Failure>,
    pub(super) rewrites: Vec<DefinerRewrite>,
    pub(super) skipped: Vec<String>,
    pub(super) objects: [u64; 4],
    coordinates: ferry_dump::Coordinates,
    last_tick: Instant,
    last_host: Instant,
}

impl<'a> Run<'a> {
    pub fn new(s: Setup<'a>) -> Run<'a> {
        let units = Arc::new(Units::default());
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        let load_data_rows = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let workers = (0..s.opts.parallel.max(1))
            .map(|_| {
                tokio::spawn(
                    Worker {
                        target: s.target.clone(),
                        source_name: s.opts.source_name.clone(),
                        continue_on_error: s.opts.continue_on_error,
                        load_data: s.opts.load_data,
                        load_data_refused: Default::default(),
                        load_data_rows: load_data_rows.clone(),
                        units: units.clone(),
                        done: done_tx.clone(),
                    }
                    .run(),
                )
            })
            .collect();
        let rows = s.units_done.values().sum();
        let resumed = s.resumed;
        Run {
            s,
            tracker: Tracker::default(),
            building: None,
            units,
            done_rx,
            workers,
            inflight: HashMap::new(),
            inflight_total: 0,
            fatal: None,
            tables_waiting: HashSet::new(),
            tables_seen: HashSet::new(),
            system_skipped: HashSet::new(),
            accounts_skipped: 0,
            deferred: Deferred::default(),
            indexes: indexes::Pending::default(),
            engines: HashMap::new(),
            load_data_rows,
            ddl_redo_window: resumed,
            phase: Phase::Schema,
            bytes_read: 0,
            statements: 0,
            rows,
            tables_done: 0,
            table_rows: Default::default(),
            failures: Vec::new(),
            rewrites: Vec::new(),
            skipped: Vec::new(),
            objects: [0; 4],
            coordinates: Default::default(),
            last_tick: Instant::now(),
            last_host: Instant::now(),
        }
    }

    pub fn report(&self, phase: Phase) -> ProgressReport {
        ProgressReport {
            phase,
            bytes_read: self.s.counter.as_ref().map_or(self.bytes_read, |c| c.get()),
            bytes_total: self.s.opts.source_size,
            tables_total: self.tables_seen.len() as u64,
            tables_done: self.tables_done,
            rows: self.rows,
            statements: self.statements,
            failures: self.failures.len() as u64,
            definers_rewritten: self.rewrites.len() as u64,
            tables: self.table_rows.report(&self.tables_waiting, &self.inflight),
        }
    }

    pub fn summary(&self, elapsed: Duration) -> Summary {
        let mut skipped = self.skipped.clone();
        let mut system: Vec<&String> = self.system_skipped.iter().collect();
        system.sort();
        if !system.is_empty() {
            skipped.push(format!(
                "system schema `mysql`: {} table(s) not loaded ({})",
                system.len(),
                system
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if self.accounts_skipped > 0 {
            skipped.push(format!(
                "{} account/grant statement(s) not run (pass --include-accounts to recreate them)",
                self.accounts_skipped
            ));
        }
        Summary {
            tables: self.tables_seen.len() as u64,
            rows: self.rows,
            views: self.objects[0],
            triggers: self.objects[1],
            routines: self.objects[2],
            events: self.objects[3],
            definer_rewrites: self.rewrites.clone(),
            failures: self.failures.clone(),
            skipped,
            coordinates: self.coordinates.clone(),
            elapsed,
            indexes_deferred: self.indexes.keys_deferred,
            tables_with_deferred_indexes: self.indexes.tables_deferred,
            rows_load_data: self
                .load_data_rows
                .load(std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// Progress every [`TICK`], the host every [`HOST_REPORT`] and at phase changes.
    pub(super) async fn tick(&mut self, force: bool) {
        let now = Instant::now();
        if force || now.duration_since(self.last_tick) >= TICK {
            self.last_tick = now;
            (self.s.progress)(&self.report(self.phase));
        }
        if force || now.duration_since(self.last_host) >= HOST_REPORT {
            self.last_host = now;
            if let Err(e) = self.s.host.report(&self.report(self.phase)).await {
                tracing::warn!(error = %e, "cannot report the import's progress to the host");
            }
        }
    }

    pub(super) async fn set_phase(&mut self, phase: Phase) {
        if self.phase != phase {
            self.phase = phase;
            self.tick(true).await;
        }
    }

    /// The whole import after setup.
    pub async fn go(&mut self, mut reader: mpsc::Receiver<Msg>) -> Result<(), ImportError> {
        if let Some(db) = self.s.opts.database.clone() {
            // As `mariadb DB < dump.sql`: a dump without USE loads into DB.
            let sql = format!("USE {}", crate::session::quote_ident(&db));
            self.s
                .control
                .query_drop(sql)
                .await
                .map_err(|e| ImportError::State(format!("--database {db}: {e}")))?;
        }
        let mut result = self.read_all(&mut reader).await;
        drop(reader);
        if result.is_ok() {
            // Every table's rows are in: the last indexes are built before the objects.
            self.indexes.close();
            result = self.wait_units(None).await;
        }
        // Stop feeding the workers; let the units in flight finish (their commits count).
        // After an error, the unit being built and the waiting ones are left to a resume
        // (after success there are none).
        self.building = None;
        for unit in self.units.close() {
            self.inflight_total -= 1;
            if let Some(n) = self.inflight.get_mut(&unit.table) {
                *n = n.saturating_sub(1);
            }
        }
        while self.inflight_total > 0 {
            match self.done_rx.recv().await {
                Some(d) => self.on_done(d),
                None => break,
            }
        }
        for w in self.workers.drain(..) {
            let _ = w.await;
        }
        self.save_state()?;
        result?;
        if let Some(e) = self.fatal.take() {
            return Err(e);
        }
        self.set_phase(Phase::Objects).await;
        self.create_objects().await?;
        Ok(())
    }

    async fn read_all(&mut self, reader: &mut mpsc::Receiver<Msg>) -> Result<(), ImportError> {
        loop {
            if let Some(e) = self.fatal.take() {
                return Err(e);
            }
            let msg = tokio::select! {
                m = reader.recv() => m,
                Some(d) = self.done_rx.recv(), if self.inflight_total > 0 => {
                    self.on_done(d);
                    self.dispatch_indexes().await;
                    continue;
                }
                _ = tokio::time::sleep(TICK) => { self.tick(false).await; continue; }
            };
            self.tick(false).await;
            match msg {
                Some(Msg::Statement(st, n)) => {
                    self.bytes_read = n;
                    self.statements += 1;
                    self.statement(*st).await?;
                    self.dispatch_indexes().await;
                }
                Some(Msg::End(coords, n)) => {
                    self.bytes_read = n;
                    self.coordinates = coords;
                    return Ok(());
                }
                Some(Msg::Error(error)) => {
                    return Err(ImportError::Parse {
                        source_name: self.s.opts.source_name.clone(),
                        error,
                    })
                }
                None => {
                    return Err(ImportError::State(
                        "the dump reader stopped unexpectedly".to_owned(),
                    ))
                }
            }
        }
    }

    fn on_done(&mut self, d: Done) {
        self.inflight_total = self.inflight_total.saturating_sub(1);
        if let Some(n) = self.inflight.get_mut(&d.table) {
            *n = n.saturating_sub(1);
        }
        self.failures.extend(d.failures);
        match d.error {
            Some(e) => {
                if self.fatal.is_none() {
                    self.fatal = Some(e);
                }
            }
            None if d.indexes => {}
            None => {
                self.rows += d.rows;
                self.table_rows.add_rows(&d.table, d.rows);
                self.s.units_done.insert(d.id, d.rows);
            }
        }
        self.check_tables_done();
    }

    fn check_tables_done(&mut self) {
        let building = self.building.as_ref().map(|u| u.table.clone());
        let done: Vec<String> = self
            .tables_waiting
            .iter()
            .filter(|t| {
                self.inflight.get(*t).copied().unwrap_or(0) == 0 && Some(*t) != building.as_ref()
            })
            .cloned()
            .collect();
        for t in done {
            self.tables_waiting.remove(&t);
            self.table_rows.finished(&t);
            self.tables_done += 1;
        }
    }

    /// Waits until no unit of `table` (all tables: None) is loading, nor an index build of a
    /// table whose rows are all in.
    async fn wait_units(&mut self, table: Option<&str>) -> Result<(), ImportError> {
        self.flush_unit().await;
        loop {
            self.dispatch_indexes().await;
            let busy = match table {
                Some(t) => self.inflight.get(t).copied().unwrap_or(0) > 0 || self.indexes.closed(t),
                None => self.inflight_total > 0 || self.indexes.any_closed(),
            };
            if !busy {
                break;
            }
            tokio::select! {
                d = self.done_rx.recv() => match d {
                    Some(d) => self.on_done(d),
                    None => break,
                },
                _ = tokio::time::sleep(TICK) => self.tick(false).await,
            }
            if let Some(e) = self.fatal.take() {
                return Err(e);
            }
        }
        Ok(())
    }

    /// Adds `unit` to the work, then waits (taking reports) while another unit of rows is
    /// still waiting for a worker, so memory stays bounded.
    async fn send_unit(&mut self, unit: Unit) {
        *self.inflight.entry(unit.table.clone()).or_default() += 1;
        self.inflight_total += 1;
        if self.phase == Phase::Schema {
            self.set_phase(Phase::Data).await;
        }
        self.units.add(unit);
        let units = self.units.clone();
        while units.waiting_rows() > 1 && self.fatal.is_none() {
            tokio::select! {
                _ = units.taken() => {}
                d = self.done_rx.recv() => match d {
                    Some(d) => self.on_done(d),
                    None => {
                        // Every worker stopped without saying why (one that fails says).
                        self.fatal = Some(ImportError::State("every data connection stopped".into()));
                    }
                },
                _ = tokio::time::sleep(TICK) => self.tick(false).await,
            }
        }
    }

    /// The schema a statement is about.
    fn schema_of(&self, st: &Statement, name: Option<&Name>) -> Option<String> {
        name.and_then(|n| n.schema.clone())
            .or_else(|| st.database.clone())
    }

    fn table_key(&self, st: &Statement, name: &Name) -> String {
        format!(
            "{}.{}",
            self.schema_of(st, Some(name)).unwrap_or_default(),
            name.name
        )
    }

    /// Whether `--database` keeps statements of `schema`.
    fn wanted(&self, schema: Option<&str>) -> bool {
        match &self.s.opts.database {
            None => true,
            Some(db) => schema == Some(db.as_str()),
        }
    }

    async fn statement(&mut self, mut st: Statement) -> Result<(), ImportError> {
        // `--database DB` on a dump without USE: its statements are DB's (as `mariadb DB`).
        if st.database.is_none() {
            st.database = self.s.opts.database.clone();
        }
        let done_before = st.end <= self.s.state.ddl_done_end;
        self.note_table_end(&st);
        if !matches!(st.kind, Kind::Insert { .. }) {
            // A unit is a run of INSERTs with nothing between them.
            self.flush_unit().await;
            // A table whose rows just ended gets its index build now, before this statement
            // runs (it may wait on a lock for long).
            self.dispatch_indexes().await;
        }
        match &st.kind {
            Kind::Empty | Kind::LockTables | Kind::UnlockTables => Ok(()),
            Kind::Set { system_variables } => {
                let vars = system_variables.clone();
                if !vars.is_empty() {
                    // The next INSERTs must carry the new values: a new unit.
                    self.flush_unit().await;
                }
                self.control(&st, false).await?;
                self.tracker.assigned(&vars);
                // Read back now: a new control connection must restore exactly these.
                let read = async {
                    self.tracker.snapshot(&mut self.s.control).await?;
                    self.tracker
                        .read_user_variables(&mut self.s.control, &st.sql)
                        .await
                };
                read.await.map_err(|e| self.stmt_error(&st, &e))?;
                Ok(())
            }
            Kind::Use { database } => {
                if self.wanted(Some(database)) {
                    self.control(&st, false).await?;
                }
                Ok(())
            }
            Kind::ChangeMaster => {
                self.skipped.push(format!(
                    "line {}: CHANGE MASTER TO not run (the coordinates are in the summary)",
                    st.line
                ));
                Ok(())
            }
            Kind::Accounts => {
                if !self.s.opts.accounts || self.s.opts.database.is_some() {
                    self.accounts_skipped += 1;
                    return Ok(());
                }
                self.wait_units(None).await?;
                self.ddl(&st, done_before).await
            }
            Kind::Insert { table, rows, .. } => {
                let schema = self.schema_of(&st, Some(table));
                if !self.wanted(schema.as_deref()) {
                    self.flush_unit().await;
                    return Ok(());
                }
                let key = self.table_key(&st, table);
                if schema.as_deref() == Some("mysql") {
                    self.flush_unit().await;
                    self.system_skipped.insert(key);
                    return Ok(());
                }
                let rows = *rows;
                self.insert(st, key, rows).await;
                Ok(())
            }
            Kind::CreateDatabase { database } | Kind::DropDatabase { database } => {
                if !self.wanted(Some(database)) || database == "mysql" {
                    return Ok(());
                }
                self.wait_units(None).await?;
                self.ddl(&st, done_before).await
            }
            Kind::CreateTable { table } | Kind::DropTable { table } | Kind::AlterKeys { table } => {
                let schema = self.schema_of(&st, Some(table));
                if !self.wanted(schema.as_deref()) {
                    return Ok(());
                }
                let key = self.table_key(&st, table);
                if schema.as_deref() == Some("mysql") {
                    self.system_skipped.insert(key);
                    return Ok(());
                }
                if matches!(st.kind, Kind::AlterKeys { .. })
                    && self.keys_switch_is_a_no_op(&st, &key).await
                {
                    return Ok(());
                }
                self.wait_units(Some(&key)).await?;
                let create = matches!(st.kind, Kind::CreateTable { .. });
                if !matches!(st.kind, Kind::AlterKeys { .. }) {
                    self.engines.remove(&key);
                }
                if create {
                    let table = table.name.clone();
                    self.defer_indexes(&mut st, &key, schema.as_deref(), &table, done_before);
                }
                if create && self.tables_seen.insert(key.clone()) {
                    self.tables_waiting.insert(key);
                }
                self.ddl(&st, done_before).await?;
                self.check_tables_done();
                Ok(())
            }
            Kind::CreateView { view: n, definer } => {
                self.defer(&st, n, ObjectKind::View, definer.clone()).await
            }
            Kind::CreateTrigger {
                trigger: n,
                definer,
                ..
            } => {
                self.defer(&st, n, ObjectKind::Trigger, definer.clone())
                    .await
            }
            Kind::CreateRoutine {
                routine: n,
                function,
                definer,
            } => {
                let kind = if *function {
                    ObjectKind::Function
                } else {
                    ObjectKind::Procedure
                };
                self.defer(&st, n, kind, definer.clone()).await
            }
            Kind::CreateEvent { event: n, definer } => {
                self.defer(&st, n, ObjectKind::Event, definer.clone()).await
            }
            Kind::DropView { view } => {
                let schema = self.schema_of(&st, Some(view));
                self.defer_plain(&st, schema).await
            }
            Kind::DropObject => {
                let schema = st.database.clone();
                self.defer_plain(&st, schema).await
            }
            Kind::Other => {
                if !self.wanted(st.database.as_deref()) || st.database.as_deref() == Some("mysql") {
                    return Ok(());
                }
                self.wait_units(None).await?;
                self.ddl(&st, done_before).await
            }
        }
    }

    /// Runs `st` on the control connection (in dump order), once: after a resume, DDL before
    /// the checkpoint is skipped.
    async fn ddl(&mut self, st: &Statement, done_before: bool) -> Result<(), ImportError> {
        if done_before {
            return Ok(());
        }
        let window = std::mem::take(&mut self.ddl_redo_window);
        self.control(st, window).await?;
        self.s.state.ddl_done_end = st.end;
        self.save_state()
    }

    /// Runs `st` on the control connection; a lost connection is retried once on a new one
    /// (the statement is then allowed to find its work done).
    pub(super) async fn control(&mut self, st: &Statement, redo: bool) -> Result<(), ImportError> {
        let mut redo = redo;
        let mut attempts = 0;
        loop {
            match self.s.control.query_drop(st.sql.as_slice()).await {
                Ok(()) => return Ok(()),
                Err(e) if redo && server_code(&e).is_some_and(|c| ALREADY_EXISTS.contains(&c)) => {
                    return Ok(())
                }
                Err(e) if is_connection_lost(&e) && attempts < 10 => {
                    attempts += 1;
                    tracing::warn!(line = st.line, error = %e, "control connection lost, reconnecting");
                    tokio::time::sleep(Duration::from_millis(200 << attempts.min(5))).await;
                    if let Ok(c) = worker::connect(&self.s.target, true).await {
                        self.s.control = c;
                        for sql in self.tracker.restore_sql() {
                            let _ = self.s.control.query_drop(sql).await;
                        }
                        if let Some(db) = &st.database {
                            let _ = self
                                .s
                                .control
                                .query_drop(format!("USE {}", crate::session::quote_ident(db)))
                                .await;
                        }
                    }
                    redo = true;
                }
                Err(e) => {
                    if self.s.opts.continue_on_error && !is_connection_lost(&e) {
                        self.failures.push(Failure {
                            line: st.line,
                            statement_head: head(&st.sql),
                            error: e.to_string(),
                        });
                        return Ok(());
                    }
                    return Err(self.stmt_error(st, &e));
                }
            }
        }
    }

    pub(super) fn stmt_error(&self, st: &Statement, e: &mysql_async::Error) -> ImportError {
        ImportError::Statement {
            file: self.s.opts.source_name.clone(),
            line: st.line,
            head: head(&st.sql),
            error: e.to_string(),
        }
    }

    async fn defer(
        &mut self,
        st: &Statement,
        name: &Name,
        kind: ObjectKind,
        definer: Option<ferry_dump::Definer>,
    ) -> Result<(), ImportError> {
        let schema = self.schema_of(st, Some(name));
        if !self.wanted(schema.as_deref()) {
            return Ok(());
        }
        if schema.as_deref() == Some("mysql") {
            self.skipped.push(format!(
                "line {}: {} mysql.{} not created (system schema)",
                st.line,
                kind.as_str(),
                name.name
            ));
            return Ok(());
        }
        let object = ObjectInfo {
            kind,
            schema: schema.unwrap_or_default(),
            name: name.name.clone(),
            definer,
        };
        self.push_deferred(st, Some(object)).await
    }

    async fn defer_plain(
        &mut self,
        st: &Statement,
        schema: Option<String>,
    ) -> Result<(), ImportError> {
        if !self.wanted(schema.as_deref()) || schema.as_deref() == Some("mysql") {
            return Ok(());
        }
        self.push_deferred(st, None).await
    }

    async fn push_deferred(
        &mut self,
        st: &Statement,
        object: Option<ObjectInfo>,
    ) -> Result<(), ImportError> {
        self.flush_unit().await;
        let session = self
            .tracker
            .snapshot(&mut self.s.control)
            .await
            .map_err(|e| self.stmt_error(st, &e))?;
        let rewritten = object
            .as_ref()
            .and_then(|o| o.definer.as_ref())
            .filter(|d| !super::objects::same_account(&self.s.current_user, d))
            .and_then(|_| st.with_definer_current_user());
        self.deferred.push(Item {
            rewritten,
            sql: st.sql.clone(),
            line: st.line,
            end: st.end,
            database: st.database.clone(),
            session: session.vars,
            object,
        })
    }

    pub(super) fn save_state(&mut self) -> Result<(), ImportError> {
        self.s.state.phase = self.phase;
        self.s.state.units_done = self.s.units_done.keys().copied().collect();
        self.s.state.save(&self.s.opts.state_file)
    }

    /// The import completed: the target's state schema and the progress file go.
    pub async fn finish_state(&mut self) -> Result<(), ImportError> {
        state::drop_target_state(&mut self.s.control)
            .await
            .map_err(|e| ImportError::State(format!("drop `{}`: {e}", state::STATE_SCHEMA)))?;
        StateFile::remove(&self.s.opts.state_file)
    }
}
