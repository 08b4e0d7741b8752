#!/usr/bin/env bash
# Builds every firmware image in src/bin/ for thumbv7em-none-eabihf (release: opt-level "s", LTO,
# one codegen unit, panic abort; sha2's compact software backend, .cargo/config.toml) and prints text/data/bss per image with llvm-size
# (DESIGN.md "Measuring on a constrained target").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
target=thumbv7em-none-eabihf

if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
  rustup target add "$target"
fi

# llvm-size: on PATH, else rustup's llvm-tools component, else cargo-binutils' rust-size,
# else Debian's llvm package.
find_size() {
  if command -v llvm-size >/dev/null 2>&1; then
    command -v llvm-size
    return
  fi
  local sysroot host tool
  sysroot=$(rustc --print sysroot)
  host=$(rustc -vV | sed -n 's/^host: //p')
  tool="$sysroot/lib/rustlib/$host/bin/llvm-size"
  if [ -x "$tool" ]; then
    echo "$tool"
    return
  fi
  if command -v rust-size >/dev/null 2>&1; then
    command -v rust-size
    return
  fi
  return 1
}
if ! size_tool=$(find_size); then
  echo "llvm-size not found: installing rustup's llvm-tools component" >&2
  rustup component add llvm-tools >&2 || true
  if ! size_tool=$(find_size); then
    echo "still no llvm-size: installing Debian's llvm package" >&2
    { apt-get update -qq && apt-get install -y -qq llvm; } >&2 || true
    if ! size_tool=$(find_size); then
      size_tool=$(compgen -c llvm-size- | sort -V | tail -n 1 || true)
      if [ -z "$size_tool" ]; then
        echo "no llvm-size available (tried PATH, rustup llvm-tools, rust-size, apt llvm)" >&2
        exit 1
      fi
    fi
  fi
fi

images=()
for f in src/bin/*.rs; do
  images+=("$(basename "$f" .rs)")
done

cargo build --release --target "$target" --bins >&2
# An image that needs an optional feature of a crate (Cargo.toml `required-features`) is built
# on its own: Cargo unifies features within one build, and the other images go without them.
cargo build --release --target "$target" --features dependencies --bin suit_dependency >&2

out="${CARGO_TARGET_DIR:-$here/target}/$target/release"
echo "thumbv7em-none-eabihf, opt-level \"s\", LTO, codegen-units 1, panic abort, sha2 compact (.cargo/config.toml); sizes in bytes ($(basename "$size_tool"))"
printf '%-24s %8s %8s %8s %14s\n' image text data bss "text - empty"
base=""
for img in empty "${images[@]}"; do
  [ "$img" = empty ] && [ -n "$base" ] && continue
  # Berkeley format: text data bss dec hex filename
  line=$("$size_tool" "$out/$img" | tail -n 1)
  read -r text data bss _ <<<"$line"
  [ "$img" = empty ] && base=$text
  printf '%-24s %8s %8s %8s %14s\n' "$img" "$text" "$data" "$bss" "$((text - base))"
done
