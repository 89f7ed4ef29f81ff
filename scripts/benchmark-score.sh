#!/usr/bin/env bash
# BENCHMARKS.md, "score": digits scored per second by `score`, in Spark local mode (local[2]) and on a real standalone
# cluster of 2 one-core Workers on 127.0.0.1, for the t10k idx files (10,000 digits) and the training set as
# mnist_train.csv (60,000 digits, label first, no header), one run after another.
# Usage: MODEL=runs/lenet-TIMESTAMP/model.zip scripts/benchmark-score.sh   (needs the built jars and data/mnist)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$repo_root"
model="${MODEL:?set MODEL to a model.zip written by train}"
model="$(cd "$(dirname "$model")" && pwd)/$(basename "$model")"
out="$repo_root/runs/bench-score"
rm -rf "$out" && mkdir -p "$out"
csv="$out/mnist_train.csv"
log "writing $csv from data/mnist (the training set as CSV)"
python3 - "$repo_root/data/mnist" "$csv" <<'PY'
import sys
d, out = sys.argv[1], sys.argv[2]
images = open(d + "/train-images-idx3-ubyte", "rb").read()[16:]
labels = open(d + "/train-labels-idx1-ubyte", "rb").read()[8:]
with open(out, "w") as f:
    for i, label in enumerate(labels):
        f.write(str(label) + "," + ",".join(map(str, images[i * 784:(i + 1) * 784])) + "\n")
PY
summary() { python3 -c "
import json,sys; s=json.load(open(sys.argv[1]+'/score.json'))
print('%-30s %7d digits  %6.1f s  %7.0f digits/s  accuracy %.2f%%' % (sys.argv[2], s['digits'], s['seconds'], s['digitsPerSecond'], 100*s['accuracy']))" "$1" "$2"; }
for input in "$repo_root/data/mnist" "$csv"; do
  name="local[2] $(basename "$input")"
  run_app score --input "$input" --model-path "$model" --output "$out/local-$(basename "$input")" \
    --master 'local[2]' --conf spark.ui.enabled=false > "$out/local-$(basename "$input").log" 2>&1
  summary "$out/local-$(basename "$input")" "$name"
done
export CLUSTER_DIR="$out/cluster"
master_url="$("$repo_root/scripts/local-cluster.sh" start 2 | tail -n 1)"
trap '"$repo_root/scripts/local-cluster.sh" stop >/dev/null 2>&1 || true' EXIT
for input in "$repo_root/data/mnist" "$csv"; do
  name="standalone 2x1 $(basename "$input")"
  "$repo_root/scripts/submit-cluster.sh" "$master_url" score --input "$input" --model-path "$model" \
    --output "$out/cluster-$(basename "$input")" > "$out/cluster-$(basename "$input").log" 2>&1
  summary "$out/cluster-$(basename "$input")" "$name"
done
