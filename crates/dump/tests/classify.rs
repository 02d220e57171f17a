//! Kinds of statements, one form at a time.

mod common;

use common::{kinds, statements_of};
use ferry_dump::{Definer, Kind, Name};

fn kind(sql: &str) -> Kind {
    let k = kinds(sql);
    assert_eq!(k.len(), 1, "{sql}: {k:?}");
    k.into_iter().next().expect("one")
}

fn q(schema: &str, name: &str) -> Name {
    Name {
        schema: Some(schema.into()),
        name: name.into(),
    }
}

fn d(user: &str, host: &str) -> Option<Definer> {
    Some(Definer {
        user: user.into(),
        host: host.into(),
    })
}

#[test]
fn set_lists_system_variables_only() {
    let set = |v: &[&str]| Kind::Set {
        system_variables: v.iter().map(|s| s.to_string()).collect(),
    };
    assert_eq!(kind("SET @a = 1, @`b` := 2"), set(&[]));
    assert_eq!(
        kind("SET GLOBAL gtid_slave_pos='0-1-2', @@session.SQL_MODE = CONCAT(@@sql_mode, ',X'), LOCAL time_zone='+00:00', @@x=1"),
        set(&["gtid_slave_pos", "sql_mode", "time_zone", "x"])
    );
    assert_eq!(
        kind("/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */"),
        set(&["sql_mode"])
    );
    assert_eq!(
        kind("SET CHARACTER SET utf8mb4"),
        set(&[
            "character_set_client",
            "character_set_results",
            "character_set_connection"
        ])
    );
    assert_eq!(
        kind("set names 'utf8mb4' collate 'utf8mb4_bin', autocommit = 0"),
        set(&[
            "character_set_client",
            "character_set_results",
            "character_set_connection",
            "collation_connection",
            "autocommit"
        ])
    );
    assert_eq!(
        kind("SET PASSWORD FOR 'a'@'%' = PASSWORD('x')"),
        Kind::Accounts
    );
    assert_eq!(kind("SET DEFAULT ROLE r FOR u"), Kind::Accounts);
    assert_eq!(kind("SET ROLE r"), Kind::Accounts);
    assert_eq!(
        kind("SET TRANSACTION ISOLATION LEVEL READ COMMITTED"),
        Kind::Other
    );
}

#[test]
fn databases_tables_and_data() {
    assert_eq!(
        kind("CREATE DATABASE /*!32312 IF NOT EXISTS*/ `a``b` /*!40100 DEFAULT CHARACTER SET utf8mb4 */"),
        Kind::CreateDatabase { database: "a`b".into() }
    );
    assert_eq!(
        kind("DROP SCHEMA IF EXISTS x"),
        Kind::DropDatabase {
            database: "x".into()
        }
    );
    assert_eq!(
        kind("CREATE TABLE IF NOT EXISTS `db`.`t 1` (a int)"),
        Kind::CreateTable {
            table: q("db", "t 1")
        }
    );
    assert_eq!(
        kind("CREATE OR REPLACE TEMPORARY TABLE t (a int)"),
        Kind::CreateTable {
            table: Name::new("t")
        }
    );
    assert_eq!(
        kind("DROP TABLE IF EXISTS `x`, `y`"),
        Kind::DropTable {
            table: Name::new("x")
        }
    );
    assert_eq!(
        kind("DROP VIEW IF EXISTS d.v"),
        Kind::DropView { view: q("d", "v") }
    );
    assert_eq!(kind("LOCK TABLES `t` WRITE, `u` READ"), Kind::LockTables);
    assert_eq!(kind("UNLOCK TABLES"), Kind::UnlockTables);
    assert_eq!(
        kind("/*!40000 ALTER TABLE `t` DISABLE KEYS */"),
        Kind::AlterKeys {
            table: Name::new("t")
        }
    );
    assert_eq!(
        kind("ALTER TABLE t ENABLE KEYS"),
        Kind::AlterKeys {
            table: Name::new("t")
        }
    );
    assert_eq!(kind("ALTER TABLE t ADD KEY (a)"), Kind::Other);
    assert_eq!(
        kind("ALTER DATABASE `hard` CHARACTER SET latin1"),
        Kind::Other
    );
    assert_eq!(
        kind("USE `x`"),
        Kind::Use {
            database: "x".into()
        }
    );
}

#[test]
fn inserts_count_tuples() {
    let ins = |t: Name, rows, ignore, replace| Kind::Insert {
        table: t,
        rows,
        ignore,
        replace,
    };
    assert_eq!(
        kind("INSERT INTO `t` VALUES (1,'a(b'),(2,(3)),\n(4,')'),(5,POINT(1,2))"),
        ins(Name::new("t"), 4, false, false)
    );
    assert_eq!(
        kind("INSERT IGNORE INTO d.t (`a`, `(b`) VALUES (1,2)"),
        ins(q("d", "t"), 1, true, false)
    );
    assert_eq!(
        kind("REPLACE INTO t VALUE (1),(2)"),
        ins(Name::new("t"), 2, false, true)
    );
    assert_eq!(
        kind("INSERT LOW_PRIORITY t SET a=1"),
        ins(Name::new("t"), 1, false, false)
    );
    assert_eq!(
        kind("INSERT INTO t SELECT * FROM u"),
        ins(Name::new("t"), 0, false, false)
    );
    assert_eq!(
        kind("INSERT INTO t VALUES (1),(2) ON DUPLICATE KEY UPDATE a=VALUES(a)"),
        ins(Name::new("t"), 2, false, false)
    );
}

#[test]
fn objects_and_definers() {
    assert_eq!(
        kind("CREATE DEFINER='app'@'%' PROCEDURE p() SELECT 1"),
        Kind::CreateRoutine {
            routine: Name::new("p"),
            function: false,
            definer: d("app", "%")
        }
    );
    assert_eq!(
        kind("CREATE DEFINER=\"it's\"@\"h\\\"\" FUNCTION d.f() RETURNS INT RETURN 1"),
        Kind::CreateRoutine {
            routine: q("d", "f"),
            function: true,
            definer: d("it's", "h\"")
        }
    );
    assert_eq!(
        kind("CREATE DEFINER=root@localhost AGGREGATE FUNCTION IF NOT EXISTS f() RETURNS INT BEGIN END"),
        Kind::CreateRoutine { routine: Name::new("f"), function: true, definer: d("root", "localhost") }
    );
    assert_eq!(
        kind("CREATE DEFINER=CURRENT_USER() TRIGGER tr BEFORE UPDATE ON `d`.`t` FOR EACH ROW SET @x=1"),
        Kind::CreateTrigger { trigger: Name::new("tr"), table: q("d", "t"), definer: None }
    );
    assert_eq!(
        kind("CREATE OR REPLACE ALGORITHM=MERGE DEFINER=`u`@`h` SQL SECURITY DEFINER VIEW v AS SELECT 1"),
        Kind::CreateView { view: Name::new("v"), definer: d("u", "h") }
    );
    assert_eq!(
        kind("CREATE EVENT IF NOT EXISTS e ON SCHEDULE EVERY 1 DAY DO SELECT 1"),
        Kind::CreateEvent {
            event: Name::new("e"),
            definer: None
        }
    );
    // Not applied by the target: the server would not read DEFINER, nor CREATE.
    assert_eq!(kind("/*!99999999 CREATE*/ TABLE t (a int)"), Kind::Other);
    for sql in [
        "DROP TRIGGER IF EXISTS t",
        "DROP PROCEDURE p",
        "/*!50003 DROP FUNCTION IF EXISTS `f` */",
        "DROP EVENT e",
    ] {
        assert_eq!(kind(sql), Kind::DropObject, "{sql}");
    }
}

#[test]
fn rewrite_keeps_every_other_byte() {
    let (st, _) = statements_of(b"CREATE DEFINER = 'a' @ 'b' /* c */ PROCEDURE p() SELECT 1;\nCREATE DEFINER=CURRENT_USER VIEW v AS SELECT 1;");
    assert_eq!(
        st[0].with_definer_current_user().expect("definer"),
        // The client removed the comment, leaving its spaces.
        b"CREATE DEFINER=CURRENT_USER  PROCEDURE p() SELECT 1"
    );
    assert!(st[1].with_definer_current_user().is_none());
}

#[test]
fn accounts() {
    for sql in [
        "CREATE USER 'a'@'%' IDENTIFIED BY PASSWORD '*X'",
        "CREATE ROLE r",
        "GRANT SELECT ON *.* TO 'a'@'%'",
        "REVOKE ALL ON *.* FROM a",
        "ALTER USER a ACCOUNT LOCK",
        "DROP USER IF EXISTS a",
        "RENAME USER a TO b",
        "FLUSH PRIVILEGES",
        "/*!50701 DROP ROLE IF EXISTS r */",
    ] {
        assert_eq!(kind(sql), Kind::Accounts, "{sql}");
    }
}

#[test]
fn change_master_and_empty() {
    assert_eq!(
        kind("CHANGE MASTER 'c' TO MASTER_LOG_FILE='f', MASTER_LOG_POS=4"),
        Kind::ChangeMaster
    );
    assert_eq!(kind("/*!99999999 anything */"), Kind::Empty);
    assert_eq!(kind("SELECT 1"), Kind::Other);
    assert_eq!(kind("FLUSH TABLES"), Kind::Other);
}

#[test]
fn view_placeholders() {
    let (st, _) = statements_of(
        b"/*!50001 CREATE VIEW `v` AS SELECT\n 1 AS `a`,\n 1 AS `b` */;\n\
          /*!50001 CREATE VIEW `w` AS SELECT NULL AS `a` */;\n\
          CREATE VIEW x AS SELECT 1 AS a FROM t;\n\
          /*!50001 CREATE ALGORITHM=UNDEFINED */ /*!50001 VIEW `v` AS SELECT 1 AS `a` */;",
    );
    let p: Vec<_> = st.iter().map(|s| s.is_view_placeholder()).collect();
    assert_eq!(p, [true, true, false, false]);
}
