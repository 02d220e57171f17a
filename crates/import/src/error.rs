//! The loader's errors: each names the dump, the line and the statement's beginning where
//! one is involved.

/// Why an import stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The dump cannot be parsed.
    #[error("{source_name}: {error}")]
    Parse {
        source_name: String,
        #[source]
        error: ferry_dump::ParseError,
    },
    /// A statement failed (and `continue_on_error` was not given).
    #[error("{file}, line {line}: `{head}`: {error}")]
    Statement {
        file: String,
        line: u64,
        head: String,
        error: String,
    },
    /// The target cannot be reached (after the retries).
    #[error("connect to {target}: {error}")]
    Connect { target: String, error: String },
    /// The progress file or the target's import state is unusable.
    #[error("{0}")]
    State(String),
    #[error("host: {0}")]
    Host(#[from] HostError),
    #[error("{what}: {error}")]
    Io {
        what: String,
        #[source]
        error: std::io::Error,
    },
}

impl ImportError {
    pub(crate) fn io(what: impl Into<String>, error: std::io::Error) -> ImportError {
        ImportError::Io {
            what: what.into(),
            error,
        }
    }
}

/// An error from a [`crate::Host`] (the control plane, for a ferry cluster).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HostError(pub String);

/// Whether a driver error means the connection is gone (the work may be retried on a new
/// one): a broken socket, CR_SERVER_GONE / CR_SERVER_LOST, a server shutting down or the
/// connection killed.
pub(crate) fn is_connection_lost(e: &mysql_async::Error) -> bool {
    match e {
        mysql_async::Error::Server(s) => matches!(s.code, 1053 | 1927 | 2006 | 2013),
        mysql_async::Error::Io(_) | mysql_async::Error::Driver(_) => true,
        mysql_async::Error::Other(_) | mysql_async::Error::Url(_) => false,
    }
}

/// The server's error code, if the server answered with one.
pub(crate) fn server_code(e: &mysql_async::Error) -> Option<u16> {
    match e {
        mysql_async::Error::Server(s) => Some(s.code),
        _ => None,
    }
}
