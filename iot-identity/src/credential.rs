//! CBOR web-token credentials: a CWT Claims Set (RFC 8392 section 3) binding a proof-of-possession
//! key (`cnf`, RFC 8747 section 3.1) to a device, unsigned as a CCS (RFC 9528 section 3.5.2, as
//! EDHOC carries it in `kccs`) or signed by an issuer as a CWT (RFC 8392 section 7.1: a
//! COSE_Sign1, RFC 9052 section 4.2, ES256 or ESP256, optionally inside tag 61).
//!
//! The profile: `iss`, `sub` and `aud` are text; `exp`, `nbf` and `iat` are unsigned integers
//! (NumericDate without fractions); `cti` is a byte string; `cnf` is required and holds exactly
//! one `COSE_Key` (label 1), a P-256 EC2 public key. A device's UEID goes in `sub` as the
//! upper-case hexadecimal text of [`Ueid::to_hex`] (RFC 8392 makes `sub` a StringOrURI, and the
//! same text names the device in its X.509 `serialNumber`). Unknown claims are skipped
//! (RFC 8392 section 7.2); a claim label that occurs twice is refused.
//!
//! [`Claims::encode_to`] writes the deterministic encoding (RFC 8949 section 4.2.1: preferred
//! serialization, labels in ascending order) into a caller buffer; [`Claims::decode`] and
//! [`Cwt::decode`] borrow from their input; [`Cwt::verify`] checks the signature under the
//! issuer's key and `exp`/`nbf` at the caller's time, and hands back the `cnf` key.

use crate::enrolment::verify_sign1_message;
use crate::keystore::P256PublicKey;
use crate::ueid::{MAX_UEID_LEN, Ueid};
use crate::x509::P256Verify;
use core::fmt;
use iot_core::cbor::{Reader, SliceWriter, enc_err};
use iot_core::cose::{Algorithm, CoseKey, CoseSign1, Ec2Y, Sign1Builder};
use iot_core::crypto::{Sha256, Signer};
use minicbor::data::{Tag, Type};
use minicbor::encode::{Encoder, Write};

/// Claim labels (RFC 8392 section 4, RFC 8747 section 3.1).
pub mod claim {
    /// `iss`: the issuer.
    pub const ISS: i64 = 1;
    /// `sub`: the subject (the device's UEID in hex).
    pub const SUB: i64 = 2;
    /// `aud`: the audience.
    pub const AUD: i64 = 3;
    /// `exp`: expiration time.
    pub const EXP: i64 = 4;
    /// `nbf`: not before.
    pub const NBF: i64 = 5;
    /// `iat`: issued at.
    pub const IAT: i64 = 6;
    /// `cti`: CWT ID.
    pub const CTI: i64 = 7;
    /// `cnf`: confirmation (RFC 8747).
    pub const CNF: i64 = 8;
}

/// The `COSE_Key` member of a `cnf` map (RFC 8747 section 3.1).
pub const CNF_COSE_KEY: i64 = 1;
/// The CWT tag (RFC 8392 section 6).
pub const CWT_TAG: u64 = 61;
/// At most this many claims in a claims set (known and unknown together).
pub const MAX_CLAIMS: usize = 32;

/// Why a credential was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialError {
    /// A claim absent although required, of the wrong type, or present twice: its label
    /// (`i64::MIN` for a duplicated text label).
    InvalidClaim(i64),
    /// `exp` is at or before the caller's time (RFC 8392 section 3.1.4).
    Expired,
    /// `nbf` is after the caller's time (RFC 8392 section 3.1.5).
    NotYetValid,
    /// Malformed CBOR or COSE, a bad signature, a wrong algorithm, a buffer too small.
    Core(iot_core::Error),
}

impl fmt::Display for CredentialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidClaim(l) => write!(f, "credential claim {l} missing or invalid"),
            Self::Expired => f.write_str("credential expired"),
            Self::NotYetValid => f.write_str("credential not yet valid"),
            Self::Core(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for CredentialError {}

impl From<iot_core::Error> for CredentialError {
    fn from(e: iot_core::Error) -> Self {
        Self::Core(e)
    }
}

/// A CWT Claims Set of the profile, borrowing from its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claims<'a> {
    /// `iss`.
    pub iss: Option<&'a str>,
    /// `sub`: for a device, its UEID as [`Ueid::to_hex`] text.
    pub sub: Option<&'a str>,
    /// `aud`.
    pub aud: Option<&'a str>,
    /// `exp`, seconds since the Unix epoch.
    pub exp: Option<u64>,
    /// `nbf`, seconds since the Unix epoch.
    pub nbf: Option<u64>,
    /// `iat`, seconds since the Unix epoch.
    pub iat: Option<u64>,
    /// `cti`.
    pub cti: Option<&'a [u8]>,
    /// The `COSE_Key` of `cnf`: a P-256 EC2 public key.
    pub cnf: CoseKey<'a>,
}

/// The `cnf` COSE_Key of a P-256 public key (uncompressed, no `alg`), with an optional `kid`
/// (EDHOC's ID_CRED_x `kid` names it, RFC 9528 section 3.5.3).
pub fn cnf_key<'k>(public: &'k P256PublicKey, kid: Option<&'k [u8]>) -> CoseKey<'k> {
    CoseKey::Ec2 {
        kid,
        alg: None,
        x: public.x(),
        y: Ec2Y::Coordinate(public.y()),
        d: None,
    }
}

fn check_cnf(key: &CoseKey<'_>) -> Result<(), CredentialError> {
    match key {
        CoseKey::Ec2 { d: None, .. } => Ok(()),
        _ => Err(CredentialError::InvalidClaim(claim::CNF)),
    }
}

impl<'a> Claims<'a> {
    /// A claims set with only `cnf`.
    pub fn new(cnf: CoseKey<'a>) -> Self {
        Self {
            iss: None,
            sub: None,
            aud: None,
            exp: None,
            nbf: None,
            iat: None,
            cti: None,
            cnf,
        }
    }

    /// Encodes the deterministic claims map with `minicbor`. A `cnf` that is not a public EC2
    /// key is refused before anything is written.
    pub fn encode<W: Write>(&self, e: &mut Encoder<W>) -> Result<(), CredentialError>
    where
        W::Error: Into<iot_core::Error>,
    {
        check_cnf(&self.cnf)?;
        let n = 1
            + [self.iss, self.sub, self.aud].iter().flatten().count()
            + [self.exp, self.nbf, self.iat].iter().flatten().count()
            + usize::from(self.cti.is_some());
        e.map(n as u64).map_err(enc_err)?;
        for (label, text) in [
            (claim::ISS, self.iss),
            (claim::SUB, self.sub),
            (claim::AUD, self.aud),
        ] {
            if let Some(t) = text {
                e.i64(label).and_then(|e| e.str(t)).map_err(enc_err)?;
            }
        }
        for (label, time) in [
            (claim::EXP, self.exp),
            (claim::NBF, self.nbf),
            (claim::IAT, self.iat),
        ] {
            if let Some(t) = time {
                e.i64(label).and_then(|e| e.u64(t)).map_err(enc_err)?;
            }
        }
        if let Some(cti) = self.cti {
            e.i64(claim::CTI)
                .and_then(|e| e.bytes(cti))
                .map_err(enc_err)?;
        }
        e.i64(claim::CNF)
            .and_then(|e| e.map(1))
            .and_then(|e| e.i64(CNF_COSE_KEY))
            .map_err(enc_err)?;
        self.cnf.encode(e).map_err(enc_err)?;
        Ok(())
    }

    /// Writes the claims set (a CCS when sent as is) into `out`; returns its length.
    pub fn encode_to(&self, out: &mut [u8]) -> Result<usize, CredentialError> {
        let mut w = SliceWriter::new(out);
        self.encode(&mut Encoder::new(&mut w))?;
        Ok(w.len())
    }

    /// Decodes a whole input holding one claims set (a CCS, or a CWT's payload).
    pub fn decode(input: &'a [u8]) -> Result<Self, CredentialError> {
        let mut r = Reader::new(input);
        let claims = Self::decode_from(&mut r)?;
        r.finish()?;
        Ok(claims)
    }

    /// Decodes one claims set from `r` (at most [`MAX_CLAIMS`] claims), leaving what follows.
    pub fn decode_from(r: &mut Reader<'a>) -> Result<Self, CredentialError> {
        let n = r.map()?;
        if n > MAX_CLAIMS as u64 {
            return Err(iot_core::Error::CapacityExceeded.into());
        }
        let mut ints = Seen::<i64>::new(0);
        let mut texts = Seen::<&str>::new("");
        let (mut iss, mut sub, mut aud) = (None, None, None);
        let (mut exp, mut nbf, mut iat, mut cti, mut cnf) = (None, None, None, None, None);
        for _ in 0..n {
            if r.datatype()? == Type::String {
                let text = r.str()?;
                if !texts.insert(text) {
                    return Err(CredentialError::InvalidClaim(i64::MIN));
                }
                r.skip()?;
                continue;
            }
            let label = r.int()?;
            if !ints.insert(label) {
                return Err(CredentialError::InvalidClaim(label));
            }
            let bad = |_: iot_core::Error| CredentialError::InvalidClaim(label);
            match label {
                claim::ISS => iss = Some(r.str().map_err(bad)?),
                claim::SUB => sub = Some(r.str().map_err(bad)?),
                claim::AUD => aud = Some(r.str().map_err(bad)?),
                claim::EXP => exp = Some(r.uint().map_err(bad)?),
                claim::NBF => nbf = Some(r.uint().map_err(bad)?),
                claim::IAT => iat = Some(r.uint().map_err(bad)?),
                claim::CTI => cti = Some(r.bytes().map_err(bad)?),
                claim::CNF => {
                    if r.map().map_err(bad)? != 1 || r.int().map_err(bad)? != CNF_COSE_KEY {
                        return Err(CredentialError::InvalidClaim(label));
                    }
                    let key = CoseKey::decode_from(r).map_err(bad)?;
                    check_cnf(&key)?;
                    cnf = Some(key);
                }
                _ => {
                    r.skip()?;
                }
            }
        }
        Ok(Self {
            iss,
            sub,
            aud,
            exp,
            nbf,
            iat,
            cti,
            cnf: cnf.ok_or(CredentialError::InvalidClaim(claim::CNF))?,
        })
    }

    /// Checks `exp` and `nbf` at `now` (seconds since the Unix epoch); absent claims do not limit.
    pub fn check_time(&self, now: u64) -> Result<(), CredentialError> {
        if self.exp.is_some_and(|exp| now >= exp) {
            return Err(CredentialError::Expired);
        }
        if self.nbf.is_some_and(|nbf| now < nbf) {
            return Err(CredentialError::NotYetValid);
        }
        Ok(())
    }

    /// The device UEID named by `sub` (the exact text of [`Ueid::to_hex`]).
    pub fn subject_ueid(&self) -> Result<Ueid, CredentialError> {
        self.sub
            .and_then(ueid_from_hex)
            .ok_or(CredentialError::InvalidClaim(claim::SUB))
    }

    /// The `cnf` key as an uncompressed P-256 public key (a compressed `y` is refused).
    pub fn cnf_public_key(&self) -> Result<P256PublicKey, CredentialError> {
        let bad = CredentialError::InvalidClaim(claim::CNF);
        let CoseKey::Ec2 {
            x,
            y: Ec2Y::Coordinate(y),
            ..
        } = self.cnf
        else {
            return Err(bad);
        };
        let mut sec1 = [0u8; 65];
        let (tag, xy) = sec1.split_at_mut(1);
        let (xd, yd) = xy.split_at_mut(32);
        tag.fill(0x04);
        xd.copy_from_slice(x);
        yd.copy_from_slice(y);
        P256PublicKey::from_sec1(&sec1).map_err(|_| bad)
    }
}

/// The labels met so far in a claims set (at most [`MAX_CLAIMS`], as `decode_from` checks).
struct Seen<T> {
    items: [T; MAX_CLAIMS],
    len: usize,
}

impl<T: Copy + PartialEq> Seen<T> {
    fn new(fill: T) -> Self {
        Self {
            items: [fill; MAX_CLAIMS],
            len: 0,
        }
    }

    /// Adds `item`; `false` when it was already there.
    fn insert(&mut self, item: T) -> bool {
        let seen = self.items.get(..self.len).unwrap_or_default();
        if seen.contains(&item) {
            return false;
        }
        match self.items.get_mut(self.len) {
            Some(slot) => {
                *slot = item;
                self.len += 1;
                true
            }
            None => false,
        }
    }
}

/// The UEID whose [`Ueid::to_hex`] is exactly `hex` (upper-case), if any.
pub(crate) fn ueid_from_hex(hex: &str) -> Option<Ueid> {
    let digits = hex.as_bytes();
    if !digits.len().is_multiple_of(2) || digits.len() > 2 * MAX_UEID_LEN {
        return None;
    }
    let mut bytes = [0u8; MAX_UEID_LEN];
    let n = digits.len() / 2;
    for (b, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
        let nibble = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        };
        let [hi, lo] = pair else { return None };
        *b = (nibble(*hi)? << 4) | nibble(*lo)?;
    }
    Ueid::from_bytes(bytes.get(..n)?).ok()
}

/// Signs claims sets into CWTs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CwtBuilder<'a> {
    /// ES256 or ESP256.
    pub alg: Algorithm,
    /// The issuer key's id, in the unprotected bucket.
    pub kid: Option<&'a [u8]>,
    /// Wrap the COSE_Sign1 (tag 18) in the CWT tag 61 (default `false`).
    pub cwt_tag: bool,
}

impl<'a> CwtBuilder<'a> {
    /// An untagged CWT (a tagged COSE_Sign1) signed with `alg`.
    pub fn new(alg: Algorithm) -> Self {
        Self {
            alg,
            kid: None,
            cwt_tag: false,
        }
    }

    /// Names the issuer key.
    pub fn kid(self, kid: &'a [u8]) -> Self {
        Self {
            kid: Some(kid),
            ..self
        }
    }

    /// Chooses whether tag 61 wraps the message.
    pub fn cwt_tag(self, cwt_tag: bool) -> Self {
        Self { cwt_tag, ..self }
    }

    /// Encodes `claims` into `scratch`, signs them with `signer` (empty external AAD) and writes
    /// the CWT into `out`; returns its length.
    pub fn sign<C: Sha256, S: Signer>(
        &self,
        crypto: &mut C,
        signer: &mut S,
        claims: &Claims<'_>,
        scratch: &mut [u8],
        out: &mut [u8],
    ) -> Result<usize, CredentialError> {
        let n = claims.encode_to(scratch)?;
        let payload = scratch.get(..n).ok_or(iot_core::Error::BufferTooSmall)?;
        let mut builder = Sign1Builder::new(self.alg);
        builder.unprotected.kid = self.kid;
        let head = if self.cwt_tag {
            let mut w = SliceWriter::new(out);
            Encoder::new(&mut w)
                .tag(Tag::new(CWT_TAG))
                .map_err(enc_err)?;
            w.len()
        } else {
            0
        };
        let body = out.get_mut(head..).ok_or(iot_core::Error::BufferTooSmall)?;
        Ok(head + builder.sign(crypto, signer, payload, &[], body)?)
    }
}

/// A decoded CWT credential, borrowing from its input; nothing in it is trusted before
/// [`Cwt::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cwt<'a> {
    /// The COSE_Sign1.
    pub message: CoseSign1<'a>,
    /// Its payload, decoded.
    pub claims: Claims<'a>,
    /// Whether tag 61 wrapped it.
    pub cwt_tag: bool,
}

impl<'a> Cwt<'a> {
    /// Decodes a whole input: an optional tag 61 around a COSE_Sign1 (tagged 18 or not) whose
    /// attached payload is a claims set of the profile.
    pub fn decode(input: &'a [u8]) -> Result<Self, CredentialError> {
        let mut r = Reader::new(input);
        let cwt_tag = match r.datatype()? {
            Type::Tag => {
                let mut peek = r.clone();
                if peek.opt_tag()? == Some(CWT_TAG) {
                    r = peek;
                    true
                } else {
                    false
                }
            }
            _ => false,
        };
        let message = CoseSign1::decode_from(&mut r)?;
        r.finish()?;
        let payload = message.payload.ok_or(iot_core::Error::PayloadMismatch)?;
        let claims = Claims::decode(payload)?;
        Ok(Self {
            message,
            claims,
            cwt_tag,
        })
    }

    /// Checks the signature (ES256 or ESP256, empty external AAD) under `issuer`, then `exp` and
    /// `nbf` at `now`; returns the `cnf` key.
    pub fn verify<C: Sha256 + P256Verify + ?Sized>(
        &self,
        crypto: &mut C,
        issuer: &P256PublicKey,
        now: u64,
    ) -> Result<CoseKey<'a>, CredentialError> {
        verify_sign1_message(crypto, &self.message, &[], issuer)?;
        self.claims.check_time(now)?;
        Ok(self.claims.cnf)
    }
}
