//! PSA attestation evidence with iot-attest (RFC 9783): no_std, no alloc, RustCrypto backend.
//! The device states its claims (the verifier's 32-byte nonce, Instance ID, Implementation ID,
//! lifecycle, boot seed, two software components), encodes the claims-set into a scratch buffer
//! and signs it with its Initial Attestation Key as an ES256 COSE_Sign1 in the CWT tag 61.
#![no_std]
#![no_main]

use core::hint::black_box;
use cortex_m_rt::entry;
use iot_attest::psa::{Lifecycle, PsaClaims};
use iot_attest::{SwComponent, TokenBuilder};
use iot_core::cose::Algorithm;
use iot_core::crypto::{P256SigningKey, RustCrypto};
use panic_halt as _;

/// The Initial Attestation Key (provisioned; kept in a key store on a real device).
static IAK: [u8; 32] = [0x42; 32];
static NONCE: [u8; 32] = [0x01; 32];
static INSTANCE_ID: [u8; 33] = [
    0x01, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07,
    0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07,
    0x07,
];
static IMPLEMENTATION_ID: [u8; 32] = [0x0a; 32];
static BOOT_SEED: [u8; 16] = [0x05; 16];
/// Measurement values and signer IDs of the bootloader and the PSA RoT.
static MEASUREMENTS: [[u8; 32]; 4] = [[0x11; 32], [0xa1; 32], [0x12; 32], [0xa1; 32]];

/// Builds and signs the token into `out`; `None` on any error.
fn attest(nonce: &[u8], scratch: &mut [u8; 320], out: &mut [u8; 420]) -> Option<usize> {
    let [bl, bl_signer, prot, prot_signer] = black_box(&MEASUREMENTS);
    let firmware = [
        SwComponent {
            measurement_type: Some("BL"),
            measurement_value: Some(bl),
            signer_id: Some(bl_signer),
            version: Some("1.0.3"),
            ..SwComponent::default()
        },
        SwComponent {
            measurement_type: Some("PRoT"),
            measurement_value: Some(prot),
            signer_id: Some(prot_signer),
            version: Some("1.2.0"),
            ..SwComponent::default()
        },
    ];
    let claims = PsaClaims {
        nonce,
        instance_id: black_box(&INSTANCE_ID),
        implementation_id: black_box(&IMPLEMENTATION_ID),
        client_id: -1,
        lifecycle: Lifecycle::Secured.value() as u16,
        boot_seed: Some(black_box(&BOOT_SEED)),
        certification_reference: None,
        software_components: &firmware,
        vsi: None,
    }
    .claims();
    let mut iak = P256SigningKey::from_bytes(black_box(&IAK)).ok()?;
    TokenBuilder::new()
        .sign(
            &mut RustCrypto::<()>::default(),
            &mut iak,
            Algorithm::Es256,
            &claims,
            scratch,
            out,
        )
        .ok()
}

#[entry]
fn main() -> ! {
    let (mut scratch, mut out) = ([0u8; 320], [0u8; 420]);
    // black_box keeps the optimizer from folding the work into a constant.
    let len = attest(black_box(&NONCE), &mut scratch, &mut out).unwrap_or(0);
    black_box((len, &out));
    loop {
        core::hint::spin_loop();
    }
}
