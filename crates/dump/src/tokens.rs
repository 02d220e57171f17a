//! Lexes one statement's text as the target server would read it: conditional comments
//! `/*!NNNNN ..*/` and `/*M!NNNNNN ..*/` whose version the target reaches are opened (their
//! markers skipped, their text lexed), others are skipped like plain comments. Tokens carry
//! their byte range in the statement, so a caller can rewrite a clause in place.
//! No allocation: tokens borrow nothing and are small `Copy` values.

use crate::{Flavor, Version};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tok {
    /// A bare word: keyword, identifier, number (`[A-Za-z0-9_$]` and bytes >= 0x80).
    Word,
    /// A backquoted identifier, quotes included.
    Ident,
    /// A '..' or ".." string, quotes included.
    Str,
    /// Any other byte.
    Punct(u8),
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

pub(crate) struct Lexer<'a> {
    src: &'a [u8],
    pos: usize,
    target: Version,
    no_backslash_escapes: bool,
    /// Open conditional comments whose `*/` is still to come.
    open: u32,
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a [u8], target: Version, no_backslash_escapes: bool) -> Self {
        Lexer {
            src,
            pos: 0,
            target,
            no_backslash_escapes,
            open: 0,
        }
    }

    pub fn source(&self) -> &'a [u8] {
        self.src
    }

    pub fn text(&self, t: Token) -> &'a [u8] {
        &self.src[t.start..t.end]
    }

    /// Skips whitespace and comments (opening applicable conditional comments).
    fn skip_trivia(&mut self) {
        let s = self.src;
        while self.pos < s.len() {
            let b = s[self.pos];
            let next = s.get(self.pos + 1).copied();
            if b.is_ascii_whitespace() || b == 0x0b {
                self.pos += 1;
            } else if b == b'#' || (b == b'-' && next == Some(b'-') && self.dash_comment()) {
                while self.pos < s.len() && s[self.pos] != b'\n' {
                    self.pos += 1;
                }
            } else if b == b'/' && next == Some(b'*') {
                self.comment();
            } else if b == b'*' && next == Some(b'/') && self.open > 0 {
                self.open -= 1;
                self.pos += 2;
            } else {
                return;
            }
        }
    }

    fn dash_comment(&self) -> bool {
        match self.src.get(self.pos + 2) {
            None => true,
            Some(c) => c.is_ascii_whitespace() || c.is_ascii_control(),
        }
    }

    /// At `/*`: a conditional comment the target applies is opened; any other is skipped.
    fn comment(&mut self) {
        let s = self.src;
        let mut p = self.pos + 2;
        let mariadb_only = s.get(p) == Some(&b'M') && s.get(p + 1) == Some(&b'!');
        let conditional = s.get(p) == Some(&b'!') || mariadb_only;
        if conditional {
            p += if mariadb_only { 2 } else { 1 };
            let digits = s[p..].iter().take_while(|c| c.is_ascii_digit()).count();
            let take = match (digits, self.target.flavor) {
                (d, Flavor::MariaDb) if d >= 6 => 6,
                (d, _) if d >= 5 => 5,
                _ => 0,
            };
            let version: u32 = s[p..p + take].iter().fold(0u32, |v, c| {
                v.saturating_mul(10).saturating_add((c - b'0') as u32)
            });
            let applies = (!mariadb_only || self.target.flavor == Flavor::MariaDb)
                && (take == 0 || version <= self.target.number);
            if applies {
                self.pos = p + take;
                self.open += 1;
                return;
            }
        }
        // Skipped: to the first `*/`.
        let body = &s[self.pos + 2..];
        self.pos = match body.windows(2).position(|w| w == b"*/") {
            Some(i) => self.pos + 2 + i + 2,
            None => s.len(),
        };
    }

    fn quoted(&mut self, q: u8) {
        let s = self.src;
        let escapes = q != b'`' && !self.no_backslash_escapes;
        let mut p = self.pos + 1;
        while p < s.len() {
            let c = s[p];
            if c == b'\\' && escapes {
                p += 2;
            } else if c == q {
                if s.get(p + 1) == Some(&q) {
                    p += 2;
                } else {
                    p += 1;
                    break;
                }
            } else {
                p += 1;
            }
        }
        self.pos = p.min(s.len());
    }
}

pub(crate) fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

impl Iterator for Lexer<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        self.skip_trivia();
        let s = self.src;
        let start = self.pos;
        let b = *s.get(start)?;
        let tok = match b {
            b'`' => {
                self.quoted(b'`');
                Tok::Ident
            }
            b'\'' | b'"' => {
                self.quoted(b);
                Tok::Str
            }
            c if is_word_byte(c) => {
                let n = s[start..].iter().take_while(|&&c| is_word_byte(c)).count();
                self.pos += n;
                Tok::Word
            }
            c => {
                self.pos += 1;
                Tok::Punct(c)
            }
        };
        Some(Token {
            tok,
            start,
            end: self.pos,
        })
    }
}

/// The value of an identifier or string token, unquoted: backquotes removed and doubled
/// backquotes undone; for strings, doubled quotes and backslash escapes undone.
pub(crate) fn unquote(text: &[u8], no_backslash_escapes: bool) -> String {
    let Some(&q) = text.first() else {
        return String::new();
    };
    if !matches!(q, b'`' | b'\'' | b'"') {
        return String::from_utf8_lossy(text).into_owned();
    }
    let inner = if text.len() >= 2 && text[text.len() - 1] == q {
        &text[1..text.len() - 1]
    } else {
        &text[1..]
    };
    let escapes = q != b'`' && !no_backslash_escapes;
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        let c = inner[i];
        if c == q && inner.get(i + 1) == Some(&q) {
            out.push(q);
            i += 2;
        } else if c == b'\\' && escapes && i + 1 < inner.len() {
            let e = inner[i + 1];
            match e {
                b'0' => out.push(0),
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'b' => out.push(8),
                b'Z' => out.push(0x1a),
                b'%' | b'_' => out.extend_from_slice(&[b'\\', e]),
                e => out.push(e),
            }
            i += 2;
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
