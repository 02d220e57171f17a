//! `ferry-dump`: reads a mysqldump / mariadb-dump file statement by statement, exactly as the
//! `mariadb` command-line client splits it and sends it to the server, and says what each
//! statement is ([`Kind`]) so a loader can schedule it (schema first, table data in parallel,
//! views/triggers/routines/events last) and rewrite definers.
//!
//! Pure format code: no I/O beyond `std::io::BufRead`, no processes, no async. Memory is
//! bounded by the longest statement plus a fixed input window (see [`Reader`]).
//!
//! Modules: [`reader`] splits (strings, comments, `DELIMITER`), `tokens` lexes one statement
//! the way the server would for the target version (conditional comments), `classify` turns
//! tokens into a [`Kind`], `coordinates` keeps what `--master-data` / `--dump-slave` /
//! `--gtid` wrote, `keys` finds the secondary indexes a loader may build after the rows,
//! `decompress` opens plain / gzip / zstd input.

mod classify;
mod coordinates;
mod decompress;
mod keys;
pub mod reader;
mod rows;
mod tokens;

pub use coordinates::Coordinates;
pub use decompress::{open_decompressed, CountHandle};
pub use keys::{SecondaryKey, SecondaryKeys};
pub use reader::Reader;
pub use rows::{insert_as_load_data, LoadDataHead};

/// The server version conditional comments are judged by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Version {
    /// As the server numbers itself: 10.11.6 -> 101106, 8.0.36 -> 80036.
    pub number: u32,
    pub flavor: Flavor,
}

impl Version {
    /// A MariaDB server's version: `Version::mariadb(10, 11, 6)` is 101106.
    pub fn mariadb(major: u32, minor: u32, patch: u32) -> Version {
        Version {
            number: major * 10_000 + minor * 100 + patch,
            flavor: Flavor::MariaDb,
        }
    }

    /// From what the server says of itself (`SELECT VERSION()`, the handshake):
    /// `10.11.6-MariaDB-log` is MariaDB 101106, `8.0.36` is MySQL 80036. MariaDB's
    /// replication prefix (`5.5.5-10.11.6-MariaDB`) is skipped.
    pub fn from_server_version(text: &str) -> Option<Version> {
        let mariadb = text.contains("MariaDB");
        let text = text.strip_prefix("5.5.5-").unwrap_or(text);
        let numbers: String = text
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let mut parts = numbers.split('.').map(|p| p.parse::<u32>().ok());
        let major = parts.next()??;
        let minor = parts.next()??;
        let patch = parts.next().flatten().unwrap_or(0);
        if minor > 99 || patch > 99 {
            return None;
        }
        Some(if mariadb {
            Version::mariadb(major, minor, patch)
        } else {
            Version::mysql(major, minor, patch)
        })
    }

    /// A MySQL server's version: `Version::mysql(8, 0, 36)` is 80036.
    pub fn mysql(major: u32, minor: u32, patch: u32) -> Version {
        Version {
            number: major * 10_000 + minor * 100 + patch,
            flavor: Flavor::MySql,
        }
    }
}

/// Which server family: MariaDB applies `/*M!NNNNNN ... */` comments, MySQL does not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    MariaDb,
    MySql,
}

/// One statement as the `mariadb` client would send it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// Exactly the bytes the `mariadb` client would send the server for it: the text between
    /// delimiters with the delimiter removed, leading/trailing whitespace trimmed, plain
    /// comments removed as the client removes them (conditional comments kept unexpanded:
    /// the server expands them itself).
    pub sql: Vec<u8>,
    /// 1-based line of the statement's first byte in the input.
    pub line: u64,
    /// Byte offset of the statement's first byte.
    pub offset: u64,
    /// Byte offset just past its delimiter (a resume restarts here).
    pub end: u64,
    /// The current database (last `USE`) when it appears.
    pub database: Option<String>,
    pub kind: Kind,
    /// Where the DEFINER clause (`DEFINER=...`, up to the end of the host) is in `sql`.
    definer_span: Option<(usize, usize)>,
    /// For a `CREATE TABLE`: where its deferrable secondary keys are.
    secondary_keys: Option<keys::Spans>,
}

impl Statement {
    /// The statement's beginning for messages: first 80 chars, one line, lossy UTF-8.
    pub fn head(&self) -> String {
        let text = String::from_utf8_lossy(&self.sql[..self.sql.len().min(400)]);
        let mut out = String::new();
        let mut last_space = false;
        for c in text.chars() {
            if out.chars().count() >= 80 {
                break;
            }
            let c = if c.is_whitespace() || c.is_control() {
                ' '
            } else {
                c
            };
            if c == ' ' && last_space {
                continue;
            }
            last_space = c == ' ';
            out.push(c);
        }
        out
    }

    /// Whether this is a view placeholder: the `CREATE VIEW v AS SELECT NULL AS c, ...`
    /// (older dumps: `SELECT 1 AS c`) with no DEFINER and no ALGORITHM that mariadb-dump
    /// writes with the tables so that views of views can be created in any order; the real
    /// definition replaces it at the end of the dump.
    pub fn is_view_placeholder(&self) -> bool {
        matches!(self.kind, Kind::CreateView { definer: None, .. })
            && self.definer_span.is_none()
            && classify::is_view_placeholder(&self.sql)
    }

    /// For Create{View,Trigger,Routine,Event} with an explicit `DEFINER=user@host` clause:
    /// the statement with the clause replaced by `DEFINER=CURRENT_USER` (inside a conditional
    /// comment if that is where it was), every other byte unchanged. `None` for other
    /// statements and for `DEFINER=CURRENT_USER` (nothing to rewrite).
    pub fn with_definer_current_user(&self) -> Option<Vec<u8>> {
        let (start, end) = self.definer_span?;
        let mut out = Vec::with_capacity(self.sql.len() + 8);
        out.extend_from_slice(&self.sql[..start]);
        out.extend_from_slice(b"DEFINER=CURRENT_USER");
        out.extend_from_slice(&self.sql[end..]);
        Some(out)
    }

    /// For a `CREATE TABLE` of an InnoDB table with plain secondary indexes (`KEY` /
    /// `INDEX`): the statement without them and the keys, to be added after the rows with
    /// `ALTER TABLE .. ADD <definition>, ..` (one sort per index instead of row-by-row
    /// inserts). `None` for other statements and for tables whose keys must stay at creation
    /// (foreign keys, FULLTEXT / SPATIAL keys, system versioning, `IF NOT EXISTS`, ...: the
    /// rules are in the `keys` module); the resulting table is the one the statement gives.
    pub fn secondary_keys(&self) -> Option<SecondaryKeys> {
        self.secondary_keys.as_ref().map(|s| s.apply(&self.sql))
    }
}

/// Qualified name as written (`db`.`t` or `t`), unquoted (backquotes removed, ``` `` ``` -> `` ` ``).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Name {
    pub schema: Option<String>,
    pub name: String,
}

impl Name {
    /// A name without schema.
    pub fn new(name: &str) -> Name {
        Name {
            schema: None,
            name: name.to_owned(),
        }
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.schema {
            Some(s) => write!(f, "{s}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// An object's definer, unquoted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Definer {
    pub user: String,
    pub host: String,
}

impl Definer {
    /// `'user'@'host'`, quoted for SQL.
    pub fn sql(&self) -> String {
        format!("{}@{}", quote_sql(&self.user), quote_sql(&self.host))
    }
}

impl std::fmt::Display for Definer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.sql())
    }
}

/// A string literal for SQL: single quotes, `'` doubled, `\` escaped.
fn quote_sql(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// What a statement is, as the target server would read it (conditional comments applied
/// by the target's version).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `SET` (also inside conditional comments). The lowercased names of the SYSTEM variables
    /// it assigns (user `@variables` are not listed); `SET NAMES` lists
    /// `character_set_client`, `character_set_results`, `character_set_connection`,
    /// `collation_connection`.
    Set {
        system_variables: Vec<String>,
    },
    Use {
        database: String,
    },
    CreateDatabase {
        database: String,
    },
    DropDatabase {
        database: String,
    },
    /// `CREATE TABLE` (also the view placeholder tables of older dumps).
    CreateTable {
        table: Name,
    },
    /// `DROP TABLE [IF EXISTS]` (its first name).
    DropTable {
        table: Name,
    },
    DropView {
        view: Name,
    },
    LockTables,
    UnlockTables,
    /// `ALTER TABLE .. DISABLE/ENABLE KEYS`.
    AlterKeys {
        table: Name,
    },
    /// `INSERT` / `REPLACE`; `rows` = tuples in `VALUES` (0 for `INSERT .. SELECT`).
    Insert {
        table: Name,
        rows: u64,
        ignore: bool,
        replace: bool,
    },
    CreateView {
        view: Name,
        definer: Option<Definer>,
    },
    CreateTrigger {
        trigger: Name,
        table: Name,
        definer: Option<Definer>,
    },
    CreateRoutine {
        routine: Name,
        function: bool,
        definer: Option<Definer>,
    },
    CreateEvent {
        event: Name,
        definer: Option<Definer>,
    },
    /// `DROP TRIGGER/PROCEDURE/FUNCTION/EVENT`.
    DropObject,
    /// An executable `CHANGE MASTER TO` (`--master-data=1`); also recorded in
    /// [`Reader::coordinates`].
    ChangeMaster,
    /// `CREATE USER/ROLE`, `GRANT`, `REVOKE`, `SET PASSWORD`, `ALTER USER`, `DROP USER/ROLE`,
    /// `RENAME USER`, `SET [DEFAULT] ROLE`, `FLUSH PRIVILEGES`.
    Accounts,
    /// Only conditional comments the target does not apply (e.g. the MariaDB sandbox line).
    Empty,
    Other,
}

/// A dump that cannot be read: the line (1-based) and what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    pub line: u64,
    pub message: String,
    #[source]
    pub io: Option<std::io::Error>,
}

impl ParseError {
    fn new(line: u64, message: impl Into<String>) -> ParseError {
        ParseError {
            line: line.max(1),
            message: message.into(),
            io: None,
        }
    }
}

#[cfg(test)]
mod version_tests {
    use super::*;

    #[test]
    fn server_version_strings() {
        assert_eq!(
            Version::from_server_version("10.11.19-MariaDB-0+deb12u1-log"),
            Some(Version::mariadb(10, 11, 19))
        );
        assert_eq!(Version::mariadb(10, 11, 6).number, 101106);
        assert_eq!(
            Version::from_server_version("5.5.5-10.6.1-MariaDB"),
            Some(Version::mariadb(10, 6, 1))
        );
        assert_eq!(
            Version::from_server_version("8.0.36"),
            Some(Version::mysql(8, 0, 36))
        );
        assert_eq!(Version::from_server_version("garbage"), None);
        assert_eq!(Version::from_server_version("1.234.5"), None);
    }
}
