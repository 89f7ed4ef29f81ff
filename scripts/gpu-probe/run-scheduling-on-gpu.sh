#!/usr/bin/env bash
# On a GPU machine: Spark's GPU resource scheduling with scripts/gpu-discovery.sh and the real nvidia-smi
# (GpuSchedulingProbe: a local-cluster Worker with the node's GPUs, tasks asking for one GPU each, the job's
# GpuBinding and GPU check inside each task). Needs a bundle dir holding jre/ (Java SE), spark-home/ (jars/ of
# modules/spark-home, rocksdbjni left out) and classes/ (modules/runtime classes, GpuSchedulingProbe among them), made by
# prepare-scheduling.sh. Run from the repository root: bash scripts/gpu-probe/run-scheduling-on-gpu.sh BUNDLE [TASKS]
set -euo pipefail
bundle="$1"
tasks="${2:-4}"
export PATH="$bundle/jre/bin:$PATH" SPARK_HOME="$bundle/spark-home" SPARK_SCALA_VERSION=2.12 SPARK_LOCAL_IP=127.0.0.1
mapfile -t opens < <(grep -v '^#' conf/java17-opens.conf)
nvidia-smi --query-gpu=index,uuid,name,compute_cap --format=csv,noheader
echo "+ GpuSchedulingProbe $PWD/scripts/gpu-discovery.sh $tasks"
java "${opens[@]}" -cp "$bundle/classes:$SPARK_HOME/jars/*" dev.sparkmnist.runtime.probes.GpuSchedulingProbe \
  "$PWD/scripts/gpu-discovery.sh" "$tasks" 2>&1 | grep -v ' INFO '
