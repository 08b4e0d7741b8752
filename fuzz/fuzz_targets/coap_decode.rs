//! CoAP message decoding (RFC 7252 section 3): decode arbitrary bytes; where that succeeds, read
//! every accessor and option, check that writing the message back gives the same bytes (the
//! option encoding is unique), and decode every OSCORE option value (RFC 8613 section 6.1) and
//! check that it encodes back to itself.
#![no_main]

use iot_oscore::coap::{Message, MessageWriter, OptionNumber};
use iot_oscore::oscore_option::OscoreOption;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = Message::decode(data) else {
        return;
    };
    assert!(msg.token().len() <= 8);
    let code = msg.code();
    let _ = (
        code.class(),
        code.detail(),
        code.is_request(),
        code.is_response(),
    );
    let _ = (msg.message_type(), msg.message_id(), msg.payload());

    let mut out = vec![0u8; data.len()];
    let mut w = MessageWriter::new(
        &mut out,
        msg.message_type(),
        code,
        msg.message_id(),
        msg.token(),
    )
    .expect("a decoded header is written back");
    let mut last = 0u16;
    for o in msg.options() {
        assert!(o.number.0 >= last, "options in order");
        last = o.number.0;
        let _ = (
            o.uint(),
            o.str(),
            o.number.is_critical(),
            o.number.is_unsafe(),
        );
        w.option(o.number, o.value)
            .expect("a decoded option is written back");
        if o.number == OptionNumber::OSCORE
            && let Ok(opt) = OscoreOption::decode(o.value)
        {
            let mut buf = vec![0u8; o.value.len()];
            let n = opt
                .encode(&mut buf)
                .expect("a decoded OSCORE option encodes");
            assert_eq!(n, opt.encoded_len());
            assert_eq!(&buf[..n], o.value, "OSCORE option encode/decode round trip");
        }
    }
    let n = w
        .payload(msg.payload())
        .expect("a decoded payload is written back");
    assert_eq!(&out[..n], data, "CoAP decode/encode round trip");
    assert_eq!(
        msg.option(OptionNumber::URI_PATH),
        msg.options().find(|o| o.number.0 == 11)
    );
});
