//! SUIT reports (draft-ietf-suit-report) built from the processor's records: a successful
//! update, a failed condition, a failure inside try-each, a rollback, the bounded capacity, a
//! buffer too small, and the COSE_Sign1-protected report. Reports are decoded with minicbor.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
mod sim;

use common::{Auth, bstr, cbor, envelope, rp, sequence, signing_key};
use iot_core::cose::CoseSign1;
use iot_core::crypto::RustCrypto;
use iot_update_manifest::report::{self, Reason, Reporter};
use iot_update_manifest::{Error, Processor, TrustAnchors};
use minicbor::Decoder;
use minicbor::data::Type;
use sim::{Sim, sha256};

const VENDOR: &[u8] = b"vendor-uuid-0001";
const CLASS: &[u8] = b"class--uuid-0001";
const IMAGE: &[u8] = b"firmware image v2";
const URI: &str = "coap://fw.example/v2";

/// A decoded CBOR item.
#[derive(Debug, Clone, PartialEq)]
enum V {
    U(u64),
    I(i64),
    B(Vec<u8>),
    T(String),
    A(Vec<V>),
    M(Vec<(V, V)>),
    Bool(bool),
}

fn decode(d: &mut Decoder<'_>) -> V {
    match d.datatype().unwrap() {
        Type::U8 | Type::U16 | Type::U32 | Type::U64 => V::U(d.u64().unwrap()),
        Type::I8 | Type::I16 | Type::I32 | Type::I64 => V::I(d.i64().unwrap()),
        Type::Bytes => V::B(d.bytes().unwrap().to_vec()),
        Type::String => V::T(d.str().unwrap().to_string()),
        Type::Bool => V::Bool(d.bool().unwrap()),
        Type::Array => {
            let n = d.array().unwrap().unwrap();
            V::A((0..n).map(|_| decode(d)).collect())
        }
        Type::Map => {
            let n = d.map().unwrap().unwrap();
            V::M((0..n).map(|_| (decode(d), decode(d))).collect())
        }
        t => panic!("unexpected {t:?}"),
    }
}

fn parse(bytes: &[u8]) -> V {
    let mut d = Decoder::new(bytes);
    let v = decode(&mut d);
    assert_eq!(d.position(), bytes.len(), "trailing bytes");
    v
}

impl V {
    fn get(&self, key: u64) -> &V {
        let V::M(m) = self else {
            panic!("not a map: {self:?}")
        };
        &m.iter()
            .find(|(k, _)| *k == V::U(key))
            .unwrap_or_else(|| panic!("no key {key}"))
            .1
    }
    fn arr(&self) -> &[V] {
        let V::A(a) = self else {
            panic!("not an array: {self:?}")
        };
        a
    }
}

/// A decoded SUIT_Record: (section, offset, component, properties), of the root manifest.
fn rec(v: &V) -> (u64, u64, u64, &V) {
    let (id, s, o, c, p) = rec_of_any(v);
    assert!(id.is_empty(), "manifest-id of the root");
    (s, o, c, p)
}

/// A decoded SUIT_Record: (manifest-id, section, offset, component, properties).
fn rec_of_any(v: &V) -> (Vec<u64>, u64, u64, u64, &V) {
    let a = v.arr();
    assert_eq!(a.len(), 5);
    let id = a[0]
        .arr()
        .iter()
        .map(|i| match i {
            V::U(n) => *n,
            other => panic!("{other:?}"),
        })
        .collect();
    let (V::U(s), V::U(o), V::U(c)) = (&a[1], &a[2], &a[3]) else {
        panic!("{v:?}")
    };
    (id, *s, *o, *c, &a[4])
}

/// The byte offsets of the top-level commands of an encoded command sequence, read with
/// minicbor (independently of the crate's decoder).
fn command_offsets(seq: &[u8]) -> Vec<u64> {
    let mut d = Decoder::new(seq);
    let n = d.array().unwrap().unwrap();
    (0..n / 2)
        .map(|_| {
            let at = d.position() as u64;
            d.i64().unwrap();
            d.skip().unwrap();
            at
        })
        .collect()
}

fn uint(n: u64) -> Vec<u8> {
    cbor(|e| {
        e.u64(n).unwrap();
    })
}

fn params(items: &[(i64, Vec<u8>)]) -> Vec<u8> {
    let mut out = cbor(|e| {
        e.map(items.len() as u64).unwrap();
    });
    for (k, v) in items {
        out.extend(cbor(|e| {
            e.i64(*k).unwrap();
        }));
        out.extend(v);
    }
    out
}

fn image_digest() -> Vec<u8> {
    bstr(&cbor(|e| {
        e.array(2)
            .unwrap()
            .i64(-16)
            .unwrap()
            .bytes(&sha256(IMAGE))
            .unwrap();
    }))
}

/// The shared sequence of [`update`]: override-parameters, vendor and class conditions.
fn shared(class: &[u8]) -> Vec<u8> {
    sequence(&[
        (
            20,
            params(&[
                (1, bstr(VENDOR)),
                (2, bstr(class)),
                (3, image_digest()),
                (14, uint(IMAGE.len() as u64)),
            ]),
        ),
        (1, rp(15)),
        (2, rp(15)),
    ])
}

/// The install sequence of [`update`]: override-parameters (URI), fetch, image-match.
fn install() -> Vec<u8> {
    sequence(&[
        (
            20,
            params(&[(
                21,
                cbor(|e| {
                    e.str(URI).unwrap();
                }),
            )]),
        ),
        (21, rp(15)),
        (3, rp(15)),
    ])
}

/// An update that checks vendor and class (shared), fetches, checks the image; `install` replaces
/// the install sequence when given.
fn update(seq: u64, class: &[u8], install: Option<Vec<u8>>) -> Vec<u8> {
    let shared = shared(class);
    let install = install.unwrap_or_else(self::install);
    let common = common::common(&[&[b"fw"]], Some(&shared));
    let m = common::manifest(seq, &common, &[(20, bstr(&install))]);
    envelope(&m, Auth::Sign1, &[])
}

fn device() -> Sim {
    let mut sim = Sim::new();
    sim.vendor_ids = vec![VENDOR.to_vec()];
    sim.class_ids = vec![CLASS.to_vec()];
    sim.uris.insert(URI.to_string(), IMAGE.to_vec());
    sim
}

/// Runs the update procedure of `env` on `sim` through a reporter; the encoded report.
fn run<const N: usize>(
    env: &[u8],
    sim: &mut Sim,
    all: bool,
) -> (Result<(), Error>, Vec<u8>, Vec<u8>) {
    let mut keys = [signing_key().verifying_key()];
    let mut anchors = TrustAnchors::signers(&mut keys);
    let mut crypto = RustCrypto::from_os();
    let mut reporter = Reporter::<_, N>::new(sim);
    if all {
        reporter = reporter.record_all();
    }
    let auth = iot_update_manifest::Envelope::decode(env)
        .unwrap()
        .authenticate(&mut crypto, &mut anchors)
        .unwrap();
    let outcome = Processor::new(&mut reporter, &mut crypto, &mut anchors).update(&auth);
    let mut out = [0u8; 1024];
    let len = reporter
        .encode(&auth, Some(b"nonce-1"), &outcome, &mut out)
        .unwrap();
    (outcome, out[..len].to_vec(), auth.digest().bytes.to_vec())
}

#[test]
fn successful_update_names_what_ran() {
    let mut sim = device();
    let (outcome, bytes, digest) = run::<16>(&update(1, CLASS, None), &mut sim, false);
    outcome.unwrap();
    let r = parse(&bytes);
    assert_eq!(*r.get(4), V::Bool(true));
    assert_eq!(*r.get(2), V::B(b"nonce-1".to_vec()));
    let reference = r.get(99).arr();
    assert_eq!(reference[0], V::T(String::new()));
    assert_eq!(reference[1], V::A(vec![V::I(-16), V::B(digest)]));
    // Policy 15 on vendor, class, fetch and image-match; override-parameters (no policy) is not recorded.
    let records = r.get(3).arr();
    let got: Vec<_> = records.iter().map(rec).collect();
    assert_eq!(got.len(), 4, "{got:?}");
    // Byte offsets in the sections: the shared sequence's override-parameters map of 78 bytes
    // puts the vendor condition at 80; the URI's map puts fetch at 25 in install.
    let shared = command_offsets(&shared(CLASS));
    let install = command_offsets(&install());
    assert_eq!(
        (shared[1], shared[2], install[1], install[2]),
        (80, 82, 25, 27)
    );
    assert_eq!((got[0].0, got[0].1), (3, shared[1]));
    assert_eq!(*got[0].3, V::M(vec![(V::U(1), V::B(VENDOR.to_vec()))]));
    assert_eq!((got[1].0, got[1].1), (3, shared[2]));
    assert_eq!(*got[1].3, V::M(vec![(V::U(2), V::B(CLASS.to_vec()))]));
    assert_eq!((got[2].0, got[2].1, got[2].2), (20, install[1], 0));
    assert_eq!(*got[2].3, V::M(vec![(V::U(21), V::T(URI.to_string()))]));
    assert_eq!((got[3].0, got[3].1), (20, install[2]));
    assert_eq!(*got[3].3, V::M(vec![]));
}

#[test]
fn record_all_keeps_every_command() {
    let mut sim = device();
    let (outcome, bytes, _) = run::<16>(&update(1, CLASS, None), &mut sim, true);
    outcome.unwrap();
    let sections: Vec<_> = parse(&bytes)
        .get(3)
        .arr()
        .iter()
        .map(|v| (rec(v).0, rec(v).1))
        .collect();
    let shared = command_offsets(&shared(CLASS));
    let install = command_offsets(&install());
    let expected: Vec<_> = (shared.iter().map(|&o| (3, o)))
        .chain(install.iter().map(|&o| (20, o)))
        .collect();
    assert_eq!(sections, expected);
    assert_eq!(shared[0], 1, "after the array head");
}

#[test]
fn failing_condition_says_which_and_why() {
    let mut sim = device();
    let (outcome, bytes, _) = run::<16>(&update(1, b"another-class-id", None), &mut sim, false);
    assert!(matches!(outcome, Err(Error::ConditionFailed(_))));
    let r = parse(&bytes);
    let result = r.get(4);
    assert_eq!(
        *result.get(5),
        V::U(2),
        "the class-identifier condition's code"
    );
    assert_eq!(*result.get(7), V::U(Reason::ConditionFailed as u64));
    let (section, offset, _, props) = rec(result.get(6));
    assert_eq!((section, offset), (3, command_offsets(&shared(CLASS))[2]));
    assert_eq!(
        *props,
        V::M(vec![(V::U(2), V::B(b"another-class-id".to_vec()))])
    );
    // What ran before: the vendor check, and the failed class check; nothing was fetched.
    assert_eq!(r.get(3).arr().len(), 2);
    assert!(sim.fetched.is_empty());
}

#[test]
fn failed_fetch_reports_the_operation() {
    let mut sim = device();
    sim.uris.clear();
    let (outcome, bytes, _) = run::<16>(&update(1, CLASS, None), &mut sim, false);
    assert!(matches!(outcome, Err(Error::Platform(_))));
    let result = parse(&bytes).get(4).clone();
    assert_eq!(*result.get(7), V::U(Reason::OperationFailed as u64));
    let (section, offset, _, props) = rec(result.get(6));
    assert_eq!((section, offset), (20, command_offsets(&install())[1]));
    assert_eq!(*props, V::M(vec![(V::U(21), V::T(URI.to_string()))]));
}

#[test]
fn failure_inside_run_sequence_names_the_inner_command() {
    // run-sequence [vendor-identifier with a wrong id]: the inner condition, not run-sequence.
    let inner = sequence(&[(20, params(&[(1, bstr(b"wrong-vendor-id!"))])), (1, rp(15))]);
    let install = sequence(&[(32, bstr(&inner))]);
    // The inner sequence's bytes start after the array head, the command 32 (2 bytes) and the
    // bstr head (1 byte): its vendor condition is at 4 + its offset in the inner sequence.
    let inner_at = 4 + command_offsets(&inner)[1];
    assert_eq!(&install[4..], &inner[..]);
    let mut sim = device();
    let (outcome, bytes, _) = run::<16>(&update(1, CLASS, Some(install)), &mut sim, true);
    assert!(matches!(outcome, Err(Error::ConditionFailed(_))));
    let r = parse(&bytes);
    let result = r.get(4);
    assert_eq!(*result.get(5), V::U(1));
    let (section, offset, _, props) = rec(result.get(6));
    assert_eq!((section, offset), (20, inner_at));
    assert_eq!(
        *props,
        V::M(vec![(V::U(1), V::B(b"wrong-vendor-id!".to_vec()))])
    );
    // The run-sequence itself is recorded after its commands, failed as well.
    assert_eq!(r.get(3).arr().len(), 6);
}

#[test]
fn rollback_is_reported_against_the_sequence_number() {
    let mut sim = device();
    sim.flash.sequence.insert(None, 5);
    let (outcome, bytes, _) = run::<16>(&update(5, CLASS, None), &mut sim, true);
    assert!(matches!(outcome, Err(Error::Rollback)));
    let r = parse(&bytes);
    assert_eq!(r.get(3).arr().len(), 0);
    let result = r.get(4);
    assert_eq!(*result.get(7), V::U(Reason::Unauthorised as u64));
    assert_eq!(rec(result.get(6)).0, 2);
}

#[test]
fn capacity_bounds_the_records() {
    let mut sim = device();
    let (outcome, bytes, _) = run::<2>(&update(1, CLASS, None), &mut sim, true);
    outcome.unwrap();
    assert_eq!(parse(&bytes).get(3).arr().len(), 2);
    // And the failure is kept even when the records are full.
    let mut sim = device();
    sim.uris.clear();
    let (_, bytes, _) = run::<1>(&update(1, CLASS, None), &mut sim, true);
    let r = parse(&bytes);
    assert_eq!(r.get(3).arr().len(), 1);
    assert_eq!(rec(r.get(4).get(6)).0, 20);
}

#[test]
fn small_buffer_and_signed_report() {
    let env = update(1, CLASS, None);
    let mut keys = [signing_key().verifying_key()];
    let mut anchors = TrustAnchors::signers(&mut keys);
    let mut crypto = RustCrypto::from_os();
    let mut sim = device();
    let mut reporter = Reporter::<_, 8>::new(&mut sim);
    let auth = iot_update_manifest::Envelope::decode(&env)
        .unwrap()
        .authenticate(&mut crypto, &mut anchors)
        .unwrap();
    let outcome = Processor::new(&mut reporter, &mut crypto, &mut anchors).update(&auth);
    assert_eq!(reporter.records().len(), 4);
    let mut out = [0u8; 512];
    let len = reporter.encode(&auth, None, &outcome, &mut out).unwrap();
    for short in [0, 1, len / 2, len - 1] {
        assert_eq!(
            reporter.encode(&auth, None, &outcome, &mut out[..short]),
            Err(iot_core::Error::BufferTooSmall)
        );
    }
    let mut signed = [0u8; 700];
    let mut key = signing_key();
    let n = report::sign(&mut crypto, &mut key, &out[..len], &mut signed).unwrap();
    // SIGNED_OVERHEAD bounds the growth, for reports short and long (the payload's bstr head
    // grows at 24, 256 and 65,536 bytes).
    for size in [0, 23, 24, 255, 256, 65_535, 65_536] {
        let report = vec![0xa0; size];
        let mut room = vec![0u8; size + report::SIGNED_OVERHEAD];
        let k = report::sign(&mut crypto, &mut key, &report, &mut room).unwrap();
        assert!(k <= size + report::SIGNED_OVERHEAD, "{size}");
    }
    let msg = CoseSign1::decode(&signed[..n]).unwrap();
    assert_eq!(msg.payload, Some(&out[..len]));
    msg.verify(&mut crypto, &mut signing_key().verifying_key(), &[])
        .unwrap();
    let mut other = iot_core::crypto::P256SigningKey::from_bytes(&[0x22; 32])
        .unwrap()
        .verifying_key();
    assert!(msg.verify(&mut crypto, &mut other, &[]).is_err());
}

/// The bytes of section `key` of an envelope's manifest (`suit-common`'s shared sequence for
/// 3), read with minicbor.
fn section(envelope: &[u8], key: i64) -> Vec<u8> {
    fn member(map: &[u8], key: i64) -> Vec<u8> {
        let mut d = Decoder::new(map);
        if d.datatype().unwrap() == Type::Tag {
            d.tag().unwrap();
        }
        let n = d.map().unwrap().unwrap();
        for _ in 0..n {
            if d.datatype().unwrap() == Type::String {
                d.str().unwrap();
                d.skip().unwrap();
                continue;
            }
            let k = d.i64().unwrap();
            if k == key {
                return d.bytes().unwrap().to_vec();
            }
            d.skip().unwrap();
        }
        panic!("no member {key}")
    }
    let manifest = member(envelope, 3);
    match key {
        3 => member(&member(&manifest, 3), 4),
        k => member(&manifest, k),
    }
}

/// libcsuit expS3 (an integrated dependency, expS0, processed at component index 1): every
/// record's section offset points at its command in the section of its manifest, the root's
/// (`[]`) or the dependency's (`[1]`), in the vectors' bytes.
#[test]
fn vector_records_point_at_their_commands() {
    use iot_core::crypto::P256VerifyingKey;
    use iot_update_manifest::Command;
    use p256::elliptic_curve::sec1::ToSec1Point;
    use p256::pkcs8::DecodePublicKey;
    let (Some(root), Some(dependency), Some(pem)) = (
        iot_test_vectors::read("suit/libcsuit/suit_manifest_expS3.suit"),
        iot_test_vectors::read("suit/libcsuit/suit_manifest_expS0.suit"),
        iot_test_vectors::read("suit/libcsuit/key/trust_anchor_secp256r1_pub.pem"),
    ) else {
        return;
    };
    let pk = p256::PublicKey::from_public_key_pem(core::str::from_utf8(&pem).unwrap()).unwrap();
    let mut keys = [P256VerifyingKey::from_sec1(pk.to_sec1_point(false).as_bytes()).unwrap()];
    let mut anchors = TrustAnchors::signers(&mut keys);
    let mut crypto = RustCrypto::from_os();
    let mut sim = Sim::new();
    let mut reporter = Reporter::<_, 32>::new(&mut sim).record_all();
    let mut scratch = [0u8; 1024];
    let auth = iot_update_manifest::Envelope::decode(&root)
        .unwrap()
        .authenticate(&mut crypto, &mut anchors)
        .unwrap();
    Processor::new(&mut reporter, &mut crypto, &mut anchors)
        .with_scratch(&mut scratch)
        .update(&auth)
        .unwrap();
    let records = reporter.records();
    for r in records {
        let envelope = match r.manifest.path() {
            [] => &root,
            [1] => &dependency,
            other => panic!("manifest id {other:?}"),
        };
        let bytes = section(envelope, r.section);
        let mut d = Decoder::new(&bytes[r.offset as usize..]);
        assert_eq!(d.i64().unwrap(), r.command.code(), "{r:?}");
    }
    // The dependent's process-dependency (install: 12, 1, then 11 at byte 3) and the
    // dependency's write (install: override-parameters with an 11-byte content, write at 16).
    let at = |id: &[u8], command: Command| {
        let r = records
            .iter()
            .find(|r| r.manifest.path() == id && r.command == command)
            .unwrap();
        (r.section, r.offset)
    };
    assert_eq!(at(&[], Command::ProcessDependency), (20, 3));
    assert_eq!(at(&[1], Command::Write), (20, 16));
    assert!(records.iter().any(|r| r.manifest.path() == [1]));
    // The encoded report carries the dependency's manifest id.
    let mut out = [0u8; 1024];
    let len = reporter.encode(&auth, None, &Ok(()), &mut out).unwrap();
    let encoded = parse(&out[..len]);
    let ids: Vec<_> = encoded
        .get(3)
        .arr()
        .iter()
        .map(|v| rec_of_any(v).0)
        .collect();
    assert!(ids.contains(&vec![1]) && ids.contains(&vec![]));
}
