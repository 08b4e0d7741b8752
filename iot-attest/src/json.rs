//! Claims by their JSON names (feature `std`): a claims-set to JSON and JSON to a claims-set,
//! following the JSON encoding of RFC 9711 (section 7.2.2: byte strings in base64url, enumerated
//! values by name) with the claim names of RFC 8392/7519, RFC 9711 section 10.1 and RFC 9783
//! section 4; and reference values for the appraisal.
//!
//! A claim whose JSON name this crate does not know can be given with its integer key as the
//! name (`"-70000": ...`); its value is then carried over by shape (numbers, text, booleans,
//! arrays, maps). Going to JSON, byte strings of such claims become base64url text, and they
//! come back as text: JSON cannot tell the two apart.

use crate::appraise::{RefComponent, RefMeasurement, ReferenceValues};
use crate::claim::Claim;
use crate::claims::Claims;
use crate::key;
use crate::label::Label;
use crate::psa::Lifecycle;
use crate::submod::{NestedToken, Submodule};
use crate::value::{
    Audience, Confirmation, DebugStatus, Nonce, NumericDate, OemId, Profile, ResultId, Version,
};
use base64ct::{Base64Url, Base64UrlUnpadded, Encoding};
use core::fmt;
use iot_core::cbor::{Limits, Reader};
use iot_core::cose::{CoseKey, Ec2Y};
use minicbor::Encoder;
use minicbor::data::Type;
use serde_json::{Map, Value, json};
use std::string::{String, ToString};
use std::vec::Vec;
use std::{format, vec};

/// What was wrong with a JSON input (or with converting claims to JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError(pub String);

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl core::error::Error for JsonError {}

impl From<crate::Error> for JsonError {
    fn from(e: crate::Error) -> Self {
        Self(e.to_string())
    }
}

type JResult<T> = core::result::Result<T, JsonError>;

fn err<T>(msg: impl Into<String>) -> JResult<T> {
    Err(JsonError(msg.into()))
}

/// Unpadded base64url (RFC 4648 section 5), as EAT's JSON encoding writes byte strings.
pub fn b64url(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// Decodes base64url, padded or not.
pub fn from_b64url(text: &str) -> Option<Vec<u8>> {
    Base64UrlUnpadded::decode_vec(text)
        .or_else(|_| Base64Url::decode_vec(text))
        .ok()
}

/// The claim names by CBOR key.
const NAMES: [(i64, &str); 37] = [
    (key::ISS, "iss"),
    (key::SUB, "sub"),
    (key::AUD, "aud"),
    (key::EXP, "exp"),
    (key::NBF, "nbf"),
    (key::IAT, "iat"),
    (key::CTI, "cti"),
    (key::CNF, "cnf"),
    (key::NONCE, "eat_nonce"),
    (key::UEID, "ueid"),
    (key::SUEIDS, "sueids"),
    (key::OEMID, "oemid"),
    (key::HWMODEL, "hwmodel"),
    (key::HWVERSION, "hwversion"),
    (key::UPTIME, "uptime"),
    (key::OEMBOOT, "oemboot"),
    (key::DBGSTAT, "dbgstat"),
    (key::LOCATION, "location"),
    (key::PROFILE, "eat_profile"),
    (key::SUBMODS, "submods"),
    (key::BOOTCOUNT, "bootcount"),
    (key::BOOTSEED, "bootseed"),
    (key::DLOAS, "dloas"),
    (key::SWNAME, "swname"),
    (key::SWVERSION, "swversion"),
    (key::MANIFESTS, "manifests"),
    (key::MEASUREMENTS, "measurements"),
    (key::MEASRES, "measres"),
    (key::INTUSE, "intuse"),
    (key::PSA_CLIENT_ID, "psa-client-id"),
    (key::PSA_LIFECYCLE, "psa-security-lifecycle"),
    (key::PSA_IMPLEMENTATION_ID, "psa-implementation-id"),
    (
        key::PSA_CERTIFICATION_REFERENCE,
        "psa-certification-reference",
    ),
    (key::PSA_SOFTWARE_COMPONENTS, "psa-software-components"),
    (key::PSA_VSI, "psa-verification-service-indicator"),
    (
        key::legacy::NO_SW_MEASUREMENTS,
        "arm_psa_no_sw_measurements",
    ),
    // Accepted on input for PSA's own name of the nonce claim; never written.
    (key::NONCE, "psa-nonce"),
];

/// The JSON name of claim `key`.
pub fn claim_name(key: i64) -> Option<&'static str> {
    NAMES.iter().find(|(k, _)| *k == key).map(|(_, n)| *n)
}

/// The CBOR key of the claim named `name`.
pub fn claim_key(name: &str) -> Option<i64> {
    NAMES.iter().find(|(_, n)| *n == name).map(|(k, _)| *k)
}

const DBGSTAT_NAMES: [&str; 5] = [
    "enabled",
    "disabled",
    "disabled-since-boot",
    "disabled-permanently",
    "disabled-fully-and-permanently",
];
const INTUSE_NAMES: [&str; 5] = ["generic", "registration", "provisioning", "csr", "pop"];
const MEASRES_NAMES: [&str; 4] = ["success", "fail", "not-run", "absent"];
const LOCATION_NAMES: [&str; 9] = [
    "lat",
    "long",
    "alt",
    "accry",
    "alt-accry",
    "heading",
    "speed",
    "timestamp",
    "age",
];
/// PSA lifecycle state names (RFC 9783 section 4.3.1, without the `psa-lifecycle-` prefix).
const LIFECYCLE_NAMES: [(&str, Lifecycle); 7] = [
    ("unknown", Lifecycle::Unknown),
    ("assembly-and-test", Lifecycle::AssemblyAndTest),
    ("psa-rot-provisioning", Lifecycle::PsaRotProvisioning),
    ("secured", Lifecycle::Secured),
    ("non-psa-rot-debug", Lifecycle::NonPsaRotDebug),
    (
        "recoverable-psa-rot-debug",
        Lifecycle::RecoverablePsaRotDebug,
    ),
    ("decommissioned", Lifecycle::Decommissioned),
];
/// COSE hash algorithm names of detached digests (RFC 9054).
const HASH_NAMES: [(i64, &str); 3] = [(-16, "SHA-256"), (-43, "SHA-384"), (-44, "SHA-512")];

// ---------------------------------------------------------------------------------------------
// CBOR claims to JSON

/// The claims as a JSON object with their names; a claim without a JSON name is given under
/// its integer key.
pub fn claims_to_json(claims: &Claims<'_>) -> JResult<Value> {
    let mut out = Map::new();
    for c in claims.iter() {
        let key = c.key().unwrap_or(crate::error::NO_KEY);
        let name = claim_name(key).map_or_else(|| key.to_string(), String::from);
        out.insert(name, claim_to_json(&c)?);
    }
    for x in claims.extra.iter() {
        let name = match x.key {
            Label::Int(i) => i.to_string(),
            Label::Text(t) => t.to_string(),
        };
        out.insert(name, cbor_to_json(x.value)?);
    }
    Ok(Value::Object(out))
}

fn b64v(b: &[u8]) -> Value {
    Value::String(b64url(b))
}

fn date(t: NumericDate) -> Value {
    match t {
        NumericDate::Int(i) => json!(i),
        NumericDate::Float(f) => json!(f),
    }
}

fn version(v: Version<'_>) -> Value {
    match v.scheme {
        None => json!([v.version]),
        Some(Label::Int(i)) => json!([v.version, i]),
        Some(Label::Text(t)) => json!([v.version, t]),
    }
}

fn claim_to_json(c: &Claim<'_>) -> JResult<Value> {
    Ok(match c {
        Claim::Iss(s)
        | Claim::Sub(s)
        | Claim::SwName(s)
        | Claim::PsaCertificationReference(s)
        | Claim::PsaVsi(s) => json!(s),
        Claim::Aud(Audience::One(s)) => json!(s),
        Claim::Aud(Audience::Many(list)) => json!(list.iter().collect::<Vec<_>>()),
        Claim::Exp(t) | Claim::Nbf(t) | Claim::Iat(t) => date(*t),
        Claim::Cti(b)
        | Claim::Ueid(b)
        | Claim::HwModel(b)
        | Claim::BootSeed(b)
        | Claim::PsaImplementationId(b) => b64v(b),
        Claim::Cnf(c) => confirmation(c)?,
        Claim::Nonce(Nonce::One(n)) => b64v(n),
        Claim::Nonce(Nonce::Many(list)) => Value::Array(list.iter().map(b64v).collect()),
        Claim::Sueids(s) => Value::Object(
            s.iter()
                .map(|x| (x.name.to_string(), b64v(x.ueid)))
                .collect(),
        ),
        Claim::OemId(OemId::Pen(p)) => json!(p),
        Claim::OemId(OemId::Random(b) | OemId::Ieee(b)) => b64v(b),
        Claim::HwVersion(v) | Claim::SwVersion(v) => version(*v),
        Claim::Uptime(n)
        | Claim::BootCount(n)
        | Claim::PsaLifecycle(n)
        | Claim::PsaNoSwMeasurements(n) => json!(n),
        Claim::OemBoot(b) => json!(b),
        Claim::DbgStat(d) => json!(DBGSTAT_NAMES.get(*d as usize).copied().unwrap_or("?")),
        Claim::Location(l) => {
            let mut m = Map::new();
            m.insert("lat".into(), json!(l.latitude));
            m.insert("long".into(), json!(l.longitude));
            let opt = [
                ("alt", l.altitude),
                ("accry", l.accuracy),
                ("alt-accry", l.altitude_accuracy),
                ("heading", l.heading),
                ("speed", l.speed),
            ];
            for (n, v) in opt {
                if let Some(v) = v {
                    m.insert(n.into(), json!(v));
                }
            }
            if let Some(t) = l.timestamp {
                m.insert("timestamp".into(), json!(t));
            }
            if let Some(a) = l.age {
                m.insert("age".into(), json!(a));
            }
            Value::Object(m)
        }
        Claim::Profile(Profile::Uri(u)) => json!(u),
        Claim::Profile(Profile::Oid(o)) => json!(oid_to_text(o)?),
        Claim::Submods(s) => {
            let mut m = Map::new();
            for sub in s.iter() {
                let v = match sub.module {
                    Submodule::Claims(set) => claims_to_json(&set.claims()?)?,
                    Submodule::Token(NestedToken::Cbor(b)) => json!(["CBOR", b64url(b)]),
                    Submodule::Token(NestedToken::Json(t)) => json!(["JWT", t]),
                    Submodule::Digest(d) => {
                        let alg = match d.alg {
                            Label::Int(i) => HASH_NAMES
                                .iter()
                                .find(|(k, _)| *k == i)
                                .map_or_else(|| json!(i), |(_, n)| json!(n)),
                            Label::Text(t) => json!(t),
                        };
                        json!(["DIGEST", [alg, b64url(d.digest)]])
                    }
                };
                m.insert(sub.name.to_string(), v);
            }
            Value::Object(m)
        }
        Claim::Dloas(d) => Value::Array(
            d.iter()
                .map(|x| match x.application_label {
                    Some(a) => json!([x.registrar, x.platform_label, a]),
                    None => json!([x.registrar, x.platform_label]),
                })
                .collect(),
        ),
        Claim::Manifests(s) | Claim::Measurements(s) => Value::Array(
            s.iter()
                .map(|t| json!([t.content_format, b64url(t.content)]))
                .collect(),
        ),
        Claim::MeasRes(groups) => Value::Array(
            groups
                .iter()
                .map(|g| {
                    let results: Vec<Value> = g
                        .results
                        .iter()
                        .map(|r| {
                            let id = match r.id {
                                ResultId::Text(t) => json!(t),
                                ResultId::Bytes(b) => b64v(b),
                            };
                            let name = MEASRES_NAMES
                                .get(r.result as usize - 1)
                                .copied()
                                .unwrap_or("?");
                            json!([id, name])
                        })
                        .collect();
                    json!([g.system, results])
                })
                .collect(),
        ),
        Claim::IntUse(u) => json!(INTUSE_NAMES.get(*u as usize - 1).copied().unwrap_or("?")),
        Claim::PsaClientId(i) => json!(i),
        Claim::PsaSoftwareComponents(s) => Value::Array(
            s.iter()
                .map(|c| {
                    let mut m = Map::new();
                    if let Some(t) = c.measurement_type {
                        m.insert("measurement-type".into(), json!(t));
                    }
                    if let Some(v) = c.measurement_value {
                        m.insert("measurement-value".into(), b64v(v));
                    }
                    if let Some(v) = c.version {
                        m.insert("version".into(), json!(v));
                    }
                    if let Some(s) = c.signer_id {
                        m.insert("signer-id".into(), b64v(s));
                    }
                    if let Some(d) = c.measurement_desc {
                        m.insert("measurement-description".into(), json!(d));
                    }
                    Value::Object(m)
                })
                .collect(),
        ),
        Claim::Unknown(raw) => cbor_to_json(raw)?,
    })
}

fn confirmation(c: &Confirmation<'_>) -> JResult<Value> {
    Ok(match c {
        Confirmation::Key(CoseKey::Ec2 {
            kid,
            x,
            y: Ec2Y::Coordinate(y),
            ..
        }) => {
            let mut jwk = json!({"kty": "EC", "crv": "P-256", "x": b64url(x), "y": b64url(y)});
            if let (Some(kid), Some(m)) = (kid, jwk.as_object_mut()) {
                m.insert("kid".into(), b64v(kid));
            }
            json!({ "jwk": jwk })
        }
        Confirmation::Key(CoseKey::Symmetric(k)) => {
            json!({"jwk": {"kty": "oct", "k": b64url(k.k)}})
        }
        Confirmation::Key(k) => {
            let mut buf = vec![0u8; 256];
            let n = k.encode_to(&mut buf).map_err(crate::Error::from)?;
            buf.truncate(n);
            json!({ "COSE_Key": b64url(&buf) })
        }
        Confirmation::EncryptedKey(raw) => json!({ "Encrypted_COSE_Key": b64url(raw) }),
        Confirmation::Kid(kid) => json!({ "kid": b64url(kid) }),
        Confirmation::Other { method, value } => {
            let mut m = Map::new();
            m.insert(method.to_string(), cbor_to_json(value)?);
            Value::Object(m)
        }
    })
}

/// An OID's BER content bytes as dotted decimal.
fn oid_to_text(oid: &[u8]) -> JResult<String> {
    let mut arcs: Vec<u64> = Vec::new();
    let mut acc: u64 = 0;
    for (i, b) in oid.iter().enumerate() {
        if acc == 0 && *b == 0x80 {
            return err("OID arc with a leading 0x80");
        }
        acc = acc
            .checked_mul(128)
            .ok_or_else(|| JsonError("OID arc too large".into()))?
            | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (acc / 40).min(2);
                arcs.push(first);
                arcs.push(acc - first * 40);
            } else {
                arcs.push(acc);
            }
            acc = 0;
        } else if i + 1 == oid.len() {
            return err("OID ends inside an arc");
        }
    }
    if arcs.is_empty() {
        return err("empty OID");
    }
    Ok(arcs
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join("."))
}

/// A dotted-decimal OID as BER content bytes, or `None` when `text` is not one.
fn oid_from_text(text: &str) -> Option<Vec<u8>> {
    let arcs: Vec<u64> = text
        .split('.')
        .map(|a| {
            (!a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()))
                .then(|| a.parse().ok())
                .flatten()
        })
        .collect::<Option<_>>()?;
    let (&first, rest) = arcs.split_first()?;
    let (&second, rest) = rest.split_first()?;
    if first > 2 || (first < 2 && second >= 40) {
        return None;
    }
    let mut out = Vec::new();
    for arc in core::iter::once(first * 40 + second).chain(rest.iter().copied()) {
        let mut groups = vec![(arc & 0x7f) as u8];
        let mut v = arc >> 7;
        while v > 0 {
            groups.push((v & 0x7f) as u8 | 0x80);
            v >>= 7;
        }
        out.extend(groups.iter().rev());
    }
    Some(out)
}

/// A CBOR item as JSON by shape: byte strings become base64url text, tags are dropped, map
/// keys become text.
pub fn cbor_to_json(raw: &[u8]) -> JResult<Value> {
    let mut r = Reader::with_limits(raw, Limits::default());
    let v = item_to_json(&mut r, 0)?;
    r.finish().map_err(crate::Error::from)?;
    Ok(v)
}

fn item_to_json(r: &mut Reader<'_>, depth: u8) -> JResult<Value> {
    if depth > Limits::default().max_depth {
        return err("CBOR nested too deeply");
    }
    let e = |e: iot_core::Error| JsonError::from(crate::Error::from(e));
    Ok(match r.datatype().map_err(e)? {
        Type::Bool => json!(r.bool().map_err(e)?),
        Type::Null | Type::Undefined => {
            r.skip().map_err(e)?;
            Value::Null
        }
        Type::U8 | Type::U16 | Type::U32 | Type::U64 => json!(r.uint().map_err(e)?),
        Type::I8 | Type::I16 | Type::I32 | Type::I64 | Type::Int => json!(r.int().map_err(e)?),
        Type::F16 | Type::F32 | Type::F64 => json!(crate::util::float(r)?),
        Type::Bytes => b64v(r.bytes().map_err(e)?),
        Type::String => json!(r.str().map_err(e)?),
        Type::Array => {
            let n = r.array().map_err(e)?;
            let mut a = Vec::new();
            for _ in 0..n {
                a.push(item_to_json(r, depth + 1)?);
            }
            Value::Array(a)
        }
        Type::Map => {
            let n = r.map().map_err(e)?;
            let mut m = Map::new();
            for _ in 0..n {
                let k = match item_to_json(r, depth + 1)? {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                m.insert(k, item_to_json(r, depth + 1)?);
            }
            Value::Object(m)
        }
        Type::Tag => {
            r.opt_tag().map_err(e)?;
            item_to_json(r, depth + 1)?
        }
        _ => return err("a CBOR item JSON cannot represent"),
    })
}

// ---------------------------------------------------------------------------------------------
// JSON claims to CBOR

/// Turns a JSON claims-set (claims by their names) into its CBOR encoding, checked by the
/// claims decoder and written in deterministic order with preferred serialization.
pub fn claims_from_json(value: &Value) -> JResult<Vec<u8>> {
    let mut e = Encoder::new(Vec::new());
    write_set(&mut e, value, 0)?;
    let raw = e.into_writer();
    let claims = Claims::decode(&raw)?;
    let mut out = vec![0u8; raw.len() * 2 + 64];
    let n = claims.encode_to(&mut out)?;
    out.truncate(n);
    Ok(out)
}

type Enc = Encoder<Vec<u8>>;

fn w<E>(_: minicbor::encode::Error<E>) -> JsonError {
    JsonError("CBOR encoding failed".into())
}

fn write_set(e: &mut Enc, value: &Value, depth: u8) -> JResult<()> {
    let Some(obj) = value.as_object() else {
        return err("a claims-set must be a JSON object");
    };
    if depth > crate::MAX_SUBMOD_DEPTH {
        return err("submodules nested too deeply");
    }
    e.map(obj.len() as u64).map_err(w)?;
    for (name, v) in obj {
        let key = match claim_key(name) {
            Some(k) => k,
            None => match name.parse::<i64>() {
                Ok(k) => {
                    e.i64(k).map_err(w)?;
                    write_generic(e, v, 0)?;
                    continue;
                }
                Err(_) => return err(format!("unknown claim name \"{name}\"")),
            },
        };
        e.i64(key).map_err(w)?;
        write_claim(e, key, v, depth).map_err(|JsonError(m)| JsonError(format!("{name}: {m}")))?;
    }
    Ok(())
}

fn text(v: &Value) -> JResult<&str> {
    v.as_str()
        .ok_or_else(|| JsonError("expected a string".into()))
}

fn bytes(v: &Value) -> JResult<Vec<u8>> {
    from_b64url(text(v)?).ok_or_else(|| JsonError("expected base64url text".into()))
}

fn array(v: &Value) -> JResult<&Vec<Value>> {
    v.as_array()
        .ok_or_else(|| JsonError("expected an array".into()))
}

fn uint(v: &Value) -> JResult<u64> {
    v.as_u64()
        .ok_or_else(|| JsonError("expected an unsigned integer".into()))
}

fn int(v: &Value) -> JResult<i64> {
    v.as_i64()
        .ok_or_else(|| JsonError("expected an integer".into()))
}

fn by_name(v: &Value, names: &[&str], base: u8) -> JResult<u8> {
    if let Some(n) = v.as_u64() {
        return u8::try_from(n).map_err(|_| JsonError("value out of range".into()));
    }
    let t = text(v)?;
    names
        .iter()
        .position(|n| *n == t)
        .and_then(|i| u8::try_from(i).ok())
        .map(|i| i + base)
        .ok_or_else(|| JsonError(format!("\"{t}\" is not one of {}", names.join(", "))))
}

fn number(e: &mut Enc, v: &Value) -> JResult<()> {
    if let Some(i) = v.as_i64() {
        e.i64(i).map_err(w)?;
    } else if let Some(u) = v.as_u64() {
        e.u64(u).map_err(w)?;
    } else if let Some(f) = v.as_f64() {
        e.f64(f).map_err(w)?;
    } else {
        return err("expected a number");
    }
    Ok(())
}

fn write_version(e: &mut Enc, v: &Value) -> JResult<()> {
    let a = array(v)?;
    match a.as_slice() {
        [version] => {
            e.array(1).map_err(w)?.str(text(version)?).map_err(w)?;
        }
        [version, scheme] => {
            e.array(2).map_err(w)?.str(text(version)?).map_err(w)?;
            match scheme.as_i64() {
                Some(i) => e.i64(i).map_err(w)?,
                None => e.str(text(scheme)?).map_err(w)?,
            };
        }
        _ => return err("expected [version, scheme?]"),
    }
    Ok(())
}

fn write_claim(e: &mut Enc, key: i64, v: &Value, depth: u8) -> JResult<()> {
    match key {
        key::ISS | key::SUB | key::SWNAME | key::PSA_CERTIFICATION_REFERENCE | key::PSA_VSI => {
            e.str(text(v)?).map_err(w)?;
        }
        key::AUD => match v.as_array() {
            Some(list) => {
                e.array(list.len() as u64).map_err(w)?;
                for a in list {
                    e.str(text(a)?).map_err(w)?;
                }
            }
            None => {
                e.str(text(v)?).map_err(w)?;
            }
        },
        key::EXP | key::NBF | key::IAT => number(e, v)?,
        key::CTI | key::UEID | key::HWMODEL | key::BOOTSEED | key::PSA_IMPLEMENTATION_ID => {
            e.bytes(&bytes(v)?).map_err(w)?;
        }
        key::CNF => write_cnf(e, v)?,
        key::NONCE => match v.as_array() {
            Some(list) => {
                e.array(list.len() as u64).map_err(w)?;
                for n in list {
                    e.bytes(&bytes(n)?).map_err(w)?;
                }
            }
            None => {
                e.bytes(&bytes(v)?).map_err(w)?;
            }
        },
        key::SUEIDS => {
            let Some(m) = v.as_object() else {
                return err("expected an object of names and UEIDs");
            };
            e.map(m.len() as u64).map_err(w)?;
            for (name, ueid) in m {
                e.str(name).map_err(w)?.bytes(&bytes(ueid)?).map_err(w)?;
            }
        }
        key::OEMID => match v.as_u64() {
            Some(pen) => {
                e.u64(pen).map_err(w)?;
            }
            None => {
                e.bytes(&bytes(v)?).map_err(w)?;
            }
        },
        key::HWVERSION | key::SWVERSION => write_version(e, v)?,
        key::UPTIME | key::BOOTCOUNT | key::PSA_LIFECYCLE | key::legacy::NO_SW_MEASUREMENTS => {
            e.u64(uint(v)?).map_err(w)?;
        }
        key::OEMBOOT => {
            e.bool(
                v.as_bool()
                    .ok_or_else(|| JsonError("expected true or false".into()))?,
            )
            .map_err(w)?;
        }
        key::DBGSTAT => {
            e.u8(by_name(v, &DBGSTAT_NAMES, 0)?).map_err(w)?;
        }
        key::INTUSE => {
            e.u8(by_name(v, &INTUSE_NAMES, 1)?).map_err(w)?;
        }
        key::LOCATION => {
            let Some(m) = v.as_object() else {
                return err("expected an object");
            };
            e.map(m.len() as u64).map_err(w)?;
            for (n, x) in m {
                let k = LOCATION_NAMES
                    .iter()
                    .position(|l| l == n)
                    .ok_or_else(|| JsonError(format!("unknown location field \"{n}\"")))?;
                e.u64(k as u64 + 1).map_err(w)?;
                number(e, x)?;
            }
        }
        key::PROFILE => {
            let t = text(v)?;
            match oid_from_text(t) {
                Some(oid) => e.bytes(&oid).map_err(w)?,
                None => e.str(t).map_err(w)?,
            };
        }
        key::SUBMODS => {
            let Some(m) = v.as_object() else {
                return err("expected an object of submodules");
            };
            e.map(m.len() as u64).map_err(w)?;
            for (name, sub) in m {
                e.str(name).map_err(w)?;
                write_submod(e, sub, depth)
                    .map_err(|JsonError(msg)| JsonError(format!("\"{name}\": {msg}")))?;
            }
        }
        key::DLOAS => {
            let list = array(v)?;
            e.array(list.len() as u64).map_err(w)?;
            for d in list {
                let parts = array(d)?;
                if !(2..=3).contains(&parts.len()) {
                    return err("a DLOA is [registrar, platform label, application label?]");
                }
                e.array(parts.len() as u64).map_err(w)?;
                for p in parts {
                    e.str(text(p)?).map_err(w)?;
                }
            }
        }
        key::MANIFESTS | key::MEASUREMENTS => {
            let list = array(v)?;
            e.array(list.len() as u64).map_err(w)?;
            for m in list {
                let [cf, content] = array(m)?.as_slice() else {
                    return err("expected [content format, base64url content]");
                };
                e.array(2).map_err(w)?.u64(uint(cf)?).map_err(w)?;
                e.bytes(&bytes(content)?).map_err(w)?;
            }
        }
        key::MEASRES => {
            let groups = array(v)?;
            e.array(groups.len() as u64).map_err(w)?;
            for g in groups {
                let [system, results] = array(g)?.as_slice() else {
                    return err("expected [measurement system, results]");
                };
                let results = array(results)?;
                e.array(2).map_err(w)?.str(text(system)?).map_err(w)?;
                e.array(results.len() as u64).map_err(w)?;
                for r in results {
                    let [id, result] = array(r)?.as_slice() else {
                        return err("expected [id, result]");
                    };
                    e.array(2).map_err(w)?.str(text(id)?).map_err(w)?;
                    e.u8(by_name(result, &MEASRES_NAMES, 1)?).map_err(w)?;
                }
            }
        }
        key::PSA_CLIENT_ID => {
            e.i64(int(v)?).map_err(w)?;
        }
        key::PSA_SOFTWARE_COMPONENTS => {
            let list = array(v)?;
            e.array(list.len() as u64).map_err(w)?;
            for c in list {
                let Some(m) = c.as_object() else {
                    return err("a software component is an object");
                };
                e.map(m.len() as u64).map_err(w)?;
                for (n, x) in m {
                    match n.as_str() {
                        "measurement-type" => e.u8(1).map_err(w)?.str(text(x)?).map_err(w)?,
                        "measurement-value" => e.u8(2).map_err(w)?.bytes(&bytes(x)?).map_err(w)?,
                        "version" => e.u8(4).map_err(w)?.str(text(x)?).map_err(w)?,
                        "signer-id" => e.u8(5).map_err(w)?.bytes(&bytes(x)?).map_err(w)?,
                        "measurement-description" => {
                            e.u8(6).map_err(w)?.str(text(x)?).map_err(w)?
                        }
                        other => {
                            return err(format!("unknown software component field \"{other}\""));
                        }
                    };
                }
            }
        }
        _ => write_generic(e, v, 0)?,
    }
    Ok(())
}

fn write_submod(e: &mut Enc, v: &Value, depth: u8) -> JResult<()> {
    if v.is_object() {
        return write_set(e, v, depth + 1);
    }
    match array(v)?.as_slice() {
        [kind, token] if kind == "CBOR" => {
            e.bytes(&bytes(token)?).map_err(w)?;
        }
        [kind, token] if kind == "JWT" || kind == "JSON" => {
            e.str(text(token)?).map_err(w)?;
        }
        [kind, digest] if kind == "DIGEST" => {
            let [alg, d] = array(digest)?.as_slice() else {
                return err("expected [\"DIGEST\", [algorithm, base64url digest]]");
            };
            e.array(2).map_err(w)?;
            match alg.as_i64() {
                Some(i) => e.i64(i).map_err(w)?,
                None => {
                    let name = text(alg)?;
                    match HASH_NAMES.iter().find(|(_, n)| *n == name) {
                        Some((id, _)) => e.i64(*id).map_err(w)?,
                        None => e.str(name).map_err(w)?,
                    }
                }
            };
            e.bytes(&bytes(d)?).map_err(w)?;
        }
        _ => {
            return err(
                "a submodule is a claims object, [\"CBOR\", token], [\"JWT\", token] or [\"DIGEST\", [alg, digest]]",
            );
        }
    }
    Ok(())
}

fn write_cnf(e: &mut Enc, v: &Value) -> JResult<()> {
    let Some(m) = v.as_object() else {
        return err("expected an object");
    };
    if m.len() != 1 {
        return err("cnf holds exactly one key (RFC 8747 section 3.1)");
    }
    e.map(1).map_err(w)?;
    if let Some(kid) = m.get("kid") {
        e.u8(3).map_err(w)?.bytes(&bytes(kid)?).map_err(w)?;
        return Ok(());
    }
    if let Some(raw) = m.get("COSE_Key") {
        let raw = bytes(raw)?;
        CoseKey::decode(&raw).map_err(crate::Error::from)?;
        e.u8(1).map_err(w)?;
        e.writer_mut().extend_from_slice(&raw);
        return Ok(());
    }
    let Some(jwk) = m.get("jwk").and_then(Value::as_object) else {
        return err("cnf must hold \"jwk\", \"kid\" or \"COSE_Key\"");
    };
    let field = |n: &str| {
        jwk.get(n)
            .ok_or_else(|| JsonError(format!("JWK without \"{n}\"")))
            .and_then(bytes)
    };
    let kid = jwk.get("kid").map(bytes).transpose()?;
    let kty = jwk.get("kty").and_then(Value::as_str);
    let key = match kty {
        Some("EC") => {
            if jwk.get("crv").and_then(Value::as_str) != Some("P-256") {
                return err("only P-256 EC keys");
            }
            (field("x")?, Some(field("y")?))
        }
        Some("oct") => (field("k")?, None),
        _ => return err("JWK kty must be \"EC\" or \"oct\""),
    };
    let cose = match &key {
        (x, Some(y)) => CoseKey::Ec2 {
            kid: kid.as_deref(),
            alg: None,
            x,
            y: Ec2Y::Coordinate(y),
            d: None,
        },
        (k, None) => CoseKey::Symmetric(iot_core::cose::SymmetricKey {
            kid: kid.as_deref(),
            ..iot_core::cose::SymmetricKey::new(k)
        }),
    };
    let mut buf = vec![0u8; 256];
    let n = cose.encode_to(&mut buf).map_err(crate::Error::from)?;
    e.u8(1).map_err(w)?;
    e.writer_mut()
        .extend_from_slice(buf.get(..n).unwrap_or_default());
    Ok(())
}

fn write_generic(e: &mut Enc, v: &Value, depth: u8) -> JResult<()> {
    if depth > Limits::default().max_depth {
        return err("JSON nested too deeply");
    }
    match v {
        Value::Null => {
            e.null().map_err(w)?;
        }
        Value::Bool(b) => {
            e.bool(*b).map_err(w)?;
        }
        Value::Number(_) => number(e, v)?,
        Value::String(s) => {
            e.str(s).map_err(w)?;
        }
        Value::Array(a) => {
            e.array(a.len() as u64).map_err(w)?;
            for x in a {
                write_generic(e, x, depth + 1)?;
            }
        }
        Value::Object(m) => {
            e.map(m.len() as u64).map_err(w)?;
            for (k, x) in m {
                match k.parse::<i64>() {
                    Ok(i) => e.i64(i).map_err(w)?,
                    Err(_) => e.str(k).map_err(w)?,
                };
                write_generic(e, x, depth + 1)?;
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Reference values

impl ReferenceValues {
    /// Reads reference values from JSON:
    ///
    /// ```json
    /// {
    ///   "policy_id": "acme-sensor/2025-06",
    ///   "implementation_id": "<hex>",
    ///   "software_components": [
    ///     {"measurement_type": "BL", "measurement_value": "<hex>", "signer_id": "<hex>",
    ///      "version": "1.2.0"}
    ///   ],
    ///   "lifecycle": ["secured"],
    ///   "debug_status": ["disabled-since-boot", "disabled-permanently"],
    ///   "measurements": [{"name": "app", "digest": "<hex SHA-256>", "version": "1.2.0"}],
    ///   "manifests": ["<hex SHA-256 SUIT_Digest bytes>"],
    ///   "submods": {"tee": { <reference values of the submodule "tee"> }}
    /// }
    /// ```
    ///
    /// Every member is optional. Bytes are hex. Lifecycle states are named as in RFC 9783
    /// section 4.3.1 without the `psa-lifecycle-` prefix (`secured`, `non-psa-rot-debug`...) or
    /// given as claim values; debug states by their RFC 9711 names or values. Unknown members
    /// are refused, so that a misspelt constraint is never silently ignored.
    pub fn from_json(input: &str) -> JResult<Self> {
        let v: Value =
            serde_json::from_str(input).map_err(|e| JsonError(format!("reference values: {e}")))?;
        Self::from_value(&v)
    }

    fn from_value(v: &Value) -> JResult<Self> {
        let Some(m) = v.as_object() else {
            return err("reference values must be a JSON object");
        };
        let hex = |v: &Value, what: &str| -> JResult<Vec<u8>> {
            v.as_str()
                .and_then(|s| hex::decode(s).ok())
                .ok_or_else(|| JsonError(format!("{what} must be hex")))
        };
        let mut r = Self::default();
        for (name, v) in m {
            match name.as_str() {
                "policy_id" => r.policy_id = Some(text(v)?.to_string()),
                "implementation_id" => r.implementation_id = Some(hex(v, name)?),
                "software_components" => {
                    for c in array(v)? {
                        let Some(c) = c.as_object() else {
                            return err("a software component is an object");
                        };
                        let mut rc = RefComponent::default();
                        let mut has_value = false;
                        for (n, x) in c {
                            match n.as_str() {
                                "measurement_type" => {
                                    rc.measurement_type = Some(text(x)?.to_string());
                                }
                                "measurement_value" => {
                                    rc.measurement_value = hex(x, n)?;
                                    has_value = true;
                                }
                                "signer_id" => rc.signer_id = Some(hex(x, n)?),
                                "version" => rc.version = Some(text(x)?.to_string()),
                                other => {
                                    return err(format!(
                                        "unknown software component member \"{other}\""
                                    ));
                                }
                            }
                        }
                        if !has_value {
                            return err("a reference software component needs measurement_value");
                        }
                        r.software_components.push(rc);
                    }
                }
                "lifecycle" => {
                    let mut states = Vec::new();
                    for s in array(v)? {
                        let state = match s.as_u64() {
                            Some(n) => Lifecycle::from_value(n),
                            None => {
                                let t = text(s)?;
                                let t = t.strip_prefix("psa-lifecycle-").unwrap_or(t);
                                LIFECYCLE_NAMES
                                    .iter()
                                    .find(|(n, _)| *n == t)
                                    .map(|(_, l)| *l)
                            }
                        };
                        states.push(state.ok_or_else(|| {
                            JsonError(format!("lifecycle: {s} is not a PSA lifecycle state"))
                        })?);
                    }
                    r.lifecycle = Some(states);
                }
                "debug_status" => {
                    let mut states = Vec::new();
                    for s in array(v)? {
                        let n = by_name(s, &DBGSTAT_NAMES, 0)?;
                        states.push(DebugStatus::from_value(u64::from(n)).ok_or_else(|| {
                            JsonError(format!("debug_status: {s} is not a debug state"))
                        })?);
                    }
                    r.debug_status = Some(states);
                }
                "measurements" => {
                    for c in array(v)? {
                        let Some(c) = c.as_object() else {
                            return err("a reference measurement is an object");
                        };
                        let mut rm = RefMeasurement::default();
                        for (n, x) in c {
                            match n.as_str() {
                                "name" => rm.name = text(x)?.to_string(),
                                "digest" => rm.digest = hex(x, n)?,
                                "version" => rm.version = Some(text(x)?.to_string()),
                                other => {
                                    return err(format!("unknown measurement member \"{other}\""));
                                }
                            }
                        }
                        if rm.name.is_empty() || rm.digest.is_empty() {
                            return err("a reference measurement needs name and digest");
                        }
                        r.measurements.push(rm);
                    }
                }
                "manifests" => {
                    for d in array(v)? {
                        r.manifests.push(hex(d, name)?);
                    }
                }
                "submods" => {
                    let Some(subs) = v.as_object() else {
                        return err("submods must be an object of reference values by name");
                    };
                    for (n, x) in subs {
                        r.submods.push((n.clone(), Self::from_value(x)?));
                    }
                }
                other => return err(format!("unknown reference value \"{other}\"")),
            }
        }
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oids_round_trip() {
        // 2.16.840.1.101.3.4.2.1 (SHA-256)
        let ber = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
        assert_eq!(oid_to_text(&ber).unwrap(), "2.16.840.1.101.3.4.2.1");
        assert_eq!(oid_from_text("2.16.840.1.101.3.4.2.1").unwrap(), ber);
        assert_eq!(oid_from_text("tag:example"), None);
        assert_eq!(oid_from_text("1.40"), None);
        assert!(oid_to_text(&[0x86]).is_err());
    }
}
