//! CoAP messages over UDP (RFC 7252 section 3) without allocation: a borrowed [`Message`] view
//! that validates on decode, and a [`MessageWriter`] into the caller's buffer.

mod message;
mod option;
mod writer;

pub use message::Message;
pub use option::{CoapOption, OptionNumber, Options};
pub use writer::{MessageWriter, OptionsWriter};

#[cfg(feature = "proxy-uri")]
pub(crate) use option::hex_digit;
pub(crate) use option::{OptionValue, split_options};

use core::fmt;

/// The CoAP protocol version this codec speaks (RFC 7252 section 3).
pub const VERSION: u8 = 1;
/// The longest token (RFC 7252 section 3; lengths 9-15 are reserved).
pub const MAX_TOKEN_LEN: usize = 8;
/// The longest message [`Message::decode`] accepts: more than a UDP datagram carries (65,507
/// bytes over IPv4; RFC 7252 section 4.6 advises far less).
pub const MAX_MESSAGE_LEN: usize = u16::MAX as usize;
/// The payload marker (RFC 7252 section 3).
pub const PAYLOAD_MARKER: u8 = 0xff;

/// The message type (RFC 7252 section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// Confirmable (0).
    Confirmable,
    /// Non-confirmable (1).
    NonConfirmable,
    /// Acknowledgement (2).
    Acknowledgement,
    /// Reset (3).
    Reset,
}

impl MessageType {
    /// The two-bit field value.
    pub const fn bits(self) -> u8 {
        match self {
            Self::Confirmable => 0,
            Self::NonConfirmable => 1,
            Self::Acknowledgement => 2,
            Self::Reset => 3,
        }
    }

    /// The type of a two-bit field value (only the low two bits are used).
    pub const fn from_bits(bits: u8) -> Self {
        match bits & 3 {
            0 => Self::Confirmable,
            1 => Self::NonConfirmable,
            2 => Self::Acknowledgement,
            _ => Self::Reset,
        }
    }
}

/// A message code `c.dd` (RFC 7252 sections 3 and 12.1): a 3-bit class and a 5-bit detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Code(pub u8);

impl Code {
    /// 0.00 Empty message.
    pub const EMPTY: Self = Self::new(0, 0);
    /// 0.01 GET.
    pub const GET: Self = Self::new(0, 1);
    /// 0.02 POST.
    pub const POST: Self = Self::new(0, 2);
    /// 0.03 PUT.
    pub const PUT: Self = Self::new(0, 3);
    /// 0.04 DELETE.
    pub const DELETE: Self = Self::new(0, 4);
    /// 0.05 FETCH (RFC 8132).
    pub const FETCH: Self = Self::new(0, 5);
    /// 0.06 PATCH (RFC 8132).
    pub const PATCH: Self = Self::new(0, 6);
    /// 0.07 iPATCH (RFC 8132).
    pub const IPATCH: Self = Self::new(0, 7);
    /// 2.01 Created.
    pub const CREATED: Self = Self::new(2, 1);
    /// 2.02 Deleted.
    pub const DELETED: Self = Self::new(2, 2);
    /// 2.03 Valid.
    pub const VALID: Self = Self::new(2, 3);
    /// 2.04 Changed.
    pub const CHANGED: Self = Self::new(2, 4);
    /// 2.05 Content.
    pub const CONTENT: Self = Self::new(2, 5);
    /// 2.31 Continue (RFC 7959).
    pub const CONTINUE: Self = Self::new(2, 31);
    /// 4.00 Bad Request.
    pub const BAD_REQUEST: Self = Self::new(4, 0);
    /// 4.01 Unauthorized.
    pub const UNAUTHORIZED: Self = Self::new(4, 1);
    /// 4.02 Bad Option.
    pub const BAD_OPTION: Self = Self::new(4, 2);
    /// 4.03 Forbidden.
    pub const FORBIDDEN: Self = Self::new(4, 3);
    /// 4.04 Not Found.
    pub const NOT_FOUND: Self = Self::new(4, 4);
    /// 4.05 Method Not Allowed.
    pub const METHOD_NOT_ALLOWED: Self = Self::new(4, 5);
    /// 4.06 Not Acceptable.
    pub const NOT_ACCEPTABLE: Self = Self::new(4, 6);
    /// 4.08 Request Entity Incomplete (RFC 7959).
    pub const REQUEST_ENTITY_INCOMPLETE: Self = Self::new(4, 8);
    /// 4.12 Precondition Failed.
    pub const PRECONDITION_FAILED: Self = Self::new(4, 12);
    /// 4.13 Request Entity Too Large.
    pub const REQUEST_ENTITY_TOO_LARGE: Self = Self::new(4, 13);
    /// 4.15 Unsupported Content-Format.
    pub const UNSUPPORTED_CONTENT_FORMAT: Self = Self::new(4, 15);
    /// 5.00 Internal Server Error.
    pub const INTERNAL_SERVER_ERROR: Self = Self::new(5, 0);
    /// 5.01 Not Implemented.
    pub const NOT_IMPLEMENTED: Self = Self::new(5, 1);
    /// 5.03 Service Unavailable.
    pub const SERVICE_UNAVAILABLE: Self = Self::new(5, 3);
    /// 5.04 Gateway Timeout.
    pub const GATEWAY_TIMEOUT: Self = Self::new(5, 4);

    /// The code `class.detail` (class 0-7, detail 0-31; higher bits are dropped).
    pub const fn new(class: u8, detail: u8) -> Self {
        Self(((class & 7) << 5) | (detail & 31))
    }

    /// The class (0 request, 2 success, 4 client error, 5 server error, 7 signaling).
    pub const fn class(self) -> u8 {
        self.0 >> 5
    }

    /// The detail.
    pub const fn detail(self) -> u8 {
        self.0 & 31
    }

    /// 0.00, the Empty message (RFC 7252 section 4.1).
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// A request method: class 0, detail 1-31.
    pub const fn is_request(self) -> bool {
        self.class() == 0 && self.detail() != 0
    }

    /// A response: class 2, 4 or 5 (RFC 7252 section 12.1.2).
    pub const fn is_response(self) -> bool {
        matches!(self.class(), 2 | 4 | 5)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.class(), self.detail())
    }
}
