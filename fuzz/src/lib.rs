//! Fixed keys for the fuzz targets: the cose-wg/Examples keys, so that seeds taken from those
//! vectors reach the successful verification and decryption paths too.

/// P-256 public key "11" (x): signs sign1-tests and ecdsa-examples.
pub const P256_X: [u8; 32] = [
    0xba, 0xc5, 0xb1, 0x1c, 0xad, 0x8f, 0x99, 0xf9, 0xc7, 0x2b, 0x05, 0xcf, 0x4b, 0x9e, 0x26, 0xd2,
    0x44, 0xdc, 0x18, 0x9f, 0x74, 0x52, 0x28, 0x25, 0x5a, 0x21, 0x9a, 0x86, 0xd6, 0xa0, 0x9e, 0xff,
];
/// P-256 public key "11" (y).
pub const P256_Y: [u8; 32] = [
    0x20, 0x13, 0x8b, 0xf8, 0x2d, 0xc1, 0xb6, 0xd5, 0x62, 0xbe, 0x0f, 0xa5, 0x4a, 0xb7, 0x80, 0x4a,
    0x3a, 0x64, 0xb6, 0xd7, 0x2c, 0xcf, 0xed, 0x6b, 0x6f, 0xb6, 0xed, 0x28, 0xbb, 0xfc, 0x11, 0x7e,
];
/// "our-secret", 256 bits: mac0-tests and hmac-examples.
pub const HMAC_KEY: [u8; 32] = [
    0x84, 0x9b, 0x57, 0x21, 0x9d, 0xae, 0x48, 0xde, 0x64, 0x6d, 0x07, 0xdb, 0xb5, 0x33, 0x56, 0x6e,
    0x97, 0x66, 0x86, 0x45, 0x7c, 0x14, 0x91, 0xbe, 0x3a, 0x76, 0xdc, 0xea, 0x6c, 0x42, 0x71, 0x88,
];
/// "sec-256": chacha-poly-examples.
pub const KEY_256: [u8; 32] = [
    0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78, 0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0,
    0x1f, 0x2e, 0x3d, 0x4c, 0x5b, 0x6a, 0x79, 0x88, 0x97, 0xa6, 0xb5, 0xc4, 0xd3, 0xe2, 0xf1, 0x00,
];
/// "our-secret", 128 bits: aes-ccm-examples, aes-gcm-examples, encrypted-tests.
pub const KEY_128: [u8; 16] = [
    0x84, 0x9b, 0x57, 0x21, 0x9d, 0xae, 0x48, 0xde, 0x64, 0x6d, 0x07, 0xdb, 0xb5, 0x33, 0x56, 0x6e,
];
/// A base IV for messages that carry a Partial IV (sliced to the AEAD's nonce length).
pub const BASE_IV: [u8; 13] = [
    0x46, 0x22, 0xd4, 0xdd, 0x6d, 0x94, 0x41, 0x68, 0xee, 0xfb, 0x54, 0x98, 0x7c,
];
/// The payload given to verifiers when a message's own is detached.
pub const DETACHED: &[u8] = b"This is the content.";
/// Largest structure buffered by the differential checks (libFuzzer's default max_len is 4096).
pub const BUF: usize = 8192;

/// OSCORE: the RFC 8613 Appendix C.1 context (with Master Salt), the client's request of C.4,
/// and an AEAD without secrets so that fuzz inputs reach the plaintext checks.
/// A signature "verifier" that accepts every signature, for targets that fuzz what lies behind
/// a COSE_Sign1 (decoding, processing), not ECDSA. It checks only that it was given a 64-byte
/// signature: the COSE layer checks the algorithm and the length before any P-256 verification.
pub struct AcceptAll;

impl iot_core::crypto::Verifier for AcceptAll {
    fn algorithm(&self) -> Option<iot_core::cose::Algorithm> {
        None
    }
    fn verify_digest(
        &mut self,
        _: &[u8; iot_core::crypto::SHA256_LEN],
        signature: &[u8],
    ) -> iot_core::Result<()> {
        assert_eq!(
            signature.len(),
            64,
            "a P-256 signature reached the verifier"
        );
        Ok(())
    }
}

pub mod oscore {
    use iot_core::cose::AeadAlgorithm;
    use iot_core::crypto::{Aead, RustCrypto, RustCryptoAeadKey};
    use iot_oscore::{ContextParams, SecurityContext};

    /// Master Secret of RFC 8613 C.1.
    pub const MASTER_SECRET: [u8; 16] = [
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
        0x10,
    ];
    /// Master Salt of RFC 8613 C.1.
    pub const MASTER_SALT: [u8; 8] = [0x9e, 0x7c, 0xa9, 0x22, 0x23, 0x78, 0x63, 0x40];
    /// The client's Sender ID (empty) and the server's (0x01), RFC 8613 C.1.
    pub const CLIENT_ID: &[u8] = b"";
    /// The server's Sender ID.
    pub const SERVER_ID: &[u8] = b"\x01";
    /// The unprotected request of RFC 8613 C.4 (GET coap://localhost/tv1).
    pub const REQUEST: &[u8] = b"\x44\x01\x5d\x1f\x00\x00\x39\x74\x39localhost\x83tv1";
    /// The same request with Observe 0 (a registration), so that notifications may answer it.
    pub const REGISTRATION: &[u8] = b"\x44\x01\x5d\x1f\x00\x00\x39\x74\x39localhost\x30\x53tv1";
    /// The Sender Sequence Number of the C.4 request (Partial IV 0x14).
    pub const REQUEST_SEQ: u64 = 20;

    /// The server's context of RFC 8613 C.1.2 (fresh replay window).
    pub fn server() -> SecurityContext {
        derive(SERVER_ID, CLIENT_ID)
    }

    /// The client's context of RFC 8613 C.1.1.
    pub fn client() -> SecurityContext {
        derive(CLIENT_ID, SERVER_ID)
    }

    fn derive(sender: &[u8], recipient: &[u8]) -> SecurityContext {
        let params =
            ContextParams::new(&MASTER_SECRET, sender, recipient).master_salt(&MASTER_SALT);
        SecurityContext::derive(&mut RustCrypto::<()>::default(), &params).unwrap()
    }

    /// An "AEAD" with no secret: encryption is the identity with an all-zero tag, and decryption
    /// accepts exactly the all-zero tag. Fuzz inputs whose tag bytes are zero thus reach
    /// everything after decryption (the inner code, options and payload) without a real key.
    /// Its keys are the RustCrypto backend's (it only reads their algorithm), so that one
    /// security context is checked with both.
    pub struct NullAead;

    impl Aead for NullAead {
        type AeadKey = RustCryptoAeadKey;

        fn aead_key(
            &mut self,
            alg: AeadAlgorithm,
            key: &[u8],
        ) -> iot_core::Result<RustCryptoAeadKey> {
            RustCrypto::<()>::default().aead_key(alg, key)
        }

        fn aead_seal(
            &mut self,
            key: &RustCryptoAeadKey,
            nonce: &[u8],
            _aad: &[&[u8]],
            _buffer: &mut [u8],
            tag: &mut [u8],
        ) -> iot_core::Result<()> {
            assert_eq!(nonce.len(), key.alg().nonce_len(), "nonce length");
            assert_eq!(tag.len(), key.alg().tag_len(), "tag length");
            tag.fill(0);
            Ok(())
        }

        fn aead_open(
            &mut self,
            key: &RustCryptoAeadKey,
            nonce: &[u8],
            _aad: &[&[u8]],
            buffer: &mut [u8],
            tag: &[u8],
        ) -> iot_core::Result<()> {
            assert_eq!(nonce.len(), key.alg().nonce_len(), "nonce length");
            if tag.len() != key.alg().tag_len() || tag.iter().any(|&b| b != 0) {
                buffer.fill(0);
                return Err(iot_core::Error::BadTag);
            }
            Ok(())
        }
    }
}

/// SUIT: builds an envelope around a manifest, authenticated with COSE_Mac0 under [`SUIT_MAC_KEY`].
pub mod suit {
    use iot_core::cose::{Mac0Builder, SymmetricKey};
    use iot_core::crypto::{RustCrypto, Sha256};
    use iot_update_manifest::text::{Text, TextEntry};
    use iot_update_manifest::{
        Argument, AuthenticatedManifest, CommandSequence, ComponentId, IndexArg, MAX_COMMANDS,
        MAX_COMPONENTS, MAX_NESTING,
    };

    /// The HMAC 256/256 key of the envelopes [`envelope`] builds.
    pub const SUIT_MAC_KEY: [u8; 32] = [0x42; 32];

    /// Appends a CBOR head (RFC 8949 section 3) of major type `major` and argument `n`.
    pub fn head(out: &mut Vec<u8>, major: u8, n: u64) {
        let m = major << 5;
        match n {
            0..=23 => out.push(m | n as u8),
            24..=0xff => out.extend([m | 24, n as u8]),
            0x100..=0xffff => {
                out.push(m | 25);
                out.extend((n as u16).to_be_bytes());
            }
            0x1_0000..=0xffff_ffff => {
                out.push(m | 26);
                out.extend((n as u32).to_be_bytes());
            }
            _ => {
                out.push(m | 27);
                out.extend(n.to_be_bytes());
            }
        }
    }

    /// Appends `bytes` as a CBOR byte string.
    pub fn bstr(out: &mut Vec<u8>, bytes: &[u8]) {
        head(out, 2, bytes.len() as u64);
        out.extend_from_slice(bytes);
    }

    /// Appends an integer map key.
    pub fn int(out: &mut Vec<u8>, v: i64) {
        if v >= 0 {
            head(out, 0, v as u64);
        } else {
            head(out, 1, !(v as u64));
        }
    }

    /// The tagged envelope `107({2: wrapper, 3: manifest, key: member...})`: the wrapper holds the
    /// SHA-256 SUIT_Digest of the manifest bstr and a detached COSE_Mac0 over it under
    /// [`SUIT_MAC_KEY`]; `severed` members go in as given (keys distinct, in order).
    pub fn envelope(manifest: &[u8], severed: &[(i64, &[u8])]) -> Vec<u8> {
        let mut crypto = RustCrypto::<()>::default();
        let mut wrapped = Vec::with_capacity(manifest.len() + 9);
        bstr(&mut wrapped, manifest);
        let mut digest = vec![0x82, 0x2f]; // [-16 (SHA-256), bstr]
        bstr(&mut digest, &crypto.sha256(&wrapped));
        let mut mac = [0u8; 128];
        let n = Mac0Builder {
            detached: true,
            ..Mac0Builder::new()
        }
        .mac(
            &mut crypto,
            &SymmetricKey::new(&SUIT_MAC_KEY),
            &digest,
            &[],
            &mut mac,
        )
        .unwrap();
        let mut wrapper = vec![0x82];
        bstr(&mut wrapper, &digest);
        bstr(&mut wrapper, &mac[..n]);

        let mut out = vec![0xd8, 107];
        head(&mut out, 5, 2 + severed.len() as u64);
        out.push(0x02);
        bstr(&mut out, &wrapper);
        out.push(0x03);
        out.extend_from_slice(&wrapped);
        for (key, value) in severed {
            int(&mut out, *key);
            bstr(&mut out, value);
        }
        out
    }

    /// Reads everything an authenticated manifest offers through its public accessors and
    /// iterators, and checks that each iterator yields as many items as its `len` says (they
    /// re-read validated bytes and stop silently on an error, so a shortfall is a decoder bug).
    pub fn walk(a: &AuthenticatedManifest<'_>) {
        let _ = (a.digest(), a.authenticated_by());
        for (name, bytes) in a.integrated_payloads() {
            assert_eq!(
                a.integrated_payload(name),
                Some(bytes),
                "integrated payload {name}"
            );
        }
        let m = a.manifest();
        let _ = (
            m.version(),
            m.sequence_number(),
            m.reference_uri(),
            m.set_version(),
        );
        let _ = m.coswid().map(|c| c.get());
        if let Some(id) = m.component_id() {
            component(id);
        }
        let common = m.common();
        let components = common.components();
        assert!(!components.is_empty());
        assert!(components.len() <= MAX_COMPONENTS);
        assert_eq!(components.iter().count(), components.len(), "components");
        for (i, id) in components.iter().enumerate() {
            assert_eq!(components.get(i), Some(id));
            component(id);
        }
        if let Some(deps) = common.dependencies() {
            assert_eq!(deps.iter().count(), deps.len(), "dependencies");
            for d in deps.iter() {
                let _ = d.index;
                if let Some(prefix) = d.prefix {
                    component(prefix);
                }
            }
        }
        let plain = [
            common.shared_sequence(),
            m.validate(),
            m.load(),
            m.invoke(),
            m.uninstall(),
        ];
        for s in plain.into_iter().flatten() {
            sequence(s, 1);
        }
        let severable = [
            m.dependency_resolution(),
            m.payload_fetch(),
            m.candidate_verification(),
            m.install(),
        ];
        for s in severable.into_iter().flatten().filter_map(|s| s.get()) {
            sequence(s, 1);
        }
        if let Some(t) = m.text().and_then(|t| t.get()) {
            text(t);
        }
    }

    fn component(id: ComponentId<'_>) {
        assert_eq!(id.segments().count(), id.len(), "component segments");
    }

    fn sequence(s: CommandSequence<'_>, depth: usize) {
        assert!(depth <= MAX_NESTING, "sequence nested {depth} deep");
        assert!(!s.is_empty() && s.len() <= MAX_COMMANDS);
        assert_eq!(s.iter().count(), s.len(), "commands");
        for (_, arg) in &s {
            match arg {
                Argument::Index(IndexArg::List(l)) => {
                    assert!(!l.is_empty() && l.len() <= MAX_COMPONENTS);
                    assert_eq!(l.iter().count(), l.len(), "component indices");
                }
                Argument::Parameters(p) => {
                    assert_eq!(p.iter().count(), p.len(), "parameters");
                    for p in p.iter() {
                        let _ = p.key();
                    }
                }
                Argument::TryEach(t) => {
                    assert!(t.len() >= 2);
                    let _ = t.has_empty_fallback();
                    assert_eq!(t.iter().count(), t.len(), "try-each sequences");
                    for s in t.iter() {
                        sequence(s, depth + 1);
                    }
                }
                Argument::Sequence(s) => sequence(s, depth + 1),
                _ => {}
            }
        }
    }

    fn text(t: Text<'_>) {
        for (tag, lang) in t.languages() {
            assert!(t.language(tag).is_some());
            for entry in lang.entries() {
                match entry {
                    TextEntry::Manifest { key, text } => {
                        // Only keys 0-63 are checked for duplicates, so `get` may find an earlier one.
                        let _ = text;
                        assert!(lang.get(key).is_some());
                    }
                    TextEntry::Component {
                        component: id,
                        texts,
                    } => {
                        component(id);
                        for (key, _) in texts.iter() {
                            assert!(texts.get(key).is_some());
                        }
                    }
                }
            }
        }
    }
}

/// PSA: the HMAC key of the RFC 9783 example token `psa-mac0` (tfm-hs-iak, 64 bytes).
pub const PSA_HMAC_KEY: [u8; 64] = [
    0xde, 0x03, 0x8b, 0x34, 0xac, 0xa1, 0x25, 0x76, 0x8c, 0x5e, 0x33, 0x57, 0xab, 0x8d, 0x06, 0xb3,
    0x67, 0xb9, 0xab, 0x0d, 0x7e, 0x8b, 0xe1, 0x24, 0xed, 0xca, 0x47, 0xfe, 0x03, 0x3a, 0x5b, 0xb7,
    0xa9, 0x3d, 0x30, 0x7f, 0xf2, 0x29, 0xaa, 0x36, 0xff, 0x24, 0x6c, 0x12, 0x95, 0x96, 0x4f, 0xac,
    0xf7, 0x1a, 0xb7, 0xaa, 0x6e, 0xc4, 0xfd, 0x61, 0x02, 0xb7, 0xb3, 0x98, 0x32, 0x55, 0xad, 0x92,
];

/// EAT: reads everything a decoded claims-set offers and checks its encoding.
pub mod attest {
    use iot_attest::{Audience, Claims, Item, MAX_SUBMOD_DEPTH, Nonce, Seq, Submodule};

    fn seq<'a, T: Item<'a>>(s: &Seq<'a, T>) -> Vec<T> {
        let items: Vec<T> = s.iter().collect();
        assert_eq!(
            items.len(),
            s.len(),
            "a Seq yields as many items as its len"
        );
        items
    }

    /// Walks every modelled claim, every array and map value, the unmodelled claims, and every
    /// nested claims-set (which must decode again: it was validated with its parent).
    pub fn walk(c: &Claims<'_>, depth: u8) {
        assert!(depth <= MAX_SUBMOD_DEPTH, "submodules nested {depth} deep");
        for claim in c.iter() {
            assert!(claim.key().is_some());
        }
        assert_eq!(c.extra.iter().count(), c.extra.len());
        if let Some(Audience::Many(s)) = &c.aud {
            seq(s);
        }
        if let Some(Nonce::Many(s)) = &c.nonce {
            assert!(seq(s).len() >= 2);
        }
        if let Some(s) = &c.sueids {
            seq(s);
        }
        if let Some(s) = &c.dloas {
            seq(s);
        }
        for s in [&c.manifests, &c.measurements].into_iter().flatten() {
            seq(s);
        }
        if let Some(s) = &c.measres {
            for group in seq(s) {
                seq(&group.results);
            }
        }
        if let Some(s) = &c.psa_software_components {
            seq(s);
        }
        if let Some(s) = &c.submods {
            for sub in seq(s) {
                match sub.module {
                    Submodule::Claims(set) => {
                        let inner = set.claims().expect("a validated submodule decodes again");
                        walk(&inner, depth + 1);
                    }
                    Submodule::Token(t) => {
                        let _ = t.tag();
                    }
                    Submodule::Digest(d) => {
                        let _ = (d.alg, d.digest);
                    }
                }
            }
        }
    }

    /// Encodes decoded claims and checks that the encoding decodes and encodes to the same bytes
    /// (the encoder is deterministic, RFC 8949 section 4.2.1, so one pass normalizes).
    pub fn reencode(c: &Claims<'_>, input_len: usize) {
        let mut first = vec![0u8; 4 * input_len + 256];
        let n = c.encode_to(&mut first).expect("decoded claims encode");
        let again = Claims::decode(&first[..n]).expect("encoded claims decode");
        let mut second = vec![0u8; n + 256];
        let m = again
            .encode_to(&mut second)
            .expect("re-decoded claims encode");
        assert_eq!(&first[..n], &second[..m], "claims encoding is not stable");
        assert!(!again.legacy_psa, "the encoder writes current keys only");
    }
}

/// iot-identity: the fixed anchors, issuer keys and sealing key of the identity targets.
pub mod identity {
    use core::cell::RefCell;
    use iot_core::cose::AeadAlgorithm;
    use iot_core::crypto::{Aead, Rng, RustCrypto, RustCryptoAeadKey, Sha256};
    use iot_identity::keystore::{P256_PUBLIC_KEY_LEN, P256PublicKey};
    use iot_identity::x509::{Certificate, P256Verify};

    /// Root CA of iot-identity/tests/data (the pinned anchor of its chains).
    pub const ROOT: &[u8] = include_bytes!("../../iot-identity/tests/data/root.der");
    /// Intermediate CA under [`ROOT`].
    pub const INTER: &[u8] = include_bytes!("../../iot-identity/tests/data/inter.der");
    /// Device leaf under [`INTER`].
    pub const LEAF: &[u8] = include_bytes!("../../iot-identity/tests/data/leaf.der");
    /// The time those tests validate at: 2026-01-01T00:00:00Z.
    pub const NOW: u64 = 1_767_225_600;

    /// open-dice's ZeroInput authority key (x || y), the issuer of its P-256 CDI certificate.
    pub const DICE_ISSUER_XY: [u8; 64] = [
        0x1f, 0x4a, 0xae, 0xfc, 0x29, 0xca, 0x41, 0x04, 0x44, 0x74, 0x48, 0xd1, 0x3a, 0x55, 0x35,
        0x13, 0xc2, 0x3a, 0xbc, 0xa2, 0xb6, 0xac, 0x3f, 0xf0, 0x63, 0xf6, 0x88, 0x8a, 0x69, 0x6d,
        0xe5, 0x39, 0x06, 0xf5, 0xd8, 0xbd, 0x69, 0x8d, 0x16, 0x88, 0xa3, 0x25, 0x0c, 0x46, 0x83,
        0xc3, 0xed, 0x4e, 0x28, 0xe2, 0xd6, 0x02, 0x41, 0x2b, 0x35, 0x3b, 0xeb, 0x04, 0x54, 0x3f,
        0xef, 0xbb, 0x3d, 0xf1,
    ];

    /// A [`RustCrypto`] whose ECDSA verifications of the fixed [`INTER`] and [`LEAF`] signatures
    /// are remembered (per key and digest: verification is a pure function of them), so that
    /// `x509_chain` does not re-verify the fixed part of its chains on every input.
    pub struct MemoVerify(pub RustCrypto<()>);

    type Memo = (
        [u8; P256_PUBLIC_KEY_LEN],
        [u8; 32],
        [u8; 64],
        iot_core::Result<()>,
    );

    std::thread_local! {
        static FIXED_SIGNATURES: Vec<[u8; 64]> = [INTER, LEAF]
            .iter()
            .map(|der| Certificate::decode(der).expect("a fixed certificate decodes").signature)
            .collect();
        static MEMO: RefCell<Vec<Memo>> = const { RefCell::new(Vec::new()) };
    }

    impl Sha256 for MemoVerify {
        type Sha256State = <RustCrypto<()> as Sha256>::Sha256State;
        fn sha256_start(&mut self) -> Self::Sha256State {
            self.0.sha256_start()
        }
        fn sha256_update(&mut self, state: &mut Self::Sha256State, data: &[u8]) {
            self.0.sha256_update(state, data)
        }
        fn sha256_finish(&mut self, state: Self::Sha256State) -> [u8; 32] {
            self.0.sha256_finish(state)
        }
    }

    impl P256Verify for MemoVerify {
        fn verify_p256(
            &mut self,
            public_key: &P256PublicKey,
            digest: &[u8; 32],
            signature: &[u8; 64],
        ) -> iot_core::Result<()> {
            if !FIXED_SIGNATURES.with(|f| f.contains(signature)) {
                return self.0.verify_p256(public_key, digest, signature);
            }
            let key = *public_key.as_sec1();
            let hit = MEMO.with(|m| {
                m.borrow()
                    .iter()
                    .find(|e| e.0 == key && &e.1 == digest && &e.2 == signature)
                    .map(|e| e.3.clone())
            });
            if let Some(result) = hit {
                return result;
            }
            let result = self.0.verify_p256(public_key, digest, signature);
            MEMO.with(|m| {
                let mut m = m.borrow_mut();
                if m.len() < 64 {
                    m.push((key, *digest, *signature, result.clone()));
                }
            });
            result
        }
    }

    /// The sealing key of the keystore target (32 bytes: ChaCha20/Poly1305).
    pub const SEALING_KEY: [u8; 32] = [0x5e; 32];

    /// The key store's backend: the RNG writes zeros, and the AEAD is
    /// [`crate::oscore::NullAead`] (an all-zero tag authenticates, the "ciphertext" is the
    /// plaintext), so that fuzz inputs reach the sealed COSE_Key checks.
    pub struct SealCrypto;

    impl Rng for SealCrypto {
        fn fill_random(&mut self, out: &mut [u8]) -> iot_core::Result<()> {
            out.fill(0);
            Ok(())
        }
    }

    impl Aead for SealCrypto {
        type AeadKey = RustCryptoAeadKey;

        fn aead_key(
            &mut self,
            alg: AeadAlgorithm,
            key: &[u8],
        ) -> iot_core::Result<RustCryptoAeadKey> {
            crate::oscore::NullAead.aead_key(alg, key)
        }

        fn aead_seal(
            &mut self,
            key: &RustCryptoAeadKey,
            nonce: &[u8],
            aad: &[&[u8]],
            buffer: &mut [u8],
            tag: &mut [u8],
        ) -> iot_core::Result<()> {
            crate::oscore::NullAead.aead_seal(key, nonce, aad, buffer, tag)
        }

        fn aead_open(
            &mut self,
            key: &RustCryptoAeadKey,
            nonce: &[u8],
            aad: &[&[u8]],
            buffer: &mut [u8],
            tag: &[u8],
        ) -> iot_core::Result<()> {
            crate::oscore::NullAead.aead_open(key, nonce, aad, buffer, tag)
        }
    }
}
