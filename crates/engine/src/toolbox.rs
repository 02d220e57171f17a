//! Finding the engine's programs and their versions: the server (`mariadbd` / `mysqld`), the
//! physical backup tool (`mariabackup` / Percona `xtrabackup`), `mariadb-install-db`,
//! `mbstream`, the `mariadb` client and `mariadb-tzinfo-to-sql`.
//!
//! Discovery happens once, up front, so a missing package is one clear error naming every
//! missing program and the package to install, instead of a "No such file" halfway through a
//! restore. Each program can be pinned with an environment variable (see
//! [`ToolKind::env_var`]); an override that points nowhere is an error, never silently ignored.

mod version;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use version::{BackupFlavor, Flavor, Version};

use crate::error::EngineError;
use crate::process::{run_to_completion, ProcessSpec};

/// Directories searched after `PATH` (servers often live in `sbin`, which a user's `PATH` may
/// lack).
pub const EXTRA_SEARCH_DIRS: &[&str] =
    &["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"];

/// How long a `--version` probe may take.
const VERSION_PROBE_TIMEOUT: Duration = Duration::from_secs(30);

/// The programs ferry needs from the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ToolKind {
    /// `mariadbd` (or `mysqld`).
    Server,
    /// `mariadb-install-db` (or `mysql_install_db`).
    InstallDb,
    /// `mariabackup` / `mariadb-backup` / `xtrabackup`.
    Backup,
    /// `mbstream` (or Percona's `xbstream`).
    Mbstream,
    /// `mariadb` (or `mysql`), the command-line client.
    Client,
    /// `mariadb-tzinfo-to-sql` (or `mysql_tzinfo_to_sql`): zoneinfo files to SQL for the
    /// `mysql.time_zone*` tables.
    TzinfoToSql,
}

impl ToolKind {
    pub const ALL: [ToolKind; 6] = [
        ToolKind::Server,
        ToolKind::InstallDb,
        ToolKind::Backup,
        ToolKind::Mbstream,
        ToolKind::Client,
        ToolKind::TzinfoToSql,
    ];

    /// Program names tried, in order of preference.
    pub fn candidates(self) -> &'static [&'static str] {
        match self {
            ToolKind::Server => &["mariadbd", "mysqld"],
            ToolKind::InstallDb => &["mariadb-install-db", "mysql_install_db"],
            ToolKind::Backup => &["mariabackup", "mariadb-backup", "xtrabackup"],
            ToolKind::Mbstream => &["mbstream", "xbstream"],
            ToolKind::Client => &["mariadb", "mysql"],
            ToolKind::TzinfoToSql => &["mariadb-tzinfo-to-sql", "mysql_tzinfo_to_sql"],
        }
    }

    /// The environment variable that pins this program's path.
    pub fn env_var(self) -> &'static str {
        match self {
            ToolKind::Server => "FERRY_MARIADBD",
            ToolKind::InstallDb => "FERRY_INSTALL_DB",
            ToolKind::Backup => "FERRY_BACKUP_TOOL",
            ToolKind::Mbstream => "FERRY_MBSTREAM",
            ToolKind::Client => "FERRY_MARIADB_CLIENT",
            ToolKind::TzinfoToSql => "FERRY_TZINFO_TO_SQL",
        }
    }

    /// The Debian package that ships the MariaDB flavor of this program (on Debian 12,
    /// `mariadb-tzinfo-to-sql` is in `mariadb-client`; `mariadb-server` adds only the
    /// `mysql_tzinfo_to_sql` link).
    pub fn debian_package(self) -> &'static str {
        match self {
            ToolKind::Server | ToolKind::InstallDb => "mariadb-server",
            ToolKind::Backup | ToolKind::Mbstream => "mariadb-backup",
            ToolKind::Client | ToolKind::TzinfoToSql => "mariadb-client",
        }
    }

    /// "mariadbd (or mysqld)", for messages.
    pub fn describe(self) -> String {
        let names = self.candidates();
        match names.split_first() {
            Some((first, rest)) if !rest.is_empty() => format!("{first} (or {})", rest.join(", ")),
            Some((first, _)) => (*first).to_owned(),
            None => format!("{self:?}"),
        }
    }
}

/// Where to look: directories in order, plus per-program overrides.
#[derive(Debug, Clone, Default)]
pub struct ToolSearch {
    pub dirs: Vec<PathBuf>,
    pub overrides: Vec<(ToolKind, PathBuf)>,
}

impl ToolSearch {
    /// `PATH` followed by [`EXTRA_SEARCH_DIRS`], and the `FERRY_*` overrides that are set.
    pub fn from_env() -> Self {
        let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|path| std::env::split_paths(&path).collect())
            .unwrap_or_default();
        dirs.extend(EXTRA_SEARCH_DIRS.iter().map(PathBuf::from));
        let mut unique = Vec::with_capacity(dirs.len());
        for dir in dirs {
            if !dir.as_os_str().is_empty() && !unique.contains(&dir) {
                unique.push(dir);
            }
        }
        let overrides = ToolKind::ALL
            .iter()
            .filter_map(|&kind| {
                std::env::var_os(kind.env_var())
                    .filter(|value| !value.is_empty())
                    .map(|value| (kind, PathBuf::from(value)))
            })
            .collect();
        ToolSearch {
            dirs: unique,
            overrides,
        }
    }

    /// The path of `kind`, `Ok(None)` when it is nowhere to be found, or an error when its
    /// override is unusable.
    pub fn locate(&self, kind: ToolKind) -> Result<Option<PathBuf>, EngineError> {
        if let Some((_, path)) = self.overrides.iter().find(|(k, _)| *k == kind) {
            let resolved = if path.components().count() == 1 && path.is_relative() {
                // A bare name: look it up like a shell would.
                self.dirs
                    .iter()
                    .map(|dir| dir.join(path))
                    .find(|candidate| is_executable(candidate))
            } else {
                Some(path.clone())
            };
            return match resolved {
                Some(found) => match check_executable(&found) {
                    Ok(()) => Ok(Some(found)),
                    Err(reason) => Err(EngineError::ToolOverrideInvalid {
                        var: kind.env_var(),
                        path: path.clone(),
                        reason,
                    }),
                },
                None => Err(EngineError::ToolOverrideInvalid {
                    var: kind.env_var(),
                    path: path.clone(),
                    reason: "not found in any searched directory".to_owned(),
                }),
            };
        }
        Ok(kind.candidates().iter().find_map(|name| {
            self.dirs
                .iter()
                .map(|dir| dir.join(name))
                .find(|candidate| is_executable(candidate))
        }))
    }
}

fn check_executable(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".to_owned());
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err("not executable".to_owned());
    }
    Ok(())
}

fn is_executable(path: &Path) -> bool {
    check_executable(path).is_ok()
}

/// The engine's programs, found and version-checked. Cheap to clone.
///
/// The server and the backup tool are required (discovery fails without them); the others are
/// looked up too, and their accessors fail with [`EngineError::ToolsMissing`] when absent, so a
/// restore does not need a client it never runs.
#[derive(Debug, Clone)]
pub struct Toolbox {
    server: PathBuf,
    server_version: Version,
    backup: PathBuf,
    backup_flavor: BackupFlavor,
    backup_version: Version,
    install_db: Option<PathBuf>,
    mbstream: Option<PathBuf>,
    client: Option<PathBuf>,
    tzinfo_to_sql: Option<PathBuf>,
    searched: Vec<PathBuf>,
}

impl Toolbox {
    /// Discovers the programs from `PATH`, the usual system directories and the `FERRY_*`
    /// overrides, and reads the server's and backup tool's versions.
    pub async fn discover() -> Result<Toolbox, EngineError> {
        Self::discover_with(&ToolSearch::from_env()).await
    }

    /// [`discover`](Toolbox::discover) with an explicit search (for tests and embedding).
    pub async fn discover_with(search: &ToolSearch) -> Result<Toolbox, EngineError> {
        let server = search.locate(ToolKind::Server)?;
        let backup = search.locate(ToolKind::Backup)?;
        let install_db = search.locate(ToolKind::InstallDb)?;
        let mbstream = search.locate(ToolKind::Mbstream)?;
        let client = search.locate(ToolKind::Client)?;
        let tzinfo_to_sql = search.locate(ToolKind::TzinfoToSql)?;
        let (server, backup) = match (server, backup) {
            (Some(server), Some(backup)) => (server, backup),
            (server, backup) => {
                let mut missing = Vec::new();
                if server.is_none() {
                    missing.push(ToolKind::Server);
                }
                if backup.is_none() {
                    missing.push(ToolKind::Backup);
                }
                return Err(EngineError::ToolsMissing {
                    missing,
                    searched: search.dirs.clone(),
                });
            }
        };

        let server_version = probe_version(&server, "--version", Version::parse_server).await?;
        let (backup_flavor, backup_version) =
            probe_version(&backup, "--version", Version::parse_backup_tool).await?;
        if backup_version.series() != server_version.series() {
            tracing::warn!(
                server = %server.display(), %server_version,
                backup_tool = %backup.display(), %backup_version,
                "the backup tool was built for a different server series than the server; \
                 prepared backups may not start"
            );
        }
        let toolbox = Toolbox {
            server,
            server_version,
            backup,
            backup_flavor,
            backup_version,
            install_db,
            mbstream,
            client,
            tzinfo_to_sql,
            searched: search.dirs.clone(),
        };
        tracing::debug!(toolbox = %toolbox.describe(), "discovered engine programs");
        Ok(toolbox)
    }

    /// `mariadbd` (or `mysqld`).
    pub fn server(&self) -> &Path {
        &self.server
    }

    pub fn server_version(&self) -> &Version {
        &self.server_version
    }

    /// `mariabackup` (or `xtrabackup`).
    pub fn backup_tool(&self) -> &Path {
        &self.backup
    }

    pub fn backup_flavor(&self) -> BackupFlavor {
        self.backup_flavor
    }

    /// The version of the server the backup tool was built for.
    pub fn backup_version(&self) -> &Version {
        &self.backup_version
    }

    /// `mariadb-install-db`, or an error saying how to install it.
    pub fn install_db(&self) -> Result<&Path, EngineError> {
        self.optional(ToolKind::InstallDb, self.install_db.as_deref())
    }

    /// `mbstream` (or `xbstream`), or an error saying how to install it.
    pub fn mbstream(&self) -> Result<&Path, EngineError> {
        self.optional(ToolKind::Mbstream, self.mbstream.as_deref())
    }

    /// The `mariadb` (or `mysql`) client, or an error saying how to install it.
    pub fn client(&self) -> Result<&Path, EngineError> {
        self.optional(ToolKind::Client, self.client.as_deref())
    }

    /// `mariadb-tzinfo-to-sql` (or `mysql_tzinfo_to_sql`), or an error saying how to install
    /// it.
    pub fn tzinfo_to_sql(&self) -> Result<&Path, EngineError> {
        self.optional(ToolKind::TzinfoToSql, self.tzinfo_to_sql.as_deref())
    }

    fn optional<'a>(
        &self,
        kind: ToolKind,
        path: Option<&'a Path>,
    ) -> Result<&'a Path, EngineError> {
        path.ok_or_else(|| EngineError::ToolsMissing {
            missing: vec![kind],
            searched: self.searched.clone(),
        })
    }

    /// One line for logs: every program with its path and version.
    pub fn describe(&self) -> String {
        let opt = |p: &Option<PathBuf>| {
            p.as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "(missing)".to_owned())
        };
        format!(
            "server {} ({}), backup {} ({} for {}), install-db {}, mbstream {}, client {}, \
             tzinfo-to-sql {}",
            self.server.display(),
            self.server_version,
            self.backup.display(),
            self.backup_flavor,
            self.backup_version,
            opt(&self.install_db),
            opt(&self.mbstream),
            opt(&self.client),
            opt(&self.tzinfo_to_sql),
        )
    }
}

/// Runs `program --no-defaults <flag>` and parses stdout+stderr (backup tools print their
/// version on stderr).
async fn probe_version<T>(
    program: &Path,
    flag: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<T, EngineError> {
    let spec = ProcessSpec::new(program)
        .name(format!("{} {flag}", display_name(program)))
        .arg("--no-defaults")
        .arg(flag)
        .capture_stdout(true)
        .timeout(VERSION_PROBE_TIMEOUT);
    let output = run_to_completion(spec)
        .await
        .map_err(|source| EngineError::ToolRun {
            path: program.to_path_buf(),
            source: Box::new(source),
        })?;
    let text = format!("{}\n{}", output.stdout_text(), output.stderr_tail);
    parse(&text).ok_or_else(|| EngineError::VersionUnrecognised {
        path: program.to_path_buf(),
        output: text.trim().to_owned(),
    })
}

fn display_name(program: &Path) -> String {
    program
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| program.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn fake_program(dir: &Path, name: &str, mode: u32) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, "#!/bin/sh\n").expect("write fake program");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        path
    }

    #[test]
    fn prefers_earlier_candidates_and_earlier_dirs() {
        let a = tempfile::tempdir().expect("dir a");
        let b = tempfile::tempdir().expect("dir b");
        fake_program(a.path(), "mysqld", 0o755);
        let mariadbd = fake_program(b.path(), "mariadbd", 0o755);
        fake_program(a.path(), "mariabackup", 0o644); // not executable: skipped
        let backup = fake_program(b.path(), "mariabackup", 0o755);
        let search = ToolSearch {
            dirs: vec![a.path().to_path_buf(), b.path().to_path_buf()],
            overrides: vec![],
        };
        assert_eq!(
            search.locate(ToolKind::Server).expect("locate"),
            Some(mariadbd)
        );
        assert_eq!(
            search.locate(ToolKind::Backup).expect("locate"),
            Some(backup)
        );
        assert_eq!(search.locate(ToolKind::Client).expect("locate"), None);
    }

    #[test]
    fn an_unusable_override_is_an_error_naming_the_variable() {
        let dir = tempfile::tempdir().expect("dir");
        let search = ToolSearch {
            dirs: vec![dir.path().to_path_buf()],
            overrides: vec![(ToolKind::Backup, dir.path().join("nope"))],
        };
        let err = search.locate(ToolKind::Backup).expect_err("must fail");
        let text = err.to_string();
        assert!(text.starts_with("FERRY_BACKUP_TOOL="), "{text}");
        assert!(text.contains("nope"), "{text}");
    }

    #[test]
    fn a_bare_override_name_is_searched_in_dirs() {
        let dir = tempfile::tempdir().expect("dir");
        let tool = fake_program(dir.path(), "xtrabackup", 0o755);
        let search = ToolSearch {
            dirs: vec![dir.path().to_path_buf()],
            overrides: vec![(ToolKind::Backup, PathBuf::from("xtrabackup"))],
        };
        assert_eq!(search.locate(ToolKind::Backup).expect("locate"), Some(tool));
    }

    #[tokio::test]
    async fn missing_programs_are_listed_with_the_package_to_install() {
        let dir = tempfile::tempdir().expect("dir");
        let search = ToolSearch {
            dirs: vec![dir.path().to_path_buf()],
            overrides: vec![],
        };
        let err = Toolbox::discover_with(&search)
            .await
            .expect_err("nothing there");
        let text = err.to_string();
        assert!(text.contains("mariadbd (or mysqld)"), "{text}");
        assert!(
            text.contains("mariabackup (or mariadb-backup, xtrabackup)"),
            "{text}"
        );
        assert!(
            text.contains("apt-get install mariadb-server mariadb-backup"),
            "{text}"
        );
        assert!(text.contains("FERRY_MARIADBD"), "{text}");
    }
}
