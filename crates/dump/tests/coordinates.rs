//! Coordinates in the forms older MariaDB and MySQL dump tools write (the committed dumps
//! cover mariadb-dump 10.11's own forms, see dumps.rs).

mod common;

use common::statements_of;
use ferry_dump::{Coordinates, Kind};

fn coords(input: &str) -> Coordinates {
    statements_of(input.as_bytes()).1
}

#[test]
fn position_preamble_of_the_dumped_server() {
    let c = coords(
        "--\n-- Position to start replication or point-in-time recovery from\n--\n\n\
         -- CHANGE MASTER TO MASTER_LOG_FILE='binlog.000012', MASTER_LOG_POS=157;\n",
    );
    assert_eq!(
        c,
        Coordinates {
            file: Some("binlog.000012".into()),
            position: Some(157),
            gtid: None,
            of_source_of_source: false
        }
    );
}

#[test]
fn position_preamble_of_the_source_of_a_replica() {
    let c = coords(
        "--\n-- Position to start replication or point-in-time recovery from (the master of this slave)\n--\n\n\
         CHANGE MASTER TO MASTER_LOG_FILE='m.000002', MASTER_LOG_POS=4;\n",
    );
    assert_eq!(c.file.as_deref(), Some("m.000002"));
    assert_eq!(c.position, Some(4));
    assert!(c.of_source_of_source);
}

#[test]
fn older_gtid_comment() {
    let c = coords(
        "--\n-- GTID to start replication from\n--\n\n-- SET GLOBAL gtid_slave_pos='0-1-42,1-2-7';\n\nSELECT 1;\n",
    );
    assert_eq!(c.gtid.as_deref(), Some("0-1-42,1-2-7"));
    assert!(!c.of_source_of_source);
}

#[test]
fn the_last_value_wins_and_unrelated_comments_change_nothing() {
    let c = coords(
        "-- CHANGE MASTER TO MASTER_LOG_FILE='a.1', MASTER_LOG_POS=10;\n\
         -- CHANGE MASTER TO is mentioned here without values\n\
         # CHANGE MASTER TO MASTER_LOG_POS=20;\n\
         SELECT '-- CHANGE MASTER TO MASTER_LOG_FILE=''no'', MASTER_LOG_POS=30';\n",
    );
    assert_eq!(c.file.as_deref(), Some("a.1"));
    assert_eq!(c.position, Some(20));
}

#[test]
fn an_executable_change_master_is_a_statement_and_a_coordinate() {
    let (st, c) = statements_of(
        b"CHANGE MASTER TO MASTER_LOG_FILE='x.000009', MASTER_LOG_POS=1234;\nSET GLOBAL gtid_slave_pos = '0-9-9';\n",
    );
    assert_eq!(st[0].kind, Kind::ChangeMaster);
    assert_eq!(
        st[1].kind,
        Kind::Set {
            system_variables: vec!["gtid_slave_pos".into()]
        }
    );
    assert_eq!(
        c,
        Coordinates {
            file: Some("x.000009".into()),
            position: Some(1234),
            gtid: Some("0-9-9".into()),
            of_source_of_source: false
        }
    );
    assert!(!c.is_empty());
    assert!(Coordinates::default().is_empty());
}

#[test]
fn display() {
    assert_eq!(Coordinates::default().to_string(), "none");
    let c = Coordinates {
        file: Some("m.000002".into()),
        position: Some(4),
        gtid: Some("0-7-1234".into()),
        of_source_of_source: true,
    };
    assert_eq!(
        c.to_string(),
        "binlog m.000002:4, GTID 0-7-1234 (of the dumped server's source)"
    );
}
