//! `suit-delegation` (draft-ietf-suit-trust-domains, iot-update-manifest's `delegation`
//! module): decode arbitrary bytes as a SUIT_Delegation; where that succeeds, read every CWT's
//! confirmed key and verify the chains with a first-link "verifier" that accepts any
//! well-formed COSE_Sign1 (so that the claims and the next links are reached without a real
//! trust anchor's signature), without a clock and at a fixed time. A chain that verifies yields
//! one key per chain; one that holds without a clock holds at any time.
#![no_main]

use iot_core::crypto::RustCrypto;
use iot_fuzz::AcceptAll;
use iot_update_manifest::delegation::{Delegation, MAX_CHAIN_LENGTH, MAX_CHAINS, read_cwt};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(d) = Delegation::decode(data) else {
        return;
    };
    let mut chains = 0;
    for chain in d.chains() {
        chains += 1;
        let mut len = 0;
        for cwt in chain {
            len += 1;
            let _ = read_cwt(cwt);
        }
        assert!((1..=MAX_CHAIN_LENGTH).contains(&len));
    }
    assert!((1..=MAX_CHAINS).contains(&chains));
    let mut crypto = RustCrypto::<()>::default();
    let without_clock = d.verify(&mut crypto, &mut [AcceptAll], None);
    let with_clock = d.verify(&mut crypto, &mut [AcceptAll], Some(1_700_000_000));
    if let Ok(keys) = &without_clock {
        assert_eq!(keys.len(), chains);
        // Chains that hold without a clock carry no time limit: they hold at any time.
        assert_eq!(with_clock.as_ref().ok(), Some(keys));
    }
    if let Ok(keys) = with_clock {
        assert_eq!(keys.len(), chains);
    }
});
