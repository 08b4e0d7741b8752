//! The C API called from Rust through its `extern "C"` functions: the marshalling (NULL and
//! length checks, flags, key formats, out-parameters) and agreement with iot-core.
#![allow(missing_docs)]
// Helpers outside #[test] functions unwrap too: a failure is the point.
#![allow(clippy::unwrap_used)]

use core::ffi::CStr;
use core::ptr;
use iot_core::cose::{Algorithm, CoseSign1};
use iot_core::crypto::{P256SigningKey, RustCrypto};
use iot_ffi::*;

/// sign-pass-02 of cose-wg/Examples (sign1-tests): the private scalar and public coordinates.
const D: &str = "57c92077664146e876760c9520d054aa93c3afb04e306705db6090308507b4d3";
const X: &str = "bac5b11cad8f99f9c72b05cf4b9e26d244dc189f745228255a219a86d6a09eff";
const Y: &str = "20138bf82dc1b6d562be0fa54ab7804a3a64b6d72ccfed6b6fb6ed28bbfc117e";
const AAD: &[u8] = &[
    0x11, 0xaa, 0x22, 0xbb, 0x33, 0xcc, 0x44, 0xdd, 0x55, 0x00, 0x66, 0x99,
];

fn private_key() -> Vec<u8> {
    hex::decode(D).unwrap()
}

fn sec1() -> Vec<u8> {
    let mut k = vec![0x04];
    k.extend(hex::decode(X).unwrap());
    k.extend(hex::decode(Y).unwrap());
    k
}

/// COSE_Key {1: 2, -1: 1, -2: x, -3: y}, plus {3: alg} when given.
fn cose_key(alg: Option<i8>) -> Vec<u8> {
    let mut k = vec![
        if alg.is_some() { 0xa5 } else { 0xa4 },
        0x01,
        0x02,
        0x20,
        0x01,
    ];
    k.extend([0x21, 0x58, 0x20]);
    k.extend(hex::decode(X).unwrap());
    k.extend([0x22, 0x58, 0x20]);
    k.extend(hex::decode(Y).unwrap());
    if let Some(a) = alg {
        k.push(0x03);
        k.push(if a < 0 {
            0x20 + (-1 - a) as u8
        } else {
            a as u8
        });
    }
    k
}

struct Signed {
    status: IotStatus,
    msg: Vec<u8>,
}

fn sign(
    alg: i32,
    kid: Option<&[u8]>,
    payload: &[u8],
    aad: &[u8],
    flags: u32,
    cap: usize,
) -> Signed {
    let key = private_key();
    let mut out = vec![0u8; cap];
    let mut len = cap;
    let (kid_ptr, kid_len) = kid.map_or((ptr::null(), 0), |k| (k.as_ptr(), k.len()));
    // SAFETY: every pointer is NULL with length 0 or a live slice of that length; `out` is a
    // separate Vec.
    let status = unsafe {
        iot_sign1_sign(
            key.as_ptr(),
            key.len(),
            alg,
            kid_ptr,
            kid_len,
            payload.as_ptr(),
            payload.len(),
            aad.as_ptr(),
            aad.len(),
            flags,
            out.as_mut_ptr(),
            &mut len,
        )
    };
    if status == IotStatus::Ok {
        assert!(len <= cap);
    } else {
        assert_eq!(len, 0, "out_len is 0 after a failure");
    }
    out.truncate(len);
    Signed { status, msg: out }
}

/// Verifies and returns the status and the payload slice the API points at.
fn verify<'m>(
    key: &[u8],
    msg: &'m [u8],
    detached: Option<&'m [u8]>,
    aad: &[u8],
) -> (IotStatus, Option<&'m [u8]>) {
    let (d_ptr, d_len) = detached.map_or((ptr::null(), 0), |d| (d.as_ptr(), d.len()));
    let mut p: *const u8 = ptr::dangling(); // junk, to see that it is overwritten
    let mut p_len = usize::MAX;
    // SAFETY: every pointer is NULL with length 0 or a live slice of that length; the outputs
    // are locals.
    let status = unsafe {
        iot_sign1_verify(
            key.as_ptr(),
            key.len(),
            msg.as_ptr(),
            msg.len(),
            d_ptr,
            d_len,
            aad.as_ptr(),
            aad.len(),
            &mut p,
            &mut p_len,
        )
    };
    if status != IotStatus::Ok {
        assert!(p.is_null() && p_len == 0, "outputs cleared after a failure");
        return (status, None);
    }
    // The payload is borrowed from `msg` or is the detached one.
    let inside = |s: &[u8]| {
        let r = s.as_ptr_range();
        (p as usize) >= r.start as usize && (p as usize) + p_len <= r.end as usize
    };
    assert!(inside(msg) || detached.is_some_and(|d| p == d.as_ptr() && p_len == d.len()));
    (
        status,
        // SAFETY: on success the API points into `msg` or at `detached`, both alive for 'm
        // (checked above).
        Some(unsafe { core::slice::from_raw_parts(p, p_len) }),
    )
}

#[test]
fn round_trip_all_flag_combinations_and_algs() {
    for alg in [IOT_ALG_ES256, IOT_ALG_ESP256] {
        for flags in 0..4u32 {
            for kid in [None, Some(&b"kid-1"[..]), Some(&b""[..])] {
                let s = sign(alg, kid, b"payload", AAD, flags, 256);
                assert_eq!(s.status, IotStatus::Ok);
                // Decode with iot-core to check the header and flag marshalling.
                let m = CoseSign1::decode(&s.msg).unwrap();
                assert_eq!(m.alg().unwrap().id(), i64::from(alg));
                assert_eq!(m.headers.kid(), kid);
                assert_eq!(m.tagged, flags & IOT_SIGN1_UNTAGGED == 0);
                let detached = flags & IOT_SIGN1_DETACHED != 0;
                assert_eq!(m.payload.is_none(), detached);

                let d = detached.then_some(&b"payload"[..]);
                for key in [sec1(), cose_key(None)] {
                    assert_eq!(
                        verify(&key, &s.msg, d, AAD),
                        (IotStatus::Ok, Some(&b"payload"[..]))
                    );
                    assert_eq!(verify(&key, &s.msg, d, b"").0, IotStatus::BadSignature);
                }
                // The wrong payload mode.
                let wrong = if detached {
                    None
                } else {
                    Some(&b"payload"[..])
                };
                assert_eq!(
                    verify(&sec1(), &s.msg, wrong, AAD).0,
                    IotStatus::PayloadMismatch
                );
                // A COSE_Key restricted to the other algorithm.
                let other = if alg == IOT_ALG_ES256 { -9 } else { -7 };
                assert_eq!(
                    verify(&cose_key(Some(other)), &s.msg, d, AAD).0,
                    IotStatus::AlgorithmMismatch
                );
                assert_eq!(
                    verify(&cose_key(Some(alg as i8)), &s.msg, d, AAD).0,
                    IotStatus::Ok
                );
            }
        }
    }
}

#[test]
fn agrees_with_iot_core() {
    // Same inputs through iot-core directly: the same bytes (RFC 6979 is deterministic).
    let s = sign(
        IOT_ALG_ES256,
        Some(b"11"),
        b"This is the content.",
        AAD,
        0,
        256,
    );
    let mut key = P256SigningKey::from_bytes(&private_key()).unwrap();
    let mut buf = [0u8; 256];
    let n = iot_core::cose::Sign1Builder::new(Algorithm::Es256)
        .kid(b"11")
        .sign(
            &mut RustCrypto::<()>::default(),
            &mut key,
            b"This is the content.",
            AAD,
            &mut buf,
        )
        .unwrap();
    assert_eq!(s.msg, &buf[..n]);
    CoseSign1::decode(&s.msg)
        .unwrap()
        .verify(
            &mut RustCrypto::<()>::default(),
            &mut key.verifying_key(),
            AAD,
        )
        .unwrap();
}

#[test]
fn sign_pass_02_through_the_api() {
    let msg = hex::decode(
        "D28443A10126A10442313154546869732069732074686520636F6E74656E742E584010729CD711CB3813D8D8E944A8DA7111E7B258C9BDCA6135F7AE1ADBEE9509891267837E1E33BD36C150326AE62755C6BD8E540C3E8F92D7D225E8DB72B8820B",
    )
    .unwrap();
    // The transcription matches the vector file, when the vectors are there.
    if let Some(v) = iot_test_vectors::json("cose/sign1-tests/sign-pass-02.json") {
        let file = hex::decode(v["output"]["cbor"].as_str().unwrap()).unwrap();
        assert_eq!(file, msg);
        let ext = hex::decode(v["input"]["sign0"]["external"].as_str().unwrap()).unwrap();
        assert_eq!(ext, AAD);
        use base64ct::{Base64UrlUnpadded, Encoding};
        let key = &v["input"]["sign0"]["key"];
        for (field, want) in [("x", X), ("y", Y), ("d", D)] {
            let got = Base64UrlUnpadded::decode_vec(key[field].as_str().unwrap()).unwrap();
            assert_eq!(hex::encode(got), want, "{field}");
        }
    }
    let want = Some(&b"This is the content."[..]);
    assert_eq!(verify(&sec1(), &msg, None, AAD), (IotStatus::Ok, want));
    assert_eq!(
        verify(&cose_key(None), &msg, None, AAD),
        (IotStatus::Ok, want)
    );
    assert_eq!(verify(&sec1(), &msg, None, b"").0, IotStatus::BadSignature);
    for i in 0..msg.len() {
        let mut t = msg.clone();
        t[i] ^= 0x01;
        let status = verify(&sec1(), &t, None, AAD).0;
        // The unprotected bucket {4: h'3131'} (offsets 6 to 10) is not covered by the signature:
        // the kid's bytes may change; every other byte is protected.
        match i {
            9 | 10 => assert_eq!(status, IotStatus::Ok, "byte {i}"),
            6..=8 => {}
            _ => assert_ne!(status, IotStatus::Ok, "byte {i}"),
        }
    }
    assert_eq!(
        verify(&sec1(), &msg[..msg.len() - 1], None, AAD).0,
        IotStatus::Cbor
    );
}

#[test]
fn null_and_length_checks() {
    let key = private_key();
    let mut out = [0u8; 256];
    let mut len = out.len();
    let call = |k: *const u8, k_len, pl: *const u8, pl_len, out: *mut u8, len: *mut usize| {
        let (kid, aad) = (ptr::null(), ptr::null());
        // SAFETY: the callers pass NULL, or live buffers of at least the given lengths (or
        // lengths the API refuses before reading anything).
        unsafe {
            iot_sign1_sign(
                k,
                k_len,
                IOT_ALG_ES256,
                kid,
                0,
                pl,
                pl_len,
                aad,
                0,
                0,
                out,
                len,
            )
        }
    };
    let o = out.as_mut_ptr();
    assert_eq!(
        call(ptr::null(), 32, ptr::null(), 0, o, &mut len),
        IotStatus::NullArgument
    );
    assert_eq!(len, 256, "out_len untouched when the key is NULL");
    assert_eq!(
        call(key.as_ptr(), 32, ptr::null(), 0, ptr::null_mut(), &mut len),
        IotStatus::NullArgument
    );
    assert_eq!(
        call(key.as_ptr(), 32, ptr::null(), 0, o, ptr::null_mut()),
        IotStatus::NullArgument
    );
    assert_eq!(
        call(key.as_ptr(), 32, ptr::null(), 3, o, &mut len),
        IotStatus::NullArgument
    );
    assert_eq!(len, 0);
    len = 256;
    assert_eq!(
        call(key.as_ptr(), 32, ptr::null(), 0, o, &mut len),
        IotStatus::Ok
    );
    let n = len;
    // Lengths beyond isize::MAX are refused before any slice is made.
    len = 256;
    assert_eq!(
        call(key.as_ptr(), usize::MAX, ptr::null(), 0, o, &mut len),
        IotStatus::InvalidArgument
    );
    len = usize::MAX;
    assert_eq!(
        call(key.as_ptr(), 32, ptr::null(), 0, o, &mut len),
        IotStatus::InvalidArgument
    );
    // Capacity: exactly enough, one short, zero.
    for (cap, want) in [
        (n, IotStatus::Ok),
        (n - 1, IotStatus::BufferTooSmall),
        (0, IotStatus::BufferTooSmall),
    ] {
        len = cap;
        assert_eq!(
            call(key.as_ptr(), 32, ptr::null(), 0, o, &mut len),
            want,
            "capacity {cap}"
        );
    }
    // Key length and flags.
    len = 256;
    assert_eq!(
        call(key.as_ptr(), 33, ptr::null(), 0, o, &mut len),
        IotStatus::InvalidKey
    );
    assert_eq!(
        sign(IOT_ALG_ES256, None, b"", b"", 8, 256).status,
        IotStatus::InvalidArgument
    );
    assert_eq!(
        sign(0, None, b"", b"", 0, 256).status,
        IotStatus::UnsupportedAlgorithm
    );
    assert_eq!(
        sign(5, None, b"", b"", 0, 256).status,
        IotStatus::AlgorithmMismatch
    );
    // Output overlapping an input.
    let mut buf = [0x61u8; 256];
    let mut len = 200;
    let b = buf.as_mut_ptr();
    // SAFETY: `b` points to 256 live bytes; the payload (100..110) and output (0..200) lie
    // inside them.
    let st = unsafe {
        iot_sign1_sign(
            key.as_ptr(),
            32,
            IOT_ALG_ES256,
            ptr::null(),
            0,
            b.add(100),
            10,
            ptr::null(),
            0,
            0,
            b,
            &mut len,
        )
    };
    assert_eq!(st, IotStatus::InvalidArgument);

    // Verify: NULL key or message; outputs may be NULL.
    let msg = &out[..n];
    let pk = sec1();
    // SAFETY: the callers pass NULL or live buffers of the given lengths; NULL outputs are
    // allowed.
    let v = |k: *const u8, m: *const u8, m_len| unsafe {
        iot_sign1_verify(
            k,
            65,
            m,
            m_len,
            ptr::null(),
            0,
            ptr::null(),
            0,
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    assert_eq!(v(ptr::null(), msg.as_ptr(), n), IotStatus::NullArgument);
    assert_eq!(v(pk.as_ptr(), ptr::null(), 0), IotStatus::NullArgument);
    assert_eq!(v(pk.as_ptr(), msg.as_ptr(), n), IotStatus::Ok);
    // Malformed keys.
    assert_eq!(verify(&pk[..64], msg, None, b"").0, IotStatus::InvalidKey);
    assert_eq!(verify(&[], msg, None, b"").0, IotStatus::InvalidKey);
    assert_eq!(verify(&[0x02; 33], msg, None, b"").0, IotStatus::InvalidKey);
    // A COSE_Key cut inside a coordinate (iot-core reports CBOR or an invalid key), or inside
    // the map (CBOR).
    for cut in [50, 74] {
        let st = verify(&cose_key(None)[..cut], msg, None, b"").0;
        assert!(
            matches!(st, IotStatus::InvalidKey | IotStatus::Cbor),
            "{cut}: {st:?}"
        );
    }
    assert_eq!(
        verify(&cose_key(None)[..4], msg, None, b"").0,
        IotStatus::Cbor
    );
}

#[test]
fn status_strings() {
    for raw in 0..=19 {
        let s = IotStatus::from_raw(raw).unwrap();
        assert_eq!(s as i32, raw);
        // SAFETY: iot_status_str returns a static NUL-terminated string.
        let c = unsafe { CStr::from_ptr(iot_status_str(raw)) };
        assert_eq!(c, s.description());
        assert_ne!(c.to_bytes(), b"unknown status");
    }
    for raw in [-1, 61, i32::MAX, i32::MIN] {
        assert!(IotStatus::from_raw(raw).is_none());
        // SAFETY: iot_status_str returns a static NUL-terminated string.
        let c = unsafe { CStr::from_ptr(iot_status_str(raw)) };
        assert_eq!(c.to_bytes(), b"unknown status");
    }
}

#[test]
fn every_error_maps_to_its_status() {
    use iot_core::{CborError, Error};
    let cases = [
        (Error::cbor(CborError::Truncated, 3), IotStatus::Cbor),
        (Error::WrongTag(17), IotStatus::WrongTag),
        (
            Error::UnknownCriticalHeader(99),
            IotStatus::UnknownCriticalHeader,
        ),
        (Error::InvalidHeader(4), IotStatus::InvalidHeader),
        (Error::MissingAlgorithm, IotStatus::MissingAlgorithm),
        (
            Error::UnsupportedAlgorithm(0),
            IotStatus::UnsupportedAlgorithm,
        ),
        (Error::AlgorithmMismatch, IotStatus::AlgorithmMismatch),
        (Error::InvalidKey, IotStatus::InvalidKey),
        (Error::BadSignature, IotStatus::BadSignature),
        (Error::BadTag, IotStatus::BadTag),
        (Error::PayloadMismatch, IotStatus::PayloadMismatch),
        (Error::InvalidNonce, IotStatus::InvalidNonce),
        (Error::BufferTooSmall, IotStatus::BufferTooSmall),
        (Error::CapacityExceeded, IotStatus::CapacityExceeded),
        (Error::Rng, IotStatus::Rng),
        (Error::Backend, IotStatus::Backend),
    ];
    for (e, s) in cases {
        assert_eq!(IotStatus::from(e), s, "{e:?}");
    }
}
