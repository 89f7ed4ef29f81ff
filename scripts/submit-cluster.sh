#!/usr/bin/env bash
# Submits a job (train, or the command named first: evaluate, score) to a Spark master through scripts/spark-submit,
# with conf/spark-defaults.conf.template (or PROPERTIES_FILE) and the app jar for spark-submit.
#   scripts/submit-cluster.sh MASTER_URL [train|evaluate|score] [options...]
#   e.g. scripts/submit-cluster.sh spark://127.0.0.1:7077 --model lenet --epochs 5 --output hdfs://nn:8020/runs/a
#        scripts/submit-cluster.sh spark://127.0.0.1:7077 score --input hdfs://nn:8020/digits.csv \
#          --model-path hdfs://nn:8020/runs/a/model.zip --output hdfs://nn:8020/scores/a
# DEPLOY_MODE=client (default, unless PROPERTIES_FILE sets spark.submit.deployMode): the driver runs here; the exit code is the job's (0 ok, 2 bad input, 1 failure).
# DEPLOY_MODE=cluster, MASTER_URL yarn: the driver runs in YARN's ApplicationMaster container; spark-submit waits for
#   the application and this script exits with the driver's code (2 bad input, 1 failure), naming its log.
# DEPLOY_MODE=cluster (standalone): the driver runs on a Worker. spark-submit exits 0 even when that driver FAILED,
#   so this script reads the driver's final state from the Master's JSON status page (MASTER_UI_URL, or the one
#   scripts/local-cluster.sh recorded) and exits 1 unless it FINISHED, printing the driver's stderr when local.
#   Paths given to the job must be absolute or on HDFS/S3 (the driver's working directory is on the Worker).
# Env: PROPERTIES_FILE, DRIVER_MEMORY (2g), EXECUTOR_MEMORY (1g), SUBMIT_ARGS (more spark-submit options),
#      DEPLOY_MODE, MASTER_UI_URL, CLUSTER_DIR, SUBMIT_JAR (default: the CPU build's spark-mnist-submit.jar; the
#      GPU build's is modules/app/target/spark-mnist-submit-cuda.jar).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

(( $# >= 1 )) || { log "usage: $0 MASTER_URL [train|evaluate|score] [options...]"; exit 2; }
master="$1"; shift
command=train
if (( $# >= 1 )) && [[ "$1" == train || "$1" == evaluate || "$1" == score ]]; then command="$1"; shift; fi
properties="${PROPERTIES_FILE:-$repo_root/conf/spark-defaults.conf.template}"
submit_jar="${SUBMIT_JAR:-$submit_jar}"
[[ -f "$submit_jar" ]] || { log "SUBMIT_JAR ($submit_jar) does not exist: run mvn -B -DskipTests package"; exit 2; }
[[ -f "$properties" ]] || { log "PROPERTIES_FILE ($properties) does not exist"; exit 2; }
read -r -a extra <<< "${SUBMIT_ARGS:-}"

# DEPLOY_MODE, else the properties file's spark.submit.deployMode (conf/yarn.conf.template says cluster), else client
deploy_mode="${DEPLOY_MODE:-$(awk '$1 == "spark.submit.deployMode" { m = $2 } END { print m }' "$properties")}"
deploy_mode="${deploy_mode:-client}"
[[ "$deploy_mode" == client || "$deploy_mode" == cluster ]] || { log "DEPLOY_MODE ($deploy_mode) must be client or cluster"; exit 2; }
# the log layout's %redacted converter is in the app jar: --driver-class-path (below) puts it where log4j, which
# starts before the app jar is loaded, finds it
driver_opts="-Dlog4j2.configurationFile=$repo_root/conf/log4j2.properties -Dorg.eclipse.deeplearning4j.helpers.disable=false"
# In cluster deploy mode the submission itself goes to the master: ask it first (in client mode the driver asks it,
# with one line of its own)
if [[ "$deploy_mode" == cluster && "$master" == spark://* ]]; then
  IFS=, read -r -a addresses <<< "${master#spark://}"
  master_answers "$master" "standalone master" \
    "start it (scripts/local-cluster.sh start N on this machine) or name one that runs" "${addresses[@]}" || exit 1
elif [[ "$deploy_mode" == cluster && "$master" == yarn ]]; then
  conf_dir="${HADOOP_CONF_DIR:-${YARN_CONF_DIR:-}}"
  [[ -n "$conf_dir" ]] || { log "MASTER_URL yarn needs HADOOP_CONF_DIR (the cluster's configuration)"; exit 2; }
  mapfile -t addresses < <(python3 "$repo_root/scripts/lib/resource_managers.py" "$conf_dir")
  (( ${#addresses[@]} > 0 )) || exit 2  # the helper said why
  master_answers "$master" "YARN ResourceManager" \
    "start it, or name it in yarn.resourcemanager.address of $conf_dir/yarn-site.xml" "${addresses[@]}" || exit 1
fi
if [[ "$deploy_mode" == cluster ]]; then
  # the Worker starts this driver with plain java: Java 17 needs Spark's --add-opens list on it
  driver_opts="${java17_opens[*]} $driver_opts"
  extra+=(--conf spark.standalone.submit.waitAppCompletion=true)
fi
submit=("$repo_root/scripts/spark-submit" \
  --master "$master" \
  --deploy-mode "$deploy_mode" \
  --class dev.sparkmnist.app.Main \
  --name spark-mnist \
  --properties-file "$properties" \
  --driver-memory "${DRIVER_MEMORY:-2g}" \
  --executor-memory "${EXECUTOR_MEMORY:-1g}" \
  --driver-java-options "$driver_opts" \
  --driver-class-path "$submit_jar" \
  "${extra[@]+"${extra[@]}"}" \
  "$submit_jar" "$command" "$@")

if [[ "$deploy_mode" == client ]]; then
  run "${submit[@]}"
  exit $?   # not reached: run's exit status ends the script under set -e, or is 0
fi

# Cluster deploy mode submits through this: the output goes to the terminal, without the lines of any Java stack
# trace spark-submit prints (YARN's client ends a failed application with one), and to $submit_log; sets submit_rc.
submit_log="$(mktemp)"
trap 'rm -f "$submit_log"' EXIT
submit_logged() {
  set +e
  run "${submit[@]}" 2>&1 | tee "$submit_log" \
    | grep -v -E '^[[:space:]]+at |^[[:space:]]+\.\.\. [0-9]+ more|^Exception in thread|^Caused by: '
  submit_rc="${PIPESTATUS[0]}"
  set -e
}

if [[ "$master" == yarn* ]]; then
  # YARN cluster deploy mode: the driver runs in the ApplicationMaster's container and spark-submit waits for the
  # application's end (spark.yarn.submit.waitAppCompletion), failing when it did. The driver's exit code travels as
  # the final report's "User application exited with status N" (Main throws it as a SparkUserAppException).
  submit_logged
  app="$(grep -o 'application_[0-9]*_[0-9]*' "$submit_log" | head -n 1 || true)"
  if (( submit_rc == 0 )); then
    log "YARN application ${app:-?} succeeded"
    exit 0
  fi
  [[ -n "$app" ]] || { log "spark-submit (exit $submit_rc) reported no YARN application: the submission failed"; exit 1; }
  code="$(grep -o 'User application exited with status [0-9]*' "$submit_log" | tail -n 1 | grep -o '[0-9]*$' || true)"
  log "YARN application $app failed${code:+: the driver exited with status $code}; the driver's log (its one-line" \
      "error): yarn logs -applicationId $app -log_files stderr"
  exit "${code:-1}"
fi

# Standalone cluster deploy mode: submit, then find the driver's final state.
cluster_dir="${CLUSTER_DIR:-$repo_root/runs/local-cluster}"
ui="${MASTER_UI_URL:-}"
if [[ -z "$ui" && -f "$cluster_dir/master.ui" ]]; then ui="http://127.0.0.1:$(cat "$cluster_dir/master.ui")"; fi
[[ -n "$ui" ]] || { log "DEPLOY_MODE=cluster needs MASTER_UI_URL (the Master's web UI) to read the driver's state"; exit 2; }
submit_logged
driver="$(grep -o 'driver-[0-9]*-[0-9]*' "$submit_log" | head -n 1 || true)"
if [[ -z "$driver" ]]; then
  log "spark-submit (exit $submit_rc) reported no driver id: the submission failed"
  exit 1
fi
state=""
for _ in $(seq 1 3600); do
  state="$(curl -fsS "$ui/json/" 2>/dev/null | tr -d '\n' \
    | grep -o "\"id\" *: *\"$driver\"[^}]*\"state\" *: *\"[A-Z]*\"" | grep -o '[A-Z]*"$' | tr -d '"' || true)"
  case "$state" in FINISHED|FAILED|ERROR|KILLED) break ;; esac
  sleep 2
done
log "driver $driver final state: ${state:-unknown}"
if [[ "$state" != FINISHED ]]; then
  stderr_file="$(find "$cluster_dir/work" -path "*/$driver/stderr" 2>/dev/null | head -n 1 || true)"
  if [[ -n "$stderr_file" ]]; then
    log "driver stderr ($stderr_file), last lines:"
    grep -v '^\s*at ' "$stderr_file" | tail -n 15 >&2
  else
    log "the driver's log is on its Worker: $ui"
  fi
  exit 1
fi
