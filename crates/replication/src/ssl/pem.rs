//! Finding the PEM blocks of one field, to say precisely what is wrong with them (a key pasted
//! into `ssl_cert`, an encrypted key, a block cut short) before the DER inside is decoded by
//! rustls' PEM reader. Text outside blocks (OpenSSL's "Bag Attributes", comments) is ignored
//! and dropped; each kept block is normalised to trimmed lines ending in `\n`.

use super::{SslField, SslMaterialError};

pub(super) const CERTIFICATE: &str = "CERTIFICATE";
pub(super) const PRIVATE_KEY: &str = "PRIVATE KEY";
pub(super) const RSA_PRIVATE_KEY: &str = "RSA PRIVATE KEY";
pub(super) const EC_PRIVATE_KEY: &str = "EC PRIVATE KEY";
/// OpenSSL's `ecparam -genkey` writes this before the key; harmless, kept with it.
pub(super) const EC_PARAMETERS: &str = "EC PARAMETERS";
const ENCRYPTED_PRIVATE_KEY: &str = "ENCRYPTED PRIVATE KEY";

/// Longest PEM label repeated in a message.
pub(super) const MAX_LABEL: usize = 40;

/// One `-----BEGIN label-----` ... `-----END label-----` block.
#[derive(Debug)]
pub(super) struct Block {
    pub label: String,
    /// The block's lines, trimmed, each followed by `\n`.
    pub text: String,
    /// A legacy `Proc-Type: 4,ENCRYPTED` header is present.
    pub encrypted: bool,
}

/// The blocks of `field`, checked to be of the kinds the field allows.
pub(super) fn blocks_of(field: SslField, input: &str) -> Result<Vec<Block>, SslMaterialError> {
    let blocks = scan(input).ok_or(SslMaterialError::MalformedPem { field })?;
    if blocks.is_empty() {
        return Err(SslMaterialError::NotPem { field });
    }
    for block in &blocks {
        let allowed = match field {
            SslField::Ca | SslField::Cert => block.label == CERTIFICATE,
            SslField::Key => {
                if block.label == ENCRYPTED_PRIVATE_KEY || block.encrypted {
                    return Err(SslMaterialError::EncryptedKey);
                }
                [PRIVATE_KEY, RSA_PRIVATE_KEY, EC_PRIVATE_KEY, EC_PARAMETERS]
                    .contains(&block.label.as_str())
            }
        };
        if !allowed {
            return Err(SslMaterialError::UnexpectedBlock {
                field,
                label: printable_label(&block.label),
            });
        }
    }
    if field == SslField::Key && blocks.iter().all(|block| block.label == EC_PARAMETERS) {
        return Err(SslMaterialError::NotPem { field });
    }
    Ok(blocks)
}

/// The blocks' texts, one after another.
pub(super) fn join(blocks: &[Block]) -> String {
    blocks.iter().map(|block| block.text.as_str()).collect()
}

/// All blocks of `input`; `None` if a block is not closed by its own END line.
fn scan(input: &str) -> Option<Vec<Block>> {
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for raw in input.lines() {
        let line = raw.trim();
        if let Some(label) = marker(line, "-----BEGIN ") {
            if open.is_some() {
                return None;
            }
            open = Some(Block {
                label: label.to_owned(),
                text: format!("{line}\n"),
                encrypted: false,
            });
        } else if let Some(label) = marker(line, "-----END ") {
            let mut block = open.take()?;
            if block.label != label {
                return None;
            }
            block.text.push_str(line);
            block.text.push('\n');
            blocks.push(block);
        } else if let Some(block) = open.as_mut() {
            if line.is_empty() {
                continue;
            }
            if line.starts_with("Proc-Type:") && line.contains("ENCRYPTED") {
                block.encrypted = true;
            }
            block.text.push_str(line);
            block.text.push('\n');
        }
    }
    open.is_none().then_some(blocks)
}

/// The label of a `-----BEGIN label-----` / `-----END label-----` line.
fn marker<'a>(line: &'a str, start: &str) -> Option<&'a str> {
    line.strip_prefix(start)?.strip_suffix("-----")
}

/// A label fit for a message: letters, digits and spaces only, at most [`MAX_LABEL`].
fn printable_label(label: &str) -> String {
    let clean: String = label
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == ' ')
        .take(MAX_LABEL)
        .collect();
    if clean.is_empty() {
        "unnamed".to_owned()
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &str = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

    #[test]
    fn keeps_blocks_and_drops_surrounding_text() {
        let input = format!(
            "Bag Attributes\r\n  subject=/CN=x\r\n  {}\r\n\r\n{CERT}",
            CERT.trim()
        );
        let blocks = blocks_of(SslField::Ca, &input).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(join(&blocks), format!("{CERT}{CERT}"));
    }

    #[test]
    fn says_what_is_wrong() {
        assert_eq!(
            blocks_of(SslField::Cert, "hello").unwrap_err(),
            SslMaterialError::NotPem {
                field: SslField::Cert
            }
        );
        assert_eq!(
            blocks_of(SslField::Cert, "-----BEGIN CERTIFICATE-----\nAAAA\n").unwrap_err(),
            SslMaterialError::MalformedPem {
                field: SslField::Cert
            }
        );
        assert_eq!(
            blocks_of(
                SslField::Cert,
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END PRIVATE KEY-----\n"
            )
            .unwrap_err(),
            SslMaterialError::MalformedPem {
                field: SslField::Cert
            }
        );
        let key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert_eq!(
            blocks_of(SslField::Cert, &format!("{CERT}{key}")).unwrap_err(),
            SslMaterialError::UnexpectedBlock {
                field: SslField::Cert,
                label: "PRIVATE KEY".into()
            }
        );
        assert_eq!(
            blocks_of(SslField::Key, CERT).unwrap_err(),
            SslMaterialError::UnexpectedBlock {
                field: SslField::Key,
                label: "CERTIFICATE".into()
            }
        );
        let encrypted =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----";
        assert_eq!(
            blocks_of(SslField::Key, encrypted).unwrap_err(),
            SslMaterialError::EncryptedKey
        );
        let legacy = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----";
        assert_eq!(
            blocks_of(SslField::Key, legacy).unwrap_err(),
            SslMaterialError::EncryptedKey
        );
        let params =
            "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n";
        assert_eq!(
            blocks_of(SslField::Key, params).unwrap_err(),
            SslMaterialError::NotPem {
                field: SslField::Key
            }
        );
        let odd = "-----BEGIN \u{1b}[31mTHING\"-----\nAAAA\n-----END \u{1b}[31mTHING\"-----";
        assert_eq!(
            blocks_of(SslField::Ca, odd).unwrap_err(),
            SslMaterialError::UnexpectedBlock {
                field: SslField::Ca,
                label: "31mTHING".into()
            }
        );
    }
}
