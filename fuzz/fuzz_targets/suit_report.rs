//! SUIT_Report reading on the server side (draft-ietf-suit-report): the rollout planner reads
//! devices' reports with `rollout::DeviceReport::decode`, and those bytes come from the field.
//!
//! Checks: arbitrary bytes give a report or a typed error, never a panic; a report that decodes
//! decodes again to the same value (the reader keeps no state between calls).
#![no_main]

use iot_update_manifest::rollout::DeviceReport;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(report) = DeviceReport::decode("device", data) {
        assert_eq!(DeviceReport::decode("device", data).ok(), Some(report));
    }
});
