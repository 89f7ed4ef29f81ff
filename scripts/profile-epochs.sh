#!/usr/bin/env bash
# Where a local run's training thread spends each epoch (BENCHMARKS.md, round 36): runs `train` on data/mnist with
# the options given, under `perf record` (1 kHz, CLOCK_MONOTONIC) with HotSpot's perf map and the log's times in
# milliseconds, then prints the training thread's samples by kind of code per epoch (scripts/lib/epoch_profile.py):
# the interpreter, compiled Java, oneDNN's generated kernels, each native library, the kernel. Needs Linux's perf.
# Output under runs/profile-NAME: the run's output and log, perf.data, perf.txt.
# Usage: scripts/profile-epochs.sh NAME [train options...]
#   e.g. scripts/profile-epochs.sh lenet-local --mode local --model lenet --updater momentum --learning-rate 0.01 \
#          --lr-schedule none --input-padding 0 --l2 0 --batch-size-per-worker 64 --epochs 2
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
name="${1:?usage: profile-epochs.sh NAME [train options...]}"
shift
command -v perf > /dev/null || { log "needs Linux's perf (Debian: linux-perf)"; exit 2; }
prepare_local_run
out="$repo_root/runs/profile-$name"
mkdir -p "$out"
# the log's times in milliseconds: each epoch's window is cut from its log line
sed 's/%d{HH:mm:ss}/%d{HH:mm:ss.SSS}/' "$repo_root/conf/log4j2.properties" > "$out/log4j2.properties"
export SPARK_MNIST_LOG4J="$out/log4j2.properties"
# no class-data archive: the same classes loaded from jars whichever archive exists
export SPARK_MNIST_CDS=0
java_mem_opts+=(-XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit)
run_app train --data-dir "$repo_root/data/mnist" --progress none --conf spark.ui.enabled=false \
  --output "$out/output" --overwrite "$@" > "$out/run.log" 2>&1 &
launcher=$!
pid=""
for _ in $(seq 200); do
  pid="$(pgrep -f "dev.sparkmnist.app.Main train .*--output $out/output " | head -1 || true)"
  [[ -n "$pid" ]] && break
  sleep 0.05
done
[[ -n "$pid" ]] || { log "the run did not start: $out/run.log"; wait "$launcher" || true; exit 1; }
offset="$(python3 -c 'import time; print(time.time() - time.monotonic())')"
perf record -q -g -F 1000 -k CLOCK_MONOTONIC -p "$pid" -o "$out/perf.data" 2> "$out/perf.log" || true
status=0
wait "$launcher" || status=$?
[[ "$status" == 0 ]] || { log "the run failed ($status): $out/run.log"; exit "$status"; }
perf script -i "$out/perf.data" -F tid,time,ip,sym,dso -G > "$out/perf.txt" 2>> "$out/perf.log"
run python3 "$repo_root/scripts/lib/epoch_profile.py" "$out/perf.txt" "/tmp/perf-$pid.map" "$out/run.log" \
  "$out/output/metrics.json" "$offset"
