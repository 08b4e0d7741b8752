//! Properties: our encoder -> our decoder gives back every claim (proptest over every claim type,
//! nested submodules and unmodelled claims), the encoding is deterministic, and bad input gets a
//! typed error, never a panic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::type_complexity
)]

use iot_attest::{
    Audience, Claim, Claims, ClaimsIter, ClaimsSet, ClaimsWriter, Confirmation, DebugStatus,
    DetachedDigest, Dloa, Error, Extra, IndividualResult, IntendedUse, Label, Location,
    MAX_SUBMOD_DEPTH, MeasResGroup, MeasResult, NestedToken, Nonce, NumericDate, OemId, Profile,
    RawClaim, ResultId, Seq, Submod, Submodule, Sueid, SwComponent, Token, TokenBuilder,
    TypedContent, Version, key,
};
use iot_core::CborError;
use iot_core::cose::{Algorithm, CoseKey, Ec2Y, SymmetricKey};
use iot_core::crypto::{P256SigningKey, RustCrypto};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn bytes(len: core::ops::RangeInclusive<usize>) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), len)
}

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ./:#-]{0,24}"
}

fn date() -> impl Strategy<Value = NumericDate> {
    prop_oneof![
        any::<i64>().prop_map(NumericDate::Int),
        (-1.0e12f64..1.0e12).prop_map(NumericDate::Float),
        Just(NumericDate::Float(1.5)),
    ]
}

#[derive(Debug, Clone)]
enum LabelData {
    Int(i64),
    Text(String),
}

impl LabelData {
    fn label(&self) -> Label<'_> {
        match self {
            Self::Int(i) => Label::Int(*i),
            Self::Text(t) => Label::Text(t),
        }
    }
}

fn label() -> impl Strategy<Value = LabelData> {
    prop_oneof![
        any::<i64>().prop_map(LabelData::Int),
        text().prop_map(LabelData::Text)
    ]
}

#[derive(Debug, Clone)]
enum CnfData {
    Kid(Vec<u8>),
    Ec2 {
        kid: Option<Vec<u8>>,
        x: Vec<u8>,
        y: Vec<u8>,
    },
    Symmetric(Vec<u8>),
}

/// The claims of a submodule's claims-set (and of a nested token).
#[derive(Debug, Clone)]
struct Leaf {
    swname: Option<String>,
    oemboot: Option<bool>,
    nonce: Option<Vec<u8>>,
    uptime: Option<u64>,
    dbgstat: Option<u8>,
}

fn leaf() -> impl Strategy<Value = Leaf> {
    (
        prop::option::of(text()),
        prop::option::of(any::<bool>()),
        prop::option::of(bytes(8..=64)),
        prop::option::of(any::<u64>()),
        prop::option::of(0u8..=4),
    )
        .prop_map(|(swname, oemboot, nonce, uptime, dbgstat)| Leaf {
            swname,
            oemboot,
            nonce,
            uptime,
            dbgstat,
        })
}

impl Leaf {
    fn claims(&self) -> Claims<'_> {
        Claims {
            swname: self.swname.as_deref(),
            oemboot: self.oemboot,
            nonce: self.nonce.as_deref().map(Nonce::One),
            uptime: self.uptime,
            dbgstat: self
                .dbgstat
                .map(|d| DebugStatus::from_value(d.into()).unwrap()),
            ..Claims::default()
        }
    }
}

#[derive(Debug, Clone)]
enum SubData {
    Claims(Leaf),
    Token,
    Json(String),
    Digest(LabelData, Vec<u8>),
}

#[derive(Debug, Clone)]
struct Data {
    cwt: (
        Option<String>,
        Option<String>,
        Option<(bool, Vec<String>)>,
        Option<NumericDate>,
        Option<NumericDate>,
        Option<NumericDate>,
        Option<Vec<u8>>,
        Option<CnfData>,
    ),
    ids: (
        Option<Vec<Vec<u8>>>,
        Option<Vec<u8>>,
        Option<BTreeMap<String, Vec<u8>>>,
        Option<(u8, Vec<u8>, u64)>,
        Option<Vec<u8>>,
        Option<(String, Option<LabelData>)>,
        Option<(String, Option<LabelData>)>,
        Option<String>,
    ),
    state: (
        Option<u64>,
        Option<bool>,
        Option<u8>,
        Option<Location>,
        Option<(bool, String, Vec<u8>)>,
        Option<u64>,
        Option<Vec<u8>>,
        Option<u8>,
    ),
    lists: (
        Option<Vec<(String, String, Option<String>)>>,
        Option<Vec<(u16, Vec<u8>)>>,
        Option<Vec<(u16, Vec<u8>)>>,
        Option<Vec<(String, Vec<(bool, String, Vec<u8>, u8)>)>>,
        Option<BTreeMap<String, SubData>>,
    ),
    psa: (
        Option<i32>,
        Option<u16>,
        Option<Vec<u8>>,
        Option<String>,
        Option<Vec<SwComponentData>>,
        Option<String>,
        Option<u64>,
    ),
    extra: BTreeMap<String, (LabelData, u64)>,
}

type SwComponentData = (
    Option<String>,
    Option<Vec<u8>>,
    Option<String>,
    Option<Vec<u8>>,
    Option<String>,
);

fn location() -> impl Strategy<Value = Location> {
    let f = || prop::option::of(-1.0e6f64..1.0e6);
    (
        -90.0f64..90.0,
        -180.0f64..180.0,
        f(),
        f(),
        f(),
        f(),
        f(),
        prop::option::of(any::<i64>()),
        prop::option::of(any::<u64>()),
    )
        .prop_map(
            |(
                latitude,
                longitude,
                altitude,
                accuracy,
                altitude_accuracy,
                heading,
                speed,
                timestamp,
                age,
            )| {
                Location {
                    latitude,
                    longitude,
                    altitude,
                    accuracy,
                    altitude_accuracy,
                    heading,
                    speed,
                    timestamp,
                    age,
                }
            },
        )
}

fn data() -> impl Strategy<Value = Data> {
    use prop::collection::{btree_map, vec};
    use prop::option::of;
    let cnf =
        prop_oneof![
            bytes(0..=8).prop_map(CnfData::Kid),
            (of(bytes(1..=4)), bytes(32..=32), bytes(32..=32))
                .prop_map(|(kid, x, y)| CnfData::Ec2 { kid, x, y }),
            bytes(16..=32).prop_map(CnfData::Symmetric),
        ];
    let cwt = (
        of(text()),
        of(text()),
        of((any::<bool>(), vec(text(), 1..4))),
        of(date()),
        of(date()),
        of(date()),
        of(bytes(0..=16)),
        of(cnf),
    );
    let ids = (
        of(vec(bytes(8..=64), 1..4)),
        of(bytes(7..=33)),
        of(btree_map(text(), bytes(7..=33), 1..4)),
        of((0u8..3, bytes(16..=16), any::<u64>())),
        of(bytes(1..=32)),
        of((text(), of(label()))),
        of((text(), of(label()))),
        of(text()),
    );
    let state = (
        of(any::<u64>()),
        of(any::<bool>()),
        of(0u8..=4),
        of(location()),
        of((any::<bool>(), text(), bytes(0..=12))),
        of(any::<u64>()),
        of(bytes(0..=40)),
        of(1u8..=5),
    );
    let result = (any::<bool>(), text(), bytes(0..=8), 1u8..=4);
    let sub = prop_oneof![
        leaf().prop_map(SubData::Claims),
        Just(SubData::Token),
        text().prop_map(SubData::Json),
        (label(), bytes(32..=32)).prop_map(|(l, d)| SubData::Digest(l, d)),
    ];
    let lists = (
        of(vec((text(), text(), of(text())), 1..3)),
        of(vec((any::<u16>(), bytes(0..=40)), 1..3)),
        of(vec((any::<u16>(), bytes(0..=40)), 1..3)),
        of(vec((text(), vec(result, 1..3)), 1..3)),
        of(btree_map(text(), sub, 1..4)),
    );
    let component = (
        of(text()),
        of(bytes(32..=32)),
        of(text()),
        of(bytes(32..=64)),
        of(text()),
    );
    let psa = (
        of(any::<i32>()),
        of(any::<u16>()),
        of(bytes(32..=32)),
        of(text()),
        of(vec(component, 0..4)),
        of(text()),
        of(any::<u64>()),
    );
    // Unmodelled claims: negative keys below the legacy PSA range, and text keys.
    let extra_key = prop_oneof![
        (-1_000_000i64..-80_000).prop_map(LabelData::Int),
        "x-[a-z]{1,8}".prop_map(LabelData::Text),
    ];
    let extra = btree_map(text(), (extra_key, any::<u64>()), 0..3);
    (cwt, ids, state, lists, psa, extra).prop_map(|(cwt, ids, state, lists, psa, extra)| Data {
        cwt,
        ids,
        state,
        lists,
        psa,
        extra,
    })
}

/// A tiny signed token to nest as a submodule.
fn nested_token(leaf: &Leaf) -> Vec<u8> {
    let mut scratch = [0u8; 256];
    let mut out = [0u8; 400];
    let mut key = P256SigningKey::from_bytes(&[3; 32]).unwrap();
    let n = TokenBuilder::new()
        .sign(
            &mut RustCrypto::from_os(),
            &mut key,
            Algorithm::Es256,
            &leaf.claims(),
            &mut scratch,
            &mut out,
        )
        .unwrap();
    out[..n].to_vec()
}

fn version(v: &Option<(String, Option<LabelData>)>) -> Option<Version<'_>> {
    v.as_ref().map(|(s, l)| Version {
        version: s,
        scheme: l.as_ref().map(LabelData::label),
    })
}

fn typed(v: &Option<Vec<(u16, Vec<u8>)>>) -> Vec<TypedContent<'_>> {
    v.iter()
        .flatten()
        .map(|(f, c)| TypedContent {
            content_format: *f,
            content: c,
        })
        .collect()
}

/// Builds the claims of `d`, encodes, decodes, and compares.
fn check(d: &Data) {
    let (iss, sub, aud, exp, nbf, iat, cti, cnf) = &d.cwt;
    let (nonce, ueid, sueids, oemid, hwmodel, hwversion, swversion, swname) = &d.ids;
    let (uptime, oemboot, dbgstat, location, profile, bootcount, bootseed, intuse) = &d.state;
    let (dloas, manifests, measurements, measres, submods) = &d.lists;
    let (client, lifecycle, implementation, cert, comps, vsi, no_sw) = &d.psa;

    let aud_list: Vec<&str> = aud
        .iter()
        .flat_map(|(_, v)| v.iter().map(String::as_str))
        .collect();
    let aud = aud.as_ref().map(|(one, v)| {
        if *one {
            Audience::One(&v[0])
        } else {
            Audience::Many(Seq::Items(&aud_list))
        }
    });
    let nonce_list: Vec<&[u8]> = nonce.iter().flatten().map(Vec::as_slice).collect();
    let nonce = nonce.as_ref().map(|v| {
        if v.len() == 1 {
            Nonce::One(&v[0])
        } else {
            Nonce::Many(Seq::Items(&nonce_list))
        }
    });
    let cnf = cnf.as_ref().map(|c| match c {
        CnfData::Kid(k) => Confirmation::Kid(k),
        CnfData::Ec2 { kid, x, y } => Confirmation::Key(CoseKey::Ec2 {
            kid: kid.as_deref(),
            alg: Some(Algorithm::Es256),
            x,
            y: Ec2Y::Coordinate(y),
            d: None,
        }),
        CnfData::Symmetric(k) => Confirmation::Key(CoseKey::Symmetric(SymmetricKey::new(k))),
    });
    let sueid_list: Vec<Sueid<'_>> = sueids
        .iter()
        .flatten()
        .map(|(name, ueid)| Sueid { name, ueid })
        .collect();
    let oemid = oemid.as_ref().map(|(kind, b, pen)| match kind {
        0 => OemId::Random(b),
        1 => OemId::Ieee(&b[..3]),
        _ => OemId::Pen(*pen),
    });
    let (hwversion, swversion) = (version(hwversion), version(swversion));
    let profile = profile.as_ref().map(|(uri, u, o)| {
        if *uri {
            Profile::Uri(u)
        } else {
            Profile::Oid(o)
        }
    });
    let dloa_list: Vec<Dloa<'_>> = dloas
        .iter()
        .flatten()
        .map(|(r, p, a)| Dloa {
            registrar: r,
            platform_label: p,
            application_label: a.as_deref(),
        })
        .collect();
    let (manifest_list, measurement_list) = (typed(manifests), typed(measurements));
    let results: Vec<Vec<IndividualResult<'_>>> = measres
        .iter()
        .flatten()
        .map(|(_, rs)| {
            rs.iter()
                .map(|(is_text, t, b, r)| IndividualResult {
                    id: if *is_text {
                        ResultId::Text(t)
                    } else {
                        ResultId::Bytes(b)
                    },
                    result: match r {
                        1 => MeasResult::Success,
                        2 => MeasResult::Fail,
                        3 => MeasResult::NotRun,
                        _ => MeasResult::Absent,
                    },
                })
                .collect()
        })
        .collect();
    let groups: Vec<MeasResGroup<'_>> = measres
        .iter()
        .flatten()
        .zip(&results)
        .map(|((system, _), rs)| MeasResGroup {
            system,
            results: Seq::Items(rs),
        })
        .collect();
    let nested_claims: Vec<Claims<'_>> = submods
        .iter()
        .flatten()
        .map(|(_, s)| match s {
            SubData::Claims(l) => l.claims(),
            _ => Claims::default(),
        })
        .collect();
    let tokens: Vec<Vec<u8>> = submods
        .iter()
        .flatten()
        .map(|(_, s)| match s {
            SubData::Token => nested_token(&Leaf {
                swname: Some("nested".into()),
                oemboot: Some(true),
                nonce: None,
                uptime: Some(7),
                dbgstat: None,
            }),
            _ => Vec::new(),
        })
        .collect();
    let submod_list: Vec<Submod<'_>> = submods
        .iter()
        .flatten()
        .zip(&nested_claims)
        .zip(&tokens)
        .map(|(((name, s), c), t)| Submod {
            name,
            module: match s {
                SubData::Claims(_) => Submodule::Claims(ClaimsSet::Claims(c)),
                SubData::Token => Submodule::Token(NestedToken::Cbor(t)),
                SubData::Json(j) => Submodule::Token(NestedToken::Json(j)),
                SubData::Digest(l, digest) => Submodule::Digest(DetachedDigest {
                    alg: l.label(),
                    digest,
                }),
            },
        })
        .collect();
    let comp_list: Vec<SwComponent<'_>> = comps
        .iter()
        .flatten()
        .map(|(t, m, v, s, desc)| SwComponent {
            measurement_type: t.as_deref(),
            measurement_value: m.as_deref(),
            version: v.as_deref(),
            signer_id: s.as_deref(),
            measurement_desc: desc.as_deref(),
        })
        .collect();
    // Unmodelled claims: distinct keys, each an encoded unsigned integer.
    let mut extra_keys: Vec<(Label<'_>, Vec<u8>)> = Vec::new();
    for (k, v) in d.extra.values() {
        if extra_keys.iter().any(|(l, _)| *l == k.label()) {
            continue;
        }
        let mut buf = [0u8; 9];
        let mut w = iot_core::cbor::SliceWriter::new(&mut buf);
        minicbor::Encoder::new(&mut w).u64(*v).unwrap();
        extra_keys.push((k.label(), w.written().to_vec()));
    }
    let extra: Vec<RawClaim<'_>> = extra_keys
        .iter()
        .map(|(key, value)| RawClaim { key: *key, value })
        .collect();

    let claims = Claims {
        iss: iss.as_deref(),
        sub: sub.as_deref(),
        aud,
        exp: *exp,
        nbf: *nbf,
        iat: *iat,
        cti: cti.as_deref(),
        cnf,
        nonce,
        ueid: ueid.as_deref(),
        sueids: sueids.as_ref().map(|_| Seq::Items(&sueid_list[..])),
        oemid,
        hwmodel: hwmodel.as_deref(),
        hwversion,
        uptime: *uptime,
        oemboot: *oemboot,
        dbgstat: dbgstat.map(|v| DebugStatus::from_value(v.into()).unwrap()),
        location: *location,
        profile,
        submods: submods.as_ref().map(|_| Seq::Items(&submod_list[..])),
        bootcount: *bootcount,
        bootseed: bootseed.as_deref(),
        dloas: dloas.as_ref().map(|_| Seq::Items(&dloa_list[..])),
        swname: swname.as_deref(),
        swversion,
        manifests: manifests.as_ref().map(|_| Seq::Items(&manifest_list[..])),
        measurements: measurements
            .as_ref()
            .map(|_| Seq::Items(&measurement_list[..])),
        measres: measres.as_ref().map(|_| Seq::Items(&groups[..])),
        intuse: intuse.map(|u| match u {
            1 => IntendedUse::Generic,
            2 => IntendedUse::Registration,
            3 => IntendedUse::Provisioning,
            4 => IntendedUse::Csr,
            _ => IntendedUse::Pop,
        }),
        psa_client_id: client.map(i64::from),
        psa_lifecycle: lifecycle.map(u64::from),
        psa_implementation_id: implementation.as_deref(),
        psa_certification_reference: cert.as_deref(),
        psa_software_components: comps.as_ref().map(|_| Seq::Items(&comp_list[..])),
        psa_vsi: vsi.as_deref(),
        psa_no_sw_measurements: *no_sw,
        // -75007 is a PSA_IOT_PROFILE_1 key: decoding it marks the claims as legacy.
        legacy_psa: no_sw.is_some(),
        extra: Extra::Items(&extra),
    };

    let mut buf = vec![0u8; 16 * 1024];
    let n = claims.encode_to(&mut buf).unwrap();
    let encoded = &buf[..n];
    let decoded = Claims::decode(encoded).unwrap();
    assert_eq!(decoded, claims);
    // Deterministic: the decoded claims encode to the same bytes, keys strictly ascending.
    let mut again = vec![0u8; n];
    assert_eq!(decoded.encode_to(&mut again).unwrap(), n);
    assert_eq!(again, encoded);
    let keys: Vec<Label<'_>> = ClaimsIter::new(encoded)
        .unwrap()
        .map(|e| e.unwrap().0)
        .collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(keys.len(), claims.iter().count() + extra.len());

    // The streaming writer, given the same claims one by one, writes the same bytes.
    let mut streamed = vec![0u8; n];
    let mut w = ClaimsWriter::new(&mut streamed, keys.len() as u64).unwrap();
    let mut known = claims.iter().peekable();
    let mut raw = extra.clone();
    raw.sort_by(|a, b| a.key.cmp(&b.key));
    let mut raw = raw.iter().peekable();
    loop {
        let k = known.peek().and_then(Claim::key).map(Label::Int);
        match (k, raw.peek()) {
            (None, None) => break,
            (Some(k), Some(x)) if x.key < k => {
                w.raw(x.key, x.value).unwrap();
                raw.next();
            }
            (None, Some(x)) => {
                w.raw(x.key, x.value).unwrap();
                raw.next();
            }
            (Some(_), _) => {
                w.claim(&known.next().unwrap()).unwrap();
            }
        }
    }
    assert_eq!(w.finish().unwrap(), n);
    assert_eq!(streamed, encoded);

    // Every strict prefix is rejected with an error (and no panic).
    for cut in [0, 1, n / 2, n - 1] {
        if cut < n {
            assert!(Claims::decode(&encoded[..cut]).is_err());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn encoder_then_decoder_gives_back_every_claim(d in data()) {
        check(&d);
    }

    #[test]
    fn random_bytes_never_panic(input in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = Claims::decode(&input);
        let _ = Token::decode(&input);
        if let Ok(it) = ClaimsIter::new(&input) {
            for _ in it {}
        }
    }

    #[test]
    fn mutated_claims_never_panic(d in data(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        // Encode some claims, flip one byte, decode: an error or claims, never a panic.
        let leaf = Leaf { swname: d.ids.7.clone(), oemboot: d.state.1, nonce: None, uptime: d.state.0, dbgstat: d.state.2 };
        let mut buf = [0u8; 512];
        let n = leaf.claims().encode_to(&mut buf).unwrap();
        if n > 0 {
            buf[at.index(n)] = byte;
            if let Ok(c) = Claims::decode(&buf[..n]) {
                let mut out = [0u8; 1024];
                let _ = c.encode_to(&mut out);
            }
        }
    }
}

fn cbor_err(kind: CborError) -> impl Fn(&Error) -> bool {
    move |e| matches!(e, Error::Core(iot_core::Error::Cbor { kind: k, .. }) if *k == kind)
}

#[test]
fn bad_claims_sets_get_typed_errors() {
    // (input, check)
    let dup_known: &[u8] = &[
        0xa2, 0x0a, 0x48, 1, 2, 3, 4, 5, 6, 7, 8, 0x0a, 0x48, 1, 2, 3, 4, 5, 6, 7, 8,
    ];
    assert!(matches!(
        Claims::decode(dup_known),
        Err(Error::DuplicateClaim {
            key: 10,
            offset: 11
        })
    ));
    // Unknown integer and text keys twice.
    let dup_unknown = [0xa2, 0x39, 0x01, 0x00, 0x01, 0x39, 0x01, 0x00, 0x02];
    assert!(matches!(
        Claims::decode(&dup_unknown),
        Err(Error::DuplicateClaim { key: -257, .. })
    ));
    let dup_text = [0xa2, 0x61, b'x', 0x01, 0x61, b'x', 0x02];
    assert!(matches!(
        Claims::decode(&dup_text),
        Err(Error::DuplicateClaim {
            key: iot_attest::NO_KEY,
            ..
        })
    ));
    // Nonce of 4 bytes; ueid of 34; dbgstat 7; a text uptime; intuse 9; oemid of 5 bytes.
    let cases: &[(&[u8], i64)] = &[
        (&[0xa1, 0x0a, 0x44, 1, 2, 3, 4], key::NONCE),
        (&[0xa1, 0x19, 0x01, 0x07, 0x07], key::DBGSTAT),
        (&[0xa1, 0x19, 0x01, 0x05, 0x61, b'1'], key::UPTIME),
        (&[0xa1, 0x19, 0x01, 0x13, 0x09], key::INTUSE),
        (&[0xa1, 0x19, 0x01, 0x02, 0x45, 1, 2, 3, 4, 5], key::OEMID),
        (&[0xa1, 0x19, 0x01, 0x0a, 0xa0], key::SUBMODS),
        (
            &[0xa1, 0x0a, 0x81, 0x48, 1, 2, 3, 4, 5, 6, 7, 8],
            key::NONCE,
        ),
        (&[0xa1, 0x08, 0xa2, 0x03, 0x41, 1, 0x03, 0x41, 2], key::CNF),
        // A NaN `nbf`, an infinite `exp`, a NaN latitude: dates and measures must be finite.
        (&[0xa1, 0x05, 0xf9, 0x7e, 0x00], key::NBF),
        (&[0xa1, 0x04, 0xfb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0], key::EXP),
        (
            &[
                0xa1, 0x19, 0x01, 0x08, 0xa2, 0x01, 0xf9, 0x7e, 0x00, 0x02, 0x00,
            ],
            key::LOCATION,
        ),
    ];
    for (input, k) in cases {
        let e = Claims::decode(input).unwrap_err();
        assert!(
            matches!(e, Error::InvalidClaim { key, .. } if key == *k),
            "{input:02x?}: {e:?}"
        );
    }
    let mut long_ueid = vec![0xa1, 0x19, 0x01, 0x00, 0x58, 34];
    long_ueid.extend([1u8; 34]);
    assert!(matches!(
        Claims::decode(&long_ueid),
        Err(Error::InvalidClaim {
            key: key::UEID,
            offset: 4
        })
    ));
    // Not a map; an indefinite-length map; trailing bytes; a float key; truncated.
    assert!(cbor_err(CborError::UnexpectedType)(
        &Claims::decode(&[0x80]).unwrap_err()
    ));
    assert!(cbor_err(CborError::IndefiniteLength)(
        &Claims::decode(&[0xbf, 0xff]).unwrap_err()
    ));
    assert!(cbor_err(CborError::TrailingBytes)(
        &Claims::decode(&[0xa0, 0x00]).unwrap_err()
    ));
    assert!(cbor_err(CborError::UnexpectedType)(
        &Claims::decode(&[0xa1, 0xf9, 0x3c, 0x00, 0x01]).unwrap_err()
    ));
    assert!(cbor_err(CborError::Truncated)(
        &Claims::decode(&[0xa1, 0x0a]).unwrap_err()
    ));
    // An unknown claim nested deeper than the CBOR limit.
    let mut deep = vec![0xa1, 0x39, 0x01, 0x00];
    deep.extend([0x81; 20]);
    deep.push(0x00);
    assert!(cbor_err(CborError::TooDeep)(
        &Claims::decode(&deep).unwrap_err()
    ));
    // More claims than MAX_CLAIMS.
    let mut many = vec![0xb8, 65];
    for i in 0..65u8 {
        many.extend([0x38, i, 0x00]);
    }
    assert_eq!(
        Claims::decode(&many),
        Err(Error::Core(iot_core::Error::CapacityExceeded))
    );
    // A nested token that is not a tagged CBOR item.
    let untagged = [0xa1, 0x19, 0x01, 0x0a, 0xa1, 0x61, b'a', 0x41, 0x00];
    assert!(matches!(
        Claims::decode(&untagged),
        Err(Error::InvalidClaim {
            key: key::SUBMODS,
            ..
        })
    ));
}

#[test]
fn submodule_nesting_is_bounded() {
    // {266: {"a": {266: {"a": ... {} }}}} nested `levels` deep.
    fn nested(levels: usize) -> Vec<u8> {
        let mut v = Vec::new();
        for _ in 0..levels {
            v.extend([0xa1, 0x19, 0x01, 0x0a, 0xa1, 0x61, b'a']);
        }
        v.push(0xa0);
        v
    }
    let ok = nested(MAX_SUBMOD_DEPTH as usize);
    let c = Claims::decode(&ok).unwrap();
    // Walk down to the innermost claims-set.
    let mut set = c;
    for _ in 0..MAX_SUBMOD_DEPTH {
        let sub = set.submods.unwrap().iter().next().unwrap();
        let Submodule::Claims(s) = sub.module else {
            panic!()
        };
        set = s.claims().unwrap();
    }
    assert_eq!(set.iter().count(), 0);
    let too_deep = nested(MAX_SUBMOD_DEPTH as usize + 1);
    assert!(cbor_err(CborError::TooDeep)(
        &Claims::decode(&too_deep).unwrap_err()
    ));
    // Duplicate submodule names.
    let dup = [
        0xa1, 0x19, 0x01, 0x0a, 0xa2, 0x61, b'a', 0xa0, 0x61, b'a', 0xa0,
    ];
    assert!(cbor_err(CborError::DuplicateKey)(
        &Claims::decode(&dup).unwrap_err()
    ));
}

#[test]
fn encoder_refuses_what_the_decoder_would() {
    let mut buf = [0u8; 128];
    let bad = [
        Claims {
            nonce: Some(Nonce::One(&[0; 7])),
            ..Claims::default()
        },
        Claims {
            ueid: Some(&[0; 6]),
            ..Claims::default()
        },
        Claims {
            hwmodel: Some(&[]),
            ..Claims::default()
        },
        Claims {
            oemid: Some(OemId::Ieee(&[0; 4])),
            ..Claims::default()
        },
        Claims {
            dloas: Some(Seq::Items(&[])),
            ..Claims::default()
        },
        Claims {
            nbf: Some(NumericDate::Float(f64::NAN)),
            ..Claims::default()
        },
        Claims {
            location: Some(Location {
                speed: Some(f64::INFINITY),
                ..Location::default()
            }),
            ..Claims::default()
        },
    ];
    for c in &bad {
        let e = c.encode_to(&mut buf).unwrap_err();
        assert!(matches!(e, Error::InvalidClaim { .. }), "{c:?}: {e:?}");
    }
    // Two submodules with the same name.
    let one = Claims::default();
    let subs = [
        Submod {
            name: "a",
            module: Submodule::Claims(ClaimsSet::Claims(&one)),
        },
        Submod {
            name: "a",
            module: Submodule::Claims(ClaimsSet::Claims(&one)),
        },
    ];
    let c = Claims {
        submods: Some(Seq::Items(&subs)),
        ..Claims::default()
    };
    assert!(matches!(
        c.encode_to(&mut buf),
        Err(Error::InvalidClaim {
            key: key::SUBMODS,
            ..
        })
    ));
    // An extra claim under a modelled key, and two extras with one key.
    let x = [RawClaim {
        key: Label::Int(10),
        value: &[0x00],
    }];
    let c = Claims {
        extra: Extra::Items(&x),
        ..Claims::default()
    };
    assert!(matches!(
        c.encode_to(&mut buf),
        Err(Error::InvalidClaim { key: 10, .. })
    ));
    let x = [
        RawClaim {
            key: Label::Int(-90000),
            value: &[0x00],
        },
        RawClaim {
            key: Label::Int(-90000),
            value: &[0x01],
        },
    ];
    let c = Claims {
        extra: Extra::Items(&x),
        ..Claims::default()
    };
    assert_eq!(c.encode_to(&mut buf), Err(Error::ClaimOrder));
    // A buffer too small.
    let c = Claims {
        swname: Some("a long software name"),
        ..Claims::default()
    };
    assert_eq!(
        c.encode_to(&mut buf[..8]),
        Err(Error::Core(iot_core::Error::BufferTooSmall))
    );
}

#[test]
fn streaming_writer_checks_order_and_count() {
    let mut buf = [0u8; 64];
    let mut w = ClaimsWriter::new(&mut buf, 2).unwrap();
    w.claim(&Claim::Ueid(&[1; 7])).unwrap();
    assert_eq!(
        w.claim(&Claim::Nonce(Nonce::One(&[0; 8]))).unwrap_err(),
        Error::ClaimOrder
    );

    let mut w = ClaimsWriter::new(&mut buf, 2).unwrap();
    w.claim(&Claim::Nonce(Nonce::One(&[0; 8]))).unwrap();
    assert_eq!(
        w.claim(&Claim::Nonce(Nonce::One(&[0; 8]))).unwrap_err(),
        Error::ClaimOrder
    );

    let mut w = ClaimsWriter::new(&mut buf, 2).unwrap();
    w.claim(&Claim::OemBoot(true)).unwrap();
    assert_eq!(w.finish(), Err(Error::ClaimOrder));

    let mut w = ClaimsWriter::new(&mut buf, 3).unwrap();
    w.claim(&Claim::Iss("me")).unwrap();
    w.raw(Label::Int(-80000), &[0x01]).unwrap();
    assert!(matches!(
        w.raw(Label::Int(-90000), &[0x01, 0x02]),
        Err(Error::InvalidClaim { .. })
    ));
    assert!(matches!(
        w.raw(Label::Int(key::NONCE), &[0x01]),
        Err(Error::InvalidClaim { key: 10, .. })
    ));
    w.raw(Label::Text("z"), &[0xf5]).unwrap();
    assert_eq!(
        w.claim(&Claim::OemBoot(true)).unwrap_err(),
        Error::ClaimOrder
    );
    let n = w.finish().unwrap();
    let c = Claims::decode(&buf[..n]).unwrap();
    assert_eq!(c.iss, Some("me"));
    assert_eq!(c.extra.len(), 2);
    // Out-of-range values are refused with the claim key and the offset in the output.
    let mut w = ClaimsWriter::new(&mut buf, 2).unwrap();
    w.claim(&Claim::Iss("me")).unwrap();
    assert_eq!(
        w.claim(&Claim::Ueid(&[0; 40])).unwrap_err(),
        Error::InvalidClaim {
            key: key::UEID,
            offset: 8
        }
    );
}

#[test]
fn tokens_sign_mac_and_tags() {
    let mut c = RustCrypto::from_os();
    let mut sk = P256SigningKey::from_bytes(&[1; 32]).unwrap();
    let mut vk = sk.verifying_key();
    let claims = Claims {
        nonce: Some(Nonce::One(&[9; 16])),
        ueid: Some(&[1; 17]),
        oemboot: Some(true),
        ..Claims::default()
    };
    let (mut scratch, mut out) = ([0u8; 128], [0u8; 256]);
    for (cwt, cose) in [(true, true), (false, true), (false, false)] {
        let b = TokenBuilder::new().cwt_tag(cwt).cose_tag(cose);
        let n = b
            .sign(
                &mut c,
                &mut sk,
                Algorithm::Esp256,
                &claims,
                &mut scratch,
                &mut out,
            )
            .unwrap();
        assert_eq!(out[0] == 0xd8, cwt);
        let t = Token::decode(&out[..n]).unwrap();
        assert_eq!(t.cwt_tagged, cwt);
        assert_eq!(t.verify(&mut c, &mut vk, &[]).unwrap(), claims);
        assert!(t.verify(&mut c, &mut vk, b"aad").is_err());

        let k = SymmetricKey::new(&[7; 32]);
        let n = b.mac(&mut c, &k, &claims, &mut scratch, &mut out).unwrap();
        let t = Token::decode(&out[..n]).unwrap();
        assert_eq!(t.verify_mac(&mut c, &k, &[]).unwrap(), claims);
        assert!(t.verify(&mut c, &mut vk, &[]).is_err());
        assert!(
            t.verify_mac(&mut c, &SymmetricKey::new(&[8; 32]), &[])
                .is_err()
        );
    }
    // HMAC is not a signature algorithm; a too-small output fails cleanly.
    assert!(
        TokenBuilder::new()
            .sign(
                &mut c,
                &mut sk,
                Algorithm::Hmac256,
                &claims,
                &mut scratch,
                &mut out
            )
            .is_err()
    );
    assert_eq!(
        TokenBuilder::new().sign(
            &mut c,
            &mut sk,
            Algorithm::Es256,
            &claims,
            &mut scratch,
            &mut out[..1]
        ),
        Err(Error::Core(iot_core::Error::BufferTooSmall))
    );
    // A CWT tag around something that is not COSE_Sign1/Mac0.
    assert_eq!(
        Token::decode(&[0xd8, 0x3d, 0xd0, 0x80]),
        Err(Error::Core(iot_core::Error::WrongTag(16)))
    );
}
