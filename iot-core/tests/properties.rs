//! Properties of the decoders and builders (issue 2, "Bad input" and the COSE items):
//!
//! - no input panics a decoder: arbitrary bytes, CBOR-shaped messages with random headers, and
//!   valid messages with random edits; whatever decodes, verifies or decrypts to an error;
//! - every proper prefix of a valid message or key is rejected as `Truncated`;
//! - a single bit flipped anywhere in a valid Sign1, Mac0 or Encrypt0 (whose unprotected bucket holds
//!   only what the crypto covers) is rejected, by the decoder or by verification;
//! - decode(encode(x)) == x for our builders, header maps and COSE_Keys.

// .clippy.toml lets #[test] functions unwrap, panic and index; the helpers below are test code too.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use iot_core::cbor::{Limits, Reader};
use iot_core::cose::*;
use iot_core::crypto::{P256SigningKey, P256VerifyingKey, RustCrypto};
use iot_core::{CborError, Error};
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

const SIGNING_KEY: [u8; 32] = [7; 32];
const HMAC_KEY: [u8; 32] = [0x11; 32];
const AEAD_KEY: [u8; 32] = [0x22; 32];
const BASE_IV: [u8; 13] = [0x33; 13];
const AEADS: [Algorithm; 3] = [
    Algorithm::AesCcm16_64_128,
    Algorithm::A128Gcm,
    Algorithm::ChaCha20Poly1305,
];

fn signer() -> P256SigningKey {
    P256SigningKey::from_bytes(&SIGNING_KEY).unwrap()
}

fn verifier() -> P256VerifyingKey {
    signer().verifying_key()
}

fn aead_key(alg: Algorithm) -> SymmetricKey<'static> {
    let aead = alg.aead().unwrap();
    SymmetricKey {
        base_iv: Some(&BASE_IV[..aead.nonce_len()]),
        ..SymmetricKey::new(&AEAD_KEY[..aead.key_len()])
    }
}

fn bytes(len: core::ops::RangeInclusive<usize>) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), len)
}

// ---------------------------------------------------------------------------------------------
// Exercising every decoder on one input
// ---------------------------------------------------------------------------------------------

const READER_LIMITS: [Limits; 4] = [
    Limits {
        max_depth: 8,
        allow_indefinite: false,
        require_preferred: false,
    },
    Limits {
        max_depth: 8,
        allow_indefinite: true,
        require_preferred: false,
    },
    Limits {
        max_depth: 64,
        allow_indefinite: true,
        require_preferred: true,
    },
    Limits {
        max_depth: 0,
        allow_indefinite: false,
        require_preferred: true,
    },
];

/// The modelled fields of a header map, owned, for comparisons.
#[derive(Debug, Clone, PartialEq, Default)]
struct Fields {
    alg: Option<i64>,
    crit: Vec<i64>,
    content_type: Option<Result<u16, String>>,
    kid: Option<Vec<u8>>,
    iv: Option<Vec<u8>>,
    partial_iv: Option<Vec<u8>>,
    kid_context: Option<Vec<u8>>,
    x5chain: Option<Vec<Vec<u8>>>,
    x5t: Option<(i64, Vec<u8>)>,
}

fn fields(h: &HeaderMap<'_>) -> Fields {
    Fields {
        alg: h.alg.map(|a| match a {
            AlgId::Int(i) => i,
            AlgId::Text(_) => i64::MIN,
        }),
        crit: h.crit.to_vec(),
        content_type: h.content_type.map(|c| match c {
            ContentType::Format(f) => Ok(f),
            ContentType::Text(t) => Err(t.to_owned()),
        }),
        kid: h.kid.map(<[u8]>::to_vec),
        iv: h.iv.map(<[u8]>::to_vec),
        partial_iv: h.partial_iv.map(<[u8]>::to_vec),
        kid_context: h.kid_context.map(<[u8]>::to_vec),
        x5chain: h.x5chain.map(|c| c.certs().map(<[u8]>::to_vec).collect()),
        x5t: h.x5t.map(|t| (t.alg, t.hash.to_vec())),
    }
}

/// Walks everything a decoded header map offers, and checks that re-encoding it keeps its fields.
fn touch_map(h: &HeaderMap<'_>, protected: bool) -> Result<(), TestCaseError> {
    let before = fields(h);
    let _ = h.get_raw(99);
    let _ = h.alg.map(AlgId::algorithm);
    let mut buf = vec![0u8; 4096];
    let n = h.encode_to(&mut buf).unwrap();
    prop_assert_eq!(n, h.encoded_len());
    let mut r = Reader::new(&buf[..n]);
    let again = HeaderMap::decode(&mut r, protected).unwrap();
    r.finish().unwrap();
    prop_assert_eq!(fields(&again), before);
    Ok(())
}

fn touch_headers(h: &Headers<'_>) -> Result<(), TestCaseError> {
    let _ = (h.alg(), h.kid(), h.iv(), h.partial_iv());
    touch_map(&h.protected, true)?;
    touch_map(&h.unprotected, false)
}

/// The parts of a Sign1, Mac0 or Encrypt0 that its signature, tag or AEAD covers: the protected
/// bucket's bytes, the payload or ciphertext, and the signature or tag.
type Covered = (Vec<u8>, Option<Vec<u8>>, Vec<u8>);

fn covered(input: &[u8]) -> Option<Covered> {
    let own = |p: &[u8], body: Option<&[u8]>, tag: &[u8]| {
        (p.to_vec(), body.map(<[u8]>::to_vec), tag.to_vec())
    };
    if let Ok(m) = CoseSign1::decode(input) {
        return Some(own(m.headers.protected_raw, m.payload, m.signature));
    }
    if let Ok(m) = CoseMac0::decode(input) {
        return Some(own(m.headers.protected_raw, m.payload, m.tag));
    }
    CoseEncrypt0::decode(input)
        .ok()
        .map(|m| own(m.headers.protected_raw, m.ciphertext, &[]))
}

/// Runs every decoder over `input`; what decodes is walked, re-encoded where we can, and must not
/// verify or decrypt under our keys unless it is an edit of `original` that left every covered
/// part as it was (the unprotected bucket is not authenticated: RFC 9052 section 3). Returns how
/// many decoders accepted the input.
fn exercise(input: &[u8], original: Option<&[u8]>) -> Result<usize, TestCaseError> {
    let mut accepted = 0;
    let mut c = crypto();
    let forged =
        |ok: bool| ok && (original.is_none() || covered(input) != original.and_then(covered));
    for limits in READER_LIMITS {
        let mut r = Reader::with_limits(input, limits);
        if r.skip().is_ok() {
            let _ = r.finish();
        }
        let mut r = Reader::with_limits(input, limits);
        let _ = (r.datatype(), r.opt_tag(), r.array(), r.bytes_or_null());
        let _ = CoseSign1::decode_with(input, limits);
        let _ = CoseMac0::decode_with(input, limits);
        let _ = CoseEncrypt0::decode_with(input, limits);
    }
    if let Ok(m) = CoseSign1::decode(input) {
        accepted += 1;
        touch_headers(&m.headers)?;
        let _ = m.alg();
        let mut sink = Vec::new();
        let _ = m.write_to_be_signed(Some(b"p"), b"", &mut sink);
        prop_assert!(!forged(m.verify(&mut c, &mut verifier(), b"").is_ok()));
        prop_assert!(!forged(
            m.verify_detached(&mut c, &mut verifier(), b"p", b"")
                .is_ok()
        ));
    }
    if let Ok(m) = CoseMac0::decode(input) {
        accepted += 1;
        touch_headers(&m.headers)?;
        let mut sink = Vec::new();
        let _ = m.write_to_be_maced(Some(b"p"), b"", &mut sink);
        let key = SymmetricKey::new(&HMAC_KEY);
        prop_assert!(!forged(m.verify(&mut c, &key, b"").is_ok()));
        prop_assert!(!forged(m.verify_detached(&mut c, &key, b"p", b"").is_ok()));
    }
    if let Ok(m) = CoseEncrypt0::decode(input) {
        accepted += 1;
        touch_headers(&m.headers)?;
        let _ = m.enc_structure(b"aad");
        let mut out = vec![0u8; input.len()];
        for alg in AEADS {
            let key = aead_key(alg);
            prop_assert!(!forged(m.decrypt(&mut c, &key, b"", &mut out).is_ok()));
            prop_assert!(!forged(
                m.decrypt_detached(&mut c, &key, input, b"", &mut out)
                    .is_ok()
            ));
        }
    }
    if let Ok(k) = CoseKey::decode(input) {
        accepted += 1;
        let _ = (
            k.kid(),
            k.alg(),
            k.verifying_key(),
            k.signing_key(),
            k.symmetric(),
        );
        let mut buf = [0u8; 1024];
        let n = k.encode_to(&mut buf).unwrap();
        prop_assert_eq!(CoseKey::decode(&buf[..n]), Ok(k));
    }
    for protected in [true, false] {
        let mut r = Reader::new(input);
        if let Ok(h) = HeaderMap::decode(&mut r, protected) {
            touch_map(&h, protected)?;
        }
    }
    Ok(accepted)
}

// ---------------------------------------------------------------------------------------------
// CBOR-shaped input: random data items, and message arrays of random headers
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Item {
    Uint(u64),
    Nint(u64),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<Item>),
    Map(Vec<(Item, Item)>),
    Tag(u64, Box<Item>),
    Simple(u8),
    /// An indefinite-length array.
    Indefinite(Vec<Item>),
    /// Raw bytes, possibly not CBOR at all.
    Raw(Vec<u8>),
}

fn head(out: &mut Vec<u8>, major: u8, n: u64) {
    let mt = major << 5;
    match n {
        0..=23 => out.push(mt | n as u8),
        24..=0xff => out.extend([mt | 24, n as u8]),
        0x100..=0xffff => {
            out.push(mt | 25);
            out.extend((n as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(mt | 26);
            out.extend((n as u32).to_be_bytes());
        }
        _ => {
            out.push(mt | 27);
            out.extend(n.to_be_bytes());
        }
    }
}

impl Item {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Item::Uint(n) => head(out, 0, *n),
            Item::Nint(n) => head(out, 1, *n),
            Item::Bytes(b) => {
                head(out, 2, b.len() as u64);
                out.extend(b);
            }
            Item::Text(t) => {
                head(out, 3, t.len() as u64);
                out.extend(t.as_bytes());
            }
            Item::Array(items) => {
                head(out, 4, items.len() as u64);
                items.iter().for_each(|i| i.encode(out));
            }
            Item::Map(pairs) => {
                head(out, 5, pairs.len() as u64);
                for (k, v) in pairs {
                    k.encode(out);
                    v.encode(out);
                }
            }
            Item::Tag(t, item) => {
                head(out, 6, *t);
                item.encode(out);
            }
            Item::Simple(s) => head(out, 7, u64::from(*s)),
            Item::Indefinite(items) => {
                out.push(0x9f);
                items.iter().for_each(|i| i.encode(out));
                out.push(0xff);
            }
            Item::Raw(b) => out.extend(b),
        }
    }

    fn to_vec(&self) -> Vec<u8> {
        let mut out = vec![];
        self.encode(&mut out);
        out
    }
}

/// Labels COSE uses, and a few it does not.
fn label() -> impl Strategy<Value = Item> {
    prop_oneof![
        8 => prop::sample::select(vec![1u64, 2, 3, 4, 5, 6, 10, 33, 34]).prop_map(Item::Uint),
        2 => (0u64..64).prop_map(Item::Uint),
        2 => (0u64..8).prop_map(Item::Nint),
        1 => "[a-z]{0,3}".prop_map(Item::Text),
        1 => any::<u64>().prop_map(Item::Uint),
        1 => bytes(0..=2).prop_map(Item::Bytes),
    ]
}

fn item() -> impl Strategy<Value = Item> {
    let leaf = prop_oneof![
        4 => (0u64..40).prop_map(Item::Uint),
        1 => any::<u64>().prop_map(Item::Uint),
        2 => (0u64..40).prop_map(Item::Nint),
        1 => any::<u64>().prop_map(Item::Nint),
        4 => bytes(0..=16).prop_map(Item::Bytes),
        2 => "[a-z/+.]{0,12}".prop_map(Item::Text),
        1 => prop::sample::select(vec![20u8, 21, 22, 23, 31, 24]).prop_map(Item::Simple),
        1 => bytes(0..=3).prop_map(Item::Raw),
    ];
    leaf.prop_recursive(6, 48, 5, |inner| {
        prop_oneof![
            3 => prop::collection::vec(inner.clone(), 0..5).prop_map(Item::Array),
            3 => prop::collection::vec((label(), inner.clone()), 0..5).prop_map(Item::Map),
            1 => (prop::sample::select(vec![16u64, 17, 18, 24, 55799, 1]), inner.clone())
                .prop_map(|(t, i)| Item::Tag(t, Box::new(i))),
            1 => prop::collection::vec(inner, 0..3).prop_map(Item::Indefinite),
        ]
    })
}

/// A header parameter: mostly a label COSE defines with a value of the right type, sometimes
/// an unknown label or a value of any type.
fn header_entry() -> impl Strategy<Value = (Item, Item)> {
    let ints = |v: Vec<i64>| {
        prop::sample::select(v).prop_map(|i| {
            if i < 0 {
                Item::Nint((-1 - i) as u64)
            } else {
                Item::Uint(i as u64)
            }
        })
    };
    let bstr = |r| bytes(r).prop_map(Item::Bytes);
    let typed = prop_oneof![
        (Just(1u64), ints(vec![-7, -9, 5, 10, 1, 24, -8, -65534])),
        (Just(1), "[A-Z0-9]{1,6}".prop_map(Item::Text)),
        (
            Just(2),
            prop::collection::vec(ints(vec![1, 3, 4, 5, 6, 10, 33, 34, 7, 99]), 1..4)
                .prop_map(Item::Array)
        ),
        (Just(3), (0u64..70000).prop_map(Item::Uint)),
        (Just(3), "[a-z]{1,6}/[a-z]{1,6}".prop_map(Item::Text)),
        (Just(4), bstr(0..=8)),
        (Just(5), bstr(12..=13)),
        (Just(6), bstr(0..=6)),
        (Just(10), bstr(0..=8)),
        (Just(33), bstr(1..=24)),
        (
            Just(33),
            prop::collection::vec(bstr(1..=16), 0..4).prop_map(Item::Array)
        ),
        (
            Just(34),
            (ints(vec![-16, -43]), bstr(32..=32)).prop_map(|(a, h)| Item::Array(vec![a, h]))
        ),
    ]
    .prop_map(|(l, v)| (Item::Uint(l), v));
    prop_oneof![
        8 => typed,
        1 => (label(), item()),
        1 => ((64u64..1000).prop_map(Item::Uint), item()),
    ]
}

/// A header map of such parameters; labels are made unique, except now and then.
fn header_map() -> impl Strategy<Value = Item> {
    (
        prop::collection::vec(header_entry(), 0..6),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(mut pairs, keep_duplicates)| {
            if !keep_duplicates {
                let mut seen = vec![];
                pairs.retain(|(k, _)| {
                    let key = k.to_vec();
                    let fresh = !seen.contains(&key);
                    seen.push(key);
                    fresh
                });
            }
            Item::Map(pairs)
        })
}

/// `tag? [bstr(header map), header map, item, item?]` with random contents.
fn cbor_message() -> impl Strategy<Value = Vec<u8>> {
    let body = prop_oneof![
        6 => bytes(0..=40).prop_map(Item::Bytes),
        2 => bytes(64..=64).prop_map(Item::Bytes),
        1 => Just(Item::Simple(22)),
        1 => item(),
    ];
    (
        prop::option::of(prop::sample::select(vec![16u64, 17, 18, 98])),
        3u64..=4,
        header_map(),
        header_map(),
        body.clone(),
        body,
        prop::bool::weighted(0.05),
    )
        .prop_map(
            |(tag, len, protected, unprotected, a, b, empty_protected)| {
                let mut out = vec![];
                if let Some(t) = tag {
                    head(&mut out, 6, t);
                }
                head(&mut out, 4, len);
                let protected = if empty_protected {
                    vec![]
                } else {
                    protected.to_vec()
                };
                Item::Bytes(protected).encode(&mut out);
                unprotected.encode(&mut out);
                a.encode(&mut out);
                if len == 4 {
                    b.encode(&mut out);
                }
                out
            },
        )
}

/// A COSE_Key-shaped map: mostly well-typed EC2 or Symmetric parameters, sometimes anything.
fn cbor_key() -> impl Strategy<Value = Vec<u8>> {
    let n = |i: u64| Item::Nint(i);
    let ec2 = (
        bytes(32..=32),
        prop_oneof![
            bytes(32..=32).prop_map(Item::Bytes),
            any::<bool>().prop_map(|b| Item::Simple(if b { 21 } else { 20 })),
        ],
        prop::option::of(bytes(32..=32)),
        prop_oneof![Just(1u64), 0u64..4],
    )
        .prop_map(move |(x, y, d, crv)| {
            let mut p = vec![
                (Item::Uint(1), Item::Uint(2)),
                (n(0), Item::Uint(crv)),
                (n(1), Item::Bytes(x)),
                (n(2), y),
            ];
            if let Some(d) = d {
                p.push((n(3), Item::Bytes(d)));
            }
            p
        });
    let symmetric = (bytes(0..=40), prop::option::of(bytes(0..=13))).prop_map(move |(k, iv)| {
        let mut p = vec![(Item::Uint(1), Item::Uint(4)), (n(0), Item::Bytes(k))];
        if let Some(iv) = iv {
            p.push((Item::Uint(5), Item::Bytes(iv)));
        }
        p
    });
    let extra = prop_oneof![
        (Just(Item::Uint(2)), bytes(0..=8).prop_map(Item::Bytes)),
        (
            Just(Item::Uint(3)),
            prop::sample::select(vec![7u64, 8, 4, 9, 0]).prop_map(Item::Nint)
        ),
        (
            Just(Item::Uint(3)),
            prop::sample::select(vec![5u64, 10, 1, 24]).prop_map(Item::Uint)
        ),
        (label(), item()),
    ];
    (
        prop_oneof![ec2, symmetric],
        prop::collection::vec(extra, 0..3),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(mut pairs, extra, at)| {
            for e in extra {
                pairs.insert(at.index(pairs.len() + 1), e);
            }
            Item::Map(pairs).to_vec()
        })
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn arbitrary_bytes_never_panic(input in bytes(0..=300)) {
        exercise(&input, None)?;
    }

    #[test]
    fn cbor_items_never_panic(item in item()) {
        exercise(&item.to_vec(), None)?;
    }

    #[test]
    fn cbor_messages_never_panic(input in cbor_message()) {
        exercise(&input, None)?;
    }

    #[test]
    fn cbor_keys_never_panic(input in cbor_key()) {
        exercise(&input, None)?;
    }
}

// ---------------------------------------------------------------------------------------------
// Valid messages from our builders
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Sign1,
    Mac0,
    Encrypt0(Algorithm),
}

/// The owned contents of one header bucket.
#[derive(Debug, Clone, Default)]
struct Bucket {
    kid: Option<Vec<u8>>,
    content_type: Option<Result<u16, String>>,
    kid_context: Option<Vec<u8>>,
    x5chain: Option<Vec<Vec<u8>>>,
    x5t: Option<Vec<u8>>,
    crit_kid: bool,
}

#[derive(Debug, Clone)]
struct Spec {
    kind: Kind,
    protected: Bucket,
    unprotected: Bucket,
    /// IV (`false`: Partial IV with the key's Base IV) and whether it is protected; Encrypt0 only.
    iv: (bool, bool),
    nonce: Vec<u8>,
    tagged: bool,
    detached: bool,
    payload: Vec<u8>,
    aad: Vec<u8>,
}

fn bucket_strategy() -> impl Strategy<Value = Bucket> {
    (
        prop::option::of(bytes(1..=8)),
        prop::option::of(prop_oneof![
            any::<u16>().prop_map(Ok),
            "[a-z]{1,8}/[a-z]{1,8}".prop_map(Err),
        ]),
        prop::option::of(bytes(0..=8)),
        prop::option::of(prop::collection::vec(bytes(1..=40), 1..=3)),
        prop::option::of(bytes(32..=32)),
        any::<bool>(),
    )
        .prop_map(
            |(kid, content_type, kid_context, x5chain, x5t, crit_kid)| Bucket {
                kid,
                content_type,
                kid_context,
                x5chain,
                x5t,
                crit_kid,
            },
        )
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::Sign1),
        Just(Kind::Mac0),
        prop::sample::select(AEADS.to_vec()).prop_map(Kind::Encrypt0),
    ]
}

/// A message spec; with `authenticated_only`, the unprotected bucket holds nothing the crypto
/// does not cover (for Encrypt0 it may hold the IV, which changes the nonce).
fn spec(authenticated_only: bool) -> impl Strategy<Value = Spec> {
    (
        kind(),
        bucket_strategy(),
        bucket_strategy(),
        (any::<bool>(), any::<bool>()),
        bytes(1..=6),
        (any::<bool>(), any::<bool>()),
        bytes(0..=48),
        bytes(0..=8),
    )
        .prop_map(
            move |(kind, protected, unprotected, iv, piv, (tagged, detached), payload, aad)| {
                let mut unprotected = if authenticated_only {
                    Bucket::default()
                } else {
                    unprotected
                };
                unprotected.crit_kid = false;
                let nonce = match kind {
                    Kind::Encrypt0(alg) if iv.0 => vec![0x5a; alg.aead().unwrap().nonce_len()],
                    Kind::Encrypt0(_) => piv,
                    _ => vec![],
                };
                Spec {
                    kind,
                    protected,
                    unprotected,
                    iv,
                    nonce,
                    tagged,
                    detached: detached && !matches!(kind, Kind::Encrypt0(_)),
                    payload,
                    aad,
                }
            },
        )
}

fn header_map_of<'a>(b: &'a Bucket, certs: &'a [&'a [u8]]) -> HeaderMap<'a> {
    let mut h = HeaderMap {
        kid: b.kid.as_deref(),
        content_type: b.content_type.as_ref().map(|c| match c {
            Ok(f) => ContentType::Format(*f),
            Err(t) => ContentType::Text(t),
        }),
        kid_context: b.kid_context.as_deref(),
        x5chain: b.x5chain.as_ref().map(|_| X5Chain::Certs(certs)),
        x5t: b.x5t.as_deref().map(|hash| X5t { alg: -16, hash }),
        ..HeaderMap::default()
    };
    if b.crit_kid && b.kid.is_some() {
        h.crit.push(label::KID).unwrap();
    }
    h
}

fn certs_of(b: &Bucket) -> Vec<&[u8]> {
    b.x5chain
        .as_ref()
        .map(|c| c.iter().map(Vec::as_slice).collect())
        .unwrap_or_default()
}

impl Spec {
    /// The message our builder writes, and the two buckets it was given.
    fn build(&self) -> (Vec<u8>, Fields, Fields) {
        let (pc, uc) = (certs_of(&self.protected), certs_of(&self.unprotected));
        let mut p = header_map_of(&self.protected, &pc);
        let mut u = header_map_of(&self.unprotected, &uc);
        // A label in both buckets is refused by the builders: keep the protected one.
        for l in [
            label::KID,
            label::CONTENT_TYPE,
            label::KID_CONTEXT,
            label::X5CHAIN,
            label::X5T,
        ] {
            if p.has(l) {
                match l {
                    label::KID => u.kid = None,
                    label::CONTENT_TYPE => u.content_type = None,
                    label::KID_CONTEXT => u.kid_context = None,
                    label::X5CHAIN => u.x5chain = None,
                    _ => u.x5t = None,
                }
            }
        }
        let mut c = crypto();
        let mut out = vec![0u8; 4096];
        match self.kind {
            Kind::Sign1 => {
                p.alg = Some(Algorithm::Es256.into());
                let (pf, uf) = (fields(&p), fields(&u));
                let b = Sign1Builder {
                    protected: p,
                    unprotected: u,
                    tagged: self.tagged,
                    detached: self.detached,
                };
                let n = b
                    .sign(&mut c, &mut signer(), &self.payload, &self.aad, &mut out)
                    .unwrap();
                (out[..n].to_vec(), pf, uf)
            }
            Kind::Mac0 => {
                p.alg = Some(Algorithm::Hmac256.into());
                let (pf, uf) = (fields(&p), fields(&u));
                let b = Mac0Builder {
                    protected: p,
                    unprotected: u,
                    tagged: self.tagged,
                    detached: self.detached,
                };
                let key = SymmetricKey::new(&HMAC_KEY);
                let n = b
                    .mac(&mut c, &key, &self.payload, &self.aad, &mut out)
                    .unwrap();
                (out[..n].to_vec(), pf, uf)
            }
            Kind::Encrypt0(alg) => {
                p.alg = Some(alg.into());
                let (is_iv, iv_protected) = self.iv;
                let bucket = if iv_protected { &mut p } else { &mut u };
                if is_iv {
                    bucket.iv = Some(&self.nonce);
                } else {
                    bucket.partial_iv = Some(&self.nonce);
                }
                let (pf, uf) = (fields(&p), fields(&u));
                let b = Encrypt0Builder {
                    protected: p,
                    unprotected: u,
                    tagged: self.tagged,
                };
                let n = b
                    .encrypt(&mut c, &aead_key(alg), &self.payload, &self.aad, &mut out)
                    .unwrap();
                (out[..n].to_vec(), pf, uf)
            }
        }
    }

    fn decode(&self, input: &[u8]) -> Result<(), Error> {
        match self.kind {
            Kind::Sign1 => CoseSign1::decode(input).map(drop),
            Kind::Mac0 => CoseMac0::decode(input).map(drop),
            Kind::Encrypt0(_) => CoseEncrypt0::decode(input).map(drop),
        }
    }

    /// Decodes and verifies or decrypts `input` with this spec's key, payload and AAD.
    fn open(&self, input: &[u8]) -> Result<Vec<u8>, Error> {
        let mut c = crypto();
        match self.kind {
            Kind::Sign1 => {
                let m = CoseSign1::decode(input)?;
                if self.detached {
                    m.verify_detached(&mut c, &mut verifier(), &self.payload, &self.aad)?;
                } else {
                    m.verify(&mut c, &mut verifier(), &self.aad)?;
                }
                Ok(m.payload.unwrap_or(&self.payload).to_vec())
            }
            Kind::Mac0 => {
                let m = CoseMac0::decode(input)?;
                let key = SymmetricKey::new(&HMAC_KEY);
                if self.detached {
                    m.verify_detached(&mut c, &key, &self.payload, &self.aad)?;
                } else {
                    m.verify(&mut c, &key, &self.aad)?;
                }
                Ok(m.payload.unwrap_or(&self.payload).to_vec())
            }
            Kind::Encrypt0(alg) => {
                let m = CoseEncrypt0::decode(input)?;
                let mut out = vec![0u8; input.len()];
                let n = m.decrypt(&mut c, &aead_key(alg), &self.aad, &mut out)?;
                out.truncate(n);
                Ok(out)
            }
        }
    }

    /// The decoded headers, tag and payload presence.
    fn decoded(&self, input: &[u8]) -> (Fields, Fields, bool, bool) {
        let view = |h: &Headers<'_>| (fields(&h.protected), fields(&h.unprotected));
        match self.kind {
            Kind::Sign1 => {
                let m = CoseSign1::decode(input).unwrap();
                let (p, u) = view(&m.headers);
                (p, u, m.tagged, m.payload.is_none())
            }
            Kind::Mac0 => {
                let m = CoseMac0::decode(input).unwrap();
                let (p, u) = view(&m.headers);
                (p, u, m.tagged, m.payload.is_none())
            }
            Kind::Encrypt0(_) => {
                let m = CoseEncrypt0::decode(input).unwrap();
                let (p, u) = view(&m.headers);
                (p, u, m.tagged, m.ciphertext.is_none())
            }
        }
    }
}

proptest! {
    #![proptest_config(config(64))]

    /// decode(encode(x)) == x: the headers, tag, payload presence and payload come back.
    #[test]
    fn builders_round_trip(s in spec(false)) {
        let (msg, p, u) = s.build();
        let (dp, du, tagged, detached) = s.decoded(&msg);
        prop_assert_eq!(dp, p);
        prop_assert_eq!(du, u);
        prop_assert_eq!(tagged, s.tagged);
        prop_assert_eq!(detached, s.detached);
        prop_assert_eq!(s.open(&msg).unwrap(), s.payload.clone());
        // A decoded message is also whole: trailing bytes are refused.
        let mut longer = msg.clone();
        longer.push(0);
        prop_assert_eq!(
            s.decode(&longer),
            Err(Error::Cbor { kind: CborError::TrailingBytes, offset: msg.len() })
        );
    }

    /// Every proper prefix of a valid message is `Truncated`, at an offset inside the prefix.
    #[test]
    fn truncated_messages_are_rejected(s in spec(false)) {
        let (msg, _, _) = s.build();
        for cut in 0..msg.len() {
            match s.decode(&msg[..cut]) {
                Err(Error::Cbor { kind: CborError::Truncated, offset }) => {
                    prop_assert!(offset <= cut, "cut {}: offset {}", cut, offset)
                }
                other => prop_assert!(false, "cut {}: {:?}", cut, other),
            }
        }
    }

    /// Mutated valid messages never panic a decoder.
    #[test]
    fn edited_messages_never_panic(
        s in spec(false),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6),
    ) {
        let (mut msg, _, _) = s.build();
        let original = msg.clone();
        for (at, byte, op) in edits {
            match op {
                0 if !msg.is_empty() => {
                    let i = at.index(msg.len());
                    msg[i] = byte;
                }
                1 => {
                    let i = at.index(msg.len() + 1);
                    msg.insert(i, byte);
                }
                _ if !msg.is_empty() => {
                    let i = at.index(msg.len());
                    msg.remove(i);
                }
                _ => {}
            }
        }
        exercise(&msg, Some(&original))?;
        let _ = s.open(&msg);
    }
}

proptest! {
    #![proptest_config(config(24))]

    /// Any single bit flipped anywhere is rejected: never accepted with another meaning.
    #[test]
    fn single_bit_flips_are_rejected(s in spec(true), picks in prop::collection::vec(any::<prop::sample::Index>(), 24)) {
        let (msg, _, _) = s.build();
        prop_assert_eq!(s.open(&msg).unwrap(), s.payload.clone());
        let bits = msg.len() * 8;
        // Every bit of the cheap messages; a sample of the signed ones (ECDSA is slow in debug).
        let chosen: Vec<usize> = match s.kind {
            Kind::Sign1 => picks.iter().map(|p| p.index(bits)).collect(),
            _ => (0..bits).collect(),
        };
        for bit in chosen {
            let mut bad = msg.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            let r = s.open(&bad);
            prop_assert!(r.is_err(), "bit {} of {:02x?} accepted: {:?}", bit, msg, r);
        }
    }
}

proptest! {
    #![proptest_config(config(128))]

    /// COSE_Key: decode(encode(k)) == k for EC2 and Symmetric keys, and every prefix is truncated.
    #[test]
    fn keys_round_trip(
        ec2 in any::<bool>(),
        k in bytes(1..=48),
        x in bytes(32..=32),
        y in prop_oneof![bytes(32..=32).prop_map(Ok), any::<bool>().prop_map(Err)],
        d in prop::option::of(bytes(32..=32)),
        kid in prop::option::of(bytes(0..=8)),
        base_iv in prop::option::of(bytes(0..=13)),
        alg in prop::option::of(prop::sample::select(vec![
            Algorithm::Es256, Algorithm::Esp256, Algorithm::Hmac256,
            Algorithm::AesCcm16_64_128, Algorithm::A128Gcm, Algorithm::ChaCha20Poly1305,
        ])),
    ) {
        let key = if ec2 {
            CoseKey::Ec2 {
                kid: kid.as_deref(),
                alg: alg.filter(|a| a.is_ecdsa_p256()),
                x: &x,
                y: match &y {
                    Ok(c) => Ec2Y::Coordinate(c),
                    Err(sign) => Ec2Y::Sign(*sign),
                },
                d: d.as_deref(),
            }
        } else {
            CoseKey::Symmetric(SymmetricKey {
                kid: kid.as_deref(),
                alg,
                k: &k,
                base_iv: base_iv.as_deref(),
            })
        };
        let mut buf = [0u8; 512];
        let n = key.encode_to(&mut buf).unwrap();
        prop_assert_eq!(CoseKey::decode(&buf[..n]), Ok(key));
        for cut in 0..n {
            match CoseKey::decode(&buf[..cut]) {
                Err(Error::Cbor { kind: CborError::Truncated, offset }) => prop_assert!(offset <= cut),
                other => prop_assert!(false, "cut {}: {:?}", cut, other),
            }
        }
    }
}

proptest! {
    /// `Reader::number` reads back any integer and any float minicbor writes, at every width,
    /// to the bit (NaN to a NaN); `Reader::float` the floats alike and refuses integers.
    #[test]
    fn numbers_read_back(i in any::<i64>(), f in any::<f64>(), s in any::<f32>()) {
        let enc = |write: &dyn Fn(&mut minicbor::Encoder<&mut Vec<u8>>)| {
            let mut out = Vec::new();
            write(&mut minicbor::Encoder::new(&mut out));
            out
        };
        let int = enc(&|e| { e.i64(i).unwrap(); });
        #[allow(clippy::cast_precision_loss)]
        let as_f64 = i as f64;
        prop_assert_eq!(Reader::new(&int).number().unwrap().to_bits(), as_f64.to_bits());
        prop_assert_eq!(
            Reader::new(&int).float(),
            Err(Error::cbor(CborError::UnexpectedType, 0))
        );
        for (bytes, want) in [
            (enc(&|e| { e.f64(f).unwrap(); }), f),
            (enc(&|e| { e.f32(s).unwrap(); }), f64::from(s)),
        ] {
            for got in [Reader::new(&bytes).number().unwrap(), Reader::new(&bytes).float().unwrap()] {
                prop_assert!(got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()));
            }
        }
        // A half: 1.5 is 0x3e00.
        prop_assert_eq!(Reader::new(&[0xf9, 0x3e, 0x00]).number(), Ok(1.5));
        prop_assert_eq!(
            Reader::new(&[0x61, b'1']).number(),
            Err(Error::cbor(CborError::UnexpectedType, 0))
        );
    }
}
