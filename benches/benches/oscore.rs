//! OSCORE (RFC 8613) beside the raw AEAD, one group per algorithm so that the results read as
//! ratios (issue 3, "C, benches, size"):
//! - `iot-oscore protect+unprotect`: a client context protects a POST with three options
//!   (Uri-Host, Uri-Path, Content-Format) and a payload of 64 B or 1 KiB (section 8.1), a server
//!   context verifies it (section 8.2: decode, replay check, decrypt, rebuild the request).
//! - `raw aead seal+open`: the RustCrypto AEAD crate (`ccm` for AES-CCM-16-64-128, COSE alg 10;
//!   `chacha20poly1305` for alg 24) encrypts and decrypts the same plaintext (inner code, class E
//!   options, payload) with the same key, nonce and Enc_structure as AAD. The cipher is keyed once,
//!   outside the loop, as the security context keeps its prepared keys. The target: the
//!   first line at most 1.5x this one.
//! - `backend seal+open`: the same through `iot_core::crypto::Aead` with a key prepared once (the
//!   streaming modes OSCORE calls), so that the protocol's own share shows apart from the AEAD
//!   implementation's.
//!
//! Before the groups, each case prints the first line's time over the second's, and the third's
//! over the second's, each pair timed alternately (`cargo bench -p iot-benches --bench oscore --
//! ratio` prints only these).
#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

use aead::{AeadInOut, KeyInit};
use core::hint::black_box;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use iot_benches::interleaved_ratio;
use iot_core::cose::AeadAlgorithm;
use iot_core::crypto::{Aead, RustCrypto, RustCryptoAeadKey};
use iot_oscore::aad::ExternalAad;
use iot_oscore::coap::Message;
use iot_oscore::nonce::{Nonce, PartialIv};
use iot_oscore::{ContextParams, DerivedKeys, SecurityContext};

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

/// The client's and the server's parameters.
fn params(alg: AeadAlgorithm) -> (ContextParams<'static>, ContextParams<'static>) {
    let client = ContextParams::new(&SECRET, &[0x01], &[0x02])
        .master_salt(&SALT)
        .alg(alg);
    let server = ContextParams::new(&SECRET, &[0x02], &[0x01])
        .master_salt(&SALT)
        .alg(alg);
    (client, server)
}

/// The RustCrypto AEAD crate's cipher for `alg`, keyed once (one per benchmark: its size is moot).
#[allow(clippy::large_enum_variant)]
enum RawCipher {
    Ccm(AesCcm16_64_128),
    ChaCha(chacha20poly1305::ChaCha20Poly1305),
}

impl RawCipher {
    fn new(alg: AeadAlgorithm, key: &[u8]) -> Self {
        match alg {
            AeadAlgorithm::AesCcm16_64_128 => Self::Ccm(KeyInit::new_from_slice(key).unwrap()),
            AeadAlgorithm::ChaCha20Poly1305 => Self::ChaCha(KeyInit::new_from_slice(key).unwrap()),
            other => unreachable!("no raw AEAD for {other:?} here"),
        }
    }
}

/// Seal and open with the RustCrypto AEAD crate.
fn raw_seal_open<A: AeadInOut>(cipher: &A, nonce: &[u8], aad: &[u8], buf: &mut [u8]) {
    let nonce = aead::Nonce::<A>::try_from(nonce).unwrap();
    let tag = cipher
        .encrypt_inout_detached(&nonce, aad, (&mut *buf).into())
        .unwrap();
    cipher
        .decrypt_inout_detached(&nonce, aad, buf.into(), &tag)
        .unwrap();
}

#[inline(never)]
fn raw(cipher: &RawCipher, nonce: &[u8], aad: &[u8], buf: &mut [u8]) {
    match cipher {
        RawCipher::Ccm(c) => raw_seal_open(c, nonce, aad, buf),
        RawCipher::ChaCha(c) => raw_seal_open(c, nonce, aad, buf),
    }
}

/// Seal and open through the iot-core backend, under a prepared key.
#[inline(never)]
fn backend(
    crypto: &mut RustCrypto<()>,
    alg: AeadAlgorithm,
    key: &RustCryptoAeadKey,
    nonce: &[u8],
    aad: &[u8],
    buf: &mut [u8],
) {
    let mut tag = [0u8; 16];
    let tag = &mut tag[..alg.tag_len()];
    crypto.aead_seal(key, nonce, &[aad], buf, tag).unwrap();
    crypto.aead_open(key, nonce, &[aad], buf, tag).unwrap();
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

/// Whether to print the interleaved ratios: on a run of every bench, or with the filter `ratio`
/// (not under another filter, which profiles one function alone).
fn ratios_wanted() -> bool {
    let mut args = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .peekable();
    args.peek().is_none() || args.any(|a| a == "ratio")
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
            let (client_params, server_params) = params(alg);
            let mut client = SecurityContext::derive(&mut crypto, &client_params).unwrap();
            let mut server = SecurityContext::derive(&mut crypto, &server_params).unwrap();
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
            let key_bytes = DerivedKeys::derive(&mut crypto, &client_params).unwrap();
            let key_bytes = key_bytes.sender_key();
            let pt = plaintext(len);
            let mut ct = pt.clone();
            let mut tag = vec![0u8; alg.tag_len()];
            crypto
                .aead_encrypt(alg, key_bytes, nonce.as_bytes(), &[&aad], &mut ct, &mut tag)
                .unwrap();
            assert!(sent.ends_with(&[ct, tag].concat()));
            let cipher = RawCipher::new(alg, key_bytes);
            // The backend alone has its own (stateless) instance, so that its closure and the
            // round trip's can live side by side.
            let mut alone_crypto = RustCrypto::<()>::default();
            let key = alone_crypto.aead_key(alg, key_bytes).unwrap();
            let (mut buf, mut alone_buf) = (pt.clone(), pt.clone());
            raw(&cipher, nonce.as_bytes(), &aad, &mut buf);
            backend(
                &mut alone_crypto,
                alg,
                &key,
                nonce.as_bytes(),
                &aad,
                &mut buf,
            );
            assert_eq!(buf, pt);

            let mut ours = || {
                black_box(round_trip(
                    &mut crypto,
                    &req,
                    &mut client,
                    &mut server,
                    &mut wire,
                    &mut plain,
                ));
            };
            let mut floor = || raw(&cipher, black_box(nonce.as_bytes()), &aad, &mut buf);
            let mut alone = || {
                let nonce = black_box(nonce.as_bytes());
                backend(&mut alone_crypto, alg, &key, nonce, &aad, &mut alone_buf)
            };
            // The ratio, and the AEAD implementations' alone, timed alternately (see
            // `interleaved_ratio`): criterion's separate runs below drift apart on a shared machine.
            if ratios_wanted() {
                let case = format!("{name}/{len}");
                interleaved_ratio(
                    &format!("{case}: protect+unprotect / raw seal+open"),
                    &mut ours,
                    &mut floor,
                );
                interleaved_ratio(
                    &format!("{case}: backend seal+open / raw seal+open"),
                    &mut alone,
                    &mut floor,
                );
            }
            g.throughput(Throughput::Bytes(len as u64));
            let id = |what| BenchmarkId::new(what, len);
            g.bench_function(id("iot-oscore protect+unprotect"), |b| b.iter(&mut ours));
            g.bench_function(id("raw aead seal+open"), |b| b.iter(&mut floor));
            g.bench_function(id("backend seal+open"), |b| b.iter(&mut alone));
        }
        g.finish();
    }
}

criterion_group!(benches, oscore_request);
criterion_main!(benches);
