//! The replication source: where it is, how ferry connects to it, and what it says about its
//! binary log.
//!
//! ferry talks to the source itself for two things: the monitor reads the source's current
//! binlog position to measure true lag ([`crate::lag`]), and cutover sets the source read-only
//! and waits until the cluster has executed up to the source's final position. Both need a
//! [`SourceEndpoint`] (from a `mysql://` URL, or from the credentials given to
//! `mysql.rds_set_external_master`), [`read_position`] and [`set_read_only`].
//!
//! # Source URLs
//!
//! `mysql://user:password@host:port?ssl-mode=...&ssl-ca=...&ssl-cert=...&ssl-key=...`
//! (`mariadb://` too). User and password are percent-decoded; the port defaults to 3306; no
//! database may be named. `ssl-mode` takes the MySQL client's values:
//!
//! - `DISABLED`: plain TCP.
//! - `PREFERRED`, `REQUIRED`: TLS without checking the certificate, as replication does with
//!   `MASTER_SSL_VERIFY_SERVER_CERT=0`. `PREFERRED` never falls back to plain TCP: a source
//!   without TLS is an error ([`ReplicationError::SourceTlsUnavailable`]) rather than a
//!   silent downgrade.
//! - `VERIFY_CA`: the certificate must chain to `ssl-ca`.
//! - `VERIFY_IDENTITY`: that, and the certificate must name the host connected to.
//!
//! Without `ssl-mode`: `DISABLED` when no `ssl-*` parameter is given (the MariaDB client's
//! default), `VERIFY_CA` when `ssl-ca` is, `REQUIRED` when only `ssl-cert` / `ssl-key` are.
//! `ssl-cert` and `ssl-key` (a client certificate, for users created `REQUIRE X509`) go
//! together. File paths are read at connect time; write a `+` in them as `%2B`.
//!
//! Known limitation: mysql_async 0.37.1 does not honour "skip the host name check" with
//! rustls (blackbeam/mysql_async#404, fixed upstream but not released), so `VERIFY_CA`
//! currently also requires the certificate to name the host, like `VERIFY_IDENTITY`. Connect
//! by a name the certificate carries, or use `REQUIRED`. No change is needed here when the fix
//! ships.

use std::cmp::Ordering;
use std::fmt;
use std::time::Duration;

use camino::Utf8PathBuf;
use ferry_base::Secret;
use mysql_async::prelude::Queryable as _;
use mysql_async::{ClientIdentity, Conn, OptsBuilder, SslOpts};

use crate::ReplicationError;

/// The port a source URL without one uses.
pub const DEFAULT_PORT: u16 = 3306;
/// How long [`SourceEndpoint::connect`] waits for the source.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

const ER_PARSE_ERROR: u16 = 1064;
const ER_UNKNOWN_SYSTEM_VARIABLE: u16 = 1193;

/// A position in the source's binary log: a file name and a byte offset in it.
///
/// Ordered by the file's numeric suffix (`prefix.000009` < `prefix.000010`, whatever their
/// widths), then the position; files from different prefixes compare consistently but
/// meaninglessly.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct BinlogCoord {
    pub file: String,
    pub pos: u64,
}

impl BinlogCoord {
    pub fn new(file: impl Into<String>, pos: u64) -> BinlogCoord {
        BinlogCoord {
            file: file.into(),
            pos,
        }
    }

    /// The number after the file name's last `.` (`mysql-bin.000042` -> 42), if it is one.
    pub fn file_number(&self) -> Option<u64> {
        let (_, suffix) = self.file.rsplit_once('.')?;
        if suffix.is_empty() || !suffix.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        suffix.parse().ok()
    }

    /// The file name up to and without its last `.` (`mysql-bin.000042` -> `mysql-bin`); the
    /// whole name when it has no numeric suffix.
    pub fn file_prefix(&self) -> &str {
        match (self.file_number(), self.file.rsplit_once('.')) {
            (Some(_), Some((prefix, _))) => prefix,
            _ => &self.file,
        }
    }
}

impl Ord for BinlogCoord {
    fn cmp(&self, other: &Self) -> Ordering {
        self.file_number()
            .cmp(&other.file_number())
            .then_with(|| self.file.cmp(&other.file))
            .then_with(|| self.pos.cmp(&other.pos))
    }
}

impl PartialOrd for BinlogCoord {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for BinlogCoord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.pos)
    }
}

/// Where the source's binary log is now.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SourcePosition {
    pub coord: BinlogCoord,
    /// `@@gtid_binlog_pos` (MariaDB); `None` on sources without it (MySQL) or before any
    /// transaction was logged.
    pub gtid: Option<String>,
}

/// How the connection to the source is protected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceTls {
    /// Plain TCP.
    Off,
    /// TLS. `verify_server`: the source's certificate must chain to `ca` (`VERIFY_CA`);
    /// otherwise it is not checked (`REQUIRED`). `identity`: a client certificate and its key.
    Required {
        ca: Option<Utf8PathBuf>,
        identity: Option<(Utf8PathBuf, Utf8PathBuf)>,
        verify_server: bool,
    },
    /// TLS with the certificate chaining to `ca` and naming the host (`VERIFY_IDENTITY`).
    VerifyIdentity {
        ca: Utf8PathBuf,
        identity: Option<(Utf8PathBuf, Utf8PathBuf)>,
    },
}

/// A replication source and the account ferry uses on it. `Debug` and `Display` never show
/// the password (a [`Secret`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceEndpoint {
    pub host: String,
    pub port: u16,
    pub user: String,
    password: Secret,
    pub tls: SourceTls,
}

/// `user@host:port`, with an IPv6 host in brackets.
impl fmt::Display for SourceEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&describe(&self.user, &self.host, self.port))
    }
}

impl SourceEndpoint {
    pub fn new(
        host: impl Into<String>,
        port: u16,
        user: impl Into<String>,
        password: impl Into<Secret>,
        tls: SourceTls,
    ) -> SourceEndpoint {
        SourceEndpoint {
            host: host.into(),
            port,
            user: user.into(),
            password: password.into(),
            tls,
        }
    }

    /// The password (for writing ferry's private copy of the credentials; never log it).
    pub fn password(&self) -> &Secret {
        &self.password
    }

    /// Parses a source URL (see the module docs).
    pub fn from_url(url: &str) -> Result<SourceEndpoint, ReplicationError> {
        url::parse(url)
    }

    /// Connects over TCP (never a local socket, even for `localhost`), with TLS as
    /// [`SourceEndpoint::tls`] says, within [`CONNECT_TIMEOUT`].
    pub async fn connect(&self) -> Result<Conn, ReplicationError> {
        let opts = OptsBuilder::default()
            .ip_or_hostname(self.host.as_str())
            .tcp_port(self.port)
            .prefer_socket(false)
            .user(Some(self.user.as_str()))
            .pass(Some(self.password.expose()))
            .ssl_opts(self.ssl_opts()?);
        let endpoint = self.to_string();
        match tokio::time::timeout(CONNECT_TIMEOUT, Conn::new(opts)).await {
            Err(_) => Err(ReplicationError::Timeout(format!(
                "connecting to the source {endpoint} did not finish within {} s",
                CONNECT_TIMEOUT.as_secs()
            ))),
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(mysql_async::Error::Driver(
                mysql_async::DriverError::NoClientSslFlagFromServer,
            ))) => Err(ReplicationError::SourceTlsUnavailable { endpoint }),
            Ok(Err(source)) => Err(ReplicationError::SourceConnect { endpoint, source }),
        }
    }

    /// mysql_async's TLS options, after checking that the named files can be read (so a typo
    /// is reported with its path rather than as a connection failure).
    fn ssl_opts(&self) -> Result<Option<SslOpts>, ReplicationError> {
        let (ca, identity, verify_ca, verify_name) = match &self.tls {
            SourceTls::Off => return Ok(None),
            SourceTls::Required {
                ca,
                identity,
                verify_server,
            } => (ca.as_ref(), identity.as_ref(), *verify_server, false),
            SourceTls::VerifyIdentity { ca, identity } => (Some(ca), identity.as_ref(), true, true),
        };
        let mut files: Vec<(&str, &Utf8PathBuf)> = Vec::new();
        if let Some(ca) = ca {
            files.push(("ssl-ca", ca));
        }
        if let Some((cert, key)) = identity {
            files.push(("ssl-cert", cert));
            files.push(("ssl-key", key));
        }
        for (what, path) in files {
            std::fs::File::open(path).map_err(|source| ReplicationError::File {
                what: format!("cannot read the source's {what} file"),
                path: path.clone(),
                source,
            })?;
        }
        let mut opts = SslOpts::default()
            .with_danger_accept_invalid_certs(!verify_ca)
            .with_danger_skip_domain_validation(!verify_name);
        if let Some(ca) = ca {
            // Trust exactly the given CA, not the public web roots as well.
            opts = opts
                .with_root_certs(vec![ca.clone().into_std_path_buf().into()])
                .with_disable_built_in_roots(true);
        }
        if let Some((cert, key)) = identity {
            opts = opts.with_client_identity(Some(ClientIdentity::new(
                cert.clone().into_std_path_buf().into(),
                key.clone().into_std_path_buf().into(),
            )));
        }
        Ok(Some(opts))
    }
}

fn describe(user: &str, host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("{user}@[{host}]:{port}")
    } else {
        format!("{user}@{host}:{port}")
    }
}

/// `user@host:port` of a connection, for messages.
fn endpoint_of(conn: &Conn) -> String {
    let opts = conn.opts();
    describe(
        opts.user().unwrap_or(""),
        opts.ip_or_hostname(),
        opts.tcp_port(),
    )
}

fn source_error(conn: &Conn, what: &str) -> impl FnOnce(mysql_async::Error) -> ReplicationError {
    let endpoint = endpoint_of(conn);
    let what = what.to_owned();
    move |source| ReplicationError::Source {
        what,
        endpoint,
        source,
    }
}

fn server_code(err: &mysql_async::Error) -> Option<u16> {
    match err {
        mysql_async::Error::Server(server) => Some(server.code),
        _ => None,
    }
}

/// The source's current binlog position (`SHOW MASTER STATUS`, or `SHOW BINARY LOG STATUS` on
/// MySQL 8.4+) and GTID position (`@@gtid_binlog_pos`, MariaDB only).
///
/// The two are read one after the other: on a source taking writes they may describe slightly
/// different moments. After [`set_read_only`] they agree.
pub async fn read_position(conn: &mut Conn) -> Result<SourcePosition, ReplicationError> {
    let row: Option<mysql_async::Row> = match conn.query_first("SHOW MASTER STATUS").await {
        Ok(row) => row,
        Err(err) if server_code(&err) == Some(ER_PARSE_ERROR) => conn
            .query_first("SHOW BINARY LOG STATUS")
            .await
            .map_err(source_error(conn, "SHOW BINARY LOG STATUS"))?,
        Err(err) => return Err(source_error(conn, "SHOW MASTER STATUS")(err)),
    };
    let Some(row) = row else {
        return Err(ReplicationError::SourceNoBinlog {
            endpoint: endpoint_of(conn),
        });
    };
    let file: Option<String> = row.get_opt("File").and_then(Result::ok);
    let pos: Option<u64> = row.get_opt("Position").and_then(Result::ok);
    let (Some(file), Some(pos)) = (file, pos) else {
        return Err(ReplicationError::Unexpected(format!(
            "the source {} answered SHOW MASTER STATUS without a File and Position",
            endpoint_of(conn)
        )));
    };

    let gtid = match conn
        .query_first::<Option<String>, _>("SELECT @@GLOBAL.gtid_binlog_pos")
        .await
    {
        Ok(value) => value.flatten().filter(|gtid| !gtid.is_empty()),
        Err(err) if server_code(&err) == Some(ER_UNKNOWN_SYSTEM_VARIABLE) => None,
        Err(err) => return Err(source_error(conn, "SELECT @@gtid_binlog_pos")(err)),
    };
    Ok(SourcePosition {
        coord: BinlogCoord { file, pos },
        gtid,
    })
}

/// `SET GLOBAL read_only = ON|OFF` on the source. Turning it on waits for transactions that
/// are committing; afterwards accounts without `READ_ONLY ADMIN` (MariaDB 10.11) or `SUPER`
/// get error 1290 on writes. Needs such a privilege itself.
pub async fn set_read_only(conn: &mut Conn, on: bool) -> Result<(), ReplicationError> {
    let statement = if on {
        "SET GLOBAL read_only = ON"
    } else {
        "SET GLOBAL read_only = OFF"
    };
    conn.query_drop(statement)
        .await
        .map_err(source_error(conn, statement))
}

/// Source URL parsing.
mod url {
    use camino::Utf8PathBuf;

    use super::{SourceEndpoint, SourceTls, DEFAULT_PORT};
    use crate::ReplicationError;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Mode {
        Disabled,
        Required,
        VerifyCa,
        VerifyIdentity,
    }

    const KNOWN: &str = "known: ssl-mode, ssl-ca, ssl-cert, ssl-key";

    fn invalid(reason: impl Into<String>) -> ReplicationError {
        ReplicationError::InvalidSource(reason.into())
    }

    pub(super) fn parse(text: &str) -> Result<SourceEndpoint, ReplicationError> {
        let url = ::url::Url::parse(text).map_err(|err| {
            invalid(format!(
                "URL: {err} (expected mysql://user:password@host:port)"
            ))
        })?;
        if !matches!(url.scheme(), "mysql" | "mariadb") {
            return Err(invalid(format!(
                "URL: scheme {:?} (expected mysql://user:password@host:port)",
                url.scheme()
            )));
        }
        let host = match url.host() {
            Some(::url::Host::Domain(name)) => decode("host", name)?,
            Some(::url::Host::Ipv4(ip)) => ip.to_string(),
            Some(::url::Host::Ipv6(ip)) => ip.to_string(),
            None => return Err(invalid("URL: no host")),
        };
        if host.is_empty() {
            return Err(invalid("URL: no host"));
        }
        let port = url.port().unwrap_or(DEFAULT_PORT);
        if port == 0 {
            return Err(invalid("URL: port 0"));
        }
        let user = decode("user", url.username())?;
        if user.is_empty() {
            return Err(invalid("URL: no user (mysql://user:password@host:port)"));
        }
        let password = decode("password", url.password().unwrap_or(""))?;
        if !matches!(url.path(), "" | "/") {
            return Err(invalid(
                "URL: names a database; a source URL has none (remove the path)",
            ));
        }
        if url.fragment().is_some() {
            return Err(invalid("URL: has a #fragment"));
        }

        let (mut mode, mut ca, mut cert, mut key) = (None, None, None, None);
        for (name, value) in url.query_pairs() {
            let slot = match name.replace('_', "-").to_ascii_lowercase().as_str() {
                "ssl-mode" => {
                    mode = Some(match value.to_ascii_uppercase().as_str() {
                        "DISABLED" => Mode::Disabled,
                        "PREFERRED" | "REQUIRED" => Mode::Required,
                        "VERIFY-CA" | "VERIFY_CA" => Mode::VerifyCa,
                        "VERIFY-IDENTITY" | "VERIFY_IDENTITY" => Mode::VerifyIdentity,
                        other => {
                            return Err(invalid(format!(
                                "URL: ssl-mode={other} (expected DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY)"
                            )))
                        }
                    });
                    continue;
                }
                "ssl-ca" => &mut ca,
                "ssl-cert" => &mut cert,
                "ssl-key" => &mut key,
                _ => {
                    return Err(invalid(format!(
                        "URL: unknown parameter {name:?} ({KNOWN})"
                    )))
                }
            };
            if value.is_empty() {
                return Err(invalid(format!("URL: {name} is empty")));
            }
            *slot = Some(Utf8PathBuf::from(value.into_owned()));
        }

        let identity = match (cert, key) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            (Some(_), None) => return Err(invalid("URL: ssl-cert needs ssl-key")),
            (None, Some(_)) => return Err(invalid("URL: ssl-key needs ssl-cert")),
        };
        let mode = mode.unwrap_or(match (&ca, &identity) {
            (Some(_), _) => Mode::VerifyCa,
            (None, Some(_)) => Mode::Required,
            (None, None) => Mode::Disabled,
        });
        let tls = match mode {
            Mode::Disabled if ca.is_some() || identity.is_some() => {
                return Err(invalid(
                    "URL: ssl-mode=DISABLED contradicts ssl-ca / ssl-cert / ssl-key",
                ))
            }
            Mode::Disabled => SourceTls::Off,
            Mode::Required => SourceTls::Required {
                ca,
                identity,
                verify_server: false,
            },
            Mode::VerifyCa => SourceTls::Required {
                ca: Some(ca.ok_or_else(|| invalid("URL: ssl-mode=VERIFY_CA needs ssl-ca"))?),
                identity,
                verify_server: true,
            },
            Mode::VerifyIdentity => SourceTls::VerifyIdentity {
                ca: ca.ok_or_else(|| invalid("URL: ssl-mode=VERIFY_IDENTITY needs ssl-ca"))?,
                identity,
            },
        };
        Ok(SourceEndpoint::new(host, port, user, password, tls))
    }

    /// Percent-decodes a URL part (not `+`: in user info it is a plain character).
    fn decode(what: &str, text: &str) -> Result<String, ReplicationError> {
        let bytes = text.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|pair| std::str::from_utf8(pair).ok())
                    .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                    .ok_or_else(|| invalid(format!("URL: bad %-escape in the {what}")))?;
                out.push(hex);
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).map_err(|_| invalid(format!("URL: the {what} is not UTF-8")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_order_by_file_number_then_position() {
        let c = BinlogCoord::new;
        assert!(c("mysql-bin.000009", 900_000) < c("mysql-bin.000010", 4));
        assert!(c("mysql-bin.999999", 4) < c("mysql-bin.1000000", 4));
        assert!(c("mysql-bin.000010", 4) < c("mysql-bin.000010", 5));
        assert_eq!(
            c("b.000002", 7).cmp(&c("b.000002", 7)),
            std::cmp::Ordering::Equal
        );
        assert_eq!(c("mysql-bin.000042", 1).file_number(), Some(42));
        assert_eq!(c("mysql-bin.000042", 1).file_prefix(), "mysql-bin");
        assert_eq!(c("my.host-bin.000042", 1).file_prefix(), "my.host-bin");
        assert_eq!(c("oddname", 1).file_number(), None);
        assert_eq!(c("oddname", 1).file_prefix(), "oddname");
        assert_eq!(c("log.1e5", 1).file_number(), None);
        assert_eq!(
            c("mysql-bin.000003", 1234).to_string(),
            "mysql-bin.000003:1234"
        );
    }

    #[test]
    fn parses_urls_with_defaults_and_percent_escapes() {
        let ep = SourceEndpoint::from_url("mysql://repl:p%40ss%3Aw%2Fd+x@db.example.com").unwrap();
        assert_eq!(
            (
                ep.host.as_str(),
                ep.port,
                ep.user.as_str(),
                ep.password().expose()
            ),
            ("db.example.com", 3306, "repl", "p@ss:w/d+x")
        );
        assert_eq!(ep.tls, SourceTls::Off);

        let ep = SourceEndpoint::from_url("mariadb://r%C3%A9pl@[::1]:3307/").unwrap();
        assert_eq!(
            (ep.host.as_str(), ep.port, ep.user.as_str()),
            ("::1", 3307, "répl")
        );
        assert_eq!(ep.password().expose(), "");
        assert_eq!(ep.to_string(), "répl@[::1]:3307");

        let ep = SourceEndpoint::from_url(
            "mysql://u:p@127.0.0.1:3310?ssl-mode=verify_ca&ssl-ca=/etc/ca%2B1.pem&ssl-cert=/c.pem&ssl-key=/k.pem",
        )
        .unwrap();
        assert_eq!(
            ep.tls,
            SourceTls::Required {
                ca: Some("/etc/ca+1.pem".into()),
                identity: Some(("/c.pem".into(), "/k.pem".into())),
                verify_server: true,
            }
        );
    }

    #[test]
    fn picks_the_tls_mode_from_what_is_given() {
        let tls = |url: &str| SourceEndpoint::from_url(url).unwrap().tls;
        assert_eq!(
            tls("mysql://u@h?ssl-ca=/ca.pem"),
            SourceTls::Required {
                ca: Some("/ca.pem".into()),
                identity: None,
                verify_server: true
            }
        );
        assert_eq!(
            tls("mysql://u@h?ssl-cert=/c&ssl-key=/k"),
            SourceTls::Required {
                ca: None,
                identity: Some(("/c".into(), "/k".into())),
                verify_server: false
            }
        );
        for mode in ["REQUIRED", "PREFERRED"] {
            assert_eq!(
                tls(&format!("mysql://u@h?ssl-mode={mode}")),
                SourceTls::Required {
                    ca: None,
                    identity: None,
                    verify_server: false
                }
            );
        }
        assert_eq!(
            tls("mysql://u@h?ssl_mode=VERIFY_IDENTITY&ssl-ca=/ca"),
            SourceTls::VerifyIdentity {
                ca: "/ca".into(),
                identity: None
            }
        );
        assert_eq!(tls("mysql://u@h?ssl-mode=DISABLED"), SourceTls::Off);
    }

    #[test]
    fn refuses_bad_urls_saying_why() {
        for (url, needle) in [
            ("db.example.com:3306", "URL"),
            ("http://u@h", "scheme"),
            ("mysql://h:3306", "no user"),
            ("mysql://u@h:0", "port 0"),
            ("mysql://u@h:99999", "URL"),
            ("mysql://u@h/shop", "database"),
            ("mysql://u@h?sslmode=REQUIRED", "unknown parameter"),
            ("mysql://u@h?ssl-mode=MAYBE", "ssl-mode=MAYBE"),
            ("mysql://u@h?ssl-mode=VERIFY_CA", "needs ssl-ca"),
            ("mysql://u@h?ssl-mode=VERIFY_IDENTITY", "needs ssl-ca"),
            ("mysql://u@h?ssl-mode=DISABLED&ssl-ca=/x", "contradicts"),
            ("mysql://u@h?ssl-cert=/c", "needs ssl-key"),
            ("mysql://u@h?ssl-key=/k", "needs ssl-cert"),
            ("mysql://u@h?ssl-ca=", "empty"),
            ("mysql://u:%ZZ@h", "%-escape in the password"),
            ("mysql://u:%FF@h", "not UTF-8"),
        ] {
            let err = SourceEndpoint::from_url(url).expect_err(url).to_string();
            assert!(err.contains(needle), "{url}: {err}");
        }
    }

    #[test]
    fn never_shows_the_password() {
        let ep = SourceEndpoint::from_url("mysql://repl:hunter2secret@h:3306?ssl-mode=REQUIRED")
            .unwrap();
        let shown = format!("{ep} {ep:?} {ep:#?}");
        assert!(!shown.contains("hunter2secret"), "{shown}");
        assert!(shown.contains("repl@h:3306"), "{shown}");
        assert!(format!("{ep:?}").contains("<redacted>"));
    }
}
