//! The engine set-up of a new volume: started once without networking or privilege checks,
//! ferry's admin account, the master user, the initial database, the other accounts closed,
//! the time zone tables; then stopped.

use ferry_engine::accounts::{self, AdminAccount};

use super::JobError;
use crate::ctx::Ctx;
use crate::error::ControlError;
use crate::events::ClusterEvent;
use crate::model::Cluster;
use crate::secrets;
use crate::volume::{self, OneOff};

const ZONEINFO: &str = "/usr/share/zoneinfo";

/// Starts the volume once without networking or privilege checks, creates ferry's admin
/// account, sets up the master user and loads the time zone tables, then stops it.
///
/// `gtid` is the source's GTID position at the backup: it becomes the server's
/// `gtid_slave_pos`, where `mysql.rds_set_external_master_with_auto_position` starts from.
pub(super) async fn prepare_cluster(
    ctx: &Ctx,
    cluster: &Cluster,
    gtid: Option<String>,
) -> Result<(), JobError> {
    let layout = &ctx.layout;
    let id = &cluster.id;
    let password =
        secrets::read_pending_master_password(layout, id)?.ok_or(JobError::PasswordLost)?;
    ctx.cluster_event(id, ClusterEvent::SettingUpEngine);
    let admin = AdminAccount::generate();
    let one_off = OneOff::start(ctx, id, None).await?;
    ferry_base::fail_point!("engine.after-boot");
    let restored = cluster.s3_origin.is_some();
    let result = set_up_engine(
        ctx.toolbox.clone(),
        &one_off.server,
        &admin,
        EngineWanted {
            master: cluster.master_username.clone(),
            password,
            database: cluster.settings.database_name.clone(),
            drop_others: !restored,
            gtid,
        },
    )
    .await;
    let set_up = one_off.finish(result).await?;
    secrets::write_admin(layout, id, &admin)?;
    ferry_base::fail_point!("engine.after-admin-saved");
    if restored && !set_up.other_accounts.is_empty() {
        ctx.cluster_event(
            id,
            ClusterEvent::AccountsLocked {
                accounts: &set_up.other_accounts,
            },
        );
    }
    if !set_up.time_zones_loaded {
        ctx.cluster_event(id, ClusterEvent::NoTimeZones { zoneinfo: ZONEINFO });
    }
    Ok(())
}

/// What the engine set-up is to make of the volume.
struct EngineWanted {
    master: String,
    password: String,
    /// `DatabaseName`, created if set.
    database: Option<String>,
    /// Drop (fresh volume) rather than lock (restored) the accounts ferry did not make.
    drop_others: bool,
    /// The GTID recovered from the backup, for `gtid_slave_pos`.
    gtid: Option<String>,
}

/// What the engine set-up did beyond the master user.
struct EngineSetUp {
    time_zones_loaded: bool,
    /// Accounts other than the master user and ferry's, `'user'@'host'`: locked on a
    /// restored volume, dropped on a fresh one.
    other_accounts: Vec<String>,
}

/// ferry's admin account, the master user, the initial database (`DatabaseName`), the other
/// accounts closed, and the time zones, on a server started with `skip_grant_tables`.
///
/// Other accounts: a fresh datadir has `root` without a password on 127.0.0.1 and ::1, which
/// must not survive; a restored one carries the source's accounts, which RDS does not carry
/// over. They are dropped (fresh) or locked (restored: they stay as definers of views and
/// routines, and the master user can review and unlock them).
async fn set_up_engine(
    toolbox: ferry_engine::Toolbox,
    server: &ferry_engine::RunningServer,
    admin: &AdminAccount,
    wanted: EngineWanted,
) -> Result<EngineSetUp, ControlError> {
    let EngineWanted {
        master,
        password,
        database,
        drop_others,
        gtid,
    } = wanted;
    use mysql_async::prelude::Queryable;
    let sql_err = |action: &'static str| {
        let endpoint = server.socket().to_string();
        move |source| ferry_engine::EngineError::Sql {
            endpoint: endpoint.clone(),
            action,
            source,
        }
    };
    ferry_base::fail_point!("engine.before-bootstrap-admin");
    accounts::bootstrap_admin(server, admin).await?;
    ferry_base::fail_point!("engine.after-bootstrap-admin");
    let mut conn = server
        .connect(&admin.user, Some(admin.password.expose()))
        .await?;
    volume::set_master_user(&mut conn, &master, &password).await?;
    ferry_base::fail_point!("engine.after-master-user");
    if let Some(gtid) = gtid {
        // A fresh server has no replica configured, so the position can be set.
        conn.exec_drop("SET GLOBAL gtid_slave_pos = ?", (gtid.as_str(),))
            .await
            .map_err(sql_err(
                "set gtid_slave_pos to the GTID recovered from the backup",
            ))?;
    }
    if let Some(db) = database {
        // `DatabaseName`: validated as letters, digits and underscores, so quoting is plain.
        conn.query_drop(format!("CREATE DATABASE IF NOT EXISTS `{db}`"))
            .await
            .map_err(sql_err("create the cluster's initial database"))?;
    }
    let others: Vec<(String, String)> = conn
        .exec(
            "SELECT User, Host FROM mysql.global_priv \
             WHERE NOT (User = ? AND Host = 'localhost') AND NOT (User = ? AND Host = '%') \
               AND NOT (User = 'mariadb.sys' AND Host = 'localhost') \
               AND NOT (User = 'PUBLIC' AND Host = '') \
               AND IFNULL(JSON_VALUE(Priv, '$.is_role'), 'false') <> 'true' \
             ORDER BY User, Host",
            (admin.user.as_str(), master.as_str()),
        )
        .await
        .map_err(sql_err("list the other accounts"))?;
    let mut closed = Vec::new();
    for (user, host) in others {
        let account = format!(
            "{}@{}",
            mysql_async::Value::from(user.as_str()).as_sql(false),
            mysql_async::Value::from(host.as_str()).as_sql(false)
        );
        if drop_others {
            // Rows, not DROP USER: accounts with a host name are not loaded under
            // skip-name-resolve, and DROP USER refuses what is not loaded.
            conn.exec_drop(
                "DELETE FROM mysql.global_priv WHERE User = ? AND Host = ?",
                (user.as_str(), host.as_str()),
            )
            .await
            .map_err(sql_err("drop an account the cluster does not need"))?;
            closed.push(account);
            continue;
        }
        match conn
            .query_drop(format!("ALTER USER {account} ACCOUNT LOCK"))
            .await
        {
            Ok(()) => closed.push(account),
            // ER_CANNOT_USER: an account with a host name, not loaded under
            // skip-name-resolve (ferry's servers always run with it), so it can never log in.
            Err(mysql_async::Error::Server(e)) if e.code == 1396 => {}
            Err(e) => return Err(sql_err("lock an account the cluster does not need")(e).into()),
        }
    }
    if drop_others {
        conn.query_drop("FLUSH PRIVILEGES")
            .await
            .map_err(sql_err("reload the privilege tables"))?;
    }
    drop(conn);
    let zoneinfo = std::path::Path::new(ZONEINFO);
    let time_zones_loaded = zoneinfo.is_dir();
    if time_zones_loaded {
        accounts::load_time_zones(&toolbox, server, admin, zoneinfo).await?;
    }
    Ok(EngineSetUp {
        time_zones_loaded,
        other_accounts: closed,
    })
}
