//! Security-context folders in aiocoap's layout (`std`): the input parameters of RFC 8613
//! section 3.2 in `settings.json` and `secret.json`, the Sender Sequence Number and replay window
//! in `sequence.json`, persisted as appendix B.1 describes. The same folder works with aiocoap.
//!
//! - `settings.json` / `secret.json`: byte values as `<name>_hex` or `<name>_ascii` (`secret`,
//!   `salt`, `sender-id`, `recipient-id`, `id-context`); `algorithm` by aiocoap's name
//!   (`AES-CCM-16-64-128`, `ChaCha20/Poly1305`, `A128GCM`) or COSE number; `kdf-hashfun`
//!   `sha256`; `window` 32. A parameter may be in either file, not in both.
//! - `sequence.json`: `{"next-to-send": N, "received": "unknown" | {"index": I, "bitfield": B}}`.
//!   `next-to-send` is above every number possibly used. While the folder is open it says
//!   `"unknown"`, and a reload recovers the replay window with Echo (appendix B.1.2); a clean
//!   close writes the exact number and window.
//! - `lock`: held with an advisory file lock while the folder is open, as aiocoap does.

use crate::context::{DefaultAeadKey, SecurityContext};
use crate::error::Error;
use crate::persistence::{PersistedContext, SequenceNumberStore};
use crate::replay::{DEFAULT_REPLAY_WINDOW, ReplayWindow};
use core::fmt;
use iot_core::cose::AeadAlgorithm;
use iot_core::crypto::{Aead, HkdfSha256};
use serde_json::{Map, Value};
use std::borrow::ToOwned;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::vec::Vec;
use std::{format, io};
use zeroize::Zeroizing;

/// Default number of sequence numbers reserved per write of `sequence.json` (appendix B.1.1 `K`).
pub const DEFAULT_K: u64 = 32;

/// Why a context folder could not be read or written.
#[derive(Debug)]
#[non_exhaustive]
pub enum ContextDirError {
    /// A file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// A file's content is not what aiocoap's layout allows (bad JSON, a missing or doubled
    /// parameter, bad hex, an unsupported algorithm).
    Invalid {
        /// The file (or the folder, for a parameter missing from both files).
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// Another process holds the folder's `lock`.
    Locked {
        /// The folder.
        dir: PathBuf,
    },
    /// The parameters do not make a context (RFC 8613 section 3.3), or derivation failed.
    Oscore(Error),
}

impl fmt::Display for ContextDirError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Self::Invalid { path, reason } => write!(f, "{}: {reason}", path.display()),
            Self::Locked { dir } => write!(
                f,
                "{}: security context is in use by another process (its lock is held)",
                dir.display()
            ),
            Self::Oscore(e) => write!(f, "security context: {e}"),
        }
    }
}

impl core::error::Error for ContextDirError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            Self::Oscore(e) => Some(e),
            _ => None,
        }
    }
}

impl From<Error> for ContextDirError {
    fn from(e: Error) -> Self {
        Self::Oscore(e)
    }
}

fn invalid(path: &Path, reason: impl Into<String>) -> ContextDirError {
    ContextDirError::Invalid {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// The AEAD algorithm for aiocoap's name or its COSE number.
pub fn algorithm_by_name(name: &str) -> Option<AeadAlgorithm> {
    match name {
        "AES-CCM-16-64-128" | "10" => Some(AeadAlgorithm::AesCcm16_64_128),
        "ChaCha20/Poly1305" | "24" => Some(AeadAlgorithm::ChaCha20Poly1305),
        "A128GCM" | "1" => Some(AeadAlgorithm::A128Gcm),
        _ => None,
    }
}

/// aiocoap's name of an AEAD algorithm (`None` for one aiocoap does not name).
pub fn algorithm_name(alg: AeadAlgorithm) -> Option<&'static str> {
    match alg {
        AeadAlgorithm::AesCcm16_64_128 => Some("AES-CCM-16-64-128"),
        AeadAlgorithm::ChaCha20Poly1305 => Some("ChaCha20/Poly1305"),
        AeadAlgorithm::A128Gcm => Some("A128GCM"),
        _ => None,
    }
}

/// The input parameters read from `settings.json` and `secret.json` (RFC 8613 section 3.2);
/// the Master Secret is wiped from memory on drop.
#[derive(Clone)]
pub struct FolderParams {
    /// The AEAD Algorithm.
    pub alg: AeadAlgorithm,
    /// The Master Secret.
    pub master_secret: Zeroizing<Vec<u8>>,
    /// The Master Salt (empty when absent).
    pub master_salt: Vec<u8>,
    /// This endpoint's Sender ID.
    pub sender_id: Vec<u8>,
    /// This endpoint's Recipient ID.
    pub recipient_id: Vec<u8>,
    /// The ID Context, if any.
    pub id_context: Option<Vec<u8>>,
}

impl fmt::Debug for FolderParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FolderParams")
            .field("alg", &self.alg)
            .field("sender_id", &hex::encode(&self.sender_id))
            .field("recipient_id", &hex::encode(&self.recipient_id))
            .field("id_context", &self.id_context.as_ref().map(hex::encode))
            .finish_non_exhaustive()
    }
}

/// One parameter as found in a file.
struct Found {
    value: Value,
    file: PathBuf,
}

fn read_json(path: &Path) -> Result<Option<Map<String, Value>>, ContextDirError> {
    let text = match std::fs::read(path) {
        Ok(t) => Zeroizing::new(t),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ContextDirError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    match serde_json::from_slice::<Value>(&text) {
        Ok(Value::Object(map)) => Ok(Some(map)),
        Ok(_) => Err(invalid(path, "not a JSON object")),
        Err(e) => Err(invalid(path, format!("not JSON: {e}"))),
    }
}

impl FolderParams {
    /// Reads `settings.json` and `secret.json` of `dir` (either may be absent, not both).
    pub fn read(dir: &Path) -> Result<Self, ContextDirError> {
        let mut found: Vec<(String, Found)> = Vec::new();
        let mut any = false;
        for name in ["secret.json", "settings.json"] {
            let path = dir.join(name);
            let Some(map) = read_json(&path)? else {
                continue;
            };
            any = true;
            for (key, value) in map {
                let (base, _) = split_suffix(&key);
                if found.iter().any(|(k, _)| split_suffix(k).0 == base) {
                    return Err(invalid(
                        &path,
                        format!("parameter '{base}' is given in more than one file or form"),
                    ));
                }
                found.push((
                    key,
                    Found {
                        value,
                        file: path.clone(),
                    },
                ));
            }
        }
        if !any {
            return Err(invalid(
                dir,
                "neither settings.json nor secret.json is in this folder",
            ));
        }
        let bytes = |base: &str| -> Result<Option<Vec<u8>>, ContextDirError> {
            let Some((key, f)) = found.iter().find(|(k, _)| split_suffix(k).0 == base) else {
                return Ok(None);
            };
            let text = f
                .value
                .as_str()
                .ok_or_else(|| invalid(&f.file, format!("'{key}' is not a string")))?;
            match split_suffix(key).1 {
                Suffix::Hex => hex::decode(text)
                    .map(Some)
                    .map_err(|e| invalid(&f.file, format!("'{key}': {e}"))),
                Suffix::Ascii if text.is_ascii() => Ok(Some(text.as_bytes().to_vec())),
                Suffix::Ascii => Err(invalid(&f.file, format!("'{key}' is not ASCII"))),
                Suffix::None => Err(invalid(
                    &f.file,
                    format!("'{key}' needs a form: '{key}_hex' or '{key}_ascii'"),
                )),
            }
        };
        let required = |base: &str| -> Result<Vec<u8>, ContextDirError> {
            bytes(base)?.ok_or_else(|| {
                invalid(
                    dir,
                    format!("parameter '{base}' (as '{base}_hex' or '{base}_ascii') is missing"),
                )
            })
        };
        let plain = |base: &str| found.iter().find(|(k, _)| k == base).map(|(_, f)| f);
        let alg = match plain("algorithm") {
            None => AeadAlgorithm::AesCcm16_64_128,
            Some(f) => {
                let name = match &f.value {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => return Err(invalid(&f.file, "'algorithm' is not a name")),
                };
                algorithm_by_name(&name).ok_or_else(|| {
                    invalid(
                        &f.file,
                        format!(
                            "algorithm '{name}' is not supported \
                             (AES-CCM-16-64-128, ChaCha20/Poly1305 or A128GCM)"
                        ),
                    )
                })?
            }
        };
        if let Some(f) = plain("kdf-hashfun")
            && f.value.as_str() != Some("sha256")
        {
            return Err(invalid(&f.file, "only 'kdf-hashfun' sha256 is supported"));
        }
        if let Some(f) = plain("window")
            && f.value.as_u64() != Some(DEFAULT_REPLAY_WINDOW as u64)
        {
            return Err(invalid(
                &f.file,
                format!("only a replay 'window' of {DEFAULT_REPLAY_WINDOW} is supported"),
            ));
        }
        Ok(Self {
            alg,
            master_secret: Zeroizing::new(required("secret")?),
            master_salt: bytes("salt")?.unwrap_or_default(),
            sender_id: required("sender-id")?,
            recipient_id: required("recipient-id")?,
            id_context: bytes("id-context")?,
        })
    }

    /// The input parameters (RFC 8613 section 3.2), for [`crate::DerivedKeys::derive`] or
    /// [`SecurityContext::derive`].
    pub fn context_params(&self) -> crate::ContextParams<'_> {
        let p = crate::ContextParams::new(&self.master_secret, &self.sender_id, &self.recipient_id)
            .master_salt(&self.master_salt)
            .alg(self.alg);
        match &self.id_context {
            Some(c) => p.id_context(c),
            None => p,
        }
    }

    /// Derives the security context (RFC 8613 section 3.2.1).
    pub fn derive<K>(
        &self,
        crypto: &mut (impl HkdfSha256 + Aead<AeadKey = K> + ?Sized),
    ) -> Result<SecurityContext<DEFAULT_REPLAY_WINDOW, K>, ContextDirError> {
        Ok(SecurityContext::derive(crypto, &self.context_params())?)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Suffix {
    Hex,
    Ascii,
    None,
}

fn split_suffix(key: &str) -> (&str, Suffix) {
    if let Some(b) = key.strip_suffix("_hex") {
        (b, Suffix::Hex)
    } else if let Some(b) = key.strip_suffix("_ascii") {
        (b, Suffix::Ascii)
    } else {
        (key, Suffix::None)
    }
}

/// The content of `sequence.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SequenceState {
    /// A Sender Sequence Number above every number possibly used.
    pub next_to_send: u64,
    /// The replay window, when it was saved at a clean close; `None` is aiocoap's `"unknown"`.
    pub received: Option<(u64, u64)>,
}

impl SequenceState {
    fn to_json(self) -> Value {
        let received = match self.received {
            None => Value::from("unknown"),
            Some((index, bitfield)) => {
                let mut m = Map::new();
                m.insert("index".to_owned(), Value::from(index));
                m.insert("bitfield".to_owned(), Value::from(bitfield));
                Value::Object(m)
            }
        };
        let mut m = Map::new();
        m.insert("next-to-send".to_owned(), Value::from(self.next_to_send));
        m.insert("received".to_owned(), received);
        Value::Object(m)
    }

    /// Reads `sequence.json`; `None` if the file does not exist.
    pub fn read(path: &Path) -> Result<Option<Self>, ContextDirError> {
        let Some(map) = read_json(path)? else {
            return Ok(None);
        };
        let next_to_send = map
            .get("next-to-send")
            .and_then(Value::as_u64)
            .ok_or_else(|| invalid(path, "'next-to-send' is missing or not a number"))?;
        let received = match map.get("received") {
            None => None,
            Some(Value::String(s)) if s == "unknown" => None,
            Some(Value::Object(w)) => {
                let index = w.get("index").and_then(Value::as_u64);
                let bitfield = w.get("bitfield").and_then(Value::as_u64);
                match (index, bitfield) {
                    (Some(i), Some(b)) => Some((i, b)),
                    _ => return Err(invalid(path, "'received' has no index and bitfield")),
                }
            }
            Some(_) => return Err(invalid(path, "'received' is not understood")),
        };
        Ok(Some(Self {
            next_to_send,
            received,
        }))
    }

    /// Writes `sequence.json` atomically (a synced temporary file renamed over it).
    pub fn write(self, path: &Path) -> io::Result<()> {
        let dir = path.parent().unwrap_or_else(|| Path::new("."));
        let tmp = dir.join(format!(".sequence-{}.json", std::process::id()));
        let text = self.to_json().to_string();
        let result = (|| {
            let mut f = File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}

/// The window in aiocoap's form: `index` is the lowest acceptable number, bit `i` of `bitfield`
/// set when `index + i` is no longer acceptable.
fn window_to_aiocoap<const W: usize>(w: &ReplayWindow<W>) -> (u64, u64) {
    let index = w
        .highest()
        .map_or(0, |top| top.saturating_sub(W as u64 - 1));
    let mut bitfield = 0u64;
    for i in 0..(W.min(64) as u64) {
        if w.check(index + i).is_err() {
            bitfield |= 1 << i;
        }
    }
    (index, bitfield)
}

/// The inverse of [`window_to_aiocoap`].
fn window_from_aiocoap<const W: usize>(index: u64, bitfield: u64) -> ReplayWindow<W> {
    let mut w = ReplayWindow::with_lower_limit(index);
    for i in 0..64u64 {
        if bitfield & (1 << i) != 0 {
            w.accept(index.saturating_add(i));
        }
    }
    w
}

/// A [`SequenceNumberStore`] on `sequence.json`: storing value `v` writes `next-to-send = v + k`
/// with `"received": "unknown"`, so that [`PersistedContext::after_reboot`] resumes exactly at the
/// file's `next-to-send`.
#[derive(Debug)]
pub struct SequenceFile {
    path: PathBuf,
    k: u64,
}

impl SequenceFile {
    /// The store for `sequence.json` in `dir`, reserving `k` numbers per write.
    pub fn new(dir: &Path, k: u64) -> Self {
        Self {
            path: dir.join("sequence.json"),
            k,
        }
    }
}

impl SequenceNumberStore for SequenceFile {
    fn load(&mut self) -> crate::Result<Option<u64>> {
        let state = SequenceState::read(&self.path).map_err(|_| Error::Storage)?;
        Ok(state.map(|s| s.next_to_send.saturating_sub(self.k)))
    }

    fn store(&mut self, value: u64) -> crate::Result<()> {
        SequenceState {
            next_to_send: value.checked_add(self.k).ok_or(Error::Storage)?,
            received: None,
        }
        .write(&self.path)
        .map_err(|_| Error::Storage)
    }
}

/// An open security-context folder: the derived context with its sequence numbers persisted in
/// `sequence.json` (RFC 8613 appendix B.1), locked against use by another process. Dropping it
/// closes it cleanly ([`ContextDir::close`]).
pub struct ContextDir<K = DefaultAeadKey> {
    dir: PathBuf,
    ctx: PersistedContext<SequenceFile, DEFAULT_REPLAY_WINDOW, K>,
    lock: Option<File>,
}

impl<K: fmt::Debug> fmt::Debug for ContextDir<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContextDir")
            .field("dir", &self.dir)
            .field("ctx", &self.ctx)
            .finish_non_exhaustive()
    }
}

impl<K> ContextDir<K> {
    /// Opens `dir` with [`DEFAULT_K`].
    pub fn open(
        crypto: &mut (impl HkdfSha256 + Aead<AeadKey = K> + ?Sized),
        dir: &Path,
    ) -> Result<Self, ContextDirError> {
        Self::open_with_k(crypto, dir, DEFAULT_K)
    }

    /// Opens `dir`: takes its lock, derives the context, and restores the sequence number and
    /// replay window from `sequence.json`. Without that file the context is new (appendix B.1
    /// first use); with a window saved at a clean close it resumes as it was; otherwise the
    /// replay window is recovered with Echo (appendix B.1.2). `k` numbers are reserved per write.
    pub fn open_with_k(
        crypto: &mut (impl HkdfSha256 + Aead<AeadKey = K> + ?Sized),
        dir: &Path,
        k: u64,
    ) -> Result<Self, ContextDirError> {
        let params = FolderParams::read(dir)?;
        let lock_path = dir.join("lock");
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|source| ContextDirError::Io {
                path: lock_path.clone(),
                source,
            })?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(ContextDirError::Locked {
                    dir: dir.to_path_buf(),
                });
            }
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(ContextDirError::Io {
                    path: lock_path,
                    source,
                });
            }
        }
        let mut ctx = params.derive(crypto)?;
        let seq_path = dir.join("sequence.json");
        let store = SequenceFile::new(dir, k);
        let ctx = match SequenceState::read(&seq_path)? {
            // First use: a new context (appendix B.1 applies from here on).
            None => PersistedContext::first_boot(ctx, store, k)?,
            // Closed cleanly: resume with the saved number and window.
            Some(SequenceState {
                next_to_send,
                received: Some((index, bitfield)),
            }) => {
                ctx.set_sender_sequence_number(next_to_send)
                    .map_err(|_| invalid(&seq_path, "'next-to-send' is out of range"))?;
                ctx.set_replay_window(window_from_aiocoap(index, bitfield));
                PersistedContext::first_boot(ctx, store, k)?
            }
            // Not closed cleanly (or by aiocoap while in use): recover with Echo (B.1.2).
            Some(_) => PersistedContext::after_reboot(ctx, store, k)?,
        };
        // From now on a saved window would go stale: the file says "unknown" until a clean
        // close, so that a crash leads to Echo recovery rather than to accepting replays.
        SequenceState {
            next_to_send: ctx.context().sender_sequence_number(),
            received: None,
        }
        .write(&seq_path)
        .map_err(|source| ContextDirError::Io {
            path: seq_path.clone(),
            source,
        })?;
        Ok(Self {
            dir: dir.to_path_buf(),
            ctx,
            lock: Some(lock),
        })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The context, read-only.
    pub fn context(&self) -> &SecurityContext<DEFAULT_REPLAY_WINDOW, K> {
        self.ctx.context()
    }

    /// Whether the replay window is still to be recovered with Echo (after an unclean stop).
    pub fn is_recovering(&self) -> bool {
        self.ctx.is_recovering()
    }

    /// The persisted context, to protect and unprotect with.
    pub fn persisted_mut(
        &mut self,
    ) -> &mut PersistedContext<SequenceFile, DEFAULT_REPLAY_WINDOW, K> {
        &mut self.ctx
    }

    /// Writes the exact next Sender Sequence Number and, unless it is still being recovered, the
    /// replay window to `sequence.json` (aiocoap does the same when it shuts down). Only at close:
    /// a window saved while the folder stays in use would go stale.
    fn save(&self) -> Result<(), ContextDirError> {
        let ctx = self.ctx.context();
        let received = if self.ctx.is_recovering() {
            None
        } else {
            Some(window_to_aiocoap(ctx.replay_window()))
        };
        let path = self.dir.join("sequence.json");
        SequenceState {
            next_to_send: ctx.sender_sequence_number(),
            received,
        }
        .write(&path)
        .map_err(|source| ContextDirError::Io { path, source })
    }

    /// Writes the exact next Sender Sequence Number and (unless it is still being recovered) the
    /// replay window to `sequence.json`, and releases the lock.
    pub fn close(mut self) -> Result<(), ContextDirError> {
        self.finish()
    }

    fn finish(&mut self) -> Result<(), ContextDirError> {
        let Some(lock) = self.lock.take() else {
            return Ok(());
        };
        let saved = self.save();
        let _ = std::fs::remove_file(self.dir.join("lock"));
        drop(lock);
        saved
    }
}

impl<K> Drop for ContextDir<K> {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_round_trip() {
        let mut w: ReplayWindow = ReplayWindow::new();
        for s in [0u64, 1, 5, 40, 38, 45] {
            w.accept(s);
        }
        let (index, bits) = window_to_aiocoap(&w);
        assert_eq!(index, 45 - 31);
        let back: ReplayWindow = window_from_aiocoap(index, bits);
        for s in 0..100u64 {
            assert_eq!(w.check(s).is_ok(), back.check(s).is_ok(), "seq {s}");
        }
    }
}
