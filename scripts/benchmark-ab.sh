#!/usr/bin/env bash
# A/B of one change on the same train command: "before" and "after" runs in pairs whose order alternates (pair 1
# before-after, pair 2 after-before, ...): on this project's machines the second run of a pair gains from the first
# (a control that cannot change epoch 1 "won" epoch 1 in 5 of 5 fixed-order pairs; BENCHMARKS.md, round 29). One run
# at a time, REPEATS pairs (default 2). Prints each run's per-epoch lines, then a summary (scripts/lib/ab_table.py):
# the medians of each epoch's fit seconds per side and in how many pairs "after" was faster, epoch by epoch and in sum.
# What differs between the sides:
#   BEFORE_JAR   a module jar built before the change, put first on the class path of the "before" runs; "-" for
#                none (the same build on both sides)
#   BEFORE_OPTS / AFTER_OPTS   Java options added to each side's JVM, e.g. a switch: BEFORE_OPTS=-Dsparkmnist.X=false
#   BEFORE_JIT_OPTS   the JIT options of the "before" runs in place of the scripts' SPARK_MNIST_JIT_OPTS ("" for the
#                JVM's defaults)
# Usage: scripts/benchmark-ab.sh BEFORE_JAR|- NAME [train options...]
#   e.g. scripts/benchmark-ab.sh /tmp/before/training.jar lenet-res2 --master 'local[2]' --epochs 2
#        REPEATS=6 BEFORE_OPTS=-Dsparkmnist.trainingStep=false scripts/benchmark-ab.sh - step --mode spark \
#          --master 'local[2]' --model mlp --updater adam --learning-rate 0.001 --lr-schedule none \
#          --batch-size-per-worker 64 --averaging-frequency 8 --epochs 5
#        BEFORE_JIT_OPTS="" scripts/benchmark-ab.sh - jit-lenet --master 'local[2]' --epochs 3
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# both sides without the class-data archive, which only the side on the usual class path could use
export SPARK_MNIST_CDS=0
before_jar="${1:?usage: benchmark-ab.sh BEFORE_JAR NAME [train options...]}"
name="${2:?usage: benchmark-ab.sh BEFORE_JAR NAME [train options...]}"
shift 2
[[ "$before_jar" == - || -f "$before_jar" ]] || { log "no such jar: $before_jar"; exit 2; }
prepare_local_run
out="$repo_root/runs/ab-$name"
mkdir -p "$out"
after_jit=("${jit_opts[@]}")
base_mem=("${java_mem_opts[@]}")
for r in $(seq 1 "${REPEATS:-2}"); do
  order="before after"
  (( r % 2 == 0 )) && order="after before"
  for variant in $order; do
    first=""
    [[ $variant == before && "$before_jar" != - ]] && first="$before_jar"
    jit_opts=("${after_jit[@]}")
    [[ $variant == before && -n "${BEFORE_JIT_OPTS+set}" ]] && read -r -a jit_opts <<< "$BEFORE_JIT_OPTS"
    extra=()
    [[ $variant == before ]] && read -r -a extra <<< "${BEFORE_OPTS:-}"
    [[ $variant == after ]] && read -r -a extra <<< "${AFTER_OPTS:-}"
    java_mem_opts=("${base_mem[@]}" "${extra[@]}")
    APP_CLASSPATH_FIRST="$first" run_app train --data-dir "$repo_root/data/mnist" --progress none \
      --conf spark.ui.enabled=false --output "$out/$variant-$r" --overwrite "$@" > "$out/$variant-$r.log" 2>&1
    echo "== $variant $r"
    grep -E "Listeners: epoch|per worker" "$out/$variant-$r.log" | sed 's/.*\(Listeners\|SparkTrainer\): //' | cut -c1-160
  done
done
run python3 "$repo_root/scripts/lib/ab_table.py" "$out"
