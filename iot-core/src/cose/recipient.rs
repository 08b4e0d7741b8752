//! COSE_recipient (RFC 9052 section 5.1) and the content key a recipient yields: direct use of a
//! shared secret (-6, RFC 9052 section 8.5.1) or direct+HKDF-SHA-256 (-10, RFC 9053 section
//! 6.1.2) over the COSE_KDF_Context of RFC 9053 section 5.2.

use super::list::{CoseList, ListItem};
use super::structure::write_head;
use super::{Algorithm, HeaderMap, Headers, SymmetricKey, write_bytes_or_nil, write_prefix};
use crate::cbor::{Reader, SliceWriter, enc_err, is_int};
use crate::crypto::HkdfSha256;
use crate::error::{CborError, Error, Result};
use minicbor::data::Type;
use minicbor::encode::{Encoder, Write};
use zeroize::Zeroize;

/// How many recipients a COSE_Encrypt or COSE_Mac may carry here; more is [`CborError::TooMany`].
pub const MAX_RECIPIENTS: usize = 8;
/// The largest content key a recipient yields (HMAC 256/256 and ChaCha20/Poly1305: 32 bytes).
pub const MAX_CONTENT_KEY_LEN: usize = 32;
/// The size of the stack buffer the COSE_KDF_Context is built in; a larger context is
/// [`Error::CapacityExceeded`].
pub const MAX_KDF_CONTEXT: usize = 256;

/// Header parameters of the key-derivation context (RFC 9053 section 5.1, table 9).
pub mod kdf_label {
    /// `salt`
    pub const SALT: i64 = -20;
    /// `PartyU identity`
    pub const PARTY_U_IDENTITY: i64 = -21;
    /// `PartyU nonce`
    pub const PARTY_U_NONCE: i64 = -22;
    /// `PartyU other`
    pub const PARTY_U_OTHER: i64 = -23;
    /// `PartyV identity`
    pub const PARTY_V_IDENTITY: i64 = -24;
    /// `PartyV nonce`
    pub const PARTY_V_NONCE: i64 = -25;
    /// `PartyV other`
    pub const PARTY_V_OTHER: i64 = -26;
}

/// One party's fields of the COSE_KDF_Context (RFC 9053 section 5.2), as the application knows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PartyInfo<'p> {
    /// `identity`
    pub identity: Option<&'p [u8]>,
    /// `nonce` (a byte string here; an integer nonce can only come in the header)
    pub nonce: Option<&'p [u8]>,
    /// `other`
    pub other: Option<&'p [u8]>,
}

/// What the application contributes to the COSE_KDF_Context (RFC 9053 section 5.2). A party
/// field the recipient's headers carry (labels -21 to -26) is taken from the headers; these values
/// fill in for the ones they do not carry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KdfInfo<'p> {
    /// PartyUInfo (the sender).
    pub party_u: PartyInfo<'p>,
    /// PartyVInfo (the recipient).
    pub party_v: PartyInfo<'p>,
    /// SuppPubInfo `other`, agreed out of band.
    pub supp_pub_other: Option<&'p [u8]>,
    /// SuppPrivInfo, agreed out of band.
    pub supp_priv_info: Option<&'p [u8]>,
}

/// The key that protects a COSE_Encrypt or COSE_Mac body, as a recipient yields it; zeroized on drop.
pub struct ContentKey<'k> {
    key: [u8; MAX_CONTENT_KEY_LEN],
    len: usize,
    alg: Algorithm,
    base_iv: Option<&'k [u8]>,
}

impl<'k> ContentKey<'k> {
    /// The content algorithm the key was made for.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The key bytes (secret).
    pub fn as_bytes(&self) -> &[u8] {
        self.key.get(..self.len).unwrap_or_default()
    }

    /// The key as a [`SymmetricKey`] restricted to its content algorithm.
    pub fn symmetric(&self) -> SymmetricKey<'_> {
        SymmetricKey {
            kid: None,
            alg: Some(self.alg),
            k: self.as_bytes(),
            base_iv: self.base_iv,
        }
    }
}

impl Drop for ContentKey<'_> {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

impl core::fmt::Debug for ContentKey<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ContentKey")
            .field("alg", &self.alg)
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// The content key length of `alg` (an AEAD or HMAC 256/256).
fn content_key_len(alg: Algorithm) -> Result<usize> {
    match alg {
        Algorithm::Hmac256 => Ok(32),
        a => a
            .aead()
            .map(|aead| aead.key_len())
            .ok_or(Error::AlgorithmMismatch),
    }
}

/// One COSE_recipient: `[protected, unprotected, ciphertext, ? recipients]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoseRecipient<'a> {
    /// The recipient's header buckets; the protected one with its bytes as received.
    pub headers: Headers<'a>,
    /// The encrypted key, or `None` for `nil`; empty for the direct methods.
    pub ciphertext: Option<&'a [u8]>,
    /// Nested recipients, encoded and checked for well-formedness but not interpreted.
    pub recipients: Option<&'a [u8]>,
}

impl<'a> ListItem<'a> for CoseRecipient<'a> {
    fn decode_from(r: &mut Reader<'a>) -> Result<Self> {
        let at = r.position();
        let n = r.array()?;
        if n != 3 && n != 4 {
            return Err(Error::cbor(CborError::UnexpectedType, at));
        }
        let headers = Headers::decode(r)?;
        let ciphertext = r.bytes_or_null()?;
        let recipients = if n == 4 {
            if r.datatype()? != Type::Array {
                return Err(Error::cbor(CborError::UnexpectedType, r.position()));
            }
            Some(r.skip()?)
        } else {
            None
        };
        Ok(Self {
            headers,
            ciphertext,
            recipients,
        })
    }

    fn kid(&self) -> Option<&'a [u8]> {
        self.headers.kid()
    }
}

/// The recipients of a [`super::CoseEncrypt`] or [`super::CoseMac`].
pub type Recipients<'a> = CoseList<'a, CoseRecipient<'a>>;

impl<'a> CoseRecipient<'a> {
    /// Decodes one whole COSE_recipient with the default limits; trailing bytes are an error.
    pub fn decode(input: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(input);
        let recipient = Self::decode_from(&mut r)?;
        r.finish()?;
        Ok(recipient)
    }

    /// The key-distribution algorithm.
    pub fn alg(&self) -> Result<Algorithm> {
        self.headers.alg()
    }

    /// The encoded value of header `label`, protected bucket first.
    fn header(&self, label: i64) -> Option<&'a [u8]> {
        self.headers
            .protected
            .get_raw(label)
            .or_else(|| self.headers.unprotected.get_raw(label))
    }

    /// The `salt` header (-20), if present.
    pub fn salt(&self) -> Result<Option<&'a [u8]>> {
        self.header(kdf_label::SALT)
            .map(|raw| {
                Reader::new(raw)
                    .bytes()
                    .map_err(|_| Error::InvalidHeader(Error::label(kdf_label::SALT)))
            })
            .transpose()
    }

    /// Derives the content key for a body protected with `content_alg` from the shared `secret`:
    /// the secret itself for direct (-6, which then also passes on the secret's base IV), or
    /// HKDF-SHA-256 with the `salt` header and the COSE_KDF_Context for direct+HKDF-SHA-256 (-10).
    /// Any other recipient algorithm is [`Error::AlgorithmMismatch`].
    pub fn content_key<'k, C: HkdfSha256>(
        &self,
        crypto: &mut C,
        content_alg: Algorithm,
        secret: &SymmetricKey<'k>,
        info: &KdfInfo<'_>,
    ) -> Result<ContentKey<'k>> {
        let alg = self.alg()?;
        let len = content_key_len(content_alg)?;
        if !matches!(alg, Algorithm::Direct | Algorithm::DirectHkdfSha256) {
            return Err(Error::AlgorithmMismatch);
        }
        // A key restricted to an algorithm serves only that recipient algorithm (or, used
        // directly, that content algorithm).
        if secret
            .alg
            .is_some_and(|a| a != alg && !(alg == Algorithm::Direct && a == content_alg))
        {
            return Err(Error::AlgorithmMismatch);
        }
        // The direct methods carry no key material (RFC 9052 section 8.5.1).
        if self.ciphertext.is_some_and(|c| !c.is_empty()) || self.recipients.is_some() {
            return Err(Error::InvalidKey);
        }
        let mut key = ContentKey {
            key: [0u8; MAX_CONTENT_KEY_LEN],
            len,
            alg: content_alg,
            base_iv: None,
        };
        let out = key.key.get_mut(..len).ok_or(Error::CapacityExceeded)?;
        if alg == Algorithm::Direct {
            if secret.k.len() != len {
                return Err(Error::InvalidKey);
            }
            out.copy_from_slice(secret.k);
            key.base_iv = secret.base_iv;
        } else {
            if secret.k.is_empty() {
                return Err(Error::InvalidKey);
            }
            let mut context = [0u8; MAX_KDF_CONTEXT];
            let result = self
                .write_kdf_context(content_alg, info, &mut context)
                .map_err(|e| match e {
                    Error::BufferTooSmall => Error::CapacityExceeded,
                    e => e,
                })
                .and_then(|n| {
                    let salt = self.salt()?.unwrap_or_default();
                    crypto.hkdf_sha256(salt, secret.k, context.get(..n).unwrap_or_default(), out)
                });
            // SuppPrivInfo may be secret.
            context.zeroize();
            result?;
        }
        Ok(key)
    }

    /// Writes the COSE_KDF_Context (RFC 9053 section 5.2) of this recipient for a key of
    /// `content_alg` (a content algorithm, or A128KW for ECDH-ES + A128KW) into `out` and returns its length: `[AlgorithmID, PartyUInfo, PartyVInfo,
    /// SuppPubInfo [keyDataLength, protected, ? other], ? SuppPrivInfo]`.
    pub fn write_kdf_context(
        &self,
        content_alg: Algorithm,
        info: &KdfInfo<'_>,
        out: &mut [u8],
    ) -> Result<usize> {
        // The derived key may also be a key-encryption key (ECDH-ES + A128KW derives an A128KW key,
        // RFC 9053 section 6.4), so A128KW counts here though it protects no content.
        let len = match content_alg {
            Algorithm::A128Kw => 16,
            a => content_key_len(a)?,
        };
        let bits = len as u64 * 8;
        let mut w = SliceWriter::new(out);
        let mut e = Encoder::new(&mut w);
        e.array(if info.supp_priv_info.is_some() { 5 } else { 4 })
            .and_then(|e| e.i64(content_alg.id()))
            .map_err(enc_err)?;
        self.party(
            &mut e,
            [
                kdf_label::PARTY_U_IDENTITY,
                kdf_label::PARTY_U_NONCE,
                kdf_label::PARTY_U_OTHER,
            ],
            &info.party_u,
        )?;
        self.party(
            &mut e,
            [
                kdf_label::PARTY_V_IDENTITY,
                kdf_label::PARTY_V_NONCE,
                kdf_label::PARTY_V_OTHER,
            ],
            &info.party_v,
        )?;
        e.array(if info.supp_pub_other.is_some() { 3 } else { 2 })
            .and_then(|e| e.u64(bits))
            .and_then(|e| e.bytes(self.headers.protected_raw))
            .map_err(enc_err)?;
        if let Some(other) = info.supp_pub_other {
            e.bytes(other).map_err(enc_err)?;
        }
        if let Some(private) = info.supp_priv_info {
            e.bytes(private).map_err(enc_err)?;
        }
        Ok(w.len())
    }

    /// Writes one PartyInfo `[identity, nonce, other]`: each from the header when present, else
    /// from `given`, else `nil`.
    fn party<W: Write>(
        &self,
        e: &mut Encoder<W>,
        labels: [i64; 3],
        given: &PartyInfo<'_>,
    ) -> Result<()>
    where
        Error: From<W::Error>,
    {
        e.array(3).map_err(enc_err)?;
        for (i, (label, fallback)) in labels
            .into_iter()
            .zip([given.identity, given.nonce, given.other])
            .enumerate()
        {
            match self.header(label) {
                Some(raw) => {
                    let mut r = Reader::new(raw);
                    let bad = Error::InvalidHeader(Error::label(label));
                    match r.datatype()? {
                        Type::Bytes => e.bytes(r.bytes().map_err(|_| bad)?),
                        // Only the nonce may be an integer.
                        ty if i == 1 && is_int(ty) => e.i64(r.int().map_err(|_| bad)?),
                        _ => return Err(bad),
                    }
                }
                None => match fallback {
                    Some(v) => e.bytes(v),
                    None => e.null(),
                },
            }
            .map_err(enc_err)?;
        }
        Ok(())
    }
}

/// Writes a COSE_recipient of a direct method, `[protected, unprotected, h'']`, into `out` and
/// returns its length. Labels are written in deterministic order (RFC 8949 section 4.2.1).
pub fn write_recipient(
    protected: &HeaderMap<'_>,
    unprotected: &HeaderMap<'_>,
    out: &mut [u8],
) -> Result<usize> {
    let (at, _) = write_prefix(out, None, 3, protected, unprotected)?;
    write_bytes_or_nil(out, at, Some(&[]))
}

/// Appends the recipients array (each item an encoded COSE_recipient, checked here) at `out[at..]`
/// and returns the new end. 1 to [`MAX_RECIPIENTS`] items.
pub(crate) fn append_recipients(out: &mut [u8], at: usize, recipients: &[&[u8]]) -> Result<usize> {
    if recipients.is_empty() || recipients.len() > MAX_RECIPIENTS {
        return Err(Error::CapacityExceeded);
    }
    let mut w = SliceWriter::new(out.get_mut(at..).ok_or(Error::BufferTooSmall)?);
    write_head(&mut w, 4, recipients.len() as u64)?;
    for item in recipients {
        CoseRecipient::decode(item)?;
        w.write_all(item)?;
    }
    Ok(at + w.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cose::{CoseEncrypt, CoseMac};
    use crate::crypto::RustCrypto;
    use std::vec::Vec;

    /// cose-wg/Examples HMac-01: COSE_Mac, HMAC 256/256, one direct recipient with kid "our-secret".
    const HMAC_01: &str = "D8618543A10105A054546869732069732074686520636F6E74656E742E58202BDCC89F058216B8A208DDC6D8B54AA91F48BD63484986565105C9AD5A6682F6818340A20125044A6F75722D73656372657440";
    const HMAC_KEY: &str = "849B57219DAE48DE646D07DBB533566E976686457C1491BE3A76DCEA6C427188";
    /// cose-wg/Examples hmac-sha-256-01: COSE_Encrypt, AES-CCM-16-64-128, direct+HKDF-SHA-256 with salt.
    const HKDF_01: &str = "D8608443A1010AA1054DBFE89563EE070CE187BDF1C472581C5192B2794858242DE0BC141017137EDE1F597AB41F58D809452F3A2B818343A10129A2335061616262636364646565666667676868044A6F75722D73656372657440";
    const HKDF_KEY: &str = "849B57219DAE48DE646D07DBB533566E976686457C1491BE3A76DCEA6C427188";
    const HKDF_CEK: &str = "32547753D1E24F41579D770BA852D4C9";
    /// The direct recipient of HMac-01: `[h'', {1: -6, 4: 'our-secret'}, h'']`.
    const DIRECT: &str = "8340A20125044A6F75722D73656372657440";

    fn crypto() -> RustCrypto<()> {
        RustCrypto::default()
    }

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    /// HMac-01's body with the given recipients array bytes.
    fn mac_with(recipients: &[u8]) -> Vec<u8> {
        let mut m = h(HMAC_01);
        m.truncate(m.len() - 1 - DIRECT.len() / 2);
        m.extend(recipients);
        m
    }

    #[test]
    fn direct_and_hkdf_keys() {
        let mut c = crypto();
        let (msg, k) = (h(HMAC_01), h(HMAC_KEY));
        let m = CoseMac::decode(&msg).unwrap();
        let cek = m
            .content_key(&mut c, 0, &SymmetricKey::new(&k), &KdfInfo::default())
            .unwrap();
        assert_eq!(cek.as_bytes(), &k[..]);
        m.verify(&mut c, &cek, b"").unwrap();
        assert_eq!(m.verify(&mut c, &cek, b"x"), Err(Error::BadTag));

        let (msg, k) = (h(HKDF_01), h(HKDF_KEY));
        let m = CoseEncrypt::decode(&msg).unwrap();
        let cek = m
            .content_key(&mut c, 0, &SymmetricKey::new(&k), &KdfInfo::default())
            .unwrap();
        assert_eq!(cek.as_bytes(), &h(HKDF_CEK)[..]);
        let mut out = [0u8; 64];
        let n = m.decrypt(&mut c, &cek, b"", &mut out).unwrap();
        assert_eq!(&out[..n], b"This is the content.");
        // Another PartyV identity derives another key, and decryption fails with a typed error.
        let other = KdfInfo {
            party_v: PartyInfo {
                identity: Some(b"someone else"),
                ..PartyInfo::default()
            },
            ..KdfInfo::default()
        };
        let cek2 = m
            .content_key(&mut c, 0, &SymmetricKey::new(&k), &other)
            .unwrap();
        assert_ne!(cek2.as_bytes(), cek.as_bytes());
        assert_eq!(m.decrypt(&mut c, &cek2, b"", &mut out), Err(Error::BadTag));
        assert_eq!(out, [0u8; 64]);
    }

    #[test]
    fn wrong_recipient_alg() {
        let mut c = crypto();
        let k = h(HMAC_KEY);
        let secret = SymmetricKey::new(&k);
        // A128KW (-3) is a recipient algorithm of the family, but not one this layer opens.
        let msg = mac_with(&h("818340A20122044A6F75722D73656372657440"));
        let m = CoseMac::decode(&msg).unwrap();
        assert_eq!(
            m.content_key(&mut c, 0, &secret, &KdfInfo::default())
                .map(|_| ()),
            Err(Error::AlgorithmMismatch)
        );
        // An id nobody implements.
        let msg = mac_with(&h("818340A201390126044A6F75722D73656372657440"));
        let m = CoseMac::decode(&msg).unwrap();
        assert_eq!(
            m.content_key(&mut c, 0, &secret, &KdfInfo::default())
                .map(|_| ()),
            Err(Error::UnsupportedAlgorithm(-295))
        );
        // No alg at all.
        let msg = mac_with(&h("818340A1044A6F75722D73656372657440"));
        let m = CoseMac::decode(&msg).unwrap();
        assert_eq!(
            m.content_key(&mut c, 0, &secret, &KdfInfo::default())
                .map(|_| ()),
            Err(Error::MissingAlgorithm)
        );
        // A key restricted to HKDF cannot be used directly; a short direct key is refused.
        let orig = h(HMAC_01);
        let m = CoseMac::decode(&orig).unwrap();
        let restricted = SymmetricKey {
            alg: Some(Algorithm::DirectHkdfSha256),
            ..secret
        };
        assert_eq!(
            m.content_key(&mut c, 0, &restricted, &KdfInfo::default())
                .map(|_| ()),
            Err(Error::AlgorithmMismatch)
        );
        assert_eq!(
            m.content_key(&mut c, 0, &SymmetricKey::new(&k[..16]), &KdfInfo::default())
                .map(|_| ()),
            Err(Error::InvalidKey)
        );
        // A direct recipient that carries key material is malformed.
        let msg = mac_with(&h("818340A20125044A6F75722D7365637265744101"));
        let m = CoseMac::decode(&msg).unwrap();
        assert_eq!(
            m.content_key(&mut c, 0, &secret, &KdfInfo::default())
                .map(|_| ()),
            Err(Error::InvalidKey)
        );
    }

    #[test]
    fn key_for_another_layer_is_refused() {
        let mut c = crypto();
        let enc = h(HKDF_01);
        let e = CoseEncrypt::decode(&enc).unwrap();
        let k = h(HKDF_KEY);
        let aead_key = e
            .content_key(&mut c, 0, &SymmetricKey::new(&k), &KdfInfo::default())
            .unwrap();
        let mac = h(HMAC_01);
        let m = CoseMac::decode(&mac).unwrap();
        assert_eq!(
            m.verify(&mut c, &aead_key, b""),
            Err(Error::AlgorithmMismatch)
        );
        let mk = h(HMAC_KEY);
        let mac_key = m
            .content_key(&mut c, 0, &SymmetricKey::new(&mk), &KdfInfo::default())
            .unwrap();
        let mut out = [0u8; 64];
        assert_eq!(
            e.decrypt(&mut c, &mac_key, b"", &mut out),
            Err(Error::AlgorithmMismatch)
        );
    }

    #[test]
    fn missing_kid_and_index() {
        let msg = h(HMAC_01);
        let m = CoseMac::decode(&msg).unwrap();
        assert_eq!(m.recipients.find_kid(b"our-secret").map(|(i, _)| i), Ok(0));
        assert_eq!(
            m.recipients.find_kid(b"nobody").map(|(i, _)| i),
            Err(Error::NotFound)
        );
        let mut c = crypto();
        let k = h(HMAC_KEY);
        assert_eq!(
            m.content_key(&mut c, 1, &SymmetricKey::new(&k), &KdfInfo::default())
                .map(|_| ()),
            Err(Error::NotFound)
        );
        // A recipient without kid is never found by kid.
        let msg = mac_with(&h("818340A1012540"));
        let m = CoseMac::decode(&msg).unwrap();
        assert_eq!(
            m.recipients.find_kid(b"").map(|(i, _)| i),
            Err(Error::NotFound)
        );
    }

    #[test]
    fn bounded_recipients_and_nesting() {
        let direct = h(DIRECT);
        let many = |n: u8| {
            let mut r = std::vec![0x80 | n];
            for _ in 0..n {
                r.extend(&direct);
            }
            mac_with(&r)
        };
        let max = many(MAX_RECIPIENTS as u8);
        let m = CoseMac::decode(&max).unwrap();
        assert_eq!(m.recipients.iter().count(), MAX_RECIPIENTS);
        assert!(matches!(
            CoseMac::decode(&many(MAX_RECIPIENTS as u8 + 1)),
            Err(Error::Cbor {
                kind: CborError::TooMany,
                ..
            })
        ));
        assert!(CoseMac::decode(&many(0)).is_err());
        // A recipient with nested recipients decodes; as a direct recipient it is refused.
        let mut nested = h("8440A20125044A6F75722D7365637265744081");
        nested.extend(&direct);
        let mut r = std::vec![0x81];
        r.extend(&nested);
        let msg = mac_with(&r);
        let m = CoseMac::decode(&msg).unwrap();
        let rc = m.recipients.get(0).unwrap();
        assert_eq!(rc.recipients.map(<[u8]>::len), Some(1 + direct.len()));
        let mut c = crypto();
        let k = h(HMAC_KEY);
        assert_eq!(
            rc.content_key(
                &mut c,
                Algorithm::Hmac256,
                &SymmetricKey::new(&k),
                &KdfInfo::default()
            )
            .map(|_| ()),
            Err(Error::InvalidKey)
        );
        // Five items is not a recipient.
        let r = [0x81, 0x85, 0x40, 0xa0, 0x40, 0x80, 0x00];
        assert!(CoseMac::decode(&mac_with(&r)).is_err());
    }

    #[test]
    fn builders_round_trip_and_check_recipients() {
        use crate::cose::{EncryptBuilder, MacBuilder, label};
        let mut c = RustCrypto::from_os();
        let k = h(HMAC_KEY);
        let mut unprot = HeaderMap::with_alg(Algorithm::Direct);
        unprot.kid = Some(b"our-secret");
        let mut rbuf = [0u8; 64];
        let n = write_recipient(&HeaderMap::default(), &unprot, &mut rbuf).unwrap();
        assert_eq!(&rbuf[..n], &h(DIRECT)[..]);
        let recipient = CoseRecipient::decode(&rbuf[..n]).unwrap();
        let cek = recipient
            .content_key(
                &mut c,
                Algorithm::Hmac256,
                &SymmetricKey::new(&k),
                &KdfInfo::default(),
            )
            .unwrap();
        let mut out = [0u8; 200];
        let len = MacBuilder::new()
            .mac(&mut c, &cek, &[&rbuf[..n]], b"payload", b"", &mut out)
            .unwrap();
        let m = CoseMac::decode(&out[..len]).unwrap();
        m.verify(&mut c, &cek, b"").unwrap();
        // No recipient, too many, or a malformed one: typed errors.
        let b = MacBuilder::new();
        assert_eq!(
            b.mac(&mut c, &cek, &[], b"p", b"", &mut out),
            Err(Error::CapacityExceeded)
        );
        let many = [&rbuf[..n]; MAX_RECIPIENTS + 1];
        assert_eq!(
            b.mac(&mut c, &cek, &many, b"p", b"", &mut out),
            Err(Error::CapacityExceeded)
        );
        assert!(
            b.mac(&mut c, &cek, &[&rbuf[..n - 1]], b"p", b"", &mut out)
                .is_err()
        );
        // COSE_Encrypt with a fresh random IV, opened through its own recipient.
        let cek = recipient
            .content_key(
                &mut c,
                Algorithm::A128Gcm,
                &SymmetricKey::new(&k[..16]),
                &KdfInfo::default(),
            )
            .unwrap();
        let len = EncryptBuilder::new(Algorithm::A128Gcm)
            .encrypt(&mut c, &cek, &[&rbuf[..n]], b"secret", b"aad", &mut out)
            .unwrap();
        let e = CoseEncrypt::decode(&out[..len]).unwrap();
        assert_eq!(e.headers.unprotected.iv.map(<[u8]>::len), Some(12));
        assert!(e.headers.unprotected.has(label::IV));
        let key = e
            .content_key(&mut c, 0, &SymmetricKey::new(&k[..16]), &KdfInfo::default())
            .unwrap();
        let mut plain = [0u8; 16];
        let pn = e.decrypt(&mut c, &key, b"aad", &mut plain).unwrap();
        assert_eq!(&plain[..pn], b"secret");
    }

    #[test]
    fn kdf_context_is_bounded() {
        let msg = h(HKDF_01);
        let m = CoseEncrypt::decode(&msg).unwrap();
        let r = m.recipients.get(0).unwrap();
        let mut small = [0u8; 8];
        assert_eq!(
            r.write_kdf_context(Algorithm::AesCcm16_64_128, &KdfInfo::default(), &mut small),
            Err(Error::BufferTooSmall)
        );
        let big = [0x55u8; MAX_KDF_CONTEXT];
        let info = KdfInfo {
            supp_pub_other: Some(&big),
            ..KdfInfo::default()
        };
        let mut c = crypto();
        let k = h(HKDF_KEY);
        assert_eq!(
            r.content_key(
                &mut c,
                Algorithm::AesCcm16_64_128,
                &SymmetricKey::new(&k),
                &info
            )
            .map(|_| ()),
            Err(Error::CapacityExceeded)
        );
        // A content algorithm without a key length here.
        assert_eq!(
            r.content_key(
                &mut c,
                Algorithm::Es256,
                &SymmetricKey::new(&k),
                &KdfInfo::default()
            )
            .map(|_| ()),
            Err(Error::AlgorithmMismatch)
        );
    }

    #[test]
    fn kdf_header_types_are_checked() {
        // {-20: 1} as the salt: an integer where a bstr belongs.
        let mut msg = h(HKDF_01);
        let at = msg.windows(2).position(|w| w == [0x33, 0x50]).unwrap();
        msg.splice(at..at + 18, [0x33, 0x01]);
        let m = CoseEncrypt::decode(&msg).unwrap();
        let r = m.recipients.get(0).unwrap();
        assert_eq!(
            r.salt(),
            Err(Error::InvalidHeader(Error::label(kdf_label::SALT)))
        );
        // An integer PartyU nonce is allowed, an integer identity is not.
        let mut msg = h(HKDF_01);
        msg.splice(at..at + 18, [0x35, 0x07]);
        let m = CoseEncrypt::decode(&msg).unwrap();
        let r = m.recipients.get(0).unwrap();
        let mut buf = [0u8; 64];
        let n = r
            .write_kdf_context(Algorithm::AesCcm16_64_128, &KdfInfo::default(), &mut buf)
            .unwrap();
        assert_eq!(&buf[..n], &h("840A83F607F683F6F6F682188043A10129")[..]);
        let mut msg = h(HKDF_01);
        msg.splice(at..at + 18, [0x34, 0x07]);
        let m = CoseEncrypt::decode(&msg).unwrap();
        let r = m.recipients.get(0).unwrap();
        assert_eq!(
            r.write_kdf_context(Algorithm::AesCcm16_64_128, &KdfInfo::default(), &mut buf),
            Err(Error::InvalidHeader(Error::label(
                kdf_label::PARTY_U_IDENTITY
            )))
        );
    }
}
