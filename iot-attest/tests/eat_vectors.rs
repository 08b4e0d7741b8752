//! RFC 9711 examples of ../shared/vectors/eat: every CBOR claims-set payload decodes to the
//! claims it states, re-encodes deterministically, and the example tokens decode.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod common;

use common::diag_to_cbor;
use iot_attest::{
    Claims, ClaimsIter, DebugStatus, DetachedDigest, Envelope, Error, Label, NestedToken, Nonce,
    NumericDate, OemId, Submodule, Token, Version, key,
};

fn payload(name: &str) -> Option<Vec<u8>> {
    let text = iot_test_vectors::read(&format!("eat/payloads/{name}"))?;
    Some(diag_to_cbor(&String::from_utf8(text).unwrap()))
}

/// Decode, encode, decode again: the same claims, and the encoding is a fixed point.
fn round_trip(cbor: &[u8]) {
    let claims = Claims::decode(cbor).unwrap();
    let mut buf = vec![0u8; cbor.len() * 2 + 64];
    let n = claims.encode_to(&mut buf).unwrap();
    let again = Claims::decode(&buf[..n]).unwrap();
    assert_eq!(again, claims);
    let mut buf2 = vec![0u8; n];
    let m = again.encode_to(&mut buf2).unwrap();
    assert_eq!(&buf2[..m], &buf[..n]);
    // Keys in deterministic order.
    let keys: Vec<Label<'_>> = ClaimsIter::new(&buf[..n])
        .unwrap()
        .map(|e| e.unwrap().0)
        .collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
}

#[test]
fn every_cbor_payload_decodes_and_round_trips() {
    let Some(files) = iot_test_vectors::files("eat/payloads", ".diag") else {
        return;
    };
    let mut decoded = 0;
    for rel in &files {
        if rel.contains("/coswid/") {
            // CoSWID tags (RFC 9393): the bodies that manifests and measurements carry, not
            // claims-sets.
            continue;
        }
        let name = rel.rsplit('/').next().unwrap();
        let cbor = payload(name).unwrap();
        if name == "submods.diag" {
            // Known erratum of the example: two submodules give "swname" under key 271
            // (swversion), whose value must be an array. A conforming decoder refuses it.
            assert!(
                matches!(
                    Claims::decode(&cbor),
                    Err(Error::InvalidClaim { key: 271, .. })
                ),
                "{rel}"
            );
            continue;
        }
        round_trip(&cbor);
        decoded += 1;
    }
    println!("eat/payloads: {decoded} CBOR claims-sets decoded and round-tripped");
    assert!(decoded >= 8, "{decoded}");
}

#[test]
fn simple_payload_claims() {
    let Some(cbor) = payload("simple.diag") else {
        return;
    };
    let c = Claims::decode(&cbor).unwrap();
    assert_eq!(c.iss, Some("joe"));
    assert_eq!(
        c.nonce,
        Some(Nonce::One(
            &hex::decode("88b20f5b9fc0bc8f7685bbc0").unwrap()
        ))
    );
    assert_eq!(
        c.ueid,
        Some(&hex::decode("0198f50a4ff6c05861c8860d13a638ea").unwrap()[..])
    );
    assert_eq!(c.oemid, Some(OemId::Ieee(&[0x88, 0x12, 0x4e])));
    assert_eq!(c.hwmodel.map(<[u8]>::len), Some(16));
    assert_eq!(c.oemboot, Some(true));
    assert_eq!(c.dbgstat, Some(DebugStatus::DisabledPermanently));
    assert_eq!(c.iat, Some(NumericDate::Int(1526542894)));
    assert_eq!(c.iter().count(), 8);
}

#[test]
fn submodule_kinds() {
    let Some(cbor) = payload("valid_submods.diag") else {
        return;
    };
    let c = Claims::decode(&cbor).unwrap();
    assert_eq!(c.swname, Some("Acme OS"));
    assert_eq!(
        c.swversion,
        Some(Version {
            version: "3.5.5",
            scheme: Some(Label::Int(1))
        })
    );
    let subs: Vec<_> = c.submods.unwrap().iter().collect();
    assert_eq!(subs.len(), 2);
    let board = subs.iter().find(|s| s.name == "board").unwrap();
    let Submodule::Claims(set) = board.module else {
        panic!("board is a claims-set")
    };
    let board = set.claims().unwrap();
    assert_eq!(
        board.oemid.map(|o| matches!(o, OemId::Random(_))),
        Some(true)
    );
    assert_eq!(
        board.hwversion,
        Some(Version {
            version: "2.0a",
            scheme: Some(Label::Int(2))
        })
    );
    let device = subs.iter().find(|s| s.name == "device").unwrap();
    let Submodule::Claims(set) = device.module else {
        panic!()
    };
    assert_eq!(set.claims().unwrap().oemid, Some(OemId::Pen(61234)));

    // A detached digest.
    let cbor = payload("valid_hw_block2.diag").unwrap();
    let c = Claims::decode(&cbor).unwrap();
    let tee = c.submods.unwrap().iter().next().unwrap();
    assert_eq!(tee.name, "TEE");
    let Submodule::Digest(DetachedDigest { alg, digest }) = tee.module else {
        panic!()
    };
    assert_eq!(alg, Label::Int(-16));
    assert_eq!(digest.len(), 32);

    // Measurements in a submodule, manifests, and claims this crate does not model.
    let iot = payload("valid_iot.diag").unwrap();
    let c = Claims::decode(&iot).unwrap();
    let os = c.submods.unwrap().iter().next().unwrap();
    let Submodule::Claims(set) = os.module else {
        panic!()
    };
    let m = set
        .claims()
        .unwrap()
        .measurements
        .unwrap()
        .iter()
        .next()
        .unwrap();
    assert_eq!(m.content_format, 258);
    assert_eq!(m.content[0], 0xa6, "a CoSWID map");
    let store = payload("valid_key_store.diag").unwrap();
    let c = Claims::decode(&store).unwrap();
    let extra: Vec<_> = c.extra.iter().map(|x| x.key).collect();
    assert_eq!(extra, [Label::Int(-80000), Label::Int(-80001)]);
    assert_eq!(c.manifests.unwrap().len(), 1);
    assert_eq!(c.exp, Some(NumericDate::Int(1634324274)));
}

#[test]
fn submods_example_with_its_erratum_fixed() {
    let Some(text) = iot_test_vectors::read("eat/payloads/submods.diag") else {
        return;
    };
    let text = String::from_utf8(text).unwrap();
    // Two submodules ("Android App Foo", "Linux Android") label their claim "swname" but use
    // key 271 (swversion).
    assert_eq!(
        text.matches("/ swname /       271:").count(),
        2,
        "the erratum as expected"
    );
    let fixed = text.replace("/ swname /       271:", "/ swname / 270:");
    let cbor = diag_to_cbor(&fixed);
    round_trip(&cbor);
    let c = Claims::decode(&cbor).unwrap();
    let subs: Vec<_> = c.submods.unwrap().iter().collect();
    assert_eq!(subs.len(), 4);
    let get = |n: &str| subs.iter().find(|s| s.name == n).unwrap().module;
    let Submodule::Claims(app) = get("Android App Foo") else {
        panic!()
    };
    assert_eq!(app.claims().unwrap().swname, Some("Foo.app"));
    let Submodule::Token(NestedToken::Json(jwt)) = get("Subsystem J") else {
        panic!()
    };
    assert!(jwt.starts_with("[ \"JWT\""));
    let Submodule::Token(nested @ NestedToken::Cbor(bytes)) = get("Secure Element Eat") else {
        panic!()
    };
    assert_eq!(nested.tag(), Some(61));
    // The nested token is itself a CWT whose claims decode (its key is not published).
    let t = Token::decode(bytes).unwrap();
    assert!(t.cwt_tagged);
    let inner = t.claims_unverified().unwrap();
    assert_eq!(inner.oemid, Some(OemId::Pen(64242)));
    assert_eq!(inner.dbgstat, Some(DebugStatus::DisabledPermanently));
    let Submodule::Digest(d) = inner.submods.unwrap().iter().next().unwrap().module else {
        panic!()
    };
    assert_eq!(d.alg, Label::Int(-16));
}

#[test]
fn example_tokens_decode() {
    let Some(text) = iot_test_vectors::read("eat/tokens/valid_cwt.diag") else {
        return;
    };
    let cbor = diag_to_cbor(&String::from_utf8(text).unwrap());
    let t = Token::decode(&cbor).unwrap();
    assert!(t.cwt_tagged);
    let Envelope::Sign1(ref m) = t.envelope else {
        panic!("a COSE_Sign1")
    };
    assert_eq!(m.alg().unwrap(), iot_core::cose::Algorithm::Es256);
    let c = t.claims_unverified().unwrap();
    assert_eq!(
        c.nonce,
        Some(Nonce::One(
            &hex::decode("d79b964ddd5471c1393c8888").unwrap()
        ))
    );
    assert_eq!(c.hwversion.map(|v| v.version), Some("3.1"));
    assert_eq!(
        c.get(key::OEMID),
        Some(iot_attest::Claim::OemId(OemId::Pen(64242)))
    );

    // A detached EAT bundle (tag 602) is not a CWT: refused as such; its main token decodes.
    let text = iot_test_vectors::read("eat/tokens/valid_deb.diag").unwrap();
    let deb = diag_to_cbor(&String::from_utf8(text).unwrap());
    assert_eq!(
        Token::decode(&deb),
        Err(Error::Core(iot_core::Error::WrongTag(602)))
    );
    let mut r = iot_core::cbor::Reader::new(&deb);
    assert_eq!(r.opt_tag().unwrap(), Some(602));
    r.array_of(2).unwrap();
    let main = Token::decode(r.bytes().unwrap()).unwrap();
    let claims = main.claims_unverified().unwrap();
    let tee = claims.submods.unwrap().iter().next().unwrap();
    assert!(matches!(tee.module, Submodule::Digest(_)));
}
