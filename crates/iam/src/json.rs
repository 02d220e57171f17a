//! A small strict JSON reader (RFC 8259) that keeps what a policy reader needs and
//! `serde_json::Value` drops: where each value starts and ends in the text (line and column,
//! 1-based, counted in characters, as IAM's simulator reports statement positions), the order of
//! object members, and duplicate member names (which IAM refuses).

/// A place in the document text: 1-based line and column (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// One JSON value with its extent: `start` is its first character, `end` its last.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub(crate) value: Json,
    pub(crate) start: Position,
    pub(crate) end: Position,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    /// A number as written (IAM reads numbers in condition values as text).
    Number(String),
    String(String),
    Array(Vec<Node>),
    /// Members in document order; names are unique (a duplicate is a syntax error).
    Object(Vec<(String, Node)>),
}

impl Node {
    pub(crate) fn get(&self, name: &str) -> Option<&Node> {
        match &self.value {
            Json::Object(members) => members.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Why the text is not JSON (the caller turns any of these into IAM's "Syntax errors").
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub(crate) at: Position,
    pub(crate) what: &'static str,
}

/// Deeper nesting than any policy needs is refused, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 64;

pub(crate) fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut r = Reader {
        chars: text.chars().collect(),
        i: 0,
        line: 1,
        col: 1,
    };
    r.skip_ws();
    let node = r.value(0)?;
    r.skip_ws();
    if r.i != r.chars.len() {
        return Err(r.err("text after the document"));
    }
    Ok(node)
}

struct Reader {
    chars: Vec<char>,
    i: usize,
    line: usize,
    col: usize,
}

impl Reader {
    fn pos(&self) -> Position {
        Position {
            line: self.line,
            column: self.col,
        }
    }

    fn err(&self, what: &'static str) -> SyntaxError {
        SyntaxError {
            at: self.pos(),
            what,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.get(self.i).copied()?;
        self.i += 1;
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r')) {
            self.bump();
        }
    }

    fn expect_word(&mut self, word: &str) -> Result<(), SyntaxError> {
        for w in word.chars() {
            if self.bump() != Some(w) {
                return Err(self.err("unknown literal"));
            }
        }
        Ok(())
    }

    fn value(&mut self, depth: usize) -> Result<Node, SyntaxError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        let start = self.pos();
        let value = match self.peek() {
            Some('{') => self.object(depth)?,
            Some('[') => self.array(depth)?,
            Some('"') => Json::String(self.string()?),
            Some('t') => {
                self.expect_word("true")?;
                Json::Bool(true)
            }
            Some('f') => {
                self.expect_word("false")?;
                Json::Bool(false)
            }
            Some('n') => {
                self.expect_word("null")?;
                Json::Null
            }
            Some('-' | '0'..='9') => Json::Number(self.number()?),
            _ => return Err(self.err("expected a value")),
        };
        let end = self.last_pos();
        Ok(Node { value, start, end })
    }

    /// The position of the character just read.
    fn last_pos(&self) -> Position {
        // Values never end with a newline, so the previous character is on this line.
        Position {
            line: self.line,
            column: self.col.saturating_sub(1).max(1),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, SyntaxError> {
        self.bump(); // '{'
        let mut members: Vec<(String, Node)> = Vec::new();
        self.skip_ws();
        if self.peek() == Some('}') {
            self.bump();
            return Ok(Json::Object(members));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some('"') {
                return Err(self.err("expected a member name"));
            }
            let name = self.string()?;
            if members.iter().any(|(k, _)| *k == name) {
                return Err(self.err("duplicate member name"));
            }
            self.skip_ws();
            if self.bump() != Some(':') {
                return Err(self.err("expected ':'"));
            }
            self.skip_ws();
            let v = self.value(depth + 1)?;
            members.push((name, v));
            self.skip_ws();
            match self.bump() {
                Some(',') => continue,
                Some('}') => return Ok(Json::Object(members)),
                _ => return Err(self.err("expected ',' or '}'")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json, SyntaxError> {
        self.bump(); // '['
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(']') {
            self.bump();
            return Ok(Json::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.bump() {
                Some(',') => continue,
                Some(']') => return Ok(Json::Array(items)),
                _ => return Err(self.err("expected ',' or ']'")),
            }
        }
    }

    fn string(&mut self) -> Result<String, SyntaxError> {
        self.bump(); // '"'
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err(self.err("unterminated string")),
                Some('"') => return Ok(out),
                Some('\\') => match self.bump() {
                    Some('"') => out.push('"'),
                    Some('\\') => out.push('\\'),
                    Some('/') => out.push('/'),
                    Some('b') => out.push('\u{8}'),
                    Some('f') => out.push('\u{c}'),
                    Some('n') => out.push('\n'),
                    Some('r') => out.push('\r'),
                    Some('t') => out.push('\t'),
                    Some('u') => {
                        let hi = self.hex4()?;
                        let c = if (0xD800..0xDC00).contains(&hi) {
                            if self.bump() != Some('\\') || self.bump() != Some('u') {
                                return Err(self.err("lone surrogate"));
                            }
                            let lo = self.hex4()?;
                            if !(0xDC00..0xE000).contains(&lo) {
                                return Err(self.err("lone surrogate"));
                            }
                            char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                        } else {
                            char::from_u32(hi)
                        };
                        out.push(c.ok_or_else(|| self.err("lone surrogate"))?);
                    }
                    _ => return Err(self.err("bad escape")),
                },
                Some(c) if (c as u32) < 0x20 => return Err(self.err("control character in string")),
                Some(c) => out.push(c),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = self
                .bump()
                .and_then(|c| c.to_digit(16))
                .ok_or_else(|| self.err("bad \\u escape"))?;
            v = v * 16 + d;
        }
        Ok(v)
    }

    fn number(&mut self) -> Result<String, SyntaxError> {
        let from = self.i;
        if self.peek() == Some('-') {
            self.bump();
        }
        match self.peek() {
            Some('0') => {
                self.bump();
            }
            Some('1'..='9') => self.digits(),
            _ => return Err(self.err("bad number")),
        }
        if self.peek() == Some('.') {
            self.bump();
            if !matches!(self.peek(), Some('0'..='9')) {
                return Err(self.err("bad number"));
            }
            self.digits();
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            self.bump();
            if matches!(self.peek(), Some('+' | '-')) {
                self.bump();
            }
            if !matches!(self.peek(), Some('0'..='9')) {
                return Err(self.err("bad number"));
            }
            self.digits();
        }
        Ok(self.chars[from..self.i].iter().collect())
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some('0'..='9')) {
            self.bump();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_lines_and_columns() {
        let n = parse("{\n  \"a\": {\"b\": 1}\n}").expect("valid");
        let a = n.get("a").expect("member a");
        assert_eq!(a.start, Position { line: 2, column: 8 });
        assert_eq!(
            a.end,
            Position {
                line: 2,
                column: 15
            }
        );
        assert_eq!(n.start, Position { line: 1, column: 1 });
        assert_eq!(n.end, Position { line: 3, column: 1 });
    }

    #[test]
    fn refuses_duplicates_trailing_commas_and_garbage() {
        assert!(parse(r#"{"a":1,"a":2}"#).is_err());
        assert!(parse(r#"{"a":1,}"#).is_err());
        assert!(parse(r#"[1,]"#).is_err());
        assert!(parse(r#"{"a":1} x"#).is_err());
        assert!(parse(r#"01"#).is_err());
        assert!(parse(&"[".repeat(100)).is_err());
    }

    #[test]
    fn reads_escapes_and_surrogates() {
        let n = parse(r#""a\u00e9\ud83d\ude00\n""#).expect("valid");
        assert_eq!(n.value, Json::String("aé😀\n".into()));
        assert!(parse(r#""\ud83d""#).is_err());
    }
}
