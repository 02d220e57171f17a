//! Versions of the server and backup programs, read from their `--version` output.
//!
//! Known shapes:
//!
//! ```text
//! mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu on x86_64 (Debian 12)
//! /usr/sbin/mysqld  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)
//! mariabackup based on MariaDB server 10.11.19-MariaDB debian-linux-gnu (x86_64)
//! xtrabackup version 8.0.35-30 based on MySQL server 8.0.35 Linux (x86_64) (revision id: ...)
//! ```

use std::fmt;

/// Which server family a program belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavor {
    MariaDB,
    /// Oracle MySQL and Percona Server.
    MySQL,
}

impl fmt::Display for Flavor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Flavor::MariaDB => "MariaDB",
            Flavor::MySQL => "MySQL",
        })
    }
}

/// Which physical backup tool family; both share the `--backup` / `--prepare` shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackupFlavor {
    /// `mariabackup` / `mariadb-backup`.
    MariaBackup,
    /// Percona `xtrabackup`.
    XtraBackup,
}

impl fmt::Display for BackupFlavor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BackupFlavor::MariaBackup => "mariabackup",
            BackupFlavor::XtraBackup => "xtrabackup",
        })
    }
}

/// A program's version. Compare versions with [`Version::numbers`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
    pub flavor: Flavor,
    /// The whole first line of the `--version` output, trimmed.
    pub raw: String,
}

impl Version {
    /// Parses a server's `--version` output (`mariadbd` or `mysqld`).
    pub fn parse_server(output: &str) -> Option<Version> {
        let line = first_line(output)?;
        let after = line.split_once(" Ver ").map(|(_, rest)| rest)?;
        let (major, minor, patch) = first_triple(after)?;
        let flavor = if line.contains("MariaDB") {
            Flavor::MariaDB
        } else {
            Flavor::MySQL
        };
        Some(Version {
            major,
            minor,
            patch,
            flavor,
            raw: line.to_owned(),
        })
    }

    /// Parses a backup tool's `--version` output; the version is that of the server the tool
    /// was built for (which is what must match the backup), with the tool's flavor.
    pub fn parse_backup_tool(output: &str) -> Option<(BackupFlavor, Version)> {
        // mariabackup prints a few "[00] ..." lines on some versions; find the version line.
        let line = output
            .lines()
            .map(str::trim)
            .find(|l| l.contains("based on") || l.contains(" version "))?;
        let (tool, flavor) = if line.contains("MariaDB") {
            (BackupFlavor::MariaBackup, Flavor::MariaDB)
        } else if line.contains("xtrabackup") {
            (BackupFlavor::XtraBackup, Flavor::MySQL)
        } else {
            return None;
        };
        let server_part = match line.split_once(" server ") {
            Some((_, rest)) => rest,
            None => line.split_once(" version ").map(|(_, rest)| rest)?,
        };
        let (major, minor, patch) = first_triple(server_part)?;
        Some((
            tool,
            Version {
                major,
                minor,
                patch,
                flavor,
                raw: line.to_owned(),
            },
        ))
    }

    /// `(major, minor, patch)`, for ordering.
    pub fn numbers(&self) -> (u32, u32, u32) {
        (self.major, self.minor, self.patch)
    }

    /// `(major, minor)`, the part that must match between a backup and the engine restoring it.
    pub fn series(&self) -> (u32, u32) {
        (self.major, self.minor)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}.{}.{}",
            self.flavor, self.major, self.minor, self.patch
        )
    }
}

fn first_line(output: &str) -> Option<&str> {
    output.lines().map(str::trim).find(|l| !l.is_empty())
}

/// The first `X.Y.Z` in `text` (digits only; what follows Z, like `-MariaDB`, is ignored).
fn first_triple(text: &str) -> Option<(u32, u32, u32)> {
    let bytes = text.as_bytes();
    let mut start = 0;
    while start < bytes.len() {
        if bytes[start].is_ascii_digit()
            && (start == 0 || !bytes[start - 1].is_ascii_alphanumeric())
        {
            if let Some(triple) = parse_triple_at(&text[start..]) {
                return Some(triple);
            }
        }
        start += 1;
    }
    None
}

fn parse_triple_at(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = [0u32; 3];
    let mut rest = text;
    for (i, part) in parts.iter_mut().enumerate() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        *part = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        if i < 2 {
            rest = rest.strip_prefix('.')?;
        }
    }
    Some((parts[0], parts[1], parts[2]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mariadbd_and_mysqld() {
        let v = Version::parse_server(
            "mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu on x86_64 (Debian 12)\n",
        )
        .expect("mariadbd version");
        assert_eq!(
            (v.major, v.minor, v.patch, v.flavor),
            (10, 11, 19, Flavor::MariaDB)
        );
        assert_eq!(v.to_string(), "MariaDB 10.11.19");

        let v = Version::parse_server(
            "/opt/mysql-5.7.44/bin/mysqld  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)",
        )
        .expect("mysqld version");
        assert_eq!(
            (v.major, v.minor, v.patch, v.flavor),
            (8, 0, 36, Flavor::MySQL)
        );

        let v = Version::parse_server(
            "/usr/sbin/mysqld  Ver 8.0.36-28 for Linux on x86_64 (Percona Server (GPL), Release '28')",
        )
        .expect("percona version");
        assert_eq!(
            (v.major, v.minor, v.patch, v.flavor),
            (8, 0, 36, Flavor::MySQL)
        );
    }

    #[test]
    fn parses_backup_tools() {
        let (tool, v) = Version::parse_backup_tool(
            "mariabackup based on MariaDB server 10.11.19-MariaDB debian-linux-gnu (x86_64)\n",
        )
        .expect("mariabackup version");
        assert_eq!(tool, BackupFlavor::MariaBackup);
        assert_eq!((v.major, v.minor, v.patch), (10, 11, 19));

        let (tool, v) = Version::parse_backup_tool(
            "xtrabackup version 8.0.35-30 based on MySQL server 8.0.35 Linux (x86_64) (revision id: 6beb4b49)",
        )
        .expect("xtrabackup version");
        assert_eq!(tool, BackupFlavor::XtraBackup);
        assert_eq!(
            (v.major, v.minor, v.patch, v.flavor),
            (8, 0, 35, Flavor::MySQL)
        );

        let (tool, v) = Version::parse_backup_tool(
            "xtrabackup version 2.4.29 based on MySQL server 5.7.44 Linux (x86_64) (revision id: 2e6c0951)",
        )
        .expect("xtrabackup 2.4 version");
        assert_eq!(tool, BackupFlavor::XtraBackup);
        assert_eq!(v.series(), (5, 7));
    }

    #[test]
    fn garbage_is_none_not_a_panic() {
        for text in [
            "",
            "\n\n",
            "mariadbd Ver",
            "x Ver 10.",
            "Ver 99999999999.1.1",
            "based on",
        ] {
            assert!(Version::parse_server(text).is_none(), "{text:?}");
            assert!(Version::parse_backup_tool(text).is_none(), "{text:?}");
        }
    }

    #[test]
    fn numbers_order_numerically() {
        let a = Version::parse_server("a Ver 10.6.2-MariaDB").expect("a");
        let b = Version::parse_server("b Ver 10.11.1-MariaDB").expect("b");
        assert!(a.numbers() < b.numbers());
    }
}
