//! Chapter: a firmware update (draft-ietf-suit-manifest). The vendor builds an update with the
//! envelope builder, signs it, and the device, an A/B device kept in a temporary directory,
//! installs it on trial and confirms it. A downgrade and a corrupted image are refused with the
//! device unchanged; an update that never confirms is rolled back at the next boot. Last, an
//! update encrypted to the device's own key (draft-ietf-suit-firmware-encryption) installs, and
//! the same update encrypted to another device is refused.

use super::{Chapter, Ctx};
use crate::fail::{Failure, Result};
use iot_core::cose::Algorithm;
use iot_core::crypto::{P256SigningKey, P256VerifyingKey, Rng, Sha256};
use iot_update_manifest::Command;
use iot_update_manifest::builder::encrypt::{Encryption, KeyDistribution, encrypt};
use iot_update_manifest::builder::{Cmd, Description, Digest, Param};
use iot_update_manifest::device_dir::{
    BootReport, DecryptionKey, DirDevice, Identity, Installed, format_uuid,
};
use std::path::{Path, PathBuf};

/// The chapter entry.
pub const CHAPTER: Chapter = Chapter {
    name: "suit",
    title: "Firmware update: a signed SUIT manifest on an A/B device (draft-ietf-suit-manifest)",
    run,
};

const VENDOR_ID: [u8; 16] = [
    0xfa, 0x6b, 0x4a, 0x53, 0xd5, 0xad, 0x5f, 0xdf, 0xbe, 0x9d, 0xe6, 0x63, 0xe4, 0xd4, 0x1f, 0xfe,
];
const CLASS_ID: [u8; 16] = [
    0x14, 0x92, 0xaf, 0x14, 0x25, 0x69, 0x5e, 0x48, 0xbf, 0x42, 0x9b, 0x2d, 0x51, 0xf2, 0xab, 0x45,
];
const FW1: &[u8] = b"sensor application 2.3.0, the factory image";
const FW2: &[u8] = b"sensor application 2.4.0, installed by the SUIT update";
const FW3: &[u8] = b"sensor application 2.5.0-rc1, which crashes before it confirms";
const URI2: &str = "coaps://fw.example/sensor/2.4.0.bin";
const FW4: &[u8] = b"sensor application 2.6.0, delivered encrypted to this device";
const URI3: &str = "coaps://fw.example/sensor/2.5.0.bin";
const URI4: &str = "coaps://fw.example/sensor/2.6.0.enc";

/// A temporary folder, removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn fail(what: &str, e: impl std::fmt::Display) -> Failure {
    Failure::new(format!("demo: {what}: {e}"))
}

/// The update as the vendor describes it: component [h'00'] gets `image` from `uri` (an
/// integrated payload when it starts with '#'); the device checks its vendor and class IDs, the
/// image's digest after the fetch and again at every boot, then invokes it.
fn build(
    ctx: &mut Ctx<'_>,
    vendor: &P256SigningKey,
    seq: u64,
    image: &[u8],
    uri: &str,
) -> Result<Vec<u8>> {
    build_with(ctx, vendor, seq, image, uri, None)
}

/// [`build`], the fetched payload encrypted as `encryption_info` says (its digest and size stay
/// the plaintext's).
fn build_with(
    ctx: &mut Ctx<'_>,
    vendor: &P256SigningKey,
    seq: u64,
    image: &[u8],
    uri: &str,
    encryption_info: Option<Vec<u8>>,
) -> Result<Vec<u8>> {
    let mut d = Description::new(seq, vec![vec![vec![0x00]]]);
    d.shared_sequence = Some(vec![
        Cmd::OverrideParameters(vec![
            Param::VendorId(VENDOR_ID.to_vec()),
            Param::ClassId(CLASS_ID.to_vec()),
            Param::ImageDigest(Digest::sha256(&mut ctx.crypto, image)),
            Param::ImageSize(image.len() as u64),
        ]),
        Cmd::Policy(Command::VendorIdentifier, 15),
        Cmd::Policy(Command::ClassIdentifier, 15),
    ]);
    let mut fetch = vec![Param::Uri(uri.to_owned())];
    fetch.extend(encryption_info.map(Param::EncryptionInfo));
    d.install = Some(vec![
        Cmd::OverrideParameters(fetch),
        Cmd::Policy(Command::Fetch, 2),
        Cmd::Policy(Command::ImageMatch, 15),
    ]);
    d.validate = Some(vec![Cmd::Policy(Command::ImageMatch, 15)]);
    d.invoke = Some(vec![Cmd::Policy(Command::Invoke, 2)]);
    if uri.starts_with('#') {
        d.integrated.push((uri.to_owned(), image.to_vec()));
    }
    let mut unsigned = d.encode(&mut ctx.crypto).map_err(|e| fail("building", e))?;
    unsigned
        .sign(&mut ctx.crypto, &mut vendor.clone(), Algorithm::Es256, None)
        .map_err(|e| fail("signing", e))?;
    unsigned.to_bytes().map_err(|e| fail("encoding", e))
}

/// The SHA-256 over every file of `dir` (names and bytes, in order): the device's fingerprint.
fn fingerprint(ctx: &mut Ctx<'_>, dir: &Path) -> Result<[u8; 32]> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) -> std::io::Result<()> {
        for e in std::fs::read_dir(dir)? {
            let p = e?.path();
            if p.is_dir() {
                walk(&p, out)?;
            } else {
                out.push((p.clone(), std::fs::read(&p)?));
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(dir, &mut files).map_err(|e| fail("reading the device", e))?;
    files.sort();
    let mut all = Vec::new();
    for (p, data) in files {
        all.extend_from_slice(p.to_string_lossy().as_bytes());
        all.push(0);
        all.extend_from_slice(&(data.len() as u64).to_be_bytes());
        all.extend_from_slice(&data);
    }
    Ok(ctx.crypto.sha256(&all))
}

/// Installs `envelope` (`what` names it in a failure) and boots, confirming when asked.
fn install_and_boot(
    ctx: &mut Ctx<'_>,
    dev: &mut DirDevice,
    what: &str,
    key: P256VerifyingKey,
    envelope: &[u8],
    confirm: bool,
) -> Result<(Installed, BootReport)> {
    let i = dev
        .install(&mut ctx.crypto, key, envelope)
        .map_err(|e| fail(what, e))?;
    let b = dev
        .boot(&mut ctx.crypto, confirm)
        .map_err(|e| fail("boot", e))?;
    Ok((i, b))
}

/// An install that must be refused, with the device byte for byte as before.
fn refused(
    ctx: &mut Ctx<'_>,
    dev: &mut DirDevice,
    what: &str,
    key: P256VerifyingKey,
    envelope: &[u8],
) -> Result<()> {
    let before = fingerprint(ctx, dev.dir())?;
    match dev.install(&mut ctx.crypto, key, envelope) {
        Ok(_) => return Err(Failure::new(format!("demo: {what} was accepted"))),
        Err(e) => ctx.line(&format!("  \u{2717} {what}: refused ({e})"))?,
    }
    if fingerprint(ctx, dev.dir())? != before {
        return Err(Failure::new(format!("demo: {what} changed the device")));
    }
    ctx.ok("the device directory is byte for byte unchanged")
}

fn run(ctx: &mut Ctx<'_>) -> Result<()> {
    let mut tag = [0u8; 8];
    ctx.crypto.fill_random(&mut tag)?;
    let scratch =
        Scratch(std::env::temp_dir().join(format!("iot-tool-demo-suit-{}", hex::encode(tag))));
    let (dir, server) = (scratch.0.join("device"), scratch.0.join("server"));
    std::fs::create_dir_all(&server).map_err(|e| fail("temporary folder", e))?;
    let vendor = P256SigningKey::generate(&mut ctx.crypto)?;
    let trusted = vendor.verifying_key();
    let identity = Identity {
        vendor_id: VENDOR_ID,
        class_id: CLASS_ID,
        device_id: None,
    };
    let mut dev = DirDevice::init(&dir, &identity).map_err(|e| fail("device", e))?;
    // The device's own P-256 key pair for payloads encrypted to it (a secure element's, on a
    // real device).
    let device_key = P256SigningKey::generate(&mut ctx.crypto)?;
    dev.set_decryption_key(DecryptionKey::EcdhEsP256(device_key.to_bytes()))
        .map_err(|e| fail("device key", e))?;
    let name = ctx.device.name;
    ctx.say(&format!(
        "Device {name} is an A/B device kept in a folder: two slots of components, a state file\n\
         (known-good slot, trial, anti-rollback counter), vendor-id {}\n\
         and class-id {}.\n\
         Every change is a synced temporary file renamed into place.",
        format_uuid(&VENDOR_ID),
        format_uuid(&CLASS_ID)
    ))?;

    let v1 = build(ctx, &vendor, 1, FW1, "#fw")?;
    let i = dev
        .install(&mut ctx.crypto, trusted, &v1)
        .map_err(|e| fail("factory image", e))?;
    ctx.ok(&format!(
        "factory image (sequence number {}, {}-byte envelope, image integrated) provisioned\n    into slot {}; the vendor's key is now the device's trust anchor",
        i.sequence,
        v1.len(),
        i.slot
    ))?;

    // The update: built from a description, signed, its image served from a URI.
    let v2 = build(ctx, &vendor, 2, FW2, URI2)?;
    let fw2 = server.join("2.4.0.bin");
    std::fs::write(&fw2, FW2).map_err(|e| fail("payload", e))?;
    dev.serve(URI2, &fw2);
    ctx.say(&format!(
        "The vendor builds update 2.4.0 with the envelope builder (vendor and class IDs, the image's\n\
         SHA-256 and size, its URI, install / validate / invoke) and signs it with ES256: {} bytes.",
        v2.len()
    ))?;
    let i = dev
        .install(&mut ctx.crypto, trusted, &v2)
        .map_err(|e| fail("update", e))?;
    ctx.ok(&format!(
        "installed into the inactive slot {} after its digest matched; on trial",
        i.slot
    ))?;
    let b = dev
        .boot(&mut ctx.crypto, true)
        .map_err(|e| fail("boot", e))?;
    if !(b.booted.tentative && b.confirmed && b.booted.slot == i.slot) {
        return Err(Failure::new("demo: the update did not boot on trial"));
    }
    ctx.ok(&format!(
        "boot: slot {} validated (signature and digest again) and invoked; the application\n    confirms it: known-good, anti-rollback counter now {}",
        b.booted.slot,
        dev.sequence_number().unwrap_or_default()
    ))?;

    // What must be refused.
    refused(
        ctx,
        &mut dev,
        "downgrade to the signed factory image (sequence number 1)",
        trusted,
        &v1,
    )?;
    let v3 = build(ctx, &vendor, 3, FW3, URI3)?;
    let fw3 = server.join("2.5.0.bin");
    let mut corrupted = FW3.to_vec();
    if let Some(b) = corrupted.get_mut(10) {
        *b ^= 0x01;
    }
    std::fs::write(&fw3, &corrupted).map_err(|e| fail("payload", e))?;
    dev.serve(URI3, &fw3);
    refused(
        ctx,
        &mut dev,
        "update 2.5.0 whose download has one flipped bit",
        trusted,
        &v3,
    )?;

    // An update that never confirms.
    std::fs::write(&fw3, FW3).map_err(|e| fail("payload", e))?;
    let (i, b) = install_and_boot(ctx, &mut dev, "update", trusted, &v3, false)?;
    ctx.ok(&format!(
        "update 2.5.0 installed into slot {} and booted on trial; it crashes before confirming",
        i.slot
    ))?;
    if !(b.booted.tentative && b.booted.slot == i.slot) {
        return Err(Failure::new("demo: update 2.5.0 did not boot on trial"));
    }
    let b = dev
        .boot(&mut ctx.crypto, true)
        .map_err(|e| fail("boot", e))?;
    let running = dev
        .component(Some(b.booted.slot), &[&[0x00]])
        .unwrap_or_default();
    if !(b.booted.reverted.is_some() && running == FW2) {
        return Err(Failure::new(
            "demo: the unconfirmed update was not rolled back",
        ));
    }
    ctx.ok(&format!(
        "next boot: the unconfirmed trial is abandoned; slot {} runs \"{}\"",
        b.booted.slot,
        String::from_utf8_lossy(&running)
    ))?;

    // An update encrypted to this device: the server holds only ciphertext.
    let encrypted_to = |ctx: &mut Ctx<'_>, public: &[u8]| {
        let how = Encryption {
            content: Algorithm::A128Gcm,
            distribution: KeyDistribution::EcdhEsA128Kw {
                recipient: public,
                ephemeral: None,
            },
            kid: None,
            cek: None,
            iv: None,
        };
        encrypt(&mut ctx.crypto, FW4, &how).map_err(|e| fail("encrypting", e))
    };
    let other = P256SigningKey::generate(&mut ctx.crypto)?;
    let fw4 = server.join("2.6.0.enc");
    dev.serve(URI4, &fw4);
    let e = encrypted_to(ctx, &other.verifying_key().to_sec1_uncompressed())?;
    std::fs::write(&fw4, &e.ciphertext).map_err(|e| fail("payload", e))?;
    let v4 = build_with(ctx, &vendor, 4, FW4, URI4, Some(e.info))?;
    refused(
        ctx,
        &mut dev,
        "update 2.6.0 encrypted to another device's key",
        trusted,
        &v4,
    )?;
    let e = encrypted_to(ctx, &device_key.verifying_key().to_sec1_uncompressed())?;
    std::fs::write(&fw4, &e.ciphertext).map_err(|e| fail("payload", e))?;
    let v4 = build_with(ctx, &vendor, 4, FW4, URI4, Some(e.info))?;
    ctx.say(
        "The vendor encrypts update 2.6.0 to the device's public key (ECDH-ES + A128KW, A128GCM):\n\
         the manifest carries the wrapped content key, the server only ciphertext.",
    )?;
    let (i, b) = install_and_boot(ctx, &mut dev, "encrypted update", trusted, &v4, true)?;
    let running = dev
        .component(Some(b.booted.slot), &[&[0x00]])
        .unwrap_or_default();
    if !(b.confirmed && b.booted.slot == i.slot && running == FW4) {
        return Err(Failure::new("demo: the encrypted update did not install"));
    }
    ctx.ok(&format!(
        "decrypted with the device's key into slot {}, digest matched, booted and confirmed:\n    \"{}\"",
        i.slot,
        String::from_utf8_lossy(&running)
    ))
}
