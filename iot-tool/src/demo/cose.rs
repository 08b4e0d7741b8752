//! Chapter: COSE (RFC 9052). The device signs telemetry as COSE_Sign1, then MACs it (COSE_Mac0)
//! and encrypts it (COSE_Encrypt0); the gateway checks each and refuses tampered copies.

use super::{Chapter, Ctx};
use crate::fail::{Context, Result, bail};
use crate::keys::cose_public_key;
use iot_core::cose::{
    Algorithm, CoseEncrypt0, CoseKey, CoseMac0, CoseSign1, Encrypt0Builder, Mac0Builder,
    Sign1Builder, SymmetricKey,
};
use iot_core::crypto::{P256SigningKey, Rng};

/// The chapter entry.
pub const CHAPTER: Chapter = Chapter {
    name: "cose",
    title: "COSE: a signed, a MACed and an encrypted telemetry reading (RFC 9052)",
    run,
};

/// A telemetry reading as a CBOR map.
fn telemetry(device: &str) -> Result<Vec<u8>> {
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut e = minicbor::Encoder::new(Vec::new());
    e.map(4)
        .and_then(|e| e.str("dev")?.str(device))
        .and_then(|e| e.str("ts")?.u64(ts))
        .and_then(|e| e.str("temp")?.f32(21.5))
        .and_then(|e| e.str("rh")?.u8(48))
        .context("encoding the reading")?;
    Ok(e.into_writer())
}

/// A copy of `msg` with one bit flipped in the middle of the first occurrence of `part`.
fn tamper(msg: &[u8], part: &[u8]) -> Result<Vec<u8>> {
    let Some(at) = msg.windows(part.len().max(1)).position(|w| w == part) else {
        bail!("demo: part to tamper with not found");
    };
    let mut copy = msg.to_vec();
    if let Some(b) = copy.get_mut(at + part.len() / 2) {
        *b ^= 0x01;
    }
    Ok(copy)
}

fn run(ctx: &mut Ctx<'_>) -> Result<()> {
    let name = ctx.device.name;
    let kid = name.as_bytes();

    // The device's key and the public half the gateway gets.
    let key = P256SigningKey::generate(&mut ctx.crypto)?;
    ctx.say(&format!(
        "Device {name} makes a P-256 key pair (RFC 6979 deterministic ECDSA signs with it).\n\
         The gateway learns the public key as a COSE_Key (RFC 9053 section 7.1):"
    ))?;
    let public = cose_public_key(&key.verifying_key(), Some(kid))?;
    ctx.show("COSE_Key, kty EC2, crv P-256", &public)?;

    let reading = telemetry(name)?;
    ctx.show("A telemetry reading", &reading)?;

    // COSE_Sign1.
    ctx.say(
        "\nThe device signs it as a COSE_Sign1 with ES256, its kid in the unprotected header:",
    )?;
    let mut signer = key.clone();
    let mut buf = vec![0u8; reading.len() + 256];
    let n = Sign1Builder::new(Algorithm::Es256).kid(kid).sign(
        &mut ctx.crypto,
        &mut signer,
        &reading,
        &[],
        &mut buf,
    )?;
    let signed = buf.get(..n).unwrap_or_default().to_vec();
    ctx.show(
        "COSE_Sign1 = 18([protected, unprotected, payload, signature])",
        &signed,
    )?;
    let msg = CoseSign1::decode(&signed)?;
    ctx.say(&format!(
        "  protected h'{}' is {}: alg {}; the payload is the {}-byte reading;\n  \
         the signature is r || s, {} bytes.",
        hex::encode(msg.headers.protected_raw),
        iot_core::diag::Diag::new(msg.headers.protected_raw),
        msg.alg()?.name(),
        msg.payload.map_or(0, <[u8]>::len),
        msg.signature.len(),
    ))?;

    let gateway_key = CoseKey::decode(&public)?;
    let mut vk = gateway_key.verifying_key()?;
    msg.verify(&mut ctx.crypto, &mut vk, &[])?;
    ctx.ok("the gateway verifies the signature with the device's COSE_Key")?;

    let forged = tamper(&signed, &reading)?;
    let result = CoseSign1::decode(&forged).and_then(|m| m.verify(&mut ctx.crypto, &mut vk, &[]));
    ctx.refused("a copy with one payload bit flipped", result)?;

    let mut other = P256SigningKey::generate(&mut ctx.crypto)?.verifying_key();
    let result = msg.verify(&mut ctx.crypto, &mut other, &[]);
    ctx.refused(
        "the genuine message checked with another device's key",
        result,
    )?;
    let result = msg.verify(&mut ctx.crypto, &mut vk, b"gw-2");
    ctx.refused(
        "the genuine message bound to another context (external AAD \"gw-2\")",
        result,
    )?;

    // COSE_Mac0.
    ctx.say(
        "\nWith a key shared with the gateway, the device MACs the reading instead\n\
         (COSE_Mac0, HMAC 256/256: cheaper than a signature, but either side could have made it):",
    )?;
    let mut mac_key = zeroize::Zeroizing::new([0u8; 32]);
    ctx.crypto.fill_random(mac_key.as_mut())?;
    let shared = SymmetricKey::new(mac_key.as_ref());
    let n = Mac0Builder::new()
        .kid(kid)
        .mac(&mut ctx.crypto, &shared, &reading, &[], &mut buf)?;
    let maced = buf.get(..n).unwrap_or_default().to_vec();
    ctx.show(
        "COSE_Mac0 = 17([protected, unprotected, payload, tag])",
        &maced,
    )?;
    let msg = CoseMac0::decode(&maced)?;
    msg.verify(&mut ctx.crypto, &shared, &[])?;
    ctx.ok("the gateway recomputes the tag and compares it in constant time")?;
    let forged = tamper(&maced, msg.tag)?;
    let result = CoseMac0::decode(&forged).and_then(|m| m.verify(&mut ctx.crypto, &shared, &[]));
    ctx.refused("a copy with one tag bit flipped", result)?;

    // COSE_Encrypt0.
    ctx.say(
        "\nTo keep the reading confidential, the device encrypts it (COSE_Encrypt0 with\n\
         AES-CCM-16-64-128, OSCORE's mandatory algorithm; a fresh random 13-byte IV):",
    )?;
    let mut aes_key = zeroize::Zeroizing::new([0u8; 16]);
    ctx.crypto.fill_random(aes_key.as_mut())?;
    let aes = SymmetricKey::new(aes_key.as_ref());
    let n = Encrypt0Builder::new(Algorithm::AesCcm16_64_128)
        .kid(kid)
        .encrypt(&mut ctx.crypto, &aes, &reading, &[], &mut buf)?;
    let sealed = buf.get(..n).unwrap_or_default().to_vec();
    ctx.show(
        "COSE_Encrypt0 = 16([protected, unprotected, ciphertext])",
        &sealed,
    )?;
    let msg = CoseEncrypt0::decode(&sealed)?;
    let mut plain = vec![0u8; sealed.len()];
    let len = msg.decrypt(&mut ctx.crypto, &aes, &[], &mut plain)?;
    plain.truncate(len);
    if plain != reading {
        bail!("demo: decryption gave other bytes than were encrypted");
    }
    ctx.ok("the gateway decrypts it and gets the reading back, byte for byte")?;
    let Some(ciphertext) = msg.ciphertext else {
        bail!("demo: the message has no ciphertext");
    };
    let forged = tamper(&sealed, ciphertext)?;
    let mut scratch = vec![0u8; sealed.len()];
    let result = CoseEncrypt0::decode(&forged)
        .and_then(|m| m.decrypt(&mut ctx.crypto, &aes, &[], &mut scratch));
    ctx.refused("a copy with one ciphertext bit flipped", result)?;

    ctx.device.key = Some(key);
    Ok(())
}
