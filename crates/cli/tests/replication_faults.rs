//! Faults around replication, through `ferry serve` as a user meets them: a source MariaDB
//! taking writes from an application while the source restarts, while the network link to it
//! is cut and restored (a TCP fault proxy between the cluster and the source), while the
//! cluster's own server is killed mid-catch-up, and during a cutover. Each ends caught up (the
//! cluster executed the source's own position, ferry's lag 0), with table checksums equal to
//! the source's, every acknowledged write present exactly once, and the events that say what
//! happened.
//!
//! The application writes sequential ids into an append-only ledger and records which the
//! source acknowledged; a write whose answer was lost (the source went away) may or may not
//! have committed, so the checker allows it either way, but nothing beyond what was attempted.

mod common;

use std::time::{Duration, Instant};

use common::replication::{
    poll, print_figure, Rig, Writer, REPL_PASSWORD, RIG_CONNECT_RETRY_SECS, WAIT,
};
use ferry_testkit::LinkMode;
use mysql_async::prelude::Queryable;

#[test]
fn the_source_restarts_mid_stream() {
    let mut rig = Rig::new();
    let writer = Writer::start(&rig.rt, &rig.source, 1);
    writer.wait_for(200);
    let began = Instant::now();
    rig.rt.block_on(rig.source.restart()).unwrap();
    writer.wait_for(200);
    let ledger = writer.stop(&rig.rt);
    let took = rig.caught_up();
    print_figure("source restart -> caught up", began.elapsed());
    eprintln!(
        "caught up {:.1} s after the writes stopped",
        took.as_secs_f64()
    );
    rig.verify(&ledger);
    assert!(
        rig.proxy.stats().forwarded >= 2,
        "the replica reconnected: {:?}",
        rig.proxy.stats()
    );
    rig.source_stays(&ledger);
}

#[test]
fn the_link_is_cut_and_restored() {
    let rig = Rig::new();
    let writer = Writer::start(&rig.rt, &rig.source, 1);
    writer.wait_for(100);
    // Resets of the established connections, the path staying up: the replica reconnects at
    // once.
    for round in 0..3 {
        let before = rig.proxy.stats().forwarded;
        let began = Instant::now();
        let cut = rig.proxy.cut();
        assert!(cut >= 1, "round {round}: the binlog dump was cut");
        writer.wait_for(50);
        poll(
            "the replica reconnects",
            WAIT,
            || rig.context(),
            || (rig.proxy.stats().forwarded > before).then_some(()),
        );
        print_figure(&format!("cut {round} -> reconnected"), began.elapsed());
    }
    // The path down for a while: connections reset, new ones refused. ferry reports the
    // broken link, and the recovery once the replica's next retry gets through.
    let from = rig.events().len();
    let began = Instant::now();
    rig.proxy.take_down();
    assert_eq!(rig.proxy.mode(), LinkMode::Refuse);
    let broke = rig.event_after(from, "Replication stopped with an error: IO thread error");
    writer.wait_for(100);
    rig.proxy.restore();
    let restored = Instant::now();
    rig.event_after(broke, "Replication is running");
    print_figure(
        "link down -> ferry reports it",
        began.elapsed() - restored.elapsed(),
    );
    print_figure("link restored -> running again", restored.elapsed());
    // The rig's replica retries every RIG_CONNECT_RETRY_SECS; with RDS's 60 s between
    // attempts this would take up to a minute.
    assert!(
        restored.elapsed() < Duration::from_secs(30),
        "the replica retried within connect_retry_seconds = {RIG_CONNECT_RETRY_SECS}: {:?}",
        restored.elapsed()
    );
    assert!(rig.proxy.stats().refused >= 1, "{:?}", rig.proxy.stats());
    let ledger = writer.stop(&rig.rt);
    print_figure("writes stopped -> caught up", rig.caught_up());
    rig.verify(&ledger);
}

/// With GTID auto position the replica's position (`mysql.gtid_slave_pos`) commits with each
/// transaction: a killed server resumes exactly after the last one it committed.
#[test]
fn the_clusters_server_is_killed_mid_catch_up() {
    killed_mid_catch_up(true);
}

/// With a binary log file and position, MariaDB keeps the executed position in
/// `relay-log.info`, written after each commit: a kill between the two would replay the
/// transaction (error 1062 here). ferry's agent resumes after the transaction
/// `gtid_slave_pos` says was committed last instead, found in the source's binary log.
#[test]
fn the_clusters_server_is_killed_mid_catch_up_file_and_position() {
    killed_mid_catch_up(false);
}

/// `ferry serve` SIGKILLed while the cluster replicates under writes: the cluster's server
/// outlives it, the next start stops that server (cleanly, or killed after a grace) and starts
/// it again, and replication resumes without applying anything twice.
#[test]
fn ferry_serve_is_killed_while_replicating() {
    let mut rig = Rig::new();
    let writer = Writer::start(&rig.rt, &rig.source, 1);
    writer.wait_for(100);
    rig.caught_up_while_writing();
    let from = rig.events().len();
    let pid = rig.cluster_server_pid();
    let began = Instant::now();
    rig.serve.kill_hard();
    writer.wait_for(200);
    rig.serve.start_again();
    rig.event_after(from, "Replication resumed after the DB instance started.");
    print_figure("ferry serve killed -> replication resumed", began.elapsed());
    assert_ne!(rig.cluster_server_pid(), pid, "a new server");
    writer.wait_for(100);
    let ledger = writer.stop(&rig.rt);
    print_figure("writes stopped -> caught up", rig.caught_up());
    rig.verify(&ledger);
    let events = rig.events();
    assert!(
        !events[from..]
            .iter()
            .any(|e| e.contains("error 1062") || e.contains("error 1032")),
        "no duplicate or missing row: {events:#?}"
    );
}

fn killed_mid_catch_up(gtid: bool) {
    let rig = Rig::new();
    let writer = Writer::start(&rig.rt, &rig.source, 1);
    writer.wait_for(100);
    rig.caught_up_while_writing();
    if gtid {
        // The master user moves to GTID auto position, as RDS documents: stop, point again
        // (from the GTIDs the replica recorded while it replicated by position), start.
        let proxy_port = rig.proxy.port();
        rig.rt.block_on(async {
            let mut m = rig.master().await;
            for call in [
                "rds_stop_replication".to_owned(),
                format!(
                    "rds_set_external_master_with_auto_position('127.0.0.1', {proxy_port}, 'repl', '{REPL_PASSWORD}', 0)"
                ),
                "rds_start_replication".to_owned(),
            ] {
                m.query_drop(format!("CALL mysql.{call}"))
                    .await
                    .unwrap_or_else(|e| panic!("{call}: {e}"));
            }
        });
    }
    // A backlog: the link is down while the application writes, then comes back and the
    // cluster's server is killed while it works through it.
    rig.proxy.take_down();
    writer.wait_for(1500);
    let executed_before = rig.executed();
    rig.proxy.restore();
    rig.rt.block_on(async {
        // Not even the replica's next retry is waited for: replication restarted at once.
        let mut m = rig.master().await;
        m.query_drop("CALL mysql.rds_stop_replication")
            .await
            .unwrap();
        m.query_drop("CALL mysql.rds_start_replication")
            .await
            .unwrap();
    });
    poll(
        "the cluster is applying the backlog",
        WAIT,
        || rig.context(),
        || (rig.executed() != executed_before).then_some(()),
    );
    let from = rig.events().len();
    let pid = rig.cluster_server_pid();
    let began = Instant::now();
    // SAFETY: kill(2) on the pid the cluster's server wrote in its pid file.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    let resumed = rig.event_after(from, "Replication resumed after the DB instance started.");
    print_figure("server killed -> replication resumed", began.elapsed());
    let resumed = &rig.events()[resumed];
    // Shown with --no-capture: whether the kill fell between a commit and relay-log.info.
    eprintln!("EVENT {resumed}");
    assert!(
        !resumed.contains("could not check"),
        "ferry checked the replica's position against the source: {resumed}"
    );
    assert_ne!(rig.cluster_server_pid(), pid, "a new server");
    writer.wait_for(100);
    let ledger = writer.stop(&rig.rt);
    print_figure("writes stopped -> caught up", rig.caught_up());
    rig.verify(&ledger);
    let events = rig.events();
    assert!(
        !events[from..]
            .iter()
            .any(|e| e.contains("error 1062") || e.contains("error 1032")),
        "no duplicate or missing row on replay: {events:#?}"
    );
}

#[test]
fn cutover_under_continuous_writes_loses_and_duplicates_nothing() {
    let rig = Rig::new();
    let writer = Writer::start(&rig.rt, &rig.source, 1);
    writer.wait_for(300);
    rig.caught_up_while_writing();
    writer.wait_for(100);
    // The operator cuts over while the application keeps writing: the source is made
    // read-only first, so every write after that is refused at the source, and everything
    // acknowledged before it is in the cluster when replication stops.
    let began = Instant::now();
    let cut = rig.cutover();
    print_figure("cutover under writes", began.elapsed());
    cut.assert_ok();
    assert!(
        cut.stdout.contains("replication is stopped"),
        "{}",
        cut.stdout
    );
    // The application keeps trying for a moment: every attempt is refused (1290, read-only).
    let refused_before = writer.ledger.lock().unwrap().refused.len();
    poll(
        "the source refuses the application's writes",
        WAIT,
        || format!("{:?}", writer.ledger.lock().unwrap().refused),
        || (writer.ledger.lock().unwrap().refused.len() >= refused_before + 5).then_some(()),
    );
    let ledger = writer.stop(&rig.rt);
    assert!(
        ledger.refused.iter().all(|(_, code)| *code == 1290),
        "refused only by read_only: {:?}",
        ledger.refused
    );
    let last_acked = *ledger.acked.last().unwrap();
    assert!(
        ledger.refused.iter().all(|(id, _)| *id > last_acked),
        "once read-only, nothing more is acknowledged"
    );
    // Replication is stopped (as the next sample shows), and the cluster has everything.
    poll(
        "the status shows replication stopped",
        WAIT,
        || rig.context(),
        || rig.sql_thread_stopped().then_some(()),
    );
    rig.verify(&ledger);
    assert_eq!(
        ledger.acked.len() as u64,
        rig.cluster_rows(),
        "the cluster holds exactly the acknowledged writes"
    );
    assert!(rig
        .events()
        .iter()
        .any(|e| e.starts_with("Cutover: the cluster executed the source up to")));
}
