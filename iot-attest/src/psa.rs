//! The PSA attestation token profile (RFC 9783, `tag:psacertified.org,2023:psa#tfm`): its
//! claims (2394-2400 with EAT's 10, 256, 265 and 268) and validation rules.

use crate::claims::Claims;
use crate::error::{Error, Result, Violation};
use crate::key;
use crate::seq::Seq;
use crate::value::{Nonce, Profile, SwComponent};

/// The profile name (RFC 9783 section 4.5.2).
pub const PROFILE: &str = "tag:psacertified.org,2023:psa#tfm";

/// The profile name of legacy tokens (draft-tschofenig-rats-psa-token-07), whose claims use the
/// keys -75000 to -75010.
pub const LEGACY_PROFILE: &str = "PSA_IOT_PROFILE_1";

/// Length of the Instance ID: a RAND UEID, type byte 0x01 and 32 bytes (RFC 9783 section 4.2.2).
pub const INSTANCE_ID_LEN: usize = 33;

/// Length of the Implementation ID (RFC 9783 section 4.2.3).
pub const IMPLEMENTATION_ID_LEN: usize = 32;

/// The major lifecycle states (RFC 9783 section 4.3.1): the high byte of the claim value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Lifecycle {
    /// 0x0000-0x00ff
    Unknown,
    /// 0x1000-0x10ff
    AssemblyAndTest,
    /// 0x2000-0x20ff
    PsaRotProvisioning,
    /// 0x3000-0x30ff
    Secured,
    /// 0x4000-0x40ff
    NonPsaRotDebug,
    /// 0x5000-0x50ff
    RecoverablePsaRotDebug,
    /// 0x6000-0x60ff
    Decommissioned,
}

impl Lifecycle {
    /// The state of a `psa-security-lifecycle` value, or `None` outside the defined ranges.
    pub const fn from_value(v: u64) -> Option<Self> {
        if v > 0x60ff {
            return None;
        }
        Some(match v >> 8 {
            0x00 => Self::Unknown,
            0x10 => Self::AssemblyAndTest,
            0x20 => Self::PsaRotProvisioning,
            0x30 => Self::Secured,
            0x40 => Self::NonPsaRotDebug,
            0x50 => Self::RecoverablePsaRotDebug,
            0x60 => Self::Decommissioned,
            _ => return None,
        })
    }

    /// The claim value of the state with implementation-defined minor state 0.
    pub const fn value(self) -> u64 {
        match self {
            Self::Unknown => 0x0000,
            Self::AssemblyAndTest => 0x1000,
            Self::PsaRotProvisioning => 0x2000,
            Self::Secured => 0x3000,
            Self::NonPsaRotDebug => 0x4000,
            Self::RecoverablePsaRotDebug => 0x5000,
            Self::Decommissioned => 0x6000,
        }
    }
}

fn is_hash(b: &[u8]) -> bool {
    matches!(b.len(), 32 | 48 | 64)
}

/// EAN-13 followed by a dash and five digits (RFC 9783 section 4.2.4).
fn is_certification_reference(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 19
        && b.iter().enumerate().all(|(i, c)| {
            if i == 13 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

fn need<T>(v: Option<T>, key: i64) -> Result<T> {
    v.ok_or(Error::profile(key, Violation::Missing))
}

fn check(ok: bool, key: i64, violation: Violation) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::profile(key, violation))
    }
}

/// Checks `claims` against the PSA profile of RFC 9783 (the rules of its CDDL, section 4 and
/// appendix A): the profile claim names [`PROFILE`]; nonce (one, of 32, 48 or 64 bytes),
/// Instance ID (33 bytes, type byte 0x01), Implementation ID (32 bytes), client ID (a nonzero
/// 32-bit integer), security lifecycle (a defined state) and software components (one or more,
/// each with a measurement value and a signer ID of 32, 48 or 64 bytes) are present; the
/// optional boot seed has 8 to 32 bytes, the certification reference is EAN-13+5 and the
/// verification service indicator is not empty. Claims of other specifications may be present.
pub fn validate(claims: &Claims<'_>) -> Result<()> {
    match claims.profile {
        Some(Profile::Uri(p)) if p == PROFILE => {}
        Some(_) => return Err(Error::WrongProfile),
        None => return Err(Error::profile(key::PROFILE, Violation::Missing)),
    }
    if claims.legacy_psa {
        return Err(Error::profile(key::legacy::PROFILE, Violation::Forbidden));
    }
    let nonce = need(claims.nonce, key::NONCE)?;
    let Nonce::One(nonce) = nonce else {
        return Err(Error::profile(key::NONCE, Violation::Forbidden));
    };
    check(is_hash(nonce), key::NONCE, Violation::Size)?;

    let instance = need(claims.ueid, key::UEID)?;
    check(
        instance.len() == INSTANCE_ID_LEN,
        key::UEID,
        Violation::Size,
    )?;
    check(instance.first() == Some(&0x01), key::UEID, Violation::Value)?;

    let implementation = need(claims.psa_implementation_id, key::PSA_IMPLEMENTATION_ID)?;
    check(
        implementation.len() == IMPLEMENTATION_ID_LEN,
        key::PSA_IMPLEMENTATION_ID,
        Violation::Size,
    )?;

    let client = need(claims.psa_client_id, key::PSA_CLIENT_ID)?;
    // -2147483648...0 (0 excluded) or 1..2147483647.
    check(
        client != 0 && i32::try_from(client).is_ok(),
        key::PSA_CLIENT_ID,
        Violation::Value,
    )?;

    let lifecycle = need(claims.psa_lifecycle, key::PSA_LIFECYCLE)?;
    check(
        Lifecycle::from_value(lifecycle).is_some(),
        key::PSA_LIFECYCLE,
        Violation::Value,
    )?;

    if let Some(r) = claims.psa_certification_reference {
        check(
            is_certification_reference(r),
            key::PSA_CERTIFICATION_REFERENCE,
            Violation::Format,
        )?;
    }
    if let Some(seed) = claims.bootseed {
        check(
            (8..=32).contains(&seed.len()),
            key::BOOTSEED,
            Violation::Size,
        )?;
    }
    if let Some(vsi) = claims.psa_vsi {
        check(!vsi.is_empty(), key::PSA_VSI, Violation::Format)?;
    }
    check(
        claims.psa_no_sw_measurements.is_none(),
        key::legacy::NO_SW_MEASUREMENTS,
        Violation::Forbidden,
    )?;

    const SW: i64 = key::PSA_SOFTWARE_COMPONENTS;
    let components = need(claims.psa_software_components, SW)?;
    check(!components.is_empty(), SW, Violation::Missing)?;
    for c in components.iter() {
        check(is_hash(need(c.measurement_value, SW)?), SW, Violation::Size)?;
        check(is_hash(need(c.signer_id, SW)?), SW, Violation::Size)?;
    }
    Ok(())
}

/// The claims of a PSA token as a device states them; [`PsaClaims::claims`] turns them into a
/// claims-set with the profile claim set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PsaClaims<'a> {
    /// The verifier's challenge (32, 48 or 64 bytes).
    pub nonce: &'a [u8],
    /// The Instance ID (33 bytes, first byte 0x01).
    pub instance_id: &'a [u8],
    /// The Implementation ID (32 bytes).
    pub implementation_id: &'a [u8],
    /// The caller's partition (negative: non-secure, positive: secure).
    pub client_id: i32,
    /// The security lifecycle state.
    pub lifecycle: u16,
    /// The boot seed (8 to 32 bytes).
    pub boot_seed: Option<&'a [u8]>,
    /// The certification reference (EAN-13+5).
    pub certification_reference: Option<&'a str>,
    /// The software components (one or more).
    pub software_components: &'a [SwComponent<'a>],
    /// The verification service indicator.
    pub vsi: Option<&'a str>,
}

impl<'a> PsaClaims<'a> {
    /// The claims-set, with `eat_profile` = [`PROFILE`]. Check it with [`validate`].
    pub fn claims(&self) -> Claims<'a> {
        Claims {
            profile: Some(Profile::Uri(PROFILE)),
            nonce: Some(Nonce::One(self.nonce)),
            ueid: Some(self.instance_id),
            psa_implementation_id: Some(self.implementation_id),
            psa_client_id: Some(i64::from(self.client_id)),
            psa_lifecycle: Some(u64::from(self.lifecycle)),
            bootseed: self.boot_seed,
            psa_certification_reference: self.certification_reference,
            psa_software_components: Some(Seq::Items(self.software_components)),
            psa_vsi: self.vsi,
            ..Claims::default()
        }
    }
}
