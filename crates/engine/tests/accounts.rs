//! Accounts and time zones against real MariaDB 10.11, the way the control plane uses them on a
//! restored datadir: start once with `skip_grant_tables` + `skip_networking`, bootstrap the
//! admin, stop, start normally, set up the master user (which the "source" had given
//! `ALL ON *.*`, write access to the `mysql` schema, `REQUIRE SSL` and a connection limit),
//! check what the master user can and cannot do over TCP, change its password, load time
//! zones. Then the same on pre-10.4 privilege tables (MariaDB 10.3 and MySQL 5.7 layouts).
//!
//! One server for all of it, to keep the suite fast on two cores.

mod common;

use std::time::Duration;

use common::{free_port, short_tempdir, test_config, test_init_options, toolbox, ServerDirs};
use ferry_engine::toolbox::ToolSearch;
use ferry_engine::{
    bootstrap_admin, init_datadir, load_time_zones, set_master_user, set_password, AdminAccount,
    EngineError, ReadyProbe, RunningServer, Server, ServerConfig, Toolbox,
};
use ferry_engine::{run_to_completion, ProcessSpec};
use mysql_async::prelude::Queryable;

const START_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(60);

const MASTER: &str = "admin";
const MASTER_PASSWORD: &str = "Fir$t pass'word\\#1";
const NEW_PASSWORD: &str = "second-\"password\"-2";

/// The MySQL error code of a failed statement (panics on success or a non-server error).
fn code<T: std::fmt::Debug>(result: Result<T, mysql_async::Error>) -> u16 {
    match result {
        Err(mysql_async::Error::Server(server)) => server.code,
        other => panic!("expected a server error, got {other:?}"),
    }
}

async fn tcp_connect(
    server: &RunningServer,
    user: &str,
    password: &str,
) -> Result<mysql_async::Conn, mysql_async::Error> {
    let opts = mysql_async::OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(server.port())
        // Stay on TCP: the default would switch to the unix socket (host `localhost`).
        .prefer_socket(false)
        .user(Some(user))
        .pass(Some(password));
    mysql_async::Conn::new(opts).await
}

async fn start(
    tb: &Toolbox,
    cfg: &ServerConfig,
    dirs: &ServerDirs,
    admin: &AdminAccount,
) -> RunningServer {
    Server::start(
        tb,
        cfg,
        &dirs.run_dir,
        ReadyProbe::from(admin),
        START_TIMEOUT,
    )
    .await
    .expect("server starts and the admin logs in")
}

#[tokio::test]
async fn admin_master_user_and_time_zones_on_a_restored_style_server() {
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

    // --- First start, as on a restored datadir whose accounts ferry does not know.
    let mut locked_down = test_config(&dirs.datadir, &dirs.run_dir, 0);
    locked_down.skip_grant_tables = true;
    locked_down.skip_networking = true;
    let server = start(&tb, &locked_down, &dirs, &admin).await;
    bootstrap_admin(&server, &admin).await.expect("bootstrap");
    bootstrap_admin(&server, &admin)
        .await
        .expect("bootstrap again (idempotent, grant checks now on)");
    let wrong = AdminAccount {
        password: "not-the-password".into(),
        ..admin.clone()
    };
    assert!(
        matches!(
            bootstrap_admin(&server, &wrong).await,
            Err(EngineError::Connect { .. })
        ),
        "once grants are loaded, only the admin's own password gets in"
    );
    give_the_source_master_user_too_much(&server, &admin).await;
    server.stop(STOP_TIMEOUT).await.expect("stop");

    // --- Normal start: the admin's probe logs in.
    let cfg = test_config(&dirs.datadir, &dirs.run_dir, free_port());
    let server = start(&tb, &cfg, &dirs, &admin).await;
    bootstrap_admin(&server, &admin)
        .await
        .expect("bootstrap on a normally started server is a no-op");
    let mut conn = admin.connect(&server).await.expect("admin connects");
    let who: Option<String> = conn
        .query_first("SELECT CURRENT_USER()")
        .await
        .expect("whoami");
    assert_eq!(who.as_deref(), Some("ferry_admin@localhost"));

    // --- The master user the source had (ALL ON *.*, writes to mysql, a role, a proxy,
    // REQUIRE SSL, a connection limit, locked, expired).
    let report = set_master_user(&mut conn, MASTER, MASTER_PASSWORD, &[])
        .await
        .expect("set master user");
    assert!(!report.created);
    assert_eq!(report.revoked_privileges, ["ALL PRIVILEGES"]);
    let mut revoked = report.revoked_grants.clone();
    revoked.sort();
    assert_eq!(
        revoked,
        [
            "GRANT EXECUTE ON PROCEDURE `mysql`.`addgeometrycolumn`",
            "GRANT INSERT ON `mysql`.`proc`",
            "GRANT PROXY ON `root`@`localhost`",
            "GRANT SELECT (`User`) ON `mysql`.`global_priv`",
            "GRANT SELECT ON `shop`.*",
            "GRANT UPDATE ON `mysql`.*",
            "GRANT `dba`",
        ]
    );
    assert_eq!(
        report.cleared_account_options,
        [
            "REQUIRE SSL",
            "MAX_USER_CONNECTIONS 3",
            "PASSWORD EXPIRE",
            "ACCOUNT LOCK"
        ]
    );
    assert_eq!(report.other_hosts, ["localhost"]);
    assert_exact_master_grants(&mut conn, MASTER).await;
    let again = set_master_user(&mut conn, MASTER, MASTER_PASSWORD, &[])
        .await
        .expect("set master user again");
    assert!(
        !again.created
            && again.revoked_privileges.is_empty()
            && again.revoked_grants.is_empty()
            && again.cleared_account_options.is_empty(),
        "{again:?}"
    );

    check_master_user_powers(&server).await;

    // --- Password changes: the old one stops working, the new one works.
    set_password(&mut conn, MASTER, NEW_PASSWORD)
        .await
        .expect("set password");
    assert_eq!(
        code(tcp_connect(&server, MASTER, MASTER_PASSWORD).await),
        1045
    );
    let mut master = tcp_connect(&server, MASTER, NEW_PASSWORD)
        .await
        .expect("new password works");
    master.query_drop("SELECT 1").await.expect("query");
    master.disconnect().await.expect("disconnect");
    match set_password(&mut conn, "nobody_here", NEW_PASSWORD).await {
        Err(EngineError::InvalidArgument { what, .. }) => assert_eq!(what, "master user"),
        other => panic!("expected InvalidArgument for a missing account, got {other:?}"),
    }

    // --- A brand-new master user, and names/passwords that must be refused.
    let fresh = set_master_user(&mut conn, "fresh_master", "Another1!", &[])
        .await
        .expect("create master user");
    assert!(fresh.created && fresh.revoked_privileges.is_empty() && fresh.other_hosts.is_empty());
    assert_exact_master_grants(&mut conn, "fresh_master").await;
    let hostile = "x'@'%' IDENTIFIED BY 'y";
    match set_master_user(&mut conn, hostile, "whatever1", &[]).await {
        Err(err @ EngineError::InvalidArgument { .. }) => {
            assert!(!err.to_string().contains(hostile), "{err}")
        }
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
    assert!(matches!(
        set_master_user(&mut conn, "ok_name", "", &[]).await,
        Err(EngineError::InvalidArgument { .. })
    ));
    let after: Vec<String> = conn
        .query("SELECT User FROM mysql.user WHERE User LIKE 'x%' OR User = 'ok_name'")
        .await
        .expect("list users");
    assert!(after.is_empty(), "refused names created nothing: {after:?}");
    conn.disconnect().await.expect("disconnect");

    // --- Time zones: none in a fresh datadir, the machine's after loading.
    let mut master = tcp_connect(&server, MASTER, NEW_PASSWORD)
        .await
        .expect("master connects");
    let convert = "SELECT CAST(CONVERT_TZ('2024-01-01 12:00:00', 'UTC', 'Europe/Paris') AS CHAR)";
    let before: Option<Option<String>> = master.query_first(convert).await.expect("convert");
    assert_eq!(before, Some(None), "no time zone tables yet");
    let missing = dirs.path("no-zoneinfo-here");
    match load_time_zones(&tb, &server, &admin, &missing).await {
        Err(err @ EngineError::Io { .. }) => {
            assert!(err.to_string().contains("no-zoneinfo-here"), "{err}")
        }
        other => panic!("expected an Io error naming the directory, got {other:?}"),
    }
    let empty = dirs.path("empty-zoneinfo");
    std::fs::create_dir_all(&empty).expect("mkdir");
    std::fs::write(empty.join("README"), "not a zone").expect("write");
    match load_time_zones(&tb, &server, &admin, &empty).await {
        Err(err @ EngineError::InvalidArgument { .. }) => {
            assert!(err.to_string().contains("no time zone files"), "{err}")
        }
        other => panic!("expected InvalidArgument for a directory without zones, got {other:?}"),
    }
    let tz = load_time_zones(&tb, &server, &admin, "/usr/share/zoneinfo".as_ref())
        .await
        .expect("load time zones");
    assert!(tz.zones > 400, "{tz:?}");
    let after: Option<Option<String>> = master.query_first(convert).await.expect("convert");
    assert_eq!(after, Some(Some("2024-01-01 13:00:00".to_owned())));
    master.disconnect().await.expect("disconnect");
    server.stop(STOP_TIMEOUT).await.expect("stop");

    // --- Privilege tables from before MariaDB 10.4 (a datadir not yet upgraded).
    let server = start(&tb, &locked_down, &dirs, &admin).await;
    for layout in [LegacyLayout::MariaDb103, LegacyLayout::MySql57] {
        check_legacy_privilege_tables(&server, &admin, layout).await;
    }
    server.stop(STOP_TIMEOUT).await.expect("stop");
}

#[tokio::test]
async fn client_cnf_survives_the_option_file_parser() {
    let Some(print_defaults) = ToolSearch::from_env()
        .dirs
        .iter()
        .map(|dir| dir.join("my_print_defaults"))
        .find(|path| path.is_file())
    else {
        panic!("my_print_defaults (Debian: mariadb-server) is installed");
    };
    let dir = short_tempdir();
    let admin = AdminAccount {
        user: "ferry_admin".to_owned(),
        password: " a#b\"c\\d'e\t$x; ".into(),
    };
    let cnf = dir.path().join("admin.cnf");
    std::fs::write(&cnf, admin.to_client_cnf()).expect("write admin.cnf");
    let output = run_to_completion(
        ProcessSpec::new(print_defaults)
            .arg(format!("--defaults-file={}", cnf.display()))
            .arg("client")
            .capture_stdout(true),
    )
    .await
    .expect("my_print_defaults");
    assert_eq!(
        output.stdout_text(),
        format!(
            "--user=ferry_admin\n--password={}\n",
            admin.password.expose()
        )
    );
}

/// What a restored source might carry for its master user: more than RDS allows, through
/// every channel MariaDB has.
async fn give_the_source_master_user_too_much(server: &RunningServer, admin: &AdminAccount) {
    let mut conn = admin.connect(server).await.expect("admin connects");
    for statement in [
        format!("CREATE USER '{MASTER}'@'%' IDENTIFIED BY 'source-password'"),
        format!("GRANT ALL PRIVILEGES ON *.* TO '{MASTER}'@'%' WITH GRANT OPTION"),
        // Write access to the privilege store, at every level.
        format!("GRANT UPDATE ON mysql.* TO '{MASTER}'@'%'"),
        format!("GRANT INSERT ON mysql.proc TO '{MASTER}'@'%'"),
        format!("GRANT SELECT (User) ON mysql.global_priv TO '{MASTER}'@'%'"),
        format!("GRANT EXECUTE ON PROCEDURE mysql.AddGeometryColumn TO '{MASTER}'@'%'"),
        // A database-level row that would shadow `%` for `shop` if it stayed.
        "CREATE DATABASE shop".to_owned(),
        format!("GRANT SELECT ON shop.* TO '{MASTER}'@'%'"),
        "CREATE ROLE dba".to_owned(),
        "GRANT SUPER, FILE ON *.* TO dba".to_owned(),
        format!("GRANT dba TO '{MASTER}'@'%'"),
        format!("SET DEFAULT ROLE dba FOR '{MASTER}'@'%'"),
        format!(
            "ALTER USER '{MASTER}'@'%' REQUIRE SSL WITH MAX_USER_CONNECTIONS 3 PASSWORD EXPIRE \
             ACCOUNT LOCK"
        ),
        format!("CREATE USER '{MASTER}'@'localhost' IDENTIFIED BY 'local-password'"),
    ] {
        conn.query_drop(&statement).await.expect(&statement);
    }
    conn.disconnect().await.expect("disconnect");
    // Only root holds PROXY ... WITH GRANT OPTION after mariadb-install-db.
    let mut root = server.connect("root", None).await.expect("root connects");
    root.query_drop(format!(
        "GRANT PROXY ON 'root'@'localhost' TO '{MASTER}'@'%'"
    ))
    .await
    .expect("grant proxy");
    root.disconnect().await.expect("disconnect");
}

/// What the master user can do over TCP, and what it gets refused (with the server's codes).
async fn check_master_user_powers(server: &RunningServer) {
    let mut master = tcp_connect(server, MASTER, MASTER_PASSWORD)
        .await
        .expect("master connects over TCP (unlocked, not expired)");
    let who: Option<String> = master
        .query_first("SELECT CURRENT_USER()")
        .await
        .expect("whoami");
    assert_eq!(who, Some(format!("{MASTER}@%")));
    let role: Option<Option<String>> = master
        .query_first("SELECT CURRENT_ROLE()")
        .await
        .expect("role");
    assert_eq!(role, Some(None), "the default role is gone");

    // No connection limit left: more sessions than MAX_USER_CONNECTIONS 3 at once.
    let mut extra = Vec::new();
    for _ in 0..4 {
        extra.push(
            tcp_connect(server, MASTER, MASTER_PASSWORD)
                .await
                .expect("another session (the source's limit of 3 is gone)"),
        );
    }
    for conn in extra {
        conn.disconnect().await.expect("disconnect");
    }

    for statement in [
        "CREATE DATABASE app",
        "CREATE TABLE app.items (id INT PRIMARY KEY, name VARCHAR(20))",
        "INSERT INTO app.items VALUES (1, 'one'), (2, 'two')",
        "CREATE PROCEDURE app.count_items() SELECT COUNT(*) FROM app.items",
        "CALL app.count_items()",
        "CREATE USER 'reader'@'%' IDENTIFIED BY 'reader-pass'",
        "GRANT SELECT ON app.* TO 'reader'@'%'",
        "SHOW SLAVE STATUS",
        "SHOW MASTER STATUS",
        "SHOW PROCESSLIST",
    ] {
        master.query_drop(statement).await.expect(statement);
    }
    let accounts: Option<i64> = master
        .query_first("SELECT COUNT(*) FROM mysql.user")
        .await
        .expect("the master user reads mysql.user");
    assert!(accounts.unwrap_or(0) >= 3, "{accounts:?}");
    let mut reader = tcp_connect(server, "reader", "reader-pass")
        .await
        .expect("the user the master created logs in");
    let count: Option<i64> = reader
        .query_first("SELECT COUNT(*) FROM app.items")
        .await
        .expect("reader reads");
    assert_eq!(count, Some(2));
    assert_eq!(
        code(
            reader
                .query_drop("INSERT INTO app.items VALUES (3, 'x')")
                .await
        ),
        1142,
        "reader only got SELECT"
    );
    reader.disconnect().await.expect("disconnect");

    let outfile = format!("/tmp/ferry-accounts-test-{}.txt", std::process::id());
    let refused = [
        ("CHANGE MASTER TO MASTER_HOST='x'".to_owned(), 1227),
        ("SHUTDOWN".to_owned(), 1227),
        ("SET GLOBAL read_only = 1".to_owned(), 1227),
        (format!("SELECT 1 INTO OUTFILE '{outfile}'"), 1227),
        ("START SLAVE".to_owned(), 1227),
        ("SET GLOBAL max_connections = 10".to_owned(), 1227),
        ("PURGE BINARY LOGS BEFORE NOW()".to_owned(), 1227),
        // It cannot hand out what it does not have.
        ("GRANT SUPER ON *.* TO 'reader'@'%'".to_owned(), 1045),
        // The role it had is revoked.
        ("SET ROLE dba".to_owned(), 1959),
        // The privilege store is read only: writing it would be privilege escalation.
        (
            "UPDATE mysql.global_priv SET Priv = JSON_SET(Priv, '$.access', 1073741823) \
             WHERE User = 'admin'"
                .to_owned(),
            1142,
        ),
        (
            "INSERT INTO mysql.proc (db, name, type, specific_name, definer) \
             VALUES ('app', 'evil', 'PROCEDURE', 'evil', 'ferry_admin@localhost')"
                .to_owned(),
            1142,
        ),
        ("DELETE FROM mysql.db".to_owned(), 1142),
        ("CREATE TABLE mysql.x (i INT)".to_owned(), 1142),
        ("CREATE PROCEDURE mysql.p() SELECT 1".to_owned(), 1044),
        ("DROP DATABASE mysql".to_owned(), 1044),
        // Nor can it hand out writes to it.
        ("GRANT INSERT ON mysql.* TO 'reader'@'%'".to_owned(), 1044),
        (
            "GRANT INSERT ON mysql.proc TO 'reader'@'%'".to_owned(),
            1142,
        ),
    ];
    for (statement, expected) in refused {
        assert_eq!(
            code(master.query_drop(&statement).await),
            expected,
            "{statement}"
        );
    }
    assert!(!std::path::Path::new(&outfile).exists());
    master.disconnect().await.expect("disconnect");
}

/// `SHOW GRANTS` and `SHOW CREATE USER` for `'<user>'@'%'`, as the admin sees them: exactly
/// the master user's three grants and no account option (no REQUIRE, limits, expiry, lock).
async fn assert_exact_master_grants(admin: &mut mysql_async::Conn, user: &str) {
    let grants: Vec<String> = admin
        .query(format!("SHOW GRANTS FOR '{user}'@'%'"))
        .await
        .expect("show grants");
    let grants: Vec<String> = grants.iter().map(|l| without_password(l)).collect();
    assert_eq!(
        grants,
        [
            format!(
                "GRANT RELOAD, PROCESS, SHOW DATABASES, REPLICATION SLAVE, BINLOG MONITOR, \
                 CREATE USER, SLAVE MONITOR ON *.* TO `{user}`@`%` WITH GRANT OPTION"
            ),
            format!("GRANT SELECT ON `mysql`.* TO `{user}`@`%`"),
            format!("GRANT ALL PRIVILEGES ON `%`.* TO `{user}`@`%` WITH GRANT OPTION"),
        ]
    );
    let create: Option<String> = admin
        .query_first(format!("SHOW CREATE USER '{user}'@'%'"))
        .await
        .expect("show create user");
    assert_eq!(
        create.as_deref().map(without_password),
        Some(format!("CREATE USER `{user}`@`%`"))
    );
}

/// A `SHOW GRANTS` / `SHOW CREATE USER` line without its ` IDENTIFIED BY PASSWORD '*…'`.
fn without_password(line: &str) -> String {
    const CLAUSE: &str = " IDENTIFIED BY PASSWORD '";
    let Some((head, rest)) = line.split_once(CLAUSE) else {
        return line.to_owned();
    };
    match rest.split_once('\'') {
        Some((_hash, tail)) => format!("{head}{tail}"),
        None => line.to_owned(),
    }
}

#[derive(Debug, Clone, Copy)]
enum LegacyLayout {
    /// MariaDB 10.3: `mysql.user` is a table with a `Password` column, no `mysql.global_priv`.
    MariaDb103,
    /// MySQL 5.7: no `Password` column, `account_locked`, 32-character user names.
    MySql57,
}

impl LegacyLayout {
    fn create_user_table(self) -> String {
        let mut columns = vec![
            "Host char(60) COLLATE utf8_bin NOT NULL DEFAULT ''".to_owned(),
            match self {
                LegacyLayout::MariaDb103 => "User char(80) COLLATE utf8_bin NOT NULL DEFAULT ''",
                LegacyLayout::MySql57 => "User char(32) COLLATE utf8_bin NOT NULL DEFAULT ''",
            }
            .to_owned(),
        ];
        if let LegacyLayout::MariaDb103 = self {
            columns.push("Password char(41) CHARACTER SET latin1 NOT NULL DEFAULT ''".to_owned());
        }
        let mut privileges = vec![
            "Select",
            "Insert",
            "Update",
            "Delete",
            "Create",
            "Drop",
            "Reload",
            "Shutdown",
            "Process",
            "File",
            "Grant",
            "References",
            "Index",
            "Alter",
            "Show_db",
            "Super",
            "Create_tmp_table",
            "Lock_tables",
            "Execute",
            "Repl_slave",
            "Repl_client",
            "Create_view",
            "Show_view",
            "Create_routine",
            "Alter_routine",
            "Create_user",
            "Event",
            "Trigger",
            "Create_tablespace",
        ];
        if let LegacyLayout::MariaDb103 = self {
            privileges.push("Delete_history");
        }
        for privilege in privileges {
            columns.push(format!(
                "{privilege}_priv enum('N','Y') CHARACTER SET utf8 NOT NULL DEFAULT 'N'"
            ));
        }
        columns.extend(
            [
                "ssl_type enum('','ANY','X509','SPECIFIED') CHARACTER SET utf8 NOT NULL DEFAULT ''",
                "ssl_cipher blob NOT NULL",
                "x509_issuer blob NOT NULL",
                "x509_subject blob NOT NULL",
                "max_questions int(11) unsigned NOT NULL DEFAULT 0",
                "max_updates int(11) unsigned NOT NULL DEFAULT 0",
                "max_connections int(11) unsigned NOT NULL DEFAULT 0",
                "max_user_connections int(11) NOT NULL DEFAULT 0",
                "plugin char(64) CHARACTER SET latin1 NOT NULL DEFAULT ''",
                "authentication_string text COLLATE utf8_bin NOT NULL",
                "password_expired enum('N','Y') CHARACTER SET utf8 NOT NULL DEFAULT 'N'",
            ]
            .map(str::to_owned),
        );
        match self {
            LegacyLayout::MariaDb103 => columns.extend(
                [
                    "is_role enum('N','Y') CHARACTER SET utf8 NOT NULL DEFAULT 'N'",
                    "default_role char(80) COLLATE utf8_bin NOT NULL DEFAULT ''",
                    "max_statement_time decimal(12,6) NOT NULL DEFAULT 0.000000",
                ]
                .map(str::to_owned),
            ),
            LegacyLayout::MySql57 => columns.extend(
                [
                    "password_last_changed timestamp NULL DEFAULT NULL",
                    "password_lifetime smallint(5) unsigned DEFAULT NULL",
                    "account_locked enum('N','Y') CHARACTER SET utf8 NOT NULL DEFAULT 'N'",
                ]
                .map(str::to_owned),
            ),
        }
        columns.push("PRIMARY KEY (Host, User)".to_owned());
        format!(
            "CREATE TABLE mysql.user ({}) ENGINE=MyISAM DEFAULT CHARSET=utf8 COLLATE=utf8_bin",
            columns.join(", ")
        )
    }
}

/// Replaces the privilege tables with `layout`'s `mysql.user` holding a master user with
/// SUPER, then: the admin can still be bootstrapped, and `set_master_user` refuses with a
/// message that says to run mariadb-upgrade (such tables cannot hold the exact set).
async fn check_legacy_privilege_tables(
    server: &RunningServer,
    admin: &AdminAccount,
    layout: LegacyLayout,
) {
    // The server runs with skip_grant_tables; after the previous round's FLUSH PRIVILEGES the
    // admin (still in the in-memory grants) is who can get in.
    let mut conn = admin.connect(server).await.expect("connect");
    let has_view: Option<i64> = conn
        .query_first(
            "SELECT COUNT(*) FROM information_schema.VIEWS \
             WHERE TABLE_SCHEMA = 'mysql' AND TABLE_NAME = 'user'",
        )
        .await
        .expect("look for the mysql.user view");
    let mut statements = Vec::new();
    if has_view == Some(1) {
        statements.push("DROP VIEW mysql.user".to_owned());
        statements.push("RENAME TABLE mysql.global_priv TO mysql.global_priv_saved".to_owned());
    } else {
        statements.push("DROP TABLE mysql.user".to_owned());
    }
    statements.push(layout.create_user_table());
    statements.push(format!(
        "INSERT INTO mysql.user (Host, User, Select_priv, Super_priv, ssl_cipher, x509_issuer, \
         x509_subject, authentication_string, plugin) VALUES ('%', '{MASTER}', 'Y', 'Y', '', \
         '', '', '*94BDCEBE19083CE2A1F959FD02F964C7AF4CFC29', 'mysql_native_password')"
    ));
    for statement in &statements {
        conn.query_drop(statement).await.expect(statement);
    }
    conn.disconnect().await.expect("disconnect");

    bootstrap_admin(server, admin)
        .await
        .unwrap_or_else(|e| panic!("{layout:?}: bootstrap on legacy tables: {e:?}"));
    let mut conn = admin.connect(server).await.expect("admin connects");
    let err = set_master_user(&mut conn, MASTER, MASTER_PASSWORD, &[])
        .await
        .expect_err("legacy tables cannot hold the exact set");
    let text = format!(
        "{err} {}",
        std::error::Error::source(&err)
            .map(|s| s.to_string())
            .unwrap_or_default()
    );
    assert!(text.contains("mariadb-upgrade"), "{layout:?}: {text}");
    assert!(!text.contains(MASTER_PASSWORD), "{text}");
    conn.disconnect().await.expect("disconnect");
}
