//! `iot-tool demo`: a device's life told with the iot-* crates, one chapter per capability.
//!
//! Each chapter is a module with a [`Chapter`] entry in [`CHAPTERS`]; later capabilities (identity,
//! attestation, OSCORE, SUIT, decommissioning) add theirs in the order of a device's life. The
//! demo checks what it shows: a tampered message that is accepted fails the run.

mod attest;
mod cose;
mod identity;
mod oscore;
mod suit;

use crate::fail::{Failure, Result, bail};
use iot_core::crypto::{P256SigningKey, RustCrypto};
use iot_core::diag::Diag;
use std::io::Write;
use std::time::Instant;

/// One chapter of the demo.
pub struct Chapter {
    /// Short name for `--chapter`.
    pub name: &'static str,
    /// The heading.
    pub title: &'static str,
    /// Tells the chapter.
    pub run: fn(&mut Ctx<'_>) -> Result<()>,
}

/// The chapters, in the order of a device's life.
pub const CHAPTERS: &[Chapter] = &[
    identity::ENROL,
    cose::CHAPTER,
    attest::CHAPTER,
    suit::CHAPTER,
    oscore::CHAPTER,
    identity::DECOMMISSION,
];

/// What the device has by now; chapters read what earlier ones left here.
#[derive(Debug, Default)]
pub struct Device {
    /// The device's name, used as its key id.
    pub name: &'static str,
    /// The device's P-256 key, made in the COSE chapter.
    pub key: Option<P256SigningKey>,
    /// The registrar and device folders, made in the enrolment chapter.
    pub fleet: Option<identity::Fleet>,
}

/// The state a chapter works with and the printer it tells its story through.
pub struct Ctx<'o> {
    out: &'o mut dyn Write,
    /// The crypto backend (RustCrypto, randomness from the OS).
    pub crypto: RustCrypto<getrandom::SysRng>,
    /// The device whose life is told.
    pub device: Device,
}

impl Ctx<'_> {
    fn line(&mut self, text: &str) -> Result<()> {
        writeln!(self.out, "{text}").map_err(|e| Failure::stdout(&e))
    }

    /// A paragraph of narration (lines indented by two spaces).
    pub fn say(&mut self, text: &str) -> Result<()> {
        for l in text.lines() {
            if l.is_empty() {
                self.line("")?;
            } else {
                self.line(&format!("  {l}"))?;
            }
        }
        Ok(())
    }

    /// Names a CBOR item and prints it in diagnostic notation, indented.
    pub fn show(&mut self, label: &str, cbor: &[u8]) -> Result<()> {
        self.say(&format!("{label} ({} bytes):", cbor.len()))?;
        let text = Diag::pretty(cbor).to_string();
        for l in text.lines() {
            self.line(&format!("      {l}"))?;
        }
        Ok(())
    }

    /// A check that passed.
    pub fn ok(&mut self, what: &str) -> Result<()> {
        self.line(&format!("  \u{2713} {what}"))
    }

    /// A check that must fail: prints the reason, and fails the demo if it was accepted.
    pub fn refused<T>(&mut self, what: &str, result: iot_core::Result<T>) -> Result<()> {
        match result {
            Err(e) => self.line(&format!("  \u{2717} {what}: refused ({e})")),
            Ok(_) => Err(Failure::new(format!("demo: {what} was accepted"))),
        }
    }

    fn blank(&mut self) -> Result<()> {
        self.line("")
    }
}

/// Runs every chapter (or only the one named) and prints the story to `out`.
pub fn run(out: &mut dyn Write, only: Option<&str>) -> Result<()> {
    let chapters: Vec<(usize, &Chapter)> = CHAPTERS
        .iter()
        .enumerate()
        .filter(|(_, c)| only.is_none_or(|n| n.eq_ignore_ascii_case(c.name)))
        .collect();
    if chapters.is_empty() {
        let names: Vec<&str> = CHAPTERS.iter().map(|c| c.name).collect();
        bail!(
            "no chapter '{}'; the chapters are: {}",
            only.unwrap_or_default(),
            names.join(", ")
        );
    }
    let start = Instant::now();
    let mut ctx = Ctx {
        out,
        crypto: RustCrypto::from_os(),
        device: Device {
            name: "sensor-17",
            key: None,
            fleet: None,
        },
    };
    ctx.line("iot-tool demo: the life of an IoT device, told with the iot-* crates")?;
    for (i, chapter) in &chapters {
        ctx.blank()?;
        let heading = format!("Chapter {}. {}", i + 1, chapter.title);
        ctx.line(&heading)?;
        ctx.line(&"=".repeat(heading.chars().count()))?;
        (chapter.run)(&mut ctx)?;
    }
    ctx.blank()?;
    let ms = start.elapsed().as_millis();
    ctx.line(&format!(
        "Done: {} chapter{} in {ms} ms.",
        chapters.len(),
        if chapters.len() == 1 { "" } else { "s" }
    ))
}
