//! The crate's error type. Messages name the object (cluster server, source, file) and what
//! is wrong; they may reach users through events, so they never contain passwords or keys.

/// Errors of the replication layer. Causes are in `source()`, not repeated in the message.
#[derive(Debug, thiserror::Error)]
pub enum ReplicationError {
    /// A SQL statement on the cluster's own server failed.
    #[error("{what} on the cluster's server failed")]
    Replica {
        what: String,
        #[source]
        source: mysql_async::Error,
    },
    /// Connecting to, or a statement on, the replication source failed.
    #[error("{what} on the source {endpoint} failed")]
    Source {
        what: String,
        endpoint: String,
        #[source]
        source: mysql_async::Error,
    },
    /// A source URL or endpoint that cannot be used.
    #[error("invalid source {0}")]
    InvalidSource(String),
    /// A file ferry keeps for replication (SSL material, source credentials).
    #[error("{what} {path}")]
    File {
        what: String,
        path: camino::Utf8PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The server answered something ferry cannot interpret.
    #[error("unexpected answer from the server: {0}")]
    Unexpected(String),
    /// Waiting for something (a position, an answer) ran out of time.
    #[error("{0}")]
    Timeout(String),
    /// The source could not be reached or refused the connection (TLS, authentication); the
    /// cause is in `source()`.
    #[error("cannot connect to the source {endpoint}")]
    SourceConnect {
        endpoint: String,
        #[source]
        source: mysql_async::Error,
    },
    /// The source URL asks for TLS but the source server does not offer it.
    #[error("the source {endpoint} does not offer TLS, but its ssl-mode requires it (ssl-mode=DISABLED connects without)")]
    SourceTlsUnavailable { endpoint: String },
    /// The source has no binary log, so there is no position to replicate from.
    #[error("the source {endpoint} has no binary log (log_bin is OFF); replication needs one")]
    SourceNoBinlog { endpoint: String },
    /// Imported SSL material failed validation; the message is the one the procedure shows.
    #[error(transparent)]
    SslMaterial(#[from] crate::ssl::SslMaterialError),
    /// An argument ferry was given that it cannot use (the message says which and why,
    /// without quoting secrets).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// ferry keeps no credentials for the source (they could not be written when replication
    /// was set up), so it cannot ask the source anything.
    #[error("ferry does not keep the source's credentials")]
    NoSourceCredentials,
    /// Replication is not configured on the cluster's server (`SHOW SLAVE STATUS` is empty).
    #[error("replication is not configured on the cluster's server")]
    NotConfigured,
    /// Replication is configured but not running (stopped, or stopped on an error).
    #[error("replication is not running on the cluster's server{}", match .error { Some(error) => format!(": {error}"), None => String::new() })]
    NotRunning { error: Option<String> },
}
