//! What an update installed, as evidence: the SUIT manifest in `manifests` (RFC 9711 section
//! 4.2.15) and the digest of each installed component image in `measurements` (section 4.2.16),
//! from an [`iot_update_manifest`] envelope. No heap: entries borrow the caller's bytes.
//!
//! - `manifests`: RFC 9711 lets an entry be `bytes .cbor SUIT_Envelope`; [`manifest_entry`]
//!   carries the installed envelope, whose authentication wrapper names the manifest's
//!   SUIT_Digest ([`manifest_digest`] reads it back). No CoAP Content-Format is registered for
//!   `application/suit-envelope+cose` (the SUIT manifest registers the media type only), so the
//!   entry uses [`CF_SUIT_ENVELOPE`], a number of the Experimental Use range of RFC 7252
//!   section 12.3; a deployment with another number builds the [`TypedContent`] itself.
//! - `measurements`: one CoSWID evidence tag per component ([`crate::measure`], Content-Format
//!   258), holding the SHA-256 of the image as installed ([`measure_image`]). The verifier's
//!   reference is the digest the authenticated manifest requires ([`image_digest`]).

use crate::error::{Error, Result};
use crate::key;
use crate::measure::{Measurement, NI_SHA256};
use crate::value::TypedContent;
use iot_core::crypto::Sha256;
use iot_update_manifest::{Argument, Command, Envelope, IndexArg, Manifest, Parameter, SuitDigest};

/// The CoAP Content-Format this crate gives a SUIT_Envelope in `manifests`: 65000, from the
/// Experimental Use range (RFC 7252 section 12.3), since none is registered.
pub const CF_SUIT_ENVELOPE: u16 = 65000;

/// The `manifests` entry of an installed SUIT envelope (tagged or not).
pub fn manifest_entry(envelope: &[u8]) -> TypedContent<'_> {
    TypedContent {
        content_format: CF_SUIT_ENVELOPE,
        content: envelope,
    }
}

/// The SUIT_Digest of the manifest in a `manifests` entry, as its authentication wrapper states
/// it (the attester authenticated the envelope before installing it, and its evidence signature
/// covers the entry): `None` for an entry of another content format, an
/// [`Error::InvalidClaim`] for one that is not a SUIT envelope.
pub fn manifest_digest<'a>(entry: &TypedContent<'a>) -> Option<Result<SuitDigest<'a>>> {
    (entry.content_format == CF_SUIT_ENVELOPE).then(|| {
        Envelope::decode(entry.content)
            .map(|e| e.digest())
            .map_err(|_| Error::InvalidClaim {
                key: key::MANIFESTS,
                offset: 0,
            })
    })
}

/// The image digest the manifest requires of component `component`: the last
/// `suit-parameter-image-digest` that `override-parameters` (or a first `set-parameters`) gives
/// it in the common sequence, following `set-component-index` (index 0 until one is set).
pub fn image_digest<'a>(manifest: &Manifest<'a>, component: usize) -> Option<SuitDigest<'a>> {
    let sequence = manifest.common().shared_sequence()?;
    let mut selected = IndexArg::One(0);
    let mut found = None;
    for (command, argument) in sequence.iter() {
        match (command, argument) {
            (Command::SetComponentIndex, Argument::Index(index)) => selected = index,
            (Command::OverrideParameters | Command::SetParameters, Argument::Parameters(p)) => {
                let applies = match selected {
                    IndexArg::One(i) => usize::try_from(i).is_ok_and(|i| i == component),
                    IndexArg::All => true,
                    IndexArg::List(list) => list
                        .iter()
                        .any(|i| usize::try_from(i).is_ok_and(|i| i == component)),
                };
                let keep = command == Command::SetParameters && found.is_some();
                if applies && !keep {
                    found = p
                        .iter()
                        .find_map(|p| match p {
                            Parameter::ImageDigest(d) => Some(d),
                            _ => None,
                        })
                        .or(found);
                }
            }
            _ => {}
        }
    }
    found
}

/// Measures an installed component: writes at the start of `buf` a CoSWID tag naming it
/// (`name`, `version`, made by `entity`) with the SHA-256 of `image`, and returns the
/// `measurements` entry with the rest of `buf`.
pub fn measure_image<'b, C: Sha256>(
    crypto: &mut C,
    name: &str,
    version: Option<&str>,
    entity: &str,
    image: &[u8],
    buf: &'b mut [u8],
) -> Result<(TypedContent<'b>, &'b mut [u8])> {
    let digest = crypto.sha256(image);
    Measurement {
        name,
        version,
        entity,
        hash_alg: NI_SHA256,
        digest: &digest,
    }
    .write_entry(buf)
}
