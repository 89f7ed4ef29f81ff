#!/usr/bin/env bash
# A/B of one module's change: the same train command with a module jar built before the change put first on the
# class path ("before") and with this build ("after"), alternating, REPEATS pairs (default 2), one run at a time.
# Prints each run's per-epoch lines and per-worker breakdown.
# Usage: scripts/benchmark-ab.sh BEFORE_JAR NAME [train options...]
#   e.g. scripts/benchmark-ab.sh /tmp/before/training.jar lenet-res2 --master 'local[2]' --epochs 2
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# both sides without the class-data archive, which only the side on the usual class path could use
export SPARK_MNIST_CDS=0
before_jar="${1:?usage: benchmark-ab.sh BEFORE_JAR NAME [train options...]}"
name="${2:?usage: benchmark-ab.sh BEFORE_JAR NAME [train options...]}"
shift 2
[[ -f "$before_jar" ]] || { log "no such jar: $before_jar"; exit 2; }
prepare_local_run
out="$repo_root/runs/ab-$name"
mkdir -p "$out"
for r in $(seq 1 "${REPEATS:-2}"); do
  for variant in before after; do
    first=""
    [[ $variant == before ]] && first="$before_jar"
    APP_CLASSPATH_FIRST="$first" run_app train --data-dir "$repo_root/data/mnist" --progress none \
      --conf spark.ui.enabled=false --output "$out/$variant-$r" --overwrite "$@" > "$out/$variant-$r.log" 2>&1
    echo "== $variant $r"
    grep -E "Listeners: epoch|per worker" "$out/$variant-$r.log" | sed 's/.*\(Listeners\|SparkTrainer\): //' | cut -c1-160
  done
done
