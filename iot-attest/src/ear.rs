//! Attestation results in the EAT Attestation Result format (EAR, draft-ietf-rats-ear) with the
//! profile of the Veraison project, `tag:github.com,2023:veraison/ear` (feature `alloc`; JSON
//! with `std`).
//!
//! An [`Ear`] holds one [`Appraisal`] per attester (submodule): a status and the AR4SI
//! trustworthiness vector (draft-ietf-rats-ar4si section 2.3) of eight claims, each a small
//! integer whose range gives its [`Tier`]: none (-1 to 1), affirming (2 to 31, -2 to -32),
//! warning (32 to 95, -33 to -96), contraindicated (the rest). A key attested by the evidence
//! (its `cnf` claim) travels as `ear.veraison.key-attestation`.
//!
//! Claim names and keys, as the profile defines them:
//!
//! | claim | JSON | CBOR |
//! |---|---|---|
//! | profile | `eat_profile` | 265 |
//! | issued at | `iat` | 6 |
//! | verifier | `ear.verifier-id` (`developer`, `build`) | 1004 (0, 1) |
//! | nonce | `eat_nonce` (base64url) | 10 |
//! | evidence | `ear.raw-evidence` (base64url) | 1002 |
//! | appraisals | `submods` | 266 |
//! | status | `ear.status` (tier name) | 1000 (tier value) |
//! | trust vector | `ear.trustworthiness-vector` | 1001 (claims 0 to 7) |
//! | policy | `ear.appraisal-policy-id` | 1003 |
//! | attested key | `ear.veraison.key-attestation` (`akpub`: base64url SPKI) | -70002 (0: SPKI) |

use crate::error::Result;
use crate::label::Label;
use crate::token::TokenBuilder;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use iot_core::cose::Algorithm;
use iot_core::crypto::{Sha256, Signer};
use minicbor::Encoder;

/// The EAR profile this crate writes.
pub const PROFILE: &str = "tag:github.com,2023:veraison/ear";

/// CBOR keys of the EAR claims.
pub mod key {
    /// `ear.status`
    pub const STATUS: i64 = 1000;
    /// `ear.trustworthiness-vector`
    pub const TRUST_VECTOR: i64 = 1001;
    /// `ear.raw-evidence`
    pub const RAW_EVIDENCE: i64 = 1002;
    /// `ear.appraisal-policy-id`
    pub const POLICY_ID: i64 = 1003;
    /// `ear.verifier-id`
    pub const VERIFIER_ID: i64 = 1004;
    /// `ear.veraison.key-attestation`
    pub const KEY_ATTESTATION: i64 = -70002;
}

/// A trustworthiness tier (draft-ietf-rats-ar4si section 2.3.1), ordered from none to
/// contraindicated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// No claim is made.
    None,
    /// The claim affirms trustworthiness.
    Affirming,
    /// The claim warns.
    Warning,
    /// The claim contraindicates trust.
    Contraindicated,
}

impl Tier {
    /// The tier's value in CBOR: 0, 2, 32 or 96.
    pub const fn value(self) -> i8 {
        match self {
            Self::None => 0,
            Self::Affirming => 2,
            Self::Warning => 32,
            Self::Contraindicated => 96,
        }
    }

    /// The tier's name in JSON.
    pub const fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Affirming => "affirming",
            Self::Warning => "warning",
            Self::Contraindicated => "contraindicated",
        }
    }

    /// The tier of a trustworthiness claim's value.
    pub const fn of_claim(v: i8) -> Self {
        match v {
            -1..=1 => Self::None,
            -32..=31 => Self::Affirming,
            -96..=95 => Self::Warning,
            _ => Self::Contraindicated,
        }
    }

    /// The tier named `name` (`"affirming"`...).
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::None,
            Self::Affirming,
            Self::Warning,
            Self::Contraindicated,
        ]
        .into_iter()
        .find(|t| t.name() == name)
    }
}

/// The trustworthiness claim values of AR4SI (draft-ietf-rats-ar4si section 2.3.5) that this
/// crate's appraisal gives.
pub mod claim {
    /// No claim is made (every claim).
    pub const NO_CLAIM: i8 = 0;
    /// instance-identity: a recognized instance, not known to be compromised.
    pub const TRUSTWORTHY_INSTANCE: i8 = 2;
    /// instance-identity: recognized, but not trustworthy.
    pub const UNTRUSTWORTHY_INSTANCE: i8 = 96;
    /// instance-identity: not recognized.
    pub const UNRECOGNIZED_INSTANCE: i8 = 97;
    /// configuration: a known and approved configuration.
    pub const APPROVED_CONFIG: i8 = 2;
    /// configuration: elements relevant to security are unavailable to the verifier.
    pub const UNAVAILABLE_CONFIG: i8 = 36;
    /// configuration: unsupportable, exposing unacceptable vulnerabilities.
    pub const UNSUPPORTABLE_CONFIG: i8 = 96;
    /// executables: only recognized, approved executables were loaded.
    pub const APPROVED_RUNTIME: i8 = 2;
    /// executables: executables that are not recognized were loaded.
    pub const UNRECOGNIZED_RUNTIME: i8 = 33;
    /// executables: contraindicated executables were loaded.
    pub const CONTRAINDICATED_RUNTIME: i8 = 96;
    /// hardware: genuine.
    pub const GENUINE_HARDWARE: i8 = 2;
    /// hardware: not recognized, though it should be.
    pub const UNRECOGNIZED_HARDWARE: i8 = 97;
}

/// The AR4SI trustworthiness vector: eight claims, 0 where no claim is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TrustVector {
    /// instance-identity (0)
    pub instance_identity: i8,
    /// configuration (1)
    pub configuration: i8,
    /// executables (2)
    pub executables: i8,
    /// file-system (3)
    pub file_system: i8,
    /// hardware (4)
    pub hardware: i8,
    /// runtime-opaque (5)
    pub runtime_opaque: i8,
    /// storage-opaque (6)
    pub storage_opaque: i8,
    /// sourced-data (7)
    pub sourced_data: i8,
}

impl TrustVector {
    /// The claims' JSON names, by CBOR key.
    pub const NAMES: [&'static str; 8] = [
        "instance-identity",
        "configuration",
        "executables",
        "file-system",
        "hardware",
        "runtime-opaque",
        "storage-opaque",
        "sourced-data",
    ];

    /// The claims' values, by CBOR key.
    pub fn values(&self) -> [i8; 8] {
        [
            self.instance_identity,
            self.configuration,
            self.executables,
            self.file_system,
            self.hardware,
            self.runtime_opaque,
            self.storage_opaque,
            self.sourced_data,
        ]
    }

    /// The worst tier among the claims (none when no claim is made).
    pub fn status(&self) -> Tier {
        self.values()
            .into_iter()
            .map(Tier::of_claim)
            .max()
            .unwrap_or(Tier::None)
    }
}

/// Who made the result (`ear.verifier-id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierId {
    /// The organisation responsible for the verifier.
    pub developer: String,
    /// The verifier's build.
    pub build: String,
}

impl Default for VerifierId {
    /// This crate, at its version.
    fn default() -> Self {
        Self {
            developer: String::from(env!("CARGO_PKG_REPOSITORY")),
            build: String::from(concat!("iot-attest ", env!("CARGO_PKG_VERSION"))),
        }
    }
}

/// The appraisal of one attester.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appraisal {
    /// The overall status: never better than the trust vector's worst tier.
    pub status: Tier,
    /// The trustworthiness vector.
    pub trust_vector: TrustVector,
    /// The appraisal policy (reference values) applied.
    pub policy_id: Option<String>,
    /// The key the evidence attests (its `cnf`), as a DER SubjectPublicKeyInfo.
    pub attested_key: Option<Vec<u8>>,
}

/// An attestation result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ear {
    /// When it was made (seconds since the epoch).
    pub iat: i64,
    /// Who made it.
    pub verifier_id: VerifierId,
    /// The verifier's nonce the evidence answered.
    pub nonce: Option<Vec<u8>>,
    /// The evidence, as received.
    pub raw_evidence: Option<Vec<u8>>,
    /// One appraisal per attester, by name (one or more).
    pub submods: Vec<(String, Appraisal)>,
}

/// The DER prefix of a P-256 SubjectPublicKeyInfo (RFC 5480: id-ecPublicKey, secp256r1, and the
/// BIT STRING head of a 65-byte uncompressed point).
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// The DER SubjectPublicKeyInfo of a P-256 public key given as its uncompressed SEC1 point.
pub fn p256_spki(sec1_uncompressed: &[u8; 65]) -> Vec<u8> {
    let mut der = Vec::with_capacity(P256_SPKI_PREFIX.len() + 65);
    der.extend_from_slice(&P256_SPKI_PREFIX);
    der.extend_from_slice(sec1_uncompressed);
    der
}

fn enc<E>(_: minicbor::encode::Error<E>) -> crate::Error {
    crate::Error::Core(iot_core::Error::BufferTooSmall)
}

impl Ear {
    /// The worst status among the appraisals.
    pub fn status(&self) -> Tier {
        self.submods
            .iter()
            .map(|(_, a)| a.status)
            .max()
            .unwrap_or(Tier::None)
    }

    /// The EAR claims-set in CBOR, deterministically encoded (RFC 8949 section 4.2.1).
    pub fn to_cbor(&self) -> Result<Vec<u8>> {
        let mut e = Encoder::new(Vec::new());
        let n = 4 + u64::from(self.nonce.is_some()) + u64::from(self.raw_evidence.is_some());
        e.map(n).map_err(enc)?;
        e.u8(6).map_err(enc)?.i64(self.iat).map_err(enc)?;
        if let Some(nonce) = &self.nonce {
            e.u8(10).map_err(enc)?.bytes(nonce).map_err(enc)?;
        }
        e.u16(265).map_err(enc)?.str(PROFILE).map_err(enc)?;
        e.u16(266).map_err(enc)?;
        let mut submods: Vec<&(String, Appraisal)> = self.submods.iter().collect();
        submods.sort_by(|a, b| Label::Text(&a.0).cmp(&Label::Text(&b.0)));
        e.map(submods.len() as u64).map_err(enc)?;
        for (name, a) in submods {
            e.str(name).map_err(enc)?;
            let n = 2 + u64::from(a.policy_id.is_some()) + u64::from(a.attested_key.is_some());
            e.map(n).map_err(enc)?;
            e.i64(key::STATUS)
                .map_err(enc)?
                .i8(a.status.value())
                .map_err(enc)?;
            e.i64(key::TRUST_VECTOR).map_err(enc)?.map(8).map_err(enc)?;
            for (k, v) in (0u8..).zip(a.trust_vector.values()) {
                e.u8(k).map_err(enc)?.i8(v).map_err(enc)?;
            }
            if let Some(p) = &a.policy_id {
                e.i64(key::POLICY_ID).map_err(enc)?.str(p).map_err(enc)?;
            }
            if let Some(k) = &a.attested_key {
                e.i64(key::KEY_ATTESTATION)
                    .map_err(enc)?
                    .map(1)
                    .map_err(enc)?;
                e.u8(0).map_err(enc)?.bytes(k).map_err(enc)?;
            }
        }
        if let Some(raw) = &self.raw_evidence {
            e.i64(key::RAW_EVIDENCE)
                .map_err(enc)?
                .bytes(raw)
                .map_err(enc)?;
        }
        e.i64(key::VERIFIER_ID).map_err(enc)?.map(2).map_err(enc)?;
        e.u8(0)
            .map_err(enc)?
            .str(&self.verifier_id.developer)
            .map_err(enc)?;
        e.u8(1)
            .map_err(enc)?
            .str(&self.verifier_id.build)
            .map_err(enc)?;
        Ok(e.into_writer())
    }

    /// The EAR as a signed CWT: the CBOR claims-set in a COSE_Sign1 (`alg` ES256 or ESP256)
    /// inside tag 61, with `kid` in the unprotected header when given.
    pub fn sign<C: Sha256, S: Signer>(
        &self,
        crypto: &mut C,
        signer: &mut S,
        alg: Algorithm,
        kid: Option<&[u8]>,
    ) -> Result<Vec<u8>> {
        let payload = self.to_cbor()?;
        let mut builder = TokenBuilder::new();
        builder.kid = kid;
        let mut out = vec![0u8; payload.len() + 160 + kid.map_or(0, <[u8]>::len)];
        let n = builder.sign_payload(crypto, signer, alg, &payload, &mut out)?;
        out.truncate(n);
        Ok(out)
    }
}

#[cfg(feature = "std")]
impl Ear {
    /// The EAR claims-set in JSON (the profile's JSON names; bytes in unpadded base64url).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::{Map, Value, json};
        let b64 = |b: &[u8]| Value::String(crate::json::b64url(b));
        let mut top = Map::new();
        top.insert("eat_profile".into(), json!(PROFILE));
        top.insert("iat".into(), json!(self.iat));
        top.insert(
            "ear.verifier-id".into(),
            json!({"developer": self.verifier_id.developer, "build": self.verifier_id.build}),
        );
        if let Some(n) = &self.nonce {
            top.insert("eat_nonce".into(), b64(n));
        }
        if let Some(raw) = &self.raw_evidence {
            top.insert("ear.raw-evidence".into(), b64(raw));
        }
        let mut submods = Map::new();
        for (name, a) in &self.submods {
            let mut m = Map::new();
            m.insert("ear.status".into(), json!(a.status.name()));
            let tv: Map<String, Value> = TrustVector::NAMES
                .iter()
                .zip(a.trust_vector.values())
                .map(|(n, v)| ((*n).into(), json!(v)))
                .collect();
            m.insert("ear.trustworthiness-vector".into(), Value::Object(tv));
            if let Some(p) = &a.policy_id {
                m.insert("ear.appraisal-policy-id".into(), json!(p));
            }
            if let Some(k) = &a.attested_key {
                m.insert(
                    "ear.veraison.key-attestation".into(),
                    json!({ "akpub": crate::json::b64url(k) }),
                );
            }
            submods.insert(name.clone(), Value::Object(m));
        }
        top.insert("submods".into(), Value::Object(submods));
        Value::Object(top)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_follow_the_ar4si_ranges() {
        for (v, t) in [
            (0, Tier::None),
            (1, Tier::None),
            (-1, Tier::None),
            (2, Tier::Affirming),
            (31, Tier::Affirming),
            (-32, Tier::Affirming),
            (32, Tier::Warning),
            (95, Tier::Warning),
            (-33, Tier::Warning),
            (-96, Tier::Warning),
            (96, Tier::Contraindicated),
            (127, Tier::Contraindicated),
            (-97, Tier::Contraindicated),
            (-128, Tier::Contraindicated),
        ] {
            assert_eq!(Tier::of_claim(v), t, "{v}");
        }
        let tv = TrustVector {
            instance_identity: 2,
            executables: 33,
            ..TrustVector::default()
        };
        assert_eq!(tv.status(), Tier::Warning);
        assert_eq!(TrustVector::default().status(), Tier::None);
        assert_eq!(Tier::from_name("affirming"), Some(Tier::Affirming));
    }
}
