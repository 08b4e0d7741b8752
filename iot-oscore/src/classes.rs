//! How OSCORE protects each CoAP option (RFC 8613 section 4.1, figure 5): Class E (encrypted and
//! integrity protected, "Inner"), Class U (unprotected, "Outer") or both; Class I has no options yet.

use crate::coap::OptionNumber;

/// The protection classes of an option (RFC 8613 section 4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtectionClass {
    /// Class E only: Inner.
    Inner,
    /// Class U only: Outer, visible to proxies.
    Outer,
    /// Both an Inner and an Outer instance may exist (Observe, Max-Age, the Block and Size
    /// options, No-Response, Echo, Request-Tag); they are processed independently.
    Both,
}

impl ProtectionClass {
    /// The class of option `number`. Unknown options are Class E (RFC 8613 section 4.1).
    pub const fn of(number: OptionNumber) -> Self {
        match number {
            OptionNumber::URI_HOST
            | OptionNumber::URI_PORT
            | OptionNumber::OSCORE
            | OptionNumber::HOP_LIMIT
            | OptionNumber::EDHOC
            | OptionNumber::PROXY_URI
            | OptionNumber::PROXY_SCHEME => Self::Outer,
            OptionNumber::OBSERVE
            | OptionNumber::MAX_AGE
            | OptionNumber::BLOCK2
            | OptionNumber::BLOCK1
            | OptionNumber::SIZE2
            | OptionNumber::SIZE1
            | OptionNumber::ECHO
            | OptionNumber::NO_RESPONSE
            | OptionNumber::REQUEST_TAG => Self::Both,
            _ => Self::Inner,
        }
    }

    /// May be Class E: a receiver discards such options from the outer message (RFC 8613
    /// sections 8.2 and 8.4, step 1).
    pub const fn may_be_inner(self) -> bool {
        matches!(self, Self::Inner | Self::Both)
    }
}

/// Whether a sender puts option `number` of the original message into the plaintext. Everything
/// that may be Class E goes inside: an Outer Block or Max-Age is a proxy's or an error response's
/// business (RFC 8613 sections 4.1.3.1 and 4.1.3.4), not part of a protected message.
pub(crate) const fn inner_on_send(number: OptionNumber) -> bool {
    ProtectionClass::of(number).may_be_inner()
}

/// Whether a sender also writes option `number` of the original message in the outer message:
/// Class U options, and Observe, whose Outer copy lets proxies forward notifications
/// (RFC 8613 section 4.1.3.5).
pub(crate) const fn outer_on_send(number: OptionNumber) -> bool {
    matches!(ProtectionClass::of(number), ProtectionClass::Outer)
        || number.0 == OptionNumber::OBSERVE.0
}

/// Whether a receiver keeps outer option `number` in the verified message: Class U only, without
/// the OSCORE option itself (RFC 8613 section 8.2 steps 1 and 7).
pub(crate) const fn kept_on_receive(number: OptionNumber) -> bool {
    matches!(ProtectionClass::of(number), ProtectionClass::Outer)
        && number.0 != OptionNumber::OSCORE.0
}
