//! Secret access keys at rest: sealed with ChaCha20-Poly1305 under a 256-bit key kept in a file
//! beside the database (`<data-dir>/secrets.key`, mode 0600, created on first open), so a copy
//! of `ferry.sqlite` alone (a backup, a support bundle) gives away no credentials.
//!
//! A sealed secret is stored as `fk1:` + base64(nonce ‖ ciphertext ‖ tag); the access key id
//! is the associated data, so a sealed secret moved to another key's row does not open. Rows
//! written before encryption (plain text, which never contains `:`) are sealed when the store
//! opens.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use camino::Utf8Path;
use ferry_base::Secret;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};

use super::StoreError;

/// The name of the key file, in the directory of the database.
pub const KEY_FILE: &str = "secrets.key";

/// What marks a sealed secret (and its format version).
const SEALED_PREFIX: &str = "fk1:";

const KEY_LEN: usize = 32;

/// The key secrets are sealed with. Its `Debug` shows nothing of the key.
pub(crate) struct KeyCipher {
    key: LessSafeKey,
}

impl std::fmt::Debug for KeyCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyCipher(..)")
    }
}

impl KeyCipher {
    /// A fresh random key that lives only in memory (in-memory stores).
    pub fn ephemeral() -> Result<KeyCipher, StoreError> {
        let bytes = random_key()?;
        KeyCipher::from_bytes(&bytes, "a new in-memory key")
    }

    /// Reads the key file at `path`, or creates it (0600) when it does not exist.
    /// `Corrupt` when the file is there but is not a key.
    pub fn load_or_create(path: &Utf8Path) -> Result<(KeyCipher, bool), StoreError> {
        match std::fs::read(path) {
            Ok(bytes) => Ok((KeyCipher::from_bytes(&bytes, path.as_str())?, false)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let bytes = random_key()?;
                ferry_base::fs::write_private_file(path, &bytes).map_err(|source| {
                    StoreError::Io {
                        context: format!("create the secrets key file {path}"),
                        source,
                    }
                })?;
                Ok((KeyCipher::from_bytes(&bytes, path.as_str())?, true))
            }
            Err(source) => Err(StoreError::Io {
                context: format!("read the secrets key file {path}"),
                source,
            }),
        }
    }

    fn from_bytes(bytes: &[u8], what: &str) -> Result<KeyCipher, StoreError> {
        let corrupt = || StoreError::Corrupt {
            what: what.to_string(),
            reason: format!("a secrets key is {KEY_LEN} bytes, this is {}", bytes.len()),
        };
        if bytes.len() != KEY_LEN {
            return Err(corrupt());
        }
        let key = UnboundKey::new(&CHACHA20_POLY1305, bytes).map_err(|_| corrupt())?;
        Ok(KeyCipher {
            key: LessSafeKey::new(key),
        })
    }

    /// Seals `secret` for the row of `access_key_id`.
    pub fn seal(&self, access_key_id: &str, secret: &Secret) -> Result<String, StoreError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| no_randomness())?;
        let mut data = secret.expose().as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(access_key_id.as_bytes()),
                &mut data,
            )
            .map_err(|_| StoreError::Corrupt {
                what: format!("access key '{access_key_id}'"),
                reason: "its secret could not be sealed".into(),
            })?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Ok(format!("{SEALED_PREFIX}{}", STANDARD.encode(out)))
    }

    /// Opens what [`KeyCipher::seal`] made for `access_key_id`. `Corrupt` when it does not
    /// open (another key file, a damaged row).
    pub fn open(&self, access_key_id: &str, stored: &str) -> Result<Secret, StoreError> {
        let corrupt = |reason: &str| StoreError::Corrupt {
            what: format!("access key '{access_key_id}'"),
            reason: reason.to_string(),
        };
        let Some(encoded) = stored.strip_prefix(SEALED_PREFIX) else {
            return Err(corrupt("its secret is not sealed"));
        };
        let mut data = STANDARD
            .decode(encoded)
            .map_err(|_| corrupt("its sealed secret is not base64"))?;
        if data.len() < NONCE_LEN {
            return Err(corrupt("its sealed secret is truncated"));
        }
        let mut body = data.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&data)
            .map_err(|_| corrupt("its sealed secret is truncated"))?;
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(access_key_id.as_bytes()), &mut body)
            .map_err(|_| {
                corrupt("its secret does not open with the secrets key (a different secrets.key?)")
            })?;
        let text = std::str::from_utf8(plain).map_err(|_| corrupt("its secret is not UTF-8"))?;
        Ok(text.to_string().into())
    }
}

/// Whether a stored secret is sealed (else it is a plain row from before encryption).
pub(crate) fn is_sealed(stored: &str) -> bool {
    stored.starts_with(SEALED_PREFIX)
}

fn random_key() -> Result<[u8; KEY_LEN], StoreError> {
    let mut bytes = [0u8; KEY_LEN];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| no_randomness())?;
    Ok(bytes)
}

fn no_randomness() -> StoreError {
    StoreError::Io {
        context: "draw random bytes for the secrets key".into(),
        source: std::io::Error::other("the system random number generator failed"),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn seal_and_open_round_trip_bound_to_the_key_id() {
        let c = KeyCipher::ephemeral().unwrap();
        let secret: Secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
            .to_string()
            .into();
        let sealed = c.seal("AKIA1", &secret).unwrap();
        assert!(is_sealed(&sealed));
        assert!(!sealed.contains("wJalr"), "{sealed}");
        assert_eq!(c.open("AKIA1", &sealed).unwrap(), secret);
        // Twice sealed, two texts (random nonce).
        assert_ne!(sealed, c.seal("AKIA1", &secret).unwrap());
        // Moved to another row, or opened with another key: refused.
        assert!(c.open("AKIA2", &sealed).is_err());
        assert!(KeyCipher::ephemeral()
            .unwrap()
            .open("AKIA1", &sealed)
            .is_err());
        assert!(c.open("AKIA1", "plain").is_err());
    }

    #[test]
    fn the_key_file_is_created_private_and_read_back() {
        let tmp = tempfile::tempdir().unwrap();
        let path = camino::Utf8PathBuf::from_path_buf(tmp.path().join(KEY_FILE)).unwrap();
        let (c1, created) = KeyCipher::load_or_create(&path).unwrap();
        assert!(created);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let sealed = c1.seal("AKIA1", &"s".to_string().into()).unwrap();
        let (c2, created) = KeyCipher::load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(c2.open("AKIA1", &sealed).unwrap().expose(), "s");

        std::fs::write(&path, b"short").unwrap();
        let err = KeyCipher::load_or_create(&path).unwrap_err();
        assert!(err.to_string().contains("32 bytes"), "{err}");
    }
}
