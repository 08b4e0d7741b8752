//! Cross-implementation tests against coset (issue 2): random headers and payloads, tagged and
//! untagged, attached and detached.
//!
//! - What our builders encode, coset decodes with equal fields, and its crypto checks pass: the
//!   signature with p256 over coset's Sig_structure, the MAC with the hmac crate over coset's
//!   MAC_structure, the AEAD with the RustCrypto AEAD crates over coset's Enc_structure.
//! - What coset encodes (its builders, with the same independent crypto), we decode with equal
//!   fields and verify or decrypt with our API.
//! - Both encoders write the same headers in the same (ascending label) order, so the messages
//!   must be byte for byte identical (ECDSA is deterministic, RFC 6979).
//! - COSE_Key EC2 (P-256) and Symmetric keys both ways (RFC 9052 section 7, RFC 9053 section 7).

// .clippy.toml lets #[test] functions unwrap, panic and index; the helpers below are test code too.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use aes_gcm::aead::{AeadInOut, KeyInit};
use coset::cbor::value::Value;
use coset::iana::{self, EnumI64};
use coset::{CborSerializable, TaggedCborSerializable};
use iot_core::cose::{
    AlgId, Algorithm, ContentType, CoseEncrypt0, CoseKey, CoseMac0, CoseSign1, Ec2Y,
    Encrypt0Builder, HeaderMap, Headers, Mac0Builder, Sign1Builder, SymmetricKey, X5Chain, X5t,
    label,
};
use iot_core::crypto::{P256SigningKey, RustCrypto};
use p256::ecdsa::signature::{Signer as _, Verifier as _};
use proptest::prelude::*;

type Crypto = RustCrypto<getrandom::SysRng>;

fn crypto() -> Crypto {
    RustCrypto::from_os()
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// The header model both implementations are built from and checked against
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Bucket {
    Protected,
    Unprotected,
}
use Bucket::{Protected, Unprotected};

#[derive(Debug, Clone)]
enum Ct {
    Format(u16),
    Text(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum NonceKind {
    Iv,
    PartialIv,
}

/// One message's headers: every parameter optional and in either bucket, except `crit`,
/// which is protected and lists understood labels present in the protected bucket.
#[derive(Debug, Clone)]
struct Model {
    alg: i64,
    alg_bucket: Bucket,
    kid: Option<(Bucket, Vec<u8>)>,
    nonce: Option<(Bucket, NonceKind, Vec<u8>)>,
    content_type: Option<(Bucket, Ct)>,
    kid_context: Option<(Bucket, Vec<u8>)>,
    x5chain: Option<(Bucket, Vec<Vec<u8>>)>,
    x5t: Option<(Bucket, Vec<u8>)>,
    crit: Vec<i64>,
}

impl Model {
    fn certs(&self) -> Vec<&[u8]> {
        self.x5chain
            .as_ref()
            .map(|(_, c)| c.iter().map(Vec::as_slice).collect())
            .unwrap_or_default()
    }

    /// The labels set in bucket `b`, ascending.
    fn labels_in(&self, b: Bucket) -> Vec<i64> {
        let mut l = vec![];
        if self.alg_bucket == b {
            l.push(label::ALG);
        }
        if self.content_type.as_ref().is_some_and(|(x, _)| *x == b) {
            l.push(label::CONTENT_TYPE);
        }
        if self.kid.as_ref().is_some_and(|(x, _)| *x == b) {
            l.push(label::KID);
        }
        match &self.nonce {
            Some((x, NonceKind::Iv, _)) if *x == b => l.push(label::IV),
            Some((x, NonceKind::PartialIv, _)) if *x == b => l.push(label::PARTIAL_IV),
            _ => {}
        }
        if self.kid_context.as_ref().is_some_and(|(x, _)| *x == b) {
            l.push(label::KID_CONTEXT);
        }
        if self.x5chain.as_ref().is_some_and(|(x, _)| *x == b) {
            l.push(label::X5CHAIN);
        }
        if self.x5t.as_ref().is_some_and(|(x, _)| *x == b) {
            l.push(label::X5T);
        }
        l
    }
}

/// Content formats registered with IANA (coset refuses unregistered ones).
const FORMATS: [u16; 16] = [
    0, 16, 17, 18, 40, 42, 50, 60, 61, 96, 101, 110, 256, 432, 11050, 30000,
];

fn bucket() -> impl Strategy<Value = Bucket> {
    prop_oneof![Just(Protected), Just(Unprotected)]
}

fn bytes(len: core::ops::RangeInclusive<usize>) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), len)
}

fn content_type() -> impl Strategy<Value = Ct> {
    prop_oneof![
        prop::sample::select(&FORMATS[..]).prop_map(Ct::Format),
        "[a-z]{1,12}/[a-z0-9.+-]{1,16}".prop_map(Ct::Text),
    ]
}

/// Headers for a message with `alg`. `nonce` draws the IV or Partial IV (an Encrypt0 needs one
/// of the AEAD's nonce length; for Sign1 and Mac0 they are opaque and optional).
fn model(
    alg: i64,
    alg_bucket: impl Strategy<Value = Bucket>,
    nonce: impl Strategy<Value = Option<(Bucket, NonceKind, Vec<u8>)>>,
) -> impl Strategy<Value = Model> {
    (
        alg_bucket,
        prop::option::of((bucket(), bytes(1..=16))),
        nonce,
        prop::option::of((bucket(), content_type())),
        prop::option::of((bucket(), bytes(1..=16))),
        prop::option::of((bucket(), prop::collection::vec(bytes(1..=80), 1..=3))),
        prop::option::of((bucket(), bytes(32..=32))),
        any::<u8>(),
    )
        .prop_map(
            move |(alg_bucket, kid, nonce, content_type, kid_context, x5chain, x5t, crit_mask)| {
                let mut m = Model {
                    alg,
                    alg_bucket,
                    kid,
                    nonce,
                    content_type,
                    kid_context,
                    x5chain,
                    x5t,
                    crit: vec![],
                };
                // crit lists up to MAX_CRIT of the protected labels the mask selects.
                let protected = m.labels_in(Protected);
                m.crit = protected
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| crit_mask & (1 << i) != 0)
                    .map(|(_, l)| l)
                    .take(iot_core::cose::MAX_CRIT)
                    .collect();
                m
            },
        )
}

/// IV or Partial IV, either bucket, or none: for Sign1 and Mac0.
fn opaque_nonce() -> impl Strategy<Value = Option<(Bucket, NonceKind, Vec<u8>)>> {
    prop::option::of(prop_oneof![
        (bucket(), bytes(1..=16)).prop_map(|(b, v)| (b, NonceKind::Iv, v)),
        (bucket(), bytes(1..=8)).prop_map(|(b, v)| (b, NonceKind::PartialIv, v)),
    ])
}

/// An IV of the AEAD's nonce length, or a Partial IV (used with the key's Base IV).
fn aead_nonce(len: usize) -> impl Strategy<Value = Option<(Bucket, NonceKind, Vec<u8>)>> {
    prop_oneof![
        (bucket(), bytes(len..=len)).prop_map(|(b, v)| Some((b, NonceKind::Iv, v))),
        (bucket(), bytes(1..=6)).prop_map(|(b, v)| Some((b, NonceKind::PartialIv, v))),
    ]
}

fn pick<'m, 'a>(
    b: Bucket,
    p: &'m mut HeaderMap<'a>,
    u: &'m mut HeaderMap<'a>,
) -> &'m mut HeaderMap<'a> {
    match b {
        Protected => p,
        Unprotected => u,
    }
}

/// Our two buckets for `m`; `certs` holds the x5chain slices.
fn our_headers<'a>(m: &'a Model, certs: &'a [&'a [u8]]) -> (HeaderMap<'a>, HeaderMap<'a>) {
    let (mut p, mut u) = (HeaderMap::default(), HeaderMap::default());
    pick(m.alg_bucket, &mut p, &mut u).alg = Some(AlgId::Int(m.alg));
    for l in &m.crit {
        p.crit.push(*l).unwrap();
    }
    if let Some((b, ct)) = &m.content_type {
        pick(*b, &mut p, &mut u).content_type = Some(match ct {
            Ct::Format(f) => ContentType::Format(*f),
            Ct::Text(t) => ContentType::Text(t),
        });
    }
    if let Some((b, v)) = &m.kid {
        pick(*b, &mut p, &mut u).kid = Some(v);
    }
    match &m.nonce {
        Some((b, NonceKind::Iv, v)) => pick(*b, &mut p, &mut u).iv = Some(v),
        Some((b, NonceKind::PartialIv, v)) => pick(*b, &mut p, &mut u).partial_iv = Some(v),
        None => {}
    }
    if let Some((b, v)) = &m.kid_context {
        pick(*b, &mut p, &mut u).kid_context = Some(v);
    }
    if let Some((b, _)) = &m.x5chain {
        pick(*b, &mut p, &mut u).x5chain = Some(X5Chain::Certs(certs));
    }
    if let Some((b, v)) = &m.x5t {
        pick(*b, &mut p, &mut u).x5t = Some(X5t { alg: -16, hash: v });
    }
    (p, u)
}

fn at<'m>(b: Bucket, p: &'m mut coset::Header, u: &'m mut coset::Header) -> &'m mut coset::Header {
    match b {
        Protected => p,
        Unprotected => u,
    }
}

/// coset's two buckets for `m`, extra labels in ascending order as our encoder writes them.
fn coset_headers(m: &Model) -> (coset::Header, coset::Header) {
    let (mut p, mut u) = (coset::Header::default(), coset::Header::default());
    at(m.alg_bucket, &mut p, &mut u).alg = Some(coset::Algorithm::Assigned(
        iana::Algorithm::from_i64(m.alg).unwrap(),
    ));
    p.crit = m
        .crit
        .iter()
        .map(|l| {
            coset::RegisteredLabelWithPrivate::Assigned(
                iana::HeaderParameter::from_i64(*l).unwrap(),
            )
        })
        .collect();
    if let Some((b, ct)) = &m.content_type {
        at(*b, &mut p, &mut u).content_type = Some(match ct {
            Ct::Format(f) => coset::ContentType::Assigned(
                iana::CoapContentFormat::from_i64(i64::from(*f)).unwrap(),
            ),
            Ct::Text(t) => coset::ContentType::Text(t.clone()),
        });
    }
    if let Some((b, v)) = &m.kid {
        at(*b, &mut p, &mut u).key_id = v.clone();
    }
    match &m.nonce {
        Some((b, NonceKind::Iv, v)) => at(*b, &mut p, &mut u).iv = v.clone(),
        Some((b, NonceKind::PartialIv, v)) => at(*b, &mut p, &mut u).partial_iv = v.clone(),
        None => {}
    }
    if let Some((b, v)) = &m.kid_context {
        at(*b, &mut p, &mut u).rest.push((
            coset::Label::Int(label::KID_CONTEXT),
            Value::Bytes(v.clone()),
        ));
    }
    if let Some((b, certs)) = &m.x5chain {
        let value = match certs.as_slice() {
            [one] => Value::Bytes(one.clone()),
            many => Value::Array(many.iter().map(|c| Value::Bytes(c.clone())).collect()),
        };
        at(*b, &mut p, &mut u)
            .rest
            .push((coset::Label::Int(label::X5CHAIN), value));
    }
    if let Some((b, v)) = &m.x5t {
        let value = Value::Array(vec![Value::from(-16), Value::Bytes(v.clone())]);
        at(*b, &mut p, &mut u)
            .rest
            .push((coset::Label::Int(label::X5T), value));
    }
    (p, u)
}

fn in_bucket(f: &Option<(Bucket, Vec<u8>)>, b: Bucket) -> Option<&[u8]> {
    f.as_ref()
        .filter(|(x, _)| *x == b)
        .map(|(_, v)| v.as_slice())
}

/// Checks one of our decoded buckets against the model.
fn check_bucket(h: &HeaderMap<'_>, m: &Model, b: Bucket) -> Result<(), TestCaseError> {
    let mine = |x: Bucket| x == b;
    prop_assert_eq!(h.alg, mine(m.alg_bucket).then_some(AlgId::Int(m.alg)));
    let crit: &[i64] = if b == Protected { &m.crit } else { &[] };
    prop_assert_eq!(h.crit.as_slice(), crit);
    let ct = m.content_type.as_ref().filter(|(x, _)| mine(*x));
    match (h.content_type, ct) {
        (None, None) => {}
        (Some(ContentType::Format(f)), Some((_, Ct::Format(g)))) => prop_assert_eq!(f, *g),
        (Some(ContentType::Text(t)), Some((_, Ct::Text(u)))) => prop_assert_eq!(t, u.as_str()),
        (got, want) => prop_assert!(false, "content type {:?}, expected {:?}", got, want),
    }
    let field = |f| in_bucket(f, b);
    prop_assert_eq!(h.kid, field(&m.kid));
    prop_assert_eq!(h.kid_context, field(&m.kid_context));
    let nonce = |kind| {
        m.nonce
            .as_ref()
            .filter(|(x, k, _)| mine(*x) && *k == kind)
            .map(|(_, _, v)| v.as_slice())
    };
    prop_assert_eq!(h.iv, nonce(NonceKind::Iv));
    prop_assert_eq!(h.partial_iv, nonce(NonceKind::PartialIv));
    let certs: Option<Vec<&[u8]>> = h.x5chain.map(|c| c.certs().collect());
    let want: Option<Vec<&[u8]>> = m
        .x5chain
        .as_ref()
        .filter(|(x, _)| mine(*x))
        .map(|(_, c)| c.iter().map(Vec::as_slice).collect());
    prop_assert_eq!(certs, want);
    let x5t = field(&m.x5t).map(|hash| X5t { alg: -16, hash });
    prop_assert_eq!(h.x5t, x5t);
    Ok(())
}

fn check_headers(h: &Headers<'_>, m: &Model) -> Result<(), TestCaseError> {
    check_bucket(&h.protected, m, Protected)?;
    check_bucket(&h.unprotected, m, Unprotected)
}

/// coset's decoding of one side against what coset would build from the model.
fn check_coset(
    protected: &coset::ProtectedHeader,
    unprotected: &coset::Header,
    m: &Model,
    protected_raw: &[u8],
) -> Result<(), TestCaseError> {
    let (p, u) = coset_headers(m);
    prop_assert_eq!(&protected.header, &p);
    prop_assert_eq!(unprotected, &u);
    prop_assert_eq!(protected.original_data.as_deref(), Some(protected_raw));
    Ok(())
}

/// Decodes with coset, tagged or not, and checks that the other form is refused.
fn coset_decode<T: TaggedCborSerializable + CborSerializable + core::fmt::Debug>(
    bytes: &[u8],
    tagged: bool,
) -> T {
    if tagged {
        assert!(
            T::from_slice(bytes).is_err(),
            "tagged message decoded as untagged"
        );
        T::from_tagged_slice(bytes).unwrap()
    } else {
        assert!(
            T::from_tagged_slice(bytes).is_err(),
            "untagged message decoded as tagged"
        );
        T::from_slice(bytes).unwrap()
    }
}

fn coset_encode<T: TaggedCborSerializable + CborSerializable>(msg: T, tagged: bool) -> Vec<u8> {
    if tagged {
        msg.to_tagged_vec().unwrap()
    } else {
        msg.to_vec().unwrap()
    }
}

// ---------------------------------------------------------------------------------------------
// Independent crypto: p256, hmac, and the RustCrypto AEAD crates
// ---------------------------------------------------------------------------------------------

fn hmac256(k: &[u8], data: &[u8]) -> Vec<u8> {
    use hmac::{KeyInit as _, Mac as _};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(k).unwrap();
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

type Ccm16_64_128 = ccm::Ccm<aes::Aes128, ccm::consts::U8, ccm::consts::U13>;

fn seal_with<A: AeadInOut + KeyInit>(k: &[u8], nonce: &[u8], aad: &[u8], pt: &[u8]) -> Vec<u8> {
    let cipher = A::new_from_slice(k).unwrap();
    let nonce = aes_gcm::aead::Nonce::<A>::try_from(nonce).unwrap();
    let mut buf = pt.to_vec();
    let tag = cipher
        .encrypt_inout_detached(&nonce, aad, buf.as_mut_slice().into())
        .unwrap();
    buf.extend_from_slice(&tag);
    buf
}

fn open_with<A: AeadInOut + KeyInit>(
    k: &[u8],
    nonce: &[u8],
    aad: &[u8],
    ct: &[u8],
) -> Option<Vec<u8>> {
    let cipher = A::new_from_slice(k).unwrap();
    let nonce = aes_gcm::aead::Nonce::<A>::try_from(nonce).unwrap();
    let tag_len = aes_gcm::aead::Tag::<A>::default().len();
    let (body, tag) = ct.split_at(ct.len().checked_sub(tag_len)?);
    let tag = aes_gcm::aead::Tag::<A>::try_from(tag).ok()?;
    let mut buf = body.to_vec();
    cipher
        .decrypt_inout_detached(&nonce, aad, buf.as_mut_slice().into(), &tag)
        .ok()?;
    Some(buf)
}

fn seal(alg: Algorithm, k: &[u8], nonce: &[u8], aad: &[u8], pt: &[u8]) -> Vec<u8> {
    match alg {
        Algorithm::AesCcm16_64_128 => seal_with::<Ccm16_64_128>(k, nonce, aad, pt),
        Algorithm::A128Gcm => seal_with::<aes_gcm::Aes128Gcm>(k, nonce, aad, pt),
        Algorithm::ChaCha20Poly1305 => {
            seal_with::<chacha20poly1305::ChaCha20Poly1305>(k, nonce, aad, pt)
        }
        other => panic!("not an AEAD: {other:?}"),
    }
}

fn open(alg: Algorithm, k: &[u8], nonce: &[u8], aad: &[u8], ct: &[u8]) -> Option<Vec<u8>> {
    match alg {
        Algorithm::AesCcm16_64_128 => open_with::<Ccm16_64_128>(k, nonce, aad, ct),
        Algorithm::A128Gcm => open_with::<aes_gcm::Aes128Gcm>(k, nonce, aad, ct),
        Algorithm::ChaCha20Poly1305 => {
            open_with::<chacha20poly1305::ChaCha20Poly1305>(k, nonce, aad, ct)
        }
        other => panic!("not an AEAD: {other:?}"),
    }
}

/// The AEAD nonce the model's IV or Partial IV gives with `base_iv` (RFC 9052 section 3.1).
fn model_nonce(m: &Model, base_iv: &[u8]) -> Vec<u8> {
    match &m.nonce {
        Some((_, NonceKind::Iv, iv)) => iv.clone(),
        Some((_, NonceKind::PartialIv, piv)) => {
            let mut n = base_iv.to_vec();
            let off = n.len() - piv.len();
            for (a, b) in n[off..].iter_mut().zip(piv) {
                *a ^= b;
            }
            n
        }
        None => panic!("an Encrypt0 model always has a nonce"),
    }
}

fn coset_alg(alg: Algorithm) -> iana::Algorithm {
    iana::Algorithm::from_i64(alg.id()).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

fn sign1_model() -> impl Strategy<Value = Model> {
    prop_oneof![Just(Algorithm::Es256), Just(Algorithm::Esp256)]
        .prop_flat_map(|alg| model(alg.id(), Just(Protected), opaque_nonce()))
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn sign1_both_ways(
        m in sign1_model(),
        payload in bytes(0..=200),
        aad in bytes(0..=16),
        tagged: bool,
        detached: bool,
        d: [u8; 32],
    ) {
        let ours = P256SigningKey::from_bytes(&d);
        prop_assume!(ours.is_ok());
        let mut our_signer = ours.unwrap();
        let their_signer = p256::ecdsa::SigningKey::from_slice(&d).unwrap();

        // Ours -> coset.
        let certs = m.certs();
        let (protected, unprotected) = our_headers(&m, &certs);
        let builder = Sign1Builder { protected, unprotected, tagged, detached };
        let mut buf = vec![0u8; 2048];
        let n = builder.sign(&mut crypto(), &mut our_signer, &payload, &aad, &mut buf).unwrap();
        let ours_bytes = &buf[..n];
        let our_view = CoseSign1::decode(ours_bytes).unwrap();
        check_headers(&our_view.headers, &m)?;
        let theirs: coset::CoseSign1 = coset_decode(ours_bytes, tagged);
        check_coset(&theirs.protected, &theirs.unprotected, &m, our_view.headers.protected_raw)?;
        prop_assert_eq!(theirs.payload.as_deref(), (!detached).then_some(&payload[..]));
        let tbs = if detached {
            theirs.tbs_detached_data(&payload, &aad)
        } else {
            theirs.tbs_data(&aad)
        };
        let sig = p256::ecdsa::Signature::from_slice(&theirs.signature).unwrap();
        prop_assert!(their_signer.verifying_key().verify(&tbs, &sig).is_ok());

        // Coset -> ours.
        let (cp, cu) = coset_headers(&m);
        let builder = coset::CoseSign1Builder::new().protected(cp).unprotected(cu);
        let sign = |tbs: &[u8]| {
            let s: p256::ecdsa::Signature = their_signer.sign(tbs);
            s.to_bytes().to_vec()
        };
        let msg = if detached {
            builder.create_detached_signature(&payload, &aad, sign).build()
        } else {
            builder.payload(payload.clone()).create_signature(&aad, sign).build()
        };
        let coset_bytes = coset_encode(msg, tagged);
        let decoded = CoseSign1::decode(&coset_bytes).unwrap();
        check_headers(&decoded.headers, &m)?;
        prop_assert_eq!(decoded.tagged, tagged);
        prop_assert_eq!(decoded.payload, (!detached).then_some(&payload[..]));
        let mut vk = our_signer.verifying_key();
        if detached {
            decoded.verify_detached(&mut crypto(), &mut vk, &payload, &aad).unwrap();
        } else {
            decoded.verify(&mut crypto(), &mut vk, &aad).unwrap();
        }
        // Same headers in the same order, deterministic ECDSA: the same bytes.
        prop_assert_eq!(&coset_bytes[..], ours_bytes);
    }

    #[test]
    fn mac0_both_ways(
        m in model(Algorithm::Hmac256.id(), Just(Protected), opaque_nonce()),
        payload in bytes(0..=200),
        aad in bytes(0..=16),
        tagged: bool,
        detached: bool,
        k in bytes(16..=64),
        restricted: bool,
    ) {
        let key = SymmetricKey {
            alg: restricted.then_some(Algorithm::Hmac256),
            ..SymmetricKey::new(&k)
        };

        // Ours -> coset.
        let certs = m.certs();
        let (protected, unprotected) = our_headers(&m, &certs);
        let builder = Mac0Builder { protected, unprotected, tagged, detached };
        let mut buf = vec![0u8; 2048];
        let n = builder.mac(&mut crypto(), &key, &payload, &aad, &mut buf).unwrap();
        let ours_bytes = &buf[..n];
        let our_view = CoseMac0::decode(ours_bytes).unwrap();
        check_headers(&our_view.headers, &m)?;
        let theirs: coset::CoseMac0 = coset_decode(ours_bytes, tagged);
        check_coset(&theirs.protected, &theirs.unprotected, &m, our_view.headers.protected_raw)?;
        prop_assert_eq!(theirs.payload.as_deref(), (!detached).then_some(&payload[..]));
        let tbm = coset::mac_structure_data(
            coset::MacContext::CoseMac0,
            theirs.protected.clone(),
            &aad,
            &payload,
        );
        prop_assert_eq!(&theirs.tag, &hmac256(&k, &tbm));

        // Coset -> ours.
        let (cp, cu) = coset_headers(&m);
        let mut msg = coset::CoseMac0Builder::new()
            .protected(cp)
            .unprotected(cu)
            .payload(payload.clone())
            .create_tag(&aad, |tbm| hmac256(&k, tbm))
            .build();
        if detached {
            msg.payload = None;
        }
        let coset_bytes = coset_encode(msg, tagged);
        let decoded = CoseMac0::decode(&coset_bytes).unwrap();
        check_headers(&decoded.headers, &m)?;
        prop_assert_eq!(decoded.tagged, tagged);
        prop_assert_eq!(decoded.payload, (!detached).then_some(&payload[..]));
        if detached {
            decoded.verify_detached(&mut crypto(), &key, &payload, &aad).unwrap();
        } else {
            decoded.verify(&mut crypto(), &key, &aad).unwrap();
        }
        prop_assert_eq!(&coset_bytes[..], ours_bytes);
    }
}

fn encrypt0_model() -> impl Strategy<Value = (Algorithm, Model)> {
    prop_oneof![
        Just(Algorithm::AesCcm16_64_128),
        Just(Algorithm::A128Gcm),
        Just(Algorithm::ChaCha20Poly1305),
    ]
    .prop_flat_map(|alg| {
        let nonce_len = alg.aead().unwrap().nonce_len();
        (Just(alg), model(alg.id(), bucket(), aead_nonce(nonce_len)))
    })
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn encrypt0_both_ways(
        (alg, m) in encrypt0_model(),
        plaintext in bytes(0..=200),
        aad in bytes(0..=16),
        tagged: bool,
        detached: bool,
        key_bytes: [u8; 32],
        base_iv_bytes: [u8; 13],
        restricted: bool,
    ) {
        let aead = alg.aead().unwrap();
        let k = &key_bytes[..aead.key_len()];
        let base_iv = &base_iv_bytes[..aead.nonce_len()];
        let uses_base_iv = matches!(m.nonce, Some((_, NonceKind::PartialIv, _)));
        let key = SymmetricKey {
            kid: None,
            alg: restricted.then_some(alg),
            k,
            base_iv: uses_base_iv.then_some(base_iv),
        };
        let nonce = model_nonce(&m, base_iv);

        // Ours -> coset (our builder always attaches the ciphertext).
        let certs = m.certs();
        let (protected, unprotected) = our_headers(&m, &certs);
        let builder = Encrypt0Builder { protected, unprotected, tagged };
        let mut buf = vec![0u8; 2048];
        let n = builder.encrypt(&mut crypto(), &key, &plaintext, &aad, &mut buf).unwrap();
        let ours_bytes = &buf[..n];
        let our_view = CoseEncrypt0::decode(ours_bytes).unwrap();
        check_headers(&our_view.headers, &m)?;
        let theirs: coset::CoseEncrypt0 = coset_decode(ours_bytes, tagged);
        check_coset(&theirs.protected, &theirs.unprotected, &m, our_view.headers.protected_raw)?;
        let opened = theirs
            .decrypt_ciphertext(&aad, || (), |ct, enc| open(alg, k, &nonce, enc, ct).ok_or(()))
            .unwrap();
        prop_assert_eq!(&opened, &plaintext);

        // Coset -> ours, attached or detached.
        let (cp, cu) = coset_headers(&m);
        let mut msg = coset::CoseEncrypt0Builder::new()
            .protected(cp)
            .unprotected(cu)
            .create_ciphertext(&plaintext, &aad, |pt, enc| seal(alg, k, &nonce, enc, pt))
            .build();
        let detached_ct = if detached { msg.ciphertext.take() } else { None };
        let coset_bytes = coset_encode(msg, tagged);
        let decoded = CoseEncrypt0::decode(&coset_bytes).unwrap();
        check_headers(&decoded.headers, &m)?;
        prop_assert_eq!(decoded.tagged, tagged);
        let mut out = vec![0u8; plaintext.len()];
        let len = match &detached_ct {
            Some(ct) => {
                prop_assert_eq!(decoded.ciphertext, None);
                decoded.decrypt_detached(&mut crypto(), &key, ct, &aad, &mut out).unwrap()
            }
            None => decoded.decrypt(&mut crypto(), &key, &aad, &mut out).unwrap(),
        };
        prop_assert_eq!(&out[..len], &plaintext[..]);
        if !detached {
            prop_assert_eq!(&coset_bytes[..], ours_bytes);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// COSE_Key
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn ec2_key_both_ways(
        d: [u8; 32],
        kid in prop::option::of(bytes(1..=16)),
        alg in prop::option::of(prop_oneof![Just(Algorithm::Es256), Just(Algorithm::Esp256)]),
        private: bool,
        compressed: bool,
    ) {
        let sk = p256::ecdsa::SigningKey::from_slice(&d);
        prop_assume!(sk.is_ok());
        let sk = sk.unwrap();
        let point = sk.verifying_key().to_sec1_point(false);
        let (x, y) = point.as_bytes()[1..].split_at(32);
        let y_sign = sk.verifying_key().to_sec1_point(true).as_bytes()[0] == 0x03;
        let ours = CoseKey::Ec2 {
            kid: kid.as_deref(),
            alg,
            x,
            y: if compressed { Ec2Y::Sign(y_sign) } else { Ec2Y::Coordinate(y) },
            d: private.then_some(&d[..]),
        };
        let mut builder = if compressed {
            coset::CoseKeyBuilder::new_ec2_pub_key_y_sign(iana::EllipticCurve::P_256, x.to_vec(), y_sign)
        } else {
            coset::CoseKeyBuilder::new_ec2_pub_key(iana::EllipticCurve::P_256, x.to_vec(), y.to_vec())
        };
        if private {
            builder = builder.param(iana::Ec2KeyParameter::D.to_i64(), Value::Bytes(d.to_vec()));
        }
        if let Some(kid) = &kid {
            builder = builder.key_id(kid.clone());
        }
        if let Some(alg) = alg {
            builder = builder.algorithm(coset_alg(alg));
        }
        let expected = builder.build();

        // Ours -> coset, and the same bytes as coset's own encoding.
        let mut buf = [0u8; 256];
        let n = ours.encode_to(&mut buf).unwrap();
        let theirs = coset::CoseKey::from_slice(&buf[..n]).unwrap();
        prop_assert_eq!(&theirs, &expected);
        let coset_bytes = expected.to_vec().unwrap();
        prop_assert_eq!(&coset_bytes[..], &buf[..n]);

        // Coset -> ours, and the keys work.
        let back = CoseKey::decode(&coset_bytes).unwrap();
        prop_assert_eq!(back, ours);
        let vk = back.verifying_key().unwrap();
        prop_assert_eq!(&vk.to_sec1_uncompressed()[..], point.as_bytes());
        if private {
            prop_assert_eq!(&back.signing_key().unwrap().to_bytes()[..], &d[..]);
        } else {
            prop_assert_eq!(back.signing_key().err(), Some(iot_core::Error::InvalidKey));
        }
    }

    #[test]
    fn symmetric_key_both_ways(
        k in bytes(1..=64),
        kid in prop::option::of(bytes(1..=16)),
        alg in prop::option::of(prop::sample::select(vec![
            Algorithm::Hmac256,
            Algorithm::AesCcm16_64_128,
            Algorithm::ChaCha20Poly1305,
            Algorithm::A128Gcm,
        ])),
        base_iv in prop::option::of(bytes(1..=13)),
        key_op: bool,
    ) {
        let ours = CoseKey::Symmetric(SymmetricKey {
            kid: kid.as_deref(),
            alg,
            k: &k,
            base_iv: base_iv.as_deref(),
        });
        let mut builder = coset::CoseKeyBuilder::new_symmetric_key(k.clone());
        if let Some(kid) = &kid {
            builder = builder.key_id(kid.clone());
        }
        if let Some(alg) = alg {
            builder = builder.algorithm(coset_alg(alg));
        }
        if let Some(iv) = &base_iv {
            builder = builder.base_iv(iv.clone());
        }
        let expected = builder.build();

        let mut buf = [0u8; 256];
        let n = ours.encode_to(&mut buf).unwrap();
        prop_assert_eq!(coset::CoseKey::from_slice(&buf[..n]).unwrap(), expected.clone());
        let coset_bytes = expected.clone().to_vec().unwrap();
        prop_assert_eq!(&coset_bytes[..], &buf[..n]);
        prop_assert_eq!(CoseKey::decode(&coset_bytes).unwrap(), ours);

        // A parameter we do not model (key_ops, label 4) is skipped.
        if key_op {
            let mut with_ops = expected;
            with_ops.key_ops.insert(coset::KeyOperation::Assigned(iana::KeyOperation::Encrypt));
            let bytes = with_ops.to_vec().unwrap();
            prop_assert_eq!(CoseKey::decode(&bytes).unwrap(), ours);
        }
    }
}
