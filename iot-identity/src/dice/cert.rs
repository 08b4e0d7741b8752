//! The CBOR CDI certificate (Open Profile for DICE, "CBOR CDI Certificates"): an untagged
//! COSE_Sign1 (RFC 9052 section 4.2, ES256) over a CWT (RFC 8392) with the profile's claims.

use super::crypto::{HkdfSha512, P256Keys, Sha512};
use super::derive::{
    COSE_KEY_LEN, Config, DiceId, DiceKeyPair, DicePublicKey, HASH_LEN, HexId, InputValues, sha512,
};
use crate::error::{Error, Result};
use iot_core::cbor::{Limits, Reader, SliceWriter, enc_err};
use iot_core::cose::{Algorithm, CoseKey, CoseSign1, Ec2Y, Sign1Builder};
use iot_core::crypto::{Sha256, Signer};
use minicbor::data::Type;
use minicbor::encode::{Encoder, Write};

/// CWT and profile claim labels ("CBOR CDI Certificates", RFC 8392 section 3.1.1).
pub mod label {
    /// `iss` (RFC 8392).
    pub const ISSUER: i64 = 1;
    /// `sub` (RFC 8392).
    pub const SUBJECT: i64 = 2;
    /// codeHash.
    pub const CODE_HASH: i64 = -4670545;
    /// codeDescriptor.
    pub const CODE_DESCRIPTOR: i64 = -4670546;
    /// configurationHash.
    pub const CONFIG_HASH: i64 = -4670547;
    /// configurationDescriptor.
    pub const CONFIG_DESCRIPTOR: i64 = -4670548;
    /// authorityHash.
    pub const AUTHORITY_HASH: i64 = -4670549;
    /// authorityDescriptor.
    pub const AUTHORITY_DESCRIPTOR: i64 = -4670550;
    /// mode.
    pub const MODE: i64 = -4670551;
    /// subjectPublicKey.
    pub const SUBJECT_PUBLIC_KEY: i64 = -4670552;
    /// keyUsage.
    pub const KEY_USAGE: i64 = -4670553;
    /// profileName.
    pub const PROFILE_NAME: i64 = -4670554;
}

/// keyUsage with only keyCertSign set (RFC 5280 section 4.2.1.3 bit 5, little-endian bytes).
pub const KEY_USAGE_CERT_SIGN: u8 = 0x20;

/// The profile name open-dice's example configuration puts in its certificates.
pub const OPEN_DICE_EXAMPLE_PROFILE: &str = "opendice.example";

/// COSE_Sign1 around a payload of 256 to 65535 bytes: array head, protected `a10126` as a bstr,
/// empty unprotected map, the payload's bstr head (3 bytes), and the 64-byte signature's bstr.
const COSE_OVERHEAD: usize = 1 + 4 + 1 + 3 + 2 + 64;

const fn str_len(n: usize) -> usize {
    let head = if n < 24 {
        1
    } else if n < 0x100 {
        2
    } else if n < 0x1_0000 {
        3
    } else if n as u64 <= u32::MAX as u64 {
        5
    } else {
        9
    };
    head + n
}

/// A 5-byte claim label (the profile's) and a byte or text string of `n` bytes.
const fn claim_len(n: usize) -> usize {
    5 + str_len(n)
}

/// Length of the CWT: `config_descriptor` is `None` for inline configuration, and a length
/// of 0 leaves a descriptor or the profile name out.
const fn cwt_len(
    code_descriptor: usize,
    config_descriptor: Option<usize>,
    authority_descriptor: usize,
    profile_name: usize,
) -> usize {
    // Map head; iss and sub (1-byte label, 40 hex digits); the code and authority hashes, mode,
    // subject key and key usage.
    let mut n = 1
        + 2 * (1 + str_len(40))
        + 2 * claim_len(HASH_LEN)
        + claim_len(1)
        + claim_len(COSE_KEY_LEN)
        + claim_len(1);
    if code_descriptor > 0 {
        n += claim_len(code_descriptor);
    }
    n += match config_descriptor {
        Some(d) => claim_len(d) + claim_len(HASH_LEN),
        None => claim_len(HASH_LEN),
    };
    if authority_descriptor > 0 {
        n += claim_len(authority_descriptor);
    }
    if profile_name > 0 {
        n += claim_len(profile_name);
    }
    n
}

/// The certificate size for inline configuration, no descriptors, and a profile name of
/// `profile_name_len` bytes (0 for none): a constant, to size a buffer at compile time.
pub const fn certificate_len_inline(profile_name_len: usize) -> usize {
    cwt_len(0, None, 0, profile_name_len) + COSE_OVERHEAD
}

/// The exact size of the certificate [`write_certificate`] makes for `inputs`; its CWT (the
/// scratch [`write_certificate`] needs) is smaller.
pub fn certificate_len(inputs: &InputValues<'_>, profile_name: Option<&str>) -> usize {
    let config = match inputs.config {
        Config::Inline(_) => None,
        Config::Descriptor(d) => Some(d.len()),
    };
    let payload = cwt_len(
        inputs.code_descriptor.map_or(0, <[u8]>::len),
        config,
        inputs.authority_descriptor.map_or(0, <[u8]>::len),
        profile_name.map_or(0, str::len),
    );
    COSE_OVERHEAD - 3 + str_len(payload)
}

/// Writes the CWT claims of a CDI certificate into `out` (in open-dice's order) and returns
/// its length. Empty descriptors and an empty profile name are left out.
pub fn write_cwt<C: Sha512>(
    crypto: &mut C,
    issuer: &DiceId,
    subject: &DiceId,
    subject_key: &DicePublicKey,
    inputs: &InputValues<'_>,
    profile_name: Option<&str>,
    out: &mut [u8],
) -> Result<usize> {
    let code_descriptor = inputs.code_descriptor.filter(|d| !d.is_empty());
    let authority_descriptor = inputs.authority_descriptor.filter(|d| !d.is_empty());
    let profile_name = profile_name.filter(|p| !p.is_empty());
    let mut cose_key = [0u8; COSE_KEY_LEN];
    let key_len = subject_key.write_cose_key(&mut cose_key)?;
    let cose_key = cose_key
        .get(..key_len)
        .ok_or(iot_core::Error::BufferTooSmall)?;
    let pairs = 7
        + u64::from(code_descriptor.is_some())
        + if matches!(inputs.config, Config::Descriptor(_)) {
            2
        } else {
            1
        }
        + u64::from(authority_descriptor.is_some())
        + u64::from(profile_name.is_some());
    let config_hash = match inputs.config {
        Config::Descriptor(d) => Some(sha512(crypto, d)),
        Config::Inline(_) => None,
    };
    let claims = Cwt {
        issuer: issuer.to_hex(),
        subject: subject.to_hex(),
        code_descriptor,
        config_hash: config_hash.as_ref(),
        authority_descriptor,
        cose_key,
        profile_name,
    };
    let mut w = SliceWriter::new(out);
    claims
        .encode(&mut Encoder::new(&mut w), inputs, pairs)
        .map_err(enc_err)?;
    Ok(w.len())
}

/// The claims [`write_cwt`] writes besides the inputs.
struct Cwt<'x> {
    issuer: HexId,
    subject: HexId,
    code_descriptor: Option<&'x [u8]>,
    config_hash: Option<&'x [u8; HASH_LEN]>,
    authority_descriptor: Option<&'x [u8]>,
    cose_key: &'x [u8],
    profile_name: Option<&'x str>,
}

impl Cwt<'_> {
    fn encode<W: Write>(
        &self,
        e: &mut Encoder<W>,
        inputs: &InputValues<'_>,
        pairs: u64,
    ) -> core::result::Result<(), minicbor::encode::Error<W::Error>> {
        e.map(pairs)?;
        e.i64(label::ISSUER)?.str(self.issuer.as_str())?;
        e.i64(label::SUBJECT)?.str(self.subject.as_str())?;
        e.i64(label::CODE_HASH)?.bytes(inputs.code_hash)?;
        if let Some(d) = self.code_descriptor {
            e.i64(label::CODE_DESCRIPTOR)?.bytes(d)?;
        }
        match inputs.config {
            Config::Inline(v) => {
                e.i64(label::CONFIG_DESCRIPTOR)?.bytes(v)?;
            }
            Config::Descriptor(d) => {
                e.i64(label::CONFIG_DESCRIPTOR)?.bytes(d)?;
                if let Some(h) = self.config_hash {
                    e.i64(label::CONFIG_HASH)?.bytes(h)?;
                }
            }
        }
        e.i64(label::AUTHORITY_HASH)?.bytes(inputs.authority_hash)?;
        if let Some(d) = self.authority_descriptor {
            e.i64(label::AUTHORITY_DESCRIPTOR)?.bytes(d)?;
        }
        e.i64(label::MODE)?.bytes(&[inputs.mode.to_byte()])?;
        e.i64(label::SUBJECT_PUBLIC_KEY)?.bytes(self.cose_key)?;
        e.i64(label::KEY_USAGE)?.bytes(&[KEY_USAGE_CERT_SIGN])?;
        if let Some(p) = self.profile_name {
            e.i64(label::PROFILE_NAME)?.str(p)?;
        }
        Ok(())
    }
}

/// Makes the CDI certificate for `subject_key` signed by `authority` ("Generating Layered
/// Certificates"): the CWT goes into `scratch` (at least the payload's size; see
/// [`certificate_len`]), the untagged COSE_Sign1 into `out`; returns its length. ES256 signing
/// goes through the authority's [`Signer`], which signs the streamed Sig_structure's SHA-256.
pub fn write_certificate<C, K>(
    crypto: &mut C,
    authority: &mut DiceKeyPair<K>,
    subject_key: &DicePublicKey,
    inputs: &InputValues<'_>,
    profile_name: Option<&str>,
    scratch: &mut [u8],
    out: &mut [u8],
) -> Result<usize>
where
    C: Sha256 + Sha512 + HkdfSha512,
    K: Signer,
{
    let issuer = authority.public_key.id(crypto)?;
    let subject = subject_key.id(crypto)?;
    let n = write_cwt(
        crypto,
        &issuer,
        &subject,
        subject_key,
        inputs,
        profile_name,
        scratch,
    )?;
    let payload = scratch.get(..n).ok_or(iot_core::Error::BufferTooSmall)?;
    let mut builder = Sign1Builder::new(Algorithm::Es256);
    builder.tagged = false;
    Ok(builder.sign(crypto, &mut authority.signing_key, payload, &[], out)?)
}

/// A decoded CDI certificate, borrowing from its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiceCertificate<'a> {
    /// The COSE_Sign1 around the claims.
    pub sign1: CoseSign1<'a>,
    /// The claims.
    pub claims: DiceClaims<'a>,
}

/// The claims of a CDI certificate. Unknown claims are skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DiceClaims<'a> {
    /// `iss`: the authority's ID in lower-case hex.
    pub issuer: &'a str,
    /// `sub`: the subject's ID in lower-case hex.
    pub subject: &'a str,
    /// codeHash.
    pub code_hash: Option<&'a [u8]>,
    /// codeDescriptor.
    pub code_descriptor: Option<&'a [u8]>,
    /// configurationHash.
    pub config_hash: Option<&'a [u8]>,
    /// configurationDescriptor.
    pub config_descriptor: Option<&'a [u8]>,
    /// authorityHash.
    pub authority_hash: Option<&'a [u8]>,
    /// authorityDescriptor.
    pub authority_descriptor: Option<&'a [u8]>,
    /// mode: the one byte.
    pub mode: Option<u8>,
    /// subjectPublicKey: the encoded COSE_Key.
    pub subject_public_key: &'a [u8],
    /// keyUsage: X.509 KeyUsage bits, little-endian.
    pub key_usage: Option<&'a [u8]>,
    /// profileName.
    pub profile_name: Option<&'a str>,
}

/// A value of the wrong type is an invalid claim; truncation and the like stay CBOR errors.
fn claim_error(e: iot_core::Error, label: i64) -> Error {
    match e {
        iot_core::Error::Cbor {
            kind: iot_core::CborError::UnexpectedType,
            ..
        } => Error::InvalidClaim(label),
        other => other.into(),
    }
}

impl<'a> DiceClaims<'a> {
    /// Decodes a whole CWT claims map. `iss`, `sub` and subjectPublicKey are required; a known
    /// claim that is missing, of the wrong type, or present twice is [`Error::InvalidClaim`];
    /// malformed CBOR is [`iot_core::Error::Cbor`] with its offset.
    pub fn decode(input: &'a [u8]) -> Result<Self> {
        let mut r = Reader::with_limits(input, Limits::default());
        let n = r.map()?;
        let mut c = DiceClaims::default();
        let (mut iss, mut sub, mut spk) = (None, None, None);
        let mut seen: u16 = 0;
        for _ in 0..n {
            if r.datatype()? == Type::String {
                // A text claim key (RFC 8392 section 3): none of the profile's.
                r.str()?;
                r.skip()?;
                continue;
            }
            let label = r.int()?;
            let bit = match label {
                label::ISSUER => 1u16 << 10,
                label::SUBJECT => 1 << 11,
                l @ label::PROFILE_NAME..=label::CODE_HASH => 1 << (label::CODE_HASH - l),
                _ => 0,
            };
            if seen & bit != 0 {
                return Err(Error::InvalidClaim(label));
            }
            seen |= bit;
            let bad = |e| claim_error(e, label);
            match label {
                label::ISSUER => iss = Some(r.str().map_err(bad)?),
                label::SUBJECT => sub = Some(r.str().map_err(bad)?),
                label::CODE_HASH => c.code_hash = Some(r.bytes().map_err(bad)?),
                label::CODE_DESCRIPTOR => c.code_descriptor = Some(r.bytes().map_err(bad)?),
                label::CONFIG_HASH => c.config_hash = Some(r.bytes().map_err(bad)?),
                label::CONFIG_DESCRIPTOR => c.config_descriptor = Some(r.bytes().map_err(bad)?),
                label::AUTHORITY_HASH => c.authority_hash = Some(r.bytes().map_err(bad)?),
                label::AUTHORITY_DESCRIPTOR => {
                    c.authority_descriptor = Some(r.bytes().map_err(bad)?)
                }
                label::MODE => match r.bytes().map_err(bad)? {
                    [m] => c.mode = Some(*m),
                    _ => return Err(Error::InvalidClaim(label)),
                },
                label::SUBJECT_PUBLIC_KEY => spk = Some(r.bytes().map_err(bad)?),
                label::KEY_USAGE => c.key_usage = Some(r.bytes().map_err(bad)?),
                label::PROFILE_NAME => c.profile_name = Some(r.str().map_err(bad)?),
                _ => {
                    r.skip()?;
                }
            }
        }
        r.finish()?;
        c.issuer = iss.ok_or(Error::InvalidClaim(label::ISSUER))?;
        c.subject = sub.ok_or(Error::InvalidClaim(label::SUBJECT))?;
        c.subject_public_key = spk.ok_or(Error::InvalidClaim(label::SUBJECT_PUBLIC_KEY))?;
        Ok(c)
    }

    /// Whether keyUsage allows keyCertSign.
    pub fn allows_cert_sign(&self) -> bool {
        self.key_usage
            .and_then(|k| k.first())
            .is_some_and(|b| b & KEY_USAGE_CERT_SIGN != 0)
    }

    /// The subject public key: an EC2 P-256 COSE_Key with both coordinates, for ES256 if it
    /// names an algorithm.
    pub fn subject_key(&self) -> Result<DicePublicKey> {
        let bad = Error::InvalidClaim(label::SUBJECT_PUBLIC_KEY);
        let key = CoseKey::decode(self.subject_public_key).map_err(|_| bad)?;
        let CoseKey::Ec2 {
            x,
            y: Ec2Y::Coordinate(y),
            alg,
            d: None,
            ..
        } = key
        else {
            return Err(bad);
        };
        if alg.is_some_and(|a| a != Algorithm::Es256) {
            return Err(bad);
        }
        let mut xy = [0u8; 64];
        let (xs, ys) = xy.split_at_mut(32);
        xs.copy_from_slice(x);
        ys.copy_from_slice(y);
        Ok(DicePublicKey(xy))
    }
}

impl<'a> DiceCertificate<'a> {
    /// Decodes an untagged COSE_Sign1 with an attached CWT payload, as the profile requires.
    pub fn decode(input: &'a [u8]) -> Result<Self> {
        let sign1 = CoseSign1::decode(input)?;
        if sign1.tagged {
            return Err(iot_core::Error::wrong_tag(iot_core::cose::tag::SIGN1).into());
        }
        let payload = sign1.payload.ok_or(iot_core::Error::PayloadMismatch)?;
        let claims = DiceClaims::decode(payload)?;
        Ok(Self { sign1, claims })
    }

    /// Checks the signature with the authority's public key `issuer_key` (ES256 only: the
    /// profile's P-256 variant).
    pub fn verify_signature<C: Sha256 + P256Keys>(
        &self,
        crypto: &mut C,
        issuer_key: &DicePublicKey,
    ) -> Result<()> {
        if self.sign1.alg()? != Algorithm::Es256 {
            return Err(iot_core::Error::AlgorithmMismatch.into());
        }
        let mut key = crypto.p256_verifying_key(&issuer_key.0)?;
        Ok(self.sign1.verify(crypto, &mut key, &[])?)
    }

    /// Checks this certificate against its authority's key: `iss` is the ID of `issuer_key`,
    /// the signature verifies, keyUsage allows keyCertSign and `sub` is the ID of the subject
    /// key. Returns the subject key, the authority for the next certificate.
    pub fn verify<C: Sha256 + HkdfSha512 + P256Keys>(
        &self,
        crypto: &mut C,
        issuer_key: &DicePublicKey,
    ) -> Result<DicePublicKey> {
        if issuer_key.id(crypto)?.to_hex().as_str() != self.claims.issuer {
            return Err(Error::IssuerMismatch);
        }
        self.verify_signature(crypto, issuer_key)?;
        if !self.claims.allows_cert_sign() {
            return Err(Error::KeyUsage);
        }
        let subject = self.claims.subject_key()?;
        if subject.id(crypto)?.to_hex().as_str() != self.claims.subject {
            return Err(Error::SubjectMismatch);
        }
        Ok(subject)
    }
}

/// Verifies a chain of CDI certificates, first to last, starting from the public key of the
/// first authority (UDS_Public, certified out of band at manufacture); returns the last
/// subject's public key.
pub fn verify_chain<'c, C, I>(
    crypto: &mut C,
    root: &DicePublicKey,
    certs: I,
) -> Result<DicePublicKey>
where
    C: Sha256 + HkdfSha512 + P256Keys,
    I: IntoIterator<Item = &'c [u8]>,
{
    let mut authority = *root;
    for cert in certs {
        authority = DiceCertificate::decode(cert)?.verify(crypto, &authority)?;
    }
    Ok(authority)
}
