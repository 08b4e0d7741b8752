#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from the COSE WG examples: the output CBOR of every vector under
# $IOT_VECTORS/cose (default: ../shared/vectors beside the repository), sorted by COSE tag, and
# every JWK key of those vectors turned into a COSE_Key. The corpus is git-ignored: vectors are
# not committed here.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vectors=${IOT_VECTORS:-$here/../../shared/vectors}
if [ ! -d "$vectors/cose" ]; then
  echo "seed.sh: no COSE vectors at $vectors/cose (set IOT_VECTORS)" >&2
  exit 1
fi
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
