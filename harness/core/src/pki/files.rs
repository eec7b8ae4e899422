//! Writing files safely: the body goes to a fresh file created next to the destination
//! (`O_CREAT | O_EXCL`, so nothing planted there is followed; mode 0600 for secrets from the first
//! byte), which then takes the destination's name — renamed over it, or hard-linked when an
//! existing destination must not be replaced. A symlink planted at the destination is replaced or
//! refused, never written through.

use std::io::Write;
use std::path::{Path, PathBuf};

/// A fresh file next to `path`, created exclusively with the right mode; its path.
fn fresh_sibling(path: &Path, body: &[u8], secret: bool) -> std::io::Result<PathBuf> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.{}.tmp", crate::ids::random_id()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(if secret { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut f = opts.open(&tmp)?;
    if let Err(e) = f.write_all(body) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(tmp)
}

/// Write a file, replacing whatever is at `path` (a symlink there is replaced, not followed);
/// `secret` files are mode 0600 from their first byte.
pub fn write_file(path: &Path, body: &[u8], secret: bool) -> std::io::Result<()> {
    let tmp = fresh_sibling(path, body, secret)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Write a file that must not exist yet: an existing file, directory or symlink at `path` —
/// even a dangling one — is refused (`AlreadyExists`), atomically.
pub fn write_new_file(path: &Path, body: &[u8], secret: bool) -> std::io::Result<()> {
    let tmp = fresh_sibling(path, body, secret)?;
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    linked.map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            std::io::Error::new(std::io::ErrorKind::AlreadyExists, "already exists (give --force to replace it)")
        }
        _ => e,
    })
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_planted_symlink_is_refused_or_replaced_never_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let key = dir.path().join("ca.key");
        std::os::unix::fs::symlink(&victim, &key).unwrap();
        let e = write_new_file(&key, b"SECRET", true).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        write_file(&key, b"SECRET", true).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious", "the link is replaced, not followed");
        let meta = std::fs::symlink_metadata(&key).unwrap();
        assert!(meta.file_type().is_file());
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        // A dangling link is refused too, and nothing is left behind.
        let dangling = dir.path().join("other.key");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
        assert!(write_new_file(&dangling, b"x", true).is_err());
        assert!(!dir.path().join("nowhere").exists());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}
