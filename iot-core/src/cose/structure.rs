//! The to-be-authenticated structures (RFC 9052 sections 4.4, 5.3 and 6.3), written piece by piece
//! into a hash, MAC or AEAD so that no buffer ever holds one whole.

use crate::cbor::{SliceWriter, enc_err};
use crate::error::{Error, Result};
use minicbor::encode::{Encoder, Write};

/// A [`Write`] that hands every piece to a closure (a hash or MAC update).
pub(crate) struct Feed<F: FnMut(&[u8])>(pub F);

impl<F: FnMut(&[u8])> Write for Feed<F> {
    type Error = core::convert::Infallible;
    fn write_all(&mut self, buf: &[u8]) -> core::result::Result<(), Self::Error> {
        (self.0)(buf);
        Ok(())
    }
}

/// Writes `Sig_structure` (RFC 9052 section 4.4): `[context, body_protected, ? sign_protected,
/// external_aad, payload]`, with `sign_protected` only for the "Signature" context of COSE_Sign.
pub fn write_sig_structure<W: Write>(
    w: W,
    context: &str,
    body_protected: &[u8],
    sign_protected: Option<&[u8]>,
    external_aad: &[u8],
    payload: &[u8],
) -> core::result::Result<(), minicbor::encode::Error<W::Error>> {
    write_structure(
        w,
        context,
        [
            Some(body_protected),
            sign_protected,
            Some(external_aad),
            Some(payload),
        ],
    )
}

/// Writes `MAC_structure` (RFC 9052 section 6.3): `[context, protected, external_aad, payload]`.
pub fn write_mac_structure<W: Write>(
    w: W,
    context: &str,
    protected: &[u8],
    external_aad: &[u8],
    payload: &[u8],
) -> core::result::Result<(), minicbor::encode::Error<W::Error>> {
    write_structure(
        w,
        context,
        [Some(protected), None, Some(external_aad), Some(payload)],
    )
}

/// Writes the array `[context, fields...]` of the fields present, each a bstr: the shape that
/// `Sig_structure` and `MAC_structure` share.
fn write_structure<W: Write>(
    mut w: W,
    context: &str,
    fields: [Option<&[u8]>; 4],
) -> core::result::Result<(), minicbor::encode::Error<W::Error>> {
    let present = fields.iter().flatten().count() as u64;
    write_head(&mut w, 4, 1 + present).map_err(minicbor::encode::Error::write)?;
    write_string(&mut w, 3, context.as_bytes())?;
    for field in fields.into_iter().flatten() {
        write_string(&mut w, 2, field)?;
    }
    Ok(())
}

/// Writes a definite-length string of major type `major` (2 or 3): its head, then `content`.
fn write_string<W: Write>(
    w: &mut W,
    major: u8,
    content: &[u8],
) -> core::result::Result<(), minicbor::encode::Error<W::Error>> {
    write_head(w, major, content.len() as u64)
        .and_then(|()| w.write_all(content))
        .map_err(minicbor::encode::Error::write)
}

/// `Enc_structure` (RFC 9052 section 5.3) as four pieces for an AEAD's associated data: two small
/// CBOR heads kept here, and the protected bytes and external AAD borrowed from where they are.
#[derive(Debug)]
pub struct EncStructure<'a> {
    head: [u8; 32],
    head_len: usize,
    protected: &'a [u8],
    aad_head: [u8; 9],
    aad_head_len: usize,
    external_aad: &'a [u8],
}

impl<'a> EncStructure<'a> {
    /// `["Encrypt0" | "Encrypt" | ..., protected, external_aad]`; `context` is at most 20 bytes.
    pub fn new(context: &str, protected: &'a [u8], external_aad: &'a [u8]) -> Result<Self> {
        let mut head = [0u8; 32];
        let mut w = SliceWriter::new(&mut head);
        Encoder::new(&mut w)
            .array(3)
            .and_then(|e| e.str(context))
            .map_err(enc_err)?;
        write_head(&mut w, 2, protected.len() as u64)?;
        let head_len = w.len();
        let mut aad_head = [0u8; 9];
        let mut w = SliceWriter::new(&mut aad_head);
        write_head(&mut w, 2, external_aad.len() as u64)?;
        let aad_head_len = w.len();
        Ok(Self {
            head,
            head_len,
            protected,
            aad_head,
            aad_head_len,
            external_aad,
        })
    }

    /// The pieces, in order.
    pub fn pieces(&self) -> [&[u8]; 4] {
        [
            self.head.get(..self.head_len).unwrap_or_default(),
            self.protected,
            self.aad_head.get(..self.aad_head_len).unwrap_or_default(),
            self.external_aad,
        ]
    }

    /// Writes the whole structure to `w` (for tests and tools that show the intermediate).
    pub fn write<W: Write>(&self, mut w: W) -> core::result::Result<(), W::Error> {
        for p in self.pieces() {
            w.write_all(p)?;
        }
        Ok(())
    }
}

/// Writes a CBOR head of major type `major` with argument `arg`, in preferred (shortest) form,
/// in one piece.
pub fn write_head<W: Write>(w: &mut W, major: u8, arg: u64) -> core::result::Result<(), W::Error> {
    // The argument's bytes after the initial byte: none below 24, else 1, 2, 4 or 8.
    let n = head_len(arg) - 1;
    let info = match n {
        0 => arg as u8,
        1 => 24,
        2 => 25,
        4 => 26,
        _ => 27,
    };
    // The argument big-endian in the last eight bytes, its initial byte just before the `n` it
    // needs (with none needed, over the argument's own last byte, which it then holds).
    let mut head = [0u8; 9];
    let [_, be @ ..] = &mut head;
    *be = arg.to_be_bytes();
    let start = 8 - n;
    if let Some(initial) = head.get_mut(start) {
        *initial = major << 5 | info;
    }
    w.write_all(head.get(start..).unwrap_or_default())
}

/// Number of bytes [`write_head`] writes for `arg`.
pub const fn head_len(arg: u64) -> usize {
    match arg {
        0..=23 => 1,
        24..=0xff => 2,
        0x100..=0xffff => 3,
        0x1_0000..=0xffff_ffff => 5,
        _ => 9,
    }
}

impl From<core::convert::Infallible> for Error {
    fn from(e: core::convert::Infallible) -> Self {
        match e {}
    }
}
