#!/usr/bin/env bash
# Builds the bundle for run-scheduling-on-gpu.sh: .gpu2/part-* (xz tar, about 140 MB, split to fit the device
# tool's 64 MiB per call; send each part, then: cat part-* | xz -d | tar x). Needs mvn package to have run.
set -euo pipefail
cd "$(dirname "$0")/../.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
b="$work/b"
mkdir -p "$b/spark-home/jars" "$b/classes"
jlink --add-modules java.se,jdk.unsupported,jdk.management,jdk.crypto.ec,jdk.zipfs,jdk.naming.dns,jdk.security.auth --strip-debug \
  --no-man-pages --no-header-files --compress=2 --output "$b/jre"
cp modules/spark-home/target/spark-home/RELEASE "$b/spark-home/"
find modules/spark-home/target/spark-home/jars -name '*.jar' ! -name 'rocksdbjni-*' -exec cp {} "$b/spark-home/jars/" \;
cp -r modules/runtime/target/classes/dev "$b/classes/"
rm -rf .gpu2 && mkdir .gpu2
tar cf - -C "$work" b | xz -T2 -6 | split -b 50m - .gpu2/part-
ls -la .gpu2
