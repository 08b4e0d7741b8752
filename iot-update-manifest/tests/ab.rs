//! A/B updates: trial boot, confirmation, reversion, downgrades, and power cut before and after
//! every platform call of an update's whole life, of factory provisioning, and of the revert of
//! a trial booted and never confirmed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
mod sim;

use common::{Auth, Extra, bstr, cbor, envelope, rp, sequence, signing_key};
use iot_core::crypto::RustCrypto;
use iot_update_manifest::ab::{AbDevice, BOOT_STATE_LEN, BootState, Booted, Reverted, Trial};
use iot_update_manifest::{Command, Envelope, Error, PlatformError, TrustAnchors};
use sim::{Cut, Sim, sha256};

const VENDOR: &[u8] = b"vendor-uuid-0001";
const CLASS: &[u8] = b"class--uuid-0001";

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

fn digest_param(image: &[u8]) -> Vec<u8> {
    let d = sha256(image);
    bstr(&cbor(|e| {
        e.array(2).unwrap().i64(-16).unwrap().bytes(&d).unwrap();
    }))
}

/// An update of component `['fw']` to `image`: fetched from `uri` (an integrated payload when it
/// starts with '#'), checked, validated and invoked.
fn update_manifest(seq: u64, image: &[u8], uri: &str) -> Vec<u8> {
    let shared = sequence(&[
        (
            20,
            params(&[
                (1, bstr(VENDOR)),
                (2, bstr(CLASS)),
                (3, digest_param(image)),
                (14, uint(image.len() as u64)),
            ]),
        ),
        (1, rp(15)),
        (2, rp(15)),
    ]);
    let install = sequence(&[
        (
            20,
            params(&[(
                21,
                cbor(|e| {
                    e.str(uri).unwrap();
                }),
            )]),
        ),
        (21, rp(2)),
        (3, rp(15)),
    ]);
    let validate = sequence(&[(3, rp(15))]);
    let invoke = sequence(&[(23, rp(0))]);
    common::manifest(
        seq,
        &common::common(&[&[b"fw"]], Some(&shared)),
        &[
            (20, bstr(&install)),
            (7, bstr(&validate)),
            (9, bstr(&invoke)),
        ],
    )
}

const V1: &[u8] = b"firmware one, the factory image";
const V2: &[u8] = b"firmware two, the update";

fn v1_envelope() -> Vec<u8> {
    envelope(&update_manifest(1, V1, "http://fw/v1"), Auth::Sign1, &[])
}

fn v2_envelope() -> Vec<u8> {
    envelope(
        &update_manifest(2, V2, "#fw"),
        Auth::Sign1,
        &[Extra::Text("#fw", V2)],
    )
}

fn device() -> Sim {
    let mut sim = Sim::new();
    sim.vendor_ids = vec![VENDOR.to_vec()];
    sim.class_ids = vec![CLASS.to_vec()];
    sim.uris.insert("http://fw/v1".into(), V1.to_vec());
    sim
}

/// Runs `$f` (a closure taking the device) on an A/B device over `$sim`.
macro_rules! with {
    ($sim:expr, $f:expr) => {{
        let mut keys = [signing_key().verifying_key()];
        let mut anchors = TrustAnchors::signers(&mut keys);
        let mut crypto = RustCrypto::from_os();
        let mut dev = AbDevice::new($sim, &mut crypto, &mut anchors);
        #[allow(clippy::redundant_closure_call)]
        ($f)(&mut dev)
    }};
}

fn provision(sim: &mut Sim) -> Result<(), Error> {
    let v1 = v1_envelope();
    with!(sim, |d: &mut AbDevice<_, _, _>| d
        .provision(&v1, &mut [0u8; 512]))
}

fn provisioned() -> Sim {
    let mut sim = device();
    provision(&mut sim).unwrap();
    sim.fetched.clear();
    sim
}

fn boot(sim: &mut Sim) -> Result<Booted, Error> {
    with!(sim, |d: &mut AbDevice<_, _, _>| d.boot(&mut [0u8; 2048]))
}

fn update(sim: &mut Sim, env: &[u8]) -> Result<u8, Error> {
    with!(sim, |d: &mut AbDevice<_, _, _>| d
        .update(env, &mut [0u8; 512]))
}

fn confirm(sim: &mut Sim) -> Result<(), Error> {
    with!(sim, |d: &mut AbDevice<_, _, _>| d.confirm(&mut [0u8; 1024]))
}

fn fw(slot: u64) -> (Vec<Vec<u8>>, Option<u64>) {
    (vec![b"fw".to_vec()], Some(slot))
}

fn counter(sim: &Sim) -> Option<u64> {
    sim.flash.sequence.get(&None).copied()
}

#[test]
fn boot_state_encoding() {
    for state in [
        BootState {
            active: 0,
            active_sequence: 0,
            trial: None,
        },
        BootState {
            active: 1,
            active_sequence: u64::MAX,
            trial: Some(Trial {
                slot: 0,
                sequence: 7,
                booted: true,
            }),
        },
        BootState {
            active: 0,
            active_sequence: 3,
            trial: Some(Trial {
                slot: 1,
                sequence: 4,
                booted: false,
            }),
        },
    ] {
        let bytes = state.to_bytes();
        assert_eq!(BootState::from_bytes(&bytes), Some(state));
        // Any single flipped bit (a torn or decayed record) is detected.
        for i in 0..BOOT_STATE_LEN * 8 {
            let mut b = bytes;
            b[i / 8] ^= 1 << (i % 8);
            assert_eq!(BootState::from_bytes(&b), None, "bit {i}");
        }
    }
}

#[test]
fn update_trial_confirm() {
    let mut sim = provisioned();
    assert_eq!(sim.get(&fw(0)), Some(&V1.to_vec()));
    assert_eq!(counter(&sim), Some(1));
    let b = boot(&mut sim).unwrap();
    assert_eq!(
        (b.slot, b.sequence, b.tentative, b.reverted),
        (0, 1, false, None)
    );

    assert_eq!(update(&mut sim, &v2_envelope()), Ok(1));
    assert_eq!(
        sim.get(&fw(1)),
        Some(&V2.to_vec()),
        "installed in the inactive slot"
    );
    assert_eq!(
        sim.get(&fw(0)),
        Some(&V1.to_vec()),
        "the running image is untouched"
    );
    assert_eq!(counter(&sim), Some(1), "not before confirmation");
    assert_eq!(update(&mut sim, &v2_envelope()), Err(Error::TrialPending));

    sim.invoked.clear();
    let b = boot(&mut sim).unwrap();
    assert_eq!((b.slot, b.sequence, b.tentative), (1, 2, true));
    assert_eq!(sim.invoked[0].2, V2);
    confirm(&mut sim).unwrap();
    assert_eq!(counter(&sim), Some(2));
    let state = with!(&mut sim, |d: &mut AbDevice<_, _, _>| d.state()).unwrap();
    assert_eq!(
        state,
        BootState {
            active: 1,
            active_sequence: 2,
            trial: None
        }
    );
    let b = boot(&mut sim).unwrap();
    assert_eq!((b.slot, b.tentative, b.reverted), (1, false, None));

    // Downgrades and replays are refused with nothing changed.
    let before = sim.flash.clone();
    assert_eq!(update(&mut sim, &v1_envelope()), Err(Error::Rollback));
    assert_eq!(update(&mut sim, &v2_envelope()), Err(Error::Rollback));
    assert_eq!(sim.flash, before);
}

#[test]
fn unconfirmed_trial_reverts_on_the_next_boot() {
    let mut sim = provisioned();
    update(&mut sim, &v2_envelope()).unwrap();
    assert!(boot(&mut sim).unwrap().tentative);
    // No confirmation: the next boot goes back to the known-good image.
    sim.invoked.clear();
    let b = boot(&mut sim).unwrap();
    assert_eq!(
        (b.slot, b.sequence, b.tentative, b.reverted),
        (
            0,
            1,
            false,
            Some(Reverted {
                slot: 1,
                sequence: 2,
                cause: Error::TrialNotConfirmed
            })
        )
    );
    assert_eq!(sim.invoked[0].2, V1);
    assert_eq!(counter(&sim), Some(1));
    // Confirming now does nothing; the same update may be tried again.
    confirm(&mut sim).unwrap();
    assert_eq!(
        with!(&mut sim, |d: &mut AbDevice<_, _, _>| d.state())
            .unwrap()
            .active,
        0
    );
    assert_eq!(update(&mut sim, &v2_envelope()), Ok(1));
}

#[test]
fn corrupted_trial_reverts_in_the_same_boot() {
    let mut sim = provisioned();
    update(&mut sim, &v2_envelope()).unwrap();
    sim.flash.storage.get_mut(&fw(1)).unwrap()[0] ^= 1;
    sim.invoked.clear();
    let b = boot(&mut sim).unwrap();
    let why = Error::ConditionFailed(Command::ImageMatch);
    assert_eq!(
        (b.slot, b.reverted),
        (
            0,
            Some(Reverted {
                slot: 1,
                sequence: 2,
                cause: why
            })
        )
    );
    assert_eq!(sim.invoked.len(), 1);
    assert_eq!(sim.invoked[0].2, V1);
}

#[test]
fn bad_updates_leave_the_device_as_it_was() {
    let mut sim = provisioned();
    let before = sim.flash.clone();
    // Not the image the manifest names: install fails before the switch. Only the inactive slot
    // was written.
    sim.uris.insert("http://fw/v2".into(), b"evil".to_vec());
    let evil = envelope(&update_manifest(2, V2, "http://fw/v2"), Auth::Sign1, &[]);
    assert!(matches!(
        update(&mut sim, &evil),
        Err(Error::ConditionFailed(_))
    ));
    assert_eq!(sim.flash.boot_state, before.boot_state);
    assert_eq!(sim.flash.envelopes, before.envelopes);
    assert_eq!(sim.get(&fw(0)), Some(&V1.to_vec()));
    assert_eq!(boot(&mut sim).unwrap().slot, 0);

    // A manifest that names the running slot explicitly is refused by the slot guard.
    let install = sequence(&[
        (20, params(&[(5, uint(0)), (18, bstr(b"overwrite"))])),
        (18, rp(0)),
    ]);
    let m = common::manifest(
        3,
        &common::common(&[&[b"fw"]], None),
        &[(20, bstr(&install))],
    );
    assert_eq!(
        update(&mut sim, &envelope(&m, Auth::Sign1, &[])),
        Err(Error::Platform(PlatformError::Denied))
    );
    assert_eq!(sim.get(&fw(0)), Some(&V1.to_vec()));
}

/// The authentic (envelope, image) pairs.
fn authentic() -> [(Vec<u8>, &'static [u8]); 2] {
    [(v1_envelope(), V1), (v2_envelope(), V2)]
}

/// After a boot: what runs is an authentic image installed by its own envelope, and the counter
/// is neither below the factory value nor above what was validated and confirmed.
fn check_booted(sim: &Sim, b: &Booted, context: &str) {
    let (key, _, image) = sim
        .invoked
        .last()
        .unwrap_or_else(|| panic!("{context}: nothing invoked"));
    assert_eq!(key, &fw(u64::from(b.slot)), "{context}");
    let envelope = &sim.flash.envelopes[usize::from(b.slot)];
    let (env, expected) = authentic()
        .into_iter()
        .find(|(e, _)| e == envelope)
        .unwrap_or_else(|| panic!("{context}: slot {} holds no authentic envelope", b.slot));
    assert_eq!(
        image, expected,
        "{context}: the image is the one its envelope names"
    );
    let seq = Envelope::decode(&env)
        .unwrap()
        .authenticate(
            &mut RustCrypto::from_os(),
            &mut TrustAnchors::signers(&mut [signing_key().verifying_key()]),
        )
        .unwrap()
        .manifest()
        .sequence_number();
    assert_eq!(seq, b.sequence, "{context}");
    check_counter(sim, context);
}

fn check_counter(sim: &Sim, context: &str) {
    let stored = counter(sim).unwrap_or_else(|| panic!("{context}: counter lost"));
    let state = sim.flash.boot_state.unwrap();
    assert!(stored >= 1, "{context}: counter went backwards");
    assert!(
        stored <= state.active_sequence,
        "{context}: counter {stored} ahead of the confirmed image {}",
        state.active_sequence
    );
}

/// The whole life of an update: install, trial boot, confirm, boot.
fn life(sim: &mut Sim) -> Result<(), Error> {
    update(sim, &v2_envelope())?;
    boot(sim)?;
    confirm(sim)?;
    boot(sim)?;
    Ok(())
}

/// The power-cut harness: runs `steps` once uncut on a device from `setup` to count its
/// platform calls, then once per cut point (power lost before, and after, each of those calls)
/// on a fresh device from `setup`, and hands `check` the device switched on again (the flash as
/// the power left it, RAM lost) with the cut's name. Returns the number of cut points.
fn cut_everywhere(
    setup: impl Fn() -> Sim,
    steps: impl Fn(&mut Sim) -> Result<(), Error>,
    mut check: impl FnMut(Sim, &str),
) -> usize {
    let fresh = || {
        let mut sim = setup();
        sim.calls = 0;
        sim
    };
    let mut reference = fresh();
    steps(&mut reference).unwrap();
    let total = reference.calls;
    for n in 1..=total {
        for cut in [Cut::Before(n), Cut::After(n)] {
            let mut sim = fresh();
            sim.cut = Some(cut);
            let context = format!("{cut:?}");
            let interrupted = steps(&mut sim);
            assert!(interrupted.is_err(), "{context}: the cut was not felt");
            assert!(sim.dead, "{context}");
            check(sim.reboot(), &context);
        }
    }
    2 * total
}

/// Boots uncut an authentic image: `slot` with its manifest's `sequence`, the stored counter.
fn boots_into(sim: &mut Sim, (slot, sequence): (u8, u64), context: &str) {
    let b = boot(sim).unwrap_or_else(|e| panic!("{context}: boot failed: {e}"));
    check_booted(sim, &b, context);
    assert_eq!((b.slot, b.sequence), (slot, sequence), "{context}");
    assert_eq!(counter(sim), Some(sequence), "{context}");
}

/// A provisioned device switched on after a cut: the counter is sane already in the flash as the
/// power left it, and the device boots an authentic image.
fn boot_after_the_cut(sim: &mut Sim, context: &str) -> Booted {
    check_counter(sim, context);
    let b = boot(sim).unwrap_or_else(|e| panic!("{context}: boot failed: {e}"));
    check_booted(sim, &b, context);
    b
}

#[test]
fn power_cut_before_and_after_every_platform_call() {
    let mut outcomes = [0usize; 2];
    let cuts = cut_everywhere(provisioned, life, |mut sim, context| {
        let b = boot_after_the_cut(&mut sim, context);
        outcomes[usize::from(b.slot)] += 1;

        // The update can be completed from there.
        if b.tentative {
            confirm(&mut sim).unwrap();
        } else if b.slot == 0 {
            life(&mut sim).unwrap();
        }
        boots_into(&mut sim, (1, 2), context);
    });
    assert!(cuts > 40, "the life has {cuts} cut points");
    println!(
        "update life: {cuts} cut points (before and after each platform call): {} reboots came \
         up on the factory image, {} on the update",
        outcomes[0], outcomes[1]
    );
    assert!(outcomes[0] > 0 && outcomes[1] > 0);
}

/// Factory provisioning of a blank device, cut anywhere: the device either boots the
/// provisioned image, or has no boot state and provisions again. Never a boot state without its
/// envelope or image, never a provisioned device that fails to boot.
#[test]
fn power_cut_during_provisioning() {
    let mut outcomes = [0usize; 2];
    let cuts = cut_everywhere(device, provision, |mut sim, context| {
        let provisioned = match boot(&mut sim) {
            Ok(b) => {
                check_booted(&sim, &b, context);
                assert_eq!(
                    (b.slot, b.sequence, b.tentative, b.reverted),
                    (0, 1, false, None),
                    "{context}"
                );
                // Provisioned once and for all.
                assert_eq!(
                    provision(&mut sim),
                    Err(Error::Platform(PlatformError::Denied)),
                    "{context}"
                );
                true
            }
            Err(Error::NoBootableImage) => {
                assert_eq!(
                    sim.flash.boot_state, None,
                    "{context}: a boot state the device cannot boot"
                );
                provision(&mut sim).unwrap_or_else(|e| panic!("{context}: reprovision: {e}"));
                false
            }
            Err(e) => panic!("{context}: boot failed: {e}"),
        };
        outcomes[usize::from(provisioned)] += 1;
        boots_into(&mut sim, (0, 1), context);
    });
    assert!(cuts > 10, "provisioning has {cuts} cut points");
    println!(
        "provisioning: {cuts} cut points: {} left the device blank, {} provisioned",
        outcomes[0], outcomes[1]
    );
    assert!(outcomes[0] > 0 && outcomes[1] > 0);
}

/// A device whose trial (the update) was booted once and never confirmed.
fn trial_abandoned() -> Sim {
    let mut sim = provisioned();
    update(&mut sim, &v2_envelope()).unwrap();
    assert!(boot(&mut sim).unwrap().tentative);
    sim.invoked.clear();
    sim
}

/// The boot that reverts the abandoned trial, then the boot after it: both start the known-good
/// image, and nothing else is ever invoked.
fn revert_and_boot(sim: &mut Sim) -> Result<(), Error> {
    let mut two_boots = || {
        for _ in 0..2 {
            let b = boot(sim)?;
            assert_eq!((b.slot, b.sequence, b.tentative), (0, 1, false));
        }
        Ok(())
    };
    let result = two_boots();
    assert!(
        sim.invoked
            .iter()
            .all(|(key, _, image)| *key == fw(0) && image == V1),
        "the abandoned trial ran again"
    );
    result
}

/// The revert of a trial booted and not confirmed, cut before and after every platform call of
/// the reverting boot and of the boot after it: the device always comes up on the known-good
/// image (never the abandoned trial again), with the trial gone, and can take the update again.
#[test]
fn power_cut_during_the_revert_of_an_abandoned_trial() {
    let mut reverted = [0usize; 2];
    let cuts = cut_everywhere(trial_abandoned, revert_and_boot, |mut sim, context| {
        let b = boot_after_the_cut(&mut sim, context);
        assert_eq!(
            (b.slot, b.sequence, b.tentative),
            (0, 1, false),
            "{context}: the known-good image"
        );
        if let Some(t) = b.reverted {
            let abandoned = Reverted {
                slot: 1,
                sequence: 2,
                cause: Error::TrialNotConfirmed,
            };
            assert_eq!(t, abandoned, "{context}: the abandoned trial, and why");
        }
        reverted[usize::from(b.reverted.is_some())] += 1;
        assert_eq!(
            sim.flash.boot_state.unwrap().trial,
            None,
            "{context}: the trial is gone"
        );
        assert_eq!(counter(&sim), Some(1), "{context}");
        // The abandoned update may be tried again, and completed.
        life(&mut sim).unwrap_or_else(|e| panic!("{context}: update again: {e}"));
        boots_into(&mut sim, (1, 2), context);
    });
    assert!(cuts > 20, "the two boots have {cuts} cut points");
    println!(
        "revert: {cuts} cut points: the reboot reverted the trial after {}, found it reverted \
         after {}",
        reverted[1], reverted[0]
    );
    assert!(reverted[0] > 0 && reverted[1] > 0);
}
