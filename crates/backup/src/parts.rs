//! Streams split into parts: recognising part names and putting the parts in order.
//!
//! Users split big streams with `split` before uploading, and `split`'s naming is subtle:
//! `split -d` counts `00`..`89`, then widens to `9000`..`8999`-style groups (`9000`..`9899`,
//! then `990000`..), so `89` followed by `9000` is *not* a hole; alphabetic suffixes do the same
//! (`aa`..`yz`, `zaaa`..`zyzz`, `zzaaaa`..). Other tools write `.001`, `.002`, ... or
//! `.part1`, `.part2`, ..., `.part10` (natural order: `part9` before `part10`). A missing part
//! would silently corrupt the stream, so a hole is an error that names the missing part.

use std::fmt;

use crate::format::format_from_name;

/// How a part suffix counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SuffixStyle {
    /// Decimal digits: `split -d` (`00`, `01`, ..., `89`, `9000`, ...), `.001`, `.1`.
    Digits,
    /// Lowercase letters: `split` without `-d` (`aa`, `ab`, ..., `yz`, `zaaa`, ...).
    Letters,
    /// `part` followed by a number: `.part1`, `.part10`.
    Part,
}

/// The part suffix of a split stream object name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PartSuffix {
    /// `.`, `_` or `-` between the base name and the counter, if any.
    pub separator: Option<char>,
    pub style: SuffixStyle,
    /// The counter: the digits or letters (for [`SuffixStyle::Part`], the digits after `part`).
    pub counter: String,
    /// For [`SuffixStyle::Part`], the word as written (`part`, `Part`, `PART`).
    word: String,
}

impl PartSuffix {
    fn style_key(&self) -> (Option<char>, SuffixStyle, &str) {
        (self.separator, self.style, &self.word)
    }

    fn render(&self, counter: &str) -> String {
        let mut s = String::new();
        if let Some(c) = self.separator {
            s.push(c);
        }
        s.push_str(&self.word);
        s.push_str(counter);
        s
    }
}

impl fmt::Display for PartSuffix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(&self.counter))
    }
}

/// Longest counter accepted (keeps every value inside `u64`).
const MAX_DIGITS: usize = 18;
const MAX_LETTERS: usize = 12;
const SEPARATORS: [char; 3] = ['.', '_', '-'];

/// `base` with an optional trailing separator removed, if what remains names a stream.
fn stream_base(rest: &str) -> Option<(&str, Option<char>)> {
    if format_from_name(rest).is_some() {
        return Some((rest, None));
    }
    let sep = rest.chars().last().filter(|c| SEPARATORS.contains(c))?;
    let base = &rest[..rest.len() - 1];
    format_from_name(base)
        .is_some()
        .then_some((base, Some(sep)))
}

/// Splits a split-part object name into its base name and part suffix.
///
/// `backup.xbstream00` -> (`backup.xbstream`, `00`); `backup.tar.gz.001` -> (`backup.tar.gz`,
/// `.001`); `backup.xbstreamab`; `backup.xbstream.part10`. The base must end with a stream
/// extension ([`format_from_name`]). A name that is itself a stream name (`backup.tar.gz`) is
/// not a part: `None`.
pub fn split_part(name: &str) -> Option<(&str, PartSuffix)> {
    if format_from_name(name).is_some() {
        return None;
    }
    let bytes = name.as_bytes();
    let digits = bytes
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits > 0 {
        if digits > MAX_DIGITS {
            return None;
        }
        let rest = &name[..name.len() - digits];
        let counter = name[name.len() - digits..].to_string();
        // `.part7`
        let lower = rest.to_ascii_lowercase();
        if lower.ends_with("part") {
            let word_at = rest.len() - 4;
            if let Some((base, separator)) = stream_base(&rest[..word_at]) {
                return Some((
                    base,
                    PartSuffix {
                        separator,
                        style: SuffixStyle::Part,
                        counter,
                        word: rest[word_at..].to_string(),
                    },
                ));
            }
        }
        let (base, separator) = stream_base(rest)?;
        return Some((
            base,
            PartSuffix {
                separator,
                style: SuffixStyle::Digits,
                counter,
                word: String::new(),
            },
        ));
    }
    let letters = bytes
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_lowercase())
        .count();
    // Shortest counter first: the longest base that names a stream wins.
    (1..=letters.min(MAX_LETTERS)).find_map(|m| {
        let (base, separator) = stream_base(&name[..name.len() - m])?;
        Some((
            base,
            PartSuffix {
                separator,
                style: SuffixStyle::Letters,
                counter: name[name.len() - m..].to_string(),
                word: String::new(),
            },
        ))
    })
}

/// Parts that cannot be put together into one stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartsError {
    #[error("missing part {missing} between {before} and {after}")]
    Missing {
        missing: String,
        before: String,
        after: String,
    },
    #[error("missing parts {first} to {last} between {before} and {after}")]
    MissingRange {
        first: String,
        last: String,
        before: String,
        after: String,
    },
    #[error("missing first part {missing} (the first part present is {found})")]
    MissingFirst { missing: String, found: String },
    #[error("{a} and {b} are parts of {base} but are numbered in different styles")]
    MixedStyles { base: String, a: String, b: String },
    #[error("{whole} exists both as one object and split into parts ({part}, ...)")]
    WholeAndParts { whole: String, part: String },
    #[error("{a} and {b} are the same part of {base}")]
    Duplicate { base: String, a: String, b: String },
    #[error("the parts of {base} are numbered inconsistently ({a}, {b})")]
    Inconsistent { base: String, a: String, b: String },
    #[error("{a} and {b} are parts of different streams")]
    DifferentBases { a: String, b: String },
    #[error("{name} is not the name of a backup stream or of one of its parts")]
    NotAPart { name: String },
    #[error("no parts given")]
    Empty,
}

/// How the counters of one base map to positions 0, 1, 2, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Numbering {
    /// Every counter has this width: plain positional value.
    Fixed { radix: u64, width: usize },
    /// `split`'s auto-widening suffixes starting at width 2.
    Widening { radix: u64 },
    /// Unpadded decimal numbers (`.1`, `.2`, ..., `.10`).
    Natural,
}

fn digit_value(style: SuffixStyle, c: u8) -> u64 {
    match style {
        SuffixStyle::Letters => u64::from(c - b'a'),
        SuffixStyle::Digits | SuffixStyle::Part => u64::from(c - b'0'),
    }
}

fn digit_char(style: SuffixStyle, v: u64) -> char {
    let base = match style {
        SuffixStyle::Letters => b'a',
        SuffixStyle::Digits | SuffixStyle::Part => b'0',
    };
    char::from(base + (v as u8))
}

fn positional(style: SuffixStyle, radix: u64, s: &str) -> u64 {
    s.bytes()
        .fold(0u64, |acc, c| acc * radix + digit_value(style, c))
}

/// Size of the widening group `k` (k leading top digits, k+2 counting digits).
fn group_size(radix: u64, k: u32) -> Option<u64> {
    (radix - 1).checked_mul(radix.checked_pow(k + 1)?)
}

/// Position of `s` under auto-widening numbering, `None` when it does not fit it.
fn widening_index(style: SuffixStyle, radix: u64, s: &str) -> Option<u64> {
    let top = digit_char(style, radix - 1) as u8;
    let k = s.bytes().take_while(|&b| b == top).count();
    if s.len() != 2 * k + 2 {
        return None;
    }
    let mut index = 0u64;
    for j in 0..k as u32 {
        index = index.checked_add(group_size(radix, j)?)?;
    }
    index.checked_add(positional(style, radix, &s[k..]))
}

fn widening_counter(style: SuffixStyle, radix: u64, mut index: u64) -> String {
    let mut k = 0u32;
    while let Some(size) = group_size(radix, k) {
        if index < size {
            break;
        }
        index -= size;
        k += 1;
    }
    let mut s: String = std::iter::repeat_n(digit_char(style, radix - 1), k as usize).collect();
    s.push_str(&fixed_counter(style, radix, k as usize + 2, index));
    s
}

fn fixed_counter(style: SuffixStyle, radix: u64, width: usize, mut v: u64) -> String {
    let mut out = vec!['0'; width];
    for slot in out.iter_mut().rev() {
        *slot = digit_char(style, v % radix);
        v /= radix;
    }
    out.into_iter().collect()
}

impl Numbering {
    fn index(self, style: SuffixStyle, s: &str) -> Option<u64> {
        match self {
            Numbering::Fixed { radix, width } => {
                (s.len() == width).then(|| positional(style, radix, s))
            }
            Numbering::Widening { radix } => widening_index(style, radix, s),
            Numbering::Natural => s.parse().ok(),
        }
    }

    fn counter(self, style: SuffixStyle, index: u64) -> String {
        match self {
            Numbering::Fixed { radix, width } => fixed_counter(style, radix, width, index),
            Numbering::Widening { radix } => widening_counter(style, radix, index),
            Numbering::Natural => index.to_string(),
        }
    }
}

/// Picks the numbering that explains every counter of one base.
fn numbering(style: SuffixStyle, counters: &[&str]) -> Option<Numbering> {
    let radix = match style {
        SuffixStyle::Letters => 26,
        SuffixStyle::Digits | SuffixStyle::Part => 10,
    };
    let width = counters.first()?.len();
    if counters.iter().all(|c| c.len() == width) {
        return Some(Numbering::Fixed { radix, width });
    }
    if style != SuffixStyle::Part
        && counters
            .iter()
            .all(|c| widening_index(style, radix, c).is_some())
    {
        return Some(Numbering::Widening { radix });
    }
    if style != SuffixStyle::Letters && counters.iter().all(|c| c.len() == 1 || !c.starts_with('0'))
    {
        return Some(Numbering::Natural);
    }
    None
}

/// Orders the objects of one split stream and checks that none is missing.
///
/// `names` are the object names (or keys) of one stream: either one whole object, or parts
/// that all [`split_part`] to the same base with the same suffix style. Returns the indices of
/// `names` in consumption order.
///
/// The first part must be counter 0 (`00`, `aa`); `.001`-style and `partN` numbering may also
/// start at 1.
pub fn order_indices(names: &[&str]) -> Result<Vec<usize>, PartsError> {
    let (first, rest) = names.split_first().ok_or(PartsError::Empty)?;
    if rest.is_empty() && format_from_name(first).is_some() {
        return Ok(vec![0]);
    }
    let mut parsed: Vec<(usize, &str, PartSuffix)> = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        match split_part(name) {
            Some((base, suffix)) => parsed.push((i, base, suffix)),
            None if format_from_name(name).is_some() => {
                let part = names
                    .iter()
                    .find(|n| split_part(n).is_some())
                    .map_or_else(String::new, |n| n.to_string());
                return Err(PartsError::WholeAndParts {
                    whole: name.to_string(),
                    part,
                });
            }
            None => {
                return Err(PartsError::NotAPart {
                    name: name.to_string(),
                })
            }
        }
    }
    let (_, base, style0) = &parsed[0];
    let base = base.to_string();
    let key0 = style0.style_key();
    for (i, b, s) in &parsed[1..] {
        if *b != base {
            return Err(PartsError::DifferentBases {
                a: names[parsed[0].0].to_string(),
                b: names[*i].to_string(),
            });
        }
        if s.style_key() != key0 {
            return Err(PartsError::MixedStyles {
                base: base.clone(),
                a: names[parsed[0].0].to_string(),
                b: names[*i].to_string(),
            });
        }
    }
    let template = parsed[0].2.clone();
    let style = template.style;
    let counters: Vec<&str> = parsed.iter().map(|(_, _, s)| s.counter.as_str()).collect();
    let inconsistent = || {
        let mut by_len = parsed.clone();
        by_len.sort_by_key(|(_, _, s)| s.counter.len());
        PartsError::Inconsistent {
            base: base.clone(),
            a: names[by_len[0].0].to_string(),
            b: names[by_len[by_len.len() - 1].0].to_string(),
        }
    };
    let numbering = numbering(style, &counters).ok_or_else(inconsistent)?;
    let mut indexed: Vec<(u64, usize)> = Vec::with_capacity(parsed.len());
    for (i, _, s) in &parsed {
        let index = numbering
            .index(style, &s.counter)
            .ok_or_else(inconsistent)?;
        indexed.push((index, *i));
    }
    indexed.sort_unstable();

    let part_name = |index: u64| {
        format!(
            "{base}{}",
            template.render(&numbering.counter(style, index))
        )
    };
    let may_start_at_one = match (style, numbering) {
        (SuffixStyle::Part, _) => true,
        (SuffixStyle::Digits, Numbering::Natural) => true,
        (SuffixStyle::Digits, Numbering::Fixed { width, .. }) => {
            template.separator.is_some() && width >= 3
        }
        _ => false,
    };
    let (first_index, first_pos) = indexed[0];
    if first_index > u64::from(may_start_at_one) {
        return Err(PartsError::MissingFirst {
            missing: part_name(u64::from(may_start_at_one)),
            found: names[first_pos].to_string(),
        });
    }
    for pair in indexed.windows(2) {
        let ((a, ai), (b, bi)) = (pair[0], pair[1]);
        if a == b {
            return Err(PartsError::Duplicate {
                base,
                a: names[ai].to_string(),
                b: names[bi].to_string(),
            });
        }
        if b != a + 1 {
            let (before, after) = (names[ai].to_string(), names[bi].to_string());
            return Err(if b == a + 2 {
                PartsError::Missing {
                    missing: part_name(a + 1),
                    before,
                    after,
                }
            } else {
                PartsError::MissingRange {
                    first: part_name(a + 1),
                    last: part_name(b - 1),
                    before,
                    after,
                }
            });
        }
    }
    Ok(indexed.into_iter().map(|(_, i)| i).collect())
}

/// [`order_indices`], returning the names themselves in consumption order.
pub fn order_parts<'a>(names: &[&'a str]) -> Result<Vec<&'a str>, PartsError> {
    Ok(order_indices(names)?
        .into_iter()
        .map(|i| names[i])
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_d_names(base: &str, n: u64) -> Vec<String> {
        let numbering = Numbering::Widening { radix: 10 };
        (0..n)
            .map(|i| format!("{base}{}", numbering.counter(SuffixStyle::Digits, i)))
            .collect()
    }

    #[test]
    fn recognises_part_names() {
        let cases = [
            (
                "backup.xbstream00",
                "backup.xbstream",
                "00",
                SuffixStyle::Digits,
                None,
            ),
            (
                "a/backup.xbstream9000",
                "a/backup.xbstream",
                "9000",
                SuffixStyle::Digits,
                None,
            ),
            (
                "backup.tar.gz.001",
                "backup.tar.gz",
                "001",
                SuffixStyle::Digits,
                Some('.'),
            ),
            (
                "backup.xbstreamab",
                "backup.xbstream",
                "ab",
                SuffixStyle::Letters,
                None,
            ),
            (
                "backup.tar.gz.aa",
                "backup.tar.gz",
                "aa",
                SuffixStyle::Letters,
                Some('.'),
            ),
            (
                "backup.tgzaa",
                "backup.tgz",
                "aa",
                SuffixStyle::Letters,
                None,
            ),
            (
                "backup.xbstream.part10",
                "backup.xbstream",
                "10",
                SuffixStyle::Part,
                Some('.'),
            ),
            (
                "backup.xbstream_part2",
                "backup.xbstream",
                "2",
                SuffixStyle::Part,
                Some('_'),
            ),
        ];
        for (name, base, counter, style, sep) in cases {
            let (b, s) = split_part(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(
                (b, s.counter.as_str(), s.style, s.separator),
                (base, counter, style, sep),
                "{name}"
            );
            assert_eq!(format!("{b}{s}"), name);
        }
    }

    #[test]
    fn whole_streams_and_other_files_are_not_parts() {
        for name in [
            "backup.tar.gz",
            "backup.xbstream",
            "ibdata1",
            "db/t1.ibd",
            "x.sql.gz00",
            "a00",
        ] {
            assert_eq!(split_part(name), None, "{name}");
        }
    }

    #[test]
    fn split_d_widening_is_not_a_hole() {
        let names = split_d_names("backup.xbstream", 150);
        assert_eq!(names[89], "backup.xbstream89");
        assert_eq!(names[90], "backup.xbstream9000");
        let mut shuffled: Vec<&str> = names.iter().map(String::as_str).rev().collect();
        shuffled.swap(3, 70);
        let ordered = order_parts(&shuffled).unwrap();
        assert_eq!(
            ordered,
            names.iter().map(String::as_str).collect::<Vec<_>>()
        );
    }

    #[test]
    fn widening_counters_follow_gnu_split() {
        let w = Numbering::Widening { radix: 10 };
        assert_eq!(w.counter(SuffixStyle::Digits, 89), "89");
        assert_eq!(w.counter(SuffixStyle::Digits, 90), "9000");
        assert_eq!(w.counter(SuffixStyle::Digits, 90 + 899), "9899");
        assert_eq!(w.counter(SuffixStyle::Digits, 90 + 900), "990000");
        let l = Numbering::Widening { radix: 26 };
        assert_eq!(l.counter(SuffixStyle::Letters, 649), "yz");
        assert_eq!(l.counter(SuffixStyle::Letters, 650), "zaaa");
        assert_eq!(widening_index(SuffixStyle::Letters, 26, "zaab"), Some(651));
    }

    #[test]
    fn holes_are_named() {
        let err = order_parts(&[
            "backup.xbstream00",
            "backup.xbstream01",
            "backup.xbstream03",
        ])
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing part backup.xbstream02 between backup.xbstream01 and backup.xbstream03"
        );
        let mut names = split_d_names("b.tar", 95);
        names.remove(90); // 9000
        names.remove(89); // 89
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        assert_eq!(
            order_parts(&refs).unwrap_err().to_string(),
            "missing parts b.tar89 to b.tar9000 between b.tar88 and b.tar9001"
        );
    }

    #[test]
    fn missing_first_part_is_named() {
        let err = order_parts(&["backup.xbstream01", "backup.xbstream02"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing first part backup.xbstream00 (the first part present is backup.xbstream01)"
        );
        let err = order_parts(&["b.tar.ab"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing first part b.tar.aa (the first part present is b.tar.ab)"
        );
    }

    #[test]
    fn dotted_and_part_numbering_may_start_at_one() {
        assert_eq!(
            order_parts(&["b.tar.gz.002", "b.tar.gz.001"]).unwrap(),
            ["b.tar.gz.001", "b.tar.gz.002"]
        );
        assert_eq!(
            order_parts(&["b.tar.gz.001", "b.tar.gz.000"]).unwrap(),
            ["b.tar.gz.000", "b.tar.gz.001"]
        );
        let err = order_parts(&["b.tar.gz.002", "b.tar.gz.003"]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("missing first part b.tar.gz.001"),
            "{err}"
        );
    }

    #[test]
    fn natural_order_part9_before_part10() {
        let names: Vec<String> = (1..=12).map(|i| format!("b.xbstream.part{i}")).collect();
        let mut refs: Vec<&str> = names.iter().map(String::as_str).collect();
        refs.sort(); // lexical: part1, part10, part11, part12, part2, ...
        let ordered = order_parts(&refs).unwrap();
        assert_eq!(ordered[8], "b.xbstream.part9");
        assert_eq!(ordered[9], "b.xbstream.part10");
        let err = order_parts(&["b.xbstream.part1", "b.xbstream.part3"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing part b.xbstream.part2 between b.xbstream.part1 and b.xbstream.part3"
        );
    }

    #[test]
    fn alphabetic_parts_in_order() {
        let ordered = order_parts(&["x.tarac", "x.taraa", "x.tarab"]).unwrap();
        assert_eq!(ordered, ["x.taraa", "x.tarab", "x.tarac"]);
    }

    #[test]
    fn mixed_styles_and_whole_plus_parts_are_errors() {
        let err = order_parts(&["b.xbstream00", "b.xbstreamab"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "b.xbstream00 and b.xbstreamab are parts of b.xbstream but are numbered in different styles"
        );
        let err = order_parts(&["b.xbstream", "b.xbstream00"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "b.xbstream exists both as one object and split into parts (b.xbstream00, ...)"
        );
        let err = order_parts(&["b.xbstream00", "c.xbstream01"]).unwrap_err();
        assert!(matches!(err, PartsError::DifferentBases { .. }));
    }

    #[test]
    fn inconsistent_widths_are_errors() {
        let err = order_parts(&["b.xbstream00", "b.xbstream001"]).unwrap_err();
        assert!(matches!(err, PartsError::Inconsistent { .. }), "{err}");
        let err = order_parts(&["b.xbstream.1", "b.xbstream.01"]).unwrap_err();
        assert!(matches!(err, PartsError::Inconsistent { .. }), "{err}");
    }

    #[test]
    fn single_objects() {
        assert_eq!(order_parts(&["b.xbstream"]).unwrap(), ["b.xbstream"]);
        assert_eq!(order_parts(&["b.xbstream00"]).unwrap(), ["b.xbstream00"]);
        assert_eq!(order_parts(&[]).unwrap_err(), PartsError::Empty);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_names_never_panic(
            names in proptest::collection::vec("(b\\.(xbstream|tar\\.gz)[._-]?)?(part)?[0-9a-z]{0,8}", 0..12)
        ) {
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let _ = order_parts(&refs);
            for n in &refs {
                let _ = split_part(n);
            }
        }
    }
}
