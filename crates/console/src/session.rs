//! Console sessions: signing in with an access key, the session cookie, CSRF tokens.
//!
//! - Sign-in checks the access key id and secret against the control plane's keys (the same
//!   ones SigV4 verifies with; an inactive key is unknown), comparing secrets in constant
//!   time. Each sign-in makes a new session (a fresh random token), so a
//!   token seen before sign-in is never a signed-in one.
//! - The cookie holds only the token: `HttpOnly`, `SameSite=Strict`, `Path=/console`, and
//!   `Secure` when the console is served over TLS. The server keeps the SHA-256 of each
//!   token, never the token itself, with the key it was made for.
//! - A session ends when unused for `session_idle`, `session_max` after its sign-in, at
//!   sign-out, and when its access key is no longer active (asked on every page).
//! - Every form carries the session's CSRF token; a POST without it (or with another) is
//!   refused. The sign-in form, before any session, uses a token bound to a short-lived
//!   pre-session cookie (double submit).
//!
//! Sessions live in memory: a restart of `ferry serve` signs everyone out.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ferry_control::config::ConsoleConfig;
use sha2::{Digest, Sha256};

/// The session cookie's name.
pub const COOKIE: &str = "ferry_session";
/// The pre-session cookie of the sign-in form.
pub const PRE_COOKIE: &str = "ferry_signin";

/// A signed-in session, as a page sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub access_key_id: String,
    pub user_name: String,
    /// The token every form of this session carries.
    pub csrf: String,
}

struct Entry {
    session: Session,
    signed_in: Instant,
    last_seen: Instant,
}

/// Why a request has no session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoSession {
    /// No cookie, or one the server does not know.
    Missing,
    /// The session timed out (idle or absolute); the sign-in page says so.
    Expired,
}

pub struct Sessions {
    by_hash: Mutex<HashMap<[u8; 32], Entry>>,
    /// Wizard values waiting for their Launch (they hold the master password, which is
    /// never sent back to the browser): by wizard id, with the key that made them.
    stash: Mutex<HashMap<String, Stashed>>,
    config: ConsoleConfig,
}

struct Stashed {
    access_key_id: String,
    values: Vec<(String, String)>,
    at: Instant,
}

impl Sessions {
    pub fn new(config: ConsoleConfig) -> Sessions {
        Sessions {
            by_hash: Mutex::new(HashMap::new()),
            stash: Mutex::new(HashMap::new()),
            config,
        }
    }

    /// Makes a session for a verified key; returns the cookie's token.
    pub fn create(&self, access_key_id: &str, user_name: &str) -> String {
        let token = random_token();
        let now = Instant::now();
        let entry = Entry {
            session: Session {
                access_key_id: access_key_id.to_string(),
                user_name: user_name.to_string(),
                csrf: random_token(),
            },
            signed_in: now,
            last_seen: now,
        };
        let mut map = self.lock();
        // Expired sessions go when new ones come: the map holds only live ones and recent
        // leftovers.
        let config = self.config;
        map.retain(|_, e| live(&config, e, now));
        map.insert(hash(&token), entry);
        token
    }

    /// The session of `token`, marking it used now.
    pub fn get(&self, token: &str) -> Result<Session, NoSession> {
        self.get_at(token, Instant::now())
    }

    fn get_at(&self, token: &str, now: Instant) -> Result<Session, NoSession> {
        let key = hash(token);
        let mut map = self.lock();
        let Some(entry) = map.get_mut(&key) else {
            return Err(NoSession::Missing);
        };
        if !live(&self.config, entry, now) {
            map.remove(&key);
            return Err(NoSession::Expired);
        }
        entry.last_seen = now;
        Ok(entry.session.clone())
    }

    /// Ends the session of `token` (sign-out, or its key is gone).
    pub fn remove(&self, token: &str) {
        self.lock().remove(&hash(token));
    }

    /// Keeps a wizard's values for `s`'s key until its Launch (or the session idle time);
    /// returns the id its review page carries.
    pub fn stash(&self, s: &Session, values: Vec<(String, String)>) -> String {
        let id = random_token();
        let mut map = self
            .stash
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let idle = self.config.session_idle;
        map.retain(|_, v| v.at.elapsed() < idle);
        map.insert(
            id.clone(),
            Stashed {
                access_key_id: s.access_key_id.clone(),
                values,
                at: Instant::now(),
            },
        );
        id
    }

    /// The values stashed under `id` by `s`'s key (taken: a Launch uses them once).
    pub fn take_stash(&self, s: &Session, id: &str) -> Option<Vec<(String, String)>> {
        let mut map = self
            .stash
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let fresh = map.get(id).is_some_and(|v| {
            v.access_key_id == s.access_key_id && v.at.elapsed() < self.config.session_idle
        });
        if !fresh {
            return None;
        }
        map.remove(id).map(|v| v.values)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Entry>> {
        self.by_hash
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    #[cfg(test)]
    fn age(&self, token: &str, by: Duration) {
        if let Some(e) = self.lock().get_mut(&hash(token)) {
            e.signed_in -= by;
            e.last_seen -= by;
        }
    }
}

fn live(config: &ConsoleConfig, e: &Entry, now: Instant) -> bool {
    now.duration_since(e.last_seen) < config.session_idle
        && now.duration_since(e.signed_in) < config.session_max
}

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// 32 bytes from a cryptographically secure generator seeded by the OS (`rand::rng()`, as
/// the control plane makes access keys), as 64 hex digits.
pub fn random_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two secrets without stopping at the first difference.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

/// A `Set-Cookie` value for `name`; `max_age` `None` is a session cookie, `Some(0)` deletes it.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age: Option<Duration>) -> String {
    let mut out = format!("{name}={value}; Path=/console; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        out.push_str(&format!("; Max-Age={}", age.as_secs()));
    }
    if secure {
        out.push_str("; Secure");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sessions() -> Sessions {
        Sessions::new(ConsoleConfig {
            session_idle: Duration::from_secs(60),
            session_max: Duration::from_secs(600),
        })
    }

    #[test]
    fn a_session_lives_while_used_and_ends_idle_or_old() {
        let s = sessions();
        let token = s.create("AKIA1", "alice");
        let got = s.get(&token).unwrap();
        assert_eq!(
            (got.access_key_id.as_str(), got.user_name.as_str()),
            ("AKIA1", "alice")
        );
        assert_eq!(got.csrf.len(), 64);
        assert_eq!(s.get("not-a-token"), Err(NoSession::Missing));

        // Idle past the limit.
        s.age(&token, Duration::from_secs(61));
        assert_eq!(s.get(&token), Err(NoSession::Expired));
        assert_eq!(
            s.get(&token),
            Err(NoSession::Missing),
            "removed once expired"
        );

        // Used all along, but past the absolute limit.
        let token = s.create("AKIA1", "alice");
        let start = Instant::now();
        for minute in 1..=10u64 {
            let at = start + Duration::from_secs(minute * 59);
            let r = s.get_at(&token, at);
            if minute * 59 < 600 {
                assert!(r.is_ok(), "minute {minute}");
            } else {
                assert_eq!(r, Err(NoSession::Expired));
            }
        }
    }

    #[test]
    fn tokens_are_fresh_and_sign_out_ends_the_session() {
        let s = sessions();
        let a = s.create("AKIA1", "alice");
        let b = s.create("AKIA1", "alice");
        assert_ne!(a, b);
        assert_ne!(s.get(&a).unwrap().csrf, s.get(&b).unwrap().csrf);
        s.remove(&a);
        assert_eq!(s.get(&a), Err(NoSession::Missing));
        assert!(s.get(&b).is_ok());
    }

    #[test]
    fn cookies_are_read_and_written_with_their_flags() {
        let h = "theme=dark; ferry_session=abc123; other=1";
        assert_eq!(cookie(h, COOKIE), Some("abc123"));
        assert_eq!(cookie(h, "missing"), None);
        assert_eq!(
            set_cookie(COOKIE, "t", false, None),
            "ferry_session=t; Path=/console; HttpOnly; SameSite=Strict"
        );
        assert_eq!(
            set_cookie(COOKIE, "", true, Some(Duration::ZERO)),
            "ferry_session=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0; Secure"
        );
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
        assert!(!same_secret("", "a"));
    }
}
