//! Chapter: remote attestation (RFC 9711 EAT, RFC 9783 PSA token, EAR). After a firmware
//! update the device answers a verifier's fresh nonce with a signed PSA token; the verifier finds
//! its key by Instance ID, appraises the evidence against reference values and issues an EAR. A
//! replayed or tampered token is refused; a device in debug or running firmware from an unknown
//! signer is contraindicated.

use super::{Chapter, Ctx};
use crate::fail::{Failure, Result, bail};
use iot_attest::appraise::{RefComponent, ReferenceValues, attestation_result};
use iot_attest::ear::Tier;
use iot_attest::psa::{self, Lifecycle, PsaClaims};
use iot_attest::verify::{KeyEntry, KeyMaterial, MemoryKeyStore, Verifier};
use iot_attest::{SwComponent, TokenBuilder};
use iot_core::cose::Algorithm;
use iot_core::crypto::{P256SigningKey, Rng, Sha256};

/// The chapter entry.
pub const CHAPTER: Chapter = Chapter {
    name: "attest",
    title: "Attestation: a PSA token after an update, appraised into an EAR (RFC 9783, RFC 9711)",
    run,
};

/// The device's firmware after its update: (role, version, image).
const FIRMWARE: [(&str, &str, &[u8]); 3] = [
    ("BL", "1.0.3", b"bootloader image 1.0.3"),
    ("PRoT", "2.1.0", b"TF-M secure partition 2.1.0"),
    (
        "App",
        "2.4.0",
        b"sensor application 2.4.0, installed by the SUIT update",
    ),
];

/// A PSA token of the device, made as the device makes it: claims and token in fixed buffers.
#[allow(clippy::too_many_arguments)]
fn device_token(
    ctx: &mut Ctx<'_>,
    iak: &P256SigningKey,
    instance: &[u8; 33],
    nonce: &[u8],
    lifecycle: Lifecycle,
    measurements: &[[u8; 32]; 3],
    signer: &[u8; 32],
) -> Result<Vec<u8>> {
    let components: Vec<SwComponent<'_>> = FIRMWARE
        .iter()
        .zip(measurements)
        .map(|((role, version, _), m)| SwComponent {
            measurement_type: Some(role),
            measurement_value: Some(m),
            version: Some(version),
            signer_id: Some(signer),
            measurement_desc: Some("sha-256"),
        })
        .collect();
    let claims = PsaClaims {
        nonce,
        instance_id: instance,
        implementation_id: &IMPLEMENTATION_ID,
        client_id: -1,
        lifecycle: lifecycle.value() as u16,
        boot_seed: Some(&[0x5e; 16]),
        certification_reference: None,
        software_components: &components,
        vsi: None,
    }
    .claims();
    psa::validate(&claims).map_err(|e| Failure::new(format!("demo: {e}")))?;
    let (mut scratch, mut token) = ([0u8; 512], [0u8; 640]);
    let mut key = iak.clone();
    let n = TokenBuilder::new()
        .sign(
            &mut ctx.crypto,
            &mut key,
            Algorithm::Es256,
            &claims,
            &mut scratch,
            &mut token,
        )
        .map_err(|e| Failure::new(format!("demo: signing the token: {e}")))?;
    Ok(token.get(..n).unwrap_or_default().to_vec())
}

/// The Implementation ID of the device's hardware.
const IMPLEMENTATION_ID: [u8; 32] = [0xac; 32];

/// A verifier's check that must refuse: prints the reason, fails the demo if it passed.
fn refused<T>(ctx: &mut Ctx<'_>, what: &str, r: iot_attest::Result<T>) -> Result<()> {
    match r {
        Err(e) => ctx.line(&format!("  \u{2717} {what}: refused ({e})")),
        Ok(_) => Err(Failure::new(format!("demo: {what} was accepted"))),
    }
}

fn print_json(ctx: &mut Ctx<'_>, v: &serde_json::Value) -> Result<()> {
    let text = serde_json::to_string_pretty(v).map_err(|e| Failure::new(e.to_string()))?;
    for l in text.lines() {
        ctx.line(&format!("      {l}"))?;
    }
    Ok(())
}

fn fresh_nonce(ctx: &mut Ctx<'_>) -> Result<[u8; 32]> {
    let mut n = [0u8; 32];
    ctx.crypto.fill_random(&mut n)?;
    Ok(n)
}

fn run(ctx: &mut Ctx<'_>) -> Result<()> {
    let name = ctx.device.name;
    let iak = match &ctx.device.key {
        Some(k) => k.clone(),
        None => P256SigningKey::generate(&mut ctx.crypto)?,
    };
    let public = iak.verifying_key().to_sec1_uncompressed();
    let mut instance = [0x01u8; 33];
    let digest = ctx.crypto.sha256(&public);
    if let Some(rest) = instance.get_mut(1..) {
        rest.copy_from_slice(&digest);
    }
    ctx.say(&format!(
        "Device {name} attests with its P-256 key (its Initial Attestation Key). Its PSA\n\
         Instance ID is 0x01 followed by the SHA-256 of the public key:\n  h'{}'.\n\
         The verifier registers the key under that Instance ID.",
        hex::encode(instance)
    ))?;
    let mut store = MemoryKeyStore::new();
    store
        .insert(KeyEntry {
            name: name.to_owned(),
            kid: None,
            ueid: Some(instance.to_vec()),
            key: KeyMaterial::P256(iak.verifying_key()),
        })
        .map_err(|e| Failure::new(format!("demo: {e}")))?;

    // The firmware after the update, and the reference values the vendor publishes for it.
    let vendor = P256SigningKey::generate(&mut ctx.crypto)?;
    let signer_id = ctx
        .crypto
        .sha256(&vendor.verifying_key().to_sec1_uncompressed());
    let measurements = FIRMWARE.map(|(_, _, image)| ctx.crypto.sha256(image));
    let reference = ReferenceValues {
        policy_id: Some("demo/sensor-17/after-update".into()),
        implementation_id: Some(IMPLEMENTATION_ID.to_vec()),
        software_components: FIRMWARE
            .iter()
            .zip(&measurements)
            .map(|((role, version, _), m)| RefComponent {
                measurement_type: Some((*role).into()),
                measurement_value: m.to_vec(),
                signer_id: Some(signer_id.to_vec()),
                version: Some((*version).into()),
            })
            .collect(),
        lifecycle: Some(vec![Lifecycle::Secured]),
        debug_status: None,
        ..ReferenceValues::default()
    };
    ctx.say(&format!(
        "\nThe device has just installed application {} by a SUIT update. The vendor's reference\n\
         values list the SHA-256 of each approved image (BL, PRoT, App), the hash of its signing\n\
         key, the Implementation ID and the allowed lifecycle state (secured).",
        FIRMWARE[2].1
    ))?;

    // Challenge and evidence.
    let nonce = fresh_nonce(ctx)?;
    ctx.say(&format!(
        "\nThe verifier challenges the device with a fresh 32-byte nonce h'{}...'.\n\
         The device measures its images, states its PSA claims and signs them, all in fixed\n\
         buffers (no heap), as a CWT in COSE_Sign1 with ES256:",
        hex::encode(nonce.get(..8).unwrap_or_default())
    ))?;
    let token = device_token(
        ctx,
        &iak,
        &instance,
        &nonce,
        Lifecycle::Secured,
        &measurements,
        &signer_id,
    )?;
    let claims = iot_attest::Token::decode(&token)
        .and_then(|t| t.claims_unverified())
        .map_err(|e| Failure::new(format!("demo: reading the token back: {e}")))?;
    let claims = iot_attest::json::claims_to_json(&claims)
        .map_err(|e| Failure::new(format!("demo: the claims as JSON: {e}")))?;
    ctx.say(&format!(
        "  61(18([h'a10126' (alg ES256), {{}}, claims, signature])), {} bytes; the claims by name:",
        token.len()
    ))?;
    print_json(ctx, &claims)?;

    // Verification and appraisal.
    let verifier = Verifier::new(&store);
    let verified = verifier
        .verify(&mut ctx.crypto, &token, Some(&nonce))
        .map_err(|e| Failure::new(format!("demo: the genuine token was refused: {e}")))?;
    ctx.ok(&format!(
        "the verifier finds the key by Instance ID ({}), checks the signature, the PSA profile\n    \
         rules and that the nonce is its own",
        verified.key.name
    ))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    let ear = attestation_result(&verified, &token, &reference, Some(&nonce), now);
    if ear.status() != Tier::Affirming {
        bail!(
            "demo: the updated device was not affirmed: {:?}",
            ear.status()
        );
    }
    let mut json = ear.to_json();
    if let Some(raw) = json.get_mut("ear.raw-evidence") {
        // The whole token was shown above.
        *raw = serde_json::Value::String("(the token above, base64url)".into());
    }
    ctx.say(
        "\nIt appraises the evidence against the reference values; the attestation result (EAR):",
    )?;
    print_json(ctx, &json)?;
    let mut verifier_key = P256SigningKey::generate(&mut ctx.crypto)?;
    let signed = ear
        .sign(
            &mut ctx.crypto,
            &mut verifier_key,
            Algorithm::Es256,
            Some(b"verifier-1"),
        )
        .map_err(|e| Failure::new(format!("demo: signing the EAR: {e}")))?;
    ctx.ok(&format!(
        "status affirming; the verifier signs the EAR as a {}-byte CWT for relying parties",
        signed.len()
    ))?;

    // What is refused.
    ctx.say("\nWhat the verifier refuses:")?;
    let other_nonce = fresh_nonce(ctx)?;
    let replayed = verifier.verify(&mut ctx.crypto, &token, Some(&other_nonce));
    refused(
        ctx,
        "the same token replayed to a later challenge",
        replayed,
    )?;
    let mut tampered = token.clone();
    let Some(m) = measurements.get(2) else {
        bail!("demo: no App measurement");
    };
    let Some(at) = tampered.windows(m.len()).position(|w| w == m) else {
        bail!("demo: the App measurement is not in the token");
    };
    if let Some(b) = tampered.get_mut(at) {
        *b ^= 0x01;
    }
    let result = verifier.verify(&mut ctx.crypto, &tampered, Some(&nonce));
    refused(
        ctx,
        "the token with one bit of the App measurement changed in transit",
        result,
    )?;

    // What is contraindicated.
    ctx.say("\nGenuine, fresh tokens whose content the verifier does not trust:")?;
    let nonce = fresh_nonce(ctx)?;
    let debug = device_token(
        ctx,
        &iak,
        &instance,
        &nonce,
        Lifecycle::NonPsaRotDebug,
        &measurements,
        &signer_id,
    )?;
    let foreign = P256SigningKey::generate(&mut ctx.crypto)?;
    let foreign_id = ctx
        .crypto
        .sha256(&foreign.verifying_key().to_sec1_uncompressed());
    let mut unknown = measurements;
    if let Some(app) = unknown.get_mut(2) {
        *app = ctx.crypto.sha256(b"an application nobody approved");
    }
    let rogue = device_token(
        ctx,
        &iak,
        &instance,
        &nonce,
        Lifecycle::Secured,
        &unknown,
        &foreign_id,
    )?;
    for (what, t) in [
        (
            "the device in the non-PSA-RoT debug lifecycle state",
            &debug,
        ),
        (
            "the device running an application from an unknown signer",
            &rogue,
        ),
    ] {
        let v = verifier
            .verify(&mut ctx.crypto, t, Some(&nonce))
            .map_err(|e| Failure::new(format!("demo: {what}: {e}")))?;
        let ear = attestation_result(&v, t, &reference, Some(&nonce), now);
        let Some((_, a)) = ear.submods.first() else {
            bail!("demo: an EAR without an appraisal");
        };
        if ear.status() != Tier::Contraindicated {
            bail!("demo: {what} was not contraindicated");
        }
        let tv = a.trust_vector;
        ctx.line(&format!(
            "  \u{2717} {what}: {} (configuration {}, executables {})",
            ear.status().name(),
            tv.configuration,
            tv.executables
        ))?;
    }
    Ok(())
}
