//! The verifier (feature `alloc`): finds a token's key in a [`KeyStore`] by kid, UEID or PSA
//! Instance ID, verifies the signature or MAC, applies the rules of the token's profile and
//! checks the nonce (RFC 9711 sections 4.1 and 6.3, RFC 9783 section 5).
//!
//! The order is the one that keeps unauthenticated input from steering decisions: the token is
//! decoded (under the Constrained Device Standard Profile with its encoding rules), the key is
//! looked up by the kid or by the UEID read before verification, the signature or
//! MAC is verified, and only then are the claims' profile rules, the nonce, the validity period
//! and the key's binding to the UEID checked.

use crate::cdsp::{self, KeyId};
use crate::claims::Claims;
use crate::error::{Error, Result};
use crate::psa;
use crate::token::{Envelope, Token};
use crate::value::{NumericDate, Profile};
use alloc::string::String;
use alloc::vec::Vec;
use iot_core::cbor::Limits;
use iot_core::cose::{Algorithm, SymmetricKey};
use iot_core::crypto::{
    HmacSha256, P256VerifyingKey, P384VerifyingKey, P521VerifyingKey, Sha256, ct_eq,
};
use zeroize::Zeroizing;

/// Length bounds of the nonce a verifier asks for (RFC 9711 section 4.1).
pub const NONCE_LEN: core::ops::RangeInclusive<usize> = 8..=64;

/// The key material of a [`KeyEntry`].
#[derive(Clone)]
pub enum KeyMaterial {
    /// A P-256 public key, for COSE_Sign1 tokens (ES256, ESP256).
    P256(P256VerifyingKey),
    /// A P-384 public key, for COSE_Sign1 tokens (ES384).
    P384(P384VerifyingKey),
    /// A P-521 public key, for COSE_Sign1 tokens (ES512).
    P521(P521VerifyingKey),
    /// An HMAC key, for COSE_Mac0 tokens (HMAC 256/256); wiped on drop.
    Hmac(Zeroizing<Vec<u8>>),
}

impl core::fmt::Debug for KeyMaterial {
    /// What the key is, never the bytes of a secret key.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::P256(k) => f.debug_tuple("P256").field(k).finish(),
            Self::P384(k) => f.debug_tuple("P384").field(k).finish(),
            Self::P521(k) => f.debug_tuple("P521").field(k).finish(),
            Self::Hmac(k) => write!(f, "Hmac({} bytes)", k.len()),
        }
    }
}

/// One verification key of a key store, with what identifies it.
#[derive(Debug, Clone)]
pub struct KeyEntry {
    /// A name for messages (a file name, a device name).
    pub name: String,
    /// The COSE key id that selects this key.
    pub kid: Option<Vec<u8>>,
    /// The UEID (for PSA: the Instance ID) of the one entity this key belongs to. When set, a
    /// token verified with the key must claim this UEID.
    pub ueid: Option<Vec<u8>>,
    /// The key.
    pub key: KeyMaterial,
}

/// Where a verifier finds keys. A database-backed store reports its failures as errors.
pub trait KeyStore {
    /// The key that `id` names, if the store has one.
    fn find(&self, id: KeyId<'_>) -> Result<Option<KeyEntry>>;
}

/// One key is a key store that answers every lookup with itself: for a verifier told which
/// key to use.
impl KeyStore for KeyEntry {
    fn find(&self, _: KeyId<'_>) -> Result<Option<KeyEntry>> {
        Ok(Some(self.clone()))
    }
}

/// A key store in memory. A kid or UEID names at most one entry.
#[derive(Debug, Clone, Default)]
pub struct MemoryKeyStore {
    entries: Vec<KeyEntry>,
}

impl MemoryKeyStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `entry`; a kid or UEID that another entry already has is refused
    /// ([`iot_core::Error::InvalidKey`]), so that lookups are never ambiguous.
    pub fn insert(&mut self, entry: KeyEntry) -> Result<()> {
        let clash = self.entries.iter().any(|e| {
            (entry.kid.is_some() && e.kid == entry.kid)
                || (entry.ueid.is_some() && e.ueid == entry.ueid)
        });
        if clash {
            return Err(iot_core::Error::InvalidKey.into());
        }
        self.entries.push(entry);
        Ok(())
    }

    /// The entries, in insertion order.
    pub fn entries(&self) -> &[KeyEntry] {
        &self.entries
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// `true` when empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl KeyStore for MemoryKeyStore {
    fn find(&self, id: KeyId<'_>) -> Result<Option<KeyEntry>> {
        Ok(self
            .entries
            .iter()
            .find(|e| match id {
                KeyId::Kid(kid) => e.kid.as_deref() == Some(kid),
                KeyId::Ueid(ueid) => e.ueid.as_deref() == Some(ueid),
            })
            .cloned())
    }
}

/// The rules a verified token was checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rules {
    /// The PSA profile (RFC 9783): [`psa::validate`].
    Psa,
    /// The Constrained Device Standard Profile (RFC 9711 section 6.3): [`cdsp`].
    Cdsp,
    /// No profile this crate knows: the general EAT and CWT rules only.
    Eat,
}

/// A token that verified: its claims, the key that verified it and how it was found.
#[derive(Debug, Clone)]
pub struct Verified<'t> {
    /// The token as decoded.
    pub token: Token<'t>,
    /// Its claims, now authenticated.
    pub claims: Claims<'t>,
    /// The key that verified it.
    pub key: KeyEntry,
    /// How the key was looked up.
    pub found_by: KeyId<'t>,
    /// The profile rules that were applied.
    pub rules: Rules,
}

/// Verifies tokens against the keys of a store.
#[derive(Debug)]
pub struct Verifier<'s, S: ?Sized> {
    store: &'s S,
    /// CBOR limits for decoding (the Constrained Device Standard Profile tightens them to
    /// [`cdsp::LIMITS`] for its tokens).
    pub limits: Limits,
    /// Refuse tokens whose profile this crate does not know ([`Error::WrongProfile`]) instead of
    /// applying only the general rules.
    pub require_known_profile: bool,
    /// The time to check `exp` and `nbf` against (seconds since the epoch); `None` skips them.
    pub now: Option<i64>,
}

impl<'s, S: KeyStore + ?Sized> Verifier<'s, S> {
    /// A verifier over `store`: default limits, unknown profiles verified with the general
    /// rules, no clock.
    pub fn new(store: &'s S) -> Self {
        Self {
            store,
            limits: Limits::default(),
            require_known_profile: false,
            now: None,
        }
    }

    /// Verifies `input`. With `nonce`, the token must carry it (one of its nonces, for a
    /// general EAT; the one nonce under the PSA and Constrained Device profiles); `nonce` must
    /// have 8 to 64 bytes ([`iot_core::Error::InvalidNonce`] otherwise).
    pub fn verify<'t, C: Sha256 + HmacSha256>(
        &self,
        crypto: &mut C,
        input: &'t [u8],
        nonce: Option<&[u8]>,
    ) -> Result<Verified<'t>> {
        if nonce.is_some_and(|n| !NONCE_LEN.contains(&n.len())) {
            return Err(iot_core::Error::InvalidNonce.into());
        }
        let token = Token::decode_with(input, self.limits)?;
        let unverified = token.claims_unverified()?;
        let rules = match unverified.profile {
            Some(Profile::Uri(p)) if p == psa::PROFILE => Rules::Psa,
            Some(Profile::Uri(p)) if p == cdsp::PROFILE => Rules::Cdsp,
            _ if self.require_known_profile => return Err(Error::WrongProfile),
            _ => Rules::Eat,
        };
        let token = match rules {
            Rules::Cdsp => cdsp::check_token(input)?,
            _ => token,
        };
        let (found_by, key) = self.lookup(&token, &unverified, rules)?;

        let claims = match (&token.envelope, &key.key) {
            (Envelope::Sign1(_), KeyMaterial::P256(k)) => {
                let mut k = *k;
                token.verify(crypto, &mut k, &[])?
            }
            (Envelope::Sign1(_), KeyMaterial::P384(k)) => {
                token.verify(crypto, &mut k.clone(), &[])?
            }
            (Envelope::Sign1(_), KeyMaterial::P521(k)) => {
                token.verify(crypto, &mut k.clone(), &[])?
            }
            (Envelope::Mac0(m), KeyMaterial::Hmac(k)) => {
                if m.headers.alg()? != Algorithm::Hmac256 {
                    return Err(iot_core::Error::AlgorithmMismatch.into());
                }
                token.verify_mac(crypto, &SymmetricKey::new(k), &[])?
            }
            _ => return Err(iot_core::Error::AlgorithmMismatch.into()),
        };

        match rules {
            Rules::Psa => psa::validate(&claims)?,
            Rules::Cdsp => cdsp::validate(&claims)?,
            Rules::Eat => {}
        }
        if let Some(expected) = nonce {
            let got = claims.nonce.ok_or(Error::NonceMissing)?;
            let found = match got {
                crate::Nonce::One(n) => ct_eq(n, expected),
                crate::Nonce::Many(list) => list.iter().any(|n| ct_eq(n, expected)),
            };
            if !found {
                return Err(Error::NonceMismatch);
            }
        }
        if let Some(now) = self.now {
            let expired = claims.exp.is_some_and(|t| !before(now, t));
            let early = claims.nbf.is_some_and(|t| before(now, t));
            if expired || early {
                return Err(Error::NotValidNow);
            }
        }
        if let Some(bound) = &key.ueid
            && claims.ueid != Some(bound.as_slice())
        {
            return Err(Error::InstanceMismatch);
        }
        Ok(Verified {
            token,
            claims,
            key,
            found_by,
            rules,
        })
    }
}

impl<S: KeyStore + ?Sized> Verifier<'_, S> {
    /// The key of a token: by its kid, else by its UEID. Under the Constrained Device Standard
    /// Profile a kid the store does not know ends the search (the kid takes precedence); for
    /// other tokens (PSA tokens carry the Instance ID and often a kid of the verifier's own
    /// scheme) an unknown kid falls back to the UEID.
    fn lookup<'t>(
        &self,
        token: &Token<'t>,
        claims: &Claims<'t>,
        rules: Rules,
    ) -> Result<(KeyId<'t>, KeyEntry)> {
        if let Some(kid) = token.kid() {
            if let Some(key) = self.store.find(KeyId::Kid(kid))? {
                return Ok((KeyId::Kid(kid), key));
            }
            if rules == Rules::Cdsp {
                return Err(Error::UnknownKey);
            }
        }
        let ueid = claims.ueid.ok_or(Error::UnknownKey)?;
        let key = self
            .store
            .find(KeyId::Ueid(ueid))?
            .ok_or(Error::UnknownKey)?;
        Ok((KeyId::Ueid(ueid), key))
    }
}

/// Whether `now` lies before the date `t`.
fn before(now: i64, t: NumericDate) -> bool {
    match t {
        NumericDate::Int(t) => now < t,
        #[allow(clippy::cast_precision_loss)]
        NumericDate::Float(t) => (now as f64) < t,
    }
}

/// Loading a folder of keys (feature `std`).
#[cfg(feature = "std")]
mod dir {
    use super::{KeyEntry, KeyMaterial, MemoryKeyStore};
    use crate::json::JsonError;
    use std::format;
    use std::path::Path;
    use std::string::{String, ToString};
    use std::vec::Vec;

    /// What a key file holds, as the caller's parser reads it.
    #[derive(Debug, Clone)]
    pub struct ParsedKey {
        /// The key.
        pub key: KeyMaterial,
        /// The kid the file gives (a JWK or COSE_Key `kid`), if any.
        pub kid: Option<Vec<u8>>,
    }

    impl MemoryKeyStore {
        /// Loads every file of `dir` (names starting with `.` are skipped) with `parse`, which
        /// reads one key file (PEM, JWK, COSE_Key... as the caller supports).
        ///
        /// A file is found by its name without extension: when that is the hex of 7 to 33
        /// bytes it is the UEID (PSA Instance ID) the key belongs to, and the kid is the file's
        /// own, if it has one; any other name is the kid (as UTF-8), unless the file gives one.
        /// So `sensor-17.pem` is found by kid `sensor-17`, and
        /// `0102...02.pem` by Instance ID `h'0102...02'`. A file that does not parse, or a kid
        /// or UEID that two files claim, is an error naming the file.
        pub fn load_dir<F>(dir: &Path, mut parse: F) -> Result<Self, JsonError>
        where
            F: FnMut(&Path, &[u8]) -> Result<ParsedKey, String>,
        {
            let read = |e: std::io::Error| JsonError(format!("{}: {e}", dir.display()));
            let mut paths: Vec<_> = std::fs::read_dir(dir)
                .map_err(read)?
                .map(|e| e.map(|e| e.path()))
                .collect::<Result<_, _>>()
                .map_err(read)?;
            paths.sort();
            let mut store = Self::new();
            for path in paths {
                let file = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if file.starts_with('.') || !path.is_file() {
                    continue;
                }
                let stem = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("")
                    .to_string();
                let bytes = std::fs::read(&path)
                    .map_err(|e| JsonError(format!("{}: {e}", path.display())))?;
                let parsed = parse(&path, &bytes)
                    .map_err(|e| JsonError(format!("{}: {e}", path.display())))?;
                let ueid = hex::decode(&stem)
                    .ok()
                    .filter(|b| (7..=33).contains(&b.len()));
                let kid = match (&ueid, parsed.kid) {
                    (_, Some(kid)) => Some(kid),
                    (Some(_), None) => None,
                    (None, None) => Some(stem.clone().into_bytes()),
                };
                store
                    .insert(KeyEntry {
                        name: file.to_string(),
                        kid,
                        ueid,
                        key: parsed.key,
                    })
                    .map_err(|_| {
                        JsonError(format!(
                            "{}: its kid or UEID is already another file's",
                            path.display()
                        ))
                    })?;
            }
            Ok(store)
        }
    }
}
#[cfg(feature = "std")]
pub use dir::ParsedKey;
