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

use ferry_base::version::ServerVersion;

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

/// A program's version: the server version it is or was built for, and its flavor. Compare
/// versions with [`Version::numbers`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// The version number as the program prints it (`10.11.19-MariaDB-0+deb12u1`); always
    /// with a patch number.
    pub server: ServerVersion,
    pub flavor: Flavor,
    /// The whole first line of the `--version` output, trimmed.
    pub raw: String,
}

impl Version {
    /// Parses a server's `--version` output (`mariadbd` or `mysqld`).
    pub fn parse_server(output: &str) -> Option<Version> {
        let line = first_line(output)?;
        let after = line.split_once(" Ver ").map(|(_, rest)| rest)?;
        let server = first_version(after)?;
        let flavor = if line.contains("MariaDB") {
            Flavor::MariaDB
        } else {
            Flavor::MySQL
        };
        Some(Version {
            server,
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
        let server = first_version(server_part)?;
        Some((
            tool,
            Version {
                server,
                flavor,
                raw: line.to_owned(),
            },
        ))
    }

    /// `(major, minor, patch)`, for ordering.
    pub fn numbers(&self) -> (u32, u32, u32) {
        self.server.numbers()
    }

    /// `(major, minor)`, the part that must match between a backup and the engine restoring it.
    pub fn series(&self) -> (u32, u32) {
        self.server.series()
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (major, minor, patch) = self.numbers();
        write!(f, "{} {major}.{minor}.{patch}", self.flavor)
    }
}

fn first_line(output: &str) -> Option<&str> {
    output.lines().map(str::trim).find(|l| !l.is_empty())
}

/// The first word of `text` that is a whole `X.Y.Z[suffix]` version (`10.11.19-MariaDB-0+deb12u1`
/// in `Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu`). A word starts at a digit that
/// does not continue a name or a number; it ends at whitespace.
fn first_version(text: &str) -> Option<ServerVersion> {
    let bytes = text.as_bytes();
    (0..bytes.len())
        .filter(|&start| {
            bytes[start].is_ascii_digit()
                && (start == 0
                    || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'.'))
        })
        .find_map(|start| {
            let word = text[start..].split(char::is_whitespace).next()?;
            ServerVersion::parse(word)
                .ok()
                .filter(|v| v.patch.is_some())
        })
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
        assert_eq!((v.numbers(), v.flavor), ((10, 11, 19), Flavor::MariaDB));
        assert_eq!(v.to_string(), "MariaDB 10.11.19");
        assert_eq!(v.server.suffix, "-MariaDB-0+deb12u1");

        let v = Version::parse_server(
            "/opt/mysql-5.7.44/bin/mysqld  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)",
        )
        .expect("mysqld version");
        assert_eq!((v.numbers(), v.flavor), ((8, 0, 36), Flavor::MySQL));

        let v = Version::parse_server(
            "/usr/sbin/mysqld  Ver 8.0.36-28 for Linux on x86_64 (Percona Server (GPL), Release '28')",
        )
        .expect("percona version");
        assert_eq!((v.numbers(), v.flavor), ((8, 0, 36), Flavor::MySQL));
    }

    #[test]
    fn parses_backup_tools() {
        let (tool, v) = Version::parse_backup_tool(
            "mariabackup based on MariaDB server 10.11.19-MariaDB debian-linux-gnu (x86_64)\n",
        )
        .expect("mariabackup version");
        assert_eq!(tool, BackupFlavor::MariaBackup);
        assert_eq!(v.numbers(), (10, 11, 19));

        let (tool, v) = Version::parse_backup_tool(
            "xtrabackup version 8.0.35-30 based on MySQL server 8.0.35 Linux (x86_64) (revision id: 6beb4b49)",
        )
        .expect("xtrabackup version");
        assert_eq!(tool, BackupFlavor::XtraBackup);
        assert_eq!((v.numbers(), v.flavor), ((8, 0, 35), Flavor::MySQL));

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
