//! Wildcard patterns (`*` any run of characters, crossing `/` and `:`; `?` one character) and
//! policy variables (`${aws:username}`, `${aws:PrincipalTag/k}`, `${*}`, `${?}`, `${$}`,
//! `${key, 'default'}`), compiled once when a document is read.

use crate::eval::Context;

/// One piece of a compiled wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    Lit(String),
    Star,
    One,
}

/// One piece of a template: wildcard text, or a variable resolved at evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    Piece(Piece),
    /// `${key}` or `${key, 'default'}`; `key` is lower-cased (keys compare case-insensitively).
    Var {
        key: String,
        default: Option<String>,
    },
}

/// A resource pattern or condition value: pieces, with variables when the document's version
/// substitutes them (2012-10-17).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template {
    /// The text as written, for errors and reports.
    pub(crate) source: String,
    parts: Vec<Part>,
    /// The pieces when there are no variables: matching needs no allocation.
    fixed: Option<Vec<Piece>>,
    /// The text (wildcards as written, `${*}` etc. resolved) when there are no variables.
    fixed_text: Option<String>,
}

impl Template {
    /// Compiles `text`; `variables` says whether `${...}` is a variable (version 2012-10-17)
    /// or literal text; `wildcards` whether `*` and `?` are wildcards or literal.
    pub(crate) fn compile(text: &str, variables: bool, wildcards: bool) -> Template {
        let mut parts: Vec<Part> = Vec::new();
        let mut lit = String::new();
        let flush = |lit: &mut String, parts: &mut Vec<Part>| {
            if !lit.is_empty() {
                parts.push(Part::Piece(Piece::Lit(std::mem::take(lit))));
            }
        };
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            if variables && rest.starts_with("${") {
                if let Some(close) = rest.find('}') {
                    let inner = &rest[2..close];
                    rest = &rest[close + 1..];
                    match inner {
                        "*" => lit.push('*'),
                        "?" => lit.push('?'),
                        "$" => lit.push('$'),
                        _ => {
                            flush(&mut lit, &mut parts);
                            parts.push(variable(inner));
                        }
                    }
                    continue;
                }
            }
            rest = &rest[c.len_utf8()..];
            match c {
                '*' if wildcards => {
                    flush(&mut lit, &mut parts);
                    if parts.last() != Some(&Part::Piece(Piece::Star)) {
                        parts.push(Part::Piece(Piece::Star));
                    }
                }
                '?' if wildcards => {
                    flush(&mut lit, &mut parts);
                    parts.push(Part::Piece(Piece::One));
                }
                _ => lit.push(c),
            }
        }
        flush(&mut lit, &mut parts);
        let fixed = parts
            .iter()
            .map(|p| match p {
                Part::Piece(piece) => Some(piece.clone()),
                Part::Var { .. } => None,
            })
            .collect::<Option<Vec<Piece>>>();
        let mut t = Template {
            source: text.to_owned(),
            parts,
            fixed,
            fixed_text: None,
        };
        t.fixed_text = t.plain_text();
        t
    }

    /// The context keys this template's variables read.
    pub(crate) fn variable_keys(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var { key, default: None } => Some(key.as_str()),
            _ => None,
        })
    }

    /// The pieces with variables resolved from `ctx`; `None` when a variable has no value
    /// (the value then matches nothing).
    pub(crate) fn resolve<'a>(&'a self, ctx: &Context) -> Option<std::borrow::Cow<'a, [Piece]>> {
        if let Some(fixed) = &self.fixed {
            return Some(std::borrow::Cow::Borrowed(fixed));
        }
        let mut out = Vec::with_capacity(self.parts.len());
        for p in &self.parts {
            match p {
                Part::Piece(piece) => out.push(piece.clone()),
                Part::Var { key, default } => {
                    let value = match ctx.get_lower(key) {
                        Some([one]) => one.clone(),
                        _ => default.clone()?,
                    };
                    // A variable's value is literal text, never a wildcard.
                    out.push(Piece::Lit(value));
                }
            }
        }
        Some(std::borrow::Cow::Owned(out))
    }

    /// The text with variables resolved and wildcards kept as written (for operators that
    /// compare exactly, such as `StringEquals`).
    pub(crate) fn resolve_text(&self, ctx: &Context) -> Option<std::borrow::Cow<'_, str>> {
        if let Some(text) = &self.fixed_text {
            return Some(std::borrow::Cow::Borrowed(text));
        }
        let pieces = self.resolve(ctx)?;
        let mut s = String::new();
        for p in pieces.iter() {
            match p {
                Piece::Lit(l) => s.push_str(l),
                Piece::Star => s.push('*'),
                Piece::One => s.push('?'),
            }
        }
        Some(std::borrow::Cow::Owned(s))
    }

    fn plain_text(&self) -> Option<String> {
        let mut s = String::new();
        for p in &self.parts {
            match p {
                Part::Piece(Piece::Lit(l)) => s.push_str(l),
                Part::Piece(Piece::Star) => s.push('*'),
                Part::Piece(Piece::One) => s.push('?'),
                Part::Var { .. } => return None,
            }
        }
        Some(s)
    }
}

fn variable(inner: &str) -> Part {
    // `${aws:username, 'default'}`: a comma, then a single-quoted default.
    if let Some((key, default)) = inner.split_once(',') {
        let d = default.trim();
        if d.len() >= 2 && d.starts_with('\'') && d.ends_with('\'') {
            return Part::Var {
                key: key.trim().to_ascii_lowercase(),
                default: Some(d[1..d.len() - 1].to_owned()),
            };
        }
    }
    Part::Var {
        key: inner.trim().to_ascii_lowercase(),
        default: None,
    }
}

/// Whether `subject` matches `pattern`; `fold` compares ASCII letters case-insensitively.
/// Linear backtracking on the last `*` only: no exponential blow-up on hostile patterns.
pub(crate) fn matches(pattern: &[Piece], subject: &str, fold: bool) -> bool {
    let s = subject.as_bytes();
    let (mut pi, mut si) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if pi < pattern.len() {
            match &pattern[pi] {
                Piece::Star => {
                    star = Some((pi, si));
                    pi += 1;
                    continue;
                }
                Piece::One => {
                    if si < s.len() {
                        si += char_len(s[si]);
                        pi += 1;
                        continue;
                    }
                }
                Piece::Lit(l) => {
                    let l = l.as_bytes();
                    if s.len() - si >= l.len() && eq(&s[si..si + l.len()], l, fold) {
                        si += l.len();
                        pi += 1;
                        continue;
                    }
                }
            }
        } else if si == s.len() {
            return true;
        }
        match star {
            Some((sp, ss)) if ss < s.len() => {
                let next = ss + char_len(s[ss]);
                star = Some((sp, next));
                pi = sp + 1;
                si = next;
            }
            _ => return false,
        }
    }
}

fn eq(a: &[u8], b: &[u8], fold: bool) -> bool {
    if fold {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

fn char_len(first: u8) -> usize {
    match first {
        0..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xff => 4,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        let t = Template::compile(p, false, true);
        matches(&t.resolve(&Context::new()).expect("no variables"), s, false)
    }

    #[test]
    fn wildcards() {
        assert!(m("*", ""));
        assert!(m("arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y:z"));
        assert!(!m("arn:aws:s3:::b/*", "arn:aws:s3:::c/x"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m("a*b*c", "aXXbYYbZc"));
        assert!(!m("a*b*c", "aXXbYY"));
        assert!(m("*é", "xé"));
        assert!(m("?", "é"));
        assert!(!m("abc", "ABC"));
    }

    #[test]
    fn hostile_pattern_is_linear() {
        let p = "*a".repeat(50) + "b";
        assert!(!m(&p, &"a".repeat(5000)));
    }

    #[test]
    fn variables_substitute_literally() {
        let t = Template::compile("arn:aws:s3:::b/${aws:username}/*", true, true);
        let mut ctx = Context::new();
        assert!(t.resolve(&ctx).is_none());
        ctx.set("AWS:UserName", "a*");
        let p = t.resolve(&ctx).expect("resolved");
        assert!(matches(&p, "arn:aws:s3:::b/a*/x", false));
        assert!(!matches(&p, "arn:aws:s3:::b/ab/x", false));
        let d = Template::compile("${aws:username, 'anon'}-${*}${?}${$}", true, true);
        assert_eq!(
            d.resolve_text(&Context::new()).expect("default").as_ref(),
            "anon-*?$"
        );
        let old = Template::compile("b/${aws:username}", false, true);
        assert!(m(&old.source, "b/${aws:username}"));
    }
}
