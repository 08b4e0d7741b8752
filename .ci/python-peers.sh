#!/usr/bin/env bash
# Installs the Python peers the interop tests talk to, in a virtual environment at $PWD/.venv
# (gitignored): aiocoap with its OSCORE extra, pinned. Idempotent; prints nothing on success.
# Then: IOT_AIOCOAP_BIN=$PWD/.venv/bin cargo test -p iot-oscore --features std --test aiocoap
set -euo pipefail

AIOCOAP_VERSION=0.4.17
venv="$PWD/.venv"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >/dev/null
fi
have=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("aiocoap"))' 2>/dev/null || true)
if [ "$have" != "$AIOCOAP_VERSION" ] || ! "$venv/bin/python" -c 'import cbor2, cryptography, filelock' 2>/dev/null; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check "aiocoap[oscore]==$AIOCOAP_VERSION" >/dev/null
fi
for tool in aiocoap-client aiocoap-fileserver; do
  [ -x "$venv/bin/$tool" ] || { echo "python-peers: $venv/bin/$tool is missing after install" >&2; exit 1; }
done
