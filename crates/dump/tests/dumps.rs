//! What the reader finds in real dumps made by mariadb-dump 10.11.19 (tests/data, made by
//! make-dumps.sh from hard.sql.in): kinds, names, definers, tuple counts, lines and
//! coordinates, checked by hand against the files.

mod common;

use std::collections::BTreeMap;

use common::statements;
use ferry_dump::{Coordinates, Definer, Kind, Name, Statement};

fn definer(user: &str, host: &str) -> Option<Definer> {
    Some(Definer {
        user: user.into(),
        host: host.into(),
    })
}

/// Rows per table (`db.table`) over all INSERTs, and whether every INSERT had `ignore`.
fn rows(st: &[Statement]) -> (BTreeMap<String, u64>, bool) {
    let mut out = BTreeMap::new();
    let mut all_ignore = true;
    for s in st {
        if let Kind::Insert {
            table,
            rows,
            ignore,
            replace,
        } = &s.kind
        {
            assert!(!replace);
            all_ignore &= ignore;
            let db = s.database.clone().unwrap_or_default();
            *out.entry(format!("{db}.{}", table.name)).or_insert(0) += rows;
        }
    }
    (out, all_ignore)
}

const HARD_ROWS: [(&str, u64); 9] = [
    ("hard.blobs", 3),
    ("hard.child", 3),
    ("hard.gen", 3),
    ("hard.geo", 2),
    ("hard.nopk", 3),
    ("hard.parent", 2),
    ("hard.strings", 8),
    ("hard.we`ird;name", 1),
    ("hard2.t", 2),
];

/// `(line, kind)` of the statements that create objects.
fn objects(st: &[Statement]) -> Vec<(u64, Kind)> {
    st.iter()
        .filter(|s| {
            matches!(
                s.kind,
                Kind::CreateDatabase { .. }
                    | Kind::CreateView { .. }
                    | Kind::CreateTrigger { .. }
                    | Kind::CreateRoutine { .. }
                    | Kind::CreateEvent { .. }
            ) && !s.is_view_placeholder()
        })
        .map(|s| (s.line, s.kind.clone()))
        .collect()
}

#[test]
fn full_dump() {
    let (st, coords) = statements("full.sql");
    // tests/data/full.sent: the sandbox line and the 257 statements the client sends; plus 4 USE.
    assert_eq!(st.len(), 262);
    assert_eq!(st[0].kind, Kind::Empty);
    assert_eq!(coords, Coordinates::default());
    let (rows, ignore) = rows(&st);
    let hard2_t = &HARD_ROWS;
    assert_eq!(
        rows,
        hard2_t
            .iter()
            .map(|(t, n)| (t.to_string(), *n))
            .collect::<BTreeMap<_, _>>()
    );
    assert!(!ignore);
    let tables: Vec<_> = st
        .iter()
        .filter_map(|s| match &s.kind {
            Kind::CreateTable { table } => Some(table.name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        tables,
        [
            "blobs",
            "child",
            "empty_table",
            "gen",
            "geo",
            "nopk",
            "parent",
            "strings",
            "we`ird;name",
            "t"
        ]
    );
    let placeholders: Vec<_> = st
        .iter()
        .filter(|s| s.is_view_placeholder())
        .map(|s| s.line)
        .collect();
    assert_eq!(placeholders, [294, 307, 470]);
    let root = || definer("root", "localhost");
    let n = |s: &str| Name::new(s);
    assert_eq!(
        objects(&st),
        [
            (
                23,
                Kind::CreateDatabase {
                    database: "hard".into()
                }
            ),
            (
                93,
                Kind::CreateTrigger {
                    trigger: n("child_ai"),
                    table: n("child"),
                    definer: definer("app", "%")
                }
            ),
            (
                273,
                Kind::CreateTrigger {
                    trigger: n("strings_bi"),
                    table: n("strings"),
                    definer: root()
                }
            ),
            (
                351,
                Kind::CreateEvent {
                    event: n("ev_cleanup"),
                    definer: root()
                }
            ),
            (
                377,
                Kind::CreateRoutine {
                    routine: n("f_semi"),
                    function: true,
                    definer: definer("weird user", "10.0.%")
                }
            ),
            (
                398,
                Kind::CreateRoutine {
                    routine: n("p_count"),
                    function: false,
                    definer: root()
                }
            ),
            (
                420,
                Kind::CreateRoutine {
                    routine: n("p_nbe"),
                    function: false,
                    definer: root()
                }
            ),
            (
                433,
                Kind::CreateDatabase {
                    database: "hard2".into()
                }
            ),
            (
                499,
                Kind::CreateView {
                    view: n("v1"),
                    definer: root()
                }
            ),
            (
                517,
                Kind::CreateView {
                    view: n("v2"),
                    definer: definer("app", "%")
                }
            ),
            (
                541,
                Kind::CreateView {
                    view: n("v_other"),
                    definer: root()
                }
            ),
        ]
    );
    // The trigger body keeps its semicolons, comment and strings.
    let trigger = st.iter().find(|s| s.line == 273).expect("trigger");
    let sql = String::from_utf8_lossy(&trigger.sql);
    assert!(
        sql.contains("IF NEW.s = 'DELIMITER ;' THEN SET NEW.s = 'x;y'; END IF;"),
        "{sql}"
    );
    assert!(sql.ends_with("END \n*/"), "{sql:?}");
    assert!(!sql.contains("-- a comment"), "line comments are removed");
    assert_eq!(trigger.database.as_deref(), Some("hard"));
    // Views of hard2 are in hard2.
    let v_other = st.iter().find(|s| s.line == 541).expect("view");
    assert_eq!(v_other.database.as_deref(), Some("hard2"));
}

#[test]
fn definers_rewritten_in_place() {
    let (st, _) = statements("full.sql");
    let by_line = |l: u64| st.iter().find(|s| s.line == l).expect("statement");
    let rewrite = |l: u64| {
        String::from_utf8(by_line(l).with_definer_current_user().expect("definer")).expect("utf-8")
    };
    assert!(rewrite(93).starts_with(
        "/*!50003 CREATE*/ /*!50017 DEFINER=CURRENT_USER*/ /*!50003 TRIGGER child_ai AFTER INSERT ON child"
    ));
    assert!(rewrite(351).starts_with(
        "/*!50106 CREATE*/ /*!50117 DEFINER=CURRENT_USER*/ /*!50106 EVENT `ev_cleanup`"
    ));
    assert!(rewrite(377).starts_with("CREATE DEFINER=CURRENT_USER FUNCTION `f_semi`(s TEXT)"));
    assert!(rewrite(517).starts_with(
        "/*!50001 CREATE ALGORITHM=UNDEFINED */\n/*!50013 DEFINER=CURRENT_USER SQL SECURITY INVOKER */\n/*!50001 VIEW `v2` AS"
    ), "{}", rewrite(517));
    // Every other byte unchanged.
    let original = &by_line(398).sql;
    let rewritten = by_line(398).with_definer_current_user().expect("definer");
    let clause = b"DEFINER=`root`@`localhost`";
    let at = original
        .windows(clause.len())
        .position(|w| w == clause)
        .expect("clause");
    assert_eq!(rewritten[..at], original[..at]);
    assert_eq!(rewritten[at + 20..], original[at + clause.len()..]);
    // No definer: nothing to rewrite.
    assert!(by_line(294).with_definer_current_user().is_none());
    assert!(by_line(23).with_definer_current_user().is_none());
    assert_eq!(
        definer("weird user", "10.0.%").expect("d").sql(),
        "'weird user'@'10.0.%'"
    );
}

#[test]
fn skip_extended_insert_counts_one_row_per_statement() {
    let (st, _) = statements("skip-extended.sql");
    let inserts: Vec<_> = st
        .iter()
        .filter(|s| matches!(s.kind, Kind::Insert { .. }))
        .collect();
    assert_eq!(inserts.len(), 25);
    assert!(inserts
        .iter()
        .all(|s| matches!(s.kind, Kind::Insert { rows: 1, .. })));
    assert_eq!(inserts[0].line, 49);
    assert!(inserts[0]
        .sql
        .starts_with(b"INSERT INTO `blobs` (`id`, `b`, `tb`, `bits`) VALUES (1,0x00273B5C"));
    let (rows, _) = rows(&st);
    let expected: BTreeMap<_, _> = HARD_ROWS[..8]
        .iter()
        .map(|(t, n)| (t.to_string(), *n))
        .collect();
    assert_eq!(rows, expected);
}

#[test]
fn master_data_2_with_insert_ignore() {
    let (st, coords) = statements("master-data-2.sql");
    let (rows, ignore) = rows(&st);
    assert!(ignore);
    assert_eq!(rows.values().sum::<u64>(), 25);
    // Dumped without --databases: no USE, so no database.
    assert!(st.iter().all(|s| s.database.is_none()));
    assert!(!st.iter().any(|s| s.kind == Kind::ChangeMaster));
    assert_eq!(
        coords,
        Coordinates {
            file: Some("src-bin.000001".into()),
            position: Some(23000),
            gtid: Some("0-1-32".into()),
            of_source_of_source: false,
        }
    );
}

#[test]
fn master_data_1_with_gtid() {
    let (st, coords) = statements("master-data-1-gtid.sql");
    let cm: Vec<_> = st.iter().filter(|s| s.kind == Kind::ChangeMaster).collect();
    assert_eq!(cm.len(), 1);
    assert_eq!(
        (cm[0].line, cm[0].sql.as_slice()),
        (18, &b"CHANGE MASTER TO MASTER_USE_GTID=slave_pos"[..])
    );
    let gtid = st.iter().find(|s| s.line == 264).expect("gtid statement");
    assert_eq!(
        gtid.kind,
        Kind::Set {
            system_variables: vec!["gtid_slave_pos".into()]
        }
    );
    assert_eq!(
        coords,
        Coordinates {
            file: Some("src-bin.000001".into()),
            position: Some(23000),
            gtid: Some("0-1-32".into()),
            of_source_of_source: false,
        }
    );
}

#[test]
fn dump_slave_with_gtid() {
    let (_, coords) = statements("dump-slave-gtid.sql");
    assert_eq!(
        coords,
        Coordinates {
            file: Some("upstream-bin.000007".into()),
            position: Some(4),
            gtid: Some("0-7-1234".into()),
            of_source_of_source: true,
        }
    );
}

#[test]
fn all_databases_includes_the_mysql_schema() {
    let (st, _) = statements("all-databases.sql");
    let dbs: Vec<_> = st
        .iter()
        .filter_map(|s| match &s.kind {
            Kind::CreateDatabase { database } => Some(database.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(dbs, ["hard", "mysql"]);
    let geometry = st
        .iter()
        .find(|s| matches!(&s.kind, Kind::CreateRoutine { routine, .. } if routine.name == "AddGeometryColumn"))
        .expect("mysql.AddGeometryColumn");
    assert_eq!(geometry.database.as_deref(), Some("mysql"));
    assert!(
        matches!(&geometry.kind, Kind::CreateRoutine { definer, .. } if *definer == definer_of("mariadb.sys"))
    );
    let user_view = st
        .iter()
        .filter(|s| matches!(&s.kind, Kind::CreateView { view, .. } if view.name == "user"))
        .count();
    assert_eq!(user_view, 2, "placeholder and definition of mysql.user");
}

fn definer_of(user: &str) -> Option<Definer> {
    definer(user, "localhost")
}
