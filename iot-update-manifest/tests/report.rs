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

/// A decoded SUIT_Record: (section, offset, component, properties).
fn rec(v: &V) -> (u64, u64, u64, &V) {
    let a = v.arr();
    assert_eq!(a.len(), 5);
    assert_eq!(a[0], V::A(vec![]), "manifest-id of the root");
    let (V::U(s), V::U(o), V::U(c)) = (&a[1], &a[2], &a[3]) else {
        panic!("{v:?}")
    };
    (*s, *o, *c, &a[4])
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

/// An update that checks vendor and class (shared), fetches, checks the image; `install` replaces
/// the install sequence when given.
fn update(seq: u64, class: &[u8], install: Option<Vec<u8>>) -> Vec<u8> {
    let shared = sequence(&[
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
    ]);
    let install = install.unwrap_or_else(|| {
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
    });
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
    assert_eq!((got[0].0, got[0].1), (3, 1));
    assert_eq!(*got[0].3, V::M(vec![(V::U(1), V::B(VENDOR.to_vec()))]));
    assert_eq!((got[1].0, got[1].1), (3, 2));
    assert_eq!(*got[1].3, V::M(vec![(V::U(2), V::B(CLASS.to_vec()))]));
    assert_eq!((got[2].0, got[2].1, got[2].2), (20, 1, 0));
    assert_eq!(*got[2].3, V::M(vec![(V::U(21), V::T(URI.to_string()))]));
    assert_eq!((got[3].0, got[3].1), (20, 2));
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
    assert_eq!(
        sections,
        [(3, 0), (3, 1), (3, 2), (20, 0), (20, 1), (20, 2)]
    );
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
    assert_eq!((section, offset), (3, 2));
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
    assert_eq!((section, offset), (20, 1));
    assert_eq!(*props, V::M(vec![(V::U(21), V::T(URI.to_string()))]));
}

#[test]
fn failure_inside_run_sequence_names_the_inner_command() {
    // run-sequence [vendor-identifier with a wrong id]: the inner condition, not run-sequence.
    let inner = sequence(&[(20, params(&[(1, bstr(b"wrong-vendor-id!"))])), (1, rp(15))]);
    let install = sequence(&[(32, bstr(&inner))]);
    let mut sim = device();
    let (outcome, bytes, _) = run::<16>(&update(1, CLASS, Some(install)), &mut sim, true);
    assert!(matches!(outcome, Err(Error::ConditionFailed(_))));
    let r = parse(&bytes);
    let result = r.get(4);
    assert_eq!(*result.get(5), V::U(1));
    let (section, offset, _, props) = rec(result.get(6));
    assert_eq!((section, offset), (20, 1));
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
    assert!(matches!(
        outcome,
        Err(Error::Rollback {
            stored: 5,
            manifest: 5
        })
    ));
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
    let msg = CoseSign1::decode(&signed[..n]).unwrap();
    assert_eq!(msg.payload, Some(&out[..len]));
    msg.verify(&mut crypto, &mut signing_key().verifying_key(), &[])
        .unwrap();
    let mut other = iot_core::crypto::P256SigningKey::from_bytes(&[0x22; 32])
        .unwrap()
        .verifying_key();
    assert!(msg.verify(&mut crypto, &mut other, &[]).is_err());
}
