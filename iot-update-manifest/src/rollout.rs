//! Staged rollout (server side, feature `std`): a [`Plan`] releases one manifest to rings of
//! devices in order, reads the devices' SUIT reports (draft-ietf-suit-report, [`crate::report`])
//! and decides: wait, advance to the next ring, complete, or halt.
//!
//! A ring advances when at least [`Thresholds::min_reported`] of its devices reported and at
//! least [`Thresholds::min_success`] of those reports are successes; it halts as soon as its
//! failures exceed [`Thresholds::max_failures`] of the ring, or when every device reported and
//! the successes stay below the threshold. A ring that passed still halts the rollout when its
//! failures exceed the threshold later: an A/B device reports its install's success, then the
//! failure of a trial that did not confirm (`DirDevice::boot_reported`), perhaps after its ring
//! advanced. Completed is final; a halted plan moves on only when an operator resumes it
//! ([`Plan::resume`], with new thresholds).
//!
//! Per device, a failure counts over a success: a failure after a success replaces it
//! ([`Ingest::Overturned`]), a success after a failure is [`Ingest::Conflict`] and ignored, as is
//! a failure with another reason; a repeated report changes nothing ([`Ingest::Duplicate`]).

use crate::report::{Reason, report_key};
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use iot_core::cbor::Reader;
use iot_core::cose::CoseSign1;
use iot_core::crypto::{Sha256, Verifier};

#[cfg(feature = "json")]
mod saved;

/// A device, as the server names it.
pub type DeviceId = String;

/// The manifest being released: its SUIT_Digest bytes (SHA-256 of the bstr-wrapped manifest,
/// as in `suit-report-manifest-digest`) and its sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// `suit-report-manifest-digest`'s digest bytes.
    pub digest: Vec<u8>,
    /// `suit-manifest-sequence-number`.
    pub sequence_number: u64,
}

/// When a ring advances or halts; fractions in `0.0..=1.0`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(
    feature = "json",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "kebab-case", deny_unknown_fields)
)]
pub struct Thresholds {
    /// Reports needed before a ring may advance, as a fraction of the ring.
    pub min_reported: f64,
    /// Successes needed among the reports to advance.
    pub min_success: f64,
    /// Failures, as a fraction of the ring, above which the rollout halts.
    pub max_failures: f64,
}

/// What one device's report says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `suit-report-result` is `true`.
    Success,
    /// `suit-report-result` is a failure: its reason and result code.
    Failure {
        /// `suit-report-result-reason` (`None` for a code this crate does not know).
        reason: Option<Reason>,
        /// `suit-report-result-code`.
        code: i64,
    },
}

/// A device's report on a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceReport {
    /// Who reported.
    pub device: DeviceId,
    /// The digest bytes of `suit-report-manifest-digest`.
    pub digest: Vec<u8>,
    /// The result.
    pub outcome: Outcome,
}

impl DeviceReport {
    /// Verifies a signed `SUIT_Report` (draft-ietf-suit-report "Protected SUIT Report": a
    /// COSE_Sign1 with the report attached, as [`crate::report::sign`] makes it) under the
    /// device's `key`, then reads it as [`DeviceReport::decode`] does. A report without its
    /// payload, or whose signature does not verify, is [`crate::Error::NotAuthenticated`]; it
    /// is read only once verified.
    pub fn decode_signed<C: Sha256, V: Verifier>(
        device: impl Into<DeviceId>,
        signed: &[u8],
        crypto: &mut C,
        key: &mut V,
    ) -> crate::Result<Self> {
        let msg = CoseSign1::decode(signed)?;
        msg.verify(crypto, key, &[])
            .map_err(crate::Error::NotAuthenticated)?;
        // `verify` refused a message without its payload.
        Self::decode(device, msg.payload.unwrap_or_default())
    }

    /// Reads the reference and the result of an encoded `SUIT_Report` (the records are
    /// skipped); a signed report is verified first ([`DeviceReport::decode_signed`]).
    pub fn decode(device: impl Into<DeviceId>, report: &[u8]) -> crate::Result<Self> {
        let mut r = Reader::new(report);
        let mut digest = None;
        let mut outcome = None;
        for _ in 0..r.map()? {
            match r.int()? {
                report_key::RESULT => outcome = Some(read_result(&mut r)?),
                report_key::REFERENCE => {
                    r.array_of(2)?;
                    r.str()?;
                    r.array_of(2)?;
                    r.int()?;
                    digest = Some(r.bytes()?.to_vec());
                }
                _ => {
                    r.skip()?;
                }
            }
        }
        r.finish()?;
        let missing = |key| crate::Error::MissingMember {
            map: crate::MapKind::Manifest,
            key: iot_core::Error::label(key),
        };
        Ok(Self {
            device: device.into(),
            digest: digest.ok_or(missing(report_key::REFERENCE))?,
            outcome: outcome.ok_or(missing(report_key::RESULT))?,
        })
    }
}

fn read_result(r: &mut Reader<'_>) -> crate::Result<Outcome> {
    if r.datatype()? == minicbor::data::Type::Bool {
        return if r.bool()? {
            Ok(Outcome::Success)
        } else {
            Err(crate::Error::InvalidParameter {
                key: iot_core::Error::label(report_key::RESULT),
                offset: r.position(),
            })
        };
    }
    let (mut reason, mut code) = (None, 0);
    for _ in 0..r.map()? {
        match r.int()? {
            report_key::RESULT_CODE => code = r.int()?,
            report_key::RESULT_REASON => reason = Reason::from_code(r.int()?),
            _ => {
                r.skip()?;
            }
        }
    }
    Ok(Outcome::Failure { reason, code })
}

/// Where a rollout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    feature = "json",
    derive(serde::Serialize, serde::Deserialize),
    serde(
        rename_all = "kebab-case",
        rename_all_fields = "kebab-case",
        tag = "phase",
        deny_unknown_fields
    )
)]
pub enum State {
    /// Released to rings `0..=ring`; collecting the reports of `ring`.
    Releasing {
        /// The current ring.
        ring: usize,
    },
    /// Every ring advanced.
    Completed,
    /// Stopped at `ring`; nothing more is released.
    Halted {
        /// The ring released to last, where [`Plan::resume`] goes on.
        ring: usize,
        /// The ring whose failures stopped the rollout when it is not `ring`: an earlier ring
        /// that had passed, whose devices reported failures since.
        #[cfg_attr(
            feature = "json",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        passed_ring: Option<usize>,
        /// The failures of the ring that stopped it, when it stopped.
        failures: usize,
    },
}

/// What [`Plan::step`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Not enough reports, or not enough successes yet, in the current ring.
    Wait {
        /// The current ring.
        ring: usize,
        /// Its reports so far.
        reported: usize,
        /// Reports it needs.
        needed: usize,
    },
    /// The release goes to ring `to` (the previous ring passed).
    Advance {
        /// The ring released to now.
        to: usize,
    },
    /// The last ring passed.
    Complete,
    /// The rollout stops (also returned again once halted).
    Halt {
        /// The ring whose failures stopped it (the current ring, or one that had passed).
        ring: usize,
        /// Its failures.
        failures: usize,
    },
}

/// What [`Plan::ingest`] did with a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ingest {
    /// Counted.
    Recorded,
    /// The device already reported the same outcome: nothing changed.
    Duplicate,
    /// The device reported a success before and now a failure (a trial that did not
    /// confirm): the failure counts instead.
    Overturned,
    /// The device reported a failure before, and now a success or another failure: ignored,
    /// the first failure counts.
    Conflict,
    /// The report is about another manifest.
    OtherManifest,
    /// The device is in no ring.
    UnknownDevice,
    /// The device's ring was not released to yet.
    NotReleased,
}

/// Why a plan cannot be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanError {
    /// No rings, or a ring without devices (its index).
    EmptyRing(usize),
    /// A device in two rings, or twice in one.
    DuplicateDevice(DeviceId),
    /// A threshold or ring fraction outside `0.0..=1.0`, or fractions not increasing to 1.0.
    BadFraction,
    /// [`Plan::resume`] of a plan that is not halted.
    NotHalted,
    /// A saved plan ([`Plan::from_json`]) that does not parse or contradicts itself: why.
    Invalid(String),
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyRing(i) => write!(f, "ring {i} has no devices"),
            Self::DuplicateDevice(d) => write!(f, "device {d} is in more than one ring"),
            Self::BadFraction => {
                f.write_str("fractions must be in 0..=1 and rings increasing to 1")
            }
            Self::NotHalted => f.write_str("the rollout is not halted"),
            Self::Invalid(why) => write!(f, "not a saved rollout plan: {why}"),
        }
    }
}

impl core::error::Error for PlanError {}

/// A staged rollout of one [`Release`]. With feature `json` it is saved and loaded as JSON
/// ([`Plan::to_json`], [`Plan::from_json`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    release: Release,
    rings: Vec<Vec<DeviceId>>,
    ring_of: BTreeMap<DeviceId, usize>,
    thresholds: Thresholds,
    reports: BTreeMap<DeviceId, Outcome>,
    state: State,
}

fn fraction(x: f64) -> bool {
    (0.0..=1.0).contains(&x)
}

fn check(t: &Thresholds) -> Result<(), PlanError> {
    if [t.min_reported, t.min_success, t.max_failures]
        .into_iter()
        .all(fraction)
    {
        Ok(())
    } else {
        Err(PlanError::BadFraction)
    }
}

/// `ceil(fraction * n)`, in integers (fractions of a device count as one).
fn share(fraction: f64, n: usize) -> usize {
    let exact = fraction * n as f64;
    // Values are in 0..=n, so the conversion does not saturate.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let floor = exact as usize;
    if (floor as f64) < exact {
        floor.saturating_add(1)
    } else {
        floor
    }
}

impl Plan {
    /// A plan over explicit rings (device lists), released to ring 0.
    pub fn new(
        release: Release,
        rings: Vec<Vec<DeviceId>>,
        thresholds: Thresholds,
    ) -> Result<Self, PlanError> {
        check(&thresholds)?;
        if rings.is_empty() {
            return Err(PlanError::EmptyRing(0));
        }
        let mut ring_of = BTreeMap::new();
        for (i, ring) in rings.iter().enumerate() {
            if ring.is_empty() {
                return Err(PlanError::EmptyRing(i));
            }
            for d in ring {
                if ring_of.insert(d.clone(), i).is_some() {
                    return Err(PlanError::DuplicateDevice(d.clone()));
                }
            }
        }
        Ok(Self {
            release,
            rings,
            ring_of,
            thresholds,
            reports: BTreeMap::new(),
            state: State::Releasing { ring: 0 },
        })
    }

    /// A plan that splits `devices`, in order, into rings reaching the cumulative `fractions`
    /// of the fleet (`[0.01, 0.1, 1.0]`: a 1% canary, then up to 10%, then everyone); each ring
    /// gets at least one device, and a ring that would be empty is dropped.
    pub fn by_fractions(
        release: Release,
        devices: &[DeviceId],
        fractions: &[f64],
        thresholds: Thresholds,
    ) -> Result<Self, PlanError> {
        let increasing = fractions.windows(2).all(|w| matches!(w, [a, b] if a < b));
        if !increasing || fractions.last() != Some(&1.0) || !fractions.iter().copied().all(fraction)
        {
            return Err(PlanError::BadFraction);
        }
        let mut rings = Vec::new();
        let mut start = 0usize;
        for &f in fractions {
            let end = share(f, devices.len())
                .max(start.saturating_add(1))
                .min(devices.len());
            if let Some(ring) = devices.get(start..end).filter(|r| !r.is_empty()) {
                rings.push(ring.to_vec());
                start = end;
            }
        }
        Self::new(release, rings, thresholds)
    }

    /// The release.
    pub fn release(&self) -> &Release {
        &self.release
    }

    /// The rings.
    pub fn rings(&self) -> &[Vec<DeviceId>] {
        &self.rings
    }

    /// Where the rollout stands.
    pub fn state(&self) -> State {
        self.state
    }

    /// The last ring released to (all of them once completed).
    fn released_through(&self) -> usize {
        match self.state {
            State::Releasing { ring } | State::Halted { ring, .. } => ring,
            State::Completed => self.rings.len().saturating_sub(1),
        }
    }

    /// Whether the manifest is released to `device` (a halted rollout releases to nobody new,
    /// but the devices it reached keep it).
    pub fn is_released_to(&self, device: &str) -> bool {
        self.ring_of
            .get(device)
            .is_some_and(|&r| r <= self.released_through())
    }

    /// Counts a device's report.
    pub fn ingest(&mut self, report: &DeviceReport) -> Ingest {
        if report.digest != self.release.digest {
            return Ingest::OtherManifest;
        }
        let Some(&ring) = self.ring_of.get(&report.device) else {
            return Ingest::UnknownDevice;
        };
        if ring > self.released_through() {
            return Ingest::NotReleased;
        }
        let counted = match self.reports.get(&report.device) {
            Some(o) if *o == report.outcome => return Ingest::Duplicate,
            Some(Outcome::Success) => Ingest::Overturned,
            Some(Outcome::Failure { .. }) => return Ingest::Conflict,
            None => Ingest::Recorded,
        };
        self.reports.insert(report.device.clone(), report.outcome);
        counted
    }

    /// Releases again from the ring a halt stopped at, deciding from now on with `thresholds`
    /// (an operator who looked into the failures may accept them, or set stricter thresholds for
    /// the rings to come). The reports counted so far stay counted; the next [`Plan::step`]
    /// decides on them. Only a halted plan resumes ([`PlanError::NotHalted`]); thresholds outside
    /// `0.0..=1.0` are [`PlanError::BadFraction`], and either error leaves the plan as it was.
    pub fn resume(&mut self, thresholds: Thresholds) -> Result<(), PlanError> {
        let State::Halted { ring, .. } = self.state else {
            return Err(PlanError::NotHalted);
        };
        check(&thresholds)?;
        self.thresholds = thresholds;
        self.state = State::Releasing { ring };
        Ok(())
    }

    /// The thresholds the plan decides with.
    pub fn thresholds(&self) -> Thresholds {
        self.thresholds
    }

    /// (reports, failures) of ring `ring`.
    pub fn ring_counts(&self, ring: usize) -> (usize, usize) {
        let devices = self.rings.get(ring).map(Vec::as_slice).unwrap_or_default();
        let outcomes = devices.iter().filter_map(|d| self.reports.get(d));
        outcomes.fold((0, 0), |(n, f), o| {
            (n + 1, f + usize::from(*o != Outcome::Success))
        })
    }

    /// Whether ring `ring`'s `failures` exceed [`Thresholds::max_failures`] of it.
    fn too_many(&self, ring: usize, failures: usize) -> bool {
        let size = self.rings.get(ring).map_or(0, Vec::len);
        failures as f64 > self.thresholds.max_failures * size as f64
    }

    /// Decides on the released rings' reports and moves the state on: a halt when the failures
    /// of any of them exceed the threshold (the current ring's named first, then the first ring
    /// that had passed), else on the current ring's reports. Repeating it without new reports decides the same (or, after an advance,
    /// waits on the new ring).
    pub fn step(&mut self) -> Decision {
        let ring = match self.state {
            State::Completed => return Decision::Complete,
            State::Halted {
                ring,
                passed_ring,
                failures,
            } => {
                return Decision::Halt {
                    ring: passed_ring.unwrap_or(ring),
                    failures,
                };
            }
            State::Releasing { ring } => ring,
        };
        let halt = |plan: &mut Self, failed: usize, failures: usize| {
            plan.state = State::Halted {
                ring,
                passed_ring: Some(failed).filter(|&r| r != ring),
                failures,
            };
            Decision::Halt {
                ring: failed,
                failures,
            }
        };
        let (reported, failures) = self.ring_counts(ring);
        if self.too_many(ring, failures) {
            return halt(self, ring, failures);
        }
        for passed in 0..ring {
            let (_, failures) = self.ring_counts(passed);
            if self.too_many(passed, failures) {
                return halt(self, passed, failures);
            }
        }
        let size = self.rings.get(ring).map_or(0, Vec::len);
        let successes = reported - failures;
        let t = self.thresholds;
        let needed = share(t.min_reported, size);
        let enough_success = successes as f64 >= t.min_success * reported as f64;
        if reported >= needed && reported > 0 && enough_success {
            let next = ring + 1;
            if next < self.rings.len() {
                self.state = State::Releasing { ring: next };
                Decision::Advance { to: next }
            } else {
                self.state = State::Completed;
                Decision::Complete
            }
        } else if reported == size && !enough_success {
            halt(self, ring, failures)
        } else {
            Decision::Wait {
                ring,
                reported,
                needed,
            }
        }
    }
}
