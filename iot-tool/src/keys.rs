//! Key files, recognised from their content: PEM (PKCS#8 "PRIVATE KEY", SEC1 "EC PRIVATE KEY",
//! SPKI "PUBLIC KEY", read and written by iot-identity's `key_pem`), JWK JSON (RFC 7517/7518: "EC" on P-256 and "oct"), COSE_Key CBOR
//! (RFC 9052 section 7), or hex (a COSE_Key in hex, else the bytes of a symmetric key).
//!
//! Secret bytes read from files are wiped when dropped. A private key is accepted where a public
//! one is wanted.

use crate::fail::{Context, Failure, Result, bail};
use crate::io;
use iot_core::cose::{Algorithm, CoseKey, Ec2Y, SymmetricKey};
use iot_core::crypto::{P256SigningKey, P256VerifyingKey, RustCrypto};
use iot_identity::key_pem::{self, PemKey, PrivateKeyForm};
use serde::Deserialize;
use std::path::Path;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// The key itself.
pub enum Material {
    /// A P-256 private key (its public key comes with it).
    EcPrivate(P256SigningKey),
    /// A P-256 public key.
    EcPublic(P256VerifyingKey),
    /// Symmetric key bytes.
    Symmetric(Zeroizing<Vec<u8>>),
}

/// A key read from a file, with what the file said about it.
pub struct Key {
    /// The key.
    pub material: Material,
    /// Its key id, if the format carries one (JWK `kid` as UTF-8 bytes, COSE_Key `kid`).
    pub kid: Option<Vec<u8>>,
    /// The one algorithm it is restricted to, if the file says so.
    pub alg: Option<Algorithm>,
    /// How the file was recognised, for messages.
    pub format: &'static str,
}

impl std::fmt::Debug for Key {
    /// What the key is, never its secret bytes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Key {
    /// Reads and recognises the key in `path`.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = io::read_secret(path)?;
        Self::parse(&bytes).context(path.display())
    }

    /// Recognises a key from the bytes of a key file.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let text = std::str::from_utf8(bytes).ok().map(str::trim);
        if let Some(text) = text {
            if text.starts_with("-----BEGIN ") {
                return parse_pem(text);
            }
            if text.starts_with('{') {
                return parse_jwk(text);
            }
        }
        if let Some(decoded) = io::hex_text(bytes) {
            let decoded = Zeroizing::new(decoded);
            return Ok(match CoseKey::decode(&decoded) {
                Ok(key) => from_cose_key(&key, "COSE_Key (hex)")?,
                Err(_) => Self {
                    material: Material::Symmetric(decoded),
                    kid: None,
                    alg: None,
                    format: "hex",
                },
            });
        }
        match CoseKey::decode(bytes) {
            Ok(key) => from_cose_key(&key, "COSE_Key"),
            Err(e) => {
                bail!("not a key this tool reads (PEM, JWK, COSE_Key or hex); as a COSE_Key: {e}")
            }
        }
    }

    /// What the key is, for messages: "P-256 private key (PKCS#8 PEM)".
    pub fn describe(&self) -> String {
        let what = match &self.material {
            Material::EcPrivate(_) => "P-256 private key".to_owned(),
            Material::EcPublic(_) => "P-256 public key".to_owned(),
            Material::Symmetric(k) => format!("{}-byte symmetric key", k.len()),
        };
        format!("{what} ({})", self.format)
    }

    /// The private key for signing, restricted to the file's algorithm if it names one.
    pub fn signer(&self) -> Result<P256SigningKey> {
        match &self.material {
            Material::EcPrivate(k) => Ok(k.clone().with_algorithm(self.alg)),
            _ => bail!(
                "signing needs a P-256 private key; this is a {}",
                self.describe()
            ),
        }
    }

    /// The public key for verifying (taken from a private key too).
    pub fn verifier(&self) -> Result<P256VerifyingKey> {
        match &self.material {
            Material::EcPrivate(k) => Ok(k.verifying_key().with_algorithm(self.alg)),
            Material::EcPublic(k) => Ok(k.with_algorithm(self.alg)),
            Material::Symmetric(_) => bail!(
                "a P-256 public or private key is needed; this is a {}",
                self.describe()
            ),
        }
    }

    /// The key as a COSE symmetric key.
    pub fn symmetric(&self) -> Result<SymmetricKey<'_>> {
        match &self.material {
            Material::Symmetric(k) => Ok(SymmetricKey {
                kid: self.kid.as_deref(),
                alg: self.alg,
                k,
                base_iv: None,
            }),
            _ => bail!("a symmetric key is needed; this is a {}", self.describe()),
        }
    }

    /// `true` for a symmetric key.
    pub fn is_symmetric(&self) -> bool {
        matches!(self.material, Material::Symmetric(_))
    }
}

fn parse_pem(text: &str) -> Result<Key> {
    let (material, format) = match key_pem::decode(text).context("PEM")? {
        PemKey::Private(k, PrivateKeyForm::Pkcs8) => (Material::EcPrivate(k), "PKCS#8 PEM"),
        PemKey::Private(k, PrivateKeyForm::Sec1) => (Material::EcPrivate(k), "SEC1 PEM"),
        PemKey::Private(k, _) => (Material::EcPrivate(k), "PKCS#8 PEM labelled EC PRIVATE KEY"),
        PemKey::Public(k) => (Material::EcPublic(k), "SPKI PEM"),
    };
    Ok(Key {
        material,
        kid: None,
        alg: None,
        format,
    })
}

/// The members of a JWK this tool reads; the strings are wiped on drop.
#[derive(Deserialize, Zeroize, ZeroizeOnDrop)]
struct Jwk {
    kty: String,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
    d: Option<String>,
    k: Option<String>,
    kid: Option<String>,
    alg: Option<String>,
}

fn b64url(member: &str, value: Option<&String>) -> Result<Zeroizing<Vec<u8>>> {
    use base64ct::Encoding;
    let Some(value) = value else {
        bail!("JWK without \"{member}\"");
    };
    base64ct::Base64UrlUnpadded::decode_vec(value)
        .or_else(|_| base64ct::Base64Url::decode_vec(value))
        .map(Zeroizing::new)
        .map_err(|_| Failure::new(format!("JWK \"{member}\" is not base64url")))
}

/// A JOSE algorithm name (RFC 7518) as the COSE algorithm it corresponds to.
fn jose_alg(name: &str) -> Result<Algorithm> {
    match name {
        "HS256" => Ok(Algorithm::Hmac256),
        other => Algorithm::from_name(other)
            .ok_or_else(|| Failure::new(format!("JWK \"alg\" {other} is not supported"))),
    }
}

fn parse_jwk(text: &str) -> Result<Key> {
    let jwk: Jwk = serde_json::from_str(text).context("JWK")?;
    let alg = jwk.alg.as_deref().map(jose_alg).transpose()?;
    let kid = jwk.kid.as_ref().map(|k| k.as_bytes().to_vec());
    let material = match jwk.kty.as_str() {
        "EC" => {
            if jwk.crv.as_deref() != Some("P-256") {
                bail!("JWK EC key on a curve other than P-256");
            }
            if jwk.d.is_some() {
                let d = b64url("d", jwk.d.as_ref())?;
                let key = P256SigningKey::from_bytes(&d).context("JWK \"d\"")?;
                // A JWK that gives x and y must give those of d.
                if jwk.x.is_some() || jwk.y.is_some() {
                    let (x, y) = (b64url("x", jwk.x.as_ref())?, b64url("y", jwk.y.as_ref())?);
                    let given = P256VerifyingKey::from_coordinates(&x, &y).context("JWK x/y")?;
                    if given != key.verifying_key() {
                        bail!("JWK \"x\"/\"y\" are not the public key of \"d\"");
                    }
                }
                Material::EcPrivate(key)
            } else {
                let (x, y) = (b64url("x", jwk.x.as_ref())?, b64url("y", jwk.y.as_ref())?);
                Material::EcPublic(P256VerifyingKey::from_coordinates(&x, &y).context("JWK x/y")?)
            }
        }
        "oct" => Material::Symmetric(b64url("k", jwk.k.as_ref())?),
        other => bail!("JWK key type \"{other}\" is not supported (EC P-256 or oct)"),
    };
    Ok(Key {
        material,
        kid,
        alg,
        format: "JWK",
    })
}

fn from_cose_key(key: &CoseKey<'_>, format: &'static str) -> Result<Key> {
    let material = match key {
        CoseKey::Ec2 { d: Some(_), .. } => Material::EcPrivate(key.signing_key()?),
        CoseKey::Ec2 { .. } => Material::EcPublic(key.verifying_key()?),
        CoseKey::Symmetric(k) => Material::Symmetric(Zeroizing::new(k.k.to_vec())),
    };
    Ok(Key {
        material,
        kid: key.kid().map(<[u8]>::to_vec),
        alg: key.alg(),
        format,
    })
}

/// A fresh P-256 key pair from the OS generator: the PKCS#8 PEM of the private key and the SPKI
/// PEM of the public key.
pub fn generate_pem() -> Result<(Zeroizing<String>, String)> {
    let key = P256SigningKey::generate(&mut RustCrypto::from_os())?;
    Ok((
        key_pem::private_pkcs8(&key).context("PKCS#8")?,
        key_pem::public_spki(&key.verifying_key()).context("SPKI")?,
    ))
}

/// The public half of a P-256 key as a COSE_Key (EC2, RFC 9053 section 7.1), for the demo and tests.
pub fn cose_public_key(key: &P256VerifyingKey, kid: Option<&[u8]>) -> Result<Vec<u8>> {
    let sec1 = key.to_sec1_uncompressed();
    let (x, y) = sec1
        .get(1..33)
        .zip(sec1.get(33..65))
        .ok_or_else(|| Failure::new("SEC1 point of the wrong length"))?;
    let cose = CoseKey::Ec2 {
        kid,
        alg: None,
        x,
        y: Ec2Y::Coordinate(y),
        d: None,
    };
    let mut buf = vec![0u8; 128];
    let n = cose.encode_to(&mut buf)?;
    buf.truncate(n);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use iot_core::crypto::{Signer, Verifier};
    use p256::pkcs8::{DecodePrivateKey, LineEnding};

    fn round_trip(private: &Key, public: &Key) {
        let digest = [7u8; 32];
        let sig = private.signer().unwrap().sign_digest(&digest).unwrap();
        public
            .verifier()
            .unwrap()
            .verify_digest(&digest, &sig)
            .unwrap();
        private
            .verifier()
            .unwrap()
            .verify_digest(&digest, &sig)
            .unwrap();
    }

    #[test]
    fn pem_pkcs8_spki_and_sec1() {
        let (private, public) = generate_pem().unwrap();
        let sk = Key::parse(private.as_bytes()).unwrap();
        let pk = Key::parse(public.as_bytes()).unwrap();
        assert_eq!(sk.format, "PKCS#8 PEM");
        assert_eq!(pk.format, "SPKI PEM");
        round_trip(&sk, &pk);
        assert!(pk.signer().is_err(), "a public key cannot sign");
        assert!(sk.symmetric().is_err());

        let p = p256::SecretKey::from_pkcs8_pem(&private).unwrap();
        let sec1 = p.to_sec1_pem(LineEnding::LF).unwrap();
        // OpenSSL writes an "EC PARAMETERS" block before the key.
        let with_params = format!(
            "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n{}",
            sec1.as_str()
        );
        let k = Key::parse(with_params.as_bytes()).unwrap();
        assert_eq!(k.format, "SEC1 PEM");
        round_trip(&k, &pk);
    }

    #[test]
    fn pkcs8_labelled_ec_private_key() {
        // libcsuit's key/trust_anchor_secp256r1.pem: a PKCS#8 key under "EC PRIVATE KEY".
        let libcsuit =
            "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----
-----BEGIN EC PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgApZYjZCUGLM50VBC
CjYStX+09jGmnyJPrpDLTz/hiXOhRANCAASEloEarguqq9JhVxie7NomvqqL8Rtv
P+bitWWchdvArTsfKktsCYExwKNtrNHXi9OB3N+wnAUtszmR23M4tKiW
-----END EC PRIVATE KEY-----
";
        let k = Key::parse(libcsuit.as_bytes()).unwrap();
        assert_eq!(k.format, "PKCS#8 PEM labelled EC PRIVATE KEY");
        // Its public key is libcsuit's trust_anchor_secp256r1_pub.pem (x = 849681..., y = 3b1f2a...).
        let sec1 = k.verifier().unwrap().to_sec1_uncompressed();
        assert_eq!(
            hex::encode(sec1),
            concat!(
                "048496811aae0baaabd26157189eecda26beaa8bf11b6f3fe6e2b5659c85dbc0ad",
                "3b1f2a4b6c098131c0a36dacd1d78bd381dcdfb09c052db33991db7338b4a896"
            )
        );
        let public = Key {
            material: Material::EcPublic(P256VerifyingKey::from_sec1(&sec1).unwrap()),
            kid: None,
            alg: None,
            format: "SEC1",
        };
        round_trip(&k, &public);
        // Neither SEC1 nor PKCS#8 under the label: refused with both reasons.
        let garbage = "-----BEGIN EC PRIVATE KEY-----\nAAECAw==\n-----END EC PRIVATE KEY-----\n";
        let e = Key::parse(garbage.as_bytes()).unwrap_err().one_line();
        assert!(e.contains("neither SEC1"), "{e}");
    }

    #[test]
    fn jwk_ec_and_oct() {
        // cose-wg/Examples sign-pass-02's key.
        let private = r#"{"kty":"EC","kid":"11","crv":"P-256",
            "x":"usWxHK2PmfnHKwXPS54m0kTcGJ90UiglWiGahtagnv8",
            "y":"IBOL-C3BttVivg-lSreASjpkttcsz-1rb7btKLv8EX4",
            "d":"V8kgd2ZBRuh2dgyVINBUqpPDr7BOMGcF22CQMIUHtNM"}"#;
        let public = r#"{"kty":"EC","crv":"P-256","alg":"ES256",
            "x":"usWxHK2PmfnHKwXPS54m0kTcGJ90UiglWiGahtagnv8",
            "y":"IBOL-C3BttVivg-lSreASjpkttcsz-1rb7btKLv8EX4"}"#;
        let sk = Key::parse(private.as_bytes()).unwrap();
        let pk = Key::parse(public.as_bytes()).unwrap();
        assert_eq!(sk.kid.as_deref(), Some(&b"11"[..]));
        assert_eq!(pk.alg, Some(Algorithm::Es256));
        round_trip(&sk, &pk);
        // d that does not match x/y is refused.
        let wrong = private.replace(
            "V8kgd2ZBRuh2dgyVINBUqpPDr7BOMGcF22CQMIUHtNM",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE",
        );
        assert!(Key::parse(wrong.as_bytes()).is_err());
        let oct =
            Key::parse(br#"{"kty":"oct","k":"hJtXIZ2uSN5kbQfbtTNWbg","alg":"A128GCM"}"#).unwrap();
        let s = oct.symmetric().unwrap();
        assert_eq!(
            s.k,
            hex::decode("849b57219dae48de646d07dbb533566e").unwrap()
        );
        assert_eq!(s.alg, Some(Algorithm::A128Gcm));
        assert!(Key::parse(br#"{"kty":"RSA","n":"AQAB"}"#).is_err());
    }

    #[test]
    fn cose_key_and_hex() {
        let k = [9u8; 16];
        let cose = CoseKey::Symmetric(SymmetricKey {
            kid: Some(b"our-key"),
            alg: Some(Algorithm::AesCcm16_64_128),
            k: &k,
            base_iv: None,
        });
        let mut buf = [0u8; 64];
        let n = cose.encode_to(&mut buf).unwrap();
        let bin = Key::parse(&buf[..n]).unwrap();
        assert_eq!(bin.format, "COSE_Key");
        assert_eq!(bin.symmetric().unwrap().k, &k);
        assert_eq!(bin.kid.as_deref(), Some(&b"our-key"[..]));
        let hexed = Key::parse(hex::encode(&buf[..n]).as_bytes()).unwrap();
        assert_eq!(hexed.format, "COSE_Key (hex)");
        let raw = Key::parse(b"000102030405060708090a0b0c0d0e0f\n").unwrap();
        assert_eq!(raw.format, "hex");
        assert_eq!(raw.symmetric().unwrap().k, (0..16).collect::<Vec<u8>>());
        assert!(raw.verifier().is_err());

        let (private, _) = generate_pem().unwrap();
        let sk = Key::parse(private.as_bytes()).unwrap();
        let public = cose_public_key(&sk.verifier().unwrap(), Some(b"dev")).unwrap();
        let pk = Key::parse(&public).unwrap();
        assert_eq!(pk.describe(), "P-256 public key (COSE_Key)");
        round_trip(&sk, &pk);

        let e = Key::parse(b"\x01\x02garbage").unwrap_err().one_line();
        assert!(e.starts_with("not a key this tool reads"), "{e}");
    }
}
