//! The interpreter's semantics on hand-built manifests (no vectors needed): procedures and
//! anti-rollback, soft failure in try-each and run-sequence, parameters, component indices,
//! copy / swap / check-content, missing parameters, integrated payloads checked before they are
//! written, and the records given to the reporting hook.
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
use iot_update_manifest::{Command, Error, PlatformError, Processor, SequenceKind, TrustAnchors};
use sim::{Sim, path, sha256};

const VENDOR: &[u8] = b"vendor-uuid-0001";
const CLASS: &[u8] = b"class--uuid-0001";

// Command codes.
const VENDOR_ID: i64 = 1;
const CLASS_ID: i64 = 2;
const IMAGE_MATCH: i64 = 3;
const COMPONENT_SLOT: i64 = 5;
const CHECK_CONTENT: i64 = 6;
const SET_INDEX: i64 = 12;
const ABORT: i64 = 14;
const TRY_EACH: i64 = 15;
const WRITE: i64 = 18;
const SET_PARAMS: i64 = 19;
const OVERRIDE: i64 = 20;
const FETCH: i64 = 21;
const COPY: i64 = 22;
const INVOKE: i64 = 23;
const DEVICE_ID: i64 = 24;
const SWAP: i64 = 31;
const RUN_SEQUENCE: i64 = 32;
const PROCESS_DEPENDENCY: i64 = 11;

// Parameter keys.
const P_VENDOR: i64 = 1;
const P_CLASS: i64 = 2;
const P_DIGEST: i64 = 3;
const P_SLOT: i64 = 5;
const P_SOFT: i64 = 13;
const P_SIZE: i64 = 14;
const P_CONTENT: i64 = 18;
const P_URI: i64 = 21;
const P_SOURCE: i64 = 22;

fn uint(n: u64) -> Vec<u8> {
    cbor(|e| {
        e.u64(n).unwrap();
    })
}

fn text(s: &str) -> Vec<u8> {
    cbor(|e| {
        e.str(s).unwrap();
    })
}

fn boolean(b: bool) -> Vec<u8> {
    cbor(|e| {
        e.bool(b).unwrap();
    })
}

fn list(items: &[u64]) -> Vec<u8> {
    cbor(|e| {
        e.array(items.len() as u64).unwrap();
        for i in items {
            e.u64(*i).unwrap();
        }
    })
}

/// `SUIT_Parameters` from (key, encoded value).
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

/// `suit-parameter-image-digest` of `image`.
fn digest_of(image: &[u8]) -> Vec<u8> {
    let d = sha256(image);
    bstr(&cbor(|e| {
        e.array(2).unwrap().i64(-16).unwrap().bytes(&d).unwrap();
    }))
}

/// A try-each argument: the sequences, each bstr-wrapped, and optionally a final nil.
fn try_each(seqs: &[Vec<u8>], nil: bool) -> Vec<u8> {
    let mut out = cbor(|e| {
        e.array(seqs.len() as u64 + u64::from(nil)).unwrap();
    });
    for s in seqs {
        out.extend(bstr(s));
    }
    if nil {
        out.extend(cbor(|e| {
            e.null().unwrap();
        }));
    }
    out
}

/// A manifest with `components` (one segment each), an optional shared sequence, and
/// (key, sequence) command sequences.
fn manifest(
    seq: u64,
    components: &[&[u8]],
    shared: Option<Vec<u8>>,
    seqs: &[(i64, Vec<u8>)],
) -> Vec<u8> {
    let comps: Vec<&[&[u8]]> = components.iter().map(core::slice::from_ref).collect();
    let common = common::common(&comps, shared.as_deref());
    let members: Vec<(i64, Vec<u8>)> = seqs.iter().map(|(k, s)| (*k, bstr(s))).collect();
    common::manifest(seq, &common, &members)
}

/// The shared sequence of an image-installing manifest: identity and image digest / size.
fn shared_for(image: &[u8]) -> Vec<u8> {
    sequence(&[
        (
            OVERRIDE,
            params(&[
                (P_VENDOR, bstr(VENDOR)),
                (P_CLASS, bstr(CLASS)),
                (P_DIGEST, digest_of(image)),
                (P_SIZE, uint(image.len() as u64)),
            ]),
        ),
        (VENDOR_ID, rp(15)),
        (CLASS_ID, rp(15)),
    ])
}

fn device() -> Sim {
    let mut sim = Sim::new();
    sim.vendor_ids = vec![VENDOR.to_vec()];
    sim.class_ids = vec![CLASS.to_vec()];
    sim
}

#[derive(Clone, Copy)]
enum Proc {
    Update,
    Boot,
    Install,
    Run(SequenceKind),
}

fn run_env(env: &[u8], sim: &mut Sim, proc: Proc) -> Result<(), Error> {
    let mut keys = [signing_key().verifying_key()];
    let mut anchors = TrustAnchors::signers(&mut keys);
    let mut crypto = RustCrypto::from_os();
    let mut scratch = [0u8; 1024];
    let mut p = Processor::new(sim, &mut crypto, &mut anchors).with_scratch(&mut scratch);
    let auth = p.authenticate(env)?;
    match proc {
        Proc::Update => p.update(&auth),
        Proc::Boot => p.boot(&auth),
        Proc::Install => p.install(&auth),
        Proc::Run(kind) => p.run(&auth, kind),
    }
}

fn run(manifest: &[u8], sim: &mut Sim, proc: Proc) -> Result<(), Error> {
    run_env(&envelope(manifest, Auth::Sign1, &[]), sim, proc)
}

const INSTALL: i64 = 20;
const VALIDATE: i64 = 7;
const LOAD: i64 = 8;
const RUN: i64 = 9;

/// The firmware-download template with secure boot: fetch, check, validate, invoke.
fn download(seq: u64, image: &[u8], uri: &str) -> Vec<u8> {
    manifest(
        seq,
        &[b"fw"],
        Some(shared_for(image)),
        &[
            (
                INSTALL,
                sequence(&[
                    (OVERRIDE, params(&[(P_URI, text(uri))])),
                    (FETCH, rp(2)),
                    (IMAGE_MATCH, rp(15)),
                ]),
            ),
            (VALIDATE, sequence(&[(IMAGE_MATCH, rp(15))])),
            (RUN, sequence(&[(INVOKE, rp(0))])),
        ],
    )
}

#[test]
fn update_then_boot_with_anti_rollback() {
    let image = b"firmware v5".to_vec();
    let mut sim = device();
    sim.uris.insert("coap://fw/5".into(), image.clone());
    let m5 = download(5, &image, "coap://fw/5");
    run(&m5, &mut sim, Proc::Update).unwrap();
    assert_eq!(sim.get(&path(&[b"fw"])), Some(&image));
    assert_eq!(sim.flash.sequence.get(&None), Some(&5));
    assert!(sim.invoked.is_empty(), "an update does not invoke");

    // Replay and downgrade refused before anything runs; boot at the stored number allowed.
    let calls = sim.calls;
    assert_eq!(run(&m5, &mut sim, Proc::Update), Err(Error::Rollback));
    assert_eq!(sim.calls, calls + 1, "only the stored number was read");
    assert_eq!(
        run(&download(4, &image, "coap://fw/5"), &mut sim, Proc::Update),
        Err(Error::Rollback)
    );
    assert_eq!(
        run(&download(4, &image, "coap://fw/5"), &mut sim, Proc::Boot),
        Err(Error::Rollback)
    );
    run(&m5, &mut sim, Proc::Boot).unwrap();
    assert_eq!(sim.invoked.len(), 1);
    // A single sequence is checked like its procedure: install of a replay refused, invoke allowed.
    assert_eq!(
        run(&m5, &mut sim, Proc::Run(SequenceKind::Install)),
        Err(Error::Rollback)
    );
    run(&m5, &mut sim, Proc::Run(SequenceKind::Invoke)).unwrap();
    assert_eq!(sim.invoked.len(), 2);
    assert_eq!(
        run(
            &download(4, &image, "coap://fw/5"),
            &mut sim,
            Proc::Run(SequenceKind::Invoke)
        ),
        Err(Error::Rollback)
    );
    assert_eq!(sim.invoked[0].2, image);
    sim.invoked.clear();

    // A newer one goes through.
    let image6 = b"firmware v6".to_vec();
    sim.uris.insert("coap://fw/6".into(), image6.clone());
    run(&download(6, &image6, "coap://fw/6"), &mut sim, Proc::Update).unwrap();
    assert_eq!(sim.invoked.len(), 0);
    assert_eq!(sim.flash.sequence.get(&None), Some(&6));
}

#[test]
fn sequence_number_is_stored_only_after_install_and_validate() {
    let image = b"firmware".to_vec();
    // The served image is not the one the manifest names: install fails at image-match.
    let mut sim = device();
    sim.uris.insert("coap://fw".into(), b"tampered".to_vec());
    assert_eq!(
        run(&download(3, &image, "coap://fw"), &mut sim, Proc::Update),
        Err(Error::ConditionFailed(Command::ImageMatch))
    );
    assert_eq!(sim.flash.sequence.get(&None), None);

    // Install passes, validate fails (it checks another digest): still nothing stored.
    let m = manifest(
        3,
        &[b"fw"],
        Some(shared_for(&image)),
        &[
            (
                INSTALL,
                sequence(&[
                    (OVERRIDE, params(&[(P_CONTENT, bstr(&image))])),
                    (WRITE, rp(0)),
                ]),
            ),
            (
                VALIDATE,
                sequence(&[
                    (OVERRIDE, params(&[(P_DIGEST, digest_of(b"other"))])),
                    (IMAGE_MATCH, rp(15)),
                ]),
            ),
        ],
    );
    let mut sim = device();
    assert_eq!(
        run(&m, &mut sim, Proc::Update),
        Err(Error::ConditionFailed(Command::ImageMatch))
    );
    assert_eq!(sim.get(&path(&[b"fw"])), Some(&image), "install ran");
    assert_eq!(sim.flash.sequence.get(&None), None);
    // install() alone never stores.
    let mut sim = device();
    sim.uris.insert("coap://fw".into(), image.clone());
    run(&download(3, &image, "coap://fw"), &mut sim, Proc::Install).unwrap();
    assert_eq!(sim.flash.sequence.get(&None), None);
}

/// One component whose install is `install`; returns the result and the device.
fn install_only(install: Vec<u8>, components: &[&[u8]]) -> (Result<(), Error>, Sim) {
    let mut sim = device();
    let m = manifest(1, components, None, &[(INSTALL, install)]);
    let r = run(&m, &mut sim, Proc::Update);
    (r, sim)
}

fn write(content: &[u8]) -> [(i64, Vec<u8>); 2] {
    [
        (OVERRIDE, params(&[(P_CONTENT, bstr(content))])),
        (WRITE, rp(0)),
    ]
}

#[test]
fn try_each_takes_the_first_sequence_that_completes() {
    let first = sequence(&[
        (ABORT, rp(0)),
        (OVERRIDE, params(&[(P_CONTENT, bstr(b"one"))])),
    ]);
    let second = sequence(&[(OVERRIDE, params(&[(P_CONTENT, bstr(b"two"))]))]);
    let third = sequence(&[(OVERRIDE, params(&[(P_CONTENT, bstr(b"three"))]))]);
    let (r, sim) = install_only(
        sequence(&[
            (TRY_EACH, try_each(&[first.clone(), second, third], false)),
            (WRITE, rp(0)),
        ]),
        &[b"c"],
    );
    r.unwrap();
    assert_eq!(sim.get(&path(&[b"c"])), Some(&b"two".to_vec()));

    // All fail: the directive fails with the last condition, unless the list ends with nil.
    let aborts = sequence(&[(ABORT, rp(0))]);
    let (r, _) = install_only(
        sequence(&[(TRY_EACH, try_each(&[aborts.clone(), aborts.clone()], false))]),
        &[b"c"],
    );
    assert_eq!(r, Err(Error::ConditionFailed(Command::Abort)));
    let (r, sim) = install_only(
        sequence(&[
            (TRY_EACH, try_each(&[aborts.clone(), aborts.clone()], true)),
            write(b"after")[0].clone(),
            write(b"after")[1].clone(),
        ]),
        &[b"c"],
    );
    r.unwrap();
    assert_eq!(sim.get(&path(&[b"c"])), Some(&b"after".to_vec()));

    // A failed try-each inside a try-each sequence is itself a soft failure there.
    let nested = sequence(&[(TRY_EACH, try_each(&[aborts.clone(), aborts.clone()], false))]);
    let (r, sim) = install_only(
        sequence(&[(
            TRY_EACH,
            try_each(&[nested, sequence(&write(b"outer"))], false),
        )]),
        &[b"c"],
    );
    r.unwrap();
    assert_eq!(sim.get(&path(&[b"c"])), Some(&b"outer".to_vec()));
}

#[test]
fn soft_failure_turned_off_in_try_each_aborts() {
    let hard = sequence(&[
        (OVERRIDE, params(&[(P_SOFT, boolean(false))])),
        (ABORT, rp(0)),
    ]);
    let (r, sim) = install_only(
        sequence(&[(
            TRY_EACH,
            try_each(&[hard, sequence(&write(b"never"))], false),
        )]),
        &[b"c"],
    );
    assert_eq!(r, Err(Error::ConditionFailed(Command::Abort)));
    assert_eq!(
        sim.get(&path(&[b"c"])),
        None,
        "the second sequence did not run"
    );
}

#[test]
fn directive_failures_abort_even_inside_try_each() {
    let fetch = sequence(&[
        (OVERRIDE, params(&[(P_URI, text("coap://nowhere"))])),
        (FETCH, rp(0)),
    ]);
    let (r, sim) = install_only(
        sequence(&[(
            TRY_EACH,
            try_each(&[fetch, sequence(&write(b"never"))], false),
        )]),
        &[b"c"],
    );
    assert_eq!(r, Err(Error::Platform(PlatformError::Unavailable)));
    assert_eq!(sim.get(&path(&[b"c"])), None);
}

#[test]
fn run_sequence_soft_failure() {
    // Off by default: a failed condition fails the directive and the procedure.
    let (r, _) = install_only(
        sequence(&[(RUN_SEQUENCE, bstr(&sequence(&[(ABORT, rp(0))])))]),
        &[b"c"],
    );
    assert_eq!(r, Err(Error::ConditionFailed(Command::Abort)));
    // Turned on: the sequence halts, the procedure goes on.
    let soft = sequence(&[
        (OVERRIDE, params(&[(P_SOFT, boolean(true))])),
        (ABORT, rp(0)),
        write(b"skipped")[0].clone(),
        write(b"skipped")[1].clone(),
    ]);
    let (r, sim) = install_only(
        sequence(&[
            (RUN_SEQUENCE, bstr(&soft)),
            write(b"then")[0].clone(),
            write(b"then")[1].clone(),
        ]),
        &[b"c"],
    );
    r.unwrap();
    assert_eq!(sim.get(&path(&[b"c"])), Some(&b"then".to_vec()));
    // ... and soft failure does not leak out of it.
    let (r, _) = install_only(
        sequence(&[(RUN_SEQUENCE, bstr(&soft)), (ABORT, rp(0))]),
        &[b"c"],
    );
    assert_eq!(r, Err(Error::ConditionFailed(Command::Abort)));
}

#[test]
fn soft_failure_outside_try_each_is_refused() {
    let (r, _) = install_only(
        sequence(&[(OVERRIDE, params(&[(P_SOFT, boolean(true))]))]),
        &[b"c"],
    );
    assert_eq!(r, Err(Error::SoftFailureNotAllowed));
}

#[test]
fn set_parameters_keeps_what_override_replaces() {
    let (r, sim) = install_only(
        sequence(&[
            (OVERRIDE, params(&[(P_CONTENT, bstr(b"first"))])),
            (SET_PARAMS, params(&[(P_CONTENT, bstr(b"second"))])),
            (WRITE, rp(0)),
        ]),
        &[b"c"],
    );
    r.unwrap();
    assert_eq!(sim.get(&path(&[b"c"])), Some(&b"first".to_vec()));
    let (r, sim) = install_only(
        sequence(&[
            (SET_PARAMS, params(&[(P_CONTENT, bstr(b"first"))])),
            (OVERRIDE, params(&[(P_CONTENT, bstr(b"second"))])),
            (WRITE, rp(0)),
        ]),
        &[b"c"],
    );
    r.unwrap();
    assert_eq!(sim.get(&path(&[b"c"])), Some(&b"second".to_vec()));
}

#[test]
fn component_index_one_list_and_all() {
    let comps: &[&[u8]] = &[b"a", b"b", b"c"];
    let (r, sim) = install_only(
        sequence(&[
            (SET_INDEX, list(&[0, 2])),
            (OVERRIDE, params(&[(P_CONTENT, bstr(b"x"))])),
            (WRITE, rp(0)),
        ]),
        comps,
    );
    r.unwrap();
    assert_eq!(sim.get(&path(&[b"a"])), Some(&b"x".to_vec()));
    assert_eq!(sim.get(&path(&[b"b"])), None);
    assert_eq!(sim.get(&path(&[b"c"])), Some(&b"x".to_vec()));

    // Parameters are per component: one written with its own content, then all with theirs.
    let (r, sim) = install_only(
        sequence(&[
            (SET_INDEX, boolean(true)),
            (OVERRIDE, params(&[(P_CONTENT, bstr(b"all"))])),
            (SET_INDEX, uint(1)),
            (OVERRIDE, params(&[(P_CONTENT, bstr(b"one"))])),
            (SET_INDEX, boolean(true)),
            (WRITE, rp(0)),
        ]),
        comps,
    );
    r.unwrap();
    assert_eq!(sim.get(&path(&[b"a"])), Some(&b"all".to_vec()));
    assert_eq!(sim.get(&path(&[b"b"])), Some(&b"one".to_vec()));
    assert_eq!(sim.get(&path(&[b"c"])), Some(&b"all".to_vec()));

    // run-sequence runs once per selected component, with an integer index.
    let inner = sequence(&[(WRITE, rp(0))]);
    let (r, sim) = install_only(
        sequence(&[
            (SET_INDEX, boolean(true)),
            (OVERRIDE, params(&[(P_CONTENT, bstr(b"each"))])),
            (RUN_SEQUENCE, bstr(&inner)),
        ]),
        comps,
    );
    r.unwrap();
    let writes: Vec<_> = sim
        .records
        .iter()
        .filter(|r| r.command == Command::Write)
        .map(|r| r.component)
        .collect();
    assert_eq!(writes, [Some(0), Some(1), Some(2)]);

    // Out of range, and a dependency command on a plain component.
    let (r, _) = install_only(sequence(&[(SET_INDEX, uint(3))]), comps);
    assert_eq!(r, Err(Error::ComponentIndex(3)));
    let (r, _) = install_only(sequence(&[(SET_INDEX, list(&[0, 9]))]), comps);
    assert_eq!(r, Err(Error::ComponentIndex(9)));
    let (r, _) = install_only(sequence(&[(PROCESS_DEPENDENCY, rp(0))]), comps);
    assert_eq!(r, Err(Error::ComponentIndex(0)));
}

#[test]
fn copy_swap_and_check_content() {
    let comps: &[&[u8]] = &[b"a", b"b"];
    // A content longer than one chunk, so copy and compare loop.
    let big: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
    let (r, sim) = install_only(
        sequence(&[
            (SET_INDEX, uint(0)),
            (OVERRIDE, params(&[(P_CONTENT, bstr(&big))])),
            (WRITE, rp(0)),
            (SET_INDEX, uint(1)),
            (
                OVERRIDE,
                params(&[(P_SOURCE, uint(0)), (P_CONTENT, bstr(&big))]),
            ),
            (COPY, rp(0)),
            (CHECK_CONTENT, rp(0)),
        ]),
        comps,
    );
    r.unwrap();
    assert_eq!(sim.get(&path(&[b"b"])), Some(&big));

    // check-content fails on one differing byte, on a prefix and on an extension.
    for other in [
        {
            let mut o = big.clone();
            o[999] ^= 1;
            o
        },
        big[..999].to_vec(),
        [&big[..], b"+"].concat(),
    ] {
        let (r, _) = install_only(
            sequence(&[
                (OVERRIDE, params(&[(P_CONTENT, bstr(&big))])),
                (WRITE, rp(0)),
                (OVERRIDE, params(&[(P_CONTENT, bstr(&other))])),
                (CHECK_CONTENT, rp(0)),
            ]),
            comps,
        );
        assert_eq!(r, Err(Error::ConditionFailed(Command::CheckContent)));
    }

    let (r, sim) = install_only(
        sequence(&[
            (SET_INDEX, uint(0)),
            (OVERRIDE, params(&[(P_CONTENT, bstr(b"A"))])),
            (WRITE, rp(0)),
            (SET_INDEX, uint(1)),
            (
                OVERRIDE,
                params(&[(P_CONTENT, bstr(b"B")), (P_SOURCE, uint(0))]),
            ),
            (WRITE, rp(0)),
            (SWAP, rp(0)),
        ]),
        comps,
    );
    r.unwrap();
    assert_eq!(sim.get(&path(&[b"a"])), Some(&b"B".to_vec()));
    assert_eq!(sim.get(&path(&[b"b"])), Some(&b"A".to_vec()));

    let (r, _) = install_only(
        sequence(&[(OVERRIDE, params(&[(P_SOURCE, uint(0))])), (COPY, rp(0))]),
        comps,
    );
    assert_eq!(r, Err(Error::SourceIsDestination));
    // The source holds nothing.
    let (r, _) = install_only(
        sequence(&[(OVERRIDE, params(&[(P_SOURCE, uint(1))])), (COPY, rp(0))]),
        comps,
    );
    assert_eq!(r, Err(Error::Platform(PlatformError::NotFound)));
}

#[test]
fn missing_parameters() {
    for (code, parameter) in [
        (FETCH, P_URI),
        (WRITE, P_CONTENT),
        (COPY, P_SOURCE),
        (SWAP, P_SOURCE),
    ] {
        let (r, _) = install_only(sequence(&[(code, rp(0))]), &[b"a", b"b"]);
        assert_eq!(
            r,
            Err(Error::MissingParameter {
                command: i32::try_from(code).unwrap(),
                parameter: i32::try_from(parameter).unwrap(),
            })
        );
    }
    // A condition whose parameter is not set fails (soft-failable, unlike the directives).
    for (code, command) in [
        (VENDOR_ID, Command::VendorIdentifier),
        (CLASS_ID, Command::ClassIdentifier),
        (DEVICE_ID, Command::DeviceIdentifier),
        (IMAGE_MATCH, Command::ImageMatch),
        (COMPONENT_SLOT, Command::ComponentSlot),
        (CHECK_CONTENT, Command::CheckContent),
    ] {
        let (r, _) = install_only(sequence(&[(code, rp(0))]), &[b"a"]);
        assert_eq!(r, Err(Error::ConditionFailed(command)));
    }
}

#[test]
fn integrated_payload_is_checked_before_it_is_written() {
    let image = b"integrated firmware".to_vec();
    let m = manifest(
        1,
        &[b"fw"],
        Some(shared_for(&image)),
        &[(
            INSTALL,
            sequence(&[
                (OVERRIDE, params(&[(P_URI, text("#fw"))])),
                (FETCH, rp(0)),
                (IMAGE_MATCH, rp(15)),
            ]),
        )],
    );
    let mut sim = device();
    run_env(
        &envelope(&m, Auth::Sign1, &[Extra::Text("#fw", &image)]),
        &mut sim,
        Proc::Update,
    )
    .unwrap();
    assert_eq!(sim.get(&path(&[b"fw"])), Some(&image));
    assert!(
        sim.fetched.is_empty(),
        "served from the envelope, not fetched"
    );

    for tampered in [
        {
            let mut t = image.clone();
            t[3] ^= 0x20;
            t
        },
        image[1..].to_vec(),
    ] {
        let mut sim = device();
        sim.flash.storage.insert(path(&[b"fw"]), b"old".to_vec());
        let before = sim.flash.clone();
        assert_eq!(
            run_env(
                &envelope(&m, Auth::Sign1, &[Extra::Text("#fw", &tampered)]),
                &mut sim,
                Proc::Update
            ),
            Err(Error::ImageMismatch)
        );
        assert_eq!(sim.flash, before);
    }
}

#[test]
fn boot_runs_validate_load_invoke_in_order() {
    let image = b"boot image".to_vec();
    let m = manifest(
        1,
        &[b"flash", b"ram"],
        Some(sequence(&[
            (SET_INDEX, boolean(true)),
            (
                OVERRIDE,
                params(&[
                    (P_DIGEST, digest_of(&image)),
                    (P_SIZE, uint(image.len() as u64)),
                ]),
            ),
        ])),
        &[
            (
                VALIDATE,
                sequence(&[(SET_INDEX, uint(0)), (IMAGE_MATCH, rp(15))]),
            ),
            (
                LOAD,
                sequence(&[
                    (SET_INDEX, uint(1)),
                    (OVERRIDE, params(&[(P_SOURCE, uint(0))])),
                    (COPY, rp(0)),
                    (IMAGE_MATCH, rp(15)),
                ]),
            ),
            (RUN, sequence(&[(SET_INDEX, uint(1)), (INVOKE, rp(0))])),
        ],
    );
    let mut sim = device();
    sim.flash.storage.insert(path(&[b"flash"]), image.clone());
    run(&m, &mut sim, Proc::Boot).unwrap();
    assert_eq!(sim.invoked.len(), 1);
    assert_eq!(sim.invoked[0].0, path(&[b"ram"]));
    let order: Vec<_> = sim
        .records
        .iter()
        .filter(|r| r.sequence != SequenceKind::Shared)
        .map(|r| (r.sequence, r.command))
        .collect();
    assert_eq!(
        order,
        [
            (SequenceKind::Validate, Command::SetComponentIndex),
            (SequenceKind::Validate, Command::ImageMatch),
            (SequenceKind::Load, Command::SetComponentIndex),
            (SequenceKind::Load, Command::OverrideParameters),
            (SequenceKind::Load, Command::Copy),
            (SequenceKind::Load, Command::ImageMatch),
            (SequenceKind::Invoke, Command::SetComponentIndex),
            (SequenceKind::Invoke, Command::Invoke),
        ]
    );
    // A corrupted stored image: validate fails, nothing is loaded or invoked.
    let mut sim = device();
    sim.flash
        .storage
        .insert(path(&[b"flash"]), b"boot imagf".to_vec());
    assert_eq!(
        run(&m, &mut sim, Proc::Boot),
        Err(Error::ConditionFailed(Command::ImageMatch))
    );
    assert!(sim.invoked.is_empty());
    assert_eq!(sim.get(&path(&[b"ram"])), None);
    let last = sim.records.last().unwrap();
    assert_eq!(
        (last.sequence, last.command, last.result),
        (
            SequenceKind::Validate,
            Command::ImageMatch,
            Err(Error::ConditionFailed(Command::ImageMatch))
        )
    );
}

#[test]
fn component_slot_condition_asks_the_platform() {
    let m = |slot: u64| {
        manifest(
            1,
            &[b"c"],
            None,
            &[(
                INSTALL,
                sequence(&[
                    (OVERRIDE, params(&[(P_SLOT, uint(slot))])),
                    (COMPONENT_SLOT, rp(0)),
                    write(b"x")[0].clone(),
                    write(b"x")[1].clone(),
                ]),
            )],
        )
    };
    let mut sim = device();
    sim.slot = Some(1);
    run(&m(1), &mut sim, Proc::Update).unwrap();
    assert_eq!(
        sim.get(&(vec![b"c".to_vec()], Some(1))),
        Some(&b"x".to_vec())
    );
    let mut sim = device();
    sim.slot = Some(1);
    assert_eq!(
        run(&m(0), &mut sim, Proc::Update),
        Err(Error::ConditionFailed(Command::ComponentSlot))
    );
}

#[test]
fn shared_sequence_may_not_act() {
    for shared in [
        sequence(&write(b"x")),
        sequence(&[(INVOKE, rp(0))]),
        sequence(&[(
            TRY_EACH,
            try_each(
                &[sequence(&[(ABORT, rp(0))]), sequence(&write(b"x"))],
                false,
            ),
        )]),
        sequence(&[(-300, rp(0))]),
    ] {
        let mut sim = device();
        let m = manifest(
            1,
            &[b"c"],
            Some(shared),
            &[(VALIDATE, sequence(&[(ABORT, rp(0))]))],
        );
        let r = run(&m, &mut sim, Proc::Boot);
        assert!(
            matches!(r, Err(Error::NotAllowedInSharedSequence(_))),
            "{r:?}"
        );
        assert!(sim.flash.storage.is_empty());
    }
}

/// Parameters passed to a dependency (draft-ietf-suit-trust-domains): the dependent sets
/// content for its component `fw` and processes an integrated dependency whose install writes
/// its own `fw`. The dependency's set-parameters keep the passed content, its
/// override-parameters replace it, and content the dependent set for another component is not
/// passed.
#[test]
fn dependent_parameters_pass_to_the_dependency() {
    let dependency = |directive: i64| {
        let m = manifest(
            1,
            &[b"fw"],
            None,
            &[(
                INSTALL,
                sequence(&[
                    (SET_INDEX, uint(0)),
                    (directive, params(&[(P_CONTENT, bstr(b"dependency's"))])),
                    (WRITE, rp(0)),
                ]),
            )],
        );
        envelope(&m, Auth::Sign1, &[])
    };
    let dependent = |component: &[u8], dep: &[u8]| {
        let common = cbor(|e| {
            e.map(2).unwrap();
            e.u8(1).unwrap().map(1).unwrap().u8(1).unwrap();
            e.map(1).unwrap().u8(1).unwrap().array(1).unwrap();
            e.bytes(b"dep").unwrap();
            e.u8(2).unwrap().array(1).unwrap().array(1).unwrap();
            e.bytes(component).unwrap();
        });
        let install = sequence(&[
            (SET_INDEX, uint(0)),
            (OVERRIDE, params(&[(P_CONTENT, bstr(b"dependent's"))])),
            (SET_INDEX, uint(1)),
            (OVERRIDE, params(&[(P_URI, text("#dep"))])),
            (FETCH, rp(0)),
            (PROCESS_DEPENDENCY, rp(0)),
        ]);
        let m = common::manifest(1, &common, &[(INSTALL, bstr(&install))]);
        envelope(&m, Auth::Sign1, &[Extra::Text("#dep", dep)])
    };
    let target = path(&[b"dep", b"fw"]);
    for (component, directive, expected) in [
        (&b"fw"[..], SET_PARAMS, &b"dependent's"[..]),
        (b"fw", OVERRIDE, b"dependency's"),
        (b"other", SET_PARAMS, b"dependency's"),
    ] {
        let mut sim = device();
        run_env(
            &dependent(component, &dependency(directive)),
            &mut sim,
            Proc::Update,
        )
        .unwrap();
        assert_eq!(sim.get(&target).map(|v| v.as_slice()), Some(expected));
        // The dependent's own component is not written.
        assert_eq!(sim.get(&path(&[component])), None);
    }
}
