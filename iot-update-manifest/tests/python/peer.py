"""The Python side of iot-update-manifest's firmware-encryption cross-check
(tests/python_peers.rs): pycose opens the SUIT_Encryption_Info (a COSE_Encrypt with detached
ciphertext) that the builder made, and makes one for the Rust decryptor to open. One command per
run: `peer.py COMMAND`, a JSON object on stdin (bytes as hex), a JSON object on stdout. A failed
decryption exits non-zero with the reason on stderr.

pycose has A128GCM but not A128CTR, so the cross-check is of A128GCM content with both key
distributions, A128KW and ECDH-ES + A128KW (the KDF context's SuppPubInfo `other` is
"SUIT Payload Encryption", draft-ietf-suit-firmware-encryption)."""

import json
import os
import sys

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


COMMANDS = {"decrypt": decrypt, "encrypt": encrypt}

if __name__ == "__main__":
    args = json.load(sys.stdin)
    try:
        out = COMMANDS[sys.argv[1]](args)
    except Exception as e:  # the reason goes to the Rust test
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
    json.dump(out, sys.stdout)
