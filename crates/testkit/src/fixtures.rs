//! Access to the generated backup fixtures and small helpers every integration test needs.
//!
//! The fixtures (a source MariaDB's full and incremental backups in every format) are made by
//! `scripts/fixtures`, which caches its output by content hash and prints the fixtures
//! directory on its last line of stdout. cargo-nextest runs each test in its own process, so
//! many processes may ask at once: an exclusive lock on `.cache/fixtures.lock` makes the first
//! one generate while the others wait, then they all get the cached answer.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use anyhow::{bail, Context as _};

/// Environment variable naming an existing fixtures directory; skips the generator.
pub const FIXTURES_ENV: &str = "FERRY_FIXTURES";

/// The fixtures directory this process found (only successes are cached: a failed generation
/// is retried by the next caller, and reported to each).
static FIXTURES: Mutex<Option<PathBuf>> = Mutex::new(None);

/// The repository root: two levels above this crate's manifest directory.
pub fn repo_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    // `<repo>/crates/testkit` always has two ancestors; fall back to `..` joins regardless.
    manifest_dir
        .ancestors()
        .nth(2)
        .map_or_else(|| manifest_dir.join("../.."), Path::to_path_buf)
}

/// The directory holding the generated backup fixtures.
///
/// `$FERRY_FIXTURES` if set (it must be a directory). Otherwise runs `scripts/fixtures` under
/// an exclusive lock on `<repo>/.cache/fixtures.lock` and takes the last non-empty line of its
/// stdout; the script's stderr goes to this process's stderr. The answer is cached for the
/// life of the process.
pub fn fixtures_dir() -> anyhow::Result<PathBuf> {
    // The lock also keeps two threads of one process from running the generator together.
    let mut cached = FIXTURES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(dir) = cached.as_ref() {
        return Ok(dir.clone());
    }
    let dir = locate_fixtures(std::env::var_os(FIXTURES_ENV), &repo_root())?;
    *cached = Some(dir.clone());
    Ok(dir)
}

/// The fixtures directory named by `env_value` (the value of `$FERRY_FIXTURES`), or else the
/// one the generator in `repo` prints.
fn locate_fixtures(env_value: Option<OsString>, repo: &Path) -> anyhow::Result<PathBuf> {
    match env_value {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if !dir.is_dir() {
                bail!(
                    "${FIXTURES_ENV} is {}, which is not a directory",
                    dir.display()
                );
            }
            Ok(dir)
        }
        None => generate_fixtures(repo),
    }
}

fn generate_fixtures(repo: &Path) -> anyhow::Result<PathBuf> {
    let script = repo.join("scripts/fixtures");
    if !script.is_file() {
        bail!(
            "fixture generator {} is missing (or set ${FIXTURES_ENV} to a fixtures directory)",
            script.display()
        );
    }
    let cache = repo.join(".cache");
    std::fs::create_dir_all(&cache)
        .with_context(|| format!("create cache directory {}", cache.display()))?;
    let lock_path = cache.join("fixtures.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("open lock file {}", lock_path.display()))?;
    lock.lock()
        .with_context(|| format!("lock {} to generate fixtures", lock_path.display()))?;
    // The lock is released when `lock` drops, also on the error paths below.

    let output = Command::new(&script)
        .current_dir(repo)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("run fixture generator {}", script.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "fixture generator {} failed ({}); its stderr is above; last stdout lines:\n{}",
            script.display(),
            output.status,
            tail(&stdout, 20)
        );
    }
    let Some(last) = stdout.lines().map(str::trim).rfind(|l| !l.is_empty()) else {
        bail!(
            "fixture generator {} printed nothing on stdout; expected the fixtures directory",
            script.display()
        );
    };
    let dir = PathBuf::from(last);
    let dir = if dir.is_absolute() {
        dir
    } else {
        repo.join(dir)
    };
    if !dir.is_dir() {
        bail!(
            "fixture generator {} printed {:?} as its last line, which is not a directory",
            script.display(),
            last
        );
    }
    Ok(dir)
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, release it).
///
/// Another process can take it before the caller binds it; prefer letting servers bind port 0
/// themselves (as [`crate::S3Server`] does) and use this only for programs that need a port
/// number up front, like `mariadbd --port`.
///
/// # Panics
/// If no port can be bound on 127.0.0.1 at all, which leaves no test able to run.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind 127.0.0.1:0 to find a free port (is loopback up?)");
    listener
        .local_addr()
        .expect("a bound listener has a local address")
        .port()
}

/// A new temporary directory with a short path directly under `/tmp` (`/tmp/fkXXXXXX`), for
/// Unix sockets, whose paths are limited to 107 bytes. Removed when dropped.
///
/// # Panics
/// If `/tmp` is not writable, which leaves no test able to run.
pub fn short_tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("fk")
        .rand_bytes(6)
        .tempdir_in("/tmp")
        .expect("create a temporary directory under /tmp")
}

/// The executable `name` from the repository's virtualenv (`<repo>/.venv/bin/name`, where
/// `scripts/install-deps` puts `aws`), else the first one on `PATH`; `None` if neither exists.
pub fn venv_bin(name: &str) -> Option<PathBuf> {
    let venv = repo_root().join(".venv/bin").join(name);
    if is_executable(&venv) {
        return Some(venv);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_root_holds_the_workspace_manifest() {
        let root = repo_root();
        assert!(root.join("Cargo.toml").is_file(), "{}", root.display());
        assert!(root.join("crates/testkit").is_dir(), "{}", root.display());
        assert!(!root.to_string_lossy().contains(".."), "{}", root.display());
    }

    #[test]
    fn short_tempdir_is_short_and_removed_on_drop() {
        let dir = short_tempdir();
        let path = dir.path().to_path_buf();
        assert!(
            path.starts_with("/tmp") && path.as_os_str().len() <= 16,
            "{}",
            path.display()
        );
        assert!(path.is_dir());
        drop(dir);
        assert!(!path.exists());
    }

    #[test]
    fn venv_bin_finds_programs_on_path_and_not_missing_ones() {
        assert!(venv_bin("sh").is_some_and(|p| p.is_absolute()));
        assert!(venv_bin("ferry-no-such-program-here").is_none());
    }

    #[test]
    fn free_port_can_be_bound() {
        let port = free_port();
        std::net::TcpListener::bind(("127.0.0.1", port)).expect("port is free");
    }

    /// Held by tests that write and then run a script: a process forked by another thread
    /// while one script is still open for writing keeps that file busy, and running it then
    /// fails with ETXTBSY.
    static SCRIPT_TESTS: Mutex<()> = Mutex::new(());

    fn script_lock() -> std::sync::MutexGuard<'static, ()> {
        SCRIPT_TESTS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A fake repository whose `scripts/fixtures` runs `body` (a shell script).
    fn fake_repo(body: &str) -> tempfile::TempDir {
        use std::os::unix::fs::PermissionsExt as _;
        let repo = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(repo.path().join("scripts")).expect("mkdir");
        let script = repo.path().join("scripts/fixtures");
        std::fs::write(&script, format!("#!/bin/sh\nset -e\n{body}\n")).expect("write script");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        repo
    }

    #[test]
    fn generator_runs_one_at_a_time_and_its_last_line_is_the_answer() {
        let _serial = script_lock();
        // Each run fails if another one is in progress (its marker exists), and logs itself.
        // The pause stands in for generation work, widening the window for an overlap.
        let repo = fake_repo(
            "mkdir -p out
             if ! mkdir running 2>/dev/null; then echo concurrent run >&2; exit 1; fi
             echo run >> runs.log
             sleep 0.2
             rmdir running
             echo 'progress line'
             echo out",
        );
        let root = repo.path().to_path_buf();
        let threads: Vec<_> = (0..3)
            .map(|_| {
                let root = root.clone();
                std::thread::spawn(move || generate_fixtures(&root))
            })
            .collect();
        for thread in threads {
            let dir = thread.join().expect("thread").expect("generate");
            assert_eq!(
                dir,
                root.join("out"),
                "a relative answer is taken from the repo root"
            );
        }
        let runs = std::fs::read_to_string(root.join("runs.log")).expect("runs.log");
        assert_eq!(
            runs.lines().count(),
            3,
            "every caller ran the (cheap, cached) script"
        );
        assert!(root.join(".cache/fixtures.lock").is_file());
    }

    #[test]
    fn generator_failures_are_reported_with_status_and_output() {
        let _serial = script_lock();
        let repo = fake_repo("echo 'building set inc2'\nexit 3");
        let text = format!(
            "{:#}",
            generate_fixtures(repo.path()).expect_err("script fails")
        );
        assert!(
            text.contains("exit status: 3") && text.contains("building set inc2"),
            "{text}"
        );

        let repo = fake_repo("echo /nonexistent/fixtures");
        let text = format!(
            "{:#}",
            generate_fixtures(repo.path()).expect_err("not a dir")
        );
        assert!(text.contains("not a directory"), "{text}");

        let missing = tempfile::tempdir().expect("tempdir");
        let text = format!(
            "{:#}",
            generate_fixtures(missing.path()).expect_err("no script")
        );
        assert!(text.contains("is missing"), "{text}");
    }

    #[test]
    fn the_environment_variable_wins_when_it_names_a_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let no_repo = Path::new("/nonexistent-repo");
        let found = locate_fixtures(Some(dir.path().into()), no_repo).expect("env dir");
        assert_eq!(found, dir.path());
        let err = locate_fixtures(Some("/nonexistent/x".into()), no_repo).expect_err("not a dir");
        assert!(format!("{err:#}").contains("FERRY_FIXTURES"), "{err:#}");
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("", 3), "");
    }
}
