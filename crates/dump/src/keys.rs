//! A `CREATE TABLE`'s plain secondary indexes, split off so that a loader can create the
//! table without them, load the rows, and build them afterwards with one
//! `ALTER TABLE .. ADD KEY ..` (InnoDB then sorts each index once instead of inserting into
//! it row by row).
//!
//! Only tables where that gives exactly the table the original statement gives are split:
//! InnoDB (`ENGINE=InnoDB` written), no foreign keys (they need their indexes while the table
//! exists), no FULLTEXT / SPATIAL / VECTOR keys, no system versioning (ALTER is refused on
//! versioned tables), no AUTO_INCREMENT column whose only index is a deferred one, no
//! `TEMPORARY`, `IF NOT EXISTS` (an existing table must stay as it is), `LIKE` or `SELECT`,
//! and no comment inside the column list. Every plain `KEY` / `INDEX` is deferred and kept in
//! its written order; the server orders a table's keys primary, unique, then the others by
//! creation, so adding them back in that order gives the same `SHOW CREATE TABLE`.

use crate::tokens::{unquote, Lexer, Tok, Token};
use crate::Version;

/// A `CREATE TABLE` with its plain secondary indexes split off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecondaryKeys {
    /// The statement without the deferred keys; every other byte unchanged.
    pub create: Vec<u8>,
    /// The deferred keys in written order.
    pub keys: Vec<SecondaryKey>,
}

/// One deferred key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecondaryKey {
    /// The key's name, unquoted.
    pub name: String,
    /// Its definition as written (`KEY `a` (`x`,`y`) COMMENT '..'`): what follows `ADD` in
    /// `ALTER TABLE t ADD ...`.
    pub definition: Vec<u8>,
}

/// Where the deferrable keys are in a statement: kept with the statement, turned into
/// [`SecondaryKeys`] on demand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Spans {
    /// `(start, end)` byte ranges to cut: each key with the comma before it.
    cut: Vec<(usize, usize)>,
    /// Each key's name and definition range.
    keys: Vec<(String, usize, usize)>,
}

impl Spans {
    pub fn apply(&self, sql: &[u8]) -> SecondaryKeys {
        let mut create = Vec::with_capacity(sql.len());
        let mut at = 0;
        for &(start, end) in &self.cut {
            create.extend_from_slice(&sql[at..start]);
            at = end;
        }
        create.extend_from_slice(&sql[at..]);
        SecondaryKeys {
            create,
            keys: self
                .keys
                .iter()
                .map(|(name, start, end)| SecondaryKey {
                    name: name.clone(),
                    definition: sql[*start..*end].to_vec(),
                })
                .collect(),
        }
    }
}

/// One element of the column list: its tokens and the comma before it.
struct Element<'t> {
    tokens: &'t [Token],
    comma: Option<usize>,
}

/// The deferrable keys of `sql` (a `CREATE TABLE`), or `None` when there are none or the table
/// is one whose keys must stay (see the module's rules).
pub(crate) fn find(sql: &[u8], target: Version, no_backslash_escapes: bool) -> Option<Spans> {
    let lx = Lexer::new(sql, target, no_backslash_escapes);
    let tokens: Vec<Token> = lx.collect();
    let word = |t: &Token| -> Option<String> {
        (t.tok == Tok::Word)
            .then(|| String::from_utf8_lossy(&sql[t.start..t.end]).to_ascii_uppercase())
    };
    let is_word = |t: &Token, w: &str| {
        t.tok == Tok::Word && sql[t.start..t.end].eq_ignore_ascii_case(w.as_bytes())
    };
    let open = tokens.iter().position(|t| t.tok == Tok::Punct(b'('))?;
    let head = &tokens[..open];
    if !head.first().is_some_and(|t| is_word(t, "CREATE"))
        || head.iter().any(|t| {
            ["TEMPORARY", "IF", "LIKE", "SELECT"]
                .iter()
                .any(|w| is_word(t, w))
        })
    {
        return None;
    }
    // The column list: elements split at top-level commas.
    let mut depth = 0usize;
    let mut close = None;
    let mut elements = Vec::new();
    let (mut first, mut comma) = (open + 1, None);
    for (i, t) in tokens.iter().enumerate().skip(open + 1) {
        match t.tok {
            Tok::Punct(b'(') => depth += 1,
            Tok::Punct(b')') if depth == 0 => {
                elements.push(Element {
                    tokens: &tokens[first..i],
                    comma,
                });
                close = Some(i);
                break;
            }
            Tok::Punct(b')') => depth -= 1,
            Tok::Punct(b',') if depth == 0 => {
                elements.push(Element {
                    tokens: &tokens[first..i],
                    comma,
                });
                first = i + 1;
                comma = Some(t.start);
            }
            _ => {}
        }
    }
    let close = close?;
    // Nothing but whitespace between the list's tokens: no comment, conditional or not.
    let list = &tokens[open..=close];
    if list.windows(2).any(|w| {
        !sql[w[0].end..w[1].start]
            .iter()
            .all(|b| b.is_ascii_whitespace())
    }) {
        return None;
    }
    // The table's options: InnoDB, not versioned, not `.. SELECT`.
    let tail = &tokens[close + 1..];
    if tail.iter().any(|t| {
        ["SELECT", "VERSIONING", "LIKE"]
            .iter()
            .any(|w| is_word(t, w))
    }) {
        return None;
    }
    let engine = tail.iter().position(|t| is_word(t, "ENGINE"))?;
    let mut rest = tail[engine + 1..]
        .iter()
        .filter(|t| t.tok != Tok::Punct(b'='));
    if !rest.next().is_some_and(|t| is_word(t, "InnoDB")) {
        return None;
    }

    let name_of = |t: &Token| unquote(&sql[t.start..t.end], no_backslash_escapes).to_lowercase();
    let mut spans = Spans {
        cut: Vec::new(),
        keys: Vec::new(),
    };
    let mut indexed_first = Vec::new(); // first columns of the primary and unique keys
    let mut auto_increment = None;
    for e in &elements {
        let (Some(first), Some(last)) = (e.tokens.first(), e.tokens.last()) else {
            return None;
        };
        if e.tokens.iter().any(|t| {
            ["REFERENCES", "FOREIGN", "VERSIONING"]
                .iter()
                .any(|w| is_word(t, w))
        }) {
            return None;
        }
        let first_column = || {
            let p = e.tokens.iter().position(|t| t.tok == Tok::Punct(b'('))?;
            e.tokens
                .get(p + 1)
                .filter(|t| matches!(t.tok, Tok::Word | Tok::Ident | Tok::Str))
                .map(name_of)
        };
        match word(first).as_deref() {
            Some("KEY" | "INDEX") => {
                let name = e.tokens.get(1).filter(|t| {
                    matches!(t.tok, Tok::Ident) || (t.tok == Tok::Word && !is_word(t, "IF"))
                })?;
                let comma = e.comma?;
                spans.cut.push((comma, last.end));
                spans.keys.push((
                    unquote(&sql[name.start..name.end], no_backslash_escapes),
                    first.start,
                    last.end,
                ));
            }
            Some("FULLTEXT" | "SPATIAL" | "VECTOR") => return None,
            Some("PRIMARY" | "UNIQUE" | "CONSTRAINT") => {
                if e.tokens
                    .iter()
                    .any(|t| is_word(t, "PRIMARY") || is_word(t, "UNIQUE"))
                {
                    indexed_first.extend(first_column());
                }
            }
            Some("CHECK" | "PERIOD") => {}
            _ => {
                // A column.
                if e.tokens.iter().any(|t| is_word(t, "AUTO_INCREMENT")) {
                    let inline_key = e
                        .tokens
                        .iter()
                        .any(|t| is_word(t, "PRIMARY") || is_word(t, "UNIQUE"));
                    if !inline_key {
                        auto_increment = Some(name_of(first));
                    }
                }
            }
        }
    }
    if spans.keys.is_empty() {
        return None;
    }
    if let Some(column) = auto_increment {
        if !indexed_first.contains(&column) {
            return None;
        }
    }
    Some(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(sql: &str) -> Option<SecondaryKeys> {
        find(sql.as_bytes(), Version::mariadb(10, 11, 6), false).map(|s| s.apply(sql.as_bytes()))
    }

    const ORDERS: &str = "CREATE TABLE `orders` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `customer_id` int(10) unsigned NOT NULL,
  `email` varchar(80) NOT NULL,
  `note` varchar(255) NOT NULL DEFAULT 'a, KEY (b)',
  PRIMARY KEY (`id`),
  UNIQUE KEY `email` (`email`),
  KEY `customer` (`customer_id`),
  KEY `note_prefix` (`note`(10),`customer_id`) COMMENT 'for ''search'''
) ENGINE=InnoDB AUTO_INCREMENT=7 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci";

    #[test]
    fn plain_keys_are_split_off_and_every_other_byte_kept() {
        let s = split(ORDERS).expect("deferrable");
        assert_eq!(
            String::from_utf8(s.create).unwrap(),
            "CREATE TABLE `orders` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `customer_id` int(10) unsigned NOT NULL,
  `email` varchar(80) NOT NULL,
  `note` varchar(255) NOT NULL DEFAULT 'a, KEY (b)',
  PRIMARY KEY (`id`),
  UNIQUE KEY `email` (`email`)
) ENGINE=InnoDB AUTO_INCREMENT=7 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci"
        );
        let keys: Vec<(String, String)> = s
            .keys
            .into_iter()
            .map(|k| (k.name, String::from_utf8(k.definition).unwrap()))
            .collect();
        assert_eq!(
            keys,
            [
                ("customer".into(), "KEY `customer` (`customer_id`)".into()),
                (
                    "note_prefix".into(),
                    "KEY `note_prefix` (`note`(10),`customer_id`) COMMENT 'for ''search'''".into()
                ),
            ]
        );
    }

    #[test]
    fn tables_whose_keys_must_stay_are_not_split() {
        let cases = [
            // No secondary key.
            "CREATE TABLE t (id int, PRIMARY KEY (id)) ENGINE=InnoDB",
            // Not InnoDB, or no engine written.
            "CREATE TABLE t (id int, a int, PRIMARY KEY (id), KEY a (a)) ENGINE=MyISAM",
            "CREATE TABLE t (id int, a int, PRIMARY KEY (id), KEY a (a))",
            // Foreign keys, inline references.
            "CREATE TABLE t (id int, a int, PRIMARY KEY (id), KEY a (a), CONSTRAINT f FOREIGN KEY (a) REFERENCES p (id)) ENGINE=InnoDB",
            "CREATE TABLE t (id int, a int REFERENCES p (id), PRIMARY KEY (id), KEY a (a)) ENGINE=InnoDB",
            // FULLTEXT / SPATIAL keys.
            "CREATE TABLE t (id int, a text, PRIMARY KEY (id), KEY i (id), FULLTEXT KEY a (a)) ENGINE=InnoDB",
            "CREATE TABLE t (id int, g point NOT NULL, PRIMARY KEY (id), KEY i (id), SPATIAL KEY g (g)) ENGINE=InnoDB",
            // System versioning.
            "CREATE TABLE t (id int, a int, PRIMARY KEY (id), KEY a (a)) ENGINE=InnoDB WITH SYSTEM VERSIONING",
            // The AUTO_INCREMENT column indexed only by a deferred key.
            "CREATE TABLE t (id int NOT NULL AUTO_INCREMENT, a int, PRIMARY KEY (a), KEY id (id)) ENGINE=InnoDB",
            // TEMPORARY, IF NOT EXISTS, SELECT.
            "CREATE TEMPORARY TABLE t (id int, a int, PRIMARY KEY (id), KEY a (a)) ENGINE=InnoDB",
            "CREATE TABLE IF NOT EXISTS t (id int, a int, PRIMARY KEY (id), KEY a (a)) ENGINE=InnoDB",
            "CREATE TABLE t (id int, a int, PRIMARY KEY (id), KEY a (a)) ENGINE=InnoDB SELECT 1 AS id, 2 AS a",
            // A comment inside the list, conditional or not.
            "CREATE TABLE t (id int, a int /*!80023 INVISIBLE */, PRIMARY KEY (id), KEY a (a)) ENGINE=InnoDB",
            // A key without a name.
            "CREATE TABLE t (id int, a int, PRIMARY KEY (id), KEY (a)) ENGINE=InnoDB",
        ];
        for sql in cases {
            assert_eq!(split(sql), None, "{sql}");
        }
    }

    #[test]
    fn auto_increment_first_in_the_primary_or_a_unique_key_allows_the_split() {
        for sql in [
            "CREATE TABLE t (id int NOT NULL AUTO_INCREMENT, a int, PRIMARY KEY (id,a), KEY a (a)) ENGINE=InnoDB",
            "CREATE TABLE t (id int NOT NULL AUTO_INCREMENT, a int, PRIMARY KEY (a), UNIQUE KEY u (id), KEY a2 (a)) ENGINE=InnoDB",
            "CREATE TABLE t (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, a int, KEY a (a)) ENGINE=InnoDB",
        ] {
            let s = split(sql).unwrap_or_else(|| panic!("{sql}"));
            assert_eq!(s.keys.len(), 1, "{sql}");
        }
    }

    #[test]
    fn partitioned_tables_and_applicable_conditional_options_are_split() {
        let sql = "CREATE TABLE t (id int NOT NULL, a int, PRIMARY KEY (id), INDEX `a b` (a)) ENGINE=InnoDB\n /*!50100 PARTITION BY HASH (`id`)\nPARTITIONS 4 */";
        let s = split(sql).expect("deferrable");
        assert_eq!(s.keys[0].name, "a b");
        assert_eq!(s.keys[0].definition, b"INDEX `a b` (a)");
        assert_eq!(
            s.create,
            b"CREATE TABLE t (id int NOT NULL, a int, PRIMARY KEY (id)) ENGINE=InnoDB\n /*!50100 PARTITION BY HASH (`id`)\nPARTITIONS 4 */"
        );
    }
}
