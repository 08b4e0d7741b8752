//! `iot-tool suit rollout`: a staged rollout of one SUIT manifest to rings of devices
//! (iot-update-manifest's `rollout::Plan`), kept in a JSON file between runs. Devices' reports
//! (`SUIT_Report`, draft-ietf-suit-report; `suit install --report` writes one, signed with
//! `--sign-report`, which `--device-key` verifies here) decide whether a ring advances or the
//! rollout halts.

use crate::fail::{Context, Failure, Result, bail};
use crate::io;
use crate::keys::Key;
use crate::suit_cmd::SuitArgs;
use clap::{Args, Subcommand};
use iot_core::crypto::RustCrypto;
use iot_update_manifest::report::Reason;
use iot_update_manifest::rollout::{
    Decision, DeviceReport, Ingest, Outcome, Plan, Release, State, Thresholds,
};
use std::path::{Path, PathBuf};

/// `iot-tool suit rollout ...`.
#[derive(Debug, Subcommand)]
pub enum RolloutCmd {
    /// Plan a rollout of an envelope, which must authenticate under --key, to rings of devices.
    New(NewArgs),
    /// Count a device's SUIT report, decide, and save the plan.
    ///
    /// A ring advances when enough of it reported and enough of the reports are successes; the
    /// rollout halts as soon as a ring's failures pass the threshold. A device's first report on
    /// the release counts; a repeated or contradicting one changes nothing.
    Report(ReportArgs),
    /// Print where a rollout stands; with --device, whether the release is for that device (exit
    /// status 0) or not yet (1).
    Status(StatusArgs),
    /// Release a halted rollout again from the ring that halted it, deciding with the thresholds
    /// given from now on; the reports counted so far stay counted.
    Resume(ResumeArgs),
}

/// When a ring advances or halts.
#[derive(Debug, Args)]
pub struct ThresholdArgs {
    /// Reports needed before a ring advances, as a fraction of the ring.
    #[arg(long, default_value_t = 0.9)]
    min_reported: f64,
    /// Successes needed among the reports for a ring to advance.
    #[arg(long, default_value_t = 0.95)]
    min_success: f64,
    /// Failures, as a fraction of the ring, above which the rollout halts.
    #[arg(long, default_value_t = 0.05)]
    max_failures: f64,
}

impl ThresholdArgs {
    fn get(&self) -> Thresholds {
        Thresholds {
            min_reported: self.min_reported,
            min_success: self.min_success,
            max_failures: self.max_failures,
        }
    }
}

/// The arguments of `suit rollout new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The envelope released, and the key it must authenticate under.
    #[command(flatten)]
    envelope: SuitArgs,
    /// The fleet: one device name per line, in rollout order (blank lines and `#` comments
    /// skipped).
    #[arg(long)]
    devices: PathBuf,
    /// The rings as cumulative fractions of the fleet, increasing to 1 (`0.01,0.1,1`: a 1%
    /// canary, then up to 10%, then everyone).
    #[arg(long, value_delimiter = ',', required = true)]
    rings: Vec<f64>,
    #[command(flatten)]
    thresholds: ThresholdArgs,
    /// The plan file written (must not exist).
    #[arg(short, long)]
    out: PathBuf,
}

/// The arguments of `suit rollout report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The plan file (updated in place).
    #[arg(long)]
    plan: PathBuf,
    /// The device that sent the report.
    #[arg(long)]
    device: String,
    /// The device's P-256 public key: the report must then be signed by it (`suit install
    /// --sign-report`), and is read only once verified.
    #[arg(long, value_name = "PUB")]
    device_key: Option<PathBuf>,
    /// Its SUIT_Report, binary or hex (`-` for stdin).
    report: PathBuf,
}

/// The arguments of `suit rollout status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The plan file.
    #[arg(long)]
    plan: PathBuf,
    /// A device: is the release for it yet?
    #[arg(long)]
    device: Option<String>,
}

/// The arguments of `suit rollout resume`.
#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The plan file (updated in place).
    #[arg(long)]
    plan: PathBuf,
    #[command(flatten)]
    thresholds: ThresholdArgs,
}

/// Runs a `suit rollout` command.
pub fn run(cmd: RolloutCmd) -> Result<()> {
    match cmd {
        RolloutCmd::New(a) => new(&a),
        RolloutCmd::Report(a) => report(&a),
        RolloutCmd::Status(a) => status(&a),
        RolloutCmd::Resume(a) => resume(&a),
    }
}

fn load(path: &Path) -> Result<Plan> {
    let text = std::fs::read_to_string(path).context(path.display())?;
    Plan::from_json(&text).context(path.display())
}

/// Writes the plan so that a crash leaves the old plan or the new one, never half of one.
fn save(path: &Path, plan: &Plan) -> Result<()> {
    io::write_atomic(path, (plan.to_json() + "\n").as_bytes())
}

/// "1 device", "3 devices".
fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// "ring 0 (2 devices): 1 reported, 0 failed".
fn ring_line(plan: &Plan, ring: usize) -> String {
    let size = plan.rings().get(ring).map_or(0, Vec::len);
    let (reported, failed) = plan.ring_counts(ring);
    format!(
        "ring {ring} ({}): {reported} reported, {failed} failed",
        count(size, "device")
    )
}

fn decision_line(plan: &Plan, d: Decision) -> String {
    match d {
        Decision::Wait { ring, needed, .. } => {
            format!(
                "{}; waiting (needs {needed} reports)",
                ring_line(plan, ring)
            )
        }
        Decision::Advance { to } => format!(
            "{}; passed: released to ring {to} ({})",
            ring_line(plan, to.saturating_sub(1)),
            count(plan.rings().get(to).map_or(0, Vec::len), "device")
        ),
        Decision::Complete => "every ring passed: rollout complete".to_owned(),
        Decision::Halt { ring, failures } => {
            format!(
                "halted on {} of ring {ring}: nothing more is released",
                count(failures, "failure")
            )
        }
    }
}

/// `suit rollout new`.
fn new(a: &NewArgs) -> Result<()> {
    if a.out.exists() {
        bail!("{}: exists; a plan is not overwritten", a.out.display());
    }
    let text = std::fs::read_to_string(&a.devices).context(a.devices.display())?;
    let devices: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    let mut release = None;
    crate::suit_cmd::with_manifest(&a.envelope, |_, m| {
        release = Some(Release {
            digest: m.digest().bytes.to_vec(),
            sequence_number: m.manifest().sequence_number(),
        });
        Ok(())
    })?;
    let release = release.ok_or_else(|| Failure::new("no manifest"))?;
    let plan = Plan::by_fractions(release, &devices, &a.rings, a.thresholds.get())
        .context(a.devices.display())?;
    save(&a.out, &plan)?;
    let sizes: Vec<String> = plan.rings().iter().map(|r| r.len().to_string()).collect();
    crate::say(&format!(
        "{}: rollout of sequence number {} to {} in {} ({}); released to ring 0",
        a.out.display(),
        plan.release().sequence_number,
        count(devices.len(), "device"),
        count(sizes.len(), "ring"),
        sizes.join(", ")
    ))
}

/// `suit rollout report`.
fn report(a: &ReportArgs) -> Result<()> {
    let mut plan = load(&a.plan)?;
    let bytes = io::read_cbor(&a.report)?;
    let shown = a.report.display();
    let read = match &a.device_key {
        None => DeviceReport::decode(a.device.as_str(), &bytes)
            .context(format!("{shown}: not a SUIT report"))?,
        Some(k) => {
            let mut key = Key::load(k)?.verifier().context(k.display())?;
            DeviceReport::decode_signed(
                a.device.as_str(),
                &bytes,
                &mut RustCrypto::from_os(),
                &mut key,
            )
            .context(format!(
                "{shown}: not a SUIT report signed by {}",
                k.display()
            ))?
        }
    };
    let ingest = plan.ingest(&read);
    let failure = |reason: Option<Reason>, code| {
        format!(
            "failure counted ({}, code {code})",
            reason.map_or_else(|| "unknown reason".to_owned(), |r| format!("{r:?}"))
        )
    };
    let counted = match (ingest, read.outcome) {
        (Ingest::Recorded, Outcome::Success) => "success counted".to_owned(),
        (Ingest::Recorded, Outcome::Failure { reason, code }) => failure(reason, code),
        (Ingest::Overturned, Outcome::Failure { reason, code }) => {
            format!("{} instead of its earlier success", failure(reason, code))
        }
        (Ingest::Duplicate, _) => "repeated report, nothing changed".to_owned(),
        (Ingest::Conflict | Ingest::Overturned, _) => {
            "contradicts its earlier failure, ignored".to_owned()
        }
        (Ingest::OtherManifest, _) => bail!("{shown}: a report on another manifest"),
        (Ingest::UnknownDevice, _) => bail!("{}: not in the rollout", a.device),
        (Ingest::NotReleased, _) => bail!("{}: the release is not for it yet", a.device),
    };
    let decision = plan.step();
    save(&a.plan, &plan)?;
    crate::say(&format!(
        "{}: {counted}; {}",
        a.device,
        decision_line(&plan, decision)
    ))
}

/// `suit rollout status`.
fn status(a: &StatusArgs) -> Result<()> {
    let plan = load(&a.plan)?;
    if let Some(device) = &a.device {
        if plan.is_released_to(device) {
            return crate::say(&format!("{device}: released"));
        }
        bail!("{device}: not released to")
    }
    let state = match plan.state() {
        State::Releasing { ring } => format!("releasing to ring {ring}"),
        State::Completed => "complete".to_owned(),
        State::Halted {
            ring,
            passed_ring: None,
            failures,
        } => format!("halted at ring {ring} on {}", count(failures, "failure")),
        State::Halted {
            ring,
            passed_ring: Some(passed),
            failures,
        } => format!(
            "halted at ring {ring} on {} of ring {passed}, reported after it passed",
            count(failures, "failure")
        ),
    };
    let mut lines = vec![format!(
        "sequence number {}: {state}",
        plan.release().sequence_number
    )];
    lines.extend((0..plan.rings().len()).map(|r| ring_line(&plan, r)));
    crate::say(&lines.join("\n"))
}

/// `suit rollout resume`.
fn resume(a: &ResumeArgs) -> Result<()> {
    let mut plan = load(&a.plan)?;
    plan.resume(a.thresholds.get()).context(a.plan.display())?;
    let decision = plan.step();
    save(&a.plan, &plan)?;
    crate::say(&format!("resumed; {}", decision_line(&plan, decision)))
}
