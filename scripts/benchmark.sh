#!/usr/bin/env bash
# Runs the BENCHMARKS.md matrix on this machine: MLP and LeNet-5, single-JVM baseline and Spark local[2] parameter
# averaging, 5 epochs each, REPEATS times (default 3); then prints per-epoch medians as a markdown table.
# Usage: scripts/benchmark.sh [OUT_DIR]   (env: REPEATS, EPOCHS, MODELS="mlp lenet", MODES="local spark")
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

prepare_local_run
out="${1:-runs/bench-$(date +%Y%m%d-%H%M%S)}"
repeats="${REPEATS:-3}"
epochs="${EPOCHS:-5}"
mkdir -p "$out"
for model in ${MODELS:-mlp lenet}; do
  for mode in ${MODES:-local spark}; do
    for r in $(seq 1 "$repeats"); do
      run_app train --mode "$mode" --model "$model" --epochs "$epochs" --master 'local[2]' \
        --conf spark.ui.enabled=false --data-dir "$repo_root/data/mnist" --output "$out/$model-$mode-$r" \
        > "$out/$model-$mode-$r.log" 2>&1 || { log "run $model-$mode-$r failed: see $out/$model-$mode-$r.log"; exit 1; }
      log "done $model-$mode-$r"
    done
  done
done
run python3 "$repo_root/scripts/lib/bench_table.py" "$out"
