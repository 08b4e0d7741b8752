//! The three COSE AEADs with associated data streamed in pieces.
//!
//! Why by hand: the RustCrypto AEAD crates (`ccm` 0.6, `aes-gcm` 0.11, `chacha20poly1305` 0.11, all
//! on `aead` 0.6) take the associated data as one slice, while COSE's Enc_structure (RFC 9052
//! section 5.3) arrives in pieces and must never be gathered into one buffer (issue 2). So only the
//! modes are composed here; the primitives are RustCrypto's: the AES-128 block cipher (`aes`),
//! counter mode (`ctr`), GHASH (`ghash`), ChaCha20 (`chacha20`) and Poly1305 (`poly1305`). The
//! differential tests in `tests/aead_stream.rs` check every mode against the RustCrypto AEAD crates
//! on the concatenated associated data.
//!
//! Every mode checks its tag in constant time, zeroes the buffer when the check fails, and holds
//! its key material in RustCrypto types that zeroize on drop.
//!
//! Each mode's `encrypt` and `decrypt` stay out of line (`#[inline(never)]`), so that the
//! backend's dispatch over the algorithm does not carry the largest mode's state on the stack of
//! every call (ChaCha20's, when AES-CCM runs: measured with `benches/size/stack.sh`).

pub(crate) mod ccm;
pub(crate) mod chachapoly;
pub(crate) mod gcm;

use crate::error::{Error, Result};
use aes::Block;
use cipher::{InnerIvInit, StreamCipherCore};
use zeroize::Zeroize;

/// Length of an AES block and of a GHASH / Poly1305 block.
const BLOCK_LEN: usize = 16;

/// Total length of the associated data pieces, or `None` if it overflows `u64`.
fn total_len(pieces: &[&[u8]]) -> Option<u64> {
    pieces
        .iter()
        .try_fold(0u64, |acc, p| acc.checked_add(u64::try_from(p.len()).ok()?))
}

/// Cuts a byte stream that arrives in pieces into 16-byte blocks, carrying a partial block across
/// piece boundaries, and hands whole blocks to a sink (full blocks of a piece go through in one call,
/// so that a universal hash can process them in parallel).
pub(crate) struct Blocks {
    buf: Block,
    len: usize,
}

impl Blocks {
    pub(crate) fn new() -> Self {
        Self {
            buf: Block::default(),
            len: 0,
        }
    }

    /// Absorbs `data`, passing every completed block to `sink`.
    pub(crate) fn update(&mut self, mut data: &[u8], mut sink: impl FnMut(&[Block])) {
        if self.len > 0 {
            let take = (BLOCK_LEN - self.len).min(data.len());
            let Some((head, rest)) = data.split_at_checked(take) else {
                return;
            };
            if let Some(dst) = self.buf.get_mut(self.len..self.len + take) {
                dst.copy_from_slice(head);
            }
            self.len += take;
            data = rest;
            if self.len < BLOCK_LEN {
                return;
            }
            sink(core::slice::from_ref(&self.buf));
            self.len = 0;
        }
        let (blocks, tail) = Block::slice_as_chunks(data);
        if !blocks.is_empty() {
            sink(blocks);
        }
        if let Some(dst) = self.buf.get_mut(..tail.len()) {
            dst.copy_from_slice(tail);
            self.len = tail.len();
        }
    }

    /// Pads a pending partial block with zeros and passes it to `sink`.
    pub(crate) fn finish_padded(&mut self, mut sink: impl FnMut(&[Block])) {
        if self.len > 0 {
            if let Some(rest) = self.buf.get_mut(self.len..) {
                rest.fill(0);
            }
            sink(core::slice::from_ref(&self.buf));
            self.len = 0;
        }
    }
}

impl Drop for Blocks {
    fn drop(&mut self) {
        self.buf.as_mut_slice().zeroize();
    }
}

/// XORs `data` with the AES-CTR keystream E(J), E(J + 1), ... from the counter block J = `first`,
/// incremented in its last four bytes, big-endian, modulo 2^32 (GCM's inc32). The `ctr` crate runs
/// as many blocks in parallel as the AES backend offers. (CCM runs its counter mode beside its
/// CBC-MAC, in `ccm.rs`.)
fn aes_ctr(cipher: &aes::Aes128Enc, first: &Block, data: &mut [u8]) -> Result<()> {
    ctr::CtrCore::<&aes::Aes128Enc, ctr::flavors::Ctr32BE>::inner_iv_init(cipher, first)
        .try_apply_keystream_partial(data.into())
        .map_err(|_| Error::CapacityExceeded)
}

/// Key material of every mode zeroizes on drop (with the `zeroize` features the workspace turns on).
const _: () = {
    fn zeroize_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    #[allow(dead_code)]
    fn check() {
        zeroize_on_drop::<aes::Aes128Enc>();
        zeroize_on_drop::<chacha20::ChaCha20>();
    }
};

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(pieces: &[&[u8]]) -> ([u8; 64], usize) {
        let mut out = [0u8; 64];
        let mut n = 0;
        let mut blocks = Blocks::new();
        let mut sink = |bs: &[Block]| {
            for b in bs {
                out[n..n + 16].copy_from_slice(b);
                n += 16;
            }
        };
        for p in pieces {
            blocks.update(p, &mut sink);
        }
        blocks.finish_padded(&mut sink);
        (out, n)
    }

    #[test]
    fn blocks_carry_partial_blocks_across_pieces() {
        let data: [u8; 37] = core::array::from_fn(|i| i as u8 + 1);
        let (whole, n) = collect(&[&data]);
        assert_eq!(n, 48);
        assert_eq!(&whole[..37], &data);
        assert!(whole[37..48].iter().all(|&b| b == 0));
        let (a, b) = data.split_at(5);
        let (b, c) = b.split_at(20);
        let (split, m) = collect(&[&[], a, &[], b, c, &[]]);
        assert_eq!((split, m), (whole, n));
        let (empty, k) = collect(&[&[], &[]]);
        assert_eq!((empty, k), ([0u8; 64], 0));
    }
}
