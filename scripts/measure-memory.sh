#!/usr/bin/env bash
# The memory plan against reality (BENCHMARKS.md, memory plan): six one-epoch runs, one JVM each, sequential; for
# each, train's off-heap estimate beside the measured peak outside the Java heap (provenance.json -> memory).
# Needs the built jar (mvn -B -DskipTests package) and data/mnist (scripts/fetch-mnist.sh). Output: runs/mem/.
set -euo pipefail
SPARK_MNIST_JAVA_OPTS="${SPARK_MNIST_JAVA_OPTS:--Xmx4g}"
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$repo_root"
mkdir -p runs/mem
measure() {
  local name="$1"; shift
  run_app train --data-dir data/mnist --epochs 1 --progress none --output "runs/mem/$name" --overwrite "$@" \
    > "runs/mem/$name.log" 2>&1
  python3 - "runs/mem/$name/provenance.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["memory"]
M = 1 << 20
print("  estimate %.0f MiB  peak off-heap %.0f MiB  peak RSS %.0f MiB  ratio %.2f" % (
    m["estimatedJvmBytes"] / M, m["peakOffHeapBytes"] / M, m["peakResidentBytes"] / M,
    m["peakOffHeapBytes"] / m["estimatedJvmBytes"]))
PY
}
measure mlp-local --mode local --model mlp --limit-train 20000
measure lenet-local --mode local --model lenet --limit-train 10000
measure lenet-res2 --model lenet --master 'local[2]' --limit-train 20000
measure mlp-res2-b128 --model mlp --master 'local[2]' --batch-size-per-worker 128 --limit-train 20000
measure mlp-dl4j2 --model mlp --master 'local[2]' --engine dl4j --limit-train 20000
measure lenet-res2-full --model lenet --master 'local[2]'
