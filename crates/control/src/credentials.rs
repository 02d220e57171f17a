//! The admin access key: created on first start, kept in the store, and written to
//! `<data-dir>/admin-credentials` (AWS shared-credentials format, mode 0600) so that
//! `AWS_SHARED_CREDENTIALS_FILE=<data-dir>/admin-credentials aws --endpoint-url ... rds ...`
//! works as is.

use ferry_base::aws_files::{FileKind, FileWriter};
use ferry_base::fs::write_private_file;
use rand::Rng;
use time::OffsetDateTime;

use crate::auth::ROOT_USER;
use crate::config::Config;
use crate::error::ControlError;
use crate::layout::Layout;
use crate::store::{AccessKey, KeyStatus, Store};

/// Makes sure the admin key exists and its credentials file says so.
pub fn ensure_admin(
    store: &Store,
    layout: &Layout,
    config: &Config,
) -> Result<AccessKey, ControlError> {
    // The root's first active key (the root may have made others, or deactivated this one,
    // through IAM; the file follows).
    let keys = store.access_keys_of(ROOT_USER)?;
    let active = keys.into_iter().find(|k| k.status == KeyStatus::Active);
    let key = match active {
        Some(k) => k,
        None => {
            let key = AccessKey {
                access_key_id: random_string("AKIA", 16, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
                secret_access_key: random_string(
                    "",
                    40,
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                )
                .into(),
                user_name: ROOT_USER.to_string(),
                created_at: OffsetDateTime::now_utc(),
                status: KeyStatus::Active,
                last_used: None,
            };
            store.put_access_key(&key)?;
            key
        }
    };
    let path = layout.admin_credentials();
    let text = FileWriter::new(FileKind::Credentials)
        .comment(&format!(
            "ferry admin credentials for {} (created by ferry serve; keep private)",
            layout.root()
        ))
        .profile(
            "default",
            &[
                ("aws_access_key_id", key.access_key_id.as_str()),
                ("aws_secret_access_key", key.secret_access_key.expose()),
                ("region", config.region.as_str()),
            ],
        )
        .map_err(|source| ControlError::CredentialsFile {
            path: path.clone(),
            source,
        })?
        .render();
    let current = std::fs::read_to_string(&path).ok();
    if current.as_deref() != Some(text.as_str()) {
        write_private_file(&path, text.as_bytes()).map_err(ControlError::io("write", &path))?;
    }
    Ok(key)
}

fn random_string(prefix: &str, len: usize, alphabet: &[u8]) -> String {
    let mut rng = rand::rng();
    let mut s = prefix.to_string();
    s.extend((0..len).map(|_| alphabet[rng.random_range(0..alphabet.len())] as char));
    s
}
