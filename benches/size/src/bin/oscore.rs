//! OSCORE (RFC 8613) on the client side with iot-oscore: no_std, no alloc, RustCrypto backend,
//! AES-CCM-16-64-128 (alg 10). Derives the context of Appendix C.1.1 (section 3.2), protects the
//! C.4 request (section 8.1) and verifies the C.7 response (section 8.4).
#![no_std]
#![no_main]

use core::hint::black_box;
use cortex_m_rt::entry;
use iot_core::crypto::RustCrypto;
use iot_oscore::coap::Message;
use iot_oscore::{ContextParams, SecurityContext};
use panic_halt as _;

static MASTER_SECRET: [u8; 16] = [
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
];
static MASTER_SALT: [u8; 8] = [0x9e, 0x7c, 0xa9, 0x22, 0x23, 0x78, 0x63, 0x40];
static RECIPIENT_ID: [u8; 1] = [0x01];
/// C.4: GET coap://localhost/tv1.
static REQUEST: [u8; 22] = [
    0x44, 0x01, 0x5d, 0x1f, 0x00, 0x00, 0x39, 0x74, 0x39, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x68, 0x6f,
    0x73, 0x74, 0x83, 0x74, 0x76, 0x31,
];
/// C.7: the protected 2.05 "Hello World!".
static RESPONSE: [u8; 32] = [
    0x64, 0x44, 0x5d, 0x1f, 0x00, 0x00, 0x39, 0x74, 0x90, 0xff, 0xdb, 0xaa, 0xd1, 0xe9, 0xa7, 0xe7,
    0xb2, 0xa8, 0x13, 0xd3, 0xc3, 0x15, 0x24, 0x37, 0x83, 0x03, 0xcd, 0xaf, 0xae, 0x11, 0x91, 0x06,
];

/// Derives the context into `slot` (its temporaries live in this frame only, not beside the AEAD's).
#[inline(never)]
fn derive<'c>(
    crypto: &mut RustCrypto<()>,
    slot: &'c mut Option<SecurityContext>,
) -> iot_oscore::Result<&'c mut SecurityContext> {
    let params = ContextParams::new(black_box(&MASTER_SECRET), &[], black_box(&RECIPIENT_ID))
        .master_salt(black_box(&MASTER_SALT));
    let ctx = slot.insert(SecurityContext::derive(crypto, &params)?);
    ctx.set_sender_sequence_number(20)?;
    Ok(ctx)
}

/// Protects the request and verifies the response.
#[inline(never)]
fn round_trip(
    crypto: &mut RustCrypto<()>,
    ctx: &mut SecurityContext,
    out: &mut [u8; 64],
    plain: &mut [u8; 64],
) -> iot_oscore::Result<usize> {
    let request = Message::decode(black_box(&REQUEST))?;
    let (n, sent) = ctx.protect_request(crypto, &request, out)?;
    black_box(out.get(..n));
    let mut input = *black_box(&RESPONSE);
    let r = ctx.unprotect_response(crypto, &sent, &mut input, plain)?;
    Ok(r.len)
}

#[entry]
fn main() -> ! {
    // Long-lived state lives in statics, as firmware keeps it, not in main's frame: cortex-m-rt
    // hands each `static mut` declared here to `main` as a `&'static mut` (main runs once).
    static mut CONTEXT: Option<SecurityContext> = None;
    static mut OUT: [u8; 64] = [0; 64];
    static mut PLAIN: [u8; 64] = [0; 64];
    let mut crypto = RustCrypto::<()>::default();
    // black_box keeps the optimizer from folding the work into a constant.
    let len = derive(&mut crypto, CONTEXT)
        .and_then(|ctx| round_trip(&mut crypto, ctx, OUT, PLAIN))
        .unwrap_or(0);
    black_box((len, &*PLAIN));
    loop {
        core::hint::spin_loop();
    }
}
