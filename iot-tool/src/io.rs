//! File input and output: `-` is stdin / stdout; CBOR files may be binary or hex text.

use crate::fail::{Context, Result, bail};
use std::io::{Read, Write};
use std::path::Path;
use zeroize::Zeroizing;

fn is_std(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// The bytes of `path` (stdin for `-`).
pub fn read(path: &Path) -> Result<Vec<u8>> {
    if is_std(path) {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("reading stdin")?;
        return Ok(buf);
    }
    std::fs::read(path).context(path.display())
}

/// The bytes of a file holding a secret, wiped from memory when dropped.
pub fn read_secret(path: &Path) -> Result<Zeroizing<Vec<u8>>> {
    read(path).map(Zeroizing::new)
}

/// A CBOR item or sequence from `path`, given as binary or as hex text (whitespace allowed).
pub fn read_cbor(path: &Path) -> Result<Vec<u8>> {
    let bytes = read(path)?;
    match hex_text(&bytes) {
        Some(decoded) => Ok(decoded),
        None => Ok(bytes),
    }
}

/// `bytes` decoded when they are hex text: only hex digits and whitespace, an optional `0x`, an even
/// number of digits and at least one byte. Binary CBOR is never made only of such characters in
/// practice (it would be a run of small negative integers and one-letter strings).
pub fn hex_text(bytes: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(bytes).ok()?.trim();
    let text = text.strip_prefix("0x").unwrap_or(text);
    if text.is_empty()
        || !text
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b.is_ascii_whitespace())
    {
        return None;
    }
    let digits: String = text.split_whitespace().collect();
    hex::decode(digits).ok()
}

/// Writes `data` to `path` (stdout for `-`).
pub fn write(path: &Path, data: &[u8]) -> Result<()> {
    if is_std(path) {
        let mut out = std::io::stdout().lock();
        out.write_all(data)
            .and_then(|()| out.flush())
            .map_err(|e| crate::fail::Failure::stdout(&e))?;
        return Ok(());
    }
    std::fs::write(path, data).context(path.display())
}

/// Replaces the file at `path` with `data` so that a crash leaves the old content or the new,
/// never part of either: a synced temporary file beside it, renamed over it, then the folder
/// synced (the rename itself made durable).
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(folder)?.sync_all()
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.context(path.display())
}

/// Writes a secret to a new file readable by its owner only; an existing file is kept unless `force`.
pub fn write_secret(path: &Path, data: &[u8], force: bool) -> Result<()> {
    if is_std(path) {
        bail!("a private key is not written to stdout; give a file name");
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true);
    if force {
        opts.create(true).truncate(true);
    } else {
        opts.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => {
                std::io::Error::other("exists already (pass --force to replace it)")
            }
            _ => e,
        })
        .context(path.display())?;
    file.write_all(data).context(path.display())
}

/// Hex given on the command line (`--kid`, `--aad`): digits with optional whitespace or `0x`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hex(pub Vec<u8>);

impl std::str::FromStr for Hex {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        if s.is_empty() {
            return Ok(Self(Vec::new()));
        }
        hex_text(s.as_bytes())
            .map(Self)
            .ok_or_else(|| format!("'{s}' is not hex (an even number of digits 0-9, a-f)"))
    }
}

/// A short, printable form of a kid: `'text'` when it is printable ASCII, else `h'..'`.
pub fn show_id(id: &[u8]) -> String {
    if !id.is_empty() && id.iter().all(|b| b.is_ascii_graphic()) {
        format!("'{}' (h'{}')", String::from_utf8_lossy(id), hex::encode(id))
    } else {
        format!("h'{}'", hex::encode(id))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hex_detection() {
        assert_eq!(hex_text(b"A1 01\n26\n"), Some(vec![0xa1, 0x01, 0x26]));
        assert_eq!(hex_text(b"0x0102"), Some(vec![1, 2]));
        assert_eq!(hex_text(b"abc"), None, "odd number of digits");
        assert_eq!(hex_text(b"\xa1\x01\x26"), None, "binary");
        assert_eq!(hex_text(b"  "), None);
        assert_eq!("0a0B".parse::<Hex>().unwrap(), Hex(vec![10, 11]));
        assert!("xyz".parse::<Hex>().is_err());
    }
}
