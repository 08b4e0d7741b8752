//! The RustCrypto backend's AEADs take their associated data in pieces (never gathered into one buffer).
//! Differential tests against the RustCrypto AEAD crates (`ccm`, `aes-gcm`, `chacha20poly1305`, which
//! take the associated data as one slice), known-answer vectors, and tamper checks.

// .clippy.toml lets #[test] functions unwrap and index; the helpers below are test code too.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use aes_gcm::aead::{AeadInOut, KeyInit};
use base64ct::Encoding as _;
use iot_core::Error;
use iot_core::cose::AeadAlgorithm;
use iot_core::crypto::{Aead, RustCrypto};
use proptest::prelude::*;

type RefCcm = ccm::Ccm<aes::Aes128, ccm::consts::U8, ccm::consts::U13>;

const ALGS: [AeadAlgorithm; 3] = [
    AeadAlgorithm::AesCcm16_64_128,
    AeadAlgorithm::A128Gcm,
    AeadAlgorithm::ChaCha20Poly1305,
];

fn backend() -> RustCrypto<getrandom::SysRng> {
    RustCrypto::from_os()
}

/// `data` cut at `cuts` (taken modulo `data.len() + 1`, sorted; repeated cuts make empty pieces),
/// with an empty piece at both ends.
fn split<'a>(data: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    at.sort_unstable();
    let mut pieces = vec![&data[..0]];
    let mut start = 0;
    for c in at {
        pieces.push(&data[start..c]);
        start = c;
    }
    pieces.push(&data[start..]);
    pieces.push(&data[data.len()..]);
    pieces
}

fn ref_seal_with<A: AeadInOut + KeyInit>(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    pt: &[u8],
) -> Vec<u8> {
    let cipher = A::new_from_slice(key).unwrap();
    let nonce = aes_gcm::aead::Nonce::<A>::try_from(nonce).unwrap();
    let mut out = pt.to_vec();
    let tag = cipher
        .encrypt_inout_detached(&nonce, aad, out.as_mut_slice().into())
        .unwrap();
    out.extend_from_slice(&tag);
    out
}

/// The reference crate's `ciphertext || tag` over the whole associated data.
fn ref_seal(alg: AeadAlgorithm, key: &[u8], nonce: &[u8], aad: &[u8], pt: &[u8]) -> Vec<u8> {
    match alg {
        AeadAlgorithm::AesCcm16_64_128 => ref_seal_with::<RefCcm>(key, nonce, aad, pt),
        AeadAlgorithm::A128Gcm => ref_seal_with::<aes_gcm::Aes128Gcm>(key, nonce, aad, pt),
        AeadAlgorithm::ChaCha20Poly1305 => {
            ref_seal_with::<chacha20poly1305::ChaCha20Poly1305>(key, nonce, aad, pt)
        }
        _ => unreachable!(),
    }
}

/// Our `ciphertext || tag` with the associated data in `pieces`.
fn seal(alg: AeadAlgorithm, key: &[u8], nonce: &[u8], pieces: &[&[u8]], pt: &[u8]) -> Vec<u8> {
    let mut out = pt.to_vec();
    let mut tag = vec![0u8; alg.tag_len()];
    backend()
        .aead_encrypt(alg, key, nonce, pieces, &mut out, &mut tag)
        .unwrap();
    out.extend_from_slice(&tag);
    out
}

/// Our decryption of `ciphertext || tag`: the result and what the buffer holds afterwards.
fn open(
    alg: AeadAlgorithm,
    key: &[u8],
    nonce: &[u8],
    pieces: &[&[u8]],
    sealed: &[u8],
) -> (Result<(), Error>, Vec<u8>) {
    let (ct, tag) = sealed.split_at(sealed.len() - alg.tag_len());
    let mut buf = ct.to_vec();
    let r = backend().aead_decrypt(alg, key, nonce, pieces, &mut buf, tag);
    (r, buf)
}

fn alg_strategy() -> impl Strategy<Value = AeadAlgorithm> {
    (0..ALGS.len()).prop_map(|i| ALGS[i])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Same bytes as the reference crate on the concatenated associated data, however it is cut;
    /// decryption with another cut gives the plaintext back.
    #[test]
    fn matches_reference_and_round_trips(
        alg in alg_strategy(),
        key in prop::array::uniform32(any::<u8>()),
        nonce in prop::array::uniform13(any::<u8>()),
        pt in prop::collection::vec(any::<u8>(), 0..300),
        aad in prop::collection::vec(any::<u8>(), 0..300),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
        other_cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let key = &key[..alg.key_len()];
        let nonce = &nonce[..alg.nonce_len()];
        let ours = seal(alg, key, nonce, &split(&aad, &cuts), &pt);
        prop_assert_eq!(&ours, &ref_seal(alg, key, nonce, &aad, &pt));
        let (r, back) = open(alg, key, nonce, &split(&aad, &other_cuts), &ours);
        prop_assert_eq!(r, Ok(()));
        prop_assert_eq!(back, pt);
    }

    /// A flipped bit in the tag, the ciphertext or the associated data is rejected and the buffer zeroed.
    #[test]
    fn tampering_is_rejected_and_zeroes_the_buffer(
        alg in alg_strategy(),
        key in prop::array::uniform32(any::<u8>()),
        nonce in prop::array::uniform13(any::<u8>()),
        pt in prop::collection::vec(any::<u8>(), 0..300),
        mut aad in prop::collection::vec(any::<u8>(), 0..300),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
        target in 0..3usize,
        at in any::<usize>(),
        bit in 0..8u8,
    ) {
        let key = &key[..alg.key_len()];
        let nonce = &nonce[..alg.nonce_len()];
        let mut sealed = seal(alg, key, nonce, &split(&aad, &cuts), &pt);
        match target {
            1 if !pt.is_empty() => sealed[at % pt.len()] ^= 1 << bit,
            2 if !aad.is_empty() => {
                let i = at % aad.len();
                aad[i] ^= 1 << bit;
            }
            _ => {
                let i = pt.len() + at % alg.tag_len();
                sealed[i] ^= 1 << bit;
            }
        }
        let (r, buf) = open(alg, key, nonce, &split(&aad, &cuts), &sealed);
        prop_assert_eq!(r, Err(Error::BadTag));
        prop_assert!(buf.iter().all(|&b| b == 0), "buffer not zeroed: {:?}", buf);
    }
}

/// Associated data around and beyond 2^16 - 2^8 bytes (where CCM switches to the 0xFFFE length form;
/// no cap in the backend), in pieces of every size including empty ones and a lone byte.
#[test]
fn long_associated_data_in_pieces() {
    let mut state = 0x2545_f491_u32;
    let all: Vec<u8> = (0..70_001)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect();
    let pt = &all[..123];
    let cuts = [0, 1, 17, 17, 4096, 65_270, 65_279, 70_000];
    for len in [0xFF00 - 1, 0xFF00, all.len()] {
        let aad = &all[..len];
        let pieces = split(aad, &cuts);
        assert!(pieces.len() > 8 && pieces.iter().any(|p| p.is_empty()));
        for alg in ALGS {
            let key = &all[1000..1000 + alg.key_len()];
            let nonce = &all[2000..2000 + alg.nonce_len()];
            let ours = seal(alg, key, nonce, &pieces, pt);
            assert_eq!(ours, ref_seal(alg, key, nonce, aad, pt), "{alg:?} {len}");
            let (r, back) = open(alg, key, nonce, &[aad], &ours);
            assert_eq!((r, back.as_slice()), (Ok(()), pt), "{alg:?} {len}");

            let mut changed = aad.to_vec();
            changed[len - 2] ^= 0x80;
            let (r, buf) = open(alg, key, nonce, &split(&changed, &cuts), &ours);
            assert_eq!(r, Err(Error::BadTag), "{alg:?} {len}");
            assert!(buf.iter().all(|&b| b == 0), "{alg:?} {len}");
        }
    }
}

/// CCM with L = 2 carries at most 2^16 - 1 bytes: the boundary matches the reference, one more is refused.
#[test]
fn ccm_message_length_limit() {
    let alg = AeadAlgorithm::AesCcm16_64_128;
    let (key, nonce) = ([7u8; 16], [9u8; 13]);
    let pt = vec![0x5a; 0xFFFF];
    let aad: &[u8] = b"aad";
    assert_eq!(
        seal(alg, &key, &nonce, &[&aad[..1], &aad[1..]], &pt),
        ref_seal(alg, &key, &nonce, aad, &pt)
    );
    let mut buf = vec![0x5a; 0x1_0000];
    let mut tag = [0u8; 8];
    let r = backend().aead_encrypt(alg, &key, &nonce, &[aad], &mut buf, &mut tag);
    assert_eq!(r, Err(Error::CapacityExceeded));
    assert!(
        buf.iter().all(|&b| b == 0x5a),
        "refused input left untouched"
    );
}

#[test]
fn wrong_lengths_are_typed_errors() {
    let mut crypto = backend();
    for alg in ALGS {
        let key = vec![1u8; alg.key_len()];
        let nonce = vec![2u8; alg.nonce_len()];
        let mut buf = [3u8; 20];
        let mut tag = vec![0u8; alg.tag_len()];
        let short_key = &key[1..];
        let r = crypto.aead_encrypt(alg, short_key, &nonce, &[], &mut buf, &mut tag);
        assert_eq!(r, Err(Error::InvalidKey), "{alg:?}");
        let r = crypto.aead_encrypt(alg, &key, &nonce[1..], &[], &mut buf, &mut tag);
        assert_eq!(r, Err(Error::InvalidNonce), "{alg:?}");
        let r = crypto.aead_encrypt(alg, &key, &nonce, &[], &mut buf, &mut tag[1..]);
        assert_eq!(r, Err(Error::BufferTooSmall), "{alg:?}");
        crypto
            .aead_encrypt(alg, &key, &nonce, &[], &mut buf, &mut tag)
            .unwrap();
        let r = crypto.aead_decrypt(alg, &key, &nonce, &[], &mut buf, &tag[1..]);
        assert_eq!(r, Err(Error::BadTag), "{alg:?}");
        assert_eq!(buf, [0u8; 20], "{alg:?}");
    }
}

/// A key prepared once serves many messages, each sealed and opened as the one-shot calls do;
/// a bad key or a wrong tag under it leaves no plaintext.
#[test]
fn prepared_key_serves_many_messages() {
    let mut crypto = backend();
    for alg in ALGS {
        let key_bytes = vec![0x42u8; alg.key_len()];
        let key = crypto.aead_key(alg, &key_bytes).unwrap();
        assert_eq!(key.alg(), alg);
        for i in 0..3u8 {
            let nonce = vec![i; alg.nonce_len()];
            let pt = vec![i ^ 0x5a; 17 + usize::from(i) * 20];
            let mut buf = pt.clone();
            let mut tag = vec![0u8; alg.tag_len()];
            crypto
                .aead_seal(&key, &nonce, &[b"a", b"ad"], &mut buf, &mut tag)
                .unwrap();
            let mut sealed = buf.clone();
            sealed.extend_from_slice(&tag);
            assert_eq!(
                sealed,
                ref_seal(alg, &key_bytes, &nonce, b"aad", &pt),
                "{alg:?}"
            );
            crypto
                .aead_open(&key, &nonce, &[b"aad"], &mut buf, &tag)
                .unwrap();
            assert_eq!(buf, pt, "{alg:?}");
            tag[0] ^= 1;
            let mut ct = sealed[..pt.len()].to_vec();
            let r = crypto.aead_open(&key, &nonce, &[b"aad"], &mut ct, &tag);
            assert_eq!(r, Err(Error::BadTag), "{alg:?}");
            assert!(ct.iter().all(|&b| b == 0), "{alg:?}");
        }
        let r = crypto.aead_key(alg, &key_bytes[1..]);
        assert_eq!(r.map(|_| ()), Err(Error::InvalidKey), "{alg:?}");
        let mut buf = [7u8; 4];
        let r = crypto.aead_decrypt(alg, &key_bytes[1..], &[0; 13], &[], &mut buf, &[0; 16]);
        assert_eq!((r, buf), (Err(Error::InvalidKey), [0; 4]), "{alg:?}");
    }
}

/// RFC 8439 section 2.8.2 (transcribed), with the associated data cut in three.
#[test]
fn rfc8439_section_2_8_2() {
    let key: Vec<u8> = (0x80..=0x9f).collect();
    let nonce = hex::decode("070000004041424344454647").unwrap();
    let aad = hex::decode("50515253c0c1c2c3c4c5c6c7").unwrap();
    let pt: &[u8] =
        b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the \
future, sunscreen would be it.";
    let expected = hex::decode(concat!(
        "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6",
        "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36",
        "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc",
        "3ff4def08e4b7a9de576d26586cec64b6116",
        "1ae10b594f09e26a7e902ecbd0600691",
    ))
    .unwrap();
    let alg = AeadAlgorithm::ChaCha20Poly1305;
    let pieces = [&aad[..3], &aad[3..3], &aad[3..]];
    assert_eq!(seal(alg, &key, &nonce, &pieces, pt), expected);
    let (r, back) = open(alg, &key, &nonce, &[&aad], &expected);
    assert_eq!((r, back.as_slice()), (Ok(()), pt));
}

/// The GCM specification's test case 4 (AES-128, 60-byte plaintext, 20-byte associated data).
#[test]
fn gcm_spec_test_case_4() {
    let key = hex::decode("feffe9928665731c6d6a8f9467308308").unwrap();
    let nonce = hex::decode("cafebabefacedbaddecaf888").unwrap();
    let aad = hex::decode("feedfacedeadbeeffeedfacedeadbeefabaddad2").unwrap();
    let pt = hex::decode(concat!(
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72",
        "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
    ))
    .unwrap();
    let expected = hex::decode(concat!(
        "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e",
        "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
        "5bc94fbc3221a5db94fae95ae7121a47",
    ))
    .unwrap();
    let alg = AeadAlgorithm::A128Gcm;
    let pieces = [&aad[..15], &aad[15..17], &aad[17..]];
    assert_eq!(seal(alg, &key, &nonce, &pieces, &pt), expected);
    let (r, back) = open(alg, &key, &nonce, &pieces, &expected);
    assert_eq!((r, back), (Ok(()), pt));
}

/// COSE Examples aes-ccm-examples enc-01 (AES-CCM-16-64-128, M = 8, L = 2): the Enc_structure in the
/// pieces COSE writes it in (array head and context, protected bstr head, protected, external_aad).
#[test]
fn ccm_cose_enc_01() {
    let key = base64ct::Base64UrlUnpadded::decode_vec("hJtXIZ2uSN5kbQfbtTNWbg").unwrap();
    let nonce = hex::decode("89F52F65A1C580933B5261A72F").unwrap();
    let aad = hex::decode("8368456E63727970743043A1010A40").unwrap();
    let expected = hex::decode("6899DA0A132BD2D2B9B10915743EE1F7B92A4680E7C51BDBC1B320EA").unwrap();
    let pt: &[u8] = b"This is the content.";
    let alg = AeadAlgorithm::AesCcm16_64_128;
    let pieces = [
        &aad[..10],
        &aad[10..11],
        &aad[11..14],
        &aad[14..],
        &aad[15..],
    ];
    assert_eq!(seal(alg, &key, &nonce, &pieces, pt), expected);
    let (r, back) = open(alg, &key, &nonce, &pieces, &expected);
    assert_eq!((r, back.as_slice()), (Ok(()), pt));
}
