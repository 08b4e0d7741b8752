//! `coap://` URIs (RFC 7252 section 6): parsed into host, port, path and query, decomposed into
//! options as section 6.4 describes.

use super::{OptionList, TransportError};
use crate::coap::OptionNumber;
use core::net::{IpAddr, SocketAddr};
use std::borrow::ToOwned;
use std::format;
use std::net::ToSocketAddrs;
use std::string::String;
use std::vec::Vec;

/// The default port of the `coap` scheme (RFC 7252 section 6.1).
pub const DEFAULT_PORT: u16 = 5683;

/// A parsed `coap://host[:port][/path][?query]` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoapUri {
    /// The host: a name, or an IP literal (IPv6 without brackets).
    pub host: String,
    /// The port (5683 when not given).
    pub port: u16,
    /// The path segments, percent-decoded.
    pub path: Vec<Vec<u8>>,
    /// The query arguments, percent-decoded.
    pub query: Vec<Vec<u8>>,
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes one segment (RFC 3986 section 2.1).
fn pct_decode(s: &str) -> Result<Vec<u8>, TransportError> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hi = bytes.next().and_then(hex_val);
            let lo = bytes.next().and_then(hex_val);
            match (hi, lo) {
                (Some(h), Some(l)) => out.push((h << 4) | l),
                _ => {
                    return Err(TransportError::Uri(format!(
                        "bad percent-encoding in '{s}'"
                    )));
                }
            }
        } else {
            out.push(b);
        }
    }
    Ok(out)
}

impl CoapUri {
    /// Parses an absolute `coap://` URI; `coaps` and other schemes are refused, and so is a
    /// fragment (RFC 7252 section 6.1).
    pub fn parse(uri: &str) -> Result<Self, TransportError> {
        let bad = |why: &str| TransportError::Uri(format!("'{uri}': {why}"));
        let (scheme, rest) = uri
            .split_once("://")
            .ok_or_else(|| bad("not an absolute URI (coap://host/path)"))?;
        if !scheme.eq_ignore_ascii_case("coap") {
            return Err(bad("only the coap scheme (CoAP over UDP) is supported"));
        }
        if rest.contains('#') {
            return Err(bad("a CoAP URI has no fragment"));
        }
        let (authority, path_query) = match rest.find(['/', '?']) {
            Some(i) => (
                rest.get(..i).unwrap_or_default(),
                rest.get(i..).unwrap_or_default(),
            ),
            None => (rest, ""),
        };
        if authority.contains('@') {
            return Err(bad("a CoAP URI has no user information"));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or_else(|| bad("unclosed '['"))?;
            (h, after)
        } else {
            match authority.rfind(':') {
                Some(i) => (
                    authority.get(..i).unwrap_or_default(),
                    authority.get(i..).unwrap_or_default(),
                ),
                None => (authority, ""),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = match port.strip_prefix(':') {
            None if port.is_empty() => DEFAULT_PORT,
            Some("") => DEFAULT_PORT,
            Some(p) => p.parse().map_err(|_| bad("bad port"))?,
            None => return Err(bad("junk after the host")),
        };
        let (path, query) = match path_query.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path_query, None),
        };
        // Section 6.4 step 8: a path of "" or "/" has no Uri-Path; otherwise each segment.
        let path = match path {
            "" | "/" => Vec::new(),
            p => p
                .strip_prefix('/')
                .unwrap_or(p)
                .split('/')
                .map(pct_decode)
                .collect::<Result<_, _>>()?,
        };
        let query = match query {
            None => Vec::new(),
            Some(q) => q.split('&').map(pct_decode).collect::<Result<_, _>>()?,
        };
        Ok(Self {
            host: host.to_owned(),
            port,
            path,
            query,
        })
    }

    /// Whether the host is an IP literal (then no Uri-Host is sent).
    pub fn host_is_ip(&self) -> bool {
        self.host.parse::<IpAddr>().is_ok()
    }

    /// The options of section 6.4: Uri-Host (for a name), Uri-Path, Uri-Query. Uri-Port is left
    /// out: the request goes to that port.
    pub fn options(&self) -> OptionList {
        let mut o = OptionList::new();
        if !self.host_is_ip() {
            o.push((OptionNumber::URI_HOST, self.host.as_bytes().to_vec()));
        }
        for seg in &self.path {
            o.push((OptionNumber::URI_PATH, seg.clone()));
        }
        for q in &self.query {
            o.push((OptionNumber::URI_QUERY, q.clone()));
        }
        o
    }

    /// The first socket address the host resolves to.
    pub fn socket_addr(&self) -> Result<SocketAddr, TransportError> {
        (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| TransportError::Uri(format!("{}: {e}", self.host)))?
            .next()
            .ok_or_else(|| TransportError::Uri(format!("{}: no address", self.host)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        let u = CoapUri::parse("coap://[::1]:5700/a/b%2Fc?x=1&y").unwrap();
        assert_eq!(u.host, "::1");
        assert_eq!(u.port, 5700);
        assert_eq!(u.path, [b"a".to_vec(), b"b/c".to_vec()]);
        assert_eq!(u.query, [b"x=1".to_vec(), b"y".to_vec()]);
        assert!(u.host_is_ip());
        let u = CoapUri::parse("coap://example.org").unwrap();
        assert_eq!((u.port, u.path.len()), (DEFAULT_PORT, 0));
        assert_eq!(
            u.options(),
            [(OptionNumber::URI_HOST, b"example.org".to_vec())]
        );
        let u = CoapUri::parse("coap://h/a/").unwrap();
        assert_eq!(u.path, [b"a".to_vec(), Vec::new()]);
        for bad in [
            "coaps://h/",
            "http://h/",
            "h/a",
            "coap:///a",
            "coap://h:x/",
            "coap://h/a#f",
            "coap://h/%zz",
        ] {
            assert!(CoapUri::parse(bad).is_err(), "{bad}");
        }
    }
}
