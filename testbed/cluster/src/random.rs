//! Random names and secrets, from the kernel's generator.

use std::path::Path;

use crate::error::ClusterError;

/// `bytes` random bytes from the kernel's random source, as hex.
pub(crate) fn random_hex(bytes: usize) -> Result<String, ClusterError> {
    use std::io::Read as _;
    let path = Path::new("/dev/urandom");
    let mut buf = vec![0u8; bytes];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| ClusterError::io("cannot read", path, e))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}
