//! The master user's account options (`REQUIRE`, resource limits, password expiry, lock), as
//! stored in `mysql.global_priv`: read before [`set_master_user`] clears them, so the report
//! can say what a restored source had set, and read again to check they are gone.
//!
//! [`set_master_user`]: super::set_master_user

use mysql_async::prelude::Queryable;

use super::MASTER_USER_HOST;
use crate::accounts::Session;
use crate::error::EngineError;

/// The account's options in `mysql.global_priv`, as JSON text values (`NULL` when a key is
/// absent, which means the default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct AccountOptions {
    ssl_type: Option<String>,
    max_questions: Option<String>,
    max_updates: Option<String>,
    max_connections: Option<String>,
    max_user_connections: Option<String>,
    max_statement_time: Option<String>,
    password_lifetime: Option<String>,
    password_last_changed: Option<String>,
    account_locked: Option<String>,
}

impl AccountOptions {
    /// The options that differ from what [`set_master_user`](super::set_master_user) sets, as
    /// `CREATE USER` words.
    pub(super) fn describe(&self) -> Vec<String> {
        // A value that is present and not zero (`0`, `0.000000`).
        let set = |value: &Option<String>| -> Option<String> {
            let value = value.as_deref()?.trim();
            let zero = value.parse::<f64>().is_ok_and(|number| number == 0.0);
            (!zero).then(|| value.to_owned())
        };
        let mut options = Vec::new();
        if let Some(ssl) = set(&self.ssl_type) {
            options.push(match ssl.as_str() {
                "1" => "REQUIRE SSL".to_owned(),
                "2" => "REQUIRE X509".to_owned(),
                "3" => "REQUIRE ISSUER/SUBJECT/CIPHER".to_owned(),
                other => format!("REQUIRE (ssl_type {other})"),
            });
        }
        for (value, name) in [
            (&self.max_questions, "MAX_QUERIES_PER_HOUR"),
            (&self.max_updates, "MAX_UPDATES_PER_HOUR"),
            (&self.max_connections, "MAX_CONNECTIONS_PER_HOUR"),
            (&self.max_user_connections, "MAX_USER_CONNECTIONS"),
            (&self.max_statement_time, "MAX_STATEMENT_TIME"),
        ] {
            if let Some(value) = set(value) {
                options.push(format!("{name} {value}"));
            }
        }
        // -1 (or no key) is the server's default lifetime, 0 is NEVER: neither expires early.
        if let Some(days) = set(&self.password_lifetime).filter(|d| d != "-1") {
            options.push(format!("PASSWORD EXPIRE INTERVAL {days} DAY"));
        }
        if self.password_last_changed.as_deref() == Some("0") {
            options.push("PASSWORD EXPIRE".to_owned());
        }
        if matches!(self.account_locked.as_deref(), Some("1" | "true")) {
            options.push("ACCOUNT LOCK".to_owned());
        }
        options
    }
}

/// The master user's account options that [`set_master_user`](super::set_master_user)
/// clears (see [`AccountOptions::describe`]).
pub(super) async fn account_options(
    session: &mut Session<'_>,
    user: &str,
) -> Result<Vec<String>, EngineError> {
    let on_error = session.error("read the master user's account options");
    type Row = (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let row: Option<Row> = session
        .conn
        .exec_first(
            "SELECT JSON_VALUE(Priv, '$.ssl_type'), JSON_VALUE(Priv, '$.max_questions'), \
             JSON_VALUE(Priv, '$.max_updates'), JSON_VALUE(Priv, '$.max_connections'), \
             JSON_VALUE(Priv, '$.max_user_connections'), \
             JSON_VALUE(Priv, '$.max_statement_time'), JSON_VALUE(Priv, '$.password_lifetime'), \
             JSON_VALUE(Priv, '$.password_last_changed'), JSON_VALUE(Priv, '$.account_locked') \
             FROM mysql.global_priv WHERE User = ? AND Host = ?",
            (user, MASTER_USER_HOST),
        )
        .await
        .map_err(on_error)?;
    let Some((a, b, c, d, e, f, g, h, i)) = row else {
        return Ok(Vec::new());
    };
    Ok(AccountOptions {
        ssl_type: a,
        max_questions: b,
        max_updates: c,
        max_connections: d,
        max_user_connections: e,
        max_statement_time: f,
        password_lifetime: g,
        password_last_changed: h,
        account_locked: i,
    }
    .describe())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_options_are_described_only_when_they_differ() {
        // What a fresh account, and one set up by set_master_user, look like.
        let clean = AccountOptions {
            ssl_type: Some("0".into()),
            max_questions: Some("0".into()),
            max_updates: Some("0".into()),
            max_connections: Some("0".into()),
            max_user_connections: Some("0".into()),
            max_statement_time: Some("0.000000".into()),
            password_lifetime: Some("-1".into()),
            password_last_changed: Some("1795480582".into()),
            account_locked: Some("0".into()),
        };
        assert!(clean.describe().is_empty());
        assert!(AccountOptions::default().describe().is_empty());
        let never = AccountOptions {
            password_lifetime: Some("0".into()),
            ..clean.clone()
        };
        assert!(
            never.describe().is_empty(),
            "NEVER does not lock anyone out"
        );

        let restrictive = AccountOptions {
            ssl_type: Some("1".into()),
            max_questions: Some("5".into()),
            max_user_connections: Some("3".into()),
            max_statement_time: Some("2.000000".into()),
            password_lifetime: Some("90".into()),
            password_last_changed: Some("0".into()),
            account_locked: Some("1".into()),
            ..clean.clone()
        };
        assert_eq!(
            restrictive.describe(),
            [
                "REQUIRE SSL",
                "MAX_QUERIES_PER_HOUR 5",
                "MAX_USER_CONNECTIONS 3",
                "MAX_STATEMENT_TIME 2.000000",
                "PASSWORD EXPIRE INTERVAL 90 DAY",
                "PASSWORD EXPIRE",
                "ACCOUNT LOCK",
            ]
        );
        let x509 = AccountOptions {
            ssl_type: Some("3".into()),
            max_user_connections: Some("-1".into()),
            ..clean
        };
        assert_eq!(
            x509.describe(),
            ["REQUIRE ISSUER/SUBJECT/CIPHER", "MAX_USER_CONNECTIONS -1"]
        );
    }
}
