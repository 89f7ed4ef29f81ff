#!/usr/bin/env bash
# Standalone-cluster figures for BENCHMARKS.md: for 1 and 2 Workers (1 core each) on 127.0.0.1, MLP and LeNet-5
# trained through submit-cluster.sh for EPOCHS (default 2) epochs with each averaging engine, one run after
# another; prints a markdown table. --num-partitions is the number of Workers (one worker per core).
# Usage: scripts/benchmark-cluster.sh [OUT_DIR] [extra train options...]
#   env: EPOCHS, MODELS="mlp lenet", WORKERS="1 2", ENGINES="resident dl4j"
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

prepare_local_run
out="$(cd "$(dirname "${1:-runs/bench-cluster}")" && pwd)/$(basename "${1:-runs/bench-cluster-$(date +%Y%m%d-%H%M%S)}")"
epochs="${EPOCHS:-2}"
shift || true
extra=("$@")
mkdir -p "$out"
export CLUSTER_DIR="$out/cluster"
trap 'scripts/local-cluster.sh stop >/dev/null 2>&1 || true' EXIT
for workers in ${WORKERS:-1 2}; do
  master="$(scripts/local-cluster.sh start "$workers")"
  for model in ${MODELS:-mlp lenet}; do
    for engine in ${ENGINES:-resident dl4j}; do
      name="$model-$engine-w$workers"
      scripts/submit-cluster.sh "$master" --model "$model" --epochs "$epochs" --engine "$engine" \
        --num-partitions "$workers" --data-dir "$repo_root/data/mnist" --output "$out/$name" \
        --export-dir "$out/export" --export-dir-shared ${extra[@]+"${extra[@]}"} \
        > "$out/$name.log" 2>&1 || { log "run $name failed: see $out/$name.log"; exit 1; }
      log "done $model, $engine engine, $workers worker(s)"
    done
  done
  scripts/local-cluster.sh stop
done
run python3 "$repo_root/scripts/lib/bench_cluster_table.py" "$out"
