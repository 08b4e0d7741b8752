#!/usr/bin/env bash
# Worst-case stack of the firmware images (DESIGN.md "Measuring on a constrained target").
#
# Method: the images are built as report.sh builds them (thumbv7em-none-eabihf, release: opt-level
# "s", LTO, one codegen unit, panic abort) but with the nightly compiler and `-Z emit-stack-sizes`,
# which makes LLVM record each function's frame in a `.stack_sizes` section. stack.py reads the
# frames with `llvm-readobj --stack-sizes`, builds the call graph from `llvm-objdump -d` (direct
# calls and tail calls), and walks it from the reset handler (`Reset`, which calls `main`): the
# deepest chain is the worst case, printed with its frames, then the largest frames. Functions
# precompiled without the flag (compiler_builtins' memcpy, say) get their prologue's frame,
# marked `~`. An indirect call is followed to the functions whose address the caller builds in a
# register, and listed. Recursion makes the worst case unbounded: each recursive cycle is
# printed with what one more turn of it adds, to be multiplied by the bound the code puts on it
# (a nesting limit, say), which the binary does not tell.
#
# What it does not count: exception and interrupt handlers (none in these images; a Cortex-M4F
# stacks 32 bytes per exception, 104 with the FPU context, on top of the figure), and the
# nightly compiler's code can differ slightly from the stable build that report.sh measures.
#
# Usage: stack.sh [IMAGE...]   (default: the protocol images)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
target=thumbv7em-none-eabihf
images=("$@")
[ ${#images[@]} -gt 0 ] || images=(oscore identity_csr attest_psa suit_example3 suit_dependency)

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  rustup toolchain install nightly --profile minimal >&2
fi
if ! rustup +nightly target list --installed 2>/dev/null | grep -qx "$target"; then
  rustup +nightly target add "$target" >&2
fi

# llvm-readobj / llvm-objdump: on PATH, else rustup's llvm-tools, else Debian's llvm package.
find_tool() {
  local name=$1 sysroot host
  if command -v "$name" >/dev/null 2>&1; then
    command -v "$name"
    return
  fi
  sysroot=$(rustc --print sysroot)
  host=$(rustc -vV | sed -n 's/^host: //p')
  if [ -x "$sysroot/lib/rustlib/$host/bin/$name" ]; then
    echo "$sysroot/lib/rustlib/$host/bin/$name"
    return
  fi
  return 1
}
if ! readobj=$(find_tool llvm-readobj) || ! objdump=$(find_tool llvm-objdump); then
  rustup component add llvm-tools >&2 || true
  if ! readobj=$(find_tool llvm-readobj) || ! objdump=$(find_tool llvm-objdump); then
    { apt-get update -qq && apt-get install -y -qq llvm; } >&2
    readobj=$(find_tool llvm-readobj)
    objdump=$(find_tool llvm-objdump)
  fi
fi

out="${CARGO_TARGET_DIR:-$here/target}/stack-sizes"
# suit_dependency needs a feature the others go without (Cargo.toml `required-features`): it is
# built on its own, as report.sh does, since Cargo unifies features within one build.
bins=()
dependency=()
for img in "${images[@]}"; do
  if [ "$img" = suit_dependency ]; then
    dependency=(--features dependencies --bin "$img")
  else
    bins+=(--bin "$img")
  fi
done
# RUSTFLAGS replaces .cargo/config.toml's target rustflags, so the linker script and the sha2
# backend choice are named again.
build() {
  RUSTFLAGS="-C link-arg=-Tlink.x --cfg sha2_backend_soft=\"compact\" -Z emit-stack-sizes" \
    cargo +nightly build --release --target "$target" --target-dir "$out" "$@" >&2
}
[ ${#bins[@]} -eq 0 ] || build "${bins[@]}"
[ ${#dependency[@]} -eq 0 ] || build "${dependency[@]}"

echo "$target, opt-level \"s\", LTO, nightly -Z emit-stack-sizes; bytes ($(basename "$readobj"), $(basename "$objdump"))"
for img in "${images[@]}"; do
  echo "== $img"
  python3 "$here/stack.py" "$readobj" "$objdump" "$out/$target/release/$img" Reset
done
