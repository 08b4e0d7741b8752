//! The manifest model (draft-ietf-suit-manifest "Manifest") and its severable members ("Severable Elements").
//!
//! A [`Manifest`] has no public constructor: it is reached only through
//! [`crate::Envelope::authenticate`], after the authentication wrapper verified.

use crate::cbor::{Cur, Wrapped};
use crate::command::CommandSequence;
use crate::component::{ComponentId, Components};
#[cfg(feature = "dependencies")]
use crate::component::{Dependencies, Dependency};
use crate::digest::SuitDigest;
use crate::error::{Error, MapKind, Result};
use crate::platform::SequenceKind;
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
    /// The severable members, in the order of [`crate::Envelope`]'s slots for them (after the
    /// authentication wrapper, the manifest and `suit-delegation`).
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

/// The envelope members that are byte strings, in the order of [`crate::Envelope`]'s slots:
/// the authentication wrapper, the manifest, `suit-delegation`, then from slot [`SEVERED`] the
/// severable members in [`manifest_key::SEVERABLE`]'s order (checked below), the slots of
/// [`Manifest::decode`]'s `severed`. The keys are small: `as` is exact, and a table of `i8` is an
/// eighth of one of `i64`.
pub(crate) const BSTR_MEMBERS: [i8; 9] = [
    envelope_key::AUTHENTICATION_WRAPPER as i8,
    envelope_key::MANIFEST as i8,
    envelope_key::DELEGATION as i8,
    manifest_key::COSWID as i8,
    manifest_key::DEPENDENCY_RESOLUTION as i8,
    manifest_key::PAYLOAD_FETCH as i8,
    manifest_key::CANDIDATE_VERIFICATION as i8,
    manifest_key::INSTALL as i8,
    manifest_key::TEXT as i8,
];

/// The slot of the first severable member in [`BSTR_MEMBERS`].
pub(crate) const SEVERED: usize = 3;

const _: () = {
    /// Whether `a` holds the keys of `b`, in order.
    const fn same(a: &[i8], b: &[i64]) -> bool {
        match (a, b) {
            ([], []) => true,
            ([x, a @ ..], [y, b @ ..]) => *x as i64 == *y && same(a, b),
            _ => false,
        }
    }
    assert!(
        BSTR_MEMBERS.len() == SEVERED + manifest_key::SEVERABLE.len()
            && same(BSTR_MEMBERS.split_at(SEVERED).1, &manifest_key::SEVERABLE)
    );
};

/// The slot of severable member `key` in [`manifest_key::SEVERABLE`].
fn severable_slot(key: i64) -> Option<usize> {
    BSTR_MEMBERS
        .split_at(SEVERED)
        .1
        .iter()
        .position(|&k| i64::from(k) == key)
}

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
            let key = c.key(&mut seen)?;
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
    /// The command sequences by [`SEQUENCES`] slot; those never severed are always
    /// [`Severable::Inline`].
    sequences: [Option<Severable<'a, CommandSequence<'a>>>; SEQUENCES.len()],
    #[cfg(feature = "text")]
    text: Option<Severable<'a, Text<'a>>>,
    coswid: Option<Severable<'a, &'a [u8]>>,
}

/// The keys of the command sequences, in the order of [`Manifest`]'s slots, which is
/// [`SequenceKind`]'s after `Shared` (see [`Manifest::sequence`]): the severable ones, then the
/// four that are never severed. The keys are small: `as` is exact, and a table of `i8` is an
/// eighth of one of `i64`.
const SEQUENCES: [i8; 8] = [
    manifest_key::DEPENDENCY_RESOLUTION as i8,
    manifest_key::PAYLOAD_FETCH as i8,
    manifest_key::CANDIDATE_VERIFICATION as i8,
    manifest_key::INSTALL as i8,
    manifest_key::VALIDATE as i8,
    manifest_key::LOAD as i8,
    manifest_key::INVOKE as i8,
    manifest_key::UNINSTALL as i8,
];

/// The one manifest version this implementation reads ("suit-manifest-version").
pub const MANIFEST_VERSION: u64 = 1;

impl<'a> Manifest<'a> {
    /// Decodes the manifest in `w`; severed members come from `severed` (by
    /// [`manifest_key::SEVERABLE`] slot) and are checked against their digests with `crypto`.
    /// Not inlined into the authentication, so that its locals are not on the stack during the
    /// signature check.
    #[inline(never)]
    pub(crate) fn decode<C: Sha256>(
        w: Wrapped<'a>,
        severed: &[Option<Wrapped<'a>>],
        crypto: &mut C,
    ) -> Result<Self> {
        let mut c = w.cursor();
        let n = c.map()?;
        let mut seen = 0u64;
        let mut used = [false; manifest_key::SEVERABLE.len()];
        let mut version = false;
        let mut sequence_number = None;
        let mut common = None;
        let mut reference_uri = None;
        let mut component_id = None;
        let mut set_version = None;
        let mut sequences = [None; SEQUENCES.len()];
        #[cfg(feature = "text")]
        let mut text = None;
        let mut coswid = None;
        for _ in 0..n {
            let key = c.key(&mut seen)?;
            use manifest_key::*;
            match key {
                VERSION => {
                    let v = c.uint()?;
                    if v != MANIFEST_VERSION {
                        return Err(Error::UnsupportedVersion(iot_core::Error::uint(v)));
                    }
                    version = true;
                }
                SEQUENCE_NUMBER => sequence_number = Some(c.uint()?),
                COMMON => common = Some(Common::decode(c.wrapped()?)?),
                REFERENCE_URI => reference_uri = Some(c.str()?),
                COMPONENT_ID => component_id = Some(ComponentId::decode(&mut c)?),
                SET_VERSION => set_version = Some(c.skip()?),
                key => {
                    let sequence = SEQUENCES.iter().position(|&k| i64::from(k) == key);
                    let member = match severable_slot(key) {
                        Some(slot) => {
                            let from_envelope = severed.get(slot).copied().flatten();
                            if from_envelope.is_some()
                                && let Some(u) = used.get_mut(slot)
                            {
                                *u = true;
                            }
                            // Read and digest-checked once for every member, then decoded by
                            // kind.
                            SeverableInput {
                                c: &mut c,
                                key,
                                from_envelope,
                                crypto: &mut *crypto,
                            }
                            .read()?
                        }
                        // A sequence that is never severed: always the bstr itself.
                        None if sequence.is_some() => Severable::Inline(c.wrapped()?),
                        None => {
                            return Err(Error::UnknownMember {
                                map: MapKind::Manifest,
                                key: iot_core::Error::label(key),
                            });
                        }
                    };
                    match key {
                        COSWID => coswid = Some(member.map(|w| Ok(w.content()))?),
                        #[cfg(feature = "text")]
                        TEXT => text = Some(member.map(|w| Text::decode(w.cursor()))?),
                        // Without the feature the text is not decoded: a severed one is
                        // still checked against its digest (above), so no envelope member goes
                        // unchecked.
                        #[cfg(not(feature = "text"))]
                        TEXT => {}
                        _ => {
                            let decoded = member.map(CommandSequence::decode)?;
                            if let Some(s) = sequence.and_then(|i| sequences.get_mut(i)) {
                                *s = Some(decoded);
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
                let key = BSTR_MEMBERS.get(SEVERED + slot).map_or(0, |&k| k.into());
                return Err(Error::UnexpectedSeveredMember(key));
            }
        }
        let missing = |key| Error::MissingMember {
            map: MapKind::Manifest,
            key: iot_core::Error::label(key),
        };
        if !version {
            return Err(missing(manifest_key::VERSION));
        }
        Ok(Self {
            sequence_number: sequence_number.ok_or(missing(manifest_key::SEQUENCE_NUMBER))?,
            common: common.ok_or(missing(manifest_key::COMMON))?,
            reference_uri,
            component_id,
            set_version,
            sequences,
            #[cfg(feature = "text")]
            text,
            coswid,
        })
    }

    /// The sequence of `kind`, `None` when the manifest has none; an error when it was severed
    /// and the envelope did not carry it. Not inlined: inlined, it was copied into
    /// `Processor::procedure` once per kind of sequence.
    #[inline(never)]
    pub(crate) fn sequence(&self, kind: SequenceKind) -> Result<Option<CommandSequence<'a>>> {
        if kind == SequenceKind::Shared {
            return Ok(self.common.shared_sequence);
        }
        let slot = (kind as usize).wrapping_sub(1);
        match self.sequences.get(slot).copied().flatten() {
            Some(Severable::Missing(_)) => Err(Error::SeveredMemberMissing(
                SEQUENCES.get(slot).map_or(0, |&k| k.into()),
            )),
            s => Ok(s.and_then(|s| s.get())),
        }
    }

    /// The identifier of component `index`: its entry in `suit-components`, or for a dependency
    /// not listed there its `suit-dependency-prefix` (draft-ietf-suit-trust-domains).
    pub(crate) fn component(&self, index: usize) -> Option<ComponentId<'a>> {
        let listed = self.common.components.get(index);
        #[cfg(feature = "dependencies")]
        let listed = listed.or_else(|| self.dependency(index)?.prefix);
        listed
    }

    /// The entry of `suit-dependencies` for component `index` (draft-ietf-suit-trust-domains).
    #[cfg(feature = "dependencies")]
    pub(crate) fn dependency(&self, index: usize) -> Option<Dependency<'a>> {
        self.common
            .dependencies?
            .iter()
            .find(|d| d.index == index as u64)
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
        self.sequences[4].and_then(|s| s.get())
    }

    /// `suit-load`.
    pub fn load(&self) -> Option<CommandSequence<'a>> {
        self.sequences[5].and_then(|s| s.get())
    }

    /// `suit-invoke`.
    pub fn invoke(&self) -> Option<CommandSequence<'a>> {
        self.sequences[6].and_then(|s| s.get())
    }

    /// `suit-uninstall` (trust domains).
    pub fn uninstall(&self) -> Option<CommandSequence<'a>> {
        self.sequences[7].and_then(|s| s.get())
    }

    /// `suit-dependency-resolution` (trust domains), severable.
    pub fn dependency_resolution(&self) -> Option<Severable<'a, CommandSequence<'a>>> {
        self.sequences[0]
    }

    /// `suit-payload-fetch`, severable.
    pub fn payload_fetch(&self) -> Option<Severable<'a, CommandSequence<'a>>> {
        self.sequences[1]
    }

    /// `suit-candidate-verification` (trust domains), severable.
    pub fn candidate_verification(&self) -> Option<Severable<'a, CommandSequence<'a>>> {
        self.sequences[2]
    }

    /// `suit-install`, severable.
    pub fn install(&self) -> Option<Severable<'a, CommandSequence<'a>>> {
        self.sequences[3]
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

// [`Manifest::sequence`] finds a kind's slot in [`SEQUENCES`] as its discriminant minus one, and
// the accessors above name their slots by number: each kind has that discriminant and its key at
// that slot (`at`'s match is exhaustive, so a new kind does not compile until it is given one).
const _: () = {
    const fn at(kind: SequenceKind, slot: usize) -> bool {
        use manifest_key::*;
        let key = match kind {
            // No slot: the shared sequence is in `suit-common`.
            SequenceKind::Shared => return false,
            SequenceKind::DependencyResolution => DEPENDENCY_RESOLUTION,
            SequenceKind::PayloadFetch => PAYLOAD_FETCH,
            SequenceKind::CandidateVerification => CANDIDATE_VERIFICATION,
            SequenceKind::Install => INSTALL,
            SequenceKind::Validate => VALIDATE,
            SequenceKind::Load => LOAD,
            SequenceKind::Invoke => INVOKE,
            SequenceKind::Uninstall => UNINSTALL,
        };
        kind as usize == slot + 1
            && matches!(SEQUENCES.split_at(slot).1, [k, ..] if *k as i64 == key)
    }
    assert!(
        SequenceKind::Shared as usize == 0
            && at(SequenceKind::DependencyResolution, 0)
            && at(SequenceKind::PayloadFetch, 1)
            && at(SequenceKind::CandidateVerification, 2)
            && at(SequenceKind::Install, 3)
            && at(SequenceKind::Validate, 4)
            && at(SequenceKind::Load, 5)
            && at(SequenceKind::Invoke, 6)
            && at(SequenceKind::Uninstall, 7)
    );
};

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
        // One call of `decode` for both kinds that hold the member.
        let (w, restored) = match self {
            Self::Inline(w) => (w, false),
            Self::Restored(w) => (w, true),
            Self::Missing(digest) => return Ok(Severable::Missing(digest)),
        };
        let t = decode(w)?;
        Ok(if restored {
            Severable::Restored(t)
        } else {
            Severable::Inline(t)
        })
    }
}
