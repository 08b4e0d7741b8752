//! `iot_suit_process_with_options` and `iot_suit_verify_with_options` through their C ABI:
//! several trusted keys of one kind (`public_keys`, `mac_keys`, at most
//! `IOT_SUIT_MAX_TRUST_ANCHORS`) and a decryption key behind `IotSuitKeyUnwrap` callbacks, on libcsuit's expEW (signed, ECDH-ES + A128KW) and expAW
//! (MACed, A128KW) from the shared vectors; and an encrypted payload fetched by range through
//! `fetch_range` and decrypted while written, on envelopes built here.
#![allow(missing_docs)]
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use core::ffi::c_void;
use core::ptr;
use iot_core::cose::{Algorithm, Sign1Builder};
use iot_core::crypto::{AesKeyWrap, EcdhP256, P256SigningKey, RustCrypto};
use iot_ffi::*;
use iot_update_manifest::Command;
use iot_update_manifest::builder::encrypt::{Encryption, KeyDistribution, encrypt};
use iot_update_manifest::builder::{Cmd, Description, Digest, Param};

/// The receiver key of libcsuit's ECDH-ES examples (the P-256 scalar).
const ESDH_D: [u8; 32] = [
    0x60, 0xFE, 0x6D, 0xD6, 0xD8, 0x5D, 0x57, 0x40, 0xA5, 0x34, 0x9B, 0x6F, 0x91, 0x26, 0x7E, 0xEA,
    0xC5, 0xBA, 0x81, 0xB8, 0xCB, 0x53, 0xEE, 0x24, 0x9E, 0x4B, 0x4E, 0xB1, 0x02, 0xC4, 0x76, 0xB3,
];

/// A device in memory: the one component's bytes, the stored sequence number, the calls; and
/// what it serves at any URI through `fetch_range`, at most 7 bytes a call, with the calls.
#[derive(Default)]
struct Device {
    image: Vec<u8>,
    sequence: Option<u64>,
    calls: usize,
    served: Vec<u8>,
    ranges: usize,
}

fn device<'a>(ctx: *mut c_void) -> &'a mut Device {
    // SAFETY: every platform below is made with `ctx` pointing to a live Device.
    let d = unsafe { &mut *ctx.cast::<Device>() };
    d.calls += 1;
    d
}

unsafe extern "C" fn write(
    ctx: *mut c_void,
    _: *const IotSuitComponent,
    offset: u64,
    data: *const u8,
    len: usize,
) -> i32 {
    let d = device(ctx);
    // SAFETY: the library passes `len` readable bytes.
    let data = unsafe { core::slice::from_raw_parts(data, len) };
    d.image.truncate(offset as usize);
    d.image.extend_from_slice(data);
    IOT_SUIT_PLATFORM_OK
}

unsafe extern "C" fn stored(
    ctx: *mut c_void,
    _: *const IotSuitComponent,
    present: *mut u8,
    value: *mut u64,
) -> i32 {
    let d = device(ctx);
    // SAFETY: the library passes writable outputs.
    unsafe {
        *present = u8::from(d.sequence.is_some());
        *value = d.sequence.unwrap_or(0);
    }
    IOT_SUIT_PLATFORM_OK
}

unsafe extern "C" fn store(ctx: *mut c_void, _: *const IotSuitComponent, value: u64) -> i32 {
    device(ctx).sequence = Some(value);
    IOT_SUIT_PLATFORM_OK
}

fn platform(d: &mut Device) -> IotSuitPlatform {
    IotSuitPlatform {
        ctx: (d as *mut Device).cast(),
        check_identifier: None,
        check_slot: None,
        fetch: None,
        read: None,
        write: Some(write),
        swap: None,
        digest: None,
        invoke: None,
        stored_sequence_number: Some(stored),
        store_sequence_number: Some(store),
        report: None,
        fetch_range: None,
    }
}

/// Copies what `from` holds at `offset`, at most `len` bytes, to `buf`; the count to `n`.
///
/// # Safety
/// `buf` is writable for `len` bytes and `n` for a `usize`, as the library passes them.
unsafe fn copy_out(from: &[u8], offset: u64, buf: *mut u8, len: usize, n: *mut usize) -> i32 {
    let rest = from.get(offset as usize..).unwrap_or_default();
    let k = rest.len().min(len);
    // SAFETY: the caller's guarantee.
    unsafe {
        core::ptr::copy_nonoverlapping(rest.as_ptr(), buf, k);
        *n = k;
    }
    IOT_SUIT_PLATFORM_OK
}

unsafe extern "C" fn read(
    ctx: *mut c_void,
    _: *const IotSuitComponent,
    offset: u64,
    buf: *mut u8,
    len: usize,
    n: *mut usize,
) -> i32 {
    // SAFETY: the library passes `len` writable bytes and a writable count.
    unsafe { copy_out(&device(ctx).image, offset, buf, len, n) }
}

unsafe extern "C" fn fetch_range(
    ctx: *mut c_void,
    _: *const core::ffi::c_char,
    _: usize,
    offset: u64,
    buf: *mut u8,
    len: usize,
    n: *mut usize,
) -> i32 {
    let d = device(ctx);
    d.ranges += 1;
    // SAFETY: as for `read`; at most 7 of the `len` bytes are written.
    unsafe { copy_out(&d.served, offset, buf, len.min(7), n) }
}

/// Options with nothing set: what a C caller gets from zeroing the struct.
fn zeroed() -> IotSuitOptions {
    IotSuitOptions {
        public_key: ptr::null(),
        public_key_len: 0,
        mac_key: ptr::null(),
        mac_key_len: 0,
        decryption_kind: 0,
        decryption_key: ptr::null(),
        decryption_key_len: 0,
        scratch: ptr::null_mut(),
        scratch_len: 0,
        public_keys: ptr::null(),
        public_keys_count: 0,
        mac_keys: ptr::null(),
        mac_keys_count: 0,
        key_unwrap: ptr::null(),
        unix_time: 0,
    }
}

fn bytes(b: &[u8]) -> IotBytes {
    IotBytes {
        ptr: b.as_ptr(),
        len: b.len(),
    }
}

/// Runs the update procedure of `envelope` on a new device: the status, the result, the device.
fn update(envelope: &[u8], o: &IotSuitOptions) -> (IotStatus, IotSuitResult, Device) {
    update_on(Device::default(), envelope, o)
}

/// `iot_suit_verify_with_options` of `envelope`: the status and the sequence number.
fn verify(envelope: &[u8], o: &IotSuitOptions) -> (IotStatus, u64) {
    let mut r = IotSuitResult::default();
    // SAFETY: every pointer is to a live local of the right type and length.
    let status =
        unsafe { iot_suit_verify_with_options(envelope.as_ptr(), envelope.len(), o, &mut r) };
    (status, r.sequence_number)
}

/// [`update`] on `d`, which reads its component back and serves `d.served` by range.
fn update_on(
    mut d: Device,
    envelope: &[u8],
    o: &IotSuitOptions,
) -> (IotStatus, IotSuitResult, Device) {
    let mut p = platform(&mut d);
    p.read = Some(read);
    p.fetch_range = Some(fetch_range);
    let mut r = IotSuitResult::default();
    // SAFETY: every pointer is to a live local of the right type and length.
    let status = unsafe {
        iot_suit_process_with_options(
            envelope.as_ptr(),
            envelope.len(),
            o,
            IOT_SUIT_UPDATE,
            &p,
            &mut r,
        )
    };
    (status, r, d)
}

/// libcsuit's envelopes, its signing key (the SEC1 point ending its SubjectPublicKeyInfo) and
/// the image they carry; `None` (skipped) without the shared vectors.
struct Vectors {
    ew: Vec<u8>,
    aw: Vec<u8>,
    anchor: Vec<u8>,
    image: Vec<u8>,
}

fn vectors() -> Option<Vectors> {
    let spki = iot_test_vectors::read("suit/libcsuit/key/trust_anchor_secp256r1_pub.der")?;
    Some(Vectors {
        ew: iot_test_vectors::read("suit/libcsuit/suit_manifest_expEW.suit")?,
        aw: iot_test_vectors::read("suit/libcsuit/suit_manifest_expAW.suit")?,
        anchor: spki[spki.len() - 65..].to_vec(),
        image: iot_test_vectors::read("suit/libcsuit/raw_image.bin")?,
    })
}

/// Two valid P-256 public keys that signed nothing: the generator (private key 1) and the
/// public key of ESDH_D, both computed by iot-core.
fn other_keys() -> [Vec<u8>; 2] {
    let pk = |d: &[u8]| {
        iot_core::crypto::P256SigningKey::from_bytes(d)
            .unwrap()
            .verifying_key()
            .to_sec1_uncompressed()
            .to_vec()
    };
    let mut one = [0u8; 32];
    one[31] = 1;
    [pk(&one), pk(&ESDH_D)]
}

#[test]
fn the_right_key_anywhere_among_several_authenticates() {
    let Some(v) = vectors() else {
        return;
    };
    let [g, esdh] = other_keys();
    let mut o = zeroed();
    o.decryption_kind = IOT_SUIT_KEY_ECDH_ES_P256;
    o.decryption_key = ESDH_D.as_ptr();
    o.decryption_key_len = 32;
    let third = [bytes(&g), bytes(&esdh), bytes(&v.anchor)];
    o.public_keys = third.as_ptr();
    o.public_keys_count = 3;
    let (status, r, d) = update(&v.ew, &o);
    assert_eq!(status, IotStatus::Ok);
    assert_eq!(
        (d.image, d.sequence, r.sequence_number),
        (v.image.clone(), Some(1), 1)
    );
    assert_eq!(verify(&v.ew, &o), (IotStatus::Ok, 1));

    // With the single key as well, the right one is the fourth and last that is taken.
    o.public_key = g.as_ptr();
    o.public_key_len = g.len();
    assert_eq!(update(&v.ew, &o).0, IotStatus::Ok);
    assert_eq!(verify(&v.ew, &o), (IotStatus::Ok, 1));

    // Only wrong keys: not authenticated, no callback called.
    o.public_keys_count = 2;
    let (status, r, d) = update(&v.ew, &o);
    assert_eq!(status, IotStatus::SuitNotAuthenticated);
    assert_eq!((d.calls, r.sequence_number), (0, 0));
    assert_eq!(verify(&v.ew, &o), (IotStatus::SuitNotAuthenticated, 0));

    // The MAC key second among the HMAC keys.
    let (a, b) = ([b'a'; 32], [b'b'; 32]);
    let kek = [b'a'; 16];
    let mut o = zeroed();
    o.decryption_kind = IOT_SUIT_KEY_A128KW;
    o.decryption_key = kek.as_ptr();
    o.decryption_key_len = 16;
    let macs = [bytes(&b), bytes(&a)];
    o.mac_keys = macs.as_ptr();
    o.mac_keys_count = 2;
    let (status, _, d) = update(&v.aw, &o);
    assert_eq!(status, IotStatus::Ok);
    assert_eq!((d.image, d.sequence), (v.image, Some(1)));
    // Verifying reads no decryption key: the MAC keys alone authenticate.
    let mut only_macs = zeroed();
    (only_macs.mac_keys, only_macs.mac_keys_count) = (macs.as_ptr(), 2);
    assert_eq!(verify(&v.aw, &only_macs), (IotStatus::Ok, 1));
    // A P-256 key does not authenticate a MACed envelope.
    (only_macs.public_key, only_macs.public_key_len) = (v.anchor.as_ptr(), 65);
    only_macs.mac_keys_count = 0;
    assert_eq!(
        verify(&v.aw, &only_macs),
        (IotStatus::SuitNotAuthenticated, 0)
    );
    o.mac_keys_count = 1;
    let (status, _, d) = update(&v.aw, &o);
    assert_eq!((status, d.calls), (IotStatus::SuitNotAuthenticated, 0));
    assert_eq!(verify(&v.aw, &o), (IotStatus::SuitNotAuthenticated, 0));
}

#[test]
fn malformed_key_arrays_are_refused_before_anything_runs() {
    let [g, esdh] = other_keys();
    let mac = [b'a'; 32];
    let mut not_a_point = g.clone();
    not_a_point[64] ^= 1;
    // Not an envelope: what is checked here is refused before the envelope is decoded.
    let envelope = [0xd8, 0x6b, 0xa0];
    let ok = [bytes(&g), bytes(&esdh)];
    let five = [bytes(&g), bytes(&esdh), bytes(&g), bytes(&esdh), bytes(&g)];
    let cases: [(&[IotBytes], usize, bool, IotStatus); 8] = [
        (&five, 5, false, IotStatus::CapacityExceeded),
        // The single key counts: 1 + 4.
        (&five, 4, true, IotStatus::CapacityExceeded),
        (&[], 1, false, IotStatus::NullArgument),
        (
            &[bytes(&g), bytes(&not_a_point)],
            2,
            false,
            IotStatus::InvalidKey,
        ),
        (&[bytes(&g), bytes(&[])], 2, false, IotStatus::InvalidKey),
        (
            &[
                bytes(&g),
                IotBytes {
                    ptr: ptr::null(),
                    len: 65,
                },
            ],
            2,
            false,
            IotStatus::NullArgument,
        ),
        // Neither a single key nor any in the arrays.
        (&ok, 0, false, IotStatus::NullArgument),
        (&ok, 2, true, IotStatus::SuitMalformed),
    ];
    for (i, (keys, count, single, want)) in cases.into_iter().enumerate() {
        for mac_array in [false, true] {
            let mut o = zeroed();
            let ptr = if keys.is_empty() {
                ptr::null()
            } else {
                keys.as_ptr()
            };
            // The same arrays as HMAC keys (each is a byte string; a P-256 point is no
            // malformed HMAC key, so that case is skipped there).
            if mac_array {
                if want == IotStatus::InvalidKey && keys[1].len != 0 {
                    continue;
                }
                (o.mac_keys, o.mac_keys_count) = (ptr, count);
                if single {
                    (o.mac_key, o.mac_key_len) = (mac.as_ptr(), 32);
                }
            } else {
                (o.public_keys, o.public_keys_count) = (ptr, count);
                if single {
                    (o.public_key, o.public_key_len) = (g.as_ptr(), 65);
                }
            }
            let (status, r, d) = update(&envelope, &o);
            assert_eq!(status, want, "case {i}, MAC keys: {mac_array}");
            assert_eq!((d.calls, r.sequence_number), (0, 0));
            assert_eq!(verify(&envelope, &o), (want, 0), "verify, case {i}");
        }
    }
}

/// A key unwrapper in Rust behind the C callbacks: the software backend with the key it holds.
struct Element {
    key: Vec<u8>,
    fail: i32,
    calls: usize,
}

fn element<'a>(ctx: *mut c_void) -> &'a mut Element {
    // SAFETY: every IotSuitKeyUnwrap below is made with `ctx` pointing to a live Element.
    let e = unsafe { &mut *ctx.cast::<Element>() };
    e.calls += 1;
    e
}

unsafe extern "C" fn unwrap(ctx: *mut c_void, w: *const u8, n: usize, cek: *mut u8) -> i32 {
    let e = element(ctx);
    if e.fail != 0 {
        return e.fail;
    }
    // SAFETY: the library passes `n` readable bytes and 16 writable ones.
    let (w, cek) = unsafe {
        (
            core::slice::from_raw_parts(w, n),
            &mut *cek.cast::<[u8; 16]>(),
        )
    };
    match RustCrypto::<()>::default().aes128_kw_unwrap(&e.key, w, cek) {
        Ok(()) => IOT_SUIT_PLATFORM_OK,
        Err(_) => IOT_SUIT_KEY_REJECTED,
    }
}

unsafe extern "C" fn ecdh(ctx: *mut c_void, p: *const u8, n: usize, out: *mut u8) -> i32 {
    let e = element(ctx);
    if e.fail != 0 {
        return e.fail;
    }
    // SAFETY: the library passes `n` readable bytes and 32 writable ones.
    let (p, out) = unsafe {
        (
            core::slice::from_raw_parts(p, n),
            &mut *out.cast::<[u8; 32]>(),
        )
    };
    match RustCrypto::<()>::default().p256_ecdh(&e.key, p) {
        Ok(s) => {
            out.copy_from_slice(s.as_bytes());
            IOT_SUIT_PLATFORM_OK
        }
        Err(_) => IOT_SUIT_KEY_REJECTED,
    }
}

fn key_unwrap(e: *mut Element, kind: u32) -> IotSuitKeyUnwrap {
    IotSuitKeyUnwrap {
        ctx: e.cast(),
        kind,
        unwrap_a128kw: Some(unwrap),
        ecdh_p256: Some(ecdh),
    }
}

#[test]
fn a_key_behind_callbacks_decrypts_and_its_errors_are_typed() {
    let Some(v) = vectors() else {
        return;
    };
    let mut o = zeroed();
    (o.public_key, o.public_key_len) = (v.anchor.as_ptr(), 65);
    // The tests reach the element through the same pointer as the callbacks.
    let mut element = Element {
        key: ESDH_D.to_vec(),
        fail: 0,
        calls: 0,
    };
    let e: *mut Element = &mut element;
    let u = key_unwrap(e, IOT_SUIT_KEY_ECDH_ES_P256);
    o.key_unwrap = &u;
    let (status, _, d) = update(&v.ew, &o);
    assert_eq!(status, IotStatus::Ok);
    assert_eq!((d.image, d.sequence), (v.image.clone(), Some(1)));
    for (fail, want, code) in [
        (IOT_SUIT_PLATFORM_UNAVAILABLE, IotStatus::SuitPlatform, 2),
        (77, IotStatus::SuitPlatform, IOT_SUIT_PLATFORM_IO),
        (IOT_SUIT_KEY_REJECTED, IotStatus::InvalidKey, 0),
    ] {
        // SAFETY: `e` is live, and no callback runs.
        unsafe { (*e).fail = fail };
        let (status, r, d) = update(&v.ew, &o);
        assert_eq!((status, r.platform_error), (want, code));
        assert_eq!((d.image.len(), d.sequence), (0, None));
    }

    let kek = [b'a'; 16];
    let mac = [b'a'; 32];
    let mut o = zeroed();
    (o.mac_key, o.mac_key_len) = (mac.as_ptr(), 32);
    let mut element = Element {
        key: kek.to_vec(),
        fail: 0,
        calls: 0,
    };
    let e: *mut Element = &mut element;
    let mut u = key_unwrap(e, IOT_SUIT_KEY_A128KW);
    o.key_unwrap = &u;
    let (status, _, d) = update(&v.aw, &o);
    assert_eq!(status, IotStatus::Ok);
    assert_eq!((d.image, d.sequence), (v.image, Some(1)));
    // Another key in the element: the unwrap's integrity check fails.
    // SAFETY: as above.
    unsafe { (*e).key = vec![b'b'; 16] };
    let (status, _, d) = update(&v.aw, &o);
    assert_eq!(
        (status, d.image.len(), d.sequence),
        (IotStatus::BadTag, 0, None)
    );

    // Refused before the element is called: no callback of its kind, an unknown kind, and a
    // decryption key besides.
    // SAFETY: as above.
    unsafe { (*e).calls = 0 };
    u.unwrap_a128kw = None;
    o.key_unwrap = &u;
    assert_eq!(update(&v.aw, &o).0, IotStatus::NullArgument);
    u.unwrap_a128kw = Some(unwrap);
    u.kind = 3;
    o.key_unwrap = &u;
    assert_eq!(update(&v.aw, &o).0, IotStatus::InvalidArgument);
    u.kind = IOT_SUIT_KEY_A128KW;
    o.key_unwrap = &u;
    (o.decryption_kind, o.decryption_key, o.decryption_key_len) =
        (IOT_SUIT_KEY_A128KW, kek.as_ptr(), 16);
    let (status, _, d) = update(&v.aw, &o);
    assert_eq!((status, d.calls), (IotStatus::InvalidArgument, 0));
    // SAFETY: as above.
    assert_eq!(unsafe { (*e).calls }, 0);
}

/// An update whose payload is fetched from a URI encrypted (draft-ietf-suit-firmware-encryption
/// section 8: `suit-directive-fetch` with `suit-parameter-encryption-info`), signed by `signer`:
/// fetched, decrypted while written, then image-matched against the plaintext's digest.
fn encrypted_fetch(signer: &P256SigningKey, info: Vec<u8>) -> Vec<u8> {
    let mut crypto = RustCrypto::from_os();
    let mut d = Description::new(1, vec![vec![vec![0x00]]]);
    d.install = Some(vec![
        Cmd::OverrideParameters(vec![
            Param::ImageDigest(Digest::sha256(&mut crypto, FIRMWARE)),
            Param::ImageSize(FIRMWARE.len() as u64),
            Param::Uri("coaps://fw.example/encrypted".to_owned()),
            Param::EncryptionInfo(info),
        ]),
        Cmd::Policy(Command::Fetch, 2),
        Cmd::Policy(Command::ImageMatch, 15),
    ]);
    let mut unsigned = d.encode(&mut crypto).unwrap();
    unsigned
        .sign(&mut crypto, &mut signer.clone(), Algorithm::Es256, None)
        .unwrap();
    unsigned.to_bytes().unwrap()
}

const FIRMWARE: &[u8] = b"firmware fetched encrypted, in pieces, decrypted while written";

/// Through the C ABI, an encrypted payload fetched by URI (`fetch_range`, 7 bytes a call) is
/// decrypted while written, for A128KW and ECDH-ES + A128KW with A128GCM and A128CTR. A flipped
/// ciphertext bit is `IOT_STATUS_BAD_TAG` (A128GCM, the component cleared) or
/// `IOT_STATUS_SUIT_CONDITION_FAILED` at image-match (A128CTR, which carries no tag); no key is
/// `IOT_STATUS_SUIT_UNSUPPORTED` before anything is fetched; never is a sequence number stored
/// but on success.
#[test]
fn an_encrypted_payload_fetched_by_range_is_decrypted_while_written() {
    let mut crypto = RustCrypto::from_os();
    let signer = P256SigningKey::from_bytes(&[0x42; 32]).unwrap();
    let anchor = signer.verifying_key().to_sec1_uncompressed();
    let kek = [0x61u8; 16];
    let device_public = P256SigningKey::from_bytes(&ESDH_D)
        .unwrap()
        .verifying_key()
        .to_sec1_uncompressed();
    let recipients = [
        (
            KeyDistribution::A128Kw { kek: &kek },
            IOT_SUIT_KEY_A128KW,
            &kek[..],
        ),
        (
            KeyDistribution::EcdhEsA128Kw {
                recipient: &device_public,
                ephemeral: None,
            },
            IOT_SUIT_KEY_ECDH_ES_P256,
            &ESDH_D[..],
        ),
    ];
    for (distribution, kind, key) in recipients {
        for content in [Algorithm::A128Gcm, Algorithm::A128Ctr] {
            let how = Encryption {
                content,
                distribution,
                kid: None,
                cek: None,
                iv: None,
            };
            let e = encrypt(&mut crypto, FIRMWARE, &how).unwrap();
            let envelope = encrypted_fetch(&signer, e.info);
            let mut o = zeroed();
            o.public_key = anchor.as_ptr();
            o.public_key_len = anchor.len();
            o.decryption_kind = kind;
            o.decryption_key = key.as_ptr();
            o.decryption_key_len = key.len();
            let serving = |payload: &[u8]| Device {
                served: payload.to_vec(),
                ..Device::default()
            };
            let case = format!("{kind} {}", content.name());

            let (status, _, d) = update_on(serving(&e.ciphertext), &envelope, &o);
            assert_eq!(status, IotStatus::Ok, "{case}");
            assert_eq!(d.image, FIRMWARE, "{case}");
            assert_eq!(d.sequence, Some(1), "{case}");
            assert!(d.ranges > e.ciphertext.len() / 7, "{case}: in pieces");

            let mut flipped = e.ciphertext.clone();
            flipped[3] ^= 1;
            let (status, r, d) = update_on(serving(&flipped), &envelope, &o);
            if content == Algorithm::A128Gcm {
                assert_eq!(status, IotStatus::BadTag, "{case}");
                assert!(d.image.is_empty(), "{case}: cleared");
            } else {
                assert_eq!(status, IotStatus::SuitConditionFailed, "{case}");
                assert_eq!(r.command, 3, "{case}: image-match");
            }
            assert_eq!(d.sequence, None, "{case}");

            let mut no_key = o;
            no_key.decryption_kind = 0;
            no_key.decryption_key = ptr::null();
            no_key.decryption_key_len = 0;
            let (status, _, d) = update_on(serving(&e.ciphertext), &envelope, &no_key);
            assert_eq!(status, IotStatus::SuitUnsupported, "{case}");
            assert!(
                d.image.is_empty() && d.ranges == 0 && d.sequence.is_none(),
                "{case}"
            );
        }
    }
}

/// `IotSuitOptions::unix_time`: an envelope the delegate signed, whose `suit-delegation` CWT
/// (signed by the trust anchor) carries an `exp`, authenticates before that time, through
/// `iot_suit_verify_with_options` and `iot_suit_process_with_options`; it is refused at it, and
/// on a device without a clock (0).
#[test]
fn unix_time_limits_delegation_cwts() {
    let mut crypto = RustCrypto::from_os();
    let anchor = P256SigningKey::from_bytes(&[0x21; 32]).unwrap();
    let delegate = P256SigningKey::from_bytes(&[0x42; 32]).unwrap();
    let exp: u32 = 1_800_000_000;
    let sec1 = delegate.verifying_key().to_sec1_uncompressed();
    let claims = iot_test_vectors::cnf_claims(&sec1[1..33], &sec1[33..], Some(exp));
    let mut cwt = vec![0u8; 256];
    let n = Sign1Builder {
        tagged: true,
        ..Sign1Builder::new(Algorithm::Es256)
    }
    .sign(&mut crypto, &mut anchor.clone(), &claims, &[], &mut cwt)
    .unwrap();
    cwt.truncate(n);
    let mut unsigned = Description::new(1, vec![vec![vec![0x00]]])
        .encode(&mut crypto)
        .unwrap();
    unsigned
        .sign(&mut crypto, &mut delegate.clone(), Algorithm::Es256, None)
        .unwrap();
    unsigned.delegate(&[vec![cwt]]).unwrap();
    let envelope = unsigned.to_bytes().unwrap();

    let public = anchor.verifying_key().to_sec1_uncompressed();
    let mut o = zeroed();
    (o.public_key, o.public_key_len) = (public.as_ptr(), 65);
    let exp = u64::from(exp);
    for (now, want) in [
        (0, IotStatus::SuitNotAuthenticated),
        (exp - 1, IotStatus::Ok),
        (exp, IotStatus::SuitNotAuthenticated),
    ] {
        o.unix_time = now;
        assert_eq!(verify(&envelope, &o).0, want, "verify at {now}");
        let (status, _, d) = update(&envelope, &o);
        assert_eq!(status, want, "update at {now}");
        assert_eq!(d.sequence, (want == IotStatus::Ok).then_some(1), "at {now}");
    }
}
