"""The Python side of iot-attest's cross-checks (tests/python_peers.rs): python-cwt and pycose
make and verify tokens. One command per run: `peer.py COMMAND`, a JSON object on stdin (bytes
as hex), a JSON object on stdout (bytes as hex). A failed verification exits non-zero with the
reason on stderr."""

import json
import sys

import cbor2
import cwt
from cryptography.hazmat.primitives.serialization import load_der_public_key
from pycose.algorithms import Es256, Es384, Es512, HMAC256
from pycose.headers import KID, Algorithm
from pycose.keys import EC2Key, SymmetricKey
from pycose.messages import CoseMessage, Mac0Message, Sign1Message


def h(s):
    return bytes.fromhex(s) if s is not None else None


def untag61(token):
    """The COSE message of a CWT, without the CWT tag 61."""
    item = cbor2.loads(token)
    if isinstance(item, cbor2.CBORTag) and item.tag == 61:
        return cbor2.dumps(item.value)
    return token


def cwt_key(a):
    if "hmac" in a:
        k = {1: 4, 3: 5, -1: h(a["hmac"])}
    else:
        k = {1: 2, -1: 1, 3: -7, -2: h(a["x"]), -3: h(a["y"])}
    if a.get("d"):
        k[-4] = h(a["d"])
    if a.get("kid"):
        k[2] = h(a["kid"])
    return cwt.COSEKey.new(k)


def pycose_key(a):
    if "hmac" in a:
        return SymmetricKey(k=h(a["hmac"]))
    crv = a.get("crv", "P_256")
    return EC2Key(crv=crv, x=h(a["x"]), y=h(a["y"]), d=h(a.get("d")) or b"")


ALGS = {"ES256": Es256, "ES384": Es384, "ES512": Es512}


def canonical(claims):
    return cbor2.dumps(claims, canonical=True).hex()


def cwt_verify(a):
    """python-cwt verifies our token (COSE_Sign1 or COSE_Mac0, with or without tag 61)."""
    claims = cwt.decode(h(a["token"]), keys=[cwt_key(a)])
    return {"claims": canonical(claims)}


def pycose_verify(a):
    """pycose verifies our token and hands back the payload it authenticated."""
    msg = CoseMessage.decode(untag61(h(a["token"])))
    msg.key = pycose_key(a)
    if isinstance(msg, Mac0Message):
        ok = msg.verify_tag()
    else:
        ok = msg.verify_signature()
    if not ok:
        raise SystemExit("pycose: the signature or tag does not verify")
    return {"payload": msg.payload.hex(), "kid": (msg.get_attr(KID) or b"").hex()}


def cwt_sign(a):
    """python-cwt signs (or MACs) a claims-set given as CBOR."""
    claims = cbor2.loads(h(a["claims"]))
    key = cwt_key(a)
    if "hmac" in a:
        token = cwt.encode_and_mac(claims, key, tagged=a.get("tagged", False))
    else:
        token = cwt.encode_and_sign(claims, key, tagged=a.get("tagged", False))
    return {"token": token.hex()}


def pycose_sign(a):
    """pycose signs (or MACs) a claims-set given as CBOR, as a tagged COSE message."""
    uhdr = {KID: h(a["kid"])} if a.get("kid") else {}
    if "hmac" in a:
        msg = Mac0Message(phdr={Algorithm: HMAC256}, uhdr=uhdr, payload=h(a["claims"]))
    else:
        alg = ALGS[a.get("alg", "ES256")]
        msg = Sign1Message(phdr={Algorithm: alg}, uhdr=uhdr, payload=h(a["claims"]))
    msg.key = pycose_key(a)
    return {"token": msg.encode().hex()}


def ear_check(a):
    """python-cwt verifies our signed EAR; the attested key is read back with cryptography."""
    ear = cwt.decode(h(a["token"]), keys=[cwt_key(a)])
    out = {
        "profile": ear[265],
        "iat": ear[6],
        "verifier": ear[1004],
        "nonce": ear.get(10, b"").hex(),
        "submods": {},
    }
    for name, appraisal in ear[266].items():
        sub = {"status": appraisal[1000], "vector": {str(k): v for k, v in appraisal[1001].items()}}
        if -70002 in appraisal:
            pub = load_der_public_key(appraisal[-70002][0]).public_numbers()
            sub["akpub"] = {"x": f"{pub.x:064x}", "y": f"{pub.y:064x}"}
        out["submods"][name] = sub
    return out


COMMANDS = {
    "cwt-verify": cwt_verify,
    "pycose-verify": pycose_verify,
    "cwt-sign": cwt_sign,
    "pycose-sign": pycose_sign,
    "ear-check": ear_check,
}

if __name__ == "__main__":
    args = json.load(sys.stdin)
    try:
        result = COMMANDS[sys.argv[1]](args)
    except SystemExit:
        raise
    except Exception as e:  # the reason, on one line, for the Rust side to show
        raise SystemExit(f"{sys.argv[1]}: {type(e).__name__}: {e}")
    json.dump(result, sys.stdout)
