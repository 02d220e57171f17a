//! The guardian's checks and repairs (`accounts::audit`) against a real MariaDB 10.11, driven
//! by hand: the three escalation routes a master user has, tried over TCP, each undone by one
//! `enforce` on ferry's held session, which keeps its privileges whatever happens to its
//! account.

mod common;

use std::time::Duration;

use common::{free_port, test_config, test_init_options, toolbox, ServerDirs};
use ferry_engine::accounts::audit::{self, AdminDrift, Finding, ALL_PRIVILEGES_ACCESS};
use ferry_engine::{
    bootstrap_admin, init_datadir, set_master_user, AdminAccount, ReadyProbe, RunningServer, Server,
};
use mysql_async::prelude::Queryable;

const START_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(60);
const MASTER: &str = "admin";
const MASTER_PASSWORD: &str = "master-pass-1";
const OWN: &[&str] = &["rds_test"];

async fn tcp(
    server: &RunningServer,
    user: &str,
    password: &str,
) -> mysql_async::Result<mysql_async::Conn> {
    let opts = mysql_async::OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(server.port())
        .prefer_socket(false)
        .user(Some(user))
        .pass(Some(password));
    mysql_async::Conn::new(opts).await
}

async fn master(server: &RunningServer) -> mysql_async::Conn {
    tcp(server, MASTER, MASTER_PASSWORD)
        .await
        .expect("master logs in")
}

fn code<T: std::fmt::Debug>(result: mysql_async::Result<T>) -> u16 {
    match result {
        Err(mysql_async::Error::Server(e)) => e.code,
        other => panic!("expected a server error, got {other:?}"),
    }
}

async fn global_access(conn: &mut mysql_async::Conn, user: &str, host: &str) -> Option<u64> {
    conn.exec_first(
        "SELECT CAST(JSON_VALUE(Priv, '$.access') AS UNSIGNED) FROM mysql.global_priv \
         WHERE User = ? AND Host = ?",
        (user, host),
    )
    .await
    .expect("read access")
}

#[tokio::test]
async fn the_three_escalation_routes_are_undone_through_the_held_session() {
    let tb = toolbox().await;
    let dirs = ServerDirs::new();
    init_datadir(
        &tb,
        &dirs.datadir,
        &test_init_options(&dirs.path("init.log")),
    )
    .await
    .expect("init datadir");
    let admin = AdminAccount::generate();
    let mut boot = test_config(&dirs.datadir, &dirs.run_dir, 0);
    boot.skip_grant_tables = true;
    boot.skip_networking = true;
    let server = Server::start(
        &tb,
        &boot,
        &dirs.run_dir,
        ReadyProbe::from(&admin),
        START_TIMEOUT,
    )
    .await
    .expect("start without grants");
    bootstrap_admin(&server, &admin).await.expect("bootstrap");
    server.stop(STOP_TIMEOUT).await.expect("stop");
    let cfg = test_config(&dirs.datadir, &dirs.run_dir, free_port());
    let server = Server::start(
        &tb,
        &cfg,
        &dirs.run_dir,
        ReadyProbe::from(&admin),
        START_TIMEOUT,
    )
    .await
    .expect("start");

    // ferry's set-up: the master user, one routine of ferry's own; the held session.
    let mut held = admin.connect(&server).await.expect("admin connects");
    set_master_user(&mut held, MASTER, MASTER_PASSWORD, &[])
        .await
        .expect("master user");
    held.query_drop("CREATE PROCEDURE mysql.rds_test() SQL SECURITY DEFINER SELECT 1")
        .await
        .expect("ferry's routine");
    assert_eq!(
        global_access(&mut held, MASTER, "%").await,
        Some(audit::master_user_access()),
        "the access bits ferry allows are the master user's"
    );
    assert_eq!(
        global_access(&mut held, "ferry_admin", "localhost").await,
        Some(ALL_PRIVILEGES_ACCESS)
    );
    // What the control plane's set-up does on a fresh volume: only its own accounts remain.
    held.query_drop("DELETE FROM mysql.global_priv WHERE User = 'root'; FLUSH PRIVILEGES")
        .await
        .expect("drop root");
    let mut expected = audit::capture(&mut held, &admin, OWN)
        .await
        .expect("capture");
    assert!(expected.admin_sound());
    let before = audit::fingerprint(&mut held).await.expect("fingerprint");
    let findings = audit::enforce(&mut held, &admin, &expected, true)
        .await
        .expect("enforce");
    assert_eq!(findings, [], "a freshly set-up server is clean");
    assert_eq!(
        audit::fingerprint(&mut held).await.expect("fingerprint"),
        before
    );

    // --- Route 1: rename + re-password ferry's account, log in as it over TCP.
    let mut m = master(&server).await;
    m.query_drop("RENAME USER 'ferry_admin'@'localhost' TO 'ferry_admin'@'127.0.0.1'")
        .await
        .expect("master renames ferry's account");
    m.query_drop("ALTER USER 'ferry_admin'@'127.0.0.1' IDENTIFIED BY 'stolen'")
        .await
        .expect("and re-passwords it");
    let mut thief = tcp(&server, "ferry_admin", "stolen")
        .await
        .expect("the route works");
    // MariaDB keeps the held session's global privileges: it can still create accounts.
    held.query_drop("CREATE USER probe@localhost")
        .await
        .expect("held session keeps ALL");
    held.query_drop("DROP USER probe@localhost")
        .await
        .expect("drop probe");
    assert_ne!(
        audit::fingerprint(&mut held).await.expect("fingerprint"),
        before
    );
    let findings = audit::enforce(&mut held, &admin, &expected, false)
        .await
        .expect("enforce");
    assert!(
        findings.contains(&Finding::AdminAccountRestored {
            drift: AdminDrift::Missing
        }),
        "{findings:?}"
    );
    assert!(
        findings.iter().any(
            |f| matches!(f, Finding::ImpostorDropped { account } if account.host == "127.0.0.1")
        ),
        "{findings:?}"
    );
    assert!(
        thief.query_drop("SELECT 1").await.is_err(),
        "the impostor's session is killed"
    );
    assert_eq!(code(tcp(&server, "ferry_admin", "stolen").await), 1045);
    admin.connect(&server).await.expect("ferry logs in again");
    expected = audit::capture(&mut held, &admin, OWN)
        .await
        .expect("capture");
    assert!(expected.admin_sound());

    // DROP USER, ACCOUNT LOCK, a new password.
    for (statement, drift) in [
        ("DROP USER 'ferry_admin'@'localhost'", AdminDrift::Missing),
        (
            "ALTER USER 'ferry_admin'@'localhost' ACCOUNT LOCK",
            AdminDrift::Locked,
        ),
        (
            "ALTER USER 'ferry_admin'@'localhost' IDENTIFIED BY 'x'",
            AdminDrift::PasswordChanged,
        ),
    ] {
        m.query_drop(statement).await.expect(statement);
        let findings = audit::enforce(&mut held, &admin, &expected, false)
            .await
            .expect("enforce");
        assert_eq!(
            findings,
            [Finding::AdminAccountRestored { drift }],
            "{statement}"
        );
        admin.connect(&server).await.expect("ferry logs in again");
        expected = audit::capture(&mut held, &admin, OWN)
            .await
            .expect("capture");
        assert!(expected.admin_sound(), "{statement}");
    }

    // --- Route 2: an account with ALL ON `%`.* writes mysql.global_priv; the master flushes.
    m.query_drop("CREATE USER x@'%' IDENTIFIED BY 'xpw'")
        .await
        .expect("create x");
    m.query_drop("GRANT ALL ON `%`.* TO x@'%'")
        .await
        .expect("grant the wildcard");
    let mut x = tcp(&server, "x", "xpw").await.expect("x logs in");
    x.query_drop(format!(
        "UPDATE mysql.global_priv SET Priv = JSON_SET(Priv, '$.access', {ALL_PRIVILEGES_ACCESS}) \
         WHERE User = 'x'"
    ))
    .await
    .expect("the route works: x writes the privilege store");
    m.query_drop("FLUSH PRIVILEGES")
        .await
        .expect("master flushes");
    let mut x2 = tcp(&server, "x", "xpw").await.expect("x logs in again");
    x2.query_drop("SET GLOBAL general_log = 0")
        .await
        .expect("x now has SUPER");
    let findings = audit::enforce(&mut held, &admin, &expected, false)
        .await
        .expect("enforce");
    assert!(
        findings.iter().any(
            |f| matches!(f, Finding::GlobalPrivilegesRevoked { account, privileges }
            if account.user == "x" && privileges.iter().any(|p| p == "SUPER"))
        ),
        "{findings:?}"
    );
    assert!(
        findings.iter().any(
            |f| matches!(f, Finding::PrivilegeSchemaWritesRevoked { account, object, .. }
            if account.user == "x" && object == "`%`")
        ),
        "{findings:?}"
    );
    assert!(
        x.query_drop("SELECT 1").await.is_err(),
        "x's sessions are killed"
    );
    assert!(
        x2.query_drop("SELECT 1").await.is_err(),
        "x's sessions are killed"
    );
    let mut x = tcp(&server, "x", "xpw").await.expect("x logs in");
    assert_eq!(code(x.query_drop("SET GLOBAL general_log = 0").await), 1227);
    assert_eq!(
        code(
            x.query_drop("UPDATE mysql.global_priv SET Host = Host")
                .await
        ),
        1142
    );
    x.query_drop("CREATE DATABASE xdb")
        .await
        .expect("x keeps its data privileges");
    assert_eq!(
        audit::enforce(&mut held, &admin, &expected, true)
            .await
            .expect("enforce"),
        [],
        "nothing left to undo"
    );

    // --- Route 3: a mysql.proc row that runs as ferry, and ferry's own routine changed.
    m.query_drop("CREATE USER y@'%' IDENTIFIED BY 'ypw'")
        .await
        .expect("create y");
    m.query_drop("GRANT ALL ON `%`.* TO y@'%'")
        .await
        .expect("grant the wildcard");
    let mut y = tcp(&server, "y", "ypw").await.expect("y logs in");
    y.query_drop(
        "INSERT INTO mysql.proc (db, name, type, specific_name, language, sql_data_access, \
           is_deterministic, security_type, param_list, returns, body, definer, created, \
           modified, sql_mode, comment, character_set_client, collation_connection, \
           db_collation, body_utf8, aggregate) \
         VALUES ('mysql', 'evil', 'PROCEDURE', 'evil', 'SQL', 'CONTAINS_SQL', 'NO', 'DEFINER', \
           '', '', 'GRANT ALL PRIVILEGES ON *.* TO y@''%''', 'ferry_admin@localhost', NOW(), \
           NOW(), '', '', 'utf8mb4', 'utf8mb4_general_ci', 'utf8mb4_general_ci', \
           'GRANT ALL PRIVILEGES ON *.* TO y@''%''', 'NONE')",
    )
    .await
    .expect("the route works: y writes mysql.proc");
    y.query_drop("CALL mysql.evil()")
        .await
        .expect("and escalates");
    y.query_drop(
        "UPDATE mysql.proc SET body = 'SELECT 2', body_utf8 = 'SELECT 2' WHERE name = 'rds_test'",
    )
    .await
    .expect("y changes ferry's routine");
    let findings = audit::enforce(&mut held, &admin, &expected, false)
        .await
        .expect("enforce");
    for wanted in [
        "ForeignObjectDropped",
        "OwnRoutineChanged",
        "GlobalPrivilegesRevoked",
        "PrivilegeSchemaWritesRevoked",
    ] {
        assert!(
            format!("{findings:?}").contains(wanted),
            "{wanted}: {findings:?}"
        );
    }
    let routines: Vec<String> = held
        .query("SELECT name FROM mysql.proc WHERE db = 'mysql' AND definer LIKE 'ferry%' ORDER BY name")
        .await
        .expect("routines");
    assert_eq!(
        routines,
        [] as [&str; 0],
        "the foreign and the changed routine are gone"
    );
    let mut y = tcp(&server, "y", "ypw").await.expect("y logs in");
    // ER_PROCACCESS_DENIED_ERROR (y may not even execute in mysql now) or ER_SP_DOES_NOT_EXIST.
    assert!(matches!(
        code(y.query_drop("CALL mysql.evil()").await),
        1370 | 1305
    ));
    assert_eq!(code(y.query_drop("SET GLOBAL general_log = 0").await), 1227);

    drop(held);
    server.stop(STOP_TIMEOUT).await.expect("stop");
}
