//! Test support: builds SUIT envelopes around hand-written manifests (a test-only builder; the
//! crate's own builder is a later step of issue 4).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    dead_code
)]

use iot_core::cose::{Algorithm, Mac0Builder, Sign1Builder, SymmetricKey};
use iot_core::crypto::{P256SigningKey, RustCrypto, Sha256};
use minicbor::Encoder;

pub type Enc = Encoder<Vec<u8>>;

/// The bytes `f` encodes.
pub fn cbor(f: impl FnOnce(&mut Enc)) -> Vec<u8> {
    let mut e = Encoder::new(Vec::new());
    f(&mut e);
    e.into_writer()
}

/// `bstr .cbor` of what `f` encodes: the head and the content.
pub fn bstr(content: &[u8]) -> Vec<u8> {
    cbor(|e| {
        e.bytes(content).unwrap();
    })
}

pub fn crypto() -> impl iot_core::crypto::Crypto {
    RustCrypto::from_os()
}

/// A fixed signing key (deterministic ECDSA, so envelopes are reproducible).
pub fn signing_key() -> P256SigningKey {
    P256SigningKey::from_bytes(&[0x11; 32]).unwrap()
}

pub const MAC_KEY: [u8; 32] = [0x42; 32];

/// How an envelope is authenticated.
#[derive(Clone, Copy)]
pub enum Auth {
    /// COSE_Sign1 ESP256 under [`signing_key`].
    Sign1,
    /// COSE_Mac0 HMAC 256/256 under [`MAC_KEY`].
    Mac0,
    /// No authentication block.
    None,
}

/// The encoded SUIT_Digest of the bstr-wrapped `manifest`.
pub fn digest_of(manifest: &[u8]) -> Vec<u8> {
    let d = crypto().sha256(&bstr(manifest));
    cbor(|e| {
        e.array(2).unwrap().i64(-16).unwrap().bytes(&d).unwrap();
    })
}

/// The authentication block for `digest` (an encoded SUIT_Digest).
pub fn auth_block(auth: Auth, digest: &[u8]) -> Option<Vec<u8>> {
    let mut out = vec![0u8; 256];
    let mut c = crypto();
    let n = match auth {
        Auth::Sign1 => Sign1Builder {
            detached: true,
            ..Sign1Builder::new(Algorithm::Esp256)
        }
        .sign(&mut c, &mut signing_key(), digest, &[], &mut out)
        .unwrap(),
        Auth::Mac0 => Mac0Builder {
            detached: true,
            ..Mac0Builder::new()
        }
        .mac(&mut c, &SymmetricKey::new(&MAC_KEY), digest, &[], &mut out)
        .unwrap(),
        Auth::None => return None,
    };
    out.truncate(n);
    Some(out)
}

/// A member of the envelope besides the wrapper and the manifest.
pub enum Extra<'x> {
    /// An integer key (a severed member) with a bstr value.
    Int(i64, &'x [u8]),
    /// An integrated payload.
    Text(&'x str, &'x [u8]),
}

/// A tagged envelope: authentication wrapper, manifest, and `extra` members.
pub fn envelope(manifest: &[u8], auth: Auth, extra: &[Extra<'_>]) -> Vec<u8> {
    let digest = digest_of(manifest);
    let wrapper = cbor(|e| {
        let block = auth_block(auth, &digest);
        e.array(1 + u64::from(block.is_some())).unwrap();
        e.bytes(&digest).unwrap();
        if let Some(b) = block {
            e.bytes(&b).unwrap();
        }
    });
    cbor(|e| {
        e.tag(minicbor::data::Tag::new(107)).unwrap();
        e.map(2 + extra.len() as u64).unwrap();
        e.u8(2).unwrap().bytes(&wrapper).unwrap();
        e.u8(3).unwrap().bytes(manifest).unwrap();
        for x in extra {
            match x {
                Extra::Int(k, v) => e.i64(*k).unwrap().bytes(v).unwrap(),
                Extra::Text(k, v) => e.str(k).unwrap().bytes(v).unwrap(),
            };
        }
    })
}

/// `SUIT_Common` with `components` (each a list of segments) and an optional shared sequence.
pub fn common(components: &[&[&[u8]]], shared: Option<&[u8]>) -> Vec<u8> {
    cbor(|e| {
        e.map(1 + u64::from(shared.is_some())).unwrap();
        e.u8(2).unwrap().array(components.len() as u64).unwrap();
        for c in components {
            e.array(c.len() as u64).unwrap();
            for s in *c {
                e.bytes(s).unwrap();
            }
        }
        if let Some(s) = shared {
            e.u8(4).unwrap().bytes(s).unwrap();
        }
    })
}

/// A manifest: version, sequence number, common, then `members` (key, already-encoded value).
pub fn manifest(seq: u64, common: &[u8], members: &[(i64, Vec<u8>)]) -> Vec<u8> {
    manifest_with_version(1, seq, common, members)
}

pub fn manifest_with_version(
    version: u64,
    seq: u64,
    common: &[u8],
    members: &[(i64, Vec<u8>)],
) -> Vec<u8> {
    let mut out = cbor(|e| {
        e.map(3 + members.len() as u64).unwrap();
        e.u8(1).unwrap().u64(version).unwrap();
        e.u8(2).unwrap().u64(seq).unwrap();
        e.u8(3).unwrap().bytes(common).unwrap();
    });
    for (k, v) in members {
        out.extend(cbor(|e| {
            e.i64(*k).unwrap();
        }));
        out.extend(v);
    }
    out
}

/// A command sequence `[code, arg, ...]` from (code, encoded argument) pairs.
pub fn sequence(commands: &[(i64, Vec<u8>)]) -> Vec<u8> {
    let mut out = cbor(|e| {
        e.array(2 * commands.len() as u64).unwrap();
    });
    for (code, arg) in commands {
        out.extend(cbor(|e| {
            e.i64(*code).unwrap();
        }));
        out.extend(arg);
    }
    out
}

/// A reporting-policy argument.
pub fn rp(bits: u64) -> Vec<u8> {
    cbor(|e| {
        e.u64(bits).unwrap();
    })
}

/// A minimal valid manifest: one component `[h'00']`, validate = [image-match, 15].
pub fn minimal(seq: u64) -> Vec<u8> {
    let validate = sequence(&[(3, rp(15))]);
    manifest(seq, &common(&[&[&[0]]], None), &[(7, bstr(&validate))])
}
