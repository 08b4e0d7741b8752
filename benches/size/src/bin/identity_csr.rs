//! First-boot identity with iot-identity: no_std, no alloc, RustCrypto backend. A
//! `SoftwareKeyStore` generates a P-256 key in slot 0 from the RNG, and `write_csr` writes a
//! PKCS#10 request (RFC 2986, ecdsa-with-SHA256) for it through the `KeyStore` trait, the subject
//! naming the device's EUI-64 UEID.
//!
//! The RNG is a counter standing in for the device's TRNG (a `rand_core` 0.10 `TryCryptoRng`):
//! its code is a few bytes, so the image measures the key generation and request, not an RNG.
#![no_std]
#![no_main]

use core::convert::Infallible;
use core::hint::black_box;
use cortex_m_rt::entry;
use iot_core::crypto::RustCrypto;
use iot_identity::keystore::{KeySlot, KeyStore, SoftwareKeyStore, StoreSigner};
use iot_identity::ueid::Ueid;
use iot_identity::x509::{CsrSubject, write_csr};
use panic_halt as _;
use rand_core::{TryCryptoRng, TryRng};

/// The TRNG stand-in: bytes of a counter. Never use outside a size measurement.
struct CounterRng(u8);

impl TryRng for CounterRng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for b in dst {
            self.0 = self.0.wrapping_add(1);
            *b = self.0;
        }
        Ok(())
    }
}

impl TryCryptoRng for CounterRng {}

/// The key store's sealing key (derived from CDI_Seal on a DICE device; sealing is not linked
/// here, the store only keeps it).
static SEALING_KEY: [u8; 16] = [0x5e; 16];
static EUI64: [u8; 8] = [0x00, 0x1b, 0x63, 0x84, 0x45, 0xe6, 0x00, 0x01];

/// The first boot's work; `None` on any error (the image measures code, not error reporting).
fn enrol(out: &mut [u8; 300]) -> Option<usize> {
    let crypto = RustCrypto::new(CounterRng(black_box(0)));
    let mut store = SoftwareKeyStore::<_, 1>::new(crypto, black_box(&SEALING_KEY)).ok()?;
    let public = store.generate(KeySlot(0)).ok()?;
    let ueid = Ueid::eui64(*black_box(&EUI64)).ok()?;
    let subject = CsrSubject {
        ueid: &ueid,
        common_name: None,
    };
    write_csr(
        &mut RustCrypto::<()>::default(),
        &mut StoreSigner::new(&mut store, KeySlot(0)),
        &public,
        &subject,
        out,
    )
    .ok()
}

#[entry]
fn main() -> ! {
    let mut out = [0u8; 300];
    // black_box keeps the optimizer from folding the work into a constant.
    let len = enrol(&mut out).unwrap_or(0);
    black_box((len, &out));
    loop {
        core::hint::spin_loop();
    }
}
