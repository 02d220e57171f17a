//! The cutover's failpoints (`cutover.before-stop`, `cutover.after-stop`), for the failpoint
//! matrix (`tests/fault_matrix.rs`), on the replication fault tests' rig: a source under
//! continuous writes, the cluster replicating from it by file and position.
//!
//! Each case cuts over with the point armed (`kill`: `ferry serve` dies there; `error`: the
//! step fails), checks that the failed cutover left a state the operator can read (what the
//! command said, whether replication runs, the events), starts `ferry serve` again without
//! failpoints, finishes the migration as an operator would (start replication again when the
//! failed cutover had stopped it, cut over again) and checks that no acknowledged write was
//! lost or doubled and that exactly one cutover is recorded.

use std::time::Duration;

use mysql_async::prelude::Queryable;

use super::replication::{poll, Rig, Writer, WAIT};

/// What the failpoint does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CutoverFault {
    Kill,
    Error,
}

/// One case: `point` armed with `fault`.
pub fn run_cutover_case(point: &str, fault: CutoverFault) {
    let action = match fault {
        CutoverFault::Kill => "kill",
        CutoverFault::Error => "error",
    };
    let mut rig = Rig::with_env(vec![(
        "FERRY_FAILPOINTS".to_string(),
        format!("{point}={action}"),
    )]);
    let case = format!("{point}={action}");
    let writer = Writer::start(&rig.rt, &rig.source, 1);
    writer.wait_for(200);
    rig.caught_up_while_writing();
    let events_before = rig.events().len();

    let first = rig.cutover();
    assert_ne!(
        first.status, 0,
        "{case}: the cutover cannot succeed\n{}",
        first.stdout
    );
    let log = rig.serve.data_dir.with_extension("serve.log");
    let fired = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains(&format!("failpoint {point}: {action}"));
    assert!(fired, "{case}: the failpoint was reached\n{}", first.stderr);
    let stopped_by_it = point == "cutover.after-stop";
    match fault {
        CutoverFault::Kill => {
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            while !rig.serve_exited() {
                assert!(
                    std::time::Instant::now() < deadline,
                    "{case}: ferry serve died\n{}",
                    rig.serve.log_text()
                );
                std::thread::sleep(Duration::from_millis(100));
            }
            // Nobody could say whether replication still runs: the source stays read-only,
            // so nothing acknowledged there can be missing from the cluster.
            assert!(
                first.stderr.contains("could not be asked") && first.stderr.contains("read-only"),
                "{case}: {}",
                first.stderr
            );
        }
        CutoverFault::Error if stopped_by_it => assert!(
            first.stderr.contains("no longer running") && first.stderr.contains("read-only"),
            "{case}: {}",
            first.stderr
        ),
        CutoverFault::Error => {
            assert!(
                first.stderr.contains("replication was left running"),
                "{case}: {}",
                first.stderr
            );
            assert!(!rig.sql_thread_stopped(), "{case}: replication runs on");
        }
    }

    // `ferry serve` again, without failpoints.
    if !rig.serve_exited() {
        rig.serve.stop();
    }
    rig.serve.set_env(Vec::new());
    rig.serve.start_again();
    if stopped_by_it {
        // Replication stays stopped across the restart, as recorded.
        poll(
            &format!("{case}: the status shows replication stopped"),
            WAIT,
            || rig.context(),
            || rig.sql_thread_stopped().then_some(()),
        );
        rig.rt.block_on(async {
            let mut m = rig.master().await;
            m.query_drop("CALL mysql.rds_start_replication")
                .await
                .unwrap();
        });
    } else if fault == CutoverFault::Kill {
        // The server was restarted with ferry: replication resumed.
        rig.event_after(
            events_before,
            "Replication resumed after the DB instance started.",
        );
    }
    poll(
        &format!("{case}: replication runs again"),
        WAIT,
        || rig.context(),
        || (!rig.sql_thread_stopped()).then_some(()),
    );
    if fault == CutoverFault::Error && !stopped_by_it {
        // The failed cutover made the source writable again.
        writer.wait_for(50);
    }
    let second = rig.cutover();
    second.assert_ok();
    let ledger = writer.stop(&rig.rt);
    rig.verify(&ledger);
    assert_eq!(
        ledger.acked.len() as u64,
        rig.cluster_rows(),
        "{case}: the cluster holds exactly the acknowledged writes"
    );
    let events = rig.events();
    let cutovers = events[events_before..]
        .iter()
        .filter(|e| e.starts_with("Cutover: the cluster executed the source up to"))
        .count();
    assert_eq!(cutovers, 1, "{case}: one cutover recorded: {events:#?}");
    assert!(
        !events
            .iter()
            .any(|e| e.contains("error 1062") || e.contains("error 1032")),
        "{case}: no duplicate or missing row: {events:#?}"
    );
}

impl Rig {
    /// Whether `ferry serve` has exited (reaps it).
    pub fn serve_exited(&mut self) -> bool {
        self.serve.exited()
    }
}
