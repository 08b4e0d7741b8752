//! ChaCha20/Poly1305 (COSE algorithm 24, RFC 9053 section 4.3): the AEAD of RFC 8439 section 2.8 with a
//! 32-byte key, a 12-byte nonce and a 16-byte tag, on the `chacha20` and `poly1305` crates.

use super::{Blocks, total_len};
use crate::crypto::ct_eq;
use crate::error::{Error, Result};
use chacha20::ChaCha20;
use chacha20::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use poly1305::Poly1305;
use poly1305::universal_hash::{KeyInit, UniversalHash};
use zeroize::{Zeroize, Zeroizing};

/// Key length in bytes.
pub(crate) const KEY_LEN: usize = 32;
/// Nonce length in bytes.
pub(crate) const NONCE_LEN: usize = 12;
/// Tag length in bytes.
pub(crate) const TAG_LEN: usize = 16;
/// Length of a ChaCha20 block; block 0 makes the Poly1305 key, the message starts at block 1.
const CHACHA_BLOCK_LEN: usize = 64;

/// ChaCha20-Poly1305; the key zeroizes on drop.
pub(crate) struct ChaCha20Poly1305 {
    key: Zeroizing<[u8; KEY_LEN]>,
}

impl ChaCha20Poly1305 {
    /// The cipher under a 32-byte key.
    pub(crate) fn new(key: &[u8]) -> Result<Self> {
        let mut k = Zeroizing::new([0u8; KEY_LEN]);
        if key.len() != KEY_LEN {
            return Err(Error::InvalidKey);
        }
        k.copy_from_slice(key);
        Ok(Self { key: k })
    }

    /// The keystream positioned at block 1 and the one-time Poly1305 key from block 0
    /// (RFC 8439 section 2.6), after checking the nonce and the message length.
    fn start(
        &self,
        nonce: &[u8],
        aad: &[&[u8]],
        message: &[u8],
    ) -> Result<(ChaCha20, Poly1305, u64)> {
        if nonce.len() != NONCE_LEN {
            return Err(Error::InvalidNonce);
        }
        let aad_len = total_len(aad).ok_or(Error::CapacityExceeded)?;
        // The 32-bit block counter starts at 1: at most 2^32 - 1 blocks of message.
        if message.len() / CHACHA_BLOCK_LEN >= u32::MAX as usize {
            return Err(Error::CapacityExceeded);
        }
        let mut cipher =
            ChaCha20::new_from_slices(self.key.as_slice(), nonce).map_err(|_| Error::InvalidKey)?;
        let mut otk = poly1305::Key::default();
        cipher
            .try_apply_keystream(&mut otk)
            .map_err(|_| Error::CapacityExceeded)?;
        let mac = Poly1305::new(&otk);
        otk.as_mut_slice().zeroize();
        cipher
            .try_seek(CHACHA_BLOCK_LEN as u64)
            .map_err(|_| Error::CapacityExceeded)?;
        Ok((cipher, mac, aad_len))
    }

    /// The tag over `aad || pad16 || ciphertext || pad16 || le64(aad len) || le64(ciphertext len)`
    /// (RFC 8439 section 2.8), with the associated data taken in pieces.
    fn tag(mut mac: Poly1305, aad: &[&[u8]], aad_len: u64, ciphertext: &[u8]) -> [u8; TAG_LEN] {
        let mut blocks = Blocks::new();
        for piece in aad {
            blocks.update(piece, |b| mac.update(b));
        }
        blocks.finish_padded(|b| mac.update(b));
        mac.update_padded(ciphertext);
        let mut lengths = poly1305::Block::default();
        let ct_len = ciphertext.len() as u64;
        for (dst, src) in lengths.iter_mut().zip(
            aad_len
                .to_le_bytes()
                .into_iter()
                .chain(ct_len.to_le_bytes()),
        ) {
            *dst = src;
        }
        mac.update(core::slice::from_ref(&lengths));
        mac.finalize().into()
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
        if tag.len() != TAG_LEN {
            return Err(Error::BufferTooSmall);
        }
        let (mut cipher, mac, aad_len) = self.start(nonce, aad, buffer)?;
        cipher
            .try_apply_keystream(buffer)
            .map_err(|_| Error::CapacityExceeded)?;
        tag.copy_from_slice(&Self::tag(mac, aad, aad_len, buffer));
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
        let result = self
            .start(nonce, aad, buffer)
            .and_then(|(mut cipher, mac, aad_len)| {
                if !ct_eq(&Self::tag(mac, aad, aad_len, buffer), tag) {
                    return Err(Error::BadTag);
                }
                cipher
                    .try_apply_keystream(buffer)
                    .map_err(|_| Error::CapacityExceeded)
            });
        if result.is_err() {
            buffer.fill(0);
        }
        result
    }
}
