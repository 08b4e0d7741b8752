//! `iot-tool attest ...`: attestation tokens (EAT RFC 9711, PSA RFC 9783) made, verified and
//! appraised into an EAR through iot-attest.

use crate::fail::{Context, Failure, Result, bail};
use crate::io::{self, Hex};
use crate::keys::{Key, Material};
use clap::{Args, Subcommand, ValueEnum};
use iot_attest::appraise::{ReferenceValues, attestation_result};
use iot_attest::json::{claims_from_json, claims_to_json};
use iot_attest::verify::{KeyEntry, KeyMaterial, KeyStore, MemoryKeyStore, ParsedKey, Verifier};
use iot_attest::{Claims, Nonce, Profile, TokenBuilder, cdsp, psa};
use iot_core::cose::Algorithm;
use iot_core::crypto::RustCrypto;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Room around the claims-set: tags, headers, kid, signature or tag.
const OVERHEAD: usize = 256;

/// Attestation tokens: create, verify, appraise.
#[derive(Debug, Subcommand)]
pub enum AttestCmd {
    /// Make a token from claims given by their JSON names, signed (COSE_Sign1, ES256) or MACed
    /// (COSE_Mac0, HMAC 256/256), inside the CWT tag 61.
    Create(CreateArgs),
    /// Verify a token and print its claims as JSON by their names.
    Verify(VerifyArgs),
    /// Verify a token and appraise it against reference values: prints the attestation result
    /// (EAR, profile tag:github.com,2023:veraison/ear) as JSON.
    Appraise(AppraiseArgs),
}

/// The profile a token is made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProfileArg {
    /// The Constrained Device Standard Profile (urn:ietf:rfc:rfc9711).
    Eat,
    /// The PSA attestation token (tag:psacertified.org,2023:psa#tfm).
    Psa,
}

/// `attest create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The P-256 private key that signs (PEM, JWK or COSE_Key).
    #[arg(long, required_unless_present = "mac_key", conflicts_with = "mac_key")]
    key: Option<PathBuf>,
    /// A symmetric key to MAC with instead (COSE_Mac0; PSA only).
    #[arg(long)]
    mac_key: Option<PathBuf>,
    /// The claims: a JSON object with the claims by their names (`eat_nonce`, `ueid`,
    /// `psa-software-components`...; bytes in base64url).
    #[arg(long)]
    claims: PathBuf,
    /// The verifier's nonce, in hex (8 to 64 bytes; PSA: 32, 48 or 64); replaces `eat_nonce`.
    #[arg(long)]
    nonce: Option<Hex>,
    /// The profile: sets `eat_profile` and checks its rules before signing. Default: the
    /// claims' own `eat_profile`, else eat.
    #[arg(long, value_enum)]
    profile: Option<ProfileArg>,
    /// Key id for the header, in hex; default: the key file's kid, if it has one.
    #[arg(long)]
    kid: Option<Hex>,
    /// Where the token goes (`-` for stdout).
    #[arg(short, long)]
    out: PathBuf,
}

/// `attest verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The attester's key: P-256 public (or private) key, or the HMAC key of a COSE_Mac0.
    #[arg(long)]
    key: PathBuf,
    /// The nonce the token must carry, in hex.
    #[arg(long)]
    nonce: Option<Hex>,
    /// The token, binary or hex (`-` for stdin).
    token: PathBuf,
}

/// `attest appraise`.
#[derive(Debug, Args)]
pub struct AppraiseArgs {
    /// The attester's key.
    #[arg(long, required_unless_present = "keys", conflicts_with = "keys")]
    key: Option<PathBuf>,
    /// A folder of attester keys, found by kid or by UEID / PSA Instance ID: a file named
    /// with the hex of a UEID belongs to that device; any other file name is its kid.
    #[arg(long)]
    keys: Option<PathBuf>,
    /// Reference values (JSON: implementation_id, software_components, lifecycle,
    /// debug_status, policy_id).
    #[arg(long)]
    reference: PathBuf,
    /// The nonce the token must carry, in hex; echoed in the result.
    #[arg(long)]
    nonce: Option<Hex>,
    /// Also sign the result as a CWT with this P-256 private key...
    #[arg(long, requires = "ear_out")]
    ear_key: Option<PathBuf>,
    /// ... and write it here.
    #[arg(long, requires = "ear_key")]
    ear_out: Option<PathBuf>,
    /// The token, binary or hex (`-` for stdin).
    token: PathBuf,
}

/// Runs an `attest` command.
pub fn run(cmd: AttestCmd) -> Result<()> {
    match cmd {
        AttestCmd::Create(a) => create(&a),
        AttestCmd::Verify(a) => verify(&a),
        AttestCmd::Appraise(a) => appraise(&a),
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn create(a: &CreateArgs) -> Result<()> {
    let text = io::read(&a.claims)?;
    let json: serde_json::Value = serde_json::from_slice(&text).context(a.claims.display())?;
    let cbor = claims_from_json(&json).context(a.claims.display())?;
    let mut claims = Claims::decode(&cbor).context(a.claims.display())?;
    if let Some(n) = &a.nonce {
        claims.nonce = Some(Nonce::One(&n.0));
    }
    let profile = match (a.profile, claims.profile) {
        (Some(p), Some(given)) if given != Profile::Uri(profile_uri(p)) => {
            bail!(
                "--profile names {}, the claims' eat_profile another",
                profile_uri(p)
            )
        }
        (Some(p), _) => Some(p),
        (None, None) => Some(ProfileArg::Eat),
        (None, Some(Profile::Uri(u))) if u == psa::PROFILE => Some(ProfileArg::Psa),
        (None, Some(Profile::Uri(u))) if u == cdsp::PROFILE => Some(ProfileArg::Eat),
        (None, Some(_)) => None,
    };
    if let Some(p) = profile {
        claims.profile = Some(Profile::Uri(profile_uri(p)));
    }

    let key = a.key.as_deref().map(Key::load).transpose()?;
    let mac = a.mac_key.as_deref().map(Key::load).transpose()?;
    let file_kid = key.as_ref().or(mac.as_ref()).and_then(|k| k.kid.clone());
    let kid = a.kid.as_ref().map(|k| k.0.clone()).or(file_kid);
    match profile {
        Some(ProfileArg::Psa) => psa::validate(&claims).context("PSA profile")?,
        Some(ProfileArg::Eat) => {
            cdsp::validate(&claims).context("Constrained Device Standard Profile")?;
            if mac.is_some() {
                bail!("the Constrained Device Standard Profile allows COSE_Sign1 only; use --key");
            }
            if kid.is_none() && claims.ueid.is_none() {
                bail!(
                    "the Constrained Device Standard Profile identifies the key by kid or UEID: \
                     give --kid or a \"ueid\" claim"
                );
            }
        }
        None => {}
    }

    let mut crypto = RustCrypto::from_os();
    let mut scratch = vec![0u8; cbor.len() + 64 + a.nonce.as_ref().map_or(0, |n| n.0.len())];
    let mut out = vec![0u8; scratch.len() + OVERHEAD + kid.as_ref().map_or(0, Vec::len)];
    let mut builder = TokenBuilder::new();
    builder.kid = kid.as_deref();
    let n = if let Some(key) = &key {
        let mut signer = key.signer()?;
        let alg = key.alg.unwrap_or(Algorithm::Es256);
        builder
            .sign(
                &mut crypto,
                &mut signer,
                alg,
                &claims,
                &mut scratch,
                &mut out,
            )
            .context("signing")?
    } else if let Some(mac) = &mac {
        builder
            .mac(
                &mut crypto,
                &mac.symmetric()?,
                &claims,
                &mut scratch,
                &mut out,
            )
            .context("MACing")?
    } else {
        bail!("give --key or --mac-key");
    };
    io::write(&a.out, out.get(..n).unwrap_or_default())
}

fn profile_uri(p: ProfileArg) -> &'static str {
    match p {
        ProfileArg::Eat => cdsp::PROFILE,
        ProfileArg::Psa => psa::PROFILE,
    }
}

/// A key file as the verifier's key entry (it answers every lookup).
fn entry(path: &Path) -> Result<KeyEntry> {
    let key = Key::load(path)?;
    Ok(KeyEntry {
        name: path.display().to_string(),
        kid: None,
        ueid: None,
        key: material(&key)?,
    })
}

fn material(key: &Key) -> Result<KeyMaterial> {
    Ok(match &key.material {
        Material::Symmetric(k) => KeyMaterial::Hmac(Zeroizing::new(k.to_vec())),
        Material::EcPrivate(_) | Material::EcPublic(_) => KeyMaterial::P256(key.verifier()?),
    })
}

fn verify(a: &VerifyArgs) -> Result<()> {
    let store = entry(&a.key)?;
    let token = io::read_cbor(&a.token)?;
    let mut verifier = Verifier::new(&store);
    verifier.now = Some(now());
    let mut crypto = RustCrypto::from_os();
    let ok = verifier
        .verify(
            &mut crypto,
            &token,
            a.nonce.as_ref().map(|n| n.0.as_slice()),
        )
        .context(a.token.display())?;
    let json = claims_to_json(&ok.claims).context("claims to JSON")?;
    print_json(&json)
}

fn appraise(a: &AppraiseArgs) -> Result<()> {
    let store: Box<dyn KeyStore> = match (&a.key, &a.keys) {
        (Some(k), _) => Box::new(entry(k)?),
        (None, Some(dir)) => Box::new(
            MemoryKeyStore::load_dir(dir, |_, bytes| {
                let k = Key::parse(bytes).map_err(|e| e.one_line())?;
                Ok(ParsedKey {
                    key: material(&k).map_err(|e| e.one_line())?,
                    kid: k.kid.clone(),
                })
            })
            .context("--keys")?,
        ),
        (None, None) => bail!("give --key or --keys"),
    };
    let text = std::fs::read_to_string(&a.reference).context(a.reference.display())?;
    let reference = ReferenceValues::from_json(&text).context(a.reference.display())?;
    let token = io::read_cbor(&a.token)?;
    let nonce = a.nonce.as_ref().map(|n| n.0.as_slice());
    let mut verifier = Verifier::new(&*store);
    let now = now();
    verifier.now = Some(now);
    let mut crypto = RustCrypto::from_os();
    let ok = verifier
        .verify(&mut crypto, &token, nonce)
        .context(a.token.display())?;
    let ear = attestation_result(&ok, &token, &reference, nonce, now);
    if let (Some(key), Some(out)) = (&a.ear_key, &a.ear_out) {
        let key = Key::load(key)?;
        let mut signer = key.signer()?;
        let alg = key.alg.unwrap_or(Algorithm::Es256);
        let cwt = ear
            .sign(&mut crypto, &mut signer, alg, key.kid.as_deref())
            .context("signing the EAR")?;
        io::write(out, &cwt)?;
    }
    print_json(&ear.to_json())
}

fn print_json(v: &serde_json::Value) -> Result<()> {
    let mut text = serde_json::to_string_pretty(v).map_err(|e| Failure::new(e.to_string()))?;
    text.push('\n');
    io::write(Path::new("-"), text.as_bytes())
}
