#!/usr/bin/env bash
# The resident engine's exchange alone, no training, on a real standalone cluster on 127.0.0.1: for each N in
# WORKERS (default "2 3 4 6 8"), a cluster of N one-core Workers, then ExchangeBenchmark through spark-submit:
# N barrier tasks average a synthetic vector of the default LeNet job's size and of the MLP's through the real
# PeerExchange, ROUNDS rounds (default 400), while the driver counts its RPC messages. Prints a markdown table
# (median ms per round, bytes per worker per round, driver messages per round and per stage), then the cost model
# fitted to it (scripts/lib/cost_model.py).
# Usage: scripts/benchmark-exchange.sh [OUT_DIR]    env: WORKERS, ROUNDS, EXECUTOR_MEMORY (512m)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

cd "$repo_root"
ensure_built
[[ -f "$submit_jar" ]] || { log "no $submit_jar: run mvn -B -DskipTests package"; exit 2; }
out="${1:-runs/bench-exchange-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
export CLUSTER_DIR="$out/cluster"
trap 'scripts/local-cluster.sh stop >/dev/null 2>&1 || true' EXIT
rounds="${ROUNDS:-400}"
for n in ${WORKERS:-2 3 4 6 8}; do
  master="$(WORKER_MEMORY=1g scripts/local-cluster.sh start "$n")"
  run scripts/spark-submit --master "$master" --deploy-mode client \
    --class dev.sparkmnist.training.resident.ExchangeBenchmark --name exchange-benchmark \
    --driver-memory 1g --executor-memory "${EXECUTOR_MEMORY:-512m}" \
    --conf spark.ui.enabled=false --conf spark.cores.max="$n" \
    --conf spark.scheduler.minRegisteredResourcesRatio=1.0 \
    --driver-java-options "-Dlog4j2.configurationFile=$repo_root/conf/log4j2.properties" \
    --driver-class-path "$submit_jar" \
    "$submit_jar" "$n" "$rounds" > "$out/exchange-w$n.jsonl" 2> "$out/exchange-w$n.log" \
    || { log "N=$n failed: see $out/exchange-w$n.log"; exit 1; }
  log "done N=$n: $(tr '\n' ' ' < "$out/exchange-w$n.jsonl" | cut -c1-200)"
  scripts/local-cluster.sh stop
done
run python3 "$repo_root/scripts/lib/cost_model.py" "$out"
