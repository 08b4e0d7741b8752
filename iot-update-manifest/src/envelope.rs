//! SUIT_Envelope decoding and authentication (draft-ietf-suit-manifest "Envelope" and "Authenticated Manifests").

use crate::cbor::{Cur, Items, Wrapped};
use crate::digest::SuitDigest;
use crate::error::{Capacity, Error, MapKind, Result};
use crate::manifest::{BSTR_MEMBERS, Manifest, SEVERED, envelope_key};
use crate::{MAX_AUTHENTICATION_BLOCKS, MAX_INTEGRATED_PAYLOADS};
use iot_core::cbor::Reader;
use iot_core::cose::{Algorithm, CoseSign1, tag};
#[cfg(feature = "mac")]
use iot_core::cose::{CoseMac0, SymmetricKey};
use iot_core::crypto::{HmacSha256, SHA256_LEN, Sha256, Verifier};
use minicbor::data::Type;

/// CBOR tag of `SUIT_Envelope_Tagged` ("Envelope").
pub const ENVELOPE_TAG: u64 = 107;

/// A decoded SUIT_Envelope, borrowing from its input. Nothing of the manifest has been read:
/// [`Envelope::authenticate`] is the only way on to the [`Manifest`].
#[derive(Debug, Clone)]
pub struct Envelope<'a> {
    tagged: bool,
    /// The content of the digest bstr: the encoded SUIT_Digest, the COSE payload.
    digest_encoded: &'a [u8],
    digest: SuitDigest<'a>,
    blocks: heapless::Vec<Wrapped<'a>, MAX_AUTHENTICATION_BLOCKS>,
    /// The members read as byte strings, by [`BSTR_MEMBERS`] slot.
    bstrs: [Option<Wrapped<'a>>; BSTR_MEMBERS.len()],
    /// The envelope map's members, where the integrated payloads are looked up.
    members: Items<'a>,
}

impl<'a> Envelope<'a> {
    /// Decodes a whole envelope (tag 107 or untagged): the authentication wrapper, the manifest
    /// as bytes, severable members and integrated payloads. Trailing bytes are an error.
    /// Not inlined, so that its locals are not on the stack during the signature check.
    #[inline(never)]
    pub fn decode(input: &'a [u8]) -> Result<Self> {
        let mut c = Cur::new(input, 0);
        let tagged = match c.opt_tag()? {
            None => false,
            Some(ENVELOPE_TAG) => true,
            Some(t) => return Err(Error::Core(iot_core::Error::wrong_tag(t))),
        };
        let n = c.map()?;
        let start = c.position();
        let mut seen = 0u64;
        let mut bstrs = [None; BSTR_MEMBERS.len()];
        // Only the names are kept, for the duplicate check; the payloads are found again
        // through `members` when asked for.
        let mut integrated = heapless::Vec::<&str, MAX_INTEGRATED_PAYLOADS>::new();
        // One counter for the loop and the members' count: each member takes bytes of the
        // input, so it stays far below `usize::MAX`.
        let mut count = 0usize;
        while (count as u64) < n {
            count += 1;
            if c.datatype()? == Type::String {
                // SUIT_Integrated_Payload / SUIT_Integrated_Dependency: tstr => bstr.
                let at = c.position();
                let name = c.str()?;
                c.bytes()?;
                if integrated.contains(&name) {
                    return Err(c_dup(at));
                }
                integrated
                    .push(name)
                    .map_err(|_| Error::CapacityExceeded(Capacity::IntegratedPayloads))?;
                continue;
            }
            let key = c.key(&mut seen)?;
            // Every other member is a byte string: one read, stored by slot.
            let slot = BSTR_MEMBERS
                .iter()
                .position(|&k| i64::from(k) == key)
                .and_then(|i| bstrs.get_mut(i))
                .ok_or(Error::UnknownMember {
                    map: MapKind::Envelope,
                    key: iot_core::Error::label(key),
                })?;
            *slot = Some(c.wrapped()?);
        }
        let members = c.items_since(start, count)?;
        c.finish()?;
        let missing = |key| Error::MissingMember {
            map: MapKind::Envelope,
            key: iot_core::Error::label(key),
        };
        let [wrapper, manifest, ..] = bstrs;
        let wrapper = wrapper.ok_or(missing(envelope_key::AUTHENTICATION_WRAPPER))?;
        manifest.ok_or(missing(envelope_key::MANIFEST))?;
        let (digest_encoded, digest, blocks) = decode_wrapper(wrapper)?;
        Ok(Self {
            tagged,
            digest_encoded,
            digest,
            blocks,
            bstrs,
            members,
        })
    }

    /// Whether the envelope carried tag 107.
    pub fn is_tagged(&self) -> bool {
        self.tagged
    }

    /// The SUIT_Digest of the manifest, as the (not yet verified) authentication wrapper states it.
    pub fn digest(&self) -> SuitDigest<'a> {
        self.digest
    }

    /// The number of authentication blocks.
    pub fn authentication_blocks(&self) -> usize {
        self.blocks.len()
    }

    /// The content of `suit-delegation` (draft-ietf-suit-trust-domains), as received: with
    /// feature `delegation`, [`Envelope::authenticate`] verifies its chains
    /// ([`crate::delegation`]); without it the member is not used.
    pub fn delegation(&self) -> Option<&'a [u8]> {
        self.bstrs[2].map(|w| w.content())
    }

    /// `suit-delegation` decoded (feature `delegation`), its CBOR errors at their offsets in the
    /// envelope; `None` without the member. Nothing is verified here.
    #[cfg(feature = "delegation")]
    pub fn delegation_chains(&self) -> Result<Option<crate::delegation::Delegation<'a>>> {
        self.bstrs[2]
            .map(crate::delegation::Delegation::decode_wrapped)
            .transpose()
    }

    /// The manifest bstr (present: [`Envelope::decode`] checked it).
    fn manifest(&self) -> Wrapped<'a> {
        self.bstrs[1].unwrap_or_default()
    }

    /// Authenticates the manifest ("Authenticated Manifests") and then decodes it.
    ///
    /// One authentication block must verify under one of `anchors`: a COSE_Sign1 (ES256 or
    /// ESP256) under a P-256 key, or (feature `mac`) a COSE_Mac0 (HMAC 256/256) under a MAC key, each over the
    /// encoded SUIT_Digest as its detached payload. Then the SHA-256 of the manifest bstr (head
    /// included) must equal that digest (compared in constant time). Only then is the manifest
    /// decoded, severed members checked against their digests, and the result returned.
    ///
    /// With feature `delegation`, a `suit-delegation` member is verified first, every chain of
    /// it ([`crate::delegation::Delegation::verify`]: a chain that does not hold refuses the
    /// envelope, [`Error::Delegation`]); the key each chain's last CWT confirms then verifies
    /// COSE_Sign1 blocks as the trust anchors do, after them.
    pub fn authenticate<C, V>(
        &self,
        crypto: &mut C,
        anchors: &mut TrustAnchors<'_, V>,
    ) -> Result<AuthenticatedManifest<'a>>
    where
        C: Sha256 + HmacSha256,
        V: Verifier,
    {
        if self.blocks.is_empty() {
            return Err(Error::NoAuthenticationBlock);
        }
        #[cfg(feature = "delegation")]
        let mut delegated = match self.delegation_chains()? {
            Some(d) => d.verify(crypto, anchors.verifiers, anchors.now)?,
            None => crate::delegation::DelegatedKeys::new(),
        };
        let mut failure: Option<Error> = None;
        let mut block = None;
        for (i, b) in self.blocks.iter().enumerate() {
            match self.verify_block(
                crypto,
                anchors,
                #[cfg(feature = "delegation")]
                &mut delegated,
                b,
            ) {
                Ok(()) => {
                    block = Some(i);
                    break;
                }
                Err(e) => {
                    if failure.is_none_or(|f| rank(e) >= rank(f)) {
                        failure = Some(e);
                    }
                }
            }
        }
        let Some(block) = block else {
            return Err(failure.unwrap_or(Error::NoAuthenticationBlock));
        };
        self.authenticated(crypto, block)
    }

    /// The rest of [`Envelope::authenticate`] once authentication block `block` verified: the
    /// manifest's digest check, then its decoding.
    fn authenticated<C: Sha256>(
        &self,
        crypto: &mut C,
        block: usize,
    ) -> Result<AuthenticatedManifest<'a>> {
        let m = self.manifest();
        self.digest
            .check(crypto, m.encoded, Error::DigestMismatch)?;
        let manifest = Manifest::decode(m, self.bstrs.get(SEVERED..).unwrap_or_default(), crypto)?;
        Ok(AuthenticatedManifest {
            manifest,
            digest: self.digest,
            block,
            members: self.members,
        })
    }

    /// Not inlined: the signature check's large frame then does not add to the manifest
    /// decoding's, which follows it.
    #[inline(never)]
    fn verify_block<C, V>(
        &self,
        crypto: &mut C,
        anchors: &mut TrustAnchors<'_, V>,
        #[cfg(feature = "delegation")] delegated: &mut [iot_core::crypto::P256VerifyingKey],
        block: &Wrapped<'a>,
    ) -> Result<()>
    where
        C: Sha256 + HmacSha256,
        V: Verifier,
    {
        let not_auth = |e: iot_core::Error| match crate::cbor::rebase(e, block.base) {
            Error::Core(e) => Error::NotAuthenticated(e),
            other => other,
        };
        let peek = Reader::new(block.content()).opt_tag().map_err(not_auth)?;
        match peek {
            Some(tag::SIGN1) => {
                let msg = CoseSign1::decode(block.content()).map_err(not_auth)?;
                if anchors.verifiers.is_empty() {
                    return Err(Error::NoTrustedKey);
                }
                let verified = self.verify_sign1(crypto, &msg, anchors.verifiers);
                #[cfg(feature = "delegation")]
                let verified = verified.or_else(|e| {
                    if delegated.is_empty() {
                        Err(e)
                    } else {
                        self.verify_sign1(crypto, &msg, delegated)
                    }
                });
                verified.map_err(Error::NotAuthenticated)
            }
            #[cfg(feature = "mac")]
            Some(tag::MAC0) => {
                let msg = CoseMac0::decode(block.content()).map_err(not_auth)?;
                if anchors.mac_keys.is_empty() {
                    return Err(Error::NoTrustedKey);
                }
                let mut last = iot_core::Error::BadTag;
                for key in anchors.mac_keys {
                    match msg.verify_detached(crypto, key, self.digest_encoded, &[]) {
                        Ok(()) => return Ok(()),
                        Err(e) => last = e,
                    }
                }
                Err(Error::NotAuthenticated(last))
            }
            other => Err(Error::UnsupportedAuthenticationBlock(
                other.map(iot_core::Error::uint),
            )),
        }
    }
}

impl Envelope<'_> {
    /// Verifies a COSE_Sign1 block (over the encoded SUIT_Digest) under one of `keys`, or
    /// returns the last failure.
    fn verify_sign1<C: Sha256, K: Verifier>(
        &self,
        crypto: &mut C,
        msg: &CoseSign1<'_>,
        keys: &mut [K],
    ) -> core::result::Result<(), iot_core::Error> {
        let mut last = iot_core::Error::BadSignature;
        for key in keys.iter_mut() {
            match msg.verify_detached(crypto, key, self.digest_encoded, &[]) {
                Ok(()) => return Ok(()),
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}

/// [`Envelope::decode`] then [`Envelope::authenticate`]; when `verified` names the block that
/// verified on these very bytes earlier (a dependency manifest read again, [`crate::process`]),
/// the signature check is not repeated: the manifest's digest is checked and it is decoded.
/// The decoded envelope is borrowed where it lies rather than moved out of its `Result` (`?`),
/// which would give it a second place on the caller's stack. Not inlined: its frame (the
/// signature check's included) is then on the stack only while a manifest authenticates, not
/// under the whole processing that follows.
#[inline(never)]
pub(crate) fn decode_and_authenticate<'a, C, V>(
    input: &'a [u8],
    crypto: &mut C,
    anchors: &mut TrustAnchors<'_, V>,
    verified: Option<usize>,
) -> Result<AuthenticatedManifest<'a>>
where
    C: Sha256 + HmacSha256,
    V: Verifier,
{
    match (&Envelope::decode(input), verified) {
        (Ok(envelope), None) => envelope.authenticate(crypto, anchors),
        (Ok(envelope), Some(block)) => envelope.authenticated(crypto, block),
        (Err(e), _) => Err(*e),
    }
}

/// Which failure to report when no block verified: a real verification failure first.
fn rank(e: Error) -> u8 {
    match e {
        Error::NotAuthenticated(_) => 3,
        Error::NoTrustedKey => 2,
        _ => 1,
    }
}

fn c_dup(at: usize) -> Error {
    Error::Core(iot_core::Error::cbor(iot_core::CborError::DuplicateKey, at))
}

type Blocks<'a> = heapless::Vec<Wrapped<'a>, MAX_AUTHENTICATION_BLOCKS>;

/// `SUIT_Authentication = [bstr .cbor SUIT_Digest, * bstr .cbor SUIT_Authentication_Block]`.
/// Inlined into [`Envelope::decode`], its one caller: out of line, its digest and blocks came
/// back through a `Result` in memory and were copied again (164 B more on thumbv7em).
#[inline(always)]
fn decode_wrapper(w: Wrapped<'_>) -> Result<(&[u8], SuitDigest<'_>, Blocks<'_>)> {
    let mut c = w.cursor();
    let at = c.position();
    let n = c.array()?;
    if n == 0 {
        return Err(Error::Core(iot_core::Error::cbor(
            iot_core::CborError::UnexpectedType,
            at,
        )));
    }
    let digest_w = c.wrapped()?;
    let digest = SuitDigest::decode_all(digest_w.cursor())?;
    let mut blocks = heapless::Vec::new();
    for _ in 1..crate::cbor::count(n) {
        blocks
            .push(c.wrapped()?)
            .map_err(|_| Error::CapacityExceeded(Capacity::AuthenticationBlocks))?;
    }
    c.finish()?;
    Ok((digest_w.content(), digest, blocks))
}

/// The keys an envelope may be authenticated under: P-256 public keys for COSE_Sign1 and
/// (feature `mac`) HMAC 256/256 keys for COSE_Mac0.
#[derive(Debug)]
pub struct TrustAnchors<'k, V> {
    verifiers: &'k mut [V],
    #[cfg(feature = "mac")]
    mac_keys: &'k [SymmetricKey<'k>],
    #[cfg(feature = "delegation")]
    now: Option<u64>,
}

impl<'k, V: Verifier> TrustAnchors<'k, V> {
    /// Signature keys and MAC keys (feature `mac`).
    #[cfg(feature = "mac")]
    pub fn new(verifiers: &'k mut [V], mac_keys: &'k [SymmetricKey<'k>]) -> Self {
        Self {
            verifiers,
            mac_keys,
            #[cfg(feature = "delegation")]
            now: None,
        }
    }

    /// Signature keys only.
    pub fn signers(verifiers: &'k mut [V]) -> Self {
        Self {
            verifiers,
            #[cfg(feature = "mac")]
            mac_keys: &[],
            #[cfg(feature = "delegation")]
            now: None,
        }
    }

    /// The device's time from a clock it trusts (seconds since the Unix epoch), against which
    /// delegation CWTs' `exp` and `nbf` are checked; `None` (the default) for a device without a
    /// clock, which refuses a CWT that carries either ([`crate::delegation`]). Without feature
    /// `delegation` nothing reads the time.
    #[must_use]
    #[cfg_attr(not(feature = "delegation"), allow(unused_mut))]
    pub fn at_time(mut self, now: Option<u64>) -> Self {
        #[cfg(feature = "delegation")]
        {
            self.now = now;
        }
        #[cfg(not(feature = "delegation"))]
        let _ = now;
        self
    }
}

#[cfg(feature = "mac")]
impl<'k> TrustAnchors<'k, NoVerifier> {
    /// MAC keys only.
    pub fn macs(mac_keys: &'k [SymmetricKey<'k>]) -> Self {
        Self::new(&mut [], mac_keys)
    }
}

/// The verifier type of [`TrustAnchors::macs`], which has no signature keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoVerifier {}

impl Verifier for NoVerifier {
    fn algorithm(&self) -> Option<Algorithm> {
        match *self {}
    }
    fn verify_digest(&mut self, _: &[u8; SHA256_LEN], _: &[u8]) -> iot_core::Result<()> {
        match *self {}
    }
}

/// A manifest whose envelope authenticated ("Authenticated Manifests"), decoded and validated. The only way to
/// a [`Manifest`] is [`Envelope::authenticate`].
#[derive(Debug, Clone)]
pub struct AuthenticatedManifest<'a> {
    manifest: Manifest<'a>,
    digest: SuitDigest<'a>,
    block: usize,
    /// The envelope's members (validated by [`Envelope::decode`]), for the integrated payloads.
    members: Items<'a>,
}

impl<'a> AuthenticatedManifest<'a> {
    /// The manifest.
    pub fn manifest(&self) -> &Manifest<'a> {
        &self.manifest
    }

    /// The manifest's verified SUIT_Digest (what reports and dependency checks name it by).
    pub fn digest(&self) -> SuitDigest<'a> {
        self.digest
    }

    /// The index of the authentication block that verified.
    pub fn authenticated_by(&self) -> usize {
        self.block
    }

    /// The integrated payload (or dependency) named `name` (a URI such as `"#tc"`). These bytes
    /// are not covered by the signature: they are trusted only once an image digest matches them.
    pub fn integrated_payload(&self, name: &str) -> Option<&'a [u8]> {
        self.integrated_payloads()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }

    /// Every integrated payload and dependency, as `(name, bytes)`, in envelope order.
    pub fn integrated_payloads(&self) -> impl Iterator<Item = (&'a str, &'a [u8])> + use<'a> {
        let mut c = self.members.cursor();
        // Validated when the envelope was decoded: every member is read again as it was then.
        (0..self.members.count).filter_map(move |_| {
            if c.datatype().ok()? == Type::String {
                Some((c.str().ok()?, c.bytes().ok()?))
            } else {
                c.skip().ok()?;
                c.skip().ok()?;
                None
            }
        })
    }
}
