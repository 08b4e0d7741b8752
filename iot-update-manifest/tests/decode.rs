//! Envelope, authentication and manifest decoding on hand-built envelopes: every error path
//! returns its typed error, and the model reads back what was written. Always runs (no vectors).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use iot_core::CborError;
use iot_core::cose::SymmetricKey;
use iot_update_manifest::{
    Argument, AuthenticatedManifest, Capacity, Command, Envelope, Error, IndexArg, MapKind,
    Parameter, Severable, TrustAnchors, text,
};

fn mac_keys() -> [SymmetricKey<'static>; 1] {
    [SymmetricKey::new(&MAC_KEY)]
}

/// Decodes and authenticates `env` under both trust anchors of the test support.
fn open(env: &[u8]) -> Result<AuthenticatedManifest<'_>, Error> {
    let mut verifiers = [signing_key().verifying_key()];
    let macs = mac_keys();
    Envelope::decode(env)?
        .authenticate(&mut crypto(), &mut TrustAnchors::new(&mut verifiers, &macs))
}

fn open_manifest(m: &[u8]) -> Result<(), Error> {
    let env = envelope(m, Auth::Mac0, &[]);
    open(&env).map(|_| ())
}

fn cbor_kind(e: Error) -> CborError {
    match e {
        Error::Core(iot_core::Error::Cbor { kind, .. }) => kind,
        other => panic!("expected a CBOR error, got {other:?}"),
    }
}

#[test]
fn minimal_envelopes_authenticate_both_ways() {
    for auth in [Auth::Sign1, Auth::Mac0] {
        let env = envelope(&minimal(7), auth, &[]);
        let m = open(&env).unwrap();
        assert_eq!(m.manifest().sequence_number(), 7);
        assert_eq!(m.authenticated_by(), 0);
    }
}

#[test]
fn untagged_envelope_is_accepted_and_other_tags_are_not() {
    let env = envelope(&minimal(1), Auth::Mac0, &[]);
    assert_eq!(&env[..2], &[0xd8, 107]);
    let untagged = &env[2..];
    assert!(!Envelope::decode(untagged).unwrap().is_tagged());
    assert!(open(untagged).is_ok());
    let mut wrong = env.clone();
    wrong[1] = 106;
    assert_eq!(
        Envelope::decode(&wrong).unwrap_err(),
        Error::Core(iot_core::Error::WrongTag(106))
    );
}

#[test]
fn truncations_and_trailing_bytes_are_typed_errors() {
    let env = envelope(&minimal(1), Auth::Sign1, &[]);
    for n in 0..env.len() {
        let e = Envelope::decode(&env[..n]).unwrap_err();
        assert!(matches!(e, Error::Core(_)), "prefix {n}: {e:?}");
    }
    let mut long = env.clone();
    long.push(0);
    assert_eq!(
        cbor_kind(Envelope::decode(&long).unwrap_err()),
        CborError::TrailingBytes
    );
}

#[test]
fn envelope_members_are_checked() {
    let m = minimal(1);
    let full = envelope(&m, Auth::Mac0, &[]);
    let env = Envelope::decode(&full).unwrap();
    assert_eq!(env.authentication_blocks(), 1);
    // Take the wrapper and the manifest apart to rebuild envelopes around them.
    let wrapper = {
        let mut d = minicbor::Decoder::new(&full);
        d.tag().unwrap();
        d.map().unwrap();
        d.u8().unwrap();
        d.bytes().unwrap().to_vec()
    };
    let with = |members: &[(u64, &[u8])]| {
        cbor(|e| {
            e.map(members.len() as u64).unwrap();
            for (k, v) in members {
                e.u64(*k).unwrap().bytes(v).unwrap();
            }
        })
    };
    assert_eq!(
        Envelope::decode(&with(&[(3, &m)])).unwrap_err(),
        Error::MissingMember {
            map: MapKind::Envelope,
            key: 2
        }
    );
    assert_eq!(
        Envelope::decode(&with(&[(2, &wrapper)])).unwrap_err(),
        Error::MissingMember {
            map: MapKind::Envelope,
            key: 3
        }
    );
    assert_eq!(
        Envelope::decode(&with(&[(2, &wrapper), (3, &m), (99, b"")])).unwrap_err(),
        Error::UnknownMember {
            map: MapKind::Envelope,
            key: 99
        }
    );
    assert_eq!(
        cbor_kind(Envelope::decode(&with(&[(2, &wrapper), (3, &m), (3, &m)])).unwrap_err()),
        CborError::DuplicateKey
    );
    assert!(
        open(&with(&[(3, &m), (2, &wrapper)])).is_ok(),
        "member order is free"
    );
    // Indefinite-length maps are not SUIT's deterministic encoding.
    let mut indefinite = vec![0xbf];
    indefinite.extend(&with(&[(2, &wrapper), (3, &m)])[1..]);
    indefinite.push(0xff);
    assert_eq!(
        cbor_kind(Envelope::decode(&indefinite).unwrap_err()),
        CborError::IndefiniteLength
    );
}

#[test]
fn integrated_payloads_are_kept_bounded_and_unique() {
    let m = minimal(1);
    let env = envelope(
        &m,
        Auth::Mac0,
        &[Extra::Text("#a", b"one"), Extra::Text("#b", b"two")],
    );
    let am = open(&env).unwrap();
    assert_eq!(am.integrated_payload("#b"), Some(&b"two"[..]));
    assert_eq!(am.integrated_payload("#c"), None);
    assert_eq!(am.integrated_payloads().count(), 2);

    let dup = envelope(
        &m,
        Auth::Mac0,
        &[Extra::Text("#a", b"1"), Extra::Text("#a", b"2")],
    );
    assert_eq!(
        cbor_kind(Envelope::decode(&dup).unwrap_err()),
        CborError::DuplicateKey
    );
    let names: Vec<String> = (0..=iot_update_manifest::MAX_INTEGRATED_PAYLOADS)
        .map(|i| format!("#{i}"))
        .collect();
    let many: Vec<Extra<'_>> = names.iter().map(|n| Extra::Text(n, b"x")).collect();
    assert_eq!(
        Envelope::decode(&envelope(&m, Auth::Mac0, &many)).unwrap_err(),
        Error::CapacityExceeded(Capacity::IntegratedPayloads)
    );
}

/// An envelope whose wrapper is `[digest, blocks...]` exactly as given.
fn envelope_with_blocks(m: &[u8], digest: &[u8], blocks: &[Vec<u8>]) -> Vec<u8> {
    let wrapper = cbor(|e| {
        e.array(1 + blocks.len() as u64).unwrap();
        e.bytes(digest).unwrap();
        for b in blocks {
            e.bytes(b).unwrap();
        }
    });
    cbor(|e| {
        e.map(2).unwrap();
        e.u8(2).unwrap().bytes(&wrapper).unwrap();
        e.u8(3).unwrap().bytes(m).unwrap();
    })
}

#[test]
fn authentication_outcomes() {
    let m = minimal(3);
    let digest = digest_of(&m);
    let sign1 = auth_block(Auth::Sign1, &digest).unwrap();
    let mac0 = auth_block(Auth::Mac0, &digest).unwrap();
    let mut c = crypto();
    let mut verifiers = [signing_key().verifying_key()];
    let macs = mac_keys();

    // No block at all.
    let env = envelope_with_blocks(&m, &digest, &[]);
    assert_eq!(open(&env).unwrap_err(), Error::NoAuthenticationBlock);

    // A Sign1 with only MAC keys, a Mac0 with only signature keys.
    let env = envelope_with_blocks(&m, &digest, core::slice::from_ref(&sign1));
    let e = Envelope::decode(&env).unwrap();
    assert_eq!(
        e.authenticate(&mut c, &mut TrustAnchors::macs(&macs))
            .unwrap_err(),
        Error::NoTrustedKey
    );
    let env = envelope_with_blocks(&m, &digest, core::slice::from_ref(&mac0));
    let e = Envelope::decode(&env).unwrap();
    assert_eq!(
        e.authenticate(&mut c, &mut TrustAnchors::signers(&mut verifiers))
            .unwrap_err(),
        Error::NoTrustedKey
    );

    // The wrong public key.
    let env = envelope_with_blocks(&m, &digest, core::slice::from_ref(&sign1));
    let other = iot_core::crypto::P256SigningKey::from_bytes(&[0x22; 32]).unwrap();
    let mut wrong = [other.verifying_key()];
    assert_eq!(
        Envelope::decode(&env)
            .unwrap()
            .authenticate(&mut c, &mut TrustAnchors::signers(&mut wrong))
            .unwrap_err(),
        Error::NotAuthenticated(iot_core::Error::BadSignature)
    );
    // ...but any one of several keys will do.
    let mut both = [other.verifying_key(), signing_key().verifying_key()];
    assert!(
        Envelope::decode(&env)
            .unwrap()
            .authenticate(&mut c, &mut TrustAnchors::signers(&mut both))
            .is_ok()
    );

    // A bad block before a good one: the good one authenticates.
    let mut bad = sign1.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    let env = envelope_with_blocks(&m, &digest, &[bad.clone(), mac0.clone()]);
    assert_eq!(open(&env).unwrap().authenticated_by(), 1);
    // Only bad blocks: the verification failure is reported, not the missing key.
    let env = envelope_with_blocks(&m, &digest, &[bad]);
    assert_eq!(
        Envelope::decode(&env)
            .unwrap()
            .authenticate(&mut c, &mut TrustAnchors::new(&mut verifiers, &[]))
            .unwrap_err(),
        Error::NotAuthenticated(iot_core::Error::BadSignature)
    );

    // COSE_Sign (98) and untagged blocks are not supported.
    let mut sign = sign1.clone();
    assert_eq!(sign[0], 0xd2);
    sign[0] = 0xd8;
    sign.insert(1, 98);
    let env = envelope_with_blocks(&m, &digest, &[sign]);
    assert_eq!(
        open(&env).unwrap_err(),
        Error::UnsupportedAuthenticationBlock(Some(98))
    );
    let env = envelope_with_blocks(&m, &digest, &[sign1[1..].to_vec()]);
    assert_eq!(
        open(&env).unwrap_err(),
        Error::UnsupportedAuthenticationBlock(None)
    );
    // A malformed block is a failed block.
    let env = envelope_with_blocks(&m, &digest, &[vec![0xd2, 0x84, 0x40]]);
    assert!(matches!(
        open(&env).unwrap_err(),
        Error::NotAuthenticated(iot_core::Error::Cbor { .. })
    ));

    // Too many blocks.
    let five = vec![mac0.clone(); iot_update_manifest::MAX_AUTHENTICATION_BLOCKS + 1];
    let env = envelope_with_blocks(&m, &digest, &five);
    assert_eq!(
        Envelope::decode(&env).unwrap_err(),
        Error::CapacityExceeded(Capacity::AuthenticationBlocks)
    );
}

#[test]
fn the_digest_must_match_the_manifest() {
    let m = minimal(3);
    let other = minimal(4);
    // A validly signed digest of another manifest.
    let digest = digest_of(&other);
    let mac0 = auth_block(Auth::Mac0, &digest).unwrap();
    let env = envelope_with_blocks(&m, &digest, &[mac0]);
    assert_eq!(open(&env).unwrap_err(), Error::DigestMismatch);

    // A validly signed SHA-384 digest: the algorithm is refused.
    let sha384 = cbor(|e| {
        e.array(2)
            .unwrap()
            .i64(-43)
            .unwrap()
            .bytes(&[0u8; 48])
            .unwrap();
    });
    let mac0 = auth_block(Auth::Mac0, &sha384).unwrap();
    let env = envelope_with_blocks(&m, &sha384, &[mac0]);
    assert_eq!(
        open(&env).unwrap_err(),
        Error::UnsupportedDigestAlgorithm(-43)
    );
}

#[test]
fn manifest_members_are_checked() {
    let common = common(&[&[b"a"]], None);
    assert_eq!(
        open_manifest(&manifest_with_version(2, 1, &common, &[])).unwrap_err(),
        Error::UnsupportedVersion(2)
    );
    let no_seq = cbor(|e| {
        e.map(2).unwrap();
        e.u8(1).unwrap().u8(1).unwrap();
        e.u8(3).unwrap().bytes(&common).unwrap();
    });
    assert_eq!(
        open_manifest(&no_seq).unwrap_err(),
        Error::MissingMember {
            map: MapKind::Manifest,
            key: 2
        }
    );
    let no_common = cbor(|e| {
        e.map(2).unwrap();
        e.u8(1).unwrap().u8(1).unwrap();
        e.u8(2).unwrap().u8(1).unwrap();
    });
    assert_eq!(
        open_manifest(&no_common).unwrap_err(),
        Error::MissingMember {
            map: MapKind::Manifest,
            key: 3
        }
    );
    assert_eq!(
        open_manifest(&manifest(1, &common, &[(99, rp(0))])).unwrap_err(),
        Error::UnknownMember {
            map: MapKind::Manifest,
            key: 99
        }
    );
    let dup = manifest(1, &common, &[(2, rp(5))]);
    assert_eq!(
        cbor_kind(open_manifest(&dup).unwrap_err()),
        CborError::DuplicateKey
    );
    let empty_common = cbor(|e| {
        e.map(0).unwrap();
    });
    assert_eq!(
        open_manifest(&manifest(1, &empty_common, &[])).unwrap_err(),
        Error::MissingMember {
            map: MapKind::Common,
            key: 2
        }
    );
    let odd_common = cbor(|e| {
        e.map(2).unwrap();
        e.u8(2).unwrap().array(1).unwrap().array(0).unwrap();
        e.u8(3).unwrap().array(0).unwrap();
    });
    assert_eq!(
        open_manifest(&manifest(1, &odd_common, &[])).unwrap_err(),
        Error::UnknownMember {
            map: MapKind::Common,
            key: 3
        }
    );
    let no_components = cbor(|e| {
        e.map(1).unwrap().u8(2).unwrap().array(0).unwrap();
    });
    assert!(open_manifest(&manifest(1, &no_components, &[])).is_err());
    let five: Vec<&[&[u8]]> = vec![&[b"a"]; iot_update_manifest::MAX_COMPONENTS + 1];
    assert_eq!(
        open_manifest(&manifest(1, &common::common(&five, None), &[])).unwrap_err(),
        Error::CapacityExceeded(Capacity::Components)
    );
}

fn with_validate(seq: Vec<u8>) -> Vec<u8> {
    manifest(1, &common(&[&[b"a"]], None), &[(7, bstr(&seq))])
}

#[test]
fn commands_and_arguments_are_checked() {
    assert_eq!(
        open_manifest(&with_validate(sequence(&[(99, rp(0))]))).unwrap_err(),
        Error::UnknownCommand(99)
    );
    // A custom (negative) command keeps its argument raw.
    assert!(open_manifest(&with_validate(sequence(&[(-3, bstr(b"x"))]))).is_ok());
    // Custom codes go down to i32::MIN + 1 (`Command::Custom(i32)`; error payloads reserve
    // i32::MIN for text labels); i32::MIN and below are unknown, their code reported saturated.
    let lowest = i64::from(i32::MIN) + 1;
    assert!(open_manifest(&with_validate(sequence(&[(lowest, bstr(b"x"))]))).is_ok());
    for below in [lowest - 1, lowest - 2, i64::MIN] {
        assert_eq!(
            open_manifest(&with_validate(sequence(&[(below, bstr(b"x"))]))).unwrap_err(),
            Error::UnknownCommand(i32::MIN + 1)
        );
    }
    let text = cbor(|e| {
        e.str("x").unwrap();
    });
    for code in [1, 3, 12, 15, 20, 21, 32] {
        let e = open_manifest(&with_validate(sequence(&[(code, text.clone())]))).unwrap_err();
        assert!(
            matches!(e, Error::InvalidArgument { command, .. } if i64::from(command) == code),
            "command {code}: {e:?}"
        );
    }
    let f = cbor(|e| {
        e.bool(false).unwrap();
    });
    assert!(matches!(
        open_manifest(&with_validate(sequence(&[(12, f)]))).unwrap_err(),
        Error::InvalidArgument { command: 12, .. }
    ));
    // An odd number of items, an empty sequence.
    let odd = cbor(|e| {
        e.array(1).unwrap().u8(3).unwrap();
    });
    assert_eq!(
        cbor_kind(open_manifest(&with_validate(odd)).unwrap_err()),
        CborError::UnexpectedType
    );
    let empty = cbor(|e| {
        e.array(0).unwrap();
    });
    assert!(open_manifest(&with_validate(empty)).is_err());
    // Too many commands.
    let many = vec![(3, rp(0)); iot_update_manifest::MAX_COMMANDS + 1];
    assert_eq!(
        open_manifest(&with_validate(sequence(&many))).unwrap_err(),
        Error::CapacityExceeded(Capacity::Commands)
    );
    let enough = vec![(3, rp(0)); iot_update_manifest::MAX_COMMANDS];
    assert!(open_manifest(&with_validate(sequence(&enough))).is_ok());
    // Trailing bytes inside a sequence's bstr.
    let mut trailing = sequence(&[(3, rp(0))]);
    trailing.push(0);
    assert_eq!(
        cbor_kind(open_manifest(&with_validate(trailing)).unwrap_err()),
        CborError::TrailingBytes
    );
}

/// `run-sequence` nested `depth` levels below the top-level sequence.
fn nested(depth: usize) -> Vec<u8> {
    let mut seq = sequence(&[(3, rp(0))]);
    for _ in 0..depth {
        seq = sequence(&[(32, bstr(&seq))]);
    }
    seq
}

#[test]
fn nesting_is_bounded() {
    let max = iot_update_manifest::MAX_NESTING;
    assert!(open_manifest(&with_validate(nested(max - 1))).is_ok());
    assert_eq!(
        open_manifest(&with_validate(nested(max))).unwrap_err(),
        Error::CapacityExceeded(Capacity::Nesting)
    );
    // try-each nests as well.
    let inner = bstr(&nested(max - 1));
    let try_each = cbor(|e| {
        e.array(2).unwrap();
    });
    let arg = [try_each, inner.clone(), inner].concat();
    assert_eq!(
        open_manifest(&with_validate(sequence(&[(15, arg)]))).unwrap_err(),
        Error::CapacityExceeded(Capacity::Nesting)
    );
}

#[test]
fn try_each_shapes() {
    let a = bstr(&sequence(&[(1, rp(0))]));
    let b = bstr(&sequence(&[(2, rp(0)), (3, rp(0))]));
    let arr = |n: u64| {
        cbor(|e| {
            e.array(n).unwrap();
        })
    };
    let nil = cbor(|e| {
        e.null().unwrap();
    });
    let ok = [arr(3), a.clone(), b.clone(), nil.clone()].concat();
    let m = with_validate(sequence(&[(15, ok)]));
    let env = envelope(&m, Auth::Mac0, &[]);
    let am = open(&env).unwrap();
    let (cmd, Argument::TryEach(t)) = am.manifest().validate().unwrap().iter().next().unwrap()
    else {
        panic!("try-each expected")
    };
    assert_eq!(cmd, Command::TryEach);
    assert_eq!(t.len(), 2);
    assert!(t.has_empty_fallback());
    let lens: Vec<usize> = t.iter().map(|s| s.len()).collect();
    assert_eq!(lens, [1, 2]);

    let one = [arr(1), a.clone()].concat();
    assert!(matches!(
        open_manifest(&with_validate(sequence(&[(15, one)]))).unwrap_err(),
        Error::InvalidArgument { command: 15, .. }
    ));
    let nil_first = [arr(3), nil, a.clone(), b.clone()].concat();
    assert!(matches!(
        open_manifest(&with_validate(sequence(&[(15, nil_first)]))).unwrap_err(),
        Error::InvalidArgument { command: 15, .. }
    ));
}

#[test]
fn parameters_decode_and_are_checked() {
    let digest = cbor(|e| {
        e.array(2)
            .unwrap()
            .i64(-16)
            .unwrap()
            .bytes(&[7u8; 32])
            .unwrap();
    });
    let params = cbor(|e| {
        e.map(10).unwrap();
        e.u8(1).unwrap().bytes(&[1u8; 16]).unwrap();
        e.u8(2).unwrap().bytes(&[2u8; 16]).unwrap();
        e.u8(3).unwrap().bytes(&digest).unwrap();
        e.u8(5).unwrap().u8(1).unwrap();
        e.u8(12).unwrap().bool(true).unwrap();
        e.u8(13).unwrap().bool(false).unwrap();
        e.u8(14).unwrap().u32(70000).unwrap();
        e.u8(21).unwrap().str("coap://x/fw").unwrap();
        e.u8(24).unwrap().bytes(&[3u8; 16]).unwrap();
        e.i8(-7).unwrap().array(1).unwrap().u8(0).unwrap();
    });
    let m = with_validate(sequence(&[(20, params), (1, rp(15))]));
    let env = envelope(&m, Auth::Mac0, &[]);
    let am = open(&env).unwrap();
    let (cmd, Argument::Parameters(p)) = am.manifest().validate().unwrap().iter().next().unwrap()
    else {
        panic!("override-parameters expected")
    };
    assert_eq!(cmd, Command::OverrideParameters);
    let got: Vec<Parameter<'_>> = p.iter().collect();
    assert_eq!(got.len(), 10);
    assert_eq!(got[0], Parameter::VendorId(&[1; 16]));
    assert_eq!(got[1], Parameter::ClassId(&[2; 16]));
    let Parameter::ImageDigest(d) = got[2] else {
        panic!()
    };
    assert_eq!((d.algorithm, d.bytes), (-16, &[7u8; 32][..]));
    assert_eq!(got[3], Parameter::ComponentSlot(1));
    assert_eq!(got[4], Parameter::StrictOrder(true));
    assert_eq!(got[5], Parameter::SoftFailure(false));
    assert_eq!(got[6], Parameter::ImageSize(70000));
    assert_eq!(got[7], Parameter::Uri("coap://x/fw"));
    assert_eq!(got[8], Parameter::DeviceId(&[3; 16]));
    assert_eq!(
        got[9],
        Parameter::Other {
            key: -7,
            value: &[0x81, 0x00]
        }
    );

    // A wrongly typed value names its key, at the value's offset in the envelope.
    let bad = cbor(|e| {
        e.map(1).unwrap().u8(14).unwrap().str("big").unwrap();
    });
    let m = with_validate(sequence(&[(20, bad)]));
    let env = envelope(&m, Auth::Mac0, &[]);
    let Error::InvalidParameter { key, offset } = open(&env).unwrap_err() else {
        panic!("InvalidParameter expected")
    };
    assert_eq!(key, 14);
    assert_eq!(env[offset], 0x63, "offset {offset} points at the tstr head");
    assert_eq!(&env[offset + 1..offset + 4], b"big");

    let bad_uri = cbor(|e| {
        e.map(1).unwrap().u8(21).unwrap().bytes(b"x").unwrap();
    });
    assert!(matches!(
        open_manifest(&with_validate(sequence(&[(20, bad_uri)]))).unwrap_err(),
        Error::InvalidParameter { key: 21, .. }
    ));
    let bad_digest = cbor(|e| {
        e.map(1)
            .unwrap()
            .u8(3)
            .unwrap()
            .bytes(&[0x82, 0x2f])
            .unwrap();
    });
    assert!(open_manifest(&with_validate(sequence(&[(20, bad_digest)]))).is_err());
    let dup = cbor(|e| {
        e.map(2).unwrap();
        e.u8(14).unwrap().u8(1).unwrap();
        e.u8(14).unwrap().u8(2).unwrap();
    });
    assert_eq!(
        cbor_kind(open_manifest(&with_validate(sequence(&[(20, dup)]))).unwrap_err()),
        CborError::DuplicateKey
    );
}

#[test]
fn component_index_arguments() {
    let list = cbor(|e| {
        e.array(2).unwrap().u8(0).unwrap().u8(1).unwrap();
    });
    let all = cbor(|e| {
        e.bool(true).unwrap();
    });
    let m = manifest(
        1,
        &common(&[&[b"a"], &[b"b", b"c"]], None),
        &[(7, bstr(&sequence(&[(12, rp(1)), (12, list), (12, all)])))],
    );
    let env = envelope(&m, Auth::Mac0, &[]);
    let am = open(&env).unwrap();
    let man = am.manifest();
    let comps = man.common().components();
    assert_eq!(comps.len(), 2);
    let b: Vec<&[u8]> = comps.get(1).unwrap().segments().collect();
    assert_eq!(b, [&b"b"[..], &b"c"[..]]);
    assert!(comps.get(2).is_none());
    let args: Vec<Argument<'_>> = man.validate().unwrap().iter().map(|(_, a)| a).collect();
    assert_eq!(args[0], Argument::Index(IndexArg::One(1)));
    let Argument::Index(IndexArg::List(l)) = args[1] else {
        panic!()
    };
    assert_eq!(l.iter().collect::<Vec<_>>(), [0, 1]);
    assert_eq!(args[2], Argument::Index(IndexArg::All));
}

#[test]
fn severable_members() {
    let install = sequence(&[(21, rp(2))]);
    let wrapped = bstr(&install);
    let d = crypto_digest(&wrapped);
    let severed = manifest(1, &common(&[&[b"a"]], None), &[(20, d.clone())]);

    // Severed and supplied: restored.
    let env = envelope(&severed, Auth::Mac0, &[Extra::Int(20, &install)]);
    let am = open(&env).unwrap();
    let Some(Severable::Restored(s)) = am.manifest().install() else {
        panic!("restored expected")
    };
    assert_eq!(s.iter().next().unwrap().0, Command::Fetch);

    // Severed and not supplied: only the digest.
    let env = envelope(&severed, Auth::Mac0, &[]);
    let am = open(&env).unwrap();
    assert!(matches!(
        am.manifest().install(),
        Some(Severable::Missing(_))
    ));
    assert_eq!(am.manifest().install().unwrap().get(), None);

    // Supplied bytes that do not match.
    let other = sequence(&[(21, rp(3))]);
    let env = envelope(&severed, Auth::Mac0, &[Extra::Int(20, &other)]);
    assert_eq!(
        open(&env).unwrap_err(),
        Error::SeveredMemberDigestMismatch(20)
    );

    // Supplied although the manifest holds it inline, or does not name it.
    let inline = manifest(1, &common(&[&[b"a"]], None), &[(20, wrapped.clone())]);
    let env = envelope(&inline, Auth::Mac0, &[Extra::Int(20, &install)]);
    assert_eq!(open(&env).unwrap_err(), Error::UnexpectedSeveredMember(20));
    let env = envelope(&minimal(1), Auth::Mac0, &[Extra::Int(16, &install)]);
    assert_eq!(open(&env).unwrap_err(), Error::UnexpectedSeveredMember(16));
    let env = envelope(&inline, Auth::Mac0, &[]);
    assert!(matches!(
        open(&env).unwrap().manifest().install(),
        Some(Severable::Inline(_))
    ));
}

fn crypto_digest(wrapped: &[u8]) -> Vec<u8> {
    use iot_core::crypto::Sha256;
    let d = crypto().sha256(wrapped);
    cbor(|e| {
        e.array(2).unwrap().i64(-16).unwrap().bytes(&d).unwrap();
    })
}

#[test]
fn text_reference_uri_and_dependencies() {
    let txt = cbor(|e| {
        e.map(1).unwrap().str("en").unwrap();
        e.map(2).unwrap();
        e.u8(1).unwrap().str("a manifest").unwrap();
        e.array(1).unwrap().bytes(b"a").unwrap();
        e.map(1).unwrap().u8(1).unwrap().str("ACME").unwrap();
    });
    let deps_common = cbor(|e| {
        e.map(2).unwrap();
        e.u8(1).unwrap().map(1).unwrap().u8(1).unwrap();
        e.map(1)
            .unwrap()
            .u8(1)
            .unwrap()
            .array(1)
            .unwrap()
            .bytes(b"dep")
            .unwrap();
        e.u8(2)
            .unwrap()
            .array(1)
            .unwrap()
            .array(1)
            .unwrap()
            .bytes(b"a")
            .unwrap();
    });
    let uri = cbor(|e| {
        e.str("https://example.com/m.suit").unwrap();
    });
    let m = manifest(9, &deps_common, &[(4, uri), (23, bstr(&txt))]);
    let env = envelope(&m, Auth::Sign1, &[]);
    let am = open(&env).unwrap();
    let man = am.manifest();
    assert_eq!(man.reference_uri(), Some("https://example.com/m.suit"));
    let deps: Vec<_> = man.common().dependencies().unwrap().iter().collect();
    assert_eq!(deps.len(), 1);
    assert_eq!(deps[0].index, 1);
    let prefix: Vec<&[u8]> = deps[0].prefix.unwrap().segments().collect();
    assert_eq!(prefix, [&b"dep"[..]]);
    let Some(Severable::Inline(t)) = man.text() else {
        panic!()
    };
    let en = t.language("en").unwrap();
    assert_eq!(en.get(text::key::MANIFEST_DESCRIPTION), Some("a manifest"));
    let comp = en
        .entries()
        .find_map(|e| match e {
            text::TextEntry::Component { component, texts } => Some((component, texts)),
            _ => None,
        })
        .unwrap();
    assert_eq!(comp.0.segments().next(), Some(&b"a"[..]));
    assert_eq!(comp.1.get(text::component_key::VENDOR_NAME), Some("ACME"));
    assert!(t.language("fr").is_none());

    // Dependency indices are unique; any uint is one, u64::MAX included.
    let deps_of = |indices: &[u64]| {
        cbor(|e| {
            e.map(2).unwrap();
            e.u8(1).unwrap().map(indices.len() as u64).unwrap();
            for &i in indices {
                e.u64(i).unwrap().map(0).unwrap();
            }
            e.u8(2).unwrap().array(1).unwrap().array(1).unwrap();
            e.bytes(b"a").unwrap();
        })
    };
    for indices in [&[u64::MAX][..], &[0, u64::MAX], &[u64::MAX, 0]] {
        let am = open_manifest(&manifest(9, &deps_of(indices), &[]));
        assert_eq!(am, Ok(()), "{indices:?}");
    }
    for indices in [&[1, 1][..], &[u64::MAX, u64::MAX]] {
        let e = open_manifest(&manifest(9, &deps_of(indices), &[])).unwrap_err();
        assert_eq!(cbor_kind(e), CborError::DuplicateKey, "{indices:?}");
    }

    // A text map keyed by something other than a language tag is refused.
    let bad_text = cbor(|e| {
        e.map(1).unwrap().u8(1).unwrap().str("x").unwrap();
    });
    let m = manifest(9, &common(&[&[b"a"]], None), &[(23, bstr(&bad_text))]);
    assert!(open_manifest(&m).is_err());
}

#[test]
fn errors_display() {
    let e = Error::InvalidArgument {
        command: 12,
        offset: 40,
    };
    assert_eq!(e.to_string(), "invalid argument of command 12 at byte 40");
    assert_eq!(
        Error::NotAuthenticated(iot_core::Error::BadSignature).to_string(),
        "not authenticated: signature does not verify"
    );
    use core::error::Error as _;
    assert!(
        Error::NotAuthenticated(iot_core::Error::BadSignature)
            .source()
            .is_some()
    );
}

/// The policy of the first command of `s`, which names the sequence in
/// `sequences_and_delegation_read_back`.
fn first_policy(s: Option<iot_update_manifest::CommandSequence<'_>>) -> u64 {
    match s.unwrap().iter().next().unwrap() {
        (Command::Fetch, Argument::ReportingPolicy(p)) => p.0,
        other => panic!("{other:?}"),
    }
}

#[test]
fn sequences_and_delegation_read_back() {
    // Each of the eight sequences held inline, told apart by its fetch's reporting policy: each
    // accessor gives its own (the manifest keeps them in an array by slot).
    let keys = [7, 8, 9, 24, 15, 16, 18, 20];
    let members: Vec<(i64, Vec<u8>)> = (0u64..)
        .zip(keys)
        .map(|(i, k)| (k, bstr(&sequence(&[(21, rp(i))]))))
        .collect();
    let m = manifest(1, &common(&[&[b"a"]], None), &members);
    // suit-delegation (1) is kept as bytes by decoding; authentication (feature `delegation`)
    // reads it, and "cwt" is no SUIT_Delegation: a CBOR error at its first byte.
    let env = envelope(&m, Auth::Mac0, &[Extra::Int(1, b"cwt")]);
    assert_eq!(
        Envelope::decode(&env).unwrap().delegation(),
        Some(&b"cwt"[..])
    );
    let at = env.windows(3).position(|w| w == b"cwt").unwrap();
    assert_eq!(
        open(&env).unwrap_err(),
        Error::Core(iot_core::Error::cbor(CborError::UnexpectedType, at))
    );
    let env = envelope(&m, Auth::Mac0, &[]);
    let am = open(&env).unwrap();
    let man = am.manifest();
    let inline = |s: Option<Severable<'_, _>>| match s {
        Some(Severable::Inline(s)) => Some(s),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        [
            first_policy(man.validate()),
            first_policy(man.load()),
            first_policy(man.invoke()),
            first_policy(man.uninstall()),
            first_policy(inline(man.dependency_resolution())),
            first_policy(inline(man.payload_fetch())),
            first_policy(inline(man.candidate_verification())),
            first_policy(inline(man.install())),
        ],
        [0, 1, 2, 3, 4, 5, 6, 7]
    );
    let env = envelope(&minimal(1), Auth::Mac0, &[]);
    assert_eq!(Envelope::decode(&env).unwrap().delegation(), None);
}
