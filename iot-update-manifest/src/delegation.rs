//! `suit-delegation` (draft-ietf-suit-trust-domains, "Delegation Chains"; envelope key 1):
//! `SUIT_Delegation = [+ [+ bstr .cbor CWT]]` with `CWT = SUIT_Authentication_Block`.
//!
//! Each inner array is a chain of CBOR Web Tokens (RFC 8392). The first CWT of a chain is a
//! COSE_Sign1 (tag 18 or untagged, ES256 / ESP256) that verifies under a trust anchor; each next
//! one verifies under the key that the one before confirms in its `cnf` claim (RFC 8747 section
//! 3.1, a `COSE_Key`); the key the last CWT confirms may then verify the envelope's
//! authentication blocks as a trust anchor would ([`crate::Envelope::authenticate`]).
//! Every chain must hold: one that does not is refused ([`DelegationError`]) and the envelope with
//! it, even when a trust anchor signed the envelope itself, so that nothing outside the signature
//! is taken half-checked.
//!
//! Claims. The draft gives the CWTs no claim of their own beyond `cnf`, so RFC 8392 and RFC 7519
//! decide the others. `cnf` is required, with exactly one confirmation method, a `COSE_Key`: a
//! P-256 EC2 public key (x and y, or x and the sign of y), optionally restricted by `alg`; an
//! `Encrypted_COSE_Key` or a `kid` names a key this device cannot obtain and is refused.
//! `exp` (4), `nbf` (5) and `aud` (3) restrict where and when a token may be accepted (RFC 7519
//! sections 4.1.3-4.1.5: a token outside them MUST be rejected). With the device's clock
//! ([`crate::TrustAnchors::at_time`]), `exp` and `nbf` (RFC 8392 NumericDates, integer or
//! float) are checked against it: a CWT is accepted from its `nbf` and until before its `exp`
//! ([`Reason::NotYetValid`], [`Reason::Expired`]). Without a clock, and for `aud` always (the
//! device has no audience identity here), a CWT carrying one is refused
//! ([`Reason::UnsupportedClaim`]) rather than accepted past its issuer's limits. `iss`,
//! `sub`, `iat`, `cti` and any other claim (integer or text label) inform and restrict nothing
//! here: they are skipped, as RFC 7519 section 4 asks of claims not understood. A repeated
//! integer label below 64 is refused as a duplicate key.
//!
//! Nothing is kept but borrowed slices and, once verified, one [`P256VerifyingKey`] per chain
//! (iot-core's RustCrypto key: the delegated keys arrive as coordinates, so this feature turns on
//! iot-core's `rustcrypto`). At most [`MAX_CHAINS`] chains of [`MAX_CHAIN_LENGTH`] CWTs, each CWT
//! costing one signature check.

use crate::cbor::{Cur, Wrapped};
use crate::error::{Capacity, Error, Result};
use iot_core::cose::{CoseKey, CoseSign1};
use iot_core::crypto::{P256VerifyingKey, Sha256, Verifier};
use minicbor::data::Type;

/// Chains in one `suit-delegation`; more is [`Error::CapacityExceeded`].
pub const MAX_CHAINS: usize = 2;
/// CWTs in one chain; more is [`Error::CapacityExceeded`].
pub const MAX_CHAIN_LENGTH: usize = 3;

/// CWT claim labels this module reads (RFC 8392 section 4, RFC 8747 section 3.1).
pub mod claim {
    /// `aud`: the audience.
    pub const AUD: i64 = 3;
    /// `exp`: expiration time.
    pub const EXP: i64 = 4;
    /// `nbf`: not before.
    pub const NBF: i64 = 5;
    /// `cnf`: confirmation.
    pub const CNF: i64 = 8;
    /// The `COSE_Key` member of `cnf`.
    pub const CNF_COSE_KEY: i64 = 1;
}

/// Why a delegation chain does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// `suit-delegation` without a chain, or a chain without a CWT (the CDDL's `+`).
    Empty,
    /// The CWT's signature verifies neither under a trust anchor (first CWT) nor under the key the
    /// previous CWT confirms, or the CWT has no payload.
    NotAuthenticated,
    /// No `cnf` claim, or one that is not exactly one `COSE_Key`.
    NoConfirmationKey,
    /// The confirmed `COSE_Key` is not a P-256 public key (another type or curve, a private
    /// part, a point not on the curve).
    InvalidKey,
    /// A claim this processor cannot honour (`aud`; `exp` or `nbf` without a clock): its label.
    UnsupportedClaim(u8),
    /// `exp` is not after the device's time, or is not a finite NumericDate.
    Expired,
    /// `nbf` is after the device's time, or is not a finite NumericDate.
    NotYetValid,
}

/// A delegation chain that does not hold: which chain, which CWT in it (both from 0), and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DelegationError {
    /// The chain's index in `suit-delegation`.
    pub chain: u8,
    /// The CWT's index in its chain.
    pub link: u8,
    /// Why.
    pub reason: Reason,
}

impl core::fmt::Display for DelegationError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "delegation chain {} CWT {}: {:?}",
            self.chain, self.link, self.reason
        )
    }
}

type Chain<'a> = heapless::Vec<Wrapped<'a>, MAX_CHAIN_LENGTH>;

/// The keys the chains of one envelope confirm, one per chain, in chain order.
pub type DelegatedKeys = heapless::Vec<P256VerifyingKey, MAX_CHAINS>;

/// A decoded `SUIT_Delegation`, borrowing from its input: the CWTs' bytes, not yet verified.
#[derive(Debug, Clone)]
pub struct Delegation<'a> {
    chains: heapless::Vec<Chain<'a>, MAX_CHAINS>,
}

fn refuse(chain: usize, link: usize, reason: Reason) -> Error {
    Error::Delegation(DelegationError {
        chain: u8::try_from(chain).unwrap_or(u8::MAX),
        link: u8::try_from(link).unwrap_or(u8::MAX),
        reason,
    })
}

impl<'a> Delegation<'a> {
    /// Decodes the content of `suit-delegation` (what [`crate::Envelope::delegation`] returns);
    /// CBOR errors count their offsets from its start.
    pub fn decode(content: &'a [u8]) -> Result<Self> {
        Self::decode_at(Cur::new(content, 0))
    }

    /// Decodes the member as it sits in its envelope (offsets from the envelope's start).
    pub(crate) fn decode_wrapped(w: Wrapped<'a>) -> Result<Self> {
        Self::decode_at(w.cursor())
    }

    fn decode_at(mut c: Cur<'a>) -> Result<Self> {
        let n = c.array()?;
        if n == 0 {
            return Err(refuse(0, 0, Reason::Empty));
        }
        let mut chains = heapless::Vec::new();
        for i in 0..n {
            let len = c.array()?;
            if len == 0 {
                return Err(refuse(i as usize, 0, Reason::Empty));
            }
            let mut chain = Chain::new();
            for _ in 0..len {
                chain
                    .push(c.wrapped()?)
                    .map_err(|_| Error::CapacityExceeded(Capacity::DelegationChainLength))?;
            }
            chains
                .push(chain)
                .map_err(|_| Error::CapacityExceeded(Capacity::DelegationChains))?;
        }
        c.finish()?;
        Ok(Self { chains })
    }

    /// The chains, each as its CWTs' encoded COSE_Sign1 (the content of each bstr).
    pub fn chains(&self) -> impl Iterator<Item = impl Iterator<Item = &'a [u8]> + '_> + '_ {
        self.chains
            .iter()
            .map(|chain| chain.iter().map(Wrapped::content))
    }

    /// Verifies every chain: its first CWT under one of `anchors`, each next under the key the
    /// previous confirms, with `exp` and `nbf` checked at `now` (seconds since the Unix epoch;
    /// `None` for a device without a clock, which refuses them). Returns the key each chain's
    /// last CWT confirms.
    pub fn verify<C: Sha256, V: Verifier>(
        &self,
        crypto: &mut C,
        anchors: &mut [V],
        now: Option<u64>,
    ) -> Result<DelegatedKeys> {
        let mut keys = DelegatedKeys::new();
        for (i, chain) in self.chains.iter().enumerate() {
            let mut signer: Option<P256VerifyingKey> = None;
            for (j, cwt) in chain.iter().enumerate() {
                let msg = sign1(cwt)?;
                let verified = match signer.as_mut() {
                    None => anchors
                        .iter_mut()
                        .any(|k| msg.verify(crypto, k, &[]).is_ok()),
                    Some(k) => msg.verify(crypto, k, &[]).is_ok(),
                };
                let claims = match msg.payload {
                    Some(p) if verified => p,
                    _ => return Err(refuse(i, j, Reason::NotAuthenticated)),
                };
                let key = confirmed(payload(cwt, claims), now)
                    .map_err(|r| r.unwrap_or_else(|r| refuse(i, j, r)))?;
                signer = Some(key);
            }
            if let Some(key) = signer {
                // Capacity: one key per chain, and the chains were bounded when decoded.
                keys.push(key)
                    .map_err(|_| Error::CapacityExceeded(Capacity::DelegationChains))?;
            }
        }
        Ok(keys)
    }
}

/// The COSE_Sign1 of a CWT, CBOR errors at their offsets in the envelope.
fn sign1<'a>(cwt: &Wrapped<'a>) -> Result<CoseSign1<'a>> {
    CoseSign1::decode(cwt.content()).map_err(|e| crate::cbor::rebase(e, cwt.base))
}

/// `claims`, a slice of `cwt`'s content, as it sits in the envelope: a cursor over it.
fn payload<'a>(cwt: &Wrapped<'a>, claims: &'a [u8]) -> Cur<'a> {
    let from = (claims.as_ptr() as usize).saturating_sub(cwt.content().as_ptr() as usize);
    let base = cwt.base.saturating_add(from);
    let outer = cwt
        .outer
        .get(..base.saturating_add(claims.len()))
        .unwrap_or_default();
    Cur::new(outer, base)
}

/// What one CWT of a chain says, as [`read_cwt`] reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CwtView<'a> {
    /// The key its `cnf` confirms.
    pub key: CoseKey<'a>,
    /// `nbf`, seconds since the Unix epoch (NaN for a date that is not finite).
    pub not_before: Option<f64>,
    /// `exp`, likewise.
    pub expires: Option<f64>,
}

/// The key a CWT confirms and its time limits, read without checking its signature or the
/// time: for display (what a chain names, and when); [`Delegation::verify`] is what
/// authenticates. `cwt` is one CWT's encoded COSE_Sign1.
pub fn read_cwt(cwt: &[u8]) -> Result<CwtView<'_>> {
    let w = Wrapped {
        encoded: cwt,
        outer: cwt,
        base: 0,
    };
    let msg = sign1(&w)?;
    let claims = msg.payload.ok_or(refuse(0, 0, Reason::NotAuthenticated))?;
    // For display, at no time: the dates are shown, not checked.
    read_claims(payload(&w, claims), Clock::Ignored)
        .map_err(|r| r.unwrap_or_else(|r| refuse(0, 0, r)))
}

/// A claim-level failure ([`Reason`]) or a CBOR one ([`Error`]), the caller naming the chain.
type ClaimResult<T> = core::result::Result<T, core::result::Result<Error, Reason>>;

/// How [`read_claims`] treats `exp` and `nbf`.
#[derive(Clone, Copy)]
enum Clock {
    /// Checked at this time, or refused (`None`: no clock).
    At(Option<u64>),
    /// Read, not checked: the CWT is only shown.
    Ignored,
}

/// The verifying key confirmed by an authenticated claims set, its time limits checked at `now`.
fn confirmed(claims: Cur<'_>, now: Option<u64>) -> ClaimResult<P256VerifyingKey> {
    let key = read_claims(claims, Clock::At(now))?.key;
    if !matches!(key, CoseKey::Ec2 { d: None, .. }) {
        return Err(Err(Reason::InvalidKey));
    }
    key.verifying_key().map_err(|_| Err(Reason::InvalidKey))
}

/// Reads a CWT Claims Set (RFC 8392 section 3) for its `cnf` COSE_Key, as the module doc says.
fn read_claims(mut c: Cur<'_>, clock: Clock) -> ClaimResult<CwtView<'_>> {
    let n = c.map().map_err(Ok)?;
    let mut seen = 0u64;
    let mut key = None;
    let (mut not_before, mut expires) = (None, None);
    for _ in 0..n {
        if c.datatype().map_err(Ok)? == Type::String {
            c.str().map_err(Ok)?;
            c.skip().map_err(Ok)?;
            continue;
        }
        match c.key(&mut seen).map_err(Ok)? {
            claim::CNF => key = Some(read_cnf(&mut c)?),
            l @ (claim::EXP | claim::NBF) => {
                let now = match clock {
                    Clock::At(None) => return Err(Err(Reason::UnsupportedClaim(l as u8))),
                    Clock::At(Some(now)) => Some(now),
                    Clock::Ignored => None,
                };
                let date = numeric_date(&mut c).map_err(Ok)?;
                if l == claim::EXP {
                    expires = Some(date);
                } else {
                    not_before = Some(date);
                }
                // From `nbf` on, and until before `exp` (RFC 7519 sections 4.1.4, 4.1.5); a
                // NaN (a date that is not finite) holds never.
                #[allow(clippy::cast_precision_loss)]
                if let Some(now) = now.map(|t| t as f64) {
                    if l == claim::EXP && (date.is_nan() || date <= now) {
                        return Err(Err(Reason::Expired));
                    }
                    if l == claim::NBF && (date.is_nan() || date > now) {
                        return Err(Err(Reason::NotYetValid));
                    }
                }
            }
            claim::AUD => return Err(Err(Reason::UnsupportedClaim(claim::AUD as u8))),
            _ => {
                c.skip().map_err(Ok)?;
            }
        }
    }
    c.finish().map_err(Ok)?;
    Ok(CwtView {
        key: key.ok_or(Err(Reason::NoConfirmationKey))?,
        not_before,
        expires,
    })
}

/// A NumericDate (RFC 8392 section 2: an integer or a float of seconds since the epoch) as
/// `f64`; NaN for an infinity or a NaN, which is no date.
fn numeric_date(c: &mut Cur<'_>) -> Result<f64> {
    let t = c.number()?;
    Ok(if t.is_finite() { t } else { f64::NAN })
}

/// `cnf` (RFC 8747 section 3.1): a map holding exactly one confirmation method, here a COSE_Key.
fn read_cnf<'a>(c: &mut Cur<'a>) -> ClaimResult<CoseKey<'a>> {
    if c.datatype().map_err(Ok)? != Type::Map || c.map().map_err(Ok)? != 1 {
        return Err(Err(Reason::NoConfirmationKey));
    }
    if c.datatype().map_err(Ok)? == Type::String || c.int().map_err(Ok)? != claim::CNF_COSE_KEY {
        return Err(Err(Reason::NoConfirmationKey));
    }
    let at = c.position();
    let encoded = c.skip().map_err(Ok)?;
    CoseKey::decode(encoded).map_err(|e| match e {
        iot_core::Error::Cbor { .. } => Ok(crate::cbor::rebase(e, at)),
        _ => Err(Reason::InvalidKey),
    })
}
