//! Named injection points for crash and fault tests, compiled in only for tests.
//!
//! `fail_point!("area.step")` marks a step where a test may kill the process or fail the
//! step. Without the `failpoints` cargo feature (the default, and every release or demo
//! build) the macro expands to nothing. With it (enabled only through the cli crate's
//! dev-dependencies, so only test builds carry it) the point reads `FERRY_FAILPOINTS` once:
//!
//! ```text
//! FERRY_FAILPOINTS="restore.after-download=kill;engine.bootstrap-admin=error@2"
//! ```
//!
//! - `kill`: the process SIGKILLs itself, as an outside SIGKILL would at exactly that point;
//! - `error`: the enclosing function returns `Err(Injected.into())`, so its error type needs
//!   `From<Injected>` (or, marked `fail_point!("name", return)`, just returns);
//! - `sleep(MS)`: the step waits that long (a window for a test to act in);
//! - `@N` after an action: only the Nth time the point is reached (1-based) fires.
//!
//! Every point's name is in [`FAILPOINTS`]; a test checks that each appears in the code
//! exactly once, so the list and the code cannot drift.

/// Whether this build carries the failpoints (the `failpoints` feature).
pub const ENABLED: bool = cfg!(feature = "failpoints");

/// Every failpoint in ferry, `area.step`, in the order the work reaches them.
pub const FAILPOINTS: &[&str] = &[
    // The restore pipeline (crates/restore/src/restore.rs).
    "restore.after-listing",
    "restore.after-set-downloaded",
    "restore.before-prepare",
    "restore.after-prepare",
    // The creation job (crates/control/src/jobs*).
    "restore.after-report",
    "restore.after-volume-rename",
    "engine.before-install-db",
    "engine.after-install-db",
    "engine.mid-hand-over",
    "engine.after-boot",
    "engine.before-bootstrap-admin",
    "engine.after-bootstrap-admin",
    "engine.after-master-user",
    "engine.after-admin-saved",
    "job.before-available",
    "job.after-available",
    "job.before-failed",
    // The store (crates/control/src/store/clusters.rs).
    "store.before-cluster-insert",
    "store.before-transition-commit",
    "store.after-transition-commit",
    // Instances (crates/control/src/service/instances.rs, supervisor.rs).
    "instance.after-insert",
    "instance.before-start",
    "instance.after-server-start",
    "instance.before-available",
    "instance.before-stop",
    "instance.after-stop",
    "instance.before-row-delete",
    // Clusters (crates/control/src/service/clusters.rs).
    "cluster.before-delete-dirs",
    "cluster.before-row-delete",
    "cluster.before-reset-password",
    "cluster.after-reset-password",
    // The replication procedures at each start, and the cutover (crates/control/src/
    // replication.rs, service/replication.rs).
    "replication.before-procedures",
    "replication.after-procedures",
    "cutover.before-stop",
    "cutover.after-stop",
];

/// The error a failpoint set to `error` makes its enclosing function return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("failpoint {0} injected an error")]
pub struct Injected(pub &'static str);

/// Marks a failpoint. `fail_point!("a.b")` in a function returning `Result<_, E>` where
/// `E: From<Injected>`; `fail_point!("a.b", return)` in a function that returns nothing (the
/// step ends there, as if its task had been dropped).
#[cfg(feature = "failpoints")]
#[macro_export]
macro_rules! fail_point {
    ($name:literal) => {
        if $crate::failpoint::imp::hit($name) {
            return ::core::result::Result::Err(::core::convert::From::from(
                $crate::failpoint::Injected($name),
            ));
        }
    };
    ($name:literal, return) => {
        if $crate::failpoint::imp::hit($name) {
            return;
        }
    };
}

/// Marks a failpoint (compiled out: this build has no `failpoints` feature).
#[cfg(not(feature = "failpoints"))]
#[macro_export]
macro_rules! fail_point {
    ($name:literal) => {};
    ($name:literal, return) => {};
}

#[cfg(feature = "failpoints")]
#[doc(hidden)]
pub mod imp {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::OnceLock;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Action {
        Kill,
        Error,
        Sleep(u64),
    }

    struct Point {
        action: Action,
        nth: Option<u32>,
        hits: AtomicU32,
    }

    fn parse(spec: &str) -> Result<HashMap<String, Point>, String> {
        let mut points = HashMap::new();
        for item in spec
            .split([';', ','])
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let (name, action) = item
                .split_once('=')
                .ok_or_else(|| format!("{item:?} is not name=action"))?;
            if !super::FAILPOINTS.contains(&name) {
                return Err(format!("{name:?} is not a failpoint"));
            }
            let (action, nth) = match action.split_once('@') {
                Some((a, n)) => (
                    a,
                    Some(n.parse().map_err(|_| format!("bad count in {item:?}"))?),
                ),
                None => (action, None),
            };
            let action = match action {
                "kill" => Action::Kill,
                "error" => Action::Error,
                a => match a.strip_prefix("sleep(").and_then(|r| r.strip_suffix(')')) {
                    Some(ms) => {
                        Action::Sleep(ms.parse().map_err(|_| format!("bad sleep in {item:?}"))?)
                    }
                    None => return Err(format!("unknown action in {item:?}")),
                },
            };
            let point = Point {
                action,
                nth,
                hits: AtomicU32::new(0),
            };
            points.insert(name.to_string(), point);
        }
        Ok(points)
    }

    fn points() -> &'static HashMap<String, Point> {
        static POINTS: OnceLock<HashMap<String, Point>> = OnceLock::new();
        POINTS.get_or_init(|| {
            let spec = std::env::var("FERRY_FAILPOINTS").unwrap_or_default();
            // A test's typo must not pass as "nothing happened".
            parse(&spec).unwrap_or_else(|e| panic!("FERRY_FAILPOINTS: {e}"))
        })
    }

    /// Reached `name`: kills the process, sleeps, or says whether to return an error.
    pub fn hit(name: &'static str) -> bool {
        let Some(point) = points().get(name) else {
            return false;
        };
        let n = point.hits.fetch_add(1, Ordering::SeqCst) + 1;
        if point.nth.is_some_and(|nth| nth != n) {
            return false;
        }
        match point.action {
            Action::Kill => {
                eprintln!("failpoint {name}: kill");
                // SAFETY: kill(2) on our own pid; SIGKILL cannot be caught.
                unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
                std::process::abort()
            }
            Action::Error => {
                eprintln!("failpoint {name}: error");
                true
            }
            Action::Sleep(ms) => {
                std::thread::sleep(std::time::Duration::from_millis(ms));
                false
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn parses_actions_and_counts() {
            let p = parse("job.before-available=kill; restore.after-listing=error@2,cutover.before-stop=sleep(5)")
                .unwrap();
            assert_eq!(p["job.before-available"].action, Action::Kill);
            assert_eq!(p["restore.after-listing"].nth, Some(2));
            assert_eq!(p["cutover.before-stop"].action, Action::Sleep(5));
            assert!(parse("nope=kill").is_err());
            assert!(parse("job.before-available=explode").is_err());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::FAILPOINTS;

    /// Each listed name is marked in the code exactly once, and every mark is listed.
    #[test]
    fn the_list_matches_the_code() {
        let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut marks: Vec<String> = Vec::new();
        let mut stack = vec![crates];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("read crates dir").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    if path
                        .file_name()
                        .is_some_and(|n| n != "tests" && n != "target")
                    {
                        stack.push(path);
                    }
                } else if path.extension().is_some_and(|e| e == "rs")
                    && !path.ends_with("base/src/failpoint.rs")
                {
                    let text = std::fs::read_to_string(&path).expect("read source");
                    let mut rest = text.as_str();
                    while let Some(at) = rest.find("fail_point!(\"") {
                        rest = &rest[at + "fail_point!(\"".len()..];
                        let end = rest.find('"').expect("closing quote");
                        marks.push(rest[..end].to_string());
                    }
                }
            }
        }
        for name in FAILPOINTS {
            let n = marks.iter().filter(|m| m == name).count();
            assert_eq!(n, 1, "failpoint {name} is marked {n} times in the code");
        }
        for m in &marks {
            assert!(FAILPOINTS.contains(&m.as_str()), "{m} is not in FAILPOINTS");
        }
        assert!(FAILPOINTS.len() >= 30);
    }
}
