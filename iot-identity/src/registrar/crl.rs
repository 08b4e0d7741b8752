//! Certificate revocation lists for X.509 consumers (RFC 5280 section 5): v2, signed
//! ecdsa-with-SHA256 by the CA, with cRLNumber and authorityKeyIdentifier.

use super::ca::{Ca, x509_time};
use super::error::RegistrarError;
use super::inventory::RevokedEntry;
use alloc::vec::Vec;
use der::Encode;
use der::asn1::Uint;
use iot_core::crypto::Sha256;
use x509_cert::builder::CrlBuilder;
use x509_cert::certificate::Rfc5280;
use x509_cert::crl::RevokedCert;
use x509_cert::ext::pkix::CrlNumber;
use x509_cert::serial_number::SerialNumber;

/// When a CRL was made, until when it holds, and its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrlOptions {
    /// thisUpdate, seconds since the Unix epoch.
    pub this_update: u64,
    /// nextUpdate (RFC 5280 section 5.1.2.5: conforming CAs include it), if any.
    pub next_update: Option<u64>,
    /// cRLNumber (RFC 5280 section 5.2.3), increasing with every CRL the CA issues.
    pub number: u64,
}

/// Writes the DER CRL of `ca` listing `revoked` (each with its serial and revocation date).
pub fn write_crl<C: Sha256>(
    crypto: &mut C,
    ca: &mut Ca,
    revoked: &[RevokedEntry],
    options: &CrlOptions,
) -> Result<Vec<u8>, RegistrarError> {
    let number = CrlNumber(Uint::new(&options.number.to_be_bytes())?);
    let entries = revoked
        .iter()
        .map(|r| {
            Ok(RevokedCert {
                serial_number: SerialNumber::<Rfc5280>::new(&r.serial)?,
                revocation_date: x509_time(r.time)?,
                crl_entry_extensions: None,
            })
        })
        .collect::<Result<Vec<_>, RegistrarError>>()?;
    let next = options.next_update.map(x509_time).transpose()?;
    let mut builder = CrlBuilder::new_with_this_update(
        ca.certificate(),
        number,
        x509_time(options.this_update)?,
    )?
    .with_next_update(next);
    if !entries.is_empty() {
        // An empty list is left out (RFC 5280 section 5.1.2.6).
        builder = builder.with_certificates(entries.into_iter());
    }
    Ok(ca.sign(crypto, builder)?.to_der()?)
}
