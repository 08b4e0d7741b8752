//! Rollout plans saved as JSON (`rollout::Plan::from_json`): a rollout server reloads its plan
//! file on every run, and the file may have been edited or damaged between runs.
//!
//! Checks: arbitrary text gives a plan or a typed error, never a panic; a plan that loads is
//! saved and loads back equal; a loaded plan steps and resumes without a panic.
#![no_main]

use iot_update_manifest::rollout::Plan;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let Ok(mut plan) = Plan::from_json(text) else {
        return;
    };
    let saved = plan.to_json();
    assert_eq!(Plan::from_json(&saved).as_ref(), Ok(&plan), "{saved}");
    plan.step();
    let _ = plan.resume(plan.thresholds());
    plan.step();
});
