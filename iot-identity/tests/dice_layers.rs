//! DICE layering (Open Profile for DICE, "Layering Details"): a two-layer chain from the UDS
//! verifies; CDIs react to the inputs they should and only those; certificates carry the inputs;
//! tampering, misordering and wrong keys are refused with a typed reason; the key derivation's
//! DRBG retries as RFC 6979 section 3.2 step h says.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use iot_core::crypto::{
    P256SigningKey, P256VerifyingKey, RustCrypto, SHA256_LEN, Sha256, Signer as _,
};
use iot_identity::Error;
use iot_identity::dice::crypto::{HkdfSha512, HmacSha512, P256Keys, SHA512_LEN, Sha512};
use iot_identity::dice::{
    Cdi, Cdis, Config, DiceCertificate, DiceClaims, DiceLayer, DicePublicKey, InputValues,
    KEY_USAGE_CERT_SIGN, MAX_KEY_TRIES, Mode, certificate_len, derive_cdis, derive_key_pair, label,
    p256_key_pair_from_seed, private_key_seed, verify_chain, write_certificate,
};

type Backend = RustCrypto<getrandom::SysRng>;

fn crypto() -> Backend {
    RustCrypto::from_os()
}

const UDS: [u8; 32] = *b"a provisioned unique device sec.";
const BL1_CODE: [u8; 64] = [0x11; 64];
const BL1_CONFIG: [u8; 64] = [0x22; 64];
const AUTHORITY: [u8; 64] = [0x33; 64];
const HIDDEN: [u8; 64] = [0x44; 64];
const APP_CODE: [u8; 64] = [0x55; 64];
const APP_CONFIG: &[u8] = b"{\"version\":7,\"debug\":false}";

fn bl1_inputs() -> InputValues<'static> {
    InputValues {
        code_hash: &BL1_CODE,
        config: Config::Inline(&BL1_CONFIG),
        authority_hash: &AUTHORITY,
        mode: Mode::Normal,
        hidden: &HIDDEN,
        ..InputValues::default()
    }
}

fn app_inputs() -> InputValues<'static> {
    InputValues {
        code_hash: &APP_CODE,
        code_descriptor: Some(b"app v7"),
        config: Config::Descriptor(APP_CONFIG),
        authority_hash: &AUTHORITY,
        authority_descriptor: Some(b"vendor key 1"),
        mode: Mode::Normal,
        hidden: &[0; 64],
    }
}

/// Boots ROM -> BL1 -> app and returns UDS_Public, both certificates and the app's layer.
fn boot() -> (
    DicePublicKey,
    Vec<u8>,
    Vec<u8>,
    DiceLayer<iot_identity::dice::Derived>,
) {
    let mut c = crypto();
    let rom = DiceLayer::from_uds(&Cdi::from_bytes(UDS));
    let uds_public = rom.public_key(&mut c).unwrap();
    let (mut scratch, mut cert1, mut cert2) = ([0u8; 1024], [0u8; 1024], [0u8; 1024]);
    let (bl1, n1) = rom
        .derive_next(&mut c, &bl1_inputs(), None, &mut scratch, &mut cert1)
        .unwrap();
    // BL1 hands its CDIs to the app, which starts its own layer from them.
    let bl1 = DiceLayer::from_cdis(bl1.into_cdis());
    let (app, n2) = bl1
        .derive_next(
            &mut c,
            &app_inputs(),
            Some("iot.example"),
            &mut scratch,
            &mut cert2,
        )
        .unwrap();
    (uds_public, cert1[..n1].to_vec(), cert2[..n2].to_vec(), app)
}

#[test]
fn two_layer_chain_verifies() {
    let mut c = crypto();
    let (uds_public, cert1, cert2, app) = boot();
    let leaf = verify_chain(&mut c, &uds_public, [&cert1[..], &cert2[..]]).unwrap();
    assert_eq!(leaf, app.public_key(&mut c).unwrap());

    // The chain links by IDs: cert1's subject is cert2's issuer, cert1's issuer is UDS_ID.
    let d1 = DiceCertificate::decode(&cert1).unwrap();
    let d2 = DiceCertificate::decode(&cert2).unwrap();
    assert_eq!(d1.claims.subject, d2.claims.issuer);
    assert_eq!(
        d1.claims.issuer,
        uds_public.id(&mut c).unwrap().to_hex().as_str()
    );
    assert_eq!(d2.claims.subject, app.id(&mut c).unwrap().to_hex().as_str());
    assert_ne!(d1.claims.subject, d2.claims.subject);

    // The app's certificate is signed by BL1's key, the key the app's certificate chain names.
    let bl1_key = d1.claims.subject_key().unwrap();
    d2.verify_signature(&mut c, &bl1_key).unwrap();
    assert!(d2.verify_signature(&mut c, &uds_public).is_err());
}

#[test]
fn certificates_carry_the_inputs() {
    let mut c = crypto();
    let (_, cert1, cert2, _) = boot();
    let d1 = DiceCertificate::decode(&cert1).unwrap().claims;
    assert_eq!(d1.code_hash, Some(&BL1_CODE[..]));
    assert_eq!(d1.code_descriptor, None);
    assert_eq!(d1.config_descriptor, Some(&BL1_CONFIG[..]));
    assert_eq!(d1.config_hash, None);
    assert_eq!(d1.authority_hash, Some(&AUTHORITY[..]));
    assert_eq!(d1.mode, Some(1));
    assert_eq!(d1.key_usage, Some(&[KEY_USAGE_CERT_SIGN][..]));
    assert_eq!(d1.profile_name, None);
    // The hidden input is in no certificate.
    assert!(!cert1.windows(64).any(|w| w == HIDDEN));
    assert_eq!(cert1.len(), certificate_len(&bl1_inputs(), None));

    let d2 = DiceCertificate::decode(&cert2).unwrap().claims;
    assert_eq!(d2.code_descriptor, Some(&b"app v7"[..]));
    assert_eq!(d2.config_descriptor, Some(APP_CONFIG));
    let mut h = c.sha512_start();
    c.sha512_update(&mut h, APP_CONFIG);
    assert_eq!(d2.config_hash, Some(&c.sha512_finish(h)[..]));
    assert_eq!(d2.authority_descriptor, Some(&b"vendor key 1"[..]));
    assert_eq!(d2.profile_name, Some("iot.example"));
    assert_eq!(
        cert2.len(),
        certificate_len(&app_inputs(), Some("iot.example"))
    );
}

#[test]
fn cdis_follow_their_inputs() {
    let mut c = crypto();
    let root = Cdis::from_uds(&Cdi::from_bytes(UDS));
    let base = derive_cdis(&mut c, &root, &bl1_inputs()).unwrap();
    let with = |c: &mut Backend, inputs: &InputValues<'_>| derive_cdis(c, &root, inputs).unwrap();

    // Code and configuration change CDI_Attest only: sealed data survives an update.
    let code = [0x12; 64];
    for changed in [
        InputValues {
            code_hash: &code,
            ..bl1_inputs()
        },
        InputValues {
            config: Config::Inline(&code),
            ..bl1_inputs()
        },
        InputValues {
            config: Config::Descriptor(b"other"),
            ..bl1_inputs()
        },
    ] {
        let next = with(&mut c, &changed);
        assert_ne!(next.attest.as_bytes(), base.attest.as_bytes());
        assert_eq!(next.seal.as_bytes(), base.seal.as_bytes());
    }
    // Authority, mode and hidden change both.
    let hidden = [0x45; 64];
    for changed in [
        InputValues {
            authority_hash: &code,
            ..bl1_inputs()
        },
        InputValues {
            mode: Mode::Debug,
            ..bl1_inputs()
        },
        InputValues {
            hidden: &hidden,
            ..bl1_inputs()
        },
    ] {
        let next = with(&mut c, &changed);
        assert_ne!(next.attest.as_bytes(), base.attest.as_bytes());
        assert_ne!(next.seal.as_bytes(), base.seal.as_bytes());
    }
    // Descriptors are in the certificate only: they do not enter the CDIs.
    let described = with(
        &mut c,
        &InputValues {
            code_descriptor: Some(b"x"),
            authority_descriptor: Some(b"y"),
            ..bl1_inputs()
        },
    );
    assert_eq!(described.attest.as_bytes(), base.attest.as_bytes());
    // A descriptor's configuration value is its SHA-512.
    let mut h = c.sha512_start();
    c.sha512_update(&mut h, b"other");
    let digest = c.sha512_finish(h);
    assert_eq!(
        with(
            &mut c,
            &InputValues {
                config: Config::Descriptor(b"other"),
                ..bl1_inputs()
            }
        )
        .attest
        .as_bytes(),
        with(
            &mut c,
            &InputValues {
                config: Config::Inline(&digest),
                ..bl1_inputs()
            }
        )
        .attest
        .as_bytes()
    );
    // Another UDS, other CDIs; the same inputs twice, the same CDIs.
    let other = derive_cdis(
        &mut c,
        &Cdis::from_uds(&Cdi::from_bytes([9; 32])),
        &bl1_inputs(),
    )
    .unwrap();
    assert_ne!(other.attest.as_bytes(), base.attest.as_bytes());
    assert_ne!(other.seal.as_bytes(), base.seal.as_bytes());
    assert_eq!(
        with(&mut c, &bl1_inputs()).attest.as_bytes(),
        base.attest.as_bytes()
    );
}

#[test]
fn chain_errors_are_typed() {
    let mut c = crypto();
    let (uds_public, cert1, cert2, _) = boot();
    // Out of order, or missing a link: the issuer does not match.
    assert_eq!(
        verify_chain(&mut c, &uds_public, [&cert2[..], &cert1[..]]),
        Err(Error::IssuerMismatch)
    );
    assert_eq!(
        verify_chain(&mut c, &uds_public, [&cert2[..]]),
        Err(Error::IssuerMismatch)
    );
    // Another root.
    let other = DiceLayer::from_uds(&Cdi::from_bytes([7; 32]))
        .public_key(&mut c)
        .unwrap();
    assert_eq!(
        verify_chain(&mut c, &other, [&cert1[..]]),
        Err(Error::IssuerMismatch)
    );

    // Every single-byte change in the signed part or the signature is caught.
    let sig_start = cert1.len() - 64;
    for i in 0..cert1.len() {
        let mut bad = cert1.clone();
        bad[i] ^= 0x01;
        let r = verify_chain(&mut c, &uds_public, [&bad[..]]);
        assert!(r.is_err(), "flip at byte {i} accepted");
        if i >= sig_start {
            assert_eq!(
                r,
                Err(Error::Core(iot_core::Error::BadSignature)),
                "byte {i}"
            );
        }
    }
    // Truncated and tagged certificates.
    assert!(matches!(
        DiceCertificate::decode(&cert1[..cert1.len() - 1]),
        Err(Error::Core(iot_core::Error::Cbor { .. }))
    ));
    let mut tagged = vec![0xd2];
    tagged.extend_from_slice(&cert1);
    assert_eq!(
        DiceCertificate::decode(&tagged),
        Err(Error::Core(iot_core::Error::WrongTag(18)))
    );
}

/// A certificate signed correctly whose claims lie: the subject or key usage is refused.
#[test]
fn lying_claims_are_refused() {
    let mut c = crypto();
    let root = DiceLayer::from_uds(&Cdi::from_bytes(UDS));
    let mut authority = root.key_pair(&mut c).unwrap();
    let subject = derive_key_pair(&mut c, &Cdi::from_bytes([5; 32]))
        .unwrap()
        .public_key;
    let mut scratch = [0u8; 1024];
    let mut out = [0u8; 1024];
    let n = write_certificate(
        &mut c,
        &mut authority,
        &subject,
        &InputValues::default(),
        None,
        &mut scratch,
        &mut out,
    )
    .unwrap();
    let good = out[..n].to_vec();
    assert_eq!(
        DiceCertificate::decode(&good)
            .unwrap()
            .verify(&mut c, &authority.public_key),
        Ok(subject)
    );

    // Re-sign the same claims with a changed subject ID or key usage.
    let resign = |c: &mut Backend, authority: &mut P256SigningKey, payload: &[u8]| {
        let mut b = iot_core::cose::Sign1Builder::new(iot_core::cose::Algorithm::Es256);
        b.tagged = false;
        let mut out = vec![0u8; payload.len() + 100];
        let n = b.sign(c, authority, payload, &[], &mut out).unwrap();
        out.truncate(n);
        out
    };
    let payload = DiceCertificate::decode(&good)
        .unwrap()
        .sign1
        .payload
        .unwrap()
        .to_vec();
    let sub = DiceClaims::decode(&payload).unwrap().subject.to_owned();
    let mut wrong_sub = payload.clone();
    let at = wrong_sub
        .windows(40)
        .position(|w| w == sub.as_bytes())
        .unwrap();
    wrong_sub[at] = if sub.as_bytes()[0] == b'0' {
        b'1'
    } else {
        b'0'
    };
    let cert = resign(&mut c, &mut authority.signing_key, &wrong_sub);
    assert_eq!(
        DiceCertificate::decode(&cert)
            .unwrap()
            .verify(&mut c, &authority.public_key),
        Err(Error::SubjectMismatch)
    );

    // Key usage without keyCertSign (digitalSignature only).
    let ku = [0x3a, 0x00, 0x47, 0x44, 0x58, 0x41, KEY_USAGE_CERT_SIGN];
    let at = payload.windows(ku.len()).position(|w| w == ku).unwrap();
    let mut wrong_ku = payload.clone();
    wrong_ku[at + ku.len() - 1] = 0x01;
    let cert = resign(&mut c, &mut authority.signing_key, &wrong_ku);
    assert_eq!(
        DiceCertificate::decode(&cert)
            .unwrap()
            .verify(&mut c, &authority.public_key),
        Err(Error::KeyUsage)
    );

    // A claim of the wrong type, and a claim given twice.
    let mode = [0x3a, 0x00, 0x47, 0x44, 0x56, 0x41, 0x00];
    let at = payload.windows(mode.len()).position(|w| w == mode).unwrap();
    let mut wrong_mode = payload.clone();
    // h'00' becomes 0x18 0x00, the unsigned integer 0 in two bytes: same size, wrong type.
    wrong_mode[at + 5] = 0x18;
    assert_eq!(
        DiceClaims::decode(&wrong_mode),
        Err(Error::InvalidClaim(label::MODE))
    );
    // The map head a8 (8 pairs) becomes a9 and mode appears again at the end.
    let head = payload[0];
    assert_eq!(head, 0xa8);
    let mut twice = payload.clone();
    twice[0] = head + 1;
    twice.extend_from_slice(&mode);
    assert_eq!(
        DiceClaims::decode(&twice),
        Err(Error::InvalidClaim(label::MODE))
    );
    // Unknown claims, integer or text, are skipped.
    let mut extra = payload.clone();
    extra[0] = head + 2;
    extra.extend_from_slice(&[0x06, 0x1a, 0x65, 0x00, 0x00, 0x00]); // iat
    extra.extend_from_slice(&[0x61, b'x', 0x80]); // "x": []
    assert_eq!(
        DiceClaims::decode(&extra).unwrap(),
        DiceClaims::decode(&payload).unwrap()
    );
    // Required claims missing: without subjectPublicKey the map fails.
    let spk = [0x3a, 0x00, 0x47, 0x44, 0x57];
    let at = payload.windows(spk.len()).position(|w| w == spk).unwrap();
    let mut missing = payload[..at].to_vec();
    missing.extend_from_slice(&payload[at + spk.len() + 2 + 80..]);
    missing[0] = head - 1;
    assert_eq!(
        DiceClaims::decode(&missing),
        Err(Error::InvalidClaim(label::SUBJECT_PUBLIC_KEY))
    );
}

#[test]
fn buffers_too_small_are_errors() {
    let mut c = crypto();
    let root = DiceLayer::from_uds(&Cdi::from_bytes(UDS));
    let mut authority = root.key_pair(&mut c).unwrap();
    let subject = authority.public_key;
    let need = certificate_len(&InputValues::default(), None);
    let mut big = vec![0u8; need];
    for (scratch, out) in [(need - 80, need), (need, need - 1), (0, need)] {
        let mut s = vec![0u8; scratch];
        let mut o = vec![0u8; out];
        assert_eq!(
            write_certificate(
                &mut c,
                &mut authority,
                &subject,
                &InputValues::default(),
                None,
                &mut s,
                &mut o
            ),
            Err(Error::Core(iot_core::Error::BufferTooSmall)),
            "scratch {scratch}, out {out}"
        );
    }
    let mut s = vec![0u8; need];
    assert_eq!(
        write_certificate(
            &mut c,
            &mut authority,
            &subject,
            &InputValues::default(),
            None,
            &mut s,
            &mut big
        ),
        Ok(need)
    );
}

/// A backend whose P-256 key maker refuses the first `reject` scalars (as if they were not
/// below the group order), to drive the DRBG's retry step.
struct Picky {
    inner: Backend,
    reject: usize,
    seen: Vec<[u8; 32]>,
}

impl Sha512 for Picky {
    type Sha512State = <Backend as Sha512>::Sha512State;
    fn sha512_start(&mut self) -> Self::Sha512State {
        self.inner.sha512_start()
    }
    fn sha512_update(&mut self, state: &mut Self::Sha512State, data: &[u8]) {
        self.inner.sha512_update(state, data);
    }
    fn sha512_finish(&mut self, state: Self::Sha512State) -> [u8; SHA512_LEN] {
        self.inner.sha512_finish(state)
    }
}

impl HmacSha512 for Picky {
    fn hmac_sha512(
        &mut self,
        key: &[u8],
        parts: &[&[u8]],
        out: &mut [u8; SHA512_LEN],
    ) -> iot_core::Result<()> {
        self.inner.hmac_sha512(key, parts, out)
    }
}

impl HkdfSha512 for Picky {
    fn hkdf_sha512(
        &mut self,
        salt: &[u8],
        ikm: &[u8],
        info: &[u8],
        okm: &mut [u8],
    ) -> iot_core::Result<()> {
        self.inner.hkdf_sha512(salt, ikm, info, okm)
    }
}

impl P256Keys for Picky {
    type SigningKey = P256SigningKey;
    type VerifyingKey = P256VerifyingKey;
    fn p256_signing_key(&mut self, d: &[u8; 32]) -> iot_core::Result<(P256SigningKey, [u8; 64])> {
        self.seen.push(*d);
        if self.seen.len() <= self.reject {
            return Err(iot_core::Error::InvalidKey);
        }
        self.inner.p256_signing_key(d)
    }
    fn p256_verifying_key(&mut self, xy: &[u8; 64]) -> iot_core::Result<P256VerifyingKey> {
        self.inner.p256_verifying_key(xy)
    }
}

impl Sha256 for Picky {
    type Sha256State = <Backend as Sha256>::Sha256State;
    fn sha256_start(&mut self) -> Self::Sha256State {
        self.inner.sha256_start()
    }
    fn sha256_update(&mut self, state: &mut Self::Sha256State, data: &[u8]) {
        self.inner.sha256_update(state, data);
    }
    fn sha256_finish(&mut self, state: Self::Sha256State) -> [u8; SHA256_LEN] {
        self.inner.sha256_finish(state)
    }
}

/// RFC 6979 section 3.2 with HMAC-SHA-512, written out here step by step: the first `n`
/// candidates the DRBG yields for `seed`.
fn drbg_candidates(c: &mut Backend, seed: &[u8], n: usize) -> Vec<[u8; 32]> {
    let hmac = |c: &mut Backend, k: &[u8; 64], parts: &[&[u8]]| {
        let mut out = [0u8; 64];
        c.hmac_sha512(k, parts, &mut out).unwrap();
        out
    };
    let (mut k, mut v) = ([0u8; 64], [1u8; 64]);
    k = hmac(c, &k, &[&v, &[0], seed]); // d
    v = hmac(c, &k, &[&v]); // e
    k = hmac(c, &k, &[&v, &[1], seed]); // f
    v = hmac(c, &k, &[&v]); // g
    let mut out = Vec::new();
    for _ in 0..n {
        v = hmac(c, &k, &[&v]); // h.2
        out.push(v[..32].try_into().unwrap());
        k = hmac(c, &k, &[&v, &[0]]); // h.3
        v = hmac(c, &k, &[&v]);
    }
    out
}

#[test]
fn key_derivation_retries_like_rfc6979() {
    let seed = private_key_seed(&mut crypto(), &Cdi::from_bytes(UDS)).unwrap();
    let expected = drbg_candidates(&mut crypto(), &seed[..], MAX_KEY_TRIES);

    // No retry: the first candidate is the private key.
    let mut picky = Picky {
        inner: crypto(),
        reject: 0,
        seen: Vec::new(),
    };
    let pair = p256_key_pair_from_seed(&mut picky, &seed).unwrap();
    assert_eq!(picky.seen, expected[..1]);
    let direct = P256SigningKey::from_bytes(&expected[0]).unwrap();
    assert_eq!(
        direct.verifying_key().to_sec1_uncompressed()[1..],
        pair.public_key.0
    );

    // Two refused: the third candidate is used.
    let mut picky = Picky {
        inner: crypto(),
        reject: 2,
        seen: Vec::new(),
    };
    let mut pair = p256_key_pair_from_seed(&mut picky, &seed).unwrap();
    assert_eq!(picky.seen, expected[..3]);
    let third = P256SigningKey::from_bytes(&expected[2]).unwrap();
    assert_eq!(
        third.verifying_key().to_sec1_uncompressed()[1..],
        pair.public_key.0
    );
    // And it signs for that public key.
    let digest = [7u8; 32];
    let sig = pair.signing_key.sign_digest(&digest).unwrap();
    let mut vk = picky.p256_verifying_key(&pair.public_key.0).unwrap();
    iot_core::crypto::Verifier::verify_digest(&mut vk, &digest, &sig).unwrap();

    // All refused: a typed error after MAX_KEY_TRIES candidates.
    let mut picky = Picky {
        inner: crypto(),
        reject: usize::MAX,
        seen: Vec::new(),
    };
    assert_eq!(
        p256_key_pair_from_seed(&mut picky, &seed).map(|p| p.public_key),
        Err(Error::KeyDerivation)
    );
    assert_eq!(picky.seen, expected);

    // The whole layer flow works through a backend other than RustCrypto itself.
    let mut picky = Picky {
        inner: crypto(),
        reject: 0,
        seen: Vec::new(),
    };
    let rom = DiceLayer::from_uds(&Cdi::from_bytes(UDS));
    let uds_public = rom.public_key(&mut picky).unwrap();
    let (mut scratch, mut cert) = ([0u8; 600], [0u8; 600]);
    let (_, n) = rom
        .derive_next(&mut picky, &bl1_inputs(), None, &mut scratch, &mut cert)
        .unwrap();
    let (_, cert1, _, _) = boot();
    assert_eq!(cert[..n], cert1[..]);
    verify_chain(&mut picky, &uds_public, [&cert[..n]]).unwrap();
}
