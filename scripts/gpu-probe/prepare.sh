#!/usr/bin/env bash
# Builds the bundle scripts/gpu-probe/run-on-gpu.sh needs on a GPU machine that has no Java and no network, in
# .gpu/ (git-ignored). About 35 MB: a java.base-only JRE, the runtime
# module's classes and a few of the fat binaries of ND4J's CUDA library (the 600 MB jar does not travel).
# Usage: scripts/gpu-probe/prepare.sh [nd4j-cuda jar]   (default: nd4j-cuda-11.6 1.0.0-M2.1 linux-x86_64 in ~/.m2)
set -euo pipefail
cd "$(dirname "$0")/../.."
jar="${1:-$HOME/.m2/repository/org/nd4j/nd4j-cuda-11.6/1.0.0-M2.1/nd4j-cuda-11.6-1.0.0-M2.1-linux-x86_64.jar}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rm -rf .gpu && mkdir -p .gpu/fatbins .gpu/classes
echo "+ unzip libnd4jcuda.so from $jar"
unzip -q -j -o "$jar" '*/libnd4jcuda.so' -d "$work"
python3 scripts/gpu-probe/fatbins.py list "$work/libnd4jcuda.so" | tee .gpu/fatbins/listing.txt
python3 scripts/gpu-probe/fatbins.py extract "$work/libnd4jcuda.so" .gpu/fatbins 3
echo "+ jlink a java.base JRE; DeviceProbe comes compiled with modules/runtime (dev.sparkmnist.runtime.probes)"
test -d modules/runtime/target/classes || mvn -B -q -pl modules/runtime -am -DskipTests compile
jlink --add-modules java.base --strip-debug --no-man-pages --no-header-files --compress=2 --output .gpu/jre
cp -r modules/runtime/target/classes/dev .gpu/classes/
du -sh .gpu
