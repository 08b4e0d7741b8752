//! The JSON description of an envelope (feature `json`); the schema is in the crate README
//! ("Building envelopes").
//!
//! Files named in a description (images, payloads) are read relative to a base folder, the
//! description's own folder for `iot-tool suit create`.

extern crate std;

use super::{
    Cmd, ComponentId, Dependency, Description, Digest, Index, LanguageText, Param, Result, invalid,
};
use crate::command::Command;
use crate::digest::alg;
use crate::manifest::manifest_key;
use crate::text::{component_key, key as text_key};
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use iot_core::cose::Algorithm;
use iot_core::crypto::Sha256;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// A description read from JSON, with how to sign it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The envelope to encode.
    pub description: Description,
    /// `"algorithm"`: the COSE_Sign1 algorithm for a P-256 key, ES256 (default) or ESP256.
    pub algorithm: Algorithm,
    /// `"kid"`: a key id for the unprotected header of the authentication block.
    pub kid: Option<Vec<u8>>,
    /// The encrypted payloads of `"encrypt"` not integrated (named without `#`), to be put where
    /// their URIs point: name and ciphertext.
    pub payloads: Vec<(String, Vec<u8>)>,
    /// `"delegation"`: chains of CWTs, for [`super::Unsigned::delegate`] (none when empty).
    pub delegation: Vec<Vec<Vec<u8>>>,
}

/// What parsing asks of the crypto backend: SHA-256 for image digests and, with feature
/// `rustcrypto`, what [`super::encrypt`] needs for `"encrypt"`.
#[cfg(feature = "rustcrypto")]
pub trait JsonCrypto: Sha256 + super::encrypt::EncryptCrypto {}
#[cfg(feature = "rustcrypto")]
impl<T: Sha256 + super::encrypt::EncryptCrypto> JsonCrypto for T {}
/// What parsing asks of the crypto backend: SHA-256 for image digests (`"encrypt"` needs feature
/// `rustcrypto`).
#[cfg(not(feature = "rustcrypto"))]
pub trait JsonCrypto: Sha256 {}
#[cfg(not(feature = "rustcrypto"))]
impl<T: Sha256> JsonCrypto for T {}

/// Reads a JSON description; files it names are read relative to `base`, image digests computed
/// with `crypto`.
pub fn parse<C: JsonCrypto>(json: &str, base: &Path, crypto: &mut C) -> Result<Parsed> {
    let d: Doc = serde_json::from_str(json).map_err(invalid)?;
    let mut cx = Cx {
        base,
        crypto,
        encryption_infos: BTreeMap::new(),
    };
    let payloads = encrypt_all(&d.encrypt, &mut cx)?;
    d.convert(&mut cx, payloads)
}

struct Cx<'a, C> {
    base: &'a Path,
    crypto: &'a mut C,
    /// The SUIT_Encryption_Info of each `"encrypt"` entry, by name.
    encryption_infos: BTreeMap<String, Vec<u8>>,
}

/// An `"encrypt"` entry: a payload encrypted here (README "Building envelopes"). Without feature
/// `rustcrypto` it is still read (the schema does not change), then refused.
#[cfg_attr(not(feature = "rustcrypto"), allow(dead_code))]
#[derive(Deserialize, Debug)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct JEncrypt {
    image: Bytes,
    algorithm: String,
    kek: Option<Bytes>,
    recipient_key: Option<Bytes>,
    kid: Option<Bytes>,
    cek: Option<String>,
    iv: Option<String>,
    ephemeral_key: Option<String>,
}

/// Encrypts the `"encrypt"` entries: their encryption info goes into `cx` for the parameters that
/// name them; the ciphertexts come back by name.
#[cfg(feature = "rustcrypto")]
fn encrypt_all<C: JsonCrypto>(
    entries: &BTreeMap<String, JEncrypt>,
    cx: &mut Cx<'_, C>,
) -> Result<Vec<(String, Vec<u8>)>> {
    use super::encrypt::{Encryption, KeyDistribution, encrypt};
    let mut out = Vec::new();
    for (name, e) in entries {
        let content = match e.algorithm.to_ascii_uppercase().as_str() {
            "A128GCM" => Algorithm::A128Gcm,
            "A128CTR" => Algorithm::A128Ctr,
            other => {
                return Err(invalid(format!(
                    "{name}: algorithm {other:?}: A128GCM or A128CTR"
                )));
            }
        };
        let image = e.image.get(cx)?;
        let kek = e.kek.as_ref().map(|b| b.get(cx)).transpose()?;
        let recipient = e.recipient_key.as_ref().map(|b| b.get(cx)).transpose()?;
        let kid = e.kid.as_ref().map(|b| b.get(cx)).transpose()?;
        let hex_field = |v: &Option<String>| v.as_deref().map(unhex).transpose();
        let (cek, iv, ephemeral) = (
            hex_field(&e.cek)?,
            hex_field(&e.iv)?,
            hex_field(&e.ephemeral_key)?,
        );
        let distribution = match (&kek, &recipient) {
            (Some(kek), None) if ephemeral.is_none() => KeyDistribution::A128Kw { kek },
            (None, Some(recipient)) => KeyDistribution::EcdhEsA128Kw {
                recipient,
                ephemeral: ephemeral.as_deref(),
            },
            _ => {
                return Err(invalid(format!(
                    "{name}: \"kek\" (A128KW) or \"recipient-key\" (ECDH-ES + A128KW, with an optional \"ephemeral-key\")"
                )));
            }
        };
        let how = Encryption {
            content,
            distribution,
            kid: kid.as_deref(),
            cek: cek.as_deref(),
            iv: iv.as_deref(),
        };
        let encrypted = encrypt(cx.crypto, &image, &how).map_err(|e| match e {
            super::BuildError::Invalid(what) => invalid(format!("{name}: {what}")),
            other => other,
        })?;
        cx.encryption_infos.insert(name.clone(), encrypted.info);
        out.push((name.clone(), encrypted.ciphertext));
    }
    Ok(out)
}

#[cfg(not(feature = "rustcrypto"))]
fn encrypt_all<C: JsonCrypto>(
    entries: &BTreeMap<String, JEncrypt>,
    _: &mut Cx<'_, C>,
) -> Result<Vec<(String, Vec<u8>)>> {
    match entries.is_empty() {
        true => Ok(Vec::new()),
        false => Err(invalid("\"encrypt\" needs the rustcrypto feature")),
    }
}

/// `suit-parameter-encryption-info`: the bytes of a SUIT_Encryption_Info made elsewhere, or
/// `{"encrypted": name}`, the one an `"encrypt"` entry made.
#[derive(Deserialize, Debug)]
#[serde(untagged)]
enum EncryptionInfo {
    Encrypted(Encrypted),
    Bytes(Bytes),
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Encrypted {
    encrypted: String,
}

impl<C: Sha256> Cx<'_, C> {
    fn read(&self, file: &Path) -> Result<Vec<u8>> {
        let path = self.base.join(file);
        std::fs::read(&path).map_err(|e| invalid(format!("reading {}: {e}", path.display())))
    }
}

fn unhex(s: &str) -> Result<Vec<u8>> {
    hex::decode(s).map_err(|e| invalid(format!("hex {s:?}: {e}")))
}

/// A UUID in RFC 9562 text form (16 bytes), or any identifier as hex.
fn uuid(s: &str) -> Result<Vec<u8>> {
    let dashes: Vec<usize> = s.match_indices('-').map(|(i, _)| i).collect();
    if s.len() == 36 && dashes == [8, 13, 18, 23] {
        return unhex(&s.replace('-', ""));
    }
    unhex(s)
}

/// `{"hex": ..}`, `{"text": ..}` or `{"file": ..}`.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
enum Bytes {
    Hex(String),
    Text(String),
    File(PathBuf),
}

impl Bytes {
    fn get<C: Sha256>(&self, cx: &Cx<'_, C>) -> Result<Vec<u8>> {
        match self {
            Self::Hex(h) => unhex(h),
            Self::Text(t) => Ok(t.as_bytes().to_vec()),
            Self::File(f) => cx.read(f),
        }
    }
}

/// A component-id segment: hex, or a [`Bytes`] object.
#[derive(Deserialize, Debug)]
#[serde(untagged)]
enum Segment {
    Hex(String),
    Bytes(Bytes),
}

fn component_id<C: Sha256>(id: &[Segment], cx: &Cx<'_, C>) -> Result<ComponentId> {
    id.iter()
        .map(|s| match s {
            Segment::Hex(h) => unhex(h),
            Segment::Bytes(b) => b.get(cx),
        })
        .collect()
}

/// `"sha-256"` / `"sha256"` or the COSE id.
#[derive(Deserialize, Debug)]
#[serde(untagged)]
enum AlgId {
    Id(i64),
    Name(String),
}

impl AlgId {
    fn id(&self) -> Result<i64> {
        match self {
            Self::Id(i) => Ok(*i),
            Self::Name(n) => match n.to_ascii_lowercase().as_str() {
                "sha-256" | "sha256" => Ok(alg::SHA256),
                "sha-384" | "sha384" => Ok(alg::SHA384),
                "sha-512" | "sha512" => Ok(alg::SHA512),
                "shake128" => Ok(alg::SHAKE128),
                "shake256" => Ok(alg::SHAKE256),
                other => Err(invalid(format!("unknown digest algorithm {other:?}"))),
            },
        }
    }
}

/// `{"algorithm-id": .., "digest-bytes": hex}` or `{"file": ..}` (SHA-256 computed).
#[derive(Deserialize, Debug)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct JDigest {
    algorithm_id: Option<AlgId>,
    digest_bytes: Option<String>,
    file: Option<PathBuf>,
}

impl JDigest {
    fn get<C: Sha256>(&self, cx: &mut Cx<'_, C>) -> Result<Digest> {
        let algorithm = self
            .algorithm_id
            .as_ref()
            .map_or(Ok(alg::SHA256), AlgId::id)?;
        match (&self.digest_bytes, &self.file) {
            (Some(h), None) => Ok(Digest {
                algorithm,
                bytes: unhex(h)?,
            }),
            (None, Some(f)) if algorithm == alg::SHA256 => {
                let data = cx.read(f)?;
                Ok(Digest::sha256(cx.crypto, &data))
            }
            (None, Some(_)) => Err(invalid("a digest computed from a file is SHA-256")),
            _ => Err(invalid(
                "a digest needs either \"digest-bytes\" or \"file\"",
            )),
        }
    }
}

/// A size, or `{"file": ..}`.
#[derive(Deserialize, Debug)]
#[serde(untagged)]
enum Size {
    Given(u64),
    File { file: PathBuf },
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Params {
    vendor_id: Option<String>,
    class_id: Option<String>,
    device_id: Option<String>,
    image: Option<Bytes>,
    image_digest: Option<JDigest>,
    image_size: Option<Size>,
    use_before: Option<u64>,
    #[serde(alias = "slot")]
    component_slot: Option<u64>,
    strict_order: Option<bool>,
    soft_failure: Option<bool>,
    content: Option<Bytes>,
    encryption_info: Option<EncryptionInfo>,
    uri: Option<String>,
    source_component: Option<u64>,
    invoke_args: Option<Bytes>,
    minimum_battery: Option<u64>,
    update_priority: Option<i64>,
    version: Option<String>,
    wait_info: Option<String>,
    #[serde(default)]
    other: BTreeMap<i64, String>,
}

impl Params {
    fn get<C: Sha256>(&self, cx: &mut Cx<'_, C>) -> Result<Vec<Param>> {
        let mut p = Vec::new();
        let ids = [
            (&self.vendor_id, Param::VendorId as fn(Vec<u8>) -> Param),
            (&self.class_id, Param::ClassId),
            (&self.device_id, Param::DeviceId),
        ];
        for (value, make) in ids {
            if let Some(v) = value {
                p.push(make(uuid(v)?));
            }
        }
        if let Some(image) = &self.image {
            if self.image_digest.is_some() || self.image_size.is_some() {
                return Err(invalid(
                    "\"image\" gives image-digest and image-size: not both",
                ));
            }
            let data = image.get(cx)?;
            p.push(Param::ImageDigest(Digest::sha256(cx.crypto, &data)));
            p.push(Param::ImageSize(data.len() as u64));
        }
        if let Some(d) = &self.image_digest {
            p.push(Param::ImageDigest(d.get(cx)?));
        }
        match &self.image_size {
            Some(Size::Given(n)) => p.push(Param::ImageSize(*n)),
            Some(Size::File { file }) => p.push(Param::ImageSize(cx.read(file)?.len() as u64)),
            None => {}
        }
        let uints = [
            (self.use_before, Param::UseBefore as fn(u64) -> Param),
            (self.component_slot, Param::ComponentSlot),
            (self.source_component, Param::SourceComponent),
            (self.minimum_battery, Param::MinimumBattery),
        ];
        for (value, make) in uints {
            if let Some(v) = value {
                p.push(make(v));
            }
        }
        if let Some(b) = self.strict_order {
            p.push(Param::StrictOrder(b));
        }
        if let Some(b) = self.soft_failure {
            p.push(Param::SoftFailure(b));
        }
        let bytes = [
            (&self.content, Param::Content as fn(Vec<u8>) -> Param),
            (&self.invoke_args, Param::InvokeArgs),
        ];
        for (value, make) in bytes {
            if let Some(v) = value {
                p.push(make(v.get(cx)?));
            }
        }
        match &self.encryption_info {
            Some(EncryptionInfo::Bytes(b)) => p.push(Param::EncryptionInfo(b.get(cx)?)),
            Some(EncryptionInfo::Encrypted(Encrypted { encrypted })) => {
                let info = cx.encryption_infos.get(encrypted).ok_or_else(|| {
                    invalid(format!(
                        "encryption-info: no \"encrypt\" entry {encrypted:?}"
                    ))
                })?;
                p.push(Param::EncryptionInfo(info.clone()));
            }
            None => {}
        }
        if let Some(u) = &self.uri {
            p.push(Param::Uri(u.clone()));
        }
        if let Some(n) = self.update_priority {
            p.push(Param::UpdatePriority(n));
        }
        if let Some(v) = &self.version {
            p.push(Param::Version(unhex(v)?));
        }
        if let Some(v) = &self.wait_info {
            p.push(Param::WaitInfo(unhex(v)?));
        }
        for (key, value) in &self.other {
            p.push(Param::Other {
                key: *key,
                value: unhex(value)?,
            });
        }
        Ok(p)
    }
}

/// `IndexArg`: a number, `true`, or a list.
#[derive(Deserialize, Debug)]
#[serde(untagged)]
enum JIndex {
    One(u64),
    All(bool),
    List(Vec<u64>),
}

/// One command: `{"<name>": argument}`, named as in the drafts.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
enum JCmd {
    ConditionVendorIdentifier(u64),
    ConditionClassIdentifier(u64),
    ConditionImageMatch(u64),
    ConditionUseBefore(u64),
    ConditionComponentSlot(u64),
    ConditionCheckContent(u64),
    ConditionDependencyIntegrity(u64),
    ConditionIsDependency(u64),
    ConditionAbort(u64),
    ConditionDeviceIdentifier(u64),
    ConditionImageNotMatch(u64),
    ConditionMinimumBattery(u64),
    ConditionUpdateAuthorized(u64),
    ConditionVersion(u64),
    DirectiveProcessDependency(u64),
    DirectiveWrite(u64),
    DirectiveFetch(u64),
    DirectiveCopy(u64),
    DirectiveInvoke(u64),
    DirectiveWait(u64),
    DirectiveFetchUriList(u64),
    DirectiveSwap(u64),
    DirectiveUnlink(u64),
    DirectiveSetComponentIndex(JIndex),
    DirectiveSetParameters(Params),
    DirectiveOverrideParameters(Params),
    DirectiveTryEach(Vec<Option<Vec<JCmd>>>),
    DirectiveRunSequence(Vec<JCmd>),
    /// The encoded argument, hex.
    DirectiveOverrideMultiple(String),
    /// The encoded argument, hex.
    DirectiveCopyParams(String),
    /// A custom command: a negative code and the encoded argument, hex.
    Custom {
        code: i64,
        argument: String,
    },
}

impl JCmd {
    fn get<C: Sha256>(&self, cx: &mut Cx<'_, C>) -> Result<Cmd> {
        use Command as C;
        let policy = |c: Command, p: &u64| Ok(Cmd::Policy(c, *p));
        match self {
            Self::ConditionVendorIdentifier(p) => policy(C::VendorIdentifier, p),
            Self::ConditionClassIdentifier(p) => policy(C::ClassIdentifier, p),
            Self::ConditionImageMatch(p) => policy(C::ImageMatch, p),
            Self::ConditionUseBefore(p) => policy(C::UseBefore, p),
            Self::ConditionComponentSlot(p) => policy(C::ComponentSlot, p),
            Self::ConditionCheckContent(p) => policy(C::CheckContent, p),
            Self::ConditionDependencyIntegrity(p) => policy(C::DependencyIntegrity, p),
            Self::ConditionIsDependency(p) => policy(C::IsDependency, p),
            Self::ConditionAbort(p) => policy(C::Abort, p),
            Self::ConditionDeviceIdentifier(p) => policy(C::DeviceIdentifier, p),
            Self::ConditionImageNotMatch(p) => policy(C::ImageNotMatch, p),
            Self::ConditionMinimumBattery(p) => policy(C::MinimumBattery, p),
            Self::ConditionUpdateAuthorized(p) => policy(C::UpdateAuthorized, p),
            Self::ConditionVersion(p) => policy(C::Version, p),
            Self::DirectiveProcessDependency(p) => policy(C::ProcessDependency, p),
            Self::DirectiveWrite(p) => policy(C::Write, p),
            Self::DirectiveFetch(p) => policy(C::Fetch, p),
            Self::DirectiveCopy(p) => policy(C::Copy, p),
            Self::DirectiveInvoke(p) => policy(C::Invoke, p),
            Self::DirectiveWait(p) => policy(C::Wait, p),
            Self::DirectiveFetchUriList(p) => policy(C::FetchUriList, p),
            Self::DirectiveSwap(p) => policy(C::Swap, p),
            Self::DirectiveUnlink(p) => policy(C::Unlink, p),
            Self::DirectiveSetComponentIndex(i) => Ok(Cmd::SetComponentIndex(match i {
                JIndex::One(n) => Index::One(*n),
                JIndex::All(true) => Index::All,
                JIndex::All(false) => return Err(invalid("set-component-index false")),
                JIndex::List(l) => Index::List(l.clone()),
            })),
            Self::DirectiveSetParameters(p) => Ok(Cmd::SetParameters(p.get(cx)?)),
            Self::DirectiveOverrideParameters(p) => Ok(Cmd::OverrideParameters(p.get(cx)?)),
            Self::DirectiveTryEach(list) => {
                let empty_fallback = matches!(list.last(), Some(None));
                let mut sequences = Vec::new();
                for (i, s) in list.iter().enumerate() {
                    match s {
                        Some(s) => sequences.push(sequence(s, cx)?),
                        None if i.saturating_add(1) == list.len() => {}
                        None => return Err(invalid("try-each: null only at the end")),
                    }
                }
                Ok(Cmd::TryEach {
                    sequences,
                    empty_fallback,
                })
            }
            Self::DirectiveRunSequence(s) => Ok(Cmd::RunSequence(sequence(s, cx)?)),
            Self::DirectiveOverrideMultiple(h) => Ok(Cmd::Raw(C::OverrideMultiple, unhex(h)?)),
            Self::DirectiveCopyParams(h) => Ok(Cmd::Raw(C::CopyParams, unhex(h)?)),
            Self::Custom { code, argument } => match i32::try_from(*code) {
                Ok(c) if c < 0 && c != i32::MIN => Ok(Cmd::Raw(C::Custom(c), unhex(argument)?)),
                _ => Err(invalid(format!(
                    "custom command {code}: custom codes are negative, down to {}",
                    i32::MIN + 1
                ))),
            },
        }
    }
}

fn sequence<C: Sha256>(cmds: &[JCmd], cx: &mut Cx<'_, C>) -> Result<Vec<Cmd>> {
    cmds.iter().map(|c| c.get(cx)).collect()
}

fn opt_sequence<C: Sha256>(
    cmds: &Option<Vec<JCmd>>,
    cx: &mut Cx<'_, C>,
) -> Result<Option<Vec<Cmd>>> {
    cmds.as_deref().map(|s| sequence(s, cx)).transpose()
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct JDependency {
    index: u64,
    prefix: Option<Vec<Segment>>,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct JComponentText {
    component_id: Vec<Segment>,
    vendor_name: Option<String>,
    model_name: Option<String>,
    vendor_domain: Option<String>,
    model_info: Option<String>,
    component_description: Option<String>,
    component_version: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct JText {
    manifest_description: Option<String>,
    update_description: Option<String>,
    manifest_json_source: Option<String>,
    manifest_yaml_source: Option<String>,
    #[serde(default)]
    components: Vec<JComponentText>,
}

fn entries(list: &[(i64, &Option<String>)]) -> Vec<(i64, String)> {
    list.iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (*k, v.clone())))
        .collect()
}

impl JText {
    fn get<C: Sha256>(&self, cx: &Cx<'_, C>) -> Result<LanguageText> {
        let mut components = Vec::new();
        for c in &self.components {
            components.push((
                component_id(&c.component_id, cx)?,
                entries(&[
                    (component_key::VENDOR_NAME, &c.vendor_name),
                    (component_key::MODEL_NAME, &c.model_name),
                    (component_key::VENDOR_DOMAIN, &c.vendor_domain),
                    (component_key::MODEL_INFO, &c.model_info),
                    (
                        component_key::COMPONENT_DESCRIPTION,
                        &c.component_description,
                    ),
                    (component_key::COMPONENT_VERSION, &c.component_version),
                ]),
            ));
        }
        Ok(LanguageText {
            entries: entries(&[
                (text_key::MANIFEST_DESCRIPTION, &self.manifest_description),
                (text_key::UPDATE_DESCRIPTION, &self.update_description),
                (text_key::MANIFEST_JSON_SOURCE, &self.manifest_json_source),
                (text_key::MANIFEST_YAML_SOURCE, &self.manifest_yaml_source),
            ]),
            components,
        })
    }
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Doc {
    #[serde(default = "yes")]
    tagged: bool,
    algorithm: Option<String>,
    kid: Option<String>,
    sequence_number: u64,
    components: Vec<Vec<Segment>>,
    #[serde(default)]
    dependencies: Vec<JDependency>,
    shared_sequence: Option<Vec<JCmd>>,
    reference_uri: Option<String>,
    manifest_component_id: Option<Vec<Segment>>,
    set_version: Option<String>,
    validate: Option<Vec<JCmd>>,
    load: Option<Vec<JCmd>>,
    invoke: Option<Vec<JCmd>>,
    uninstall: Option<Vec<JCmd>>,
    dependency_resolution: Option<Vec<JCmd>>,
    payload_fetch: Option<Vec<JCmd>>,
    candidate_verification: Option<Vec<JCmd>>,
    install: Option<Vec<JCmd>>,
    #[serde(default)]
    text: BTreeMap<String, JText>,
    coswid: Option<Bytes>,
    #[serde(default)]
    sever: Vec<String>,
    #[serde(default)]
    integrated: BTreeMap<String, Bytes>,
    #[serde(default)]
    encrypt: BTreeMap<String, JEncrypt>,
    /// `suit-delegation`: chains of CWTs, each hex.
    #[serde(default)]
    delegation: Vec<Vec<String>>,
}

fn yes() -> bool {
    true
}

/// The key of a severable member named as in the draft.
fn severable_key(name: &str) -> Result<i64> {
    Ok(match name {
        "coswid" => manifest_key::COSWID,
        "dependency-resolution" => manifest_key::DEPENDENCY_RESOLUTION,
        "payload-fetch" => manifest_key::PAYLOAD_FETCH,
        "candidate-verification" => manifest_key::CANDIDATE_VERIFICATION,
        "install" => manifest_key::INSTALL,
        "text" => manifest_key::TEXT,
        other => return Err(invalid(format!("{other:?} is not a severable member"))),
    })
}

impl Doc {
    /// `encrypted`: the ciphertexts of the `"encrypt"` entries, by name.
    fn convert<C: Sha256>(
        self,
        cx: &mut Cx<'_, C>,
        encrypted: Vec<(String, Vec<u8>)>,
    ) -> Result<Parsed> {
        let algorithm = match self.algorithm.as_deref().map(str::to_ascii_uppercase) {
            None => Algorithm::Es256,
            Some(a) if a == "ES256" => Algorithm::Es256,
            Some(a) if a == "ESP256" => Algorithm::Esp256,
            Some(a) => return Err(invalid(format!("algorithm {a:?}: ES256 or ESP256"))),
        };
        let mut d = Description::new(
            self.sequence_number,
            self.components
                .iter()
                .map(|c| component_id(c, cx))
                .collect::<Result<_>>()?,
        );
        d.tagged = self.tagged;
        for dep in &self.dependencies {
            d.dependencies.push(Dependency {
                index: dep.index,
                prefix: dep
                    .prefix
                    .as_deref()
                    .map(|p| component_id(p, cx))
                    .transpose()?,
            });
        }
        d.shared_sequence = opt_sequence(&self.shared_sequence, cx)?;
        d.reference_uri = self.reference_uri;
        d.manifest_component_id = self
            .manifest_component_id
            .as_deref()
            .map(|p| component_id(p, cx))
            .transpose()?;
        d.set_version = self.set_version.as_deref().map(unhex).transpose()?;
        d.validate = opt_sequence(&self.validate, cx)?;
        d.load = opt_sequence(&self.load, cx)?;
        d.invoke = opt_sequence(&self.invoke, cx)?;
        d.uninstall = opt_sequence(&self.uninstall, cx)?;
        d.dependency_resolution = opt_sequence(&self.dependency_resolution, cx)?;
        d.payload_fetch = opt_sequence(&self.payload_fetch, cx)?;
        d.candidate_verification = opt_sequence(&self.candidate_verification, cx)?;
        d.install = opt_sequence(&self.install, cx)?;
        for (tag, t) in &self.text {
            d.text.push((tag.clone(), t.get(cx)?));
        }
        d.coswid = self.coswid.as_ref().map(|c| c.get(cx)).transpose()?;
        d.sever = self
            .sever
            .iter()
            .map(|s| severable_key(s))
            .collect::<Result<_>>()?;
        for (name, b) in &self.integrated {
            d.integrated.push((name.clone(), b.get(cx)?));
        }
        // Encrypted payloads named `#...` are integrated; the others are the caller's to host.
        let (integrated, payloads): (Vec<_>, Vec<_>) = encrypted
            .into_iter()
            .partition(|(name, _)| name.starts_with('#'));
        d.integrated.extend(integrated);
        let delegation = self
            .delegation
            .iter()
            .map(|chain| chain.iter().map(|cwt| unhex(cwt)).collect())
            .collect::<Result<_>>()?;
        Ok(Parsed {
            description: d,
            algorithm,
            kid: self.kid.as_deref().map(unhex).transpose()?,
            payloads,
            delegation,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Params;
    use crate::command::param;
    use alloc::format;
    use alloc::vec::Vec;

    /// Every name [`param::name`] gives is a parameter key of a description; a draft name is not.
    #[test]
    fn parameter_names_are_the_descriptions_keys() {
        let named: Vec<&str> = (0..64).filter_map(param::name).collect();
        assert_eq!(named.len(), 18);
        for name in named {
            let parsed = serde_json::from_str::<Params>(&format!("{{\"{name}\": null}}"));
            assert!(parsed.is_ok(), "{name}: {parsed:?}");
        }
        assert!(serde_json::from_str::<Params>("{\"vendor-identifier\": null}").is_err());
    }
}
