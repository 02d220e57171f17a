//! MySQL and MariaDB version numbers, as servers print them (`SELECT @@version`, the
//! `server_version` of `xtrabackup_info`) and as people write them (`SourceEngineVersion`).
//!
//! ```text
//! 10.11.6-MariaDB-0+deb12u1-log   major 10, minor 11, patch 6, suffix "-MariaDB-0+deb12u1-log"
//! 8.0.28                          major 8, minor 0, patch 28
//! 5.7.44-log                      major 5, minor 7, patch 44, suffix "-log"
//! 10.11                           major 10, minor 11, no patch
//! ```
//!
//! The suffix (flavour, distribution build, `-log` when the binlog is on) is kept as raw text:
//! it has no grammar worth parsing, only a few facts worth asking ([`ServerVersion::is_mariadb`]).
//! Finding a version inside a program's `--version` output is the engine's business
//! (`ferry_engine::toolbox::Version`); this type is the number itself.

use std::fmt;
use std::str::FromStr;

/// A server version: `major.minor[.patch][suffix]`. Ordered by the numbers (a missing patch
/// sorts before `.0`), then by the suffix text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServerVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: Option<u32>,
    /// Everything after the numbers, as given (`-MariaDB-0+deb12u1-log`, `-log`, `-28`), or
    /// empty. Never starts with a digit or `.`, never holds whitespace.
    pub suffix: String,
}

/// Text that is not a server version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a server version (major.minor[.patch][-suffix]): {text:?}")]
pub struct ParseVersionError {
    /// The text, cut to 64 characters.
    pub text: String,
}

/// Digits in one number at most: every 9-digit number fits a `u32`.
const MAX_DIGITS: usize = 9;

impl ServerVersion {
    /// Parses `major.minor[.patch][suffix]`: decimal numbers (at most 9 digits each), then an
    /// optional suffix that starts with neither a digit nor `.` and holds no whitespace or
    /// control characters (`8.0.28.1`, `8.x`, `v8.0`, `8` and ` 8.0` are refused).
    pub fn parse(text: &str) -> Result<ServerVersion, ParseVersionError> {
        let error = || ParseVersionError {
            text: text.chars().take(64).collect(),
        };
        let (major, rest) = number(text).ok_or_else(error)?;
        let rest = rest.strip_prefix('.').ok_or_else(error)?;
        let (minor, rest) = number(rest).ok_or_else(error)?;
        let (patch, suffix) = match rest.strip_prefix('.') {
            Some(after_dot) => {
                let (patch, suffix) = number(after_dot).ok_or_else(error)?;
                (Some(patch), suffix)
            }
            None => (None, rest),
        };
        let suffix_ok = !suffix.starts_with('.')
            && !suffix.chars().any(|c| c.is_whitespace() || c.is_control());
        if !suffix_ok {
            return Err(error());
        }
        Ok(ServerVersion {
            major,
            minor,
            patch,
            suffix: suffix.to_owned(),
        })
    }

    /// `(major, minor)`: the release series, what must match between a backup and the server
    /// restoring it.
    pub fn series(&self) -> (u32, u32) {
        (self.major, self.minor)
    }

    /// `(major, minor, patch)`, a missing patch counted as 0.
    pub fn numbers(&self) -> (u32, u32, u32) {
        (self.major, self.minor, self.patch.unwrap_or(0))
    }

    /// Whether the suffix names MariaDB (`10.11.6-MariaDB-log`); MySQL and Percona servers
    /// print no flavour.
    pub fn is_mariadb(&self) -> bool {
        self.suffix.contains("MariaDB")
    }
}

/// A leading decimal number of 1 to [`MAX_DIGITS`] digits, and the rest.
fn number(text: &str) -> Option<(u32, &str)> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > MAX_DIGITS {
        return None;
    }
    Some((text[..digits].parse().ok()?, &text[digits..]))
}

impl FromStr for ServerVersion {
    type Err = ParseVersionError;

    fn from_str(text: &str) -> Result<ServerVersion, ParseVersionError> {
        ServerVersion::parse(text)
    }
}

/// The version as parsed: `10.11.6-MariaDB-log`, `10.11`.
impl fmt::Display for ServerVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)?;
        if let Some(patch) = self.patch {
            write!(f, ".{patch}")?;
        }
        f.write_str(&self.suffix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> ServerVersion {
        ServerVersion::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn parses_what_servers_and_people_write() {
        let cases = [
            (
                "10.11.6-MariaDB-0+deb12u1-log",
                10,
                11,
                Some(6),
                "-MariaDB-0+deb12u1-log",
            ),
            ("8.0.28", 8, 0, Some(28), ""),
            ("5.7.44-log", 5, 7, Some(44), "-log"),
            ("10.11", 10, 11, None, ""),
            ("5.7", 5, 7, None, ""),
            ("8.0.36-28", 8, 0, Some(36), "-28"),
            ("11.4.2-MariaDB", 11, 4, Some(2), "-MariaDB"),
            ("10.11-MariaDB", 10, 11, None, "-MariaDB"),
        ];
        for (text, major, minor, patch, suffix) in cases {
            let parsed = v(text);
            assert_eq!(
                (
                    parsed.major,
                    parsed.minor,
                    parsed.patch,
                    parsed.suffix.as_str()
                ),
                (major, minor, patch, suffix),
                "{text}"
            );
            assert_eq!(parsed.to_string(), text, "round trip");
            assert_eq!(text.parse::<ServerVersion>().unwrap(), parsed);
        }
    }

    #[test]
    fn refuses_what_is_not_a_version() {
        for bad in [
            "",
            "8",
            "8.",
            ".0",
            "8.0.",
            "8.0.28.1",
            "v8.0",
            "8.x",
            " 8.0",
            "8.0 ",
            "8.0.28 for Linux",
            "MariaDB",
            "1234567890.1",
            "99999999999.1.1",
            "8.0\n",
        ] {
            let err = ServerVersion::parse(bad).expect_err(bad);
            assert!(err.to_string().contains("not a server version"), "{err}");
        }
    }

    #[test]
    fn series_numbers_and_flavour() {
        let mariadb = v("10.11.19-MariaDB-0+deb12u1-log");
        assert_eq!(mariadb.series(), (10, 11));
        assert_eq!(mariadb.numbers(), (10, 11, 19));
        assert!(mariadb.is_mariadb());
        assert!(!v("8.0.36").is_mariadb());
        assert_eq!(v("10.11").numbers(), (10, 11, 0));
        assert_eq!(v("8.0.28-log").series(), v("8.0").series());
    }

    #[test]
    fn orders_numerically() {
        assert!(v("10.6.2-MariaDB") < v("10.11.1-MariaDB"));
        assert!(v("5.7.44") < v("8.0.1"));
        assert!(v("10.11") < v("10.11.0"));
        assert!(v("10.11.6") < v("10.11.6-MariaDB"));
        assert!(v("9.9.9-zzz") < v("10.0.0"));
        let mut versions = [v("10.11.6"), v("10.4.1"), v("10.11"), v("5.7.44-log")];
        versions.sort();
        let sorted: Vec<String> = versions.iter().map(ToString::to_string).collect();
        assert_eq!(sorted, ["5.7.44-log", "10.4.1", "10.11", "10.11.6"]);
    }
}
