#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from $IOT_VECTORS (default: ../shared/vectors beside the repository).
# The corpus is git-ignored: vectors are not committed here.
# - COSE targets: the output CBOR of every COSE WG vector, sorted by COSE tag, and every JWK key of
#   those vectors turned into a COSE_Key.
# - CoAP/OSCORE targets: the hex messages of oscore/rfc8613-appendix-c.json, and the same protected
#   messages with their ciphertext replaced by the plaintext and an all-zero tag (what the targets'
#   NullAead accepts), including an Observe registration and a notification.
# - SUIT targets: the libcsuit .suit envelopes and the hex envelopes of suit/manifest-spec and
#   suit/encryption; suit_manifest gets each envelope's manifest with its severed members, framed
#   as that target reads its input; suit_process gets both behind its mode byte (see the target).
# - EAT/PSA targets: psa/example tokens (.cbor), their payloads, and the diagnostic-notation claim
#   sets and tokens of psa/test, eat/payloads and eat/tokens converted to CBOR.
# - iot-identity targets: iot-identity/tests/data certificates, cose/x509-examples, dice/ and
#   built records, UEIDs and a sealed key (see the last section).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vectors=${IOT_VECTORS:-$here/../../shared/vectors}
for d in cose oscore suit psa eat dice; do
  if [ ! -d "$vectors/$d" ]; then
    echo "seed.sh: no vectors at $vectors/$d (set IOT_VECTORS)" >&2
    exit 1
  fi
done
python3 - "$vectors/cose" "$here/corpus" <<'PY'
import base64, hashlib, json, pathlib, sys

src, dst = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
TARGETS = ["cose_sign1", "cose_mac0", "cose_encrypt0", "cose_key"]
BY_TAG = {18: ["cose_sign1"], 98: ["cose_sign1"], 17: ["cose_mac0"], 97: ["cose_mac0"],
          16: ["cose_encrypt0"], 96: ["cose_encrypt0"]}
BY_ARRAY = {0x84: ["cose_sign1", "cose_mac0"], 0x83: ["cose_encrypt0"]}
counts = dict.fromkeys(TARGETS, 0)
seeds = {t: set() for t in TARGETS}

def put(target, data):
    d = dst / target
    d.mkdir(parents=True, exist_ok=True)
    f = d / hashlib.sha1(data).hexdigest()
    seeds[target].add(f.name)
    if not f.exists():
        f.write_bytes(data)
        counts[target] += 1

def head(data):
    """(major type, argument, header length) of the first CBOR item, or None."""
    if not data:
        return None
    major, info = data[0] >> 5, data[0] & 0x1F
    if info < 24:
        return major, info, 1
    n = {24: 1, 25: 2, 26: 4, 27: 8}.get(info)
    if n is None or len(data) < 1 + n:
        return None
    return major, int.from_bytes(data[1:1 + n], "big"), 1 + n

def targets_of(msg):
    h = head(msg)
    if h and h[0] == 6 and h[1] == 61:  # CWT tag: look at what it wraps
        return targets_of(msg[h[2]:])
    if h and h[0] == 6:
        return BY_TAG.get(h[1], TARGETS[:3])
    return BY_ARRAY.get(msg[0] if msg else None, TARGETS[:3])

# Minimal deterministic CBOR for COSE_Key maps (RFC 8949 section 4.2.1 ordering).
def enc_head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | info]) + n.to_bytes(size, "big")

def enc(v):
    if isinstance(v, bool):
        return b"\xf5" if v else b"\xf4"
    if isinstance(v, int):
        return enc_head(0, v) if v >= 0 else enc_head(1, -1 - v)
    if isinstance(v, bytes):
        return enc_head(2, len(v)) + v
    if isinstance(v, str):
        b = v.encode()
        return enc_head(3, len(b)) + b
    if isinstance(v, dict):
        items = sorted((enc(k), enc(x)) for k, x in v.items())
        return enc_head(5, len(items)) + b"".join(k + x for k, x in items)
    raise TypeError(v)

def b64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))

CRV = {"P-256": 1, "P-384": 2, "P-521": 3, "X25519": 4, "X448": 5, "Ed25519": 6, "Ed448": 7}
KTY = {"OKP": 1, "EC": 2, "oct": 4}
ALG = {"ES256": -7, "ESP256": -9, "HS256": 5, "A128GCM": 1, "AES-CCM-16-128/64": 10,
       "ChaCha-Poly1305": 24, "A128KW": -3, "direct": -6}

def cose_keys(jwk):
    m = {1: KTY.get(jwk["kty"], jwk["kty"])}
    if "kid" in jwk:
        m[2] = jwk["kid"].encode()
    if jwk.get("alg") in ALG:
        m[3] = ALG[jwk["alg"]]
    if jwk["kty"] == "oct":
        m[-1] = b64(jwk["k"])
        return [m]
    m[-1] = CRV.get(jwk.get("crv"), jwk.get("crv", 0))
    for label, name in ((-2, "x"), (-3, "y")):
        if name in jwk:
            m[label] = b64(jwk[name])
    public = dict(m)
    if "d" in jwk:
        m[-4] = b64(jwk["d"])
    return [public, m]

def walk(v):
    if isinstance(v, dict):
        if "kty" in v:
            yield v
        for x in v.values():
            yield from walk(x)
    elif isinstance(v, list):
        for x in v:
            yield from walk(x)

files = sorted(src.rglob("*.json"))
for path in files:
    doc = json.loads(path.read_text())
    hexed = doc.get("output", {}).get("cbor") if isinstance(doc, dict) else None
    if hexed:
        msg = bytes.fromhex(hexed)
        for t in targets_of(msg):
            put(t, msg)
    for jwk in walk(doc.get("input", {}) if isinstance(doc, dict) else {}):
        try:
            for k in cose_keys(jwk):
                put("cose_key", enc(k))
        except (KeyError, TypeError, ValueError):
            pass

print(f"seeded from {len(files)} vector files in {src}: " +
      ", ".join(f"{t} {len(seeds[t])} ({counts[t]} new)" for t in TARGETS))
for t in TARGETS:
    if not any((dst / t).glob("*")):
        sys.exit(f"seed.sh: no seeds for {t}")
PY

python3 - "$vectors" "$here/corpus" <<'PY'
import hashlib, json, pathlib, re, struct, sys

src, dst = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
TARGETS = ["coap_decode", "oscore_unprotect_request", "oscore_unprotect_response",
           "suit_envelope", "suit_manifest", "eat_token", "eat_claims", "psa_validate",
           "eat_bundle", "cbor_diag", "eat_appraise", "suit_process", "suit_report",
           "rollout_plan", "suit_delegation"]
seeds = {t: set() for t in TARGETS}
counts = dict.fromkeys(TARGETS, 0)

def put(target, data):
    d = dst / target
    d.mkdir(parents=True, exist_ok=True)
    f = d / hashlib.sha1(data).hexdigest()
    seeds[target].add(f.name)
    if not f.exists():
        f.write_bytes(data)
        counts[target] += 1

# --- CBOR: a minimal decoder (values with tags kept) and encoder, enough for the vectors.
class Tag:
    def __init__(self, tag, value):
        self.tag, self.value = tag, value

def cbor_decode(b, i=0):
    ib = b[i]; major, info = ib >> 5, ib & 31; i += 1
    if info < 24:
        n = info
    elif info <= 27:
        size = 1 << (info - 24)
        n = int.from_bytes(b[i:i + size], "big"); i += size
    else:
        raise ValueError("indefinite or reserved length")
    if major == 0:
        return n, i
    if major == 1:
        return -1 - n, i
    if major in (2, 3):
        v = b[i:i + n]
        if len(v) != n:
            raise ValueError("truncated")
        return (v if major == 2 else v.decode()), i + n
    if major == 4:
        out = []
        for _ in range(n):
            v, i = cbor_decode(b, i); out.append(v)
        return out, i
    if major == 5:
        out = {}
        for _ in range(n):
            k, i = cbor_decode(b, i); v, i = cbor_decode(b, i)
            out[k if not isinstance(k, (list, dict, Tag)) else repr(k)] = v
        return out, i
    if major == 6:
        v, i = cbor_decode(b, i)
        return Tag(n, v), i
    return ("simple", info, n), i

def cbor_one(b):
    v, end = cbor_decode(b)
    if end != len(b):
        raise ValueError("trailing bytes")
    return v

def head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | info]) + n.to_bytes(size, "big")

# --- CBOR diagnostic notation (RFC 8949 section 8) -> CBOR, for the vectors' .diag files.
TOKEN = re.compile(r"""\s+|/[^/]*/|"(?:[^"\\]|\\.)*"|h'[^']*'|b64'[^']*'|<<|>>|-?\d+\.\d+(?:e[-+]?\d+)?|-?0x[0-9a-fA-F]+|-?\d+|true|false|null|undefined|[\[\]{}(),:]""")

def tokens(text):
    pos, out = 0, []
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m:
            raise ValueError(f"diag: cannot read {text[pos:pos + 20]!r}")
        t = m.group(0); pos = m.end()
        if not t.strip() or (t.startswith("/") and t.endswith("/") and len(t) > 1):
            continue
        out.append(t)
    return out

def encode_float(x):
    for fmt, ib in (("e", 0xf9), ("f", 0xfa)):
        try:
            if struct.unpack(">" + fmt, struct.pack(">" + fmt, x))[0] == x:
                return bytes([ib]) + struct.pack(">" + fmt, x)
        except OverflowError:
            pass
    return b"\xfb" + struct.pack(">d", x)

def diag(text):
    toks = tokens(text); i = 0
    def item():
        nonlocal i
        t = toks[i]; i += 1
        if t == "[":
            items = seq("]"); return head(4, len(items)) + b"".join(items)
        if t == "{":
            items = seq("}")
            return head(5, len(items) // 2) + b"".join(items)
        if t == "<<":
            body = b"".join(seq(">>")); return head(2, len(body)) + body
        if t.startswith("h'"):
            v = bytes.fromhex(re.sub(r"\s+", "", t[2:-1])); return head(2, len(v)) + v
        if t.startswith('"'):
            v = json.loads(t).encode(); return head(3, len(v)) + v
        if t in ("true", "false", "null", "undefined"):
            return bytes([{"false": 0xf4, "true": 0xf5, "null": 0xf6, "undefined": 0xf7}[t]])
        if "." in t:
            return encode_float(float(t))
        n = int(t, 0)
        if i < len(toks) and toks[i] == "(":
            i += 1; inner = item()
            assert toks[i] == ")"; i += 1
            return head(6, n) + inner
        return head(0, n) if n >= 0 else head(1, -1 - n)
    def seq(close):
        nonlocal i
        items = []
        while toks[i] != close:
            items.append(item())
            if toks[i] in (",", ":"):
                i += 1
        i += 1
        return items
    out = item()
    if i != len(toks):
        raise ValueError("diag: trailing tokens")
    return out

def diag_file(path):
    try:
        return diag(path.read_text())
    except (ValueError, IndexError, AssertionError, KeyError) as e:
        print(f"seed.sh: skipped {path.relative_to(src)}: {e}", file=sys.stderr)
        return None

# --- CoAP / OSCORE
OUTER = {3, 7, 9, 16, 21, 35, 39}  # Class U only (RFC 8613 section 4.1): stay outside

def coap_parse(b):
    tkl = b[0] & 15
    pos, num, opts = 4 + tkl, 0, []
    while pos < len(b) and b[pos] != 0xff:
        d, l = b[pos] >> 4, b[pos] & 15; pos += 1
        vals = []
        for x in (d, l):
            if x == 13:
                x = b[pos] + 13; pos += 1
            elif x == 14:
                x = int.from_bytes(b[pos:pos + 2], "big") + 269; pos += 2
            vals.append(x)
        num += vals[0]; opts.append((num, b[pos:pos + vals[1]])); pos += vals[1]
    payload = b[pos + 1:] if pos < len(b) else b""
    return b[:4 + tkl], opts, payload

def options(opts):
    out, last = b"", 0
    for num, v in opts:
        parts = []
        for x in (num - last, len(v)):
            parts.append((x, b"") if x < 13 else (13, bytes([x - 13])) if x < 269 else (14, (x - 269).to_bytes(2, "big")))
        out += bytes([parts[0][0] << 4 | parts[1][0]]) + parts[0][1] + parts[1][1] + v
        last = num
    return out

def null_sealed(protected, original, extra_inner=()):
    """`protected` with its ciphertext replaced by the plaintext of `original` and a zero tag."""
    head_, popts, _ = coap_parse(protected)
    ohead, oopts, opayload = coap_parse(original)
    inner = sorted([o for o in oopts if o[0] not in OUTER] + list(extra_inner))
    plain = ohead[1:2] + options(inner) + (b"\xff" + opayload if opayload else b"")
    return head_ + options(popts) + b"\xff" + plain + bytes(8)

doc = json.loads((src / "oscore/rfc8613-appendix-c.json").read_text())
for case in doc.values():
    msgs = {k: bytes.fromhex(v) for k, v in case.items()
            if isinstance(v, str) and k.startswith(("coap_", "oscore_")) and v}
    for m in msgs.values():
        put("coap_decode", m)
    if "oscore_req" in msgs:
        put("oscore_unprotect_request", msgs["oscore_req"])
        if "coap_req" in msgs:
            put("oscore_unprotect_request", null_sealed(msgs["oscore_req"], msgs["coap_req"]))
            # The same request registering an observation (Observe 0, empty value).
            reg = null_sealed(msgs["oscore_req"], msgs["coap_req"], [(6, b"")])
            put("oscore_unprotect_request", reg)
            put("coap_decode", reg)
    for k in ("oscore_resp", "oscore_res", "coap_ack"):
        if k in msgs:
            put("oscore_unprotect_response", msgs[k])
    for k in ("oscore_resp", "oscore_res"):
        if k in msgs and "coap_response" in msgs:
            put("oscore_unprotect_response", null_sealed(msgs[k], msgs["coap_response"]))
    if "oscore_res" in msgs and "coap_response" in msgs:
        # A notification: own Partial IV and an empty Inner Observe.
        put("oscore_unprotect_response",
            null_sealed(msgs["oscore_res"], msgs["coap_response"], [(6, b"")]))

# --- SUIT
# suit_report: SUIT_Reports as devices send them ({99: [uri, [-16, digest]], 4: result}); success,
# and a failure with its code (5) and reason (7); each also signed, as a tagged COSE_Sign1
# (ES256, the report attached, a 64-byte signature the target's verifier accepts).
for result in (b"\xf5", b"\xa2\x05\x01\x07\x02"):
    report = b"\xa2\x18\x63\x82\x63abc\x82\x2f\x58\x20" + bytes(32) + b"\x04" + result
    put("suit_report", report)
    put("suit_report", b"\xd2\x84\x43\xa1\x01\x26\xa0\x58" + bytes([len(report)]) + report
        + b"\x58\x40" + bytes(64))
# rollout_plan: plans as Plan::to_json saves them, releasing, halted and completed.
for state, reports in (
        ({"phase": "releasing", "ring": 0}, {}),
        ({"phase": "halted", "ring": 0, "failures": 1},
         {"a": {"result": "failure", "reason": 1, "code": 3}, "b": {"result": "success"}}),
        ({"phase": "completed"}, {"a": {"result": "success"}, "b": {"result": "success"},
                                  "c": {"result": "failure", "reason": None, "code": -5}})):
    plan = {"release": {"digest": "ab" * 32, "sequence-number": 7}, "rings": [["a", "b"], ["c"]],
            "thresholds": {"min-reported": 0.8, "min-success": 0.9, "max-failures": 0.2},
            "reports": reports, "state": state}
    put("rollout_plan", json.dumps(plan, indent=2).encode())
# suit_delegation: the SUIT_Delegation of draft-ietf-suit-trust-domains' example 2 (libcsuit's
# delegation CWT: a COSE_Sign1 by the trust anchor whose cnf is the delegated key), one chain; and
# the same CWT as two chains, and as a chain of two.
CWT = bytes.fromhex(
    "D28443A10126A0584FA108A101A4010220012158200E908AA8F066DB1F084E0C3652C63952BD99F2A5BDB2"
    "2F9E01367AAD03ABA68B22582077DA1BD8AC4F0CB490BA210648BF79AB164D49AD3551D71D314B2749EE42"
    "D29A5840FB2D5ACF66B9C8573CE92E13BFB8D113F798715CC10B5A0010B11925C155E7245A64E131073B87"
    "AC50CAC71650A21315B82D06CA2298CD1A95519AAE4C4B5315")
ITEM = b"\x58" + bytes([len(CWT)]) + CWT
for delegation in (b"\x81\x81" + ITEM, b"\x82\x81" + ITEM + b"\x81" + ITEM, b"\x81\x82" + ITEM + ITEM):
    put("suit_delegation", delegation)
SEVERABLE = [14, 15, 16, 18, 20, 23]  # manifest_key::SEVERABLE, in slot order

def suit_envelope(env, name):
    put("suit_envelope", env)
    # suit_process: mode byte (bit 0 envelope / framed manifest, bit 1 any identity, bit 3 boot).
    for mode in (0x00, 0x0a):
        put("suit_process", bytes([mode]) + env)
    try:
        v = cbor_one(env)
    except (ValueError, IndexError, UnicodeDecodeError) as e:
        print(f"seed.sh: {name}: not CBOR ({e})", file=sys.stderr)
        return
    m = v.value if isinstance(v, Tag) else v
    if not isinstance(m, dict) or not isinstance(m.get(3), bytes):
        return
    framed = [(SEVERABLE.index(k), m[k]) for k in SEVERABLE if isinstance(m.get(k), bytes)]
    out = bytes([len(framed)])
    for slot, value in framed:
        out += bytes([slot]) + len(value).to_bytes(2, "big") + value
    put("suit_manifest", out + m[3])
    for mode in (0x01, 0x0b):
        put("suit_process", bytes([mode]) + out + m[3])

for f in sorted((src / "suit/libcsuit").glob("*.suit")):
    suit_envelope(f.read_bytes(), f.name)
for f in sorted((src / "suit/manifest-spec").glob("*.txt")):
    for block in re.findall(r"~~~\n([0-9a-fA-F\n]+)~~~", f.read_text()):
        suit_envelope(bytes.fromhex(block.replace("\n", "")), f.name)
for f in sorted((src / "suit/encryption").glob("*.hex.signed")):
    suit_envelope(bytes.fromhex(re.sub(r"\s+", "", f.read_text())), f.name)

# --- EAT / PSA
def token_payload(tok):
    v = cbor_one(tok)
    while isinstance(v, Tag):
        v = v.value
    if isinstance(v, list) and len(v) == 4 and isinstance(v[2], bytes):
        return v[2]
    return None

def nested_tokens(b):
    """Byte strings inside a CBOR item that are tagged tokens (CWT 61, COSE 18 or 17)."""
    try:
        v = cbor_one(b)
    except (ValueError, IndexError, UnicodeDecodeError):
        return
    stack = [v]
    while stack:
        x = stack.pop()
        if isinstance(x, Tag):
            stack.append(x.value)
        elif isinstance(x, list):
            stack.extend(x)
        elif isinstance(x, dict):
            stack.extend(x.values())
        elif isinstance(x, bytes) and x[:2] in (b"\xd8\x3d", b"\xd2\x84", b"\xd1\x84"):
            yield x

def token(tok, psa=False):
    put("eat_token", tok)
    put("eat_appraise", tok)
    payload = token_payload(tok)
    if payload is not None:
        put("eat_claims", payload)
        put("eat_appraise", payload)
        if psa:
            put("psa_validate", payload)
        for t in nested_tokens(payload):
            token(t)

for f in sorted((src / "psa/example").glob("*.cbor")):
    token(f.read_bytes(), psa=True)
for f in sorted((src / "psa/test").glob("*.diag")):
    c = diag_file(f)
    if c:
        put("psa_validate", c)
        put("eat_claims", c)
        put("eat_appraise", c)
for f in sorted((src / "psa/example").glob("*claims.diag")):
    c = diag_file(f)
    if c:
        put("psa_validate", c)
        put("eat_claims", c)
for f in sorted((src / "eat/payloads").glob("*.diag")):
    c = diag_file(f)
    if c:
        put("eat_claims", c)
        put("eat_appraise", c)
        for t in nested_tokens(c):
            token(t)
for f in sorted((src / "eat/tokens").glob("*.diag")):
    c = diag_file(f)
    if c:
        put("eat_token", c)
        put("eat_bundle", c)
        put("cbor_diag", c)
        for t in nested_tokens(c):
            token(t)
        try:
            p = token_payload(c)
        except (ValueError, IndexError, UnicodeDecodeError):
            p = None
        if p:
            put("eat_claims", p)

print("seeded: " + ", ".join(f"{t} {len(seeds[t])} ({counts[t]} new)" for t in TARGETS))
for t in TARGETS:
    if not any((dst / t).glob("*")):
        sys.exit(f"seed.sh: no seeds for {t}")
PY

# --- iot-identity targets: x509_chain gets the DER certificates of iot-identity/tests/data and
# the hex X.509 certificates of cose/x509-examples; x509_csr a P-256 request from openssl (when
# there is one) and the same certificates; dice_cert open-dice's ZeroInput certificate and its
# claims; identity_record lifecycle records, UEIDs of each type and a sealed key (COSE_Encrypt0,
# ChaCha20/Poly1305, of the COSE_Key d = 1) with a zero tag, as the target's null AEAD accepts.
# revocation_list and cwt_credential get signed lists and credentials (hex below).
csr=""
if command -v openssl >/dev/null 2>&1 && ! compgen -G "$here/corpus/x509_csr/csr-*" >/dev/null; then
  csr=$(mktemp)
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
    -subj "/CN=device-0001/serialNumber=0001" -outform DER -out "$csr" 2>/dev/null || csr=""
fi
python3 - "$vectors" "$here/../iot-identity/tests/data" "$here/corpus" "$csr" <<'PY'
import hashlib, json, pathlib, re, sys, zlib

src, data, dst = (pathlib.Path(a) for a in sys.argv[1:4])
csr = sys.argv[4]
TARGETS = ["key_pem", "x509_csr", "x509_chain", "dice_cert", "identity_record", "revocation_list",
           "cwt_credential"]
seeds = {t: set() for t in TARGETS}
counts = dict.fromkeys(TARGETS, 0)

def put(target, blob, prefix=""):
    d = dst / target
    d.mkdir(parents=True, exist_ok=True)
    f = d / (prefix + hashlib.sha1(blob).hexdigest())
    seeds[target].add(f.name)
    if not f.exists():
        f.write_bytes(blob)
        counts[target] += 1

def head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | info]) + n.to_bytes(size, "big")

def bstr(b):
    return head(2, len(b)) + b

def int_(v):
    return head(0, v) if v >= 0 else head(1, -1 - v)

certs = [p.read_bytes() for p in sorted(data.glob("*.der"))]
def hex_certs(v):
    if isinstance(v, dict):
        for x in v.values():
            yield from hex_certs(x)
    elif isinstance(v, list):
        for x in v:
            yield from hex_certs(x)
    elif isinstance(v, str) and re.fullmatch(r"30(?:[0-9A-Fa-f]{2}){32,}", v):
        yield bytes.fromhex(v)
for f in sorted((src / "cose/x509-examples").glob("*.json")):
    certs.extend(hex_certs(json.loads(f.read_text())))
for c in certs:
    put("x509_chain", c)
    put("x509_csr", c)
if csr:
    put("x509_csr", pathlib.Path(csr).read_bytes(), "csr-")
    pathlib.Path(csr).unlink()

dice = json.loads((src / "dice/open-dice-p256-zero-input.json").read_text())
cert = bytes.fromhex(dice["expected"]["certificate_cbor"])
put("dice_cert", cert)
# The claims: the third item of the 4-array (protected bstr, empty map, payload bstr, signature).
i = 1 + 1 + (cert[1] & 0x1f) + 1
info = cert[i] & 0x1f
size = 0 if info < 24 else 1 << (info - 24)
n = info if info < 24 else int.from_bytes(cert[i + 1:i + 1 + size], "big")
put("dice_cert", cert[i + 1 + size:i + 1 + size + n])

def record(state, cert_len, digest, counter):
    body = b"IE\x01" + bytes([state, 0, 0]) + cert_len.to_bytes(2, "big") + digest + counter.to_bytes(4, "big")
    return body + zlib.crc32(body).to_bytes(4, "big")
for state in range(6):
    put("identity_record", record(state, 0 if state < 3 else 512, bytes(range(8)) if state >= 3 else bytes(8), state + 1))
put("identity_record", b"\x01" + bytes(range(1, 17)))            # RAND, 16 bytes
put("identity_record", b"\x02\xac\xde\x48\x00\x11\x22")          # EUI-48
put("identity_record", b"\x03" + bytes([3, 5, 6, 9, 1, 2, 0, 8, 4, 7, 2, 6, 1, 3]))  # IMEI
GX = bytes.fromhex("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296")
GY = bytes.fromhex("4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5")
key = (head(5, 7) + int_(1) + int_(2) + int_(2) + bstr(b"\x00") + int_(3) + int_(-7)
       + int_(-1) + int_(1) + int_(-2) + bstr(GX) + int_(-3) + bstr(GY) + int_(-4) + bstr(bytes(31) + b"\x01"))
sealed = head(4, 3) + bstr(head(5, 1) + int_(1) + int_(24)) + head(5, 1) + int_(5) + bstr(bytes(12)) + bstr(key + bytes(16))
put("identity_record", sealed)

# Revocation lists and CWT credentials as tests/revocation.rs and tests/credential.rs make them
# (RFC 6979 signatures, so fixed bytes): registrar key 0x31.., issuer key 0x11.., as the targets.
for blob in ("d28443a10126a10449726567697374726172582ba50107021a6955b900031a69570a8004824102437f010205815101a002030405060708090a0b0c0d0e0f10584021c15fb83c858d53d01ff334f51fe6b305c89d3142f09959da2220dfb95f88b7983ac77d01e25d42a130f9f023154d11bd6d59d91b7fe359ef1457151a3b77fa",
             "d28443a10126a04da40101021a6955b9000480058058402d49b46a59671abe99ece21b8ab8c701bd3333c24ac274091b727c0e3089e8bb047348c5ac8fd17eb55a5e0b3ab8bba7a4cbbb147e10a0d0a3551094d54e2994"):
    put("revocation_list", bytes.fromhex(blob))
for blob in ("d83dd28443a10126a10443726567589da80169726567697374726172027823303141303032303330343035303630373038303930304130423043304430453046313003626777041a69570a80051a6955b6a8061a6955b6a80742633108a101a501020241642001215820d65a93977caa3d1b081852ff57a79e465f1660577304baead505dd3a48589cf322582050185e895372df6221ea3a137557e473fddb6755f05bd507c3c533fce9c912855840c1135f4023c3d61a55319b9ac63dbfe6a4f08bc51d0ece29b92264cb731911e55ee0b26430d3721abfdd40bb0569255b603653c08761bf93b9665898fb16a6ff",
             "d28443a10128a0584fa108a101a401022001215820d65a93977caa3d1b081852ff57a79e465f1660577304baead505dd3a48589cf322582050185e895372df6221ea3a137557e473fddb6755f05bd507c3c533fce9c912855840479304658869984bb835151e2a5525fe681398a8fe8c7adad44bf1819f42f5b53e21ba5ab2a3c97b5be5c6232cffba0d01cb486b4b4eeff8b86bac33353dbe5b",
             "a80169726567697374726172027823303141303032303330343035303630373038303930304130423043304430453046313003626777041a69570a80051a6955b6a8061a6955b6a80742633108a101a501020241642001215820d65a93977caa3d1b081852ff57a79e465f1660577304baead505dd3a48589cf322582050185e895372df6221ea3a137557e473fddb6755f05bd507c3c533fce9c91285"):
    put("cwt_credential", bytes.fromhex(blob))

# key_pem: the PEM keys of the vectors (PKCS#8, SEC1 with EC PARAMETERS, SPKI).
for pem in sorted(src.glob("**/*.pem")):
    put("key_pem", pem.read_bytes())

print("seeded: " + ", ".join(f"{t} {len(seeds[t])} ({counts[t]} new)" for t in TARGETS))
for t in TARGETS:
    if not any((dst / t).glob("*")):
        sys.exit(f"seed.sh: no seeds for {t}")
PY
