#!/usr/bin/env bash
# The memory plan against reality (BENCHMARKS.md, memory plan): six one-epoch runs, one JVM each, sequential; for
# each, train's off-heap estimate beside the measured peak outside the Java heap (provenance.json -> memory).
# Needs the built jar (mvn -B -DskipTests package) and data/mnist (scripts/fetch-mnist.sh). Output: runs/mem/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
opens=()
while IFS= read -r line; do [[ -z "$line" || "$line" == \#* ]] || opens+=("$line"); done < conf/java17-opens.conf
mkdir -p runs/mem
run() {
  local name="$1"; shift
  echo "+ train $* (runs/mem/$name)"
  java "${opens[@]}" -Xmx4g -cp "modules/app/target/spark-mnist.jar:modules/app/target/lib/*" dev.sparkmnist.app.Main \
    train --data-dir data/mnist --epochs 1 --progress none --output "runs/mem/$name" --overwrite "$@" \
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
run mlp-local --mode local --model mlp --limit-train 20000
run lenet-local --mode local --model lenet --limit-train 10000
run lenet-res2 --model lenet --master 'local[2]' --limit-train 20000
run mlp-res2-b128 --model mlp --master 'local[2]' --batch-size-per-worker 128 --limit-train 20000
run mlp-dl4j2 --model mlp --master 'local[2]' --engine dl4j --limit-train 20000
run lenet-res2-full --model lenet --master 'local[2]'
