//! The dump's session settings on every connection: the system variables its `SET`s assign
//! are read back from the control connection after a change ([`Tracker::snapshot`]) and
//! applied on the connection that runs a unit or an object ([`Snapshot::apply_sql`]).
//! Reading the values back (instead of replaying the `SET` text) resolves indirections such
//! as `SET character_set_client = @saved_cs_client`, whose user variable only the control
//! connection has.

use std::sync::Arc;

use mysql_async::prelude::Queryable as _;
use mysql_async::{Conn, Value};

/// The values of the tracked variables at one point of the dump.
#[derive(Clone, Debug, Default)]
pub(crate) struct Snapshot {
    /// Changes whenever the values may have: connections compare ids to skip re-applying.
    pub id: u64,
    pub vars: Arc<Vec<(String, String)>>,
}

impl Snapshot {
    /// `SET SESSION a = 'x', b = 1`, or None when nothing is tracked.
    pub fn apply_sql(&self) -> Option<String> {
        if self.vars.is_empty() {
            return None;
        }
        let parts: Vec<String> = self
            .vars
            .iter()
            .map(|(name, value)| format!("{name} = {value}"))
            .collect();
        Some(format!("SET SESSION {}", parts.join(", ")))
    }
}

/// The tracked variables and whether a `SET` since the last snapshot may have changed them.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    names: Vec<String>,
    dirty: bool,
    current: Snapshot,
    /// User variables the dump assigned (`@OLD_TIME_ZONE`, `@saved_cs_client`) with their
    /// values, to restore on a new control connection.
    user: Vec<(String, String)>,
}

impl Tracker {
    /// A `SET` ran on the control connection and assigned these system variables.
    pub fn assigned(&mut self, names: &[String]) {
        for n in names {
            let n = n.to_ascii_lowercase();
            if is_plain_name(&n) && !self.names.contains(&n) {
                self.names.push(n);
            }
        }
        // Even a SET of user variables only may precede one that reads them; but the values
        // of the tracked variables change only when one of them is assigned.
        if !names.is_empty() {
            self.dirty = true;
        }
    }

    /// The current values, read from `control` if a SET changed any since the last read.
    pub async fn snapshot(&mut self, control: &mut Conn) -> Result<Snapshot, mysql_async::Error> {
        if self.dirty {
            let vars = read(control, &self.names).await?;
            // Variables the server cannot read back in session scope are not carried.
            self.names.retain(|n| vars.iter().any(|(v, _)| v == n));
            self.current = Snapshot {
                id: self.current.id + 1,
                vars: Arc::new(vars),
            };
            self.dirty = false;
        }
        Ok(self.current.clone())
    }

    /// Reads back the user variables a `SET` assigned (`sql`), to restore them on a new
    /// control connection ([`Tracker::restore_sql`]).
    pub async fn read_user_variables(
        &mut self,
        control: &mut Conn,
        sql: &[u8],
    ) -> Result<(), mysql_async::Error> {
        let names = user_assignments(sql);
        if names.is_empty() {
            return Ok(());
        }
        let select = format!(
            "SELECT {}",
            names
                .iter()
                .map(|n| format!("@`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if let Some(row) = control.query_first::<mysql_async::Row, _>(select).await? {
            for (n, v) in names.into_iter().zip(row.unwrap().iter().map(literal)) {
                match self.user.iter_mut().find(|(k, _)| *k == n) {
                    Some(slot) => slot.1 = v,
                    None => self.user.push((n, v)),
                }
            }
        }
        Ok(())
    }

    /// What a new control connection runs to have the dump's session: the system variables of
    /// the last snapshot and the user variables.
    pub fn restore_sql(&self) -> Vec<String> {
        let mut out: Vec<String> = self.current.apply_sql().into_iter().collect();
        if !self.user.is_empty() {
            let parts: Vec<String> = self
                .user
                .iter()
                .map(|(n, v)| format!("@`{n}` = {v}"))
                .collect();
            out.push(format!("SET {}", parts.join(", ")));
        }
        out
    }
}

/// The user variables a SET statement assigns: `@name =` / `@name :=` (not `@@system`).
pub(crate) fn user_assignments(sql: &[u8]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < sql.len() {
        if sql[i] == b'@' && sql.get(i + 1) != Some(&b'@') && (i == 0 || sql[i - 1] != b'@') {
            let start = i + 1;
            let mut j = start;
            while j < sql.len()
                && (sql[j].is_ascii_alphanumeric() || sql[j] == b'_' || sql[j] == b'$')
            {
                j += 1;
            }
            let mut k = j;
            while k < sql.len() && sql[k].is_ascii_whitespace() {
                k += 1;
            }
            let assigns = sql.get(k) == Some(&b'=') || sql[k..].starts_with(b":=");
            if j > start && assigns {
                let name = String::from_utf8_lossy(&sql[start..j]).to_ascii_lowercase();
                if !out.contains(&name) {
                    out.push(name);
                }
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

fn is_plain_name(n: &str) -> bool {
    !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

async fn read(
    conn: &mut Conn,
    names: &[String],
) -> Result<Vec<(String, String)>, mysql_async::Error> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let select = format!(
        "SELECT {}",
        names
            .iter()
            .map(|n| format!("@@session.{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    match conn.query_first::<mysql_async::Row, _>(select).await {
        Ok(Some(row)) => Ok(names
            .iter()
            .cloned()
            .zip(row.unwrap().iter().map(literal))
            .collect()),
        Ok(None) => Ok(Vec::new()),
        Err(mysql_async::Error::Server(_)) => {
            // One of them is global-only or unknown: read them one by one, keep the readable.
            let mut out = Vec::new();
            for n in names {
                if let Ok(Some(v)) = conn
                    .query_first::<Value, _>(format!("SELECT @@session.{n}"))
                    .await
                {
                    out.push((n.clone(), literal(&v)));
                }
            }
            Ok(out)
        }
        Err(e) => Err(e),
    }
}

/// A value as an SQL literal that means the same whatever the session's `sql_mode` (no
/// backslash escapes: strings with a backslash or a quote become hex literals).
pub(crate) fn literal(v: &Value) -> String {
    match v {
        Value::NULL => "NULL".to_owned(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Double(d) => d.to_string(),
        // The text protocol gives numbers as text: `unique_checks = '0'` is refused.
        Value::Bytes(b) if is_number(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Bytes(b) => string_literal(b),
        other => string_literal(other.as_sql(true).trim_matches('\'').as_bytes()),
    }
}

fn is_number(b: &[u8]) -> bool {
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    !digits.is_empty()
        && digits.iter().all(|c| c.is_ascii_digit() || *c == b'.')
        && digits[0].is_ascii_digit()
        && digits.iter().filter(|c| **c == b'.').count() <= 1
}

pub(crate) fn string_literal(b: &[u8]) -> String {
    if b.iter().all(|c| c.is_ascii_graphic() || *c == b' ')
        && !b.contains(&b'\\')
        && !b.contains(&b'\'')
    {
        format!("'{}'", String::from_utf8_lossy(b))
    } else if b.is_empty() {
        "''".to_owned()
    } else {
        let mut s = String::with_capacity(2 + 2 * b.len());
        s.push_str("0x");
        for c in b {
            s.push_str(&format!("{c:02x}"));
        }
        s
    }
}

/// `` `name` `` with backquotes doubled.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_survive_any_sql_mode() {
        assert_eq!(literal(&Value::Bytes(b"utf8mb4".to_vec())), "'utf8mb4'");
        assert_eq!(literal(&Value::Bytes(b"".to_vec())), "''");
        assert_eq!(literal(&Value::Bytes(b"a'b\\".to_vec())), "0x6127625c");
        assert_eq!(literal(&Value::Int(-3)), "-3");
        assert_eq!(literal(&Value::Bytes(b"0".to_vec())), "0");
        assert_eq!(literal(&Value::Bytes(b"+00:00".to_vec())), "'+00:00'");
        assert_eq!(literal(&Value::NULL), "NULL");
    }

    #[test]
    fn user_variable_assignments_are_found() {
        assert_eq!(
            user_assignments(b"/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */"),
            vec!["old_character_set_client"]
        );
        assert_eq!(
            user_assignments(b"SET @a := 1, @@session.sql_mode = @b, @c=2"),
            vec!["a", "c"]
        );
        assert!(user_assignments(b"SET character_set_client = @saved_cs_client").is_empty());
    }

    #[test]
    fn tracker_collects_names_once_and_builds_one_set() {
        let mut t = Tracker::default();
        t.assigned(&["SQL_MODE".to_owned(), "time_zone".to_owned()]);
        t.assigned(&["sql_mode".to_owned()]);
        assert_eq!(t.names, vec!["sql_mode", "time_zone"]);
        assert!(t.dirty);
        let s = Snapshot {
            id: 1,
            vars: Arc::new(vec![
                ("sql_mode".into(), "''".into()),
                ("unique_checks".into(), "0".into()),
            ]),
        };
        assert_eq!(
            s.apply_sql().as_deref(),
            Some("SET SESSION sql_mode = '', unique_checks = 0")
        );
    }
}
