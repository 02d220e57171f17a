//! Reading the beginning of a tenant's `CREATE` statement before ferry runs it as its own
//! account: what kind of object it creates, its name, its definer, and (for an event) whether
//! its schedule is made of literals only.
//!
//! This is the first of three guards around `FerryCreateImportObject` (see the parent module):
//! the header must be the object claimed, with the definer claimed, in the database claimed.
//! Conditional comments (`/*!NNNNN ... */`, `/*M!NNNNNN ... */`) are read as the server reads
//! them: their text is code when their version is at most the server's. One that the server
//! would skip is refused anywhere in the header, so ferry and the server can never read the
//! header differently.
//!
//! [`dump_reading`] reads the same text a second, independent way, with `ferry-dump` (the
//! reader `ferry import` splits dumps with, as the `mariadb` client does): it must find
//! exactly one statement, of the kind claimed, with the definer claimed. Neither reading
//! decides where the statement ends on the server: a prepared statement is always one.

/// An object kind `FerryCreateImportObject` creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectType {
    View,
    Trigger,
    Procedure,
    Function,
    Event,
}

impl ObjectType {
    pub const ALL: [ObjectType; 5] = [
        ObjectType::View,
        ObjectType::Trigger,
        ObjectType::Procedure,
        ObjectType::Function,
        ObjectType::Event,
    ];

    /// As the `ObjectType` parameter spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectType::View => "view",
            ObjectType::Trigger => "trigger",
            ObjectType::Procedure => "procedure",
            ObjectType::Function => "function",
            ObjectType::Event => "event",
        }
    }

    pub fn parse(s: &str) -> Option<ObjectType> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s))
    }

    fn keyword(self) -> &'static str {
        match self {
            ObjectType::View => "VIEW",
            ObjectType::Trigger => "TRIGGER",
            ObjectType::Procedure => "PROCEDURE",
            ObjectType::Function => "FUNCTION",
            ObjectType::Event => "EVENT",
        }
    }
}

/// `user@host`, unquoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub user: String,
    pub host: String,
}

impl Account {
    /// `'user'@'host'` for messages.
    pub fn quoted(&self) -> String {
        format!(
            "'{}'@'{}'",
            self.user.replace('\'', "''"),
            self.host.replace('\'', "''")
        )
    }
}

/// What the header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub kind: ObjectType,
    /// `None`: no DEFINER clause, or `CURRENT_USER`.
    pub definer: Option<Account>,
    pub schema: Option<String>,
    pub name: String,
    /// For an event: the schedule holds something besides literals and keywords (a
    /// function call, a subquery, a variable), which the server would evaluate at creation.
    pub schedule_has_expressions: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    /// A backquoted identifier, unquoted.
    Ident(String),
    /// A quoted string, unquoted.
    Str(String),
    Punct(char),
}

/// Why a header cannot be read.
pub type HeaderError = String;

struct Lexer<'a> {
    s: &'a [u8],
    i: usize,
    /// The server's version as a number (10.11.14 -> 101114).
    version: u32,
    in_cond: bool,
}

impl Lexer<'_> {
    fn next(&mut self) -> Result<Option<Token>, HeaderError> {
        loop {
            let s = self.s;
            let Some(&c) = s.get(self.i) else {
                return if self.in_cond {
                    Err("a conditional comment is not closed".into())
                } else {
                    Ok(None)
                };
            };
            let rest = &s[self.i..];
            if c.is_ascii_whitespace() {
                self.i += 1;
            } else if self.in_cond && rest.starts_with(b"*/") {
                self.in_cond = false;
                self.i += 2;
            } else if rest.starts_with(b"/*!") || rest.starts_with(b"/*M!") {
                if self.in_cond {
                    return Err("a comment inside a conditional comment".into());
                }
                let start = self.i + if rest[2] == b'M' { 4 } else { 3 };
                let digits = s[start..].iter().take_while(|b| b.is_ascii_digit()).count();
                let applies = match digits {
                    0 => true,
                    5 | 6 => {
                        let v: u32 = std::str::from_utf8(&s[start..start + digits])
                            .ok()
                            .and_then(|t| t.parse().ok())
                            .ok_or("a conditional comment's version")?;
                        v <= self.version
                    }
                    n => return Err(format!("a conditional comment with a {n}-digit version")),
                };
                if !applies {
                    return Err(
                        "a conditional comment the server would skip (its version is newer than the server's)"
                            .into(),
                    );
                }
                self.in_cond = true;
                self.i = start + digits;
            } else if rest.starts_with(b"/*") {
                if self.in_cond {
                    return Err("a comment inside a conditional comment".into());
                }
                let end = find(rest, b"*/").ok_or("a comment is not closed")?;
                self.i += end + 2;
            } else if rest.starts_with(b"-- ") || rest.starts_with(b"--\t") || c == b'#' {
                let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
                self.i += end;
            } else if c == b'`' || c == b'\'' || c == b'"' {
                return self.quoted(c).map(Some);
            } else if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80 {
                let n = rest
                    .iter()
                    .take_while(|&&b| {
                        b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
                    })
                    .count();
                self.i += n;
                return Ok(Some(Token::Word(
                    String::from_utf8_lossy(&rest[..n]).into_owned(),
                )));
            } else {
                self.i += 1;
                return Ok(Some(Token::Punct(c as char)));
            }
        }
    }

    /// A quoted identifier or string; the quote doubled inside stands for itself, and in a
    /// string a backslash escapes the next byte.
    fn quoted(&mut self, q: u8) -> Result<Token, HeaderError> {
        let s = self.s;
        let mut out = Vec::new();
        let mut i = self.i + 1;
        loop {
            let Some(&b) = s.get(i) else {
                return Err("a quoted name or string is not closed".into());
            };
            if b == q {
                if s.get(i + 1) == Some(&q) {
                    out.push(q);
                    i += 2;
                    continue;
                }
                i += 1;
                break;
            }
            if b == b'\\' && q != b'`' {
                let Some(&e) = s.get(i + 1) else {
                    return Err("a string ends in a backslash".into());
                };
                out.push(e);
                i += 2;
                continue;
            }
            out.push(b);
            i += 1;
        }
        self.i = i;
        let text = String::from_utf8(out).map_err(|_| "a quoted name is not UTF-8".to_owned())?;
        Ok(if q == b'`' {
            Token::Ident(text)
        } else {
            Token::Str(text)
        })
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Reads the header of `sql` as a server of `version` (e.g. 101114) would.
pub fn read_header(sql: &str, version: u32) -> Result<Header, HeaderError> {
    let mut lx = Lexer {
        s: sql.as_bytes(),
        i: 0,
        version,
        in_cond: false,
    };
    let next = |lx: &mut Lexer<'_>| -> Result<Token, HeaderError> {
        lx.next()?
            .ok_or_else(|| "the statement ends early".to_owned())
    };
    let word = |t: &Token, w: &str| matches!(t, Token::Word(x) if x.eq_ignore_ascii_case(w));

    let t = next(&mut lx)?;
    if !word(&t, "CREATE") {
        return Err("it does not begin with CREATE".into());
    }
    let mut t = next(&mut lx)?;
    if word(&t, "OR") {
        if !word(&next(&mut lx)?, "REPLACE") {
            return Err("OR is not followed by REPLACE".into());
        }
        t = next(&mut lx)?;
    }
    if word(&t, "ALGORITHM") {
        expect_punct(&next(&mut lx)?, '=')?;
        next(&mut lx)?;
        t = next(&mut lx)?;
    }
    let mut definer = None;
    if word(&t, "DEFINER") {
        expect_punct(&next(&mut lx)?, '=')?;
        let user = next(&mut lx)?;
        if word(&user, "CURRENT_USER") {
            t = next(&mut lx)?;
            if t == Token::Punct('(') {
                expect_punct(&next(&mut lx)?, ')')?;
                t = next(&mut lx)?;
            }
        } else {
            let user = name_text(&user).ok_or("the definer's user is not a name")?;
            expect_punct(&next(&mut lx)?, '@')?;
            let host = next(&mut lx)?;
            let host = name_text(&host).ok_or("the definer's host is not a name")?;
            definer = Some(Account { user, host });
            t = next(&mut lx)?;
        }
    }
    if word(&t, "SQL") {
        if !word(&next(&mut lx)?, "SECURITY") {
            return Err("SQL is not followed by SECURITY".into());
        }
        next(&mut lx)?;
        t = next(&mut lx)?;
    }
    if word(&t, "AGGREGATE") {
        t = next(&mut lx)?;
    }
    let kind = ObjectType::ALL
        .into_iter()
        .find(|k| word(&t, k.keyword()))
        .ok_or_else(|| {
            format!("it does not create a view, trigger, procedure, function or event ({t:?})")
        })?;
    let mut t = next(&mut lx)?;
    if word(&t, "IF") {
        if !word(&next(&mut lx)?, "NOT") || !word(&next(&mut lx)?, "EXISTS") {
            return Err("IF is not followed by NOT EXISTS".into());
        }
        t = next(&mut lx)?;
    }
    let first = name_text(&t).ok_or("the object's name is missing")?;
    let mut after = lx.next()?;
    let (schema, name) = if after == Some(Token::Punct('.')) {
        let second = name_text(&next(&mut lx)?).ok_or("the object's name is missing")?;
        after = lx.next()?;
        (Some(first), second)
    } else {
        (None, first)
    };
    // For an event, the rest up to DO: the schedule and options.
    let mut schedule_has_expressions = false;
    if kind == ObjectType::Event {
        let mut cur = after;
        loop {
            match cur {
                None => return Err("the event has no DO".into()),
                Some(Token::Word(w)) if w.eq_ignore_ascii_case("DO") => break,
                Some(Token::Word(w)) if w.eq_ignore_ascii_case("SELECT") => {
                    schedule_has_expressions = true
                }
                Some(Token::Punct('(' | '@')) => schedule_has_expressions = true,
                Some(Token::Ident(_)) => schedule_has_expressions = true,
                Some(_) => {}
            }
            cur = lx.next()?;
        }
    }
    Ok(Header {
        kind,
        definer,
        schema,
        name,
        schedule_has_expressions,
    })
}

/// `sql` as `ferry-dump` reads it: the kind and definer of the one statement it holds; an
/// error when it holds none or more than one. A view is read with `;` as the delimiter (its
/// text has none outside strings and comments); the other kinds, whose bodies may be
/// compound (`BEGIN ... ; ... END`), with a delimiter that does not occur in the text, as in a
/// dump's `DELIMITER ;;` block (for them, the server's prepare is what refuses a second
/// statement).
pub fn dump_reading(
    sql: &str,
    version: u32,
    kind: ObjectType,
) -> Result<(ObjectType, Option<Account>), HeaderError> {
    let text = if kind == ObjectType::View {
        format!("{sql}\n;\n")
    } else {
        let mut delimiter = String::from("$$ferry$$");
        while sql.contains(&delimiter) {
            delimiter.push('$');
        }
        format!("DELIMITER {delimiter}\n{sql}\n{delimiter}\nDELIMITER ;\n")
    };
    let target = ferry_dump::Version {
        number: version,
        flavor: ferry_dump::Flavor::MariaDb,
    };
    let mut reader = ferry_dump::Reader::new(text.as_bytes(), target);
    let mut found = Vec::new();
    while let Some(st) = reader.next_statement().map_err(|e| e.to_string())? {
        if !matches!(st.kind, ferry_dump::Kind::Empty) {
            found.push(st);
        }
    }
    let [st] = found.as_slice() else {
        return Err(format!("it holds {} statements, not one", found.len()));
    };
    let account = |d: &Option<ferry_dump::Definer>| {
        d.as_ref().map(|d| Account {
            user: d.user.clone(),
            host: d.host.clone(),
        })
    };
    use ferry_dump::Kind as K;
    match &st.kind {
        K::CreateView { definer, .. } => Ok((ObjectType::View, account(definer))),
        K::CreateTrigger { definer, .. } => Ok((ObjectType::Trigger, account(definer))),
        K::CreateRoutine {
            function, definer, ..
        } => Ok((
            if *function {
                ObjectType::Function
            } else {
                ObjectType::Procedure
            },
            account(definer),
        )),
        K::CreateEvent { definer, .. } => Ok((ObjectType::Event, account(definer))),
        _ => Err(format!(
            "it is not a CREATE of a view, trigger, routine or event: {}",
            st.head()
        )),
    }
}

fn expect_punct(t: &Token, c: char) -> Result<(), HeaderError> {
    if *t == Token::Punct(c) {
        Ok(())
    } else {
        Err(format!("expected '{c}', found {t:?}"))
    }
}

fn name_text(t: &Token) -> Option<String> {
    match t {
        Token::Word(w) | Token::Ident(w) | Token::Str(w) => Some(w.clone()),
        Token::Punct(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V: u32 = 101114;

    fn root() -> Option<Account> {
        Some(Account {
            user: "root".into(),
            host: "localhost".into(),
        })
    }

    #[test]
    fn reads_what_mariadb_dump_writes() {
        let h = read_header(
            "/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER `tr` BEFORE INSERT ON `t` FOR EACH ROW SET NEW.a = 1 */",
            V,
        )
        .unwrap();
        assert_eq!(
            (h.kind, h.definer, h.schema, h.name.as_str()),
            (ObjectType::Trigger, root(), None, "tr")
        );
        let h = read_header(
            "/*!50001 CREATE ALGORITHM=UNDEFINED */\n/*!50013 DEFINER=`root`@`localhost` SQL SECURITY DEFINER */\n/*!50001 VIEW `v` AS select 1 AS `1` */",
            V,
        )
        .unwrap();
        assert_eq!(
            (h.kind, h.definer, h.name.as_str()),
            (ObjectType::View, root(), "v")
        );
        let h = read_header(
            "CREATE DEFINER=`root`@`localhost` FUNCTION `app`.`f`(x INT) RETURNS int(11)\nBEGIN RETURN x; END",
            V,
        )
        .unwrap();
        assert_eq!(
            (h.kind, h.schema.as_deref(), h.name.as_str()),
            (ObjectType::Function, Some("app"), "f")
        );
        let h = read_header(
            "/*!50106 CREATE*/ /*!50117 DEFINER=`root`@`localhost`*/ /*!50106 EVENT `e` ON SCHEDULE EVERY 1 DAY STARTS '2026-01-01 00:00:00' ON COMPLETION NOT PRESERVE ENABLE DO INSERT INTO t VALUES (1) */",
            V,
        )
        .unwrap();
        assert_eq!(
            (h.kind, h.name.as_str(), h.schedule_has_expressions),
            (ObjectType::Event, "e", false)
        );
        let h = read_header("CREATE DEFINER='u'@'%' PROCEDURE p() SELECT 1", V).unwrap();
        assert_eq!(
            h.definer,
            Some(Account {
                user: "u".into(),
                host: "%".into()
            })
        );
        let h = read_header(
            "create or replace definer = current_user() procedure p() select 1",
            V,
        )
        .unwrap();
        assert_eq!((h.kind, h.definer), (ObjectType::Procedure, None));
    }

    #[test]
    fn refuses_what_the_server_would_read_otherwise() {
        for (sql, why) in [
            ("CREATE USER x", "does not create"),
            (
                "CREATE /*!999999 VIEW v AS SELECT 1 */ USER x",
                "server would skip",
            ),
            ("CREATE /*!1 VIEW */ v", "1-digit version"),
            (
                "/*!50003 CREATE /* x */ VIEW v AS SELECT 1 */",
                "inside a conditional",
            ),
            ("GRANT ALL ON *.* TO x", "does not begin with CREATE"),
            (
                "CREATE DEFINER=`root`@`localhost` EVENT e ON SCHEDULE AT '2030-01-01'",
                "no DO",
            ),
            ("CREATE DEFINER=`root VIEW v", "not closed"),
        ] {
            let e = read_header(sql, V).unwrap_err();
            assert!(e.contains(why), "{sql}: {e}");
        }
        let h = read_header(
            "CREATE DEFINER=root@localhost EVENT e ON SCHEDULE AT f() DO SELECT 1",
            V,
        )
        .unwrap();
        assert!(h.schedule_has_expressions);
        let h = read_header("CREATE EVENT e ON SCHEDULE AT (SELECT 1) DO SELECT 1", V).unwrap();
        assert!(h.schedule_has_expressions);
    }

    #[test]
    fn the_dump_reader_agrees_and_counts_statements() {
        let (kind, definer) = dump_reading(
            "CREATE DEFINER=`root`@`localhost` PROCEDURE `p`()\nBEGIN\n  SELECT 1;\n  SELECT 2;\nEND",
            V,
            ObjectType::Procedure,
        )
        .unwrap();
        assert_eq!((kind, definer), (ObjectType::Procedure, root()));
        let (kind, _) = dump_reading(
            "/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER `tr` BEFORE INSERT ON `t` FOR EACH ROW SET NEW.a = 1 */",
            V,
            ObjectType::Trigger,
        )
        .unwrap();
        assert_eq!(kind, ObjectType::Trigger);
        let e = dump_reading(
            "CREATE VIEW v AS SELECT 1; CREATE USER x",
            V,
            ObjectType::View,
        )
        .unwrap_err();
        assert!(e.contains("2 statements"), "{e}");
        let e = dump_reading("CREATE USER x", V, ObjectType::Event).unwrap_err();
        assert!(e.contains("not a CREATE"), "{e}");
    }

    #[test]
    fn versions() {}
}
