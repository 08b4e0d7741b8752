//! CoAP options (RFC 7252 sections 3.1 and 5.4): numbers, their classes, and the validated
//! iterator over a message's options.

use crate::error::{Error, FormatError, Result};
use core::ops::Range;

/// A CoAP option number (RFC 7252 section 5.4; IANA "CoAP Option Numbers" registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OptionNumber(pub u16);

impl OptionNumber {
    /// If-Match (RFC 7252 section 5.10.8.1).
    pub const IF_MATCH: Self = Self(1);
    /// Uri-Host (RFC 7252 section 5.10.1).
    pub const URI_HOST: Self = Self(3);
    /// ETag (RFC 7252 section 5.10.6).
    pub const ETAG: Self = Self(4);
    /// If-None-Match (RFC 7252 section 5.10.8.2).
    pub const IF_NONE_MATCH: Self = Self(5);
    /// Observe (RFC 7641).
    pub const OBSERVE: Self = Self(6);
    /// Uri-Port (RFC 7252 section 5.10.1).
    pub const URI_PORT: Self = Self(7);
    /// Location-Path (RFC 7252 section 5.10.7).
    pub const LOCATION_PATH: Self = Self(8);
    /// OSCORE (RFC 8613 section 2).
    pub const OSCORE: Self = Self(9);
    /// Uri-Path (RFC 7252 section 5.10.1).
    pub const URI_PATH: Self = Self(11);
    /// Content-Format (RFC 7252 section 5.10.3).
    pub const CONTENT_FORMAT: Self = Self(12);
    /// Max-Age (RFC 7252 section 5.10.5).
    pub const MAX_AGE: Self = Self(14);
    /// Uri-Query (RFC 7252 section 5.10.1).
    pub const URI_QUERY: Self = Self(15);
    /// Hop-Limit (RFC 8768).
    pub const HOP_LIMIT: Self = Self(16);
    /// Accept (RFC 7252 section 5.10.4).
    pub const ACCEPT: Self = Self(17);
    /// Location-Query (RFC 7252 section 5.10.7).
    pub const LOCATION_QUERY: Self = Self(20);
    /// EDHOC (RFC 9668).
    pub const EDHOC: Self = Self(21);
    /// Block2 (RFC 7959).
    pub const BLOCK2: Self = Self(23);
    /// Block1 (RFC 7959).
    pub const BLOCK1: Self = Self(27);
    /// Size2 (RFC 7959).
    pub const SIZE2: Self = Self(28);
    /// Proxy-Uri (RFC 7252 section 5.10.2).
    pub const PROXY_URI: Self = Self(35);
    /// Proxy-Scheme (RFC 7252 section 5.10.2).
    pub const PROXY_SCHEME: Self = Self(39);
    /// Size1 (RFC 7252 section 5.10.9).
    pub const SIZE1: Self = Self(60);
    /// Echo (RFC 9175).
    pub const ECHO: Self = Self(252);
    /// No-Response (RFC 7967).
    pub const NO_RESPONSE: Self = Self(258);
    /// Request-Tag (RFC 9175).
    pub const REQUEST_TAG: Self = Self(292);

    /// Critical: an endpoint that does not understand it must reject the message (odd numbers,
    /// RFC 7252 section 5.4.1).
    pub const fn is_critical(self) -> bool {
        self.0 & 1 == 1
    }

    /// Elective: may be ignored when not understood (even numbers, RFC 7252 section 5.4.1).
    pub const fn is_elective(self) -> bool {
        !self.is_critical()
    }

    /// Unsafe to forward: a proxy that does not understand it must not forward the message
    /// (RFC 7252 section 5.4.2 and 5.4.6).
    pub const fn is_unsafe(self) -> bool {
        self.0 & 2 == 2
    }

    /// Safe to forward (RFC 7252 section 5.4.2).
    pub const fn is_safe_to_forward(self) -> bool {
        !self.is_unsafe()
    }

    /// Safe to forward and not part of the cache key (RFC 7252 section 5.4.6:
    /// `number & 0x1e == 0x1c`).
    pub const fn is_no_cache_key(self) -> bool {
        self.0 & 0x1e == 0x1c
    }
}

/// One option of a message: its number and its value, borrowed from the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoapOption<'a> {
    /// The option number.
    pub number: OptionNumber,
    /// The value bytes.
    pub value: &'a [u8],
}

impl CoapOption<'_> {
    /// The value as a `uint` option (RFC 7252 section 3.2): big-endian, at most 4 bytes.
    pub fn uint(&self) -> Option<u32> {
        if self.value.len() > 4 {
            return None;
        }
        Some(
            self.value
                .iter()
                .fold(0u32, |acc, &b| (acc << 8) | u32::from(b)),
        )
    }

    /// The value as a `string` option (RFC 7252 section 3.2), if it is UTF-8.
    pub fn str(&self) -> Option<&str> {
        core::str::from_utf8(self.value).ok()
    }
}

/// The options of a validated message, in order. Created by [`crate::coap::Message::options`].
#[derive(Debug, Clone)]
pub struct Options<'a> {
    region: &'a [u8],
    pos: usize,
    number: u16,
}

impl<'a> Options<'a> {
    /// An iterator over an options region that [`split_options`] validated.
    pub(crate) fn validated(region: &'a [u8]) -> Self {
        Self {
            region,
            pos: 0,
            number: 0,
        }
    }
}

impl<'a> Iterator for Options<'a> {
    type Item = CoapOption<'a>;

    fn next(&mut self) -> Option<CoapOption<'a>> {
        // The region was validated, so an error here cannot happen; it ends the iteration.
        match parse_at(self.region, self.pos, self.number) {
            Ok((Item::Option { number, value }, next)) => {
                self.pos = next;
                self.number = number;
                Some(CoapOption {
                    number: OptionNumber(number),
                    value: self.region.get(value)?,
                })
            }
            _ => {
                self.pos = self.region.len();
                None
            }
        }
    }
}

impl core::iter::FusedIterator for Options<'_> {}

/// What [`parse_at`] found.
enum Item {
    Option { number: u16, value: Range<usize> },
    PayloadMarker,
    End,
}

/// A fault in an options region: what, and its offset in the bytes parsed.
type Fault = (FormatError, usize);

/// An extended delta or length (RFC 7252 section 3.1): nibbles 13 and 14 take one or two more bytes.
fn extended(
    nibble: u8,
    bytes: &[u8],
    pos: &mut usize,
    reserved: FormatError,
) -> core::result::Result<u32, Fault> {
    let truncated = (FormatError::Truncated, *pos);
    match nibble {
        0..=12 => Ok(u32::from(nibble)),
        13 => {
            let b = *bytes.get(*pos).ok_or(truncated)?;
            *pos += 1;
            Ok(u32::from(b) + 13)
        }
        14 => {
            let b = bytes.get(*pos..*pos + 2).ok_or(truncated)?;
            let v = b.iter().fold(0u32, |acc, &x| (acc << 8) | u32::from(x));
            *pos += 2;
            Ok(v + 269)
        }
        _ => Err((reserved, *pos - 1)),
    }
}

/// Parses the option (or payload marker) at `bytes[pos..]` after option number `prev`. Returns
/// the item and the position after it.
fn parse_at(bytes: &[u8], pos: usize, prev: u16) -> core::result::Result<(Item, usize), Fault> {
    let Some(&head) = bytes.get(pos) else {
        return Ok((Item::End, pos));
    };
    if head == super::PAYLOAD_MARKER {
        return Ok((Item::PayloadMarker, pos + 1));
    }
    let mut at = pos + 1;
    let delta = extended(head >> 4, bytes, &mut at, FormatError::ReservedDelta)?;
    let len = extended(head & 0x0f, bytes, &mut at, FormatError::ReservedLength)? as usize;
    let number = u16::try_from(u32::from(prev) + delta)
        .map_err(|_| (FormatError::OptionNumberOverflow, pos))?;
    let end = at
        .checked_add(len)
        .filter(|&e| e <= bytes.len())
        .ok_or((FormatError::Truncated, at))?;
    Ok((
        Item::Option {
            number,
            value: at..end,
        },
        end,
    ))
}

/// Validates the options of `bytes` (which start right after the token, or after the code in an
/// OSCORE plaintext) and splits off the payload. `base` is the offset of `bytes` in the message.
pub(crate) fn split_options(bytes: &[u8], base: usize) -> Result<(&[u8], Option<&[u8]>)> {
    let mut pos = 0;
    let mut number = 0;
    loop {
        let item = parse_at(bytes, pos, number);
        match item.map_err(|(kind, at)| Error::format(kind, base + at))? {
            (Item::Option { number: n, .. }, next) => {
                number = n;
                pos = next;
            }
            (Item::End, _) => return Ok((bytes, None)),
            (Item::PayloadMarker, next) => {
                let (options, rest) = bytes.split_at_checked(pos).unwrap_or((bytes, &[]));
                let payload = rest.get(1..).unwrap_or_default();
                if payload.is_empty() {
                    return Err(Error::format(FormatError::EmptyPayload, base + next - 1));
                }
                return Ok((options, Some(payload)));
            }
        }
    }
}

/// An option value to be written: borrowed bytes, or bytes still percent-encoded (a Proxy-Uri
/// component, RFC 7252 section 6.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OptionValue<'a> {
    Bytes(&'a [u8]),
    #[cfg(feature = "proxy-uri")]
    PercentEncoded(&'a [u8]),
}

impl OptionValue<'_> {
    /// The length of the value as written.
    pub(crate) fn len(&self) -> usize {
        match self {
            Self::Bytes(b) => b.len(),
            #[cfg(feature = "proxy-uri")]
            Self::PercentEncoded(b) => {
                let escapes = b.iter().filter(|&&c| c == b'%').count();
                b.len().saturating_sub(2 * escapes)
            }
        }
    }

    /// Writes the value into `dst`, which is exactly [`Self::len`] bytes long.
    pub(crate) fn write(&self, dst: &mut [u8]) {
        match self {
            Self::Bytes(b) => {
                if let Some(d) = dst.get_mut(..b.len()) {
                    d.copy_from_slice(b);
                }
            }
            #[cfg(feature = "proxy-uri")]
            Self::PercentEncoded(b) => {
                let mut src = b.iter();
                for d in dst.iter_mut() {
                    *d = match src.next() {
                        Some(b'%') => {
                            let hi = src.next().and_then(|&c| hex_digit(c)).unwrap_or(0);
                            let lo = src.next().and_then(|&c| hex_digit(c)).unwrap_or(0);
                            (hi << 4) | lo
                        }
                        Some(&c) => c,
                        None => 0,
                    };
                }
            }
        }
    }
}

/// The value of an ASCII hex digit.
#[cfg(feature = "proxy-uri")]
pub(crate) fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}
