#!/usr/bin/env bash
# A real Spark standalone cluster on 127.0.0.1: one Master and N Workers (1 core each), started from the Spark home
# the build generated from Maven artifacts (or $SPARK_HOME when it has jars/).
#   scripts/local-cluster.sh start N   start and wait until all N Workers have registered; prints the master URL
#   scripts/local-cluster.sh status    what runs; exit 0 when the Master and every Worker are alive, 3 otherwise
#   scripts/local-cluster.sh stop      stop Workers (and their executors) and the Master; remove work directories
#   scripts/local-cluster.sh executors          the pids of the executor JVMs our Workers started
#   scripts/local-cluster.sh restart-worker I   start Worker I again after it died; waits until it registers
# Env: CLUSTER_DIR (state, logs; default runs/local-cluster), MASTER_PORT (7077), MASTER_UI_PORT (8080),
#      WORKER_MEMORY (2g), START_TIMEOUT seconds (120).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

cluster_dir="${CLUSTER_DIR:-$repo_root/runs/local-cluster}"
master_port="${MASTER_PORT:-7077}"
ui_port="${MASTER_UI_PORT:-8080}"
worker_memory="${WORKER_MEMORY:-2g}"
start_timeout="${START_TIMEOUT:-120}"
export SPARK_LOCAL_IP=127.0.0.1
export SPARK_SCALA_VERSION=2.12

spark_home() {
  if [[ -n "${SPARK_HOME:-}" && -d "$SPARK_HOME/jars" ]]; then
    printf '%s' "$SPARK_HOME"
  else
    ensure_generated_spark_home
    printf '%s' "$generated_spark_home"
  fi
}

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Executor JVMs started by our Workers: their working directory is under our work directory.
our_executors() {
  local pid cwd
  for pid in $(pgrep -f 'org.apache.spark.executor.CoarseGrainedExecutorBackend' || true); do
    cwd="$(readlink "/proc/$pid/cwd" 2>/dev/null || true)"
    [[ "$cwd" == "$cluster_dir/work/"* ]] && printf '%s\n' "$pid"
  done
}

start() {
  local n="$1"
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { log "N ($n) must be a whole number > 0"; exit 2; }
  if alive "$cluster_dir/master.pid"; then
    log "a cluster already runs from $cluster_dir (master pid $(cat "$cluster_dir/master.pid")); stop it first"
    exit 2
  fi
  local home
  home="$(spark_home)"
  export SPARK_HOME="$home"
  mkdir -p "$cluster_dir/logs" "$cluster_dir/work"
  rm -f "$cluster_dir"/*.pid
  local master_url="spark://127.0.0.1:$master_port"
  log "starting Master $master_url (UI http://127.0.0.1:$ui_port) from $home"
  nohup java "${java17_opens[@]}" -Xmx256m -cp "$home/jars/*" org.apache.spark.deploy.master.Master \
    --host 127.0.0.1 --port "$master_port" --webui-port "$ui_port" \
    > "$cluster_dir/logs/master.log" 2>&1 < /dev/null &
  echo $! > "$cluster_dir/master.pid"
  echo "$master_url" > "$cluster_dir/master.url"
  echo "$ui_port" > "$cluster_dir/master.ui"
  wait_for "the Master to listen" master_listening
  for i in $(seq 1 "$n"); do
    start_worker "$i" "$home" "$master_url"
  done
  expected_workers="$n"
  wait_for "$n Worker(s) to register" workers_registered
  log "cluster up: $n Worker(s) registered"
  echo "$master_url"
}

start_worker() {
  local i="$1" home="$2" master_url="$3"
  mkdir -p "$cluster_dir/work/worker-$i"
  SPARK_WORKER_DIR="$cluster_dir/work/worker-$i" nohup java "${java17_opens[@]}" -Xmx256m -cp "$home/jars/*" \
    org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --cores 1 --memory "$worker_memory" \
    --work-dir "$cluster_dir/work/worker-$i" --webui-port 0 "$master_url" \
    > "$cluster_dir/logs/worker-$i.log" 2>&1 < /dev/null &
  echo $! > "$cluster_dir/worker-$i.pid"
}

# Starts Worker I again after it died (a fault injector killed it), and waits until it has registered.
restart_worker() {
  local i="$1"
  [[ -f "$cluster_dir/worker-$i.pid" ]] || { log "no worker-$i in $cluster_dir"; exit 2; }
  alive "$cluster_dir/worker-$i.pid" && { log "worker-$i is alive"; exit 2; }
  alive "$cluster_dir/master.pid" || { log "the Master is not running"; exit 1; }
  local home
  home="$(spark_home)"
  export SPARK_HOME="$home"
  cat "$cluster_dir/logs/worker-$i.log" >> "$cluster_dir/logs/worker-$i.before-restart.log"
  start_worker "$i" "$home" "$(cat "$cluster_dir/master.url")"
  expected_workers=1
  worker_registered() { grep -q "Successfully registered with master" "$cluster_dir/logs/worker-$i.log" 2>/dev/null; }
  wait_for "worker-$i to register again" worker_registered
  log "worker-$i registered again (pid $(cat "$cluster_dir/worker-$i.pid"))"
}

master_listening() { grep -q "I have been elected leader" "$cluster_dir/logs/master.log" 2>/dev/null; }

workers_registered() {
  local count=0 f
  for f in "$cluster_dir"/logs/worker-*.log; do
    grep -q "Successfully registered with master" "$f" 2>/dev/null && count=$((count + 1))
  done
  (( count >= expected_workers ))
}

wait_for() {
  local what="$1" check="$2" waited=0
  until "$check"; do
    if ! alive "$cluster_dir/master.pid"; then
      log "the Master died while waiting for $what; its log:"; tail -20 "$cluster_dir/logs/master.log" >&2
      stop_all; exit 1
    fi
    if (( waited >= start_timeout )); then
      log "timed out after ${start_timeout}s waiting for $what; logs in $cluster_dir/logs"
      stop_all; exit 1
    fi
    sleep 1; waited=$((waited + 1))
  done
}

# Sends TERM to the pids in the files, waits up to 20 s, then KILLs what is left.
stop_pids() {
  local pids=("$@") pid waited=0
  (( ${#pids[@]} == 0 )) && return 0
  kill "${pids[@]}" 2>/dev/null || true
  while (( waited < 20 )); do
    local left=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && left=1; done
    (( left == 0 )) && return 0
    sleep 1; waited=$((waited + 1))
  done
  log "killing what did not stop in 20 s: ${pids[*]}"
  kill -9 "${pids[@]}" 2>/dev/null || true
}

stop_all() {
  local pids=() f
  for f in "$cluster_dir"/worker-*.pid; do
    [[ -f "$f" ]] && alive "$f" && pids+=("$(cat "$f")")
  done
  stop_pids "${pids[@]+"${pids[@]}"}"
  mapfile -t execs < <(our_executors)
  stop_pids "${execs[@]+"${execs[@]}"}"
  if alive "$cluster_dir/master.pid"; then stop_pids "$(cat "$cluster_dir/master.pid")"; fi
  rm -f "$cluster_dir"/*.pid
  rm -rf "$cluster_dir/work"
}

status() {
  local ok=0 f
  if alive "$cluster_dir/master.pid"; then
    echo "master  $(cat "$cluster_dir/master.url")  pid $(cat "$cluster_dir/master.pid")  UI http://127.0.0.1:$(cat "$cluster_dir/master.ui")"
  else
    echo "master  not running"; ok=3
  fi
  for f in "$cluster_dir"/worker-*.pid; do
    [[ -f "$f" ]] || continue
    if alive "$f"; then echo "$(basename "$f" .pid)  pid $(cat "$f")"; else echo "$(basename "$f" .pid)  dead"; ok=3; fi
  done
  echo "executors  $(our_executors | wc -l)"
  return "$ok"
}

case "${1:-}" in
  start) start "${2:-2}" ;;
  stop) stop_all; log "stopped; logs kept in $cluster_dir/logs" ;;
  status) status ;;
  executors) our_executors ;;
  restart-worker) restart_worker "${2:?usage: $0 restart-worker I}" ;;
  *) log "usage: $0 start N | stop | status | executors | restart-worker I"; exit 2 ;;
esac
