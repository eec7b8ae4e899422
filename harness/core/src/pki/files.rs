//! Writing PEM files: secret ones mode 0600 from the first byte.

use std::path::Path;

/// Write a file; `secret` files are created with mode 0600 before any byte is written.
pub fn write_file(path: &Path, body: &[u8], secret: bool) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        opts.mode(if secret { 0o600 } else { 0o644 });
        let mut f = opts.open(path)?;
        // An existing file keeps its old mode through open(); force it.
        if secret {
            f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        f.write_all(body)
    }
    #[cfg(not(unix))]
    {
        let _ = secret;
        opts.open(path)?.write_all(body)
    }
}
