//! `iot-tool suit verify` and `suit inspect` on the libcsuit envelopes of ../shared/vectors,
//! run as a user runs them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

mod common;

use common::{fails, keygen, ok, s};
use iot_core::cose::SymmetricKey;
use iot_core::crypto::{P256VerifyingKey, RustCrypto};
use iot_update_manifest::{Envelope, TrustAnchors};
use p256::elliptic_curve::sec1::ToSec1Point;
use p256::pkcs8::DecodePublicKey;
use std::path::{Path, PathBuf};

/// The libcsuit envelopes MACed with HMAC 256/256 (the rest are signed with ES256).
const MACED: [&str; 3] = ["expAF", "expAFS", "expAW"];
/// libcsuit's MAC key is not published with the vectors; it is 32 bytes of 'a' (see
/// iot-update-manifest/tests/vectors.rs).
const MAC_KEY: [u8; 32] = [0x61; 32];
const PUB_PEM: &str = "suit/libcsuit/key/trust_anchor_secp256r1_pub.pem";

/// The envelopes (path, name like "exp1") and the key file each authenticates under.
struct Vectors {
    envelopes: Vec<(PathBuf, String)>,
    pem: PathBuf,
    mac_key: PathBuf,
    _dir: tempfile::TempDir,
}

impl Vectors {
    fn load(what: &str) -> Option<Self> {
        let files = iot_test_vectors::files("suit/libcsuit", ".suit")?;
        let pem = iot_test_vectors::path(PUB_PEM)?;
        let dir = tempfile::tempdir().unwrap();
        let mac_key = dir.path().join("mac.hex");
        std::fs::write(&mac_key, hex::encode(MAC_KEY)).unwrap();
        let envelopes: Vec<(PathBuf, String)> = files
            .iter()
            .map(|rel| {
                let path = iot_test_vectors::path(rel).unwrap();
                let name = path.file_stem().unwrap().to_string_lossy().into_owned();
                let name = name.trim_start_matches("suit_manifest_").to_owned();
                (path, name)
            })
            .collect();
        assert_eq!(envelopes.len(), 22, "libcsuit envelopes for {what}");
        Some(Self {
            envelopes,
            pem,
            mac_key,
            _dir: dir,
        })
    }

    fn key_for(&self, name: &str) -> &Path {
        if MACED.contains(&name) {
            &self.mac_key
        } else {
            &self.pem
        }
    }
}

/// The sequence number and component count the library reads from `envelope`.
fn library_view(envelope: &[u8], name: &str, pem: &Path) -> (u64, usize) {
    let pk = p256::PublicKey::from_public_key_pem(&std::fs::read_to_string(pem).unwrap()).unwrap();
    let mut keys = [P256VerifyingKey::from_sec1(pk.to_sec1_point(false).as_bytes()).unwrap()];
    let mac = [SymmetricKey::new(&MAC_KEY)];
    let anchors = &mut if MACED.contains(&name) {
        TrustAnchors::new(&mut [], &mac)
    } else {
        TrustAnchors::signers(&mut keys)
    };
    let env = Envelope::decode(envelope).unwrap();
    let a = env
        .authenticate(&mut RustCrypto::from_os(), anchors)
        .unwrap();
    let m = a.manifest();
    (m.sequence_number(), m.common().components().len())
}

#[test]
fn verify_prints_the_sequence_number_and_components_of_every_libcsuit_envelope() {
    let Some(v) = Vectors::load("suit verify") else {
        return;
    };
    for (path, name) in &v.envelopes {
        let line = ok(&["suit", "verify", "--key", s(v.key_for(name)), s(path)]);
        assert_eq!(line.lines().count(), 1, "{name}: {line:?}");
        let (seq, components) = library_view(&std::fs::read(path).unwrap(), name, &v.pem);
        let plural = if components == 1 { "" } else { "s" };
        let want =
            format!("authenticated: sequence number {seq}, {components} component{plural}: ");
        assert!(line.starts_with(&want), "{name}: {line:?}, want {want:?}");
        assert_eq!(
            line.matches('[').count(),
            components,
            "{name}: one [..] per component: {line:?}"
        );
    }
}

#[test]
fn verify_needs_the_right_kind_of_key() {
    let Some(v) = Vectors::load("suit verify with a wrong key") else {
        return;
    };
    let exp1 = v.envelopes.iter().find(|(_, n)| n == "exp1").unwrap();
    let aw = v.envelopes.iter().find(|(_, n)| n == "expAW").unwrap();
    let mac = s(&v.mac_key);
    let pem = s(&v.pem);
    let err = fails(&["suit", "verify", "--key", mac, s(&exp1.0)]);
    assert!(err.contains("refused: no trusted key"), "{err}");
    let err = fails(&["suit", "verify", "--key", pem, s(&aw.0)]);
    assert!(err.contains("refused: no trusted key"), "{err}");

    // Another P-256 key: the signature does not verify.
    let dir = tempfile::tempdir().unwrap();
    keygen(dir.path(), "other");
    let other_pub = dir.path().join("other.pub.pem");
    let err = fails(&["suit", "verify", "--key", s(&other_pub), s(&exp1.0)]);
    assert!(err.contains("refused: not authenticated"), "{err}");
    // A wrong MAC key.
    let wrong = dir.path().join("wrong.hex");
    std::fs::write(&wrong, hex::encode([0x62u8; 32])).unwrap();
    let err = fails(&["suit", "verify", "--key", s(&wrong), s(&aw.0)]);
    assert!(err.contains("refused: not authenticated"), "{err}");
}

#[test]
fn a_tampered_envelope_is_refused_and_nothing_of_it_is_shown() {
    let Some(v) = Vectors::load("suit verify of a tampered envelope") else {
        return;
    };
    let (path, _) = v.envelopes.iter().find(|(_, n)| n == "exp1").unwrap();
    let good = std::fs::read(path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pem = s(&v.pem);

    // The last byte is in the manifest: the signature still verifies, the digest does not.
    let mut manifest_bit = good.clone();
    *manifest_bit.last_mut().unwrap() ^= 1;
    let f = dir.path().join("manifest.suit");
    std::fs::write(&f, &manifest_bit).unwrap();
    for cmd in ["verify", "inspect"] {
        let err = fails(&["suit", cmd, "--key", pem, s(&f)]);
        assert!(
            err.contains("refused: manifest digest does not match"),
            "{cmd}: {err}"
        );
    }

    // A bit of the signature: the authentication wrapper is `d8 6b a2 02 58 LL`, then LL bytes
    // ending with the COSE_Sign1's 64-byte signature.
    assert_eq!(&good[..5], [0xd8, 0x6b, 0xa2, 0x02, 0x58], "layout of exp1");
    let wrapper_end = 6 + usize::from(good[5]);
    let mut sig_bit = good.clone();
    sig_bit[wrapper_end - 10] ^= 0x80;
    let f = dir.path().join("signature.suit");
    std::fs::write(&f, &sig_bit).unwrap();
    for cmd in ["verify", "inspect"] {
        let err = fails(&["suit", cmd, "--key", pem, s(&f)]);
        assert!(err.contains("refused: not authenticated"), "{cmd}: {err}");
    }

    // Not an envelope at all.
    let f = dir.path().join("junk.suit");
    std::fs::write(&f, [0x01u8, 0x02]).unwrap();
    let err = fails(&["suit", "verify", "--key", pem, s(&f)]);
    assert!(err.contains("not a SUIT envelope"), "{err}");
}

/// The part of a libcsuit `.diag` that describes the manifest itself: up to its first
/// integrated payload or dependency (a text-keyed member, `"#name"`), whose commands belong to
/// another manifest.
fn own_diag(diag: &str) -> &str {
    let end = diag
        .lines()
        .find(|l| l.trim_start().starts_with("\"#"))
        .and_then(|l| diag.find(l))
        .unwrap_or(diag.len());
    &diag[..end]
}

/// The parameter names inspect prints, as libcsuit's diagnostic comments spell them (with or
/// without a `parameter-` prefix), also inside override-multiple and copy-params (expU0, expU1).
const PARAMETERS: [&str; 16] = [
    "vendor-id",
    "class-id",
    "image-digest",
    "image-size",
    "uri",
    "content",
    "encryption-info",
    "source-component",
    "soft-failure",
    "invoke-args",
    "component-slot",
    "use-before",
    "minimum-battery",
    "update-priority",
    "version",
    "wait-info",
];

#[test]
fn inspect_names_every_command_and_parameter_of_the_libcsuit_diag_files() {
    let Some(v) = Vectors::load("suit inspect") else {
        return;
    };
    let mut checked = 0;
    let mut commands = 0;
    for (path, name) in &v.envelopes {
        let tree = ok(&["suit", "inspect", "--key", s(v.key_for(name)), s(path)]);
        let (seq, _) = library_view(&std::fs::read(path).unwrap(), name, &v.pem);
        assert!(
            tree.starts_with(&format!("manifest version 1, sequence number {seq}\n")),
            "{name}: {tree}"
        );
        let diag_path = path.with_extension("diag");
        let Ok(diag) = std::fs::read_to_string(&diag_path) else {
            continue; // expU2, expU3 come without one
        };
        let diag = own_diag(&diag);
        checked += 1;
        // "/ directive-override-parameters / 20" → "directive override-parameters".
        for piece in diag.split("/ ").skip(1) {
            let word = piece.split_whitespace().next().unwrap_or_default();
            for kind in ["condition", "directive"] {
                if let Some(cmd) = word.strip_prefix(&format!("{kind}-")) {
                    let want = format!("{kind} {cmd}");
                    assert!(tree.contains(&want), "{name}: no {want:?} in\n{tree}");
                    commands += 1;
                }
            }
        }
        for p in PARAMETERS {
            if diag.contains(&format!("/ {p} /")) || diag.contains(&format!("/ parameter-{p} /")) {
                // `name: value`, or a name in copy-params' list.
                assert!(
                    tree.contains(&format!("{p}: "))
                        || tree.contains(&format!(" {p},"))
                        || tree.contains(&format!(" {p}\n")),
                    "{name}: parameter {p} not shown in\n{tree}"
                );
            }
        }
    }
    assert_eq!(checked, 20, "libcsuit .diag files compared");
    assert!(commands > 100, "only {commands} commands compared");
}

#[test]
fn inspect_help_says_it_authenticates_first() {
    let help = ok(&["suit", "inspect", "--help"]);
    assert!(help.contains("must authenticate"), "{help}");
}
