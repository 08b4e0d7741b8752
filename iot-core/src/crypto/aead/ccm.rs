//! AES-CCM-16-64-128 (COSE algorithm 10, RFC 9053 section 4.2): CCM (RFC 3610, NIST SP 800-38C) over
//! AES-128 with L = 2 (13-byte nonce, messages up to 2^16 - 1 bytes) and M = 8 (8-byte tag).

use super::{BLOCK_LEN, Blocks, total_len};
use crate::crypto::ct_eq;
use crate::error::{Error, Result};
use aes::Aes128Enc;
use aes::Block;
use aes::cipher::consts::U16;
use aes::cipher::typenum::Unsigned;
use aes::cipher::{
    BlockCipherEncBackend, BlockCipherEncClosure, BlockCipherEncrypt, BlockSizeUser, KeyInit,
    ParBlocks,
};
use zeroize::Zeroize;

/// Key length in bytes.
pub(crate) const KEY_LEN: usize = 16;
/// Nonce length in bytes (15 - L).
pub(crate) const NONCE_LEN: usize = 13;
/// Tag length in bytes (M).
pub(crate) const TAG_LEN: usize = 8;
/// Longest message with a 2-byte length field (L = 2).
const MAX_MESSAGE_LEN: usize = 0xFFFF;
/// Flags of B_0 without the Adata bit: M' = (M - 2) / 2 = 3 in bits 3..5, L' = L - 1 = 1 (RFC 3610 section 2.2).
const B0_FLAGS: u8 = (3 << 3) | 1;
/// The Adata bit of B_0's flags.
const ADATA: u8 = 0x40;
/// Flags of the counter blocks A_i: L' = 1 (RFC 3610 section 2.3).
const A_FLAGS: u8 = 1;

/// AES-CCM with a 16-byte key, a 13-byte nonce and an 8-byte tag. CCM only runs the forward
/// cipher, so only the encryption key schedule is expanded; it zeroizes on drop.
pub(crate) struct AesCcm16_64_128 {
    cipher: Aes128Enc,
}

/// `flags || nonce || field` (B_0 with the message length as field, A_i with the counter;
/// RFC 3610 sections 2.2 and 2.3) as a big-endian number, from [`nonce_bits`]: the blocks are
/// built in registers rather than byte by byte, which the block cipher would then read back whole.
fn nonce_block(nonce: u128, flags: u8, field: u16) -> u128 {
    nonce | u128::from(flags) << 120 | u128::from(field)
}

/// The nonce in bytes 1 to 13 of a block, as a big-endian number.
fn nonce_bits(nonce: &[u8; NONCE_LEN]) -> u128 {
    let mut b = [0u8; BLOCK_LEN];
    if let Some(n) = b
        .get_mut(1..)
        .and_then(|r| r.first_chunk_mut::<NONCE_LEN>())
    {
        *n = *nonce;
    }
    u128::from_be_bytes(b)
}

/// The encoding of l(a) that precedes the associated data (RFC 3610 section 2.2), and its length.
fn aad_length_prefix(len: u64) -> ([u8; 10], usize) {
    let mut out = [0u8; 10];
    let n = if len == 0 {
        0
    } else if len < 0xFF00 {
        for (d, s) in out.iter_mut().zip(len.to_be_bytes().into_iter().skip(6)) {
            *d = s;
        }
        2
    } else if len <= u64::from(u32::MAX) {
        let bytes = [0xFF, 0xFE]
            .into_iter()
            .chain(len.to_be_bytes().into_iter().skip(4));
        for (d, s) in out.iter_mut().zip(bytes) {
            *d = s;
        }
        6
    } else {
        let bytes = [0xFF, 0xFF].into_iter().chain(len.to_be_bytes());
        for (d, s) in out.iter_mut().zip(bytes) {
            *d = s;
        }
        10
    };
    (out, n)
}

/// Which way [`Ccm`] runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Encrypt,
    Decrypt,
}

/// One CCM pass (RFC 3610 sections 2.2 to 2.5), run with the AES backend: the CBC-MAC over B_0,
/// l(a) || a padded and the padded plaintext, and the counter mode over the message, block by
/// block in one loop. A keystream block does not depend on the MAC chain, so it is computed beside
/// a MAC block: with AES instructions the processor overlaps the two (the counter mode then costs
/// almost no time beside the MAC's serial chain); the bitsliced software AES computes them in one
/// call ([`encrypt_pair`]). The same blocks are encrypted as in two passes.
struct Ccm<'a> {
    nonce: &'a [u8; NONCE_LEN],
    aad: &'a [&'a [u8]],
    aad_len: u64,
    message: &'a mut [u8],
    direction: Direction,
    tag: &'a mut [u8; TAG_LEN],
}

impl BlockSizeUser for Ccm<'_> {
    type BlockSize = U16;
}

impl BlockCipherEncClosure for Ccm<'_> {
    fn call<B: BlockCipherEncBackend<BlockSize = U16>>(self, backend: &B) {
        let nonce = nonce_bits(self.nonce);
        let flags = if self.aad_len > 0 {
            B0_FLAGS | ADATA
        } else {
            B0_FLAGS
        };
        // The length fits the field: `check` refused longer messages.
        let b0 = nonce_block(nonce, flags, self.message.len() as u16);
        let mut x = Block::from(b0.to_be_bytes());
        // S_0, which encrypts the tag, beside B_0: it is independent of the MAC chain.
        let mut s0 = Block::from(nonce_block(nonce, A_FLAGS, 0).to_be_bytes());
        encrypt_pair(backend, &mut s0, &mut x);
        let mut mac = |blocks: &[Block]| {
            for b in blocks {
                for (s, m) in x.iter_mut().zip(b.iter()) {
                    *s ^= m;
                }
                backend.encrypt_block_inplace(&mut x);
            }
        };
        let mut blocks = Blocks::new();
        let (prefix, prefix_len) = aad_length_prefix(self.aad_len);
        blocks.update(prefix.get(..prefix_len).unwrap_or_default(), &mut mac);
        for piece in self.aad {
            blocks.update(piece, &mut mac);
        }
        blocks.finish_padded(&mut mac);
        // The message; a last partial block is padded with zeros for the MAC. A_i counts in its
        // last two bytes, without carry (at most 4,096 blocks for L = 2).
        let a1 = nonce_block(nonce, A_FLAGS, 1);
        let counter = |i: usize| Block::from((a1 + i as u128).to_be_bytes());
        let mut a = Block::default();
        if !pairs_share_a_call::<B>() {
            // Each block's keystream block beside its MAC block: with AES instructions the two
            // overlap, and the keystream block is computed within the MAC chain's latency.
            for (i, chunk) in self.message.chunks_mut(BLOCK_LEN).enumerate() {
                a = counter(i);
                backend.encrypt_block_inplace(&mut a);
                if self.direction == Direction::Decrypt {
                    xor_into(chunk, &a);
                }
                xor_into(&mut x, chunk);
                backend.encrypt_block_inplace(&mut x);
                if self.direction == Direction::Encrypt {
                    xor_into(chunk, &a);
                }
            }
        } else {
            // A keystream block and a MAC block in one call: the block's own when encrypting;
            // when decrypting the keystream runs one block ahead (A_1's first, then A_(i+1)'s
            // beside the MAC of block i), as a block is decrypted before the MAC takes it.
            let blocks = self.message.len().div_ceil(BLOCK_LEN);
            if self.direction == Direction::Decrypt && blocks > 0 {
                a = counter(0);
                backend.encrypt_block_inplace(&mut a);
            }
            for (i, chunk) in self.message.chunks_mut(BLOCK_LEN).enumerate() {
                if self.direction == Direction::Decrypt {
                    xor_into(chunk, &a);
                    xor_into(&mut x, chunk);
                    if i + 1 < blocks {
                        a = counter(i + 1);
                        encrypt_pair(backend, &mut a, &mut x);
                    } else {
                        backend.encrypt_block_inplace(&mut x);
                    }
                } else {
                    xor_into(&mut x, chunk);
                    a = counter(i);
                    encrypt_pair(backend, &mut a, &mut x);
                    xor_into(chunk, &a);
                }
            }
        }
        for (t, (a, b)) in self.tag.iter_mut().zip(x.iter().zip(s0.iter())) {
            *t = a ^ b;
        }
        x.as_mut_slice().zeroize();
        s0.as_mut_slice().zeroize();
        a.as_mut_slice().zeroize();
    }
}

/// Whether the backend computes two blocks in one call for about the cost of one: the bitsliced
/// software AES (two blocks at once on 32-bit targets, four on 64-bit ones). The backends with AES
/// instructions take eight or more blocks at once, and overlap two independent single blocks by
/// themselves.
fn pairs_share_a_call<B: BlockCipherEncBackend<BlockSize = U16>>() -> bool {
    (2..=4).contains(&B::ParBlocksSize::USIZE)
}

/// Encrypts two independent blocks, in one call where [`pairs_share_a_call`], else one after the
/// other.
fn encrypt_pair<B: BlockCipherEncBackend<BlockSize = U16>>(
    backend: &B,
    a: &mut Block,
    b: &mut Block,
) {
    if !pairs_share_a_call::<B>() {
        backend.encrypt_block_inplace(a);
        backend.encrypt_block_inplace(b);
        return;
    }
    let mut par = ParBlocks::<B>::default();
    if let [p, q, ..] = par.as_mut_slice() {
        *p = *a;
        *q = *b;
    }
    backend.encrypt_par_blocks_inplace(&mut par);
    if let [p, q, ..] = par.as_slice() {
        *a = *p;
        *b = *q;
    }
    for block in par.iter_mut() {
        block.as_mut_slice().zeroize();
    }
}

/// `data ^= other` over the shorter one's length, a whole block in one operation.
fn xor_into(data: &mut [u8], other: &[u8]) {
    if let (Ok(d), Ok(o)) = (
        <&mut [u8; BLOCK_LEN]>::try_from(&mut *data),
        <&[u8; BLOCK_LEN]>::try_from(other),
    ) {
        *d = (u128::from_ne_bytes(*d) ^ u128::from_ne_bytes(*o)).to_ne_bytes();
        return;
    }
    for (d, o) in data.iter_mut().zip(other) {
        *d ^= o;
    }
}

impl AesCcm16_64_128 {
    /// The cipher under a 16-byte key.
    pub(crate) fn new(key: &[u8]) -> Result<Self> {
        if key.len() != KEY_LEN {
            return Err(Error::InvalidKey);
        }
        let cipher = Aes128Enc::new_from_slice(key).map_err(|_| Error::InvalidKey)?;
        Ok(Self { cipher })
    }

    fn check<'n>(nonce: &'n [u8], message: &[u8]) -> Result<&'n [u8; NONCE_LEN]> {
        let nonce = nonce.try_into().map_err(|_| Error::InvalidNonce)?;
        if message.len() > MAX_MESSAGE_LEN {
            return Err(Error::CapacityExceeded);
        }
        Ok(nonce)
    }

    /// Runs one CCM pass over `buffer` in place and returns the tag U = T xor first-M-bytes(S_0)
    /// over `aad` (in pieces) and the plaintext (RFC 3610 sections 2.2 to 2.5).
    fn run(
        &self,
        nonce: &[u8],
        aad: &[&[u8]],
        buffer: &mut [u8],
        direction: Direction,
    ) -> Result<[u8; TAG_LEN]> {
        let nonce = Self::check(nonce, buffer)?;
        let aad_len = total_len(aad).ok_or(Error::CapacityExceeded)?;
        let mut tag = [0u8; TAG_LEN];
        // One dispatch to the AES backend for all the blocks, not one per block.
        self.cipher.encrypt_with_backend(Ccm {
            nonce,
            aad,
            aad_len,
            message: buffer,
            direction,
            tag: &mut tag,
        });
        Ok(tag)
    }

    /// Encrypts `buffer` in place and writes the 8-byte tag into `tag`.
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
        let t = self.run(nonce, aad, buffer, Direction::Encrypt)?;
        tag.copy_from_slice(&t);
        Ok(())
    }

    /// Decrypts `buffer` in place and checks `tag`; on any failure `buffer` is zeroed.
    #[inline(never)]
    pub(crate) fn decrypt(
        &self,
        nonce: &[u8],
        aad: &[&[u8]],
        buffer: &mut [u8],
        tag: &[u8],
    ) -> Result<()> {
        let result = if tag.len() != TAG_LEN {
            Err(Error::BadTag)
        } else {
            // CCM authenticates the plaintext, so the pass decrypts and checks after.
            self.run(nonce, aad, buffer, Direction::Decrypt)
                .and_then(|expected| {
                    if ct_eq(&expected, tag) {
                        Ok(())
                    } else {
                        Err(Error::BadTag)
                    }
                })
        };
        if result.is_err() {
            buffer.fill(0);
        }
        result
    }
}

// The AAD length prefix and the B_0 / A_i layout are checked here; the modes as a whole against the
// RustCrypto `ccm` crate and RFC vectors in tests/aead_stream.rs.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aad_length_prefix_forms() {
        assert_eq!(aad_length_prefix(0).1, 0);
        assert_eq!(
            aad_length_prefix(0x1234),
            ([0x12, 0x34, 0, 0, 0, 0, 0, 0, 0, 0], 2)
        );
        assert_eq!(aad_length_prefix(0xFEFF).1, 2);
        assert_eq!(
            aad_length_prefix(0xFF00),
            ([0xFF, 0xFE, 0, 0, 0xFF, 0, 0, 0, 0, 0], 6)
        );
        assert_eq!(
            aad_length_prefix(0x1_0000_0000),
            ([0xFF, 0xFF, 0, 0, 0, 1, 0, 0, 0, 0], 10)
        );
    }

    #[test]
    fn block_layout() {
        let nonce: [u8; 13] = core::array::from_fn(|i| i as u8 + 1);
        let b = nonce_block(nonce_bits(&nonce), A_FLAGS, 0x0102).to_be_bytes();
        assert_eq!(b[0], 1);
        assert_eq!(&b[1..14], &nonce);
        assert_eq!(&b[14..], &[1, 2]);
    }
}
