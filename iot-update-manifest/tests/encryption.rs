//! Firmware encryption: the suit-firmware-encryption examples and libcsuit's encrypted payloads
//! decrypt to their images; tampering, wrong keys and wrong recipient algorithms are refused.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::type_complexity
)]

use iot_core::Error as CoreError;
use iot_core::crypto::RustCrypto;
use iot_update_manifest::Error;
use iot_update_manifest::encryption::{Decryptor, Kek, KeyUnwrap, decrypt_in_place};

/// The examples' A128KW key, 'aaaaaaaaaaaaaaaa' (suit-firmware-encryption examples, kid-1).
const KW_KEY: &[u8; 16] = b"aaaaaaaaaaaaaaaa";
const IMAGE: &[u8] = b"This is a real firmware image.";

fn crypto() -> RustCrypto<()> {
    RustCrypto::default()
}

fn esdh() -> Vec<u8> {
    hex::decode(libcsuit::ESDH_D).unwrap()
}

fn read_hex(rel: &str) -> Option<Vec<u8>> {
    let text = iot_test_vectors::read(rel)?;
    let s: String = String::from_utf8(text)
        .unwrap()
        .chars()
        .filter(|c| c.is_ascii_hexdigit())
        .collect();
    Some(hex::decode(s).unwrap())
}

/// (name, SUIT_Encryption_Info, encrypted payload) of the four draft examples.
fn draft_cases() -> Option<Vec<(&'static str, Vec<u8>, Vec<u8>)>> {
    let mut out = Vec::new();
    for name in [
        "aes-kw-aes-ctr",
        "aes-kw-aes-gcm",
        "es-ecdh-aes-ctr",
        "es-ecdh-aes-gcm",
    ] {
        let info = read_hex(&format!("suit/encryption/suit-encryption-info-{name}.hex"))?;
        let payload = read_hex(&format!("suit/encryption/encrypted-payload-{name}.hex"))?;
        out.push((name, info, payload));
    }
    Some(out)
}

fn kek_for<'k>(name: &str, d: &'k [u8]) -> Kek<'k> {
    if name.starts_with("aes-kw") {
        Kek::A128Kw(KW_KEY)
    } else {
        Kek::EcdhEsP256(d)
    }
}

/// A key kept in a stand-in secure element: only the key operation is asked of it.
struct Element {
    key: Vec<u8>,
    ecdh: bool,
    calls: usize,
}

impl Element {
    fn kek(&self) -> Kek<'_> {
        if self.ecdh {
            Kek::EcdhEsP256(&self.key)
        } else {
            Kek::A128Kw(&self.key)
        }
    }
}

impl KeyUnwrap for Element {
    fn algorithm(&self) -> iot_core::cose::Algorithm {
        self.kek().algorithm()
    }
    fn unwrap_a128kw(
        &mut self,
        backend: &mut dyn iot_core::crypto::AesKeyWrap,
        wrapped: &[u8],
        cek: &mut [u8; 16],
    ) -> Result<(), Error> {
        self.calls += 1;
        self.kek().unwrap_a128kw(backend, wrapped, cek)
    }
    fn ecdh_p256(
        &mut self,
        backend: &mut dyn iot_core::crypto::EcdhP256,
        ephemeral: &[u8],
    ) -> Result<iot_core::crypto::P256SharedSecret, Error> {
        self.calls += 1;
        self.kek().ecdh_p256(backend, ephemeral)
    }
}

/// A crypto backend that forwards to [`RustCrypto`] and counts the ECDH and AES calls, refusing
/// the key unwrap when `refuse` is set and the ECDH when `refuse_ecdh` is: it shows that every
/// key operation of the decryption (the ECDH of ECDH-ES, the key unwrap, also after ECDH-ES, and
/// the content modes) goes through the backend's traits.
#[derive(Default)]
struct Backend {
    inner: RustCrypto<()>,
    refuse: bool,
    refuse_ecdh: bool,
    ecdhs: usize,
    unwraps: usize,
    ctr_starts: usize,
    ctr_bytes: usize,
    gcm_starts: usize,
    gcm_bytes: usize,
}

mod backend {
    use super::Backend;
    use iot_core::crypto::{
        AesCtr, AesGcmOpen, AesKeyWrap, EcdhP256, HmacSha256, P256SharedSecret, RustCrypto,
        SHA256_LEN, Sha256,
    };

    const REFUSED: iot_core::Error = iot_core::Error::UnsupportedAlgorithm(0);

    impl Sha256 for Backend {
        type Sha256State = <RustCrypto<()> as Sha256>::Sha256State;
        fn sha256_start(&mut self) -> Self::Sha256State {
            self.inner.sha256_start()
        }
        fn sha256_update(&mut self, state: &mut Self::Sha256State, data: &[u8]) {
            self.inner.sha256_update(state, data)
        }
        fn sha256_finish(&mut self, state: Self::Sha256State) -> [u8; SHA256_LEN] {
            self.inner.sha256_finish(state)
        }
    }

    impl HmacSha256 for Backend {
        type HmacState = <RustCrypto<()> as HmacSha256>::HmacState;
        fn hmac_start(&mut self, key: &[u8]) -> iot_core::Result<Self::HmacState> {
            self.inner.hmac_start(key)
        }
        fn hmac_update(&mut self, state: &mut Self::HmacState, data: &[u8]) {
            self.inner.hmac_update(state, data)
        }
        fn hmac_finish(&mut self, state: Self::HmacState) -> [u8; SHA256_LEN] {
            self.inner.hmac_finish(state)
        }
    }

    impl EcdhP256 for Backend {
        fn p256_ecdh(
            &mut self,
            private: &[u8],
            public: &[u8],
        ) -> iot_core::Result<P256SharedSecret> {
            self.ecdhs += 1;
            if self.refuse_ecdh {
                return Err(REFUSED);
            }
            self.inner.p256_ecdh(private, public)
        }
        fn p256_check_point(&mut self, public: &[u8]) -> iot_core::Result<()> {
            self.inner.p256_check_point(public)
        }
    }

    impl AesKeyWrap for Backend {
        fn aes128_kw_unwrap(
            &mut self,
            kek: &[u8],
            wrapped: &[u8],
            out: &mut [u8],
        ) -> iot_core::Result<()> {
            self.unwraps += 1;
            if self.refuse {
                return Err(REFUSED);
            }
            self.inner.aes128_kw_unwrap(kek, wrapped, out)
        }
        fn aes128_kw_wrap(
            &mut self,
            kek: &[u8],
            key: &[u8],
            out: &mut [u8],
        ) -> iot_core::Result<()> {
            self.inner.aes128_kw_wrap(kek, key, out)
        }
    }

    impl AesCtr for Backend {
        type AesCtrState = <RustCrypto<()> as AesCtr>::AesCtrState;
        fn aes128_ctr_start(
            &mut self,
            key: &[u8],
            iv: &[u8],
        ) -> iot_core::Result<Self::AesCtrState> {
            self.ctr_starts += 1;
            self.inner.aes128_ctr_start(key, iv)
        }
        fn aes128_ctr_apply(
            &mut self,
            state: &mut Self::AesCtrState,
            data: &mut [u8],
        ) -> iot_core::Result<()> {
            self.ctr_bytes += data.len();
            self.inner.aes128_ctr_apply(state, data)
        }
    }

    impl AesGcmOpen for Backend {
        type GcmOpenState = <RustCrypto<()> as AesGcmOpen>::GcmOpenState;
        fn aes128_gcm_open_start(
            &mut self,
            key: &[u8],
            nonce: &[u8],
            aad: &[&[u8]],
        ) -> iot_core::Result<Self::GcmOpenState> {
            self.gcm_starts += 1;
            self.inner.aes128_gcm_open_start(key, nonce, aad)
        }
        fn aes128_gcm_open_update(
            &mut self,
            state: &mut Self::GcmOpenState,
            data: &mut [u8],
        ) -> iot_core::Result<()> {
            self.gcm_bytes += data.len();
            self.inner.aes128_gcm_open_update(state, data)
        }
        fn aes128_gcm_open_finish(
            &mut self,
            state: Self::GcmOpenState,
            tag: &[u8],
        ) -> iot_core::Result<()> {
            self.inner.aes128_gcm_open_finish(state, tag)
        }
    }
}

/// The four draft payloads decrypt on the counting backend: one ECDH for each ECDH-ES payload,
/// one key unwrap each (A128KW with the key in memory, and after ECDH-ES under the derived KEK),
/// the content through its mode; a backend that refuses the unwrap, or the ECDH of an ECDH-ES
/// payload, refuses the payload.
#[test]
fn key_operations_go_through_the_backend() {
    let Some(cases) = draft_cases() else {
        return;
    };
    let d = esdh();
    for (name, info, payload) in &cases {
        let mut c = Backend::default();
        let mut d = Decryptor::open(&mut c, info, &kek_for(name, &d)).unwrap();
        let (body, tag) = payload.split_at(payload.len() - d.tag_len());
        let mut buf = body.to_vec();
        d.decrypt(&mut c, &mut buf).unwrap();
        d.finish(&mut c, tag).unwrap();
        assert_eq!(buf, IMAGE, "{name}");
        assert_eq!(c.unwraps, 1, "{name}");
        let ecdh = usize::from(!name.starts_with("aes-kw"));
        assert_eq!(c.ecdhs, ecdh, "{name}");
        if name.ends_with("ctr") {
            assert_eq!(
                (c.ctr_starts, c.ctr_bytes, c.gcm_starts),
                (1, IMAGE.len(), 0)
            );
        } else {
            // The second GCM state is the tag check a caller may take for a first pass.
            assert_eq!(
                (c.gcm_starts, c.gcm_bytes, c.ctr_starts),
                (2, IMAGE.len(), 0)
            );
        }
    }
    for (name, info, _) in &cases {
        let mut c = Backend {
            refuse: true,
            ..Backend::default()
        };
        assert_eq!(
            Decryptor::open(&mut c, info, &kek_for(name, &d)).unwrap_err(),
            Error::Core(CoreError::UnsupportedAlgorithm(0)),
            "{name}"
        );
        if !name.starts_with("aes-kw") {
            let mut c = Backend {
                refuse_ecdh: true,
                ..Backend::default()
            };
            assert_eq!(
                Decryptor::open(&mut c, info, &kek_for(name, &d)).unwrap_err(),
                Error::Core(CoreError::UnsupportedAlgorithm(0)),
                "{name}"
            );
            assert_eq!((c.ecdhs, c.unwraps), (1, 0), "{name}");
        }
    }
}

/// The four draft payloads open through a [`KeyUnwrap`] that holds the key (one key operation
/// each), and with the other algorithm's element are `AlgorithmMismatch` without one.
#[test]
fn key_unwrap_trait_opens_the_draft_examples() {
    let Some(cases) = draft_cases() else {
        return;
    };
    for (name, info, payload) in &cases {
        let ecdh = name.starts_with("es-ecdh");
        let mut element = Element {
            key: if ecdh { esdh() } else { KW_KEY.to_vec() },
            ecdh,
            calls: 0,
        };
        let mut c = crypto();
        let mut d = Decryptor::open_with(&mut c, info, &mut element).unwrap();
        assert_eq!(element.calls, 1, "{name}");
        let (body, tag) = payload.split_at(payload.len() - d.tag_len());
        let mut buf = body.to_vec();
        d.decrypt(&mut c, &mut buf).unwrap();
        d.finish(&mut c, tag).unwrap();
        assert_eq!(buf, IMAGE, "{name}");

        let mut other = Element {
            key: if ecdh { KW_KEY.to_vec() } else { esdh() },
            ecdh: !ecdh,
            calls: 0,
        };
        assert_eq!(
            Decryptor::open_with(&mut c, info, &mut other).unwrap_err(),
            Error::Core(CoreError::AlgorithmMismatch),
            "{name}"
        );
        assert_eq!(other.calls, 0);
    }
}

/// An ephemeral point off the curve (one byte of the draft ECDH-ES example's `y` flipped) is
/// refused with `InvalidKey` before the element holding the key is asked to multiply it.
#[test]
fn the_element_only_gets_points_on_the_curve() {
    let Some(cases) = draft_cases() else {
        return;
    };
    let mut seen = 0;
    for (name, info, _) in cases.iter().filter(|(n, _, _)| n.starts_with("es-ecdh")) {
        // The ephemeral COSE_Key's `-3: bstr .size 32` (y).
        let at = info
            .windows(3)
            .position(|w| w == [0x22, 0x58, 0x20])
            .unwrap_or_else(|| panic!("{name}: no y coordinate"));
        let mut off = info.clone();
        off[at + 3 + 31] ^= 1;
        let mut element = Element {
            key: esdh(),
            ecdh: true,
            calls: 0,
        };
        assert_eq!(
            Decryptor::open_with(&mut crypto(), &off, &mut element).unwrap_err(),
            Error::Core(CoreError::InvalidKey),
            "{name}"
        );
        assert_eq!(element.calls, 0, "{name}");
        // The same through the in-memory key: the backend's answer alike.
        assert_eq!(
            Decryptor::open(&mut crypto(), &off, &Kek::EcdhEsP256(&esdh())).unwrap_err(),
            Error::Core(CoreError::InvalidKey),
            "{name}"
        );
        seen += 1;
    }
    assert!(seen > 0, "no ECDH-ES example");
}

/// Decrypts `payload` in chunks of `chunk` bytes, as the processor does while writing.
fn decrypt_chunked(
    info: &[u8],
    kek: &Kek<'_>,
    payload: &[u8],
    chunk: usize,
) -> Result<Vec<u8>, Error> {
    let mut c = crypto();
    let mut d = Decryptor::open(&mut c, info, kek)?;
    let n = payload.len() - d.tag_len();
    let (body, tag) = payload.split_at(n);
    let mut out = Vec::new();
    for piece in body.chunks(chunk) {
        let mut buf = piece.to_vec();
        d.decrypt(&mut c, &mut buf)?;
        out.extend(buf);
    }
    d.finish(&mut c, tag)?;
    Ok(out)
}

#[test]
fn draft_examples_decrypt() {
    let Some(cases) = draft_cases() else { return };
    let d = esdh();
    for (name, info, payload) in &cases {
        let kek = kek_for(name, &d);
        let mut buf = payload.clone();
        let n = decrypt_in_place(&mut crypto(), info, &kek, &mut buf)
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(&buf[..n], IMAGE, "{name}");
        // Any chunking gives the same plaintext (partial blocks carried across chunks).
        for chunk in [1, 3, 7, 16, 17] {
            assert_eq!(
                decrypt_chunked(info, &kek, payload, chunk).unwrap(),
                IMAGE,
                "{name} / {chunk}"
            );
        }
    }
}

#[test]
fn libcsuit_payloads_decrypt() {
    const DIR: &str = "suit/libcsuit";
    let Some(raw) = iot_test_vectors::read(&format!("{DIR}/raw_image.bin")) else {
        return;
    };
    assert_eq!(raw, IMAGE);
    let config = iot_test_vectors::read(&format!("{DIR}/config.json")).unwrap();
    let d = esdh();
    for (info, payload, kek, expected) in [
        (
            "encryption_info_aes.cose",
            "encrypted_image_aes.bin",
            Kek::A128Kw(KW_KEY),
            &raw,
        ),
        (
            "encryption_info_esdh.cose",
            "encrypted_image_esdh.bin",
            Kek::EcdhEsP256(&d),
            &raw,
        ),
        (
            "encryption_info_config_aes.cose",
            "encrypted_config_aes.bin",
            Kek::A128Kw(KW_KEY),
            &config,
        ),
        (
            "encryption_info_config_esdh.cose",
            "encrypted_config_esdh.bin",
            Kek::EcdhEsP256(&d),
            &config,
        ),
    ] {
        let info = iot_test_vectors::read(&format!("{DIR}/{info}")).unwrap();
        let payload = iot_test_vectors::read(&format!("{DIR}/{payload}")).unwrap();
        let plain = decrypt_chunked(&info, &kek, &payload, 5)
            .unwrap_or_else(|e| panic!("{payload:?}: {e:?}"));
        assert_eq!(&plain, expected);
    }
}

#[test]
fn tampered_wrong_key_wrong_alg_refused() {
    let Some(cases) = draft_cases() else { return };
    let d = esdh();
    let mut other_d = d.clone();
    other_d[31] ^= 1;
    for (name, info, payload) in &cases {
        let kek = kek_for(name, &d);
        let gcm = name.ends_with("gcm");
        // A flipped ciphertext bit: GCM refuses it and zeroes the buffer; CTR cannot tell (the
        // manifest's image digest is what catches it) and yields a different image.
        for i in [0, payload.len() - 1] {
            let mut buf = payload.clone();
            buf[i] ^= 1;
            let r = decrypt_in_place(&mut crypto(), info, &kek, &mut buf);
            if gcm {
                assert_eq!(r, Err(Error::Core(CoreError::BadTag)), "{name}");
                assert!(buf.iter().all(|&b| b == 0));
                assert_eq!(
                    decrypt_chunked(
                        info,
                        &kek,
                        &{
                            let mut p = payload.clone();
                            p[i] ^= 1;
                            p
                        },
                        4
                    ),
                    Err(Error::Core(CoreError::BadTag))
                );
            } else {
                let n = r.unwrap();
                assert_ne!(&buf[..n], IMAGE);
            }
        }
        // A wrong key: the AES-KW integrity check fails before any plaintext.
        let wrong = match kek {
            Kek::A128Kw(_) => Kek::A128Kw(b"bbbbbbbbbbbbbbbb"),
            Kek::EcdhEsP256(_) => Kek::EcdhEsP256(&other_d),
        };
        let mut buf = payload.clone();
        assert_eq!(
            decrypt_in_place(&mut crypto(), info, &wrong, &mut buf),
            Err(Error::Core(CoreError::BadTag)),
            "{name}"
        );
        // A key of the other recipient algorithm finds no recipient.
        let wrong_alg = match kek {
            Kek::A128Kw(_) => Kek::EcdhEsP256(&d),
            Kek::EcdhEsP256(_) => Kek::A128Kw(KW_KEY),
        };
        assert_eq!(
            Decryptor::open(&mut crypto(), info, &wrong_alg).unwrap_err(),
            Error::Core(CoreError::AlgorithmMismatch),
            "{name}"
        );
        // A tampered wrapped key (the last bytes of the info are the recipient's ciphertext).
        let mut bad_info = info.clone();
        *bad_info.last_mut().unwrap() ^= 1;
        assert_eq!(
            Decryptor::open(&mut crypto(), &bad_info, &kek).unwrap_err(),
            Error::Core(CoreError::BadTag),
            "{name}"
        );
    }
}

mod libcsuit;
mod sim;

mod envelopes {
    use super::*;
    use iot_core::cose::SymmetricKey;
    use iot_core::crypto::P256VerifyingKey;
    use iot_update_manifest::{Envelope, Processor, TrustAnchors, Unsupported};
    use sim::{Sim, path};

    use libcsuit::{
        DELEGATED_X, DELEGATION_SIG, MAC_KEY, delegated_key, delegation_claims, delegation_cwt,
        read, with_delegation,
    };
    const URI: &str = "coaps://example.com/encrypted-firmware";

    /// Updates `sim` with envelope `name`, decrypting with `kek` when given.
    fn update(name: &str, sim: &mut Sim, kek: Option<Kek<'_>>) -> Result<(), Error> {
        let bytes = read(&format!("suit_manifest_{name}.suit")).unwrap();
        update_with(&bytes, sim, kek)
    }

    /// Updates `sim` with envelope `bytes` (signed by libcsuit's trust anchor or MACed with 0x61 x 32).
    fn update_with(bytes: &[u8], sim: &mut Sim, kek: Option<Kek<'_>>) -> Result<(), Error> {
        let mut keys = [trust_anchor()];
        let macs = [SymmetricKey::new(&MAC_KEY)];
        let mut anchors = TrustAnchors::new(&mut keys, &macs);
        let mut c = crypto();
        let mut scratch = [0u8; 2048];
        let mut p = Processor::new(sim, &mut c, &mut anchors).with_scratch(&mut scratch);
        if let Some(kek) = kek {
            p = p.with_decryption_key(kek);
        }
        let auth = p.authenticate(bytes)?;
        p.update(&auth)
    }

    /// libcsuit expAW (A128KW) and expEW (ECDH-ES) install with the key in a stand-in secure
    /// element ([`Processor::with_key_unwrap`]), which is asked for one key operation.
    #[test]
    fn key_unwrap_element_installs_libcsuit_envelopes() {
        if read("raw_image.bin").is_none() {
            return;
        }
        for (name, ecdh, plain) in [
            ("expAW", false, &b"plaintext-firmware"[..]),
            ("expEW", true, b"decrypted-firmware"),
        ] {
            let bytes = read(&format!("suit_manifest_{name}.suit")).unwrap();
            let mut element = Element {
                key: if ecdh { esdh() } else { KW_KEY.to_vec() },
                ecdh,
                calls: 0,
            };
            let mut keys = [trust_anchor()];
            let macs = [SymmetricKey::new(&MAC_KEY)];
            let mut anchors = TrustAnchors::new(&mut keys, &macs);
            let mut c = crypto();
            let mut sim = Sim::new();
            let mut p =
                Processor::new(&mut sim, &mut c, &mut anchors).with_key_unwrap(&mut element);
            let auth = p.authenticate(&bytes).unwrap();
            p.update(&auth).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert_eq!(
                sim.get(&path(&[plain])).map(|v| v.as_slice()),
                Some(IMAGE),
                "{name}"
            );
            assert_eq!(element.calls, 1, "{name}");
        }
    }

    /// The processor decrypts on its crypto backend: libcsuit expAW (A128KW) and expEW
    /// (ECDH-ES + A128KW) install through the counting backend, one key unwrap each and the
    /// A128GCM payload authenticated in a first pass, then decrypted; a backend that refuses
    /// the unwrap leaves the device untouched.
    #[test]
    fn processor_decrypts_on_the_backend() {
        let Some(image) = read("raw_image.bin") else {
            return;
        };
        let d = esdh();
        for (name, kek, plain) in [
            ("expAW", Kek::A128Kw(KW_KEY), &b"plaintext-firmware"[..]),
            ("expEW", Kek::EcdhEsP256(&d), b"decrypted-firmware"),
        ] {
            let bytes = read(&format!("suit_manifest_{name}.suit")).unwrap();
            let mut keys = [trust_anchor()];
            let macs = [SymmetricKey::new(&MAC_KEY)];
            let mut anchors = TrustAnchors::new(&mut keys, &macs);
            for refuse in [false, true] {
                let mut c = Backend {
                    refuse,
                    ..Backend::default()
                };
                let mut sim = Sim::new();
                let mut p = Processor::new(&mut sim, &mut c, &mut anchors).with_decryption_key(kek);
                let auth = p.authenticate(&bytes).unwrap();
                let result = p.update(&auth);
                if refuse {
                    assert_eq!(
                        result,
                        Err(Error::Core(CoreError::UnsupportedAlgorithm(0))),
                        "{name}"
                    );
                    assert_eq!(sim.get(&path(&[plain])), None, "{name}");
                    assert!(sim.flash.sequence.is_empty(), "{name}");
                } else {
                    result.unwrap_or_else(|e| panic!("{name}: {e:?}"));
                    assert_eq!(sim.get(&path(&[plain])), Some(&image), "{name}");
                    assert_eq!(c.unwraps, 1, "{name}");
                    assert_eq!((c.gcm_starts, c.gcm_bytes), (2, 2 * image.len()), "{name}");
                }
            }
        }
    }

    /// libcsuit expED (draft-ietf-suit-trust-domains, parameters passed to a dependency): the
    /// dependent sets content and encryption info (ES-DH + A128GCM) on its component
    /// 'decrypted-firmware' and processes its integrated dependency, whose install writes its
    /// own 'decrypted-firmware' with them and checks the image digest it set itself.
    #[test]
    fn exp_ed_dependency_decrypts_what_the_dependent_passed() {
        if read("raw_image.bin").is_none() {
            return;
        }
        let d = esdh();
        let plain = path(&[b"dependency-manifest.suit", b"decrypted-firmware"]);
        let mut sim = Sim::new();
        update("expED", &mut sim, Some(Kek::EcdhEsP256(&d))).unwrap();
        assert_eq!(sim.get(&plain).map(|v| v.as_slice()), Some(IMAGE));
        assert!(sim.get(&path(&[b"dependency-manifest.suit"])).is_some());
        // The dependent's own component is not written: the parameters went to the dependency.
        assert_eq!(sim.get(&path(&[b"decrypted-firmware"])), None);
        // The dependent's sequence number and its dependency's.
        assert_eq!(
            sim.flash.sequence.values().copied().collect::<Vec<_>>(),
            [1, 1]
        );
        // A wrong key: refused in the dependency, nothing decrypted, nothing stored.
        let mut wrong = d.clone();
        wrong[0] ^= 1;
        let mut sim = Sim::new();
        assert_eq!(
            update("expED", &mut sim, Some(Kek::EcdhEsP256(&wrong))),
            Err(Error::Core(CoreError::BadTag))
        );
        assert_eq!(sim.get(&plain), None);
        assert!(sim.flash.sequence.is_empty());
    }

    fn trust_anchor() -> P256VerifyingKey {
        libcsuit::trust_anchor().unwrap()
    }

    /// Authenticates `env` under `keys` and updates `sim`, decrypting with `kek`.
    fn update_under(
        env: &[u8],
        sim: &mut Sim,
        kek: Kek<'_>,
        keys: &mut [P256VerifyingKey],
    ) -> Result<(), Error> {
        let mut c = crypto();
        let mut anchors = TrustAnchors::signers(keys);
        let mut scratch = [0u8; 2048];
        let mut p = Processor::new(sim, &mut c, &mut anchors)
            .with_scratch(&mut scratch)
            .with_decryption_key(kek);
        let auth = p.authenticate(env)?;
        p.update(&auth)
    }

    /// suit-firmware-encryption's `suit-manifest-es-ecdh-dependency.hex.signed` (expED's
    /// structure, its dependency integrated) is not signed by the trust anchor: its dependent's
    /// COSE_Sign1 verifies under libcsuit's delegated authority key, which the trust anchor
    /// certifies in a delegation CWT (checked here). The integrated dependency is signed by the
    /// trust anchor. The envelope carries no `suit-delegation`, so here the delegated key is
    /// given as a trust anchor: then the dependency decrypts the image (with the delegation
    /// inserted, the trust anchor alone suffices: the next test).
    #[test]
    fn es_ecdh_dependency_verifies_under_the_delegated_key() {
        use iot_core::crypto::{Sha256, Verifier};
        let Some(env) = read_hex("suit/encryption/suit-manifest-es-ecdh-dependency.hex.signed")
        else {
            return;
        };
        // The delegation: the trust anchor signed the CWT carrying the delegated key.
        let claims = delegation_claims();
        let to_be_signed = [
            &[0x84, 0x6a][..],
            b"Signature1",
            &[0x43, 0xa1, 0x01, 0x26, 0x40, 0x58, claims.len() as u8],
            &claims,
        ]
        .concat();
        let digest = crypto().sha256(&to_be_signed);
        let sig = hex::decode(DELEGATION_SIG).unwrap();
        trust_anchor().verify_digest(&digest, &sig).unwrap();
        assert!(delegated_key().verify_digest(&digest, &sig).is_err());

        let mut c = crypto();
        let parsed = Envelope::decode(&env).unwrap();
        let mut anchor = [trust_anchor()];
        assert_eq!(
            parsed
                .authenticate(&mut c, &mut TrustAnchors::signers(&mut anchor))
                .unwrap_err(),
            Error::NotAuthenticated(CoreError::BadSignature)
        );
        let mut delegated = [delegated_key()];
        let auth = parsed
            .authenticate(&mut c, &mut TrustAnchors::signers(&mut delegated))
            .unwrap();
        assert_eq!(auth.manifest().sequence_number(), 1);
        // The integrated dependency: under the trust anchor, not under the delegated key.
        let dep = auth.integrated_payload("#dependency-manifest").unwrap();
        let dep = Envelope::decode(dep).unwrap();
        assert!(
            dep.authenticate(&mut c, &mut TrustAnchors::signers(&mut anchor))
                .is_ok()
        );
        assert!(
            dep.authenticate(&mut c, &mut TrustAnchors::signers(&mut delegated))
                .is_err()
        );

        // Both keys trusted: the dependency decrypts what its dependent passed it (as expED).
        let d = esdh();
        let plain = path(&[b"dependency-manifest.suit", b"decrypted-firmware"]);
        let run = |sim: &mut Sim, kek: Kek<'_>, keys: &mut [P256VerifyingKey]| {
            update_under(&env, sim, kek, keys)
        };
        let mut sim = Sim::new();
        run(
            &mut sim,
            Kek::EcdhEsP256(&d),
            &mut [delegated_key(), trust_anchor()],
        )
        .unwrap();
        assert_eq!(sim.get(&plain).map(|v| v.as_slice()), Some(IMAGE));
        // The dependent's sequence number and its dependency's.
        assert_eq!(
            sim.flash.sequence.values().copied().collect::<Vec<_>>(),
            [1, 1]
        );
        // The delegated key alone: the dependency is refused, nothing decrypted or stored.
        let mut sim = Sim::new();
        assert_eq!(
            run(&mut sim, Kek::EcdhEsP256(&d), &mut [delegated_key()]),
            Err(Error::NotAuthenticated(CoreError::BadSignature))
        );
        assert_eq!(sim.get(&plain), None);
        assert!(sim.flash.sequence.is_empty());
    }

    /// `suit-manifest-es-ecdh-dependency.hex.signed` with libcsuit's delegation CWT inserted as
    /// `suit-delegation` (outside the authentication wrapper, so the signatures still hold):
    /// it authenticates and processes under libcsuit's trust anchor alone (draft-ietf-suit-trust-
    /// domains "Delegation Chains"), the dependency decrypting the image. A flipped bit of the
    /// CWT's signature or of its confirmed key, a chain signed by a key that is no trust anchor,
    /// an empty chain, too many chains, garbage, or no delegation: refused, nothing stored.
    #[test]
    fn es_ecdh_dependency_authenticates_through_its_delegation() {
        use iot_update_manifest::Capacity;
        use iot_update_manifest::delegation::{DelegationError, MAX_CHAINS, Reason};
        let Some(env) = read_hex("suit/encryption/suit-manifest-es-ecdh-dependency.hex.signed")
        else {
            return;
        };
        let cwt = delegation_cwt();
        let chains = |cwts: &[&[u8]], n: usize| {
            common::cbor(|e| {
                e.array(n as u64).unwrap();
                for _ in 0..n {
                    e.array(cwts.len() as u64).unwrap();
                    for c in cwts {
                        e.bytes(c).unwrap();
                    }
                }
            })
        };
        let delegated = with_delegation(&env, &chains(&[&cwt], 1));
        let d = esdh();
        let plain = path(&[b"dependency-manifest.suit", b"decrypted-firmware"]);

        // Authenticated by the delegated key, which the chain confirms.
        let mut anchor = [trust_anchor()];
        let parsed = Envelope::decode(&delegated).unwrap();
        let auth = parsed
            .authenticate(&mut crypto(), &mut TrustAnchors::signers(&mut anchor))
            .unwrap();
        assert_eq!(auth.manifest().sequence_number(), 1);
        assert_eq!(auth.digest(), Envelope::decode(&env).unwrap().digest());
        let keys = parsed
            .delegation_chains()
            .unwrap()
            .unwrap()
            .verify(&mut crypto(), &mut anchor, None)
            .unwrap();
        assert_eq!(keys.as_slice(), [delegated_key()]);

        // And processed: the dependency (signed by the trust anchor) decrypts the image.
        let mut sim = Sim::new();
        update_under(
            &delegated,
            &mut sim,
            Kek::EcdhEsP256(&d),
            &mut [trust_anchor()],
        )
        .unwrap();
        assert_eq!(sim.get(&plain).map(|v| v.as_slice()), Some(IMAGE));
        // The dependent's sequence number and its dependency's.
        assert_eq!(
            sim.flash.sequence.values().copied().collect::<Vec<_>>(),
            [1, 1]
        );

        let chain_refused = |reason| {
            Err(Error::Delegation(DelegationError {
                chain: 0,
                link: 0,
                reason,
            }))
        };
        let mut flipped_sig = cwt.clone();
        *flipped_sig.last_mut().unwrap() ^= 0x80;
        let mut flipped_key = cwt.clone();
        let x = hex::decode(DELEGATED_X).unwrap();
        let at = cwt.windows(32).position(|w| w == x).unwrap();
        flipped_key[at] ^= 1;
        // The same claims signed by a key that is no trust anchor.
        let mut stranger = iot_core::crypto::P256SigningKey::from_bytes(&[0x5a; 32]).unwrap();
        let mut other = vec![0u8; 256];
        let n = iot_core::cose::Sign1Builder::new(iot_core::cose::Algorithm::Es256)
            .sign(
                &mut crypto(),
                &mut stranger,
                &delegation_claims(),
                &[],
                &mut other,
            )
            .unwrap();
        other.truncate(n);
        let cases: Vec<(Vec<u8>, Result<(), Error>)> = vec![
            (
                chains(&[&flipped_sig], 1),
                chain_refused(Reason::NotAuthenticated),
            ),
            (
                chains(&[&flipped_key], 1),
                chain_refused(Reason::NotAuthenticated),
            ),
            (
                chains(&[&other], 1),
                chain_refused(Reason::NotAuthenticated),
            ),
            (chains(&[], 1), chain_refused(Reason::Empty)),
            (
                chains(&[&cwt], MAX_CHAINS + 1),
                Err(Error::CapacityExceeded(Capacity::DelegationChains)),
            ),
        ];
        for (member, expected) in cases {
            let bytes = with_delegation(&env, &member);
            let mut sim = Sim::new();
            assert_eq!(
                update_under(&bytes, &mut sim, Kek::EcdhEsP256(&d), &mut [trust_anchor()]),
                expected
            );
            assert!(sim.flash.storage.is_empty() && sim.flash.sequence.is_empty());
        }
        // Garbage: a CBOR error at its offset in the envelope, nothing stored.
        for member in [&[0xff][..], &[0x81, 0x81, 0x43, 0xd2, 0x84, 0x40], &[0xa0]] {
            let bytes = with_delegation(&env, member);
            let mut sim = Sim::new();
            let result = update_under(&bytes, &mut sim, Kek::EcdhEsP256(&d), &mut [trust_anchor()]);
            assert!(
                matches!(
                    result,
                    Err(Error::Core(CoreError::Cbor { offset, .. })) if (4..4 + 2 + member.len()).contains(&offset)
                ),
                "{member:02x?}: {result:?}"
            );
            assert!(sim.flash.storage.is_empty() && sim.flash.sequence.is_empty());
        }
        // No delegation: the trust anchor alone does not authenticate it.
        let mut sim = Sim::new();
        assert_eq!(
            update_under(&env, &mut sim, Kek::EcdhEsP256(&d), &mut [trust_anchor()]),
            Err(Error::NotAuthenticated(CoreError::BadSignature))
        );
        assert!(sim.flash.storage.is_empty() && sim.flash.sequence.is_empty());
    }

    /// (envelope, decrypted component, fetched-ciphertext component and file, key).
    fn cases(
        d: &[u8],
    ) -> Vec<(
        &'static str,
        Vec<Vec<u8>>,
        Option<(Vec<Vec<u8>>, &'static str)>,
        Kek<'_>,
    )> {
        // expAF / expAFS carry the draft example's SUIT_Encryption_Info (AES-KW + A128GCM), so
        // the payload they fetch is the draft's encrypted payload, not libcsuit's .bin.
        let aes = "suit/encryption/encrypted-payload-aes-kw-aes-gcm.hex";
        vec![
            (
                "expAW",
                vec![b"plaintext-firmware".to_vec()],
                None,
                Kek::A128Kw(KW_KEY),
            ),
            (
                "expEW",
                vec![b"decrypted-firmware".to_vec()],
                None,
                Kek::EcdhEsP256(d),
            ),
            (
                "expAF",
                vec![b"plaintext-firmware".to_vec()],
                Some((vec![b"encrypted-firmware".to_vec()], aes)),
                Kek::A128Kw(KW_KEY),
            ),
            (
                "expAFS",
                vec![vec![0]],
                Some((vec![vec![1]], aes)),
                Kek::A128Kw(KW_KEY),
            ),
        ]
    }

    fn device(fetched: &Option<(Vec<Vec<u8>>, &str)>) -> Sim {
        let mut sim = Sim::new();
        if let Some((_, file)) = fetched {
            sim.uris.insert(URI.into(), read_hex(file).unwrap());
        }
        sim
    }

    fn key_of(segments: &[Vec<u8>]) -> sim::Key {
        let s: Vec<&[u8]> = segments.iter().map(|s| s.as_slice()).collect();
        path(&s)
    }

    #[test]
    fn libcsuit_encrypted_envelopes_process() {
        if read("raw_image.bin").is_none() {
            return;
        }
        let d = esdh();
        for (name, plain, fetched, kek) in cases(&d) {
            // With the device's key: the plaintext lands in its component, the sequence number is stored.
            let mut sim = device(&fetched);
            update(name, &mut sim, Some(kek)).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert_eq!(
                sim.get(&key_of(&plain)).map(|v| v.as_slice()),
                Some(IMAGE),
                "{name}"
            );
            assert_eq!(
                sim.flash.sequence.values().copied().collect::<Vec<_>>(),
                [1],
                "{name}"
            );
            // Without a key: refused, nothing decrypted, nothing stored.
            let mut sim = device(&fetched);
            assert_eq!(
                update(name, &mut sim, None),
                Err(Error::Unsupported(Unsupported::Encryption)),
                "{name}"
            );
            assert_eq!(sim.get(&key_of(&plain)), None, "{name}");
            assert!(sim.flash.sequence.is_empty());
            // A wrong key or a key of the other recipient algorithm: typed error, the target
            // component untouched, no sequence number stored.
            let wrong_d = {
                let mut w = d.clone();
                w[0] ^= 1;
                w
            };
            let wrong = match kek {
                Kek::A128Kw(_) => [Kek::A128Kw(b"bbbbbbbbbbbbbbbb"), Kek::EcdhEsP256(&d)],
                Kek::EcdhEsP256(_) => [Kek::EcdhEsP256(&wrong_d), Kek::A128Kw(KW_KEY)],
            };
            for (w, expected) in wrong
                .into_iter()
                .zip([CoreError::BadTag, CoreError::AlgorithmMismatch])
            {
                let mut sim = device(&fetched);
                assert_eq!(
                    update(name, &mut sim, Some(w)),
                    Err(Error::Core(expected)),
                    "{name}"
                );
                assert_eq!(sim.get(&key_of(&plain)), None, "{name}");
                assert!(sim.flash.sequence.is_empty());
            }
            // Tampered ciphertext (fetched): the GCM tag check fails before anything is written.
            if let Some((enc, file)) = &fetched {
                let mut bad = read_hex(file).unwrap();
                bad[3] ^= 0x80;
                let mut sim = Sim::new();
                sim.uris.insert(URI.into(), bad.clone());
                assert_eq!(
                    update(name, &mut sim, Some(kek)),
                    Err(Error::Core(CoreError::BadTag)),
                    "{name}"
                );
                assert_eq!(sim.get(&key_of(enc)), Some(&bad));
                assert_eq!(sim.get(&key_of(&plain)), None, "{name}");
                assert!(sim.flash.sequence.is_empty());
            }
        }
    }

    /// The signed envelopes of the suit-firmware-encryption examples (the ones without a
    /// dependency): each installs the plaintext image with the examples' keys.
    #[test]
    fn draft_encrypted_envelopes_process() {
        let Some(payload) = read_hex("suit/encryption/encrypted-payload-aes-kw-aes-gcm.hex") else {
            return;
        };
        let d = esdh();
        for (name, plain, fetched, kek) in [
            (
                "aes-kw",
                vec![b"plaintext-firmware".to_vec()],
                Some(vec![b"encrypted-firmware".to_vec()]),
                Kek::A128Kw(KW_KEY),
            ),
            (
                "aes-kw-content",
                vec![b"plaintext-firmware".to_vec()],
                None,
                Kek::A128Kw(KW_KEY),
            ),
            (
                "aes-kw-slot",
                vec![vec![0]],
                Some(vec![vec![1]]),
                Kek::A128Kw(KW_KEY),
            ),
            (
                "es-ecdh-content",
                vec![b"decrypted-firmware".to_vec()],
                None,
                Kek::EcdhEsP256(&d),
            ),
        ] {
            let env =
                read_hex(&format!("suit/encryption/suit-manifest-{name}.hex.signed")).unwrap();
            let mut sim = Sim::new();
            sim.uris.insert(URI.into(), payload.clone());
            update_with(&env, &mut sim, Some(kek)).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert_eq!(
                sim.get(&key_of(&plain)).map(|v| v.as_slice()),
                Some(IMAGE),
                "{name}"
            );
            if let Some(enc) = fetched {
                assert_eq!(sim.get(&key_of(&enc)), Some(&payload), "{name}");
            }
            let mut sim = Sim::new();
            sim.uris.insert(URI.into(), payload.clone());
            assert_eq!(
                update_with(&env, &mut sim, None),
                Err(Error::Unsupported(Unsupported::Encryption)),
                "{name}"
            );
            assert_eq!(sim.get(&key_of(&plain)), None, "{name}");
        }
    }
}

/// The COSE_KDF_Context of an ES-DH recipient is the one of `a128kw_kdf_context.diag`:
/// `[-3, [nil, nil, nil], [nil, nil, nil], [128, << {1: -29} >>, 'SUIT Payload Encryption']]` (a bstr).
#[test]
fn es_dh_kdf_context_is_the_drafts() {
    use iot_core::cose::{Algorithm, CoseEncrypt, KdfInfo};
    use iot_update_manifest::encryption::KDF_CONTEXT_OTHER;
    let Some(info) = read_hex("suit/encryption/suit-encryption-info-es-ecdh-aes-gcm.hex") else {
        return;
    };
    let msg = CoseEncrypt::decode(&info).unwrap();
    let recipient = msg.recipients.get(0).unwrap();
    let kdf = KdfInfo {
        supp_pub_other: Some(KDF_CONTEXT_OTHER),
        ..KdfInfo::default()
    };
    let mut out = [0u8; 128];
    let n = recipient
        .write_kdf_context(Algorithm::A128Kw, &kdf, &mut out)
        .unwrap();
    let mut expected =
        hex::decode("8422 83f6f6f6 83f6f6f6 83 1880 44a101381c 57".replace(' ', "")).unwrap();
    expected.extend(b"SUIT Payload Encryption");
    assert_eq!(&out[..n], &expected[..]);
}

mod common;

/// A128CTR through the processor: a hand-built manifest writes the draft's AES-KW + A128CTR
/// payload from `suit-parameter-content` and checks the image digest in validate. A flipped
/// ciphertext bit is not detected by CTR: the write happens, image-match refuses the result,
/// and no sequence number is stored.
#[test]
fn a128ctr_write_checked_by_image_digest() {
    use iot_core::crypto::Sha256;
    use iot_update_manifest::{Command, Processor, TrustAnchors};
    let (Some(info), Some(payload)) = (
        read_hex("suit/encryption/suit-encryption-info-aes-kw-aes-ctr.hex"),
        read_hex("suit/encryption/encrypted-payload-aes-kw-aes-ctr.hex"),
    ) else {
        return;
    };
    let build = |content: &[u8]| {
        let digest = common::cbor(|e| {
            e.array(2).unwrap().i64(-16).unwrap();
            e.bytes(&crypto().sha256(IMAGE)).unwrap();
        });
        let params = common::cbor(|e| {
            e.map(4).unwrap();
            e.u8(3).unwrap().bytes(&digest).unwrap();
            e.u8(14).unwrap().u64(IMAGE.len() as u64).unwrap();
            e.u8(18).unwrap().bytes(content).unwrap();
            e.u8(19).unwrap().bytes(&info).unwrap();
        });
        let install = common::sequence(&[(20, params.clone()), (18, common::rp(15))]);
        let validate = common::sequence(&[(20, params), (3, common::rp(15))]);
        let m = common::manifest(
            1,
            &common::common(&[&[&[0]]], None),
            &[(7, common::bstr(&validate)), (20, common::bstr(&install))],
        );
        common::envelope(&m, common::Auth::Sign1, &[])
    };
    let run = |env: &[u8], sim: &mut sim::Sim| {
        let mut keys = [common::signing_key().verifying_key()];
        let mut anchors = TrustAnchors::new(&mut keys, &[]);
        let mut c = crypto();
        let mut p =
            Processor::new(sim, &mut c, &mut anchors).with_decryption_key(Kek::A128Kw(KW_KEY));
        let auth = p.authenticate(env)?;
        p.update(&auth)
    };
    let target = sim::path(&[&[0]]);
    let mut sim = sim::Sim::new();
    run(&build(&payload), &mut sim).unwrap();
    assert_eq!(sim.get(&target).map(|v| v.as_slice()), Some(IMAGE));
    assert_eq!(
        sim.flash.sequence.values().copied().collect::<Vec<_>>(),
        [1]
    );

    let mut bad = payload.clone();
    bad[5] ^= 1;
    let mut sim = sim::Sim::new();
    assert_eq!(
        run(&build(&bad), &mut sim),
        Err(Error::ConditionFailed(Command::ImageMatch))
    );
    assert_ne!(sim.get(&target).map(|v| v.as_slice()), Some(IMAGE));
    assert!(sim.flash.sequence.is_empty());
}

/// `suit-directive-fetch` with `suit-parameter-encryption-info` (draft-ietf-suit-firmware-encryption
/// section 8): each of the four draft payloads is pulled from a URI in pieces (the simulated
/// platform serves at most 7 bytes per `fetch_range`), decrypted as it is written, and checked
/// by image-match; the same from an integrated payload. A flipped GCM ciphertext bit or tag bit
/// is `BadTag` with the component cleared; a flipped CTR bit fails image-match; a wrong key and
/// no key are refused before anything is written; never is a sequence number stored.
#[test]
fn fetch_decrypts_while_writing() {
    use iot_core::crypto::Sha256;
    use iot_update_manifest::{Command, Processor, TrustAnchors, Unsupported};
    let Some(cases) = draft_cases() else {
        return;
    };
    const URI: &str = "coaps://example.com/encrypted";
    let build = |info: &[u8], uri: &str, integrated: Option<&[u8]>| {
        let digest = common::cbor(|e| {
            e.array(2).unwrap().i64(-16).unwrap();
            e.bytes(&crypto().sha256(IMAGE)).unwrap();
        });
        let image = common::cbor(|e| {
            e.map(2).unwrap();
            e.u8(3).unwrap().bytes(&digest).unwrap();
            e.u8(14).unwrap().u64(IMAGE.len() as u64).unwrap();
        });
        let fetch = common::cbor(|e| {
            e.map(2).unwrap();
            e.u8(19).unwrap().bytes(info).unwrap();
            e.u8(21).unwrap().str(uri).unwrap();
        });
        let install = common::sequence(&[
            (20, image.clone()),
            (20, fetch),
            (21, common::rp(15)),
            (3, common::rp(15)),
        ]);
        let validate = common::sequence(&[(20, image), (3, common::rp(15))]);
        let m = common::manifest(
            1,
            &common::common(&[&[&[0]]], None),
            &[(7, common::bstr(&validate)), (20, common::bstr(&install))],
        );
        match integrated {
            Some(p) => common::envelope(&m, common::Auth::Sign1, &[common::Extra::Text(uri, p)]),
            None => common::envelope(&m, common::Auth::Sign1, &[]),
        }
    };
    let run = |env: &[u8], sim: &mut sim::Sim, kek: Option<Kek<'_>>| {
        let mut keys = [common::signing_key().verifying_key()];
        let mut anchors = TrustAnchors::new(&mut keys, &[]);
        let mut c = crypto();
        let mut p = Processor::new(sim, &mut c, &mut anchors);
        if let Some(kek) = kek {
            p = p.with_decryption_key(kek);
        }
        let auth = p.authenticate(env)?;
        p.update(&auth)
    };
    let target = sim::path(&[&[0]]);
    let d = esdh();
    let served = |payload: &[u8]| {
        let mut sim = sim::Sim::new();
        sim.uris.insert(URI.into(), payload.to_vec());
        sim
    };
    for (name, info, payload) in &cases {
        let kek = kek_for(name, &d);
        let env = build(info, URI, None);
        let mut sim = served(payload);
        run(&env, &mut sim, Some(kek)).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(
            sim.get(&target).map(|v| v.as_slice()),
            Some(IMAGE),
            "{name}"
        );
        assert_eq!(sim.fetched, [URI], "{name}");
        assert_eq!(
            sim.flash.sequence.values().copied().collect::<Vec<_>>(),
            [1]
        );

        // Through the report recorder, which must pass the ranged fetch on to the device.
        let mut sim = served(payload);
        {
            let mut reporter = iot_update_manifest::report::Reporter::<_, 4>::new(&mut sim);
            let mut keys = [common::signing_key().verifying_key()];
            let mut anchors = TrustAnchors::new(&mut keys, &[]);
            let mut c = crypto();
            let mut p =
                Processor::new(&mut reporter, &mut c, &mut anchors).with_decryption_key(kek);
            let auth = p.authenticate(&env).unwrap();
            p.update(&auth)
                .unwrap_or_else(|e| panic!("{name} through Reporter: {e:?}"));
        }
        assert_eq!(
            sim.get(&target).map(|v| v.as_slice()),
            Some(IMAGE),
            "{name} through Reporter"
        );

        // Integrated: decrypted from the envelope.
        let mut sim = sim::Sim::new();
        run(&build(info, "#fw", Some(payload)), &mut sim, Some(kek)).unwrap();
        assert_eq!(
            sim.get(&target).map(|v| v.as_slice()),
            Some(IMAGE),
            "{name}"
        );

        // No key, a wrong key: refused before the component is written.
        let mut sim = served(payload);
        assert_eq!(
            run(&env, &mut sim, None),
            Err(Error::Unsupported(Unsupported::Encryption)),
            "{name}"
        );
        assert_eq!(sim.get(&target), None, "{name}");
        let wrong_d = {
            let mut w = d.clone();
            w[0] ^= 1;
            w
        };
        let wrong = match kek {
            Kek::A128Kw(_) => Kek::A128Kw(b"bbbbbbbbbbbbbbbb"),
            Kek::EcdhEsP256(_) => Kek::EcdhEsP256(&wrong_d),
        };
        let mut sim = served(payload);
        assert_eq!(
            run(&env, &mut sim, Some(wrong)),
            Err(Error::Core(CoreError::BadTag)),
            "{name}"
        );
        assert_eq!(sim.get(&target), None, "{name}");
        assert!(sim.flash.sequence.is_empty());

        // A flipped bit in the ciphertext, and (GCM) in the tag.
        let gcm = name.ends_with("gcm");
        let flips: &[usize] = if gcm { &[3, payload.len() - 1] } else { &[3] };
        for &at in flips {
            let mut bad = payload.clone();
            bad[at] ^= 0x80;
            let mut sim = served(&bad);
            let expected = if gcm {
                Error::Core(CoreError::BadTag)
            } else {
                Error::ConditionFailed(Command::ImageMatch)
            };
            assert_eq!(run(&env, &mut sim, Some(kek)), Err(expected), "{name} {at}");
            if gcm {
                // Written while decrypting, cleared when the tag failed.
                assert_eq!(
                    sim.get(&target).map(|v| v.as_slice()),
                    Some(&[][..]),
                    "{name}"
                );
            } else {
                assert_ne!(
                    sim.get(&target).map(|v| v.as_slice()),
                    Some(IMAGE),
                    "{name}"
                );
            }
            assert!(sim.flash.sequence.is_empty(), "{name}");
        }
        // A GCM payload cut short of its tag: refused, the component cleared.
        if gcm {
            let mut sim = served(&payload[..payload.len() - 20]);
            assert_eq!(
                run(&env, &mut sim, Some(kek)),
                Err(Error::Core(CoreError::BadTag))
            );
            assert_eq!(
                sim.get(&target).map(|v| v.as_slice()),
                Some(&[][..]),
                "{name}"
            );
        }
    }
}

/// The sender's side (`builder::encrypt`): the draft's A128KW examples come out byte for byte from
/// their content key and IV (AES-KW and both content modes are deterministic); ECDH-ES + A128KW,
/// whose ephemeral key the draft does not publish, gives the examples' layout and decrypts with
/// the device's key through the decryptor above; random keys and IVs differ from call to call.
mod build {
    use super::*;
    use iot_core::cose::{Algorithm, CoseEncrypt};
    use iot_core::crypto::{AesKeyWrap, P256SigningKey};
    use iot_update_manifest::builder::encrypt::{Encryption, KeyDistribution, encrypt};

    fn content_of(name: &str) -> Algorithm {
        if name.ends_with("gcm") {
            Algorithm::A128Gcm
        } else {
            Algorithm::A128Ctr
        }
    }

    #[test]
    fn draft_a128kw_examples_byte_for_byte() {
        let Some(cases) = draft_cases() else { return };
        let mut checked = 0;
        for (name, info, payload) in cases.iter().filter(|c| c.0.starts_with("aes-kw")) {
            let msg = CoseEncrypt::decode(info).unwrap();
            let iv = msg.headers.iv().unwrap();
            let wrapped = msg.recipients.iter().next().unwrap().ciphertext.unwrap();
            let mut cek = [0u8; 16];
            crypto()
                .aes128_kw_unwrap(KW_KEY, wrapped, &mut cek)
                .unwrap();
            let how = Encryption {
                content: content_of(name),
                distribution: KeyDistribution::A128Kw { kek: KW_KEY },
                kid: Some(b"kid-1"),
                cek: Some(&cek),
                iv: Some(iv),
            };
            let out = encrypt(&mut RustCrypto::from_os(), IMAGE, &how).unwrap();
            assert_eq!(hex::encode(&out.info), hex::encode(info), "{name}");
            assert_eq!(hex::encode(&out.ciphertext), hex::encode(payload), "{name}");
            checked += 1;
        }
        assert_eq!(checked, 2);
    }

    #[test]
    fn ecdh_es_payloads_decrypt_with_the_device_key() {
        let d = esdh();
        let public = P256SigningKey::from_bytes(&d)
            .unwrap()
            .verifying_key()
            .to_sec1_uncompressed();
        let cases = draft_cases();
        for content in [Algorithm::A128Gcm, Algorithm::A128Ctr] {
            let how = Encryption {
                content,
                distribution: KeyDistribution::EcdhEsA128Kw {
                    recipient: &public,
                    ephemeral: None,
                },
                kid: None,
                cek: None,
                iv: None,
            };
            let mut rng = RustCrypto::from_os();
            let out = encrypt(&mut rng, IMAGE, &how).unwrap();
            let again = encrypt(&mut rng, IMAGE, &how).unwrap();
            assert_ne!(out, again, "fresh ephemeral key, content key and IV");
            let mut buf = out.ciphertext.clone();
            let n =
                decrypt_in_place(&mut crypto(), &out.info, &Kek::EcdhEsP256(&d), &mut buf).unwrap();
            assert_eq!(&buf[..n], IMAGE);
            // Another device key, or the A128KW key, does not open it.
            let mut other = d.clone();
            other[31] ^= 1;
            let mut buf = out.ciphertext.clone();
            assert!(
                decrypt_in_place(&mut crypto(), &out.info, &Kek::EcdhEsP256(&other), &mut buf)
                    .is_err()
            );
            let mut buf = out.ciphertext.clone();
            assert_eq!(
                decrypt_in_place(&mut crypto(), &out.info, &Kek::A128Kw(KW_KEY), &mut buf),
                Err(Error::Core(CoreError::AlgorithmMismatch))
            );
            // The draft example's layout: same length, headers and algorithms.
            if let Some(cases) = &cases {
                let name = match content {
                    Algorithm::A128Gcm => "es-ecdh-aes-gcm",
                    _ => "es-ecdh-aes-ctr",
                };
                let (_, info, _) = cases.iter().find(|c| c.0 == name).unwrap();
                let ours = CoseEncrypt::decode(&out.info).unwrap();
                let theirs = CoseEncrypt::decode(info).unwrap();
                assert_eq!(out.info.len(), info.len(), "{name}");
                assert_eq!(
                    ours.headers.protected_raw, theirs.headers.protected_raw,
                    "{name}"
                );
                assert_eq!(ours.alg().unwrap(), theirs.alg().unwrap(), "{name}");
                let (r, t) = (
                    ours.recipients.iter().next().unwrap(),
                    theirs.recipients.iter().next().unwrap(),
                );
                assert_eq!(r.headers.protected_raw, t.headers.protected_raw, "{name}");
                assert_eq!(r.alg().unwrap(), Algorithm::EcdhEsA128Kw);
            }
        }
    }

    #[test]
    fn given_values_are_checked() {
        let mut how = Encryption {
            content: Algorithm::A128Gcm,
            distribution: KeyDistribution::A128Kw { kek: KW_KEY },
            kid: None,
            cek: Some(&[1; 15]),
            iv: Some(&[2; 12]),
        };
        assert!(
            encrypt(&mut RustCrypto::from_os(), IMAGE, &how).is_err(),
            "short content key"
        );
        how.cek = Some(&[1; 16]);
        how.iv = Some(&[2; 16]);
        assert!(
            encrypt(&mut RustCrypto::from_os(), IMAGE, &how).is_err(),
            "GCM takes a 12-byte IV"
        );
        how.content = Algorithm::A128Kw;
        assert!(
            encrypt(&mut RustCrypto::from_os(), IMAGE, &how).is_err(),
            "not a content algorithm"
        );
        how.content = Algorithm::A128Ctr;
        how.distribution = KeyDistribution::A128Kw { kek: &[0; 8] };
        assert!(
            encrypt(&mut RustCrypto::from_os(), IMAGE, &how).is_err(),
            "short KEK"
        );
        how.distribution = KeyDistribution::EcdhEsA128Kw {
            recipient: &[4; 65],
            ephemeral: Some(&[1; 32]),
        };
        assert!(
            encrypt(&mut RustCrypto::from_os(), IMAGE, &how).is_err(),
            "not a curve point"
        );
    }
}
