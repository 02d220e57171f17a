//! The SSL material a cluster's replication link uses: validating what the master user hands
//! to `mysql.rds_import_binlog_ssl_material`, and keeping it as files only the server can read.
//!
//! On RDS the argument is a JSON object with exactly `ssl_ca`, `ssl_cert` and `ssl_key`, each
//! a PEM string. MariaDB reads the files only when the replication thread connects, so a bad
//! certificate would surface minutes later as an opaque connect error (2026) in
//! `SHOW SLAVE STATUS`. [`SslMaterial::parse`] therefore checks everything up front and answers
//! with one line the procedure can `SIGNAL` ([`SslMaterialError`]): well-formed JSON, the three
//! keys and no others, PEM blocks of the right kinds, every certificate parseable as X.509,
//! and the private key matching the first certificate of `ssl_cert`. `ssl_ca` (the CA that
//! signed the *source's* certificate) is not checked against `ssl_cert` (the replica's client
//! certificate): the two may come from different CAs.
//!
//! Accepted keys are those rustls' ring provider can load: RSA 2048 to 8192 bits (PKCS#1
//! `RSA PRIVATE KEY` or PKCS#8 `PRIVATE KEY`), ECDSA P-256 / P-384 (SEC1 `EC PRIVATE KEY` or
//! PKCS#8) and Ed25519 (PKCS#8); encrypted keys are refused. Raw line breaks inside the JSON
//! strings are accepted (the `mariadb` client turns the `\n` of RDS's template into real line
//! breaks before the procedure sees them), and so is PEM whose line breaks arrive as literal
//! `\n` sequences. What is stored is each PEM block normalised (trimmed lines, `\n` endings).
//!
//! [`SslDir`] stores validated material (see its docs for the layout and why replacing a set
//! is atomic) and erases it.

mod dir;
mod json;
mod pem;

use std::fmt;

use ferry_base::Secret;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

pub use dir::{SslDir, SslPaths};

/// File names of the stored material (as on RDS: `/rdsdbdata/sslreplication/ssl_ca.pem`, ...).
pub const CA_FILE: &str = "ssl_ca.pem";
pub const CERT_FILE: &str = "ssl_cert.pem";
pub const KEY_FILE: &str = "ssl_key.pem";

/// The longest argument accepted (the procedure's parameter is `VARCHAR(15000)`).
pub const MAX_MATERIAL_BYTES: usize = 64 * 1024;

/// What the message prefix of every [`SslMaterialError`] says.
const PREFIX: &str = "Invalid SSL material:";

/// One of the three fields of the material.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslField {
    Ca,
    Cert,
    Key,
}

impl SslField {
    /// All fields, in the order they are checked and reported.
    pub const ALL: [SslField; 3] = [SslField::Ca, SslField::Cert, SslField::Key];

    /// The JSON key: `ssl_ca`, `ssl_cert` or `ssl_key`.
    pub fn key(self) -> &'static str {
        match self {
            SslField::Ca => "ssl_ca",
            SslField::Cert => "ssl_cert",
            SslField::Key => "ssl_key",
        }
    }

    fn from_key(key: &str) -> Option<SslField> {
        SslField::ALL.into_iter().find(|field| field.key() == key)
    }

    /// What a field must hold, for messages.
    fn expected(self) -> &'static str {
        match self {
            SslField::Ca | SslField::Cert => "a PEM certificate",
            SslField::Key => "a PEM private key",
        }
    }
}

impl fmt::Display for SslField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// Why SSL material was refused. `Display` is one line under 128 characters, the text the
/// procedure `SIGNAL`s; it never contains key or certificate contents.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SslMaterialError {
    #[error("{PREFIX} larger than {limit} bytes.")]
    TooLarge { limit: usize },
    #[error("{PREFIX} not valid JSON (line {line}, column {column}).")]
    NotJson { line: usize, column: usize },
    #[error("{PREFIX} expected a JSON object with ssl_ca, ssl_cert and ssl_key.")]
    NotAnObject,
    /// `name` is the offending key when it is short and plain, `None` otherwise (a long or odd
    /// "key" may be pasted material, which is never echoed).
    #[error("{PREFIX} unknown key {}; only ssl_ca, ssl_cert and ssl_key are allowed.", name.as_deref().unwrap_or("(unprintable)"))]
    UnknownKey { name: Option<String> },
    #[error("{PREFIX} key {0} appears more than once.")]
    DuplicateKey(SslField),
    #[error("{PREFIX} missing key {0}.")]
    MissingKey(SslField),
    #[error("{PREFIX} {0} must be a JSON string.")]
    NotAString(SslField),
    #[error("{PREFIX} {field} is not {}.", field.expected())]
    NotPem { field: SslField },
    #[error("{PREFIX} {field} has a damaged PEM block.")]
    MalformedPem { field: SslField },
    /// `label` is the PEM label found (sanitised), e.g. `PRIVATE KEY` in `ssl_cert`.
    #[error("{PREFIX} {field} holds a {label} block; expected {}.", field.expected())]
    UnexpectedBlock { field: SslField, label: String },
    #[error("{PREFIX} ssl_key holds more than one private key.")]
    SeveralKeys,
    #[error("{PREFIX} ssl_key is encrypted; give the key without a passphrase.")]
    EncryptedKey,
    /// `index` counts certificates in the field from 1.
    #[error("{PREFIX} certificate {index} in {field} is not a valid X.509 certificate.")]
    BadCertificate { field: SslField, index: usize },
    #[error("{PREFIX} ssl_key is not an RSA (2048+ bits), ECDSA P-256/P-384 or Ed25519 key.")]
    UnsupportedKey,
    #[error("{PREFIX} ssl_key does not match the certificate in ssl_cert.")]
    KeyMismatch,
}

/// The encoding of the private key as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFormat {
    /// `RSA PRIVATE KEY`.
    Pkcs1,
    /// `PRIVATE KEY`.
    Pkcs8,
    /// `EC PRIVATE KEY`.
    Sec1,
}

/// Validated SSL material, as normalised PEM text; the private key is a [`Secret`].
#[derive(Clone)]
pub struct SslMaterial {
    ca_pem: String,
    cert_pem: String,
    key_pem: Secret,
    key_format: KeyFormat,
    ca_count: usize,
    cert_count: usize,
}

// Not derived: the certificates are long PEM texts (public, but not worth a log line); their
// counts say what was given. The key would show as `<redacted>` either way.
impl fmt::Debug for SslMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SslMaterial")
            .field("ca_certificates", &self.ca_count)
            .field("cert_chain", &self.cert_count)
            .field("key_format", &self.key_format)
            .field("key_pem", &self.key_pem)
            .finish()
    }
}

impl SslMaterial {
    /// Validates the argument of `mysql.rds_import_binlog_ssl_material`.
    pub fn parse(json: &str) -> Result<SslMaterial, SslMaterialError> {
        if json.len() > MAX_MATERIAL_BYTES {
            return Err(SslMaterialError::TooLarge {
                limit: MAX_MATERIAL_BYTES,
            });
        }
        let [ca, cert, key] = json::three_fields(json)?;

        let ca_blocks = pem::blocks_of(SslField::Ca, &ca)?;
        let ca_ders = certificates(SslField::Ca, &ca_blocks)?;
        let mut roots = rustls::RootCertStore::empty();
        for (index, der) in ca_ders.into_iter().enumerate() {
            roots
                .add(der)
                .map_err(|_| SslMaterialError::BadCertificate {
                    field: SslField::Ca,
                    index: index + 1,
                })?;
        }

        let cert_blocks = pem::blocks_of(SslField::Cert, &cert)?;
        let chain = certificates(SslField::Cert, &cert_blocks)?;
        for (index, der) in chain.iter().enumerate() {
            rustls::server::ParsedCertificate::try_from(der).map_err(|_| {
                SslMaterialError::BadCertificate {
                    field: SslField::Cert,
                    index: index + 1,
                }
            })?;
        }

        let key_blocks = pem::blocks_of(SslField::Key, &key)?;
        let (key_der, key_format) = private_key(&key_blocks)?;
        let signing_key = rustls::crypto::ring::sign::any_supported_type(&key_der)
            .map_err(|_| SslMaterialError::UnsupportedKey)?;
        let cert_count = chain.len();
        match rustls::sign::CertifiedKey::new(chain, signing_key).keys_match() {
            Ok(()) => {}
            Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {
                return Err(SslMaterialError::UnsupportedKey)
            }
            Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
                return Err(SslMaterialError::KeyMismatch)
            }
            Err(_) => {
                return Err(SslMaterialError::BadCertificate {
                    field: SslField::Cert,
                    index: 1,
                })
            }
        }

        Ok(SslMaterial {
            ca_pem: pem::join(&ca_blocks),
            cert_pem: pem::join(&cert_blocks),
            key_pem: pem::join(&key_blocks).into(),
            key_format,
            ca_count: roots.len(),
            cert_count,
        })
    }

    /// The CA certificates (PEM) that verify the source's certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The replica's client certificate (PEM), leaf first, then any intermediates.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The private key's encoding.
    pub fn key_format(&self) -> KeyFormat {
        self.key_format
    }

    /// How many CA certificates `ssl_ca` holds.
    pub fn ca_certificates(&self) -> usize {
        self.ca_count
    }

    /// How many certificates `ssl_cert` holds (1 without intermediates).
    pub fn cert_chain_len(&self) -> usize {
        self.cert_count
    }

    /// The private key (PEM), for [`SslDir::store`] only.
    fn key_pem(&self) -> &str {
        self.key_pem.expose()
    }
}

/// The DER of every block of a certificate field (all blocks are `CERTIFICATE`).
fn certificates(
    field: SslField,
    blocks: &[pem::Block],
) -> Result<Vec<CertificateDer<'static>>, SslMaterialError> {
    blocks
        .iter()
        .map(|block| {
            CertificateDer::from_pem_slice(block.text.as_bytes())
                .map_err(|_| SslMaterialError::MalformedPem { field })
        })
        .collect()
}

/// The one private key among the key field's blocks (others may only be `EC PARAMETERS`).
fn private_key(
    blocks: &[pem::Block],
) -> Result<(PrivateKeyDer<'static>, KeyFormat), SslMaterialError> {
    let mut keys = blocks
        .iter()
        .filter(|block| block.label != pem::EC_PARAMETERS);
    let (Some(block), None) = (keys.next(), keys.next()) else {
        return Err(SslMaterialError::SeveralKeys);
    };
    let format = match block.label.as_str() {
        pem::RSA_PRIVATE_KEY => KeyFormat::Pkcs1,
        pem::EC_PRIVATE_KEY => KeyFormat::Sec1,
        _ => KeyFormat::Pkcs8,
    };
    let der = PrivateKeyDer::from_pem_slice(block.text.as_bytes()).map_err(|_| {
        SslMaterialError::MalformedPem {
            field: SslField::Key,
        }
    })?;
    Ok((der, format))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_is_one_short_line_with_the_prefix() {
        let all = [
            SslMaterialError::TooLarge { limit: 65536 },
            SslMaterialError::NotJson {
                line: 123456,
                column: 123456,
            },
            SslMaterialError::NotAnObject,
            SslMaterialError::UnknownKey {
                name: Some("x".repeat(json::MAX_ECHOED_KEY)),
            },
            SslMaterialError::UnknownKey { name: None },
            SslMaterialError::DuplicateKey(SslField::Cert),
            SslMaterialError::MissingKey(SslField::Cert),
            SslMaterialError::NotAString(SslField::Cert),
            SslMaterialError::NotPem {
                field: SslField::Cert,
            },
            SslMaterialError::MalformedPem {
                field: SslField::Cert,
            },
            SslMaterialError::UnexpectedBlock {
                field: SslField::Cert,
                label: "X".repeat(pem::MAX_LABEL),
            },
            SslMaterialError::SeveralKeys,
            SslMaterialError::EncryptedKey,
            SslMaterialError::BadCertificate {
                field: SslField::Cert,
                index: 1000,
            },
            SslMaterialError::UnsupportedKey,
            SslMaterialError::KeyMismatch,
        ];
        for err in all {
            let text = err.to_string();
            assert!(text.len() < 128, "{} chars: {text}", text.len());
            assert!(text.starts_with("Invalid SSL material: "), "{text}");
            assert!(text.ends_with('.') && !text.contains('\n'), "{text}");
        }
        assert_eq!(
            SslMaterialError::KeyMismatch.to_string(),
            "Invalid SSL material: ssl_key does not match the certificate in ssl_cert."
        );
        assert_eq!(
            SslMaterialError::NotPem {
                field: SslField::Cert
            }
            .to_string(),
            "Invalid SSL material: ssl_cert is not a PEM certificate."
        );
    }

    #[test]
    fn refuses_oversized_input_before_parsing() {
        let big = format!("{{\"ssl_ca\":\"{}\"}}", "A".repeat(MAX_MATERIAL_BYTES));
        assert_eq!(
            SslMaterial::parse(&big).unwrap_err(),
            SslMaterialError::TooLarge {
                limit: MAX_MATERIAL_BYTES
            }
        );
    }
}
