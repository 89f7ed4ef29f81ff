#!/usr/bin/env bash
# The Spark ML estimator (DigitClassifier) fitted FITS times in one Spark session, as a notebook, a CrossValidator or
# a TrainValidationSplit fits it (scripts/lib/FitSession.java; BENCHMARKS.md, round 37): Spark local[2], MNIST's
# training split as a DataFrame, 2 workers, each fit from the same seed. Prints one table (scripts/lib/fits_table.py):
# each fit's epoch seconds, epoch 1 / epoch 2 and whole fit. A session's later fits run in executors whose JIT
# compiled the training code during the first; a train command or spark-submit job starts new ones each time.
# Usage: scripts/benchmark-fits.sh [OUT_DIR]
#   env: MODELS ("mlp lenet"; LeNet-5 in the teaching configuration at 32 a worker, the MLP's defaults at 64),
#        FITS (3), EPOCHS (2)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
for setting in "FITS=${FITS:-3}" "EPOCHS=${EPOCHS:-2}"; do
  [[ "${setting#*=}" =~ ^[1-9][0-9]{0,2}$ ]] \
    || { log "${setting%%=*} (${setting#*=}) must be a whole number from 1 to 999"; exit 2; }
done
prepare_local_run
out="${1:-runs/fits-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
for model in ${MODELS:-mlp lenet}; do
  case "$model" in
    lenet|mlp) ;;
    *) log "MODELS: unknown model '$model' (lenet, mlp)"; exit 2 ;;
  esac
  run_main "$repo_root/scripts/lib/FitSession.java" "$repo_root/data/mnist" "$model" "${FITS:-3}" "${EPOCHS:-2}" \
    > "$out/$model.log" 2>&1 || { log "the $model session failed: see $out/$model.log"; exit 1; }
  log "done $model"
done
run python3 "$repo_root/scripts/lib/fits_table.py" "$out"
