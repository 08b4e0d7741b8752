//! EAT/CWT claims-set decoding (RFC 9711 section 4, RFC 8392 section 7.1): decode arbitrary bytes
//! as a whole claims-set and as a stream of entries ([`ClaimsIter`]), check that both agree, walk
//! every value, and check that the claims encode and that their encoding is stable.
#![no_main]

use iot_attest::{Claims, ClaimsIter};
use iot_fuzz::attest::{reencode, walk};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let whole = Claims::decode(data);
    let streamed = ClaimsIter::new(data).and_then(|it| it.collect::<Result<Vec<_>, _>>());
    assert_eq!(
        whole.as_ref().err(),
        streamed.as_ref().err(),
        "Claims::decode and ClaimsIter disagree"
    );
    let Ok(claims) = whole else {
        return;
    };
    let entries = streamed.unwrap();
    let mut set = Claims::default();
    for (_, claim) in &entries {
        set.set(*claim);
    }
    assert_eq!(set.iter().count(), claims.iter().count());
    walk(&claims, 0);
    reencode(&claims, data.len());
});
