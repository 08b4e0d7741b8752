//! The builder (feature `alloc`, JSON with `json`): what it builds authenticates with our decoder
//! and runs through the Processor on the simulated device (a manifest for one device identifier
//! runs there alone); severing keeps the envelope valid;
//! descriptions that are not manifests are refused with a reason.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod sim;

use iot_core::cose::{Algorithm, SymmetricKey};
use iot_core::crypto::{P256SigningKey, RustCrypto, Sha256};
use iot_update_manifest::builder::{
    BuildError, Cmd, Description, Digest, Index, LanguageText, Param, json, sever,
};
use iot_update_manifest::{
    Argument, Command, Envelope, Error, Parameter, Processor, Severable, TrustAnchors, manifest_key,
};
use sim::Sim;
use std::path::PathBuf;

const VENDOR: &str = "fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe";
const CLASS: &str = "1492af14-2569-5e48-bf42-9b2d51f2ab45";
const VENDOR_BYTES: [u8; 16] = [
    0xfa, 0x6b, 0x4a, 0x53, 0xd5, 0xad, 0x5f, 0xdf, 0xbe, 0x9d, 0xe6, 0x63, 0xe4, 0xd4, 0x1f, 0xfe,
];
const CLASS_BYTES: [u8; 16] = [
    0x14, 0x92, 0xaf, 0x14, 0x25, 0x69, 0x5e, 0x48, 0xbf, 0x42, 0x9b, 0x2d, 0x51, 0xf2, 0xab, 0x45,
];
const MAC_KEY: [u8; 32] = [7; 32];

fn key() -> P256SigningKey {
    P256SigningKey::from_bytes(&[0x42; 32]).unwrap()
}

fn other_key() -> P256SigningKey {
    P256SigningKey::from_bytes(&[0x43; 32]).unwrap()
}

/// A folder of its own for one test's files.
fn folder(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("builder-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An A/B update for component [h'00'] as JSON: slot 0 gets image-a.bin, slot 1 image-b.bin,
/// both carried in the envelope as integrated payloads; install and text are severed.
fn ab_json(sequence: u64) -> String {
    format!(
        r##"{{
  "algorithm": "ESP256",
  "sequence-number": {sequence},
  "components": [["00"]],
  "shared-sequence": [
    {{"directive-override-parameters": {{"vendor-id": "{VENDOR}", "class-id": "{CLASS}"}}}},
    {{"directive-try-each": [
      [{{"directive-override-parameters": {{"component-slot": 0}}}},
       {{"condition-component-slot": 5}},
       {{"directive-override-parameters": {{"image": {{"file": "image-a.bin"}}}}}}],
      [{{"directive-override-parameters": {{"component-slot": 1}}}},
       {{"condition-component-slot": 5}},
       {{"directive-override-parameters": {{"image-digest": {{"file": "image-b.bin"}},
                                           "image-size": {{"file": "image-b.bin"}}}}}}]
    ]}},
    {{"condition-vendor-identifier": 15}},
    {{"condition-class-identifier": 15}}
  ],
  "validate": [{{"condition-image-match": 15}}],
  "invoke": [{{"directive-invoke": 2}}],
  "install": [
    {{"directive-try-each": [
      [{{"directive-override-parameters": {{"slot": 0}}}},
       {{"condition-component-slot": 5}},
       {{"directive-override-parameters": {{"uri": "#a"}}}}],
      [{{"directive-override-parameters": {{"slot": 1}}}},
       {{"condition-component-slot": 5}},
       {{"directive-override-parameters": {{"uri": "#b"}}}}]
    ]}},
    {{"directive-fetch": 2}},
    {{"condition-image-match": 15}}
  ],
  "text": {{"en": {{"manifest-description": "A/B update",
                   "components": [{{"component-id": ["00"], "vendor-domain": "example.com"}}]}}}},
  "sever": ["install", "text"],
  "integrated": {{"#a": {{"file": "image-a.bin"}}, "#b": {{"hex": "0b0b0b0b0b"}}}}
}}"##
    )
}

const IMAGE_A: &[u8] = b"image for slot A, version 2";
const IMAGE_B: [u8; 5] = [0x0b; 5];

/// The A/B envelope, built from [`ab_json`] in a folder holding the two images.
fn ab_envelope(name: &str, sequence: u64) -> Vec<u8> {
    let dir = folder(name);
    std::fs::write(dir.join("image-a.bin"), IMAGE_A).unwrap();
    std::fs::write(dir.join("image-b.bin"), IMAGE_B).unwrap();
    let mut crypto = RustCrypto::from_os();
    let parsed = json::parse(&ab_json(sequence), &dir, &mut crypto).unwrap();
    assert_eq!(parsed.algorithm, Algorithm::Esp256);
    let mut unsigned = parsed.description.encode(&mut crypto).unwrap();
    unsigned
        .sign(&mut crypto, &mut key(), parsed.algorithm, None)
        .unwrap();
    unsigned.to_bytes().unwrap()
}

fn device(slot: u64) -> Sim {
    let mut sim = Sim::new();
    sim.vendor_ids = vec![VENDOR_BYTES.to_vec()];
    sim.class_ids = vec![CLASS_BYTES.to_vec()];
    sim.slot = Some(slot);
    sim
}

/// Authenticates `envelope`, runs the update procedure when `install` is set, then the boot
/// procedure.
fn process(sim: &mut Sim, envelope: &[u8], install: bool) -> Result<(), Error> {
    let mut crypto = RustCrypto::from_os();
    let mut keys = [key().verifying_key()];
    let mut anchors = TrustAnchors::signers(&mut keys);
    let mut p = Processor::new(sim, &mut crypto, &mut anchors);
    let auth = p.authenticate(envelope)?;
    if install {
        p.update(&auth)?;
    }
    p.boot(&auth)
}

fn update(sim: &mut Sim, envelope: &[u8]) -> Result<(), Error> {
    process(sim, envelope, true)
}

#[test]
fn built_ab_update_installs_into_the_device_slot() {
    let envelope = ab_envelope("ab", 2);
    for (slot, image) in [(0, IMAGE_A.to_vec()), (1, IMAGE_B.to_vec())] {
        let mut sim = device(slot);
        update(&mut sim, &envelope).unwrap();
        assert_eq!(sim.get(&(vec![vec![0]], Some(slot))), Some(&image));
        assert_eq!(sim.flash.sequence.get(&None), Some(&2));
        assert_eq!(sim.invoked.len(), 1, "booted");
        // The same envelope again is a replay: refused, nothing changes.
        let before = sim.flash.clone();
        assert_eq!(update(&mut sim, &envelope), Err(Error::Rollback));
        assert_eq!(sim.flash, before);
    }
    // A device of another class refuses it before anything is written.
    let mut sim = device(0);
    sim.class_ids = vec![VENDOR_BYTES.to_vec()];
    assert_eq!(
        update(&mut sim, &envelope),
        Err(Error::ConditionFailed(Command::ClassIdentifier))
    );
    assert!(sim.flash.storage.is_empty());
    // Signed by another key: refused.
    let mut crypto = RustCrypto::from_os();
    let mut keys = [other_key().verifying_key()];
    assert!(
        Envelope::decode(&envelope)
            .unwrap()
            .authenticate(&mut crypto, &mut TrustAnchors::signers(&mut keys))
            .is_err()
    );
}

#[test]
fn severing_keeps_the_envelope_valid() {
    let envelope = ab_envelope("sever", 3);
    let mut crypto = RustCrypto::from_os();
    let mut keys = [key().verifying_key()];
    let full = Envelope::decode(&envelope).unwrap();
    let auth = full
        .authenticate(&mut crypto, &mut TrustAnchors::signers(&mut keys))
        .unwrap();
    let m = auth.manifest();
    assert!(matches!(m.install(), Some(Severable::Restored(_))));
    let Some(Severable::Restored(text)) = m.text() else {
        panic!("text restored")
    };
    let (lang, texts) = text.languages().next().unwrap();
    assert_eq!(lang, "en");
    assert_eq!(texts.get(1), Some("A/B update"));

    let severed = sever(&envelope).unwrap();
    assert!(severed.len() < envelope.len());
    assert_eq!(sever(&severed).unwrap(), severed, "idempotent");
    let env = Envelope::decode(&severed).unwrap();
    assert_eq!(env.digest(), full.digest(), "manifest untouched");
    let auth = env
        .authenticate(&mut crypto, &mut TrustAnchors::signers(&mut keys))
        .unwrap();
    let m = auth.manifest();
    let Some(Severable::Missing(d)) = m.install() else {
        panic!("install severed")
    };
    assert_eq!(d.algorithm, -16);
    assert!(matches!(m.text(), Some(Severable::Missing(_))));
    // Integrated payloads stay.
    assert_eq!(auth.integrated_payload("#a"), Some(IMAGE_A));
    // Without its install sequence the update is refused, nothing written.
    let mut sim = device(0);
    assert_eq!(
        update(&mut sim, &severed),
        Err(Error::SeveredMemberMissing(
            i32::try_from(manifest_key::INSTALL).unwrap()
        ))
    );
    assert!(sim.flash.storage.is_empty());
    assert!(sim.flash.sequence.is_empty());
    // Not an envelope: refused.
    assert!(matches!(sever(&severed[1..]), Err(BuildError::Envelope(_))));
}

/// The device one manifest is for, and another of the same vendor and class (RFC 9562 UUIDs).
const DEVICE_BYTES: [u8; 16] = [
    0x6e, 0x2f, 0x3c, 0x41, 0x9a, 0x07, 0x5b, 0x8d, 0xa1, 0x52, 0x0c, 0x7e, 0x94, 0x3b, 0xd8, 0x16,
];
const OTHER_DEVICE_BYTES: [u8; 16] = [
    0x6e, 0x2f, 0x3c, 0x41, 0x9a, 0x07, 0x5b, 0x8d, 0xa1, 0x52, 0x0c, 0x7e, 0x94, 0x3b, 0xd8, 0x17,
];
const ONE_DEVICE_IMAGE: &[u8] = b"firmware built for one device";

/// An update of component ['fw'] for one device: the shared sequence sets vendor, class and
/// device identifier and checks all three; install writes the integrated image and checks it,
/// validate checks it again, invoke runs it.
fn one_device_envelope() -> Vec<u8> {
    let mut crypto = RustCrypto::from_os();
    let mut d = Description::new(4, vec![vec![b"fw".to_vec()]]);
    d.shared_sequence = Some(vec![
        Cmd::OverrideParameters(vec![
            Param::VendorId(VENDOR_BYTES.to_vec()),
            Param::ClassId(CLASS_BYTES.to_vec()),
            Param::DeviceId(DEVICE_BYTES.to_vec()),
            Param::ImageDigest(Digest::sha256(&mut crypto, ONE_DEVICE_IMAGE)),
            Param::ImageSize(ONE_DEVICE_IMAGE.len() as u64),
        ]),
        Cmd::Policy(Command::VendorIdentifier, 15),
        Cmd::Policy(Command::ClassIdentifier, 15),
        Cmd::Policy(Command::DeviceIdentifier, 15),
    ]);
    d.install = Some(vec![
        Cmd::OverrideParameters(vec![Param::Uri("#fw".into())]),
        Cmd::Policy(Command::Fetch, 2),
        Cmd::Policy(Command::ImageMatch, 15),
    ]);
    d.validate = Some(vec![Cmd::Policy(Command::ImageMatch, 15)]);
    d.invoke = Some(vec![Cmd::Policy(Command::Invoke, 2)]);
    d.integrated = vec![("#fw".into(), ONE_DEVICE_IMAGE.to_vec())];
    let mut unsigned = d.encode(&mut crypto).unwrap();
    unsigned
        .sign(&mut crypto, &mut key(), Algorithm::Es256, None)
        .unwrap();
    unsigned.to_bytes().unwrap()
}

/// suit-condition-device-identifier (24): a manifest naming one device installs and boots there,
/// and is refused, with nothing changed, by a device of the same vendor and class with another
/// device identifier or with none.
#[test]
fn device_identifier_condition_selects_one_device() {
    let envelope = one_device_envelope();
    let fw = sim::path(&[b"fw"]);
    // The builder wrote condition 24 after parameter 24 with the device's UUID.
    let auth = Envelope::decode(&envelope)
        .unwrap()
        .authenticate(
            &mut RustCrypto::from_os(),
            &mut TrustAnchors::signers(&mut [key().verifying_key()]),
        )
        .unwrap();
    let shared = auth.manifest().common().shared_sequence().unwrap();
    let commands: Vec<_> = shared.iter().collect();
    assert_eq!(commands.len(), 4);
    let Argument::Parameters(params) = commands[0].1 else {
        panic!("override-parameters first")
    };
    assert!(
        params
            .iter()
            .any(|p| p == Parameter::DeviceId(&DEVICE_BYTES))
    );
    assert_eq!(commands[3].0, Command::DeviceIdentifier);
    assert_eq!(Command::DeviceIdentifier.code(), 24);

    // The device it names: installed, counter stored, booted.
    let mut sim = device(0);
    sim.device_ids = vec![DEVICE_BYTES.to_vec()];
    update(&mut sim, &envelope).unwrap();
    assert_eq!(sim.get(&fw), Some(&ONE_DEVICE_IMAGE.to_vec()));
    assert_eq!(sim.flash.sequence.get(&None), Some(&4));
    assert_eq!(sim.invoked.len(), 1, "booted");
    // A device may assert several device identifiers; matching one of them is enough.
    let mut several = device(0);
    several.device_ids = vec![OTHER_DEVICE_BYTES.to_vec(), DEVICE_BYTES.to_vec()];
    update(&mut several, &envelope).unwrap();
    assert_eq!(several.get(&fw), Some(&ONE_DEVICE_IMAGE.to_vec()));

    // Devices it does not name, both with an image and a counter already. A device without a
    // device identifier cannot match one, so the condition fails there too:
    // draft-ietf-suit-manifest "suit-condition-vendor-identifier, suit-condition-class-identifier,
    // and suit-condition-device-identifier" (the Recipient must match the UUID for the manifest
    // to be valid; identifiers must be known to the Manifest Processor to evaluate compatibility).
    for (who, ids) in [
        ("another device", vec![OTHER_DEVICE_BYTES.to_vec()]),
        ("a device without a device identifier", vec![]),
    ] {
        let mut sim = device(0);
        sim.device_ids = ids;
        sim.flash
            .storage
            .insert(fw.clone(), b"the image it runs".to_vec());
        sim.flash.sequence.insert(None, 3);
        let before = sim.flash.clone();
        let refused = update(&mut sim, &envelope);
        assert_eq!(
            refused,
            Err(Error::ConditionFailed(Command::DeviceIdentifier)),
            "{who}"
        );
        assert_eq!(
            refused.unwrap_err().to_string(),
            "condition device-identifier (24) failed"
        );
        assert_eq!(sim.flash, before, "{who}: nothing changed");
        assert!(sim.fetched.is_empty() && sim.invoked.is_empty(), "{who}");
    }

    // Booting checks it too: the installed image, moved to another device, is not invoked.
    for ids in [vec![OTHER_DEVICE_BYTES.to_vec()], vec![]] {
        let mut moved = sim.reboot();
        moved.device_ids = ids;
        let before = moved.flash.clone();
        assert_eq!(
            process(&mut moved, &envelope, false),
            Err(Error::ConditionFailed(Command::DeviceIdentifier))
        );
        assert!(moved.invoked.is_empty());
        assert_eq!(moved.flash, before);
    }
    // And on the device it names, it boots.
    let mut same = sim.reboot();
    process(&mut same, &envelope, false).unwrap();
    assert_eq!(same.invoked.len(), 1);
}

/// A small description through the Rust API.
fn small() -> Description {
    let mut d = Description::new(1, vec![vec![vec![0]]]);
    d.shared_sequence = Some(vec![
        Cmd::OverrideParameters(vec![
            Param::VendorId(VENDOR_BYTES.to_vec()),
            Param::ImageSize(5),
            Param::ImageDigest(Digest {
                algorithm: -16,
                bytes: vec![0; 32],
            }),
        ]),
        Cmd::Policy(Command::VendorIdentifier, 15),
    ]);
    d.install = Some(vec![
        Cmd::SetComponentIndex(Index::One(0)),
        Cmd::OverrideParameters(vec![Param::Uri("http://example.com/fw".into())]),
        Cmd::Policy(Command::Fetch, 2),
    ]);
    d
}

#[test]
fn map_keys_are_sorted_and_builds_are_deterministic() {
    let mut crypto = RustCrypto::from_os();
    let a = small().encode(&mut crypto).unwrap();
    let mut reordered = small();
    if let Some(seq) = &mut reordered.shared_sequence
        && let Some(Cmd::OverrideParameters(p)) = seq.first_mut()
    {
        p.reverse();
    }
    let b = reordered.encode(&mut crypto).unwrap();
    assert_eq!(a, b);
    // The parameters come out as vendor-id (1), image-digest (3), image-size (14).
    let m = a.manifest();
    let at = |pattern: &[u8]| m.windows(pattern.len()).position(|w| w == pattern).unwrap();
    let vendor = at(&[0x01, 0x50, 0xfa]);
    let digest = at(&[0x03, 0x58, 0x24, 0x82, 0x2f]);
    let size = at(&[0x0e, 0x05]);
    assert!(vendor < digest && digest < size);
    // The SUIT_Digest is the SHA-256 of the manifest bstr.
    let mut expected = vec![0x82, 0x2f, 0x58, 0x20];
    expected.extend_from_slice(&crypto.sha256(m));
    assert_eq!(a.suit_digest(), expected);
    // Signatures are RFC 6979: the same envelope twice.
    let sign = |mut u: iot_update_manifest::builder::Unsigned| {
        let mut crypto = RustCrypto::from_os();
        u.sign(&mut crypto, &mut key(), Algorithm::Es256, Some(b"k1"))
            .unwrap();
        u.to_bytes().unwrap()
    };
    assert_eq!(sign(a.clone()), sign(b));
}

#[test]
fn several_blocks_each_verify_alone() {
    let mut crypto = RustCrypto::from_os();
    let mut u = small().encode(&mut crypto).unwrap();
    u.sign(&mut crypto, &mut key(), Algorithm::Esp256, None)
        .unwrap()
        .mac(&mut crypto, &SymmetricKey::new(&MAC_KEY), Some(b"mac"))
        .unwrap();
    let envelope = u.to_bytes().unwrap();
    let env = Envelope::decode(&envelope).unwrap();
    assert_eq!(env.authentication_blocks(), 2);
    let mut keys = [key().verifying_key()];
    let by_sig = env
        .authenticate(&mut crypto, &mut TrustAnchors::signers(&mut keys))
        .unwrap();
    assert_eq!(by_sig.authenticated_by(), 0);
    let macs = [SymmetricKey::new(&MAC_KEY)];
    let by_mac = env
        .authenticate(&mut crypto, &mut TrustAnchors::macs(&macs))
        .unwrap();
    assert_eq!(by_mac.authenticated_by(), 1);
    let wrong = [SymmetricKey::new(&[8; 32])];
    assert!(
        env.authenticate(&mut crypto, &mut TrustAnchors::macs(&wrong))
            .is_err()
    );
    // No block at all: the envelope is refused.
    let bare = small().encode(&mut crypto).unwrap().to_bytes().unwrap();
    assert_eq!(
        Envelope::decode(&bare)
            .unwrap()
            .authenticate(&mut crypto, &mut TrustAnchors::signers(&mut keys))
            .unwrap_err(),
        Error::NoAuthenticationBlock
    );
}

fn refused(d: &Description, what: &str) {
    let mut crypto = RustCrypto::from_os();
    match d.encode(&mut crypto) {
        Err(BuildError::Invalid(why)) => assert!(why.contains(what), "{why:?} lacks {what:?}"),
        other => panic!("{what}: {other:?}"),
    }
}

#[test]
fn invalid_descriptions_are_refused() {
    refused(&Description::new(1, vec![]), "at least one component");
    let mut d = small();
    d.sever = vec![manifest_key::TEXT];
    refused(&d, "absent");
    d.sever = vec![manifest_key::VALIDATE];
    refused(&d, "not severable");
    let mut d = small();
    d.validate = Some(vec![]);
    refused(&d, "at least one command");
    let mut d = small();
    d.validate = Some(vec![Cmd::TryEach {
        sequences: vec![vec![Cmd::Policy(Command::ImageMatch, 15)]],
        empty_fallback: true,
    }]);
    refused(&d, "two sequences");
    let mut d = small();
    d.validate = Some(vec![Cmd::OverrideParameters(vec![
        Param::Uri("a".into()),
        Param::Uri("b".into()),
    ])]);
    refused(&d, "twice");
    let mut d = small();
    d.validate = Some(vec![Cmd::Policy(Command::SetParameters, 15)]);
    refused(&d, "reporting policy");
    let mut d = small();
    d.validate = Some(vec![Cmd::Raw(Command::CopyParams, vec![0x01, 0x02])]);
    refused(&d, "not one CBOR item");
    let mut d = small();
    d.validate = Some(vec![Cmd::SetComponentIndex(Index::List(vec![]))]);
    refused(&d, "empty component index list");
    let mut d = small();
    d.integrated = vec![("#x".into(), vec![1]), ("#x".into(), vec![2])];
    refused(&d, "named twice");
    // Text with a component entry encodes (int keys first, then the component id).
    let mut d = small();
    d.text = vec![(
        "en".into(),
        LanguageText {
            entries: vec![(1, "m".into())],
            components: vec![(vec![vec![0]], vec![(3, "example.com".into())])],
        },
    )];
    let mut crypto = RustCrypto::from_os();
    let mut u = d.encode(&mut crypto).unwrap();
    u.sign(&mut crypto, &mut key(), Algorithm::Es256, None)
        .unwrap();
    let envelope = u.to_bytes().unwrap();
    let mut keys = [key().verifying_key()];
    let auth = Envelope::decode(&envelope)
        .unwrap()
        .authenticate(&mut crypto, &mut TrustAnchors::signers(&mut keys))
        .unwrap();
    assert!(matches!(auth.manifest().text(), Some(Severable::Inline(_))));
}

fn json_refused(text: &str, what: &str) {
    let mut crypto = RustCrypto::from_os();
    let dir = folder("json-refused");
    match json::parse(text, &dir, &mut crypto) {
        Err(BuildError::Invalid(why)) => assert!(why.contains(what), "{why:?} lacks {what:?}"),
        other => panic!("{what}: {other:?}"),
    }
}

#[test]
fn invalid_json_is_refused() {
    let ok = r#"{"sequence-number": 1, "components": [["00"]]}"#;
    let mut crypto = RustCrypto::from_os();
    let parsed = json::parse(ok, &folder("json-ok"), &mut crypto).unwrap();
    assert_eq!(parsed.algorithm, Algorithm::Es256);
    assert!(parsed.description.tagged);
    json_refused(
        r#"{"sequence-number": 1, "components": [["00"]], "colour": 1}"#,
        "unknown field",
    );
    json_refused(
        r#"{"sequence-number": 1, "components": [["zz"]]}"#,
        "hex \"zz\"",
    );
    json_refused(
        r#"{"sequence-number": 1, "components": [["00"]],
            "install": [{"directive-override-parameters": {"image": {"file": "nowhere.bin"}}}]}"#,
        "nowhere.bin",
    );
    json_refused(
        r#"{"sequence-number": 1, "components": [["00"]],
            "install": [{"directive-override-parameters": {"vendor-id": "not-a-uuid"}}]}"#,
        "not-a-uuid",
    );
    json_refused(
        r#"{"sequence-number": 1, "components": [["00"]],
            "install": [{"directive-override-parameters":
                {"image": {"hex": "00"}, "image-size": 1}}]}"#,
        "not both",
    );
    json_refused(
        r#"{"sequence-number": 1, "components": [["00"]], "sever": ["validate"]}"#,
        "not a severable member",
    );
    json_refused(
        r#"{"sequence-number": 1, "components": [["00"]], "algorithm": "EdDSA"}"#,
        "ES256 or ESP256",
    );
    json_refused(
        r#"{"sequence-number": 1, "components": [["00"]],
            "install": [{"directive-try-each": [null, [{"directive-fetch": 2}]]}]}"#,
        "null only at the end",
    );
    // Custom codes are negative and above i32::MIN, which error payloads reserve for text labels.
    for code in ["1", "-2147483648", "-2147483649"] {
        json_refused(
            &format!(
                r#"{{"sequence-number": 1, "components": [["00"]],
                    "install": [{{"custom": {{"code": {code}, "argument": "00"}}}}]}}"#
            ),
            "custom codes are negative, down to -2147483647",
        );
    }
    let lowest = r#"{"sequence-number": 1, "components": [["00"]],
        "install": [{"custom": {"code": -2147483647, "argument": "00"}}]}"#;
    assert!(json::parse(lowest, &folder("json-ok"), &mut crypto).is_ok());
}

/// `"encrypt"`: an image encrypted by the builder (A128KW + A128GCM, integrated as `#fw`;
/// ECDH-ES + A128KW + A128CTR, hosted at a URI) installs through the processor with the device's
/// key, as plaintext whose digest the manifest carries; without the key or with another it is
/// refused with nothing installed.
#[test]
fn built_encrypted_payloads_install_with_the_key() {
    use iot_update_manifest::encryption::Kek;
    const FIRMWARE: &[u8] = b"an encrypted firmware image, built from JSON";
    const KEK: &[u8; 16] = b"0123456789abcdef";
    let device_key = P256SigningKey::from_bytes(&[9; 32]).unwrap();
    let device_public = hex::encode(device_key.verifying_key().to_sec1_uncompressed());
    let dir = folder("encrypt");
    std::fs::write(dir.join("fw.bin"), FIRMWARE).unwrap();
    let json = |uri: &str, entry: &str| {
        format!(
            r##"{{"sequence-number": 1, "components": [["00"]],
            "install": [
              {{"directive-override-parameters": {{"uri": "{uri}", "image": {{"file": "fw.bin"}},
                "encryption-info": {{"encrypted": "{uri}"}}}}}},
              {{"directive-fetch": 2}}, {{"condition-image-match": 15}}],
            "encrypt": {{"{uri}": {entry}}}}}"##
        )
    };
    let kw = format!(
        r#"{{"image": {{"file": "fw.bin"}}, "algorithm": "A128GCM", "kek": {{"hex": "{}"}},
            "kid": {{"text": "kid-1"}}}}"#,
        hex::encode(KEK)
    );
    let es = format!(
        r#"{{"image": {{"file": "fw.bin"}}, "algorithm": "a128ctr",
            "recipient-key": {{"hex": "{device_public}"}}}}"#
    );
    let other_device = [8u8; 32];
    for (uri, entry, kek, wrong) in [
        (
            "#fw",
            kw,
            Kek::A128Kw(KEK),
            Kek::A128Kw(b"0123456789abcdeF"),
        ),
        (
            "coaps://example.com/fw",
            es,
            Kek::EcdhEsP256(&[9; 32]),
            Kek::EcdhEsP256(&other_device),
        ),
    ] {
        let mut crypto = RustCrypto::from_os();
        let parsed = json::parse(&json(uri, &entry), &dir, &mut crypto).unwrap();
        let hosted = match uri.starts_with('#') {
            true => {
                assert!(parsed.payloads.is_empty());
                None
            }
            false => {
                assert_eq!(parsed.payloads.len(), 1);
                assert_eq!(parsed.payloads[0].0, uri);
                Some(parsed.payloads[0].1.clone())
            }
        };
        let mut unsigned = parsed.description.encode(&mut crypto).unwrap();
        unsigned
            .sign(&mut crypto, &mut key(), Algorithm::Es256, None)
            .unwrap();
        let envelope = unsigned.to_bytes().unwrap();
        assert!(
            !envelope.windows(FIRMWARE.len()).any(|w| w == FIRMWARE),
            "{uri}: no plaintext in the envelope"
        );
        let run = |kek: Option<Kek<'_>>| {
            let mut sim = Sim::new();
            if let Some(c) = &hosted {
                sim.uris.insert(uri.to_string(), c.clone());
            }
            let mut crypto = RustCrypto::from_os();
            let mut keys = [key().verifying_key()];
            let mut anchors = TrustAnchors::signers(&mut keys);
            let mut p = Processor::new(&mut sim, &mut crypto, &mut anchors);
            if let Some(kek) = kek {
                p = p.with_decryption_key(kek);
            }
            let result = p.authenticate(&envelope).and_then(|auth| p.update(&auth));
            let installed = sim.get(&sim::path(&[&[0]])).cloned();
            let stored = sim.flash.sequence.get(&None).copied();
            (result, installed, stored)
        };
        let (result, installed, stored) = run(Some(kek));
        assert_eq!(result, Ok(()), "{uri}");
        assert_eq!(installed.as_deref(), Some(FIRMWARE), "{uri}");
        assert_eq!(stored, Some(1));
        for kek in [None, Some(wrong)] {
            let (result, installed, stored) = run(kek);
            assert!(result.is_err(), "{uri}");
            assert!(
                installed.is_none_or(|c| c.is_empty()),
                "{uri}: nothing installed"
            );
            assert_eq!(stored, None, "{uri}");
        }
    }
}
