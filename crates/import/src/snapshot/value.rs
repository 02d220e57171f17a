//! Column values as mysqldump writes them, from what the text protocol sends.
//!
//! - SQL NULL: `NULL`;
//! - numeric types (integers, DECIMAL, FLOAT, DOUBLE, YEAR): the text as sent, unquoted
//!   (quoted if it is not a plain number, as a guard);
//! - binary strings (charset 63: BINARY, VARBINARY, the BLOBs, GEOMETRY) and BIT: `0x` and
//!   hex digits (`--hex-blob`), `''` when empty;
//! - everything else (text, dates and times, ENUM, SET, JSON, DECIMAL-like strings...): quoted
//!   with `'`, escaped as `mysql_real_escape_string` does (`\0 \n \r \\ \' \" \Z`).

use mysql_async::consts::ColumnType;

/// The `binary` character set's number.
pub const BINARY_CHARSET: u16 = 63;

/// How one column's values are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Number,
    Hex,
    Quoted,
}

impl Style {
    /// The style for a result column of type `ty` in character set `charset`.
    pub fn of(ty: ColumnType, charset: u16) -> Style {
        use ColumnType::*;
        match ty {
            MYSQL_TYPE_DECIMAL
            | MYSQL_TYPE_NEWDECIMAL
            | MYSQL_TYPE_TINY
            | MYSQL_TYPE_SHORT
            | MYSQL_TYPE_LONG
            | MYSQL_TYPE_INT24
            | MYSQL_TYPE_LONGLONG
            | MYSQL_TYPE_FLOAT
            | MYSQL_TYPE_DOUBLE
            | MYSQL_TYPE_YEAR => Style::Number,
            MYSQL_TYPE_BIT | MYSQL_TYPE_GEOMETRY => Style::Hex,
            MYSQL_TYPE_STRING
            | MYSQL_TYPE_VAR_STRING
            | MYSQL_TYPE_VARCHAR
            | MYSQL_TYPE_TINY_BLOB
            | MYSQL_TYPE_MEDIUM_BLOB
            | MYSQL_TYPE_LONG_BLOB
            | MYSQL_TYPE_BLOB
                if charset == BINARY_CHARSET =>
            {
                Style::Hex
            }
            _ => Style::Quoted,
        }
    }
}

/// Appends the SQL literal of `value` (`None`: NULL) to `out`.
pub fn write_value(out: &mut Vec<u8>, style: Style, value: Option<&[u8]>) {
    let Some(v) = value else {
        out.extend_from_slice(b"NULL");
        return;
    };
    match style {
        Style::Number if is_plain_number(v) => out.extend_from_slice(v),
        Style::Number | Style::Quoted => write_quoted(out, v),
        Style::Hex if v.is_empty() => out.extend_from_slice(b"''"),
        Style::Hex => {
            const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
            out.reserve(2 + 2 * v.len());
            out.extend_from_slice(b"0x");
            for &b in v {
                out.push(DIGITS[(b >> 4) as usize]);
                out.push(DIGITS[(b & 15) as usize]);
            }
        }
    }
}

/// Digits, sign, point and exponent only (what a server sends for a number); anything else
/// (`inf`, an empty string) is quoted rather than written as SQL.
fn is_plain_number(v: &[u8]) -> bool {
    !v.is_empty()
        && v.iter().any(u8::is_ascii_digit)
        && v.iter()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
}

/// `'...'` with `mysql_real_escape_string`'s escapes.
pub fn write_quoted(out: &mut Vec<u8>, v: &[u8]) {
    out.reserve(v.len() + 2);
    out.push(b'\'');
    let mut start = 0;
    for (i, &b) in v.iter().enumerate() {
        let esc: &[u8] = match b {
            0 => b"\\0",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\\' => b"\\\\",
            b'\'' => b"\\'",
            b'"' => b"\\\"",
            0x1a => b"\\Z",
            _ => continue,
        };
        out.extend_from_slice(&v[start..i]);
        out.extend_from_slice(esc);
        start = i + 1;
    }
    out.extend_from_slice(&v[start..]);
    out.push(b'\'');
}

/// `` `name` `` with backquotes doubled.
pub fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ColumnType::*;

    fn lit(ty: ColumnType, charset: u16, v: Option<&[u8]>) -> String {
        let mut out = Vec::new();
        write_value(&mut out, Style::of(ty, charset), v);
        String::from_utf8(out).expect("ASCII or the input's UTF-8")
    }

    const UTF8MB4: u16 = 45;

    #[test]
    fn null_is_null_whatever_the_type() {
        for ty in [
            MYSQL_TYPE_LONG,
            MYSQL_TYPE_BLOB,
            MYSQL_TYPE_VAR_STRING,
            MYSQL_TYPE_BIT,
        ] {
            assert_eq!(lit(ty, BINARY_CHARSET, None), "NULL");
        }
    }

    #[test]
    fn numbers_are_written_as_sent() {
        for (ty, v) in [
            (MYSQL_TYPE_TINY, "-128"),
            (MYSQL_TYPE_SHORT, "32767"),
            (MYSQL_TYPE_INT24, "-8388608"),
            (MYSQL_TYPE_LONG, "2147483647"),
            (MYSQL_TYPE_LONGLONG, "18446744073709551615"),
            (MYSQL_TYPE_NEWDECIMAL, "-12345.678900"),
            (MYSQL_TYPE_DECIMAL, "0.5"),
            (MYSQL_TYPE_FLOAT, "3.14159"),
            (MYSQL_TYPE_DOUBLE, "-1.5e-300"),
            (MYSQL_TYPE_YEAR, "2024"),
        ] {
            // Numeric columns carry the binary charset in their metadata.
            assert_eq!(lit(ty, BINARY_CHARSET, Some(v.as_bytes())), v, "{ty:?}");
        }
    }

    #[test]
    fn a_number_column_with_odd_text_is_quoted() {
        assert_eq!(
            lit(MYSQL_TYPE_DOUBLE, BINARY_CHARSET, Some(b"inf")),
            "'inf'"
        );
        assert_eq!(lit(MYSQL_TYPE_LONG, BINARY_CHARSET, Some(b"")), "''");
        assert_eq!(
            lit(
                MYSQL_TYPE_LONG,
                BINARY_CHARSET,
                Some(b"1); DROP TABLE t; --")
            ),
            "'1); DROP TABLE t; --'"
        );
    }

    #[test]
    fn binary_strings_bit_and_geometry_are_hex() {
        for ty in [
            MYSQL_TYPE_STRING,
            MYSQL_TYPE_VAR_STRING,
            MYSQL_TYPE_VARCHAR,
            MYSQL_TYPE_TINY_BLOB,
            MYSQL_TYPE_MEDIUM_BLOB,
            MYSQL_TYPE_LONG_BLOB,
            MYSQL_TYPE_BLOB,
        ] {
            assert_eq!(
                lit(ty, BINARY_CHARSET, Some(&[0, b'\'', 0xff, b'\\'])),
                "0x0027FF5C",
                "{ty:?}"
            );
            assert_eq!(lit(ty, BINARY_CHARSET, Some(b"")), "''", "{ty:?} empty");
        }
        // BIT and GEOMETRY whatever the charset says.
        assert_eq!(
            lit(MYSQL_TYPE_BIT, BINARY_CHARSET, Some(&[0x02, 0x01])),
            "0x0201"
        );
        assert_eq!(lit(MYSQL_TYPE_BIT, UTF8MB4, Some(&[0x00])), "0x00");
        assert_eq!(
            lit(MYSQL_TYPE_GEOMETRY, BINARY_CHARSET, Some(&[1, 2])),
            "0x0102"
        );
    }

    #[test]
    fn text_is_quoted_and_escaped_as_mysqldump_does() {
        for ty in [
            MYSQL_TYPE_VAR_STRING,
            MYSQL_TYPE_STRING,
            MYSQL_TYPE_BLOB, // TEXT columns are BLOBs with a text charset
            MYSQL_TYPE_LONG_BLOB,
        ] {
            assert_eq!(
                lit(ty, UTF8MB4, Some(b"it's a \\ \"q\"\0\n\r\x1a;")),
                r#"'it\'s a \\ \"q\"\0\n\r\Z;'"#,
                "{ty:?}"
            );
        }
        let multibyte = "héllo ✓ 日本語 🎉";
        assert_eq!(
            lit(MYSQL_TYPE_VAR_STRING, UTF8MB4, Some(multibyte.as_bytes())),
            format!("'{multibyte}'")
        );
        assert_eq!(lit(MYSQL_TYPE_VAR_STRING, UTF8MB4, Some(b"")), "''");
    }

    #[test]
    fn dates_times_enums_sets_and_json_are_quoted() {
        for (ty, v) in [
            (MYSQL_TYPE_DATE, "2024-02-29"),
            (MYSQL_TYPE_TIME, "-838:59:59.000000"),
            (MYSQL_TYPE_DATETIME, "2024-02-29 23:59:59.123456"),
            (MYSQL_TYPE_TIMESTAMP, "1970-01-01 00:00:01"),
            (MYSQL_TYPE_NEWDATE, "2024-01-01"),
            (MYSQL_TYPE_ENUM, "a"),
            (MYSQL_TYPE_SET, "a,b"),
            (MYSQL_TYPE_JSON, "{\"k\": [1, 2]}"),
        ] {
            // Temporal columns carry the binary charset too, yet are text.
            let want = {
                let mut out = Vec::new();
                write_quoted(&mut out, v.as_bytes());
                String::from_utf8(out).expect("utf8")
            };
            assert_eq!(lit(ty, BINARY_CHARSET, Some(v.as_bytes())), want, "{ty:?}");
        }
        assert_eq!(lit(MYSQL_TYPE_STRING, UTF8MB4, Some(b"a,b")), "'a,b'");
    }

    #[test]
    fn identifiers_double_their_backquotes() {
        assert_eq!(quote_ident("we`ird;name"), "`we``ird;name`");
    }
}
