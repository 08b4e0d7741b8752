//! The CoAP codec (RFC 7252 section 3): decoding, writing, option classes, and a typed error for
//! every kind of malformed message.
// Helpers outside #[test] functions may unwrap and panic too: a failing test is the point.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use iot_oscore::coap::{Code, Message, MessageType, MessageWriter, OptionNumber, OptionsWriter};
use iot_oscore::{Error, FormatError};
use proptest::prelude::*;

fn fmt_err(bytes: &[u8]) -> (FormatError, u16) {
    match Message::decode(bytes) {
        Err(Error::Format { kind, offset }) => (kind, offset),
        other => panic!("{bytes:02x?}: expected a format error, got {other:?}"),
    }
}

#[test]
fn decodes_rfc8613_c4_request() {
    let bytes = hex::decode("44015d1f00003974396c6f63616c686f737483747631").unwrap();
    let m = Message::decode(&bytes).unwrap();
    assert_eq!(m.message_type(), MessageType::Confirmable);
    assert_eq!(m.code(), Code::GET);
    assert_eq!(m.code().to_string(), "0.01");
    assert_eq!(m.message_id(), 0x5d1f);
    assert_eq!(m.token(), [0, 0, 0x39, 0x74]);
    let opts: Vec<_> = m.options().map(|o| (o.number, o.value)).collect();
    assert_eq!(
        opts,
        [
            (OptionNumber::URI_HOST, &b"localhost"[..]),
            (OptionNumber::URI_PATH, &b"tv1"[..])
        ]
    );
    assert_eq!(m.payload(), b"");
}

#[test]
fn malformed_messages_get_typed_errors() {
    // Truncated: header, token, extended delta, extended length, value.
    assert_eq!(fmt_err(&[0x40, 0x01, 0x00]), (FormatError::Truncated, 3));
    assert_eq!(fmt_err(&[0x42, 0x01, 0, 0, 0xaa]).0, FormatError::Truncated);
    assert_eq!(fmt_err(&[0x40, 0x01, 0, 0, 0xd0]).0, FormatError::Truncated);
    assert_eq!(
        fmt_err(&[0x40, 0x01, 0, 0, 0xe0, 0x01]).0,
        FormatError::Truncated
    );
    assert_eq!(fmt_err(&[0x40, 0x01, 0, 0, 0x0d]).0, FormatError::Truncated);
    assert_eq!(
        fmt_err(&[0x40, 0x01, 0, 0, 0x13, b'a', b'b']),
        (FormatError::Truncated, 5)
    );
    // Version other than 1.
    assert_eq!(fmt_err(&[0x00, 0x01, 0, 0]), (FormatError::Version, 0));
    assert_eq!(fmt_err(&[0x80, 0x01, 0, 0]).0, FormatError::Version);
    // Token lengths 9 to 15 are reserved.
    for tkl in 9..=15u8 {
        let mut m = vec![0x40 | tkl, 0x01, 0, 0];
        m.extend_from_slice(&[0u8; 15]);
        assert_eq!(fmt_err(&m), (FormatError::TokenLength, 0));
    }
    // Delta nibble 15 outside the payload marker, length nibble 15.
    for b in 0xf0..=0xfeu8 {
        assert_eq!(
            fmt_err(&[0x40, 0x01, 0, 0, b, 0, 0, 0]),
            (FormatError::ReservedDelta, 4)
        );
    }
    assert_eq!(
        fmt_err(&[0x40, 0x01, 0, 0, 0x1f, 0, 0]),
        (FormatError::ReservedLength, 4)
    );
    // A payload marker with nothing after it.
    assert_eq!(
        fmt_err(&[0x40, 0x01, 0, 0, 0xff]),
        (FormatError::EmptyPayload, 4)
    );
    assert_eq!(
        fmt_err(&[0x41, 0x01, 0, 0, 7, 0xb1, b'a', 0xff]),
        (FormatError::EmptyPayload, 7)
    );
    // Option numbers beyond 65535.
    assert_eq!(
        fmt_err(&[0x40, 0x01, 0, 0, 0xe0, 0xff, 0xff]),
        (FormatError::OptionNumberOverflow, 4)
    );
    assert_eq!(
        fmt_err(&[0x40, 0x01, 0, 0, 0xe0, 0xfe, 0xf2, 0x10]),
        (FormatError::OptionNumberOverflow, 7)
    );
    // An Empty message with anything after the header.
    assert_eq!(
        fmt_err(&[0x41, 0x00, 0, 0, 9]),
        (FormatError::EmptyMessageNotEmpty, 4)
    );
    assert_eq!(
        fmt_err(&[0x60, 0x00, 0, 0, 0xff, 1]),
        (FormatError::EmptyMessageNotEmpty, 4)
    );
    // The largest option number is fine; so is an empty ACK.
    Message::decode(&[0x40, 0x01, 0, 0, 0xe0, 0xfe, 0xf2]).unwrap();
    Message::decode(&[0x60, 0x00, 0x12, 0x34]).unwrap();
}

#[test]
fn refuses_messages_longer_than_a_datagram() {
    // The longest message decodes (a payload of 65,530 bytes); one more byte is refused, as the
    // offsets of format errors count to 65,535.
    let mut bytes = vec![0x40, 0x02, 0, 1, 0xff];
    bytes.resize(iot_oscore::coap::MAX_MESSAGE_LEN, 7);
    assert_eq!(Message::decode(&bytes).unwrap().payload().len(), 65_530);
    bytes.push(7);
    assert_eq!(fmt_err(&bytes), (FormatError::TooLong, 65_535));
}

#[test]
fn writer_checks_order_token_and_space() {
    let mut buf = [0u8; 32];
    let mut w =
        MessageWriter::new(&mut buf, MessageType::NonConfirmable, Code::POST, 1, b"t").unwrap();
    w.option(OptionNumber::URI_PATH, b"a").unwrap();
    w.option(OptionNumber::URI_PATH, b"b").unwrap();
    assert_eq!(
        w.option(OptionNumber::URI_HOST, b"h"),
        Err(Error::OptionOutOfOrder { number: 3 })
    );
    assert_eq!(
        MessageWriter::new(
            &mut [0u8; 32],
            MessageType::Confirmable,
            Code::GET,
            1,
            &[0; 9]
        )
        .err(),
        Some(Error::ValueTooLong)
    );
    let mut small = [0u8; 6];
    let mut w =
        MessageWriter::new(&mut small, MessageType::Confirmable, Code::GET, 1, &[]).unwrap();
    assert_eq!(
        w.option(OptionNumber::URI_PATH, b"abc"),
        Err(Error::BufferTooSmall)
    );
    let w = MessageWriter::new(&mut small, MessageType::Confirmable, Code::GET, 1, &[]).unwrap();
    assert_eq!(w.payload(b"xyz"), Err(Error::BufferTooSmall));
    let mut ow = OptionsWriter::new(&mut buf);
    ow.option_uint(OptionNumber::CONTENT_FORMAT, 0).unwrap();
    ow.option_uint(OptionNumber::MAX_AGE, 0x1_0000).unwrap();
    assert_eq!(ow.written(), [0xc0, 0x23, 1, 0, 0]);
}

#[test]
fn extended_deltas_and_lengths() {
    for (number, len) in [
        (12u16, 12usize),
        (13, 13),
        (268, 268),
        (269, 269),
        (270, 1000),
        (65535, 65535 + 269),
    ] {
        let value = vec![0x5a; len];
        let mut buf = vec![0u8; len + 16];
        let mut w =
            MessageWriter::new(&mut buf, MessageType::Confirmable, Code::PUT, 7, b"").unwrap();
        w.option(OptionNumber(number), &value).unwrap();
        let n = w.payload(b"p").unwrap();
        if n > iot_oscore::coap::MAX_MESSAGE_LEN {
            // The largest option fits the encoding but no message a datagram carries: its head
            // is written all the same (delta 65535 - 269, length 65535), the message is refused.
            assert_eq!(buf[4..9], [0xee, 0xfe, 0xf2, 0xff, 0xff]);
            assert_eq!(
                Message::decode(&buf[..n]),
                Err(Error::Format {
                    kind: FormatError::TooLong,
                    offset: 65535
                })
            );
            continue;
        }
        let m = Message::decode(&buf[..n]).unwrap();
        let o: Vec<_> = m.options().collect();
        assert_eq!(o.len(), 1);
        assert_eq!((o[0].number, o[0].value.len()), (OptionNumber(number), len));
        assert_eq!(m.payload(), b"p");
    }
    let mut buf = vec![0u8; 70_000];
    let mut w = MessageWriter::new(&mut buf, MessageType::Confirmable, Code::PUT, 7, b"").unwrap();
    assert_eq!(
        w.option(OptionNumber(1), &vec![0; 65535 + 270]),
        Err(Error::ValueTooLong)
    );
}

#[test]
fn option_classes() {
    use OptionNumber as N;
    // (number, critical, unsafe, no-cache-key) from RFC 7252 table 4 and its successors.
    for (n, critical, unsafe_, nocachekey) in [
        (N::IF_MATCH, true, false, false),
        (N::URI_HOST, true, true, false),
        (N::ETAG, false, false, false),
        (N::OBSERVE, false, true, false),
        (N::URI_PORT, true, true, false),
        (N::OSCORE, true, false, false),
        (N::URI_PATH, true, true, false),
        (N::MAX_AGE, false, true, false),
        (N::ACCEPT, true, false, false),
        (N::BLOCK2, true, true, false),
        (N::SIZE2, false, false, true),
        (N::PROXY_URI, true, true, false),
        (N::SIZE1, false, false, true),
        (N::NO_RESPONSE, false, true, false),
        (N::ECHO, false, false, true),
        (N::REQUEST_TAG, false, false, false),
    ] {
        assert_eq!(n.is_critical(), critical, "{n:?}");
        assert_eq!(n.is_elective(), !critical, "{n:?}");
        assert_eq!(n.is_unsafe(), unsafe_, "{n:?}");
        assert_eq!(n.is_safe_to_forward(), !unsafe_, "{n:?}");
        assert_eq!(n.is_no_cache_key(), nocachekey, "{n:?}");
    }
}

#[test]
fn codes() {
    assert!(Code::GET.is_request() && !Code::GET.is_response());
    assert!(Code::CONTENT.is_response() && Code::UNAUTHORIZED.is_response());
    assert!(!Code::EMPTY.is_request() && Code::EMPTY.is_empty());
    assert!(!Code::new(7, 1).is_response() && !Code::new(3, 0).is_response());
    assert_eq!(Code::BAD_OPTION.to_string(), "4.02");
    assert_eq!(Code::new(2, 31).0, 0x5f);
}

type Opts = Vec<(u16, Vec<u8>)>;

fn message() -> impl Strategy<Value = (u8, u8, u16, Vec<u8>, Opts, Vec<u8>)> {
    (
        0u8..4,
        1u8..=255,
        any::<u16>(),
        prop::collection::vec(any::<u8>(), 0..=8),
        prop::collection::vec(
            (0u16..2000, prop::collection::vec(any::<u8>(), 0..300)),
            0..8,
        ),
        prop::collection::vec(any::<u8>(), 0..64),
    )
}

proptest! {
    /// What the writer writes, the decoder reads back.
    #[test]
    fn write_then_decode((t, code, mid, token, mut opts, payload) in message()) {
        opts.sort_by_key(|o| o.0);
        let mut buf = vec![0u8; 4000];
        let mut w = MessageWriter::new(&mut buf, MessageType::from_bits(t), Code(code), mid, &token).unwrap();
        for (n, v) in &opts {
            w.option(OptionNumber(*n), v).unwrap();
        }
        let len = w.payload(&payload).unwrap();
        let m = Message::decode(&buf[..len]).unwrap();
        prop_assert_eq!(m.message_type().bits(), t);
        prop_assert_eq!(m.code(), Code(code));
        prop_assert_eq!(m.message_id(), mid);
        prop_assert_eq!(m.token(), &token[..]);
        let got: Opts = m.options().map(|o| (o.number.0, o.value.to_vec())).collect();
        prop_assert_eq!(got, opts);
        prop_assert_eq!(m.payload(), &payload[..]);
    }

    /// Arbitrary bytes never panic the decoder, and whatever decodes is re-encoded to the same
    /// bytes (the option encoding of RFC 7252 section 3.1 is canonical).
    #[test]
    fn decode_arbitrary(bytes in prop::collection::vec(any::<u8>(), 0..80), prefix in 0usize..3) {
        // Half the inputs start with a valid header so that options get exercised.
        let mut input = bytes.clone();
        if prefix > 0 && input.len() > 4 {
            input[0] = 0x40 | (input[0] & 0x37);
            input[1] |= 1;
        }
        if let Ok(m) = Message::decode(&input) {
            let mut buf = vec![0u8; 200];
            let mut w = MessageWriter::new(&mut buf, m.message_type(), m.code(), m.message_id(), m.token()).unwrap();
            for o in m.options() {
                w.option(o.number, o.value).unwrap();
            }
            let len = w.payload(m.payload()).unwrap();
            prop_assert_eq!(&buf[..len], &input[..]);
        }
    }
}
