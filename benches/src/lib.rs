//! Fixtures shared by the criterion benches in `benches/`: messages made once with iot-core,
//! plus the parts a peer or a raw crypto crate needs to do the same work on the same bytes.
//!
//! Run `cargo bench -p iot-benches` (add `-- --quick` for a short run).

use iot_core::Result;
use iot_core::cose::{Algorithm, CoseEncrypt0, CoseSign1, Encrypt0Builder, Sign1Builder};
use iot_core::crypto::{P256SigningKey, RustCrypto, Sha256};

/// External AAD used by every fixture.
pub const EXTERNAL_AAD: &[u8] = b"bench external aad";

/// A tagged ES256 COSE_Sign1 (RFC 9052 section 4.2) and what a raw verifier needs.
#[derive(Debug, Clone)]
pub struct Sign1Fixture {
    /// The encoded message.
    pub message: Vec<u8>,
    /// The signer's public key, SEC1 uncompressed (`04 || x || y`).
    pub public_sec1: [u8; 65],
    /// SHA-256 of the message's Sig_structure (the prehash ECDSA verifies).
    pub digest: [u8; 32],
    /// The `r || s` signature.
    pub signature: [u8; 64],
}

impl Sign1Fixture {
    /// Signs `payload_len` bytes with a fixed key (RFC 6979, so the bytes are the same every run).
    pub fn new(payload_len: usize) -> Result<Self> {
        let mut crypto = RustCrypto::from_os();
        let mut key = P256SigningKey::from_bytes(&[0x42; 32])?;
        let payload = pattern(payload_len);
        let mut buf = vec![0u8; payload_len + 256];
        let n = Sign1Builder::new(Algorithm::Es256).kid(b"bench").sign(
            &mut crypto,
            &mut key,
            &payload,
            EXTERNAL_AAD,
            &mut buf,
        )?;
        buf.truncate(n);
        let msg = CoseSign1::decode(&buf)?;
        let mut tbs = Vec::new();
        msg.write_to_be_signed(None, EXTERNAL_AAD, &mut tbs)?;
        let digest = crypto.sha256(&tbs);
        let signature = msg
            .signature
            .try_into()
            .map_err(|_| iot_core::Error::BadSignature)?;
        let public_sec1 = key.verifying_key().to_sec1_uncompressed();
        Ok(Self {
            message: buf,
            public_sec1,
            digest,
            signature,
        })
    }
}

/// A tagged COSE_Encrypt0 (RFC 9052 section 5.2) and the raw AEAD inputs it carries.
#[derive(Debug, Clone)]
pub struct Encrypt0Fixture {
    /// The AEAD.
    pub alg: Algorithm,
    /// The key.
    pub key: Vec<u8>,
    /// The encoded message.
    pub message: Vec<u8>,
    /// The nonce (the message's IV header).
    pub nonce: Vec<u8>,
    /// The Enc_structure (RFC 9052 section 5.3), the AEAD's associated data.
    pub aad: Vec<u8>,
    /// Ciphertext without the tag.
    pub ciphertext: Vec<u8>,
    /// The tag.
    pub tag: Vec<u8>,
    /// The plaintext, to check decryptions against.
    pub plaintext: Vec<u8>,
}

impl Encrypt0Fixture {
    /// Encrypts `len` bytes under a fixed key and IV with the AEAD `alg`.
    pub fn new(alg: Algorithm, len: usize) -> Result<Self> {
        let aead = alg.aead().ok_or(iot_core::Error::AlgorithmMismatch)?;
        let key = vec![0x5a; aead.key_len()];
        let iv = vec![0x24; aead.nonce_len()];
        let plaintext = pattern(len);
        let mut buf = vec![0u8; len + 128];
        let n = Encrypt0Builder::new(alg).kid(b"bench").iv(&iv).encrypt(
            &mut RustCrypto::from_os(),
            &iot_core::cose::SymmetricKey::new(&key),
            &plaintext,
            EXTERNAL_AAD,
            &mut buf,
        )?;
        buf.truncate(n);
        let msg = CoseEncrypt0::decode(&buf)?;
        let aad = msg.enc_structure(EXTERNAL_AAD)?.pieces().concat();
        let ct = msg.ciphertext.ok_or(iot_core::Error::PayloadMismatch)?;
        let (ciphertext, tag) = ct.split_at(len);
        let (ciphertext, tag) = (ciphertext.to_vec(), tag.to_vec());
        Ok(Self {
            alg,
            key,
            message: buf,
            nonce: iv,
            aad,
            ciphertext,
            tag,
            plaintext,
        })
    }
}

/// `len` bytes of a fixed pattern.
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Times `ours` and `floor` alternately, `ROUNDS` rounds of about a millisecond each, prints the
/// fastest round of each in ns per call and their ratio, and returns `(ours, floor)`.
///
/// Criterion times one function after the other, so on a shared machine a load change between
/// the two skews their ratio; alternating, and keeping each side's least disturbed round,
/// compares them under the same conditions.
pub fn interleaved_ratio(
    group: &str,
    mut ours: impl FnMut(),
    mut floor: impl FnMut(),
) -> (f64, f64) {
    const ROUNDS: usize = 200;
    const ROUND: core::time::Duration = core::time::Duration::from_millis(1);
    let calls = |f: &mut dyn FnMut()| {
        let t = std::time::Instant::now();
        f();
        (ROUND.as_nanos() / t.elapsed().as_nanos().max(1)).clamp(1, 1_000_000) as u32
    };
    let (n_ours, n_floor) = (calls(&mut ours), calls(&mut floor));
    let round = |f: &mut dyn FnMut(), n: u32| {
        let t = std::time::Instant::now();
        for _ in 0..n {
            f();
        }
        t.elapsed().as_nanos() as f64 / f64::from(n)
    };
    let (mut best_ours, mut best_floor) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..ROUNDS {
        best_ours = best_ours.min(round(&mut ours, n_ours));
        best_floor = best_floor.min(round(&mut floor, n_floor));
    }
    println!(
        "{group}: interleaved fastest of {ROUNDS} rounds: ours {best_ours:.0} ns, floor \
         {best_floor:.0} ns, ratio {:.3}",
        best_ours / best_floor
    );
    (best_ours, best_floor)
}
