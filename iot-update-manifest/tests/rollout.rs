//! The staged rollout planner: rings from fractions and lists, advance, halt on failures, halt
//! when successes cannot reach the threshold, idempotent duplicates, conflicting and foreign
//! reports, and reports decoded from encoded SUIT_Reports.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use iot_update_manifest::report::{self, Entry, Reason};
use iot_update_manifest::rollout::{
    Decision, DeviceReport, Ingest, Outcome, Plan, PlanError, Release, State, Thresholds,
};
use iot_update_manifest::{Command, Error, SuitDigest};

const DIGEST: [u8; 32] = [0xab; 32];

fn release() -> Release {
    Release {
        digest: DIGEST.to_vec(),
        sequence_number: 7,
    }
}

fn fleet(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("dev-{i:03}")).collect()
}

const T: Thresholds = Thresholds {
    min_reported: 0.8,
    min_success: 0.9,
    max_failures: 0.2,
};

/// An encoded SUIT_Report about `digest` with `failure` (None: success), decoded as the server does.
fn report_of(device: &str, digest: &[u8], failure: Option<Error>) -> DeviceReport {
    DeviceReport::decode(device, &encoded_report(digest, failure)).unwrap()
}

/// The encoded SUIT_Report of [`report_of`].
fn encoded_report(digest: &[u8], failure: Option<Error>) -> Vec<u8> {
    let entry = Entry {
        manifest: iot_update_manifest::ManifestId::ROOT,
        section: 20,
        offset: 1,
        component: Some(0),
        command: Command::ImageMatch,
        result: failure.map_or(Ok(()), Err),
        property: None,
    };
    let mut out = [0u8; 256];
    let err = failure;
    let len = report::encode(
        "https://fw.example/m.suit",
        SuitDigest {
            algorithm: -16,
            bytes: digest,
        },
        Some(b"n"),
        core::slice::from_ref(&entry),
        err.as_ref().map(|e| (e, Some(&entry))),
        &mut out,
    )
    .unwrap();
    out[..len].to_vec()
}

fn ok(device: &str) -> DeviceReport {
    report_of(device, &DIGEST, None)
}

fn failed(device: &str) -> DeviceReport {
    report_of(
        device,
        &DIGEST,
        Some(Error::ConditionFailed(Command::ImageMatch)),
    )
}

#[test]
fn rings_from_fractions() {
    let plan = Plan::by_fractions(release(), &fleet(200), &[0.01, 0.1, 1.0], T).unwrap();
    let sizes: Vec<_> = plan.rings().iter().map(Vec::len).collect();
    assert_eq!(sizes, [2, 18, 180]);
    // A small fleet: every ring still gets a device; rings are disjoint and in order.
    let plan = Plan::by_fractions(release(), &fleet(5), &[0.01, 0.1, 1.0], T).unwrap();
    let sizes: Vec<_> = plan.rings().iter().map(Vec::len).collect();
    assert_eq!(sizes, [1, 1, 3]);
    assert_eq!(plan.rings().concat(), fleet(5));
    assert_eq!(
        Plan::by_fractions(release(), &fleet(5), &[0.5, 0.1, 1.0], T).unwrap_err(),
        PlanError::BadFraction
    );
    assert_eq!(
        Plan::by_fractions(release(), &fleet(5), &[0.5, 0.9], T).unwrap_err(),
        PlanError::BadFraction
    );
    let mut rings = vec![fleet(2), fleet(3)];
    assert_eq!(
        Plan::new(release(), rings.clone(), T).unwrap_err(),
        PlanError::DuplicateDevice("dev-000".into())
    );
    rings[1] = vec![];
    assert_eq!(
        Plan::new(release(), rings, T).unwrap_err(),
        PlanError::EmptyRing(1)
    );
    let bad = Thresholds {
        min_success: 1.5,
        ..T
    };
    assert_eq!(
        Plan::new(release(), vec![fleet(1)], bad).unwrap_err(),
        PlanError::BadFraction
    );
}

#[test]
fn advances_ring_by_ring_then_completes() {
    let devices = fleet(100);
    let mut plan = Plan::by_fractions(release(), &devices, &[0.01, 0.1, 1.0], T).unwrap();
    assert_eq!(plan.state(), State::Releasing { ring: 0 });
    assert!(plan.is_released_to("dev-000"));
    assert!(!plan.is_released_to("dev-001"));
    // A device of ring 1 before ring 1 is released: not counted.
    assert_eq!(plan.ingest(&ok("dev-005")), Ingest::NotReleased);
    assert_eq!(
        plan.step(),
        Decision::Wait {
            ring: 0,
            reported: 0,
            needed: 1
        }
    );
    assert_eq!(plan.ingest(&ok("dev-000")), Ingest::Recorded);
    assert_eq!(plan.step(), Decision::Advance { to: 1 });
    assert!(plan.is_released_to("dev-005"));
    // Ring 1 (9 devices) needs 8 reports, 90% successes: 7 are not enough, 8 successes are.
    for d in &devices[1..8] {
        assert_eq!(plan.ingest(&ok(d)), Ingest::Recorded);
    }
    assert_eq!(
        plan.step(),
        Decision::Wait {
            ring: 1,
            reported: 7,
            needed: 8
        }
    );
    plan.ingest(&ok(&devices[8]));
    assert_eq!(plan.step(), Decision::Advance { to: 2 });
    for d in &devices[10..90] {
        plan.ingest(&ok(d));
    }
    // One failure among 81 reports: 98.8% success, below the 20% failure bound.
    plan.ingest(&failed(&devices[90]));
    assert_eq!(plan.step(), Decision::Complete);
    assert_eq!(plan.state(), State::Completed);
    assert_eq!(plan.step(), Decision::Complete);
    assert!(plan.is_released_to("dev-099"));
}

#[test]
fn halts_when_failures_exceed_the_threshold() {
    let devices = fleet(100);
    let mut plan = Plan::by_fractions(release(), &devices, &[0.1, 1.0], T).unwrap();
    // Ring 0: 10 devices; 2 failures are 20% (not above), the third halts before everyone reported.
    plan.ingest(&failed(&devices[0]));
    plan.ingest(&failed(&devices[1]));
    assert_eq!(
        plan.step(),
        Decision::Wait {
            ring: 0,
            reported: 2,
            needed: 8
        }
    );
    plan.ingest(&report_of(
        &devices[2],
        &DIGEST,
        Some(Error::Platform(iot_update_manifest::PlatformError::Io)),
    ));
    assert_eq!(
        plan.step(),
        Decision::Halt {
            ring: 0,
            failures: 3
        }
    );
    assert_eq!(
        plan.state(),
        State::Halted {
            ring: 0,
            passed_ring: None,
            failures: 3
        }
    );
    // Final: more successes do not resume it, and ring 1 is never released.
    for d in &devices[3..10] {
        plan.ingest(&ok(d));
    }
    assert_eq!(
        plan.step(),
        Decision::Halt {
            ring: 0,
            failures: 3
        }
    );
    assert!(!plan.is_released_to(&devices[10]));
    assert_eq!(plan.ingest(&ok(&devices[10])), Ingest::NotReleased);
}

#[test]
fn halts_when_everyone_reported_below_the_success_threshold() {
    let t = Thresholds {
        min_reported: 1.0,
        min_success: 1.0,
        max_failures: 0.5,
    };
    let mut plan = Plan::new(release(), vec![fleet(4), vec!["late".into()]], t).unwrap();
    plan.ingest(&ok("dev-000"));
    plan.ingest(&failed("dev-001"));
    plan.ingest(&ok("dev-002"));
    assert_eq!(
        plan.step(),
        Decision::Wait {
            ring: 0,
            reported: 3,
            needed: 4
        }
    );
    plan.ingest(&ok("dev-003"));
    assert_eq!(
        plan.step(),
        Decision::Halt {
            ring: 0,
            failures: 1
        }
    );
}

#[test]
fn duplicate_reports_are_idempotent() {
    let t = Thresholds {
        min_reported: 1.0,
        min_success: 1.0,
        max_failures: 0.0,
    };
    let mut plan = Plan::new(release(), vec![fleet(2), vec!["next".into()]], t).unwrap();
    assert_eq!(plan.ingest(&ok("dev-000")), Ingest::Recorded);
    // The same report again, and again: one device, one report.
    for _ in 0..3 {
        assert_eq!(plan.ingest(&ok("dev-000")), Ingest::Duplicate);
        assert_eq!(plan.ring_counts(0), (1, 0));
        assert_eq!(
            plan.step(),
            Decision::Wait {
                ring: 0,
                reported: 1,
                needed: 2
            }
        );
    }
    // Reports about another manifest, or from devices in no ring, count nothing.
    assert_eq!(
        plan.ingest(&report_of("dev-001", &[0; 32], None)),
        Ingest::OtherManifest
    );
    assert_eq!(plan.ingest(&ok("stranger")), Ingest::UnknownDevice);
    assert_eq!(
        plan.step(),
        Decision::Wait {
            ring: 0,
            reported: 1,
            needed: 2
        }
    );
    assert_eq!(plan.ingest(&ok("dev-001")), Ingest::Recorded);
    assert_eq!(plan.step(), Decision::Advance { to: 1 });
    // Stepping again without new reports waits on the new ring; ring 0's duplicates still change nothing.
    assert_eq!(plan.ingest(&ok("dev-001")), Ingest::Duplicate);
    assert_eq!(
        plan.step(),
        Decision::Wait {
            ring: 1,
            reported: 0,
            needed: 1
        }
    );
}

/// An A/B device reports its install's success, then the failure of a trial that did not
/// confirm: the failure counts, and halts the rollout even though the device's ring had passed.
#[test]
fn a_failure_after_a_success_counts_and_halts_a_ring_that_passed() {
    let t = Thresholds {
        min_reported: 1.0,
        min_success: 1.0,
        max_failures: 0.0,
    };
    let next = vec!["next-0".to_owned(), "next-1".to_owned()];
    let mut plan = Plan::new(release(), vec![fleet(2), next.clone()], t).unwrap();
    assert_eq!(plan.ingest(&ok("dev-000")), Ingest::Recorded);
    assert_eq!(plan.ingest(&ok("dev-001")), Ingest::Recorded);
    assert_eq!(plan.step(), Decision::Advance { to: 1 });
    assert_eq!(plan.ingest(&ok("next-0")), Ingest::Recorded);

    assert_eq!(plan.ingest(&failed("dev-000")), Ingest::Overturned);
    assert_eq!(plan.ring_counts(0), (2, 1));
    // Once failed, it stays failed: a success, or a failure for another reason, is ignored.
    assert_eq!(plan.ingest(&ok("dev-000")), Ingest::Conflict);
    assert_eq!(
        plan.ingest(&report_of(
            "dev-000",
            &DIGEST,
            Some(Error::TrialNotConfirmed)
        )),
        Ingest::Conflict
    );
    assert_eq!(plan.ingest(&failed("dev-000")), Ingest::Duplicate);
    assert_eq!(plan.ring_counts(0), (2, 1));

    let halt = Decision::Halt {
        ring: 0,
        failures: 1,
    };
    assert_eq!(plan.step(), halt);
    assert_eq!(
        plan.state(),
        State::Halted {
            ring: 1,
            passed_ring: Some(0),
            failures: 1
        }
    );
    assert_eq!(plan.step(), halt, "halted stays halted");
    // Ring 1 keeps the release it got; nothing further is released.
    assert!(next.iter().all(|d| plan.is_released_to(d)));
    assert_eq!(plan.ingest(&ok("next-1")), Ingest::Recorded);
    assert_eq!(plan.step(), halt);

    let text = plan.to_json();
    assert!(text.contains("\"passed-ring\": 0"), "{text}");
    assert_eq!(Plan::from_json(&text), Ok(plan.clone()));

    // The operator accepts ring 0's failure: the release goes on from ring 1.
    let lenient = Thresholds {
        max_failures: 0.5,
        ..t
    };
    plan.resume(lenient).unwrap();
    assert_eq!(plan.step(), Decision::Complete);

    // A completed rollout is final: a late failure is counted but decides nothing.
    assert_eq!(plan.ingest(&failed("next-0")), Ingest::Overturned);
    assert_eq!(plan.step(), Decision::Complete);
}

#[test]
fn reports_decode_with_reason_and_code() {
    let r = failed("d");
    assert_eq!(r.digest, DIGEST);
    assert_eq!(
        r.outcome,
        Outcome::Failure {
            reason: Some(Reason::ConditionFailed),
            code: Command::ImageMatch.code()
        }
    );
    assert_eq!(ok("d").outcome, Outcome::Success);
    assert!(DeviceReport::decode("d", &[0xa0]).is_err());
    assert!(DeviceReport::decode("d", &[0xff]).is_err());
}

/// A plan halted on ring 0 of two (10 and 90 devices) by 3 failures, then 7 successes came in.
fn halted_plan(devices: &[String]) -> Plan {
    let mut plan = Plan::by_fractions(release(), devices, &[0.1, 1.0], T).unwrap();
    for d in &devices[..3] {
        plan.ingest(&failed(d));
    }
    assert!(matches!(plan.step(), Decision::Halt { ring: 0, .. }));
    for d in &devices[3..10] {
        plan.ingest(&ok(d));
    }
    plan
}

#[test]
fn a_saved_plan_loads_back_equal_and_decides_the_same() {
    let devices = fleet(100);
    let fresh = Plan::by_fractions(release(), &devices, &[0.1, 1.0], T).unwrap();
    let mut waiting = fresh.clone();
    waiting.ingest(&ok(&devices[0]));
    waiting.ingest(&failed(&devices[1]));
    let mut unknown_reason = waiting.clone();
    unknown_reason.ingest(&DeviceReport {
        device: devices[2].clone(),
        digest: DIGEST.to_vec(),
        outcome: Outcome::Failure {
            reason: None,
            code: -5,
        },
    });
    let halted = halted_plan(&devices);
    let mut completed = Plan::new(release(), vec![devices[..2].to_vec()], T).unwrap();
    completed.ingest(&ok(&devices[0]));
    completed.ingest(&ok(&devices[1]));
    assert_eq!(completed.step(), Decision::Complete);
    // A halt on the current ring's failures is saved as before there were passed rings.
    assert!(!halted.to_json().contains("passed-ring"));
    for plan in [fresh, waiting, unknown_reason, halted, completed] {
        let text = plan.to_json();
        let mut loaded = Plan::from_json(&text).unwrap();
        assert_eq!(loaded, plan, "{text}");
        assert_eq!(loaded.to_json(), text);
        let mut original = plan.clone();
        assert_eq!(loaded.step(), original.step());
        assert_eq!(loaded, original);
    }
}

/// Thresholds are kept to the bit: each of these fractions is written as its shortest decimal,
/// which a best-effort float parser reads back one unit in the last place off.
#[test]
fn saved_thresholds_load_back_to_the_bit() {
    let devices = fleet(10);
    for x in [
        0.9883853299755387,
        0.22981246145434542,
        0.018231867957088754,
    ] {
        let t = Thresholds {
            min_reported: x,
            min_success: x,
            max_failures: x,
        };
        let plan = Plan::by_fractions(release(), &devices, &[0.5, 1.0], t).unwrap();
        let loaded = Plan::from_json(&plan.to_json()).unwrap();
        assert_eq!(loaded.thresholds(), t, "{x}");
    }
}

#[test]
fn a_saved_plan_that_contradicts_itself_is_refused() {
    let devices = fleet(100);
    let halted = halted_plan(&devices);
    let text = halted.to_json();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut j = json.clone();
        f(&mut j);
        Plan::from_json(&j.to_string())
    };
    let invalid = |r: Result<Plan, PlanError>| matches!(r, Err(PlanError::Invalid(_)));
    assert!(invalid(Plan::from_json("")));
    assert!(invalid(Plan::from_json("{}")));
    assert!(invalid(edit(&|j| j["extra"] = 1.into())));
    assert!(invalid(edit(&|j| j["release"]["digest"] = "zz".into())));
    assert!(invalid(edit(&|j| j["state"]["ring"] = 2.into())));
    assert!(invalid(edit(&|j| j["state"]["failures"] = 11.into())));
    // A passed ring must come before the ring the plan halted at (ring 0 here).
    assert!(invalid(edit(&|j| j["state"]["passed-ring"] = 0.into())));
    assert!(invalid(edit(&|j| {
        j["state"] = serde_json::json!({"phase": "releasing", "ring": 5})
    })));
    // A report from a device of ring 1, which a plan halted on ring 0 never released to, and
    // from a device in no ring.
    for device in [devices[50].as_str(), "stranger"] {
        assert!(invalid(edit(&|j| {
            j["reports"][device] = serde_json::json!({"result": "success"})
        })));
    }
    assert!(invalid(edit(&|j| {
        j["reports"][devices[0].as_str()] =
            serde_json::json!({"result": "failure", "reason": 99, "code": 1})
    })));
    // What `Plan::new` refuses.
    assert_eq!(
        edit(&|j| j["thresholds"]["max-failures"] = 1.5.into()),
        Err(PlanError::BadFraction)
    );
    assert_eq!(
        edit(&|j| j["rings"][1][0] = devices[0].clone().into()),
        Err(PlanError::DuplicateDevice(devices[0].clone()))
    );
    assert_eq!(
        edit(&|j| j["rings"][1] = serde_json::json!([])),
        Err(PlanError::EmptyRing(1))
    );
    // The unedited text loads.
    assert_eq!(Plan::from_json(&text), Ok(halted));
}

#[test]
fn an_operator_resumes_a_halted_plan_with_new_thresholds() {
    let devices = fleet(100);
    let mut plan = halted_plan(&devices);
    // Only a halted plan resumes; bad thresholds change nothing.
    let before = plan.clone();
    let bad = Thresholds {
        max_failures: -0.1,
        ..T
    };
    assert_eq!(plan.resume(bad), Err(PlanError::BadFraction));
    assert_eq!(plan, before);
    let mut releasing = Plan::by_fractions(release(), &devices, &[0.1, 1.0], T).unwrap();
    assert_eq!(releasing.resume(T), Err(PlanError::NotHalted));
    // Resumed with the same thresholds, the next step halts again on the same reports.
    plan.resume(T).unwrap();
    assert_eq!(plan.state(), State::Releasing { ring: 0 });
    assert_eq!(
        plan.step(),
        Decision::Halt {
            ring: 0,
            failures: 3
        }
    );
    // Accepting 30% failures and 70% successes, ring 0 (3 failed, 7 succeeded) passes.
    let lenient = Thresholds {
        min_reported: 0.8,
        min_success: 0.7,
        max_failures: 0.3,
    };
    plan.resume(lenient).unwrap();
    assert_eq!(plan.thresholds(), lenient);
    assert_eq!(plan.step(), Decision::Advance { to: 1 });
    assert!(plan.is_released_to(&devices[10]));
    assert_eq!(plan.ingest(&ok(&devices[10])), Ingest::Recorded);
    let mut completed = Plan::new(release(), vec![devices[..1].to_vec()], T).unwrap();
    completed.ingest(&ok(&devices[0]));
    assert_eq!(completed.step(), Decision::Complete);
    assert_eq!(completed.resume(lenient), Err(PlanError::NotHalted));
}

/// A signed report (draft-ietf-suit-report "Protected SUIT Report", `report::sign`) reads as the
/// report it carries under the device's key; under another key, with a byte of it changed, or
/// with its payload detached it is refused, and an unsigned report is not taken for a signed one.
#[test]
fn signed_reports_are_verified_before_they_are_read() {
    use iot_core::cose::{Algorithm, Sign1Builder};
    use iot_core::crypto::{P256SigningKey, RustCrypto};
    let mut crypto = RustCrypto::from_os();
    let mut device_key = P256SigningKey::from_bytes(&[0x51; 32]).unwrap();
    let mut public = device_key.verifying_key();
    let mut stranger = P256SigningKey::from_bytes(&[0x52; 32])
        .unwrap()
        .verifying_key();
    let encoded = encoded_report(&DIGEST, Some(Error::ConditionFailed(Command::ImageMatch)));
    let mut signed = [0u8; 512];
    let n = report::sign(&mut crypto, &mut device_key, &encoded, &mut signed).unwrap();
    let signed = &signed[..n];
    let read = DeviceReport::decode_signed("dev-1", signed, &mut crypto, &mut public).unwrap();
    assert_eq!(read, DeviceReport::decode("dev-1", &encoded).unwrap());
    let not_authenticated =
        |r: Result<DeviceReport, Error>| matches!(r, Err(Error::NotAuthenticated(_)));
    assert!(not_authenticated(DeviceReport::decode_signed(
        "dev-1",
        signed,
        &mut crypto,
        &mut stranger
    )));
    // Every byte of the signed report changed in turn: never read as a report.
    for at in 0..signed.len() {
        let mut changed = signed.to_vec();
        changed[at] ^= 0x01;
        assert!(
            DeviceReport::decode_signed("dev-1", &changed, &mut crypto, &mut public).is_err(),
            "byte {at}"
        );
    }
    let mut detached = [0u8; 512];
    let mut builder = Sign1Builder::new(Algorithm::Es256);
    builder.detached = true;
    let n = builder
        .sign(&mut crypto, &mut device_key, &encoded, &[], &mut detached)
        .unwrap();
    assert!(not_authenticated(DeviceReport::decode_signed(
        "dev-1",
        &detached[..n],
        &mut crypto,
        &mut public
    )));
    assert!(DeviceReport::decode_signed("dev-1", &encoded, &mut crypto, &mut public).is_err());
}
