#!/usr/bin/env bash
# Submits the training job to a Spark master through scripts/spark-submit, with conf/spark-defaults.conf.template
# (or PROPERTIES_FILE) and the app jar for spark-submit. Client deploy mode: the driver runs here and this script
# exits with the job's exit code (0 ok, 2 bad input, 1 failure).
#   scripts/submit-cluster.sh MASTER_URL [train options...]
#   e.g. scripts/submit-cluster.sh spark://127.0.0.1:7077 --model lenet --epochs 5 --output hdfs://nn:8020/runs/a
# Env: PROPERTIES_FILE, DRIVER_MEMORY (2g), EXECUTOR_MEMORY (1g), SUBMIT_ARGS (more spark-submit options).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

(( $# >= 1 )) || { log "usage: $0 MASTER_URL [train options...]"; exit 2; }
master="$1"; shift
properties="${PROPERTIES_FILE:-$repo_root/conf/spark-defaults.conf.template}"
[[ -f "$submit_jar" ]] || { log "no $submit_jar: run mvn -B -DskipTests package"; exit 2; }
[[ -f "$properties" ]] || { log "PROPERTIES_FILE ($properties) does not exist"; exit 2; }
read -r -a extra <<< "${SUBMIT_ARGS:-}"

run "$repo_root/scripts/spark-submit" \
  --master "$master" \
  --deploy-mode client \
  --class dev.sparkmnist.app.Main \
  --name spark-mnist \
  --properties-file "$properties" \
  --driver-memory "${DRIVER_MEMORY:-2g}" \
  --executor-memory "${EXECUTOR_MEMORY:-1g}" \
  --driver-java-options "-Dlog4j2.configurationFile=$repo_root/conf/log4j2.properties -Dorg.eclipse.deeplearning4j.helpers.disable=false" \
  "${extra[@]+"${extra[@]}"}" \
  "$submit_jar" train "$@"
