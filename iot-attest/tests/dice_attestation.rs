//! The attestation key comes from DICE (Open Profile for DICE, iot-identity's `dice`): the
//! firmware's measurement goes into CDI_Attest, CDI_Attest gives the layer's P-256 key pair, and
//! that key signs the evidence. The verifier knows only UDS_Public (certified at manufacture): it
//! walks the CDI certificate to the attestation key, verifies the token with it, and appraises.
//! Other firmware gets another key, so its evidence does not verify under the certified one.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use iot_attest::appraise::{RefMeasurement, ReferenceValues, appraise};
use iot_attest::ear::{Tier, claim};
use iot_attest::measure::{Measurement, NI_SHA256};
use iot_attest::verify::{KeyEntry, KeyMaterial, MemoryKeyStore, Verifier};
use iot_attest::{Claims, Error, Nonce, Seq, TokenBuilder};
use iot_core::cose::Algorithm;
use iot_core::crypto::{P256VerifyingKey, RustCrypto, Sha256};
use iot_identity::dice::crypto::Sha512;
use iot_identity::dice::{
    DiceCertificate, DiceLayer, DicePublicKey, InputValues, OPEN_DICE_EXAMPLE_PROFILE, Uds,
    certificate_len, verify_chain,
};

const NONCE: [u8; 16] = [0x6e; 16];
const FIRMWARE: &[u8] = b"sensor firmware 4.2.0";

fn crypto() -> RustCrypto<()> {
    RustCrypto::<()>::default()
}

fn sha512(data: &[u8]) -> [u8; 64] {
    let mut c = crypto();
    let mut s = c.sha512_start();
    c.sha512_update(&mut s, data);
    c.sha512_finish(s)
}

/// A device boots `firmware`: the root layer measures it into the next layer's CDIs and
/// certifies that layer's key; the layer signs evidence with it. Returns the CDI certificate,
/// the token and the attestation public key.
fn boot_and_attest(uds: &Uds, firmware: &[u8]) -> (Vec<u8>, Vec<u8>, DicePublicKey) {
    let mut c = crypto();
    let code_hash = sha512(firmware);
    let inputs = InputValues {
        code_hash: &code_hash,
        ..InputValues::default()
    };
    let len = certificate_len(&inputs, Some(OPEN_DICE_EXAMPLE_PROFILE));
    let (mut scratch, mut cert) = (vec![0u8; len], vec![0u8; len + 128]);
    let (layer, n) = DiceLayer::from_uds(uds)
        .derive_next(
            &mut c,
            &inputs,
            Some(OPEN_DICE_EXAMPLE_PROFILE),
            &mut scratch,
            &mut cert,
        )
        .unwrap();
    cert.truncate(n);

    // CDI_Attest -> the attestation key pair -> signs the evidence (kid: the key's DICE ID).
    let mut pair = layer.key_pair(&mut c).unwrap();
    let kid = pair.public_key.id(&mut c).unwrap();
    let digest = c.sha256(firmware);
    let mut buf = [0u8; 160];
    let (measured, _) = Measurement {
        name: "firmware",
        version: Some("4.2.0"),
        entity: "dice-layer-0",
        hash_alg: NI_SHA256,
        digest: &digest,
    }
    .write_entry(&mut buf)
    .unwrap();
    let measurements = [measured];
    let claims = Claims {
        nonce: Some(Nonce::One(&NONCE)),
        measurements: Some(Seq::Items(&measurements)),
        ..Claims::default()
    };
    let (mut scratch, mut out) = ([0u8; 256], [0u8; 400]);
    let n = TokenBuilder::new()
        .kid(&kid.0)
        .sign(
            &mut c,
            &mut pair.signing_key,
            Algorithm::Es256,
            &claims,
            &mut scratch,
            &mut out,
        )
        .unwrap();
    (cert, out[..n].to_vec(), pair.public_key)
}

/// The verifier's key store: the attestation key the certificate chain from UDS_Public leads to,
/// under its DICE ID.
fn store_from_chain(uds_public: &DicePublicKey, cert: &[u8]) -> MemoryKeyStore {
    let mut c = crypto();
    let key = verify_chain(&mut c, uds_public, [cert]).unwrap();
    let (x, y) = key.0.split_at(32);
    let mut store = MemoryKeyStore::new();
    store
        .insert(KeyEntry {
            name: "sensor-17 layer 1".into(),
            kid: Some(key.id(&mut c).unwrap().0.to_vec()),
            ueid: None,
            key: KeyMaterial::P256(P256VerifyingKey::from_coordinates(x, y).unwrap()),
        })
        .unwrap();
    store
}

#[test]
fn evidence_signed_with_the_dice_attestation_key_verifies_through_the_cdi_certificate() {
    let uds = Uds::from_bytes([0x5a; 32]);
    let uds_public = DiceLayer::from_uds(&uds).public_key(&mut crypto()).unwrap();
    let (cert, token, attestation_key) = boot_and_attest(&uds, FIRMWARE);

    // The certificate names the firmware's measurement and certifies the attestation key.
    let decoded = DiceCertificate::decode(&cert).unwrap();
    assert_eq!(decoded.claims.code_hash, Some(&sha512(FIRMWARE)[..]));
    assert_eq!(decoded.claims.subject_key().unwrap(), attestation_key);

    let store = store_from_chain(&uds_public, &cert);
    let ok = Verifier::new(&store)
        .verify(&mut crypto(), &token, Some(&NONCE))
        .unwrap();
    let reference = ReferenceValues {
        measurements: vec![RefMeasurement {
            name: "firmware".into(),
            digest: crypto().sha256(FIRMWARE).to_vec(),
            version: Some("4.2.0".into()),
        }],
        ..ReferenceValues::default()
    };
    let a = appraise(&ok, &reference);
    assert_eq!(a.trust_vector.executables, claim::APPROVED_RUNTIME);
    assert_eq!(a.status, Tier::Affirming);

    // The same device and firmware derive the same key again (DICE is deterministic).
    let (cert2, _, again) = boot_and_attest(&uds, FIRMWARE);
    assert_eq!((again, &cert2), (attestation_key, &cert));
}

#[test]
fn other_firmware_or_another_device_gets_another_attestation_key() {
    let uds = Uds::from_bytes([0x5a; 32]);
    let uds_public = DiceLayer::from_uds(&uds).public_key(&mut crypto()).unwrap();
    let (cert, _, genuine_key) = boot_and_attest(&uds, FIRMWARE);
    let store = store_from_chain(&uds_public, &cert);

    // Patched firmware: CDI_Attest changes, so does the key (and with it the kid).
    let (patched_cert, patched_token, patched_key) = boot_and_attest(&uds, b"patched firmware");
    assert_ne!(patched_key, genuine_key);
    assert_eq!(
        Verifier::new(&store)
            .verify(&mut crypto(), &patched_token, Some(&NONCE))
            .unwrap_err(),
        Error::UnknownKey
    );
    // Its certificate chains to the same UDS_Public but names another code hash: a verifier
    // that follows it gets the patched key, and the measurement it reports is not approved.
    let patched = DiceCertificate::decode(&patched_cert).unwrap();
    assert_ne!(patched.claims.code_hash, Some(&sha512(FIRMWARE)[..]));
    let patched_store = store_from_chain(&uds_public, &patched_cert);
    let ok = Verifier::new(&patched_store)
        .verify(&mut crypto(), &patched_token, Some(&NONCE))
        .unwrap();
    let reference = ReferenceValues {
        measurements: vec![RefMeasurement {
            name: "firmware".into(),
            digest: crypto().sha256(FIRMWARE).to_vec(),
            version: None,
        }],
        ..ReferenceValues::default()
    };
    assert_eq!(
        appraise(&ok, &reference).trust_vector.executables,
        claim::CONTRAINDICATED_RUNTIME
    );

    // Another device (another UDS): its certificate does not chain to this UDS_Public.
    let (foreign_cert, _, foreign_key) = boot_and_attest(&Uds::from_bytes([0xa5; 32]), FIRMWARE);
    assert_ne!(foreign_key, genuine_key);
    assert!(verify_chain(&mut crypto(), &uds_public, [&foreign_cert[..]]).is_err());
}
