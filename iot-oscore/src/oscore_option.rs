//! The OSCORE option value (RFC 8613 section 6.1): the compressed COSE_Encrypt0 headers.
//!
//! ```text
//!  0 1 2 3 4 5 6 7 <----- n bytes ----->  <- 1 byte -> <- s bytes ->
//! |0 0 0|h|k|  n  |  Partial IV (if any) | s (if any) | kid context | kid (if any) ...
//! ```

use crate::error::{Error, Result};
use crate::nonce::MAX_PARTIAL_IV_LEN;

const FLAG_H: u8 = 0x10;
const FLAG_K: u8 = 0x08;
const RESERVED: u8 = 0xe0;
const N_MASK: u8 = 0x07;

/// The decoded OSCORE option value, borrowing from the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OscoreOption<'a> {
    /// The Partial IV (flag bits `n`, 1 to 5 bytes).
    pub partial_iv: Option<&'a [u8]>,
    /// The kid context (flag `h`, at most 255 bytes).
    pub kid_context: Option<&'a [u8]>,
    /// The kid (flag `k`), the rest of the value.
    pub kid: Option<&'a [u8]>,
}

impl<'a> OscoreOption<'a> {
    /// Decodes an option value. Reserved flag bits, `n` of 6 or 7, a non-empty value with all flags
    /// zero, truncated fields and bytes after the last field fail with [`Error::BadOscoreOption`].
    pub fn decode(value: &'a [u8]) -> Result<Self> {
        Self::parse(value).ok_or(Error::BadOscoreOption)
    }

    /// [`Self::decode`], with `None` for every fault (one error path).
    fn parse(value: &'a [u8]) -> Option<Self> {
        let Some((&flags, mut rest)) = value.split_first() else {
            return Some(Self::default());
        };
        let n = usize::from(flags & N_MASK);
        if flags & RESERVED != 0 || flags == 0 || n > MAX_PARTIAL_IV_LEN {
            return None;
        }
        fn take<'b>(rest: &mut &'b [u8], len: usize) -> Option<&'b [u8]> {
            let (field, after) = rest.split_at_checked(len)?;
            *rest = after;
            Some(field)
        }
        let partial_iv = if n > 0 {
            Some(take(&mut rest, n)?)
        } else {
            None
        };
        let kid_context = if flags & FLAG_H != 0 {
            let (&s, after) = rest.split_first()?;
            rest = after;
            Some(take(&mut rest, usize::from(s))?)
        } else {
            None
        };
        let kid = if flags & FLAG_K != 0 {
            Some(core::mem::take(&mut rest))
        } else {
            None
        };
        if !rest.is_empty() {
            return None;
        }
        Some(Self {
            partial_iv,
            kid_context,
            kid,
        })
    }

    /// The length of the encoded value (0 when nothing is present).
    pub fn encoded_len(&self) -> usize {
        let fields = self.partial_iv.map_or(0, <[u8]>::len)
            + self.kid_context.map_or(0, |c| 1 + c.len())
            + self.kid.map_or(0, <[u8]>::len);
        if self.partial_iv.is_none() && self.kid_context.is_none() && self.kid.is_none() {
            0
        } else {
            1 + fields
        }
    }

    /// Encodes into `out` and returns the length written (0 when nothing is present). A Partial IV
    /// must be 1 to 5 bytes and a kid context at most 255 bytes ([`Error::ValueTooLong`]
    /// otherwise); [`Error::BufferTooSmall`] when `out` is too short.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize> {
        if *self == Self::default() {
            return Ok(0);
        }
        // One pass: the fields after the flags byte, then the flags (one bounds check per field).
        let (flags_byte, rest) = out.split_first_mut().ok_or(Error::BufferTooSmall)?;
        let mut flags = 0u8;
        let mut at = 0;
        let mut put = |bytes: &[u8]| -> Result<()> {
            let end = at + bytes.len();
            rest.get_mut(at..end)
                .ok_or(Error::BufferTooSmall)?
                .copy_from_slice(bytes);
            at = end;
            Ok(())
        };
        if let Some(piv) = self.partial_iv {
            if piv.is_empty() || piv.len() > MAX_PARTIAL_IV_LEN {
                return Err(Error::ValueTooLong);
            }
            flags |= piv.len() as u8;
            put(piv)?;
        }
        if let Some(ctx) = self.kid_context {
            let s = u8::try_from(ctx.len()).map_err(|_| Error::ValueTooLong)?;
            flags |= FLAG_H;
            put(&[s])?;
            put(ctx)?;
        }
        if let Some(kid) = self.kid {
            flags |= FLAG_K;
            put(kid)?;
        }
        *flags_byte = flags;
        Ok(1 + at)
    }
}
