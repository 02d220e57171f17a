//! The AWS CLI's shared files, `~/.aws/credentials` and `~/.aws/config`: read into profiles,
//! and written so that the AWS CLI reads them back.
//!
//! Both are INI files as Python's `configparser` reads them, which is what botocore uses:
//!
//! ```text
//! # a comment (also ; ...), on a line of its own: there are no trailing comments
//! [default]                        credentials file: [name]; config file: [profile name],
//! aws_access_key_id = AKIA...      except the default profile, [default]
//! region: eu-west-1                key = value or key: value, keys case-insensitive
//! s3 =                             a key with an empty value and indented lines under it:
//!     addressing_style = path      nested settings, read here as `s3.addressing_style`
//! ```
//!
//! Keys are lower-cased, keys and values trimmed. A section that appears twice is merged
//! (later values win). Lines outside a profile section and lines that are no setting are
//! ignored (botocore refuses such a file; ferry reads what it can).
//!
//! Where the files are: `AWS_SHARED_CREDENTIALS_FILE` / `AWS_CONFIG_FILE` when set, else
//! `~/.aws/credentials` / `~/.aws/config` ([`credentials_file`], [`config_file`]).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::Secret;

/// Which of the two files a text is: they spell profile sections differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// The shared credentials file: `[name]`.
    Credentials,
    /// The config file: `[profile name]`, and `[default]` for the default profile.
    Config,
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileKind::Credentials => "shared credentials",
            FileKind::Config => "config",
        })
    }
}

/// One profile's settings. A profile mixes secrets (`aws_secret_access_key`) with plain
/// settings (`region`), so every value is held as a [`Secret`]: `Debug` shows the keys only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    values: BTreeMap<String, Secret>,
}

/// The key pair (and session token) of a profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileCredentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
}

impl Profile {
    /// The value of `key` (lower-case, e.g. `region`; nested settings as `s3.addressing_style`).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(Secret::expose)
    }

    /// The keys this profile sets, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `aws_access_key_id` and `aws_secret_access_key` (both needed, even if empty), with
    /// `aws_session_token` when set.
    pub fn credentials(&self) -> Option<ProfileCredentials> {
        Some(ProfileCredentials {
            access_key_id: self.get("aws_access_key_id")?.to_owned(),
            secret_access_key: self.values.get("aws_secret_access_key")?.clone(),
            session_token: self.values.get("aws_session_token").cloned(),
        })
    }

    pub fn region(&self) -> Option<&str> {
        self.get("region")
    }

    pub fn endpoint_url(&self) -> Option<&str> {
        self.get("endpoint_url")
    }

    /// Sets every value of `other` here (its values win).
    pub fn merge(&mut self, other: &Profile) {
        self.values
            .extend(other.values.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
}

/// The profiles of one file, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profiles {
    profiles: BTreeMap<String, Profile>,
}

impl Profiles {
    /// Reads the text of a file of `kind` (see the module docs for the grammar). Never fails:
    /// what is not understood is left out.
    pub fn parse(text: &str, kind: FileKind) -> Profiles {
        let mut profiles: BTreeMap<String, Profile> = BTreeMap::new();
        // The profile whose section we are in; `None` before the first section and in
        // sections that are no profile (`[sso-session x]` in the config file).
        let mut section: Option<String> = None;
        // The last setting read, for the indented lines that continue it.
        let mut last: Option<LastSetting> = None;
        // configparser reads with universal newlines: a lone \r ends a line too.
        for line in text.split(['\n', '\r']) {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            let indent = line.len() - line.trim_start().len();
            if let (Some(last), Some(name)) = (&last, &section) {
                if indent > last.indent {
                    let profile = profiles.entry(name.clone()).or_default();
                    last.continue_with(profile, trimmed);
                    continue;
                }
            }
            last = None;
            if let Some(header) = trimmed.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = profile_name(header.trim(), kind);
                if let Some(name) = &section {
                    profiles.entry(name.clone()).or_default();
                }
                continue;
            }
            let (Some(name), Some((key, value))) = (&section, split_setting(trimmed)) else {
                continue;
            };
            let key = key.to_ascii_lowercase();
            let profile = profiles.entry(name.clone()).or_default();
            profile.values.insert(key.clone(), Secret::new(value));
            last = Some(LastSetting {
                nested: value.is_empty(),
                key,
                indent,
            });
        }
        Profiles { profiles }
    }

    /// Reads the file at `path`; `Ok(None)` when it does not exist.
    pub fn read(path: &Path, kind: FileKind) -> std::io::Result<Option<Profiles>> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Some(Profiles::parse(&text, kind))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Profile `name` (`default` for the default profile), if the file has its section.
    pub fn get(&self, name: &str) -> Option<&Profile> {
        self.profiles.get(name)
    }

    /// The profile names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.profiles.keys().map(String::as_str)
    }
}

/// A setting whose value may go on in more-indented lines.
struct LastSetting {
    key: String,
    indent: usize,
    /// Its own value was empty: the lines under it are nested `key = value` settings.
    nested: bool,
}

impl LastSetting {
    fn continue_with(&self, profile: &mut Profile, line: &str) {
        if self.nested {
            // botocore splits nested lines at `=` only.
            if let Some((key, value)) = line.split_once('=') {
                let key = format!("{}.{}", self.key, key.trim().to_ascii_lowercase());
                profile.values.insert(key, Secret::new(value.trim()));
            }
        } else if let Some(value) = profile.values.get_mut(&self.key) {
            *value = Secret::new(format!("{}\n{line}", value.expose()));
        }
    }
}

/// The profile a section header names in a file of `kind`, if any.
fn profile_name(header: &str, kind: FileKind) -> Option<String> {
    match kind {
        FileKind::Credentials => Some(header.to_owned()),
        FileKind::Config if header == "default" => Some(header.to_owned()),
        FileKind::Config => match header.split_whitespace().collect::<Vec<_>>()[..] {
            ["profile", name] => Some(name.to_owned()),
            _ => None,
        },
    }
}

/// `key = value` or `key: value`, split at the first `=` or `:`; `None` without a key.
fn split_setting(line: &str) -> Option<(&str, &str)> {
    let at = line.find(['=', ':'])?;
    let key = line[..at].trim();
    (!key.is_empty()).then(|| (key, line[at + 1..].trim()))
}

/// The shared credentials file: `AWS_SHARED_CREDENTIALS_FILE` when set (and not empty), else
/// `~/.aws/credentials`; `None` when neither is known (no `HOME`).
pub fn credentials_file() -> Option<PathBuf> {
    env_or_home("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials")
}

/// The config file: `AWS_CONFIG_FILE` when set (and not empty), else `~/.aws/config`.
pub fn config_file() -> Option<PathBuf> {
    env_or_home("AWS_CONFIG_FILE", ".aws/config")
}

fn env_or_home(var: &str, under_home: &str) -> Option<PathBuf> {
    let set = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    set(var)
        .map(PathBuf::from)
        .or_else(|| set("HOME").map(|home| PathBuf::from(home).join(under_home)))
}

/// Profile `name` as the AWS CLI sees it, from the files at their usual places (see
/// [`load_profile_from`]).
pub fn load_profile(name: &str) -> Option<Profile> {
    load_profile_from(
        name,
        config_file().as_deref(),
        credentials_file().as_deref(),
    )
}

/// Profile `name` from a config file and a credentials file: the config file's settings, with
/// the credentials file's over them (credentials usually live there, region and endpoint in
/// the config file). `None` when neither file has the profile. A file that cannot be read
/// counts as empty.
pub fn load_profile_from(
    name: &str,
    config: Option<&Path>,
    credentials: Option<&Path>,
) -> Option<Profile> {
    let mut found: Option<Profile> = None;
    for (path, kind) in [
        (config, FileKind::Config),
        (credentials, FileKind::Credentials),
    ] {
        let Some(Ok(Some(profiles))) = path.map(|p| Profiles::read(p, kind)) else {
            continue;
        };
        if let Some(profile) = profiles.get(name) {
            found.get_or_insert_with(Profile::default).merge(profile);
        }
    }
    found
}

/// A setting or name that cannot be written so that it reads back the same. Never quotes a
/// value (it may be a secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    #[error("profile name {name:?} cannot be written to an AWS {kind} file: {reason}")]
    ProfileName {
        name: String,
        kind: FileKind,
        reason: &'static str,
    },
    #[error("setting {key:?} of profile {profile:?}: the name {reason}")]
    Key {
        profile: String,
        key: String,
        reason: &'static str,
    },
    #[error("setting {key:?} of profile {profile:?}: the value {reason}")]
    Value {
        profile: String,
        key: String,
        reason: &'static str,
    },
}

/// Builds the text of a credentials or config file, checking that every name and value reads
/// back as given.
///
/// ```
/// use ferry_base::aws_files::{FileKind, FileWriter};
/// let text = FileWriter::new(FileKind::Credentials)
///     .comment("written by ferry")
///     .profile("default", &[("aws_access_key_id", "AKIA1"), ("region", "us-east-1")])
///     .unwrap()
///     .render();
/// assert_eq!(text, "# written by ferry\n[default]\naws_access_key_id = AKIA1\nregion = us-east-1\n");
/// ```
#[derive(Debug, Clone)]
pub struct FileWriter {
    kind: FileKind,
    items: Vec<Item>,
}

#[derive(Debug, Clone)]
enum Item {
    Comment(String),
    Profile {
        name: String,
        settings: Vec<(String, Secret)>,
    },
}

impl FileWriter {
    pub fn new(kind: FileKind) -> FileWriter {
        FileWriter {
            kind,
            items: Vec::new(),
        }
    }

    /// A comment (`# ...`); each line of `text` becomes a comment line.
    pub fn comment(mut self, text: &str) -> FileWriter {
        self.items.push(Item::Comment(text.to_owned()));
        self
    }

    /// A profile section with `settings` in order. Names are lower-case letters, digits and
    /// `_`; values hold no control characters and no leading or trailing whitespace.
    pub fn profile(
        mut self,
        name: &str,
        settings: &[(&str, &str)],
    ) -> Result<FileWriter, WriteError> {
        check_profile_name(name, self.kind)?;
        let mut checked = Vec::with_capacity(settings.len());
        for (key, value) in settings {
            check_setting(name, key, value)?;
            checked.push(((*key).to_owned(), Secret::new(*value)));
        }
        self.items.push(Item::Profile {
            name: name.to_owned(),
            settings: checked,
        });
        Ok(self)
    }

    /// The file's text. It holds the values given, secrets included: write it with
    /// [`crate::fs::write_private_file`].
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut after_profile = false;
        for item in &self.items {
            match item {
                Item::Comment(text) => {
                    for line in text.split(['\n', '\r']) {
                        out.push_str(if line.is_empty() { "#" } else { "# " });
                        out.push_str(line);
                        out.push('\n');
                    }
                }
                Item::Profile { name, settings } => {
                    if after_profile {
                        out.push('\n');
                    }
                    match (self.kind, name.as_str()) {
                        (FileKind::Config, "default") | (FileKind::Credentials, _) => {
                            out.push_str(&format!("[{name}]\n"))
                        }
                        (FileKind::Config, _) => out.push_str(&format!("[profile {name}]\n")),
                    }
                    for (key, value) in settings {
                        out.push_str(key);
                        out.push_str(" = ");
                        out.push_str(value.expose());
                        out.push('\n');
                    }
                }
            }
            after_profile = matches!(item, Item::Profile { .. });
        }
        out
    }
}

fn check_profile_name(name: &str, kind: FileKind) -> Result<(), WriteError> {
    let refuse = |reason| {
        Err(WriteError::ProfileName {
            name: name.to_owned(),
            kind,
            reason,
        })
    };
    if name.is_empty() {
        return refuse("it is empty");
    }
    if name.trim() != name {
        return refuse("it starts or ends with whitespace");
    }
    if name.chars().any(|c| c.is_control() || c == '[' || c == ']') {
        return refuse("it holds a control character or a bracket");
    }
    // botocore splits `profile name` like a shell would.
    if kind == FileKind::Config
        && name
            .chars()
            .any(|c| c.is_whitespace() || "'\"\\".contains(c))
    {
        return refuse("it holds whitespace, a quote or a backslash");
    }
    Ok(())
}

fn check_setting(profile: &str, key: &str, value: &str) -> Result<(), WriteError> {
    let key_ok = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !key_ok {
        return Err(WriteError::Key {
            profile: profile.to_owned(),
            key: key.to_owned(),
            reason: "must be lower-case letters, digits and _",
        });
    }
    let value_error = |reason| WriteError::Value {
        profile: profile.to_owned(),
        key: key.to_owned(),
        reason,
    };
    if value.chars().any(char::is_control) {
        return Err(value_error("holds a control character (a line break?)"));
    }
    if value.trim() != value {
        return Err(value_error(
            "starts or ends with whitespace, which would be lost",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
