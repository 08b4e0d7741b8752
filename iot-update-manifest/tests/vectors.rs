//! The SUIT vectors of ../shared/vectors: every libcsuit envelope authenticates under the libcsuit
//! trust anchor and its manifest decodes; the manifest-spec examples 0-5 verify under the key
//! that signed them.
// Helpers outside #[test] functions may unwrap and panic too: a failing test is the point.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod libcsuit;

use iot_core::cose::SymmetricKey;
use iot_core::crypto::{P256VerifyingKey, RustCrypto};
use iot_update_manifest::{
    Argument, AuthenticatedManifest, Command, CommandSequence, Envelope, Error, Parameter,
    Severable, TrustAnchors,
};
use p256::elliptic_curve::sec1::ToSec1Point;
use p256::pkcs8::DecodePrivateKey;

fn crypto() -> impl iot_core::crypto::Crypto {
    RustCrypto::from_os()
}

fn key_from_pkcs8_pem(pem: &str) -> P256VerifyingKey {
    let sk = p256::SecretKey::from_pkcs8_pem(pem).unwrap();
    P256VerifyingKey::from_sec1(sk.public_key().to_sec1_point(false).as_bytes()).unwrap()
}

/// Walks every command, recursing into try-each and run-sequence; returns how many it saw.
fn walk(seq: &CommandSequence<'_>) -> usize {
    let mut n = 0;
    for (cmd, arg) in seq {
        n += 1;
        match arg {
            Argument::TryEach(t) => {
                assert_eq!(cmd, Command::TryEach);
                n += t.iter().map(|s| walk(&s)).sum::<usize>();
            }
            Argument::Sequence(s) => n += walk(&s),
            Argument::Parameters(p) => {
                // Every parameter decodes; the count matches the map.
                assert_eq!(p.iter().count(), p.len());
            }
            _ => {}
        }
    }
    assert!(n >= seq.len());
    n
}

/// Counts the commands of every sequence the manifest holds (severed ones included when present).
fn walk_manifest(m: &AuthenticatedManifest<'_>) -> usize {
    let man = m.manifest();
    let mut n = 0;
    let plain = [
        man.common().shared_sequence(),
        man.validate(),
        man.load(),
        man.invoke(),
        man.uninstall(),
    ];
    for s in plain.into_iter().flatten() {
        n += walk(&s);
    }
    let severable = [
        man.dependency_resolution(),
        man.payload_fetch(),
        man.candidate_verification(),
        man.install(),
    ];
    for s in severable.into_iter().flatten().filter_map(|s| s.get()) {
        n += walk(&s);
    }
    n
}

#[test]
fn libcsuit_envelopes_authenticate_and_decode() {
    let Some(files) = iot_test_vectors::files(libcsuit::DIR, ".suit") else {
        return;
    };
    let key = libcsuit::trust_anchor().unwrap();
    let mac = [SymmetricKey::new(&libcsuit::MAC_KEY)];
    let mut c = crypto();
    let (mut by_signature, mut by_mac, mut skipped) = (0, 0, Vec::new());
    for f in &files {
        let bytes = iot_test_vectors::read(f).unwrap();
        let env = Envelope::decode(&bytes).unwrap_or_else(|e| panic!("{f}: decode: {e}"));
        let mut keys = [key];
        // First the published trust anchor alone.
        let m = match env.authenticate(&mut c, &mut TrustAnchors::signers(&mut keys)) {
            Ok(m) => {
                by_signature += 1;
                m
            }
            Err(Error::NoTrustedKey) => {
                skipped.push((
                    f.clone(),
                    "COSE_Mac0: the P-256 trust anchor cannot verify a MAC",
                ));
                // Then with the MAC key as well (and the signature key alone must not do).
                let m = env
                    .authenticate(&mut c, &mut TrustAnchors::new(&mut keys, &mac))
                    .unwrap_or_else(|e| panic!("{f}: with the MAC key: {e}"));
                by_mac += 1;
                m
            }
            Err(e) => panic!("{f}: {e}"),
        };
        let commands = walk_manifest(&m);
        let man = m.manifest();
        assert!(!man.common().components().is_empty(), "{f}");
        println!(
            "{f}: authenticated, sequence number {}, {} component(s), {commands} command(s)",
            man.sequence_number(),
            man.common().components().len()
        );
    }
    println!(
        "libcsuit: {} of {} envelopes authenticated and decoded: {by_signature} by COSE_Sign1 under \
         trust_anchor_secp256r1_pub.pem, {by_mac} by COSE_Mac0 under the MAC key",
        by_signature + by_mac,
        files.len(),
    );
    for (f, why) in &skipped {
        println!("  not verifiable with the trust anchor alone: {f}: {why}");
    }
    assert_eq!(by_signature + by_mac, files.len());
    assert!(
        by_signature >= 19,
        "the Sign1 envelopes of libcsuit @ 00f5609"
    );
}

#[test]
fn mac_envelopes_reject_other_keys() {
    let Some(bytes) = iot_test_vectors::read("suit/libcsuit/suit_manifest_expAW.suit") else {
        return;
    };
    let env = Envelope::decode(&bytes).unwrap();
    let mut c = crypto();
    let mut wrong = libcsuit::MAC_KEY;
    for i in 0..wrong.len() {
        wrong[i] ^= 1;
        let keys = [SymmetricKey::new(&wrong)];
        assert_eq!(
            env.authenticate(&mut c, &mut TrustAnchors::macs(&keys))
                .unwrap_err(),
            Error::NotAuthenticated(iot_core::Error::BadTag)
        );
        wrong[i] ^= 1;
    }
    let short = [SymmetricKey::new(&libcsuit::MAC_KEY[..16])];
    assert!(
        env.authenticate(&mut c, &mut TrustAnchors::macs(&short))
            .is_err()
    );
    let keys = [SymmetricKey::new(&libcsuit::MAC_KEY)];
    assert!(
        env.authenticate(&mut c, &mut TrustAnchors::macs(&keys))
            .is_ok()
    );
}

/// Every hex block of a manifest-spec example (the envelope without and with its COSE
/// authentication object; example 2 also without its severable members).
fn spec_envelopes(txt: &str) -> Vec<Vec<u8>> {
    txt.split("~~~")
        .skip(1)
        .step_by(2)
        .filter(|b| !b.starts_with(" cbor-diag"))
        .map(|b| b.chars().filter(|c| !c.is_whitespace()).collect::<String>())
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()))
        .map(|h| hex::decode(h).unwrap())
        .collect()
}

#[test]
fn manifest_spec_examples_verify() {
    let Some(pem) = iot_test_vectors::read("suit/manifest-spec/private_key.pem") else {
        return;
    };
    let key = key_from_pkcs8_pem(core::str::from_utf8(&pem).unwrap());
    let mut c = crypto();
    let (mut signed, mut unsigned) = (0, 0);
    for i in 0..=5 {
        let rel = format!("suit/manifest-spec/example{i}.txt");
        let txt = String::from_utf8(iot_test_vectors::read(&rel).unwrap()).unwrap();
        let envelopes = spec_envelopes(&txt);
        assert!(envelopes.len() >= 2, "{rel}: envelope hex blocks");
        let mut signed_here = 0;
        for bytes in &envelopes {
            let env = Envelope::decode(bytes).unwrap_or_else(|e| panic!("{rel}: {e}"));
            let mut keys = [key];
            let result = env.authenticate(&mut c, &mut TrustAnchors::signers(&mut keys));
            if env.authentication_blocks() == 0 {
                assert_eq!(result.unwrap_err(), Error::NoAuthenticationBlock, "{rel}");
                unsigned += 1;
                continue;
            }
            let m = result.unwrap_or_else(|e| panic!("{rel}: {e}"));
            let commands = walk_manifest(&m);
            println!(
                "{rel}: {} bytes authenticated, sequence number {}, {commands} command(s)",
                bytes.len(),
                m.manifest().sequence_number()
            );
            signed_here += 1;
        }
        assert!(signed_here >= 1, "{rel}: no signed envelope");
        signed += signed_here;
    }
    println!(
        "manifest-spec: {signed} signed envelopes of examples 0-5 authenticated and decoded; \
         {unsigned} unsigned ones rejected with NoAuthenticationBlock"
    );
}

/// Example 0 (libcsuit's copy of manifest-spec example 0), read field by field against its .diag.
#[test]
fn example0_model() {
    let Some(bytes) = iot_test_vectors::read("suit/libcsuit/suit_manifest_exp0.suit") else {
        return;
    };
    let mut keys = [libcsuit::trust_anchor().unwrap()];
    let env = Envelope::decode(&bytes).unwrap();
    assert!(env.is_tagged());
    let m = env
        .authenticate(&mut crypto(), &mut TrustAnchors::signers(&mut keys))
        .unwrap();
    let man = m.manifest();
    assert_eq!(man.version(), 1);
    assert_eq!(man.sequence_number(), 0);
    let comps = man.common().components();
    assert_eq!(comps.len(), 1);
    let id = comps.get(0).unwrap();
    assert_eq!(id.segments().collect::<Vec<_>>(), vec![&[0u8][..]]);
    let shared: Vec<_> = man.common().shared_sequence().unwrap().iter().collect();
    assert_eq!(shared.len(), 3);
    let (cmd, Argument::Parameters(p)) = shared[0] else {
        panic!("override-parameters expected")
    };
    assert_eq!(cmd, Command::OverrideParameters);
    let params: Vec<_> = p.iter().collect();
    assert_eq!(
        params[0],
        Parameter::VendorId(&hex::decode("fa6b4a53d5ad5fdfbe9de663e4d41ffe").unwrap())
    );
    assert_eq!(
        params[1],
        Parameter::ClassId(&hex::decode("1492af1425695e48bf429b2d51f2ab45").unwrap())
    );
    let Parameter::ImageDigest(d) = params[2] else {
        panic!("image digest expected")
    };
    assert_eq!(d.algorithm, -16);
    assert_eq!(
        d.bytes,
        hex::decode("00112233445566778899aabbccddeeff0123456789abcdeffedcba9876543210").unwrap()
    );
    assert_eq!(params[3], Parameter::ImageSize(34768));
    assert_eq!(shared[1].0, Command::VendorIdentifier);
    assert_eq!(shared[2].0, Command::ClassIdentifier);
    let Argument::ReportingPolicy(rp) = shared[1].1 else {
        panic!("reporting policy expected")
    };
    assert_eq!(rp.0, 15);
    let validate: Vec<_> = man.validate().unwrap().iter().collect();
    assert_eq!(validate.len(), 1);
    assert_eq!(validate[0].0, Command::ImageMatch);
    let invoke: Vec<_> = man.invoke().unwrap().iter().collect();
    assert_eq!(invoke[0].0, Command::Invoke);
    assert!(man.install().is_none());
    assert!(man.text().is_none());
}

/// Example 2B: install and text are severed and supplied in the envelope; their digests match.
#[test]
fn severed_members_restored() {
    let Some(bytes) = iot_test_vectors::read("suit/libcsuit/suit_manifest_exp2B.suit") else {
        return;
    };
    let mut keys = [libcsuit::trust_anchor().unwrap()];
    let env = Envelope::decode(&bytes).unwrap();
    let m = env
        .authenticate(&mut crypto(), &mut TrustAnchors::signers(&mut keys))
        .unwrap();
    let man = m.manifest();
    let Some(Severable::Restored(install)) = man.install() else {
        panic!(
            "install should be severed and restored: {:?}",
            man.install()
        )
    };
    let cmds: Vec<_> = install.iter().map(|(c, _)| c).collect();
    assert_eq!(
        cmds,
        [
            Command::OverrideParameters,
            Command::Fetch,
            Command::ImageMatch
        ]
    );
    let Some(Severable::Restored(text)) = man.text() else {
        panic!("text should be severed and restored")
    };
    let en = text.language("en-US").unwrap();
    assert!(en.get(1).unwrap().starts_with("## Example 2"));

    // Example 2A is the same manifest without the severed members: only their digests remain,
    // and they are the digests of 2B's envelope members (the bstr, head included).
    let bytes_a = iot_test_vectors::read("suit/libcsuit/suit_manifest_exp2A.suit").unwrap();
    let env_a = Envelope::decode(&bytes_a).unwrap();
    let a = env_a
        .authenticate(&mut crypto(), &mut TrustAnchors::signers(&mut keys))
        .unwrap();
    let Some(Severable::Missing(d)) = a.manifest().install() else {
        panic!("install of 2A should be severed and missing")
    };
    assert_eq!(d.algorithm, -16);
    assert_eq!(a.digest(), m.digest());
    assert!(matches!(a.manifest().text(), Some(Severable::Missing(_))));
}
