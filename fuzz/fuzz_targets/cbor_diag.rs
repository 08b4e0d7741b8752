//! CBOR diagnostic notation (RFC 8949 section 8, `iot_core::diag`): print arbitrary bytes as a CBOR
//! sequence, compact and pretty. Each item prints exactly when the bounded `cbor::Reader` accepts it
//! under the same limits, ends where the reader's skip ends, and prints something.
#![no_main]

use iot_core::cbor::Reader;
use iot_core::diag::{Options, write_next};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for opts in [Options::default(), Options::pretty()] {
        let mut offset = 0;
        while offset < data.len() {
            let mut out = String::new();
            let printed = write_next(&mut out, data, offset, &opts);
            let mut r = Reader::with_limits(&data[offset..], opts.limits);
            let skipped = r.skip().map(|item| offset + item.len());
            match (printed, skipped) {
                (Ok(end), Ok(skip_end)) => {
                    assert_eq!(
                        end, skip_end,
                        "diag and Reader::skip end the item at the same byte"
                    );
                    assert!(!out.is_empty(), "a printed item is not empty");
                    offset = end;
                }
                (Err(_), Err(_)) => break,
                (p, s) => panic!("diag {p:?} and Reader::skip {s:?} disagree at byte {offset}"),
            }
        }
    }
});
