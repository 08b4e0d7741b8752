//! Universal Entity IDs (RFC 9711 section 4.2.1) and semi-permanent UEIDs (section 4.2.2).
//!
//! A UEID is a type byte followed by the identifier (RFC 9711 Table 4, "UEID Composition Types"):
//!
//! | type | name     | bytes after the type byte                                  |
//! |------|----------|------------------------------------------------------------|
//! | 0x01 | RAND     | 16, 24 or 32 random bytes                                  |
//! | 0x02 | IEEE EUI | an EUI-48 (6 bytes) or EUI-64 (8 bytes)                    |
//! | 0x03 | IMEI     | 14 bytes, one decimal digit value each, no Luhn check digit |
//!
//! The whole UEID is 7 to 33 bytes (RFC 9711 section 4.2.1, `ueid-type = bstr .size (7..33)`).
//! Everything here is fixed-size and heap-free.

use core::fmt;
use iot_core::crypto::{HkdfSha256, Rng};
use zeroize::Zeroizing;

/// The longest UEID (a type byte and 32 random bytes).
pub const MAX_UEID_LEN: usize = 33;
/// The shortest UEID (a type byte and an EUI-48).
pub const MIN_UEID_LEN: usize = 7;
/// The shortest device secret [`Ueid::derive`] and [`derive_sueid`] accept, in bytes.
pub const MIN_SECRET_LEN: usize = 16;

/// HKDF `info` of [`Ueid::derive`].
const UEID_INFO: &[u8] = b"iot-identity UEID v1";
/// HKDF `salt` of [`derive_sueid`].
const SUEID_SALT: &[u8] = b"iot-identity SUEID v1";

/// The UEID types of RFC 9711 Table 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UeidType {
    /// 0x01: a 128-, 192- or 256-bit random number.
    Rand,
    /// 0x02: an IEEE EUI-48 or EUI-64.
    IeeeEui,
    /// 0x03: a 14-digit IMEI (type allocation code and serial number).
    Imei,
}

impl UeidType {
    /// The type byte.
    pub const fn byte(self) -> u8 {
        match self {
            Self::Rand => 0x01,
            Self::IeeeEui => 0x02,
            Self::Imei => 0x03,
        }
    }

    /// The type with type byte `b`.
    pub const fn from_byte(b: u8) -> Option<Self> {
        match b {
            0x01 => Some(Self::Rand),
            0x02 => Some(Self::IeeeEui),
            0x03 => Some(Self::Imei),
            _ => None,
        }
    }
}

/// The length of the random part of a RAND UEID (RFC 9711: at least 128 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RandLen {
    /// 128 bits: a 17-byte UEID (enough for billions of devices, RFC 9711 Appendix B).
    #[default]
    Bits128,
    /// 192 bits: a 25-byte UEID.
    Bits192,
    /// 256 bits: a 33-byte UEID.
    Bits256,
}

impl RandLen {
    /// The number of random bytes.
    pub const fn bytes(self) -> usize {
        match self {
            Self::Bits128 => 16,
            Self::Bits192 => 24,
            Self::Bits256 => 32,
        }
    }

    fn from_bytes(n: usize) -> Option<Self> {
        match n {
            16 => Some(Self::Bits128),
            24 => Some(Self::Bits192),
            32 => Some(Self::Bits256),
            _ => None,
        }
    }
}

/// Why a UEID was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UeidError {
    /// Shorter than 7 or longer than 33 bytes, or empty.
    Length(usize),
    /// A type byte RFC 9711 does not define.
    UnknownType(u8),
    /// A RAND UEID whose random part is not 16, 24 or 32 bytes.
    RandLength(usize),
    /// An IEEE EUI that is neither 6 (EUI-48) nor 8 (EUI-64) bytes.
    EuiLength(usize),
    /// An EUI with the individual/group bit set: a group address names no single device.
    EuiGroup,
    /// A locally administered EUI (U/L bit set) that is not an extended local identifier from a
    /// Company ID: it is not globally unique.
    EuiLocal,
    /// An EUI that is all zeros, all ones, or an EUI-64 with `FF FE` / `FF FF` in its fourth and
    /// fifth octets (reserved by IEEE for encapsulating EUI-48 / MAC-48 values).
    EuiReserved,
    /// An IMEI character or byte that is not a decimal digit.
    ImeiDigit,
    /// An IMEI that is neither 14 digits nor 15 digits with its check digit.
    ImeiLength(usize),
    /// A 15-digit IMEI whose Luhn check digit is wrong.
    ImeiCheckDigit,
    /// A device secret shorter than [`MIN_SECRET_LEN`].
    WeakSecret,
    /// The SUEID epoch counter cannot advance any further.
    EpochExhausted,
    /// The random number generator or the key derivation failed.
    Core(iot_core::Error),
}

impl fmt::Display for UeidError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Length(n) => write!(f, "UEID of {n} bytes (7 to 33 allowed)"),
            Self::UnknownType(t) => write!(f, "unknown UEID type 0x{t:02x}"),
            Self::RandLength(n) => write!(f, "RAND UEID with {n} random bytes (16, 24 or 32)"),
            Self::EuiLength(n) => write!(f, "EUI of {n} bytes (6 or 8)"),
            Self::EuiGroup => f.write_str("EUI is a group address"),
            Self::EuiLocal => f.write_str("EUI is locally administered"),
            Self::EuiReserved => f.write_str("EUI value is reserved"),
            Self::ImeiDigit => f.write_str("IMEI holds a non-digit"),
            Self::ImeiLength(n) => write!(f, "IMEI of {n} digits (14, or 15 with check digit)"),
            Self::ImeiCheckDigit => f.write_str("IMEI check digit is wrong"),
            Self::WeakSecret => f.write_str("device secret too short"),
            Self::EpochExhausted => f.write_str("SUEID epoch counter exhausted"),
            Self::Core(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for UeidError {}

impl From<iot_core::Error> for UeidError {
    fn from(e: iot_core::Error) -> Self {
        Self::Core(e)
    }
}

/// A validated UEID: type byte and identifier, at most [`MAX_UEID_LEN`] bytes, held inline.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ueid {
    // Bytes past `len` are always zero, so the derived comparisons see only the UEID.
    bytes: [u8; MAX_UEID_LEN],
    len: u8,
}

impl fmt::Debug for Ueid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ueid({})", self.to_hex().as_str())
    }
}

impl Ueid {
    fn from_parts(ty: UeidType, body: &[u8]) -> Self {
        let mut bytes = [0u8; MAX_UEID_LEN];
        let n = body.len().min(MAX_UEID_LEN - 1);
        if let (Some((t, rest)), Some(src)) = (bytes.split_first_mut(), body.get(..n)) {
            *t = ty.byte();
            if let Some(dst) = rest.get_mut(..n) {
                dst.copy_from_slice(src);
            }
        }
        Self {
            bytes,
            len: (n + 1) as u8,
        }
    }

    /// A RAND UEID with `len` bytes from `rng` (RFC 9711 type 0x01).
    pub fn random<R: Rng + ?Sized>(rng: &mut R, len: RandLen) -> Result<Self, UeidError> {
        let mut body = [0u8; 32];
        let part = body.get_mut(..len.bytes()).ok_or(UeidError::Length(0))?;
        rng.fill_random(part)?;
        Ok(Self::from_parts(UeidType::Rand, part))
    }

    /// A RAND UEID derived from a unique device secret (RFC 9711 type 0x01: "constructed by ...
    /// feeding ... through a cryptographic hash function"): HKDF-SHA-256 (RFC 5869) with an empty
    /// salt, IKM = `device_secret`, info = `"iot-identity UEID v1"`, L = `len`. The same secret
    /// gives the same UEID on every boot; the UEID reveals nothing about the secret.
    pub fn derive<K: HkdfSha256 + ?Sized>(
        kdf: &mut K,
        device_secret: &[u8],
        len: RandLen,
    ) -> Result<Self, UeidError> {
        if device_secret.len() < MIN_SECRET_LEN {
            return Err(UeidError::WeakSecret);
        }
        let mut body = Zeroizing::new([0u8; 32]);
        let part = body.get_mut(..len.bytes()).ok_or(UeidError::Length(0))?;
        kdf.hkdf_sha256(&[], device_secret, UEID_INFO, part)?;
        Ok(Self::from_parts(UeidType::Rand, part))
    }

    /// An IEEE EUI-48 UEID (type 0x02), checked by [`check_eui`].
    pub fn eui48(eui: [u8; 6]) -> Result<Self, UeidError> {
        check_eui(&eui)?;
        Ok(Self::from_parts(UeidType::IeeeEui, &eui))
    }

    /// An IEEE EUI-64 UEID (type 0x02), checked by [`check_eui`].
    pub fn eui64(eui: [u8; 8]) -> Result<Self, UeidError> {
        check_eui(&eui)?;
        Ok(Self::from_parts(UeidType::IeeeEui, &eui))
    }

    /// An IMEI UEID (type 0x03) from its decimal form: 14 digits (TAC and serial number), or 15
    /// digits whose last one is the Luhn check digit, which is checked and dropped (RFC 9711:
    /// the encoded IMEI has no check digit or SVN).
    pub fn imei(digits: &str) -> Result<Self, UeidError> {
        let d = digits.as_bytes();
        if d.iter().any(|c| !c.is_ascii_digit()) {
            return Err(UeidError::ImeiDigit);
        }
        let mut body = [0u8; 14];
        match d.len() {
            14 => {}
            15 => {
                if !luhn_ok(d) {
                    return Err(UeidError::ImeiCheckDigit);
                }
            }
            n => return Err(UeidError::ImeiLength(n)),
        }
        for (b, c) in body.iter_mut().zip(d) {
            *b = c - b'0';
        }
        Ok(Self::from_parts(UeidType::Imei, &body))
    }

    /// Parses and validates an encoded UEID (as carried in an EAT `ueid` claim).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, UeidError> {
        if !(MIN_UEID_LEN..=MAX_UEID_LEN).contains(&bytes.len()) {
            return Err(UeidError::Length(bytes.len()));
        }
        let (&t, body) = bytes.split_first().ok_or(UeidError::Length(0))?;
        let ty = UeidType::from_byte(t).ok_or(UeidError::UnknownType(t))?;
        match ty {
            UeidType::Rand => {
                RandLen::from_bytes(body.len()).ok_or(UeidError::RandLength(body.len()))?;
            }
            UeidType::IeeeEui => check_eui(body)?,
            UeidType::Imei => {
                if body.len() != 14 {
                    return Err(UeidError::ImeiLength(body.len()));
                }
                if body.iter().any(|&b| b > 9) {
                    return Err(UeidError::ImeiDigit);
                }
            }
        }
        Ok(Self::from_parts(ty, body))
    }

    /// The encoded UEID: type byte and identifier.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// The UEID's type.
    pub fn ueid_type(&self) -> Option<UeidType> {
        self.bytes.first().and_then(|&b| UeidType::from_byte(b))
    }

    /// The identifier after the type byte.
    pub fn body(&self) -> &[u8] {
        self.as_bytes().get(1..).unwrap_or_default()
    }

    /// The UEID in upper-case hexadecimal (RFC 9711 defines no text form; this one names the
    /// device in certificate subjects).
    pub fn to_hex(&self) -> UeidHex {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let mut buf = [0u8; 2 * MAX_UEID_LEN];
        for (pair, b) in buf.chunks_exact_mut(2).zip(self.as_bytes()) {
            if let [hi, lo] = pair {
                *hi = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
                *lo = HEX.get(usize::from(b & 0xf)).copied().unwrap_or(b'0');
            }
        }
        UeidHex {
            buf,
            len: 2 * self.len,
        }
    }
}

/// The hexadecimal text of a [`Ueid`], held inline.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct UeidHex {
    buf: [u8; 2 * MAX_UEID_LEN],
    len: u8,
}

impl UeidHex {
    /// The text.
    pub fn as_str(&self) -> &str {
        self.buf
            .get(..usize::from(self.len))
            .and_then(|b| core::str::from_utf8(b).ok())
            .unwrap_or_default()
    }
}

impl fmt::Debug for UeidHex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for UeidHex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Checks an IEEE EUI-48 or EUI-64 for use as a device identifier: an individual (not group)
/// address, universally administered or an extended local identifier (the `1010` quadrant
/// assigned under a Company ID), not all zeros or all ones, and for EUI-64 not one of the
/// `FF FE` / `FF FF` values IEEE reserves for encapsulating EUI-48 / MAC-48.
pub fn check_eui(eui: &[u8]) -> Result<(), UeidError> {
    if eui.len() != 6 && eui.len() != 8 {
        return Err(UeidError::EuiLength(eui.len()));
    }
    if eui.iter().all(|&b| b == 0) || eui.iter().all(|&b| b == 0xff) {
        return Err(UeidError::EuiReserved);
    }
    let first = eui.first().copied().unwrap_or_default();
    if first & 0x01 != 0 {
        return Err(UeidError::EuiGroup);
    }
    // U/L bit set: only the ELI quadrant (Z=1, Y=0, X=1, M=0) of a CID is globally unique.
    if first & 0x02 != 0 && first & 0x0f != 0x0a {
        return Err(UeidError::EuiLocal);
    }
    if eui.len() == 8 && eui.get(3) == Some(&0xff) && matches!(eui.get(4), Some(0xfe | 0xff)) {
        return Err(UeidError::EuiReserved);
    }
    Ok(())
}

/// The Luhn check over all digits of `d` (ASCII), the last being the check digit.
fn luhn_ok(d: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, c) in d.iter().rev().enumerate() {
        let mut v = u32::from(c - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

/// The rotation counter of a device's SUEIDs, kept by the caller in persistent storage.
///
/// Advance it ([`SueidEpoch::next`]) on every change of ownership, factory reset or on-boarding
/// (RFC 9711 section 4.2.2), and store the new value before the new SUEIDs are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SueidEpoch(pub u32);

impl SueidEpoch {
    /// The epoch after this one.
    pub fn next(self) -> Result<Self, UeidError> {
        self.0
            .checked_add(1)
            .map(Self)
            .ok_or(UeidError::EpochExhausted)
    }
}

/// A semi-permanent UEID (RFC 9711 section 4.2.2, the `sueids` claim) for `label` in `epoch`:
/// a RAND UEID (type 0x01) of `len` bytes from HKDF-SHA-256 (RFC 5869) with
/// salt = `"iot-identity SUEID v1"`, IKM = `device_secret`,
/// info = `epoch` as 4 big-endian bytes followed by the UTF-8 `label`.
///
/// The same secret, epoch and label give the same SUEID on every boot; advancing the epoch gives
/// an SUEID that nobody without the secret can link to the earlier one. Whoever holds the secret
/// can recompute old SUEIDs: to cut that link too at a factory reset, replace the secret as well.
pub fn derive_sueid<K: HkdfSha256 + ?Sized>(
    kdf: &mut K,
    device_secret: &[u8],
    epoch: SueidEpoch,
    label: &str,
    len: RandLen,
) -> Result<Ueid, UeidError> {
    if device_secret.len() < MIN_SECRET_LEN {
        return Err(UeidError::WeakSecret);
    }
    // info = epoch || label, streamed into a bounded buffer: labels are short text keys.
    let mut info = [0u8; 4 + MAX_SUEID_LABEL_LEN];
    let info_len = 4 + label.len();
    let info = info
        .get_mut(..info_len)
        .ok_or(UeidError::Core(iot_core::Error::CapacityExceeded))?;
    let (e, l) = info.split_at_mut(4);
    e.copy_from_slice(&epoch.0.to_be_bytes());
    l.copy_from_slice(label.as_bytes());
    let mut body = Zeroizing::new([0u8; 32]);
    let part = body.get_mut(..len.bytes()).ok_or(UeidError::Length(0))?;
    kdf.hkdf_sha256(SUEID_SALT, device_secret, info, part)?;
    Ok(Ueid::from_parts(UeidType::Rand, part))
}

/// The longest SUEID label [`derive_sueid`] takes, in bytes.
pub const MAX_SUEID_LABEL_LEN: usize = 64;
