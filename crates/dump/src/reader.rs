//! [`Reader`]: splits a dump into statements the way the `mariadb` client does in batch mode
//! (`mariadb < dump.sql`, default `--skip-comments`):
//!
//! - statements end at the current delimiter (`;` unless a `DELIMITER` command changed it),
//!   found outside strings ('..', "..", `..`) and outside plain `/* */` comments; conditional
//!   comments `/*!NNNNN ..*/`, `/*M!NNNNNN ..*/` and hints `/*+ ..*/` are statement text, so a
//!   delimiter inside one does end the statement, as in the client;
//! - inside '..' and "..", a backslash escapes the next byte (unless the session's `sql_mode`
//!   has `NO_BACKSLASH_ESCAPES`, or `ANSI_QUOTES` for "..", which the reader follows through
//!   the dump's own `SET sql_mode` statements as the client follows the server's status);
//!   doubled quotes need no rule: the string closes and reopens;
//! - `# ...`, `-- ...` (two dashes then whitespace or the end of the line, or at the start of
//!   a statement) and plain `/* ... */` comments are removed (a removed `/* */` becomes a space
//!   before the next character on its line); `--` comments are read for the coordinates that
//!   `--master-data=2` / `--dump-slave=2` / `--gtid` write there;
//! - `DELIMITER x` is a client command, recognised only at the start of a line when no
//!   statement is pending; it is never sent;
//! - leading whitespace is skipped, a statement of only whitespace is not sent, trailing
//!   whitespace is trimmed;
//! - MariaDB's sandbox line `/*M!999999\- enable the sandbox mode */` (a client command
//!   `\-` inside a comment servers skip) is its own [`Kind::Empty`] statement.
//!
//! Not followed (never written by the dump tools): the client's other backslash commands
//! (`\g`, `\G`, `\c`, ...: a backslash outside strings is kept as text) and its other named
//! commands (`source`, `charset`, ...).
//!
//! Memory: the input is read through a fixed window of [`WINDOW`] bytes; the only growing
//! buffer is the statement itself, capped by [`Reader::with_max_statement`].

use std::io::BufRead;

use crate::classify::{classify, Classified, SetValue};
use crate::coordinates::{CommentContext, Coordinates};
use crate::{Kind, ParseError, Statement, Version};

/// Bytes of input held at once (besides the statement being built).
pub const WINDOW: usize = 64 * 1024;
/// Default longest statement: 1 GiB (the server's largest `max_allowed_packet`).
pub const DEFAULT_MAX_STATEMENT: usize = 1 << 30;
/// The client keeps at most 15 bytes of a `DELIMITER` argument.
const MAX_DELIMITER: usize = 15;
/// Bytes of a `--` comment kept to look for coordinates in.
const MAX_COMMENT: usize = 4096;
const SANDBOX: &[u8] = b"/*M!999999\\-";
/// The most reserved ahead for the next statement.
const MAX_PREALLOCATE: usize = 16 << 20;

/// Reads statements from a dump; see the module documentation for the rules.
pub struct Reader<R: BufRead> {
    input: R,
    window: Vec<u8>,
    pos: usize,
    /// Absolute offset of `window[0]`.
    window_offset: u64,
    eof: bool,
    finished: bool,
    line: u64,
    /// Only whitespace since the start of the current line.
    line_blank: bool,
    delimiter: Vec<u8>,
    /// Line where the current `DELIMITER` (other than `;`) was set.
    delimiter_line: u64,
    max_statement: usize,
    target: Version,
    coordinates: Coordinates,
    comment_context: CommentContext,
    database: Option<String>,
    sql: Vec<u8>,
    comment: Vec<u8>,
    sql_mode: SqlMode,
}

/// What the reader knows of the session's `sql_mode`, for the backslash rule.
#[derive(Default)]
struct SqlMode {
    no_backslash_escapes: bool,
    ansi_quotes: bool,
    /// `@var` -> the `sql_mode` saved into it (`SET @OLD_SQL_MODE=@@SQL_MODE`).
    saved: Vec<(String, (bool, bool))>,
}

impl SqlMode {
    fn flags(text: &str) -> (bool, bool) {
        let upper = text.to_ascii_uppercase();
        let has = |w: &str| upper.split(',').any(|m| m.trim() == w);
        (
            has("NO_BACKSLASH_ESCAPES"),
            has("ANSI_QUOTES") || has("ANSI"),
        )
    }

    fn apply(&mut self, assignments: &[(String, SetValue)]) {
        for (name, value) in assignments {
            if let Some(var) = name.strip_prefix('@') {
                if let SetValue::System(sys) = value {
                    if sys == "sql_mode" {
                        let now = (self.no_backslash_escapes, self.ansi_quotes);
                        self.saved.retain(|(n, _)| n != var);
                        if self.saved.len() < 64 {
                            self.saved.push((var.to_owned(), now));
                        }
                    }
                }
            } else if name == "sql_mode" {
                let flags = match value {
                    SetValue::Str(s) => Some(SqlMode::flags(s)),
                    SetValue::Default => Some((false, false)),
                    SetValue::User(var) => {
                        self.saved.iter().find(|(n, _)| n == var).map(|(_, f)| *f)
                    }
                    SetValue::System(_) | SetValue::Other => None,
                };
                if let Some((nbe, aq)) = flags {
                    self.no_backslash_escapes = nbe;
                    self.ansi_quotes = aq;
                }
            }
        }
    }
}

/// Where the splitter is inside the text.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Normal,
    /// In a '..', ".." or `..` starting at this line.
    Quoted(u8, u64),
    /// In a plain `/* */` comment starting at this line.
    Comment(u64),
    /// In a `#` or `-- ` comment (to the end of the line).
    LineComment,
}

impl<R: BufRead> Reader<R> {
    /// `target`: the server version conditional comments are judged by.
    pub fn new(input: R, target: Version) -> Self {
        Reader {
            input,
            window: Vec::with_capacity(WINDOW),
            pos: 0,
            window_offset: 0,
            eof: false,
            finished: false,
            line: 1,
            line_blank: true,
            delimiter: b";".to_vec(),
            delimiter_line: 0,
            max_statement: DEFAULT_MAX_STATEMENT,
            target,
            coordinates: Coordinates::default(),
            comment_context: CommentContext::default(),
            database: None,
            sql: Vec::new(),
            comment: Vec::new(),
            sql_mode: SqlMode::default(),
        }
    }

    /// The longest statement accepted (default 1 GiB); a longer one is a [`ParseError`].
    pub fn with_max_statement(mut self, bytes: usize) -> Self {
        self.max_statement = bytes.max(1);
        self
    }

    /// Bytes consumed from the input so far.
    pub fn bytes_read(&self) -> u64 {
        self.window_offset + self.pos as u64
    }

    /// What `--master-data` / `--dump-slave` / `--gtid` said so far.
    pub fn coordinates(&self) -> &Coordinates {
        &self.coordinates
    }

    /// The database of the last `USE`.
    pub fn current_database(&self) -> Option<&str> {
        self.database.as_deref()
    }

    /// Makes at least `n` bytes available at `pos` unless the input ends first; returns how
    /// many are available.
    fn ensure(&mut self, n: usize) -> Result<usize, ParseError> {
        while self.window.len() - self.pos < n && !self.eof {
            if self.pos > 0 {
                self.window.drain(..self.pos);
                self.window_offset += self.pos as u64;
                self.pos = 0;
            }
            let room = WINDOW.max(n) - self.window.len();
            let chunk = loop {
                match self.input.fill_buf() {
                    Ok(chunk) => break chunk,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        return Err(ParseError {
                            line: self.line,
                            message: format!("reading the input: {e}"),
                            io: Some(e),
                        })
                    }
                }
            };
            if chunk.is_empty() {
                self.eof = true;
                break;
            }
            let take = chunk.len().min(room);
            self.window.extend_from_slice(&chunk[..take]);
            self.input.consume(take);
        }
        Ok(self.window.len() - self.pos)
    }

    fn fail(&mut self, line: u64, message: impl Into<String>) -> ParseError {
        self.finished = true;
        ParseError::new(line, message)
    }

    /// The next statement, or `None` at the end of the input. After an error every later
    /// call returns `Ok(None)`.
    pub fn next_statement(&mut self) -> Result<Option<Statement>, ParseError> {
        if self.finished {
            return Ok(None);
        }
        match self.split() {
            Ok(Some(st)) => Ok(Some(st)),
            Ok(None) => {
                self.finished = true;
                Ok(None)
            }
            Err(e) => {
                self.finished = true;
                Err(e)
            }
        }
    }

    /// Reads up to the end of the next statement.
    fn split(&mut self) -> Result<Option<Statement>, ParseError> {
        self.sql.clear();
        let mut state = State::Normal;
        let mut start_line = self.line;
        let mut start_offset = self.bytes_read();
        let mut need_space = false;
        loop {
            if self.pos == self.window.len() && self.ensure(1)? == 0 {
                return self.at_end(state, start_line, start_offset);
            }
            if self.sql.len() > self.max_statement {
                let max = self.max_statement;
                return Err(self.fail(
                    start_line,
                    format!("statement longer than the maximum of {max} bytes"),
                ));
            }
            let b = self.window[self.pos];
            match state {
                State::Normal => {
                    if b == b'\n' {
                        self.pos += 1;
                        self.line += 1;
                        self.line_blank = true;
                        need_space = false;
                        if !self.sql.is_empty() {
                            self.sql.push(b'\n');
                        }
                        continue;
                    }
                    if is_space(b) {
                        self.pos += 1;
                        need_space = false;
                        if !self.sql.is_empty() {
                            self.sql.push(b);
                        }
                        continue;
                    }
                    let line_start = self.line_blank && self.sql.is_empty();
                    self.line_blank = false;
                    if line_start && (b == b'd' || b == b'D') && self.delimiter_command()? {
                        continue;
                    }
                    if line_start && b == b'/' && self.starts_with(SANDBOX)? {
                        return self.sandbox_line().map(Some);
                    }
                    if b == self.delimiter[0] && self.starts_with_delimiter()? {
                        self.pos += self.delimiter.len();
                        trim_end(&mut self.sql);
                        if self.sql.is_empty() {
                            start_line = self.line;
                            start_offset = self.bytes_read();
                            continue;
                        }
                        return self.finish(start_line, start_offset).map(Some);
                    }
                    if b == b'#' {
                        self.pos += 1;
                        self.comment.clear();
                        state = State::LineComment;
                        continue;
                    }
                    if b == b'-' {
                        let n = self.ensure(3)?;
                        let w = &self.window[self.pos..];
                        if n >= 2
                            && w[1] == b'-'
                            && (n == 2 || is_space(w[2]) || w[2] == b'\n' || self.sql.is_empty())
                        {
                            self.pos += 2;
                            self.comment.clear();
                            state = State::LineComment;
                            continue;
                        }
                    }
                    if b == b'/' {
                        let n = self.ensure(4)?;
                        let w = &self.window[self.pos..];
                        if n >= 2
                            && w[1] == b'*'
                            && !(n >= 3 && (w[2] == b'!' || w[2] == b'+'))
                            && !(n >= 4 && w[2] == b'M' && w[3] == b'!')
                        {
                            self.pos += 2;
                            state = State::Comment(self.line);
                            continue;
                        }
                    }
                    if self.sql.is_empty() {
                        start_line = self.line;
                        start_offset = self.bytes_read();
                    } else if need_space {
                        self.sql.push(b' ');
                    }
                    need_space = false;
                    self.sql.push(b);
                    self.pos += 1;
                    if b == b'\'' || b == b'"' || b == b'`' {
                        state = State::Quoted(b, self.line);
                    } else if b == b'\\' {
                        // Outside strings: the client's one-letter commands; kept as text.
                        if self.ensure(1)? > 0 && self.window[self.pos] != b'\n' {
                            self.sql.push(self.window[self.pos]);
                            self.pos += 1;
                        }
                    } else {
                        self.copy_plain();
                    }
                }
                State::Quoted(q, _) => {
                    let escapes = q != b'`'
                        && !self.sql_mode.no_backslash_escapes
                        && !(q == b'"' && self.sql_mode.ansi_quotes);
                    let w = &self.window[self.pos..];
                    let run = w
                        .iter()
                        .position(|&c| c == q || c == b'\n' || (escapes && c == b'\\'))
                        .unwrap_or(w.len());
                    self.sql.extend_from_slice(&w[..run]);
                    self.pos += run;
                    if self.pos == self.window.len() {
                        continue;
                    }
                    let c = self.window[self.pos];
                    self.sql.push(c);
                    self.pos += 1;
                    if c == b'\n' {
                        self.line += 1;
                    } else if c == q {
                        state = State::Normal;
                    } else if self.ensure(1)? > 0 {
                        // A backslash: the next byte is taken as is.
                        let e = self.window[self.pos];
                        self.sql.push(e);
                        self.pos += 1;
                        if e == b'\n' {
                            self.line += 1;
                        }
                    }
                }
                State::Comment(_) => {
                    let w = &self.window[self.pos..];
                    let run = w
                        .iter()
                        .position(|&c| c == b'*' || c == b'\n')
                        .unwrap_or(w.len());
                    self.pos += run;
                    if self.pos == self.window.len() {
                        continue;
                    }
                    if self.window[self.pos] == b'\n' {
                        self.pos += 1;
                        self.line += 1;
                        continue;
                    }
                    let n = self.ensure(2)?;
                    if n >= 2 && self.window[self.pos + 1] == b'/' {
                        self.pos += 2;
                        state = State::Normal;
                        need_space = true;
                    } else {
                        self.pos += 1;
                    }
                }
                State::LineComment => {
                    let w = &self.window[self.pos..];
                    let run = w.iter().position(|&c| c == b'\n').unwrap_or(w.len());
                    let keep = run.min(MAX_COMMENT.saturating_sub(self.comment.len()));
                    self.comment.extend_from_slice(&w[..keep]);
                    self.pos += run;
                    if self.pos < self.window.len() {
                        self.end_line_comment();
                        state = State::Normal;
                    }
                }
            }
        }
    }

    /// Copies bytes that need no decision (not whitespace, quote, comment start, backslash,
    /// nor the delimiter's first byte) in one go.
    fn copy_plain(&mut self) {
        let d = self.delimiter[0];
        let w = &self.window[self.pos..];
        let run = w
            .iter()
            .position(|&c| {
                c == d
                    || is_space(c)
                    || matches!(c, b'\n' | b'\'' | b'"' | b'`' | b'#' | b'-' | b'/' | b'\\')
            })
            .unwrap_or(w.len());
        self.sql.extend_from_slice(&w[..run]);
        self.pos += run;
    }

    fn end_line_comment(&mut self) {
        let text = std::mem::take(&mut self.comment);
        self.comment_context
            .observe_comment(&text, self.target, &mut self.coordinates);
        self.comment = text;
    }

    fn starts_with(&mut self, pattern: &[u8]) -> Result<bool, ParseError> {
        let n = self.ensure(pattern.len())?;
        Ok(n >= pattern.len() && &self.window[self.pos..self.pos + pattern.len()] == pattern)
    }

    fn starts_with_delimiter(&mut self) -> Result<bool, ParseError> {
        let len = self.delimiter.len();
        let n = self.ensure(len)?;
        Ok(n >= len && self.window[self.pos..self.pos + len] == self.delimiter[..])
    }

    /// At the start of a line with no statement pending: if the line is a `DELIMITER`
    /// command, consumes it (up to its newline) and sets the delimiter.
    fn delimiter_command(&mut self) -> Result<bool, ParseError> {
        let n = self.ensure(10)?;
        let w = &self.window[self.pos..];
        if n < 10 || !w[..9].eq_ignore_ascii_case(b"delimiter") || !is_space(w[9]) {
            return Ok(false);
        }
        self.pos += 10;
        let line = self.line;
        let mut arg = Vec::new();
        let mut quote = None;
        let mut started = false;
        let mut done = false;
        loop {
            if self.ensure(1)? == 0 {
                break;
            }
            let c = self.window[self.pos];
            if c == b'\n' {
                break;
            }
            self.pos += 1;
            if done {
                continue;
            }
            if !started {
                if is_space(c) {
                    continue;
                }
                started = true;
                if c == b'\'' || c == b'"' || c == b'`' {
                    quote = Some(c);
                    continue;
                }
            }
            match quote {
                Some(q) if c == q => done = true,
                None if is_space(c) => done = true,
                _ => arg.push(c),
            }
        }
        if arg.is_empty() {
            return Err(self.fail(
                line,
                "DELIMITER must be followed by a delimiter character or string",
            ));
        }
        if arg.contains(&b'\\') {
            return Err(self.fail(line, "DELIMITER cannot contain a backslash character"));
        }
        arg.truncate(MAX_DELIMITER);
        self.delimiter = arg;
        self.delimiter_line = line;
        Ok(true)
    }

    /// The MariaDB sandbox line: up to the end of its comment (or of the line).
    fn sandbox_line(&mut self) -> Result<Statement, ParseError> {
        let start_line = self.line;
        let start_offset = self.bytes_read();
        loop {
            if self.ensure(2)? == 0 {
                break;
            }
            let w = &self.window[self.pos..];
            if w[0] == b'\n' {
                break;
            }
            if w.len() >= 2 && w[0] == b'*' && w[1] == b'/' {
                self.sql.extend_from_slice(b"*/");
                self.pos += 2;
                break;
            }
            if self.sql.len() < self.max_statement {
                self.sql.push(w[0]);
            }
            self.pos += 1;
        }
        let end = self.bytes_read();
        Ok(Statement {
            sql: std::mem::take(&mut self.sql),
            line: start_line,
            offset: start_offset,
            end,
            database: self.database.clone(),
            kind: Kind::Empty,
            definer_span: None,
            secondary_keys: None,
        })
    }

    fn at_end(
        &mut self,
        state: State,
        start_line: u64,
        start_offset: u64,
    ) -> Result<Option<Statement>, ParseError> {
        match state {
            State::Quoted(q, line) => {
                let what = if q == b'`' { "identifier" } else { "string" };
                return Err(self.fail(
                    line,
                    format!(
                        "unterminated {what} (opened with {}) at the end of the input",
                        q as char
                    ),
                ));
            }
            State::Comment(line) => {
                return Err(self.fail(line, "unterminated /* comment at the end of the input"));
            }
            State::LineComment => self.end_line_comment(),
            State::Normal => {}
        }
        if self.delimiter != b";" {
            let (line, d) = (
                self.delimiter_line,
                String::from_utf8_lossy(&self.delimiter).into_owned(),
            );
            return Err(self.fail(
                line,
                format!(
                    "the input ends inside the DELIMITER {d} block set here (no DELIMITER ; after it)"
                ),
            ));
        }
        trim_end(&mut self.sql);
        if self.sql.is_empty() {
            return Ok(None);
        }
        self.finish(start_line, start_offset).map(Some)
    }

    /// Classifies the statement in `self.sql` and applies what it changes in the session.
    fn finish(&mut self, line: u64, offset: u64) -> Result<Statement, ParseError> {
        // The next statement is likely as long as this one (extended INSERTs): start there
        // rather than growing from nothing.
        let next = Vec::with_capacity(self.sql.len().min(MAX_PREALLOCATE));
        let sql = std::mem::replace(&mut self.sql, next);
        let Classified {
            kind,
            definer_span,
            assignments,
        } = classify(&sql, self.target, self.sql_mode.no_backslash_escapes);
        match &kind {
            Kind::Use { database } => self.database = Some(database.clone()),
            Kind::Set { .. } => {
                self.sql_mode.apply(&assignments);
                self.comment_context
                    .observe_set(&assignments, &mut self.coordinates);
            }
            Kind::ChangeMaster => {
                self.comment_context.observe_change_master(
                    &sql,
                    self.target,
                    &mut self.coordinates,
                );
            }
            _ => {}
        }
        let secondary_keys = match kind {
            Kind::CreateTable { .. } => {
                crate::keys::find(&sql, self.target, self.sql_mode.no_backslash_escapes)
            }
            _ => None,
        };
        Ok(Statement {
            sql,
            line,
            offset,
            end: self.bytes_read(),
            database: self.database.clone(),
            kind,
            definer_span,
            secondary_keys,
        })
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | 0x0b | 0x0c)
}

fn trim_end(v: &mut Vec<u8>) {
    while v.last().is_some_and(|&b| b == b'\n' || is_space(b)) {
        v.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dump of `n` extended INSERTs of ~`row_bytes` * 100 bytes each, made on the fly.
    struct Synthetic {
        n: usize,
        row: Vec<u8>,
        current: Vec<u8>,
        pos: usize,
    }

    impl std::io::Read for Synthetic {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.pos == self.current.len() {
                if self.n == 0 {
                    return Ok(0);
                }
                self.n -= 1;
                self.current.clear();
                self.current.extend_from_slice(b"INSERT INTO `t` VALUES ");
                for i in 0..100 {
                    if i > 0 {
                        self.current.push(b',');
                    }
                    self.current.extend_from_slice(&self.row);
                }
                self.current.extend_from_slice(b";\n");
                self.pos = 0;
            }
            let n = buf.len().min(self.current.len() - self.pos);
            buf[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    #[test]
    fn memory_is_bounded_by_the_window_and_the_longest_statement() {
        let row = b"(1,'a;b\\\\c\\'d',\"x\",0x00ff,'\xc3\xa9',-2.5e3)".to_vec();
        let per_statement = 23 + 100 * (row.len() + 1) + 1;
        // 78 MB in release builds (the README's figure), a tenth in debug builds.
        let n = if cfg!(debug_assertions) {
            2_000
        } else {
            20_000
        };
        let input = Synthetic {
            n,
            row,
            current: Vec::new(),
            pos: 0,
        };
        let mut r = Reader::new(std::io::BufReader::new(input), Version::mariadb(10, 11, 19));
        let mut rows = 0;
        while let Some(s) = r.next_statement().expect("parse") {
            if let Kind::Insert { rows: n, .. } = s.kind {
                rows += n;
            }
            assert!(
                r.window.capacity() <= 2 * WINDOW,
                "window {}",
                r.window.capacity()
            );
            assert!(
                r.sql.capacity() <= 2 * per_statement,
                "statement buffer {}",
                r.sql.capacity()
            );
        }
        assert_eq!(rows, 100 * n as u64);
        assert!(r.bytes_read() >= (n * per_statement) as u64 - n as u64);
    }
}
