//! Claim keys: CWT (RFC 8392 section 4, RFC 8747), EAT (RFC 9711 section 10.2), PSA
//! (RFC 9783 section 4) and the legacy PSA_IOT_PROFILE_1 keys.

/// `iss`: issuer (RFC 8392 section 3.1.1).
pub const ISS: i64 = 1;
/// `sub`: subject.
pub const SUB: i64 = 2;
/// `aud`: audience.
pub const AUD: i64 = 3;
/// `exp`: expiration time.
pub const EXP: i64 = 4;
/// `nbf`: not before.
pub const NBF: i64 = 5;
/// `iat`: issued at.
pub const IAT: i64 = 6;
/// `cti`: CWT id.
pub const CTI: i64 = 7;
/// `cnf`: confirmation (RFC 8747).
pub const CNF: i64 = 8;
/// `eat_nonce` (RFC 9711 section 4.1).
pub const NONCE: i64 = 10;
/// `ueid` (RFC 9711 section 4.2.1); the PSA Instance ID.
pub const UEID: i64 = 256;
/// `sueids` (RFC 9711 section 4.2.2).
pub const SUEIDS: i64 = 257;
/// `oemid` (RFC 9711 section 4.2.3).
pub const OEMID: i64 = 258;
/// `hwmodel` (RFC 9711 section 4.2.4).
pub const HWMODEL: i64 = 259;
/// `hwversion` (RFC 9711 section 4.2.5).
pub const HWVERSION: i64 = 260;
/// `uptime` (RFC 9711 section 4.2.11).
pub const UPTIME: i64 = 261;
/// `oemboot` (RFC 9711 section 4.2.8).
pub const OEMBOOT: i64 = 262;
/// `dbgstat` (RFC 9711 section 4.2.9).
pub const DBGSTAT: i64 = 263;
/// `location` (RFC 9711 section 4.2.10).
pub const LOCATION: i64 = 264;
/// `eat_profile` (RFC 9711 section 4.3.2).
pub const PROFILE: i64 = 265;
/// `submods` (RFC 9711 section 4.2.18).
pub const SUBMODS: i64 = 266;
/// `bootcount` (RFC 9711 section 4.2.12).
pub const BOOTCOUNT: i64 = 267;
/// `bootseed` (RFC 9711 section 4.2.13); the PSA Boot Seed.
pub const BOOTSEED: i64 = 268;
/// `dloas` (RFC 9711 section 4.2.14).
pub const DLOAS: i64 = 269;
/// `swname` (RFC 9711 section 4.2.6).
pub const SWNAME: i64 = 270;
/// `swversion` (RFC 9711 section 4.2.7).
pub const SWVERSION: i64 = 271;
/// `manifests` (RFC 9711 section 4.2.15).
pub const MANIFESTS: i64 = 272;
/// `measurements` (RFC 9711 section 4.2.16).
pub const MEASUREMENTS: i64 = 273;
/// `measres` (RFC 9711 section 4.2.17).
pub const MEASRES: i64 = 274;
/// `intuse` (RFC 9711 section 4.3.3).
pub const INTUSE: i64 = 275;
/// `psa-client-id` (RFC 9783 section 4.2.1).
pub const PSA_CLIENT_ID: i64 = 2394;
/// `psa-security-lifecycle` (RFC 9783 section 4.3.1).
pub const PSA_LIFECYCLE: i64 = 2395;
/// `psa-implementation-id` (RFC 9783 section 4.2.3).
pub const PSA_IMPLEMENTATION_ID: i64 = 2396;
/// `psa-boot-seed` of the `http://arm.com/psa/2.0.0` drafts, replaced by [`BOOTSEED`]; decoded
/// as the boot seed.
pub const PSA_BOOT_SEED_DRAFT: i64 = 2397;
/// `psa-certification-reference` (RFC 9783 section 4.2.4).
pub const PSA_CERTIFICATION_REFERENCE: i64 = 2398;
/// `psa-software-components` (RFC 9783 section 4.4.1).
pub const PSA_SOFTWARE_COMPONENTS: i64 = 2399;
/// `psa-verification-service-indicator` (RFC 9783 section 4.5.1).
pub const PSA_VSI: i64 = 2400;

/// The keys of PSA_IOT_PROFILE_1 tokens (draft-tschofenig-rats-psa-token-07), which decode into
/// the same fields as their successors.
pub mod legacy {
    /// `arm_psa_profile_id`: decoded as `eat_profile`.
    pub const PROFILE: i64 = -75000;
    /// `arm_psa_partition_id`: decoded as `psa-client-id`.
    pub const CLIENT_ID: i64 = -75001;
    /// `arm_psa_security_lifecycle`.
    pub const LIFECYCLE: i64 = -75002;
    /// `arm_psa_implementation_id`.
    pub const IMPLEMENTATION_ID: i64 = -75003;
    /// `arm_psa_boot_seed`: decoded as `bootseed`.
    pub const BOOT_SEED: i64 = -75004;
    /// `arm_psa_hw_version`: decoded as `psa-certification-reference`.
    pub const HW_VERSION: i64 = -75005;
    /// `arm_psa_sw_components`.
    pub const SW_COMPONENTS: i64 = -75006;
    /// `arm_psa_no_sw_measurements`: kept under this key (it has no successor).
    pub const NO_SW_MEASUREMENTS: i64 = -75007;
    /// `arm_psa_nonce`: decoded as `eat_nonce`.
    pub const NONCE: i64 = -75008;
    /// `arm_psa_UEID`: decoded as `ueid`.
    pub const UEID: i64 = -75009;
    /// `arm_psa_origination`: decoded as `psa-verification-service-indicator`.
    pub const ORIGINATION: i64 = -75010;
}

/// Every claim this crate models, by canonical key, in deterministic encoding order
/// (RFC 8949 section 4.2.1).
pub(crate) const KNOWN: [i64; 36] = [
    ISS,
    SUB,
    AUD,
    EXP,
    NBF,
    IAT,
    CTI,
    CNF,
    NONCE,
    UEID,
    SUEIDS,
    OEMID,
    HWMODEL,
    HWVERSION,
    UPTIME,
    OEMBOOT,
    DBGSTAT,
    LOCATION,
    PROFILE,
    SUBMODS,
    BOOTCOUNT,
    BOOTSEED,
    DLOAS,
    SWNAME,
    SWVERSION,
    MANIFESTS,
    MEASUREMENTS,
    MEASRES,
    INTUSE,
    PSA_CLIENT_ID,
    PSA_LIFECYCLE,
    PSA_IMPLEMENTATION_ID,
    PSA_CERTIFICATION_REFERENCE,
    PSA_SOFTWARE_COMPONENTS,
    PSA_VSI,
    legacy::NO_SW_MEASUREMENTS,
];

/// The canonical key a received key decodes as: itself for a modelled claim, its successor for
/// a legacy or draft PSA key, `None` for a claim this crate does not model.
pub(crate) fn canonical(key: i64) -> Option<i64> {
    let c = match key {
        PSA_BOOT_SEED_DRAFT | legacy::BOOT_SEED => BOOTSEED,
        legacy::PROFILE => PROFILE,
        legacy::CLIENT_ID => PSA_CLIENT_ID,
        legacy::LIFECYCLE => PSA_LIFECYCLE,
        legacy::IMPLEMENTATION_ID => PSA_IMPLEMENTATION_ID,
        legacy::HW_VERSION => PSA_CERTIFICATION_REFERENCE,
        legacy::SW_COMPONENTS => PSA_SOFTWARE_COMPONENTS,
        legacy::NONCE => NONCE,
        legacy::UEID => UEID,
        legacy::ORIGINATION => PSA_VSI,
        k => k,
    };
    KNOWN.contains(&c).then_some(c)
}

/// The index of a canonical key in [`KNOWN`] (its bit in a claims-set's seen set).
pub(crate) fn slot(canonical: i64) -> Option<u32> {
    KNOWN
        .iter()
        .position(|k| *k == canonical)
        .and_then(|i| u32::try_from(i).ok())
}

/// Whether `key` is one of the PSA_IOT_PROFILE_1 keys.
pub(crate) fn is_legacy(key: i64) -> bool {
    (legacy::ORIGINATION..=legacy::PROFILE).contains(&key)
}
