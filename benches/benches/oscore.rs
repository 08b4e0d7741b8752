//! OSCORE (RFC 8613) beside the raw AEAD, one group per algorithm so that the results read as
//! ratios (issue 3, "C, benches, size"):
//! - `iot-oscore protect+unprotect`: a client context protects a POST with three options
//!   (Uri-Host, Uri-Path, Content-Format) and a payload of 64 B or 1 KiB (section 8.1), a server
//!   context verifies it (section 8.2: decode, replay check, decrypt, rebuild the request).
//! - `raw aead seal+open`: the RustCrypto AEAD crate (`ccm` for AES-CCM-16-64-128, COSE alg 10;
//!   `chacha20poly1305` for alg 24) encrypts and decrypts the same plaintext (inner code, class E
//!   options, payload) with the same key, nonce and Enc_structure as AAD, key setup included as in
//!   the backend. The target: the first line at most 1.5x this one.
//! - `backend seal+open`: the same through `iot_core::crypto::Aead` (the streaming modes OSCORE
//!   calls), so that the protocol's own share shows apart from the AEAD implementation's.
#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

use aead::{AeadInOut, KeyInit};
use core::hint::black_box;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use iot_core::cose::AeadAlgorithm;
use iot_core::crypto::{Aead, RustCrypto};
use iot_oscore::aad::ExternalAad;
use iot_oscore::coap::Message;
use iot_oscore::nonce::{Nonce, PartialIv};
use iot_oscore::{ContextParams, SecurityContext};

type AesCcm16_64_128 = ccm::Ccm<aes::Aes128, ccm::consts::U8, ccm::consts::U13>;

const SECRET: [u8; 16] = [7; 16];
const SALT: [u8; 8] = [9; 8];

/// POST coap://localhost/tv1, Content-Format 60, then the payload.
fn request(payload_len: usize) -> Vec<u8> {
    let mut m = vec![0x44, 0x02, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef];
    m.push(0x39); // Uri-Host (3), 9 bytes
    m.extend_from_slice(b"localhost");
    m.push(0x83); // Uri-Path (11), 3 bytes
    m.extend_from_slice(b"tv1");
    m.extend_from_slice(&[0x11, 60]); // Content-Format (12): application/cbor
    m.push(0xff);
    m.extend((0..payload_len).map(|i| i as u8));
    m
}

/// The AEAD plaintext OSCORE builds for `request` (RFC 8613 section 5.3): inner code, the class
/// E options Uri-Path and Content-Format, payload marker and payload.
fn plaintext(payload_len: usize) -> Vec<u8> {
    let mut p = vec![0x02, 0xb3];
    p.extend_from_slice(b"tv1");
    p.extend_from_slice(&[0x11, 60, 0xff]);
    p.extend((0..payload_len).map(|i| i as u8));
    p
}

fn contexts(alg: AeadAlgorithm) -> (SecurityContext, SecurityContext) {
    let mut c = RustCrypto::<()>::default();
    let client = ContextParams::new(&SECRET, &[0x01], &[0x02])
        .master_salt(&SALT)
        .alg(alg);
    let server = ContextParams::new(&SECRET, &[0x02], &[0x01])
        .master_salt(&SALT)
        .alg(alg);
    (
        SecurityContext::derive(&mut c, &client).unwrap(),
        SecurityContext::derive(&mut c, &server).unwrap(),
    )
}

/// Seal and open with the RustCrypto AEAD crate, a new cipher (key setup) for each, as the
/// backend does.
fn raw_seal_open<A: KeyInit + AeadInOut>(key: &[u8], nonce: &[u8], aad: &[u8], buf: &mut [u8]) {
    let nonce = aead::Nonce::<A>::try_from(nonce).unwrap();
    let tag = A::new_from_slice(key)
        .unwrap()
        .encrypt_inout_detached(&nonce, aad, (&mut *buf).into())
        .unwrap();
    A::new_from_slice(key)
        .unwrap()
        .decrypt_inout_detached(&nonce, aad, buf.into(), &tag)
        .unwrap();
}

#[inline(never)]
fn raw(alg: AeadAlgorithm, key: &[u8], nonce: &[u8], aad: &[u8], buf: &mut [u8]) {
    match alg {
        AeadAlgorithm::AesCcm16_64_128 => raw_seal_open::<AesCcm16_64_128>(key, nonce, aad, buf),
        AeadAlgorithm::ChaCha20Poly1305 => {
            raw_seal_open::<chacha20poly1305::ChaCha20Poly1305>(key, nonce, aad, buf)
        }
        other => unreachable!("no raw AEAD for {other:?} here"),
    }
}

/// Seal and open through the iot-core backend.
#[inline(never)]
fn backend(
    crypto: &mut RustCrypto<()>,
    alg: AeadAlgorithm,
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    buf: &mut [u8],
) {
    let mut tag = [0u8; 16];
    let tag = &mut tag[..alg.tag_len()];
    crypto
        .aead_encrypt(alg, key, nonce, &[aad], buf, tag)
        .unwrap();
    crypto
        .aead_decrypt(alg, key, nonce, &[aad], buf, tag)
        .unwrap();
}

/// The client protects `req`, the server verifies it; returns the verified request's length.
#[inline(never)]
fn round_trip(
    crypto: &mut RustCrypto<()>,
    req: &[u8],
    client: &mut SecurityContext,
    server: &mut SecurityContext,
    wire: &mut [u8],
    plain: &mut [u8],
) -> usize {
    let msg = Message::decode(black_box(req)).unwrap();
    let (n, _) = client.protect_request(crypto, &msg, wire).unwrap();
    let (m, _) = server
        .unprotect_request(crypto, &mut wire[..n], plain)
        .unwrap();
    m
}

fn oscore_request(c: &mut Criterion) {
    let mut crypto = RustCrypto::<()>::default();
    for (name, alg) in [
        ("oscore_request_alg10", AeadAlgorithm::AesCcm16_64_128),
        ("oscore_request_alg24", AeadAlgorithm::ChaCha20Poly1305),
    ] {
        let mut g = c.benchmark_group(name);
        for len in [64, 1024] {
            let req = request(len);
            let (mut client, mut server) = contexts(alg);
            let mut wire = vec![0u8; len + 128];
            let mut plain = vec![0u8; len + 128];
            // The first request (Partial IV 0), kept to check the raw AEAD against it.
            let msg = Message::decode(&req).unwrap();
            let (n, _) = client
                .protect_request(&mut crypto, &msg, &mut wire)
                .unwrap();
            let sent = wire[..n].to_vec();
            // The round trip must give the request back before it is timed.
            let (m, _) = server
                .unprotect_request(&mut crypto, &mut wire[..n], &mut plain)
                .unwrap();
            assert_eq!(plain[..m], req);

            // The raw AEAD and the backend on the same key, nonce, AAD and plaintext as that
            // request: their ciphertext and tag are its payload.
            let piv = PartialIv::from_sequence_number(0).unwrap();
            let nonce = Nonce::new(alg, client.common_iv(), client.sender_id(), &piv).unwrap();
            let aad = ExternalAad::new(alg, client.sender_id(), piv.as_bytes())
                .unwrap()
                .aad()
                .to_vec();
            let key = client.sender_key().to_vec();
            let pt = plaintext(len);
            let mut ct = pt.clone();
            let mut tag = vec![0u8; alg.tag_len()];
            crypto
                .aead_encrypt(alg, &key, nonce.as_bytes(), &[&aad], &mut ct, &mut tag)
                .unwrap();
            assert!(sent.ends_with(&[ct, tag].concat()));
            let mut buf = pt.clone();
            raw(alg, &key, nonce.as_bytes(), &aad, &mut buf);
            backend(&mut crypto, alg, &key, nonce.as_bytes(), &aad, &mut buf);
            assert_eq!(buf, pt);

            g.throughput(Throughput::Bytes(len as u64));
            g.bench_function(BenchmarkId::new("iot-oscore protect+unprotect", len), |b| {
                b.iter(|| {
                    round_trip(
                        &mut crypto,
                        &req,
                        &mut client,
                        &mut server,
                        &mut wire,
                        &mut plain,
                    )
                })
            });
            g.bench_function(BenchmarkId::new("raw aead seal+open", len), |b| {
                b.iter(|| raw(alg, &key, black_box(nonce.as_bytes()), &aad, &mut buf))
            });
            g.bench_function(BenchmarkId::new("backend seal+open", len), |b| {
                b.iter(|| {
                    backend(
                        &mut crypto,
                        alg,
                        &key,
                        black_box(nonce.as_bytes()),
                        &aad,
                        &mut buf,
                    )
                })
            });
        }
        g.finish();
    }
}

criterion_group!(benches, oscore_request);
criterion_main!(benches);
