//! SUIT_Report reading on the server side (draft-ietf-suit-report): the rollout planner reads
//! devices' reports with `rollout::DeviceReport::decode`, and signed ones ("Protected SUIT
//! Report") with `DeviceReport::decode_signed`; those bytes come from the field.
//!
//! Checks: arbitrary bytes give a report or a typed error, never a panic; a report that decodes
//! decodes again to the same value (the reader keeps no state between calls). Read as a signed
//! report under a "verifier" that accepts any 64-byte signature (this target fuzzes decoding,
//! not ECDSA), what decodes is the report its payload holds.
#![no_main]

use iot_core::cose::CoseSign1;
use iot_core::crypto::RustCrypto;
use iot_fuzz::AcceptAll;
use iot_update_manifest::rollout::DeviceReport;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(report) = DeviceReport::decode("device", data) {
        assert_eq!(DeviceReport::decode("device", data).ok(), Some(report));
    }
    let signed = DeviceReport::decode_signed(
        "device",
        data,
        &mut RustCrypto::<()>::default(),
        &mut AcceptAll,
    );
    if let Ok(report) = signed {
        let payload = CoseSign1::decode(data).ok().and_then(|m| m.payload);
        let inner = payload.and_then(|p| DeviceReport::decode("device", p).ok());
        assert_eq!(inner, Some(report));
    }
});
