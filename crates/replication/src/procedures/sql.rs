//! The SQL text of the replication tables and procedures.
//!
//! Each public procedure is one `CALL` of the private helper [`HELPER`](super::HELPER_PROCEDURE)
//! with its action name and its arguments as a `JSON_OBJECT` (for
//! `rds_import_binlog_ssl_material`, the material text itself, which is JSON already: wrapping
//! it would escape every quote and line break and eat into the 15 000 characters a request row
//! holds). The helper's protocol with the agent:
//!
//! 1. refuse to run inside a transaction (`sql_log_bin` cannot change there: error 1694);
//! 2. with `sql_log_bin = 0` for that one statement, insert a `pending` row: action, caller
//!    (`USER()`: the client account, not the definer), connection id, time, arguments;
//! 3. poll the row every 50 ms until the agent sets `done` or `failed` (or 120 s pass);
//! 4. delete the row (again with `sql_log_bin = 0` for that statement only);
//! 5. `done`: one result set with one row (column `Message`) per line of the answer (at most
//!    two lines; an empty answer gives no result set); `failed`: `SIGNAL SQLSTATE '45000'`
//!    with the answer as `MESSAGE_TEXT` (error 1644).
//!
//! `sql_log_bin` is turned off only around the two writes, not for the whole wait: a call
//! killed while waiting must not leave the caller's session with binary logging off.
//! (`KILL QUERY`, what Ctrl-C in the `mariadb` client sends, ends the call with error 1317
//! and leaves its row behind, which the agent drops unperformed unless it had already taken
//! the call: [`crate::agent`]. The wait sleeps with `SET v = SLEEP(...)`: `DO SLEEP(...)`
//! swallows the kill on MariaDB 10.11 and the wait would go on.) A write that fails (the in-memory table is full) restores `sql_log_bin`
//! before the error reaches the caller, who could not turn binary logging off otherwise. The
//! caller's `LAST_INSERT_ID()` is restored too.

use super::{HELPER_PROCEDURE, HISTORY_TABLE, REQUEST_TABLE, SCHEMA, STATUS_TABLE};
use crate::procedures::Action;

/// How long a procedure waits for the agent before giving up.
pub const AGENT_TIMEOUT_SECS: u32 = 120;
/// The longest argument text a request row holds (`VARCHAR(15000)`, utf8mb4). A MEMORY table
/// has fixed-size rows of at most 65 535 bytes and no `TEXT`.
pub const MAX_ARGS_CHARS: usize = 15_000;
/// The longest answer a request row holds.
pub const MAX_MESSAGE_CHARS: usize = 1_000;
/// The longest text the helper passes to `SIGNAL`: MariaDB refuses a `MESSAGE_TEXT` over 512
/// characters (error 1648) and cuts the error packet at 511 bytes; the agent keeps answers
/// shorter than this in bytes already.
const SIGNAL_CHARS: usize = 500;

/// The `sql_mode` the routines are created with (and so run with): strict, so a wrong
/// argument type (`'abc'` for a port, `-1` for a position) is an error rather than a silent 0,
/// and without `NO_BACKSLASH_ESCAPES`.
pub(super) const SQL_MODE: &str =
    "STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION";

/// The definer: ferry's admin account.
fn definer() -> String {
    format!(
        "`{}`@`{}`",
        ferry_engine::accounts::ADMIN_USER,
        ferry_engine::accounts::ADMIN_HOST
    )
}

/// How `information_schema.ROUTINES.DEFINER` prints [`definer`].
pub(super) fn definer_for_information_schema() -> String {
    format!(
        "{}@{}",
        ferry_engine::accounts::ADMIN_USER,
        ferry_engine::accounts::ADMIN_HOST
    )
}

/// FNV-1a, 64 bits: a stable fingerprint of a routine's text (not a security measure: it only
/// tells whether the installed text is this build's).
fn fingerprint(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// The history and status tables: created if missing, never dropped (they are the record).
pub(super) fn persistent_tables() -> Vec<String> {
    vec![
        format!(
            "CREATE TABLE IF NOT EXISTS {SCHEMA}.{HISTORY_TABLE} (\n\
             id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,\n\
             called_at DATETIME(6) NOT NULL COMMENT 'when the procedure was called (server time)',\n\
             caller VARCHAR(384) CHARACTER SET utf8mb3 NOT NULL COMMENT 'USER() of the caller',\n\
             action VARCHAR(64) CHARACTER SET ascii NOT NULL,\n\
             arguments VARCHAR(2000) CHARACTER SET utf8mb4 NOT NULL DEFAULT '' \
             COMMENT 'arguments without passwords or key material',\n\
             result ENUM('ok','error') NOT NULL,\n\
             message VARCHAR(1000) CHARACTER SET utf8mb4 NOT NULL DEFAULT '',\n\
             duration_ms BIGINT UNSIGNED NOT NULL,\n\
             KEY called_at (called_at)\n\
             ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 \
             COMMENT='ferry: one row per call of a mysql.rds_* replication procedure'"
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {SCHEMA}.{STATUS_TABLE} (\n\
             id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,\n\
             called_at DATETIME(6) NOT NULL,\n\
             caller VARCHAR(384) CHARACTER SET utf8mb3 NOT NULL,\n\
             action VARCHAR(64) CHARACTER SET ascii NOT NULL,\n\
             state ENUM('set','started','stopped','reset') NOT NULL \
             COMMENT 'the intended replication state after the action; the newest row wins',\n\
             master_host VARCHAR(255) CHARACTER SET utf8mb4 NULL,\n\
             master_port INT UNSIGNED NULL,\n\
             master_log_file VARCHAR(255) CHARACTER SET utf8mb4 NULL,\n\
             master_log_pos BIGINT UNSIGNED NULL,\n\
             using_gtid TINYINT(1) NULL,\n\
             ssl_encryption TINYINT(1) NULL\n\
             ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 \
             COMMENT='ferry: changes of the intended replication state'"
        ),
    ]
}

fn request_table_body() -> String {
    format!(
        "CREATE TABLE {SCHEMA}.{REQUEST_TABLE} (\n\
         id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,\n\
         action VARCHAR(64) CHARACTER SET ascii NOT NULL,\n\
         caller VARCHAR(384) CHARACTER SET utf8mb3 NOT NULL,\n\
         connection_id BIGINT UNSIGNED NOT NULL,\n\
         created_at DATETIME(6) NOT NULL,\n\
         state ENUM('pending','working','done','failed') NOT NULL DEFAULT 'pending',\n\
         args VARCHAR({MAX_ARGS_CHARS}) CHARACTER SET utf8mb4 NOT NULL DEFAULT '',\n\
         message VARCHAR({MAX_MESSAGE_CHARS}) CHARACTER SET utf8mb4 NOT NULL DEFAULT ''\n\
         ) ENGINE=MEMORY"
    )
}

/// The request table's comment: names it and fingerprints its definition.
pub(super) fn request_table_comment() -> String {
    format!(
        "ferry: replication procedure calls in flight; {}",
        fingerprint(&request_table_body())
    )
}

pub(super) fn request_table() -> String {
    format!(
        "{} COMMENT='{}'",
        request_table_body(),
        request_table_comment()
    )
}

/// One routine to install.
pub(super) struct Routine {
    pub name: String,
    /// The comment it carries (with the fingerprint), to compare with the installed one.
    pub comment: String,
    /// `CREATE OR REPLACE DEFINER=… PROCEDURE …`.
    pub create: String,
}

fn routine(name: &str, params: &str, body: &str) -> Routine {
    let tail = format!("({params})\nSQL SECURITY DEFINER\nMODIFIES SQL DATA\n");
    let comment = format!(
        "ferry-managed replication procedure {}",
        fingerprint(&format!("{name}{tail}{body}{SQL_MODE}"))
    );
    Routine {
        name: name.to_owned(),
        create: format!(
            "CREATE OR REPLACE DEFINER={} PROCEDURE {SCHEMA}.{name}{tail}COMMENT '{comment}'\n{body}",
            definer()
        ),
        comment,
    }
}

/// The helper first (the public procedures call it), then the nine public procedures.
pub(super) fn routines() -> Vec<Routine> {
    let text = "VARCHAR(255) CHARACTER SET utf8mb4";
    let mut all = vec![helper()];
    for action in Action::ALL {
        let (params, args): (String, String) = match action {
            Action::SetExternalMaster => (
                format!(
                    "IN host_name {text}, IN host_port INT, IN replication_user_name {text}, \
                     IN replication_user_password {text}, IN mysql_binary_log_file_name {text}, \
                     IN mysql_binary_log_file_location BIGINT UNSIGNED, \
                     IN ssl_encryption TINYINT(1)"
                ),
                "JSON_OBJECT('host_name', host_name, 'host_port', host_port, \
                 'replication_user_name', replication_user_name, \
                 'replication_user_password', replication_user_password, \
                 'mysql_binary_log_file_name', mysql_binary_log_file_name, \
                 'mysql_binary_log_file_location', mysql_binary_log_file_location, \
                 'ssl_encryption', ssl_encryption)"
                    .to_owned(),
            ),
            Action::SetExternalMasterWithAutoPosition => (
                format!(
                    "IN host_name {text}, IN host_port INT, IN replication_user_name {text}, \
                     IN replication_user_password {text}, IN ssl_encryption TINYINT(1)"
                ),
                "JSON_OBJECT('host_name', host_name, 'host_port', host_port, \
                 'replication_user_name', replication_user_name, \
                 'replication_user_password', replication_user_password, \
                 'ssl_encryption', ssl_encryption)"
                    .to_owned(),
            ),
            Action::NextMasterLog => (
                "IN curr_master_log INT".to_owned(),
                "JSON_OBJECT('curr_master_log', curr_master_log)".to_owned(),
            ),
            Action::ImportBinlogSslMaterial => (
                format!("IN ssl_material VARCHAR({MAX_ARGS_CHARS}) CHARACTER SET utf8mb4"),
                "ssl_material".to_owned(),
            ),
            Action::StartReplication
            | Action::StopReplication
            | Action::ResetExternalMaster
            | Action::SkipReplError
            | Action::RemoveBinlogSslMaterial => (String::new(), "'{}'".to_owned()),
        };
        let body = format!(
            "CALL {SCHEMA}.{HELPER_PROCEDURE}('{}', {args})",
            action.as_str()
        );
        all.push(routine(action.procedure(), &params, &body));
    }
    all
}

/// `mysql.ferry_rds_request(action, args)`: the request/answer protocol described in the
/// module docs.
fn helper() -> Routine {
    let params = format!(
        "IN p_action VARCHAR(64) CHARACTER SET ascii, \
         IN p_args VARCHAR({MAX_ARGS_CHARS}) CHARACTER SET utf8mb4"
    );
    let request = format!("{SCHEMA}.{REQUEST_TABLE}");
    let body = format!(
        r#"BEGIN
  DECLARE v_id BIGINT UNSIGNED;
  DECLARE v_old_insert_id BIGINT UNSIGNED;
  DECLARE v_old_log_bin INT;
  DECLARE v_state VARCHAR(16);
  DECLARE v_message VARCHAR({MAX_MESSAGE_CHARS}) CHARACTER SET utf8mb4 DEFAULT '';
  DECLARE v_error VARCHAR({SIGNAL_CHARS}) CHARACTER SET utf8mb4 DEFAULT '';
  DECLARE v_deadline DATETIME(6);
  DECLARE v_found INT DEFAULT 1;
  DECLARE v_slept INT DEFAULT 0;
  DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_found = 0;

  IF @@in_transaction THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT =
      'The replication procedures cannot run inside a transaction. Run COMMIT or ROLLBACK first (autocommit=1 is needed).';
  END IF;
  IF p_args IS NULL THEN
    SET p_args = '';
  END IF;

  SET v_old_insert_id = LAST_INSERT_ID();
  SET v_old_log_bin = @@session.sql_log_bin;
  BEGIN
    DECLARE EXIT HANDLER FOR SQLEXCEPTION
    BEGIN
      SET SESSION sql_log_bin = v_old_log_bin;
      RESIGNAL;
    END;
    SET SESSION sql_log_bin = 0;
    INSERT INTO {request} (action, caller, connection_id, created_at, args)
      VALUES (p_action, USER(), CONNECTION_ID(), NOW(6), p_args);
    SET v_id = LAST_INSERT_ID();
    SET SESSION sql_log_bin = v_old_log_bin;
  END;
  DO LAST_INSERT_ID(v_old_insert_id);

  SET v_deadline = NOW(6) + INTERVAL {AGENT_TIMEOUT_SECS} SECOND;
  wait_for_agent: LOOP
    SET v_found = 1;
    SELECT state, message INTO v_state, v_message FROM {request} WHERE id = v_id;
    IF v_found = 0 OR v_state IN ('done', 'failed') OR NOW(6) >= v_deadline THEN
      LEAVE wait_for_agent;
    END IF;
    -- Not DO: it swallows a KILL QUERY (Ctrl-C in the client) and the wait would go on.
    SET v_slept = SLEEP(0.05);
  END LOOP wait_for_agent;

  BEGIN
    DECLARE EXIT HANDLER FOR SQLEXCEPTION
    BEGIN
      SET SESSION sql_log_bin = v_old_log_bin;
      RESIGNAL;
    END;
    SET SESSION sql_log_bin = 0;
    DELETE FROM {request} WHERE id = v_id;
    SET SESSION sql_log_bin = v_old_log_bin;
  END;

  IF v_found = 0 THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT =
      'ferry''s replication agent lost this request (was the server restarted?). Call the procedure again.';
  ELSEIF v_state = 'failed' THEN
    SET v_error = LEFT(v_message, {SIGNAL_CHARS});
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = v_error;
  ELSEIF v_state <> 'done' THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT =
      'ferry''s replication agent did not answer within {AGENT_TIMEOUT_SECS} s; is ferry serve running?';
  ELSEIF v_message <> '' THEN
    SELECT SUBSTRING_INDEX(v_message, CHAR(10), 1) AS Message;
    IF LOCATE(CHAR(10), v_message) > 0 THEN
      SELECT SUBSTRING(v_message, LOCATE(CHAR(10), v_message) + 1) AS Message;
    END IF;
  END IF;
END"#
    );
    routine(HELPER_PROCEDURE, &params, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_routine_is_owned_by_the_admin_and_fingerprinted() {
        let routines = routines();
        assert_eq!(routines.len(), 10);
        for r in &routines {
            assert!(
                r.create.starts_with(&format!(
                    "CREATE OR REPLACE DEFINER=`ferry_admin`@`localhost` PROCEDURE mysql.{}(",
                    r.name
                )),
                "{}",
                r.create
            );
            assert!(r.create.contains("SQL SECURITY DEFINER"));
            assert!(r.create.contains(&r.comment));
            // The comment must fit information_schema's ROUTINE_COMMENT as is.
            assert!(r.comment.len() < 64, "{}", r.comment);
        }
        let names: std::collections::HashSet<_> = routines.iter().map(|r| &r.comment).collect();
        assert_eq!(
            names.len(),
            routines.len(),
            "fingerprints differ per routine"
        );
    }

    #[test]
    fn fingerprints_are_stable() {
        assert_eq!(fingerprint(""), "cbf29ce484222325");
        assert_eq!(fingerprint("a"), "af63dc4c8601ec8c");
    }
}
