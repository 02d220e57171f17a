//! A string that must not reach a log: passwords, secret access keys, session tokens, private
//! keys.
//!
//! A struct holding one derives `Debug` as usual and still prints `<redacted>` in its place;
//! the value is only reachable through [`Secret::expose`], a call that is easy to grep for and
//! to review. It serializes as the plain string (serde `transparent`), for the files ferry
//! keeps on purpose (0600, see [`crate::fs::write_private_file`]): serializing a struct that
//! holds a secret writes the secret.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A secret string. `Debug` and `Display` print `<redacted>`, never the value; equality is
/// checked in constant time for equal lengths.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for the one place that must hand it on (a connection, a signature, a
    /// private file). Keep what you build from it short-lived and out of messages.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value is the empty string (an account without a password).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret(value.to_owned())
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Secret) -> bool {
        constant_time_eq(self.0.as_bytes(), other.0.as_bytes())
    }
}

impl Eq for Secret {}

/// Compares without an early exit on the first differing byte, so the time taken does not
/// tell how much of a guess was right. (Only the length can differ in time.)
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // black_box keeps the optimiser from turning the fold back into an early exit.
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
    struct Login {
        user: String,
        password: Secret,
        token: Option<Secret>,
    }

    #[test]
    fn never_shown_in_debug_or_display() {
        let login = Login {
            user: "repl".into(),
            password: Secret::new("hunter2"),
            token: Some("tok3n".into()),
        };
        let shown = format!("{login:?} {login:#?} {}", login.password);
        assert!(
            !shown.contains("hunter2") && !shown.contains("tok3n"),
            "{shown}"
        );
        assert!(shown.contains("repl"), "{shown}");
        assert_eq!(format!("{:?}", login.password), "<redacted>");
        assert_eq!(login.password.to_string(), "<redacted>");
        assert_eq!(login.password.expose(), "hunter2");
    }

    #[test]
    fn serializes_as_the_plain_string() {
        let login = Login {
            user: "repl".into(),
            password: Secret::from(String::from("s3cr3t")),
            token: None,
        };
        let json = serde_json::to_string(&login).unwrap();
        assert_eq!(json, r#"{"user":"repl","password":"s3cr3t","token":null}"#);
        assert_eq!(serde_json::from_str::<Login>(&json).unwrap(), login);
    }

    #[test]
    fn equality_compares_values() {
        assert_eq!(Secret::new("abc"), Secret::from("abc"));
        assert_ne!(Secret::new("abc"), Secret::new("abd"));
        assert_ne!(Secret::new("abc"), Secret::new("abcd"));
        assert_eq!(Secret::default(), Secret::new(""));
        assert!(Secret::default().is_empty());
    }
}
