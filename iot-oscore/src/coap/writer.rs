//! Writing CoAP messages and option sequences into the caller's buffer (RFC 7252 section 3).

use super::option::{OptionNumber, OptionValue};
use super::{Code, MAX_TOKEN_LEN, MessageType, PAYLOAD_MARKER, VERSION};
use crate::error::{Error, Result};

/// The largest option value length the encoding can express: 65535 + 269.
const MAX_OPTION_LEN: usize = 65535 + 269;

/// Writes a sequence of options (RFC 7252 section 3.1), each number at least the previous one,
/// into a buffer. [`MessageWriter`] uses it after the header; OSCORE uses it for the plaintext.
#[derive(Debug)]
pub struct OptionsWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
    last: u16,
}

/// How many extension bytes an option delta or length takes (RFC 7252 section 3.1).
fn extension_len(v: usize) -> usize {
    match v {
        0..=12 => 0,
        13..=268 => 1,
        _ => 2,
    }
}

/// Writes the extension bytes of delta or length `v` into `ext` (exactly
/// [`extension_len`]`(v)` bytes) and returns its nibble.
fn extension(v: usize, ext: &mut [u8]) -> u8 {
    match v {
        0..=12 => v as u8,
        13..=268 => {
            if let Some(b) = ext.first_mut() {
                *b = (v - 13) as u8;
            }
            13
        }
        _ => {
            for (d, s) in ext.iter_mut().zip(((v - 269) as u16).to_be_bytes()) {
                *d = s;
            }
            14
        }
    }
}

impl<'a> OptionsWriter<'a> {
    /// A writer that fills `buf` from its start.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self {
            buf,
            len: 0,
            last: 0,
        }
    }

    /// Bytes of the buffer used so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// `true` when nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes written so far.
    pub fn written(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// Appends raw bytes.
    pub(crate) fn raw(&mut self, bytes: &[u8]) -> Result<()> {
        let end = self.len + bytes.len();
        self.buf
            .get_mut(self.len..end)
            .ok_or(Error::BufferTooSmall)?
            .copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }

    /// Appends the payload marker and `payload`, unless it is empty (RFC 7252 section 3).
    pub(crate) fn payload(&mut self, payload: &[u8]) -> Result<()> {
        if payload.is_empty() {
            return Ok(());
        }
        let end = self.len + 1 + payload.len();
        let (marker, dst) = self
            .buf
            .get_mut(self.len..end)
            .and_then(|d| d.split_first_mut())
            .ok_or(Error::BufferTooSmall)?;
        *marker = PAYLOAD_MARKER;
        dst.copy_from_slice(payload);
        self.len = end;
        Ok(())
    }

    /// Appends one byte.
    pub(crate) fn byte(&mut self, b: u8) -> Result<()> {
        *self.buf.get_mut(self.len).ok_or(Error::BufferTooSmall)? = b;
        self.len += 1;
        Ok(())
    }

    /// Appends option `number` with `value`; fails with [`Error::OptionOutOfOrder`] when `number`
    /// is smaller than the previous option's.
    pub fn option(&mut self, number: OptionNumber, value: &[u8]) -> Result<()> {
        self.value(number, OptionValue::Bytes(value))
    }

    /// Appends a `uint` option in its shortest form (RFC 7252 section 3.2).
    pub fn option_uint(&mut self, number: OptionNumber, value: u32) -> Result<()> {
        let bytes = value.to_be_bytes();
        let len = (4 - value.leading_zeros() / 8) as usize;
        self.option(number, bytes.get(4 - len..).unwrap_or_default())
    }

    /// Appends an option whose value is produced by `value`.
    pub(crate) fn value(&mut self, number: OptionNumber, value: OptionValue<'_>) -> Result<()> {
        if number.0 < self.last {
            return Err(Error::OptionOutOfOrder { number: number.0 });
        }
        let vlen = value.len();
        if vlen > MAX_OPTION_LEN {
            return Err(Error::ValueTooLong);
        }
        let delta = usize::from(number.0 - self.last);
        let (dxl, lxl) = (extension_len(delta), extension_len(vlen));
        // The head (nibbles, extended delta, extended length) and the value, bounds-checked once.
        let end = self.len + 1 + dxl + lxl + vlen;
        let dst = self
            .buf
            .get_mut(self.len..end)
            .ok_or(Error::BufferTooSmall)?;
        let Some((first, dst)) = dst.split_first_mut() else {
            return Err(Error::BufferTooSmall);
        };
        let (dx, dst) = dst.split_at_mut(dxl);
        let (lx, dst) = dst.split_at_mut(lxl);
        *first = (extension(delta, dx) << 4) | extension(vlen, lx);
        value.write(dst);
        self.len = end;
        self.last = number.0;
        Ok(())
    }

    /// The unused rest of the buffer.
    pub(crate) fn rest(&mut self) -> &mut [u8] {
        self.buf.get_mut(self.len..).unwrap_or_default()
    }

    /// Marks `n` more bytes (written through [`Self::rest`]) as used.
    pub(crate) fn advance(&mut self, n: usize) -> Result<()> {
        let end = self.len + n;
        if end > self.buf.len() {
            return Err(Error::BufferTooSmall);
        }
        self.len = end;
        Ok(())
    }
}

/// Writes one CoAP message: the header and token first, then options in order, then the payload.
///
/// ```
/// use iot_oscore::coap::{Code, Message, MessageType, MessageWriter, OptionNumber};
/// let mut buf = [0u8; 64];
/// let mut w = MessageWriter::new(&mut buf, MessageType::Confirmable, Code::GET, 0x1234, b"tk")?;
/// w.option(OptionNumber::URI_PATH, b"temp")?;
/// let len = w.finish();
/// let msg = Message::decode(&buf[..len])?;
/// assert_eq!(msg.option(OptionNumber::URI_PATH).unwrap().value, b"temp");
/// # Ok::<(), iot_oscore::Error>(())
/// ```
#[derive(Debug)]
pub struct MessageWriter<'a> {
    w: OptionsWriter<'a>,
}

impl<'a> MessageWriter<'a> {
    /// Starts a message in `buf` with its header and token (at most 8 bytes).
    pub fn new(
        buf: &'a mut [u8],
        message_type: MessageType,
        code: Code,
        message_id: u16,
        token: &[u8],
    ) -> Result<Self> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(Error::ValueTooLong);
        }
        let mut w = OptionsWriter::new(buf);
        let [id_hi, id_lo] = message_id.to_be_bytes();
        w.raw(&[
            (VERSION << 6) | (message_type.bits() << 4) | token.len() as u8,
            code.0,
            id_hi,
            id_lo,
        ])?;
        w.raw(token)?;
        Ok(Self { w })
    }

    /// Appends option `number`; numbers must not decrease ([`Error::OptionOutOfOrder`]).
    pub fn option(&mut self, number: OptionNumber, value: &[u8]) -> Result<()> {
        self.w.option(number, value)
    }

    /// Appends a `uint` option in its shortest form.
    pub fn option_uint(&mut self, number: OptionNumber, value: u32) -> Result<()> {
        self.w.option_uint(number, value)
    }

    /// Finishes without a payload and returns the message length.
    pub fn finish(self) -> usize {
        self.w.len()
    }

    /// Appends the payload (with its marker, unless it is empty) and returns the message length.
    pub fn payload(mut self, payload: &[u8]) -> Result<usize> {
        self.w.payload(payload)?;
        Ok(self.w.len())
    }

    /// Writes the payload marker, lets `fill` write the payload into the rest of the buffer and
    /// return its length, and returns the message length (without the marker if `fill` wrote nothing).
    pub fn payload_with(mut self, fill: impl FnOnce(&mut [u8]) -> Result<usize>) -> Result<usize> {
        self.w.byte(PAYLOAD_MARKER)?;
        let n = fill(self.w.rest())?;
        if n == 0 {
            return Ok(self.w.len() - 1);
        }
        self.w.advance(n)?;
        Ok(self.w.len())
    }
}
