//! Member paths inside a backup set, validated once.
//!
//! Every path that comes out of an archive (an xbstream chunk, a tar header) or an object key
//! becomes a [`SafePath`] before anything touches the disk. Stock `mbstream` silently skips
//! absolute and `..` paths; ferry refuses them with an error that names the path, so a
//! tampered or corrupt archive can never write outside the set's directory.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// Why a member path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("empty member path")]
    Empty,
    #[error("member path {path:?} is absolute")]
    Absolute { path: String },
    #[error("member path {path:?} contains a `..` component")]
    ParentComponent { path: String },
    #[error("member path {path:?} contains a NUL byte")]
    Nul { path: String },
    #[error("member path {path:?} contains an empty component")]
    EmptyComponent { path: String },
    #[error("member path {path:?} contains a `.` component")]
    DotComponent { path: String },
    #[error("member path {path:?} is not valid UTF-8")]
    NotUtf8 { path: String },
}

/// A relative, `/`-separated path with no `..`, `.`, empty components or NUL bytes.
///
/// A single leading `./` (as `tar -C dir .` writes) is stripped. Joining a `SafePath` to a
/// directory always yields a path inside that directory (symlinks aside: the sink that writes
/// files refuses to follow them).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct SafePath(String);

impl SafePath {
    /// Validates `path`. See the type's documentation for the rules.
    pub fn new(path: &str) -> Result<SafePath, PathError> {
        let owned = || path.to_string();
        if path.contains('\0') {
            return Err(PathError::Nul { path: owned() });
        }
        if path.starts_with('/') {
            return Err(PathError::Absolute { path: owned() });
        }
        let rel = path.strip_prefix("./").unwrap_or(path);
        if rel.is_empty() {
            return Err(PathError::Empty);
        }
        for component in rel.split('/') {
            match component {
                "" => return Err(PathError::EmptyComponent { path: owned() }),
                "." => return Err(PathError::DotComponent { path: owned() }),
                ".." => return Err(PathError::ParentComponent { path: owned() }),
                _ => {}
            }
        }
        Ok(SafePath(rel.to_string()))
    }

    /// Validates a path given as raw bytes (xbstream and tar store bytes).
    pub fn from_bytes(path: &[u8]) -> Result<SafePath, PathError> {
        match std::str::from_utf8(path) {
            Ok(s) => SafePath::new(s),
            Err(_) => Err(PathError::NotUtf8 {
                path: String::from_utf8_lossy(path).into_owned(),
            }),
        }
    }

    /// The path as a `/`-separated string, without a leading `./`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The path's components, outermost first.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }

    /// The last component.
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// True when the path has a single component (a file at the set's root).
    pub fn is_top_level(&self) -> bool {
        !self.0.contains('/')
    }

    /// `root` joined with this path.
    pub fn to_path_under(&self, root: &Path) -> PathBuf {
        let mut p = root.to_path_buf();
        for c in self.components() {
            p.push(c);
        }
        p
    }
}

impl fmt::Display for SafePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for SafePath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_relative_paths() {
        for p in [
            "ibdata1",
            "db/t1.ibd",
            "a/b/c.frm",
            "..hidden",
            "x..y/z",
            ".my.cnf",
        ] {
            assert_eq!(SafePath::new(p).unwrap().as_str(), p);
        }
    }

    #[test]
    fn strips_a_single_leading_dot_slash() {
        assert_eq!(SafePath::new("./db/t1.ibd").unwrap().as_str(), "db/t1.ibd");
        assert!(matches!(
            SafePath::new("././a"),
            Err(PathError::DotComponent { .. })
        ));
    }

    #[test]
    fn refuses_unsafe_paths_naming_them() {
        let cases: [(&str, &str); 9] = [
            ("", "empty member path"),
            ("./", "empty member path"),
            ("/etc/passwd", "member path \"/etc/passwd\" is absolute"),
            ("../x", "member path \"../x\" contains a `..` component"),
            ("a/../../x", "contains a `..` component"),
            ("a//b", "member path \"a//b\" contains an empty component"),
            ("a/", "contains an empty component"),
            ("a/./b", "contains a `.` component"),
            ("a\0b", "contains a NUL byte"),
        ];
        for (input, msg) in cases {
            let err = SafePath::new(input).unwrap_err().to_string();
            assert!(err.contains(msg), "{input:?}: {err}");
        }
    }

    #[test]
    fn refuses_non_utf8_bytes() {
        let err = SafePath::from_bytes(b"db/\xff.ibd").unwrap_err();
        assert!(matches!(err, PathError::NotUtf8 { .. }));
    }

    #[test]
    fn joins_under_a_root() {
        let p = SafePath::new("db/t.ibd").unwrap();
        assert_eq!(
            p.to_path_under(Path::new("/s")),
            PathBuf::from("/s/db/t.ibd")
        );
        assert_eq!(p.file_name(), "t.ibd");
        assert!(!p.is_top_level());
    }
}
