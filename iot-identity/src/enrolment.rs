//! First-boot enrolment, proof of possession and decommissioning of a device identity.
//!
//! The lifecycle `Unprovisioned → KeyGenerated → CsrIssued → Enrolled → Active → Decommissioned`
//! lives in a [`RECORD_LEN`]-byte record (magic, state, certificate length and digest, a write
//! counter, CRC-32) that the platform writes atomically through [`Persistence`]. Every step
//! writes its record last, so power lost between two steps leaves the previous state, which
//! [`Device::boot`] resumes: a key generated without its record is destroyed and generated
//! again; a certificate is written first and only becomes the identity when the `Enrolled`
//! record naming its length and digest is written, after it was checked to chain to the pinned
//! anchor and to carry the device's key.
//!
//! An operator-issued key (LDevID-like) lives beside it in [`OperatorIdentity`]: two key slots
//! and two records, so that a replacement commits the new certificate before the old key goes.
//!
//! Proof of possession and the decommissioning receipt are COSE_Sign1 (RFC 9052 section 4.2,
//! ES256) made with the identity key through [`StoreSigner`]; each has its own external AAD so
//! that one can never pass for the other.

use crate::keystore::{KeySlot, KeyStore, KeyStoreError, P256PublicKey, StoreSigner};
use crate::revocation::{Revoked, VerifiedRevocationList};
use crate::ueid::Ueid;
use crate::x509::{
    Certificate, ChainError, CsrSubject, P256Verify, TrustAnchor, ValidatedChain,
    ValidationOptions, X509Error, validate_chain, write_csr,
};
use core::fmt;
use iot_core::cbor::{Reader, SliceWriter, enc_err};
use iot_core::cose::{Algorithm, CoseSign1, Sign1Builder};
use iot_core::crypto::Sha256;
use minicbor::Encoder;

/// Length of the persisted lifecycle record.
pub const RECORD_LEN: usize = 24;
/// The longest device certificate the device keeps, DER.
pub const MAX_CERT_LEN: usize = 1024;
/// External AAD of a proof-of-possession signature.
pub const POSSESSION_AAD: &[u8] = b"iot-identity proof of possession v1";
/// External AAD of a decommissioning receipt.
pub const RECEIPT_AAD: &[u8] = b"iot-identity decommissioning receipt v1";

const MAGIC: [u8; 2] = *b"IE";
const RECORD_VERSION: u8 = 1;

/// Lifecycle states, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Lifecycle {
    /// No identity key.
    Unprovisioned = 0,
    /// The key exists in the key store.
    KeyGenerated = 1,
    /// A CSR for the key was issued (it can be written again from the key).
    CsrIssued = 2,
    /// A certificate chaining to the anchor and carrying the key is installed.
    Enrolled = 3,
    /// The identity is in service.
    Active = 4,
    /// The key is destroyed; nothing is signed any more.
    Decommissioned = 5,
}

impl Lifecycle {
    fn from_byte(b: u8) -> Option<Self> {
        Some(match b {
            0 => Self::Unprovisioned,
            1 => Self::KeyGenerated,
            2 => Self::CsrIssued,
            3 => Self::Enrolled,
            4 => Self::Active,
            5 => Self::Decommissioned,
            _ => return None,
        })
    }
}

/// A platform storage failure (flash write or read error, power loss).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersistenceError;

/// Where the platform keeps the lifecycle record and the device certificate.
pub trait Persistence {
    /// Reads the record into `out`; `Ok(false)` when none was ever written.
    fn read_record(&mut self, out: &mut [u8; RECORD_LEN]) -> Result<bool, PersistenceError>;
    /// Replaces the record **atomically**: after power loss the old or the new record is read.
    fn write_record(&mut self, record: &[u8; RECORD_LEN]) -> Result<(), PersistenceError>;
    /// Stores the certificate (need not be atomic: the record commits it).
    fn write_certificate(&mut self, der: &[u8]) -> Result<(), PersistenceError>;
    /// Reads the stored certificate into `out`; returns its length (0 when none).
    fn read_certificate(&mut self, out: &mut [u8]) -> Result<usize, PersistenceError>;
}

/// Why an enrolment step, a proof or a receipt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnrolmentError {
    /// The step needs another lifecycle state.
    WrongState {
        /// The state the step needs (the lowest, when several do).
        expected: Lifecycle,
        /// The device's state.
        found: Lifecycle,
    },
    /// The identity is decommissioned: signing is refused.
    Decommissioned,
    /// The record does not decode or its CRC does not match.
    CorruptRecord,
    /// The stored certificate does not match the record, or its key is not the device's.
    CertificateMismatch,
    /// The certificate's key is not the device's key.
    KeyMismatch,
    /// The certificate's subject serialNumber is not the device's UEID.
    SubjectMismatch,
    /// The certificate is longer than [`MAX_CERT_LEN`].
    CertificateTooLong,
    /// The chain did not validate.
    Chain(ChainError),
    /// A certificate or CSR error.
    X509(X509Error),
    /// The key store failed.
    KeyStore(KeyStoreError),
    /// The platform storage failed.
    Persistence,
    /// The certificate or the device's UEID is on the revocation list.
    Revoked(Revoked),
    /// A receipt's payload is not the map `{1: bstr, 2: bstr, 3: uint, 4: uint}`.
    MalformedReceipt,
    /// A signature or message did not verify or decode, or a buffer was too small.
    Core(iot_core::Error),
}

impl fmt::Display for EnrolmentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongState { expected, found } => {
                write!(f, "needs state {expected:?}, device is {found:?}")
            }
            Self::Decommissioned => f.write_str("identity decommissioned: signing refused"),
            Self::CorruptRecord => f.write_str("lifecycle record corrupt"),
            Self::CertificateMismatch => f.write_str("stored certificate does not match"),
            Self::KeyMismatch => f.write_str("certificate key is not the device key"),
            Self::SubjectMismatch => f.write_str("certificate subject is not the device UEID"),
            Self::CertificateTooLong => f.write_str("certificate too long"),
            Self::Chain(e) => e.fmt(f),
            Self::X509(e) => e.fmt(f),
            Self::KeyStore(e) => e.fmt(f),
            Self::Persistence => f.write_str("storage failed"),
            Self::Revoked(r) => r.fmt(f),
            Self::MalformedReceipt => f.write_str("malformed decommissioning receipt"),
            Self::Core(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for EnrolmentError {}

impl From<PersistenceError> for EnrolmentError {
    fn from(_: PersistenceError) -> Self {
        Self::Persistence
    }
}
impl From<KeyStoreError> for EnrolmentError {
    fn from(e: KeyStoreError) -> Self {
        Self::KeyStore(e)
    }
}
impl From<X509Error> for EnrolmentError {
    fn from(e: X509Error) -> Self {
        Self::X509(e)
    }
}
impl From<ChainError> for EnrolmentError {
    fn from(e: ChainError) -> Self {
        Self::Chain(e)
    }
}
impl From<iot_core::Error> for EnrolmentError {
    fn from(e: iot_core::Error) -> Self {
        Self::Core(e)
    }
}

/// The decoded lifecycle record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    /// The state.
    pub state: Lifecycle,
    /// Length of the installed certificate (0 before `Enrolled`).
    pub cert_len: u16,
    /// First 8 bytes of the installed certificate's SHA-256.
    pub cert_digest: [u8; 8],
    /// Number of records written so far (monotonic).
    pub counter: u32,
}

impl Record {
    const fn initial() -> Self {
        Self {
            state: Lifecycle::Unprovisioned,
            cert_len: 0,
            cert_digest: [0; 8],
            counter: 0,
        }
    }

    /// `"IE" || version || state || 0 || 0 || cert_len (BE16) || digest8 || counter (BE32) ||
    /// CRC-32 (BE32, IEEE) of the 20 bytes before`.
    pub fn encode(&self) -> [u8; RECORD_LEN] {
        let mut out = [0u8; RECORD_LEN];
        let (body, crc) = out.split_at_mut(RECORD_LEN - 4);
        let (head, rest) = body.split_at_mut(8);
        let (digest, counter) = rest.split_at_mut(8);
        let len = self.cert_len.to_be_bytes();
        head.copy_from_slice(&[
            MAGIC[0],
            MAGIC[1],
            RECORD_VERSION,
            self.state as u8,
            0,
            0,
            len[0],
            len[1],
        ]);
        digest.copy_from_slice(&self.cert_digest);
        counter.copy_from_slice(&self.counter.to_be_bytes());
        crc.copy_from_slice(&crc32(body).to_be_bytes());
        out
    }

    /// Decodes and checks a record.
    pub fn decode(bytes: &[u8; RECORD_LEN]) -> Result<Self, EnrolmentError> {
        let (body, crc) = bytes.split_at(RECORD_LEN - 4);
        let crc: [u8; 4] = crc.try_into().map_err(|_| EnrolmentError::CorruptRecord)?;
        if crc32(body) != u32::from_be_bytes(crc) {
            return Err(EnrolmentError::CorruptRecord);
        }
        let [
            m0,
            m1,
            v,
            s,
            0,
            0,
            l0,
            l1,
            d @ ..,
            c0,
            c1,
            c2,
            c3,
            _,
            _,
            _,
            _,
        ] = *bytes
        else {
            return Err(EnrolmentError::CorruptRecord);
        };
        if [m0, m1] != MAGIC || v != RECORD_VERSION {
            return Err(EnrolmentError::CorruptRecord);
        }
        Ok(Self {
            state: Lifecycle::from_byte(s).ok_or(EnrolmentError::CorruptRecord)?,
            cert_len: u16::from_be_bytes([l0, l1]),
            cert_digest: d,
            counter: u32::from_be_bytes([c0, c1, c2, c3]),
        })
    }
}

/// CRC-32 (IEEE 802.3, reflected, as zlib), bitwise: the record is 20 bytes.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn digest8<C: Sha256 + ?Sized>(crypto: &mut C, der: &[u8]) -> [u8; 8] {
    let d = crypto.sha256(der);
    let mut out = [0u8; 8];
    out.iter_mut().zip(d).for_each(|(o, b)| *o = b);
    out
}

/// A device's identity through its lifecycle: the key in `slot` of a [`KeyStore`], the record
/// and certificate in a [`Persistence`].
#[derive(Debug)]
pub struct Device<K, P> {
    store: K,
    persistence: P,
    slot: KeySlot,
    ueid: Ueid,
    record: Record,
}

impl<K: KeyStore, P: Persistence> Device<K, P> {
    /// Reads the record and reconciles it with the key store after a (possibly interrupted)
    /// previous run:
    /// - `KeyGenerated`/`CsrIssued` without a key: back to `Unprovisioned`;
    /// - `Enrolled`/`Active`: the stored certificate must match the record's length and digest
    ///   and carry the store's key, else [`EnrolmentError::CertificateMismatch`];
    /// - `Decommissioned`: a key still in the slot is destroyed.
    pub fn boot<C: Sha256 + ?Sized>(
        crypto: &mut C,
        store: K,
        persistence: P,
        slot: KeySlot,
        ueid: Ueid,
    ) -> Result<Self, EnrolmentError> {
        let mut dev = Self {
            store,
            persistence,
            slot,
            ueid,
            record: Record::initial(),
        };
        let mut raw = [0u8; RECORD_LEN];
        if dev.persistence.read_record(&mut raw)? {
            dev.record = Record::decode(&raw)?;
        }
        match dev.record.state {
            Lifecycle::Unprovisioned => {}
            Lifecycle::KeyGenerated | Lifecycle::CsrIssued => match dev.store.public_key(slot) {
                Ok(_) => {}
                Err(KeyStoreError::EmptySlot(_)) => dev.commit(Lifecycle::Unprovisioned)?,
                Err(e) => return Err(e.into()),
            },
            Lifecycle::Enrolled | Lifecycle::Active => check_installed(
                crypto,
                &mut dev.store,
                &mut dev.persistence,
                &dev.record,
                slot,
            )?,
            Lifecycle::Decommissioned => destroy_if_present(&mut dev.store, slot)?,
        }
        Ok(dev)
    }

    /// The lifecycle state.
    pub fn state(&self) -> Lifecycle {
        self.record.state
    }

    /// The current record.
    pub fn record(&self) -> &Record {
        &self.record
    }

    /// The identity key's public key.
    pub fn public_key(&mut self) -> Result<P256PublicKey, EnrolmentError> {
        Ok(self.store.public_key(self.slot)?)
    }

    /// The device's UEID.
    pub fn ueid(&self) -> &Ueid {
        &self.ueid
    }

    /// The key store and the persistence back (to simulate a reboot, or to shut down).
    pub fn into_parts(self) -> (K, P) {
        (self.store, self.persistence)
    }

    fn commit(&mut self, state: Lifecycle) -> Result<(), EnrolmentError> {
        self.commit_record(Record {
            state,
            ..self.record
        })
    }

    fn commit_record(&mut self, record: Record) -> Result<(), EnrolmentError> {
        let next = Record {
            counter: self.record.counter.wrapping_add(1),
            ..record
        };
        self.persistence.write_record(&next.encode())?;
        self.record = next;
        Ok(())
    }

    fn expect(&self, expected: Lifecycle) -> Result<(), EnrolmentError> {
        match self.record.state {
            s if s == expected => Ok(()),
            Lifecycle::Decommissioned => Err(EnrolmentError::Decommissioned),
            found => Err(EnrolmentError::WrongState { expected, found }),
        }
    }

    /// `Unprovisioned → KeyGenerated`: generates the identity key (a key left in the slot by
    /// an interrupted earlier attempt is destroyed first).
    pub fn generate_key(&mut self) -> Result<P256PublicKey, EnrolmentError> {
        self.expect(Lifecycle::Unprovisioned)?;
        destroy_if_present(&mut self.store, self.slot)?;
        let public = self.store.generate(self.slot)?;
        self.commit(Lifecycle::KeyGenerated)?;
        Ok(public)
    }

    /// `KeyGenerated → CsrIssued` (or again in `CsrIssued`, after a lost CSR): writes a PKCS#10
    /// request for the key (`serialNumber` = UEID) into `out`; returns its length.
    pub fn issue_csr<C: Sha256 + ?Sized>(
        &mut self,
        crypto: &mut C,
        common_name: Option<&str>,
        out: &mut [u8],
    ) -> Result<usize, EnrolmentError> {
        if self.record.state != Lifecycle::CsrIssued {
            self.expect(Lifecycle::KeyGenerated)?;
        }
        let public = self.store.public_key(self.slot)?;
        let subject = CsrSubject {
            ueid: &self.ueid,
            common_name,
        };
        let mut signer = StoreSigner::new(&mut self.store, self.slot);
        let n = write_csr(crypto, &mut signer, &public, &subject, out)?;
        if self.record.state != Lifecycle::CsrIssued {
            self.commit(Lifecycle::CsrIssued)?;
        }
        Ok(n)
    }

    /// `CsrIssued → Enrolled`: checks that `chain` (leaf first) validates against `anchor` at
    /// `options.now`, that the leaf carries the device's key and names its UEID as
    /// `serialNumber`, then stores the leaf and commits it with the `Enrolled` record.
    pub fn install_certificate<C: Sha256 + P256Verify + ?Sized>(
        &mut self,
        crypto: &mut C,
        chain: &[&[u8]],
        anchor: &TrustAnchor<'_>,
        options: &ValidationOptions,
    ) -> Result<(), EnrolmentError> {
        self.expect(Lifecycle::CsrIssued)?;
        let (der, cert_len) = check_leaf(
            crypto,
            &mut self.store,
            self.slot,
            &self.ueid,
            chain,
            anchor,
            options,
        )?;
        self.persistence.write_certificate(der)?;
        let cert_digest = digest8(crypto, der);
        self.commit_record(Record {
            state: Lifecycle::Enrolled,
            cert_len,
            cert_digest,
            counter: self.record.counter,
        })
    }

    /// `Enrolled → Active`.
    pub fn activate(&mut self) -> Result<(), EnrolmentError> {
        self.expect(Lifecycle::Enrolled)?;
        self.commit(Lifecycle::Active)
    }

    /// The installed certificate (DER) read into `buf`, checked against the record.
    pub fn installed_certificate<'b, C: Sha256 + ?Sized>(
        &mut self,
        crypto: &mut C,
        buf: &'b mut [u8],
    ) -> Result<&'b [u8], EnrolmentError> {
        if !matches!(
            self.record.state,
            Lifecycle::Enrolled | Lifecycle::Active | Lifecycle::Decommissioned
        ) || self.record.cert_len == 0
        {
            return Err(EnrolmentError::WrongState {
                expected: Lifecycle::Enrolled,
                found: self.record.state,
            });
        }
        read_certificate(crypto, &mut self.persistence, &self.record, buf)
    }

    fn check_can_sign(&self) -> Result<(), EnrolmentError> {
        match self.record.state {
            Lifecycle::Enrolled | Lifecycle::Active => Ok(()),
            Lifecycle::Decommissioned => Err(EnrolmentError::Decommissioned),
            found => Err(EnrolmentError::WrongState {
                expected: Lifecycle::Enrolled,
                found,
            }),
        }
    }

    /// Proof of possession: a tagged COSE_Sign1 (ES256) whose payload is the verifier's
    /// `challenge`, external AAD [`POSSESSION_AAD`], signed with the identity key; written into
    /// `out`, returns its length. Needs `Enrolled` or `Active`.
    pub fn prove_possession<C: Sha256>(
        &mut self,
        crypto: &mut C,
        challenge: &[u8],
        out: &mut [u8],
    ) -> Result<usize, EnrolmentError> {
        self.check_can_sign()?;
        sign_possession(crypto, &mut self.store, self.slot, challenge, out)
    }

    /// `Active` (or `Enrolled`) `→ Decommissioned`: signs a receipt (a COSE_Sign1 over the CBOR
    /// map `{1: UEID, 2: certificate serial, 3: record counter, 4: time}`, external AAD
    /// [`RECEIPT_AAD`]) into `out` with the identity key, then writes the `Decommissioned`
    /// record and destroys the key. Returns the receipt's length.
    ///
    /// Once the record is written, signing is refused; a key still present after power loss
    /// is destroyed by [`Device::boot`].
    pub fn decommission<C: Sha256>(
        &mut self,
        crypto: &mut C,
        time: u64,
        out: &mut [u8],
    ) -> Result<usize, EnrolmentError> {
        self.check_can_sign()?;
        let mut cert_buf = [0u8; MAX_CERT_LEN];
        let der = self.installed_certificate(crypto, &mut cert_buf)?;
        let cert = Certificate::decode(der)?;
        let counter = self.record.counter.wrapping_add(1);
        let mut payload = [0u8; 96];
        let mut w = SliceWriter::new(&mut payload);
        Encoder::new(&mut w)
            .map(4)
            .and_then(|e| e.u8(1)?.bytes(self.ueid.as_bytes()))
            .and_then(|e| e.u8(2)?.bytes(cert.serial))
            .and_then(|e| e.u8(3)?.u32(counter))
            .and_then(|e| e.u8(4)?.u64(time))
            .map_err(enc_err)?;
        let n = w.len();
        let payload = payload.get(..n).unwrap_or_default();
        let mut signer = StoreSigner::new(&mut self.store, self.slot);
        let len = Sign1Builder::new(Algorithm::Es256).sign(
            crypto,
            &mut signer,
            payload,
            RECEIPT_AAD,
            out,
        )?;
        self.commit(Lifecycle::Decommissioned)?;
        destroy_if_present(&mut self.store, self.slot)?;
        Ok(len)
    }
}

/// Destroys the key in `slot`, if there is one.
fn destroy_if_present<K: KeyStore>(store: &mut K, slot: KeySlot) -> Result<(), EnrolmentError> {
    match store.destroy(slot) {
        Ok(()) | Err(KeyStoreError::EmptySlot(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Validates `chain` at `options.now` and checks that its leaf carries the key in `slot`, names
/// `ueid` as `serialNumber` and fits [`MAX_CERT_LEN`]; returns the leaf (DER) and its length.
fn check_leaf<'a, C: Sha256 + P256Verify + ?Sized, K: KeyStore>(
    crypto: &mut C,
    store: &mut K,
    slot: KeySlot,
    ueid: &Ueid,
    chain: &[&'a [u8]],
    anchor: &TrustAnchor<'_>,
    options: &ValidationOptions,
) -> Result<(&'a [u8], u16), EnrolmentError> {
    let leaf = validate_chain(crypto, chain, anchor, options)?.leaf;
    if leaf.public_key != store.public_key(slot)? {
        return Err(EnrolmentError::KeyMismatch);
    }
    let hex = ueid.to_hex();
    if leaf.subject_serial_number()? != Some(hex.as_str()) {
        return Err(EnrolmentError::SubjectMismatch);
    }
    if leaf.raw.len() > MAX_CERT_LEN {
        return Err(EnrolmentError::CertificateTooLong);
    }
    let len = u16::try_from(leaf.raw.len()).map_err(|_| EnrolmentError::CertificateTooLong)?;
    Ok((leaf.raw, len))
}

/// Reads the certificate that `record` commits into `buf` and checks its length and digest.
fn read_certificate<'b, C: Sha256 + ?Sized, P: Persistence>(
    crypto: &mut C,
    persistence: &mut P,
    record: &Record,
    buf: &'b mut [u8],
) -> Result<&'b [u8], EnrolmentError> {
    let n = persistence.read_certificate(buf)?;
    let der = buf.get(..n).ok_or(EnrolmentError::CertificateMismatch)?;
    if n != usize::from(record.cert_len) || digest8(crypto, der) != record.cert_digest {
        return Err(EnrolmentError::CertificateMismatch);
    }
    Ok(der)
}

/// At boot: the certificate `record` commits is there and carries the key in `slot`.
fn check_installed<C: Sha256 + ?Sized, K: KeyStore, P: Persistence>(
    crypto: &mut C,
    store: &mut K,
    persistence: &mut P,
    record: &Record,
    slot: KeySlot,
) -> Result<(), EnrolmentError> {
    let mut buf = [0u8; MAX_CERT_LEN];
    let der = read_certificate(crypto, persistence, record, &mut buf)?;
    let cert = Certificate::decode(der).map_err(|_| EnrolmentError::CertificateMismatch)?;
    if cert.public_key != store.public_key(slot)? {
        return Err(EnrolmentError::CertificateMismatch);
    }
    Ok(())
}

/// A proof of possession (see [`Device::prove_possession`]) made with the key in `slot`.
fn sign_possession<C: Sha256, K: KeyStore>(
    crypto: &mut C,
    store: &mut K,
    slot: KeySlot,
    challenge: &[u8],
    out: &mut [u8],
) -> Result<usize, EnrolmentError> {
    let mut signer = StoreSigner::new(store, slot);
    Ok(Sign1Builder::new(Algorithm::Es256).sign(
        crypto,
        &mut signer,
        challenge,
        POSSESSION_AAD,
        out,
    )?)
}

/// Checks the COSE_Sign1 `message` (attached payload) with external AAD `aad` against `key`;
/// returns its payload.
fn verify_sign1<'m, C: Sha256 + P256Verify + ?Sized>(
    crypto: &mut C,
    message: &'m [u8],
    aad: &[u8],
    key: &P256PublicKey,
) -> Result<&'m [u8], EnrolmentError> {
    let msg = CoseSign1::decode(message)?;
    verify_sign1_message(crypto, &msg, aad, key)?;
    msg.payload.ok_or(iot_core::Error::PayloadMismatch.into())
}

/// Checks a decoded COSE_Sign1 (ES256 or ESP256, attached payload) with external AAD `aad`
/// against the P-256 `key` of a certificate, credential or registrar.
pub(crate) fn verify_sign1_message<C: Sha256 + P256Verify + ?Sized>(
    crypto: &mut C,
    msg: &CoseSign1<'_>,
    aad: &[u8],
    key: &P256PublicKey,
) -> Result<(), iot_core::Error> {
    if !matches!(msg.alg()?, Algorithm::Es256 | Algorithm::Esp256) {
        return Err(iot_core::Error::AlgorithmMismatch);
    }
    if msg.payload.is_none() {
        return Err(iot_core::Error::PayloadMismatch);
    }
    // The Sig_structure (RFC 9052 section 4.4), streamed into SHA-256.
    let mut state = crypto.sha256_start();
    msg.write_to_be_signed(
        None,
        aad,
        HashSink {
            crypto: &mut *crypto,
            state: &mut state,
        },
    )?;
    let digest = crypto.sha256_finish(state);
    let signature: &[u8; 64] = msg
        .signature
        .try_into()
        .map_err(|_| iot_core::Error::BadSignature)?;
    crypto.verify_p256(key, &digest, signature)
}

struct HashSink<'h, 'c, C: Sha256 + ?Sized> {
    crypto: &'c mut C,
    state: &'h mut C::Sha256State,
}

impl<C: Sha256 + ?Sized> minicbor::encode::Write for HashSink<'_, '_, C> {
    type Error = core::convert::Infallible;
    fn write_all(&mut self, buf: &[u8]) -> Result<(), Self::Error> {
        self.crypto.sha256_update(self.state, buf);
        Ok(())
    }
}

/// Verifier side of proof of possession: validates `chain` against `anchor`, then checks that
/// `message` is a COSE_Sign1 from [`Device::prove_possession`] over `challenge` signed by the
/// leaf's key. Revocation is not checked here: see [`verify_possession_unrevoked`].
pub fn verify_possession<'a, C: Sha256 + P256Verify + ?Sized>(
    crypto: &mut C,
    message: &[u8],
    challenge: &[u8],
    chain: &[&'a [u8]],
    anchor: &TrustAnchor<'_>,
    options: &ValidationOptions,
) -> Result<ValidatedChain<'a>, EnrolmentError> {
    verify_possession_unrevoked(crypto, message, challenge, chain, anchor, options, None)
}

/// [`verify_possession`], and, with a `revocation` list, refuses a leaf whose serial or subject
/// UEID is listed ([`EnrolmentError::Revoked`], before the signature is checked). The list
/// covers the certificates its registrar issued: only the leaf is looked up.
pub fn verify_possession_unrevoked<'a, C: Sha256 + P256Verify + ?Sized>(
    crypto: &mut C,
    message: &[u8],
    challenge: &[u8],
    chain: &[&'a [u8]],
    anchor: &TrustAnchor<'_>,
    options: &ValidationOptions,
    revocation: Option<&VerifiedRevocationList<'_>>,
) -> Result<ValidatedChain<'a>, EnrolmentError> {
    let validated = validate_chain(crypto, chain, anchor, options)?;
    if let Some(list) = revocation {
        list.check_certificate(&validated.leaf)
            .map_err(EnrolmentError::Revoked)?;
    }
    let payload = verify_sign1(crypto, message, POSSESSION_AAD, &validated.leaf.public_key)?;
    if payload != challenge {
        return Err(iot_core::Error::PayloadMismatch.into());
    }
    Ok(validated)
}

/// A verified decommissioning receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt<'a> {
    /// The device's UEID.
    pub ueid: &'a [u8],
    /// The serial number of its certificate.
    pub serial: &'a [u8],
    /// The record counter of the `Decommissioned` record.
    pub counter: u32,
    /// The time the device was given.
    pub time: u64,
}

/// Checks a receipt from [`Device::decommission`] against the device's certificate (DER, which
/// the caller validated when it enrolled the device) and decodes it; the serial must be the
/// certificate's.
pub fn verify_receipt<'m, C: Sha256 + P256Verify + ?Sized>(
    crypto: &mut C,
    receipt: &'m [u8],
    certificate: &[u8],
) -> Result<Receipt<'m>, EnrolmentError> {
    let cert = Certificate::decode(certificate)?;
    let payload = verify_sign1(crypto, receipt, RECEIPT_AAD, &cert.public_key)?;
    let bad = EnrolmentError::MalformedReceipt;
    let mut r = Reader::new(payload);
    let label = |r: &mut Reader<'m>, want: u64| match r.uint() {
        Ok(l) if l == want => Ok(()),
        _ => Err(bad),
    };
    if r.map().map_err(|_| bad)? != 4 {
        return Err(bad);
    }
    label(&mut r, 1)?;
    let ueid = r.bytes().map_err(|_| bad)?;
    label(&mut r, 2)?;
    let serial = r.bytes().map_err(|_| bad)?;
    label(&mut r, 3)?;
    let counter = r
        .uint()
        .ok()
        .and_then(|c| u32::try_from(c).ok())
        .ok_or(bad)?;
    label(&mut r, 4)?;
    let time = r.uint().map_err(|_| bad)?;
    r.finish().map_err(|_| bad)?;
    if serial != cert.serial {
        return Err(EnrolmentError::CertificateMismatch);
    }
    Ok(Receipt {
        ueid,
        serial,
        counter,
        time,
    })
}

/// One of the two banks of an [`OperatorIdentity`]: a key slot, its record and certificate.
#[derive(Debug)]
struct Bank<P> {
    persistence: P,
    slot: KeySlot,
    record: Record,
}

impl<P: Persistence> Bank<P> {
    fn is_committed(&self) -> bool {
        matches!(self.record.state, Lifecycle::Enrolled | Lifecycle::Active)
    }

    fn write(&mut self, record: Record) -> Result<(), EnrolmentError> {
        self.persistence.write_record(&record.encode())?;
        self.record = record;
        Ok(())
    }
}

/// An operator-issued identity (LDevID-like, IEEE 802.1AR): a key the operator may replace,
/// kept beside the permanent identity of a [`Device`] in two slots of the same [`KeyStore`]
/// that the permanent key never uses, each slot with its own record and certificate (a
/// [`Persistence`] per bank, in the format of [`Record`]).
///
/// At most one bank is current: committed (`Active`, with a certificate) and, when both are,
/// the one whose record counter is higher (records of both banks count on from the larger of
/// the two). A replacement runs in the other bank: [`OperatorIdentity::generate_key`]
/// (`KeyGenerated`), [`OperatorIdentity::issue_csr`] (`CsrIssued`), then
/// [`OperatorIdentity::install_certificate`] stores the new certificate in that bank and commits
/// it with its `Active` record, which makes it current, and only then retires the old bank
/// (`Unprovisioned` record, key destroyed). Power lost anywhere leaves the old identity or the
/// new one, and [`OperatorIdentity::boot`] finishes or discards what was half done.
#[derive(Debug)]
pub struct OperatorIdentity<K, P> {
    store: K,
    ueid: Ueid,
    banks: [Bank<P>; 2],
}

impl<K: KeyStore, P: Persistence> OperatorIdentity<K, P> {
    /// Reads both banks' records and reconciles them with the key store:
    /// - both committed (power lost after a replacement committed): the older bank is retired;
    /// - the current bank's certificate must match its record and carry its key, else
    ///   [`EnrolmentError::CertificateMismatch`];
    /// - the other bank in `KeyGenerated`/`CsrIssued` keeps its key (a replacement to resume)
    ///   or, without one, goes back to `Unprovisioned`; in any other state its slot is emptied.
    ///
    /// The two slots must differ (else [`KeyStoreError::SlotInUse`]).
    pub fn boot<C: Sha256 + ?Sized>(
        crypto: &mut C,
        store: K,
        persistence: [P; 2],
        slots: [KeySlot; 2],
        ueid: Ueid,
    ) -> Result<Self, EnrolmentError> {
        let [s0, s1] = slots;
        if s0 == s1 {
            return Err(KeyStoreError::SlotInUse(s1).into());
        }
        let [p0, p1] = persistence;
        let bank = |persistence, slot| Bank {
            persistence,
            slot,
            record: Record::initial(),
        };
        let mut id = Self {
            store,
            ueid,
            banks: [bank(p0, s0), bank(p1, s1)],
        };
        for bank in &mut id.banks {
            let mut raw = [0u8; RECORD_LEN];
            if bank.persistence.read_record(&mut raw)? {
                bank.record = Record::decode(&raw)?;
            }
        }
        if let Some(old) = id.spare() {
            let [b0, b1] = &id.banks;
            if b0.is_committed() && b1.is_committed() {
                id.retire(old)?;
            }
        }
        if let Some(bank) = id.current().and_then(|c| id.banks.get_mut(c)) {
            let record = bank.record;
            check_installed(
                crypto,
                &mut id.store,
                &mut bank.persistence,
                &record,
                bank.slot,
            )?;
        }
        let spare = id.spare_index();
        let (slot, state) = (id.bank(spare)?.slot, id.bank(spare)?.record.state);
        match state {
            Lifecycle::KeyGenerated | Lifecycle::CsrIssued => match id.store.public_key(slot) {
                Ok(_) => {}
                Err(KeyStoreError::EmptySlot(_)) => id.write(spare, Lifecycle::Unprovisioned)?,
                Err(e) => return Err(e.into()),
            },
            _ => destroy_if_present(&mut id.store, slot)?,
        }
        Ok(id)
    }

    fn bank(&self, i: usize) -> Result<&Bank<P>, EnrolmentError> {
        self.banks.get(i).ok_or(EnrolmentError::CorruptRecord)
    }

    fn bank_mut(&mut self, i: usize) -> Result<&mut Bank<P>, EnrolmentError> {
        self.banks.get_mut(i).ok_or(EnrolmentError::CorruptRecord)
    }

    /// The current bank: committed, and the newer one when both are.
    fn current(&self) -> Option<usize> {
        let [b0, b1] = &self.banks;
        match (b0.is_committed(), b1.is_committed()) {
            (true, true) if b1.record.counter > b0.record.counter => Some(1),
            (true, _) => Some(0),
            (false, true) => Some(1),
            (false, false) => None,
        }
    }

    /// The bank that is not current (bank 1 before the first enrolment ends in bank 0).
    fn spare_index(&self) -> usize {
        match self.current() {
            Some(0) => 1,
            _ => 0,
        }
    }

    /// The spare bank, when there is a current one.
    fn spare(&self) -> Option<usize> {
        self.current().map(|c| 1 - c)
    }

    /// Writes `state` for bank `i` with a counter above both banks' (no certificate unless
    /// `cert` names one).
    fn write_with(
        &mut self,
        i: usize,
        state: Lifecycle,
        cert: Option<(u16, [u8; 8])>,
    ) -> Result<(), EnrolmentError> {
        let [b0, b1] = &self.banks;
        let counter = b0.record.counter.max(b1.record.counter).wrapping_add(1);
        let (cert_len, cert_digest) = cert.unwrap_or((0, [0; 8]));
        self.bank_mut(i)?.write(Record {
            state,
            cert_len,
            cert_digest,
            counter,
        })
    }

    fn write(&mut self, i: usize, state: Lifecycle) -> Result<(), EnrolmentError> {
        self.write_with(i, state, None)
    }

    /// Retires bank `i`: its `Unprovisioned` record first, then its key is destroyed.
    fn retire(&mut self, i: usize) -> Result<(), EnrolmentError> {
        self.write(i, Lifecycle::Unprovisioned)?;
        let slot = self.bank(i)?.slot;
        destroy_if_present(&mut self.store, slot)
    }

    /// Whether an operator identity is installed.
    pub fn is_enrolled(&self) -> bool {
        self.current().is_some()
    }

    /// The key slot of the current identity.
    pub fn current_slot(&self) -> Option<KeySlot> {
        self.current()
            .and_then(|i| self.banks.get(i))
            .map(|b| b.slot)
    }

    /// The state of the replacement in progress (`Unprovisioned` when none).
    pub fn pending_state(&self) -> Lifecycle {
        self.banks
            .get(self.spare_index())
            .map_or(Lifecycle::Unprovisioned, |b| b.record.state)
    }

    /// The current identity's public key.
    pub fn public_key(&mut self) -> Result<P256PublicKey, EnrolmentError> {
        let slot = self.current_slot().ok_or(EnrolmentError::WrongState {
            expected: Lifecycle::Active,
            found: Lifecycle::Unprovisioned,
        })?;
        Ok(self.store.public_key(slot)?)
    }

    /// The device's UEID.
    pub fn ueid(&self) -> &Ueid {
        &self.ueid
    }

    /// The key store and both banks' persistence back.
    pub fn into_parts(self) -> (K, [P; 2]) {
        let [b0, b1] = self.banks;
        (self.store, [b0.persistence, b1.persistence])
    }

    fn expect_pending(&self, allowed: &[Lifecycle]) -> Result<usize, EnrolmentError> {
        let spare = self.spare_index();
        let found = self.bank(spare)?.record.state;
        match allowed.first() {
            Some(_) if allowed.contains(&found) => Ok(spare),
            Some(&expected) => Err(EnrolmentError::WrongState { expected, found }),
            None => Err(EnrolmentError::CorruptRecord),
        }
    }

    /// Starts an enrolment or a replacement: generates a key in the spare slot (a key left
    /// there is destroyed first) and writes its `KeyGenerated` record. The current identity
    /// stays in service.
    pub fn generate_key(&mut self) -> Result<P256PublicKey, EnrolmentError> {
        let spare = self.expect_pending(&[Lifecycle::Unprovisioned])?;
        let slot = self.bank(spare)?.slot;
        destroy_if_present(&mut self.store, slot)?;
        let public = self.store.generate(slot)?;
        self.write(spare, Lifecycle::KeyGenerated)?;
        Ok(public)
    }

    /// A PKCS#10 request for the new key (`serialNumber` = UEID) into `out`; returns its length.
    pub fn issue_csr<C: Sha256 + ?Sized>(
        &mut self,
        crypto: &mut C,
        common_name: Option<&str>,
        out: &mut [u8],
    ) -> Result<usize, EnrolmentError> {
        let spare = self.expect_pending(&[Lifecycle::KeyGenerated, Lifecycle::CsrIssued])?;
        let slot = self.bank(spare)?.slot;
        let public = self.store.public_key(slot)?;
        let subject = CsrSubject {
            ueid: &self.ueid,
            common_name,
        };
        let mut signer = StoreSigner::new(&mut self.store, slot);
        let n = write_csr(crypto, &mut signer, &public, &subject, out)?;
        if self.bank(spare)?.record.state != Lifecycle::CsrIssued {
            self.write(spare, Lifecycle::CsrIssued)?;
        }
        Ok(n)
    }

    /// Checks `chain` as [`Device::install_certificate`] does for the new key, stores its leaf
    /// in the spare bank and commits it with that bank's `Active` record (the atomic switch),
    /// then retires the previous identity: its record first, then its key.
    pub fn install_certificate<C: Sha256 + P256Verify + ?Sized>(
        &mut self,
        crypto: &mut C,
        chain: &[&[u8]],
        anchor: &TrustAnchor<'_>,
        options: &ValidationOptions,
    ) -> Result<(), EnrolmentError> {
        let spare = self.expect_pending(&[Lifecycle::CsrIssued])?;
        let old = self.current();
        let slot = self.bank(spare)?.slot;
        let (der, cert_len) = check_leaf(
            crypto,
            &mut self.store,
            slot,
            &self.ueid,
            chain,
            anchor,
            options,
        )?;
        self.bank_mut(spare)?.persistence.write_certificate(der)?;
        let digest = digest8(crypto, der);
        self.write_with(spare, Lifecycle::Active, Some((cert_len, digest)))?;
        match old {
            Some(old) => self.retire(old),
            None => Ok(()),
        }
    }

    /// Abandons a replacement in progress: the spare bank's `Unprovisioned` record, then its
    /// key is destroyed.
    pub fn abort_replacement(&mut self) -> Result<(), EnrolmentError> {
        let spare = self.expect_pending(&[Lifecycle::KeyGenerated, Lifecycle::CsrIssued])?;
        self.retire(spare)
    }

    /// The current certificate (DER) read into `buf`, checked against its record.
    pub fn certificate<'b, C: Sha256 + ?Sized>(
        &mut self,
        crypto: &mut C,
        buf: &'b mut [u8],
    ) -> Result<&'b [u8], EnrolmentError> {
        let current = self.current().ok_or(EnrolmentError::WrongState {
            expected: Lifecycle::Active,
            found: Lifecycle::Unprovisioned,
        })?;
        let bank = self.bank_mut(current)?;
        let record = bank.record;
        read_certificate(crypto, &mut bank.persistence, &record, buf)
    }

    /// Proof of possession with the current operator key (as [`Device::prove_possession`]; the
    /// verifier checks it with [`verify_possession`] against the operator's chain).
    pub fn prove_possession<C: Sha256>(
        &mut self,
        crypto: &mut C,
        challenge: &[u8],
        out: &mut [u8],
    ) -> Result<usize, EnrolmentError> {
        let slot = self.current_slot().ok_or(EnrolmentError::WrongState {
            expected: Lifecycle::Active,
            found: Lifecycle::Unprovisioned,
        })?;
        sign_possession(crypto, &mut self.store, slot, challenge, out)
    }
}
