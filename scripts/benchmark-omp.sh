#!/usr/bin/env bash
# BENCHMARKS.md, "OpenMP threads per task thread": the same four runs with the runtime module before the fix
# (BEFORE_RUNTIME_JAR: the runtime jar built from the commit before it) and after (this build), one after another.
set -euo pipefail
before_jar="${BEFORE_RUNTIME_JAR:?set BEFORE_RUNTIME_JAR to a runtime-*.jar built without the fix}"
SPARK_MNIST_JAVA_OPTS="${SPARK_MNIST_JAVA_OPTS:--Xmx4g}"
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# both sides without the class-data archive, which only the side on the usual class path could use
export SPARK_MNIST_CDS=0
cd "$repo_root"
mkdir -p runs/ab
bench() { variant=$1; name=$2; shift 2
  first=""
  [[ $variant == before ]] && first="$before_jar"
  APP_CLASSPATH_FIRST="$first" run_app train --data-dir data/mnist --progress none \
    --output "runs/ab/$variant-$name" --overwrite "$@" > "runs/ab/$variant-$name.log" 2>&1
  echo "$variant $name: $(grep 'Listeners: epoch' runs/ab/$variant-$name.log | sed 's/.*Listeners: //' | cut -c1-110 | tr '\n' '|')"
}
for v in before after; do
  bench $v lenet-1jvm-1thread --mode local --model lenet --epochs 1 --threads-per-task 1 --limit-train 20000
  bench $v lenet-1jvm --mode local --model lenet --epochs 1 --limit-train 20000
  bench $v lenet-res2 --model lenet --master 'local[2]' --epochs 2
  bench $v mlp-res2 --model mlp --master 'local[2]' --epochs 2
done
