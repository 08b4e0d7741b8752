//! Firmware encryption: the suit-firmware-encryption examples and libcsuit's encrypted payloads
//! decrypt to their images; tampering, wrong keys and wrong recipient algorithms are refused.

use iot_core::Error as CoreError;
use iot_core::crypto::RustCrypto;
use iot_update_manifest::Error;
use iot_update_manifest::encryption::{Decryptor, Kek, decrypt_in_place};

/// The examples' A128KW key, 'aaaaaaaaaaaaaaaa' (suit-firmware-encryption examples, kid-1).
const KW_KEY: &[u8; 16] = b"aaaaaaaaaaaaaaaa";
/// The examples' receiver P-256 private key for ECDH-ES + A128KW (kid-2).
const ESDH_D: &str = "60FE6DD6D85D5740A5349B6F91267EEAC5BA81B8CB53EE249E4B4EB102C476B3";
const IMAGE: &[u8] = b"This is a real firmware image.";

fn crypto() -> RustCrypto<()> {
    RustCrypto::default()
}

fn esdh() -> Vec<u8> {
    hex::decode(ESDH_D).unwrap()
}

fn read_hex(rel: &str) -> Option<Vec<u8>> {
    let text = iot_test_vectors::read(rel)?;
    let s: String = String::from_utf8(text)
        .unwrap()
        .chars()
        .filter(|c| c.is_ascii_hexdigit())
        .collect();
    Some(hex::decode(s).unwrap())
}

/// (name, SUIT_Encryption_Info, encrypted payload) of the four draft examples.
fn draft_cases() -> Option<Vec<(&'static str, Vec<u8>, Vec<u8>)>> {
    let mut out = Vec::new();
    for name in [
        "aes-kw-aes-ctr",
        "aes-kw-aes-gcm",
        "es-ecdh-aes-ctr",
        "es-ecdh-aes-gcm",
    ] {
        let info = read_hex(&format!("suit/encryption/suit-encryption-info-{name}.hex"))?;
        let payload = read_hex(&format!("suit/encryption/encrypted-payload-{name}.hex"))?;
        out.push((name, info, payload));
    }
    Some(out)
}

fn kek_for<'k>(name: &str, d: &'k [u8]) -> Kek<'k> {
    if name.starts_with("aes-kw") {
        Kek::A128Kw(KW_KEY)
    } else {
        Kek::EcdhEsP256(d)
    }
}

/// Decrypts `payload` in chunks of `chunk` bytes, as the processor does while writing.
fn decrypt_chunked(
    info: &[u8],
    kek: &Kek<'_>,
    payload: &[u8],
    chunk: usize,
) -> Result<Vec<u8>, Error> {
    let mut c = crypto();
    let mut d = Decryptor::open(&mut c, info, kek)?;
    let n = payload.len() - d.tag_len();
    let (body, tag) = payload.split_at(n);
    let mut out = Vec::new();
    for piece in body.chunks(chunk) {
        let mut buf = piece.to_vec();
        d.decrypt(&mut buf)?;
        out.extend(buf);
    }
    d.finish(tag)?;
    Ok(out)
}

#[test]
fn draft_examples_decrypt() {
    let Some(cases) = draft_cases() else { return };
    let d = esdh();
    for (name, info, payload) in &cases {
        let kek = kek_for(name, &d);
        let mut buf = payload.clone();
        let n = decrypt_in_place(&mut crypto(), info, &kek, &mut buf)
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(&buf[..n], IMAGE, "{name}");
        // Any chunking gives the same plaintext (partial blocks carried across chunks).
        for chunk in [1, 3, 7, 16, 17] {
            assert_eq!(
                decrypt_chunked(info, &kek, payload, chunk).unwrap(),
                IMAGE,
                "{name} / {chunk}"
            );
        }
    }
}

#[test]
fn libcsuit_payloads_decrypt() {
    const DIR: &str = "suit/libcsuit";
    let Some(raw) = iot_test_vectors::read(&format!("{DIR}/raw_image.bin")) else {
        return;
    };
    assert_eq!(raw, IMAGE);
    let config = iot_test_vectors::read(&format!("{DIR}/config.json")).unwrap();
    let d = esdh();
    for (info, payload, kek, expected) in [
        (
            "encryption_info_aes.cose",
            "encrypted_image_aes.bin",
            Kek::A128Kw(KW_KEY),
            &raw,
        ),
        (
            "encryption_info_esdh.cose",
            "encrypted_image_esdh.bin",
            Kek::EcdhEsP256(&d),
            &raw,
        ),
        (
            "encryption_info_config_aes.cose",
            "encrypted_config_aes.bin",
            Kek::A128Kw(KW_KEY),
            &config,
        ),
        (
            "encryption_info_config_esdh.cose",
            "encrypted_config_esdh.bin",
            Kek::EcdhEsP256(&d),
            &config,
        ),
    ] {
        let info = iot_test_vectors::read(&format!("{DIR}/{info}")).unwrap();
        let payload = iot_test_vectors::read(&format!("{DIR}/{payload}")).unwrap();
        let plain = decrypt_chunked(&info, &kek, &payload, 5)
            .unwrap_or_else(|e| panic!("{payload:?}: {e:?}"));
        assert_eq!(&plain, expected);
    }
}

#[test]
fn tampered_wrong_key_wrong_alg_refused() {
    let Some(cases) = draft_cases() else { return };
    let d = esdh();
    let mut other_d = d.clone();
    other_d[31] ^= 1;
    for (name, info, payload) in &cases {
        let kek = kek_for(name, &d);
        let gcm = name.ends_with("gcm");
        // A flipped ciphertext bit: GCM refuses it and zeroes the buffer; CTR cannot tell (the
        // manifest's image digest is what catches it) and yields a different image.
        for i in [0, payload.len() - 1] {
            let mut buf = payload.clone();
            buf[i] ^= 1;
            let r = decrypt_in_place(&mut crypto(), info, &kek, &mut buf);
            if gcm {
                assert_eq!(r, Err(Error::Core(CoreError::BadTag)), "{name}");
                assert!(buf.iter().all(|&b| b == 0));
                assert_eq!(
                    decrypt_chunked(
                        info,
                        &kek,
                        &{
                            let mut p = payload.clone();
                            p[i] ^= 1;
                            p
                        },
                        4
                    ),
                    Err(Error::Core(CoreError::BadTag))
                );
            } else {
                let n = r.unwrap();
                assert_ne!(&buf[..n], IMAGE);
            }
        }
        // A wrong key: the AES-KW integrity check fails before any plaintext.
        let wrong = match kek {
            Kek::A128Kw(_) => Kek::A128Kw(b"bbbbbbbbbbbbbbbb"),
            Kek::EcdhEsP256(_) => Kek::EcdhEsP256(&other_d),
        };
        let mut buf = payload.clone();
        assert_eq!(
            decrypt_in_place(&mut crypto(), info, &wrong, &mut buf),
            Err(Error::Core(CoreError::BadTag)),
            "{name}"
        );
        // A key of the other recipient algorithm finds no recipient.
        let wrong_alg = match kek {
            Kek::A128Kw(_) => Kek::EcdhEsP256(&d),
            Kek::EcdhEsP256(_) => Kek::A128Kw(KW_KEY),
        };
        assert_eq!(
            Decryptor::open(&mut crypto(), info, &wrong_alg).unwrap_err(),
            Error::Core(CoreError::AlgorithmMismatch),
            "{name}"
        );
        // A tampered wrapped key (the last bytes of the info are the recipient's ciphertext).
        let mut bad_info = info.clone();
        *bad_info.last_mut().unwrap() ^= 1;
        assert_eq!(
            Decryptor::open(&mut crypto(), &bad_info, &kek).unwrap_err(),
            Error::Core(CoreError::BadTag),
            "{name}"
        );
    }
}
