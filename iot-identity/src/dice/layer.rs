//! DICE layers ("Layering Details"): a layer holds its CDIs, derives the next layer's CDIs and
//! certificate, and is consumed doing so, so that layer n+1 can never reach `CDI[n]` ("Protecting
//! Layered CDI Values").

use super::cert::write_certificate;
use super::crypto::{DiceCrypto, HkdfSha512, HmacSha512, P256Keys};
use super::derive::{Cdi, Cdis, DiceId, DiceKeyPair, DicePublicKey, InputValues, Uds};
use super::derive::{derive_cdis, derive_key_pair};
use crate::error::Result;
use core::marker::PhantomData;

/// The first layer: its CDIs are the UDS, its key pair is UDS_Private / UDS_Public, which a
/// manufacturer certifies out of band ("UDS Details").
#[derive(Debug)]
pub enum Root {}

/// A later layer: its CDIs and its certificate came from the layer before.
#[derive(Debug)]
pub enum Derived {}

/// A DICE layer in state `S` ([`Root`] or [`Derived`]). Its CDIs zeroize on drop. A function
/// that runs mutable software takes a `DiceLayer<Derived>`, so it can never be handed the UDS.
#[derive(Debug)]
pub struct DiceLayer<S> {
    cdis: Cdis,
    state: PhantomData<S>,
}

impl DiceLayer<Root> {
    /// The layer that runs on the UDS (the hardware-to-software transition).
    pub fn from_uds(uds: &Uds) -> Self {
        Self {
            cdis: Cdis::from_uds(uds),
            state: PhantomData,
        }
    }
}

impl DiceLayer<Derived> {
    /// A layer started with the CDIs the layer before handed over.
    pub fn from_cdis(cdis: Cdis) -> Self {
        Self {
            cdis,
            state: PhantomData,
        }
    }

    /// The layer's CDIs, to hand to the software it runs (which then starts its own
    /// [`DiceLayer::from_cdis`]).
    pub fn into_cdis(self) -> Cdis {
        self.cdis
    }
}

impl<S> DiceLayer<S> {
    /// CDI_Attest (the UDS for [`Root`]).
    pub fn cdi_attest(&self) -> &Cdi {
        &self.cdis.attest
    }

    /// CDI_Seal (the UDS for [`Root`]): the root of this layer's sealing keys.
    pub fn cdi_seal(&self) -> &Cdi {
        &self.cdis.seal
    }

    /// This layer's key pair: `ASYM_KDF(CDI_Attest)` (UDS_Private for [`Root`]).
    pub fn key_pair<C: HkdfSha512 + HmacSha512 + P256Keys>(
        &self,
        crypto: &mut C,
    ) -> Result<DiceKeyPair<C::SigningKey>> {
        derive_key_pair(crypto, &self.cdis.attest)
    }

    /// This layer's public key (UDS_Public for [`Root`]).
    pub fn public_key<C: HkdfSha512 + HmacSha512 + P256Keys>(
        &self,
        crypto: &mut C,
    ) -> Result<DicePublicKey> {
        Ok(self.key_pair(crypto)?.public_key)
    }

    /// This layer's identifier (UDS_ID for [`Root`], else CDI_ID): the next certificate's `iss`.
    pub fn id<C: HkdfSha512 + HmacSha512 + P256Keys>(&self, crypto: &mut C) -> Result<DiceId> {
        self.public_key(crypto)?.id(crypto)
    }

    /// Runs the DICE flow for the next layer ("High-level DICE Flow"): derives its CDIs from
    /// `inputs`, derives this layer's key pair and the next one's, writes the next layer's
    /// certificate (signed by this layer's key) into `cert` using `scratch` for its CWT (see
    /// [`super::certificate_len`]), and returns the next layer with the certificate's length.
    /// This layer, its CDIs and its private key are gone afterwards.
    pub fn derive_next<C: DiceCrypto>(
        self,
        crypto: &mut C,
        inputs: &InputValues<'_>,
        profile_name: Option<&str>,
        scratch: &mut [u8],
        cert: &mut [u8],
    ) -> Result<(DiceLayer<Derived>, usize)> {
        let next = derive_cdis(crypto, &self.cdis, inputs)?;
        let mut authority = derive_key_pair(crypto, &self.cdis.attest)?;
        drop(self);
        let subject = derive_key_pair(crypto, &next.attest)?.public_key;
        let n = write_certificate(
            crypto,
            &mut authority,
            &subject,
            inputs,
            profile_name,
            scratch,
            cert,
        )?;
        Ok((DiceLayer::from_cdis(next), n))
    }
}
