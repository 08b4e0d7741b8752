//! The examples of draft-ietf-suit-trust-domains (the suit-wg repository's `examples/`, at the
//! revision whose example 2 carries a delegation), transcribed: small facts of the draft, so
//! they run without ../shared. Example 2's integrated dependency (`#dependent.suit`, 352 bytes)
//! is the draft's delegation vector: its block is signed by a delegated key, which the
//! `suit-delegation` CWT, signed by the draft's key, confirms. The manifest it carries is example
//! 0's (the same manifest digest), the one libcsuit ships as expS0.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod sim;

use iot_core::crypto::{P256SigningKey, P256VerifyingKey, RustCrypto, Sha256};
use iot_update_manifest::{Envelope, Error, Processor, TrustAnchors};
use p256::pkcs8::DecodePublicKey;
use sim::Sim;

/// The public key the draft gives for its examples (appendix B): the manifest-spec examples'
/// key, also libcsuit's trust anchor.
const PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEhJaBGq4LqqvSYVcYnuzaJr6qi/Eb
bz/m4rVlnIXbwK07HypLbAmBMcCjbazR14vTgdzfsJwFLbM5kdtzOLSolg==
-----END PUBLIC KEY-----";

/// `examples/example2_integrated.hex`: the dependent, with its dependency integrated.
const EXAMPLE2: &str = concat!(
    "D86BA3025873825824822F5820EBBC2FACA331A8C4971B969955C67DF5C7",
    "84E8C7A0A9799E00327C7F9CBCF62E584AD28443A10126A0F658408A1240",
    "2B15EDC2C542380CA490F426B7B2C545874A322DB390B27D817EEDF03DE3",
    "DCDAF6DC355B44478F46B25683D812FB672C66ACCD9A8EA13AD2095C2CC3",
    "D20358BCA70101020003581CA201A101A101814E646570656E64656E742E",
    "7375697402818142313005814E646570656E64696E672E73756974095286",
    "0C0014A11749636174203030203130170F0F5845880C0114A3035824822F",
    "5820CC1758F629D2CDD18698D5A279B532C7003A0331237729C604EE6FD3",
    "F3DB535F0E190160156F23646570656E64656E742E737569741502030F14",
    "58288A0C010B000C0014A112581A20696E206D756C7469706C6520747275",
    "737420646F6D61696E73120F6F23646570656E64656E742E737569745901",
    "60D86BA301589E8181589AD28443A10126A0584FA108A101A40102200121",
    "58200E908AA8F066DB1F084E0C3652C63952BD99F2A5BDB22F9E01367AAD",
    "03ABA68B22582077DA1BD8AC4F0CB490BA210648BF79AB164D49AD3551D7",
    "1D314B2749EE42D29A5840FB2D5ACF66B9C8573CE92E13BFB8D113F79871",
    "5CC10B5A0010B11925C155E7245A64E131073B87AC50CAC71650A21315B8",
    "2D06CA2298CD1A95519AAE4C4B5315025874835824822F58200F02CAF6D3",
    "E61920D36BF3CEA7F862A13BB8FB1F09C3F4C29B121FEAB78EF3D8584AD2",
    "8443A10126A0F6584075111FE09D12726C09F0CA87B32B1E9A6DA127E171",
    "D67527437E61676458327707CC0185D84C95C4C9EC77E8258B338182F8DA",
    "1BA7014AD0E26D6C5BEC29DFC740035842A6010102000347A10281814230",
    "3005814E646570656E64656E742E73756974094D8414A117466361742030",
    "30170F14528414A1124B68656C6C6F20776F726C64120F",
);

/// The integrated dependency's length: it ends example 2, after its key `"#dependent.suit"` and
/// the head `59 0160`.
const DEPENDENCY_LEN: usize = 352;

/// The SUIT_Digest bytes of example 0's manifest, which the dependency's authentication wrapper
/// carries.
const MANIFEST_DIGEST: &str = "0f02caf6d3e61920d36bf3cea7f862a13bb8fb1f09c3f4c29b121feab78ef3d8";

/// What example 2 names its dependency by (`parameter-image-digest`).
const NAMED_DIGEST: &str = "cc1758f629d2cdd18698d5a279b532c7003a0331237729c604ee6fd3f3db535f";

fn example2() -> Vec<u8> {
    hex::decode(EXAMPLE2).unwrap()
}

fn dependency() -> Vec<u8> {
    let e = example2();
    let at = e.len() - DEPENDENCY_LEN;
    assert_eq!(&e[at - 19..at], b"\x6f#dependent.suit\x59\x01\x60");
    e[at..].to_vec()
}

fn draft_key() -> P256VerifyingKey {
    let public = p256::PublicKey::from_public_key_pem(PUBLIC_KEY).unwrap();
    P256VerifyingKey::from_sec1(public.to_sec1_bytes().as_ref()).unwrap()
}

fn authenticate(envelope: &[u8], key: P256VerifyingKey) -> Result<(u64, String), Error> {
    let mut keys = [key];
    let auth = Envelope::decode(envelope)?.authenticate(
        &mut RustCrypto::<()>::default(),
        &mut TrustAnchors::signers(&mut keys),
    )?;
    Ok((
        auth.manifest().sequence_number(),
        hex::encode(auth.digest().bytes),
    ))
}

/// The draft's delegated dependency authenticates under the draft's key alone, through its
/// delegation chain; under another key it does not, and without the chain the draft's key does
/// not verify its block.
#[test]
fn the_drafts_delegated_dependency_authenticates_through_its_chain() {
    let dependency = dependency();
    assert_eq!(
        &dependency[..4],
        [0xd8, 0x6b, 0xa3, 0x01],
        "tagged, suit-delegation first"
    );
    assert_eq!(
        authenticate(&dependency, draft_key()),
        Ok((0, MANIFEST_DIGEST.to_owned()))
    );
    let other = P256SigningKey::from_bytes(&[7; 32])
        .unwrap()
        .verifying_key();
    assert!(authenticate(&dependency, other).is_err());
    // The same envelope without its delegation member (`01 58 9E` and the 158 bytes of
    // SUIT_Delegation): a map of two, whose block the draft's key does not verify.
    let mut bare = vec![0xd8, 0x6b, 0xa2];
    bare.extend_from_slice(&dependency[4 + 2 + 158..]);
    assert!(matches!(
        authenticate(&bare, draft_key()),
        Err(Error::NotAuthenticated(_))
    ));
    // Example 2 itself is signed by the draft's key.
    assert_eq!(authenticate(&example2(), draft_key()).map(|a| a.0), Ok(0));
}

/// Example 2 names its dependency by the SHA-256 of the dependency's whole envelope, as the
/// draft's revisions of the time did. The draft's text (suit-condition-dependency-integrity,
/// image-match over a dependency) and libcsuit (expS2, expS3) bind a dependency by its manifest
/// digest, which this processor follows: example 2's dependency authenticates (through its
/// delegation), then does not match the digest named, and nothing is written.
#[test]
fn example2_names_its_dependency_by_the_envelope_digest_and_is_refused() {
    let dependency = dependency();
    assert_eq!(
        hex::encode(RustCrypto::<()>::default().sha256(&dependency)),
        NAMED_DIGEST
    );
    assert_ne!(NAMED_DIGEST, MANIFEST_DIGEST);
    let mut sim = Sim::new();
    let mut keys = [draft_key()];
    let mut anchors = TrustAnchors::signers(&mut keys);
    let mut crypto = RustCrypto::from_os();
    let mut scratch = [0u8; 1024];
    let mut p = Processor::new(&mut sim, &mut crypto, &mut anchors).with_scratch(&mut scratch);
    let env = example2();
    let auth = p.authenticate(&env).unwrap();
    assert_eq!(p.update(&auth), Err(Error::ImageMismatch));
    assert_eq!(sim.flash, Sim::new().flash);
}
