//! `iot-tool dice`: one layer of the Open Profile for DICE (google/open-dice
//! `docs/specification.md`) with P-256, computed by iot-identity.

use crate::fail::{Context, Result, bail};
use crate::io::{self, Hex};
use clap::{Subcommand, ValueEnum};
use iot_core::crypto::RustCrypto;
use iot_identity::dice::crypto::HkdfSha512;
use iot_identity::dice::{
    CDI_LEN, Config, DiceCertificate, DiceLayer, DicePublicKey, HASH_LEN, InputValues, Mode,
    OPEN_DICE_EXAMPLE_PROFILE, Uds, certificate_len,
};
use std::path::PathBuf;
use zeroize::Zeroizing;

/// `iot-tool dice ...`.
#[derive(Debug, Subcommand)]
pub enum DiceCmd {
    /// Derive the next layer from a UDS: print CDI_Attest, CDI_Seal, both layers' public keys
    /// and IDs, and make the layer's CBOR certificate (signed by the UDS key pair).
    ///
    /// Test and provisioning use: the UDS and the printed CDIs are secrets, and a UDS given on
    /// the command line is visible to other processes of the machine.
    Derive {
        /// The Unique Device Secret, 32 bytes in hex.
        #[arg(long)]
        uds: Hex,
        /// Code input: the 64-byte hash of the next layer's code, in hex (default: zeros).
        #[arg(long)]
        code_hash: Option<Hex>,
        /// Configuration input in hex: 64 bytes are used as the value itself; any other length
        /// is a descriptor, whose SHA-512 is the value (default: 64 zero bytes).
        #[arg(long)]
        config: Option<Hex>,
        /// Authority input: the 64-byte hash of the verified-boot authority, in hex (default: zeros).
        #[arg(long)]
        authority_hash: Option<Hex>,
        /// The mode decision.
        #[arg(long, value_enum, default_value = "not-configured")]
        mode: ModeArg,
        /// Write the certificate here as `cdi_certificate.cbor` (default: print it in hex).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// The DICE mode ("Mode Value Details").
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ModeArg {
    /// 0: a security mechanism is not configured.
    NotConfigured,
    /// 1: normal operation under secure configuration.
    Normal,
    /// 2: debug.
    Debug,
    /// 3: recovery or maintenance.
    Maintenance,
}

impl From<ModeArg> for Mode {
    fn from(m: ModeArg) -> Self {
        match m {
            ModeArg::NotConfigured => Self::NotConfigured,
            ModeArg::Normal => Self::Normal,
            ModeArg::Debug => Self::Debug,
            ModeArg::Maintenance => Self::Recovery,
        }
    }
}

/// Runs a `dice` command.
pub fn run(cmd: DiceCmd) -> Result<()> {
    match cmd {
        DiceCmd::Derive {
            uds,
            code_hash,
            config,
            authority_hash,
            mode,
            out,
        } => derive(
            &uds,
            code_hash.as_ref(),
            config.as_ref(),
            authority_hash.as_ref(),
            mode.into(),
            out,
        ),
    }
}

/// A 64-byte input, zeros when not given.
fn hash_input(given: Option<&Hex>, what: &str) -> Result<[u8; HASH_LEN]> {
    match given {
        None => Ok([0; HASH_LEN]),
        Some(h) => match <[u8; HASH_LEN]>::try_from(h.0.as_slice()) {
            Ok(v) => Ok(v),
            Err(_) => bail!("{what}: {} bytes, not {HASH_LEN}", h.0.len()),
        },
    }
}

fn derive(
    uds: &Hex,
    code_hash: Option<&Hex>,
    config: Option<&Hex>,
    authority_hash: Option<&Hex>,
    mode: Mode,
    out: Option<PathBuf>,
) -> Result<()> {
    let uds_bytes = Zeroizing::new(uds.0.clone());
    let Ok(uds_array) = <[u8; CDI_LEN]>::try_from(uds_bytes.as_slice()) else {
        bail!("--uds: {} bytes, not {CDI_LEN}", uds_bytes.len());
    };
    let uds = Uds::from_bytes(uds_array);
    let code_hash = hash_input(code_hash, "--code-hash")?;
    let authority_hash = hash_input(authority_hash, "--authority-hash")?;
    let zeros = [0u8; HASH_LEN];
    let inline = config.and_then(|c| <&[u8; HASH_LEN]>::try_from(c.0.as_slice()).ok());
    let config = match (config, inline) {
        (None, _) => Config::Inline(&zeros),
        (Some(_), Some(v)) => Config::Inline(v),
        (Some(c), None) => Config::Descriptor(&c.0),
    };
    let inputs = InputValues {
        code_hash: &code_hash,
        config,
        authority_hash: &authority_hash,
        mode,
        ..InputValues::default()
    };

    let mut crypto = RustCrypto::from_os();
    let root = DiceLayer::from_uds(&uds);
    let issuer = root.public_key(&mut crypto).context("the UDS key pair")?;
    let profile = Some(OPEN_DICE_EXAMPLE_PROFILE);
    let len = certificate_len(&inputs, profile);
    let mut scratch = vec![0u8; len];
    let mut cert = vec![0u8; len];
    let (next, n) = root
        .derive_next(&mut crypto, &inputs, profile, &mut scratch, &mut cert)
        .context("deriving the next layer")?;
    cert.truncate(n);
    let subject = next.public_key(&mut crypto).context("the CDI key pair")?;
    // The certificate as a verifier sees it: its signature checked under the UDS public key.
    DiceCertificate::decode(&cert)
        .and_then(|c| c.verify_signature(&mut crypto, &issuer))
        .context("the certificate made does not verify")?;

    crate::say(&format!(
        "CDI_Attest: {}",
        hex::encode(next.cdi_attest().as_bytes())
    ))?;
    crate::say(&format!(
        "CDI_Seal: {}",
        hex::encode(next.cdi_seal().as_bytes())
    ))?;
    show_key("UDS", &issuer, &mut crypto)?;
    show_key("CDI", &subject, &mut crypto)?;
    match out {
        Some(dir) => {
            let path = dir.join("cdi_certificate.cbor");
            io::write(&path, &cert)?;
            crate::say(&format!(
                "certificate: {} bytes written to {}",
                cert.len(),
                path.display()
            ))
        }
        None => crate::say(&format!("certificate: {}", hex::encode(&cert))),
    }
}

/// `{name}_public_key: x||y` and `{name}_ID: ...`.
fn show_key<C: HkdfSha512>(name: &str, key: &DicePublicKey, crypto: &mut C) -> Result<()> {
    let id = key.id(crypto).context(format!("the {name} ID"))?;
    crate::say(&format!("{name}_public_key: {}", hex::encode(key.0)))?;
    crate::say(&format!("{name}_ID: {}", id.to_hex().as_str()))
}
