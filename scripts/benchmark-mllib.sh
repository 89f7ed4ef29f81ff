#!/usr/bin/env bash
# BENCHMARKS.md, MLlib baseline: MLlib's MultilayerPerceptronClassifier (100 L-BFGS iterations) and the MLP with the
# resident engine (5 epochs), one after the other, Spark local[2], full MNIST. Needs the built jar and data/mnist.
set -euo pipefail
SPARK_MNIST_JAVA_OPTS="${SPARK_MNIST_JAVA_OPTS:--Xmx6g}"
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$repo_root"
mkdir -p runs/bench-mllib
for spec in "mllib-100:--mode mllib --model mlp --mllib-max-iter 100" "mlp-resident-5:--model mlp --epochs 5"; do
  name=${spec%%:*}; opts=${spec#*:}
  start=$SECONDS
  # shellcheck disable=SC2086 # $opts is a list of options
  run_app train --data-dir data/mnist --master 'local[2]' --progress none --output "runs/bench-mllib/$name" \
    --overwrite $opts > "runs/bench-mllib/$name.log" 2>&1
  echo "wall $((SECONDS - start)) s"
  tail -1 runs/bench-mllib/$name.log
  python3 -c "
import json; m=json.load(open('runs/bench-mllib/$name/metrics.json'))
fit=sum(e['fitSeconds'] for e in m['epochs']); print('  fit %.1f s  test accuracy %.2f%%  test loss %.4f  rows %d' % (fit, 100*m['test']['accuracy'], m['test']['loss'], len(m['epochs'])))"
done
