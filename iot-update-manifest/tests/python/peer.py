"""The Python side of iot-update-manifest's cross-checks (tests/python_peers.rs): pycose opens the
SUIT_Encryption_Info (a COSE_Encrypt with detached ciphertext) that the builder made, and makes
one for the Rust decryptor to open; python-cwt makes the CWTs of a delegation chain. One command per
run: `peer.py COMMAND`, a JSON object on stdin (bytes as hex), a JSON object on stdout. A failed
decryption exits non-zero with the reason on stderr.

pycose has A128GCM but not A128CTR, so the cross-check is of A128GCM content with both key
distributions, A128KW and ECDH-ES + A128KW (the KDF context's SuppPubInfo `other` is
"SUIT Payload Encryption", draft-ietf-suit-firmware-encryption)."""

import json
import os
import sys

import cbor2
import cwt as cwt_lib

from pycose import headers
from pycose.algorithms import A128GCM, A128KW, EcdhEsA128KW
from pycose.keys import EC2Key, SymmetricKey
from pycose.keys.curves import P256
from pycose.messages import CoseMessage, EncMessage
from pycose.messages.recipient import KeyAgreementWithKeyWrap, KeyWrap

OTHER = b"SUIT Payload Encryption"


def h(s):
    return bytes.fromhex(s) if s is not None else None


def decrypt(a):
    """Opens `info` with `kek` (A128KW) or the P-256 scalar `d` (ECDH-ES + A128KW) and decrypts the
    detached `ciphertext` (tag appended)."""
    msg = CoseMessage.decode(h(a["info"]))
    msg.payload = h(a["ciphertext"])
    recipient = msg.recipients[0]
    if "kek" in a:
        recipient.key = SymmetricKey(k=h(a["kek"]))
    else:
        recipient.key = EC2Key(crv=P256, d=h(a["d"]))
        recipient.local_attrs = {headers.SuppPubOther: OTHER}
    return {"plaintext": msg.decrypt(recipient).hex()}


def encrypt(a):
    """A COSE_Encrypt of `plaintext` under a fresh content key, A128GCM, detached, to one
    recipient: A128KW under `kek`, or ECDH-ES + A128KW to the public key (`x`, `y`)."""
    cek = SymmetricKey(k=os.urandom(16), optional_params={"ALG": "A128GCM"})
    if "kek" in a:
        recipient = KeyWrap(
            uhdr={headers.Algorithm: A128KW},
            payload=cek.k,
            key=SymmetricKey(k=h(a["kek"])),
        )
    else:
        ephemeral = EC2Key.generate_key(crv=P256)
        recipient = KeyAgreementWithKeyWrap(
            phdr={headers.Algorithm: EcdhEsA128KW},
            # The public half only: the header is sent.
            uhdr={headers.EphemeralKey: EC2Key(crv=P256, x=ephemeral.x, y=ephemeral.y)},
            payload=cek.k,
        )
        recipient.key = ephemeral
        recipient.local_attrs = {
            headers.StaticKey: EC2Key(crv=P256, x=h(a["x"]), y=h(a["y"])),
            headers.SuppPubOther: OTHER,
        }
    msg = EncMessage(
        phdr={headers.Algorithm: A128GCM},
        uhdr={headers.IV: os.urandom(12)},
        payload=h(a["plaintext"]),
        recipients=[recipient],
    )
    msg.key = cek
    # Detached: the ciphertext (tag appended) goes apart, the message carries nil.
    ciphertext = msg.encrypt()
    msg.payload = None
    return {"info": msg.encode(encrypt=False).hex(), "ciphertext": ciphertext.hex()}


def cwt(a):
    """A delegation CWT (draft-ietf-suit-trust-domains) made by python-cwt with its defaults, which
    add `iat`, `nbf` (now) and `exp` (now + 1 hour) unless given: `issuer` (P-256 `d`, `x`, `y`)
    signs (ES256, COSE_Sign1 tag 18) a claims set whose `cnf` is the COSE_Key of `subject`
    (`x`, `y`); `exp` and `nbf`, when given, replace the defaults. Returns the CWT and the `exp`
    and `nbf` it holds."""
    iss, sub = a["issuer"], a["subject"]
    key = cwt_lib.COSEKey.new(
        {1: 2, 3: -7, -1: 1, -2: h(iss["x"]), -3: h(iss["y"]), -4: h(iss["d"])}
    )
    claims = {8: {1: {1: 2, -1: 1, -2: h(sub["x"]), -3: h(sub["y"])}}}
    for name, label in (("exp", 4), ("nbf", 5)):
        if name in a:
            claims[label] = a[name]
    token = cwt_lib.CWT.new().encode_and_sign(claims, key)
    made = cbor2.loads(cbor2.loads(token).value[2])
    return {"cwt": token.hex(), "exp": made[4], "nbf": made[5]}


COMMANDS = {"decrypt": decrypt, "encrypt": encrypt, "cwt": cwt}

if __name__ == "__main__":
    args = json.load(sys.stdin)
    try:
        out = COMMANDS[sys.argv[1]](args)
    except Exception as e:  # the reason goes to the Rust test
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
    json.dump(out, sys.stdout)
