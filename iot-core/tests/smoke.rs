//! Round trips of each message type through our own encoder and decoder.
use iot_core::cose::*;
use iot_core::crypto::{P256SigningKey, RustCrypto};

fn crypto() -> RustCrypto<getrandom::SysRng> {
    RustCrypto::from_os()
}

#[test]
fn sign1_round_trip_and_vector() {
    let mut c = crypto();
    let mut key = P256SigningKey::from_bytes(&[7u8; 32]).unwrap();
    let mut buf = [0u8; 200];
    let n = Sign1Builder::new(Algorithm::Es256)
        .kid(b"k")
        .sign(&mut c, &mut key, b"payload", b"aad", &mut buf)
        .unwrap();
    let m = CoseSign1::decode(&buf[..n]).unwrap();
    m.verify(&mut c, &mut key.verifying_key(), b"aad").unwrap();
    assert_eq!(
        m.verify(&mut c, &mut key.verifying_key(), b"other"),
        Err(iot_core::Error::BadSignature)
    );
    // sign-pass-02 of cose-wg/Examples
    let msg = hex::decode("D28443A10126A10442313154546869732069732074686520636F6E74656E742E584010729CD711CB3813D8D8E944A8DA7111E7B258C9BDCA6135F7AE1ADBEE9509891267837E1E33BD36C150326AE62755C6BD8E540C3E8F92D7D225E8DB72B8820B").unwrap();
    let x =
        hex::decode("bac5b11cad8f99f9c72b05cf4b9e26d244dc189f745228255a219a86d6a09eff").unwrap();
    let y =
        hex::decode("20138bf82dc1b6d562be0fa54ab7804a3a64b6d72ccfed6b6fb6ed28bbfc117e").unwrap();
    let mut vk = iot_core::crypto::P256VerifyingKey::from_coordinates(&x, &y).unwrap();
    CoseSign1::decode(&msg)
        .unwrap()
        .verify(
            &mut c,
            &mut vk,
            &hex::decode("11aa22bb33cc44dd55006699").unwrap(),
        )
        .unwrap();
}

#[test]
fn mac0_and_encrypt0_round_trip() {
    let mut c = crypto();
    let k = [3u8; 32];
    let key = SymmetricKey::new(&k);
    let mut buf = [0u8; 200];
    let n = Mac0Builder::new()
        .mac(&mut c, &key, b"p", b"", &mut buf)
        .unwrap();
    CoseMac0::decode(&buf[..n])
        .unwrap()
        .verify(&mut c, &key, b"")
        .unwrap();
    for alg in [
        Algorithm::AesCcm16_64_128,
        Algorithm::A128Gcm,
        Algorithm::ChaCha20Poly1305,
    ] {
        let key = SymmetricKey::new(&k[..alg.aead().unwrap().key_len()]);
        let n = Encrypt0Builder::new(alg)
            .encrypt(&mut c, &key, b"secret", b"x", &mut buf)
            .unwrap();
        let mut out = [0u8; 64];
        let m = CoseEncrypt0::decode(&buf[..n]).unwrap();
        let len = m.decrypt(&mut c, &key, b"x", &mut out).unwrap();
        assert_eq!(&out[..len], b"secret");
        assert!(m.decrypt(&mut c, &key, b"y", &mut out).is_err());
    }
}
