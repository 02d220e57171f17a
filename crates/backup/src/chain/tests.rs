use super::*;

fn set(name: &str, backup_type: &str, from: u64, to: u64, last: u64) -> SetMeta {
    SetMeta {
        name: name.to_string(),
        checkpoints: Checkpoints {
            backup_type: BackupType::parse(backup_type),
            from_lsn: Lsn(from),
            to_lsn: Lsn(to),
            last_lsn: Lsn(last),
            flushed_lsn: None,
            compact: false,
            recover_binlog_info: false,
        },
        info: Some(Info {
            server_version: "10.11.19-MariaDB-0+deb12u1-log".into(),
            end_time: "2025-01-01 00:00:00".into(),
            partial: Some(false),
            ..Info::default()
        }),
        binlog: None,
    }
}

fn full(name: &str, to: u64) -> SetMeta {
    set(name, "full-backuped", 0, to, to + 9)
}

fn inc(name: &str, from: u64, to: u64) -> SetMeta {
    set(name, "incremental", from, to, to + 9)
}

fn ordered(sets: &[SetMeta], plan: &Plan) -> Vec<String> {
    std::iter::once(plan.base)
        .chain(plan.incrementals.iter().copied())
        .map(|i| sets[i].name.clone())
        .collect()
}

fn problems(sets: &[SetMeta]) -> Vec<String> {
    plan(sets)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn orders_incrementals_by_lsn() {
    let sets = vec![
        inc("inc2", 2000, 3000),
        full("full", 1000),
        inc("inc1", 1000, 2000),
    ];
    let p = plan(&sets).unwrap();
    assert_eq!(ordered(&sets, &p), ["full", "inc1", "inc2"]);
    assert!(p.notes.is_empty());
    assert!(!p.prepared_base);
}

#[test]
fn a_full_backup_alone() {
    let sets = vec![full("full", 1000)];
    let p = plan(&sets).unwrap();
    assert_eq!(
        (p.base, p.incrementals.len(), p.prepared_base),
        (0, 0, false)
    );
}

#[test]
fn an_already_prepared_base_alone_skips_prepare() {
    let sets = vec![set("full", "log-applied", 0, 1000, 1000)];
    assert!(plan(&sets).unwrap().prepared_base);
    let sets = vec![set("full", "full-prepared", 0, 1000, 1000)];
    assert!(plan(&sets).unwrap().prepared_base);
}

#[test]
fn quiet_server_sets_are_ordered_by_last_lsn_with_a_note() {
    let mut inc1 = inc("inc1", 44404, 44404);
    inc1.checkpoints.last_lsn = Lsn(44410);
    let mut inc2 = inc("inc2", 44404, 44404);
    inc2.checkpoints.last_lsn = Lsn(44420);
    let sets = vec![inc2, full("full", 44404), inc1];
    let p = plan(&sets).unwrap();
    assert_eq!(ordered(&sets, &p), ["full", "inc1", "inc2"]);
    assert_eq!(
        p.notes,
        [
            "inc1 and inc2 all cover LSN range 44404..44404 (the checkpoint did not move between \
          these backups); they are applied in the order inc1, inc2, decided by last_lsn"
        ]
    );
}

#[test]
fn quiet_server_ties_fall_back_to_end_time_then_name() {
    let mut a = inc("a", 44404, 44404);
    let mut b = inc("b", 44404, 44404);
    a.info.as_mut().unwrap().end_time = "2025-01-02 10:00:00".into();
    b.info.as_mut().unwrap().end_time = "2025-01-02 09:00:00".into();
    let sets = vec![full("full", 44404), a.clone(), b.clone()];
    let p = plan(&sets).unwrap();
    assert_eq!(ordered(&sets, &p), ["full", "b", "a"]);
    assert!(
        p.notes[0].ends_with("decided by last_lsn, then by backup end time"),
        "{:?}",
        p.notes
    );

    b.info.as_mut().unwrap().end_time = a.info.as_ref().unwrap().end_time.clone();
    let sets = vec![full("full", 44404), b, a];
    let p = plan(&sets).unwrap();
    assert_eq!(ordered(&sets, &p), ["full", "a", "b"]);
    assert!(
        p.notes[0].ends_with(
            "decided by last_lsn and backup end time, and by name where both were equal (a and \
             b): check that this is the order they were taken in"
        ),
        "{:?}",
        p.notes
    );
}

#[test]
fn a_quiet_incremental_goes_before_the_one_that_moves_on() {
    let sets = vec![
        inc("moves", 100, 200),
        full("full", 100),
        inc("still", 100, 100),
        inc("next", 200, 300),
    ];
    let p = plan(&sets).unwrap();
    assert_eq!(ordered(&sets, &p), ["full", "still", "moves", "next"]);
}

#[test]
fn incremental_without_base() {
    let sets = vec![inc("inc1", 1000, 2000)];
    assert_eq!(
        problems(&sets),
        ["incremental inc1 has no base: no full backup was found"]
    );
    let sets = vec![inc("inc1", 1000, 2000), inc("inc2", 2000, 3000)];
    assert_eq!(
        problems(&sets),
        ["incremental inc1 and inc2 has no base: no full backup was found"]
    );
}

#[test]
fn two_candidate_bases() {
    let sets = vec![full("a", 10), full("b", 20)];
    assert_eq!(
        problems(&sets),
        [
            "two candidate bases: a and b; keep only one full backup (and its incrementals) under \
          the source"
        ]
    );
    let sets = vec![full("a", 10), full("b", 20), full("c", 30)];
    assert!(problems(&sets)[0].starts_with("3 candidate bases: a, b and c;"));
}

#[test]
fn a_gap_names_the_missing_range() {
    let sets = vec![
        full("full", 1000),
        inc("inc1", 1000, 5000),
        inc("inc3", 6000, 7000),
    ];
    assert_eq!(
        problems(&sets),
        ["no backup covers LSN 5000..6000 (between inc1 ending at 5000 and inc3 starting at 6000)"]
    );
}

#[test]
fn every_gap_is_reported() {
    let sets = vec![
        full("full", 1000),
        inc("inc2", 2000, 3000),
        inc("inc4", 4000, 5000),
    ];
    assert_eq!(
        problems(&sets),
        [
            "no backup covers LSN 1000..2000 (between full ending at 1000 and inc2 starting at 2000)",
            "no backup covers LSN 3000..4000 (between inc2 ending at 3000 and inc4 starting at 4000)",
        ]
    );
}

#[test]
fn an_incremental_of_another_base_does_not_fit() {
    let sets = vec![
        full("full", 1000),
        inc("old", 500, 900),
        inc("inc1", 1000, 2000),
    ];
    assert_eq!(
        problems(&sets),
        ["incremental old (LSN 500..900) does not continue the chain, which had already reached \
          LSN 2000: it belongs to another base or duplicates another incremental"]
    );
}

#[test]
fn a_branching_chain_is_refused() {
    let sets = vec![
        full("full", 1000),
        inc("inc1a", 1000, 2000),
        inc("inc1b", 1000, 2500),
    ];
    assert_eq!(
        problems(&sets),
        [
            "incrementals inc1a (to 2000) and inc1b (to 2500) all start at LSN 1000: the chain \
          branches and ferry cannot tell which one to apply"
        ]
    );
}

#[test]
fn partial_backups_are_refused() {
    let mut part = full("full", 1000);
    part.info.as_mut().unwrap().partial = Some(true);
    assert_eq!(
        problems(&[part]),
        [
            "backup set full is a partial backup (xtrabackup_info says partial = Y); only backups \
          of the whole server can be restored"
        ]
    );
    let mut part = inc("inc1", 1000, 2000);
    part.info.as_mut().unwrap().tool_command = "--backup --tables=db.t1".into();
    assert_eq!(
        problems(&[full("full", 1000), part]),
        ["backup set inc1 is a partial backup (its tool_command uses --tables); only backups of \
          the whole server can be restored"]
    );
}

#[test]
fn compact_backups_are_refused() {
    let mut c = full("full", 1000);
    c.checkpoints.compact = true;
    assert_eq!(
        problems(&[c]),
        ["backup set full is a compact backup (compact = 1): its secondary index pages were not \
          copied, and ferry does not rebuild them"]
    );
}

#[test]
fn mixed_server_versions_are_refused() {
    let mut i = inc("inc1", 1000, 2000);
    i.info.as_mut().unwrap().server_version = "10.11.20-MariaDB".into();
    let sets = vec![full("full", 1000), i, inc("inc2", 2000, 3000)];
    assert_eq!(
        problems(&sets),
        [
            "the backup sets come from different server versions: 10.11.19-MariaDB-0+deb12u1-log \
          (full and inc2), 10.11.20-MariaDB (inc1)"
        ]
    );
}

#[test]
fn a_prepared_base_with_incrementals_is_refused() {
    let sets = vec![
        set("full", "log-applied", 0, 1000, 1000),
        inc("inc1", 1000, 2000),
    ];
    assert_eq!(
        problems(&sets),
        [
            "base full is already prepared (backup_type = log-applied), so the incrementals inc1 \
          cannot be applied to it; use an unprepared copy of the base"
        ]
    );
}

#[test]
fn a_prepared_incremental_is_refused() {
    let sets = vec![
        full("full", 1000),
        set("inc1", "log-applied", 1000, 2000, 2000),
    ];
    let all = problems(&sets);
    assert_eq!(
        all[0],
        "incremental inc1 is already prepared (backup_type = log-applied); only unprepared \
         incrementals can be applied"
    );
}

#[test]
fn unknown_backup_types_are_refused() {
    let sets = vec![
        full("full", 1000),
        set("odd", "half-baked", 1000, 2000, 2000),
    ];
    assert_eq!(
        problems(&sets),
        ["backup set odd has an unknown backup_type `half-baked` in xtrabackup_checkpoints"]
    );
}

#[test]
fn inconsistent_checkpoints_are_refused() {
    let sets = vec![
        full("full", 1000),
        set("f2", "full-backuped", 5, 2000, 2000),
    ];
    assert_eq!(
        problems(&sets),
        ["backup set f2: xtrabackup_checkpoints is inconsistent: backup_type is full-backuped but \
          from_lsn is 5"]
    );
    let sets = vec![full("full", 1000), inc("i0", 0, 10)];
    assert_eq!(
        problems(&sets),
        ["backup set i0: xtrabackup_checkpoints is inconsistent: backup_type is incremental but \
          from_lsn is 0"]
    );
    let sets = vec![full("full", 1000), inc("back", 1000, 900)];
    assert_eq!(
        problems(&sets),
        ["backup set back: xtrabackup_checkpoints is inconsistent: to_lsn 900 is below from_lsn \
          1000"]
    );
}

#[test]
fn all_problems_are_reported_together() {
    let mut part = inc("inc1", 1000, 2000);
    part.info.as_mut().unwrap().partial = Some(true);
    let sets = vec![full("full", 1000), part, inc("inc3", 3000, 4000)];
    let all = problems(&sets);
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(all[0].contains("partial"));
    assert!(all[1].starts_with("no backup covers LSN 2000..3000"));
}

#[test]
fn no_sets_and_missing_info() {
    assert_eq!(problems(&[]), ["there are no backup sets to restore"]);
    let mut f = full("full", 1000);
    f.info = None;
    let p = plan(&[f]).unwrap();
    assert_eq!(
        p.notes,
        [
            "backup set full has no xtrabackup_info: its server version and whether it is partial \
          cannot be checked"
        ]
    );
}
