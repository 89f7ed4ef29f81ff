#!/usr/bin/env bash
# README command 2: every test (unit tests, then integration tests on real Spark, a standalone cluster, HDFS, YARN
# and real MNIST slices) with `mvn -B verify`, after checking that this machine has what they need. As root it
# installs what is missing with apt-get (Debian's packages); otherwise it names what is missing and stops.
# Arguments go to Maven (e.g. scripts/test.sh -pl modules/app -am). UNIT_ONLY=1 runs `mvn -B test` instead (fast).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$repo_root"

# command -> the Debian package that provides it, and why the tests need it
missing=()
need() { # need COMMAND PACKAGE WHY
  command -v "$1" >/dev/null 2>&1 || { missing+=("$2"); log "missing $1 (Debian package $2): $3"; }
}
use_jdk17 || { missing+=(openjdk-17-jdk-headless); log "missing Java 17 (Debian package openjdk-17-jdk-headless)"; }
need mvn maven "the build"
need gcc gcc "the build compiles the native training step (modules/models/src/main/c)"
need curl curl "the cluster scripts read the driver's state in cluster deploy mode"
need pgrep procps "the cluster scripts clean up executors"
need python3 python3 "the soak script's checker (scripts/lib/soak_check.py)"
need chromium chromium "the report's browser test opens report.html in headless Chromium"
need chromedriver chromium-driver "the report's browser test drives Chromium"

if (( ${#missing[@]} > 0 )); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "installing ${missing[*]}"
    run apt-get update -q
    DEBIAN_FRONTEND=noninteractive run apt-get install -y -q "${missing[@]}"
    use_jdk17
  else
    log "install these first (e.g. sudo apt-get install ${missing[*]}), then run $0 again"
    exit 1
  fi
fi
java -version 2>&1 | head -n 1

if [[ "${UNIT_ONLY:-0}" == 1 ]]; then
  run mvn -B test "$@"
else
  run mvn -B verify "$@"
fi
