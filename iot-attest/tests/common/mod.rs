//! Test helpers: a CBOR diagnostic-notation reader (RFC 8949 section 8, the subset the vectors
//! use), a reader for the flat YAML of the PSA examples, and key loading from JWK and PEM.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64ct::{Base64, Base64UrlUnpadded, Encoding};

/// Turns diagnostic notation into CBOR: integers, floats, byte strings `h'..'` (whitespace
/// allowed inside), text strings, arrays, maps, tags `N(..)`, `true`/`false`/`null`, and
/// `/ comments /`. Panics on anything else: a vector it cannot read fails the test.
pub fn diag_to_cbor(text: &str) -> Vec<u8> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let mut out = Vec::new();
    p.value(&mut out);
    p.ws();
    assert_eq!(p.i, p.s.len(), "trailing text after the item at {}", p.i);
    out
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

fn head(out: &mut Vec<u8>, major: u8, arg: u64) {
    let m = major << 5;
    match arg {
        0..=23 => out.push(m | arg as u8),
        24..=0xff => out.extend([m | 24, arg as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend((arg as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(m | 26);
            out.extend((arg as u32).to_be_bytes());
        }
        _ => {
            out.push(m | 27);
            out.extend(arg.to_be_bytes());
        }
    }
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// Skips whitespace and `/ ... /` comments.
    fn ws(&mut self) {
        loop {
            match self.peek() {
                Some(c) if c.is_ascii_whitespace() => self.i += 1,
                Some(b'/') => {
                    let end = self.s[self.i + 1..]
                        .iter()
                        .position(|&c| c == b'/')
                        .expect("unterminated comment");
                    self.i += end + 2;
                }
                _ => return,
            }
        }
    }

    fn expect(&mut self, c: u8) {
        self.ws();
        assert_eq!(
            self.peek(),
            Some(c),
            "expected {:?} at {}",
            c as char,
            self.i
        );
        self.i += 1;
    }

    /// Reads a comma-separated list up to `close`, calling `item` for each element.
    fn list(&mut self, close: u8, mut item: impl FnMut(&mut Self)) -> u64 {
        let mut n = 0;
        loop {
            self.ws();
            if self.peek() == Some(close) {
                self.i += 1;
                return n;
            }
            if n > 0 {
                self.expect(b',');
                self.ws();
                if self.peek() == Some(close) {
                    self.i += 1;
                    return n;
                }
            }
            item(self);
            n += 1;
        }
    }

    fn value(&mut self, out: &mut Vec<u8>) {
        self.ws();
        match self.peek().expect("value expected") {
            b'{' => {
                self.i += 1;
                let mut body = Vec::new();
                let n = self.list(b'}', |p| {
                    p.value(&mut body);
                    p.expect(b':');
                    p.value(&mut body);
                });
                head(out, 5, n);
                out.extend(body);
            }
            b'[' => {
                self.i += 1;
                let mut body = Vec::new();
                let n = self.list(b']', |p| p.value(&mut body));
                head(out, 4, n);
                out.extend(body);
            }
            b'h' if self.s.get(self.i + 1) == Some(&b'\'') => {
                self.i += 2;
                let mut hex = String::new();
                loop {
                    let c = self.peek().expect("unterminated h''");
                    self.i += 1;
                    match c {
                        b'\'' => break,
                        c if c.is_ascii_whitespace() => {}
                        c => hex.push(c as char),
                    }
                }
                let bytes = hex::decode(&hex).expect("hex in h''");
                head(out, 2, bytes.len() as u64);
                out.extend(bytes);
            }
            b'"' => {
                self.i += 1;
                let mut text = Vec::new();
                loop {
                    let c = self.peek().expect("unterminated string");
                    self.i += 1;
                    match c {
                        b'"' => break,
                        b'\\' => {
                            let e = self.peek().expect("escape");
                            self.i += 1;
                            text.push(match e {
                                b'n' => b'\n',
                                b't' => b'\t',
                                other => other,
                            });
                        }
                        c => text.push(c),
                    }
                }
                head(out, 3, text.len() as u64);
                out.extend(text);
            }
            b't' if self.s[self.i..].starts_with(b"true") => {
                self.i += 4;
                out.push(0xf5);
            }
            b'f' if self.s[self.i..].starts_with(b"false") => {
                self.i += 5;
                out.push(0xf4);
            }
            b'n' if self.s[self.i..].starts_with(b"null") => {
                self.i += 4;
                out.push(0xf6);
            }
            b'-' | b'0'..=b'9' => {
                let start = self.i;
                self.i += 1;
                while matches!(
                    self.peek(),
                    Some(b'0'..=b'9' | b'.' | b'e' | b'x' | b'a'..=b'f')
                ) {
                    self.i += 1;
                }
                let tok = core::str::from_utf8(&self.s[start..self.i]).unwrap();
                self.ws();
                if self.peek() == Some(b'(') {
                    // A tag.
                    self.i += 1;
                    head(out, 6, tok.parse().expect("tag number"));
                    self.value(out);
                    self.expect(b')');
                } else if tok.contains('.') {
                    out.push(0xfb);
                    out.extend(tok.parse::<f64>().unwrap().to_be_bytes());
                } else if let Some(hex) = tok.strip_prefix("0x") {
                    head(out, 0, u64::from_str_radix(hex, 16).unwrap());
                } else if let Some(neg) = tok.strip_prefix('-') {
                    head(out, 1, neg.parse::<u64>().unwrap() - 1);
                } else {
                    head(out, 0, tok.parse().unwrap());
                }
            }
            c => panic!("unexpected {:?} at {}", c as char, self.i),
        }
    }
}

/// A value of the flat YAML the PSA examples use.
#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    Text(String),
    Int(i64),
    Binary(Vec<u8>),
    List(Vec<Vec<(String, Yaml)>>),
}

fn scalar(v: &str) -> Yaml {
    let v = v.trim();
    if let Some(b64) = v.strip_prefix("!!binary ") {
        Yaml::Binary(Base64::decode_vec(b64.trim()).expect("base64 in !!binary"))
    } else if let Ok(i) = v.parse() {
        Yaml::Int(i)
    } else {
        Yaml::Text(v.to_owned())
    }
}

/// Reads `key: scalar` lines and `key:` followed by a list of `- key: scalar` maps.
pub fn yaml(text: &str) -> Vec<(String, Yaml)> {
    let mut out: Vec<(String, Yaml)> = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let indented = line.starts_with(' ');
        let body = line.trim_start();
        let (item_start, body) = match body.strip_prefix("- ") {
            Some(rest) => (true, rest),
            None => (false, body),
        };
        let (k, v) = body.split_once(':').expect("key: value");
        if !indented {
            let v = if v.trim().is_empty() {
                Yaml::List(Vec::new())
            } else {
                scalar(v)
            };
            out.push((k.to_owned(), v));
            continue;
        }
        let Some((_, Yaml::List(items))) = out.last_mut() else {
            panic!("indented line outside a list: {line}");
        };
        if item_start {
            items.push(Vec::new());
        }
        items
            .last_mut()
            .expect("list item")
            .push((k.to_owned(), scalar(v)));
    }
    out
}

/// The P-256 public key (x, y) of a JWK.
pub fn jwk_xy(jwk: &serde_json::Value) -> (Vec<u8>, Vec<u8>) {
    let field = |name: &str| {
        Base64UrlUnpadded::decode_vec(jwk[name].as_str().expect("JWK field")).expect("base64url")
    };
    (field("x"), field("y"))
}

/// The private scalar of a JWK.
pub fn jwk_d(jwk: &serde_json::Value) -> Vec<u8> {
    Base64UrlUnpadded::decode_vec(jwk["d"].as_str().expect("d")).expect("base64url")
}

/// The private scalar and the public point (x, y) of a SEC1 `EC PRIVATE KEY` PEM (RFC 5915):
/// `SEQUENCE { INTEGER 1, OCTET STRING d, [0] curve, [1] BIT STRING 04||x||y }`.
pub fn sec1_pem(pem: &str) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    let der = Base64::decode_vec(&body).expect("PEM base64");
    // 30 77 | 02 01 01 | 04 20 d
    assert_eq!(
        &der[2..7],
        &[0x02, 0x01, 0x01, 0x04, 0x20],
        "SEC1 version and d"
    );
    let d = der[7..39].to_vec();
    let at = der
        .windows(4)
        .position(|w| w == [0x03, 0x42, 0x00, 0x04])
        .expect("uncompressed public point");
    let point = &der[at + 4..at + 4 + 64];
    (d, point[..32].to_vec(), point[32..].to_vec())
}

#[test]
fn diag_reader_matches_rfc8949_examples() {
    let cases: &[(&str, &str)] = &[
        ("0", "00"),
        ("24", "1818"),
        ("1000000", "1a000f4240"),
        ("-1", "20"),
        ("-1000", "3903e7"),
        ("h'01 02\n 03'", "43010203"),
        ("\"IETF\"", "6449455446"),
        ("[1, [2, 3], [4, 5]]", "8301820203820405"),
        ("{1: 2, 3: 4}", "a201020304"),
        ("{\"a\": 1, / note / \"b\": [2, 3]}", "a26161016162820203"),
        ("1(1363896240)", "c11a514b67b0"),
        ("[true, false, null]", "83f5f4f6"),
        ("-75000", "3a000124f7"),
    ];
    for (d, hex) in cases {
        assert_eq!(hex::encode(diag_to_cbor(d)), *hex, "{d}");
    }
}
