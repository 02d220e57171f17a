//! What the procedures answer: RDS's texts where RDS has one (aws-reference §3), ferry's own
//! in the same style where it has none. One-row answers are result sets (column `Message`);
//! errors are `SIGNAL SQLSTATE '45000'` (error 1644) with the text as `MESSAGE_TEXT`.

// --- Answers (result rows).

/// `rds_start_replication` (RDS 5.x / Aurora).
pub const STARTED: &str = "Slave running normally.";
/// `rds_stop_replication`.
pub const STOPPED: &str = "Slave is down or disabled";
/// `rds_reset_external_master`.
pub const RESET: &str = "Slave has been reset";
/// `rds_import_binlog_ssl_material`.
pub const SSL_IMPORTED: &str = "SSL material import complete.";
/// `rds_remove_binlog_ssl_material` (RDS documents no text).
pub const SSL_REMOVED: &str = "SSL material removed.";
/// `rds_remove_binlog_ssl_material` when nothing was imported.
pub const SSL_NOTHING_TO_REMOVE: &str = "No SSL material was imported.";
/// `rds_skip_repl_error`: two rows.
pub const SKIPPED: &str = "Statement in error has been skipped\nSlave is now running normally";
/// `rds_next_master_log`.
pub const NEXT_LOG: &str = "Master Log Position has been set to start of next log";

// --- Errors.

/// Setting the source (either variant) while a replication thread runs.
pub const MODIFY_WHILE_RUNNING: &str = "You can't modify replication because replication is \
     running. First call mysql.rds_stop_replication.";
pub const START_NOT_CONFIGURED: &str = "You can't start replication because the replica isn't \
     configured. First call mysql.rds_set_external_master.";
/// Both threads already run.
pub const START_ALREADY_RUNNING: &str =
    "Replication may already be running. Call rds_stop_replication to stop replication";
/// One thread runs.
pub const START_PARTLY_RUNNING: &str =
    "Replication might be running. First call mysql.rds_stop_replication.";
/// Started, but a thread reported an error within the wait.
pub const START_ERROR: &str =
    "Slave has encountered an error. Run SHOW SLAVE STATUS\\G; to see the error.";
pub const STOP_NOT_CONFIGURED: &str = "You can't stop replication because the replica isn't \
     configured. First call mysql.rds_set_external_master.";
pub const STOP_ALREADY_STOPPED: &str =
    "Slave is already stopped or may not be configured. Run SHOW SLAVE STATUS\\G;";
pub const RESET_NOT_CONFIGURED: &str = "You can't reset replication because replication isn't \
     configured. First run mysql.rds_set_external_master.";
pub const SKIP_NOT_CONFIGURED: &str = "You can't skip a replication error because the replica \
     isn't configured. First call mysql.rds_set_external_master.";
/// Two spaces, as RDS.
pub const SKIP_NO_ERROR: &str = "Slave is running normally.  No errors detected to skip.";
pub const SKIP_DOWN: &str = "Slave is down or disabled.";
pub const SKIP_NEW_ERROR: &str =
    "Slave has encountered a new error. Please use SHOW SLAVE STATUS to see the error.";
pub const NEXT_LOG_NOT_CONFIGURED: &str = "You can't move to the next master log because the \
     replica isn't configured. First call mysql.rds_set_external_master.";
pub const NEXT_LOG_WITH_GTID: &str = "mysql.rds_next_master_log does not apply: the replica \
     positions itself by GTID (mysql.rds_set_external_master_with_auto_position).";
/// `ssl_encryption = 1` before `rds_import_binlog_ssl_material`.
pub const SSL_MATERIAL_MISSING: &str = "ssl_encryption = 1 needs SSL material. First call \
     mysql.rds_import_binlog_ssl_material.";
/// Starting a link configured with SSL after the material was removed.
pub const START_SSL_MATERIAL_MISSING: &str = "Replication is set to use SSL but the SSL \
     material was removed. Call mysql.rds_import_binlog_ssl_material first.";
pub const REMOVE_SSL_WHILE_RUNNING: &str = "You can't remove the SSL material because \
     replication uses it and is running. First call mysql.rds_stop_replication.";
pub const AUTO_POSITION_WITHOUT_GTID: &str = "You can't use auto position: the replica has no \
     GTID position (gtid_slave_pos is empty). Call mysql.rds_set_external_master with the \
     binary log file and position instead.";
/// A request row the agent claimed in an earlier run and never answered (ferry stopped or
/// lost its connection mid-call).
pub const LOST: &str = "ferry's replication agent was interrupted while handling this call. \
     Check SHOW SLAVE STATUS and call the procedure again.";
/// An action ferry does not know (a procedure from a newer ferry).
pub const UNKNOWN_ACTION: &str = "This replication procedure is not supported by the running \
     ferry. Upgrade ferry or reinstall the procedures.";

/// The longest answer, in bytes: MariaDB cuts an error message at 511 bytes and refuses a
/// `MESSAGE_TEXT` over 512 characters (error 1648), so answers stay below both.
pub const MAX_ANSWER_BYTES: usize = 500;

/// `text` cut to [`MAX_ANSWER_BYTES`] at a character boundary, with `...` when cut.
pub fn fit(text: &str) -> String {
    if text.len() <= MAX_ANSWER_BYTES {
        return text.to_owned();
    }
    let mut end = MAX_ANSWER_BYTES - 3;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_fits_a_signal() {
        for text in [
            STARTED,
            STOPPED,
            RESET,
            SSL_IMPORTED,
            SKIPPED,
            NEXT_LOG,
            MODIFY_WHILE_RUNNING,
            START_NOT_CONFIGURED,
            START_ALREADY_RUNNING,
            START_PARTLY_RUNNING,
            START_ERROR,
            STOP_NOT_CONFIGURED,
            STOP_ALREADY_STOPPED,
            RESET_NOT_CONFIGURED,
            SKIP_NOT_CONFIGURED,
            SKIP_NO_ERROR,
            SKIP_DOWN,
            SKIP_NEW_ERROR,
            NEXT_LOG_NOT_CONFIGURED,
            NEXT_LOG_WITH_GTID,
            SSL_MATERIAL_MISSING,
            START_SSL_MATERIAL_MISSING,
            REMOVE_SSL_WHILE_RUNNING,
            AUTO_POSITION_WITHOUT_GTID,
            LOST,
            UNKNOWN_ACTION,
        ] {
            assert_eq!(fit(text), text);
            assert!(!text.contains("  ") || text == SKIP_NO_ERROR, "{text:?}");
        }
        assert_eq!(
            MODIFY_WHILE_RUNNING,
            "You can't modify replication because replication is running. First call \
             mysql.rds_stop_replication."
        );
    }

    #[test]
    fn long_answers_are_cut_at_a_character_boundary() {
        let long = "é".repeat(400);
        let cut = fit(&long);
        assert!(cut.len() <= MAX_ANSWER_BYTES, "{}", cut.len());
        assert!(cut.ends_with("..."));
        assert!(cut.trim_end_matches("...").chars().all(|c| c == 'é'));
    }
}
