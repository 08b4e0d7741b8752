//! The optional manifest features (README "Cargo features"), each checked as it is built: with a
//! feature on, a libcsuit vector that needs it authenticates and processes; with it off, the same
//! vector is skipped or refused as the README says, and the simulated device is left as it was.
//! `cargo test -p iot-update-manifest --test features` checks them on (the default);
//! `cargo test -p iot-update-manifest --no-default-features --test features` checks them off
//! (CI runs both).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod libcsuit;
mod sim;

use iot_core::crypto::RustCrypto;
use iot_update_manifest::{Error, Processor, TrustAnchors};
use sim::{Sim, path};

/// Which procedure to run after authentication.
#[derive(Clone, Copy)]
enum Run {
    Authenticate,
    Update,
}

/// Authenticates `bytes` under libcsuit's trust anchor (and its MAC key, with `mac`), then runs
/// `run` on `sim`, with the examples' ECDH-ES key given when `encryption` is on.
fn process(bytes: &[u8], sim: &mut Sim, run: Run) -> Result<(), Error> {
    let mut keys = [libcsuit::trust_anchor().unwrap()];
    #[cfg(feature = "mac")]
    let macs = [iot_core::cose::SymmetricKey::new(&libcsuit::MAC_KEY)];
    #[cfg(feature = "mac")]
    let mut anchors = TrustAnchors::new(&mut keys, &macs);
    #[cfg(not(feature = "mac"))]
    let mut anchors = TrustAnchors::signers(&mut keys);
    let mut crypto = RustCrypto::from_os();
    let mut scratch = [0u8; 2048];
    let p = Processor::new(sim, &mut crypto, &mut anchors).with_scratch(&mut scratch);
    #[cfg(feature = "encryption")]
    let d = hex::decode(libcsuit::ESDH_D).unwrap();
    #[cfg(feature = "encryption")]
    let p = p.with_decryption_key(iot_update_manifest::encryption::Kek::EcdhEsP256(&d));
    let mut p = p;
    let auth = p.authenticate(bytes)?;
    match run {
        Run::Authenticate => Ok(()),
        Run::Update => p.update(&auth),
    }
}

fn untouched(sim: &Sim) -> bool {
    sim.flash.storage.is_empty() && sim.flash.sequence.is_empty()
}

/// `text`: example 2B carries its `suit-text` severed. With the feature the text decodes; without
/// it the member is not decoded but still checked against the manifest's digest of it.
#[test]
fn text() {
    let Some(bytes) = libcsuit::read("suit_manifest_exp2B.suit") else {
        return;
    };
    let mut sim = Sim::new();
    process(&bytes, &mut sim, Run::Authenticate).unwrap();
    #[cfg(feature = "text")]
    {
        let mut keys = [libcsuit::trust_anchor().unwrap()];
        let envelope = iot_update_manifest::Envelope::decode(&bytes).unwrap();
        let auth = envelope
            .authenticate(
                &mut RustCrypto::from_os(),
                &mut TrustAnchors::signers(&mut keys),
            )
            .unwrap();
        let text = auth.manifest().text().unwrap().get().unwrap();
        let description = text
            .languages()
            .find_map(|(_, l)| l.get(iot_update_manifest::text::key::MANIFEST_DESCRIPTION))
            .unwrap();
        assert!(description.starts_with("## Example 2: Simultaneous Download"));
    }
    // One letter of the severed text changed: refused whether or not the text is decoded.
    let at = bytes.windows(10).position(|w| w == b"Example 2:").unwrap();
    let mut forged = bytes.clone();
    forged[at] ^= 0x20;
    assert_eq!(
        process(&forged, &mut sim, Run::Authenticate),
        Err(Error::SeveredMemberDigestMismatch(23))
    );
}

/// What a manifest with `suit-dependencies` gives without feature `dependencies`.
const NO_DEPENDENCIES: Error = Error::UnknownMember {
    map: iot_update_manifest::MapKind::Common,
    key: 1,
};

/// `dependencies`: expS3 carries its dependency (expS0) integrated and processes it under the
/// prefix `['dependent.suit']`. Without the feature `suit-dependencies` is an unknown member of
/// `suit-common` and the manifest is refused before anything runs.
#[test]
fn dependencies() {
    let Some(bytes) = libcsuit::read("suit_manifest_expS3.suit") else {
        return;
    };
    let mut sim = Sim::new();
    let result = process(&bytes, &mut sim, Run::Update);
    if cfg!(feature = "dependencies") {
        result.unwrap();
        assert_eq!(
            sim.get(&path(&[b"dependent.suit", b"00"])),
            Some(&b"hello world".to_vec())
        );
    } else {
        assert_eq!(result, Err(NO_DEPENDENCIES));
        assert!(untouched(&sim));
    }
}

/// `mac`: expAW is authenticated by a COSE_Mac0 (tag 17) alone. Without the feature that block
/// is unsupported and the envelope does not authenticate.
#[test]
fn mac() {
    let Some(bytes) = libcsuit::read("suit_manifest_expAW.suit") else {
        return;
    };
    let result = process(&bytes, &mut Sim::new(), Run::Authenticate);
    if cfg!(feature = "mac") {
        result.unwrap();
    } else {
        assert_eq!(result, Err(Error::UnsupportedAuthenticationBlock(Some(17))));
    }
}

/// `update-management`: expU0 checks use-before, minimum battery, version and update-authorized
/// after copying parameters between components. Without the feature its first
/// update-management command, copy-params (35), is unsupported and nothing is stored.
#[test]
fn update_management() {
    let Some(bytes) = libcsuit::read("suit_manifest_expU0.suit") else {
        return;
    };
    let mut sim = Sim::new();
    sim.now = Some(1_600_000_000);
    sim.battery = Some(50);
    sim.authorized = true;
    sim.version = Some(vec![0, 9]);
    let result = process(&bytes, &mut sim, Run::Update);
    if cfg!(feature = "update-management") {
        result.unwrap();
        assert_eq!(sim.flash.sequence.get(&None), Some(&0));
    } else {
        assert_eq!(
            result,
            Err(Error::Unsupported(
                iot_update_manifest::Unsupported::Command(35)
            ))
        );
        assert!(untouched(&sim));
    }
}

/// `encryption`: expEW writes a payload encrypted with A128GCM under an ECDH-ES + A128KW
/// recipient. With the feature (and the examples' key) the plaintext is written; without it the
/// write is refused and nothing is written.
#[test]
fn encryption() {
    let (Some(bytes), Some(image)) = (
        libcsuit::read("suit_manifest_expEW.suit"),
        libcsuit::read("raw_image.bin"),
    ) else {
        return;
    };
    let mut sim = Sim::new();
    let result = process(&bytes, &mut sim, Run::Update);
    if cfg!(feature = "encryption") {
        result.unwrap();
        assert_eq!(sim.get(&path(&[b"decrypted-firmware"])), Some(&image));
    } else {
        assert_eq!(
            result,
            Err(Error::Unsupported(
                iot_update_manifest::Unsupported::Encryption
            ))
        );
        assert!(untouched(&sim));
    }
}

/// `delegation`: the firmware-encryption examples' `suit-manifest-es-ecdh-dependency.hex.signed`
/// is signed by libcsuit's delegated authority; with libcsuit's delegation CWT inserted as
/// `suit-delegation` the trust anchor confirms that key. With the feature the envelope
/// authenticates under the trust anchor alone; without it the member is not used and the
/// envelope is not authenticated.
#[test]
fn delegation() {
    let Some(text) =
        iot_test_vectors::read("suit/encryption/suit-manifest-es-ecdh-dependency.hex.signed")
    else {
        return;
    };
    let hex: String = String::from_utf8(text)
        .unwrap()
        .chars()
        .filter(char::is_ascii_hexdigit)
        .collect();
    let env = libcsuit::with_delegation(&hex::decode(hex).unwrap(), &libcsuit::delegation_member());
    let result = process(&env, &mut Sim::new(), Run::Authenticate);
    if cfg!(feature = "delegation") {
        // Authenticated: only then is the manifest decoded, whose `suit-dependencies` needs
        // feature `dependencies`.
        if cfg!(feature = "dependencies") {
            result.unwrap();
        } else {
            assert_eq!(result, Err(NO_DEPENDENCIES));
        }
    } else {
        assert_eq!(
            result,
            Err(Error::NotAuthenticated(iot_core::Error::BadSignature))
        );
    }
}
