//! Open Profile for DICE known answers: open-dice's P-256 ZeroInput values (UDS and every input
//! all zeros), transcribed here so they always run, and read from
//! ../shared/vectors/dice/open-dice-p256-zero-input.json when the vectors are present.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use coset::{CborSerializable, TaggedCborSerializable};
use iot_core::cose::CoseSign1;
use iot_core::crypto::{P256VerifyingKey, RustCrypto, Sha256 as _, Verifier as _};
use iot_identity::Error;
use iot_identity::dice::{
    ASYM_SALT, Cdi, Cdis, DiceCertificate, DiceLayer, DicePublicKey, ID_SALT, InputValues, Mode,
    OPEN_DICE_EXAMPLE_PROFILE, certificate_len, certificate_len_inline, derive_cdis,
    derive_key_pair, verify_chain,
};

fn crypto() -> RustCrypto<getrandom::SysRng> {
    RustCrypto::from_os()
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

// open-dice include/dice/known_test_values.h, ZeroInput, P-256 CBOR certificate.
const CDI_ATTEST: &str = "fbfc679771342eeacb908659ce49d6b63b4535da2c51433d7f04efa6319e0c19";
const CDI_SEAL: &str = "8ff8b22571325e7defefbfea8df1c9f34bf4d9ee03b75b788219c6b1ef49bdc5";
const ISSUER_XY: &str = concat!(
    "1f4aaefc29ca4104447448d13a553513c23abca2b6ac3ff063f6888a696de539",
    "06f5d8bd698d1688a3250c4683c3ed4e28e2d602412b353beb04543fefbb3df1",
);
const ISSUER_ID: &str = "672d0053ae4513fbb3bac8209daeb3e8897681cd";
const SUBJECT_XY: &str = concat!(
    "4f3b4e82c45ada084589c2197baf1f376eac40e1fd49b0240602aec269541c6b",
    "e7eb4019ab55c66bc88bb8b469ad7ee8589e07d2f8bc888eb311c2df973b1b4a",
);
const SUBJECT_ID: &str = "2e75b6e7230c20f2960bde4acf1288d4ab665b9b";
/// The certificate up to its signature (open-dice's signature is randomized).
const CERT_BEFORE_SIGNATURE: &str = concat!(
    "8443a10126a05901a7a90178283637326430303533616534353133666262336261633832303964616562336538383937",
    "363831636402782832653735623665373233306332306632393630626465346163663132383864346162363635623962",
    "3a0047445058400000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "00000000000000000000000000000000000000000000003a004744535840000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000003a00",
    "474454584000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000003a0047445641003a004744575850a6010203260481022001215820",
    "4f3b4e82c45ada084589c2197baf1f376eac40e1fd49b0240602aec269541c6b225820e7eb4019ab55c66bc88bb8b469",
    "ad7ee8589e07d2f8bc888eb311c2df973b1b4a3a0047445841203a00474459706f70656e646963652e6578616d706c65",
    "5840",
);
/// open-dice's signature (randomized ECDSA; it must verify with the issuer key).
const OPEN_DICE_SIGNATURE: &str = concat!(
    "4b7c6b09a214a878ec96731aec1cf6e1672d44dbbb9d42fe5564700a822de99e",
    "429236a9b8a676ffd6d72f5cffeb02852c336964539df4ee8c22e8cd8c9f1c10",
);

/// What our DICE makes for the zero inputs.
struct Derived {
    cdi_attest: Vec<u8>,
    cdi_seal: Vec<u8>,
    issuer_xy: Vec<u8>,
    issuer_id: Vec<u8>,
    subject_xy: Vec<u8>,
    subject_id: Vec<u8>,
    cert: Vec<u8>,
}

fn derive_zero(uds: &[u8], inputs: &InputValues<'_>) -> Derived {
    let mut c = crypto();
    let uds = Cdi::from_bytes(uds.try_into().unwrap());
    let root = DiceLayer::from_uds(&uds);
    let issuer = root.key_pair(&mut c).unwrap().public_key;
    let issuer_id = root.id(&mut c).unwrap();
    let mut scratch = [0u8; 1024];
    let mut cert = [0u8; 1024];
    let (next, n) = root
        .derive_next(
            &mut c,
            inputs,
            Some(OPEN_DICE_EXAMPLE_PROFILE),
            &mut scratch,
            &mut cert,
        )
        .unwrap();
    let subject = next.public_key(&mut c).unwrap();
    Derived {
        cdi_attest: next.cdi_attest().as_bytes().to_vec(),
        cdi_seal: next.cdi_seal().as_bytes().to_vec(),
        issuer_xy: issuer.0.to_vec(),
        issuer_id: issuer_id.0.to_vec(),
        subject_xy: subject.0.to_vec(),
        subject_id: subject.id(&mut c).unwrap().0.to_vec(),
        cert: cert[..n].to_vec(),
    }
}

fn check_signature(cert: &[u8], issuer_xy: &[u8]) {
    let mut c = crypto();
    let issuer = DicePublicKey(issuer_xy.try_into().unwrap());
    let decoded = DiceCertificate::decode(cert).unwrap();
    decoded.verify_signature(&mut c, &issuer).unwrap();
    // The whole check (issuer and subject IDs, key usage) passes too.
    let subject = decoded.verify(&mut c, &issuer).unwrap();
    assert_eq!(subject, decoded.claims.subject_key().unwrap());
}

#[test]
fn zero_input_transcribed() {
    let d = derive_zero(&[0; 32], &InputValues::default());
    assert_eq!(hex::encode(&d.cdi_attest), CDI_ATTEST);
    assert_eq!(hex::encode(&d.cdi_seal), CDI_SEAL);
    assert_eq!(hex::encode(&d.issuer_xy), ISSUER_XY);
    assert_eq!(hex::encode(&d.issuer_id), ISSUER_ID);
    assert_eq!(hex::encode(&d.subject_xy), SUBJECT_XY);
    assert_eq!(hex::encode(&d.subject_id), SUBJECT_ID);
    let prefix = unhex(CERT_BEFORE_SIGNATURE);
    assert_eq!(d.cert.len(), prefix.len() + 64);
    assert_eq!(hex::encode(&d.cert[..prefix.len()]), CERT_BEFORE_SIGNATURE);
    assert_eq!(
        d.cert.len(),
        certificate_len_inline(OPEN_DICE_EXAMPLE_PROFILE.len())
    );
    assert_eq!(
        d.cert.len(),
        certificate_len(&InputValues::default(), Some(OPEN_DICE_EXAMPLE_PROFILE))
    );
    // Our signature (RFC 6979) and open-dice's (randomized) both verify with the issuer key.
    check_signature(&d.cert, &d.issuer_xy);
    let mut theirs = prefix.clone();
    theirs.extend(unhex(OPEN_DICE_SIGNATURE));
    check_signature(&theirs, &d.issuer_xy);
    // Our ECDSA is deterministic: the same certificate twice.
    assert_eq!(derive_zero(&[0; 32], &InputValues::default()).cert, d.cert);
}

#[test]
fn zero_input_vector_file() {
    let Some(v) = iot_test_vectors::json("dice/open-dice-p256-zero-input.json") else {
        return;
    };
    let s = |v: &serde_json::Value| unhex(v.as_str().unwrap());
    let inp = &v["inputs"];
    // The inputs: UDS, code hash, configuration value, authority hash, mode and hidden.
    let uds = s(&inp["uds_or_current_cdi"]);
    let code: [u8; 64] = s(&inp["code_hash"]).try_into().unwrap();
    let config: [u8; 64] = s(&inp["config_value"]).try_into().unwrap();
    let authority: [u8; 64] = s(&inp["authority_hash"]).try_into().unwrap();
    let hidden: [u8; 64] = s(&inp["hidden"]).try_into().unwrap();
    let mode = u8::try_from(inp["mode"].as_u64().unwrap()).unwrap();
    assert_eq!(Mode::from_byte(mode).to_byte(), mode);
    let inputs = InputValues {
        code_hash: &code,
        config: iot_identity::dice::Config::Inline(&config),
        authority_hash: &authority,
        mode: Mode::from_byte(mode),
        hidden: &hidden,
        ..InputValues::default()
    };
    // The salts are the profile's.
    assert_eq!(s(&v["asym_salt"]), ASYM_SALT);
    assert_eq!(s(&v["id_salt"]), ID_SALT);

    let e = &v["expected"];
    let d = derive_zero(&uds, &inputs);
    assert_eq!(d.cdi_attest, s(&e["cdi_attest"]));
    assert_eq!(d.cdi_seal, s(&e["cdi_seal"]));
    assert_eq!(d.issuer_xy, s(&e["issuer_public_key_xy"]));
    assert_eq!(d.issuer_id, s(&e["issuer_id"]));
    assert_eq!(d.subject_xy, s(&e["subject_public_key_xy"]));
    assert_eq!(d.subject_id, s(&e["subject_id"]));

    let expected = s(&e["certificate_cbor"]);
    let ours = CoseSign1::decode(&d.cert).unwrap();
    let theirs = CoseSign1::decode(&expected).unwrap();
    // Byte for byte up to the signature, and the same to-be-signed Sig_structure.
    assert_eq!(d.cert.len(), expected.len());
    assert_eq!(d.cert[..d.cert.len() - 64], expected[..expected.len() - 64]);
    let (mut tbs_ours, mut tbs_theirs) = (Vec::new(), Vec::new());
    ours.write_to_be_signed(None, &[], &mut tbs_ours).unwrap();
    theirs
        .write_to_be_signed(None, &[], &mut tbs_theirs)
        .unwrap();
    assert_eq!(tbs_ours, tbs_theirs);
    // coset builds the same Sig_structure from the vector's bytes.
    let coset_msg = coset::CoseSign1::from_slice(&expected).unwrap();
    assert_eq!(coset_msg.tbs_data(&[]), tbs_theirs);
    assert!(coset::CoseSign1::from_tagged_slice(&expected).is_err());

    // open-dice's signature verifies with the derived issuer key (checked here with the raw
    // verifier over SHA-256 of the Sig_structure, independently of our COSE code) ...
    let mut c = crypto();
    let mut key =
        P256VerifyingKey::from_coordinates(&d.issuer_xy[..32], &d.issuer_xy[32..]).unwrap();
    let digest = c.sha256(&tbs_theirs);
    key.verify_digest(&digest, theirs.signature).unwrap();
    key.verify_digest(&digest, ours.signature).unwrap();
    check_signature(&expected, &d.issuer_xy);
    // ... and is not reproducible: it is randomized, ours is RFC 6979.
    if ours.signature == theirs.signature {
        println!("the vector's signature is the RFC 6979 one: matched byte for byte");
    } else {
        println!(
            "the vector's signature differs from our RFC 6979 signature (open-dice's is randomized); both verify"
        );
    }
    // A wrong key does not verify it.
    let wrong = DicePublicKey(d.subject_xy.clone().try_into().unwrap());
    assert_eq!(
        DiceCertificate::decode(&expected)
            .unwrap()
            .verify_signature(&mut c, &wrong),
        Err(Error::Core(iot_core::Error::BadSignature))
    );
}

/// The vector's one-layer chain verifies from UDS_Public; CDIs of a derived layer agree with
/// [`derive_cdis`] and [`derive_key_pair`] called directly.
#[test]
fn zero_input_chain_and_free_functions() {
    let mut c = crypto();
    let uds = Cdi::from_bytes([0; 32]);
    let root = DiceLayer::from_uds(&uds);
    let uds_public = root.public_key(&mut c).unwrap();
    let direct = derive_cdis(&mut c, &Cdis::from_uds(&uds), &InputValues::default()).unwrap();
    let d = derive_zero(&[0; 32], &InputValues::default());
    assert_eq!(direct.attest.as_bytes()[..], d.cdi_attest[..]);
    assert_eq!(direct.seal.as_bytes()[..], d.cdi_seal[..]);
    assert_eq!(
        derive_key_pair(&mut c, &direct.attest)
            .unwrap()
            .public_key
            .0[..],
        d.subject_xy[..]
    );
    let leaf = verify_chain(&mut c, &uds_public, [&d.cert[..]]).unwrap();
    assert_eq!(leaf.0[..], d.subject_xy[..]);
}
