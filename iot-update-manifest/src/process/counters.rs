//! The anti-rollback counters of dependency manifests (draft-ietf-suit-trust-domains "Processing
//! Dependencies", draft-ietf-suit-manifest "suit-manifest-sequence-number"). A dependency
//! manifest's number is checked when it is processed ([`Processor::process_dependency`]), and
//! stored once the update that processed it is committed, under the dependency's own
//! `suit-manifest-component-id`: a dependent that later names an older one is refused.

use super::{MAX_DEPENDENCY_DEPTH, Prefix, Processor, SuitCrypto, nest};
use crate::component::ComponentId;
use crate::envelope::AuthenticatedManifest;
use crate::error::{Error, Result};
use crate::platform::{Component, Platform, PlatformError};
use iot_core::crypto::Verifier;

impl<P, C, V> Processor<'_, '_, P, C, V>
where
    P: Platform,
    C: SuitCrypto,
    V: Verifier,
{
    /// Raises the stored sequence number of every dependency manifest stored under `auth`'s
    /// manifest (and under theirs, [`MAX_DEPENDENCY_DEPTH`] levels down) to that manifest's
    /// number; never lowers one. A dependency whose component is absent, or holds nothing that
    /// authenticates, has nothing that could run and is passed over. The manifests are read into
    /// the scratch buffer ([`Processor::with_scratch`]), each from its component as addressed
    /// without a `suit-parameter-component-slot` (the A/B layer places it in its slot): one that
    /// a sequence read from an explicit slot is not found there unless the platform maps it.
    ///
    /// [`Processor::update`] calls it after install and validate succeeded, before it stores the
    /// dependent's own number; the A/B layer ([`crate::ab`]) when it confirms a trial.
    pub fn store_dependency_numbers(&mut self, auth: &AuthenticatedManifest<'_>) -> Result<()> {
        self.lending_scratch(|p, scratch| p.store_under(auth, &[], 0, scratch))
    }

    /// [`Processor::store_dependency_numbers`] for the manifest of `auth`, `depth` levels below
    /// the root, whose components are under `prefix`, with `scratch` for its dependencies.
    fn store_under<'m>(
        &mut self,
        auth: &AuthenticatedManifest<'m>,
        prefix: &[ComponentId<'m>],
        depth: usize,
        scratch: &mut [u8],
    ) -> Result<()> {
        let m = auth.manifest();
        let Some(dependencies) = m.common().dependencies() else {
            return Ok(());
        };
        // A dependency below the last level cannot be processed, so it has no number to keep.
        if depth >= MAX_DEPENDENCY_DEPTH {
            return Ok(());
        }
        for d in dependencies.iter() {
            // Where process-dependency reads it from.
            let id = usize::try_from(d.index)
                .ok()
                .and_then(|i| m.component(i))
                .ok_or(Error::ComponentIndex(iot_core::Error::uint(d.index)))?;
            let comp = Component {
                prefix,
                id,
                slot: None,
            };
            let n = match self.load(&comp, scratch) {
                Ok(n) => n,
                Err(Error::Platform(PlatformError::NotFound)) => continue,
                Err(e) => return Err(e),
            };
            let (mine, rest) = scratch.split_at_mut(n.min(scratch.len()));
            let mine: &[u8] = mine;
            // Borrowed where it lies, as in process-dependency.
            let authenticated = self.authenticate_dependency(mine);
            let Ok(dep) = &authenticated else {
                continue;
            };
            let mut nested = Prefix::new();
            nest(&mut nested, prefix, &d)?;
            self.store_under(dep, &nested, depth + 1, rest)?;
            let dm = dep.manifest();
            let (id, number) = (dm.component_id(), dm.sequence_number());
            let stored = self.platform.stored_sequence_number(id.as_ref())?;
            if stored.is_none_or(|s| s < number) {
                self.platform.store_sequence_number(id.as_ref(), number)?;
            }
        }
        Ok(())
    }
}
