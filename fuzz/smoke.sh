#!/usr/bin/env bash
# Fuzz smoke: seeds the corpora from the vectors (seed.sh), then runs every target of Cargo.toml
# for ${FUZZ_SECONDS:-30} seconds. A crash (or any libFuzzer failure) fails the script; the input
# that crashed is left in fuzz/artifacts/<target>/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
seconds=${FUZZ_SECONDS:-30}

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "smoke.sh: needs the nightly toolchain (rustup toolchain install nightly --profile minimal)" >&2
  exit 1
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

# Every target of Cargo.toml ([[bin]] entries), as cargo fuzz lists them.
mapfile -t targets < <(cargo +nightly fuzz list)
if [ "${#targets[@]}" -eq 0 ]; then
  echo "smoke.sh: cargo fuzz list found no targets" >&2
  exit 1
fi

./seed.sh

# One build for all targets (release, with debug assertions so that overflows are caught).
cargo +nightly fuzz build --debug-assertions

for t in "${targets[@]}"; do
  echo "=== fuzz $t for ${seconds}s"
  cargo +nightly fuzz run --debug-assertions "$t" "corpus/$t" -- \
    -max_total_time="$seconds" -print_final_stats=1
done
echo "fuzz smoke: ${#targets[@]} targets, ${seconds}s each, no crash"
