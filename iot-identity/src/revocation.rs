//! A signed CBOR revocation list that devices and gateways check without a heap.
//!
//! The list is a COSE_Sign1 (RFC 9052 section 4.2; ES256 or ESP256; tag 18; external AAD
//! [`REVOCATION_AAD`], so that no other message of the registrar's key passes for a list) whose
//! attached payload is the deterministic CBOR map (RFC 8949 section 4.2.1):
//!
//! ```cddl
//! revocation-list = {
//!   1 => uint,           ; version: increases with every list the registrar issues
//!   2 => uint,           ; issued-at, seconds since the Unix epoch
//!   ? 3 => uint,         ; next-update, seconds since the Unix epoch
//!   4 => [* bstr],       ; revoked certificate serials: the serial's DER content octets
//!                        ;   without the sign octet (`x509::Certificate::serial`), 1..=20 bytes
//!   5 => [* bstr],       ; revoked UEIDs (RFC 9711 section 4.2.1), 7..=33 bytes
//! }
//! ```
//!
//! Keys appear in this order, in preferred serialization, and no other key is allowed.
//! [`RevocationListBuilder`] writes a list into a caller buffer; [`RevocationList::decode`]
//! borrows from its input and checks every entry once; [`RevocationList::verify`] checks the
//! signature under the registrar's key and the version against the caller's last-seen one; the
//! [`VerifiedRevocationList`] it returns answers [`VerifiedRevocationList::is_revoked_serial`]
//! and [`VerifiedRevocationList::is_revoked_ueid`] by walking the encoded arrays lazily.

use crate::credential::ueid_from_hex;
use crate::enrolment::verify_sign1_message;
use crate::keystore::P256PublicKey;
use crate::ueid::{MAX_UEID_LEN, MIN_UEID_LEN};
use crate::x509::{Certificate, P256Verify};
use core::fmt;
use iot_core::cbor::{Limits, Reader, SliceWriter, enc_err};
use iot_core::cose::{Algorithm, CoseSign1, Sign1Builder};
use iot_core::crypto::{Sha256, Signer};
use minicbor::encode::Encoder;

/// External AAD of a revocation list's signature.
pub const REVOCATION_AAD: &[u8] = b"iot-identity revocation list v1";
/// The longest certificate serial (RFC 5280 section 4.1.2.2: at most 20 octets).
pub const MAX_SERIAL_LEN: usize = 20;

/// Keys of the revocation-list map.
pub mod key {
    /// `version`.
    pub const VERSION: u64 = 1;
    /// `issued-at`.
    pub const ISSUED_AT: u64 = 2;
    /// `next-update`.
    pub const NEXT_UPDATE: u64 = 3;
    /// Revoked certificate serials.
    pub const SERIALS: u64 = 4;
    /// Revoked UEIDs.
    pub const UEIDS: u64 = 5;
}

/// Why a revocation list was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevocationError {
    /// The payload is not the map of the format: the key at fault (0 when the map itself is).
    Malformed(u64),
    /// The list is older than the last one the caller accepted.
    Stale {
        /// The list's version.
        version: u64,
        /// The caller's last-seen version.
        last_seen: u64,
    },
    /// The caller's time is past the list's `next-update`.
    Outdated,
    /// Malformed COSE, a bad signature, a wrong algorithm, a buffer too small.
    Core(iot_core::Error),
}

impl fmt::Display for RevocationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(k) => write!(f, "revocation list field {k} malformed"),
            Self::Stale { version, last_seen } => {
                write!(
                    f,
                    "revocation list version {version} older than {last_seen}"
                )
            }
            Self::Outdated => f.write_str("revocation list past its next update"),
            Self::Core(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for RevocationError {}

impl From<iot_core::Error> for RevocationError {
    fn from(e: iot_core::Error) -> Self {
        Self::Core(e)
    }
}

/// What made a credential revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    /// The certificate's serial is listed.
    Serial,
    /// The device's UEID is listed.
    Ueid,
}

impl fmt::Display for Revoked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Serial => "certificate serial revoked",
            Self::Ueid => "device UEID revoked",
        })
    }
}

fn serial_ok(s: &[u8]) -> bool {
    (1..=MAX_SERIAL_LEN).contains(&s.len())
}

fn ueid_ok(u: &[u8]) -> bool {
    (MIN_UEID_LEN..=MAX_UEID_LEN).contains(&u.len())
}

/// Writes and signs revocation lists (the registrar's side; no heap).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevocationListBuilder<'a> {
    /// The list's version: greater than every earlier list's.
    pub version: u64,
    /// When the list was issued.
    pub issued_at: u64,
    /// When the next list is due.
    pub next_update: Option<u64>,
    /// Revoked certificate serials, as [`Certificate::serial`] gives them.
    pub serials: &'a [&'a [u8]],
    /// Revoked UEIDs.
    pub ueids: &'a [&'a [u8]],
    /// ES256 or ESP256.
    pub alg: Algorithm,
    /// The registrar key's id, in the unprotected bucket.
    pub kid: Option<&'a [u8]>,
}

impl<'a> RevocationListBuilder<'a> {
    /// An empty ES256 list of `version` issued at `issued_at`.
    pub fn new(version: u64, issued_at: u64) -> Self {
        Self {
            version,
            issued_at,
            next_update: None,
            serials: &[],
            ueids: &[],
            alg: Algorithm::Es256,
            kid: None,
        }
    }

    /// Writes the payload map into `out`; returns its length. An entry of the wrong length is
    /// refused with [`RevocationError::Malformed`], so that no list is made that devices refuse.
    pub fn encode_payload(&self, out: &mut [u8]) -> Result<usize, RevocationError> {
        if !self.serials.iter().all(|s| serial_ok(s)) {
            return Err(RevocationError::Malformed(key::SERIALS));
        }
        if !self.ueids.iter().all(|u| ueid_ok(u)) {
            return Err(RevocationError::Malformed(key::UEIDS));
        }
        let mut w = SliceWriter::new(out);
        let mut e = Encoder::new(&mut w);
        let n = 4 + u64::from(self.next_update.is_some());
        e.map(n)
            .and_then(|e| e.u64(key::VERSION)?.u64(self.version))
            .and_then(|e| e.u64(key::ISSUED_AT)?.u64(self.issued_at))
            .map_err(enc_err)?;
        if let Some(next) = self.next_update {
            e.u64(key::NEXT_UPDATE)
                .and_then(|e| e.u64(next))
                .map_err(enc_err)?;
        }
        for (k, entries) in [(key::SERIALS, self.serials), (key::UEIDS, self.ueids)] {
            e.u64(k)
                .and_then(|e| e.array(entries.len() as u64))
                .map_err(enc_err)?;
            for entry in entries {
                e.bytes(entry).map_err(enc_err)?;
            }
        }
        Ok(w.len())
    }

    /// Writes the payload into `scratch`, signs it with the registrar's `signer` and writes the
    /// COSE_Sign1 into `out`; returns its length.
    pub fn sign<C: Sha256, S: Signer>(
        &self,
        crypto: &mut C,
        signer: &mut S,
        scratch: &mut [u8],
        out: &mut [u8],
    ) -> Result<usize, RevocationError> {
        let n = self.encode_payload(scratch)?;
        let payload = scratch.get(..n).ok_or(iot_core::Error::BufferTooSmall)?;
        let mut builder = Sign1Builder::new(self.alg);
        builder.unprotected.kid = self.kid;
        Ok(builder.sign(crypto, signer, payload, REVOCATION_AAD, out)?)
    }
}

/// The entries of one array of a list, read lazily from the encoded bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entries<'a> {
    /// The items after the array head (checked by [`RevocationList::decode`]).
    items: &'a [u8],
    len: u64,
}

impl<'a> Entries<'a> {
    /// The number of entries.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// `true` when there is none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The entries in list order.
    pub fn iter(&self) -> EntriesIter<'a> {
        EntriesIter {
            reader: Reader::new(self.items),
            left: self.len,
        }
    }

    /// Whether `entry` is one of them.
    pub fn contains(&self, entry: &[u8]) -> bool {
        self.iter().any(|e| e == entry)
    }
}

impl<'a> IntoIterator for &Entries<'a> {
    type Item = &'a [u8];
    type IntoIter = EntriesIter<'a>;
    fn into_iter(self) -> EntriesIter<'a> {
        self.iter()
    }
}

/// Iterator over [`Entries`].
#[derive(Debug, Clone)]
pub struct EntriesIter<'a> {
    reader: Reader<'a>,
    left: u64,
}

impl<'a> Iterator for EntriesIter<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        self.left = self.left.checked_sub(1)?;
        self.reader.bytes().ok()
    }
}

/// A decoded revocation list, borrowing from its input; nothing in it is trusted before
/// [`RevocationList::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationList<'a> {
    /// The COSE_Sign1.
    pub message: CoseSign1<'a>,
    /// The list's version.
    pub version: u64,
    /// When it was issued.
    pub issued_at: u64,
    /// When the next list is due.
    pub next_update: Option<u64>,
    /// Revoked certificate serials.
    pub serials: Entries<'a>,
    /// Revoked UEIDs.
    pub ueids: Entries<'a>,
}

/// Reads one array of byte strings, each accepted by `ok`; returns its entries.
fn read_entries<'a>(
    r: &mut Reader<'a>,
    k: u64,
    ok: fn(&[u8]) -> bool,
) -> Result<Entries<'a>, RevocationError> {
    let bad = |_| RevocationError::Malformed(k);
    if r.uint().map_err(bad)? != k {
        return Err(RevocationError::Malformed(k));
    }
    let len = r.array().map_err(bad)?;
    let start = r.position();
    for _ in 0..len {
        if !ok(r.bytes().map_err(bad)?) {
            return Err(RevocationError::Malformed(k));
        }
    }
    let items = r
        .input()
        .get(start..r.position())
        .ok_or(RevocationError::Malformed(k))?;
    Ok(Entries { items, len })
}

impl<'a> RevocationList<'a> {
    /// Decodes a whole input: a COSE_Sign1 (tagged or not) with an attached payload of the
    /// format above, every entry checked for its length.
    pub fn decode(input: &'a [u8]) -> Result<Self, RevocationError> {
        let message = CoseSign1::decode(input)?;
        let payload = message.payload.ok_or(iot_core::Error::PayloadMismatch)?;
        let mut r = Reader::with_limits(
            payload,
            Limits {
                require_preferred: true,
                ..Limits::default()
            },
        );
        let n = r.map().map_err(|_| RevocationError::Malformed(0))?;
        if !(4..=5).contains(&n) {
            return Err(RevocationError::Malformed(0));
        }
        let mut uint_at = |k: u64| {
            let bad = |_| RevocationError::Malformed(k);
            match r.uint().map_err(bad)? {
                got if got == k => r.uint().map_err(bad),
                _ => Err(RevocationError::Malformed(k)),
            }
        };
        let version = uint_at(key::VERSION)?;
        let issued_at = uint_at(key::ISSUED_AT)?;
        let next_update = if n == 5 {
            Some(uint_at(key::NEXT_UPDATE)?)
        } else {
            None
        };
        let serials = read_entries(&mut r, key::SERIALS, serial_ok)?;
        let ueids = read_entries(&mut r, key::UEIDS, ueid_ok)?;
        r.finish().map_err(|_| RevocationError::Malformed(0))?;
        Ok(Self {
            message,
            version,
            issued_at,
            next_update,
            serials,
            ueids,
        })
    }

    /// Checks the signature under the registrar's key (external AAD [`REVOCATION_AAD`]) and the
    /// version against `last_seen`, the version of the last list the caller accepted (0 for
    /// none): an older list is refused with [`RevocationError::Stale`]; the same version is
    /// accepted, and [`VerifiedRevocationList::is_newer`] tells whether the caller should store
    /// this list's version as its new last-seen one.
    pub fn verify<C: Sha256 + P256Verify + ?Sized>(
        self,
        crypto: &mut C,
        registrar: &P256PublicKey,
        last_seen: u64,
    ) -> Result<VerifiedRevocationList<'a>, RevocationError> {
        verify_sign1_message(crypto, &self.message, REVOCATION_AAD, registrar)?;
        if self.version < last_seen {
            return Err(RevocationError::Stale {
                version: self.version,
                last_seen,
            });
        }
        Ok(VerifiedRevocationList {
            newer: self.version > last_seen,
            list: self,
        })
    }
}

/// A revocation list whose signature and version were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRevocationList<'a> {
    list: RevocationList<'a>,
    newer: bool,
}

impl<'a> VerifiedRevocationList<'a> {
    /// The list.
    pub fn list(&self) -> &RevocationList<'a> {
        &self.list
    }

    /// The list's version.
    pub fn version(&self) -> u64 {
        self.list.version
    }

    /// Whether the version is greater than the caller's last-seen one.
    pub fn is_newer(&self) -> bool {
        self.newer
    }

    /// Fails with [`RevocationError::Outdated`] when `now` is past the list's `next-update`.
    pub fn check_current(&self, now: u64) -> Result<(), RevocationError> {
        match self.list.next_update {
            Some(next) if now > next => Err(RevocationError::Outdated),
            _ => Ok(()),
        }
    }

    /// Whether a certificate serial (as [`Certificate::serial`] gives it) is revoked.
    pub fn is_revoked_serial(&self, serial: &[u8]) -> bool {
        self.list.serials.contains(serial)
    }

    /// Whether a UEID is revoked.
    pub fn is_revoked_ueid(&self, ueid: &[u8]) -> bool {
        self.list.ueids.contains(ueid)
    }

    /// Checks a device certificate: its serial, then the UEID its subject `serialNumber` names
    /// (the hex text of [`crate::ueid::Ueid::to_hex`]; a certificate without one is checked by
    /// serial only).
    pub fn check_certificate(&self, cert: &Certificate<'_>) -> Result<(), Revoked> {
        if self.is_revoked_serial(cert.serial) {
            return Err(Revoked::Serial);
        }
        let ueid = cert
            .subject_serial_number()
            .ok()
            .flatten()
            .and_then(ueid_from_hex);
        if ueid.is_some_and(|u| self.is_revoked_ueid(u.as_bytes())) {
            return Err(Revoked::Ueid);
        }
        Ok(())
    }
}
