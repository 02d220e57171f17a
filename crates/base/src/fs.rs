//! Files only ferry's user may read: secrets (passwords, keys, credentials) written so that
//! no other user can read them at any moment, and never half-written.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};

use camino::Utf8Path;

/// Writes `contents` to `path` atomically with mode 0600 from the first byte: a temporary
/// file created 0600 in the same directory, written and synced, then renamed over `path`.
/// Neither the temporary file nor the result is ever readable by other users.
pub fn write_private_file(path: &Utf8Path, contents: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_str().is_empty() => d,
        _ => Utf8Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{path} is not a file path"),
        )
    })?;
    let tmp = dir.join(format!(".{name}.tmp.{:016x}", rand::random::<u64>()));
    let write = || -> io::Result<()> {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        // The mode given to open() is reduced by the umask, never widened; make it exact.
        f.set_permissions(fs::Permissions::from_mode(0o600))?;
        f.write_all(contents)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io::Error::new(e.kind(), format!("sync directory {dir}: {e}")))
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io::Error::new(e.kind(), format!("write {path}: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use camino::Utf8PathBuf;

    fn mode(path: &Utf8Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn private_files_are_0600_and_replaced_atomically() {
        let tmp = tempfile::tempdir().unwrap();
        let root = Utf8PathBuf::from_path_buf(tmp.path().to_owned()).unwrap();
        let path = root.join("admin-credentials");
        write_private_file(&path, b"[default]\n").unwrap();
        assert_eq!(mode(&path), 0o600);
        write_private_file(&path, b"[default]\nregion = us-east-1\n").unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "[default]\nregion = us-east-1\n"
        );
        assert_eq!(mode(&path), 0o600);
        let leftovers: Vec<_> = fs::read_dir(&root)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp."))
            .collect();
        assert!(leftovers.is_empty());
        let err = write_private_file(&root.join("missing-dir/file"), b"x").unwrap_err();
        assert!(err.to_string().contains("missing-dir/file"), "{err}");
    }

    #[test]
    fn a_directory_path_is_refused() {
        let err = write_private_file(Utf8Path::new("/"), b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
    }
}
