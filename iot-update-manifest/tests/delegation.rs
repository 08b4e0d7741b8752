//! `suit-delegation` (draft-ietf-suit-trust-domains, feature `delegation`) with keys made here:
//! one- and two-level chains from a trust anchor, every refusal with its typed error, the claims
//! policy (src/delegation.rs), and a property: no single-byte change of the member lets a key
//! that no valid chain confirms authenticate. The libcsuit delegated-authority vector is in
//! tests/encryption.rs (`es_ecdh_dependency_authenticates_through_its_delegation`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
mod sim;

use common::{Auth, Extra, cbor, envelope, minimal};
use iot_core::CborError;
use iot_core::cose::{Algorithm, Sign1Builder};
use iot_core::crypto::{P256SigningKey, P256VerifyingKey, RustCrypto};
use iot_update_manifest::delegation::{
    Delegation, DelegationError, MAX_CHAIN_LENGTH, MAX_CHAINS, Reason, read_cwt,
};
use iot_update_manifest::{Capacity, Envelope, Error, Processor, TrustAnchors};
use proptest::prelude::*;

fn key(byte: u8) -> P256SigningKey {
    P256SigningKey::from_bytes(&[byte; 32]).unwrap()
}

/// The trust anchor.
fn anchor() -> P256SigningKey {
    key(0x21)
}
/// The envelopes' signer (tests/common `signing_key`): the delegate.
fn delegate() -> P256SigningKey {
    common::signing_key()
}
/// An intermediate authority.
fn intermediate() -> P256SigningKey {
    key(0x31)
}
/// A key nobody delegated to.
fn stranger() -> P256SigningKey {
    key(0x41)
}

/// The `COSE_Key` of a public key (EC2, P-256, x and y).
fn cose_key(e: &mut common::Enc, k: &P256SigningKey) {
    let sec1 = k.verifying_key().to_sec1_uncompressed();
    e.map(4).unwrap();
    e.u8(1).unwrap().u8(2).unwrap();
    e.i8(-1).unwrap().u8(1).unwrap();
    e.i8(-2).unwrap().bytes(&sec1[1..33]).unwrap();
    e.i8(-3).unwrap().bytes(&sec1[33..]).unwrap();
}

/// The members of `k`'s public COSE_Key, (label, encoded value): kty EC2, crv P-256, x, y.
fn ec2(k: &P256SigningKey) -> Vec<(i64, Vec<u8>)> {
    let sec1 = k.verifying_key().to_sec1_uncompressed();
    let b = |v: &[u8]| {
        cbor(|e| {
            e.bytes(v).unwrap();
        })
    };
    vec![
        (1, vec![2]),
        (-1, vec![1]),
        (-2, b(&sec1[1..33])),
        (-3, b(&sec1[33..])),
    ]
}

/// A claims set `{8: {1: COSE_Key}}`, the COSE_Key with these members.
fn cnf_with(members: &[(i64, Vec<u8>)]) -> Vec<u8> {
    cbor(|e| {
        e.map(1)
            .unwrap()
            .u8(8)
            .unwrap()
            .map(1)
            .unwrap()
            .u8(1)
            .unwrap();
        e.map(members.len() as u64).unwrap();
        for (label, value) in members {
            e.i64(*label).unwrap();
            e.writer_mut().extend_from_slice(value);
        }
    })
}

/// A claims set `{8: {1: COSE_Key of subject}}` plus `extra` (label, encoded value) pairs.
fn claims(subject: &P256SigningKey, extra: &[(i64, Vec<u8>)]) -> Vec<u8> {
    cbor(|e| {
        e.map(1 + extra.len() as u64).unwrap();
        for (label, value) in extra {
            e.i64(*label).unwrap();
            e.writer_mut().extend_from_slice(value);
        }
        e.u8(8).unwrap().map(1).unwrap().u8(1).unwrap();
        cose_key(e, subject);
    })
}

/// A CWT: `claims` in a COSE_Sign1 (ES256, tag 18 unless `untagged`) signed by `issuer`.
fn sign(issuer: &mut P256SigningKey, claims: &[u8], tagged: bool) -> Vec<u8> {
    let mut out = vec![0u8; 512];
    let b = Sign1Builder {
        tagged,
        ..Sign1Builder::new(Algorithm::Es256)
    };
    let n = b
        .sign(&mut RustCrypto::from_os(), issuer, claims, &[], &mut out)
        .unwrap();
    out.truncate(n);
    out
}

/// The CWT in which `issuer` confirms `subject`.
fn cwt(mut issuer: P256SigningKey, subject: &P256SigningKey) -> Vec<u8> {
    sign(&mut issuer, &claims(subject, &[]), true)
}

/// `SUIT_Delegation`: chains of CWTs, each wrapped in a bstr.
fn delegation(chains: &[&[Vec<u8>]]) -> Vec<u8> {
    cbor(|e| {
        e.array(chains.len() as u64).unwrap();
        for chain in chains {
            e.array(chain.len() as u64).unwrap();
            for c in *chain {
                e.bytes(c).unwrap();
            }
        }
    })
}

/// An envelope signed by `delegate()` carrying `suit-delegation` = `member` (none when `None`).
fn signed(member: Option<&[u8]>) -> Vec<u8> {
    match member {
        Some(m) => envelope(&minimal(1), Auth::Sign1, &[Extra::Int(1, m)]),
        None => envelope(&minimal(1), Auth::Sign1, &[]),
    }
}

/// Authenticates `bytes` with `anchor()` as the only trust anchor, on a device without a clock.
fn auth(bytes: &[u8]) -> Result<(), Error> {
    auth_at(bytes, None)
}

/// [`auth`] on a device whose clock reads `now`, if any.
fn auth_at(bytes: &[u8], now: Option<u64>) -> Result<(), Error> {
    let mut keys = [anchor().verifying_key()];
    let mut anchors = TrustAnchors::signers(&mut keys).at_time(now);
    Envelope::decode(bytes)?
        .authenticate(&mut RustCrypto::from_os(), &mut anchors)
        .map(|_| ())
}

/// Authenticates an envelope signed by `delegate()` carrying these chains.
fn with_chains(chains: &[&[Vec<u8>]]) -> Result<(), Error> {
    auth(&signed(Some(&delegation(chains))))
}

fn refused(chain: u8, link: u8, reason: Reason) -> Result<(), Error> {
    Err(Error::Delegation(DelegationError {
        chain,
        link,
        reason,
    }))
}

#[test]
fn one_level_chain_authenticates_the_delegate() {
    let member = delegation(&[&[cwt(anchor(), &delegate())]]);
    auth(&signed(Some(&member))).unwrap();
    // Without the member the delegate is no trust anchor.
    assert_eq!(
        auth(&signed(None)),
        Err(Error::NotAuthenticated(iot_core::Error::BadSignature))
    );
    // The chain confirms the delegate only: an envelope another key signed is still refused.
    let other = signed_by(stranger(), Some(&member));
    assert_eq!(
        auth(&other),
        Err(Error::NotAuthenticated(iot_core::Error::BadSignature))
    );
}

/// `minimal(1)` signed (ESP256) by `signer`, with an optional delegation.
fn signed_by(mut signer: P256SigningKey, member: Option<&[u8]>) -> Vec<u8> {
    let digest = common::digest_of(&minimal(1));
    let mut block = vec![0u8; 256];
    let n = Sign1Builder {
        detached: true,
        ..Sign1Builder::new(Algorithm::Esp256)
    }
    .sign(
        &mut RustCrypto::from_os(),
        &mut signer,
        &digest,
        &[],
        &mut block,
    )
    .unwrap();
    block.truncate(n);
    let wrapper = cbor(|e| {
        e.array(2)
            .unwrap()
            .bytes(&digest)
            .unwrap()
            .bytes(&block)
            .unwrap();
    });
    cbor(|e| {
        e.tag(minicbor::data::Tag::new(107)).unwrap();
        e.map(2 + u64::from(member.is_some())).unwrap();
        if let Some(m) = member {
            e.u8(1).unwrap().bytes(m).unwrap();
        }
        e.u8(2).unwrap().bytes(&wrapper).unwrap();
        e.u8(3).unwrap().bytes(&minimal(1)).unwrap();
    })
}

#[test]
fn two_level_chain() {
    let (a, i, d, x) = (anchor, intermediate, delegate, stranger);
    with_chains(&[&[cwt(a(), &i()), cwt(i(), &d())]]).unwrap();
    for (chain, link, what) in [
        (
            [cwt(a(), &i()), cwt(x(), &d())],
            1,
            "second CWT by a key the first does not confirm",
        ),
        (
            [cwt(x(), &i()), cwt(i(), &d())],
            0,
            "first CWT by a key that is no trust anchor",
        ),
        (
            [cwt(i(), &d()), cwt(a(), &i())],
            0,
            "the two in reverse order",
        ),
    ] {
        assert_eq!(
            with_chains(&[&chain]),
            refused(0, link, Reason::NotAuthenticated),
            "{what}"
        );
    }
}

/// Only the last CWT's key authenticates the manifest: an intermediate's signature does not.
#[test]
fn an_intermediate_key_does_not_sign_manifests() {
    let chain = [
        cwt(anchor(), &intermediate()),
        cwt(intermediate(), &delegate()),
    ];
    let member = delegation(&[&chain]);
    assert_eq!(
        auth(&signed_by(intermediate(), Some(&member))),
        Err(Error::NotAuthenticated(iot_core::Error::BadSignature))
    );
}

/// Every chain must hold, even one the envelope's signer does not need.
#[test]
fn every_chain_must_hold() {
    let good = [cwt(anchor(), &delegate())];
    let bad = [cwt(stranger(), &intermediate())];
    with_chains(&[&good, &good]).unwrap();
    assert_eq!(
        with_chains(&[&good, &bad]),
        refused(1, 0, Reason::NotAuthenticated)
    );
    // Also when the trust anchor itself signed the envelope.
    let mut anchors = [anchor().verifying_key(), delegate().verifying_key()];
    let env = signed(Some(&delegation(&[&bad])));
    let result = Envelope::decode(&env).unwrap().authenticate(
        &mut RustCrypto::from_os(),
        &mut TrustAnchors::signers(&mut anchors),
    );
    assert_eq!(result.map(|_| ()), refused(0, 0, Reason::NotAuthenticated));
}

#[test]
fn tampered_cwts_are_refused() {
    let good = cwt(anchor(), &delegate());
    // The signature's last bit.
    let mut flipped = good.clone();
    *flipped.last_mut().unwrap() ^= 1;
    assert_eq!(
        with_chains(&[&[flipped]]),
        refused(0, 0, Reason::NotAuthenticated)
    );
    // One bit of the confirmed key's x.
    let x = delegate().verifying_key().to_sec1_uncompressed();
    let at = good.windows(32).position(|w| w == &x[1..33]).unwrap();
    let mut altered = good.clone();
    altered[at + 5] ^= 0x10;
    assert_eq!(
        with_chains(&[&[altered]]),
        refused(0, 0, Reason::NotAuthenticated)
    );
    // A detached payload: nothing to confirm.
    let mut detached = vec![0u8; 256];
    let n = Sign1Builder {
        detached: true,
        ..Sign1Builder::new(Algorithm::Es256)
    }
    .sign(
        &mut RustCrypto::from_os(),
        &mut anchor(),
        &claims(&delegate(), &[]),
        &[],
        &mut detached,
    )
    .unwrap();
    detached.truncate(n);
    assert_eq!(
        with_chains(&[&[detached]]),
        refused(0, 0, Reason::NotAuthenticated)
    );
}

#[test]
fn untagged_cwts_are_accepted() {
    let untagged = sign(&mut anchor(), &claims(&delegate(), &[]), false);
    assert_ne!(untagged[0], 0xd2);
    with_chains(&[&[untagged]]).unwrap();
}

#[test]
fn empty_and_oversized_delegations() {
    assert_eq!(with_chains(&[]), refused(0, 0, Reason::Empty));
    let good = [cwt(anchor(), &delegate())];
    assert_eq!(with_chains(&[&good, &[]]), refused(1, 0, Reason::Empty));
    let many: Vec<&[Vec<u8>]> = (0..=MAX_CHAINS).map(|_| &good[..]).collect();
    assert_eq!(
        with_chains(&many),
        Err(Error::CapacityExceeded(Capacity::DelegationChains))
    );
    let mut long = vec![cwt(anchor(), &intermediate())];
    for _ in 0..MAX_CHAIN_LENGTH {
        long.push(cwt(intermediate(), &intermediate()));
    }
    assert_eq!(
        with_chains(&[&long]),
        Err(Error::CapacityExceeded(Capacity::DelegationChainLength))
    );
    // At the capacity: accepted.
    let mut longest = vec![cwt(anchor(), &intermediate())];
    for _ in 2..MAX_CHAIN_LENGTH {
        longest.push(cwt(intermediate(), &intermediate()));
    }
    longest.push(cwt(intermediate(), &delegate()));
    assert_eq!(longest.len(), MAX_CHAIN_LENGTH);
    let full: Vec<&[Vec<u8>]> = (0..MAX_CHAINS).map(|_| &longest[..]).collect();
    with_chains(&full).unwrap();
}

/// Malformed CBOR anywhere in the member: a typed CBOR error at its offset in the envelope.
#[test]
fn garbage_is_a_cbor_error() {
    for member in [
        &[0xff][..],
        &[0xa0],                   // a map
        &[0x81, 0x81, 0x05],       // a CWT that is not a bstr
        &[0x81, 0x81, 0x41, 0x00], // a CWT bstr holding 0
        &[0x81, 0x81, 0x42, 0xd2], // truncated inside the bstr
        &[0x9f, 0xff],             // indefinite length
    ] {
        let env = signed(Some(member));
        match auth(&env) {
            Err(Error::Core(iot_core::Error::Cbor { offset, .. })) => {
                assert!(offset < env.len(), "{member:02x?}: offset {offset}");
            }
            Err(Error::Core(iot_core::Error::WrongTag(_))) => {}
            other => panic!("{member:02x?}: {other:?}"),
        }
    }
    // Trailing bytes after a valid delegation.
    let mut trailing = delegation(&[&[cwt(anchor(), &delegate())]]);
    trailing.push(0);
    assert!(matches!(
        auth(&signed(Some(&trailing))),
        Err(Error::Core(iot_core::Error::Cbor {
            kind: CborError::TrailingBytes,
            ..
        }))
    ));
    // The error's offset names the byte in the envelope.
    let env = signed(Some(&[0x81, 0x81, 0x05]));
    let Err(Error::Core(iot_core::Error::Cbor { kind, offset })) = auth(&env) else {
        panic!()
    };
    assert_eq!(kind, CborError::UnexpectedType);
    assert_eq!(env[offset], 0x05);
}

#[test]
fn claims_policy() {
    let with = |extra: &[(i64, Vec<u8>)]| {
        let c = sign(&mut anchor(), &claims(&delegate(), extra), true);
        with_chains(&[&[c]])
    };
    let uint = |v: u64| {
        cbor(|e| {
            e.u64(v).unwrap();
        })
    };
    let text = |v: &str| {
        cbor(|e| {
            e.str(v).unwrap();
        })
    };
    // Informative claims are skipped: iss, sub, iat, cti, an unknown one.
    with(&[
        (1, text("issuer")),
        (2, text("subject")),
        (6, uint(1_700_000_000)),
        (
            7,
            cbor(|e| {
                e.bytes(b"id").unwrap();
            }),
        ),
        (-70000, uint(1)),
    ])
    .unwrap();
    // Restricting claims a device without clock or audience cannot honour are refused.
    for label in [3u8, 4, 5] {
        let value = if label == 3 { text("device") } else { uint(1) };
        assert_eq!(
            with(&[(i64::from(label), value)]),
            refused(0, 0, Reason::UnsupportedClaim(label))
        );
    }
    // With a clock, exp and nbf are checked (`clock_limits_delegation`); aud still is refused.
    let c = sign(
        &mut anchor(),
        &claims(&delegate(), &[(3, text("device"))]),
        true,
    );
    assert_eq!(
        auth_at(&signed(Some(&delegation(&[&[c]]))), Some(1_000)),
        refused(0, 0, Reason::UnsupportedClaim(3))
    );
    // A text-labelled claim is skipped.
    let c = cbor(|e| {
        e.map(2).unwrap().str("private").unwrap().u8(1).unwrap();
        e.u8(8).unwrap().map(1).unwrap().u8(1).unwrap();
        cose_key(e, &delegate());
    });
    with_chains(&[&[sign(&mut anchor(), &c, true)]]).unwrap();
    // No cnf; cnf with a kid instead of a COSE_Key; cnf with two methods.
    let no_cnf = cbor(|e| {
        e.map(1).unwrap().u8(1).unwrap().str("x").unwrap();
    });
    let kid_cnf = cbor(|e| {
        e.map(1).unwrap().u8(8).unwrap().map(1).unwrap();
        e.u8(3).unwrap().bytes(b"kid").unwrap();
    });
    let two = cbor(|e| {
        e.map(1)
            .unwrap()
            .u8(8)
            .unwrap()
            .map(2)
            .unwrap()
            .u8(1)
            .unwrap();
        cose_key(e, &delegate());
        e.u8(3).unwrap().bytes(b"kid").unwrap();
    });
    for c in [no_cnf, kid_cnf, two] {
        assert_eq!(
            with_chains(&[&[sign(&mut anchor(), &c, true)]]),
            refused(0, 0, Reason::NoConfirmationKey)
        );
    }
    // COSE_Keys that are no P-256 public key: symmetric, with a private part, off the curve.
    let bytes = |v: &[u8]| {
        cbor(|e| {
            e.bytes(v).unwrap();
        })
    };
    let sym = cnf_with(&[(1, vec![4]), (-1, bytes(&[0x61; 32]))]);
    let mut with_d = ec2(&delegate());
    with_d.push((-4, bytes(&[0x11; 32])));
    let private = cnf_with(&with_d);
    let off_curve = cnf_with(&[
        (1, vec![2]),
        (-1, vec![1]),
        (-2, bytes(&[1; 32])),
        (-3, bytes(&[2; 32])),
    ]);
    for c in [sym, private, off_curve] {
        assert_eq!(
            with_chains(&[&[sign(&mut anchor(), &c, true)]]),
            refused(0, 0, Reason::InvalidKey)
        );
    }
    // cnf twice: a duplicate key.
    let dup = cbor(|e| {
        e.map(2).unwrap();
        for _ in 0..2 {
            e.u8(8).unwrap().map(1).unwrap().u8(1).unwrap();
            cose_key(e, &delegate());
        }
    });
    let env = signed(Some(&delegation(&[&[sign(&mut anchor(), &dup, true)]])));
    assert!(matches!(
        auth(&env),
        Err(Error::Core(iot_core::Error::Cbor {
            kind: CborError::DuplicateKey,
            ..
        }))
    ));
}

/// A key's `alg` restriction holds: a delegate restricted to ESP256 does not verify ES256.
/// With a clock (`TrustAnchors::at_time`), a CWT holds from its `nbf` and until before its `exp`
/// (RFC 7519 sections 4.1.4, 4.1.5), whether they are integers or floats, in any chain link; a
/// NaN or infinite date holds never.
#[test]
fn clock_limits_delegation() {
    let date = |e: &mut common::Enc, t: f64| {
        if t.fract() == 0.0 && t.is_finite() {
            e.i64(t as i64).unwrap();
        } else {
            e.f64(t).unwrap();
        }
    };
    let limited = |nbf: Option<f64>, exp: Option<f64>| {
        let mut extra = Vec::new();
        if let Some(t) = nbf {
            extra.push((5, cbor(|e| date(e, t))));
        }
        if let Some(t) = exp {
            extra.push((4, cbor(|e| date(e, t))));
        }
        extra
    };
    let at = |now: u64, nbf: Option<f64>, exp: Option<f64>| {
        let c = sign(
            &mut anchor(),
            &claims(&delegate(), &limited(nbf, exp)),
            true,
        );
        auth_at(&signed(Some(&delegation(&[&[c]]))), Some(now))
    };
    let now = 1_700_000_000u64;
    let t = now as f64;
    assert_eq!(at(now, Some(t - 60.0), Some(t + 3600.0)), Ok(()));
    assert_eq!(at(now, Some(t), Some(t + 1.0)), Ok(()), "from nbf on");
    assert_eq!(at(now, None, Some(t + 0.5)), Ok(()), "a float exp");
    assert_eq!(at(now, Some(t - 0.5), None), Ok(()), "a float nbf");
    let expired = refused(0, 0, Reason::Expired);
    let early = refused(0, 0, Reason::NotYetValid);
    assert_eq!(at(now, None, Some(t)), expired, "until before exp");
    assert_eq!(at(now, None, Some(t - 0.5)), expired);
    assert_eq!(at(now, Some(t + 1.0), None), early);
    assert_eq!(at(now, Some(t + 0.25), None), early);
    assert_eq!(at(now, None, Some(f64::NAN)), expired);
    assert_eq!(at(now, None, Some(f64::INFINITY)), expired);
    assert_eq!(at(now, Some(f64::NEG_INFINITY), None), early);
    // A half-precision date is read too (2048 seconds after the epoch: long past).
    let half = vec![0xf9, 0x68, 0x00];
    let c = sign(&mut anchor(), &claims(&delegate(), &[(4, half)]), true);
    assert_eq!(
        auth_at(&signed(Some(&delegation(&[&[c]]))), Some(now)),
        expired
    );
    // A text date is a CBOR type error, with or without a clock.
    let text = cbor(|e| {
        e.str("tomorrow").unwrap();
    });
    let c = sign(&mut anchor(), &claims(&delegate(), &[(4, text)]), true);
    assert!(matches!(
        auth_at(&signed(Some(&delegation(&[&[c]]))), Some(now)),
        Err(Error::Core(iot_core::Error::Cbor {
            kind: CborError::UnexpectedType,
            ..
        }))
    ));
    // The second link of a chain expired: the chain is refused there.
    let limits = limited(Some(t - 10.0), Some(t - 1.0));
    let chain = [
        cwt(anchor(), &intermediate()),
        sign(&mut intermediate(), &claims(&delegate(), &limits), true),
    ];
    assert_eq!(
        auth_at(&signed(Some(&delegation(&[&chain]))), Some(now)),
        refused(0, 1, Reason::Expired)
    );
    // read_cwt shows the limits without checking them (a NaN for a date that is no date).
    let c = sign(
        &mut anchor(),
        &claims(&delegate(), &limited(Some(t - 0.5), Some(t))),
        true,
    );
    let view = read_cwt(&c).unwrap();
    assert_eq!((view.not_before, view.expires), (Some(t - 0.5), Some(t)));
    assert_eq!(view.key, read_cwt(&cwt(anchor(), &delegate())).unwrap().key);
    let c = sign(
        &mut anchor(),
        &claims(&delegate(), &limited(None, Some(f64::INFINITY))),
        true,
    );
    let view = read_cwt(&c).unwrap();
    assert!(view.not_before.is_none() && view.expires.is_some_and(f64::is_nan));
    // Delegation::verify takes the time alike.
    let c = sign(
        &mut anchor(),
        &claims(&delegate(), &limited(None, Some(t))),
        true,
    );
    let member = delegation(&[&[c]]);
    let d = Delegation::decode(&member).unwrap();
    let mut anchors = [anchor().verifying_key()];
    assert!(
        d.verify(&mut RustCrypto::from_os(), &mut anchors, Some(now - 1))
            .is_ok()
    );
    assert_eq!(
        d.verify(&mut RustCrypto::from_os(), &mut anchors, Some(now))
            .map(|_| ()),
        refused(0, 0, Reason::Expired)
    );
}

#[test]
fn confirmed_alg_restricts_the_delegate() {
    let restricted = |alg: i8| {
        let mut members = ec2(&delegate());
        members.push((
            3,
            cbor(|e| {
                e.i8(alg).unwrap();
            }),
        ));
        cnf_with(&members)
    };
    // tests/common signs envelopes with ESP256 (-9).
    let ok = sign(&mut anchor(), &restricted(-9), true);
    with_chains(&[&[ok]]).unwrap();
    let es256_only = sign(&mut anchor(), &restricted(-7), true);
    assert_eq!(
        with_chains(&[&[es256_only]]),
        Err(Error::NotAuthenticated(iot_core::Error::AlgorithmMismatch))
    );
}

/// The public reading API: chains, CWT bytes and the keys they name (unverified), and `verify`.
#[test]
fn reading_a_delegation() {
    let chain = [
        cwt(anchor(), &intermediate()),
        cwt(intermediate(), &delegate()),
    ];
    let member = delegation(&[&chain]);
    let d = Delegation::decode(&member).unwrap();
    let cwts: Vec<Vec<&[u8]>> = d.chains().map(|c| c.collect()).collect();
    assert_eq!(cwts, [[&chain[0][..], &chain[1][..]]]);
    let iot_core::cose::CoseKey::Ec2 { x, .. } = read_cwt(cwts[0][1]).unwrap().key else {
        panic!()
    };
    assert_eq!(x, &delegate().verifying_key().to_sec1_uncompressed()[1..33]);
    let keys = d
        .verify(
            &mut RustCrypto::from_os(),
            &mut [anchor().verifying_key()],
            None,
        )
        .unwrap();
    assert_eq!(keys.as_slice(), [delegate().verifying_key()]);
    assert_eq!(
        d.verify(
            &mut RustCrypto::from_os(),
            &mut [stranger().verifying_key()],
            None
        )
        .map(|_| ()),
        refused(0, 0, Reason::NotAuthenticated)
    );
    // Through the envelope: offsets count from the envelope's start.
    let env = signed(Some(&member));
    let parsed = Envelope::decode(&env).unwrap();
    assert_eq!(parsed.delegation(), Some(&member[..]));
    let from_env = parsed.delegation_chains().unwrap().unwrap();
    assert_eq!(from_env.chains().count(), 1);
    assert!(
        Envelope::decode(&signed(None))
            .unwrap()
            .delegation_chains()
            .unwrap()
            .is_none()
    );
    assert_eq!(
        Error::Delegation(DelegationError {
            chain: 1,
            link: 0,
            reason: Reason::UnsupportedClaim(4)
        })
        .to_string(),
        "delegation chain 1 CWT 0: UnsupportedClaim(4)"
    );
}

/// Through the processor: a refused delegation changes nothing on the device; a valid one
/// lets the delegate's manifest update it (its sequence number stored).
#[test]
fn processor_updates_only_through_a_valid_chain() {
    let manifest = common::manifest(1, &common::common(&[&[&[0]]], None), &[]);
    let run = |member: &[u8], sim: &mut sim::Sim| {
        let env = envelope(&manifest, Auth::Sign1, &[Extra::Int(1, member)]);
        let mut keys = [anchor().verifying_key()];
        let mut anchors = TrustAnchors::signers(&mut keys);
        let mut crypto = RustCrypto::from_os();
        let mut p = Processor::new(sim, &mut crypto, &mut anchors);
        let auth = p.authenticate(&env)?;
        p.update(&auth)
    };
    let mut sim = sim::Sim::new();
    let bad = delegation(&[&[cwt(stranger(), &delegate())]]);
    assert_eq!(run(&bad, &mut sim), refused(0, 0, Reason::NotAuthenticated));
    assert!(sim.flash.storage.is_empty() && sim.flash.sequence.is_empty());
    let good = delegation(&[&[cwt(anchor(), &delegate())]]);
    run(&good, &mut sim).unwrap();
    assert_eq!(
        sim.flash.sequence.values().copied().collect::<Vec<_>>(),
        [1]
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// The stranger's envelope is refused with the valid chain; no single-byte change of the
    /// delegation member (its key and bstr head included) makes it authenticate.
    #[test]
    fn no_byte_of_the_member_lets_a_stranger_in(at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let member = delegation(&[&[cwt(anchor(), &intermediate()), cwt(intermediate(), &delegate())]]);
        let env = signed_by(stranger(), Some(&member));
        prop_assert!(auth(&env).is_err());
        // The member's bytes in the envelope: key 1, then the bstr head and content.
        let head = common::bstr(&member).len() - member.len();
        let start = env.windows(member.len()).position(|w| w == member).unwrap() - head - 1;
        let i = start + at.index(member.len() + head + 1);
        let mut changed = env.clone();
        prop_assume!(changed[i] != byte);
        changed[i] = byte;
        prop_assert!(auth(&changed).is_err(), "byte {i} = {byte:#04x}");
    }
}

/// A verifying key from P-256 coordinates, as `delegate()` gives them.
#[test]
fn delegated_keys_are_the_confirmed_coordinates() {
    let sec1 = delegate().verifying_key().to_sec1_uncompressed();
    let k = P256VerifyingKey::from_coordinates(&sec1[1..33], &sec1[33..]).unwrap();
    let d = delegation(&[&[cwt(anchor(), &delegate())]]);
    let keys = Delegation::decode(&d)
        .unwrap()
        .verify(
            &mut RustCrypto::from_os(),
            &mut [anchor().verifying_key()],
            None,
        )
        .unwrap();
    assert_eq!(keys.as_slice(), [k]);
}

/// The builder writes `suit-delegation` outside the signature: the envelope a delegate signs
/// authenticates under the anchor; chains without a CWT, or none, are refused.
#[test]
fn builder_writes_the_delegation() {
    use iot_update_manifest::builder::Description;
    let mut crypto = RustCrypto::from_os();
    let mut unsigned = Description::new(3, vec![vec![vec![0]]])
        .encode(&mut crypto)
        .unwrap();
    unsigned
        .sign(&mut crypto, &mut delegate(), Algorithm::Es256, None)
        .unwrap();
    assert_eq!(
        auth(&unsigned.to_bytes().unwrap()),
        Err(Error::NotAuthenticated(iot_core::Error::BadSignature))
    );
    let chain = vec![
        cwt(anchor(), &intermediate()),
        cwt(intermediate(), &delegate()),
    ];
    unsigned.delegate(core::slice::from_ref(&chain)).unwrap();
    let env = unsigned.to_bytes().unwrap();
    auth(&env).unwrap();
    assert_eq!(
        Envelope::decode(&env).unwrap().delegation(),
        Some(&delegation(&[&chain])[..])
    );
    assert!(unsigned.delegate(&[]).is_err());
    assert!(unsigned.delegate(&[chain, vec![]]).is_err());
}
