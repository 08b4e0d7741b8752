#!/usr/bin/env bash
# Installs the Python peers of the attestation cross-checks in the virtual environment at
# $PWD/.venv (gitignored; .ci/python-peers.sh installs aiocoap into the same one): python-cwt,
# pycose and cryptography (iot-identity's registrar cross-check), pinned. Idempotent, and only
# ever `pip install`s pinned packages; prints nothing on success.
# Then: IOT_PYTHON=$PWD/.venv/bin/python cargo test -p iot-attest --test python_peers
set -euo pipefail

CWT_VERSION=3.3.0
PYCOSE_VERSION=1.1.0
CRYPTOGRAPHY_VERSION=50.0.2
venv="$PWD/.venv"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >/dev/null
fi
version() {
  "$venv/bin/python" -c "import importlib.metadata as m; print(m.version('$1'))" 2>/dev/null || true
}
if [ "$(version cwt)" != "$CWT_VERSION" ] || [ "$(version pycose)" != "$PYCOSE_VERSION" ] ||
  [ "$(version cryptography)" != "$CRYPTOGRAPHY_VERSION" ] ||
  ! "$venv/bin/python" -c 'import cwt, pycose.messages, cbor2, cryptography' 2>/dev/null; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "cwt==$CWT_VERSION" "pycose==$PYCOSE_VERSION" "cryptography==$CRYPTOGRAPHY_VERSION" >/dev/null
fi
"$venv/bin/python" -c 'import cwt, pycose.messages' || {
  echo "python-attest: cwt or pycose does not import after install" >&2
  exit 1
}
