//! A128GCM (COSE algorithm 1, RFC 9053 section 4.1): GCM (NIST SP 800-38D) over AES-128 with a 12-byte
//! nonce and a 16-byte tag; GHASH from the `ghash` crate, counter mode (32-bit big-endian counter) from the `ctr` crate.

use super::{Blocks, aes_ctr, total_len};
use crate::crypto::ct_eq;
use crate::error::{Error, Result};
use aes::Aes128Enc;
use aes::Block;
use aes::cipher::{BlockCipherEncrypt, KeyInit, KeyIvInit, StreamCipher};
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

/// The tag from GHASH over the padded associated data and ciphertext: the two bit lengths
/// absorbed, the hash masked with `mask` = E(K, J_0) (SP 800-38D section 7.1 steps 5 and 6).
/// Both lengths are bounded by [`A_MAX`] and [`P_MAX`], so their bit counts fit.
fn masked_tag(mut ghash: GHash, aad_len: u64, ct_len: u64, mask: &Block) -> [u8; TAG_LEN] {
    let mut lengths = Block::default();
    for (dst, src) in lengths.iter_mut().zip(
        aad_len
            .wrapping_mul(8)
            .to_be_bytes()
            .into_iter()
            .chain(ct_len.wrapping_mul(8).to_be_bytes()),
    ) {
        *dst = src;
    }
    ghash.update(core::slice::from_ref(&lengths));
    let mut s = ghash.finalize();
    let mut tag = [0u8; TAG_LEN];
    for (t, (a, b)) in tag.iter_mut().zip(s.iter().zip(mask.iter())) {
        *t = a ^ b;
    }
    s.as_mut_slice().zeroize();
    tag
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
        let mut mask = counter_block(nonce, 1);
        self.cipher.encrypt_block(&mut mask);
        let tag = masked_tag(ghash, aad_len, ciphertext.len() as u64, &mask);
        mask.as_mut_slice().zeroize();
        tag
    }

    /// Encrypts `buffer` in place and writes the 16-byte tag into `tag`.
    #[inline(never)]
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
    #[inline(never)]
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

/// A128GCM decryption of a message that arrives in pieces (a firmware image that does not fit
/// in RAM): each piece is absorbed into GHASH and decrypted as it passes, the tag is checked at
/// the end. The plaintext is therefore released before it is authenticated (the caller's
/// business, see [`crate::crypto::AesGcmOpen`]). Key material zeroizes on drop.
pub(crate) struct Aes128GcmOpen {
    ctr: ctr::Ctr32BE<aes::Aes128>,
    ghash: GHash,
    blocks: Blocks,
    aad_len: u64,
    ct_len: u64,
    /// E(K, J_0).
    mask: Block,
}

impl Aes128GcmOpen {
    /// Starts under a 16-byte key and a 12-byte nonce, the associated data absorbed in pieces.
    pub(crate) fn new(key: &[u8], nonce: &[u8], aad: &[&[u8]]) -> Result<Self> {
        let gcm = Aes128Gcm::new(key)?;
        let (nonce, aad_len) = Aes128Gcm::check(nonce, aad, &[])?;
        let mut ghash = gcm.ghash.clone();
        let mut blocks = Blocks::new();
        for piece in aad {
            blocks.update(piece, |b| ghash.update(b));
        }
        blocks.finish_padded(|b| ghash.update(b));
        let mut mask = counter_block(nonce, 1);
        gcm.cipher.encrypt_block(&mut mask);
        let ctr = ctr::Ctr32BE::<aes::Aes128>::new_from_slices(key, &counter_block(nonce, 2))
            .map_err(|_| Error::InvalidKey)?;
        Ok(Self {
            ctr,
            ghash,
            blocks,
            aad_len,
            ct_len: 0,
            mask,
        })
    }

    /// Absorbs the next piece of ciphertext and decrypts it in place.
    pub(crate) fn update(&mut self, data: &mut [u8]) -> Result<()> {
        let ct_len = u64::try_from(data.len())
            .ok()
            .and_then(|n| self.ct_len.checked_add(n))
            .filter(|&n| n <= P_MAX)
            .ok_or(Error::CapacityExceeded)?;
        let ghash = &mut self.ghash;
        self.blocks.update(data, |b| ghash.update(b));
        self.ctr
            .try_apply_keystream(data)
            .map_err(|_| Error::CapacityExceeded)?;
        self.ct_len = ct_len;
        Ok(())
    }

    /// Checks `tag` in constant time after the whole ciphertext ([`Error::BadTag`]).
    pub(crate) fn finish(mut self, tag: &[u8]) -> Result<()> {
        let ghash = &mut self.ghash;
        self.blocks.finish_padded(|b| ghash.update(b));
        let mut expected = masked_tag(self.ghash.clone(), self.aad_len, self.ct_len, &self.mask);
        let ok = ct_eq(&expected, tag);
        expected.zeroize();
        if ok { Ok(()) } else { Err(Error::BadTag) }
    }
}

impl Drop for Aes128GcmOpen {
    fn drop(&mut self) {
        self.mask.as_mut_slice().zeroize();
    }
}
