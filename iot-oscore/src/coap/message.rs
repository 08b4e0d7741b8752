//! A borrowed view of one CoAP message (RFC 7252 section 3), validated when decoded.

use super::option::{CoapOption, OptionNumber, Options, split_options};
use super::{Code, MAX_MESSAGE_LEN, MAX_TOKEN_LEN, MessageType, VERSION};
use crate::error::{Error, FormatError, Result};
use core::ops::Range;

/// A CoAP message over UDP, borrowing from its bytes (RFC 7252 section 3).
///
/// [`Message::decode`] checks the whole message (header, token, every option, the payload marker),
/// so the accessors and the [`Options`] iterator never fail afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    bytes: &'a [u8],
    options: &'a [u8],
    payload: &'a [u8],
}

/// Length of the fixed header.
const HEADER_LEN: usize = 4;

impl<'a> Message<'a> {
    /// Decodes and validates `bytes`, which hold exactly one message (a UDP datagram, at most
    /// [`MAX_MESSAGE_LEN`] bytes: [`FormatError::TooLong`] otherwise).
    pub fn decode(bytes: &'a [u8]) -> Result<Self> {
        if bytes.len() > MAX_MESSAGE_LEN {
            return Err(Error::format(FormatError::TooLong, MAX_MESSAGE_LEN));
        }
        let Some((header, rest)) = bytes.split_first_chunk::<HEADER_LEN>() else {
            return Err(Error::format(FormatError::Truncated, bytes.len()));
        };
        if header[0] >> 6 != VERSION {
            return Err(Error::format(FormatError::Version, 0));
        }
        let tkl = usize::from(header[0] & 0x0f);
        if tkl > MAX_TOKEN_LEN {
            return Err(Error::format(FormatError::TokenLength, 0));
        }
        if tkl > rest.len() {
            return Err(Error::format(FormatError::Truncated, bytes.len()));
        }
        if header[1] == 0 && bytes.len() > HEADER_LEN {
            return Err(Error::format(FormatError::EmptyMessageNotEmpty, HEADER_LEN));
        }
        let after_token = rest.get(tkl..).unwrap_or_default();
        let (options, payload) = split_options(after_token, HEADER_LEN + tkl)?;
        Ok(Self {
            bytes,
            options,
            payload: payload.unwrap_or_default(),
        })
    }

    /// The whole message.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    fn header(&self) -> [u8; HEADER_LEN] {
        self.bytes
            .first_chunk::<HEADER_LEN>()
            .copied()
            .unwrap_or_default()
    }

    /// The message type.
    pub fn message_type(&self) -> MessageType {
        MessageType::from_bits(self.header()[0] >> 4)
    }

    /// The code.
    pub fn code(&self) -> Code {
        Code(self.header()[1])
    }

    /// The message ID.
    pub fn message_id(&self) -> u16 {
        let h = self.header();
        u16::from_be_bytes([h[2], h[3]])
    }

    /// The token (0 to 8 bytes).
    pub fn token(&self) -> &'a [u8] {
        self.bytes.get(self.token_range()).unwrap_or_default()
    }

    /// Byte range of the token within [`Self::as_bytes`].
    pub(crate) fn token_range(&self) -> Range<usize> {
        HEADER_LEN..HEADER_LEN + usize::from(self.header()[0] & 0x0f)
    }

    /// Byte range of the options within [`Self::as_bytes`].
    pub(crate) fn options_range(&self) -> Range<usize> {
        let start = self.token_range().end;
        start..start + self.options.len()
    }

    /// The options, in order.
    pub fn options(&self) -> Options<'a> {
        Options::validated(self.options)
    }

    /// The first option with `number`, if any.
    pub fn option(&self, number: OptionNumber) -> Option<CoapOption<'a>> {
        // Options come in order, so the search ends at the first larger number.
        self.options()
            .take_while(|o| o.number <= number)
            .find(|o| o.number == number)
    }

    /// The payload (empty when there is no payload marker).
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// Byte range of the payload within [`Self::as_bytes`] (empty at the end when there is none).
    pub(crate) fn payload_range(&self) -> Range<usize> {
        let end = self.bytes.len();
        end - self.payload.len()..end
    }
}
