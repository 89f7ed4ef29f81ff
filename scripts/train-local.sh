#!/usr/bin/env bash
# README command 1: on a fresh clone, builds if needed, fetches and verifies MNIST, trains LeNet-5 for 5 epochs with
# Spark parameter averaging in local mode on all cores, then evaluates the saved model and prints the summary.
# Extra arguments go to `train` (e.g. --model mlp --epochs 1). The output directory is runs/lenet-TIMESTAMP
# unless OUTPUT is set.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

prepare_local_run

output="${OUTPUT:-runs/lenet-$(date +%Y%m%d-%H%M%S)}"
run_app train --data-dir "$repo_root/data/mnist" --model lenet --epochs 5 --master 'local[*]' \
  --output "$output" "$@"
log "evaluating the saved model $output/model.zip on the t10k test split"
run_app evaluate --model-path "$output/model.zip" --data-dir "$repo_root/data/mnist" --master 'local[*]'
log "report: $output/report.html (open it in a browser; the charts are also in $output/charts/)"
