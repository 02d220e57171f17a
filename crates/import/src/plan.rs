//! `--dry-run`: the whole dump parsed, nothing connected, and what an import would do.

use std::fmt;
use std::io::BufRead;
use std::time::Duration;

use ferry_dump::{Kind, Reader};

use crate::error::ImportError;
use crate::host::ObjectKind;
use crate::{ImportOptions, Summary};

/// The version dumps are judged by when no server is asked: MariaDB 10.11.
const DRY_RUN_VERSION: ferry_dump::Version = ferry_dump::Version {
    number: 101106,
    flavor: ferry_dump::Flavor::MariaDb,
};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanTable {
    /// `db.table`
    pub name: String,
    pub rows: u64,
    /// Bytes of its INSERT statements.
    pub bytes: u64,
    /// Secondary indexes that would be built after its rows.
    pub deferred_indexes: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanObject {
    pub kind: ObjectKind,
    /// `db.name`
    pub name: String,
    /// `'user'@'host'` as written, if any.
    pub definer: Option<String>,
}

/// What an import of a dump would do.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub databases: Vec<String>,
    pub tables: Vec<PlanTable>,
    pub objects: Vec<PlanObject>,
    pub statements: u64,
    pub bytes: u64,
    pub skipped: Vec<String>,
    pub coordinates: ferry_dump::Coordinates,
}

fn qualified(schema: Option<&str>, name: &str) -> String {
    format!("{}.{name}", schema.unwrap_or("?"))
}

/// Parses the whole dump and lists what it holds (respecting `--database`).
pub fn plan(input: Box<dyn BufRead + Send>, opts: &ImportOptions) -> Result<Plan, ImportError> {
    let mut reader = Reader::new(input, DRY_RUN_VERSION);
    let mut plan = Plan::default();
    let mut accounts = 0u64;
    loop {
        let st = match reader.next_statement() {
            Ok(Some(st)) => st,
            Ok(None) => break,
            Err(error) => {
                return Err(ImportError::Parse {
                    source_name: opts.source_name.clone(),
                    error,
                })
            }
        };
        plan.statements += 1;
        let db = st.database.clone().or_else(|| opts.database.clone());
        let wanted = |schema: Option<&str>| match &opts.database {
            None => schema != Some("mysql"),
            Some(d) => schema == Some(d.as_str()),
        };
        match &st.kind {
            Kind::CreateDatabase { database } if wanted(Some(database)) => {
                plan.databases.push(database.clone())
            }
            Kind::CreateTable { table } => {
                let schema = table.schema.clone().or(db.clone());
                if wanted(schema.as_deref()) {
                    let name = qualified(schema.as_deref(), &table.name);
                    let deferred_indexes = match st.secondary_keys() {
                        Some(split) if opts.defer_indexes && schema.is_some() => split.keys.len(),
                        _ => 0,
                    };
                    match plan.tables.iter_mut().find(|t| t.name == name) {
                        Some(t) => t.deferred_indexes = deferred_indexes,
                        None => plan.tables.push(PlanTable {
                            name,
                            rows: 0,
                            bytes: 0,
                            deferred_indexes,
                        }),
                    }
                } else if schema.as_deref() == Some("mysql") {
                    plan.skipped
                        .push(format!("mysql.{}: system table not loaded", table.name));
                }
            }
            Kind::Insert { table, rows, .. } => {
                let schema = table.schema.clone().or(db.clone());
                if wanted(schema.as_deref()) {
                    let name = qualified(schema.as_deref(), &table.name);
                    match plan.tables.iter_mut().rev().find(|t| t.name == name) {
                        Some(t) => {
                            t.rows += rows;
                            t.bytes += st.sql.len() as u64;
                        }
                        None => plan.tables.push(PlanTable {
                            name,
                            rows: *rows,
                            bytes: st.sql.len() as u64,
                            deferred_indexes: 0,
                        }),
                    }
                }
            }
            Kind::CreateView { view: n, definer } => {
                object(&mut plan, &wanted, ObjectKind::View, n, &db, definer)
            }
            Kind::CreateTrigger {
                trigger: n,
                definer,
                ..
            } => object(&mut plan, &wanted, ObjectKind::Trigger, n, &db, definer),
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
                object(&mut plan, &wanted, kind, n, &db, definer)
            }
            Kind::CreateEvent { event: n, definer } => {
                object(&mut plan, &wanted, ObjectKind::Event, n, &db, definer)
            }
            Kind::Accounts if !opts.accounts => accounts += 1,
            _ => {}
        }
    }
    if accounts > 0 {
        plan.skipped.push(format!(
            "{accounts} account/grant statement(s) not run (pass --include-accounts to recreate them)"
        ));
    }
    plan.bytes = reader.bytes_read();
    plan.coordinates = reader.coordinates().clone();
    Ok(plan)
}

fn object(
    plan: &mut Plan,
    wanted: &dyn Fn(Option<&str>) -> bool,
    kind: ObjectKind,
    n: &ferry_dump::Name,
    db: &Option<String>,
    definer: &Option<ferry_dump::Definer>,
) {
    let schema = n.schema.clone().or(db.clone());
    if !wanted(schema.as_deref()) {
        return;
    }
    // A view's placeholder (no definer) is replaced later by the view itself: list it once.
    let name = qualified(schema.as_deref(), &n.name);
    if let Some(o) = plan
        .objects
        .iter_mut()
        .find(|o| o.kind == kind && o.name == name)
    {
        if definer.is_some() {
            o.definer = definer.as_ref().map(|d| d.sql());
        }
        return;
    }
    plan.objects.push(PlanObject {
        kind,
        name,
        definer: definer.as_ref().map(|d| d.sql()),
    });
}

impl Plan {
    /// The plan as an import's summary (nothing loaded).
    pub fn summary(&self, elapsed: Duration) -> Summary {
        let count =
            |k: &[ObjectKind]| self.objects.iter().filter(|o| k.contains(&o.kind)).count() as u64;
        Summary {
            tables: self.tables.len() as u64,
            rows: self.tables.iter().map(|t| t.rows).sum(),
            views: count(&[ObjectKind::View]),
            triggers: count(&[ObjectKind::Trigger]),
            routines: count(&[ObjectKind::Procedure, ObjectKind::Function]),
            events: count(&[ObjectKind::Event]),
            skipped: self.skipped.clone(),
            coordinates: self.coordinates.clone(),
            elapsed,
            ..Summary::default()
        }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} statements, {} bytes", self.statements, self.bytes)?;
        writeln!(f, "databases ({}):", self.databases.len())?;
        for d in &self.databases {
            writeln!(f, "  {d}")?;
        }
        writeln!(f, "tables ({}):", self.tables.len())?;
        for t in &self.tables {
            write!(
                f,
                "  {:<40} {:>12} rows {:>14} bytes",
                t.name, t.rows, t.bytes
            )?;
            match t.deferred_indexes {
                0 => writeln!(f)?,
                n => writeln!(f, ", {n} secondary index(es) built after the rows")?,
            }
        }
        writeln!(f, "objects ({}):", self.objects.len())?;
        for o in &self.objects {
            match &o.definer {
                Some(d) => writeln!(f, "  {:<9} {:<40} DEFINER={d}", o.kind.as_str(), o.name)?,
                None => writeln!(f, "  {:<9} {}", o.kind.as_str(), o.name)?,
            }
        }
        for s in &self.skipped {
            writeln!(f, "skipped: {s}")?;
        }
        let c = &self.coordinates;
        if c.file.is_some() || c.gtid.is_some() {
            writeln!(
                f,
                "coordinates{}: file {} position {} gtid {}",
                if c.of_source_of_source {
                    " (of the source's source)"
                } else {
                    ""
                },
                c.file.as_deref().unwrap_or("-"),
                c.position.map_or("-".to_owned(), |p| p.to_string()),
                c.gtid.as_deref().unwrap_or("-")
            )?;
        }
        Ok(())
    }
}
