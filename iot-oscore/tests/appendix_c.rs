//! RFC 8613 Appendix C, byte for byte: every case of ../shared/vectors/oscore/rfc8613-appendix-c.json
//! (read through iot-test-vectors), and C.4, C.7 and C.8 transcribed here so that they always run.
// Helpers outside #[test] functions may unwrap and panic too: a failing test is the point.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use iot_core::crypto::RustCrypto;
use iot_oscore::aad::ExternalAad;
use iot_oscore::coap::{Message, OptionNumber};
use iot_oscore::nonce::{Nonce, PartialIv};
use iot_oscore::oscore_option::OscoreOption;
use iot_oscore::{ContextParams, DerivedKeys, ResponseNonce, SecurityContext};

fn crypto() -> RustCrypto<()> {
    RustCrypto::default()
}

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

const MASTER_SECRET: &str = "0102030405060708090a0b0c0d0e0f10";
const MASTER_SALT: &str = "9e7ca92223786340";

/// C.4 and C.7: the client (C.1.1) protects a GET with Sender Sequence Number 20, the server
/// (C.1.2) verifies it and answers without a Partial IV; every intermediate of the RFC is checked.
#[test]
fn c4_c7_transcribed() {
    let mut c = crypto();
    let (secret, salt) = (h(MASTER_SECRET), h(MASTER_SALT));
    let client_params = ContextParams::new(&secret, &[], &[1]).master_salt(&salt);
    let server_params = ContextParams::new(&secret, &[1], &[]).master_salt(&salt);
    let mut client: SecurityContext = SecurityContext::derive(&mut c, &client_params).unwrap();
    let mut server: SecurityContext = SecurityContext::derive(&mut c, &server_params).unwrap();

    // C.1.1
    let client_keys = DerivedKeys::derive(&mut c, &client_params).unwrap();
    let server_keys = DerivedKeys::derive(&mut c, &server_params).unwrap();
    assert_eq!(
        client_keys.sender_key(),
        h("f0910ed7295e6ad4b54fc793154302ff")
    );
    assert_eq!(
        client_keys.recipient_key(),
        h("ffb14e093c94c9cac9471648b4f98710")
    );
    assert_eq!(client_keys.common_iv(), h("4622d4dd6d944168eefb54987c"));
    assert_eq!(client.common_iv(), client_keys.common_iv());
    assert_eq!(server_keys.sender_key(), client_keys.recipient_key());
    assert_eq!(server_keys.recipient_key(), client_keys.sender_key());

    // C.4 intermediates
    let piv = PartialIv::from_sequence_number(20).unwrap();
    assert_eq!(piv.as_bytes(), [0x14]);
    let aad = ExternalAad::new(client.alg(), &[], piv.as_bytes()).unwrap();
    assert_eq!(aad.as_bytes(), h("8501810a40411440"));
    assert_eq!(aad.aad(), h("8368456e63727970743040488501810a40411440"));
    let nonce = Nonce::new(client.alg(), client.common_iv(), &[], &piv).unwrap();
    assert_eq!(nonce.as_bytes(), h("4622d4dd6d944168eefb549868"));

    // C.4 protected request
    let request = h("44015d1f00003974396c6f63616c686f737483747631");
    let expected = h("44025d1f00003974396c6f63616c686f7374620914ff612f1092f1776f1c1668b3825e");
    client.set_sender_sequence_number(20).unwrap();
    let mut out = [0u8; 128];
    let (n, sent) = client
        .protect_request(&mut c, &Message::decode(&request).unwrap(), &mut out)
        .unwrap();
    assert_eq!(out[..n], expected);
    assert_eq!(client.sender_sequence_number(), 21);
    let m = Message::decode(&out[..n]).unwrap();
    let opt = OscoreOption::decode(m.option(OptionNumber::OSCORE).unwrap().value).unwrap();
    assert_eq!(opt.partial_iv, Some(&[0x14][..]));
    assert_eq!(opt.kid, Some(&[][..]));

    // The server gets the original request back.
    let mut input = expected.clone();
    let mut plain = [0u8; 128];
    let (n, mut received) = server
        .unprotect_request(&mut c, &mut input, &mut plain)
        .unwrap();
    assert_eq!(plain[..n], request);

    // C.7: response without Partial IV, with the request's nonce.
    let response = h("64455d1f00003974ff48656c6c6f20576f726c6421");
    let expected = h("64445d1f0000397490ffdbaad1e9a7e7b2a813d3c31524378303cdafae119106");
    let n = server
        .protect_response(
            &mut c,
            &mut received,
            &Message::decode(&response).unwrap(),
            ResponseNonce::Request,
            &mut out,
        )
        .unwrap();
    assert_eq!(out[..n], expected);
    assert_eq!(server.sender_sequence_number(), 0, "no Partial IV was used");

    let mut input = expected.clone();
    let r = client
        .unprotect_response(&mut c, &sent, &mut input, &mut plain)
        .unwrap();
    assert_eq!(plain[..r.len], response);
    assert_eq!(r.partial_iv, None);

    // C.8: the same response with the server's own Partial IV 0.
    let mut server2: SecurityContext = SecurityContext::derive(
        &mut c,
        &ContextParams::new(&secret, &[1], &[]).master_salt(&salt),
    )
    .unwrap();
    let mut input = h("44025d1f00003974396c6f63616c686f7374620914ff612f1092f1776f1c1668b3825e");
    let (_, mut received) = server2
        .unprotect_request(&mut c, &mut input, &mut plain)
        .unwrap();
    let nonce = Nonce::new(
        server2.alg(),
        server2.common_iv(),
        &[1],
        &PartialIv::from_sequence_number(0).unwrap(),
    )
    .unwrap();
    assert_eq!(nonce.as_bytes(), h("4722d4dd6d944169eefb54987c"));
    let expected = h("64445d1f00003974920100ff4d4c13669384b67354b2b6175ff4b8658c666a6cf88e");
    let n = server2
        .protect_response(
            &mut c,
            &mut received,
            &Message::decode(&response).unwrap(),
            ResponseNonce::Own,
            &mut out,
        )
        .unwrap();
    assert_eq!(out[..n], expected);
    let mut input = expected.clone();
    let r = client
        .unprotect_response(&mut c, &sent, &mut input, &mut plain)
        .unwrap();
    assert_eq!(plain[..r.len], response);
    assert_eq!(r.partial_iv, Some(0));
}

/// Hex of a string field, `None` when absent.
fn field(case: &serde_json::Value, name: &str) -> Option<Vec<u8>> {
    case.get(name).map(|v| h(v.as_str().unwrap()))
}

/// The context `case` describes (with Sender and Recipient ID swapped if `swap`) and its keys.
fn derive(case: &serde_json::Value, swap: bool) -> (SecurityContext, DerivedKeys) {
    let secret = field(case, "master_secret").unwrap();
    let salt = field(case, "master_salt").unwrap_or_default();
    let id_context = field(case, "id_context").unwrap_or_default();
    let mut s = field(case, "sender_id").unwrap_or_default();
    let mut r = field(case, "recipient_id").unwrap_or_default();
    if swap {
        core::mem::swap(&mut s, &mut r);
    }
    let mut p = ContextParams::new(&secret, &s, &r).master_salt(&salt);
    // The vectors spell "no ID Context" (C.1, C.2) as the empty string.
    if !id_context.is_empty() {
        p = p.id_context(&id_context);
    }
    let keys = DerivedKeys::derive(&mut crypto(), &p).unwrap();
    (SecurityContext::derive(&mut crypto(), &p).unwrap(), keys)
}

#[test]
fn appendix_c_vectors() {
    let Some(cases) = iot_test_vectors::json("oscore/rfc8613-appendix-c.json") else {
        return;
    };
    let mut c = crypto();
    let mut checked = 0;
    for (name, case) in cases.as_object().unwrap() {
        let mut checks = 0;
        // "me" is the endpoint the case describes; "peer" has Sender and Recipient ID swapped.
        let (mut me, my_keys) = derive(case, false);
        let (mut peer, peer_keys) = derive(case, true);
        for (key, value) in [
            ("sender_key", my_keys.sender_key()),
            ("recipient_key", my_keys.recipient_key()),
            ("common_iv", me.common_iv()),
        ] {
            if let Some(expected) = field(case, key) {
                assert_eq!(value, expected, "{name}: {key}");
                checks += 1;
            }
        }
        assert_eq!(my_keys.sender_key(), peer_keys.recipient_key(), "{name}");
        assert_eq!(me.common_iv(), peer.common_iv(), "{name}");

        let mut out = [0u8; 256];
        let mut plain = [0u8; 256];
        if let Some(oscore_req) = field(case, "oscore_req") {
            // The client is whichever side's Sender ID is the request's kid.
            let m = Message::decode(&oscore_req).unwrap();
            let opt = OscoreOption::decode(m.option(OptionNumber::OSCORE).unwrap().value).unwrap();
            let piv = PartialIv::from_bytes(opt.partial_iv.unwrap()).unwrap();
            let (client, server) = if me.sender_id() == opt.kid.unwrap() {
                (&mut me, &mut peer)
            } else {
                (&mut peer, &mut me)
            };
            let mut input = oscore_req.clone();
            let (n, mut received) = server
                .unprotect_request(&mut c, &mut input, &mut plain)
                .unwrap();
            let coap_req = plain[..n].to_vec();
            if let Some(expected) = field(case, "coap_req") {
                assert_eq!(coap_req, expected, "{name}: verified request");
                checks += 1;
            }
            // Protecting the request again (T7 gives only its protected form) reproduces it.
            client
                .set_sender_sequence_number(piv.sequence_number())
                .unwrap();
            let (n, sent) = client
                .protect_request(&mut c, &Message::decode(&coap_req).unwrap(), &mut out)
                .unwrap();
            assert_eq!(
                hex::encode(&out[..n]),
                hex::encode(&oscore_req),
                "{name}: protected request"
            );
            checks += 1;

            let protected_response =
                field(case, "oscore_resp").or_else(|| field(case, "oscore_res"));
            if let (Some(coap_resp), Some(oscore_resp)) =
                (field(case, "coap_response"), protected_response)
            {
                let m = Message::decode(&oscore_resp).unwrap();
                let opt =
                    OscoreOption::decode(m.option(OptionNumber::OSCORE).unwrap().value).unwrap();
                let nonce = match opt.partial_iv {
                    Some(p) => {
                        let seq = PartialIv::from_bytes(p).unwrap().sequence_number();
                        server.set_sender_sequence_number(seq).unwrap();
                        ResponseNonce::Own
                    }
                    None => ResponseNonce::Request,
                };
                let n = server
                    .protect_response(
                        &mut c,
                        &mut received,
                        &Message::decode(&coap_resp).unwrap(),
                        nonce,
                        &mut out,
                    )
                    .unwrap();
                assert_eq!(
                    hex::encode(&out[..n]),
                    hex::encode(&oscore_resp),
                    "{name}: protected response"
                );
                let mut input = oscore_resp.clone();
                let r = client
                    .unprotect_response(&mut c, &sent, &mut input, &mut plain)
                    .unwrap();
                assert_eq!(plain[..r.len], coap_resp, "{name}: verified response");
                checks += 2;
            }
        }
        if let Some(ack) = field(case, "coap_ack") {
            // The server acknowledges a request of the client; the empty ACK is not protected.
            let request = Message::decode(&[0x44, 0x01, 0x45, 0x69, 1, 2, 3, 4]).unwrap();
            let (n, sent) = peer.protect_request(&mut c, &request, &mut out).unwrap();
            let (_, mut received) = me
                .unprotect_request(&mut c, &mut out[..n], &mut plain)
                .unwrap();
            let n = me
                .protect_response(
                    &mut c,
                    &mut received,
                    &Message::decode(&ack).unwrap(),
                    ResponseNonce::Request,
                    &mut out,
                )
                .unwrap();
            assert_eq!(out[..n], ack, "{name}: empty ACK from protect_response");
            assert!(!received.nonce_used());
            let mut input = ack.clone();
            let r = peer
                .unprotect_response(&mut c, &sent, &mut input, &mut plain)
                .unwrap();
            assert_eq!(
                plain[..r.len],
                ack,
                "{name}: empty ACK from unprotect_response"
            );
            checks += 2;
        }
        assert!(checks > 0, "{name}: nothing checked");
        checked += checks;
    }
    println!(
        "RFC 8613 appendix C: {} cases, {checked} byte-exact checks",
        cases.as_object().unwrap().len()
    );
}
