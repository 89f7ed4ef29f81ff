#!/usr/bin/env bash
# Soak under faults: trains on a real standalone cluster on 127.0.0.1 (scripts/local-cluster.sh) for EPOCHS epochs
# while a fault injector, every KILL_EVERY_EPOCHS completed epochs, waits until the next epoch's training stage runs
# all its tasks, then 0 to MAX_DELAY seconds more inside that stage (lib/training_stage.py, from the driver's REST
# API on DRIVER_UI_PORT), and kills a random executor JVM (SIGKILL); once, at the first such fault from epoch
# WORKER_KILL_EPOCH on, it kills a whole Worker with its executor instead and starts it again WORKER_DOWN seconds
# later. (A fault per epoch at most: Spark aborts a stage that fails spark.stage.maxConsecutiveAttempts times in a
# row, and a new executor takes seconds to start, so faults faster than the cluster recovers end any job.) Each
# fault's stage attempt is then followed to its end on the driver: "failed" (the fault landed: faultsLanded) or
# "complete" (the kill came after the stage's last task and cost nothing). Then checks that the job completed, that
# every epoch counted every example exactly once, and that nothing of the cluster is left running; with BASELINE=1
# it first runs the same job undisturbed and compares the accuracy and the time. Writes OUT_DIR/soak.json and prints one summary line.
#   scripts/soak-cluster.sh OUT_DIR [train options...]
# Env: WORKERS (2), EPOCHS (20), KILL_EVERY_EPOCHS (1), MAX_DELAY (3), WORKER_KILL_EPOCH (2), WORKER_DOWN (5), BASELINE (0),
#      EXPECTED_EXAMPLES (60000: examples per epoch), DATA_DIR (data/mnist), CLUSTER_DIR, MASTER_PORT, MASTER_UI_PORT,
#      DRIVER_UI_PORT (a free port).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

(( $# >= 1 )) || { log "usage: $0 OUT_DIR [train options...]"; exit 2; }
mkdir -p "$1"
out="$(cd "$1" && pwd)"; shift
workers="${WORKERS:-2}"; epochs="${EPOCHS:-20}"; kill_every_epochs="${KILL_EVERY_EPOCHS:-1}"
max_delay="${MAX_DELAY:-3}"
worker_kill_epoch="${WORKER_KILL_EPOCH:-2}"; worker_down="${WORKER_DOWN:-5}"
data_dir="${DATA_DIR:-$repo_root/data/mnist}"
export CLUSTER_DIR="${CLUSTER_DIR:-$out/cluster}"
cluster="$repo_root/scripts/local-cluster.sh"
driver_ui_port="${DRIVER_UI_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
export SUBMIT_ARGS="${SUBMIT_ARGS:-} --conf spark.ui.enabled=true --conf spark.ui.port=$driver_ui_port"
driver_ui="http://127.0.0.1:$driver_ui_port"
trap '"$cluster" stop >/dev/null 2>&1 || true' EXIT

# After a kill in "$1" ("epoch E stage ID attempt A"): how that stage attempt ended, from the driver. A kill that
# came after the stage's last task finished costs no attempt; only the ones that failed their stage (faults_landed)
# must show as stage retries.
landed() {
  local e id a how
  read -r _ e _ id _ a <<< "$1"
  how="$(python3 "$repo_root/scripts/lib/training_stage.py" --outcome "$driver_ui" "$id" "$a" "$pid" 60)"
  log "stage $id attempt $a (that fault's) ended: $how"
  [[ "$how" == failed ]] && faults_landed=$((faults_landed + 1))
  return 0
}

# Runs the job; with FAULTS=1 injects faults while it runs. Prints the job's exit code.
job() {
  local name="$1" faults="$2" log_file="$out/$1.log" pid rc next worker_killed=0 killed_executors=0 t0=$SECONDS
  faults_landed=0
  shift 2
  master="$("$cluster" start "$workers")"
  "$repo_root/scripts/submit-cluster.sh" "$master" --epochs "$epochs" --num-partitions "$workers" \
    --data-dir "$data_dir" --output "$out/$name" --progress none "$@" > "$log_file" 2>&1 &
  pid=$!
  if [[ "$faults" == 1 ]]; then
    local done_epochs=0 seen_epochs k stage
    # the driver's REST API answers its first request seconds late (its start-up, on a busy driver): pay them in
    # the background during epoch 1, not in the first fault's wait
    ( until curl -fsS -m 60 -o /dev/null "$driver_ui/api/v1/applications" 2>/dev/null || ! kill -0 "$pid" 2>/dev/null
      do sleep 0.5; done ) &
    while kill -0 "$pid" 2>/dev/null; do
      seen_epochs="$(grep -c "INFO  Listeners: epoch [0-9]*/$epochs " "$log_file" 2>/dev/null || true)"
      if (( seen_epochs > done_epochs && seen_epochs < epochs )); then
        done_epochs="$seen_epochs"
        if (( done_epochs % kill_every_epochs == 0 )); then
          # into the next epoch's training stage, while all its tasks run
          stage="$(python3 "$repo_root/scripts/lib/training_stage.py" "$driver_ui" "$workers" "$max_delay" "$pid" \
            "$((done_epochs + 1))")" || { log "no fault after epoch $done_epochs: no training stage of a later epoch seen running before the job ended"; break; }
          if (( worker_killed == 0 && done_epochs >= worker_kill_epoch )); then
            local w=$(( (RANDOM % workers) + 1 )) wpid wexec e
            wpid="$(cat "$CLUSTER_DIR/worker-$w.pid")"
            wexec="$(for e in $("$cluster" executors); do
              [[ "$(readlink "/proc/$e/cwd")" == "$CLUSTER_DIR/work/worker-$w/"* ]] && echo "$e"; done || true)"
            log "fault in $stage (after epoch $done_epochs): killing worker-$w (pid $wpid) and its executor ${wexec:-none}"
            kill -9 "$wpid" $wexec 2>/dev/null || true
            worker_killed=1
            landed "$stage"
            sleep "$worker_down"
            "$cluster" restart-worker "$w" >&2
          else
            mapfile -t execs < <("$cluster" executors)
            if (( ${#execs[@]} > 0 )); then
              k="${execs[RANDOM % ${#execs[@]}]}"
              log "fault in $stage (after epoch $done_epochs): killing executor pid $k"
              kill -9 "$k" 2>/dev/null && killed_executors=$((killed_executors + 1)) || true
              landed "$stage"
            fi
          fi
        fi
      fi
      sleep 0.3
    done
  fi
  set +e; wait "$pid"; rc=$?; set -e
  local wall=$((SECONDS - t0)) seen left=0 p
  seen="$(cat "$CLUSTER_DIR"/*.pid 2>/dev/null; "$cluster" executors)"
  "$cluster" stop >&2
  for p in $seen; do kill -0 "$p" 2>/dev/null && left=$((left + 1)); done
  printf '{"name": "%s", "exit": %d, "wallSeconds": %d, "executorsKilled": %d, "workersKilled": %d, "faultsLanded": %d, "processesLeft": %d}\n' \
    "$name" "$rc" "$wall" "$killed_executors" "$worker_killed" "$faults_landed" "$left" > "$out/$name.faults.json"
}

if [[ "${BASELINE:-0}" == 1 ]]; then
  log "undisturbed run"
  job baseline 0 "$@"
fi
log "run under faults"
job soak 1 "$@"
run python3 "$repo_root/scripts/lib/soak_check.py" "$out" "${EXPECTED_EXAMPLES:-60000}"
