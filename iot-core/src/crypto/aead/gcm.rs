//! A128GCM (COSE algorithm 1, RFC 9053 section 4.1): GCM (NIST SP 800-38D) over AES-128 with a 12-byte
//! nonce and a 16-byte tag; GHASH from the `ghash` crate, counter mode (32-bit big-endian counter) from the `ctr` crate.

use super::{Blocks, aes_ctr, total_len};
use crate::crypto::ct_eq;
use crate::error::{Error, Result};
use aes::Aes128Enc;
use aes::Block;
use aes::cipher::{BlockCipherEncrypt, KeyInit};
use ghash::GHash;
use ghash::universal_hash::UniversalHash;
use zeroize::Zeroize;

/// Key length in bytes.
pub(crate) const KEY_LEN: usize = 16;
/// Nonce length in bytes (the 96-bit IV of SP 800-38D section 5.2.1.1).
pub(crate) const NONCE_LEN: usize = 12;
/// Tag length in bytes.
pub(crate) const TAG_LEN: usize = 16;
/// Longest plaintext: 2^39 - 256 bits (SP 800-38D section 5.2.1.1).
const P_MAX: u64 = (1 << 36) - 32;
/// Longest associated data: 2^64 - 1 bits.
const A_MAX: u64 = (1 << 61) - 1;

/// AES-128-GCM; the key schedule and the hash key zeroize on drop.
pub(crate) struct Aes128Gcm {
    cipher: Aes128Enc,
    ghash: GHash,
}

/// `nonce || counter` (32-bit big-endian), the counter blocks of SP 800-38D section 7.1; J_0 has counter 1.
fn counter_block(nonce: &[u8; NONCE_LEN], counter: u32) -> Block {
    let mut b = Block::default();
    for (dst, src) in b
        .iter_mut()
        .zip(nonce.iter().copied().chain(counter.to_be_bytes()))
    {
        *dst = src;
    }
    b
}

impl Aes128Gcm {
    /// The cipher under a 16-byte key; the hash key is H = E(K, 0^128).
    pub(crate) fn new(key: &[u8]) -> Result<Self> {
        if key.len() != KEY_LEN {
            return Err(Error::InvalidKey);
        }
        let cipher = Aes128Enc::new_from_slice(key).map_err(|_| Error::InvalidKey)?;
        let mut h = Block::default();
        cipher.encrypt_block(&mut h);
        let ghash = GHash::new(&h);
        h.as_mut_slice().zeroize();
        Ok(Self { cipher, ghash })
    }

    fn check<'n>(
        nonce: &'n [u8],
        aad: &[&[u8]],
        message: &[u8],
    ) -> Result<(&'n [u8; NONCE_LEN], u64)> {
        let nonce = nonce.try_into().map_err(|_| Error::InvalidNonce)?;
        let aad_len = total_len(aad).ok_or(Error::CapacityExceeded)?;
        let msg_len = u64::try_from(message.len()).map_err(|_| Error::CapacityExceeded)?;
        if msg_len > P_MAX || aad_len > A_MAX {
            return Err(Error::CapacityExceeded);
        }
        Ok((nonce, aad_len))
    }

    /// The tag (SP 800-38D section 7.1 steps 5 and 6): GHASH over the padded associated data (in
    /// pieces), the padded ciphertext and the two bit lengths, masked with E(K, J_0).
    fn tag(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[&[u8]],
        aad_len: u64,
        ciphertext: &[u8],
    ) -> [u8; TAG_LEN] {
        let mut ghash = self.ghash.clone();
        let mut blocks = Blocks::new();
        for piece in aad {
            blocks.update(piece, |b| ghash.update(b));
        }
        blocks.finish_padded(|b| ghash.update(b));
        ghash.update_padded(ciphertext);
        // Both lengths fit: check() bounds them well below 2^61 bytes.
        let ct_bits = (ciphertext.len() as u64).wrapping_mul(8);
        let mut lengths = Block::default();
        for (dst, src) in lengths.iter_mut().zip(
            aad_len
                .wrapping_mul(8)
                .to_be_bytes()
                .into_iter()
                .chain(ct_bits.to_be_bytes()),
        ) {
            *dst = src;
        }
        ghash.update(core::slice::from_ref(&lengths));
        let mut s = ghash.finalize();
        let mut mask = counter_block(nonce, 1);
        self.cipher.encrypt_block(&mut mask);
        let mut tag = [0u8; TAG_LEN];
        for (t, (a, b)) in tag.iter_mut().zip(s.iter().zip(mask.iter())) {
            *t = a ^ b;
        }
        s.as_mut_slice().zeroize();
        mask.as_mut_slice().zeroize();
        tag
    }

    /// Encrypts `buffer` in place and writes the 16-byte tag into `tag`.
    pub(crate) fn encrypt(
        &self,
        nonce: &[u8],
        aad: &[&[u8]],
        buffer: &mut [u8],
        tag: &mut [u8],
    ) -> Result<()> {
        let (nonce, aad_len) = Self::check(nonce, aad, buffer)?;
        if tag.len() != TAG_LEN {
            return Err(Error::BufferTooSmall);
        }
        aes_ctr(&self.cipher, &counter_block(nonce, 2), buffer)?;
        tag.copy_from_slice(&self.tag(nonce, aad, aad_len, buffer));
        Ok(())
    }

    /// Checks `tag` and then decrypts `buffer` in place; on any failure `buffer` is zeroed.
    pub(crate) fn decrypt(
        &self,
        nonce: &[u8],
        aad: &[&[u8]],
        buffer: &mut [u8],
        tag: &[u8],
    ) -> Result<()> {
        let result = Self::check(nonce, aad, buffer).and_then(|(nonce, aad_len)| {
            if !ct_eq(&self.tag(nonce, aad, aad_len, buffer), tag) {
                return Err(Error::BadTag);
            }
            aes_ctr(&self.cipher, &counter_block(nonce, 2), buffer)
        });
        if result.is_err() {
            buffer.fill(0);
        }
        result
    }
}
