//! The JSON envelope of SSL material: an object with exactly `ssl_ca`, `ssl_cert`, `ssl_key`.
//!
//! Parsed by hand on top of serde (a map visitor) rather than into a `serde_json::Map`,
//! because a map silently keeps the last of duplicated keys, and a duplicated key is a mistake
//! the user should hear about. Raw control characters inside strings (line breaks put there by
//! the SQL client's own `\n` handling) are escaped before parsing, and error positions are
//! mapped back to the text the user wrote.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

use super::{SslField, SslMaterialError};

/// Unknown keys longer than this, or with unusual characters, are not echoed.
pub(super) const MAX_ECHOED_KEY: usize = 32;

/// The three string fields, in [`SslField::ALL`] order.
pub(super) fn three_fields(input: &str) -> Result<[String; 3], SslMaterialError> {
    let escaped = EscapedControls::new(input);
    let entries: Entries =
        serde_json::from_str(&escaped.text).map_err(|err| match err.classify() {
            serde_json::error::Category::Data => SslMaterialError::NotAnObject,
            serde_json::error::Category::Io
            | serde_json::error::Category::Syntax
            | serde_json::error::Category::Eof => {
                let (line, column) = escaped.original_position(err.line(), err.column());
                SslMaterialError::NotJson { line, column }
            }
        })?;

    let mut values: [Option<serde_json::Value>; 3] = [None, None, None];
    for (name, value) in entries.0 {
        let Some(field) = SslField::from_key(&name) else {
            return Err(SslMaterialError::UnknownKey {
                name: echoable(&name),
            });
        };
        let slot = &mut values[slot_of(field)];
        if slot.is_some() {
            return Err(SslMaterialError::DuplicateKey(field));
        }
        *slot = Some(value);
    }
    let mut out: [String; 3] = Default::default();
    for field in SslField::ALL {
        match values[slot_of(field)].take() {
            None => return Err(SslMaterialError::MissingKey(field)),
            Some(serde_json::Value::String(text)) => out[slot_of(field)] = unescape_newlines(text),
            Some(_) => return Err(SslMaterialError::NotAString(field)),
        }
    }
    Ok(out)
}

/// The position of `field` in [`SslField::ALL`] (and in the returned array).
fn slot_of(field: SslField) -> usize {
    match field {
        SslField::Ca => 0,
        SslField::Cert => 1,
        SslField::Key => 2,
    }
}

/// A key name safe and short enough to repeat in a message.
fn echoable(name: &str) -> Option<String> {
    let plain = !name.is_empty()
        && name.len() <= MAX_ECHOED_KEY
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
    plain.then(|| name.to_owned())
}

/// PEM whose line breaks arrived as the two characters `\` `n` (escaped once too often) gets
/// real line breaks back; base64 never contains a backslash, so this cannot damage valid PEM.
fn unescape_newlines(text: String) -> String {
    if text.contains('\n') || !text.contains("\\n") {
        return text;
    }
    text.replace("\\r\\n", "\n").replace("\\n", "\n")
}

/// Every `(key, value)` pair of a JSON object, in order, duplicates kept.
struct Entries(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor;
        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = Entries;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, serde_json::Value>()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(EntriesVisitor)
    }
}

/// The input with raw control characters inside strings written as JSON escapes, and where
/// each insertion happened (to map error positions back).
struct EscapedControls<'a> {
    original: &'a str,
    text: String,
    /// Byte offsets in `text` just after each inserted byte, ascending.
    inserted_at: Vec<usize>,
}

impl<'a> EscapedControls<'a> {
    fn new(original: &'a str) -> Self {
        let mut text = String::with_capacity(original.len() + 64);
        let mut inserted_at = Vec::new();
        let (mut in_string, mut escaped) = (false, false);
        for c in original.chars() {
            if in_string && !escaped {
                let replacement = match c {
                    '\n' => Some('n'),
                    '\r' => Some('r'),
                    '\t' => Some('t'),
                    _ => None,
                };
                if let Some(letter) = replacement {
                    text.push('\\');
                    inserted_at.push(text.len());
                    text.push(letter);
                    continue;
                }
            }
            match c {
                '"' if !escaped => in_string = !in_string,
                _ => {}
            }
            escaped = in_string && !escaped && c == '\\';
            text.push(c);
        }
        EscapedControls {
            original,
            text,
            inserted_at,
        }
    }

    /// serde_json's 1-based (line, column) in `text` as a (line, column) in the original,
    /// both counting columns in characters from 1.
    fn original_position(&self, line: usize, column: usize) -> (usize, usize) {
        // Byte offset in `text` of the reported position.
        let line_start = if line <= 1 {
            0
        } else {
            self.text
                .match_indices('\n')
                .nth(line - 2)
                .map_or(self.text.len(), |(at, _)| at + 1)
        };
        let offset = (line_start + column.saturating_sub(1)).min(self.text.len());
        let shift = self.inserted_at.partition_point(|&at| at <= offset);
        let mut original_offset = offset.saturating_sub(shift).min(self.original.len());
        while !self.original.is_char_boundary(original_offset) {
            original_offset -= 1;
        }
        let before = &self.original[..original_offset];
        let line = before.matches('\n').count() + 1;
        let column = before
            .rsplit_once('\n')
            .map_or(before, |(_, tail)| tail)
            .chars()
            .count()
            + 1;
        (line, column.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(input: &str) -> SslMaterialError {
        three_fields(input).unwrap_err()
    }

    #[test]
    fn reads_the_three_strings_in_order() {
        let [ca, cert, key] =
            three_fields(r#"{"ssl_key":"k","ssl_ca":"c","ssl_cert":"e"}"#).unwrap();
        assert_eq!((ca.as_str(), cert.as_str(), key.as_str()), ("c", "e", "k"));
    }

    #[test]
    fn names_what_is_wrong_with_the_envelope() {
        assert_eq!(
            err(r#"{"ssl_ca": x}"#),
            SslMaterialError::NotJson {
                line: 1,
                column: 12
            }
        );
        assert_eq!(err(""), SslMaterialError::NotJson { line: 1, column: 1 });
        assert_eq!(err("[1, 2]"), SslMaterialError::NotAnObject);
        assert_eq!(err("\"ssl_ca\""), SslMaterialError::NotAnObject);
        assert_eq!(
            err(r#"{"ssl_ca":"a","ssl_cert":"b"}"#),
            SslMaterialError::MissingKey(SslField::Key)
        );
        assert_eq!(
            err(r#"{"ssl_ca":"a","ssl_cert":"b","ssl_key":"c","ssl_crl":"d"}"#),
            SslMaterialError::UnknownKey {
                name: Some("ssl_crl".into())
            }
        );
        assert_eq!(
            err(r#"{"-----BEGIN PRIVATE KEY-----\nMIIE":"x"}"#),
            SslMaterialError::UnknownKey { name: None }
        );
        assert_eq!(
            err(r#"{"ssl_ca":"a","ssl_ca":"b","ssl_cert":"b","ssl_key":"c"}"#),
            SslMaterialError::DuplicateKey(SslField::Ca)
        );
        assert_eq!(
            err(r#"{"ssl_ca":["a"],"ssl_cert":"b","ssl_key":"c"}"#),
            SslMaterialError::NotAString(SslField::Ca)
        );
        assert_eq!(
            err(r#"{"ssl_ca":"a","ssl_cert":"b","ssl_key":"c"} trailing"#),
            SslMaterialError::NotJson {
                line: 1,
                column: 45
            }
        );
    }

    #[test]
    fn accepts_raw_line_breaks_in_strings_and_reports_original_positions() {
        let input = "{\"ssl_ca\":\"A\nB\r\n\tC\",\n \"ssl_cert\":\"D\", \"ssl_key\":\"E\"}";
        let [ca, _, _] = three_fields(input).unwrap();
        assert_eq!(ca, "A\nB\r\n\tC");
        // The error is on the third line of what the user wrote, after two raw line breaks
        // inside a string.
        let broken = "{\"ssl_ca\":\"A\nB\nC\", oops}";
        assert_eq!(
            err(broken),
            SslMaterialError::NotJson { line: 3, column: 5 }
        );
        // An escaped quote does not end the string.
        let [ca, _, _] =
            three_fields("{\"ssl_ca\":\"a\\\"\nb\",\"ssl_cert\":\"c\",\"ssl_key\":\"d\"}").unwrap();
        assert_eq!(ca, "a\"\nb");
    }

    #[test]
    fn restores_line_breaks_escaped_twice() {
        let [ca, _, _] = three_fields(
            r#"{"ssl_ca":"-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----\\n","ssl_cert":"b","ssl_key":"c"}"#,
        )
        .unwrap();
        assert_eq!(
            ca,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
        );
    }
}
