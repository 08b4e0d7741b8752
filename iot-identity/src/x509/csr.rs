//! PKCS#10 certification requests (RFC 2986) for a P-256 device key, written into the caller's
//! buffer, and read back and checked (for tests, gateways and registrars).

use super::{
    P256Verify, X509Error, check_name, name_attribute, oid, read_ecdsa_sha256_alg,
    read_ecdsa_signature, read_p256_spki, read_tlv,
};
use crate::keystore::P256PublicKey;
use crate::ueid::Ueid;
use der::asn1::{
    AnyRef, BitStringRef, ObjectIdentifier, PrintableStringRef, UintRef, Utf8StringRef,
};
use der::{
    Decode, Encode, EncodeValue, FixedTag, Header, Length, Reader, SliceReader, SliceWriter, Tag,
    TagNumber, Writer,
};
use iot_core::crypto::{Sha256, Signer};

/// Upper bound of `commonName` and `serialNumber` (RFC 5280 Appendix A.1, ub-common-name and
/// ub-serial-number): 64 characters.
pub const MAX_NAME_ATTRIBUTE_LEN: usize = 64;

/// Longest DER `Ecdsa-Sig-Value` for P-256: SEQUENCE (2) + two INTEGERs of up to 33 bytes (2 + 33 each).
const MAX_DER_SIG_LEN: usize = 72;

/// The subject of a device's request: `CN=<common name>, serialNumber=<UEID in hex>`.
///
/// The common name defaults to the UEID in hex too. The UEID's hex form must fit the 64-character
/// bound of `serialNumber`, which holds for every UEID of up to 32 bytes (EUI, IMEI, 128- and
/// 192-bit RAND); a 33-byte UEID (256-bit RAND) is refused with [`X509Error::InvalidName`].
#[derive(Debug, Clone, Copy)]
pub struct CsrSubject<'a> {
    /// The device's UEID, written as `serialNumber` (PrintableString, upper-case hex).
    pub ueid: &'a Ueid,
    /// The common name (UTF8String); `None` for the UEID in hex.
    pub common_name: Option<&'a str>,
}

/// One `AttributeTypeAndValue` (RFC 5280 section 4.1.2.4).
struct Atv<'a> {
    ty: ObjectIdentifier,
    value: AtvValue<'a>,
}

enum AtvValue<'a> {
    Utf8(Utf8StringRef<'a>),
    Printable(PrintableStringRef<'a>),
}

impl EncodeValue for Atv<'_> {
    fn value_len(&self) -> der::Result<Length> {
        let v = match &self.value {
            AtvValue::Utf8(s) => s.encoded_len()?,
            AtvValue::Printable(s) => s.encoded_len()?,
        };
        self.ty.encoded_len()? + v
    }
    fn encode_value(&self, w: &mut impl Writer) -> der::Result<()> {
        self.ty.encode(w)?;
        match &self.value {
            AtvValue::Utf8(s) => s.encode(w),
            AtvValue::Printable(s) => s.encode(w),
        }
    }
}

impl FixedTag for Atv<'_> {
    const TAG: Tag = Tag::Sequence;
}

/// A single-valued `RelativeDistinguishedName` (a SET of one attribute).
struct Rdn<'a>(Atv<'a>);

impl EncodeValue for Rdn<'_> {
    fn value_len(&self) -> der::Result<Length> {
        self.0.encoded_len()
    }
    fn encode_value(&self, w: &mut impl Writer) -> der::Result<()> {
        self.0.encode(w)
    }
}

impl FixedTag for Rdn<'_> {
    const TAG: Tag = Tag::Set;
}

/// `Name ::= SEQUENCE OF RelativeDistinguishedName`, here with CN and serialNumber.
struct Name<'a> {
    rdns: [Rdn<'a>; 2],
}

impl EncodeValue for Name<'_> {
    fn value_len(&self) -> der::Result<Length> {
        let [a, b] = &self.rdns;
        a.encoded_len()? + b.encoded_len()?
    }
    fn encode_value(&self, w: &mut impl Writer) -> der::Result<()> {
        let [a, b] = &self.rdns;
        a.encode(w)?;
        b.encode(w)
    }
}

impl FixedTag for Name<'_> {
    const TAG: Tag = Tag::Sequence;
}

/// `CertificationRequestInfo` (RFC 2986 section 4.1) with no attributes.
struct RequestInfo<'a> {
    subject: Name<'a>,
    spki: spki::SubjectPublicKeyInfoRef<'a>,
}

/// `attributes [0] IMPLICIT SET OF Attribute`, empty.
const ATTRIBUTES_TAG: Tag = Tag::ContextSpecific {
    constructed: true,
    number: TagNumber(0),
};

impl EncodeValue for RequestInfo<'_> {
    fn value_len(&self) -> der::Result<Length> {
        0u8.encoded_len()? + self.subject.encoded_len()? + self.spki.encoded_len()? + Length::new(2)
    }
    fn encode_value(&self, w: &mut impl Writer) -> der::Result<()> {
        0u8.encode(w)?;
        self.subject.encode(w)?;
        self.spki.encode(w)?;
        Header::new(ATTRIBUTES_TAG, Length::ZERO).encode(w)
    }
}

impl FixedTag for RequestInfo<'_> {
    const TAG: Tag = Tag::Sequence;
}

/// `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 3279 section 2.2.3).
struct EcdsaSig<'a> {
    r: UintRef<'a>,
    s: UintRef<'a>,
}

impl EncodeValue for EcdsaSig<'_> {
    fn value_len(&self) -> der::Result<Length> {
        self.r.encoded_len()? + self.s.encoded_len()?
    }
    fn encode_value(&self, w: &mut impl Writer) -> der::Result<()> {
        self.r.encode(w)?;
        self.s.encode(w)
    }
}

impl FixedTag for EcdsaSig<'_> {
    const TAG: Tag = Tag::Sequence;
}

/// `AlgorithmIdentifier { ecdsa-with-SHA256 }`, parameters absent (RFC 5758 section 3.2).
fn ecdsa_sha256() -> spki::AlgorithmIdentifierRef<'static> {
    spki::AlgorithmIdentifierRef {
        oid: oid::ECDSA_WITH_SHA256,
        parameters: None,
    }
}

/// Writes a PKCS#10 `CertificationRequest` (RFC 2986 section 4) for `public_key` with `subject`,
/// signed by `signer` (the device key, ecdsa-with-SHA256 over the DER `CertificationRequestInfo`,
/// the signature DER-encoded in the BIT STRING) into `out`; returns the length written.
///
/// `hash` computes the digest; `signer` signs it (a [`crate::keystore::StoreSigner`] keeps the
/// private key in its store). No heap: everything is written in `out` (about 260 bytes suffice
/// for the longest subject).
pub fn write_csr<H: Sha256 + ?Sized, S: Signer + ?Sized>(
    hash: &mut H,
    signer: &mut S,
    public_key: &P256PublicKey,
    subject: &CsrSubject<'_>,
    out: &mut [u8],
) -> Result<usize, X509Error> {
    let hex = subject.ueid.to_hex();
    let serial = hex.as_str();
    let cn = subject.common_name.unwrap_or(serial);
    if serial.len() > MAX_NAME_ATTRIBUTE_LEN
        || cn.is_empty()
        || cn.chars().count() > MAX_NAME_ATTRIBUTE_LEN
    {
        return Err(X509Error::InvalidName);
    }
    let name = Name {
        rdns: [
            Rdn(Atv {
                ty: oid::COMMON_NAME,
                value: AtvValue::Utf8(Utf8StringRef::new(cn).map_err(|_| X509Error::InvalidName)?),
            }),
            Rdn(Atv {
                ty: oid::SERIAL_NUMBER,
                value: AtvValue::Printable(
                    PrintableStringRef::new(serial).map_err(|_| X509Error::InvalidName)?,
                ),
            }),
        ],
    };
    let curve = oid::SECP256R1;
    let info = RequestInfo {
        subject: name,
        spki: spki::SubjectPublicKeyInfoRef {
            algorithm: spki::AlgorithmIdentifierRef {
                oid: oid::EC_PUBLIC_KEY,
                parameters: Some(AnyRef::new(Tag::ObjectIdentifier, curve.as_bytes())?),
            },
            subject_public_key: BitStringRef::from_bytes(public_key.as_sec1())?,
        },
    };

    // The request info is written first at the start of `out`, hashed and signed; the outer
    // header's size depends on the signature's, so the info then moves up behind it.
    let info_len = usize::try_from(info.encoded_len()?)?;
    let info_bytes = info.encode_to_slice(out).map_err(write_err)?;
    let digest = hash.sha256(info_bytes);
    let raw = signer.sign_digest(&digest)?;
    let (r, s) = raw.split_at(32);
    let sig = EcdsaSig {
        r: UintRef::new(r)?,
        s: UintRef::new(s)?,
    };
    let mut sig_der = [0u8; MAX_DER_SIG_LEN];
    let sig_der = sig.encode_to_slice(&mut sig_der)?;
    let sig_bits = BitStringRef::from_bytes(sig_der)?;
    let alg = ecdsa_sha256();

    let body_len = (Length::try_from(info_len)? + alg.encoded_len()? + sig_bits.encoded_len()?)?;
    let outer = Header::new(Tag::Sequence, body_len);
    let head_len = usize::try_from(outer.encoded_len()?)?;
    let total = usize::try_from(body_len.for_tlv(Tag::Sequence)?)?;
    if out.len() < total {
        return Err(X509Error::BufferTooSmall);
    }
    out.copy_within(..info_len, head_len);
    let (head, rest) = out.split_at_mut(head_len);
    outer.encode_to_slice(head).map_err(write_err)?;
    let tail = rest.get_mut(info_len..).ok_or(X509Error::BufferTooSmall)?;
    let mut w = SliceWriter::new(tail);
    alg.encode(&mut w).map_err(write_err)?;
    sig_bits.encode(&mut w).map_err(write_err)?;
    w.finish().map_err(write_err)?;
    Ok(total)
}

/// An encoder error: the caller's buffer ran out (anything else would be a bug here, and is
/// reported as malformed rather than hidden).
fn write_err(e: der::Error) -> X509Error {
    match e.kind() {
        der::ErrorKind::Overlength | der::ErrorKind::Overflow | der::ErrorKind::Failed => {
            X509Error::BufferTooSmall
        }
        _ => X509Error::from(e),
    }
}

/// A decoded PKCS#10 request for a P-256 key, borrowing from its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Csr<'a> {
    /// The DER `CertificationRequestInfo` as received (what the signature covers).
    pub info_raw: &'a [u8],
    /// The subject `Name`, DER.
    pub subject_raw: &'a [u8],
    /// The public key.
    pub public_key: P256PublicKey,
    /// The attributes' contents (DER of the SET members), empty when there are none.
    pub attributes_raw: &'a [u8],
    /// The signature as `r || s`.
    pub signature: [u8; 64],
}

impl<'a> Csr<'a> {
    /// Decodes a DER request (version 1, P-256 key, ecdsa-with-SHA256).
    pub fn decode(input: &'a [u8]) -> Result<Self, X509Error> {
        let mut r = SliceReader::new(input)?;
        let csr = r.sequence(|r| {
            let info_raw = r.tlv_bytes()?;
            read_ecdsa_sha256_alg(r)?;
            let signature = read_ecdsa_signature(r)?;
            let (subject_raw, public_key, attributes_raw) = decode_info(info_raw)?;
            Ok::<_, X509Error>(Self {
                info_raw,
                subject_raw,
                public_key,
                attributes_raw,
                signature,
            })
        })?;
        r.finish()?;
        Ok(csr)
    }

    /// Checks the request's signature with its own public key (proof of possession, RFC 2986
    /// section 3).
    pub fn verify<C: Sha256 + P256Verify + ?Sized>(&self, crypto: &mut C) -> Result<(), X509Error> {
        let digest = crypto.sha256(self.info_raw);
        crypto
            .verify_p256(&self.public_key, &digest, &self.signature)
            .map_err(|e| match e {
                iot_core::Error::InvalidKey => X509Error::UnsupportedKey,
                _ => X509Error::BadSignature,
            })
    }

    /// The subject's `commonName`, when it is text.
    pub fn common_name(&self) -> Result<Option<&'a str>, X509Error> {
        name_attribute(self.subject_raw, oid::COMMON_NAME)
    }

    /// The subject's `serialNumber` (the UEID in hex for requests from [`write_csr`]).
    pub fn serial_number(&self) -> Result<Option<&'a str>, X509Error> {
        name_attribute(self.subject_raw, oid::SERIAL_NUMBER)
    }
}

fn decode_info(info: &[u8]) -> Result<(&[u8], P256PublicKey, &[u8]), X509Error> {
    let mut r = SliceReader::new(info)?;
    let out = r.sequence(|r| {
        let version = u8::decode(r)?;
        if version != 0 {
            return Err(X509Error::UnsupportedVersion);
        }
        let subject = r.tlv_bytes()?;
        check_name(subject)?;
        let key = read_p256_spki(r)?;
        let (h, attrs) = read_tlv(r)?;
        if h.tag() != ATTRIBUTES_TAG {
            return Err(X509Error::Malformed { offset: 0 });
        }
        Ok::<_, X509Error>((subject, key, attrs))
    })?;
    r.finish()?;
    Ok(out)
}
