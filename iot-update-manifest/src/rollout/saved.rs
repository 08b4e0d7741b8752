//! A [`Plan`] kept as JSON between a rollout server's runs (feature `json`): a rollout lasts
//! days, and its counted reports and decisions must survive a restart.
//!
//! The text holds what the plan holds: the release (digest in hex), the rings, the thresholds,
//! each counted report and the state. [`Plan::from_json`] rebuilds the plan through
//! [`Plan::new`]'s checks and then checks what `new` does not see: a state naming a ring the
//! plan does not have (or a passed ring that is not before the halted one), a report from a
//! device in no ring or in a ring not yet released to, a halt with more failures than its ring
//! has devices. A plan that was saved loads back equal.

use super::{Outcome, Plan, PlanError, Release, State, Thresholds};
use crate::report::Reason;
use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Saved {
    release: SavedRelease,
    rings: Vec<Vec<String>>,
    thresholds: Thresholds,
    reports: BTreeMap<String, SavedOutcome>,
    state: State,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct SavedRelease {
    digest: String,
    sequence_number: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "result", deny_unknown_fields)]
enum SavedOutcome {
    Success,
    /// `reason` is the `SUIT_Report_Reasons` code (`None` for a code this crate does not know).
    Failure {
        reason: Option<u8>,
        code: i64,
    },
}

fn invalid(why: impl ToString) -> PlanError {
    PlanError::Invalid(why.to_string())
}

impl Plan {
    /// The plan as JSON text, for [`Plan::from_json`].
    pub fn to_json(&self) -> String {
        let saved = Saved {
            release: SavedRelease {
                digest: hex::encode(&self.release.digest),
                sequence_number: self.release.sequence_number,
            },
            rings: self.rings.clone(),
            thresholds: self.thresholds,
            reports: self
                .reports
                .iter()
                .map(|(device, outcome)| {
                    let saved = match *outcome {
                        Outcome::Success => SavedOutcome::Success,
                        Outcome::Failure { reason, code } => SavedOutcome::Failure {
                            reason: reason.map(|r| r as u8),
                            code,
                        },
                    };
                    (device.clone(), saved)
                })
                .collect(),
            state: self.state,
        };
        // Strings, numbers and maps with string keys: serializing cannot fail.
        serde_json::to_string_pretty(&saved).unwrap_or_default()
    }

    /// Reads a plan [`Plan::to_json`] wrote. Text that is not such a plan, or a plan that
    /// contradicts itself (see the module documentation), is [`PlanError::Invalid`]; the rings
    /// and thresholds are checked as [`Plan::new`] checks them.
    pub fn from_json(text: &str) -> Result<Self, PlanError> {
        let saved: Saved = serde_json::from_str(text).map_err(invalid)?;
        let release = Release {
            digest: hex::decode(&saved.release.digest).map_err(invalid)?,
            sequence_number: saved.release.sequence_number,
        };
        let mut plan = Self::new(release, saved.rings, saved.thresholds)?;
        plan.state = saved.state;
        match plan.state {
            State::Releasing { ring } if ring >= plan.rings.len() => {
                return Err(invalid(format_args!("state names ring {ring}")));
            }
            State::Halted {
                ring,
                passed_ring,
                failures,
            } => {
                if ring >= plan.rings.len() || passed_ring.is_some_and(|p| p >= ring) {
                    return Err(invalid(format_args!(
                        "state names ring {ring} (passed ring {passed_ring:?})"
                    )));
                }
                let failed = passed_ring.unwrap_or(ring);
                let size = plan.rings.get(failed).map_or(0, Vec::len);
                if failures > size {
                    return Err(invalid(format_args!(
                        "ring {failed} halted on {failures} failures of {size} devices"
                    )));
                }
            }
            _ => {}
        }
        for (device, saved) in saved.reports {
            let outcome = match saved {
                SavedOutcome::Success => Outcome::Success,
                SavedOutcome::Failure { reason, code } => Outcome::Failure {
                    reason: match reason {
                        Some(r) => Some(
                            Reason::from_code(r.into())
                                .ok_or_else(|| invalid(format_args!("report reason {r}")))?,
                        ),
                        None => None,
                    },
                    code,
                },
            };
            if !plan.is_released_to(&device) {
                return Err(invalid(format_args!(
                    "a report from {device}, to whom nothing was released"
                )));
            }
            plan.reports.insert(device, outcome);
        }
        Ok(plan)
    }
}
