#!/usr/bin/env bash
# Side by side with a peer, one run after another on the same idx files and cores: the teaching material's models in
# PyTorch on CPU (scripts/lib/peer_torch.py), then ours in one JVM (--mode local) and on the resident engine (Spark
# local[2]: 2 workers with half the global batch each), all at the same global batch (LeNet-5 64, MLP 128) and the
# teaching configuration (LeNet-5: SGD momentum 0.9, lr 0.01, constant, 28x28; MLP: Adam 1e-3). Prints one table:
# epoch-1 and epoch-2 fit seconds (epoch 1 holds start-up and warm-up), examples/s, test accuracy, ratio to PyTorch.
# PyTorch runs twice: with one thread ("torch1") and with THREADS intra-op threads ("torch"; default all cores) and
# OPENBLAS_NUM_THREADS=1 (without it OpenBLAS starts its own threads beside PyTorch's and two threads ran LeNet 2.3x
# and the MLP 5.6x slower than one did here). Ratios are to the faster of the two: PyTorch at its best on these cores.
# Our runs start from the scripts' class-data archive, as every local run does (SPARK_MNIST_CDS=0: without it).
# "localwarm" and "residentwarm" run "local" and "resident" twice in one JVM (scripts/lib/WarmJvm.java) and report the
# second run: a JVM that has trained before, as every fit after the first in a Spark session that fits more than once
# (the first run's output is under OUT_DIR/warm-up/; no class-data archive: by the second run every class is loaded).
# OpenBLAS (PyTorch's and ours) runs the kernels OPENBLAS_CORETYPE names where the environment sets it (machine.txt
# records it); to compare each library's own choice there, run the script under `env -u OPENBLAS_CORETYPE`.
# Usage: scripts/benchmark-peer.sh [OUT_DIR]
#   env: MODELS ("lenet mlp"), WHO ("torch1 torch local resident"; also localwarm, residentwarm), EPOCHS (2),
#        REPEATS (1), THREADS, PYTHON (/usr/bin/python3, which sees Debian's python3-torch; it also needs
#        libopenblas0-pthread)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

python="${PYTHON:-/usr/bin/python3}"
if ! "$python" -c 'import torch' >/dev/null 2>&1; then
  log "$python cannot import torch: install Debian's python3-torch and libopenblas0-pthread (apt-get install" \
      "python3-torch libopenblas0-pthread), or set PYTHON to a Python that has PyTorch"
  exit 2
fi
prepare_local_run
out="${1:-runs/peer-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
# The machine the figures belong to: the ratios move with it (BENCHMARKS.md, round 20: PyTorch gained more than we did
# from a Zen 4 with AVX-512). peer_table.py prints it above the table.
{
  lscpu | awk -F: '/^(Model name|CPU family|Model|CPU\(s\)|Thread\(s\) per core):/ {
    gsub(/^ +| +$/, "", $2); printf "%s%s %s", sep, $1, $2; sep = ", " }'
  isa=$(grep -o -w -m1 'avx512f' /proc/cpuinfo || grep -o -w -m1 'avx2' /proc/cpuinfo || echo 'no AVX2')
  # OpenBLAS's kernels follow OPENBLAS_CORETYPE where the environment sets it, PyTorch's and ours (BENCHMARKS.md,
  # round 28: this project's machines set Haswell, which holds both to AVX2)
  echo ", widest vectors: ${isa/avx512f/AVX-512}, OPENBLAS_CORETYPE ${OPENBLAS_CORETYPE:-unset}"
} > "$out/machine.txt"
epochs="${EPOCHS:-2}"
threads="${THREADS:-$(nproc)}"
data="$repo_root/data/mnist"
for r in $(seq 1 "${REPEATS:-1}"); do
  for model in ${MODELS:-lenet mlp}; do
    case "$model" in
      lenet) batch=64; teaching=(--updater momentum --learning-rate 0.01 --lr-schedule none --input-padding 0 --l2 0) ;;
      mlp) batch=128; teaching=(--updater adam --learning-rate 0.001 --lr-schedule none) ;;
      *) log "MODELS: unknown model '$model' (lenet, mlp)"; exit 2 ;;
    esac
    for who in ${WHO:-torch1 torch local resident}; do
      name="$model-$who-$r"
      local_args=(--mode local --model "$model" "${teaching[@]}" --epochs "$epochs" --batch-size-per-worker "$batch"
                  --data-dir "$data" --output "$out/$name")
      resident_args=(--mode spark --engine resident --master 'local[2]' --conf spark.ui.enabled=false --model "$model"
                     "${teaching[@]}" --epochs "$epochs" --batch-size-per-worker $((batch / 2)) --data-dir "$data"
                     --output "$out/$name")
      case "$who" in
        torch1) run "$python" "$repo_root/scripts/lib/peer_torch.py" "$data" "$model" "$batch" "$epochs" 1 \
                 > "$out/$name.jsonl" 2> "$out/$name.log" ;;
        torch) OPENBLAS_NUM_THREADS=1 run "$python" "$repo_root/scripts/lib/peer_torch.py" "$data" "$model" "$batch" \
                 "$epochs" "$threads" > "$out/$name.jsonl" 2> "$out/$name.log" ;;
        local) run_app train "${local_args[@]}" > "$out/$name.log" 2>&1 ;;
        resident) run_app train "${resident_args[@]}" > "$out/$name.log" 2>&1 ;;
        localwarm) run_main "$repo_root/scripts/lib/WarmJvm.java" "$out/warm-up/$name" train "${local_args[@]}" \
                 > "$out/$name.log" 2>&1 ;;
        residentwarm) run_main "$repo_root/scripts/lib/WarmJvm.java" "$out/warm-up/$name" train \
                 "${resident_args[@]}" > "$out/$name.log" 2>&1 ;;
        *) log "WHO: unknown '$who' (torch1, torch, local, resident, localwarm, residentwarm)"; exit 2 ;;
      esac || { log "run $name failed: see $out/$name.log"; exit 1; }
      log "done $name"
    done
  done
done
run python3 "$repo_root/scripts/lib/peer_table.py" "$out"
