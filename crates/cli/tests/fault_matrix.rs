//! The failpoint matrix: `ferry serve` killed (SIGKILL) or a step failed at each named
//! failpoint (`ferry_base::failpoint::FAILPOINTS`), then started again without failpoints.
//! Each case drives one cluster through its whole life (restore or create, an instance, a
//! master password reset, deletion) and asserts what a user relies on after a crash: the work
//! resumes or ends in a named failed state with an event; no process is left running; no
//! half-made directory is left; no cluster, instance or event is doubled; and a restored
//! cluster's data equals the source's.
//!
//! The test binary is built with the `failpoints` feature of `ferry-base` (the cli crate's
//! dev-dependency turns it on), so `ferry serve` here carries the points; release builds do not.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::cutover_faults::{run_cutover_case, CutoverFault};
use common::serve::{data_dir, Serve, PASSWORD, ROLE};
use ferry_api::client::{Client, ClientError, Response};

// The cli crate's dev-dependency on ferry-base turns the `failpoints` feature on.
const _: () = assert!(
    ferry_base::failpoint::ENABLED,
    "the test build of ferry carries the failpoints"
);

const NEW_PASSWORD: &str = "Reset-pw-2025";
/// How long a step that a failpoint failed may leave the work unsettled before the case
/// restarts `ferry serve` (some failures are only recovered by a restart).
const SETTLE_AFTER_ERROR: Duration = Duration::from_secs(20);
/// The bound on every wait once `ferry serve` runs without failpoints.
const DEADLINE: Duration = Duration::from_secs(240);

#[derive(Clone, Copy, Debug, PartialEq)]
enum Origin {
    /// RestoreDBClusterFromS3 of the `dir` chain: the data is compared with the source.
    Restore,
    /// RestoreDBClusterFromS3 of a chain that cannot be restored: ends `migration-failed`.
    BadRestore,
    /// CreateDBCluster: a fresh datadir.
    Empty,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Action {
    Kill,
    /// Every time the point is reached.
    Error,
    /// Only the first time: the work must get over it by itself, without a restart.
    ErrorOnce,
}

#[derive(Clone, Copy, Debug)]
struct Case {
    point: &'static str,
    action: Action,
    origin: Origin,
}

const fn case(point: &'static str, action: Action, origin: Origin) -> Case {
    Case {
        point,
        action,
        origin,
    }
}

use Action::{Error, ErrorOnce, Kill};
use Origin::{BadRestore, Empty, Restore};

const RESTORE_CASES: &[Case] = &[
    case("restore.after-listing", Kill, Restore),
    case("restore.after-set-downloaded", Kill, Restore),
    case("restore.after-set-downloaded", Error, Restore),
    case("restore.before-prepare", Kill, Restore),
    case("restore.before-prepare", Error, Restore),
    case("restore.after-prepare", Kill, Restore),
    case("restore.after-report", Kill, Restore),
    case("restore.after-volume-rename", Kill, Restore),
    case("job.before-failed", Kill, BadRestore),
];

const ENGINE_CASES: &[Case] = &[
    case("engine.before-install-db", Kill, Empty),
    case("engine.after-install-db", Kill, Empty),
    case("engine.after-install-db", Error, Empty),
    // Killed while the restored volume is handed to the cluster's OS user: the next start
    // must hand over the rest, not take the half-done tree for done.
    case("engine.mid-hand-over", Kill, Restore),
    case("engine.after-boot", Kill, Empty),
    case("engine.after-boot", Error, Empty),
    case("engine.before-bootstrap-admin", Kill, Empty),
    case("engine.after-bootstrap-admin", Kill, Empty),
    case("engine.after-bootstrap-admin", Error, Empty),
    case("engine.after-master-user", Kill, Empty),
    case("engine.after-admin-saved", Kill, Restore),
    case("job.before-available", Kill, Empty),
    case("job.before-available", Error, Empty),
    case("job.after-available", Kill, Empty),
];

const STORE_AND_CLUSTER_CASES: &[Case] = &[
    case("store.before-cluster-insert", Kill, Empty),
    case("store.before-cluster-insert", Error, Empty),
    case("store.before-transition-commit", Kill, Empty),
    case("store.before-transition-commit", Error, Empty),
    case("store.after-transition-commit", Kill, Empty),
    case("cluster.before-delete-dirs", Kill, Empty),
    case("cluster.before-delete-dirs", Error, Empty),
    case("cluster.before-delete-dirs", ErrorOnce, Empty),
    case("cluster.before-row-delete", ErrorOnce, Empty),
    case("cluster.before-row-delete", Kill, Empty),
    case("cluster.before-reset-password", Kill, Empty),
    case("cluster.before-reset-password", Error, Empty),
    case("cluster.after-reset-password", Kill, Empty),
];

const INSTANCE_CASES: &[Case] = &[
    case("instance.after-insert", Kill, Empty),
    case("instance.after-insert", Error, Empty),
    case("instance.before-start", Kill, Empty),
    case("instance.before-start", Error, Empty),
    case("instance.after-server-start", Kill, Empty),
    case("instance.after-server-start", Error, Empty),
    case("instance.before-available", Kill, Empty),
    case("instance.before-available", Error, Empty),
    case("replication.before-procedures", Kill, Empty),
    case("replication.after-procedures", Kill, Empty),
    case("instance.before-stop", Kill, Empty),
    case("instance.before-stop", Error, Empty),
    case("instance.before-stop", ErrorOnce, Empty),
    case("instance.before-row-delete", ErrorOnce, Empty),
    case("instance.after-stop", Kill, Empty),
    case("instance.before-row-delete", Kill, Empty),
];

/// The cutover's points need a replicating source: they run on the replication fault
/// tests' rig (`common::cutover_faults`).
const CUTOVER_CASES: &[(&str, CutoverFault)] = &[
    ("cutover.before-stop", CutoverFault::Kill),
    ("cutover.before-stop", CutoverFault::Error),
    ("cutover.after-stop", CutoverFault::Kill),
    ("cutover.after-stop", CutoverFault::Error),
];

#[test]
fn every_failpoint_is_in_the_matrix() {
    let all: Vec<&Case> = [
        RESTORE_CASES,
        ENGINE_CASES,
        STORE_AND_CLUSTER_CASES,
        INSTANCE_CASES,
    ]
    .concat()
    .leak()
    .iter()
    .collect();
    for name in ferry_base::failpoint::FAILPOINTS {
        let covered =
            all.iter().any(|c| c.point == *name) || CUTOVER_CASES.iter().any(|(n, _)| n == name);
        assert!(covered, "failpoint {name} has no case in the matrix");
    }
    for c in &all {
        assert!(
            ferry_base::failpoint::FAILPOINTS.contains(&c.point),
            "{} is not a failpoint",
            c.point
        );
    }
}

#[test]
fn faults_in_the_restore() {
    run_cases(RESTORE_CASES);
}

#[test]
fn faults_in_the_engine_set_up() {
    run_cases(ENGINE_CASES);
}

#[test]
fn faults_in_the_store_and_cluster_steps() {
    run_cases(STORE_AND_CLUSTER_CASES);
}

#[test]
fn faults_in_instances() {
    run_cases(INSTANCE_CASES);
}

#[test]
fn faults_in_the_cutover() {
    let only = std::env::var("FERRY_FAULT_ONLY").ok();
    for (point, fault) in CUTOVER_CASES {
        if only
            .as_deref()
            .is_some_and(|o| !o.split(',').any(|p| p == *point))
        {
            continue;
        }
        eprintln!("case {point} {fault:?}");
        run_cutover_case(point, *fault);
    }
}

/// `FERRY_FAULT_ONLY=restore.before-prepare,job.before-failed` runs only those points' cases.
fn run_cases(cases: &[Case]) {
    let only = std::env::var("FERRY_FAULT_ONLY").ok();
    for c in cases {
        if only
            .as_deref()
            .is_some_and(|o| !o.split(',').any(|p| p == c.point))
        {
            continue;
        }
        let started = Instant::now();
        run_case(*c);
        eprintln!("{c:?}: passed in {:.1} s", started.elapsed().as_secs_f64());
    }
}

/// Why the first run (with the failpoint) ended early.
#[derive(Debug)]
enum Stop {
    /// `ferry serve` is gone (killed itself at the point).
    Died,
    /// The point failed a step, and the work did not settle within [`SETTLE_AFTER_ERROR`].
    Unsettled,
}

/// One case's cluster, driven through its life, remembering which requests were answered.
struct Driver {
    serve: Serve,
    client: Client,
    rt: tokio::runtime::Runtime,
    case: Case,
    /// Set while the failpoint may fire (the first run).
    armed: bool,
    fired_at: Option<Instant>,
    cluster_port: u16,
    cluster_created: bool,
    instance_created: bool,
    data_checked: bool,
    reset_sent: bool,
    instance_deleted: bool,
    cluster_deleted: bool,
}

const CLUSTER: &str = "fc";
const INSTANCE: &str = "fc-1";

fn run_case(case: Case) {
    let (_tmp, dir) = data_dir();
    let (action, fires) = match case.action {
        Kill => ("kill", "kill"),
        Error => ("error", "error"),
        ErrorOnce => ("error@1", "error"),
    };
    let env = vec![(
        "FERRY_FAILPOINTS".to_string(),
        format!("{}={action}", case.point),
    )];
    let root = common::fixtures().join("chains").display().to_string();
    let serve = Serve::launch(&dir, &["--file-root", &root], env);
    let client = client_of(&serve);
    let mut d = Driver {
        serve,
        client,
        rt: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
        case,
        armed: true,
        fired_at: None,
        cluster_port: ferry_testkit::free_port(),
        cluster_created: false,
        instance_created: false,
        data_checked: false,
        reset_sent: false,
        instance_deleted: false,
        cluster_deleted: false,
    };
    let first = d.drive();
    let log = dir.with_extension("serve.log");
    let fired = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains(&format!("failpoint {}: {fires}", case.point));
    assert!(
        fired,
        "{case:?}: the failpoint was never reached ({first:?})\n{}",
        d.serve.log_text()
    );
    match first {
        Err(Stop::Died) => assert_eq!(case.action, Kill, "{case:?}: ferry serve died"),
        Err(Stop::Unsettled) if case.action == ErrorOnce => panic!(
            "{case:?}: a step that failed once was not tried again:\n{}",
            d.serve.log_text()
        ),
        Err(Stop::Unsettled) | Ok(()) => d.serve.stop(),
    }
    // Again, without failpoints: everything must end as if nothing had happened.
    d.armed = false;
    d.serve.set_env(Vec::new());
    d.serve.start_again();
    d.client = client_of(&d.serve);
    if let Err(stop) = d.drive() {
        panic!(
            "{case:?}: {stop:?} without failpoints:\n{}",
            d.serve.log_text()
        );
    }
    d.assert_no_duplicates();
    d.serve.stop();
    assert_no_process_under(&dir, &case);
    assert_nothing_left(&dir, &case);
}

fn client_of(serve: &Serve) -> Client {
    Client::from_credentials_file(&serve.endpoint(), &serve.credentials())
        .unwrap()
        .with_timeout(Duration::from_secs(60))
}

impl Driver {
    /// Whether `ferry serve` still runs and the work may go on.
    fn check(&mut self) -> Result<(), Stop> {
        if self.serve.exited() {
            if self.armed {
                return Err(Stop::Died);
            }
            panic!(
                "{:?}: ferry serve died without failpoints:\n{}",
                self.case,
                self.serve.log_text()
            );
        }
        if self.armed {
            if self.fired_at.is_none() {
                let log = self.serve.data_dir.with_extension("serve.log");
                let text = std::fs::read_to_string(log).unwrap_or_default();
                if text.contains(&format!("failpoint {}: error", self.case.point)) {
                    self.fired_at = Some(Instant::now());
                }
            }
            if self
                .fired_at
                .is_some_and(|t| t.elapsed() > SETTLE_AFTER_ERROR)
            {
                return Err(Stop::Unsettled);
            }
        }
        Ok(())
    }

    /// Calls an action. A refused call ends the first run (the failpoint failed it), and is a
    /// test failure in the second, unless `expected` names its error code.
    fn call(
        &mut self,
        action: &str,
        params: &[(&str, &str)],
        expected: &[&str],
    ) -> Result<Option<Response>, Stop> {
        self.check()?;
        match self.rt.block_on(self.client.call(action, params)) {
            Ok(r) => Ok(Some(r)),
            Err(ClientError::Api { code, .. }) if expected.contains(&code.as_str()) => Ok(None),
            Err(e) => {
                self.check()?;
                if self.armed && self.fired_at.is_some() {
                    // The failpoint failed this very request.
                    return Err(Stop::Unsettled);
                }
                if self.armed {
                    // Wait for the process to die (a kill) or give up (an error).
                    let deadline = Instant::now() + SETTLE_AFTER_ERROR;
                    while Instant::now() < deadline {
                        self.check()?;
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    return Err(Stop::Unsettled);
                }
                panic!(
                    "{:?}: {action} failed: {}\n{}",
                    self.case,
                    ferry_base::error::flatten(&e),
                    self.serve.log_text()
                );
            }
        }
    }

    fn cluster_status(&mut self) -> Result<Option<String>, Stop> {
        let r = self.call(
            "DescribeDBClusters",
            &[("DBClusterIdentifier", CLUSTER)],
            &["DBClusterNotFoundFault"],
        )?;
        Ok(r.and_then(|r| status_of(&r, "DBCluster", "Status")))
    }

    fn instance_status(&mut self) -> Result<Option<String>, Stop> {
        let r = self.call(
            "DescribeDBInstances",
            &[("DBInstanceIdentifier", INSTANCE)],
            &["DBInstanceNotFound"],
        )?;
        Ok(r.and_then(|r| status_of(&r, "DBInstance", "DBInstanceStatus")))
    }

    /// Polls until `status` returns something `done` accepts.
    fn wait_for(
        &mut self,
        what: &str,
        status: fn(&mut Driver) -> Result<Option<String>, Stop>,
        done: impl Fn(Option<&str>) -> bool,
    ) -> Result<Option<String>, Stop> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let s = status(self)?;
            if done(s.as_deref()) {
                return Ok(s);
            }
            assert!(
                Instant::now() < deadline,
                "{:?}: {what} is {s:?} after {DEADLINE:?}\n{}",
                self.case,
                self.serve.log_text()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn events(&mut self) -> Result<Vec<BTreeMap<String, String>>, Stop> {
        let r = self.call("DescribeEvents", &[("Duration", "600")], &[])?;
        Ok(r.map(|r| r.all_of("Event")).unwrap_or_default())
    }

    fn messages(&mut self) -> Result<Vec<String>, Stop> {
        Ok(self
            .events()?
            .into_iter()
            .filter_map(|mut e| e.remove("Message"))
            .collect())
    }

    /// The cluster's whole life, from wherever it stands.
    fn drive(&mut self) -> Result<(), Stop> {
        let port = self.cluster_port.to_string();
        if !self.cluster_created {
            if self.cluster_status()?.is_none() {
                let r = match self.case.origin {
                    Origin::Empty => self.call(
                        "CreateDBCluster",
                        &[
                            ("DBClusterIdentifier", CLUSTER),
                            ("Engine", "aurora-mysql"),
                            ("MasterUsername", "admin"),
                            ("MasterUserPassword", PASSWORD),
                            ("Port", &port),
                        ],
                        &[],
                    )?,
                    Origin::Restore | Origin::BadRestore => {
                        let bucket = if self.case.origin == Restore {
                            "dir"
                        } else {
                            "partial"
                        };
                        self.call(
                            "RestoreDBClusterFromS3",
                            &[
                                ("DBClusterIdentifier", CLUSTER),
                                ("Engine", "aurora-mysql"),
                                ("MasterUsername", "admin"),
                                ("MasterUserPassword", PASSWORD),
                                ("SourceEngine", "mysql"),
                                ("SourceEngineVersion", "10.11"),
                                ("S3BucketName", bucket),
                                ("S3IngestionRoleArn", ROLE),
                                ("Port", &port),
                            ],
                            &[],
                        )?
                    }
                };
                assert!(r.is_some());
            }
            self.cluster_created = true;
        }
        if !self.cluster_deleted {
            let status = self.wait_for("the cluster", Driver::cluster_status, |s| {
                !matches!(s, Some("creating" | "resetting-master-credentials"))
            })?;
            let failed = status.as_deref() == Some("migration-failed");
            if failed {
                let messages = self.messages()?;
                assert!(
                    messages.iter().any(|m| {
                        m.starts_with("Failed to migrate from mysql 10.11 to fc")
                            || m.starts_with("Failed to create DB cluster fc")
                    }),
                    "{:?}: migration-failed without its event: {messages:#?}",
                    self.case
                );
            } else if status.as_deref() == Some("available") {
                self.instance_life()?;
            }
            if status.as_deref() != Some("deleting") && status.is_some() {
                self.call(
                    "DeleteDBCluster",
                    &[
                        ("DBClusterIdentifier", CLUSTER),
                        ("SkipFinalSnapshot", "true"),
                    ],
                    &[],
                )?;
            }
            self.wait_for("the deleted cluster", Driver::cluster_status, |s| {
                s.is_none()
            })?;
            self.cluster_deleted = true;
        }
        Ok(())
    }

    /// The instance: created, its data checked, the master password reset, deleted.
    fn instance_life(&mut self) -> Result<(), Stop> {
        if self.instance_deleted {
            return Ok(());
        }
        if !self.instance_created {
            if self.instance_status()?.is_none() {
                self.call(
                    "CreateDBInstance",
                    &[
                        ("DBInstanceIdentifier", INSTANCE),
                        ("DBClusterIdentifier", CLUSTER),
                        ("Engine", "aurora-mysql"),
                        ("DBInstanceClass", "db.t3.small"),
                    ],
                    &[],
                )?;
            }
            self.instance_created = true;
        }
        let status = self.wait_for("the instance", Driver::instance_status, |s| {
            !matches!(s, Some("creating" | "starting"))
        })?;
        match status.as_deref() {
            Some("available") => {
                if self.case.origin == Restore && !self.data_checked {
                    let (rt, mut conn) =
                        common::serve::connect(self.cluster_port, "admin", PASSWORD);
                    rt.block_on(async {
                        common::verify_connection(&mut conn, &common::fixtures().join("expected"))
                            .await;
                        conn.disconnect().await.unwrap();
                    });
                    self.data_checked = true;
                }
                if !self.reset_sent {
                    self.call(
                        "ModifyDBCluster",
                        &[
                            ("DBClusterIdentifier", CLUSTER),
                            ("MasterUserPassword", NEW_PASSWORD),
                            ("ApplyImmediately", "true"),
                        ],
                        &[],
                    )?;
                    self.reset_sent = true;
                }
                self.wait_for("the cluster after a reset", Driver::cluster_status, |s| {
                    s == Some("available")
                })?;
                let messages = self.messages()?;
                if messages.iter().any(|m| m == "Reset master credentials") {
                    let (rt, conn) =
                        common::serve::connect(self.cluster_port, "admin", NEW_PASSWORD);
                    rt.block_on(conn.disconnect()).unwrap();
                } else {
                    assert!(
                        self.armed
                            || messages.iter().any(|m| {
                                m.starts_with("Resetting the master credentials failed")
                                    || m.starts_with("The control plane restarted while the master credentials were being reset")
                            }),
                        "{:?}: a reset that neither succeeded nor failed: {messages:#?}",
                        self.case
                    );
                }
            }
            Some("failed") => {
                // The event is recorded just after the status changes: polled, not read once.
                let deadline = Instant::now() + Duration::from_secs(10);
                loop {
                    let messages = self.messages()?;
                    if messages
                        .iter()
                        .any(|m| m.starts_with("The DB instance could not be started"))
                    {
                        break;
                    }
                    assert!(
                        Instant::now() < deadline,
                        "{:?}: a failed instance without its event: {messages:#?}",
                        self.case
                    );
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            _ => {}
        }
        if status.is_some() && status.as_deref() != Some("deleting") {
            self.call(
                "DeleteDBInstance",
                &[("DBInstanceIdentifier", INSTANCE)],
                &[],
            )?;
        }
        self.wait_for("the deleted instance", Driver::instance_status, |s| {
            s.is_none()
        })?;
        self.instance_deleted = true;
        Ok(())
    }

    /// No cluster or instance is left, and no event is doubled.
    fn assert_no_duplicates(&mut self) {
        let clusters = self
            .call("DescribeDBClusters", &[], &[])
            .ok()
            .flatten()
            .unwrap();
        assert!(
            clusters.all_of("DBCluster").is_empty(),
            "{:?}: clusters left: {}",
            self.case,
            clusters.xml
        );
        let instances = self
            .call("DescribeDBInstances", &[], &[])
            .ok()
            .flatten()
            .unwrap();
        assert!(
            instances.all_of("DBInstance").is_empty(),
            "{:?}: instances left: {}",
            self.case,
            instances.xml
        );
        let events = self.events().ok().unwrap();
        let key = |e: &BTreeMap<String, String>| {
            (
                e.get("SourceIdentifier").cloned().unwrap_or_default(),
                e.get("Message").cloned().unwrap_or_default(),
            )
        };
        let count = |m: &str| events.iter().filter(|e| key(e).1 == m).count();
        for once in [
            "DB cluster created.",
            "DB instance created.",
            "Reset master credentials",
        ] {
            assert!(
                count(once) <= 1,
                "{:?}: {once:?} {} times: {events:#?}",
                self.case,
                count(once)
            );
        }
        assert_eq!(
            count("DB cluster deleted."),
            1,
            "{:?}: {events:#?}",
            self.case
        );
        if self.instance_created {
            assert_eq!(
                count("DB instance deleted."),
                1,
                "{:?}: {events:#?}",
                self.case
            );
        }
    }
}

/// The `member` of the first `container` element of a response (`None`: there is none).
fn status_of(r: &Response, container: &str, member: &str) -> Option<String> {
    let first = r.all_of(container).into_iter().next()?;
    let status = first.get(member).cloned();
    assert!(
        status.is_some(),
        "<{container}> without <{member}>: {}",
        r.xml
    );
    status
}

/// No process (a server, a backup tool) refers to the data dir once `ferry serve` stopped.
fn assert_no_process_under(dir: &Path, case: &Case) {
    let needle = dir.display().to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = processes_mentioning(&needle);
        if left.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            common::serve::kill_leftover_servers(dir);
            panic!("{case:?}: processes left running: {left:#?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return found;
    };
    for p in procs.flatten() {
        let path = p.path();
        let Ok(stat) = std::fs::read_to_string(path.join("stat")) else {
            continue;
        };
        if stat
            .rsplit_once(") ")
            .is_none_or(|(_, rest)| rest.starts_with('Z'))
        {
            continue;
        }
        let cmdline = std::fs::read(path.join("cmdline"))
            .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
            .unwrap_or_default();
        let cwd: PathBuf = std::fs::read_link(path.join("cwd")).unwrap_or_default();
        if cmdline.contains(needle) || cwd.starts_with(needle) {
            found.push(format!("{}: {cmdline}", path.display()));
        }
    }
    found
}

/// Nothing of the cluster is left on disk: no volume, no `restoring/`, no staging.
fn assert_nothing_left(dir: &Path, case: &Case) {
    for sub in ["clusters", "staging"] {
        let left: Vec<String> = std::fs::read_dir(dir.join(sub))
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        assert!(left.is_empty(), "{case:?}: left in {sub}/: {left:?}");
    }
}
