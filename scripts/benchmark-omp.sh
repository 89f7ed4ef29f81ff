#!/usr/bin/env bash
# BENCHMARKS.md, "OpenMP threads per task thread": the same four runs with the runtime module before the fix
# (BEFORE_RUNTIME_JAR: the runtime jar built from the commit before it) and after (this build), one after another.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
before_jar="${BEFORE_RUNTIME_JAR:?set BEFORE_RUNTIME_JAR to a runtime-*.jar built without the fix}"
opens=()
while IFS= read -r line; do [[ -z "$line" || "$line" == \#* ]] || opens+=("$line"); done < conf/java17-opens.conf
mkdir -p runs/ab
run() { variant=$1; name=$2; shift 2
  if [[ $variant == before ]]; then cp="modules/app/target/spark-mnist.jar:$before_jar:modules/app/target/lib/*"; else cp="modules/app/target/spark-mnist.jar:modules/app/target/lib/*"; fi
  echo "+ $variant: train $*" >&2
  OMP_NUM_THREADS=1 java "${opens[@]}" -Xmx4g -cp "$cp" dev.sparkmnist.app.Main train --data-dir data/mnist --progress none --output runs/ab/$variant-$name --overwrite "$@" > runs/ab/$variant-$name.log 2>&1
  echo "$variant $name: $(grep 'Listeners: epoch' runs/ab/$variant-$name.log | sed 's/.*Listeners: //' | cut -c1-110 | tr '\n' '|')"
}
for v in before after; do
  run $v lenet-1jvm-1thread --mode local --model lenet --epochs 1 --threads-per-task 1 --limit-train 20000
  run $v lenet-1jvm --mode local --model lenet --epochs 1 --limit-train 20000
  run $v lenet-res2 --model lenet --master 'local[2]' --epochs 2
  run $v mlp-res2 --model mlp --master 'local[2]' --epochs 2
done
