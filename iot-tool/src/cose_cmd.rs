//! `iot-tool cose ...`: COSE_Sign1, COSE_Mac0 and COSE_Encrypt0 (RFC 9052) through iot-core.

use crate::fail::{Context, Failure, Result, bail};
use crate::io::{self, Hex, show_id};
use crate::keys::Key;
use clap::{Args, Subcommand};
use iot_core::Error;
use iot_core::cose::{
    Algorithm, CoseEncrypt0, CoseMac0, CoseSign1, Encrypt0Builder, Mac0Builder, Sign1Builder,
};
use iot_core::crypto::RustCrypto;
use std::path::{Path, PathBuf};

/// Room for everything around a payload: tag, array, headers, kid, IV, signature or tag.
const OVERHEAD: usize = 256;

/// COSE messages (RFC 9052).
#[derive(Debug, Subcommand)]
pub enum CoseCmd {
    /// Sign a payload as a COSE_Sign1 (ES256 or ESP256, deterministic ECDSA).
    Sign(SignArgs),
    /// Verify a COSE_Sign1 (with a P-256 key) or a COSE_Mac0 (with a symmetric key).
    Verify(VerifyArgs),
    /// MAC a payload as a COSE_Mac0 (HMAC 256/256).
    Mac(MacArgs),
    /// Encrypt a payload as a COSE_Encrypt0 with a fresh random IV.
    Encrypt(EncryptArgs),
    /// Decrypt a COSE_Encrypt0.
    Decrypt(DecryptArgs),
}

/// `cose sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// P-256 private key: PEM (PKCS#8 or SEC1), JWK or COSE_Key.
    #[arg(long)]
    key: PathBuf,
    /// ES256 (-7) or ESP256 (-9); default: the key's own algorithm, else ES256.
    #[arg(long, value_parser = parse_sign_alg)]
    alg: Option<Algorithm>,
    /// Key id for the unprotected header, in hex.
    #[arg(long)]
    kid: Option<Hex>,
    /// Leave the payload out of the message (it travels separately).
    #[arg(long)]
    detached: bool,
    /// Omit the COSE_Sign1 tag 18.
    #[arg(long)]
    untagged: bool,
    /// External additional authenticated data, in hex.
    #[arg(long)]
    aad: Option<Hex>,
    /// The payload file (`-` for stdin).
    input: PathBuf,
    /// Where the message goes (`-` for stdout).
    #[arg(short, long)]
    out: PathBuf,
}

/// `cose verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// P-256 public (or private) key for a COSE_Sign1, symmetric key for a COSE_Mac0.
    #[arg(long)]
    key: PathBuf,
    /// The payload of a message that carries it detached.
    #[arg(long)]
    payload: Option<PathBuf>,
    /// External additional authenticated data, in hex.
    #[arg(long)]
    aad: Option<Hex>,
    /// The message, binary or hex (`-` for stdin).
    msg: PathBuf,
    /// Write the verified payload here (`-` for stdout).
    #[arg(short, long)]
    out: Option<PathBuf>,
}

/// `cose mac`.
#[derive(Debug, Args)]
pub struct MacArgs {
    /// Symmetric key: JWK "oct", COSE_Key or hex.
    #[arg(long)]
    key: PathBuf,
    /// Key id for the unprotected header, in hex.
    #[arg(long)]
    kid: Option<Hex>,
    /// Leave the payload out of the message.
    #[arg(long)]
    detached: bool,
    /// Omit the COSE_Mac0 tag 17.
    #[arg(long)]
    untagged: bool,
    /// External additional authenticated data, in hex.
    #[arg(long)]
    aad: Option<Hex>,
    /// The payload file (`-` for stdin).
    input: PathBuf,
    /// Where the message goes (`-` for stdout).
    #[arg(short, long)]
    out: PathBuf,
}

/// `cose encrypt`.
#[derive(Debug, Args)]
pub struct EncryptArgs {
    /// Symmetric key: JWK "oct", COSE_Key or hex (16 bytes for AES, 32 for ChaCha20).
    #[arg(long)]
    key: PathBuf,
    /// AES-CCM-16-64-128 (10), ChaCha20/Poly1305 (24) or A128GCM (1).
    #[arg(long, value_parser = parse_aead_alg)]
    alg: Algorithm,
    /// Key id for the unprotected header, in hex.
    #[arg(long)]
    kid: Option<Hex>,
    /// Omit the COSE_Encrypt0 tag 16.
    #[arg(long)]
    untagged: bool,
    /// External additional authenticated data, in hex.
    #[arg(long)]
    aad: Option<Hex>,
    /// The plaintext file (`-` for stdin).
    input: PathBuf,
    /// Where the message goes (`-` for stdout).
    #[arg(short, long)]
    out: PathBuf,
}

/// `cose decrypt`.
#[derive(Debug, Args)]
pub struct DecryptArgs {
    /// Symmetric key: JWK "oct", COSE_Key or hex.
    #[arg(long)]
    key: PathBuf,
    /// External additional authenticated data, in hex.
    #[arg(long)]
    aad: Option<Hex>,
    /// The message, binary or hex (`-` for stdin).
    msg: PathBuf,
    /// Where the plaintext goes (`-` for stdout).
    #[arg(short, long)]
    out: PathBuf,
}

fn parse_sign_alg(s: &str) -> std::result::Result<Algorithm, String> {
    Algorithm::from_name(s)
        .filter(|a| a.is_ecdsa_p256())
        .ok_or_else(|| format!("'{s}' is not ES256 or ESP256"))
}

fn parse_aead_alg(s: &str) -> std::result::Result<Algorithm, String> {
    Algorithm::from_name(s)
        .filter(|a| a.aead().is_some())
        .ok_or_else(|| format!("'{s}' is not AES-CCM-16-64-128, ChaCha20/Poly1305 or A128GCM"))
}

fn aad(a: Option<&Hex>) -> &[u8] {
    a.map_or(&[], |h| h.0.as_slice())
}

/// Runs one `cose` subcommand.
pub fn run(cmd: CoseCmd) -> Result<()> {
    match cmd {
        CoseCmd::Sign(a) => sign(&a),
        CoseCmd::Verify(a) => verify(&a),
        CoseCmd::Mac(a) => mac(&a),
        CoseCmd::Encrypt(a) => encrypt(&a),
        CoseCmd::Decrypt(a) => decrypt(&a),
    }
}

fn sign(a: &SignArgs) -> Result<()> {
    let key = Key::load(&a.key)?;
    let mut signer = key.signer().context(a.key.display())?;
    let alg = a.alg.or(key.alg).unwrap_or(Algorithm::Es256);
    let payload = io::read(&a.input)?;
    let mut builder = Sign1Builder::new(alg);
    builder.tagged = !a.untagged;
    builder.detached = a.detached;
    if let Some(kid) = &a.kid {
        builder = builder.kid(&kid.0);
    }
    let mut out = vec![0u8; payload.len() + kid_len(a.kid.as_ref()) + OVERHEAD];
    let n = builder
        .sign(
            &mut RustCrypto::from_os(),
            &mut signer,
            &payload,
            aad(a.aad.as_ref()),
            &mut out,
        )
        .context(format!("signing with {}", alg.name()))?;
    out.truncate(n);
    io::write(&a.out, &out)
}

fn mac(a: &MacArgs) -> Result<()> {
    let key = Key::load(&a.key)?;
    let sym = key.symmetric().context(a.key.display())?;
    let payload = io::read(&a.input)?;
    let mut builder = Mac0Builder::new();
    builder.tagged = !a.untagged;
    builder.detached = a.detached;
    if let Some(kid) = &a.kid {
        builder = builder.kid(&kid.0);
    }
    let mut out = vec![0u8; payload.len() + kid_len(a.kid.as_ref()) + OVERHEAD];
    let n = builder
        .mac(
            &mut RustCrypto::from_os(),
            &sym,
            &payload,
            aad(a.aad.as_ref()),
            &mut out,
        )
        .context("MACing with HMAC 256/256")?;
    out.truncate(n);
    io::write(&a.out, &out)
}

fn kid_len(kid: Option<&Hex>) -> usize {
    kid.map_or(0, |k| k.0.len())
}

/// The reason for a failed verification, with a hint where the library's words need one.
fn why(e: Error, payload_attached: bool, given: bool) -> Failure {
    match e {
        Error::PayloadMismatch if !payload_attached && !given => Failure::new(format!(
            "{e}: the payload is detached; give it with --payload FILE"
        )),
        Error::PayloadMismatch if payload_attached && given => Failure::new(format!(
            "{e}: the message carries its payload; drop --payload"
        )),
        other => other.into(),
    }
}

fn verify(a: &VerifyArgs) -> Result<()> {
    let key = Key::load(&a.key)?;
    let msg = io::read_cbor(&a.msg)?;
    let detached = a.payload.as_deref().map(io::read).transpose()?;
    let mut crypto = RustCrypto::from_os();
    let ext = aad(a.aad.as_ref());
    let shown = a.msg.display();
    let (what, kid, payload): (String, Option<&[u8]>, &[u8]) = if key.is_symmetric() {
        let m = CoseMac0::decode(&msg).context(format!("{shown}: not a COSE_Mac0"))?;
        let sym = key.symmetric()?;
        let result = match &detached {
            Some(p) => m.verify_detached(&mut crypto, &sym, p, ext),
            None => m.verify(&mut crypto, &sym, ext),
        };
        result
            .map_err(|e| why(e, m.payload.is_some(), detached.is_some()))
            .context(&shown)?;
        let alg = m.alg().map_or("?", Algorithm::name);
        (
            format!("{alg} tag"),
            m.headers.kid(),
            m.payload.or(detached.as_deref()).unwrap_or_default(),
        )
    } else {
        let m = CoseSign1::decode(&msg).context(format!("{shown}: not a COSE_Sign1"))?;
        let mut vk = key.verifier().context(a.key.display())?;
        let result = match &detached {
            Some(p) => m.verify_detached(&mut crypto, &mut vk, p, ext),
            None => m.verify(&mut crypto, &mut vk, ext),
        };
        result
            .map_err(|e| why(e, m.payload.is_some(), detached.is_some()))
            .context(&shown)?;
        let alg = m.alg().map_or("?", Algorithm::name);
        (
            format!("{alg} signature"),
            m.headers.kid(),
            m.payload.or(detached.as_deref()).unwrap_or_default(),
        )
    };
    let to_stdout = a.out.as_deref().is_some_and(|p| p == Path::new("-"));
    if let Some(out) = &a.out {
        io::write(out, payload)?;
    }
    if !to_stdout {
        let kid = kid
            .map(|k| format!(", kid {}", show_id(k)))
            .unwrap_or_default();
        crate::say(&format!(
            "valid {what}{kid} over a {}-byte payload",
            payload.len()
        ))?;
    }
    Ok(())
}

fn encrypt(a: &EncryptArgs) -> Result<()> {
    let key = Key::load(&a.key)?;
    let sym = key.symmetric().context(a.key.display())?;
    check_key_len(a.alg, &key, &a.key)?;
    let plaintext = zeroize::Zeroizing::new(io::read(&a.input)?);
    let mut builder = Encrypt0Builder::new(a.alg);
    builder.tagged = !a.untagged;
    if let Some(kid) = &a.kid {
        builder = builder.kid(&kid.0);
    }
    let mut out = vec![0u8; plaintext.len() + kid_len(a.kid.as_ref()) + OVERHEAD];
    let n = builder
        .encrypt(
            &mut RustCrypto::from_os(),
            &sym,
            &plaintext,
            aad(a.aad.as_ref()),
            &mut out,
        )
        .context(format!("encrypting with {}", a.alg.name()))?;
    out.truncate(n);
    io::write(&a.out, &out)
}

/// A key of the wrong length for an AEAD, said plainly (the library only says "invalid key").
fn check_key_len(alg: Algorithm, key: &Key, path: &Path) -> Result<()> {
    let Some(aead) = alg.aead() else {
        return Ok(());
    };
    match key.symmetric() {
        Ok(k) if k.k.len() != aead.key_len() => bail!(
            "{}: {} needs a {}-byte key; this is a {}",
            path.display(),
            alg.name(),
            aead.key_len(),
            key.describe()
        ),
        _ => Ok(()),
    }
}

fn decrypt(a: &DecryptArgs) -> Result<()> {
    let key = Key::load(&a.key)?;
    let sym = key.symmetric().context(a.key.display())?;
    let msg = io::read_cbor(&a.msg)?;
    let shown = a.msg.display();
    let m = CoseEncrypt0::decode(&msg).context(format!("{shown}: not a COSE_Encrypt0"))?;
    check_key_len(m.alg().context(&shown)?, &key, &a.key)?;
    let mut plain = zeroize::Zeroizing::new(vec![0u8; msg.len()]);
    let n = m
        .decrypt(
            &mut RustCrypto::from_os(),
            &sym,
            aad(a.aad.as_ref()),
            &mut plain,
        )
        .context(&shown)?;
    plain.truncate(n);
    io::write(&a.out, &plain)
}
