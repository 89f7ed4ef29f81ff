#!/usr/bin/env bash
# Runs the BENCHMARKS.md matrix on this machine: MLP and LeNet-5, the single-JVM baseline ("local") and Spark
# local[2] with each averaging engine ("resident", "dl4j"), EPOCHS epochs each (default 5), REPEATS times (default 3),
# one run after another; then prints per-epoch medians as a markdown table.
# Usage: scripts/benchmark.sh [OUT_DIR] [extra train options...]
#   env: REPEATS, EPOCHS, MODELS="mlp lenet", MODES="local resident dl4j"
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

prepare_local_run
out="${1:-runs/bench-$(date +%Y%m%d-%H%M%S)}"
shift || true
extra=("$@")
repeats="${REPEATS:-3}"
epochs="${EPOCHS:-5}"
mkdir -p "$out"
for model in ${MODELS:-mlp lenet}; do
  for mode in ${MODES:-local resident dl4j}; do
    case "$mode" in
      local) how=(--mode local) ;;
      resident|dl4j) how=(--mode spark --engine "$mode") ;;
      *) log "MODES: unknown mode '$mode' (local, resident, dl4j)"; exit 2 ;;
    esac
    for r in $(seq 1 "$repeats"); do
      run_app train "${how[@]}" --model "$model" --epochs "$epochs" --master 'local[2]' \
        --conf spark.ui.enabled=false --data-dir "$repo_root/data/mnist" --output "$out/$model-$mode-$r" \
        ${extra[@]+"${extra[@]}"} \
        > "$out/$model-$mode-$r.log" 2>&1 || { log "run $model-$mode-$r failed: see $out/$model-$mode-$r.log"; exit 1; }
      log "done $model-$mode-$r"
    done
  done
done
run python3 "$repo_root/scripts/lib/bench_table.py" "$out"
