//! The OSCORE C API called from Rust through its `extern "C"` functions: RFC 8613 Appendix C.4
//! and C.7 (and C.5, C.6 from the vectors file when present), replay and tampering, the status
//! mapping and argument checks.
#![allow(missing_docs)]
// Helpers outside #[test] functions unwrap too: a failure is the point.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use core::ptr;
use iot_ffi::*;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

const SECRET: &str = "0102030405060708090a0b0c0d0e0f10";
const SALT: &str = "9e7ca92223786340";
const COAP_REQ: &str = "44015d1f00003974396c6f63616c686f737483747631";
const OSCORE_REQ: &str = "44025d1f00003974396c6f63616c686f7374620914ff612f1092f1776f1c1668b3825e";
const COAP_RESP: &str = "64455d1f00003974ff48656c6c6f20576f726c6421";
const OSCORE_RESP: &str = "64445d1f0000397490ffdbaad1e9a7e7b2a813d3c31524378303cdafae119106";

fn zeroed_ctx() -> Box<IotOscoreContext> {
    Box::new(IotOscoreContext {
        opaque: [0; IOT_OSCORE_CONTEXT_WORDS],
    })
}

fn zeroed_req() -> IotOscoreRequest {
    IotOscoreRequest {
        opaque: [0; IOT_OSCORE_REQUEST_WORDS],
    }
}

fn derive(
    secret: &[u8],
    salt: &[u8],
    sender: &[u8],
    recipient: &[u8],
    id_context: Option<&[u8]>,
) -> (IotStatus, Box<IotOscoreContext>) {
    let mut ctx = zeroed_ctx();
    let (ic, ic_len) = id_context.map_or((ptr::null(), 0), |c| (c.as_ptr(), c.len()));
    // SAFETY: pointers to live, distinct buffers with their lengths; contexts and bindings are owned here.
    let st = unsafe {
        iot_oscore_context_derive(
            secret.as_ptr(),
            secret.len(),
            salt.as_ptr(),
            salt.len(),
            sender.as_ptr(),
            sender.len(),
            recipient.as_ptr(),
            recipient.len(),
            ic,
            ic_len,
            IOT_ALG_AES_CCM_16_64_128,
            &mut *ctx,
        )
    };
    (st, ctx)
}

fn protect_request(
    ctx: &mut IotOscoreContext,
    req: &[u8],
    binding: &mut IotOscoreRequest,
) -> (IotStatus, Vec<u8>) {
    let mut out = vec![0u8; 256];
    let mut len = out.len();
    // SAFETY: pointers to live, distinct buffers with their lengths; contexts and bindings are owned here.
    let st = unsafe {
        iot_oscore_protect_request(
            ctx,
            req.as_ptr(),
            req.len(),
            out.as_mut_ptr(),
            &mut len,
            binding,
        )
    };
    out.truncate(len);
    (st, out)
}

fn unprotect_request(
    ctx: &mut IotOscoreContext,
    msg: &[u8],
    binding: &mut IotOscoreRequest,
) -> (IotStatus, Vec<u8>) {
    let mut input = msg.to_vec();
    let mut out = vec![0u8; 256];
    let mut len = out.len();
    // SAFETY: pointers to live, distinct buffers with their lengths; contexts and bindings are owned here.
    let st = unsafe {
        iot_oscore_unprotect_request(
            ctx,
            input.as_mut_ptr(),
            input.len(),
            out.as_mut_ptr(),
            &mut len,
            binding,
        )
    };
    out.truncate(len);
    (st, out)
}

fn protect_response(
    ctx: &mut IotOscoreContext,
    binding: &mut IotOscoreRequest,
    resp: &[u8],
    flags: u32,
) -> (IotStatus, Vec<u8>) {
    let mut out = vec![0u8; 256];
    let mut len = out.len();
    // SAFETY: pointers to live, distinct buffers with their lengths; contexts and bindings are owned here.
    let st = unsafe {
        iot_oscore_protect_response(
            ctx,
            binding,
            resp.as_ptr(),
            resp.len(),
            flags,
            out.as_mut_ptr(),
            &mut len,
        )
    };
    out.truncate(len);
    (st, out)
}

fn unprotect_response(
    ctx: &mut IotOscoreContext,
    binding: &mut IotOscoreRequest,
    msg: &[u8],
) -> (IotStatus, Vec<u8>, i64) {
    let mut input = msg.to_vec();
    let mut out = vec![0u8; 256];
    let mut len = out.len();
    let mut piv = 99;
    // SAFETY: pointers to live, distinct buffers with their lengths; contexts and bindings are owned here.
    let st = unsafe {
        iot_oscore_unprotect_response(
            ctx,
            binding,
            input.as_mut_ptr(),
            input.len(),
            out.as_mut_ptr(),
            &mut len,
            &mut piv,
        )
    };
    out.truncate(len);
    (st, out, piv)
}

#[test]
fn appendix_c4_c7_replay_and_tampering() {
    let (secret, salt) = (h(SECRET), h(SALT));
    let (st, mut client) = derive(&secret, &salt, &[], &[1], None);
    assert_eq!(st, IotStatus::Ok);
    let (st, mut server) = derive(&secret, &salt, &[1], &[], None);
    assert_eq!(st, IotStatus::Ok);

    // C.4
    assert_eq!(
        // SAFETY: pointers to live, distinct buffers with their lengths; contexts and bindings are owned here.
        unsafe { iot_oscore_context_set_sender_sequence_number(&mut *client, 20) },
        IotStatus::Ok
    );
    let mut sent = zeroed_req();
    let (st, wire) = protect_request(&mut client, &h(COAP_REQ), &mut sent);
    assert_eq!(st, IotStatus::Ok);
    assert_eq!(wire, h(OSCORE_REQ));
    let mut next = 0;
    assert_eq!(
        // SAFETY: pointers to live, distinct buffers with their lengths; contexts and bindings are owned here.
        unsafe { iot_oscore_context_sender_sequence_number(&mut *client, &mut next) },
        IotStatus::Ok
    );
    assert_eq!(next, 21);

    let mut received = zeroed_req();
    let (st, plain) = unprotect_request(&mut server, &wire, &mut received);
    assert_eq!(st, IotStatus::Ok);
    assert_eq!(plain, h(COAP_REQ));

    // Replay.
    let mut other = zeroed_req();
    let (st, plain) = unprotect_request(&mut server, &wire, &mut other);
    assert_eq!(st, IotStatus::Replay);
    assert!(plain.is_empty());

    // C.7
    let (st, resp) = protect_response(&mut server, &mut received, &h(COAP_RESP), 0);
    assert_eq!(st, IotStatus::Ok);
    assert_eq!(resp, h(OSCORE_RESP));
    let (st, _) = protect_response(&mut server, &mut received, &h(COAP_RESP), 0);
    assert_eq!(st, IotStatus::RequestNonceUsed);
    let (st, _) = protect_response(&mut server, &mut received, &h(COAP_RESP), 2);
    assert_eq!(st, IotStatus::InvalidArgument);

    let (st, plain, piv) = unprotect_response(&mut client, &mut sent, &resp);
    assert_eq!(st, IotStatus::Ok);
    assert_eq!(plain, h(COAP_RESP));
    assert_eq!(piv, -1);

    // Tampering: every byte of the ciphertext and tag (after the empty OSCORE option at byte 8
    // and the payload marker) is covered.
    for i in 10..resp.len() {
        let mut bad = resp.clone();
        bad[i] ^= 0x40;
        let (st, plain, piv) = unprotect_response(&mut client, &mut sent, &bad);
        assert_eq!(st, IotStatus::BadTag, "byte {i}");
        assert!(plain.is_empty());
        assert_eq!(piv, -1);
    }
    // Bindings of the wrong side are refused.
    let (st, _, _) = unprotect_response(&mut client, &mut received, &resp);
    assert_eq!(st, IotStatus::BindingMismatch);
    let (st, _) = protect_response(&mut server, &mut sent, &h(COAP_RESP), 0);
    assert_eq!(st, IotStatus::BindingMismatch);

    // A second response with the server's own Partial IV 0 (C.8's bytes).
    let (st, resp) = protect_response(
        &mut server,
        &mut received,
        &h(COAP_RESP),
        IOT_OSCORE_RESPONSE_OWN_PARTIAL_IV,
    );
    assert_eq!(st, IotStatus::Ok);
    assert_eq!(
        resp,
        h("64445d1f00003974920100ff4d4c13669384b67354b2b6175ff4b8658c666a6cf88e")
    );
    let (st, plain, piv) = unprotect_response(&mut client, &mut sent, &resp);
    assert_eq!((st, piv), (IotStatus::Ok, 0));
    assert_eq!(plain, h(COAP_RESP));

    assert_eq!(
        // SAFETY: pointers to live, distinct buffers with their lengths; contexts and bindings are owned here.
        unsafe { iot_oscore_context_clear(&mut *client) },
        IotStatus::Ok
    );
    assert!(client.opaque.iter().all(|&w| w == 0));
    let (st, wire) = protect_request(&mut client, &h(COAP_REQ), &mut sent);
    assert_eq!((st, wire.len()), (IotStatus::InvalidArgument, 0));
}

/// Every request case of the vectors file that has `oscore_req` (C.4, C.5, C.6): protected with
/// Sender Sequence Number 20 through the C API, byte for byte.
#[test]
fn vector_requests() {
    let Some(cases) = iot_test_vectors::json("oscore/rfc8613-appendix-c.json") else {
        return;
    };
    let mut checked = 0;
    for (name, case) in cases.as_object().unwrap() {
        let field = |k: &str| case.get(k).and_then(|v| v.as_str()).map(h);
        let (Some(req), Some(expected)) = (field("coap_req"), field("oscore_req")) else {
            continue;
        };
        // Client cases only (their description names the request protection): the server
        // cases carry the same request under the server's IDs.
        let description = case
            .get("description")
            .and_then(|v| v.as_str())
            .unwrap_or("");
        if !description.contains("request protection") {
            continue;
        }
        let id_context = field("id_context").filter(|c| !c.is_empty());
        let (st, mut ctx) = derive(
            &field("master_secret").unwrap(),
            &field("master_salt").unwrap_or_default(),
            &field("sender_id").unwrap(),
            &field("recipient_id").unwrap(),
            id_context.as_deref(),
        );
        assert_eq!(st, IotStatus::Ok, "{name}");
        assert_eq!(
            // SAFETY: pointers to live, distinct buffers with their lengths; contexts and bindings are owned here.
            unsafe { iot_oscore_context_set_sender_sequence_number(&mut *ctx, 20) },
            IotStatus::Ok
        );
        let mut sent = zeroed_req();
        let (st, wire) = protect_request(&mut ctx, &req, &mut sent);
        assert_eq!(st, IotStatus::Ok, "{name}");
        assert_eq!(hex::encode(wire), hex::encode(expected), "{name}");
        checked += 1;
    }
    assert_eq!(checked, 3, "C.4, C.5 and C.6");
}

#[test]
fn statuses_and_arguments() {
    for v in 20..=33 {
        let s = IotStatus::from_raw(v).unwrap();
        assert_eq!(s as i32, v);
        assert_ne!(s.description().to_bytes(), b"internal error");
    }
    assert_eq!(IotStatus::from_raw(34), Some(IotStatus::InvalidUeid));
    assert_eq!(
        IotStatus::from(iot_oscore::Error::Replay),
        IotStatus::Replay
    );
    assert_eq!(
        IotStatus::from(iot_oscore::Error::DecryptionFailed),
        IotStatus::BadTag
    );
    assert_eq!(
        IotStatus::from(iot_oscore::Error::from(iot_core::Error::InvalidKey)),
        IotStatus::InvalidKey
    );

    let secret = h(SECRET);
    let (st, _) = derive(&secret, &[], &[1], &[1], None);
    assert_eq!(st, IotStatus::InvalidContext);
    let (st, _) = derive(&secret, &[], &[1; 8], &[2], None);
    assert_eq!(st, IotStatus::InvalidContext);
    let (st, _) = derive(&secret, &[], &[1], &[2], Some(&[0; 33]));
    assert_eq!(st, IotStatus::InvalidContext);
    // SAFETY: pointers to live, distinct buffers with their lengths; contexts and bindings are owned here.
    let st = unsafe {
        iot_oscore_context_derive(
            ptr::null(),
            0,
            ptr::null(),
            0,
            ptr::null(),
            0,
            [1u8].as_ptr(),
            1,
            ptr::null(),
            0,
            IOT_ALG_AES_CCM_16_64_128,
            ptr::null_mut(),
        )
    };
    assert_eq!(st, IotStatus::NullArgument);

    // Never derived: refused, not read as a context.
    let mut ctx = zeroed_ctx();
    let mut b = zeroed_req();
    let (st, _) = protect_request(&mut ctx, &h(COAP_REQ), &mut b);
    assert_eq!(st, IotStatus::InvalidArgument);

    let (st, mut ctx) = derive(&secret, &[], &[], &[1], None);
    assert_eq!(st, IotStatus::Ok);
    // Too small an output buffer.
    let req = h(COAP_REQ);
    let mut out = [0u8; 16];
    let mut len = out.len();
    // SAFETY: pointers to live, distinct buffers with their lengths; contexts and bindings are owned here.
    let st = unsafe {
        iot_oscore_protect_request(
            &mut *ctx,
            req.as_ptr(),
            req.len(),
            out.as_mut_ptr(),
            &mut len,
            &mut b,
        )
    };
    assert_eq!((st, len), (IotStatus::BufferTooSmall, 0));
    // NULL out_len.
    // SAFETY: pointers to live, distinct buffers with their lengths; contexts and bindings are owned here.
    let st = unsafe {
        iot_oscore_protect_request(
            &mut *ctx,
            req.as_ptr(),
            req.len(),
            out.as_mut_ptr(),
            ptr::null_mut(),
            &mut b,
        )
    };
    assert_eq!(st, IotStatus::NullArgument);
    // A response to protect_request, a plain message to unprotect.
    let (st, _) = protect_request(&mut ctx, &h(COAP_RESP), &mut b);
    assert_eq!(st, IotStatus::WrongMessageKind);
    let (st, _) = unprotect_request(&mut ctx, &req, &mut b);
    assert_eq!(st, IotStatus::NotProtected);
    let (st, _) = protect_request(&mut ctx, &[0x84, 0x01], &mut b);
    assert_eq!(st, IotStatus::CoapFormat);
    // The sequence number cannot go back.
    assert_eq!(
        // SAFETY: pointers to live, distinct buffers with their lengths; contexts and bindings are owned here.
        unsafe { iot_oscore_context_set_sender_sequence_number(&mut *ctx, 5) },
        IotStatus::Ok
    );
    assert_eq!(
        // SAFETY: pointers to live, distinct buffers with their lengths; contexts and bindings are owned here.
        unsafe { iot_oscore_context_set_sender_sequence_number(&mut *ctx, 4) },
        IotStatus::InvalidContext
    );
}
