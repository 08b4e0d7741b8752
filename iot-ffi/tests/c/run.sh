#!/usr/bin/env bash
# Builds the iot-ffi static library (cargo build -p iot-ffi), compiles the test_*.c programs
# against include/iot.h with `cc -std=c11 -Wall -Wextra -Werror`, links them with the system
# libraries the staticlib needs, and runs them (each closes with "N passed, M failed"). With
# IOT_OPENSSL naming an openssl binary, the request test_identity wrote is checked with
# `openssl req -verify`; without, that check is skipped with a message. test_suit links OpenSSL's
# libcrypto when it is there (its secure-element tests need it; required with IOT_LIBCRYPTO set)
# and needs the shared vectors (IOT_VECTORS, or ../shared/vectors beside the checkout). Honours
# CARGO_TARGET_DIR (and any target-dir cargo is configured with) and CC.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ffi=$(cd "$here/../.." && pwd)

# A relative CARGO_TARGET_DIR means relative to where we were called from: make it absolute
# before changing directory.
if [ -n "${CARGO_TARGET_DIR:-}" ]; then
  case $CARGO_TARGET_DIR in
    /*) ;;
    *) CARGO_TARGET_DIR=$(pwd)/$CARGO_TARGET_DIR ;;
  esac
  export CARGO_TARGET_DIR
fi
cd "$ffi"

cargo build -p iot-ffi
target=$(cargo metadata --format-version 1 --no-deps |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
lib=$target/debug/libiot_ffi.a
[ -f "$lib" ] || { echo "run.sh: $lib was not built" >&2; exit 1; }

# The system libraries the staticlib needs, as rustc reports them; a known list if that fails.
native=$(cargo rustc -p iot-ffi --lib --message-format short -- --print native-static-libs 2>&1 |
  sed -n 's/.*native-static-libs: //p' | tail -n 1)
if [ -z "$native" ]; then
  case $(uname -s) in
    Darwin) native="-lSystem -lc -lm" ;;
    *) native="-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc" ;;
  esac
fi

out=$here/build
mkdir -p "$out"
status=0
for t in test_sign1 test_oscore test_identity test_attest; do
  # shellcheck disable=SC2086 # $native is a list of flags
  "${CC:-cc}" -std=c11 -Wall -Wextra -Werror -I "$ffi/include" \
    "$here/$t.c" "$lib" $native -o "$out/$t"
  echo "$t:"
  # test_identity reads the checked-in certificates and writes its CSR into $out.
  "$out/$t" "$ffi/../iot-identity/tests/data" "$out" || status=1
done
# test_suit reads the manifest-spec examples and libcsuit's encrypted and dependency envelopes from the shared vectors: with IOT_VECTORS set they
# must be there; without it they are looked for beside the checkout, and skipped when absent.
spec=${IOT_VECTORS:-$ffi/../../shared/vectors}/suit/manifest-spec
libcsuit=$spec/../libcsuit
# test_suit's secure-element callbacks do their AES key unwrap and P-256 ECDH with OpenSSL's
# libcrypto: with it found, they are built in; without, they are skipped with a message, unless
# IOT_LIBCRYPTO is set (as .ci/run does): then a missing libcrypto fails.
crypto=()
if printf '#include <openssl/evp.h>\nint main(void) { return EVP_aes_128_wrap() == 0; }\n' |
  "${CC:-cc}" -x c - -lcrypto -o "$out/libcrypto-probe" 2>/dev/null; then
  crypto=(-DIOT_TEST_LIBCRYPTO)
elif [ -n "${IOT_LIBCRYPTO:-}" ]; then
  echo "test_suit: OpenSSL's libcrypto (headers and library) is missing (IOT_LIBCRYPTO is set)" >&2
  status=1
fi
# shellcheck disable=SC2086 # $native is a list of flags
"${CC:-cc}" -std=c11 -Wall -Wextra -Werror -I "$ffi/include" "${crypto[@]}" \
  "$here/test_suit.c" "$lib" $native ${crypto:+-lcrypto} -o "$out/test_suit"
if [ -d "$spec" ]; then
  echo "test_suit:"
  "$out/test_suit" "$spec" "$libcsuit" || status=1
elif [ -n "${IOT_VECTORS:-}" ]; then
  echo "test_suit: $spec is missing (IOT_VECTORS is set)" >&2
  status=1
else
  echo "skipped test_suit: ../shared/vectors is not beside this checkout and IOT_VECTORS is not set"
fi
if [ -n "${IOT_OPENSSL:-}" ]; then
  echo "openssl req -verify (the CSR test_identity made):"
  "$IOT_OPENSSL" req -verify -inform DER -in "$out/identity-csr.der" -noout -subject || status=1
else
  echo "skipped: openssl req -verify of the C-made CSR (IOT_OPENSSL is not set)"
fi
exit $status
