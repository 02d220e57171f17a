//! An `INSERT INTO t [(cols)] VALUES (..), (..)` of literal values rewritten as the input of
//! `LOAD DATA LOCAL INFILE .. INTO TABLE t FIELDS TERMINATED BY '\t' ESCAPED BY '\\' LINES
//! TERMINATED BY '\n' (cols)`: the server then stores each value from its text without
//! running the SQL parser over every value (the parser was the largest cost of a load in
//! profiles of MariaDB 10.11 loading mysqldump output).
//!
//! Only what mysqldump / mariadb-dump write is taken: `NULL`, numbers, '..' / ".." strings
//! (backslash escapes, doubled quotes), `0x..` / `X'..'` hex strings, and `_binary` before a
//! string or hex literal (dump tools write these for binary columns only, where text and
//! bytes are the same thing). Anything else (`b'..'` bit literals, other introducers,
//! expressions, `IGNORE`, `REPLACE`, `ON DUPLICATE KEY UPDATE`, a comment in the statement's
//! head, `NO_BACKSLASH_ESCAPES` strings) gives `None`: the statement is run as written.
//!
//! Strings are decoded to their bytes and written with LOAD DATA's escapes (`\\`, `\t`, `\n`,
//! `\0`), so the value the server stores is the literal's value; `NULL` is `\N`.

use crate::tokens::{Lexer, Tok};
use crate::Version;

/// Where a rewritten INSERT loads into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadDataHead {
    /// The table and its column list as the INSERT wrote them (`` `t` (`a`,`b`) ``): what
    /// follows `INTO TABLE` (after the options) in the LOAD DATA statement.
    pub table: Vec<u8>,
    pub columns: Vec<u8>,
    /// Rows written.
    pub rows: u64,
}

/// Appends the rows of `sql` (a plain `INSERT .. VALUES` of literals) to `out` as LOAD DATA
/// input and returns its head; `None` (and `out` as it was) when the statement is anything
/// else. `sql` must be read without `NO_BACKSLASH_ESCAPES` and `ANSI_QUOTES`.
pub fn insert_as_load_data(sql: &[u8], out: &mut Vec<u8>) -> Option<LoadDataHead> {
    let start = out.len();
    let head = head(sql);
    let done = head.and_then(|(table, columns, values_end)| {
        let rows = tuples(&sql[values_end..], out)?;
        Some(LoadDataHead {
            table,
            columns,
            rows,
        })
    });
    if done.is_none() {
        out.truncate(start);
    }
    done
}

/// `INSERT INTO name [(cols)] VALUES`: the name, the column list and where VALUES ends.
fn head(sql: &[u8]) -> Option<(Vec<u8>, Vec<u8>, usize)> {
    // Dump INSERTs have no conditional comments; the version only matters if they had.
    let mut lx = Lexer::new(sql, Version::mariadb(10, 11, 0), false).peekable();
    let kw = |t: &crate::tokens::Token, w: &str| {
        t.tok == Tok::Word && sql[t.start..t.end].eq_ignore_ascii_case(w.as_bytes())
    };
    let insert = lx.next().filter(|t| kw(t, "INSERT"))?;
    let into = lx.next().filter(|t| kw(t, "INTO"))?;
    let name_part = |t: &crate::tokens::Token| {
        matches!(t.tok, Tok::Ident) || (t.tok == Tok::Word && !kw(t, "VALUES") && !kw(t, "VALUE"))
    };
    let first = lx.next().filter(name_part)?;
    let mut name_end = first.end;
    let mut tokens = vec![insert, into, first];
    if lx.peek().is_some_and(|t| t.tok == Tok::Punct(b'.')) {
        let dot = lx.next()?;
        let second = lx.next().filter(name_part)?;
        name_end = second.end;
        tokens.extend([dot, second]);
    }
    let mut columns = (0, 0);
    if lx.peek().is_some_and(|t| t.tok == Tok::Punct(b'(')) {
        let open = lx.next()?;
        tokens.push(open);
        loop {
            let t = lx.next()?;
            tokens.push(t);
            match t.tok {
                Tok::Punct(b')') => break,
                Tok::Ident | Tok::Word | Tok::Punct(b',') => {}
                _ => return None,
            }
        }
        columns = (open.start, tokens.last()?.end);
    }
    let values = lx.next().filter(|t| kw(t, "VALUES") || kw(t, "VALUE"))?;
    tokens.push(values);
    // Nothing but whitespace between the head's tokens: no comment of any kind.
    if tokens.windows(2).any(|w| {
        !sql[w[0].end..w[1].start]
            .iter()
            .all(|b| b.is_ascii_whitespace())
    }) {
        return None;
    }
    Some((
        sql[first.start..name_end].to_vec(),
        sql[columns.0..columns.1].to_vec(),
        values.end,
    ))
}

fn skip_ws(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && s[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// The tuples after VALUES, written as lines; the number of rows.
fn tuples(s: &[u8], out: &mut Vec<u8>) -> Option<u64> {
    let mut i = skip_ws(s, 0);
    let mut rows = 0u64;
    loop {
        if s.get(i) != Some(&b'(') {
            return None;
        }
        i += 1;
        loop {
            i = skip_ws(s, i);
            i = value(s, i, out)?;
            i = skip_ws(s, i);
            match s.get(i) {
                Some(b',') => out.push(b'\t'),
                Some(b')') => {
                    out.push(b'\n');
                    i += 1;
                    break;
                }
                _ => return None,
            }
            i += 1;
        }
        rows += 1;
        i = skip_ws(s, i);
        match s.get(i) {
            None => return Some(rows),
            Some(b',') => i = skip_ws(s, i + 1),
            Some(_) => return None,
        }
    }
}

/// One value at `s[i..]`, written to `out`; where it ends.
fn value(s: &[u8], i: usize, out: &mut Vec<u8>) -> Option<usize> {
    let c = *s.get(i)?;
    match c {
        b'\'' | b'"' => string(s, i, out),
        b'0' if matches!(s.get(i + 1), Some(b'x')) => hex(s, i + 2, None, out),
        b'x' | b'X' if s.get(i + 1) == Some(&b'\'') => hex(s, i + 2, Some(b'\''), out),
        b'0'..=b'9' | b'-' | b'+' | b'.' => {
            let n = s[i..]
                .iter()
                .take_while(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
                .count();
            let end = i + n;
            if s.get(end).is_some_and(|b| crate::tokens::is_word_byte(*b)) {
                return None;
            }
            out.extend_from_slice(&s[i..end]);
            Some(end)
        }
        b'N' | b'n' if s.len() >= i + 4 && s[i..i + 4].eq_ignore_ascii_case(b"NULL") => {
            if s.get(i + 4)
                .is_some_and(|b| crate::tokens::is_word_byte(*b))
            {
                return None;
            }
            out.extend_from_slice(b"\\N");
            Some(i + 4)
        }
        b'_' if s.len() >= i + 7 && s[i..i + 7].eq_ignore_ascii_case(b"_binary") => {
            let j = skip_ws(s, i + 7);
            if j == i + 7 && s.get(j) != Some(&b'\'') {
                return None;
            }
            match s.get(j) {
                Some(b'\'') | Some(b'"') => string(s, j, out),
                Some(b'0') if s.get(j + 1) == Some(&b'x') => hex(s, j + 2, None, out),
                Some(b'x' | b'X') if s.get(j + 1) == Some(&b'\'') => {
                    hex(s, j + 2, Some(b'\''), out)
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// Writes one byte of a value with LOAD DATA's escapes.
fn put(out: &mut Vec<u8>, b: u8) {
    match b {
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\t' => out.extend_from_slice(b"\\t"),
        b'\n' => out.extend_from_slice(b"\\n"),
        0 => out.extend_from_slice(b"\\0"),
        b => out.push(b),
    }
}

/// A quoted string at `s[i]`, decoded as the server decodes it (backslash escapes on).
fn string(s: &[u8], i: usize, out: &mut Vec<u8>) -> Option<usize> {
    let q = s[i];
    let mut j = i + 1;
    loop {
        // Copy the run of plain bytes at once.
        let run = s[j..]
            .iter()
            .position(|&b| b == q || b == b'\\' || b == b'\t' || b == b'\n' || b == 0)?;
        out.extend_from_slice(&s[j..j + run]);
        j += run;
        let b = s[j];
        if b == q {
            if s.get(j + 1) == Some(&q) {
                out.push(q);
                j += 2;
                continue;
            }
            return Some(j + 1);
        }
        if b == b'\\' {
            let e = *s.get(j + 1)?;
            let decoded: &[u8] = match e {
                b'0' => b"\0",
                b'n' => b"\n",
                b'r' => b"\r",
                b't' => b"\t",
                b'b' => b"\x08",
                b'Z' => b"\x1a",
                // The server keeps the backslash of \% and \_ (they are LIKE escapes).
                b'%' => b"\\%",
                b'_' => b"\\_",
                _ => std::slice::from_ref(&s[j + 1]),
            };
            for &d in decoded {
                put(out, d);
            }
            j += 2;
            continue;
        }
        put(out, b);
        j += 1;
    }
}

/// Hex digits at `s[i..]` (up to `close`, or to the first non-hex byte), decoded.
fn hex(s: &[u8], i: usize, close: Option<u8>, out: &mut Vec<u8>) -> Option<usize> {
    let n = s[i..].iter().take_while(|b| b.is_ascii_hexdigit()).count();
    let mut end = i + n;
    match close {
        Some(q) => {
            if s.get(end) != Some(&q) {
                return None;
            }
            end += 1;
        }
        None => {
            if n == 0 || s.get(end).is_some_and(|b| crate::tokens::is_word_byte(*b)) {
                return None;
            }
        }
    }
    if n % 2 != 0 {
        // 0xABC is 0x0ABC for the server: rare enough to leave to it.
        return None;
    }
    let digit = |b: u8| match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b - b'A' + 10,
    };
    for pair in s[i..i + n].chunks_exact(2) {
        put(out, digit(pair[0]) << 4 | digit(pair[1]));
    }
    Some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(sql: &str) -> Option<(String, String, u64, Vec<u8>)> {
        let mut out = b"kept".to_vec();
        let h = insert_as_load_data(sql.as_bytes(), &mut out);
        match h {
            None => {
                assert_eq!(out, b"kept", "{sql}: output left behind");
                None
            }
            Some(h) => Some((
                String::from_utf8(h.table).unwrap(),
                String::from_utf8(h.columns).unwrap(),
                h.rows,
                out[4..].to_vec(),
            )),
        }
    }

    #[test]
    fn dump_rows_become_lines_of_escaped_fields() {
        let (table, cols, rows, data) = conv(
            "INSERT INTO `shop`.`t` VALUES (1,'it''s \\'q\\' \\\\ back\\0nul\\n\\r\\t\\Z\\b',NULL,-1.5e-3,''),\n(2,'tab\there\nnl',0x00095C41,X'4142',_binary 'b\\\\',_binary 0x0A)",
        )
        .unwrap();
        assert_eq!(table, "`shop`.`t`");
        assert_eq!(cols, "");
        assert_eq!(rows, 2);
        assert_eq!(
            data,
            b"1\tit's 'q' \\\\ back\\0nul\\n\r\\t\x1a\x08\t\\N\t-1.5e-3\t\n2\ttab\\there\\nnl\t\\0\\t\\\\A\tAB\tb\\\\\t\\n\n"
        );
    }

    #[test]
    fn like_escapes_keep_their_backslash_and_a_literal_backslash_n_is_not_null() {
        let (_, cols, rows, data) =
            conv("INSERT INTO t (`a`, b) VALUES ('50\\% \\_x','\\\\N'),('\\N',\"d\"\"q\")")
                .unwrap();
        assert_eq!(cols, "(`a`, b)");
        assert_eq!(rows, 2);
        // '\N' in SQL is "N"; the text \N written as \\N so LOAD DATA does not read NULL.
        assert_eq!(data, b"50\\\\% \\\\_x\t\\\\N\nN\td\"q\n");
    }

    #[test]
    fn anything_but_plain_literal_inserts_is_left_to_the_server() {
        for sql in [
            "INSERT IGNORE INTO t VALUES (1)",
            "REPLACE INTO t VALUES (1)",
            "INSERT INTO t VALUES (1) ON DUPLICATE KEY UPDATE a = 1",
            "INSERT INTO t VALUES (b'101')",
            "INSERT INTO t VALUES (_utf8mb4 'x')",
            "INSERT INTO t VALUES (NOW())",
            "INSERT INTO t VALUES (1 + 1)",
            "INSERT INTO t VALUES (0xABC)",
            "INSERT INTO t VALUES (NULLX)",
            "INSERT INTO t VALUES (1),",
            "INSERT INTO t VALUES (1), (2",
            "INSERT INTO t VALUES ('open",
            "INSERT /*!50000 IGNORE */ INTO t VALUES (1)",
            "INSERT INTO t PARTITION (p0) VALUES (1)",
            "INSERT INTO t SELECT 1",
            "INSERT INTO t SET a = 1",
        ] {
            assert_eq!(conv(sql), None, "{sql}");
        }
    }
}
