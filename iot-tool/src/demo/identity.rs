//! Chapters: identity. First, a fleet enrols at first boot: a registrar folder (CA and SQLite
//! inventory) and three devices in folders of their own (UEID, sealed key, CSR, answered
//! challenge, certificate installed through the lifecycle). Last, one device is decommissioned:
//! it signs a receipt and destroys its key, the registrar checks the receipt and revokes it,
//! and it is refused afterwards by chain-and-revocation checks and by proof of possession.

use super::{Chapter, Ctx};
use crate::fail::{Context, Failure, Result};
use crate::identity_cmd::{check, enrol, now};
use iot_core::crypto::Rng;
use iot_identity::device_dir::{DeviceDir, OsCrypto};
use iot_identity::enrolment::verify_possession_unrevoked;
use iot_identity::registrar::{InventoryStore, Registrar, SqliteInventory};
use iot_identity::revocation::RevocationList;
use iot_identity::x509::{TrustAnchor, ValidationOptions};
use std::fmt::Display;
use std::path::PathBuf;

/// The first chapter.
pub const ENROL: Chapter = Chapter {
    name: "enrol",
    title: "Identity: a fleet enrols at first boot (X.509 from a registrar, RFC 5280, RFC 2986)",
    run: run_enrol,
};

/// The last chapter.
pub const DECOMMISSION: Chapter = Chapter {
    name: "decommission",
    title: "Decommissioning: a signed receipt, revocation, and refusal afterwards",
    run: run_decommission,
};

/// The registrar and device folders (in a temporary folder, removed at the end).
#[derive(Debug)]
pub struct Fleet {
    tmp: tempfile::TempDir,
    devices: Vec<(String, PathBuf)>,
}

impl Fleet {
    fn registrar_dir(&self) -> PathBuf {
        self.tmp.path().join("registrar")
    }

    fn registrar(&self) -> Result<Registrar<SqliteInventory>> {
        crate::identity_cmd::open(&self.registrar_dir())
    }
}

/// A step that must fail: prints the reason, and fails the demo if it passed.
fn refused<T, E: Display>(
    ctx: &mut Ctx<'_>,
    what: &str,
    r: std::result::Result<T, E>,
) -> Result<()> {
    match r {
        Err(e) => ctx.line(&format!("  \u{2717} {what}: refused ({e})")),
        Ok(_) => Err(Failure::new(format!("demo: {what} was accepted"))),
    }
}

/// The fleet: made by the first chapter, or here when a later chapter runs alone.
fn fleet(ctx: &mut Ctx<'_>) -> Result<()> {
    if ctx.device.fleet.is_some() {
        return Ok(());
    }
    let tmp = tempfile::tempdir().context("temporary folder")?;
    let registrar = tmp.path().join("registrar");
    let reg = Registrar::init(&registrar, "demo fleet CA", now(), 10 * 365 * 86_400)
        .context("registrar")?;
    drop(reg);
    let mut devices = Vec::new();
    for i in 0..3 {
        let name = format!("sensor-{}", 17 + i);
        devices.push((name.clone(), tmp.path().join(&name)));
    }
    let fleet = Fleet { tmp, devices };
    let mut reg = fleet.registrar()?;
    for (_, dir) in &fleet.devices {
        enrol(dir, &mut reg, Some("demo-sensor"), now())?;
    }
    ctx.device.fleet = Some(fleet);
    Ok(())
}

fn run_enrol(ctx: &mut Ctx<'_>) -> Result<()> {
    let tmp = tempfile::tempdir().context("temporary folder")?;
    let reg_dir = tmp.path().join("registrar");
    let mut reg = Registrar::init(&reg_dir, "demo fleet CA", now(), 10 * 365 * 86_400)
        .context("registrar")?;
    ctx.say(
        "The operator's registrar is a folder: a P-256 CA (ca-key.pem, ca-cert.pem) and a\n\
         SQLite inventory. Each device is a folder too, standing in for its fuses and flash.\n\
         At first boot a device derives its UEID from its device secret, generates its key in\n\
         a key store sealed under DICE CDI_Seal, writes a CSR, signs the registrar's challenge,\n\
         and installs the certificate only once it chains to the pinned CA.",
    )?;
    let mut devices = Vec::new();
    for i in 0..3 {
        let name = format!("sensor-{}", 17 + i);
        let dir = tmp.path().join(&name);
        let e = enrol(&dir, &mut reg, Some("demo-sensor"), now())?;
        let chain = vec![e.certificate.clone(), reg.ca().certificate_der().to_vec()];
        check(&reg, &chain, now())?;
        ctx.ok(&format!(
            "{name}: UEID {}, certificate {}.. installed, chains to the CA, active",
            e.ueid.to_hex().as_str(),
            hex::encode(e.serial.get(..4).unwrap_or_default()),
        ))?;
        devices.push((name, dir));
    }
    let listed = reg.inventory().list().context("inventory")?;
    ctx.say("\nThe registrar's inventory (`iot-tool identity inventory` shows all its columns):")?;
    for d in &listed {
        ctx.line(&format!(
            "    {}  {:<8} {}  serial {}..",
            d.ueid.to_hex().as_str(),
            d.status.as_str(),
            d.model.as_deref().unwrap_or("-"),
            hex::encode(d.serial.get(..4).unwrap_or_default())
        ))?;
    }
    let first = devices.first().map(|(_, d)| d.clone()).unwrap_or_default();
    refused(
        ctx,
        "sensor-17 enrolling a second time",
        enrol(&first, &mut reg, None, now()),
    )?;
    drop(reg);
    ctx.device.fleet = Some(Fleet { tmp, devices });
    Ok(())
}

fn run_decommission(ctx: &mut Ctx<'_>) -> Result<()> {
    fleet(ctx)?;
    let Some(fleet) = ctx.device.fleet.take() else {
        return Err(Failure::new("demo: no fleet"));
    };
    let result = decommission(ctx, &fleet);
    ctx.device.fleet = Some(fleet);
    result
}

fn decommission(ctx: &mut Ctx<'_>, fleet: &Fleet) -> Result<()> {
    let Some((name, dir)) = fleet.devices.first() else {
        return Err(Failure::new("demo: empty fleet"));
    };
    let mut reg = fleet.registrar()?;
    let mut crypto = OsCrypto::from_os();
    let ca = reg.ca().certificate_der().to_vec();
    let anchor = TrustAnchor::from_certificate(&ca).context("CA certificate")?;
    let mut dev = DeviceDir::open(dir).context(dir.display())?;
    let chain = dev.certificate_chain().context(dir.display())?;
    let cert = chain.first().cloned().unwrap_or_default();
    let refs: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
    let at = ValidationOptions::at(now());

    // In service: a gateway's challenge, answered and checked against the current list.
    let mut challenge = [0u8; 32];
    crypto.fill_random(&mut challenge)?;
    let mut proof = [0u8; 200];
    let n = dev
        .device()
        .prove_possession(&mut crypto, &challenge, &mut proof)
        .context(name)?;
    let proof = proof.get(..n).unwrap_or_default().to_vec();
    let list = reg.revocation_list(now(), None).context("registrar")?;
    let verified = RevocationList::decode(&list)
        .and_then(|l| l.verify(&mut crypto, reg.ca().public_key(), 0))
        .context("revocation list")?;
    verify_possession_unrevoked(
        &mut crypto,
        &proof,
        &challenge,
        &refs,
        &anchor,
        &at,
        Some(&verified),
    )
    .context("proof of possession")?;
    ctx.ok(&format!(
        "{name} in service: its proof of possession passes against revocation list v{}",
        verified.version()
    ))?;

    // End of life: the receipt, then the key is gone.
    let mut receipt = [0u8; 300];
    let r = dev
        .device()
        .decommission(&mut crypto, now(), &mut receipt)
        .context(name)?;
    let receipt = receipt.get(..r).unwrap_or_default().to_vec();
    ctx.say(&format!(
        "\n{name} is taken out of service: it signs a receipt {{1: UEID, 2: certificate serial,\n\
         3: record counter, 4: time}} as COSE_Sign1, writes its Decommissioned record and\n\
         destroys its key: {} bytes of receipt, and its sealed key file is removed.",
        receipt.len(),
    ))?;
    if dir.join(iot_identity::device_dir::KEY_FILE).exists() {
        return Err(Failure::new("demo: the sealed key is still there"));
    }
    refused(
        ctx,
        "signing after decommissioning",
        dev.device()
            .prove_possession(&mut crypto, &challenge, &mut [0u8; 200]),
    )?;
    let entry = reg
        .decommission(&receipt, &cert, now())
        .context("registrar")?;
    ctx.ok(&format!(
        "the registrar checks the receipt against the certificate and revokes serial {}..",
        hex::encode(entry.serial.get(..4).unwrap_or_default())
    ))?;

    // Refused afterwards.
    refused(ctx, "verify of its certificate", check(&reg, &chain, now()))?;
    let list = reg.revocation_list(now(), None).context("registrar")?;
    let verified = RevocationList::decode(&list)
        .and_then(|l| l.verify(&mut crypto, reg.ca().public_key(), verified.version()))
        .context("revocation list")?;
    refused(
        ctx,
        &format!(
            "its old proof of possession with revocation list v{}",
            verified.version()
        ),
        verify_possession_unrevoked(
            &mut crypto,
            &proof,
            &challenge,
            &refs,
            &anchor,
            &at,
            Some(&verified),
        ),
    )?;
    let mut csr = [0u8; 512];
    refused(
        ctx,
        "a new certificate request from the device",
        dev.device().issue_csr(&mut crypto, None, &mut csr),
    )?;
    if let Some((other, other_dir)) = fleet.devices.get(1) {
        let chain = DeviceDir::open(other_dir)
            .and_then(|d| d.certificate_chain())
            .context(other_dir.display())?;
        check(&reg, &chain, now())?;
        ctx.ok(&format!(
            "{other} is unaffected: its certificate still verifies"
        ))?;
    }
    Ok(())
}
