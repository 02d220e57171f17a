//! Every event the control plane records, and the words it records it with: the one mapping
//! from what happened to the message and category `DescribeEvents` shows. Where RDS has an
//! event for the same thing, the text is RDS's.
//!
//! Failures arrive here as typed errors; their text (the whole cause chain) is made here.

use ferry_base::error::flatten;
use ferry_replication::agent::Notice as ReplicationNotice;
use ferry_replication::monitor::Transition;

use camino::Utf8Path;

use ferry_engine::accounts::audit::{AdminDrift, Finding, GrantLevel};

use crate::model::{ClusterId, ImportCounters, ImportPhase, InstanceId, S3Origin};
use crate::store::{NewEvent, Store};

/// Something that happened to a DB cluster.
pub(crate) enum ClusterEvent<'a> {
    /// A restart of `ferry serve` interrupted the creation job, which runs again.
    JobResumed {
        attempt: u32,
    },
    Restoring {
        origin: &'a S3Origin,
    },
    Downloading {
        sets: u64,
        bytes: u64,
    },
    Preparing,
    SettingUpEngine,
    /// Accounts restored from the source, locked (RDS does not carry accounts over).
    AccountsLocked {
        accounts: &'a [String],
    },
    NoTimeZones {
        zoneinfo: &'a str,
    },
    Recovered {
        file: &'a str,
        position: u64,
    },
    RecoveredGtid {
        gtid: &'a str,
    },
    Created,
    /// The creation failed: RDS's migration-failed wording, with the cause. A full
    /// filesystem is said first, with the data directory it holds.
    CreateFailed {
        id: &'a ClusterId,
        origin: Option<&'a S3Origin>,
        data_dir: &'a Utf8Path,
        reason: &'a (dyn std::error::Error + 'static),
    },
    /// The bucket could not be reached at all: RDS-EVENT-0083's text.
    BucketUnreachable {
        id: &'a ClusterId,
        cause: Option<&'a (dyn std::error::Error + 'static)>,
    },
    Deleted,
    /// The cluster's servers run without part of the OS-level containment (the first time
    /// one starts under this ferry process): why.
    PartlyContained {
        gap: &'a str,
    },
    MasterCredentialsReset,
    MasterCredentialsResetFailed {
        error: &'a (dyn std::error::Error + 'static),
    },
    /// ferry serve stopped while the master password was being reset.
    ResetInterrupted,
    AdminAccountRepaired,
    /// The guardian found and undid something that took ferry's control away or gave an
    /// account more than the master user's privileges.
    Guarded(&'a Finding),
    ProceduresNotInstalled {
        error: &'a (dyn std::error::Error + 'static),
    },
    /// What a `mysql.rds_*` procedure did.
    Replication(&'a ReplicationNotice),
    /// What the sampler saw change.
    ReplicationState(&'a Transition),
    Cutover {
        file: &'a str,
        position: u64,
    },
    /// `ferry import --cluster` began loading a dump.
    ImportStarted {
        id: &'a ClusterId,
        source: &'a str,
        parallel: u32,
        resumed: bool,
    },
    /// The import moved to another phase.
    ImportPhase {
        id: &'a ClusterId,
        source: &'a str,
        phase: ImportPhase,
    },
    ImportCompleted {
        id: &'a ClusterId,
        source: &'a str,
        counters: &'a ImportCounters,
        durability: &'a DurabilityRestored<'a>,
    },
    ImportFailed {
        id: &'a ClusterId,
        source: &'a str,
        error: &'a str,
        durability: &'a DurabilityRestored<'a>,
    },
    /// No progress report within the lease.
    ImportLeaseExpired {
        id: &'a ClusterId,
        source: &'a str,
        lease_seconds: u64,
        durability: &'a DurabilityRestored<'a>,
    },
    /// ferry serve restarted while the import ran (its instances restarted with it).
    ImportInterruptedByRestart {
        id: &'a ClusterId,
        source: &'a str,
    },
}

/// Whether the durability settings an import relaxed were put back.
pub(crate) enum DurabilityRestored<'a> {
    /// They were never relaxed (nothing to put back).
    Unchanged,
    Restored,
    /// The server could not be told; its next restart puts them back (they are not
    /// persisted).
    Failed(&'a (dyn std::error::Error + 'static)),
}

impl DurabilityRestored<'_> {
    fn sentence(&self) -> String {
        match self {
            DurabilityRestored::Unchanged => String::new(),
            DurabilityRestored::Restored => {
                " The cluster's durability settings (innodb_flush_log_at_trx_commit, sync_binlog) were put back.".into()
            }
            DurabilityRestored::Failed(e) => format!(
                " The cluster's durability settings could not be put back now ({}); they come back when its DB instance restarts.",
                flatten(*e)
            ),
        }
    }
}

/// Something that happened to a DB instance.
pub(crate) enum InstanceEvent<'a> {
    Created,
    Restarted,
    Deleted,
    EngineStopped {
        status: &'a str,
        log_tail: &'a str,
    },
    GaveUp {
        failures: u32,
    },
    StartFailed {
        error: &'a (dyn std::error::Error + 'static),
    },
    /// ferry can no longer log in to the server as its admin account (its own session was
    /// lost too): the server is restarted to repair the account.
    AdminLoginLost {
        error: &'a (dyn std::error::Error + 'static),
    },
}

const NOTIFICATION: &str = "notification";
const FAILURE: &str = "failure";
const CONFIGURATION: &str = "configuration change";
const SECURITY: &str = "security";

impl ClusterEvent<'_> {
    /// The message and RDS category.
    pub(crate) fn render(&self) -> (String, &'static str) {
        use ClusterEvent as E;
        match self {
            E::JobResumed { attempt } => (
                format!("The control plane restarted while the DB cluster was being created; resuming (attempt {attempt})."),
                NOTIFICATION,
            ),
            E::Restoring { origin } => (
                format!("Restoring the DB cluster from {}.", describe_origin(origin)),
                NOTIFICATION,
            ),
            E::Downloading { sets, bytes } => (
                format!(
                    "Downloading and unpacking {sets} backup set(s) ({} MB).",
                    bytes.div_ceil(1_000_000)
                ),
                NOTIFICATION,
            ),
            E::Preparing => (
                "Preparing the backup: applying incremental backups and the redo log.".into(),
                NOTIFICATION,
            ),
            E::SettingUpEngine => (
                "Starting the database engine on the cluster volume to set up the master user and time zones.".into(),
                NOTIFICATION,
            ),
            E::AccountsLocked { accounts } => {
                const SHOWN: usize = 20;
                let n = accounts.len();
                let mut names = accounts[..n.min(SHOWN)].join(", ");
                if n > SHOWN {
                    names.push_str(&format!(" and {} more", n - SHOWN));
                }
                (
                    format!("{n} account(s) restored from the source were locked: {names}. User accounts are not carried over by a restore from Amazon S3; review them and unlock the ones to keep with ALTER USER ... ACCOUNT UNLOCK."),
                    NOTIFICATION,
                )
            }
            E::NoTimeZones { zoneinfo } => (
                format!("Time zone tables were not loaded: {zoneinfo} does not exist on this host."),
                NOTIFICATION,
            ),
            E::Recovered { file, position } => (
                format!("Recovered from Binary log filename '{file}', position '{position}'."),
                NOTIFICATION,
            ),
            E::RecoveredGtid { gtid } => (format!("Recovered from GTID '{gtid}'."), NOTIFICATION),
            E::Created => ("DB cluster created.".into(), "creation"),
            E::CreateFailed {
                id,
                origin,
                data_dir,
                reason,
            } => {
                let full = is_storage_full(*reason);
                let reason = flatten(*reason);
                let mut reason = reason.trim_end_matches('.').to_string();
                if full {
                    reason = format!(
                        "the filesystem of the data directory {data_dir} is full (No space left on device): {reason}"
                    );
                }
                let text = match origin {
                    Some(o) => format!(
                        "Failed to migrate from {} {} to {id}. Reason: {reason}.",
                        o.source_engine, o.source_engine_version
                    ),
                    None => format!("Failed to create DB cluster {id}. Reason: {reason}."),
                };
                (text, FAILURE)
            }
            E::BucketUnreachable { id, cause } => {
                let mut text = format!(
                    "Amazon RDS has been unable to create credentials to access your Amazon S3 Bucket for your DB cluster {id}. This is due to the S3 snapshot ingestion IAM role not being configured correctly in your account or the specified Amazon S3 bucket cannot be found. Please refer to the troubleshooting section in the Amazon RDS documentation for further details."
                );
                if let Some(cause) = cause {
                    text.push_str(&format!(" ({})", flatten(*cause)));
                }
                (text, FAILURE)
            }
            E::Deleted => ("DB cluster deleted.".into(), "deletion"),
            E::PartlyContained { gap } => (
                format!("The DB cluster's database server is only partly contained by the host: {gap}."),
                NOTIFICATION,
            ),
            E::MasterCredentialsReset => ("Reset master credentials".into(), CONFIGURATION),
            E::MasterCredentialsResetFailed { error } => (
                format!("Resetting the master credentials failed: {}", flatten(*error)),
                FAILURE,
            ),
            E::ResetInterrupted => (
                "The control plane restarted while the master credentials were being reset; the new password may not be in effect: call ModifyDBCluster again.".into(),
                NOTIFICATION,
            ),
            E::AdminAccountRepaired => (
                "ferry's administrative account on the cluster had been changed or removed; it was re-created.".into(),
                NOTIFICATION,
            ),
            E::Guarded(finding) => (guarded(finding), SECURITY),
            E::ProceduresNotInstalled { error } => (
                format!(
                    "The replication procedures (mysql.rds_*) could not be installed: {}",
                    flatten(*error)
                ),
                FAILURE,
            ),
            E::Replication(notice) => replication_notice(notice),
            E::ReplicationState(t) => replication_transition(t),
            E::Cutover { file, position } => (
                format!("Cutover: the cluster executed the source up to {file}, position {position}; replication stopped."),
                NOTIFICATION,
            ),
            E::ImportStarted { id, source, parallel, resumed } => (
                format!(
                    "Import of {source} into DB cluster {id} {} on {parallel} connection(s); durability relaxed for the import (innodb_flush_log_at_trx_commit = 2, sync_binlog = 0).",
                    if *resumed { "resumed" } else { "started" }
                ),
                NOTIFICATION,
            ),
            E::ImportPhase { id, source, phase } => (
                format!(
                    "Import of {source} into DB cluster {id}: {}.",
                    match phase {
                        ImportPhase::Schema => "creating schemas and tables",
                        ImportPhase::Data => "loading table data",
                        ImportPhase::Objects => "creating views, triggers, routines and events",
                        ImportPhase::Done => "all statements loaded",
                        ImportPhase::Failed => "stopped by an error",
                    }
                ),
                NOTIFICATION,
            ),
            E::ImportCompleted { id, source, counters, durability } => (
                format!(
                    "Import of {source} into DB cluster {id} completed: {} tables, {} rows, {} definers rewritten{}.{}",
                    counters.tables_done,
                    counters.rows,
                    counters.definers_rewritten,
                    if counters.failures > 0 {
                        format!(", {} failed statements skipped", counters.failures)
                    } else {
                        String::new()
                    },
                    durability.sentence()
                ),
                NOTIFICATION,
            ),
            E::ImportFailed { id, source, error, durability } => (
                format!(
                    "Import of {source} into DB cluster {id} failed: {}.{}",
                    error.trim_end_matches('.'),
                    durability.sentence()
                ),
                FAILURE,
            ),
            E::ImportLeaseExpired { id, source, lease_seconds, durability } => (
                format!(
                    "Import of {source} into DB cluster {id} was interrupted: no progress report for {lease_seconds} s.{}",
                    durability.sentence()
                ),
                FAILURE,
            ),
            E::ImportInterruptedByRestart { id, source } => (
                format!(
                    "Import of {source} into DB cluster {id} was interrupted: the control plane restarted. The cluster's DB instance restarted with its own durability settings."
                ),
                FAILURE,
            ),
        }
    }
}

impl InstanceEvent<'_> {
    /// The message and RDS category.
    pub(crate) fn render(&self) -> (String, &'static str) {
        use InstanceEvent as E;
        match self {
            E::Created => ("DB instance created.".into(), "creation"),
            E::Restarted => ("DB instance restarted.".into(), "availability"),
            E::Deleted => ("DB instance deleted.".into(), "deletion"),
            E::EngineStopped { status, log_tail } => (
                format!(
                    "The database engine stopped unexpectedly ({status}). Log tail:\n{}",
                    log_tail.trim_end()
                ),
                FAILURE,
            ),
            E::GaveUp { failures } => (
                format!("The DB instance failed {failures} times in a row and is left stopped; delete it and create it again."),
                FAILURE,
            ),
            E::StartFailed { error } => (
                format!("The DB instance could not be started: {}", flatten(*error)),
                FAILURE,
            ),
            E::AdminLoginLost { error } => (
                format!("ferry could no longer log in to the database engine as its administrative account ({}); restarting the DB instance to re-create the account.", flatten(*error)),
                SECURITY,
            ),
        }
    }
}

/// Whether a failure comes from a full filesystem (ENOSPC): an `io::Error` in the cause chain
/// says so by its kind, while the restore pipeline and child processes (mariabackup,
/// mariadb-install-db) pass the OS's words on as text, so their text is read too.
pub(crate) fn is_storage_full(err: &(dyn std::error::Error + 'static)) -> bool {
    const ENOSPC: i32 = 28;
    const WORDS: [&str; 3] = [
        "No space left on device",
        "(os error 28)",
        "failed with error 28",
    ];
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::StorageFull || io.raw_os_error() == Some(ENOSPC) {
                return true;
            }
        }
        let text = e.to_string();
        if WORDS.iter().any(|w| text.contains(w)) {
            return true;
        }
        cur = e.source();
    }
    false
}

/// What the guardian undid, naming the account.
fn guarded(finding: &Finding) -> String {
    match finding {
        Finding::AdminAccountRestored { drift } => {
            let what = match drift {
                AdminDrift::Missing => "had been dropped or renamed",
                AdminDrift::Locked => "had been locked",
                AdminDrift::PasswordChanged => "had its password changed",
                AdminDrift::Changed => "had been changed",
            };
            format!("ferry's administrative account 'ferry_admin'@'localhost' {what}; it was re-created.")
        }
        Finding::ImpostorDropped { account } => format!(
            "Dropped account {account}: only ferry's administrative account may be named 'ferry_admin'."
        ),
        Finding::AdminProxyRemoved { account } => format!(
            "Removed the grant that let account {account} proxy as ferry's administrative account."
        ),
        Finding::GlobalPrivilegesRevoked {
            account,
            privileges,
        } => format!(
            "Revoked privileges beyond the master user's from account {account}: {}.",
            privileges.join(", ")
        ),
        Finding::PrivilegeSchemaWritesRevoked {
            account,
            level,
            object,
            privileges,
        } => {
            let level = match level {
                GrantLevel::Database => "database",
                GrantLevel::Table => "table",
                GrantLevel::Column => "column",
                GrantLevel::Routine => "routine",
            };
            format!(
                "Revoked write access to the mysql schema from account {account} (a {level}-level grant on {object}): {}; at most SELECT remains there.",
                privileges.join(", ")
            )
        }
        Finding::SystemAccountLocked { account } => {
            format!("Account {account} had been unlocked; it was locked again.")
        }
        Finding::ForeignObjectDropped { definer, object } => format!(
            "Dropped {object}: it would run as {definer}, ferry's administrative account, and ferry did not create it."
        ),
        Finding::OwnRoutineChanged { object } => format!(
            "ferry's {object} had been changed or removed; it was installed again."
        ),
    }
}

fn describe_origin(o: &S3Origin) -> String {
    if o.prefix.is_empty() {
        format!("Amazon S3 bucket {}", o.bucket)
    } else {
        format!("Amazon S3 bucket {}, prefix {}", o.bucket, o.prefix)
    }
}

fn replication_notice(notice: &ReplicationNotice) -> (String, &'static str) {
    use ReplicationNotice as N;
    match notice {
        N::Configured {
            host,
            port,
            ssl,
            gtid,
        } => (
            format!(
                "Replication source set to {host}:{port} ({}, {}).",
                if *gtid {
                    "GTID auto-positioning"
                } else {
                    "binary log file and position"
                },
                if *ssl { "SSL" } else { "no SSL" }
            ),
            CONFIGURATION,
        ),
        N::Started => (
            "Replication started by mysql.rds_start_replication.".into(),
            NOTIFICATION,
        ),
        N::Stopped => (
            "Replication stopped by mysql.rds_stop_replication.".into(),
            NOTIFICATION,
        ),
        N::Reset => (
            "Replication reset by mysql.rds_reset_external_master: the cluster no longer has an external source.".into(),
            CONFIGURATION,
        ),
        N::ErrorSkipped { error } => (
            format!("Replication error skipped by mysql.rds_skip_repl_error: {error}"),
            NOTIFICATION,
        ),
        N::SslMaterialImported => ("Replication SSL material imported.".into(), CONFIGURATION),
        N::SslMaterialRemoved => ("Replication SSL material removed.".into(), CONFIGURATION),
        N::Resumed {
            realigned,
            unchecked,
        } => {
            let mut text = "Replication resumed after the DB instance started.".to_owned();
            if let Some(r) = realigned {
                text.push_str(&format!(
                    " The replica had committed transaction {} after it last recorded its position: it resumed after it, at {}:{} of the source's binary log, rather than at {}:{}.",
                    r.gtid, r.to.file, r.to.pos, r.from.file, r.from.pos
                ));
            }
            if let Some(why) = unchecked {
                text.push_str(&format!(
                    " ferry could not check the replica's position against the source's binary log ({why}); after an unclean stop one transaction may be applied twice."
                ));
            }
            (text, NOTIFICATION)
        }
        N::ResumeFailed { error } => (
            format!("Replication could not be resumed after the DB instance started: {error}"),
            FAILURE,
        ),
        N::MasterLogAdvanced { file } => (
            format!("Replication moved to the start of the source's binary log {file} by mysql.rds_next_master_log."),
            CONFIGURATION,
        ),
    }
}

fn replication_transition(t: &Transition) -> (String, &'static str) {
    match t {
        Transition::Started => (
            "Replication is running: both replica threads are up.".into(),
            NOTIFICATION,
        ),
        Transition::Stopped => ("Replication is not running.".into(), NOTIFICATION),
        Transition::Broke { error } => (
            format!("Replication stopped with an error: {error}"),
            FAILURE,
        ),
        Transition::CaughtUp => (
            "Replication caught up with the source: lag is 0 seconds.".into(),
            NOTIFICATION,
        ),
    }
}

/// Where events go: the store. A failure to record is logged, not returned: the work the
/// event reports has already happened.
#[derive(Clone, Copy)]
pub(crate) struct Events<'a>(pub(crate) &'a Store);

impl Events<'_> {
    pub(crate) fn cluster(&self, id: &ClusterId, event: ClusterEvent<'_>) {
        let (text, category) = event.render();
        self.record(NewEvent::cluster(id, text, &[category]));
    }

    pub(crate) fn instance(&self, id: &InstanceId, event: InstanceEvent<'_>) {
        let (text, category) = event.render();
        self.record(NewEvent::instance(id, text, &[category]));
    }

    fn record(&self, event: NewEvent) {
        let source = event.source_id.clone();
        if let Err(e) = self.0.add_event(event) {
            tracing::error!(source = %source, error = %flatten(&e), "cannot record an event");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_carry_their_cause_chain_once() {
        let id = ClusterId::new_unchecked("c1");
        let inner = std::io::Error::other("disk full.");
        let err = crate::ControlError::Io {
            action: "write",
            path: "/x/y".into(),
            source: inner,
        };
        let (text, cat) = ClusterEvent::CreateFailed {
            id: &id,
            origin: None,
            data_dir: Utf8Path::new("/x"),
            reason: &err,
        }
        .render();
        assert_eq!(cat, "failure");
        assert_eq!(
            text,
            "Failed to create DB cluster c1. Reason: write /x/y: disk full."
        );
    }

    #[test]
    fn a_full_filesystem_is_named_first() {
        let id = ClusterId::new_unchecked("c1");
        let render = |reason: &(dyn std::error::Error + 'static)| {
            ClusterEvent::CreateFailed {
                id: &id,
                origin: None,
                data_dir: Utf8Path::new("/data"),
                reason,
            }
            .render()
            .0
        };
        // As an `io::Error` in the chain ...
        let err = crate::ControlError::Io {
            action: "write",
            path: "/data/clusters/c1/restoring/ibdata1".into(),
            source: std::io::Error::from_raw_os_error(28),
        };
        assert!(is_storage_full(&err));
        let text = render(&err);
        assert!(
            text.starts_with(
                "Failed to create DB cluster c1. Reason: the filesystem of the data directory /data is full (No space left on device): write /data/clusters/c1/restoring/ibdata1: "
            ),
            "{text}"
        );
        // ... and as text from a child or the restore pipeline.
        let err = std::io::Error::other(
            "backup set full: write /data/staging/c1/x.ibd: No space left on device (os error 28)",
        );
        assert!(is_storage_full(&err));
        assert!(render(&err).contains("is full (No space left on device)"));
        let err = std::io::Error::other(
            "InnoDB: preallocating 12582912 bytes for file ./ibtmp1 failed with error 28",
        );
        assert!(is_storage_full(&err));
        // Other failures read as before.
        let err = std::io::Error::from_raw_os_error(13);
        assert!(!is_storage_full(&err));
        assert!(!render(&err).contains("is full"));
    }

    #[test]
    fn many_locked_accounts_are_summarised() {
        let accounts: Vec<String> = (0..25).map(|i| format!("'u{i}'@'%'")).collect();
        let (text, _) = ClusterEvent::AccountsLocked {
            accounts: &accounts,
        }
        .render();
        assert!(text.starts_with("25 account(s) restored from the source were locked: 'u0'@'%'"));
        assert!(text.contains(" and 5 more."), "{text}");
    }
}
