//! Building and signing SUIT envelopes on the server side (feature `alloc`).
//!
//! A [`Description`] is the manifest as data: components, command sequences with typed
//! [`Param`]eters, text, which severable members to sever, integrated payloads.
//! [`Description::encode`] writes it with minicbor in preferred serialization and with map keys in
//! the deterministic order of RFC 8949 section 4.2.1, severs what was asked for (the member's
//! SUIT_Digest stays in the manifest, its bstr moves to the envelope), and returns an [`Unsigned`]
//! envelope. [`Unsigned::sign`] adds a COSE_Sign1 (ES256 or ESP256; RFC 6979 deterministic ECDSA
//! with iot-core's `P256SigningKey`) and [`Unsigned::mac`] a COSE_Mac0 (HMAC 256/256), each over
//! the encoded SUIT_Digest of the manifest as detached payload (draft-ietf-suit-manifest
//! "Authenticated Manifests"). [`sever`] removes the severed members from a finished envelope.
//!
//! With feature `json`, [`json`] reads a description from the JSON schema of the crate README.

#[cfg(feature = "rustcrypto")]
pub mod encrypt;
#[cfg(feature = "json")]
pub mod json;

use crate::command::{Command, param};
use crate::digest::alg;
use crate::manifest::{MANIFEST_VERSION, common_key, envelope_key, manifest_key};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use iot_core::cbor::Reader;
use iot_core::cose::{Algorithm, Mac0Builder, Sign1Builder, SymmetricKey};
use iot_core::crypto::{HmacSha256, Sha256, Signer};
use minicbor::Encoder;

/// A component identifier: its byte-string segments ("suit-components").
pub type ComponentId = Vec<Vec<u8>>;

/// Errors of building an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// The description is not a valid manifest: what is wrong.
    Invalid(String),
    /// Signing or MACing failed (iot-core's error).
    Cose(iot_core::Error),
    /// The input of [`sever`] is not a SUIT envelope.
    Envelope(crate::Error),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid(what) => write!(f, "invalid manifest description: {what}"),
            Self::Cose(e) => write!(f, "authentication block: {e}"),
            Self::Envelope(e) => write!(f, "not a SUIT envelope: {e}"),
        }
    }
}

impl core::error::Error for BuildError {}

impl From<iot_core::Error> for BuildError {
    fn from(e: iot_core::Error) -> Self {
        Self::Cose(e)
    }
}

fn invalid(what: impl ToString) -> BuildError {
    BuildError::Invalid(what.to_string())
}

/// The result type of the builder.
pub type Result<T> = core::result::Result<T, BuildError>;

/// `IndexArg` of `suit-directive-set-component-index`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Index {
    /// One component.
    One(u64),
    /// Every component (`true`).
    All,
    /// Several components.
    List(Vec<u64>),
}

/// A SUIT_Digest ("SUIT_Digest"): algorithm id and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    /// The COSE algorithm id ([`crate::digest_alg`]).
    pub algorithm: i64,
    /// The digest bytes.
    pub bytes: Vec<u8>,
}

impl Digest {
    /// The SHA-256 digest of `data`.
    pub fn sha256<C: Sha256>(crypto: &mut C, data: &[u8]) -> Self {
        Self {
            algorithm: alg::SHA256,
            bytes: crypto.sha256(data).to_vec(),
        }
    }
}

/// One parameter of `SUIT_Parameters` ("SUIT_Parameters"), owned.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Param {
    /// Vendor ID (RFC 9562 UUID bytes).
    VendorId(Vec<u8>),
    /// Class ID (RFC 9562 UUID bytes).
    ClassId(Vec<u8>),
    /// Device ID (RFC 9562 UUID bytes).
    DeviceId(Vec<u8>),
    /// Image digest.
    ImageDigest(Digest),
    /// Image size in bytes.
    ImageSize(u64),
    /// Use-before, seconds since the epoch (update management).
    UseBefore(u64),
    /// Component slot.
    ComponentSlot(u64),
    /// Strict order.
    StrictOrder(bool),
    /// Soft failure.
    SoftFailure(bool),
    /// Content for `write` / `check-content`.
    Content(Vec<u8>),
    /// The SUIT_Encryption_Info (an encoded COSE_Encrypt / COSE_Encrypt0), passed through as given.
    EncryptionInfo(Vec<u8>),
    /// URI.
    Uri(String),
    /// Source component index.
    SourceComponent(u64),
    /// Invoke arguments.
    InvokeArgs(Vec<u8>),
    /// Minimum battery level (update management).
    MinimumBattery(u64),
    /// Update priority (update management).
    UpdatePriority(i64),
    /// The encoded `SUIT_Parameter_Version_Match` (update management), one CBOR item.
    Version(Vec<u8>),
    /// The content of `bstr .cbor SUIT_Wait_Event` (update management).
    WaitInfo(Vec<u8>),
    /// Any other parameter: its key and its encoded value (one CBOR item).
    Other {
        /// The key.
        key: i64,
        /// The encoded value.
        value: Vec<u8>,
    },
}

impl Param {
    /// The parameter's key.
    pub fn key(&self) -> i64 {
        use param::*;
        match self {
            Self::VendorId(_) => VENDOR_IDENTIFIER,
            Self::ClassId(_) => CLASS_IDENTIFIER,
            Self::DeviceId(_) => DEVICE_IDENTIFIER,
            Self::ImageDigest(_) => IMAGE_DIGEST,
            Self::ImageSize(_) => IMAGE_SIZE,
            Self::UseBefore(_) => USE_BEFORE,
            Self::ComponentSlot(_) => COMPONENT_SLOT,
            Self::StrictOrder(_) => STRICT_ORDER,
            Self::SoftFailure(_) => SOFT_FAILURE,
            Self::Content(_) => CONTENT,
            Self::EncryptionInfo(_) => ENCRYPTION_INFO,
            Self::Uri(_) => URI,
            Self::SourceComponent(_) => SOURCE_COMPONENT,
            Self::InvokeArgs(_) => INVOKE_ARGS,
            Self::MinimumBattery(_) => MINIMUM_BATTERY,
            Self::UpdatePriority(_) => UPDATE_PRIORITY,
            Self::Version(_) => VERSION,
            Self::WaitInfo(_) => WAIT_INFO,
            Self::Other { key, .. } => *key,
        }
    }

    fn encode_value(&self, e: &mut Enc) -> Result<()> {
        match self {
            Self::VendorId(b)
            | Self::ClassId(b)
            | Self::DeviceId(b)
            | Self::Content(b)
            | Self::EncryptionInfo(b)
            | Self::InvokeArgs(b)
            | Self::WaitInfo(b) => e.bytes(b),
            Self::ImageDigest(d) => e.bytes(&digest(d)),
            Self::ImageSize(n)
            | Self::UseBefore(n)
            | Self::ComponentSlot(n)
            | Self::SourceComponent(n)
            | Self::MinimumBattery(n) => e.u64(*n),
            Self::StrictOrder(b) | Self::SoftFailure(b) => e.bool(*b),
            Self::Uri(u) => e.str(u),
            Self::UpdatePriority(n) => e.i64(*n),
            Self::Version(v) | Self::Other { value: v, .. } => e.raw(v)?,
        }
        Ok(())
    }
}

/// One command with its argument ("SUIT_Command_Sequence").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cmd {
    /// A condition or directive whose argument is a reporting policy (`SUIT_Rep_Policy`), such as
    /// `(Command::VendorIdentifier, 15)` or `(Command::Fetch, 2)`.
    Policy(Command, u64),
    /// `suit-directive-set-component-index`.
    SetComponentIndex(Index),
    /// `suit-directive-set-parameters`.
    SetParameters(Vec<Param>),
    /// `suit-directive-override-parameters`.
    OverrideParameters(Vec<Param>),
    /// `suit-directive-try-each`: at least two sequences, optionally ending with `nil`.
    TryEach {
        /// The sequences to try, in order.
        sequences: Vec<Vec<Cmd>>,
        /// End the list with `nil`: succeed when every sequence failed.
        empty_fallback: bool,
    },
    /// `suit-directive-run-sequence`.
    RunSequence(Vec<Cmd>),
    /// Any other command with its encoded argument (one CBOR item): `override-multiple`,
    /// `copy-params`, custom commands.
    Raw(Command, Vec<u8>),
}

/// `SUIT_Dependency_Metadata` (draft-ietf-suit-trust-domains "SUIT_Dependencies").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// The component index of the dependency.
    pub index: u64,
    /// `suit-dependency-prefix`.
    pub prefix: Option<ComponentId>,
}

/// `SUIT_Text_LMap`: the texts of one language ("Manifest Text").
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LanguageText {
    /// Manifest-wide texts by key ([`crate::text::key`]).
    pub entries: Vec<(i64, String)>,
    /// Per-component texts by key ([`crate::text::component_key`]).
    pub components: Vec<(ComponentId, Vec<(i64, String)>)>,
}

/// The manifest and its envelope, described as data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description {
    /// Emit tag 107 (`SUIT_Envelope_Tagged`).
    pub tagged: bool,
    /// `suit-manifest-sequence-number`.
    pub sequence_number: u64,
    /// `suit-components`: at least one.
    pub components: Vec<ComponentId>,
    /// `suit-dependencies` (trust domains).
    pub dependencies: Vec<Dependency>,
    /// `suit-shared-sequence`.
    pub shared_sequence: Option<Vec<Cmd>>,
    /// `suit-reference-uri`.
    pub reference_uri: Option<String>,
    /// `suit-manifest-component-id` (trust domains).
    pub manifest_component_id: Option<ComponentId>,
    /// `suit-set-version` (update management), one encoded CBOR item.
    pub set_version: Option<Vec<u8>>,
    /// `suit-validate`.
    pub validate: Option<Vec<Cmd>>,
    /// `suit-load`.
    pub load: Option<Vec<Cmd>>,
    /// `suit-invoke`.
    pub invoke: Option<Vec<Cmd>>,
    /// `suit-uninstall` (trust domains).
    pub uninstall: Option<Vec<Cmd>>,
    /// `suit-dependency-resolution` (trust domains), severable.
    pub dependency_resolution: Option<Vec<Cmd>>,
    /// `suit-payload-fetch`, severable.
    pub payload_fetch: Option<Vec<Cmd>>,
    /// `suit-candidate-verification` (trust domains), severable.
    pub candidate_verification: Option<Vec<Cmd>>,
    /// `suit-install`, severable.
    pub install: Option<Vec<Cmd>>,
    /// `suit-text` per language tag, severable.
    pub text: Vec<(String, LanguageText)>,
    /// The content of `suit-coswid` (update management), severable.
    pub coswid: Option<Vec<u8>>,
    /// The severable members to sever ([`manifest_key::SEVERABLE`] keys): the manifest keeps
    /// their SUIT_Digest, the envelope carries them.
    pub sever: Vec<i64>,
    /// Integrated payloads and dependencies: envelope members named by text (`"#name"`).
    pub integrated: Vec<(String, Vec<u8>)>,
}

impl Description {
    /// An envelope with these components and nothing else (tagged); fill in the rest.
    pub fn new(sequence_number: u64, components: Vec<ComponentId>) -> Self {
        Self {
            tagged: true,
            sequence_number,
            components,
            dependencies: Vec::new(),
            shared_sequence: None,
            reference_uri: None,
            manifest_component_id: None,
            set_version: None,
            validate: None,
            load: None,
            invoke: None,
            uninstall: None,
            dependency_resolution: None,
            payload_fetch: None,
            candidate_verification: None,
            install: None,
            text: Vec::new(),
            coswid: None,
            sever: Vec::new(),
            integrated: Vec::new(),
        }
    }

    /// Encodes the manifest, severs the members named in [`Description::sever`] (their SHA-256
    /// SUIT_Digest in the manifest), and returns the envelope to authenticate.
    pub fn encode<C: Sha256>(&self, crypto: &mut C) -> Result<Unsigned> {
        if self.components.is_empty() {
            return Err(invalid("suit-components needs at least one component"));
        }
        for key in &self.sever {
            if !manifest_key::SEVERABLE.contains(key) {
                return Err(invalid(alloc::format!("member {key} is not severable")));
            }
        }
        let mut manifest = Map::default();
        manifest.int(manifest_key::VERSION, |e| e.u64(MANIFEST_VERSION))?;
        manifest.int(manifest_key::SEQUENCE_NUMBER, |e| {
            e.u64(self.sequence_number)
        })?;
        let common = self.common()?;
        manifest.int(manifest_key::COMMON, |e| e.bytes(&common))?;
        if let Some(uri) = &self.reference_uri {
            manifest.int(manifest_key::REFERENCE_URI, |e| e.str(uri))?;
        }
        if let Some(id) = &self.manifest_component_id {
            manifest.int(manifest_key::COMPONENT_ID, |e| component_id(e, id))?;
        }
        if let Some(v) = &self.set_version {
            manifest.try_int(manifest_key::SET_VERSION, |e| e.raw(v))?;
        }
        let plain = [
            (manifest_key::VALIDATE, &self.validate),
            (manifest_key::LOAD, &self.load),
            (manifest_key::INVOKE, &self.invoke),
            (manifest_key::UNINSTALL, &self.uninstall),
        ];
        for (key, seq) in plain {
            if let Some(seq) = seq {
                let seq = sequence(seq)?;
                manifest.int(key, |e| e.bytes(&seq))?;
            }
        }
        // The severable members as bstrs (head included: what their digest covers).
        let mut severable: Vec<(i64, Vec<u8>)> = Vec::new();
        let sequences = [
            (
                manifest_key::DEPENDENCY_RESOLUTION,
                &self.dependency_resolution,
            ),
            (manifest_key::PAYLOAD_FETCH, &self.payload_fetch),
            (
                manifest_key::CANDIDATE_VERIFICATION,
                &self.candidate_verification,
            ),
            (manifest_key::INSTALL, &self.install),
        ];
        for (key, seq) in sequences {
            if let Some(seq) = seq {
                severable.push((key, bstr(&sequence(seq)?)));
            }
        }
        if !self.text.is_empty() {
            severable.push((manifest_key::TEXT, bstr(&text(&self.text)?)));
        }
        if let Some(c) = &self.coswid {
            severable.push((manifest_key::COSWID, bstr(c)));
        }
        let mut severed = Vec::new();
        for key in &self.sever {
            if !severable.iter().any(|(k, _)| k == key) {
                return Err(invalid(alloc::format!(
                    "member {key} is to be severed but absent"
                )));
            }
        }
        for (key, member) in severable {
            if self.sever.contains(&key) {
                let d = digest(&Digest::sha256(crypto, &member));
                manifest.try_int(key, |e| e.raw(&d))?;
                severed.push((key, member));
            } else {
                manifest.try_int(key, |e| e.raw(&member))?;
            }
        }
        let manifest = bstr(&manifest.finish()?);
        let suit_digest = digest(&Digest::sha256(crypto, &manifest));
        let mut names: Vec<&str> = self.integrated.iter().map(|(n, _)| n.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        if names.len() != self.integrated.len() {
            return Err(invalid("integrated payload named twice"));
        }
        Ok(Unsigned {
            tagged: self.tagged,
            manifest,
            digest: suit_digest,
            blocks: Vec::new(),
            severed,
            integrated: self.integrated.clone(),
            delegation: None,
        })
    }

    /// `SUIT_Common`, encoded.
    fn common(&self) -> Result<Vec<u8>> {
        let mut common = Map::default();
        if !self.dependencies.is_empty() {
            let mut deps = Map::default();
            for d in &self.dependencies {
                let mut meta = Map::default();
                if let Some(p) = &d.prefix {
                    meta.int(1, |e| component_id(e, p))?;
                }
                let meta = meta.finish()?;
                deps.try_key(|e| e.u64(d.index), |e| e.raw(&meta))?;
            }
            let deps = deps.finish()?;
            common.try_int(common_key::DEPENDENCIES, |e| e.raw(&deps))?;
        }
        common.int(common_key::COMPONENTS, |e| {
            e.array(self.components.len());
            for id in &self.components {
                component_id(e, id);
            }
        })?;
        if let Some(seq) = &self.shared_sequence {
            let seq = sequence(seq)?;
            common.int(common_key::SHARED_SEQUENCE, |e| e.bytes(&seq))?;
        }
        common.finish()
    }
}

/// An envelope whose manifest is final, waiting for its authentication blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsigned {
    tagged: bool,
    /// The manifest bstr, head included.
    manifest: Vec<u8>,
    /// The encoded SUIT_Digest of `manifest`.
    digest: Vec<u8>,
    /// Encoded COSE_Sign1 / COSE_Mac0 blocks.
    blocks: Vec<Vec<u8>>,
    severed: Vec<(i64, Vec<u8>)>,
    integrated: Vec<(String, Vec<u8>)>,
    /// The encoded SUIT_Delegation, if any.
    delegation: Option<Vec<u8>>,
}

/// Room for one authentication block besides its key id: headers, nil payload, 64-byte signature.
const BLOCK_ROOM: usize = 128;

impl Unsigned {
    /// The manifest's encoded SUIT_Digest: the detached payload the blocks authenticate.
    pub fn suit_digest(&self) -> &[u8] {
        &self.digest
    }

    /// The encoded manifest (`bstr .cbor SUIT_Manifest`, head included).
    pub fn manifest(&self) -> &[u8] {
        &self.manifest
    }

    /// Adds a COSE_Sign1 block ("Authenticated Manifests"): `alg` (ES256 or ESP256) in the
    /// protected header, `kid` in the unprotected one if given, the encoded SUIT_Digest as detached
    /// payload, signed by `signer` (RFC 6979 deterministic with iot-core's `P256SigningKey`).
    pub fn sign<C: Sha256, S: Signer>(
        &mut self,
        crypto: &mut C,
        signer: &mut S,
        alg: Algorithm,
        kid: Option<&[u8]>,
    ) -> Result<&mut Self> {
        let mut b = Sign1Builder::new(alg);
        b.unprotected.kid = kid;
        b.detached = true;
        let mut out = alloc::vec![0u8; BLOCK_ROOM.saturating_add(kid.map_or(0, <[u8]>::len))];
        let n = b.sign(crypto, signer, &self.digest, &[], &mut out)?;
        out.truncate(n);
        self.blocks.push(out);
        Ok(self)
    }

    /// Sets `suit-delegation` (draft-ietf-suit-trust-domains "Delegation Chains"): `chains` of
    /// encoded CWTs (COSE_Sign1), each chain from a trust anchor's CWT to the one confirming the
    /// key that signs this envelope, made elsewhere and written as given. The member is outside
    /// the authentication wrapper: it may be set before or after the blocks. At least one chain,
    /// each of at least one CWT.
    pub fn delegate(&mut self, chains: &[Vec<Vec<u8>>]) -> Result<&mut Self> {
        if chains.is_empty() || chains.iter().any(Vec::is_empty) {
            return Err(invalid("a delegation needs a chain, each chain a CWT"));
        }
        let mut e = Enc::default();
        e.array(chains.len());
        for chain in chains {
            e.array(chain.len());
            for cwt in chain {
                e.bytes(cwt);
            }
        }
        self.delegation = Some(e.into_vec());
        Ok(self)
    }

    /// Adds a COSE_Mac0 block (HMAC 256/256) over the encoded SUIT_Digest as detached payload.
    pub fn mac<C: HmacSha256>(
        &mut self,
        crypto: &mut C,
        key: &SymmetricKey<'_>,
        kid: Option<&[u8]>,
    ) -> Result<&mut Self> {
        let mut b = Mac0Builder::new();
        b.unprotected.kid = kid;
        b.detached = true;
        let mut out = alloc::vec![0u8; BLOCK_ROOM.saturating_add(kid.map_or(0, <[u8]>::len))];
        let n = b.mac(crypto, key, &self.digest, &[], &mut out)?;
        out.truncate(n);
        self.blocks.push(out);
        Ok(self)
    }

    /// The encoded envelope: delegation, authentication wrapper, manifest, severed members, integrated
    /// payloads, keys in deterministic order. Without a block it is an unauthenticated envelope
    /// (the manifest-spec examples show such too), which devices refuse.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut wrapper = Enc::default();
        wrapper.array(1usize.saturating_add(self.blocks.len()));
        wrapper.bytes(&self.digest);
        for b in &self.blocks {
            wrapper.bytes(b);
        }
        let wrapper = wrapper.into_vec();
        let mut env = Map::default();
        if let Some(d) = &self.delegation {
            env.int(envelope_key::DELEGATION, |e| e.bytes(d))?;
        }
        env.int(envelope_key::AUTHENTICATION_WRAPPER, |e| e.bytes(&wrapper))?;
        env.try_int(envelope_key::MANIFEST, |e| e.raw(&self.manifest))?;
        for (key, member) in &self.severed {
            env.try_int(*key, |e| e.raw(member))?;
        }
        for (name, payload) in &self.integrated {
            env.try_key(
                |e| e.str(name),
                |e| {
                    e.bytes(payload);
                    Ok(())
                },
            )?;
        }
        let env = env.finish()?;
        let mut out = Enc::default();
        if self.tagged {
            out.tag(crate::ENVELOPE_TAG);
        }
        out.raw(&env)?;
        Ok(out.into_vec())
    }
}

/// Removes the severable members ([`manifest_key::SEVERABLE`]) from an envelope
/// ("Severable Elements"): the manifest, which holds their digests, and the authentication
/// wrapper are kept byte for byte, so the result authenticates as before. Integrated payloads and
/// other members stay. The input must be a well-formed envelope ([`crate::Envelope::decode`]).
pub fn sever(envelope: &[u8]) -> Result<Vec<u8>> {
    crate::Envelope::decode(envelope).map_err(BuildError::Envelope)?;
    let mut r = Reader::new(envelope);
    let tag = r.opt_tag()?;
    let n = r.map()?;
    let mut kept: Vec<&[u8]> = Vec::new();
    for _ in 0..n {
        let start = r.position();
        let key = r.skip()?;
        let severable = Reader::new(key)
            .int()
            .ok()
            .is_some_and(|k| manifest_key::SEVERABLE.contains(&k));
        r.skip()?;
        if !severable {
            kept.push(
                envelope
                    .get(start..r.position())
                    .ok_or(iot_core::Error::cbor(iot_core::CborError::Malformed, start))?,
            );
        }
    }
    let mut out = Enc::default();
    if let Some(t) = tag {
        out.tag(t);
    }
    out.map(kept.len());
    for pair in kept {
        out.0.extend_from_slice(pair);
    }
    Ok(out.into_vec())
}

/// A minicbor encoder into a `Vec` (preferred serialization: shortest heads).
#[derive(Default)]
struct Enc(Vec<u8>);

impl Enc {
    fn with(f: impl FnOnce(&mut Self)) -> Vec<u8> {
        let mut e = Self::default();
        f(&mut e);
        e.0
    }
    fn into_vec(self) -> Vec<u8> {
        self.0
    }
    fn enc(&mut self) -> Encoder<&mut Vec<u8>> {
        Encoder::new(&mut self.0)
    }
    // Writing into a Vec cannot fail: the results below are `Result<_, Infallible>`.
    fn u64(&mut self, n: u64) {
        let _ = self.enc().u64(n);
    }
    fn i64(&mut self, n: i64) {
        let _ = self.enc().i64(n);
    }
    fn bool(&mut self, b: bool) {
        let _ = self.enc().bool(b);
    }
    fn bytes(&mut self, b: &[u8]) {
        let _ = self.enc().bytes(b);
    }
    fn str(&mut self, s: &str) {
        let _ = self.enc().str(s);
    }
    fn array(&mut self, n: usize) {
        let _ = self.enc().array(n as u64);
    }
    fn map(&mut self, n: usize) {
        let _ = self.enc().map(n as u64);
    }
    fn tag(&mut self, t: u64) {
        let _ = self.enc().tag(minicbor::data::Tag::new(t));
    }
    fn null(&mut self) {
        let _ = self.enc().null();
    }
    /// Appends one encoded CBOR item given by the description, checked to be exactly one
    /// well-formed item.
    fn raw(&mut self, item: &[u8]) -> Result<()> {
        let mut r = Reader::new(item);
        r.skip()
            .and_then(|_| r.finish())
            .map_err(|e| invalid(alloc::format!("not one CBOR item: {e}")))?;
        self.0.extend_from_slice(item);
        Ok(())
    }
}

/// A map whose entries are sorted by their encoded keys on [`Map::finish`] (RFC 8949 section
/// 4.2.1); a repeated key is an error.
#[derive(Default)]
struct Map(Vec<(Vec<u8>, Vec<u8>)>);

impl Map {
    fn int(&mut self, key: i64, value: impl FnOnce(&mut Enc)) -> Result<()> {
        self.try_int(key, |e| {
            value(e);
            Ok(())
        })
    }
    fn try_int(&mut self, key: i64, value: impl FnOnce(&mut Enc) -> Result<()>) -> Result<()> {
        self.try_key(|e| e.i64(key), value)
    }
    fn try_key(
        &mut self,
        key: impl FnOnce(&mut Enc),
        value: impl FnOnce(&mut Enc) -> Result<()>,
    ) -> Result<()> {
        let k = Enc::with(key);
        let mut v = Enc::default();
        value(&mut v)?;
        self.0.push((k, v.0));
        Ok(())
    }
    fn finish(mut self) -> Result<Vec<u8>> {
        self.0.sort_by(|a, b| a.0.cmp(&b.0));
        if self.0.windows(2).any(|w| matches!(w, [a, b] if a.0 == b.0)) {
            return Err(invalid("a map key appears twice"));
        }
        let mut e = Enc::default();
        e.map(self.0.len());
        for (k, v) in self.0 {
            e.0.extend_from_slice(&k);
            e.0.extend_from_slice(&v);
        }
        Ok(e.0)
    }
}

/// `bstr` around `content`, head included.
fn bstr(content: &[u8]) -> Vec<u8> {
    Enc::with(|e| e.bytes(content))
}

/// An encoded SUIT_Digest.
fn digest(d: &Digest) -> Vec<u8> {
    Enc::with(|e| {
        e.array(2);
        e.i64(d.algorithm);
        e.bytes(&d.bytes);
    })
}

fn component_id(e: &mut Enc, id: &ComponentId) {
    e.array(id.len());
    for segment in id {
        e.bytes(segment);
    }
}

/// An encoded `SUIT_Command_Sequence` (the content of its bstr).
fn sequence(cmds: &[Cmd]) -> Result<Vec<u8>> {
    if cmds.is_empty() {
        return Err(invalid("a command sequence needs at least one command"));
    }
    let mut e = Enc::default();
    e.array(cmds.len().saturating_mul(2));
    for cmd in cmds {
        command(&mut e, cmd)?;
    }
    Ok(e.0)
}

fn command(e: &mut Enc, cmd: &Cmd) -> Result<()> {
    match cmd {
        Cmd::Policy(c, policy) => {
            match c {
                Command::SetComponentIndex
                | Command::SetParameters
                | Command::OverrideParameters
                | Command::TryEach
                | Command::RunSequence
                | Command::OverrideMultiple
                | Command::CopyParams
                | Command::Custom(_) => {
                    return Err(invalid(alloc::format!(
                        "command {} does not take a reporting policy",
                        c.code()
                    )));
                }
                _ => {}
            }
            e.i64(c.code());
            e.u64(*policy);
        }
        Cmd::SetComponentIndex(i) => {
            e.i64(Command::SetComponentIndex.code());
            match i {
                Index::One(n) => e.u64(*n),
                Index::All => e.bool(true),
                Index::List(l) if l.is_empty() => {
                    return Err(invalid("an empty component index list"));
                }
                Index::List(l) => {
                    e.array(l.len());
                    for n in l {
                        e.u64(*n);
                    }
                }
            }
        }
        Cmd::SetParameters(p) | Cmd::OverrideParameters(p) => {
            let code = match cmd {
                Cmd::SetParameters(_) => Command::SetParameters,
                _ => Command::OverrideParameters,
            };
            e.i64(code.code());
            let mut map = Map::default();
            for param in p {
                map.try_int(param.key(), |e| param.encode_value(e))?;
            }
            e.0.extend_from_slice(&map.finish()?);
        }
        Cmd::TryEach {
            sequences,
            empty_fallback,
        } => {
            if sequences.len() < 2 {
                return Err(invalid("try-each needs at least two sequences"));
            }
            e.i64(Command::TryEach.code());
            e.array(sequences.len().saturating_add(usize::from(*empty_fallback)));
            for s in sequences {
                let s = sequence(s)?;
                e.bytes(&s);
            }
            if *empty_fallback {
                e.null();
            }
        }
        Cmd::RunSequence(s) => {
            e.i64(Command::RunSequence.code());
            let s = sequence(s)?;
            e.bytes(&s);
        }
        Cmd::Raw(c, arg) => {
            e.i64(c.code());
            e.raw(arg)?;
        }
    }
    Ok(())
}

/// An encoded `SUIT_Text_Map` (the content of its bstr).
fn text(languages: &[(String, LanguageText)]) -> Result<Vec<u8>> {
    let mut map = Map::default();
    for (tag, lang) in languages {
        let mut lmap = Map::default();
        for (key, value) in &lang.entries {
            lmap.int(*key, |e| e.str(value))?;
        }
        for (id, entries) in &lang.components {
            let mut cmap = Map::default();
            for (key, value) in entries {
                cmap.int(*key, |e| e.str(value))?;
            }
            let cmap = cmap.finish()?;
            lmap.try_key(|e| component_id(e, id), |e| e.raw(&cmap))?;
        }
        let lmap = lmap.finish()?;
        map.try_key(|e| e.str(tag), |e| e.raw(&lmap))?;
    }
    map.finish()
}
