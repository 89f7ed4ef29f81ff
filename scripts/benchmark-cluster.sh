#!/usr/bin/env bash
# Standalone-cluster figures for BENCHMARKS.md: for 1 and 2 Workers (1 core each) on 127.0.0.1, MLP and LeNet-5
# trained through submit-cluster.sh for EPOCHS (default 2) epochs; prints a markdown table.
# Usage: scripts/benchmark-cluster.sh [OUT_DIR]   (env: EPOCHS, MODELS="mlp lenet", WORKERS="1 2")
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

prepare_local_run
out="$(cd "$(dirname "${1:-runs/bench-cluster}")" && pwd)/$(basename "${1:-runs/bench-cluster-$(date +%Y%m%d-%H%M%S)}")"
epochs="${EPOCHS:-2}"
mkdir -p "$out"
export CLUSTER_DIR="$out/cluster"
trap 'scripts/local-cluster.sh stop >/dev/null 2>&1 || true' EXIT
for workers in ${WORKERS:-1 2}; do
  master="$(scripts/local-cluster.sh start "$workers")"
  for model in ${MODELS:-mlp lenet}; do
    scripts/submit-cluster.sh "$master" --model "$model" --epochs "$epochs" --data-dir "$repo_root/data/mnist" \
      --output "$out/$model-w$workers" --export-dir "$out/export" --export-dir-shared \
      > "$out/$model-w$workers.log" 2>&1 || { log "run $model-w$workers failed: see $out/$model-w$workers.log"; exit 1; }
    log "done $model with $workers worker(s)"
  done
  scripts/local-cluster.sh stop
done
run python3 "$repo_root/scripts/lib/bench_cluster_table.py" "$out"
