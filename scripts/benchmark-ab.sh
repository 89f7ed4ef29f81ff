#!/usr/bin/env bash
# A/B of one module's change: the same train command with a module jar built before the change put first on the
# class path ("before") and with this build ("after"), alternating, REPEATS pairs (default 2), one run at a time.
# Prints each run's per-epoch lines and per-worker breakdown. BEFORE_JAR "-" puts no jar first: with BEFORE_JIT_OPTS
# (the JIT options of the "before" runs in place of the scripts' SPARK_MNIST_JIT_OPTS; "" for the JVM's defaults)
# that compares JIT options on one build.
# Usage: scripts/benchmark-ab.sh BEFORE_JAR|- NAME [train options...]
#   e.g. scripts/benchmark-ab.sh /tmp/before/training.jar lenet-res2 --master 'local[2]' --epochs 2
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
for r in $(seq 1 "${REPEATS:-2}"); do
  for variant in before after; do
    first=""
    [[ $variant == before && "$before_jar" != - ]] && first="$before_jar"
    jit_opts=("${after_jit[@]}")
    [[ $variant == before && -n "${BEFORE_JIT_OPTS+set}" ]] && read -r -a jit_opts <<< "$BEFORE_JIT_OPTS"
    APP_CLASSPATH_FIRST="$first" run_app train --data-dir "$repo_root/data/mnist" --progress none \
      --conf spark.ui.enabled=false --output "$out/$variant-$r" --overwrite "$@" > "$out/$variant-$r.log" 2>&1
    echo "== $variant $r"
    grep -E "Listeners: epoch|per worker" "$out/$variant-$r.log" | sed 's/.*\(Listeners\|SparkTrainer\): //' | cut -c1-160
  done
done
