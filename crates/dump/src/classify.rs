//! Says what a statement is ([`Kind`]) from its tokens as the target server reads them, and
//! where its DEFINER clause is. Only the statement's first words are looked at, except for
//! `INSERT`/`REPLACE` (tuples in `VALUES` are counted by walking the tokens, with no
//! allocation per row) and `SET` (every assignment is listed).

use crate::tokens::{unquote, Lexer, Tok, Token};
use crate::{Definer, Kind, Name, Version};

/// The value a `SET` assigns, when it is a simple one (enough to follow `sql_mode` and the
/// GTID position through a dump).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SetValue {
    Str(String),
    /// `@name`
    User(String),
    /// `@@[scope.]name`, lowercased.
    System(String),
    Default,
    Other,
}

pub(crate) struct Classified {
    pub kind: Kind,
    pub definer_span: Option<(usize, usize)>,
    /// For `SET`: `(lowercased system variable | "@" + user variable, value)`.
    pub assignments: Vec<(String, SetValue)>,
}

struct Parser<'a> {
    lx: Lexer<'a>,
    peeked: Option<Option<Token>>,
    nbe: bool,
}

impl<'a> Parser<'a> {
    fn peek(&mut self) -> Option<Token> {
        if self.peeked.is_none() {
            self.peeked = Some(self.lx.next());
        }
        self.peeked.flatten()
    }

    fn next(&mut self) -> Option<Token> {
        match self.peeked.take() {
            Some(t) => t,
            None => self.lx.next(),
        }
    }

    fn is_kw(&self, t: Token, kw: &str) -> bool {
        t.tok == Tok::Word && self.lx.text(t).eq_ignore_ascii_case(kw.as_bytes())
    }

    fn peek_kw(&mut self, kw: &str) -> bool {
        self.peek().is_some_and(|t| self.is_kw(t, kw))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        let yes = self.peek_kw(kw);
        if yes {
            self.next();
        }
        yes
    }

    fn eat_kws(&mut self, kws: &[&str]) -> bool {
        // Only the first is checked before committing: callers use distinctive phrases.
        if !self.peek_kw(kws[0]) {
            return false;
        }
        for kw in kws {
            if !self.eat_kw(kw) {
                return false;
            }
        }
        true
    }

    fn eat_punct(&mut self, c: u8) -> bool {
        let yes = self.peek().is_some_and(|t| t.tok == Tok::Punct(c));
        if yes {
            self.next();
        }
        yes
    }

    /// The next word, uppercased (ASCII), if it is one.
    fn word(&mut self) -> Option<String> {
        let t = self.peek()?;
        if t.tok != Tok::Word {
            return None;
        }
        self.next();
        Some(String::from_utf8_lossy(self.lx.text(t)).to_ascii_uppercase())
    }

    fn ident(&mut self) -> Option<String> {
        let t = self.peek()?;
        match t.tok {
            Tok::Word | Tok::Ident => {
                self.next();
                Some(unquote(self.lx.text(t), self.nbe))
            }
            _ => None,
        }
    }

    fn name(&mut self) -> Option<Name> {
        let first = self.ident()?;
        if self.eat_punct(b'.') {
            let second = self.ident()?;
            Some(Name {
                schema: Some(first),
                name: second,
            })
        } else {
            Some(Name::new(&first))
        }
    }

    fn if_not_exists(&mut self) {
        self.eat_kws(&["IF", "NOT", "EXISTS"]);
    }

    fn if_exists(&mut self) {
        self.eat_kws(&["IF", "EXISTS"]);
    }

    /// After `DEFINER`: `= user@host` or `= CURRENT_USER[()]`.
    fn definer(&mut self, start: usize) -> (Option<Definer>, Option<(usize, usize)>) {
        self.eat_punct(b'=');
        if self.eat_kw("CURRENT_USER") {
            if self.eat_punct(b'(') {
                self.eat_punct(b')');
            }
            return (None, None);
        }
        let Some(user) = self.account_part() else {
            return (None, None);
        };
        if !self.eat_punct(b'@') {
            return (None, None);
        }
        let Some(host) = self.account_part() else {
            return (None, None);
        };
        (
            Some(Definer {
                user: user.0,
                host: host.0,
            }),
            Some((start, host.1)),
        )
    }

    fn account_part(&mut self) -> Option<(String, usize)> {
        let t = self.peek()?;
        let value = match t.tok {
            Tok::Word | Tok::Ident | Tok::Str => unquote(self.lx.text(t), self.nbe),
            Tok::Punct(b'%') => "%".to_owned(),
            _ => return None,
        };
        self.next();
        Some((value, t.end))
    }
}

/// Classifies `sql` (one statement, as the client sends it).
pub(crate) fn classify(sql: &[u8], target: Version, no_backslash_escapes: bool) -> Classified {
    let mut p = Parser {
        lx: Lexer::new(sql, target, no_backslash_escapes),
        peeked: None,
        nbe: no_backslash_escapes,
    };
    let mut out = Classified {
        kind: Kind::Other,
        definer_span: None,
        assignments: Vec::new(),
    };
    let Some(first) = p.word() else {
        if p.peek().is_none() {
            out.kind = Kind::Empty;
        }
        return out;
    };
    out.kind = match first.as_str() {
        "SET" => set(&mut p, &mut out.assignments),
        "USE" => match p.ident() {
            Some(database) => Kind::Use { database },
            None => Kind::Other,
        },
        "CREATE" => create(&mut p, &mut out.definer_span),
        "DROP" => drop(&mut p),
        "LOCK" if p.peek_kw("TABLES") || p.peek_kw("TABLE") => Kind::LockTables,
        "UNLOCK" if p.peek_kw("TABLES") || p.peek_kw("TABLE") => Kind::UnlockTables,
        "ALTER" => alter(&mut p),
        "INSERT" => insert(&mut p, false),
        "REPLACE" => insert(&mut p, true),
        "CHANGE" if p.peek_kw("MASTER") => Kind::ChangeMaster,
        "GRANT" | "REVOKE" => Kind::Accounts,
        "RENAME" if p.peek_kw("USER") => Kind::Accounts,
        "FLUSH" => {
            p.eat_kw("NO_WRITE_TO_BINLOG");
            p.eat_kw("LOCAL");
            if p.peek_kw("PRIVILEGES") {
                Kind::Accounts
            } else {
                Kind::Other
            }
        }
        _ => Kind::Other,
    };
    out
}

fn set(p: &mut Parser<'_>, assignments: &mut Vec<(String, SetValue)>) -> Kind {
    if p.peek_kw("PASSWORD") || p.peek_kw("ROLE") || p.peek_kw("DEFAULT") {
        return Kind::Accounts;
    }
    if p.peek_kw("STATEMENT") || p.peek_kw("TRANSACTION") {
        return Kind::Other;
    }
    let mut system = Vec::new();
    while let Some(t) = p.peek() {
        // The variable.
        let target = if t.tok == Tok::Punct(b'@') {
            p.next();
            if p.eat_punct(b'@') {
                system_name(p)
            } else {
                let t = p.peek();
                match t {
                    Some(t) if matches!(t.tok, Tok::Word | Tok::Ident | Tok::Str) => {
                        p.next();
                        Some(format!("@{}", unquote(p.lx.text(t), p.nbe)))
                    }
                    _ => None,
                }
            }
        } else if p.eat_kw("NAMES") {
            for v in [
                "character_set_client",
                "character_set_results",
                "character_set_connection",
                "collation_connection",
            ] {
                system.push(v.to_owned());
            }
            None
        } else if p.eat_kw("CHARSET") || p.eat_kws(&["CHARACTER", "SET"]) {
            for v in [
                "character_set_client",
                "character_set_results",
                "character_set_connection",
            ] {
                system.push(v.to_owned());
            }
            None
        } else {
            for scope in ["GLOBAL", "SESSION", "LOCAL"] {
                if p.eat_kw(scope) {
                    break;
                }
            }
            system_name(p)
        };
        // The value.
        let mut value = SetValue::Other;
        if target.is_some() {
            p.eat_punct(b':');
            p.eat_punct(b'=');
            value = set_value(p);
        }
        if let Some(name) = target {
            if !name.starts_with('@') && !system.contains(&name) {
                system.push(name.clone());
            }
            assignments.push((name, value));
        }
        // Up to the next top-level comma.
        let mut depth = 0u32;
        let mut more = false;
        while let Some(t) = p.next() {
            match t.tok {
                Tok::Punct(b'(') => depth += 1,
                Tok::Punct(b')') => depth = depth.saturating_sub(1),
                Tok::Punct(b',') if depth == 0 => {
                    more = true;
                    break;
                }
                _ => {}
            }
        }
        if !more {
            break;
        }
    }
    Kind::Set {
        system_variables: system,
    }
}

/// `[global. | session. | local.]name`, lowercased.
fn system_name(p: &mut Parser<'_>) -> Option<String> {
    let mut name = p.ident()?;
    let lower = name.to_ascii_lowercase();
    if matches!(lower.as_str(), "global" | "session" | "local") && p.eat_punct(b'.') {
        name = p.ident()?;
    }
    Some(name.to_ascii_lowercase())
}

fn set_value(p: &mut Parser<'_>) -> SetValue {
    let Some(t) = p.peek() else {
        return SetValue::Other;
    };
    let value = match t.tok {
        Tok::Str => {
            p.next();
            SetValue::Str(unquote(p.lx.text(t), p.nbe))
        }
        Tok::Punct(b'@') => {
            p.next();
            if p.eat_punct(b'@') {
                match system_name(p) {
                    Some(n) => SetValue::System(n),
                    None => SetValue::Other,
                }
            } else {
                match p.ident() {
                    Some(n) => SetValue::User(n),
                    None => SetValue::Other,
                }
            }
        }
        Tok::Word if p.is_kw(t, "DEFAULT") => {
            p.next();
            SetValue::Default
        }
        _ => return SetValue::Other,
    };
    // Only a value that ends here is simple.
    match p.peek() {
        None => value,
        Some(t) if matches!(t.tok, Tok::Punct(b',') | Tok::Punct(b';')) => value,
        Some(_) => SetValue::Other,
    }
}

fn create(p: &mut Parser<'_>, span: &mut Option<(usize, usize)>) -> Kind {
    let mut definer = None;
    p.eat_kws(&["OR", "REPLACE"]);
    loop {
        let Some(t) = p.peek() else {
            return Kind::Other;
        };
        if p.is_kw(t, "DEFINER") {
            p.next();
            let (d, s) = p.definer(t.start);
            definer = d;
            *span = s;
        } else if p.is_kw(t, "ALGORITHM") {
            p.next();
            p.eat_punct(b'=');
            p.next();
        } else if p.is_kw(t, "SQL") {
            p.next();
            p.eat_kw("SECURITY");
            p.next();
        } else if ["TEMPORARY", "AGGREGATE", "ONLINE", "OFFLINE", "UNIQUE"]
            .iter()
            .any(|kw| p.is_kw(t, kw))
        {
            p.next();
        } else {
            break;
        }
    }
    let Some(what) = p.word() else {
        return Kind::Other;
    };
    let kind = match what.as_str() {
        "DATABASE" | "SCHEMA" => {
            p.if_not_exists();
            p.ident().map(|database| Kind::CreateDatabase { database })
        }
        "TABLE" => {
            p.if_not_exists();
            p.name().map(|table| Kind::CreateTable { table })
        }
        "VIEW" => {
            p.if_not_exists();
            p.name().map(|view| Kind::CreateView {
                view,
                definer: definer.clone(),
            })
        }
        "TRIGGER" => {
            p.if_not_exists();
            p.name().and_then(|trigger| {
                // BEFORE|AFTER INSERT|UPDATE|DELETE ON table
                for _ in 0..4 {
                    if p.eat_kw("ON") {
                        return p.name().map(|table| Kind::CreateTrigger {
                            trigger,
                            table,
                            definer: definer.clone(),
                        });
                    }
                    p.next();
                }
                None
            })
        }
        "PROCEDURE" | "FUNCTION" => {
            p.if_not_exists();
            p.name().map(|routine| Kind::CreateRoutine {
                routine,
                function: what == "FUNCTION",
                definer: definer.clone(),
            })
        }
        "EVENT" => {
            p.if_not_exists();
            p.name().map(|event| Kind::CreateEvent {
                event,
                definer: definer.clone(),
            })
        }
        "USER" | "ROLE" => Some(Kind::Accounts),
        _ => None,
    };
    match kind {
        Some(k) => k,
        None => {
            *span = None;
            Kind::Other
        }
    }
}

fn drop(p: &mut Parser<'_>) -> Kind {
    p.eat_kw("TEMPORARY");
    let Some(what) = p.word() else {
        return Kind::Other;
    };
    match what.as_str() {
        "TABLE" | "TABLES" => {
            p.if_exists();
            p.name()
                .map_or(Kind::Other, |table| Kind::DropTable { table })
        }
        "VIEW" => {
            p.if_exists();
            p.name().map_or(Kind::Other, |view| Kind::DropView { view })
        }
        "DATABASE" | "SCHEMA" => {
            p.if_exists();
            p.ident()
                .map_or(Kind::Other, |database| Kind::DropDatabase { database })
        }
        "TRIGGER" | "PROCEDURE" | "FUNCTION" | "EVENT" => Kind::DropObject,
        "USER" | "ROLE" => Kind::Accounts,
        _ => Kind::Other,
    }
}

fn alter(p: &mut Parser<'_>) -> Kind {
    p.eat_kw("ONLINE");
    p.eat_kw("IGNORE");
    if p.eat_kw("USER") {
        return Kind::Accounts;
    }
    if !p.eat_kw("TABLE") {
        return Kind::Other;
    }
    let Some(table) = p.name() else {
        return Kind::Other;
    };
    if (p.eat_kw("DISABLE") || p.eat_kw("ENABLE")) && p.peek_kw("KEYS") {
        Kind::AlterKeys { table }
    } else {
        Kind::Other
    }
}

fn insert(p: &mut Parser<'_>, replace: bool) -> Kind {
    let mut ignore = false;
    loop {
        if p.eat_kw("IGNORE") {
            ignore = true;
        } else if !(p.eat_kw("LOW_PRIORITY") || p.eat_kw("DELAYED") || p.eat_kw("HIGH_PRIORITY")) {
            break;
        }
    }
    p.eat_kw("INTO");
    let Some(table) = p.name() else {
        return Kind::Other;
    };
    if p.eat_kw("PARTITION") {
        skip_parens(p);
    }
    if p.peek().is_some_and(|t| t.tok == Tok::Punct(b'(')) {
        skip_parens(p);
    }
    let values = p
        .peek()
        .filter(|&t| p.is_kw(t, "VALUES") || p.is_kw(t, "VALUE"));
    let rows = if let Some(t) = values {
        count_tuples(&p.lx.source()[t.end..], p.nbe)
    } else if p.peek_kw("SET") {
        1
    } else {
        0
    };
    Kind::Insert {
        table,
        rows,
        ignore,
        replace,
    }
}

/// At `(`: skips to its matching `)`.
fn skip_parens(p: &mut Parser<'_>) {
    if !p.eat_punct(b'(') {
        return;
    }
    let mut depth = 1u32;
    while let Some(t) = p.next() {
        match t.tok {
            Tok::Punct(b'(') => depth += 1,
            Tok::Punct(b')') => {
                depth -= 1;
                if depth == 0 {
                    return;
                }
            }
            _ => {}
        }
    }
}

/// Top-level `(` after `VALUES`, up to `ON DUPLICATE KEY UPDATE` / `RETURNING`. A byte
/// scan rather than tokens: this runs over every row of the dump. Conditional comments are
/// taken as applied (dump tools write none in `VALUES`).
fn count_tuples(s: &[u8], no_backslash_escapes: bool) -> u64 {
    let mut rows = 0u64;
    let mut depth = 0u32;
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        match c {
            b'(' => {
                if depth == 0 {
                    rows += 1;
                }
                depth += 1;
                i += 1;
            }
            b')' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'\'' | b'"' | b'`' => {
                let escapes = c != b'`' && !no_backslash_escapes;
                i += 1;
                while i < s.len() {
                    let d = s[i];
                    if d == b'\\' && escapes {
                        i += 2;
                    } else {
                        i += 1;
                        if d == c {
                            break;
                        }
                    }
                }
            }
            b'/' if s.get(i + 1) == Some(&b'*') => {
                let body = &s[i + 2..];
                if body.first() == Some(&b'!') || body.starts_with(b"M!") {
                    // Opened: skip the marker and version, scan the text.
                    i += 2 + body
                        .iter()
                        .take_while(|b| !b.is_ascii_digit())
                        .count()
                        .min(2);
                    i += s[i..].iter().take_while(|b| b.is_ascii_digit()).count();
                } else {
                    i = match body.windows(2).position(|w| w == b"*/") {
                        Some(at) => i + 2 + at + 2,
                        None => s.len(),
                    };
                }
            }
            b'#' => i = skip_line(s, i),
            b'-' if s.get(i + 1) == Some(&b'-')
                && s.get(i + 2).is_none_or(|b| b.is_ascii_whitespace()) =>
            {
                i = skip_line(s, i)
            }
            c if depth == 0 && crate::tokens::is_word_byte(c) => {
                let n = s[i..]
                    .iter()
                    .take_while(|&&b| crate::tokens::is_word_byte(b))
                    .count();
                let word = &s[i..i + n];
                if word.eq_ignore_ascii_case(b"ON") || word.eq_ignore_ascii_case(b"RETURNING") {
                    break;
                }
                i += n;
            }
            _ => i += 1,
        }
    }
    rows
}

fn skip_line(s: &[u8], i: usize) -> usize {
    s[i..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(s.len(), |n| i + n + 1)
}

/// `[/*!50001] CREATE VIEW name AS SELECT (NULL|1) AS col[, ...] [*/]` and nothing else.
pub(crate) fn is_view_placeholder(sql: &[u8]) -> bool {
    let any = Version {
        number: u32::MAX,
        flavor: crate::Flavor::MariaDb,
    };
    let mut p = Parser {
        lx: Lexer::new(sql, any, false),
        peeked: None,
        nbe: false,
    };
    if !(p.eat_kw("CREATE") && p.eat_kw("VIEW") && p.name().is_some()) {
        return false;
    }
    if !(p.eat_kw("AS") && p.eat_kw("SELECT")) {
        return false;
    }
    loop {
        if !(p.eat_kw("NULL") || p.eat_kw("1")) || !p.eat_kw("AS") || p.ident().is_none() {
            return false;
        }
        if !p.eat_punct(b',') {
            return p.peek().is_none();
        }
    }
}
