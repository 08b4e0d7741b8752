//! `iot-tool suit`: authenticate, show, build and sever SUIT envelopes
//! (draft-ietf-suit-manifest) with iot-update-manifest, and install them on a simulated A/B
//! device kept in a directory (iot-update-manifest's `device_dir`).

use crate::fail::{Context, Result, bail};
use crate::io;
use crate::keys::Key;
use clap::{Args, Subcommand};
use iot_core::cose::{CoseKey, Ec2Y};
use iot_core::crypto::{P256SigningKey, RustCrypto};
use iot_update_manifest::builder::{self, json};
use iot_update_manifest::command::param;
use iot_update_manifest::delegation::read_cwt;
use iot_update_manifest::device_dir::{
    DecryptionKey, DirDevice, DirError, Identity, format_uuid, parse_uuid,
};
use iot_update_manifest::{
    Argument, AuthenticatedManifest, ByIndex, Command, CommandSequence, ComponentId, Envelope,
    IndexArg, Parameter, Severable, SuitDigest, TrustAnchors,
};
use std::fmt::Write as _;
use std::path::PathBuf;

/// `iot-tool suit ...`.
#[derive(Debug, Subcommand)]
pub enum SuitCmd {
    /// Authenticate an envelope; print its sequence number and components.
    Verify(SuitArgs),
    /// Authenticate an envelope, then print every sequence with its commands and parameters.
    ///
    /// The envelope must authenticate under --key first: iot-update-manifest decodes the
    /// manifest only after its signature or MAC and its digest have been checked, so an
    /// unauthenticated manifest is never shown.
    Inspect(SuitArgs),
    /// Build an envelope from a JSON description and sign it (COSE_Sign1, RFC 6979) or MAC it
    /// (COSE_Mac0, HMAC 256/256); the schema is in iot-update-manifest's README.
    ///
    /// The envelope is authenticated and decoded with the device-side decoder before it is
    /// written, so what is written is what a device of this family accepts.
    Create(CreateArgs),
    /// Remove the severable members (install, payload-fetch, text, ...) from an envelope.
    ///
    /// The manifest keeps their digests and is not touched, so the envelope authenticates as
    /// before; a device then runs without them (or gets them from elsewhere).
    Sever(SeverArgs),
    /// Create a simulated A/B device kept in a directory, whose identity the manifests'
    /// vendor / class / device identifier conditions must match.
    DeviceInit(DeviceInitArgs),
    /// Install an envelope on a directory device.
    ///
    /// The first install provisions the device: the image goes to slot 0 as the known-good one
    /// and --key becomes the device's trust anchor. Later installs must be signed by that key and
    /// go on trial into the inactive slot, with a sequence number above the device's. A refused
    /// envelope (signature, rollback, identity, an image that does not match its digest) leaves
    /// the directory byte for byte as it was.
    Install(InstallArgs),
    /// Boot a directory device: validate, load and invoke the image the A/B state chooses.
    ///
    /// A new image on trial boots once; --confirm then makes it the known-good image. A trial
    /// booted before and never confirmed is abandoned, and the known-good image boots.
    Boot(BootArgs),
    /// A staged rollout of an envelope to rings of devices, decided by their SUIT reports: new,
    /// report, status, resume.
    #[command(subcommand)]
    Rollout(crate::suit_rollout::RolloutCmd),
}

/// The arguments of `suit device-init`.
#[derive(Debug, Args)]
pub struct DeviceInitArgs {
    /// The device's directory (created; must be empty).
    #[arg(long)]
    device: PathBuf,
    /// The vendor ID, a UUID (RFC 9562 text form).
    #[arg(long, value_parser = uuid_arg)]
    vendor_id: [u8; 16],
    /// The class ID, a UUID.
    #[arg(long, value_parser = uuid_arg)]
    class_id: [u8; 16],
    /// The device ID, a UUID (optional).
    #[arg(long, value_parser = uuid_arg)]
    device_id: Option<[u8; 16]>,
    /// The key encrypted payloads are opened with (optional): a 16-byte symmetric key for
    /// A128KW, or a P-256 private key for ECDH-ES + A128KW (draft-ietf-suit-firmware-encryption).
    #[arg(long, value_name = "KEY")]
    decryption_key: Option<PathBuf>,
}

/// The arguments of `suit install`.
#[derive(Debug, Args)]
pub struct InstallArgs {
    /// The P-256 public (or private) key the envelope is signed with.
    #[arg(long)]
    key: PathBuf,
    /// The SUIT envelope, binary or hex (`-` for stdin).
    envelope: PathBuf,
    /// The device's directory.
    #[arg(long)]
    device: PathBuf,
    /// Serve URI from FILE to the manifest's fetch directive (split at the last '=');
    /// repeatable.
    #[arg(long, value_name = "URI=FILE", value_parser = fetch_arg)]
    fetch: Vec<(String, PathBuf)>,
    #[command(flatten)]
    report: ReportArgs,
    #[command(flatten)]
    clock: ClockArgs,
}

/// Where a device writes its SUIT_Report (draft-ietf-suit-report), for `suit rollout report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Write the device's SUIT_Report to FILE, what `suit rollout report` reads. `install`
    /// writes one whether it succeeds or is refused; `boot` writes the one of the trial it
    /// settles (a success when --confirm confirmed it, a failure when the boot abandoned it),
    /// and no file when it settles none.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// The report's `suit-report-nonce` (hex), which the server chose.
    #[arg(long, value_name = "HEX", requires = "report")]
    nonce: Option<io::Hex>,
    /// Sign the report with the device's P-256 private key (a COSE_Sign1 with ES256, the
    /// draft's "Protected SUIT Report"), which `suit rollout report --device-key` verifies.
    #[arg(long, value_name = "KEY", requires = "report")]
    sign_report: Option<PathBuf>,
}

impl ReportArgs {
    /// The signing key, read before the device is touched, so that a bad one leaves it as it
    /// was.
    fn signer(&self) -> Result<Option<P256SigningKey>> {
        self.sign_report
            .as_deref()
            .map(|k| Key::load(k)?.signer().context(k.display()))
            .transpose()
    }

    fn nonce(&self) -> Option<&[u8]> {
        self.nonce.as_ref().map(|n| n.0.as_slice())
    }

    /// Writes `report` to the report file, signed when a key was given.
    fn write(
        &self,
        crypto: &mut impl iot_core::crypto::Sha256,
        signer: Option<P256SigningKey>,
        report: &[u8],
    ) -> Result<()> {
        let Some(path) = &self.report else {
            return Ok(());
        };
        let Some(mut signer) = signer else {
            return io::write(path, report);
        };
        let mut signed = vec![0u8; report.len() + iot_update_manifest::report::SIGNED_OVERHEAD];
        let n = iot_update_manifest::report::sign(crypto, &mut signer, report, &mut signed)?;
        io::write(path, signed.get(..n).unwrap_or_default())
    }
}

/// The arguments of `suit boot`.
#[derive(Debug, Args)]
pub struct BootArgs {
    /// The device's directory.
    #[arg(long)]
    device: PathBuf,
    /// Confirm an image on trial once it booted (the application's "all is well").
    #[arg(long)]
    confirm: bool,
    #[command(flatten)]
    report: ReportArgs,
    #[command(flatten)]
    clock: ClockArgs,
}

/// The device's clock, against which delegation CWTs' `exp` and `nbf` are checked.
#[derive(Debug, Args)]
pub struct ClockArgs {
    /// The time delegation CWTs' `exp` and `nbf` are checked at: `now` (this machine's clock),
    /// seconds since the Unix epoch, or `none` for a device without a clock, which refuses a
    /// CWT that carries either.
    #[arg(long, value_name = "now|none|SECONDS", default_value = "now", value_parser = clock_arg)]
    clock: Clock,
}

/// A clock reading, or none.
#[derive(Debug, Clone, Copy)]
struct Clock(Option<u64>);

fn clock_arg(s: &str) -> std::result::Result<Clock, String> {
    match s {
        "now" => Ok(Clock(Some(crate::identity_cmd::now()))),
        "none" => Ok(Clock(None)),
        _ => s
            .parse()
            .map(|t| Clock(Some(t)))
            .map_err(|_| format!("expected now, none or seconds since the Unix epoch: {s}")),
    }
}

fn uuid_arg(s: &str) -> std::result::Result<[u8; 16], String> {
    parse_uuid(s).ok_or_else(|| format!("not a UUID (RFC 9562 text form): {s}"))
}

fn fetch_arg(s: &str) -> std::result::Result<(String, PathBuf), String> {
    match s.rsplit_once('=') {
        Some((uri, file)) if !uri.is_empty() && !file.is_empty() => {
            Ok((uri.to_owned(), PathBuf::from(file)))
        }
        _ => Err(format!("expected URI=FILE: {s}")),
    }
}

/// The arguments of `suit create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// A P-256 private key (COSE_Sign1 with the description's "algorithm", ES256 by default) or
    /// a symmetric key (COSE_Mac0, HMAC 256/256).
    #[arg(long)]
    key: PathBuf,
    /// The JSON description; files it names are read relative to its folder.
    description: PathBuf,
    /// Where the envelope goes (`-` for stdout).
    #[arg(short, long)]
    out: PathBuf,
}

/// The arguments of `suit sever`.
#[derive(Debug, Args)]
pub struct SeverArgs {
    /// The SUIT envelope, binary or hex (`-` for stdin).
    envelope: PathBuf,
    /// Where the severed envelope goes (`-` for stdout).
    #[arg(short, long)]
    out: PathBuf,
}

/// The arguments of `suit verify` and `suit inspect`.
#[derive(Debug, Args)]
pub struct SuitArgs {
    /// Trust anchor: a P-256 public (or private) key for COSE_Sign1 blocks, or a symmetric key
    /// for COSE_Mac0 blocks (HMAC 256/256).
    #[arg(long)]
    key: PathBuf,
    /// The SUIT envelope, binary or hex (`-` for stdin).
    envelope: PathBuf,
    #[command(flatten)]
    clock: ClockArgs,
}

/// Runs a `suit` command.
pub fn run(cmd: SuitCmd) -> Result<()> {
    match cmd {
        SuitCmd::Verify(a) => with_manifest(&a, |_, m| crate::say(&summary(m))),
        SuitCmd::Inspect(a) => with_manifest(&a, |e, m| crate::say(inspect(e, m).trim_end())),
        SuitCmd::Create(a) => create(&a),
        SuitCmd::Sever(a) => sever(&a),
        SuitCmd::DeviceInit(a) => device_init(&a),
        SuitCmd::Install(a) => install(&a),
        SuitCmd::Boot(a) => boot(&a),
        SuitCmd::Rollout(c) => crate::suit_rollout::run(c),
    }
}

/// `suit device-init`.
fn device_init(a: &DeviceInitArgs) -> Result<()> {
    let identity = Identity {
        vendor_id: a.vendor_id,
        class_id: a.class_id,
        device_id: a.device_id,
    };
    // The key is read first, so that a bad one leaves no device behind.
    let decryption_key = a
        .decryption_key
        .as_deref()
        .map(decryption_key)
        .transpose()?;
    let mut device =
        DirDevice::init(&a.device, &identity).map_err(|e| device_error(&a.device, e))?;
    let with_key = match decryption_key {
        Some(k) => {
            let kind = match k {
                DecryptionKey::A128Kw(_) => "A128KW",
                DecryptionKey::EcdhEsP256(_) => "ECDH-ES + A128KW",
            };
            device
                .set_decryption_key(k)
                .map_err(|e| device_error(&a.device, e))?;
            format!(", decryption key ({kind})")
        }
        None => String::new(),
    };
    let device_id = a
        .device_id
        .map(|d| format!(", device-id {}", format_uuid(&d)))
        .unwrap_or_default();
    crate::say(&format!(
        "{}: device initialised: vendor-id {}, class-id {}{device_id}{with_key}",
        a.device.display(),
        format_uuid(&a.vendor_id),
        format_uuid(&a.class_id)
    ))
}

/// A device's decryption key from a key file: symmetric (16 bytes) for A128KW, a P-256 private
/// key for ECDH-ES + A128KW.
fn decryption_key(path: &std::path::Path) -> Result<DecryptionKey> {
    let key = Key::load(path)?;
    if key.is_symmetric() {
        let k = key.symmetric()?;
        let bytes: [u8; 16] = k.k.try_into().map_err(|_| {
            crate::fail::Failure::new(format!(
                "{}: an A128KW key is 16 bytes, this one {}",
                path.display(),
                k.k.len()
            ))
        })?;
        return Ok(DecryptionKey::A128Kw(bytes.into()));
    }
    let private = key.signer().context(path.display())?;
    Ok(DecryptionKey::EcdhEsP256(private.to_bytes()))
}

/// A device error: what the device refused names the device; file errors name their file.
fn device_error(dir: &std::path::Path, e: DirError) -> crate::fail::Failure {
    match e {
        DirError::Suit(_) | DirError::NotTrustAnchor | DirError::NotProvisioned => {
            crate::fail::Failure::new(format!("{}: refused: {e}", dir.display()))
        }
        other => crate::fail::Failure::new(other.to_string()),
    }
}

/// `suit install`.
fn install(a: &InstallArgs) -> Result<()> {
    let key = Key::load(&a.key)?.verifier().context(a.key.display())?;
    let envelope = io::read_cbor(&a.envelope)?;
    let mut device = DirDevice::open(&a.device).map_err(|e| device_error(&a.device, e))?;
    device.set_clock(a.clock.clock.0);
    for (uri, file) in &a.fetch {
        device.serve(uri.as_str(), file);
    }
    let mut crypto = RustCrypto::from_os();
    let done = if a.report.report.is_none() {
        device.install(&mut crypto, key, &envelope)
    } else {
        let signer = a.report.signer()?;
        let (done, report) = device.install_reported(&mut crypto, key, &envelope, a.report.nonce());
        a.report.write(&mut crypto, signer, &report)?;
        done
    }
    .map_err(|e| device_error(&a.device, e))?;
    let how = if done.provisioned {
        "provisioned: known-good, and the key is now the device's trust anchor"
    } else {
        "on trial until a boot confirms it"
    };
    crate::say(&format!(
        "{}: sequence number {} installed in slot {} ({how})",
        a.device.display(),
        done.sequence,
        done.slot
    ))
}

/// `suit boot`.
fn boot(a: &BootArgs) -> Result<()> {
    let mut device = DirDevice::open(&a.device).map_err(|e| device_error(&a.device, e))?;
    device.set_clock(a.clock.clock.0);
    let mut crypto = RustCrypto::from_os();
    let (report, written) = if a.report.report.is_none() {
        (device.boot(&mut crypto, a.confirm), "")
    } else {
        let signer = a.report.signer()?;
        let (report, suit_report) = device.boot_reported(&mut crypto, a.confirm, a.report.nonce());
        match suit_report {
            Some(r) => {
                a.report.write(&mut crypto, signer, &r)?;
                (report, "; report written")
            }
            None => (report, "; no trial settled: no report"),
        }
    };
    let report = report.map_err(|e| device_error(&a.device, e))?;
    let b = report.booted;
    let reverted = match b.reverted {
        Some(t) => format!(
            "trial of sequence number {} abandoned ({}); ",
            t.sequence, t.cause
        ),
        None => String::new(),
    };
    let how = match (b.tentative, report.confirmed) {
        (true, true) => "confirmed: now the known-good image",
        (true, false) => "on trial, not confirmed: the next boot reverts",
        (false, _) => "known-good",
    };
    let invoked: Vec<String> = device
        .invoked()
        .iter()
        .map(|i| i.file.display().to_string())
        .collect();
    crate::say(&format!(
        "{}: {reverted}booted slot {} (sequence number {}, {how}); invoked {}{written}",
        a.device.display(),
        b.slot,
        b.sequence,
        if invoked.is_empty() {
            "nothing".to_owned()
        } else {
            invoked.join(", ")
        }
    ))
}

/// `suit create`: description -> signed envelope, checked with the decoder, written.
fn create(a: &CreateArgs) -> Result<()> {
    let key = Key::load(&a.key)?;
    let shown = a.description.display();
    let text = String::from_utf8(io::read(&a.description)?).context(&shown)?;
    let base = a
        .description
        .parent()
        .filter(|p| !p.as_os_str().is_empty() && a.description.as_os_str() != "-")
        .unwrap_or(std::path::Path::new("."));
    let mut crypto = RustCrypto::from_os();
    let parsed = json::parse(&text, base, &mut crypto).context(&shown)?;
    let mut unsigned = parsed.description.encode(&mut crypto).context(&shown)?;
    let kid = parsed.kid.as_deref();
    if key.is_symmetric() {
        unsigned
            .mac(&mut crypto, &key.symmetric()?, kid)
            .context("MACing with HMAC 256/256")?;
    } else {
        let mut signer = key.signer().context(a.key.display())?;
        unsigned
            .sign(&mut crypto, &mut signer, parsed.algorithm, kid)
            .context(format!("signing with {}", parsed.algorithm.name()))?;
    }
    let envelope = unsigned.to_bytes().context(&shown)?;
    {
        let env = Envelope::decode(&envelope).context("the built envelope does not decode")?;
        // Before the delegation is added: no CWT, so no clock.
        authenticate(&env, &key, &a.key, None)?.context("the built envelope is refused")?;
    }
    // The delegation goes outside the signature, after the check above (whose only anchor is the
    // signing key, where the chains start at the device's trust anchors): decoded, not verified.
    let envelope = if parsed.delegation.is_empty() {
        envelope
    } else {
        unsigned.delegate(&parsed.delegation).context(&shown)?;
        let envelope = unsigned.to_bytes().context(&shown)?;
        Envelope::decode(&envelope)
            .and_then(|e| e.delegation_chains().map(|_| ()))
            .context("the built delegation does not decode")?;
        envelope
    };
    let hosted = hosted_files(&a.out, &parsed.payloads)?;
    io::write(&a.out, &envelope)?;
    for (path, (name, ciphertext)) in hosted.iter().zip(&parsed.payloads) {
        io::write(path, ciphertext)?;
        crate::say(&format!("{}: encrypted payload {name}", path.display()))?;
    }
    if a.out.as_os_str() != "-" {
        crate::say(&format!(
            "{}: {} bytes, sequence number {}",
            a.out.display(),
            envelope.len(),
            parsed.description.sequence_number
        ))?;
    }
    Ok(())
}

/// Where `suit create` puts the encrypted payloads that are not integrated: beside the
/// envelope, named by the last segment of their name (their URI), to be hosted there. Two
/// payloads landing on one file, or on the envelope's, are refused before anything is written.
fn hosted_files(out: &std::path::Path, payloads: &[(String, Vec<u8>)]) -> Result<Vec<PathBuf>> {
    let dir = out.parent().filter(|_| out.as_os_str() != "-");
    let mut paths: Vec<PathBuf> = Vec::with_capacity(payloads.len());
    for (name, _) in payloads {
        let file = name.rsplit('/').next().unwrap_or(name);
        if matches!(file, "" | "." | "..") {
            bail!("encrypted payload {name}: its name ends in no file name to host it under");
        }
        let path = dir.map_or_else(|| PathBuf::from(file), |d| d.join(file));
        if path == out || paths.contains(&path) {
            bail!(
                "encrypted payload {name}: {} is already written by this envelope",
                path.display()
            );
        }
        paths.push(path);
    }
    Ok(paths)
}

/// `suit sever`.
fn sever(a: &SeverArgs) -> Result<()> {
    let bytes = io::read_cbor(&a.envelope)?;
    let severed = builder::sever(&bytes).context(a.envelope.display())?;
    io::write(&a.out, &severed)?;
    if a.out.as_os_str() != "-" {
        crate::say(&format!(
            "{}: {} bytes ({} removed)",
            a.out.display(),
            severed.len(),
            bytes.len().saturating_sub(severed.len())
        ))?;
    }
    Ok(())
}

/// Decodes and authenticates the envelope of `a`, then hands it and the manifest to `then`.
pub(crate) fn with_manifest(
    a: &SuitArgs,
    then: impl FnOnce(&Envelope<'_>, &AuthenticatedManifest<'_>) -> Result<()>,
) -> Result<()> {
    let key = Key::load(&a.key)?;
    let bytes = io::read_cbor(&a.envelope)?;
    let shown = a.envelope.display();
    let env = Envelope::decode(&bytes).context(format!("{shown}: not a SUIT envelope"))?;
    let authenticated =
        authenticate(&env, &key, &a.key, a.clock.clock.0)?.context(format!("{shown}: refused"))?;
    then(&env, &authenticated)
}

/// Authenticates `env` under `key` (read from `key_path`): its P-256 key for COSE_Sign1 blocks,
/// or its symmetric key for COSE_Mac0 blocks, delegation CWTs checked at `now` (if any). The
/// outer error is about the key, the inner one why the envelope was refused.
fn authenticate<'a>(
    env: &Envelope<'a>,
    key: &Key,
    key_path: &std::path::Path,
    now: Option<u64>,
) -> Result<std::result::Result<AuthenticatedManifest<'a>, iot_update_manifest::Error>> {
    let mut crypto = RustCrypto::from_os();
    Ok(if key.is_symmetric() {
        let sym = [key.symmetric()?];
        env.authenticate(&mut crypto, &mut TrustAnchors::macs(&sym))
    } else {
        let mut verifiers = [key.verifier().context(key_path.display())?];
        let mut anchors = TrustAnchors::signers(&mut verifiers).at_time(now);
        env.authenticate(&mut crypto, &mut anchors)
    })
}

/// One line: what authenticated, its sequence number and components.
fn summary(a: &AuthenticatedManifest<'_>) -> String {
    let m = a.manifest();
    let components: Vec<String> = m.common().components().iter().map(component).collect();
    format!(
        "authenticated: sequence number {}, {} component{}: {}",
        m.sequence_number(),
        components.len(),
        if components.len() == 1 { "" } else { "s" },
        components.join(", ")
    )
}

/// A component identifier as `[h'00', 'text']`.
fn component(id: ComponentId<'_>) -> String {
    let parts: Vec<String> = id.segments().map(bytes).collect();
    format!("[{}]", parts.join(", "))
}

/// Bytes as `'text'` when printable ASCII, else `h'..'`.
fn bytes(b: &[u8]) -> String {
    if !b.is_empty() && b.iter().all(|c| c.is_ascii_graphic() || *c == b' ') {
        format!("'{}'", String::from_utf8_lossy(b))
    } else {
        format!("h'{}'", hex::encode(b))
    }
}

fn digest(d: SuitDigest<'_>) -> String {
    let alg = match d.algorithm {
        -16 => "sha-256".to_owned(),
        -43 => "sha-384".to_owned(),
        -44 => "sha-512".to_owned(),
        -18 => "shake128".to_owned(),
        -45 => "shake256".to_owned(),
        other => format!("alg {other}"),
    };
    format!("{alg} {}", hex::encode(d.bytes))
}

/// CBOR in compact diagnostic notation, or hex when it does not parse.
fn diag(encoded: &[u8]) -> String {
    let mut text = String::new();
    match iot_core::diag::write_next(&mut text, encoded, 0, &iot_core::diag::Options::default()) {
        Ok(_) => text,
        Err(_) => format!("h'{}'", hex::encode(encoded)),
    }
}

/// The tree of `suit inspect`.
fn inspect(env: &Envelope<'_>, a: &AuthenticatedManifest<'_>) -> String {
    let m = a.manifest();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "manifest version {}, sequence number {}",
        m.version(),
        m.sequence_number()
    );
    let _ = writeln!(out, "digest: {}", digest(a.digest()));
    let _ = writeln!(out, "authenticated by block {}", a.authenticated_by());
    delegation(&mut out, env);
    if let Some(uri) = m.reference_uri() {
        let _ = writeln!(out, "reference-uri: {uri}");
    }
    if let Some(id) = m.component_id() {
        let _ = writeln!(out, "manifest-component-id: {}", component(id));
    }
    let _ = writeln!(out, "components:");
    for (i, id) in m.common().components().iter().enumerate() {
        let _ = writeln!(out, "  [{i}] {}", component(id));
    }
    if let Some(deps) = m.common().dependencies() {
        let _ = writeln!(out, "dependencies:");
        for d in deps.iter() {
            let prefix = d.prefix.map(component).unwrap_or_else(|| "-".to_owned());
            let _ = writeln!(out, "  index {} prefix {prefix}", d.index);
        }
    }
    let plain: [(&str, Option<CommandSequence<'_>>); 5] = [
        ("shared-sequence", m.common().shared_sequence()),
        ("validate", m.validate()),
        ("load", m.load()),
        ("invoke", m.invoke()),
        ("uninstall", m.uninstall()),
    ];
    for (name, seq) in plain {
        if let Some(seq) = seq {
            let _ = writeln!(out, "{name}:");
            sequence(&mut out, seq, 1);
        }
    }
    let severable = [
        ("dependency-resolution", m.dependency_resolution()),
        ("payload-fetch", m.payload_fetch()),
        ("candidate-verification", m.candidate_verification()),
        ("install", m.install()),
    ];
    for (name, seq) in severable {
        match seq {
            None => {}
            Some(Severable::Inline(seq)) => {
                let _ = writeln!(out, "{name}:");
                sequence(&mut out, seq, 1);
            }
            Some(Severable::Restored(seq)) => {
                let _ = writeln!(out, "{name} (severed, restored from the envelope):");
                sequence(&mut out, seq, 1);
            }
            Some(Severable::Missing(d)) => {
                let _ = writeln!(out, "{name}: severed, not in the envelope ({})", digest(d));
            }
        }
    }
    out
}

/// `suit-delegation`, verified with the envelope: per chain, each CWT's issuer (a trust anchor
/// for the first, the previous CWT's key after) and the key it confirms.
fn delegation(out: &mut String, env: &Envelope<'_>) {
    let Ok(Some(d)) = env.delegation_chains() else {
        return;
    };
    let _ = writeln!(out, "delegation:");
    for (i, chain) in d.chains().enumerate() {
        let _ = writeln!(out, "  chain {i}:");
        for (j, cwt) in chain.enumerate() {
            let issuer = match j {
                0 => "a trust anchor".to_owned(),
                _ => format!("CWT {}'s key", j - 1),
            };
            let view = read_cwt(cwt);
            let key = match view.map(|v| v.key) {
                Ok(CoseKey::Ec2 { x, y, alg, .. }) => {
                    let y = match y {
                        Ec2Y::Coordinate(y) => hex::encode(y),
                        Ec2Y::Sign(sign) => format!("sign {sign}"),
                    };
                    let alg = alg.map(|a| format!(" ({})", a.name())).unwrap_or_default();
                    format!("P-256 x {} y {y}{alg}", hex::encode(x))
                }
                Ok(CoseKey::Symmetric(_)) | Err(_) => "no key".to_owned(),
            };
            // Seconds since the Unix epoch, as the CWT holds them (NaN: no date).
            let limits: String = view
                .iter()
                .flat_map(|v| [("not before", v.not_before), ("expires", v.expires)])
                .filter_map(|(what, t)| t.map(|t| format!(", {what} {t}")))
                .collect();
            let _ = writeln!(
                out,
                "    CWT {j}: issued by {issuer}, confirms {key}{limits}"
            );
        }
    }
}

/// One command per line, parameters and nested sequences indented below it.
fn sequence(out: &mut String, seq: CommandSequence<'_>, depth: usize) {
    let pad = "  ".repeat(depth);
    for (cmd, arg) in &seq {
        let kind = if cmd.is_condition() {
            "condition"
        } else {
            "directive"
        };
        let name = command_name(cmd);
        match arg {
            Argument::ReportingPolicy(p) => {
                let _ = writeln!(out, "{pad}{kind} {name} (report policy {})", p.0);
            }
            Argument::Index(IndexArg::One(i)) => {
                let _ = writeln!(out, "{pad}{kind} {name} {i}");
            }
            Argument::Index(IndexArg::All) => {
                let _ = writeln!(out, "{pad}{kind} {name} true (all components)");
            }
            Argument::Index(IndexArg::List(l)) => {
                let list: Vec<String> = l.iter().map(|i| i.to_string()).collect();
                let _ = writeln!(out, "{pad}{kind} {name} [{}]", list.join(", "));
            }
            Argument::Parameters(ps) => {
                let _ = writeln!(out, "{pad}{kind} {name}");
                for p in ps.iter() {
                    let _ = writeln!(out, "{pad}  {}", parameter(p));
                }
            }
            Argument::TryEach(t) => {
                let _ = writeln!(out, "{pad}{kind} {name}");
                for (i, s) in t.iter().enumerate() {
                    let _ = writeln!(out, "{pad}  sequence {i}:");
                    sequence(out, s, depth + 2);
                }
                if t.has_empty_fallback() {
                    let _ = writeln!(out, "{pad}  nil (succeed when all failed)");
                }
            }
            Argument::Sequence(s) => {
                let _ = writeln!(out, "{pad}{kind} {name}");
                sequence(out, s, depth + 1);
            }
            Argument::Raw(raw) => {
                let named = matches!(cmd, Command::OverrideMultiple | Command::CopyParams)
                    .then(|| by_component(cmd, raw, &pad))
                    .flatten();
                match named {
                    Some(lines) => {
                        let _ = writeln!(out, "{pad}{kind} {name}");
                        out.push_str(&lines);
                    }
                    None => {
                        let _ = writeln!(out, "{pad}{kind} {name} {}", diag(raw));
                    }
                }
            }
            _ => {
                let _ = writeln!(out, "{pad}{kind} {name} (argument not shown)");
            }
        }
    }
}

/// The draft's name of a command, without its `suit-condition-` / `suit-directive-` prefix.
fn command_name(c: Command) -> String {
    c.name()
        .map_or_else(|| format!("custom-{}", c.code()), str::to_owned)
}

/// A parameter as `name: value`.
fn parameter(p: Parameter<'_>) -> String {
    let value = match p {
        Parameter::VendorId(b) | Parameter::ClassId(b) | Parameter::DeviceId(b) => uuid(b),
        Parameter::ImageDigest(d) => digest(d),
        Parameter::UseBefore(n)
        | Parameter::ComponentSlot(n)
        | Parameter::ImageSize(n)
        | Parameter::SourceComponent(n)
        | Parameter::MinimumBattery(n) => n.to_string(),
        Parameter::StrictOrder(b) | Parameter::SoftFailure(b) => b.to_string(),
        Parameter::Content(b) => format!("{} bytes {}", b.len(), bytes(b)),
        Parameter::Uri(u) => u.to_owned(),
        Parameter::InvokeArgs(b) => bytes(b),
        Parameter::UpdatePriority(n) => n.to_string(),
        Parameter::EncryptionInfo(v)
        | Parameter::Version(v)
        | Parameter::WaitInfo(v)
        | Parameter::Other { value: v, .. } => diag(v),
        _ => return parameter_name(p.key()),
    };
    format!("{}: {value}", parameter_name(p.key()))
}

/// The name `suit inspect` gives parameter `key`: the library's ([`param::name`], as JSON
/// descriptions name it), or its number.
fn parameter_name(key: i64) -> String {
    param::name(key).map_or_else(|| format!("parameter {key}"), str::to_owned)
}

/// The argument of override-multiple or copy-params (draft-ietf-suit-update-management), one
/// component a line with its parameters, or the keys copied from it, named; `None` when it is
/// malformed.
fn by_component(command: Command, raw: &[u8], pad: &str) -> Option<String> {
    let mut entries = ByIndex::new(command, raw).ok()?;
    let mut out = String::new();
    while let Some(index) = entries.next_index() {
        let index = index.ok()?;
        if command == Command::OverrideMultiple {
            let _ = writeln!(out, "{pad}  component {index}:");
            for p in entries.parameters().ok()?.iter() {
                let _ = writeln!(out, "{pad}    {}", parameter(p));
            }
        } else {
            let keys: Vec<String> = entries.keys().ok()?.map(parameter_name).collect();
            let _ = writeln!(out, "{pad}  from component {index}: {}", keys.join(", "));
        }
    }
    Some(out)
}

/// A 16-byte identifier in RFC 9562 text form, anything else as bytes.
fn uuid(b: &[u8]) -> String {
    <[u8; 16]>::try_from(b).map_or_else(|_| bytes(b), |u| format_uuid(&u))
}
