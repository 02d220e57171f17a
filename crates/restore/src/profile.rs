//! The AWS shared config and credentials files (`~/.aws/credentials`, `~/.aws/config`),
//! read for one profile, as the AWS CLI does: credentials from the credentials file (or the
//! config file), region and endpoint from the config file.

use std::collections::HashMap;
use std::path::PathBuf;

#[derive(Debug, Default, Clone)]
pub struct Profile {
    values: HashMap<String, String>,
}

impl Profile {
    pub fn credentials(&self) -> Option<(String, String, Option<String>)> {
        let key = self.values.get("aws_access_key_id")?.clone();
        let secret = self.values.get("aws_secret_access_key")?.clone();
        Some((key, secret, self.values.get("aws_session_token").cloned()))
    }
    pub fn region(&self) -> Option<String> {
        self.values.get("region").cloned()
    }
    pub fn endpoint_url(&self) -> Option<String> {
        self.values.get("endpoint_url").cloned()
    }
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

/// Loads profile `name` from the shared files; `None` when neither file mentions it.
pub fn load(name: &str) -> Option<Profile> {
    let creds_path = std::env::var_os("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .or_else(|| home().map(|h| h.join(".aws/credentials")));
    let config_path = std::env::var_os("AWS_CONFIG_FILE")
        .map(PathBuf::from)
        .or_else(|| home().map(|h| h.join(".aws/config")));
    let mut found = false;
    let mut profile = Profile::default();
    if let Some(text) = config_path.and_then(|p| std::fs::read_to_string(p).ok()) {
        let section = if name == "default" {
            "default".to_string()
        } else {
            format!("profile {name}")
        };
        if let Some(v) = section_values(&text, &section) {
            found = true;
            profile.values.extend(v);
        }
    }
    if let Some(text) = creds_path.and_then(|p| std::fs::read_to_string(p).ok()) {
        if let Some(v) = section_values(&text, name) {
            found = true;
            profile.values.extend(v);
        }
    }
    found.then_some(profile)
}

/// The `key = value` pairs of `[section]` in an INI text.
pub fn section_values(text: &str, section: &str) -> Option<HashMap<String, String>> {
    let mut current: Option<String> = None;
    let mut out: Option<HashMap<String, String>> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = Some(name.trim().to_string());
            if current.as_deref() == Some(section) && out.is_none() {
                out = Some(HashMap::new());
            }
            continue;
        }
        if current.as_deref() == Some(section) {
            if let (Some(map), Some((k, v))) = (out.as_mut(), line.split_once('=')) {
                map.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sections() {
        let text = "[default]\naws_access_key_id = A\naws_secret_access_key=B\n\n[other]\nregion = eu-west-1\n";
        let d = section_values(text, "default").unwrap();
        assert_eq!(d["aws_access_key_id"], "A");
        assert_eq!(d["aws_secret_access_key"], "B");
        assert_eq!(
            section_values(text, "other").unwrap()["region"],
            "eu-west-1"
        );
        assert!(section_values(text, "missing").is_none());
    }
}
