//! The signed CBOR revocation list: encoding, decoding, signature and version checks, lazy
//! look-ups, and tampering.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

use iot_core::cose::Algorithm;
use iot_core::crypto::{P256SigningKey, RustCrypto};
use iot_identity::keystore::P256PublicKey;
use iot_identity::revocation::{
    REVOCATION_AAD, RevocationError, RevocationList, RevocationListBuilder, key,
};

/// 2026-01-01T00:00:00Z.
const NOW: u64 = 1_767_225_600;

type Crypto = RustCrypto<getrandom::SysRng>;

fn crypto() -> Crypto {
    RustCrypto::from_os()
}

fn registrar() -> P256SigningKey {
    P256SigningKey::from_bytes(&[0x31; 32]).unwrap()
}

fn public(k: &P256SigningKey) -> P256PublicKey {
    P256PublicKey::from_sec1(&k.verifying_key().to_sec1_uncompressed()).unwrap()
}

const UEID_A: [u8; 17] = [1, 0xa0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
const UEID_B: [u8; 9] = [2, 0xac, 0xde, 0x48, 0, 0x11, 0x22, 0x33, 0x44];

fn sign(builder: &RevocationListBuilder<'_>, key: &mut P256SigningKey) -> Vec<u8> {
    let (mut scratch, mut out) = ([0u8; 1024], [0u8; 1200]);
    let n = builder
        .sign(&mut crypto(), key, &mut scratch, &mut out)
        .unwrap();
    out[..n].to_vec()
}

fn list(version: u64) -> Vec<u8> {
    list_with(version, Some(b"registrar"))
}

fn list_with(version: u64, kid: Option<&[u8]>) -> Vec<u8> {
    let serials: [&[u8]; 2] = [&[0x02], &[0x7f, 0x01, 0x02]];
    let ueids: [&[u8]; 2] = [&UEID_A, &UEID_B];
    let builder = RevocationListBuilder {
        next_update: Some(NOW + 86_400),
        serials: &serials,
        ueids: &ueids,
        kid,
        ..RevocationListBuilder::new(version, NOW)
    };
    sign(&builder, &mut registrar())
}

#[test]
fn a_list_round_trips_and_answers_lazily() {
    let bytes = list(7);
    let decoded = RevocationList::decode(&bytes).unwrap();
    assert_eq!(decoded.version, 7);
    assert_eq!(decoded.issued_at, NOW);
    assert_eq!(decoded.next_update, Some(NOW + 86_400));
    assert_eq!(decoded.serials.len(), 2);
    assert_eq!(
        decoded.serials.iter().collect::<Vec<_>>(),
        [&[0x02][..], &[0x7f, 0x01, 0x02]]
    );
    assert_eq!(
        decoded.ueids.iter().collect::<Vec<_>>(),
        [&UEID_A[..], &UEID_B[..]]
    );
    assert_eq!(decoded.message.headers.kid(), Some(&b"registrar"[..]));

    let mut c = crypto();
    let v = decoded.verify(&mut c, &public(&registrar()), 6).unwrap();
    assert!(v.is_newer());
    assert_eq!(v.version(), 7);
    assert!(v.is_revoked_serial(&[0x02]));
    assert!(v.is_revoked_serial(&[0x7f, 0x01, 0x02]));
    assert!(!v.is_revoked_serial(&[0x03]));
    assert!(!v.is_revoked_serial(&[0x7f, 0x01]));
    assert!(v.is_revoked_ueid(&UEID_A));
    assert!(v.is_revoked_ueid(&UEID_B));
    assert!(!v.is_revoked_ueid(&UEID_A[..16]));
    v.check_current(NOW + 86_400).unwrap();
    assert_eq!(
        v.check_current(NOW + 86_401),
        Err(RevocationError::Outdated)
    );

    // The payload is the documented map, byte for byte.
    let mut expected = vec![0xa5, 0x01, 0x07, 0x02, 0x1a];
    expected.extend((NOW as u32).to_be_bytes());
    expected.extend([0x03, 0x1a]);
    expected.extend(((NOW + 86_400) as u32).to_be_bytes());
    expected.extend([
        0x04, 0x82, 0x41, 0x02, 0x43, 0x7f, 0x01, 0x02, 0x05, 0x82, 0x51,
    ]);
    expected.extend(UEID_A);
    expected.push(0x49);
    expected.extend(UEID_B);
    assert_eq!(
        RevocationList::decode(&bytes).unwrap().message.payload,
        Some(&expected[..])
    );

    // An empty list without next-update.
    let empty = sign(&RevocationListBuilder::new(1, NOW), &mut registrar());
    let v = RevocationList::decode(&empty)
        .unwrap()
        .verify(&mut c, &public(&registrar()), 0)
        .unwrap();
    assert!(v.list().serials.is_empty() && v.list().ueids.is_empty());
    assert!(!v.is_revoked_serial(&[0x02]));
    v.check_current(u64::MAX).unwrap();
}

#[test]
fn versions_older_than_the_last_seen_are_refused() {
    let mut c = crypto();
    let key = public(&registrar());
    let v7 = list(7);
    // The same version is accepted but is not newer.
    let same = RevocationList::decode(&v7)
        .unwrap()
        .verify(&mut c, &key, 7)
        .unwrap();
    assert!(!same.is_newer());
    // An older one: Stale.
    assert_eq!(
        RevocationList::decode(&v7).unwrap().verify(&mut c, &key, 8),
        Err(RevocationError::Stale {
            version: 7,
            last_seen: 8
        })
    );
}

#[test]
fn a_wrong_key_or_a_tampered_list_is_refused() {
    let mut c = crypto();
    let key = public(&registrar());
    let bytes = list(3);
    let other = public(&P256SigningKey::from_bytes(&[0x32; 32]).unwrap());
    assert_eq!(
        RevocationList::decode(&bytes)
            .unwrap()
            .verify(&mut c, &other, 0),
        Err(RevocationError::Core(iot_core::Error::BadSignature))
    );
    // Every flipped bit: refused by the decoder or by the signature check (without a kid: the
    // unprotected bucket is not signed, RFC 9052 section 3).
    let bytes = list_with(3, None);
    for i in 0..bytes.len() {
        for bit in [0x01u8, 0x40] {
            let mut bad = bytes.clone();
            bad[i] ^= bit;
            if let Ok(l) = RevocationList::decode(&bad) {
                assert!(l.verify(&mut c, &key, 0).is_err(), "byte {i} bit {bit:#x}");
            }
        }
    }
    // An un-revoking edit: the last UEID dropped from the payload and the array length fixed;
    // the signature no longer covers it.
    let decoded = RevocationList::decode(&bytes).unwrap();
    let payload = decoded.message.payload.unwrap();
    let mut edited = payload[..payload.len() - UEID_B.len() - 1].to_vec();
    let at = edited.iter().rposition(|&b| b == 0x82).unwrap();
    edited[at] = 0x81;
    let forged = iot_core::cose::Sign1Builder::new(Algorithm::Es256)
        .sign(
            &mut c,
            &mut P256SigningKey::from_bytes(&[0x32; 32]).unwrap(),
            &edited,
            REVOCATION_AAD,
            &mut [0u8; 400],
        )
        .unwrap();
    assert!(forged > 0);
    let mut spliced = bytes.clone();
    let start = spliced
        .windows(payload.len())
        .position(|w| w == payload)
        .unwrap();
    spliced.splice(start - 2..start + payload.len(), {
        let mut v = vec![0x58, edited.len() as u8];
        v.extend(&edited);
        v
    });
    let l = RevocationList::decode(&spliced).unwrap();
    assert_eq!(l.ueids.len(), 1);
    assert_eq!(
        l.verify(&mut c, &key, 0),
        Err(RevocationError::Core(iot_core::Error::BadSignature))
    );
}

#[test]
fn a_list_signed_for_another_purpose_is_refused() {
    // The same payload signed by the registrar without the revocation AAD (as a CWT would be).
    let mut c = crypto();
    let mut scratch = [0u8; 512];
    let n = RevocationListBuilder::new(9, NOW)
        .encode_payload(&mut scratch)
        .unwrap();
    let mut out = [0u8; 600];
    let m = iot_core::cose::Sign1Builder::new(Algorithm::Es256)
        .sign(&mut c, &mut registrar(), &scratch[..n], b"", &mut out)
        .unwrap();
    assert_eq!(
        RevocationList::decode(&out[..m])
            .unwrap()
            .verify(&mut c, &public(&registrar()), 0),
        Err(RevocationError::Core(iot_core::Error::BadSignature))
    );
}

#[test]
fn malformed_payloads_are_refused_with_the_field() {
    let mut c = crypto();
    let sign_payload = |payload: &[u8]| {
        let mut out = vec![0u8; 600];
        let n = iot_core::cose::Sign1Builder::new(Algorithm::Es256)
            .sign(
                &mut crypto(),
                &mut registrar(),
                payload,
                REVOCATION_AAD,
                &mut out,
            )
            .unwrap();
        out.truncate(n);
        out
    };
    let cases: [(&[u8], u64); 8] = [
        // Not a map.
        (&[0x80], 0),
        // Keys out of order.
        (
            &[0xa4, 0x02, 0x01, 0x01, 0x01, 0x04, 0x80, 0x05, 0x80],
            key::VERSION,
        ),
        // A serial of 21 bytes.
        (
            &[
                0xa4, 0x01, 0x01, 0x02, 0x01, 0x04, 0x81, 0x55, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 0x05, 0x80,
            ],
            key::SERIALS,
        ),
        // An empty serial.
        (
            &[0xa4, 0x01, 0x01, 0x02, 0x01, 0x04, 0x81, 0x40, 0x05, 0x80],
            key::SERIALS,
        ),
        // A UEID of 6 bytes.
        (
            &[
                0xa4, 0x01, 0x01, 0x02, 0x01, 0x04, 0x80, 0x05, 0x81, 0x46, 1, 2, 3, 4, 5, 6,
            ],
            key::UEIDS,
        ),
        // A version not in preferred serialization.
        (
            &[0xa4, 0x01, 0x18, 0x01, 0x02, 0x01, 0x04, 0x80, 0x05, 0x80],
            key::VERSION,
        ),
        // An unknown key.
        (
            &[
                0xa5, 0x01, 0x01, 0x02, 0x01, 0x04, 0x80, 0x05, 0x80, 0x06, 0x00,
            ],
            key::NEXT_UPDATE,
        ),
        // Trailing bytes after the map.
        (
            &[0xa4, 0x01, 0x01, 0x02, 0x01, 0x04, 0x80, 0x05, 0x80, 0x00],
            0,
        ),
    ];
    for (payload, field) in cases {
        let signed = sign_payload(payload);
        assert_eq!(
            RevocationList::decode(&signed).map(|_| ()),
            Err(RevocationError::Malformed(field)),
            "{}",
            hex::encode(payload)
        );
    }
    // The well-formed minimum decodes and verifies.
    let ok = sign_payload(&[0xa4, 0x01, 0x01, 0x02, 0x01, 0x04, 0x80, 0x05, 0x80]);
    RevocationList::decode(&ok)
        .unwrap()
        .verify(&mut c, &public(&registrar()), 1)
        .unwrap();
    // The builder refuses what devices would refuse.
    let long: [&[u8]; 1] = [&[1u8; 21]];
    assert_eq!(
        RevocationListBuilder {
            serials: &long,
            ..RevocationListBuilder::new(1, NOW)
        }
        .encode_payload(&mut [0u8; 100]),
        Err(RevocationError::Malformed(key::SERIALS))
    );
    let short: [&[u8]; 1] = [&[1u8; 6]];
    assert_eq!(
        RevocationListBuilder {
            ueids: &short,
            ..RevocationListBuilder::new(1, NOW)
        }
        .encode_payload(&mut [0u8; 100]),
        Err(RevocationError::Malformed(key::UEIDS))
    );
    // A buffer too small: a typed error.
    assert_eq!(
        RevocationListBuilder::new(1, NOW).encode_payload(&mut [0u8; 4]),
        Err(RevocationError::Core(iot_core::Error::BufferTooSmall))
    );
}
