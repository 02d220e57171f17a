//! The `[console]` table: how long a web console session lives.
//!
//! ```toml
//! [console]
//! session_idle_secs = 1800           # signed out after this long without a page (1 s to 1 day)
//! session_max_secs = 43200           # and this long after signing in, whatever (60 s to 7 days)
//! ```

use std::time::Duration;

use serde::Deserialize;

use super::bounded::bounded;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsoleConfig {
    /// A session unused for this long is over.
    pub session_idle: Duration,
    /// A session is over this long after its sign-in, used or not.
    pub session_max: Duration,
}

impl Default for ConsoleConfig {
    fn default() -> ConsoleConfig {
        ConsoleConfig {
            session_idle: Duration::from_secs(30 * 60),
            session_max: Duration::from_secs(12 * 3600),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConsole {
    session_idle_secs: Option<u64>,
    session_max_secs: Option<u64>,
}

/// Validates the table: `Err((key, reason))`.
pub(super) fn console(raw: RawConsole) -> Result<ConsoleConfig, (&'static str, String)> {
    let d = ConsoleConfig::default();
    let secs = |key, v: Option<u64>, range, default| {
        Ok::<_, (&'static str, String)>(
            bounded(key, v, range, "seconds")?.map_or(default, Duration::from_secs),
        )
    };
    let c = ConsoleConfig {
        session_idle: secs(
            "console.session_idle_secs",
            raw.session_idle_secs,
            1..=86_400,
            d.session_idle,
        )?,
        session_max: secs(
            "console.session_max_secs",
            raw.session_max_secs,
            60..=7 * 86_400,
            d.session_max,
        )?,
    };
    if c.session_idle > c.session_max {
        return Err((
            "console.session_idle_secs",
            "is longer than console.session_max_secs".to_string(),
        ));
    }
    Ok(c)
}
