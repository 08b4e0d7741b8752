//! The manifest model (draft-ietf-suit-manifest "Manifest") and its severable members ("Severable Elements").
//!
//! A [`Manifest`] has no public constructor: it is reached only through
//! [`crate::Envelope::authenticate`], after the authentication wrapper verified.

use crate::cbor::{Cur, Wrapped, first_time};
use crate::command::CommandSequence;
#[cfg(feature = "dependencies")]
use crate::component::Dependencies;
use crate::component::{ComponentId, Components};
use crate::digest::SuitDigest;
use crate::error::{Error, MapKind, Result};
#[cfg(feature = "text")]
use crate::text::Text;
use iot_core::crypto::Sha256;
use minicbor::data::Type;

/// Keys of `SUIT_Envelope` ("Envelope" and the extension drafts).
pub mod envelope_key {
    /// `suit-delegation` (trust domains).
    pub const DELEGATION: i64 = 1;
    /// `suit-authentication-wrapper`.
    pub const AUTHENTICATION_WRAPPER: i64 = 2;
    /// `suit-manifest`.
    pub const MANIFEST: i64 = 3;
}

/// Keys of `SUIT_Manifest` ("Manifest" and the extension drafts). The severable ones
/// ([`manifest_key::SEVERABLE`]) may also appear in the envelope.
pub mod manifest_key {
    /// `suit-manifest-version`.
    pub const VERSION: i64 = 1;
    /// `suit-manifest-sequence-number`.
    pub const SEQUENCE_NUMBER: i64 = 2;
    /// `suit-common`.
    pub const COMMON: i64 = 3;
    /// `suit-reference-uri`.
    pub const REFERENCE_URI: i64 = 4;
    /// `suit-manifest-component-id` (trust domains).
    pub const COMPONENT_ID: i64 = 5;
    /// `suit-set-version` (update management).
    pub const SET_VERSION: i64 = 6;
    /// `suit-validate`.
    pub const VALIDATE: i64 = 7;
    /// `suit-load`.
    pub const LOAD: i64 = 8;
    /// `suit-invoke`.
    pub const INVOKE: i64 = 9;
    /// `suit-coswid` (update management), severable.
    pub const COSWID: i64 = 14;
    /// `suit-dependency-resolution` (trust domains), severable.
    pub const DEPENDENCY_RESOLUTION: i64 = 15;
    /// `suit-payload-fetch`, severable.
    pub const PAYLOAD_FETCH: i64 = 16;
    /// `suit-candidate-verification` (trust domains), severable.
    pub const CANDIDATE_VERIFICATION: i64 = 18;
    /// `suit-install`, severable.
    pub const INSTALL: i64 = 20;
    /// `suit-text`, severable.
    pub const TEXT: i64 = 23;
    /// `suit-uninstall` (trust domains).
    pub const UNINSTALL: i64 = 24;
    /// The severable members, in the order of [`crate::Envelope`]'s slots.
    pub const SEVERABLE: [i64; 6] = [
        COSWID,
        DEPENDENCY_RESOLUTION,
        PAYLOAD_FETCH,
        CANDIDATE_VERIFICATION,
        INSTALL,
        TEXT,
    ];
}

/// Keys of `SUIT_Common` ("suit-common").
pub mod common_key {
    /// `suit-dependencies` (trust domains).
    pub const DEPENDENCIES: i64 = 1;
    /// `suit-components`.
    pub const COMPONENTS: i64 = 2;
    /// `suit-shared-sequence`.
    pub const SHARED_SEQUENCE: i64 = 4;
}

/// The slot of severable member `key` in [`manifest_key::SEVERABLE`].
pub(crate) fn severable_slot(key: i64) -> Option<usize> {
    manifest_key::SEVERABLE.iter().position(|&k| k == key)
}

/// The severable members an envelope carries, by [`manifest_key::SEVERABLE`] slot.
pub(crate) type Severed<'a> = [Option<Wrapped<'a>>; manifest_key::SEVERABLE.len()];

/// A severable member ("Severable Elements") as the manifest gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severable<'a, T> {
    /// Held in the manifest itself.
    Inline(T),
    /// Severed: the manifest holds its digest, the envelope held the member, and they matched.
    Restored(T),
    /// Severed and absent from the envelope: only its digest is known.
    Missing(SuitDigest<'a>),
}

impl<T: Copy> Severable<'_, T> {
    /// The member, unless it was severed and not supplied.
    pub fn get(&self) -> Option<T> {
        match self {
            Self::Inline(t) | Self::Restored(t) => Some(*t),
            Self::Missing(_) => None,
        }
    }
}

/// `SUIT_Common` ("suit-common").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Common<'a> {
    #[cfg(feature = "dependencies")]
    dependencies: Option<Dependencies<'a>>,
    components: Components<'a>,
    shared_sequence: Option<CommandSequence<'a>>,
}

impl<'a> Common<'a> {
    fn decode(w: Wrapped<'a>) -> Result<Self> {
        let mut c = w.cursor();
        let n = c.map()?;
        let mut seen = 0u64;
        #[cfg(feature = "dependencies")]
        let mut dependencies = None;
        let mut components = None;
        let mut shared_sequence = None;
        for _ in 0..n {
            let at = c.position();
            let key = c.int()?;
            first_time(&mut seen, key, at)?;
            match key {
                #[cfg(feature = "dependencies")]
                common_key::DEPENDENCIES => dependencies = Some(Dependencies::decode(&mut c)?),
                common_key::COMPONENTS => components = Some(Components::decode(&mut c)?),
                common_key::SHARED_SEQUENCE => {
                    shared_sequence = Some(CommandSequence::decode(c.wrapped()?)?);
                }
                key => {
                    return Err(Error::UnknownMember {
                        map: MapKind::Common,
                        key: iot_core::Error::label(key),
                    });
                }
            }
        }
        c.finish()?;
        Ok(Self {
            #[cfg(feature = "dependencies")]
            dependencies,
            components: components.ok_or(Error::MissingMember {
                map: MapKind::Common,
                key: iot_core::Error::label(common_key::COMPONENTS),
            })?,
            shared_sequence,
        })
    }

    /// `suit-components`.
    pub fn components(&self) -> Components<'a> {
        self.components
    }

    /// `suit-dependencies` (trust domains, feature `dependencies`; without it a manifest that
    /// has them is refused as [`Error::UnknownMember`]).
    #[cfg(feature = "dependencies")]
    pub fn dependencies(&self) -> Option<Dependencies<'a>> {
        self.dependencies
    }

    /// `suit-shared-sequence`.
    pub fn shared_sequence(&self) -> Option<CommandSequence<'a>> {
        self.shared_sequence
    }
}

/// `SUIT_Manifest` ("Manifest"), decoded and validated after authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Manifest<'a> {
    sequence_number: u64,
    common: Common<'a>,
    reference_uri: Option<&'a str>,
    component_id: Option<ComponentId<'a>>,
    set_version: Option<&'a [u8]>,
    validate: Option<CommandSequence<'a>>,
    load: Option<CommandSequence<'a>>,
    invoke: Option<CommandSequence<'a>>,
    uninstall: Option<CommandSequence<'a>>,
    dependency_resolution: Option<Severable<'a, CommandSequence<'a>>>,
    payload_fetch: Option<Severable<'a, CommandSequence<'a>>>,
    candidate_verification: Option<Severable<'a, CommandSequence<'a>>>,
    install: Option<Severable<'a, CommandSequence<'a>>>,
    #[cfg(feature = "text")]
    text: Option<Severable<'a, Text<'a>>>,
    coswid: Option<Severable<'a, &'a [u8]>>,
}

/// The one manifest version this implementation reads ("suit-manifest-version").
pub const MANIFEST_VERSION: u64 = 1;

impl<'a> Manifest<'a> {
    /// Decodes the manifest in `w`; severed members come from `severed` and are checked
    /// against their digests with `crypto`. Not inlined into the authentication, so that its
    /// locals are not on the stack during the signature check.
    #[inline(never)]
    pub(crate) fn decode<C: Sha256>(
        w: Wrapped<'a>,
        severed: &Severed<'a>,
        crypto: &mut C,
    ) -> Result<Self> {
        let mut c = w.cursor();
        let n = c.map()?;
        let mut seen = 0u64;
        let mut used = [false; manifest_key::SEVERABLE.len()];
        let mut version = None;
        let mut sequence_number = None;
        let mut common = None;
        let mut m = Partial::default();
        for _ in 0..n {
            let at = c.position();
            let key = c.int()?;
            first_time(&mut seen, key, at)?;
            use manifest_key::*;
            match key {
                VERSION => {
                    let v = c.uint()?;
                    if v != MANIFEST_VERSION {
                        return Err(Error::UnsupportedVersion(iot_core::Error::uint(v)));
                    }
                    version = Some(v);
                }
                SEQUENCE_NUMBER => sequence_number = Some(c.uint()?),
                COMMON => common = Some(Common::decode(c.wrapped()?)?),
                REFERENCE_URI => m.reference_uri = Some(c.str()?),
                COMPONENT_ID => m.component_id = Some(ComponentId::decode(&mut c)?),
                SET_VERSION => m.set_version = Some(c.skip()?),
                VALIDATE | LOAD | INVOKE | UNINSTALL => {
                    // One decoding for the four sequences, then the member it goes to.
                    let sequence = Some(CommandSequence::decode(c.wrapped()?)?);
                    match key {
                        VALIDATE => m.validate = sequence,
                        LOAD => m.load = sequence,
                        INVOKE => m.invoke = sequence,
                        _ => m.uninstall = sequence,
                    }
                }
                key => {
                    let Some(slot) = severable_slot(key) else {
                        return Err(Error::UnknownMember {
                            map: MapKind::Manifest,
                            key: iot_core::Error::label(key),
                        });
                    };
                    let from_envelope = severed.get(slot).copied().flatten();
                    if from_envelope.is_some()
                        && let Some(u) = used.get_mut(slot)
                    {
                        *u = true;
                    }
                    let mut s = SeverableInput {
                        c: &mut c,
                        key,
                        from_envelope,
                        crypto: &mut *crypto,
                    };
                    // Read and digest-checked once for every member, then decoded by kind.
                    let member = s.read()?;
                    match key {
                        COSWID => m.coswid = Some(member.map(|w| Ok(w.content))?),
                        #[cfg(feature = "text")]
                        TEXT => m.text = Some(member.map(|w| Text::decode(w.cursor()))?),
                        // Without the feature the text is not decoded: a severed one is
                        // still checked against its digest (above), so no envelope member goes
                        // unchecked.
                        #[cfg(not(feature = "text"))]
                        TEXT => {}
                        _ => {
                            let sequence = Some(member.map(CommandSequence::decode)?);
                            match key {
                                DEPENDENCY_RESOLUTION => m.dependency_resolution = sequence,
                                PAYLOAD_FETCH => m.payload_fetch = sequence,
                                CANDIDATE_VERIFICATION => m.candidate_verification = sequence,
                                _ => m.install = sequence,
                            }
                        }
                    }
                }
            }
        }
        c.finish()?;
        // An envelope member the manifest does not sever is not covered by any digest.
        for (slot, member) in severed.iter().enumerate() {
            if member.is_some() && !used.get(slot).copied().unwrap_or(false) {
                let key = manifest_key::SEVERABLE
                    .get(slot)
                    .copied()
                    .unwrap_or_default();
                return Err(Error::UnexpectedSeveredMember(iot_core::Error::label(key)));
            }
        }
        let missing = |key| Error::MissingMember {
            map: MapKind::Manifest,
            key: iot_core::Error::label(key),
        };
        version.ok_or(missing(manifest_key::VERSION))?;
        Ok(Self {
            sequence_number: sequence_number.ok_or(missing(manifest_key::SEQUENCE_NUMBER))?,
            common: common.ok_or(missing(manifest_key::COMMON))?,
            reference_uri: m.reference_uri,
            component_id: m.component_id,
            set_version: m.set_version,
            validate: m.validate,
            load: m.load,
            invoke: m.invoke,
            uninstall: m.uninstall,
            dependency_resolution: m.dependency_resolution,
            payload_fetch: m.payload_fetch,
            candidate_verification: m.candidate_verification,
            install: m.install,
            #[cfg(feature = "text")]
            text: m.text,
            coswid: m.coswid,
        })
    }

    /// `suit-manifest-version`: always [`MANIFEST_VERSION`] (others are rejected).
    pub fn version(&self) -> u64 {
        MANIFEST_VERSION
    }

    /// `suit-manifest-sequence-number` ("suit-manifest-sequence-number"): the anti-rollback counter.
    pub fn sequence_number(&self) -> u64 {
        self.sequence_number
    }

    /// `suit-common` ("suit-common").
    pub fn common(&self) -> &Common<'a> {
        &self.common
    }

    /// `suit-reference-uri` ("suit-reference-uri").
    pub fn reference_uri(&self) -> Option<&'a str> {
        self.reference_uri
    }

    /// `suit-manifest-component-id` (trust domains): where this manifest is stored.
    pub fn component_id(&self) -> Option<ComponentId<'a>> {
        self.component_id
    }

    /// The encoded `suit-set-version` (update management), not interpreted here.
    pub fn set_version(&self) -> Option<&'a [u8]> {
        self.set_version
    }

    /// `suit-validate` ("SUIT_Command_Sequence").
    pub fn validate(&self) -> Option<CommandSequence<'a>> {
        self.validate
    }

    /// `suit-load`.
    pub fn load(&self) -> Option<CommandSequence<'a>> {
        self.load
    }

    /// `suit-invoke`.
    pub fn invoke(&self) -> Option<CommandSequence<'a>> {
        self.invoke
    }

    /// `suit-uninstall` (trust domains).
    pub fn uninstall(&self) -> Option<CommandSequence<'a>> {
        self.uninstall
    }

    /// `suit-dependency-resolution` (trust domains), severable.
    pub fn dependency_resolution(&self) -> Option<Severable<'a, CommandSequence<'a>>> {
        self.dependency_resolution
    }

    /// `suit-payload-fetch`, severable.
    pub fn payload_fetch(&self) -> Option<Severable<'a, CommandSequence<'a>>> {
        self.payload_fetch
    }

    /// `suit-candidate-verification` (trust domains), severable.
    pub fn candidate_verification(&self) -> Option<Severable<'a, CommandSequence<'a>>> {
        self.candidate_verification
    }

    /// `suit-install`, severable.
    pub fn install(&self) -> Option<Severable<'a, CommandSequence<'a>>> {
        self.install
    }

    /// `suit-text` ("Manifest Text"), severable (feature `text`).
    #[cfg(feature = "text")]
    pub fn text(&self) -> Option<Severable<'a, Text<'a>>> {
        self.text
    }

    /// The content of `suit-coswid` (update management), severable; not interpreted here.
    pub fn coswid(&self) -> Option<Severable<'a, &'a [u8]>> {
        self.coswid
    }
}

/// The optional members while decoding.
#[derive(Default)]
struct Partial<'a> {
    reference_uri: Option<&'a str>,
    component_id: Option<ComponentId<'a>>,
    set_version: Option<&'a [u8]>,
    validate: Option<CommandSequence<'a>>,
    load: Option<CommandSequence<'a>>,
    invoke: Option<CommandSequence<'a>>,
    uninstall: Option<CommandSequence<'a>>,
    dependency_resolution: Option<Severable<'a, CommandSequence<'a>>>,
    payload_fetch: Option<Severable<'a, CommandSequence<'a>>>,
    candidate_verification: Option<Severable<'a, CommandSequence<'a>>>,
    install: Option<Severable<'a, CommandSequence<'a>>>,
    #[cfg(feature = "text")]
    text: Option<Severable<'a, Text<'a>>>,
    coswid: Option<Severable<'a, &'a [u8]>>,
}

/// One severable member's value in the manifest and its counterpart in the envelope.
struct SeverableInput<'c, 'a, C> {
    c: &'c mut Cur<'a>,
    key: i64,
    from_envelope: Option<Wrapped<'a>>,
    crypto: &'c mut C,
}

impl<'a, C: Sha256> SeverableInput<'_, 'a, C> {
    /// `SUIT_Digest / bstr .cbor T` ("Severable Elements"): inline, or severed and restored from the
    /// envelope after its digest matched (the digest covers the bstr, head included). The
    /// member's bytes, decoded by [`Severable::map`].
    fn read(&mut self) -> Result<Severable<'a, Wrapped<'a>>> {
        if self.c.datatype()? == Type::Bytes {
            let w = self.c.wrapped()?;
            if self.from_envelope.is_some() {
                return Err(Error::UnexpectedSeveredMember(iot_core::Error::label(
                    self.key,
                )));
            }
            return Ok(Severable::Inline(w));
        }
        let digest = SuitDigest::decode(self.c)?;
        match self.from_envelope {
            None => Ok(Severable::Missing(digest)),
            Some(w) => {
                digest.check(
                    self.crypto,
                    w.encoded,
                    Error::SeveredMemberDigestMismatch(iot_core::Error::label(self.key)),
                )?;
                Ok(Severable::Restored(w))
            }
        }
    }
}

impl<'a> Severable<'a, Wrapped<'a>> {
    /// The member decoded by `decode`, kept inline, restored or missing as it was.
    fn map<T>(self, decode: impl FnOnce(Wrapped<'a>) -> Result<T>) -> Result<Severable<'a, T>> {
        Ok(match self {
            Self::Inline(w) => Severable::Inline(decode(w)?),
            Self::Restored(w) => Severable::Restored(decode(w)?),
            Self::Missing(digest) => Severable::Missing(digest),
        })
    }
}
