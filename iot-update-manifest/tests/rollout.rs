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
    DeviceReport::decode(device, &out[..len]).unwrap()
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
    // A contradicting report from the same device is ignored: the first one counts.
    assert_eq!(plan.ingest(&failed("dev-000")), Ingest::Conflict);
    assert_eq!(plan.ring_counts(0), (1, 0));
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
