//! Servers on a cluster volume: the one recipe for every MariaDB server ferry starts on a
//! cluster's datadir, whether an instance (TCP, sized by its class, watched by the
//! supervisor) or a one-off (socket only, for the engine set-up, a password reset without a
//! running instance, or the repair of ferry's account).
//!
//! Whatever the role, a server on a volume gets the same: `secure_file_priv` confined to the
//! cluster's `files/`, relay logs under fixed names, a private tmpdir in its run dir, and the
//! cluster's directories handed to the OS user its servers run as (its own uid when ferry is
//! root), and the Landlock sandbox that confines them to those directories ([`crate::identity`]).

use std::time::Duration;

use camino::{Utf8Path, Utf8PathBuf};
use ferry_engine::accounts::{self, AdminAccount};
use ferry_engine::{ReadyProbe, RunningServer, Server, ServerConfig};

use crate::ctx::Ctx;
use crate::error::ControlError;
use crate::events::ClusterEvent;
use crate::instance_class::InstanceResources;
use crate::leftovers::stop_server_in;
use crate::model::ClusterId;
use crate::secrets;

pub(crate) const START_TIMEOUT: Duration = Duration::from_secs(600);
pub(crate) const STOP_TIMEOUT: Duration = Duration::from_secs(120);

/// What a server on a volume is for.
pub(crate) enum Role {
    /// An instance clients connect to.
    Instance {
        port: u16,
        resources: InstanceResources,
        server_id: u32,
    },
    /// A socket-only server for ferry's own work; `skip_grants` for accounts ferry does not
    /// know (yet).
    OneOff { skip_grants: bool },
}

/// The address instances listen on: loopback only when clients are told to connect to it
/// (`advertised_host` 127.0.0.1 or localhost), every IPv4 address otherwise.
pub(crate) fn instance_bind_address(advertised_host: &str) -> std::net::Ipv4Addr {
    if advertised_host == "127.0.0.1" || advertised_host == "localhost" {
        std::net::Ipv4Addr::LOCALHOST
    } else {
        std::net::Ipv4Addr::UNSPECIFIED
    }
}

/// The server configuration for `role` on `cluster`'s volume, with `run_dir` as its run dir.
pub(crate) fn server_config(
    ctx: &Ctx,
    cluster: &ClusterId,
    run_dir: &Utf8Path,
    role: &Role,
) -> Result<ServerConfig, ControlError> {
    let layout = &ctx.layout;
    let port = match role {
        Role::Instance { port, .. } => *port,
        Role::OneOff { .. } => 0,
    };
    let mut cfg = ServerConfig::new(layout.volume(cluster), run_dir, port);
    match role {
        Role::Instance {
            resources,
            server_id,
            ..
        } => {
            cfg.bind_address = instance_bind_address(&ctx.config.advertised_host).to_string();
            cfg.buffer_pool_bytes = resources.buffer_pool_bytes;
            cfg.redo_log_bytes = Some(resources.redo_log_bytes);
            cfg.max_connections = resources.max_connections;
            cfg.server_id = *server_id;
        }
        Role::OneOff { skip_grants } => {
            cfg.skip_networking = true;
            cfg.skip_grant_tables = *skip_grants;
            // Keep the redo log the size it has (the server's default would resize it, and
            // the next instance start back), but not below the smallest class's: a prepared
            // backup's log is a few KiB.
            let size = ferry_engine::redo_log_size(layout.volume(cluster).as_std_path());
            cfg.redo_log_bytes = Some(
                size.unwrap_or(0)
                    .max(crate::instance_class::INITIAL_REDO_LOG_BYTES),
            );
        }
    }
    let files = private_dir(&layout.cluster_files(cluster))?;
    cfg.extra
        .push(("secure-file-priv".to_string(), files.to_string()));
    // Relay logs and replica state live in the volume under fixed names (the defaults carry
    // the host name, which would orphan them when the data dir moves to another host).
    // Replication threads never start by themselves (`skip-slave-start`, the default): the
    // agent resumes them when the cluster's replication status says they were running.
    cfg.extra
        .push(("relay-log".to_string(), "relay-bin".to_string()));
    cfg.extra
        .push(("relay-log-index".to_string(), "relay-bin.index".to_string()));
    // After a crash the relay log is discarded and fetched again from the position the SQL
    // thread executed (`relay-log-recovery`: a relay log ahead of `master.info` would
    // otherwise be fetched twice), and that position is synced after every transaction. With
    // GTID auto position the position that counts, `mysql.gtid_slave_pos`, commits with each
    // transaction; by file and position a kill between a commit and the `relay-log.info`
    // write leaves that file one transaction behind, which the replication agent corrects
    // from `gtid_slave_pos` before it resumes (`ferry_replication::agent::realign`).
    for (name, value) in [("relay-log-recovery", "ON"), ("sync-relay-log-info", "1")] {
        cfg.extra.push((name.to_string(), value.to_string()));
    }
    hand_over(ctx, &mut cfg, cluster)?;
    Ok(cfg)
}

/// Makes a server config run as the server user, and gives it the cluster's volume and file
/// directory (only when they are not its yet: a restore or an init made them as ferry's user).
fn hand_over(ctx: &Ctx, cfg: &mut ServerConfig, id: &ClusterId) -> Result<(), ControlError> {
    use std::os::unix::fs::MetadataExt;
    // The sandbox's rules name existing paths only: the replication SSL directory must exist
    // before the server starts, for material imported while it runs.
    let ssl_dir = private_dir(&ctx.layout.replication_ssl_dir(id))?;
    cfg.sandbox = ctx.containment.sandbox_for(&ctx.layout, id);
    if ctx.containment.first_report(id) {
        if let Some(gap) = &ctx.containment.gap {
            ctx.cluster_event(id, ClusterEvent::PartlyContained { gap });
        }
    }
    let Some(user) = ctx.server_user(id)? else {
        return Ok(());
    };
    for dir in [ctx.layout.volume(id), ctx.layout.cluster_files(id)] {
        let owner = std::fs::metadata(&dir)
            .map_err(ControlError::io("read", &dir))?
            .uid();
        if owner != user.uid {
            user.chown_tree(dir.as_std_path())?;
        }
    }
    user.chown(ssl_dir.as_std_path())?;
    cfg.os_user = Some(user);
    Ok(())
}

/// Creates `dir` (0700) if needed and returns it.
pub(crate) fn private_dir(dir: &Utf8Path) -> Result<Utf8PathBuf, ControlError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(ControlError::io("create", dir))?;
    Ok(dir.to_path_buf())
}

/// Starts a server from `cfg` and waits until `probe` can log in.
pub(crate) async fn start(
    ctx: &Ctx,
    cfg: &ServerConfig,
    run_dir: &Utf8Path,
    probe: ReadyProbe,
) -> Result<RunningServer, ferry_engine::EngineError> {
    Server::start(
        &ctx.toolbox,
        cfg,
        run_dir.as_std_path(),
        probe,
        START_TIMEOUT,
    )
    .await
}

/// The probe that logs in as ferry's admin.
pub(crate) fn admin_probe(admin: &AdminAccount) -> ReadyProbe {
    ReadyProbe::user(admin.user.clone(), Some(admin.password.clone()))
}

/// A one-off server on a cluster's volume: socket only, in the cluster's boot run dir.
pub(crate) struct OneOff {
    pub(crate) server: RunningServer,
    run_dir: Utf8PathBuf,
}

impl OneOff {
    /// With `admin`, privileges are checked and the readiness probe logs in as ferry's admin;
    /// without, the server runs with `skip-grant-tables` (for setting up accounts ferry does
    /// not know). A server an earlier, killed control plane left in the boot dir is stopped
    /// first.
    pub(crate) async fn start(
        ctx: &Ctx,
        id: &ClusterId,
        admin: Option<&AdminAccount>,
    ) -> Result<OneOff, ControlError> {
        let run_dir = ctx.layout.boot_dir(id);
        stop_server_in(&run_dir).await?;
        if run_dir.exists() {
            std::fs::remove_dir_all(&run_dir).map_err(ControlError::io("remove", &run_dir))?;
        }
        std::fs::create_dir_all(&run_dir).map_err(ControlError::io("create", &run_dir))?;
        let role = Role::OneOff {
            skip_grants: admin.is_none(),
        };
        let cfg = server_config(ctx, id, &run_dir, &role)?;
        let probe = match admin {
            Some(a) => admin_probe(a),
            None => ReadyProbe::root(),
        };
        let server = start(ctx, &cfg, &run_dir, probe).await?;
        Ok(OneOff { server, run_dir })
    }

    /// Stops the server and removes its run dir.
    pub(crate) async fn stop(self) -> Result<(), ControlError> {
        let stopped = self.server.stop(STOP_TIMEOUT).await;
        let _ = std::fs::remove_dir_all(&self.run_dir);
        stopped?;
        Ok(())
    }

    /// Runs `work` against the server, then stops it whatever `work` returned; `work`'s
    /// error comes first.
    pub(crate) async fn finish<T>(
        self,
        result: Result<T, ControlError>,
    ) -> Result<T, ControlError> {
        let stopped = self.stop().await;
        let value = result?;
        stopped?;
        Ok(value)
    }
}

/// Re-creates ferry's admin account on a cluster whose server refused it (the master user
/// holds CREATE USER and can alter or drop any account, ferry's included): one start with
/// `skip-grant-tables` and no networking, a new admin with a new password, stop.
pub(crate) async fn repair_admin(ctx: &Ctx, id: &ClusterId) -> Result<AdminAccount, ControlError> {
    let one_off = OneOff::start(ctx, id, None).await?;
    let admin = AdminAccount::generate();
    let result = accounts::bootstrap_admin(&one_off.server, &admin)
        .await
        .map_err(ControlError::from);
    one_off.finish(result).await?;
    secrets::write_admin(&ctx.layout, id, &admin)?;
    ctx.cluster_event(id, ClusterEvent::AdminAccountRepaired);
    Ok(admin)
}

/// The master user with RDS's privileges and `EXECUTE` on the `mysql.rds_*` procedures, which
/// are installed (or brought up to date) first: a grant needs its routine to exist.
pub(crate) async fn set_master_user(
    conn: &mut mysql_async::Conn,
    user: &str,
    password: &str,
) -> Result<(), ControlError> {
    ferry_replication::procedures::install(conn, &[]).await?;
    accounts::set_master_user(
        conn,
        user,
        password,
        ferry_replication::procedures::PROCEDURES,
    )
    .await?;
    Ok(())
}

/// Sets the master user's password (and, as RDS does, restores its privileges, re-creating
/// it if it was dropped): through `running`, a connection to the cluster's running instance,
/// or else a one-off socket-only server on the volume.
pub(crate) async fn reset_master_password(
    ctx: &Ctx,
    cluster: &crate::model::Cluster,
    password: &str,
    running: Option<mysql_async::Conn>,
) -> Result<(), ControlError> {
    if let Some(mut conn) = running {
        return set_master_user(&mut conn, &cluster.master_username, password).await;
    }
    let admin = secrets::read_admin(&ctx.layout, &cluster.id)?;
    let one_off = OneOff::start(ctx, &cluster.id, Some(&admin)).await?;
    let result = async {
        let mut conn = one_off
            .server
            .connect(&admin.user, Some(admin.password.expose()))
            .await?;
        set_master_user(&mut conn, &cluster.master_username, password).await
    }
    .await;
    one_off.finish(result).await
}
