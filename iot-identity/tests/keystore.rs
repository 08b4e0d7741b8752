//! The KeyStore trait and the software key store sealed with COSE_Encrypt0.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

use iot_core::cose::{Algorithm, CoseEncrypt0, CoseKey, SymmetricKey};
use iot_core::crypto::{P256VerifyingKey, RustCrypto, Sha256, Signer, Verifier};
use iot_identity::keystore::{
    KeySlot, KeyStore, KeyStoreError, SEALED_KEY_MAX_LEN, SoftwareKeyStore, StoreSigner,
};

type Store = SoftwareKeyStore<RustCrypto<getrandom::SysRng>, 4>;

const SEAL16: [u8; 16] = [0x5e; 16];
const SEAL32: [u8; 32] = [0xa7; 32];

fn store(seal: &[u8]) -> Store {
    SoftwareKeyStore::new(RustCrypto::from_os(), seal).unwrap()
}

fn digest(msg: &[u8]) -> [u8; 32] {
    RustCrypto::from_os().sha256(msg)
}

fn verify(public: &iot_identity::keystore::P256PublicKey, d: &[u8; 32], sig: &[u8]) -> bool {
    P256VerifyingKey::from_sec1(public.as_sec1())
        .unwrap()
        .verify_digest(d, sig)
        .is_ok()
}

#[test]
fn generate_sign_and_verify() {
    let mut s = store(&SEAL16);
    let slot = KeySlot(1);
    let public = s.generate(slot).unwrap();
    assert_eq!(s.public_key(slot).unwrap(), public);
    let d = digest(b"challenge");
    let sig = s.sign_digest(slot, &d).unwrap();
    assert!(verify(&public, &d, &sig));
    assert!(!verify(&public, &digest(b"other"), &sig));
    // Through the iot-core Signer adapter.
    let mut signer = StoreSigner::new(&mut s, slot);
    assert_eq!(signer.public_key().unwrap(), public);
    let sig2 = signer.sign_digest(&d).unwrap();
    assert!(verify(&public, &d, &sig2));
}

#[test]
fn slots_are_checked() {
    let mut s = store(&SEAL16);
    assert_eq!(
        s.generate(KeySlot(4)),
        Err(KeyStoreError::NoSuchSlot(KeySlot(4)))
    );
    assert_eq!(
        s.sign_digest(KeySlot(0), &[0; 32]),
        Err(KeyStoreError::EmptySlot(KeySlot(0)))
    );
    s.generate(KeySlot(0)).unwrap();
    assert_eq!(
        s.generate(KeySlot(0)),
        Err(KeyStoreError::SlotInUse(KeySlot(0)))
    );
    let mut signer = StoreSigner::new(&mut s, KeySlot(3));
    assert_eq!(
        signer.sign_digest(&[0; 32]),
        Err(iot_core::Error::InvalidKey)
    );
}

#[test]
fn destroy_empties_the_slot() {
    let mut s = store(&SEAL16);
    let slot = KeySlot(2);
    s.generate(slot).unwrap();
    assert!(s.is_occupied(slot));
    s.destroy(slot).unwrap();
    assert!(!s.is_occupied(slot));
    assert_eq!(s.public_key(slot), Err(KeyStoreError::EmptySlot(slot)));
    assert_eq!(
        s.sign_digest(slot, &[1; 32]),
        Err(KeyStoreError::EmptySlot(slot))
    );
    assert_eq!(s.destroy(slot), Err(KeyStoreError::EmptySlot(slot)));
    // A fresh key in the same slot is another key.
    let a = s.generate(slot).unwrap();
    s.destroy(slot).unwrap();
    let b = s.generate(slot).unwrap();
    assert_ne!(a, b);
}

#[test]
fn sealing_key_lengths() {
    for n in [0, 15, 17, 24, 31, 33] {
        let err = SoftwareKeyStore::<_, 1>::new(RustCrypto::from_os(), &vec![0u8; n]).unwrap_err();
        assert_eq!(err, KeyStoreError::SealingKeyLength(n));
    }
    assert_eq!(store(&SEAL16).sealing_algorithm(), Algorithm::A128Gcm);
    assert_eq!(
        store(&SEAL32).sealing_algorithm(),
        Algorithm::ChaCha20Poly1305
    );
}

fn seal_round_trip(seal: &[u8]) {
    let slot = KeySlot(3);
    let mut a = store(seal);
    let public = a.generate(slot).unwrap();
    let mut blob = [0u8; SEALED_KEY_MAX_LEN];
    let n = a.seal(slot, &mut blob).unwrap();
    let blob = &blob[..n];
    drop(a);

    // After a "reboot": a new store with the same sealing key gets the same key back.
    let mut b = store(seal);
    assert_eq!(b.unseal(slot, blob).unwrap(), public);
    let d = digest(b"after reboot");
    let sig = b.sign_digest(slot, &d).unwrap();
    assert!(verify(&public, &d, &sig));
    assert_eq!(b.unseal(slot, blob), Err(KeyStoreError::SlotInUse(slot)));

    // The blob is a tagged COSE_Encrypt0 whose plaintext is the COSE_Key with kid = slot.
    let msg = CoseEncrypt0::decode(blob).unwrap();
    assert!(msg.tagged);
    let mut pt = [0u8; 160];
    let aad = [b"iot-identity sealed key v1".as_slice(), &[slot.0]].concat();
    let m = msg
        .decrypt(
            &mut RustCrypto::from_os(),
            &SymmetricKey::new(seal),
            &aad,
            &mut pt,
        )
        .unwrap();
    let key = CoseKey::decode(&pt[..m]).unwrap();
    assert_eq!(key.kid(), Some(&[slot.0][..]));
    assert_eq!(
        key.verifying_key().unwrap().to_sec1_uncompressed(),
        *public.as_sec1()
    );
}

#[test]
fn seal_and_unseal_a128gcm() {
    seal_round_trip(&SEAL16);
}

#[test]
fn seal_and_unseal_chacha20poly1305() {
    seal_round_trip(&SEAL32);
}

#[test]
fn every_tampered_sealed_key_is_refused() {
    let slot = KeySlot(0);
    let mut a = store(&SEAL16);
    a.generate(slot).unwrap();
    let mut blob = [0u8; SEALED_KEY_MAX_LEN];
    let n = a.seal(slot, &mut blob).unwrap();
    let blob = blob[..n].to_vec();
    for i in 0..blob.len() {
        for bit in [0x01u8, 0x80] {
            let mut t = blob.clone();
            t[i] ^= bit;
            let mut b = store(&SEAL16);
            let err = b.unseal(slot, &t).unwrap_err();
            assert!(
                matches!(
                    err,
                    KeyStoreError::Tampered | KeyStoreError::MalformedSealedKey
                ),
                "byte {i} bit {bit:#x}: {err:?}"
            );
            assert!(!b.is_occupied(slot), "byte {i}: a tampered key was loaded");
        }
    }
    // Truncated and extended blobs.
    for cut in [0, 1, n / 2, n - 1] {
        assert_eq!(
            store(&SEAL16).unseal(slot, &blob[..cut]),
            Err(KeyStoreError::Tampered)
        );
    }
    let mut longer = blob.clone();
    longer.push(0);
    assert_eq!(
        store(&SEAL16).unseal(slot, &longer),
        Err(KeyStoreError::Tampered)
    );
}

#[test]
fn a_sealed_key_opens_only_under_its_key_and_for_its_slot() {
    let mut a = store(&SEAL16);
    a.generate(KeySlot(1)).unwrap();
    let mut blob = [0u8; SEALED_KEY_MAX_LEN];
    let n = a.seal(KeySlot(1), &mut blob).unwrap();
    let blob = &blob[..n];
    let mut other_key = SEAL16;
    other_key[15] ^= 1;
    assert_eq!(
        store(&other_key).unseal(KeySlot(1), blob),
        Err(KeyStoreError::Tampered)
    );
    assert_eq!(
        store(&SEAL16).unseal(KeySlot(2), blob),
        Err(KeyStoreError::Tampered)
    );
    // A ChaCha20/Poly1305 store refuses an A128GCM blob.
    assert_eq!(
        store(&SEAL32).unseal(KeySlot(1), blob),
        Err(KeyStoreError::Tampered)
    );
    assert_eq!(
        a.seal(KeySlot(0), &mut [0u8; SEALED_KEY_MAX_LEN]),
        Err(KeyStoreError::EmptySlot(KeySlot(0)))
    );
    assert_eq!(
        a.seal(KeySlot(1), &mut [0u8; 40]),
        Err(KeyStoreError::Core(iot_core::Error::BufferTooSmall))
    );
}

#[test]
fn a_well_sealed_blob_with_the_wrong_content_is_malformed() {
    // Sealed correctly (right key, right slot) but holding a key without `d`.
    use iot_core::cose::{Ec2Y, Encrypt0Builder};
    let mut crypto = RustCrypto::from_os();
    let signer = iot_core::crypto::P256SigningKey::generate(&mut crypto).unwrap();
    let public = signer.verifying_key().to_sec1_uncompressed();
    let key = CoseKey::Ec2 {
        kid: Some(&[0]),
        alg: Some(Algorithm::Es256),
        x: &public[1..33],
        y: Ec2Y::Coordinate(&public[33..]),
        d: None,
    };
    let mut pt = [0u8; 128];
    let m = key.encode_to(&mut pt).unwrap();
    let aad = [b"iot-identity sealed key v1".as_slice(), &[0]].concat();
    let mut blob = [0u8; 200];
    let n = Encrypt0Builder::new(Algorithm::A128Gcm)
        .encrypt(
            &mut crypto,
            &SymmetricKey::new(&SEAL16),
            &pt[..m],
            &aad,
            &mut blob,
        )
        .unwrap();
    assert_eq!(
        store(&SEAL16).unseal(KeySlot(0), &blob[..n]),
        Err(KeyStoreError::MalformedSealedKey)
    );
}
