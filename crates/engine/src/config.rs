//! [`ServerConfig`]: everything ferry decides about one server process, rendered into the
//! `my.cnf` that server is started with (`--defaults-file=`), so `/etc/mysql` and `~/.my.cnf`
//! are never read and a person can read exactly what ran.
//!
//! Rendering is deterministic (same config, same bytes) and validated first: an unusable path,
//! an over-long socket path or an option that would override a managed field is an error before
//! any process starts.

use camino::{Utf8Path, Utf8PathBuf};

use crate::error::EngineError;

/// File names inside a server's run directory (see the on-disk layout in ARCHITECTURE.md).
pub const CONFIG_FILE: &str = "my.cnf";
pub const ERROR_LOG_FILE: &str = "mariadbd.log";
pub const PID_FILE: &str = "mariadbd.pid";
pub const SOCKET_FILE: &str = "mysqld.sock";

/// The kernel's limit on a unix socket path (`sun_path` is 108 bytes including the NUL).
pub const MAX_SOCKET_PATH: usize = 107;
/// The server's private temporary directory, in its run dir.
pub const TMP_DIR: &str = "tmp";

/// Options rendered from fields; `extra` must not set them (normalised to `-` form).
const MANAGED_OPTIONS: &[&str] = &[
    "datadir",
    "port",
    "bind-address",
    "socket",
    "pid-file",
    "log-error",
    "tmpdir",
    "server-id",
    "log-bin",
    "skip-log-bin",
    "binlog-format",
    "gtid-strict-mode",
    "innodb-buffer-pool-size",
    "innodb-log-file-size",
    "max-connections",
    "skip-name-resolve",
    "skip-grant-tables",
    "skip-networking",
    "skip-slave-start",
    "user",
];

/// The binary log's settings, when it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinlogConfig {
    /// `log-bin` base name, e.g. `mysql-bin` (files `mysql-bin.000001`, ... in the datadir).
    pub basename: String,
    pub format: BinlogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinlogFormat {
    Row,
    Mixed,
    Statement,
}

impl BinlogFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            BinlogFormat::Row => "ROW",
            BinlogFormat::Mixed => "MIXED",
            BinlogFormat::Statement => "STATEMENT",
        }
    }
}

/// One server's configuration. Build with [`ServerConfig::new`] and adjust the public fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    pub datadir: Utf8PathBuf,
    /// TCP port; must be non-zero unless `skip_networking`.
    pub port: u16,
    pub bind_address: String,
    /// Unix socket path; at most [`MAX_SOCKET_PATH`] bytes.
    pub socket: Utf8PathBuf,
    pub pid_file: Utf8PathBuf,
    /// Temporary files (implicit temporary tables, filesort): private to this server, never
    /// the shared `/tmp`, where other processes can see or remove them. Created at start.
    pub tmpdir: Utf8PathBuf,
    /// The server's own error log (`log-error`); ferry also appends the process's early
    /// stdout/stderr here, with a `---- ferry: ...` marker line per start.
    pub log_error: Utf8PathBuf,
    pub server_id: u32,
    /// `None`: binary log off (`skip-log-bin`).
    pub binlog: Option<BinlogConfig>,
    pub gtid_strict: bool,
    pub buffer_pool_bytes: u64,
    /// `innodb-log-file-size`; `None` keeps the server's default.
    pub redo_log_bytes: Option<u64>,
    pub max_connections: u32,
    /// No DNS lookups for client hosts (faster connects, no surprises from resolvers).
    pub skip_name_resolve: bool,
    /// Start with privilege checks off: for datadirs whose accounts ferry does not know yet.
    pub skip_grant_tables: bool,
    /// No TCP listener; unix socket only.
    pub skip_networking: bool,
    /// Do not start replication threads on startup (`skip-slave-start`): a restored datadir
    /// that carries replica state must not start replicating before ferry says so.
    pub skip_replica_start: bool,
    /// Further `[mysqld]` options in order, `(name, value)`; an empty value renders a bare
    /// flag (`name` alone). Names must not be ones the fields above manage.
    pub extra: Vec<(String, String)>,
    /// When ferry runs as root: the OS user the server runs as (`--user=`), which must own the
    /// datadir; `None` runs it as root. Ignored when ferry is not root (it cannot switch).
    pub os_user: Option<crate::os_user::OsUser>,
    /// Confine the server with Landlock ([`crate::sandbox`]) to these paths plus its own
    /// datadir, run dir, tmpdir and program tree; `None` runs it unconfined.
    pub sandbox: Option<crate::sandbox::SandboxSpec>,
}

impl ServerConfig {
    /// A config for a server on `datadir` with its socket, pid file and error log in
    /// `run_dir` (named [`SOCKET_FILE`], [`PID_FILE`], [`ERROR_LOG_FILE`]), listening on
    /// 127.0.0.1:`port`, binary log off, 128 MiB buffer pool.
    pub fn new(datadir: impl Into<Utf8PathBuf>, run_dir: &Utf8Path, port: u16) -> Self {
        ServerConfig {
            datadir: datadir.into(),
            port,
            bind_address: "127.0.0.1".to_owned(),
            socket: run_dir.join(SOCKET_FILE),
            pid_file: run_dir.join(PID_FILE),
            tmpdir: run_dir.join(TMP_DIR),
            log_error: run_dir.join(ERROR_LOG_FILE),
            server_id: 1,
            binlog: None,
            gtid_strict: false,
            buffer_pool_bytes: 128 << 20,
            redo_log_bytes: None,
            max_connections: 151,
            skip_name_resolve: true,
            skip_grant_tables: false,
            skip_networking: false,
            skip_replica_start: true,
            extra: Vec::new(),
            os_user: None,
            sandbox: None,
        }
    }

    /// `host:port` for messages (or the socket when networking is off).
    pub fn endpoint(&self) -> String {
        if self.skip_networking {
            self.socket.to_string()
        } else {
            format!("{}:{}", self.bind_address, self.port)
        }
    }

    /// Checks everything [`render`](ServerConfig::render) relies on.
    pub fn validate(&self) -> Result<(), EngineError> {
        let invalid = |field: &str, reason: String| EngineError::InvalidConfig {
            field: field.to_owned(),
            reason,
        };
        for (field, path) in [
            ("datadir", &self.datadir),
            ("socket", &self.socket),
            ("pid_file", &self.pid_file),
            ("tmpdir", &self.tmpdir),
            ("log_error", &self.log_error),
        ] {
            if !path.is_absolute() {
                return Err(invalid(field, format!("{path:?} must be an absolute path")));
            }
            check_value(path.as_str()).map_err(|reason| invalid(field, reason))?;
        }
        if self.socket.as_str().len() > MAX_SOCKET_PATH {
            return Err(invalid(
                "socket",
                format!(
                    "{} is {} bytes long; unix socket paths must be at most {MAX_SOCKET_PATH} bytes \
                     (use a shorter run directory)",
                    self.socket,
                    self.socket.as_str().len()
                ),
            ));
        }
        if !self.skip_networking && self.port == 0 {
            return Err(invalid(
                "port",
                "must be non-zero (the server reads 0 as its default, 3306)".to_owned(),
            ));
        }
        if self.bind_address.is_empty() {
            return Err(invalid("bind_address", "must not be empty".to_owned()));
        }
        check_value(&self.bind_address).map_err(|reason| invalid("bind_address", reason))?;
        if let Some(binlog) = &self.binlog {
            if self.server_id == 0 {
                return Err(invalid(
                    "server_id",
                    "must be non-zero when the binary log is on (replicas refuse server id 0)"
                        .to_owned(),
                ));
            }
            let ok = !binlog.basename.is_empty()
                && binlog
                    .basename
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
            if !ok {
                return Err(invalid(
                    "binlog.basename",
                    format!(
                        "{:?} must be a plain file name ([A-Za-z0-9._-])",
                        binlog.basename
                    ),
                ));
            }
        }
        if self.buffer_pool_bytes == 0 {
            return Err(invalid("buffer_pool_bytes", "must be non-zero".to_owned()));
        }
        if self.redo_log_bytes == Some(0) {
            return Err(invalid("redo_log_bytes", "must be non-zero".to_owned()));
        }
        for (name, value) in &self.extra {
            let field = format!("extra option {name:?}");
            let well_formed = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
            if !well_formed {
                return Err(invalid(
                    &field,
                    "option names are [A-Za-z0-9._-]".to_owned(),
                ));
            }
            let normalised = name.replace('_', "-");
            let base = normalised
                .strip_prefix("loose-")
                .unwrap_or(&normalised)
                .to_owned();
            if MANAGED_OPTIONS.contains(&base.as_str()) {
                return Err(invalid(
                    &field,
                    "is managed by a ServerConfig field; set that field instead".to_owned(),
                ));
            }
            check_value(value).map_err(|reason| invalid(&field, reason))?;
        }
        Ok(())
    }

    /// The `my.cnf` text. Deterministic. Call [`validate`](ServerConfig::validate) first;
    /// rendering an invalid config gives a file the server may misread.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# Generated by ferry for one server process; ferry rewrites it on every start.\n",
        );
        out.push_str("[mysqld]\n");
        let mut opt = |name: &str, value: &str| {
            out.push_str(name);
            if !value.is_empty() {
                out.push_str(" = ");
                out.push_str(&option_value(value));
            }
            out.push('\n');
        };
        opt("datadir", self.datadir.as_str());
        opt("socket", self.socket.as_str());
        opt("pid-file", self.pid_file.as_str());
        opt("log-error", self.log_error.as_str());
        opt("tmpdir", self.tmpdir.as_str());
        if self.skip_networking {
            opt("skip-networking", "");
        } else {
            opt("port", &self.port.to_string());
            opt("bind-address", &self.bind_address);
        }
        opt("server-id", &self.server_id.to_string());
        match &self.binlog {
            Some(binlog) => {
                opt("log-bin", &binlog.basename);
                opt("binlog-format", binlog.format.as_str());
            }
            None => opt("skip-log-bin", ""),
        }
        opt(
            "gtid-strict-mode",
            if self.gtid_strict { "ON" } else { "OFF" },
        );
        opt(
            "innodb-buffer-pool-size",
            &self.buffer_pool_bytes.to_string(),
        );
        if let Some(bytes) = self.redo_log_bytes {
            opt("innodb-log-file-size", &bytes.to_string());
        }
        opt("max-connections", &self.max_connections.to_string());
        if self.skip_name_resolve {
            opt("skip-name-resolve", "");
        }
        if self.skip_grant_tables {
            opt("skip-grant-tables", "");
        }
        if self.skip_replica_start {
            opt("skip-slave-start", "");
        }
        for (name, value) in &self.extra {
            opt(name, value);
        }
        out.push_str("\n[client]\n");
        out.push_str(&format!(
            "socket = {}\n",
            option_value(self.socket.as_str())
        ));
        if !self.skip_networking {
            out.push_str(&format!("port = {}\n", self.port));
        }
        out
    }
}

/// Values the option-file parser cannot carry: line breaks and other control characters.
fn check_value(value: &str) -> Result<(), String> {
    if value.chars().any(char::is_control) {
        return Err(format!(
            "{value:?} contains a control character (e.g. a line break)"
        ));
    }
    Ok(())
}

/// An option-file value: bare when it is plain, else double-quoted with `\\`, `\"` and line
/// breaks escaped (the parser strips the quotes and turns `\n`, `\r`, `\t`, `\b`, `\\`, `\"`
/// back; quotes also keep `#` from starting a comment and keep surrounding spaces).
pub(crate) fn option_value(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:,+@%=".contains(c));
    if plain {
        return value.to_owned();
    }
    let mut quoted = String::with_capacity(value.len() + 2);
    quoted.push('"');
    for c in value.chars() {
        match c {
            '\\' => quoted.push_str("\\\\"),
            '"' => quoted.push_str("\\\""),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            '\t' => quoted.push_str("\\t"),
            '\u{8}' => quoted.push_str("\\b"),
            other => quoted.push(other),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ServerConfig {
        let mut cfg = ServerConfig::new("/srv/ferry/i1/data", Utf8Path::new("/srv/ferry/i1"), 3307);
        cfg.server_id = 7;
        cfg.binlog = Some(BinlogConfig {
            basename: "mysql-bin".to_owned(),
            format: BinlogFormat::Row,
        });
        cfg.gtid_strict = true;
        cfg.buffer_pool_bytes = 64 << 20;
        cfg.redo_log_bytes = Some(8 << 20);
        cfg.extra = vec![
            ("innodb_flush_log_at_trx_commit".to_owned(), "2".to_owned()),
            ("character-set-server".to_owned(), "utf8mb4".to_owned()),
            ("skip-log-error-timestamps".to_owned(), String::new()),
        ];
        cfg
    }

    #[test]
    fn renders_every_field_in_a_fixed_order() {
        let expected = "\
# Generated by ferry for one server process; ferry rewrites it on every start.
[mysqld]
datadir = /srv/ferry/i1/data
socket = /srv/ferry/i1/mysqld.sock
pid-file = /srv/ferry/i1/mariadbd.pid
log-error = /srv/ferry/i1/mariadbd.log
tmpdir = /srv/ferry/i1/tmp
port = 3307
bind-address = 127.0.0.1
server-id = 7
log-bin = mysql-bin
binlog-format = ROW
gtid-strict-mode = ON
innodb-buffer-pool-size = 67108864
innodb-log-file-size = 8388608
max-connections = 151
skip-name-resolve
skip-slave-start
innodb_flush_log_at_trx_commit = 2
character-set-server = utf8mb4
skip-log-error-timestamps

[client]
socket = /srv/ferry/i1/mysqld.sock
port = 3307
";
        let cfg = sample();
        cfg.validate().expect("valid");
        assert_eq!(cfg.render(), expected);
        assert_eq!(cfg.render(), cfg.clone().render());
    }

    #[test]
    fn renders_binlog_off_no_networking_and_skip_grants() {
        let mut cfg = sample();
        cfg.binlog = None;
        cfg.skip_networking = true;
        cfg.skip_grant_tables = true;
        cfg.validate().expect("valid");
        let text = cfg.render();
        assert!(text.contains("\nskip-log-bin\n"), "{text}");
        assert!(text.contains("\nskip-networking\n"), "{text}");
        assert!(text.contains("\nskip-grant-tables\n"), "{text}");
        assert!(!text.contains("port"), "{text}");
        assert_eq!(cfg.endpoint(), "/srv/ferry/i1/mysqld.sock");
    }

    #[test]
    fn quotes_paths_with_spaces_quotes_and_hashes() {
        let mut cfg = sample();
        cfg.datadir = Utf8PathBuf::from("/srv/my data/#1 \"x\"\\y");
        cfg.validate().expect("valid");
        assert!(cfg
            .render()
            .contains("datadir = \"/srv/my data/#1 \\\"x\\\"\\\\y\"\n"));
    }

    #[test]
    fn rejects_what_cannot_be_rendered_or_would_misbehave() {
        type Mutation = Box<dyn Fn(&mut ServerConfig)>;
        let cases: Vec<(&str, Mutation)> = vec![
            ("datadir", Box::new(|c| c.datadir = "relative/data".into())),
            ("datadir", Box::new(|c| c.datadir = "/a\nb".into())),
            (
                "socket",
                Box::new(|c| c.socket = Utf8PathBuf::from(format!("/{}", "s".repeat(120)))),
            ),
            ("port", Box::new(|c| c.port = 0)),
            ("server_id", Box::new(|c| c.server_id = 0)),
            (
                "binlog.basename",
                Box::new(|c| {
                    if let Some(b) = c.binlog.as_mut() {
                        b.basename = "../x".to_owned();
                    }
                }),
            ),
            (
                "extra option \"innodb_buffer_pool_size\"",
                Box::new(|c| {
                    c.extra
                        .push(("innodb_buffer_pool_size".to_owned(), "1G".to_owned()));
                }),
            ),
            (
                "extra option \"loose-port\"",
                Box::new(|c| c.extra.push(("loose-port".to_owned(), "1".to_owned()))),
            ),
            (
                "extra option \"a b\"",
                Box::new(|c| c.extra.push(("a b".to_owned(), "1".to_owned()))),
            ),
        ];
        for (field, mutate) in cases {
            let mut cfg = sample();
            mutate(&mut cfg);
            match cfg.validate() {
                Err(EngineError::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: expected InvalidConfig, got {other:?}"),
            }
        }
    }

    #[test]
    fn port_zero_is_fine_without_networking() {
        let mut cfg = sample();
        cfg.port = 0;
        cfg.skip_networking = true;
        cfg.validate().expect("valid");
    }
}
