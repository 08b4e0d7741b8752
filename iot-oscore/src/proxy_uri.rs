//! Proxy-Uri decomposition (RFC 8613 section 4.1.3.3): the sender splits a Proxy-Uri into
//! Proxy-Scheme, Uri-Host and Uri-Port, recomposed into an Outer Proxy-Uri, and Uri-Path and
//! Uri-Query, which become Inner options (decomposition as in RFC 7252 section 6.4).

use crate::coap::{OptionNumber, OptionValue, hex_digit};
use crate::error::{Error, Result};

/// A Proxy-Uri split into its outer part and its inner Uri-Path and Uri-Query options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyUri<'a> {
    outer: &'a [u8],
    path: &'a [u8],
    query: Option<&'a [u8]>,
}

/// Checks that every `%` in `s` starts a two-hex-digit escape (RFC 3986 section 2.1).
fn valid_escapes(s: &[u8]) -> bool {
    let mut i = s.iter();
    while let Some(&c) = i.next() {
        if c == b'%' {
            let ok = matches!((i.next(), i.next()), (Some(&h), Some(&l)) if hex_digit(h).is_some() && hex_digit(l).is_some());
            if !ok {
                return false;
            }
        }
    }
    true
}

impl<'a> ProxyUri<'a> {
    /// Splits an absolute URI `scheme://authority[/path][?query]`. A fragment, a missing scheme or
    /// authority, or a bad percent escape fails with [`Error::InvalidProxyUri`].
    pub fn parse(uri: &'a [u8]) -> Result<Self> {
        if uri.contains(&b'#') {
            return Err(Error::InvalidProxyUri);
        }
        let scheme_end = uri
            .windows(3)
            .position(|w| w == b"://")
            .ok_or(Error::InvalidProxyUri)?;
        let scheme = uri.get(..scheme_end).ok_or(Error::InvalidProxyUri)?;
        let scheme_ok = scheme.first().is_some_and(u8::is_ascii_alphabetic)
            && scheme
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'));
        if !scheme_ok {
            return Err(Error::InvalidProxyUri);
        }
        let after_scheme = scheme_end + 3;
        let rest = uri.get(after_scheme..).ok_or(Error::InvalidProxyUri)?;
        let authority_len = rest
            .iter()
            .position(|&c| c == b'/' || c == b'?')
            .unwrap_or(rest.len());
        if authority_len == 0 {
            return Err(Error::InvalidProxyUri);
        }
        let (authority, rest) = rest.split_at(authority_len);
        let (path, query) = match rest.iter().position(|&c| c == b'?') {
            Some(q) => (
                rest.get(..q).unwrap_or_default(),
                Some(rest.get(q + 1..).unwrap_or_default()),
            ),
            None => (rest, None),
        };
        if !valid_escapes(path) || !query.is_none_or(valid_escapes) {
            return Err(Error::InvalidProxyUri);
        }
        // The outer Proxy-Uri is "scheme://host[:port]" with a default port left out (RFC 7252 section 6.5).
        let default_port: &[u8] = if scheme.eq_ignore_ascii_case(b"coap") {
            b":5683"
        } else if scheme.eq_ignore_ascii_case(b"coaps") {
            b":5684"
        } else {
            b""
        };
        let mut outer_len = after_scheme + authority.len();
        if !default_port.is_empty() && authority.ends_with(default_port) {
            outer_len -= default_port.len();
        } else if authority.ends_with(b":") {
            outer_len -= 1;
        }
        Ok(Self {
            outer: uri.get(..outer_len).ok_or(Error::InvalidProxyUri)?,
            path,
            query,
        })
    }

    /// The Outer Proxy-Uri value: the composition of Proxy-Scheme, Uri-Host and Uri-Port.
    pub fn outer(&self) -> &'a [u8] {
        self.outer
    }

    /// The Inner options in order: one Uri-Path per path segment, then one Uri-Query per
    /// `&`-separated query argument, each still percent-encoded.
    pub(crate) fn inner_options(
        &self,
    ) -> impl Iterator<Item = (OptionNumber, OptionValue<'a>)> + use<'a> {
        // An empty path or "/" gives no Uri-Path (RFC 7252 section 6.4 step 8).
        let segments = match self.path {
            [] | [b'/'] => None,
            [b'/', rest @ ..] => Some(rest),
            other => Some(other),
        };
        let paths = segments
            .into_iter()
            .flat_map(|s| s.split(|&c| c == b'/'))
            .map(|s| (OptionNumber::URI_PATH, OptionValue::PercentEncoded(s)));
        let queries = self
            .query
            .into_iter()
            .flat_map(|q| q.split(|&c| c == b'&'))
            .map(|s| (OptionNumber::URI_QUERY, OptionValue::PercentEncoded(s)));
        paths.chain(queries)
    }
}
