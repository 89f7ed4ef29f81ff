#!/usr/bin/env bash
# One training step alone, ours against DL4J's own layers: StepBenchmark (modules/training) fits synthetic MNIST-shaped
# minibatches with the network as this project trains it (Models.network) and as DL4J builds it from the same
# configuration, alternating in rounds in one JVM, one ND4J thread (no data reading, Spark or evaluation).
# Usage: scripts/benchmark-step.sh MODEL BATCH [STEPS_PER_ROUND [ROUNDS [THREADS]]]   e.g. scripts/benchmark-step.sh lenet 64
#   env: APP_CLASSPATH_FIRST=JAR puts a module jar built before a change first on the class path (an A/B by hand);
#        STEP_VARIANTS=ours|dl4j times one variant only (for a profiler: perf, JFR); STEP_WORKERS=N times N of our
#        networks training at once on N threads of one JVM (as the resident engine's workers, no averaging);
#        STEP_OP_PROFILE=1 prints ND4J's op profiler dashboard and the ND4J operations a step instead of timing;
#        STEP_EACH_ROUND=1 also prints each round's ms a step and when it ended (ms since 1970), the first round
#        included: the warm-up as the JVM goes (e.g. scripts/benchmark-step.sh lenet 32 47 40).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
[[ $# -ge 2 ]] || { log "usage: benchmark-step.sh lenet|mlp BATCH [STEPS_PER_ROUND [ROUNDS [THREADS]]]"; exit 2; }
cd "$repo_root"
ensure_built
run_main dev.sparkmnist.training.baseline.StepBenchmark "$@"
