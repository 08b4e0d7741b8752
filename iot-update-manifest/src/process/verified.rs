//! The dependency manifests whose signature verified during one processing. One dependency is
//! read several times (fetched, processed, its integrity checked, its sequence number stored:
//! draft-ietf-suit-trust-domains "Processing Dependencies"), and each read authenticates what
//! storage returned. When the bytes are those that verified before (the same SHA-256), the
//! signature check is not repeated: on a microcontroller each one is a P-256 verification.
//! The manifest's own digest is still checked and the manifest decoded every time.

use iot_core::crypto::ct_eq;

/// How many dependency envelopes one processor remembers: as many as one manifest can name.
/// Past that, the oldest is forgotten and verified again when it is read again.
pub const MAX_VERIFIED: usize = crate::MAX_COMPONENTS;

/// SHA-256 of each envelope that authenticated, with the index of its authentication block
/// that verified ([`crate::AuthenticatedManifest::authenticated_by`]).
#[derive(Default)]
pub(crate) struct Verified {
    entries: [Option<([u8; 32], usize)>; MAX_VERIFIED],
    /// The entry the next new envelope replaces.
    next: usize,
}

impl Verified {
    /// The block that verified on the envelope of SHA-256 `hash`, if one did.
    pub(crate) fn block(&self, hash: &[u8; 32]) -> Option<usize> {
        self.entries
            .iter()
            .flatten()
            .find(|(h, _)| ct_eq(h, hash))
            .map(|&(_, block)| block)
    }

    /// Remembers that block `block` verified on the envelope of SHA-256 `hash`.
    pub(crate) fn insert(&mut self, hash: [u8; 32], block: usize) {
        if self.block(&hash).is_some() {
            return;
        }
        if let Some(entry) = self.entries.get_mut(self.next) {
            *entry = Some((hash, block));
        }
        self.next = (self.next + 1) % MAX_VERIFIED;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_the_newest_envelopes() {
        let mut v = Verified::default();
        assert_eq!(v.block(&[1; 32]), None);
        for i in 0..MAX_VERIFIED as u8 {
            v.insert([i; 32], usize::from(i));
        }
        // Inserting one known again neither duplicates it nor evicts another.
        v.insert([0; 32], 9);
        assert_eq!(v.block(&[0; 32]), Some(0));
        assert_eq!(v.block(&[3; 32]), Some(3));
        // One more: the oldest is forgotten, the others kept.
        v.insert([7; 32], 1);
        assert_eq!(v.block(&[0; 32]), None);
        assert_eq!(v.block(&[7; 32]), Some(1));
        assert_eq!(v.block(&[1; 32]), Some(1));
    }
}
