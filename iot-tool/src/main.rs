//! `iot-tool`: the command-line face of the iot-* crates for operators, gateways and CI pipelines.
//!
//! It parses arguments, reads and writes files, and prints; what it does with COSE and CBOR comes
//! from iot-core. Every failure is one line on stderr and a non-zero exit.
#![allow(clippy::std_instead_of_core, clippy::alloc_instead_of_core)]

mod attest;
mod coap_cmd;
mod cose_cmd;
mod demo;
mod dice_cmd;
mod fail;
mod identity_cmd;
mod io;
mod keys;
mod suit_cmd;
mod suit_rollout;

use clap::{Parser, Subcommand};
use fail::{Context, Result};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Keys, COSE messages and CBOR diagnostics for IoT devices, gateways and pipelines.
#[derive(Debug, Parser)]
#[command(name = "iot-tool", version, about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Make a P-256 key pair: the private key as PKCS#8 PEM, the public key as SPKI PEM.
    Keygen {
        /// The private key file (created readable by its owner only).
        #[arg(long)]
        out: PathBuf,
        /// The public key file.
        #[arg(long = "pub")]
        public: Option<PathBuf>,
        /// Replace an existing private key file.
        #[arg(long)]
        force: bool,
    },
    /// COSE messages (RFC 9052): sign, verify, mac, encrypt, decrypt.
    #[command(subcommand)]
    Cose(cose_cmd::CoseCmd),
    /// Attestation tokens (EAT RFC 9711, PSA RFC 9783): create, verify, appraise into an EAR.
    #[command(subcommand)]
    Attest(attest::AttestCmd),
    /// OSCORE security contexts (RFC 8613): derive.
    #[command(subcommand)]
    Oscore(coap_cmd::OscoreCmd),
    /// CoAP over UDP (RFC 7252), optionally with OSCORE: get, post, put, delete, serve.
    #[command(subcommand)]
    Coap(coap_cmd::CoapCmd),
    /// SUIT firmware-update envelopes (draft-ietf-suit-manifest): verify, inspect, create, sever;
    /// a simulated A/B device in a directory: device-init, install, boot; a staged rollout.
    #[command(subcommand)]
    Suit(suit_cmd::SuitCmd),
    /// DICE (Open Profile for DICE, P-256): derive a layer's CDIs, keys, IDs and certificate.
    #[command(subcommand)]
    Dice(dice_cmd::DiceCmd),
    /// Device identities: a registrar (CA, inventory, revocation) and first-boot enrolment.
    #[command(subcommand)]
    Identity(identity_cmd::IdentityCmd),
    /// Print CBOR in diagnostic notation (RFC 8949 section 8); FILE is binary CBOR or hex text.
    Diag {
        /// The CBOR file (`-` for stdin); a CBOR sequence prints one item per line.
        file: PathBuf,
        /// One line per item instead of breaking long arrays and maps.
        #[arg(long)]
        compact: bool,
    },
    /// Walk through a device's life with the iot-* crates, chapter by chapter.
    Demo {
        /// Run only this chapter (see --list).
        #[arg(long)]
        chapter: Option<String>,
        /// List the chapters.
        #[arg(long)]
        list: bool,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_error(&e),
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) if f.is_quiet() => ExitCode::FAILURE,
        Err(f) => {
            let _ = writeln!(std::io::stderr(), "iot-tool: {}", f.one_line());
            ExitCode::FAILURE
        }
    }
}

/// Help and version go out as clap writes them; usage errors become one line on stderr.
fn clap_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
    }
    let text = e.render().to_string();
    let line: Vec<&str> = text
        .lines()
        .take_while(|l| !l.starts_with("Usage:"))
        .map(|l| l.trim().trim_start_matches("error: "))
        .filter(|l| !l.is_empty())
        .collect();
    let _ = writeln!(
        std::io::stderr(),
        "iot-tool: {} (see iot-tool --help)",
        line.join(" ")
    );
    ExitCode::from(2)
}

fn run(cli: Cli) -> Result<()> {
    match cli.cmd {
        Cmd::Keygen { out, public, force } => keygen(&out, public.as_deref(), force),
        Cmd::Cose(cmd) => cose_cmd::run(cmd),
        Cmd::Attest(cmd) => attest::run(cmd),
        Cmd::Oscore(cmd) => coap_cmd::run_oscore(cmd),
        Cmd::Coap(cmd) => coap_cmd::run_coap(cmd),
        Cmd::Suit(cmd) => suit_cmd::run(cmd),
        Cmd::Dice(cmd) => dice_cmd::run(cmd),
        Cmd::Identity(cmd) => identity_cmd::run(cmd),
        Cmd::Diag { file, compact } => diag(&file, compact),
        Cmd::Demo { chapter, list } => {
            if list {
                for c in demo::CHAPTERS {
                    say(&format!("{:<10} {}", c.name, c.title))?;
                }
                return Ok(());
            }
            demo::run(&mut std::io::stdout().lock(), chapter.as_deref())
        }
    }
}

/// A line on stdout.
pub(crate) fn say(line: &str) -> Result<()> {
    writeln!(std::io::stdout(), "{line}").map_err(|e| fail::Failure::stdout(&e))
}

fn keygen(out: &std::path::Path, public: Option<&std::path::Path>, force: bool) -> Result<()> {
    let (private_pem, public_pem) = keys::generate_pem()?;
    io::write_secret(out, private_pem.as_bytes(), force)?;
    if let Some(public) = public {
        io::write(public, public_pem.as_bytes())?;
    }
    Ok(())
}

fn diag(file: &std::path::Path, compact: bool) -> Result<()> {
    let input = io::read_cbor(file)?;
    let opts = if compact {
        iot_core::diag::Options::default()
    } else {
        iot_core::diag::Options::pretty()
    };
    let mut text = String::new();
    let mut at = 0;
    while at < input.len() {
        at = iot_core::diag::write_next(&mut text, &input, at, &opts).context(file.display())?;
        text.push('\n');
    }
    if input.is_empty() {
        fail::bail!("{}: empty file, no CBOR item", file.display());
    }
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| fail::Failure::stdout(&e))
}
