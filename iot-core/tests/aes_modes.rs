//! The RustCrypto backend's AES key unwrap, A128CTR keystream and streamed A128GCM decryption:
//! known answers (RFC 3394, SP 800-38A), differential tests against the `aes-gcm` crate with the
//! ciphertext cut anywhere, and tampering.

// .clippy.toml lets #[test] functions unwrap and index; the helpers below are test code too.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use aes_gcm::aead::{AeadInOut, KeyInit};
use iot_core::Error;
use iot_core::crypto::{AesCtr, AesGcmOpen, AesKeyWrap, RustCrypto};
use proptest::prelude::*;

fn backend() -> RustCrypto<()> {
    RustCrypto::default()
}

/// `data` cut at `cuts` (taken modulo `data.len() + 1`, sorted), empty pieces included.
fn pieces<'a>(data: &'a mut [u8], cuts: &[usize]) -> Vec<&'a mut [u8]> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    at.sort_unstable();
    let mut out = Vec::new();
    let mut rest = data;
    let mut start = 0;
    for c in at {
        let (head, tail) = rest.split_at_mut(c - start);
        out.push(head);
        rest = tail;
        start = c;
    }
    out.push(rest);
    out
}

/// RFC 3394 section 4.1: 128 bits of key data wrapped with a 128-bit KEK.
#[test]
fn key_unwrap_rfc3394() {
    let kek = hex::decode("000102030405060708090A0B0C0D0E0F").unwrap();
    let wrapped = hex::decode("1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5").unwrap();
    let mut out = [0u8; 16];
    backend()
        .aes128_kw_unwrap(&kek, &wrapped, &mut out)
        .unwrap();
    assert_eq!(
        out.to_vec(),
        hex::decode("00112233445566778899AABBCCDDEEFF").unwrap()
    );

    // Any flipped bit of the wrapped key or the KEK fails the integrity check; `out` is zeroed.
    for i in 0..wrapped.len() * 8 {
        let mut bad = wrapped.clone();
        bad[i / 8] ^= 1 << (i % 8);
        let mut out = [0xffu8; 16];
        let r = backend().aes128_kw_unwrap(&kek, &bad, &mut out);
        assert_eq!(r, Err(Error::BadTag));
        assert_eq!(out, [0; 16]);
    }
    let mut other = kek.clone();
    other[15] ^= 0x80;
    assert_eq!(
        backend().aes128_kw_unwrap(&other, &wrapped, &mut out),
        Err(Error::BadTag)
    );
    // Lengths: the output 8 bytes shorter than the input, a 16-byte KEK.
    assert_eq!(
        backend().aes128_kw_unwrap(&kek, &wrapped[..16], &mut out),
        Err(Error::InvalidKey)
    );
    assert_eq!(
        backend().aes128_kw_unwrap(&kek[..8], &wrapped, &mut out),
        Err(Error::InvalidKey)
    );
}

/// RFC 3394 sections 4.1 and 4.2: 128 and 192 bits of key data wrapped with a 128-bit KEK
/// (4.2's KEK is 192 bits: only its 128-bit case applies, so 192 bits of key data under 4.1's KEK
/// are checked by unwrapping them again).
#[test]
fn key_wrap_rfc3394() {
    let kek = hex::decode("000102030405060708090A0B0C0D0E0F").unwrap();
    let key = hex::decode("00112233445566778899AABBCCDDEEFF").unwrap();
    let mut out = [0u8; 24];
    backend().aes128_kw_wrap(&kek, &key, &mut out).unwrap();
    assert_eq!(
        out.to_vec(),
        hex::decode("1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5").unwrap()
    );
    let key24 = hex::decode("00112233445566778899AABBCCDDEEFF0001020304050607").unwrap();
    let mut wrapped = [0u8; 32];
    backend()
        .aes128_kw_wrap(&kek, &key24, &mut wrapped)
        .unwrap();
    let mut back = [0u8; 24];
    backend()
        .aes128_kw_unwrap(&kek, &wrapped, &mut back)
        .unwrap();
    assert_eq!(back.to_vec(), key24);
    // Lengths: the output 8 bytes longer than the key, the key a multiple of 8 of at least 16
    // bytes, a 16-byte KEK.
    assert_eq!(
        backend().aes128_kw_wrap(&kek, &key, &mut out[..16]),
        Err(Error::InvalidKey)
    );
    assert_eq!(
        backend().aes128_kw_wrap(&kek, &key[..12], &mut out[..20]),
        Err(Error::InvalidKey)
    );
    assert_eq!(
        backend().aes128_kw_wrap(&kek, &key[..8], &mut out[..16]),
        Err(Error::InvalidKey)
    );
    assert_eq!(
        backend().aes128_kw_wrap(&kek[..8], &key, &mut out),
        Err(Error::InvalidKey)
    );
}

/// NIST SP 800-38A F.5.1 (CTR-AES128.Encrypt), in pieces of every size from 1 to 64.
#[test]
fn ctr_sp800_38a() {
    let key = hex::decode("2b7e151628aed2a6abf7158809cf4f3c").unwrap();
    let iv = hex::decode("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff").unwrap();
    let pt = hex::decode(concat!(
        "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51",
        "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"
    ))
    .unwrap();
    let ct = hex::decode(concat!(
        "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff",
        "5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee"
    ))
    .unwrap();
    for step in 1..=pt.len() {
        let mut c = backend();
        let mut state = c.aes128_ctr_start(&key, &iv).unwrap();
        let mut buf = pt.clone();
        for chunk in buf.chunks_mut(step) {
            c.aes128_ctr_apply(&mut state, chunk).unwrap();
        }
        assert_eq!(buf, ct, "pieces of {step}");
    }
    assert_eq!(
        backend().aes128_ctr_start(&key, &iv[..12]).unwrap_err(),
        Error::InvalidNonce
    );
    assert_eq!(
        backend().aes128_ctr_start(&key[..8], &iv).unwrap_err(),
        Error::InvalidKey
    );
}

/// The reference crate's `ciphertext || tag` over the whole associated data.
fn ref_seal(key: &[u8], nonce: &[u8], aad: &[u8], pt: &[u8]) -> Vec<u8> {
    let cipher = aes_gcm::Aes128Gcm::new_from_slice(key).unwrap();
    let nonce = aes_gcm::aead::Nonce::<aes_gcm::Aes128Gcm>::try_from(nonce).unwrap();
    let mut out = pt.to_vec();
    let tag = cipher
        .encrypt_inout_detached(&nonce, aad, out.as_mut_slice().into())
        .unwrap();
    out.extend_from_slice(&tag);
    out
}

/// Streamed decryption of `sealed` with the ciphertext cut at `cuts`, the associated data in
/// two pieces cut at `aad_cut`: the result and the plaintext released.
fn open(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    aad_cut: usize,
    sealed: &[u8],
    cuts: &[usize],
) -> (Result<(), Error>, Vec<u8>) {
    let (ct, tag) = sealed.split_at(sealed.len() - 16);
    let (a, b) = aad.split_at(aad_cut % (aad.len() + 1));
    let mut c = backend();
    let mut state = c.aes128_gcm_open_start(key, nonce, &[a, b]).unwrap();
    let mut buf = ct.to_vec();
    for piece in pieces(&mut buf, cuts) {
        c.aes128_gcm_open_update(&mut state, piece).unwrap();
    }
    (c.aes128_gcm_open_finish(state, tag), buf)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// What the reference crate sealed opens to its plaintext, however the ciphertext and the
    /// associated data are cut.
    #[test]
    fn gcm_open_matches_reference(
        key in prop::array::uniform16(any::<u8>()),
        nonce in prop::array::uniform12(any::<u8>()),
        pt in prop::collection::vec(any::<u8>(), 0..200),
        aad in prop::collection::vec(any::<u8>(), 0..80),
        aad_cut in any::<usize>(),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let sealed = ref_seal(&key, &nonce, &aad, &pt);
        let (r, back) = open(&key, &nonce, &aad, aad_cut, &sealed, &cuts);
        prop_assert_eq!(r, Ok(()));
        prop_assert_eq!(back, pt);
    }

    /// A flipped bit of the ciphertext, the tag or the associated data fails the tag check.
    #[test]
    fn gcm_open_refuses_tampering(
        key in prop::array::uniform16(any::<u8>()),
        nonce in prop::array::uniform12(any::<u8>()),
        pt in prop::collection::vec(any::<u8>(), 1..200),
        mut aad in prop::collection::vec(any::<u8>(), 1..80),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
        target in 0..3usize,
        at in any::<usize>(),
        bit in 0..8u8,
    ) {
        let mut sealed = ref_seal(&key, &nonce, &aad, &pt);
        match target {
            0 => sealed[at % pt.len()] ^= 1 << bit,
            1 => sealed[pt.len() + at % 16] ^= 1 << bit,
            _ => {
                let i = at % aad.len();
                aad[i] ^= 1 << bit;
            }
        }
        let (r, _) = open(&key, &nonce, &aad, at, &sealed, &cuts);
        prop_assert_eq!(r, Err(Error::BadTag));
    }
}

#[test]
fn gcm_open_refuses_bad_lengths() {
    let mut c = backend();
    assert_eq!(
        c.aes128_gcm_open_start(&[0; 16], &[0; 13], &[])
            .unwrap_err(),
        Error::InvalidNonce
    );
    assert_eq!(
        c.aes128_gcm_open_start(&[0; 32], &[0; 12], &[])
            .unwrap_err(),
        Error::InvalidKey
    );
    // A truncated tag is a failed check, not a shorter comparison.
    let sealed = ref_seal(&[7; 16], &[9; 12], b"aad", b"firmware");
    let state = c
        .aes128_gcm_open_start(&[7; 16], &[9; 12], &[b"aad"])
        .unwrap();
    let mut ct = sealed[..8].to_vec();
    let mut state = state;
    c.aes128_gcm_open_update(&mut state, &mut ct).unwrap();
    assert_eq!(ct, b"firmware");
    assert_eq!(
        c.aes128_gcm_open_finish(state, &sealed[8..20]),
        Err(Error::BadTag)
    );
}

/// A backend that only unwraps (a device's secure element) need not wrap: the trait's default
/// `aes128_kw_wrap` refuses, naming A128KW, and leaves `out` as it was.
#[test]
fn a_backend_that_only_unwraps_refuses_to_wrap() {
    struct UnwrapOnly;
    impl AesKeyWrap for UnwrapOnly {
        fn aes128_kw_unwrap(
            &mut self,
            kek: &[u8],
            wrapped: &[u8],
            out: &mut [u8],
        ) -> iot_core::Result<()> {
            backend().aes128_kw_unwrap(kek, wrapped, out)
        }
    }
    let mut out = [7u8; 24];
    assert_eq!(
        UnwrapOnly.aes128_kw_wrap(&[0; 16], &[1; 16], &mut out),
        Err(Error::UnsupportedAlgorithm(-3))
    );
    assert_eq!(out, [7; 24]);
}
