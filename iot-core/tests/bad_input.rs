//! Bad input (issue 2, "Bad input"): every decoder returns a specific, typed [`Error`] and never
//! panics for truncated input, wrong major types, indefinite lengths, nesting beyond the limit,
//! unknown critical headers (RFC 9052 section 3.1), algorithm/key mismatches, wrong tags and bad
//! signatures, MACs and AEAD tags, trailing bytes, a label in both buckets and duplicate labels
//! (RFC 9052 section 3), and IV together with Partial IV (RFC 9052 section 3.1).
//!
//! CBOR errors are checked for their kind and for the byte offset of the offending item in the
//! whole input. Hand-made inputs are written in hex with their diagnostic notation beside them.

// .clippy.toml lets #[test] functions unwrap, panic and index; the helpers below are test code too.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use iot_core::cbor::{DEFAULT_MAX_DEPTH, Limits, Reader};
use iot_core::cose::*;
use iot_core::crypto::{P256SigningKey, P256VerifyingKey, RustCrypto};
use iot_core::{CborError, Error};

type Crypto = RustCrypto<getrandom::SysRng>;

fn crypto() -> Crypto {
    RustCrypto::from_os()
}

fn signer() -> P256SigningKey {
    P256SigningKey::from_bytes(&[7u8; 32]).unwrap()
}

fn verifier() -> P256VerifyingKey {
    signer().verifying_key()
}

const HMAC_KEY: [u8; 32] = [0x11; 32];
const CCM_KEY: [u8; 16] = [0x22; 16];
const NONCE13: [u8; 13] = [0x33; 13];

/// Bytes from hex; spaces are ignored.
fn h(hex: &str) -> Vec<u8> {
    hex::decode(hex.replace(' ', "")).unwrap()
}

/// A CBOR head of major type `major` with argument `n`, in preferred form.
fn head(major: u8, n: u64) -> Vec<u8> {
    let mt = major << 5;
    match n {
        0..=23 => vec![mt | n as u8],
        24..=0xff => vec![mt | 24, n as u8],
        0x100..=0xffff => [vec![mt | 25], (n as u16).to_be_bytes().to_vec()].concat(),
        _ => [vec![mt | 26], (n as u32).to_be_bytes().to_vec()].concat(),
    }
}

fn bstr(content: &[u8]) -> Vec<u8> {
    [head(2, content.len() as u64), content.to_vec()].concat()
}

/// `n` nested one-element arrays around `0`.
fn nested_arrays(n: usize) -> Vec<u8> {
    [vec![0x81; n], vec![0x00]].concat()
}

#[track_caller]
fn assert_cbor<T: core::fmt::Debug>(r: iot_core::Result<T>, kind: CborError, offset: usize) {
    match r {
        Err(Error::Cbor { kind: k, offset: o }) => {
            assert_eq!((k, o), (kind, offset), "CBOR error kind and offset")
        }
        other => panic!("expected CBOR {kind:?} at byte {offset}, got {other:?}"),
    }
}

/// The three message decoders, driven over the same hand-made inputs.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Sign1,
    Mac0,
    Encrypt0,
}

const KINDS: [Kind; 3] = [Kind::Sign1, Kind::Mac0, Kind::Encrypt0];

/// A hand-made message and where its parts start.
struct Msg {
    bytes: Vec<u8>,
    /// Offset of the protected map (the content of the protected bstr).
    protected_at: usize,
    /// Offset of the unprotected map.
    unprotected_at: usize,
    /// Offset of the item after the unprotected map (payload or ciphertext).
    body_at: usize,
}

impl Kind {
    fn tag(self) -> u64 {
        match self {
            Kind::Sign1 => tag::SIGN1,
            Kind::Mac0 => tag::MAC0,
            Kind::Encrypt0 => tag::ENCRYPT0,
        }
    }

    fn len(self) -> u64 {
        match self {
            Kind::Sign1 | Kind::Mac0 => 4,
            Kind::Encrypt0 => 3,
        }
    }

    /// The encoded algorithm id of this message type: -7, 5 or 10.
    fn alg(self) -> u8 {
        match self {
            Kind::Sign1 => 0x26,
            Kind::Mac0 => 0x05,
            Kind::Encrypt0 => 0x0a,
        }
    }

    /// The protected map `{1: alg}`.
    fn protected(self) -> Vec<u8> {
        vec![0xa1, 0x01, self.alg()]
    }

    /// The protected map `{1: alg, <entries>}` with `n` more entries.
    fn protected_with(self, n: u8, entries: &[u8]) -> Vec<u8> {
        [vec![0xa1 + n, 0x01, self.alg()], entries.to_vec()].concat()
    }

    /// The items after the unprotected map: `h'', h''` or `h''`.
    fn tail(self) -> Vec<u8> {
        match self {
            Kind::Sign1 | Kind::Mac0 => h("40 40"),
            Kind::Encrypt0 => h("40"),
        }
    }

    fn build(self, tag: Option<u64>, protected: &[u8], unprotected: &[u8]) -> Msg {
        let mut bytes = tag.map(|t| head(6, t)).unwrap_or_default();
        bytes.extend(head(4, self.len()));
        bytes.extend(head(2, protected.len() as u64));
        let protected_at = bytes.len();
        bytes.extend(protected);
        let unprotected_at = bytes.len();
        bytes.extend(unprotected);
        let body_at = bytes.len();
        bytes.extend(self.tail());
        Msg {
            bytes,
            protected_at,
            unprotected_at,
            body_at,
        }
    }

    /// An untagged message with this type's algorithm and the given unprotected map.
    fn with_unprotected(self, unprotected: &[u8]) -> Msg {
        self.build(None, &self.protected(), unprotected)
    }

    /// An untagged message with the given protected map and an empty unprotected one.
    fn with_protected(self, protected: &[u8]) -> Msg {
        self.build(None, protected, &h("a0"))
    }

    fn decode(self, input: &[u8]) -> iot_core::Result<()> {
        self.decode_with(input, Limits::default())
    }

    fn decode_with(self, input: &[u8], limits: Limits) -> iot_core::Result<()> {
        match self {
            Kind::Sign1 => CoseSign1::decode_with(input, limits).map(drop),
            Kind::Mac0 => CoseMac0::decode_with(input, limits).map(drop),
            Kind::Encrypt0 => CoseEncrypt0::decode_with(input, limits).map(drop),
        }
    }
}

/// Valid messages made by our builders (tagged, attached, kid "kid" unprotected).
fn signed(payload: &[u8], aad: &[u8]) -> Vec<u8> {
    let mut out = [0u8; 512];
    let n = Sign1Builder::new(Algorithm::Es256)
        .kid(b"kid")
        .sign(&mut crypto(), &mut signer(), payload, aad, &mut out)
        .unwrap();
    out[..n].to_vec()
}

fn maced(payload: &[u8], aad: &[u8]) -> Vec<u8> {
    let mut out = [0u8; 512];
    let key = SymmetricKey::new(&HMAC_KEY);
    let n = Mac0Builder::new()
        .kid(b"kid")
        .mac(&mut crypto(), &key, payload, aad, &mut out)
        .unwrap();
    out[..n].to_vec()
}

fn encrypted(alg: Algorithm, key: &[u8], plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
    let mut out = [0u8; 512];
    let key = SymmetricKey::new(key);
    let n = Encrypt0Builder::new(alg)
        .encrypt(&mut crypto(), &key, plaintext, aad, &mut out)
        .unwrap();
    out[..n].to_vec()
}

fn cose_key(bytes: &[u8]) -> iot_core::Result<CoseKey<'_>> {
    CoseKey::decode(bytes)
}

/// `{1: 4, -1: h'0001'}`: a valid Symmetric COSE_Key.
const SYM_KEY: &str = "a2 01 04 20 42 0001";

// ---------------------------------------------------------------------------------------------
// Truncated input
// ---------------------------------------------------------------------------------------------

/// Every proper prefix of a valid input is `Truncated`, at an offset inside the prefix.
#[track_caller]
fn assert_prefixes_truncated(what: &str, input: &[u8], decode: fn(&[u8]) -> iot_core::Result<()>) {
    decode(input).unwrap_or_else(|e| panic!("{what}: the whole input must decode: {e:?}"));
    for cut in 0..input.len() {
        match decode(&input[..cut]) {
            Err(Error::Cbor {
                kind: CborError::Truncated,
                offset,
            }) => assert!(offset <= cut, "{what} cut at {cut}: offset {offset}"),
            other => panic!("{what} cut at {cut}: expected Truncated, got {other:?}"),
        }
    }
}

#[test]
fn truncated_input() {
    let sign1: fn(&[u8]) -> iot_core::Result<()> = |b| CoseSign1::decode(b).map(drop);
    let key: fn(&[u8]) -> iot_core::Result<()> = |b| CoseKey::decode(b).map(drop);
    // Messages made by our builders, with headers in both buckets.
    assert_prefixes_truncated("Sign1", &signed(b"payload", b""), sign1);
    assert_prefixes_truncated("Mac0", &maced(b"payload", b""), |b| {
        CoseMac0::decode(b).map(drop)
    });
    let enc0 = encrypted(Algorithm::AesCcm16_64_128, &CCM_KEY, b"plaintext", b"");
    assert_prefixes_truncated("Encrypt0", &enc0, |b| CoseEncrypt0::decode(b).map(drop));

    // Every header parameter this implementation models.
    let certs: [&[u8]; 2] = [b"cert-1", b"cert-2"];
    let mut full = Sign1Builder::new(Algorithm::Es256);
    full.protected.crit.push(label::ALG).unwrap();
    full.protected.content_type = Some(ContentType::Text("application/cbor"));
    full.protected.x5chain = Some(X5Chain::Certs(&certs));
    full.protected.partial_iv = Some(b"\x01");
    full.unprotected.kid = Some(b"kid");
    full.unprotected.kid_context = Some(b"ctx");
    full.unprotected.x5t = Some(X5t {
        alg: -16,
        hash: &[0xaa; 32],
    });
    let mut out = [0u8; 512];
    let n = full
        .sign(&mut crypto(), &mut signer(), b"p", b"", &mut out)
        .unwrap();
    assert_prefixes_truncated("Sign1 with all headers", &out[..n], sign1);

    // COSE_Key, both key types.
    let mut buf = [0u8; 256];
    let vk = verifier().to_sec1_uncompressed();
    let ec2 = CoseKey::Ec2 {
        kid: Some(b"k1"),
        alg: Some(Algorithm::Es256),
        x: &vk[1..33],
        y: Ec2Y::Coordinate(&vk[33..]),
        d: Some(&[7u8; 32]),
    };
    let n = ec2.encode_to(&mut buf).unwrap();
    assert_prefixes_truncated("COSE_Key EC2", &buf[..n], key);
    let sym = CoseKey::Symmetric(SymmetricKey {
        kid: Some(b"k2"),
        alg: Some(Algorithm::A128Gcm),
        k: &[9u8; 16],
        base_iv: Some(&[1u8; 7]),
    });
    let n = sym.encode_to(&mut buf).unwrap();
    assert_prefixes_truncated("COSE_Key Symmetric", &buf[..n], key);

    // A header value cut short: the offset is the value's head.
    for kind in KINDS {
        let m = kind.with_unprotected(&h("a1 04 44 0102")); // {4: h'0102' and 2 bytes missing
        let input = &m.bytes[..m.body_at];
        assert_cbor(
            kind.decode(input),
            CborError::Truncated,
            m.unprotected_at + 2,
        );
    }

    // The reader itself.
    assert_cbor(Reader::new(&[]).skip(), CborError::Truncated, 0);
    assert_cbor(Reader::new(&h("82 01")).skip(), CborError::Truncated, 2);
    assert_cbor(Reader::new(&h("a1 01")).skip(), CborError::Truncated, 2);
    assert_cbor(Reader::new(&h("d2")).skip(), CborError::Truncated, 1);
    assert_cbor(Reader::new(&h("19 01")).uint(), CborError::Truncated, 0);
    assert_cbor(Reader::new(&h("43 0102")).bytes(), CborError::Truncated, 0);
}

// ---------------------------------------------------------------------------------------------
// Wrong major types
// ---------------------------------------------------------------------------------------------

#[test]
fn wrong_major_types_in_messages() {
    for kind in KINDS {
        // A map where the message array belongs, untagged and tagged.
        assert_cbor(kind.decode(&h("a0")), CborError::UnexpectedType, 0);
        let tagged = [head(6, kind.tag()), h("a0")].concat();
        assert_cbor(kind.decode(&tagged), CborError::UnexpectedType, 1);
        // An array of the wrong length.
        let mut m = kind.with_unprotected(&h("a0")).bytes;
        m[0] = if kind == Kind::Encrypt0 { 0x84 } else { 0x83 };
        assert_cbor(kind.decode(&m), CborError::UnexpectedType, 0);
        // The protected bucket as a bare map instead of a bstr.
        let m = [head(4, kind.len()), kind.protected(), h("a0"), kind.tail()].concat();
        assert_cbor(kind.decode(&m), CborError::UnexpectedType, 1);
        // The protected bstr holds an array instead of a map.
        let m = kind.with_protected(&h("80"));
        assert_cbor(
            kind.decode(&m.bytes),
            CborError::UnexpectedType,
            m.protected_at,
        );
        // The unprotected bucket as an array.
        let m = kind.with_unprotected(&h("80"));
        assert_cbor(
            kind.decode(&m.bytes),
            CborError::UnexpectedType,
            m.unprotected_at,
        );
        // Payload / ciphertext as a text string ("x").
        let mut m = kind.with_unprotected(&h("a0"));
        m.bytes.truncate(m.body_at);
        m.bytes.extend(h("61 78"));
        if kind != Kind::Encrypt0 {
            m.bytes.extend(h("40"));
        }
        assert_cbor(kind.decode(&m.bytes), CborError::UnexpectedType, m.body_at);
        // Signature / tag as an integer.
        if kind != Kind::Encrypt0 {
            let mut m = kind.with_unprotected(&h("a0"));
            let last = m.bytes.len() - 1;
            m.bytes[last] = 0x00;
            assert_cbor(kind.decode(&m.bytes), CborError::UnexpectedType, last);
        }
        // A header label that is a byte string (labels are int / tstr): {h'00': 0}.
        let m = kind.with_unprotected(&h("a1 4100 00"));
        assert_cbor(
            kind.decode(&m.bytes),
            CborError::UnexpectedType,
            m.unprotected_at + 1,
        );
        let m = kind.with_protected(&kind.protected_with(1, &h("4100 00")));
        assert_cbor(
            kind.decode(&m.bytes),
            CborError::UnexpectedType,
            m.protected_at + 3,
        );
    }
}

#[test]
fn wrong_types_of_header_values() {
    // (label, a value of the wrong type) -> InvalidHeader(label).
    let cases = [
        (label::ALG, "40"),                   // alg: h''
        (label::CRIT, "01"),                  // crit: 1
        (label::CRIT, "80"),                  // crit: []
        (label::CRIT, "81 40"),               // crit: [h'']
        (label::CONTENT_TYPE, "20"),          // content type: -1
        (label::CONTENT_TYPE, "1a 00010000"), // content type: 65536
        (label::CONTENT_TYPE, "41 00"),       // content type: h'00'
        (label::KID, "61 6b"),                // kid: "k"
        (label::IV, "01"),                    // IV: 1
        (label::PARTIAL_IV, "80"),            // Partial IV: []
        (label::KID_CONTEXT, "a0"),           // kid context: {}
        (label::X5CHAIN, "01"),               // x5chain: 1
        (label::X5CHAIN, "80"),               // x5chain: []
        (label::X5CHAIN, "82 4100 01"),       // x5chain: [h'00', 1]
        (label::X5T, "41 00"),                // x5t: h'00'
        (label::X5T, "81 2f"),                // x5t: [-16]
        (label::X5T, "82 40 40"),             // x5t: [h'', h'']
    ];
    for kind in KINDS {
        for (l, value) in cases {
            let entry = [head(0, l as u64), h(value)].concat();
            // In the protected bucket next to alg (crit may only be protected).
            if l != label::ALG {
                let m = kind.with_protected(&kind.protected_with(1, &entry));
                assert_eq!(
                    kind.decode(&m.bytes),
                    Err(Error::InvalidHeader(Error::label(l))),
                    "{kind:?} protected label {l}: {value}"
                );
            }
            if l != label::CRIT {
                let m = kind.with_unprotected(&[h("a1"), entry].concat());
                assert_eq!(
                    kind.decode(&m.bytes),
                    Err(Error::InvalidHeader(Error::label(l))),
                    "{kind:?} unprotected label {l}: {value}"
                );
            }
        }
    }
}

#[test]
fn wrong_major_types_in_cose_key() {
    assert_cbor(cose_key(&h("80")), CborError::UnexpectedType, 0);
    assert_cbor(cose_key(&h("42 0001")), CborError::UnexpectedType, 0);
    // A bstr label: {1: 4, -1: h'00', h'00': 0}.
    let bstr_label = h("a3 01 04 20 4100 4100 00");
    assert_cbor(cose_key(&bstr_label), CborError::UnexpectedType, 6);
    // Parameter values of the wrong type, or missing ones, make an invalid key.
    for bad in [
        "a2 01 6178 20 4100",           // {1: "x", -1: h'00'}
        "a2 01 04 20 01",               // {1: 4, -1: 1}
        "a3 01 04 20 4100 02 01",       // {1: 4, -1: h'00', 2: 1}
        "a3 01 04 20 4100 05 80",       // {1: 4, -1: h'00', 5: []}
        "a3 01 04 20 4100 03 40",       // {1: 4, -1: h'00', 3: h''}
        "a4 01 02 20 6178 21 01 22 f5", // {1: 2, -1: "x", -2: 1, -3: true}
        "a1 01 04",                     // {1: 4}
        "a1 20 4100",                   // {-1: h'00'}
        "a2 01 03 20 4100",             // {1: 3, -1: h'00'}: RSA
    ] {
        assert_eq!(cose_key(&h(bad)), Err(Error::InvalidKey), "{bad}");
    }
    cose_key(&h(SYM_KEY)).unwrap();
}

#[test]
fn wrong_major_types_in_reader() {
    fn r(b: &[u8]) -> Reader<'_> {
        Reader::new(b)
    }
    assert_cbor(r(&h("41 00")).int(), CborError::UnexpectedType, 0);
    assert_cbor(r(&h("20")).uint(), CborError::UnexpectedType, 0);
    assert_cbor(r(&h("01")).bytes(), CborError::UnexpectedType, 0);
    assert_cbor(r(&h("41 00")).str(), CborError::UnexpectedType, 0);
    assert_cbor(r(&h("a0")).array(), CborError::UnexpectedType, 0);
    assert_cbor(r(&h("80")).map(), CborError::UnexpectedType, 0);
    assert_cbor(r(&h("f6")).bool(), CborError::UnexpectedType, 0);
    assert_cbor(r(&h("00")).null(), CborError::UnexpectedType, 0);
    assert_cbor(r(&h("60")).bytes_or_null(), CborError::UnexpectedType, 0);
    assert_cbor(r(&h("82 00 00")).array_of(3), CborError::UnexpectedType, 0);
    // A break code outside an indefinite item, and reserved additional information (28).
    assert_cbor(r(&h("ff")).skip(), CborError::Malformed, 0);
    assert_cbor(r(&h("81 1c")).skip(), CborError::Malformed, 1);
    // Invalid UTF-8 in a text string, and an integer beyond i64.
    assert_cbor(r(&h("61 ff")).str(), CborError::Malformed, 0);
    assert_cbor(r(&h("1b ffffffffffffffff")).int(), CborError::Malformed, 0);
    // Not preferred serialization, when the reader requires it.
    let strict = Limits {
        require_preferred: true,
        ..Limits::default()
    };
    let five = h("18 05"); // 5 in two bytes
    assert_eq!(r(&five).uint(), Ok(5));
    assert_cbor(
        Reader::with_limits(&five, strict).uint(),
        CborError::NotPreferred,
        0,
    );
    let arr = h("81 59 0001 00"); // [h'00'] with a 2-byte length
    assert_cbor(
        Reader::with_limits(&arr, strict).skip(),
        CborError::NotPreferred,
        1,
    );
}

// ---------------------------------------------------------------------------------------------
// Indefinite lengths where forbidden
// ---------------------------------------------------------------------------------------------

#[test]
fn indefinite_lengths_where_forbidden() {
    for kind in KINDS {
        // The message array, untagged and tagged.
        let mut m = kind.with_unprotected(&h("a0")).bytes;
        m[0] = 0x9f;
        m.push(0xff);
        assert_cbor(kind.decode(&m), CborError::IndefiniteLength, 0);
        let tagged = [head(6, kind.tag()), m].concat();
        assert_cbor(kind.decode(&tagged), CborError::IndefiniteLength, 1);
        // The protected bstr as an indefinite bstr of one chunk.
        let m = [
            head(4, kind.len()),
            h("5f"),
            bstr(&kind.protected()),
            h("ff a0"),
            kind.tail(),
        ]
        .concat();
        assert_cbor(kind.decode(&m), CborError::IndefiniteLength, 1);
        // The protected map inside its bstr: {_ 1: alg}.
        let m = kind.with_protected(&[h("bf 01"), vec![kind.alg()], h("ff")].concat());
        assert_cbor(
            kind.decode(&m.bytes),
            CborError::IndefiniteLength,
            m.protected_at,
        );
        // The unprotected map.
        let m = kind.with_unprotected(&h("bf ff"));
        assert_cbor(
            kind.decode(&m.bytes),
            CborError::IndefiniteLength,
            m.unprotected_at,
        );
        // The payload or ciphertext: (_ h'00').
        let mut m = kind.with_unprotected(&h("a0"));
        m.bytes.truncate(m.body_at);
        m.bytes.extend(h("5f 4100 ff"));
        if kind != Kind::Encrypt0 {
            m.bytes.extend(h("40"));
        }
        assert_cbor(
            kind.decode(&m.bytes),
            CborError::IndefiniteLength,
            m.body_at,
        );
        // The value of an unknown, skipped header parameter {99: value}: array, map, bstr, tstr.
        for value in ["9f ff", "bf ff", "5f ff", "7f ff"] {
            let m = kind.with_unprotected(&h(&format!("a1 1863 {value}")));
            assert_cbor(
                kind.decode(&m.bytes),
                CborError::IndefiniteLength,
                m.unprotected_at + 3,
            );
        }
        // A kid given as an indefinite bstr: {4: (_ h'00')}.
        let m = kind.with_unprotected(&h("a1 04 5f 4100 ff"));
        assert_cbor(
            kind.decode(&m.bytes),
            CborError::IndefiniteLength,
            m.unprotected_at + 2,
        );
    }

    // COSE_Key: the map itself, and k.
    let key = h("bf 01 04 20 4100 ff");
    assert_cbor(cose_key(&key), CborError::IndefiniteLength, 0);
    let key = h("a2 01 04 20 5f 4100 ff");
    assert_cbor(cose_key(&key), CborError::IndefiniteLength, 4);

    // The reader: refused by default ...
    assert_cbor(
        Reader::new(&h("9f ff")).array(),
        CborError::IndefiniteLength,
        0,
    );
    assert_cbor(
        Reader::new(&h("bf ff")).map(),
        CborError::IndefiniteLength,
        0,
    );
    assert_cbor(
        Reader::new(&h("5f ff")).bytes(),
        CborError::IndefiniteLength,
        0,
    );
    assert_cbor(
        Reader::new(&h("7f ff")).str(),
        CborError::IndefiniteLength,
        0,
    );
    let nested = h("82 00 9f ff");
    assert_cbor(Reader::new(&nested).skip(), CborError::IndefiniteLength, 2);
    // ... accepted when the limits allow it, but still closed by a break.
    let lax = Limits {
        allow_indefinite: true,
        ..Limits::default()
    };
    // [[_ 1], {_ (_ h'00'): (_ )}]
    let item = h("82 9f 01 ff bf 5f 4100 ff 7f ff ff");
    let mut rd = Reader::with_limits(&item, lax);
    assert_eq!(rd.skip(), Ok(&item[..]));
    rd.finish().unwrap();
    let open = h("9f 01");
    assert_cbor(
        Reader::with_limits(&open, lax).skip(),
        CborError::Truncated,
        2,
    );
}

// ---------------------------------------------------------------------------------------------
// Nesting beyond the limit
// ---------------------------------------------------------------------------------------------

#[test]
fn nesting_beyond_the_limit() {
    let max = usize::from(DEFAULT_MAX_DEPTH);
    // The reader: arrays, maps and tags each count one level.
    let ok = nested_arrays(max);
    assert_eq!(Reader::new(&ok).skip(), Ok(&ok[..]));
    let deep = nested_arrays(max + 1);
    assert_cbor(Reader::new(&deep).skip(), CborError::TooDeep, max);
    let maps = [h("a1 00").repeat(max + 1), h("00")].concat(); // {0: {0: ... 0}}
    assert_cbor(Reader::new(&maps).skip(), CborError::TooDeep, 2 * max);
    let tags = [h("c6").repeat(max + 1), h("00")].concat(); // 6(6(... 0))
    assert_cbor(Reader::new(&tags).skip(), CborError::TooDeep, max);
    let flat = Limits {
        max_depth: 0,
        ..Limits::default()
    };
    let one = h("01");
    assert_eq!(Reader::with_limits(&one, flat).skip(), Ok(&one[..]));
    let empty = h("80");
    assert_cbor(
        Reader::with_limits(&empty, flat).skip(),
        CborError::TooDeep,
        0,
    );

    // {99: [[...[0]...]]}
    let unknown = |depth| [h("a1 1863"), nested_arrays(depth)].concat();
    for kind in KINDS {
        // An unknown header parameter nested deeper than the limit, unprotected ...
        kind.decode(&kind.with_unprotected(&unknown(max)).bytes)
            .unwrap();
        let m = kind.with_unprotected(&unknown(max + 1));
        assert_cbor(
            kind.decode(&m.bytes),
            CborError::TooDeep,
            m.unprotected_at + 3 + max,
        );
        // ... and protected: the offset is in the whole message, not in the bstr.
        let prot = kind.protected_with(1, &[h("1863"), nested_arrays(max + 1)].concat());
        let m = kind.with_protected(&prot);
        assert_cbor(
            kind.decode(&m.bytes),
            CborError::TooDeep,
            m.protected_at + 5 + max,
        );
        // A lower limit set by the caller.
        let shallow = Limits {
            max_depth: 2,
            ..Limits::default()
        };
        let m = kind.with_unprotected(&unknown(2));
        kind.decode_with(&m.bytes, shallow).unwrap();
        let m = kind.with_unprotected(&unknown(3));
        assert_cbor(
            kind.decode_with(&m.bytes, shallow),
            CborError::TooDeep,
            m.unprotected_at + 5,
        );
    }

    // COSE_Key with an unknown parameter nested too deep: {1: 4, -1: h'00', 99: [[...]]}.
    let key = [h("a3 01 04 20 4100 1863"), nested_arrays(max + 1)].concat();
    assert_cbor(cose_key(&key), CborError::TooDeep, 8 + max);
}

// ---------------------------------------------------------------------------------------------
// Unknown critical headers
// ---------------------------------------------------------------------------------------------

#[test]
fn unknown_critical_headers() {
    for kind in KINDS {
        let crit = |n, entries: &str| kind.with_protected(&kind.protected_with(n, &h(entries)));
        // {1: alg, 2: [99], 99: 0}
        let m = crit(2, "02 81 1863 1863 00");
        assert_eq!(kind.decode(&m.bytes), Err(Error::UnknownCriticalHeader(99)));
        // A private-use label: {1: alg, 2: [-70000]}.
        let m = crit(1, "02 81 3a0001116f");
        assert_eq!(
            kind.decode(&m.bytes),
            Err(Error::UnknownCriticalHeader(-70000))
        );
        // A text label: none is understood. {1: alg, 2: ["x"]}
        let m = crit(1, "02 81 6178");
        assert_eq!(
            kind.decode(&m.bytes),
            Err(Error::UnknownCriticalHeader(i32::MIN))
        );
        // A label beyond 32 bits is named saturated (Error::label), not by its low bits:
        // {1: alg, 2: [2^32 + 1]}.
        let m = crit(1, "02 81 1b0000000100000001");
        assert_eq!(
            kind.decode(&m.bytes),
            Err(Error::UnknownCriticalHeader(i32::MAX))
        );
        // Understood labels before an unknown one are no excuse: {1: alg, 2: [1, 7]}.
        let m = crit(1, "02 82 01 07");
        assert_eq!(kind.decode(&m.bytes), Err(Error::UnknownCriticalHeader(7)));
        // crit in the unprotected bucket is invalid (RFC 9052 section 3.1).
        let m = kind.with_unprotected(&h("a1 02 81 01"));
        assert_eq!(
            kind.decode(&m.bytes),
            Err(Error::InvalidHeader(Error::label(label::CRIT)))
        );
        // ... refused before its value is read: {2: and the input ends.
        let m = kind.with_unprotected(&h("a1 02"));
        assert_eq!(
            kind.decode(&m.bytes[..m.body_at]),
            Err(Error::InvalidHeader(Error::label(label::CRIT)))
        );
        // Control: crit listing understood labels is accepted. {1: alg, 2: [1, 4]}
        kind.decode(&crit(1, "02 82 01 04").bytes).unwrap();
    }

    // Through a real, signed message.
    let mut b = Sign1Builder::new(Algorithm::Es256);
    b.protected.crit.push(label::KID).unwrap();
    b.protected.kid = Some(b"k");
    let mut out = [0u8; 256];
    let n = b
        .sign(&mut crypto(), &mut signer(), b"p", b"", &mut out)
        .unwrap();
    let msg = CoseSign1::decode(&out[..n]).unwrap();
    msg.verify(&mut crypto(), &mut verifier(), b"").unwrap();
    assert_eq!(msg.headers.protected.crit.as_slice(), &[label::KID]);
}

// ---------------------------------------------------------------------------------------------
// An algorithm that does not match the key
// ---------------------------------------------------------------------------------------------

fn restricted(alg: Algorithm, k: &[u8]) -> SymmetricKey<'_> {
    SymmetricKey {
        alg: Some(alg),
        ..SymmetricKey::new(k)
    }
}

#[test]
fn signature_algorithm_does_not_match_the_key() {
    let mut c = crypto();
    let aad = b"aad";
    let es256 = signed(b"payload", aad);
    let msg = CoseSign1::decode(&es256).unwrap();
    assert_eq!(msg.alg(), Ok(Algorithm::Es256));
    // Control: the unrestricted key and the key restricted to ES256 verify.
    msg.verify(&mut c, &mut verifier(), aad).unwrap();
    let mut es256_key = verifier().with_algorithm(Some(Algorithm::Es256));
    msg.verify(&mut c, &mut es256_key, aad).unwrap();
    // A P-256 key restricted to ESP256, HMAC or an AEAD does not verify an ES256 message.
    for alg in [Algorithm::Esp256, Algorithm::Hmac256, Algorithm::A128Gcm] {
        let mut key = verifier().with_algorithm(Some(alg));
        let r = msg.verify(&mut c, &mut key, aad);
        assert_eq!(
            r,
            Err(Error::AlgorithmMismatch),
            "key restricted to {alg:?}"
        );
    }
    // The same through COSE_Key: an EC2 key restricted to ESP256 ...
    let vk = verifier().to_sec1_uncompressed();
    let ec2 = CoseKey::Ec2 {
        kid: None,
        alg: Some(Algorithm::Esp256),
        x: &vk[1..33],
        y: Ec2Y::Coordinate(&vk[33..]),
        d: None,
    };
    let mut buf = [0u8; 128];
    let n = ec2.encode_to(&mut buf).unwrap();
    let mut key = CoseKey::decode(&buf[..n]).unwrap().verifying_key().unwrap();
    assert_eq!(
        msg.verify(&mut c, &mut key, aad),
        Err(Error::AlgorithmMismatch)
    );
    // ... an EC2 key whose alg is HMAC 256/256 is refused when decoded ...
    let mut hmac_ec2 = buf[..n].to_vec();
    assert_eq!(&hmac_ec2[1..5], h("01 02 03 28")); // 1: 2, 3: -9
    hmac_ec2[4] = 0x05;
    assert_eq!(CoseKey::decode(&hmac_ec2), Err(Error::AlgorithmMismatch));
    // ... and a Symmetric key restricted to HMAC 256/256 is no P-256 key.
    let hmac_key = CoseKey::Symmetric(restricted(Algorithm::Hmac256, &HMAC_KEY));
    let n = hmac_key.encode_to(&mut buf).unwrap();
    let decoded = CoseKey::decode(&buf[..n]).unwrap();
    assert_eq!(decoded.verifying_key(), Err(Error::InvalidKey));
    // An untagged ES256 message has the shape of a COSE_Mac0: an HMAC key refuses it.
    let as_mac0 = CoseMac0::decode(&es256[1..]).unwrap();
    let hmac = decoded.symmetric().unwrap();
    assert_eq!(
        as_mac0.verify(&mut c, &hmac, aad),
        Err(Error::AlgorithmMismatch)
    );
    let any = SymmetricKey::new(&HMAC_KEY);
    assert_eq!(
        as_mac0.verify(&mut c, &any, aad),
        Err(Error::AlgorithmMismatch)
    );
    // A P-256 key with a message whose alg is HMAC, unsupported (EdDSA, "ES256"), or missing.
    for (prot, expected) in [
        ("a1 01 05", Error::AlgorithmMismatch),
        ("a1 01 27", Error::UnsupportedAlgorithm(-8)),
        ("a1 01 65 4553323536", Error::UnsupportedAlgorithm(i32::MIN)),
        ("", Error::MissingAlgorithm),
    ] {
        let m = Kind::Sign1.with_protected(&h(prot));
        let msg = CoseSign1::decode(&m.bytes).unwrap();
        assert_eq!(
            msg.verify(&mut c, &mut verifier(), b""),
            Err(expected),
            "{prot}"
        );
    }
    // The builder refuses the same combinations.
    let mut out = [0u8; 256];
    let mut esp_signer = signer().with_algorithm(Some(Algorithm::Esp256));
    let b = Sign1Builder::new(Algorithm::Es256);
    let r = b.sign(&mut c, &mut esp_signer, b"p", b"", &mut out);
    assert_eq!(r, Err(Error::AlgorithmMismatch));
    let b = Sign1Builder::new(Algorithm::Hmac256);
    let r = b.sign(&mut c, &mut signer(), b"p", b"", &mut out);
    assert_eq!(r, Err(Error::AlgorithmMismatch));
}

#[test]
fn mac_and_aead_algorithms_do_not_match_the_key() {
    let mut c = crypto();
    let aad = b"aad";
    // An HMAC message with an AEAD key or an ES256 key.
    let mac = maced(b"payload", aad);
    let mac = CoseMac0::decode(&mac).unwrap();
    mac.verify(&mut c, &SymmetricKey::new(&HMAC_KEY), aad)
        .unwrap();
    for alg in [
        Algorithm::AesCcm16_64_128,
        Algorithm::A128Gcm,
        Algorithm::Es256,
    ] {
        let key = restricted(alg, &HMAC_KEY);
        assert_eq!(mac.verify(&mut c, &key, aad), Err(Error::AlgorithmMismatch));
    }
    // A Mac0 whose alg is an AEAD: [<< {1: 10} >>, {}, h'', h''].
    let m = Kind::Mac0.with_protected(&h("a1 01 0a"));
    let r = CoseMac0::decode(&m.bytes)
        .unwrap()
        .verify(&mut c, &SymmetricKey::new(&HMAC_KEY), b"");
    assert_eq!(r, Err(Error::AlgorithmMismatch));

    // An AES-CCM message with an HMAC key, a GCM key, an ES256 key, or a key of the wrong length.
    let enc = encrypted(Algorithm::AesCcm16_64_128, &CCM_KEY, b"secret", aad);
    let enc = CoseEncrypt0::decode(&enc).unwrap();
    let mut out = [0u8; 64];
    for alg in [Algorithm::Hmac256, Algorithm::A128Gcm, Algorithm::Es256] {
        let r = enc.decrypt(&mut c, &restricted(alg, &CCM_KEY), aad, &mut out);
        assert_eq!(
            r,
            Err(Error::AlgorithmMismatch),
            "key restricted to {alg:?}"
        );
    }
    let r = enc.decrypt(&mut c, &SymmetricKey::new(&HMAC_KEY), aad, &mut out);
    assert_eq!(r, Err(Error::InvalidKey));
    // An Encrypt0 whose alg is ES256 or HMAC: [<< {1: alg} >>, {5: h'33..'}, h'00..'].
    for alg in ["26", "05"] {
        let m = [
            h(&format!("83 43 a101{alg} a1 05")),
            bstr(&NONCE13),
            bstr(&[0u8; 8]),
        ]
        .concat();
        let r = CoseEncrypt0::decode(&m).unwrap().decrypt(
            &mut c,
            &SymmetricKey::new(&CCM_KEY),
            b"",
            &mut out,
        );
        assert_eq!(r, Err(Error::AlgorithmMismatch), "alg {alg}");
    }

    // The builders refuse the same combinations.
    let mut out = [0u8; 256];
    let aead_key = restricted(Algorithm::A128Gcm, &CCM_KEY);
    let r = Mac0Builder::new().mac(&mut c, &aead_key, b"p", b"", &mut out);
    assert_eq!(r, Err(Error::AlgorithmMismatch));
    let hmac_key = restricted(Algorithm::Hmac256, &CCM_KEY);
    let b = Encrypt0Builder::new(Algorithm::AesCcm16_64_128);
    let r = b.encrypt(&mut c, &hmac_key, b"p", b"", &mut out);
    assert_eq!(r, Err(Error::AlgorithmMismatch));
    let b = Encrypt0Builder::new(Algorithm::Hmac256);
    let r = b.encrypt(&mut c, &SymmetricKey::new(&CCM_KEY), b"p", b"", &mut out);
    assert_eq!(r, Err(Error::AlgorithmMismatch));
}

// ---------------------------------------------------------------------------------------------
// A wrong tag, or a bad signature, MAC or AEAD tag
// ---------------------------------------------------------------------------------------------

#[test]
fn wrong_cbor_tag() {
    for kind in KINDS {
        let m = kind.with_unprotected(&h("a0")).bytes;
        kind.decode(&[head(6, kind.tag()), m.clone()].concat())
            .unwrap();
        for other in [
            tag::SIGN1,
            tag::MAC0,
            tag::ENCRYPT0,
            tag::SIGN,
            1,
            24,
            55799,
        ] {
            if other == kind.tag() {
                continue;
            }
            let tagged = [head(6, other), m.clone()].concat();
            assert_eq!(
                kind.decode(&tagged),
                Err(Error::wrong_tag(other)),
                "{kind:?}"
            );
        }
        // Two tags: the second sits where the array belongs.
        let twice = [head(6, kind.tag()), head(6, kind.tag()), m].concat();
        assert_cbor(kind.decode(&twice), CborError::UnexpectedType, 1);
    }
    // A real Sign1 re-tagged as a Mac0 (17).
    let mut sign1 = signed(b"p", b"");
    assert_eq!(sign1[0], 0xd2);
    sign1[0] = 0xd1;
    assert_eq!(CoseSign1::decode(&sign1), Err(Error::WrongTag(17)));
}

#[test]
fn bad_signature() {
    let mut c = crypto();
    let good = signed(b"payload", b"aad");
    let verify = |m: &[u8], aad: &[u8]| {
        CoseSign1::decode(m).and_then(|m| m.verify(&mut crypto(), &mut verifier(), aad))
    };
    verify(&good, b"aad").unwrap();
    // A flipped bit in the signature (first, middle, last byte) and in the payload.
    let sig_at = good.len() - 64;
    let payload_at = good.windows(7).position(|w| w == b"payload").unwrap();
    for (at, bit) in [
        (sig_at, 1),
        (sig_at + 40, 0x80),
        (good.len() - 1, 4),
        (payload_at, 1),
    ] {
        let mut bad = good.clone();
        bad[at] ^= bit;
        assert_eq!(
            verify(&bad, b"aad"),
            Err(Error::BadSignature),
            "flip at {at}"
        );
    }
    // Another external AAD, another key.
    assert_eq!(verify(&good, b"AAD"), Err(Error::BadSignature));
    let msg = CoseSign1::decode(&good).unwrap();
    let mut other = P256SigningKey::from_bytes(&[8u8; 32])
        .unwrap()
        .verifying_key();
    assert_eq!(
        msg.verify(&mut c, &mut other, b"aad"),
        Err(Error::BadSignature)
    );
    // A signature of the wrong length, and r = s = 0.
    for sig in [vec![], vec![1u8; 63], vec![1u8; 65], vec![0u8; 64]] {
        let m = [good[..sig_at - 2].to_vec(), bstr(&sig)].concat();
        assert_eq!(verify(&m, b"aad"), Err(Error::BadSignature), "{sig:02x?}");
    }
    // Detached: the wrong payload, and attached/detached mixed up.
    let mut b = Sign1Builder::new(Algorithm::Es256);
    b.detached = true;
    let mut out = [0u8; 256];
    let n = b
        .sign(&mut c, &mut signer(), b"payload", b"", &mut out)
        .unwrap();
    let det = CoseSign1::decode(&out[..n]).unwrap();
    det.verify_detached(&mut c, &mut verifier(), b"payload", b"")
        .unwrap();
    let r = det.verify_detached(&mut c, &mut verifier(), b"payloaD", b"");
    assert_eq!(r, Err(Error::BadSignature));
    let r = det.verify(&mut c, &mut verifier(), b"");
    assert_eq!(r, Err(Error::PayloadMismatch));
    let r = msg.verify_detached(&mut c, &mut verifier(), b"payload", b"aad");
    assert_eq!(r, Err(Error::PayloadMismatch));
}

#[test]
fn bad_mac() {
    let key = SymmetricKey::new(&HMAC_KEY);
    let verify = |m: &[u8], key: &SymmetricKey<'_>, aad: &[u8]| {
        CoseMac0::decode(m).and_then(|m| m.verify(&mut crypto(), key, aad))
    };
    let good = maced(b"payload", b"aad");
    verify(&good, &key, b"aad").unwrap();
    let tag_at = good.len() - 32;
    for at in [tag_at, tag_at + 17, good.len() - 1] {
        let mut bad = good.clone();
        bad[at] ^= 0x40;
        assert_eq!(
            verify(&bad, &key, b"aad"),
            Err(Error::BadTag),
            "flip at {at}"
        );
    }
    assert_eq!(verify(&good, &key, b"AAD"), Err(Error::BadTag));
    let other = SymmetricKey::new(&[0x12; 32]);
    assert_eq!(verify(&good, &other, b"aad"), Err(Error::BadTag));
    // A truncated tag (HMAC 256/64 is another algorithm), and an empty one.
    for len in [0usize, 8, 31] {
        let m = [
            good[..tag_at - 2].to_vec(),
            bstr(&good[tag_at..tag_at + len]),
        ]
        .concat();
        assert_eq!(
            verify(&m, &key, b"aad"),
            Err(Error::BadTag),
            "tag of {len} bytes"
        );
    }
}

const AEADS: [(Algorithm, &[u8]); 3] = [
    (Algorithm::AesCcm16_64_128, &[0x22; 16]),
    (Algorithm::A128Gcm, &[0x23; 16]),
    (Algorithm::ChaCha20Poly1305, &[0x24; 32]),
];

#[test]
fn bad_aead_tag() {
    let mut out = [0u8; 64];
    for (alg, k) in AEADS {
        let key = SymmetricKey::new(k);
        let mut decrypt = |m: &[u8], aad: &[u8]| {
            CoseEncrypt0::decode(m).and_then(|m| m.decrypt(&mut crypto(), &key, aad, &mut out))
        };
        let good = encrypted(alg, k, b"secret message", b"aad");
        assert_eq!(decrypt(&good, b"aad"), Ok(14));
        let tag_len = alg.aead().unwrap().tag_len();
        // The tag (last and first byte), the ciphertext body (last byte).
        let tag_at = good.len() - tag_len;
        for at in [good.len() - 1, tag_at, tag_at - 1] {
            let mut bad = good.clone();
            bad[at] ^= 0x02;
            assert_eq!(
                decrypt(&bad, b"aad"),
                Err(Error::BadTag),
                "{alg:?} flip at {at}"
            );
        }
        assert_eq!(decrypt(&good, b"AAD"), Err(Error::BadTag));
        // A ciphertext shorter than the tag.
        let ct_len = 14 + tag_len;
        let ct_at = good.len() - ct_len;
        let short = [
            good[..ct_at - head(2, ct_len as u64).len()].to_vec(),
            bstr(&good[ct_at..ct_at + tag_len - 1]),
        ]
        .concat();
        assert_eq!(decrypt(&short, b"aad"), Err(Error::BadTag), "{alg:?} short");
    }
}

/// A failed decryption leaves no plaintext in the caller's buffer (RFC 5116 section 2.2: no
/// plaintext is released unless the tag verifies).
#[test]
fn failed_decrypt_leaves_no_plaintext() {
    let mut c = crypto();
    let plaintext: Vec<u8> = (0..96u8)
        .map(|i| i.wrapping_mul(37).wrapping_add(11))
        .collect();
    // Any 4 consecutive plaintext bytes in the buffer count as a leak.
    let leaks = |out: &[u8]| out.windows(4).any(|w| plaintext.windows(4).any(|p| p == w));
    for (alg, k) in AEADS {
        let key = SymmetricKey::new(k);
        let good = encrypted(alg, k, &plaintext, b"aad");
        // Control: success does leave the plaintext.
        let mut out = [0x5au8; 160];
        let msg = CoseEncrypt0::decode(&good).unwrap();
        let n = msg.decrypt(&mut c, &key, b"aad", &mut out).unwrap();
        assert_eq!(&out[..n], &plaintext[..]);
        assert!(leaks(&out));

        let mut tag_flipped = good.clone();
        *tag_flipped.last_mut().unwrap() ^= 1;
        let mut body_flipped = good.clone();
        body_flipped[good.len() - 40] ^= 1;
        let wrong_k = vec![0x99u8; k.len()];
        let wrong_key = SymmetricKey::new(&wrong_k);
        let cases: [(&str, &[u8], &SymmetricKey<'_>, &[u8]); 4] = [
            ("tag flipped", &tag_flipped, &key, b"aad"),
            ("ciphertext flipped", &body_flipped, &key, b"aad"),
            ("wrong aad", &good, &key, b"other"),
            ("wrong key", &good, &wrong_key, b"aad"),
        ];
        for (what, msg, k, aad) in cases {
            let mut out = [0x5au8; 160];
            let msg = CoseEncrypt0::decode(msg).unwrap();
            let r = msg.decrypt(&mut c, k, aad, &mut out);
            assert_eq!(r, Err(Error::BadTag), "{alg:?} {what}");
            assert!(!leaks(&out), "{alg:?} {what}: plaintext left in the buffer");
        }
        // A buffer too small is refused before anything is written.
        let mut small = [0x5au8; 95];
        let r = msg.decrypt(&mut c, &key, b"aad", &mut small);
        assert_eq!(r, Err(Error::BufferTooSmall));
        assert!(small.iter().all(|&b| b == 0x5a));
    }
}

// ---------------------------------------------------------------------------------------------
// Trailing bytes
// ---------------------------------------------------------------------------------------------

#[test]
fn trailing_bytes() {
    let messages = [
        (Kind::Sign1, signed(b"p", b"")),
        (Kind::Mac0, maced(b"p", b"")),
        (
            Kind::Encrypt0,
            encrypted(Algorithm::AesCcm16_64_128, &CCM_KEY, b"p", b""),
        ),
    ];
    for (kind, m) in &messages {
        kind.decode(m).unwrap();
        for extra in [&h("00")[..], &h("ff"), &h("f6"), m] {
            let input = [m.clone(), extra.to_vec()].concat();
            assert_cbor(kind.decode(&input), CborError::TrailingBytes, m.len());
        }
        // decode_from leaves what follows to the caller.
        let input = [m.clone(), h("01")].concat();
        let mut r = Reader::new(&input);
        match kind {
            Kind::Sign1 => drop(CoseSign1::decode_from(&mut r).unwrap()),
            Kind::Mac0 => drop(CoseMac0::decode_from(&mut r).unwrap()),
            Kind::Encrypt0 => drop(CoseEncrypt0::decode_from(&mut r).unwrap()),
        }
        assert_eq!(r.position(), m.len());
        assert_eq!(r.uint(), Ok(1));
        r.finish().unwrap();

        // A byte after the map inside the protected bstr.
        let m = kind.with_protected(&[kind.protected(), h("00")].concat());
        assert_cbor(
            kind.decode(&m.bytes),
            CborError::TrailingBytes,
            m.protected_at + 3,
        );
    }
    let key = [h(SYM_KEY), h("00")].concat();
    assert_cbor(cose_key(&key), CborError::TrailingBytes, key.len() - 1);
    let two = h("01 02");
    let mut r = Reader::new(&two);
    assert_eq!(r.uint(), Ok(1));
    assert_cbor(r.finish(), CborError::TrailingBytes, 1);
}

// ---------------------------------------------------------------------------------------------
// Header buckets: a label in both, IV with Partial IV, duplicate labels
// ---------------------------------------------------------------------------------------------

#[test]
fn label_in_both_buckets() {
    for kind in KINDS {
        for (l, entry) in [
            (label::CONTENT_TYPE, "03 00"),
            (label::KID, "04 4101"),
            (label::IV, "05 4101"),
            (label::PARTIAL_IV, "06 4101"),
            (label::KID_CONTEXT, "0a 4101"),
            (label::X5CHAIN, "1821 4101"),
            (label::X5T, "1822 82 2f 4101"),
        ] {
            let prot = kind.protected_with(1, &h(entry));
            let unprot = h(&format!("a1 {entry}"));
            let m = kind.build(None, &prot, &unprot);
            let r = kind.decode(&m.bytes);
            assert_eq!(
                r,
                Err(Error::InvalidHeader(Error::label(l))),
                "{kind:?} label {l}"
            );
        }
        // alg in both.
        let m = kind.build(None, &kind.protected(), &kind.protected());
        assert_eq!(
            kind.decode(&m.bytes),
            Err(Error::InvalidHeader(Error::label(label::ALG)))
        );
    }
    // The builders refuse it too.
    let mut c = crypto();
    let mut out = [0u8; 256];
    let mut b = Sign1Builder::new(Algorithm::Es256).kid(b"a");
    b.protected.kid = Some(b"b");
    let r = b.sign(&mut c, &mut signer(), b"p", b"", &mut out);
    assert_eq!(r, Err(Error::InvalidHeader(Error::label(label::KID))));
    let mut b = Mac0Builder::new();
    b.unprotected.alg = Some(AlgId::Int(5));
    let r = b.mac(&mut c, &SymmetricKey::new(&HMAC_KEY), b"p", b"", &mut out);
    assert_eq!(r, Err(Error::InvalidHeader(Error::label(label::ALG))));
    let mut b = Encrypt0Builder::new(Algorithm::AesCcm16_64_128).iv(&NONCE13);
    b.protected.iv = Some(&NONCE13);
    let r = b.encrypt(&mut c, &SymmetricKey::new(&CCM_KEY), b"p", b"", &mut out);
    assert_eq!(r, Err(Error::InvalidHeader(Error::label(label::IV))));
    // ... and crit in the unprotected bucket (RFC 9052 section 3.1), after a label in both and
    // before IV with Partial IV.
    let mut b = Sign1Builder::new(Algorithm::Es256);
    b.unprotected.crit.push(label::KID).unwrap();
    let r = b.sign(&mut c, &mut signer(), b"p", b"", &mut out);
    assert_eq!(r, Err(Error::InvalidHeader(Error::label(label::CRIT))));
    b.protected.iv = Some(&NONCE13);
    b.unprotected.partial_iv = Some(b"\x01");
    let r = b.sign(&mut c, &mut signer(), b"p", b"", &mut out);
    assert_eq!(r, Err(Error::InvalidHeader(Error::label(label::CRIT))));
    b.unprotected.kid = Some(b"k");
    b.protected.kid = Some(b"k");
    let r = b.sign(&mut c, &mut signer(), b"p", b"", &mut out);
    assert_eq!(r, Err(Error::InvalidHeader(Error::label(label::KID))));
}

#[test]
fn iv_and_partial_iv_together() {
    let iv = [h("05"), bstr(&NONCE13)].concat(); // 5: h'33..'
    let piv = h("06 4101"); // 6: h'01'
    let both = [iv.clone(), piv.clone()].concat();
    let expected = Err(Error::InvalidHeader(Error::label(label::PARTIAL_IV)));
    for kind in KINDS {
        // In one bucket: unprotected, protected.
        let m = kind.with_unprotected(&[h("a2"), both.clone()].concat());
        assert_eq!(kind.decode(&m.bytes), expected, "{kind:?} unprotected");
        let m = kind.with_protected(&kind.protected_with(2, &both));
        assert_eq!(kind.decode(&m.bytes), expected, "{kind:?} protected");
        // Split over the two buckets: still the same security layer.
        for (p, u) in [(&iv, &piv), (&piv, &iv)] {
            let m = kind.build(
                None,
                &kind.protected_with(1, p),
                &[h("a1"), u.clone()].concat(),
            );
            assert_eq!(kind.decode(&m.bytes), expected, "{kind:?} split {p:02x?}");
        }
    }
    // The Encrypt0 builder refuses to write both.
    let mut c = crypto();
    let mut out = [0u8; 256];
    let key = SymmetricKey {
        base_iv: Some(&NONCE13),
        ..SymmetricKey::new(&CCM_KEY)
    };
    for iv_protected in [false, true] {
        let mut b = Encrypt0Builder::new(Algorithm::AesCcm16_64_128);
        if iv_protected {
            b.protected.iv = Some(&NONCE13);
            b.unprotected.partial_iv = Some(b"\x01");
        } else {
            b.unprotected.iv = Some(&NONCE13);
            b.protected.partial_iv = Some(b"\x01");
        }
        let r = b.encrypt(&mut c, &key, b"p", b"", &mut out);
        assert_eq!(
            r,
            Err(Error::InvalidHeader(Error::label(label::PARTIAL_IV))),
            "IV protected: {iv_protected}"
        );
    }
}

#[test]
fn duplicate_labels() {
    for kind in KINDS {
        let dup = |m: &Msg, at| assert_cbor(kind.decode(&m.bytes), CborError::DuplicateKey, at);
        // Modelled labels: {4: h'01', 4: h'02'}; the offset is that of the second key.
        let m = kind.with_unprotected(&h("a2 04 4101 04 4102"));
        dup(&m, m.unprotected_at + 4);
        // alg twice in the protected bucket, once in a longer encoding (0x18 0x01 is 1 too).
        let m = kind.with_protected(&kind.protected_with(1, &[0x01, kind.alg()]));
        dup(&m, m.protected_at + 3);
        let m = kind.with_protected(&kind.protected_with(1, &[0x18, 0x01, kind.alg()]));
        dup(&m, m.protected_at + 3);
        // Labels this implementation does not model: {99: 0, 99: 1}, {"x": 0, 4: h'', "x": 1}.
        let m = kind.with_unprotected(&h("a2 1863 00 1863 01"));
        dup(&m, m.unprotected_at + 4);
        let m = kind.with_unprotected(&h("a3 6178 00 04 40 6178 01"));
        dup(&m, m.unprotected_at + 6);
        // {1: alg, -100: 0, -100: 0}
        let m = kind.with_protected(&kind.protected_with(2, &h("3863 00 3863 00")));
        dup(&m, m.protected_at + 6);
        // The same unknown label in a longer encoding: {99: 0, 99: 1}, {"x": 0, "x": 1}.
        let m = kind.with_unprotected(&h("a2 1863 00 190063 01"));
        dup(&m, m.unprotected_at + 4);
        let m = kind.with_unprotected(&h("a2 6178 00 780178 01"));
        dup(&m, m.unprotected_at + 4);
        // A label beyond 32 bits is not the modelled label of its low bits: {4: h'01', 2^32 + 4: 0}.
        let m = kind.with_unprotected(&h("a2 04 4101 1b0000000100000004 00"));
        kind.decode(&m.bytes).unwrap();
        // Control: distinct unknown labels are skipped. {99: 0, 100: 1, "x": 2}
        let m = kind.with_unprotected(&h("a3 1863 00 1864 01 6178 02"));
        kind.decode(&m.bytes).unwrap();
    }
    // The duplicate check is bounded: a map holds at most MAX_HEADER_PARAMS parameters.
    // {1000: 0, 1001: 0, ...}
    let entries = |n: u64| {
        let entries: Vec<Vec<u8>> = (0..n)
            .map(|i| [head(0, 1000 + i), h("00")].concat())
            .collect();
        entries.concat()
    };
    let unknown = |n: u64| [head(5, n), entries(n)].concat();
    for kind in KINDS {
        let m = kind.with_unprotected(&unknown(MAX_HEADER_PARAMS));
        kind.decode(&m.bytes).unwrap();
        let m = kind.with_unprotected(&unknown(MAX_HEADER_PARAMS + 1));
        assert_eq!(kind.decode(&m.bytes), Err(Error::CapacityExceeded));
    }
    // COSE_Key: kty twice, k twice, an unknown parameter twice.
    let dup = |key: &str, at| assert_cbor(cose_key(&h(key)), CborError::DuplicateKey, at);
    dup("a3 01 04 01 04 20 4100", 3);
    dup("a3 01 04 20 4100 20 4101", 6);
    dup("a4 01 04 20 4100 1863 00 1863 00", 9);
    // ... and at most MAX_HEADER_PARAMS parameters: {1: 4, -1: h'00', 1000: 0, ...}.
    let key = |n: u64| [head(5, n), h("01 04 20 4100"), entries(n - 2)].concat();
    CoseKey::decode(&key(MAX_HEADER_PARAMS)).unwrap();
    assert_eq!(
        CoseKey::decode(&key(MAX_HEADER_PARAMS + 1)),
        Err(Error::CapacityExceeded)
    );
}

/// RFC 8949 section 3.3: a two-byte simple value below 32 (`f8 19`) is not well-formed; the
/// bounded reader refuses it as diag does (found by the `cbor_diag` fuzz target).
#[test]
fn reader_refuses_two_byte_simple_below_32() {
    let mut r = Reader::new(&[0x81, 0xf8, 0x19]);
    assert_eq!(
        r.skip(),
        Err(Error::Cbor {
            kind: CborError::Malformed,
            offset: 1
        })
    );
    assert!(Reader::new(&[0xf8, 0x20]).skip().is_ok());
}

/// A reader started inside a larger input counts positions and error offsets from that input's
/// start, and stops at its end.
#[test]
fn reader_started_inside_an_input_reports_offsets_in_it() {
    // [1, "a", h'00'] then a truncated byte string at offset 6.
    let input = h("830161614100 42ff");
    let mut r = Reader::with_limits_at(&input, 1, Limits::default());
    assert_eq!(r.position(), 1);
    assert_eq!(r.uint().ok(), Some(1));
    assert_cbor(r.uint(), CborError::UnexpectedType, 2);
    assert_eq!(r.str().ok(), Some("a"));
    assert_eq!(r.bytes().ok(), Some(&[0u8][..]));
    assert_eq!(r.position(), 6);
    assert_cbor(r.finish(), CborError::TrailingBytes, 6);
    assert_cbor(r.bytes(), CborError::Truncated, 6);
    // Past the end: nothing to read, at the offset asked for.
    let mut r = Reader::with_limits_at(&input, 9, Limits::default());
    assert_cbor(r.uint(), CborError::Truncated, 9);
}
