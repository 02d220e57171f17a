//! One guardian per running instance: keeps ferry in control of the server whatever its master
//! user does, and says so in events.
//!
//! It logs in as ferry's admin account when the instance starts and holds that session:
//! MariaDB fixes a session's global privileges at login, so the session keeps `ALL PRIVILEGES`
//! even if the account is then renamed, dropped, re-passworded or locked. Every
//! [`Config::guardian_interval`](crate::config::Config::guardian_interval) it reads the
//! privilege tables' checksum and, when it changed (and every [`DEEP_EVERY`] rounds anyway),
//! runs [`audit::enforce`]: ferry's account put back, privileges beyond the master user's
//! revoked, routines that would run as ferry dropped and ferry's own re-installed, the
//! offenders' sessions killed; one event per finding, naming the account.
//!
//! A lost session (killed, or the server restarting) is opened again at the next round. If
//! the login is refused, the account was changed while ferry held no session: the
//! supervisor restarts the instance, whose start repairs the account through a socket-only
//! server with privilege checks off ([`crate::volume::repair_admin`]).

use std::sync::{Arc, Weak};

use camino::Utf8PathBuf;
use ferry_engine::accounts::audit::{self, Expected, Finding, Fingerprint};
use ferry_engine::accounts::{AdminAccount, MASTER_USER_HOST};
use ferry_engine::EngineError;
use mysql_async::prelude::Queryable;

use super::Supervisor;
use crate::ctx::Ctx;
use crate::events::{ClusterEvent, InstanceEvent};
use crate::model::{ClusterId, InstanceId};

/// A full check (triggers and views included) this many rounds apart even when the
/// fingerprint did not change.
const DEEP_EVERY: u64 = 60;

/// The guardian of one instance; stops when dropped (with the supervisor's entry).
pub(crate) struct GuardianTask {
    task: tokio::task::AbortHandle,
}

impl Drop for GuardianTask {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What a guardian watches.
pub(crate) struct Watch {
    pub(crate) instance: InstanceId,
    pub(crate) cluster: ClusterId,
    pub(crate) socket: Utf8PathBuf,
    pub(crate) admin: AdminAccount,
    pub(crate) master_user: String,
}

/// Starts the guardian of a running instance.
pub(crate) fn spawn(ctx: Arc<Ctx>, supervisor: Weak<Supervisor>, watch: Watch) -> GuardianTask {
    let task = tokio::spawn(async move {
        let mut guardian = Guardian {
            ctx,
            supervisor,
            watch,
            conn: None,
            expected: None,
            seen: None,
        };
        guardian.run().await;
    });
    GuardianTask {
        task: task.abort_handle(),
    }
}

struct Guardian {
    ctx: Arc<Ctx>,
    supervisor: Weak<Supervisor>,
    watch: Watch,
    conn: Option<mysql_async::Conn>,
    expected: Option<Expected>,
    /// The fingerprint after the last full check.
    seen: Option<Fingerprint>,
}

/// What ended a round early.
enum Trouble {
    /// The login was refused: the account changed while ferry held no session.
    LoginRefused(EngineError),
    /// Anything else (the server restarting, a statement failing): try again next round.
    Transient(EngineError),
}

impl Guardian {
    #[tracing::instrument(skip_all, fields(cluster = %self.watch.cluster, instance = %self.watch.instance))]
    async fn run(&mut self) {
        let interval = self.ctx.config.guardian_interval;
        let mut round: u64 = 0;
        loop {
            if self.ctx.is_shutting_down() {
                return;
            }
            match self.round(round.is_multiple_of(DEEP_EVERY)).await {
                Ok(()) => {}
                Err(Trouble::LoginRefused(error)) => {
                    self.ctx.instance_event(
                        &self.watch.instance,
                        InstanceEvent::AdminLoginLost { error: &error },
                    );
                    if let Some(supervisor) = self.supervisor.upgrade() {
                        supervisor.spawn_repair_restart(self.watch.instance.clone());
                    }
                    return;
                }
                Err(Trouble::Transient(error)) => {
                    tracing::debug!(error = %ferry_base::error::flatten(&error), "guardian round failed; retrying");
                    // A broken session is opened again next round.
                    if !matches!(
                        error,
                        EngineError::Sql {
                            source: mysql_async::Error::Server(_),
                            ..
                        }
                    ) {
                        self.conn = None;
                    }
                }
            }
            round += 1;
            tokio::time::sleep(interval).await;
        }
    }

    async fn round(&mut self, deep: bool) -> Result<(), Trouble> {
        if self.conn.is_none() {
            self.conn = Some(self.connect().await?);
        }
        let conn = self.conn.as_mut().expect("connected above");
        let fingerprint = audit::fingerprint(conn).await.map_err(Trouble::Transient)?;
        let expected = match &self.expected {
            Some(expected) => expected.clone(),
            None => {
                let expected = capture(conn, &self.watch.admin).await?;
                self.expected = Some(expected.clone());
                expected
            }
        };
        if !deep && expected.admin_sound() && self.seen.as_ref() == Some(&fingerprint) {
            return Ok(());
        }
        let findings = audit::enforce(conn, &self.watch.admin, &expected, deep)
            .await
            .map_err(Trouble::Transient)?;
        if !findings.is_empty() {
            self.after_findings(&findings).await?;
        }
        // The fingerprint read before the check, not one read after it: a change made while
        // the check ran then differs from `seen` and is checked next round. (ferry's own
        // repairs differ too, which costs one more check that finds nothing.)
        self.seen = Some(fingerprint);
        Ok(())
    }

    /// Re-installs ferry's routines if one changed, captures the new expected state and
    /// reports every finding.
    async fn after_findings(&mut self, findings: &[Finding]) -> Result<(), Trouble> {
        let conn = self.conn.as_mut().expect("connected");
        if findings
            .iter()
            .any(|f| matches!(f, Finding::OwnRoutineChanged { .. }))
        {
            let grantees = [(self.watch.master_user.as_str(), MASTER_USER_HOST)];
            if let Err(error) = ferry_replication::procedures::install(conn, &grantees).await {
                self.ctx.cluster_event(
                    &self.watch.cluster,
                    ClusterEvent::ProceduresNotInstalled { error: &error },
                );
            }
        }
        self.expected = Some(capture(conn, &self.watch.admin).await?);
        for finding in findings {
            tracing::warn!(?finding, "undid a change that took control from ferry");
            self.ctx
                .cluster_event(&self.watch.cluster, ClusterEvent::Guarded(finding));
        }
        Ok(())
    }

    async fn connect(&self) -> Result<mysql_async::Conn, Trouble> {
        let admin = &self.watch.admin;
        let opts = mysql_async::OptsBuilder::default()
            .socket(Some(self.watch.socket.as_str()))
            .user(Some(admin.user.clone()))
            .pass(Some(admin.password.expose()))
            .wait_timeout(Some(31_536_000));
        match mysql_async::Conn::new(opts).await {
            Ok(mut conn) => {
                // Nothing the guardian repairs belongs in the binary log.
                conn.query_drop("SET SESSION sql_log_bin = 0")
                    .await
                    .map_err(|source| Trouble::Transient(sql("prepare the session", source)))?;
                Ok(conn)
            }
            Err(source) => {
                let refused = ferry_engine::is_login_refused(&source);
                let error = EngineError::Connect {
                    endpoint: self.watch.socket.to_string(),
                    user: admin.user.clone(),
                    source,
                };
                Err(if refused {
                    Trouble::LoginRefused(error)
                } else {
                    Trouble::Transient(error)
                })
            }
        }
    }
}

async fn capture(conn: &mut mysql_async::Conn, admin: &AdminAccount) -> Result<Expected, Trouble> {
    let mut own: Vec<&str> = ferry_replication::procedures::PROCEDURES.to_vec();
    own.push(ferry_replication::procedures::HELPER_PROCEDURE);
    audit::capture(conn, admin, &own)
        .await
        .map_err(Trouble::Transient)
}

fn sql(action: &'static str, source: mysql_async::Error) -> EngineError {
    EngineError::Sql {
        endpoint: "the guardian's session".to_owned(),
        action,
        source,
    }
}
