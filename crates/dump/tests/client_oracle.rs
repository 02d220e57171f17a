//! The reader sends what the real `mariadb` client sends: for each committed dump, the
//! `.sent` file made by make-dumps.sh holds the length and CRC-32 of every statement the
//! client (10.11.19, `-vvv`) echoed while loading it. `USE` is a client command (never
//! echoed); the sandbox line is the one deliberate difference (see client-oracle.py).

mod common;

use common::{crc, read_data, statements};
use ferry_dump::Kind;

fn check(name: &str) {
    let (ours, _) = statements(&format!("{name}.sql"));
    let sent = String::from_utf8(read_data(&format!("{name}.sent"))).expect("utf-8");
    let expected: Vec<&str> = sent.lines().collect();
    let ours: Vec<String> = ours
        .iter()
        .filter(|s| !matches!(s.kind, Kind::Use { .. }))
        .map(|s| {
            if s.sql.starts_with(b"/*M!999999\\-") {
                "sandbox".to_owned()
            } else {
                format!("{} {}", s.sql.len(), crc(&s.sql))
            }
        })
        .collect();
    for (i, (a, b)) in ours.iter().zip(&expected).enumerate() {
        assert_eq!(
            a, b,
            "{name}: statement {i} differs from what the client sent"
        );
    }
    assert_eq!(ours.len(), expected.len(), "{name}: statement count");
}

#[test]
fn full_dump_with_routines_triggers_events() {
    check("full");
}

#[test]
fn skip_extended_insert_complete_insert_hex_blob() {
    check("skip-extended");
}

#[test]
fn master_data_2_insert_ignore() {
    check("master-data-2");
}

#[test]
fn master_data_1_gtid() {
    check("master-data-1-gtid");
}

#[test]
fn dump_slave_gtid() {
    check("dump-slave-gtid");
}

#[test]
fn all_databases() {
    check("all-databases");
}
