//! Verification and appraisal (RFC 9711 evidence into an EAR): arbitrary bytes go through the
//! verifier twice against fixed reference values that constrain every claim the appraisal reads
//! (PSA components, EAT measurements, SUIT manifests, lifecycle, debug status, a submodule):
//! once as a token (keyed by the `psa-mac0` example's Instance ID, so that seed verifies), and
//! once as a claims-set MACed here with a known kid, so that mutated claims reach the appraisal.
//! Every appraisal's status is the worst tier of its trust vector, the result's status the worst
//! of its appraisals, and the EAR always encodes.
#![no_main]

use iot_attest::appraise::{RefComponent, RefMeasurement, ReferenceValues, attestation_result};
use iot_attest::psa::Lifecycle;
use iot_attest::verify::{KeyEntry, KeyMaterial, MemoryKeyStore, Verifier};
use iot_attest::{DebugStatus, TokenBuilder};
use iot_core::cose::SymmetricKey;
use iot_core::crypto::RustCrypto;
use iot_fuzz::PSA_HMAC_KEY;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// The Instance ID of the RFC 9783 example `psa-mac0`.
const PSA_INSTANCE_ID: [u8; 33] = [
    0x01, 0xc5, 0x57, 0xbd, 0x4f, 0xad, 0xc8, 0x3f, 0x75, 0x6f, 0xca, 0x2c, 0xd5, 0xea, 0x2d, 0xcc,
    0x8b, 0x82, 0x15, 0x9b, 0xb4, 0xe7, 0x45, 0x3d, 0x6a, 0x74, 0x4d, 0x4e, 0xec, 0xd6, 0xd0, 0xac,
    0x60,
];
const KID: &[u8] = b"fuzz";

fn store() -> &'static MemoryKeyStore {
    static STORE: OnceLock<MemoryKeyStore> = OnceLock::new();
    STORE.get_or_init(|| {
        let mut s = MemoryKeyStore::new();
        for (name, kid, ueid) in [
            ("psa-mac0", None, Some(PSA_INSTANCE_ID.to_vec())),
            ("fuzz", Some(KID.to_vec()), None),
        ] {
            s.insert(KeyEntry {
                name: name.into(),
                kid,
                ueid,
                key: KeyMaterial::Hmac(PSA_HMAC_KEY.to_vec().into()),
            })
            .unwrap();
        }
        s
    })
}

fn reference() -> &'static ReferenceValues {
    static REFERENCE: OnceLock<ReferenceValues> = OnceLock::new();
    REFERENCE.get_or_init(|| {
        let measurements = vec![RefMeasurement {
            name: "ta".into(),
            digest: vec![0x7a; 32],
            version: None,
        }];
        ReferenceValues {
            policy_id: Some("fuzz".into()),
            implementation_id: Some(vec![0; 32]),
            software_components: vec![RefComponent {
                measurement_type: Some("BL".into()),
                measurement_value: vec![0xb1; 32],
                signer_id: Some(vec![0x51; 32]),
                version: None,
            }],
            lifecycle: Some(vec![Lifecycle::Secured]),
            debug_status: Some(vec![DebugStatus::DisabledPermanently]),
            measurements: measurements.clone(),
            manifests: vec![vec![0x66; 32]],
            submods: vec![(
                "tee".into(),
                ReferenceValues {
                    measurements,
                    ..ReferenceValues::default()
                },
            )],
        }
    })
}

fn appraise(token: &[u8]) {
    let mut crypto = RustCrypto::<()>::default();
    let Ok(verified) = Verifier::new(store()).verify(&mut crypto, token, None) else {
        return;
    };
    let ear = attestation_result(&verified, token, reference(), None, 0);
    assert_eq!(
        ear.submods.len(),
        2,
        "the token's appraisal and the named submodule's"
    );
    for (_, a) in &ear.submods {
        assert_eq!(a.status, a.trust_vector.status());
    }
    assert_eq!(
        ear.status(),
        ear.submods.iter().map(|(_, a)| a.status).max().unwrap()
    );
    ear.to_cbor().unwrap();
}

fuzz_target!(|data: &[u8]| {
    appraise(data);
    let mut crypto = RustCrypto::<()>::default();
    let key = SymmetricKey::new(&PSA_HMAC_KEY);
    let mut out = vec![0u8; data.len() + 64];
    if let Ok(n) = TokenBuilder::new()
        .kid(KID)
        .mac_payload(&mut crypto, &key, data, &mut out)
    {
        appraise(&out[..n]);
    }
});
