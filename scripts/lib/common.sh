# Shared by the scripts: repo paths, the app jar, Java options. Source it; it defines no side effects but variables.
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
app_jar="$repo_root/modules/app/target/spark-mnist.jar"
# Every runtime jar of a local run, Spark and Hadoop included (the manifest of app_jar lists only the others).
app_lib="$repo_root/modules/app/target/lib"

# Spark's --add-opens list for Java 17 (conf/java17-opens.conf), as an array.
java17_opens=()
while IFS= read -r line; do
  [[ -z "$line" || "$line" == \#* ]] && continue
  java17_opens+=("$line")
done < "$repo_root/conf/java17-opens.conf"

# The JDK's Vector API (an incubator module in Java 17), which Adam's step uses where the JVM has it (SimdAdam in
# modules/models). Java prints one line about it when it starts; run_main drops exactly that line from the terminal.
vector_api_module="--add-modules=jdk.incubator.vector"
incubator_warning="WARNING: Using incubator modules: jdk.incubator.vector"

# Heap and ND4J off-heap limits for a local-mode driver; override with SPARK_MNIST_JAVA_OPTS.
read -r -a java_mem_opts <<< "${SPARK_MNIST_JAVA_OPTS:--Xmx4g -Dorg.bytedeco.javacpp.maxbytes=4G -Dorg.bytedeco.javacpp.maxphysicalbytes=8G}"

# The JIT's inlining budget for every JVM the scripts start (the conf/ templates give executors the same): C2, the JIT's
# second tier, compiles smaller units, so on a few cores its queue of hot methods drains in half the time and takes
# less of the cores the workers train on. On 2 cores (Spark local[2], resident engine) epochs 1-3 of LeNet-5 took
# 8.7 6.2 5.7 s against 11.2 8.5 6.8 s with the JVM's defaults (InlineSmallCode=2500, FreqInlineSize=325), with the
# same losses; a warm step is no slower (BENCHMARKS.md, "Round 13"). SPARK_MNIST_JIT_OPTS replaces them; "" keeps the
# JVM's defaults.
read -r -a jit_opts <<< "${SPARK_MNIST_JIT_OPTS--XX:InlineSmallCode=500 -XX:FreqInlineSize=100}"

# Arguments as one line for the terminal, credentials replaced as Spark redacts them: the value of a KEY=VALUE
# argument (also --conf=KEY=VALUE, -DKEY=VALUE) whose key or value matches Spark's default spark.redaction.regex,
# and the password of any scheme://user:password@host address.
redacted() {
  local out=() a prefix key value
  for a in "$@"; do
    prefix=""
    if [[ "$a" == --conf=* ]]; then prefix="--conf="; a="${a#--conf=}"; fi
    if [[ "$a" == *=* ]]; then
      key="${a%%=*}"; value="${a#*=}"
      if [[ "${key,,}" =~ secret|password|token|access[.]?key || "${value,,}" =~ secret|password|token|access[.]?key ]]; then
        a="$key=*********(redacted)"
      fi
    fi
    out+=("$prefix$a")
  done
  printf '%s' "${out[*]}" | sed -E 's#([A-Za-z][A-Za-z0-9+.-]*://[^/@[:space:]:]*):[^/@[:space:]]+@#\1:*********(redacted)@#g'
}
log() { printf '%s: %s\n' "$(basename "$0")" "$(redacted "$*")" >&2; }
# Shows a command on standard error (redacted), then runs it; run_quietly=1 (scripts/spark-mnist) leaves it unshown.
# Whether one of the addresses (HOST:PORT ...) of MASTER_URL ($1), a WHAT ($2: standalone master, YARN
# ResourceManager), accepts a TCP connection within MASTER_TIMEOUT seconds (10) each; when none does, one line naming
# the URL and the last address, with ADVICE ($3). spark-submit's own clients, in cluster deploy mode, printed Spark's
# log and three "Caused by:" lines (standalone) or retried for 15 minutes without a line (YARN).
master_answers() {
  local url="$1" what="$2" advice="$3" addr last=""
  shift 3
  for addr in "$@"; do
    if timeout "${MASTER_TIMEOUT:-10}" bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "${addr%:*}" "${addr##*:}" 2>/dev/null; then
      return 0
    fi
    last="$addr"
  done
  log "MASTER_URL ($url): no $what answers at $last (refused, or no answer within ${MASTER_TIMEOUT:-10} s): $advice"
  return 1
}

run() {
  local shown=("$@")
  [[ "${1:-}" == without_incubator_warning ]] && shown=("${@:2}")
  [[ "${run_quietly:-0}" == 1 ]] || printf '+ %s\n' "$(redacted "${shown[@]}")" >&2
  "$@"
}

# Builds the app jar when it is missing or older than any source or pom.
ensure_built() {
  if [[ ! -f "$app_jar" ]] || [[ -n "$(find "$repo_root/pom.xml" "$repo_root/modules" -path '*/target' -prune -o \
        -newer "$app_jar" -type f \( -name '*.java' -o -name 'pom.xml' -o -name '*.properties' -o -name '*.c' \) \
        -print -quit)" ]]; then
    if [[ "$(uname -s)-$(uname -m)" == Linux-x86_64 ]] && ! command -v "${CC:-gcc}" > /dev/null; then
      log "missing gcc (Debian package gcc): the build compiles the native training step" \
        "(modules/models/src/main/c); install it (e.g. sudo apt-get install gcc), then run $0 again"
      return 1
    fi
    log "building the app jar"
    (cd "$repo_root" && run mvn -B -q -DskipTests package)
    touch "$app_jar" # Maven leaves a jar whose classes did not change as it was: a test source alone was newer
  fi
}

# The preamble of every local run: build if needed, then fetch and verify MNIST into data/mnist.
prepare_local_run() {
  cd "$repo_root"
  ensure_built
  run "$repo_root/scripts/fetch-mnist.sh" "$repo_root/data/mnist"
}

# Runs a main class of the app's class path in this JVM with the app's Java options. APP_CLASSPATH_FIRST (optional):
# jars put before the app's own libraries, e.g. a module built before a change (scripts/benchmark-ab.sh).
# SPARK_MNIST_LOG4J (optional): another log4j2 configuration file (scripts/profile-epochs.sh: times in milliseconds).
# Usage: run_main CLASS [args...]
run_main() {
  local main="$1"
  shift
  OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}" run without_incubator_warning \
    java "${java17_opens[@]}" "$vector_api_module" "${jit_opts[@]}" "${java_mem_opts[@]}" "${run_main_cds[@]}" \
    -Dlog4j2.configurationFile="${SPARK_MNIST_LOG4J:-$repo_root/conf/log4j2.properties}" \
    -cp "$app_jar:${APP_CLASSPATH_FIRST:+$APP_CLASSPATH_FIRST:}$app_lib/*" "$main" "$@"
}

# Runs a command whose standard error starts with Java's incubator-module line: drops that line when it is the first
# one, and passes everything else through as it comes (cat, not a line filter: the progress bar redraws one line).
# Standard output stays where it was; returns the command's status. The filter ignores Ctrl-C and SIGTERM, which a
# terminal or a job control sends to the whole process group, and ends when the command's standard error closes: it
# passed nothing of what the JVM says as it stops (the stopped run's one line) once it was gone.
without_incubator_warning() {
  { "$@" 2>&1 1>&3 3>&- | drop_incubator_warning >&2; return "${PIPESTATUS[0]}"; } 3>&1
}

drop_incubator_warning() {
  local first
  trap '' INT TERM  # this pipeline's subshell only
  if IFS= read -r first; then
    [[ "$first" == "$incubator_warning" ]] || printf '%s\n' "$first"
  elif [[ -n "$first" ]]; then
    printf '%s' "$first"
  fi
  cat
}

# Class data sharing for run_app (the JDK's AppCDS): the classes a training run loads (Spark, Hadoop, DL4J, ND4J, ours:
# about 7,500) are kept parsed and verified in an archive that later JVMs map instead of loading each class from its
# jar, which took about 2 s off every local run here (BENCHMARKS.md, "Round 10"). The first Spark train run (not
# --dry-run, --mode local or mllib, whose classes are a subset or others) with no archive for this JDK and these jars
# writes one when it ends successfully (a few seconds more, once); every run after it uses it. Other class paths
# (APP_CLASSPATH_FIRST), SPARK_MNIST_CDS=0 and runs with a flight recorder or agent (class_load_hooked) run without.
# The JDK's own messages about the archive are off: a JVM that cannot use one runs without it, as before.
# SPARK_MNIST_CDS_ARCHIVE puts it elsewhere (tests).
cds_archive="${SPARK_MNIST_CDS_ARCHIVE:-$repo_root/modules/app/target/spark-mnist.jsa}"
run_main_cds=()

# Whether this run's Java options start a flight recorder or a Java agent (SPARK_MNIST_JAVA_OPTS, and the
# JAVA_TOOL_OPTIONS and JDK_JAVA_OPTIONS the JVM reads itself). Both hook class loading, and JDK 17 crashes (SIGSEGV
# in KlassFactory::check_shared_class_file_load_hook) when such a hook meets classes from a dynamic archive: measured
# with -XX:StartFlightRecording here, so those runs go without the archive.
class_load_hooked() {
  local opts=" ${java_mem_opts[*]} ${JAVA_TOOL_OPTIONS:-} ${JDK_JAVA_OPTIONS:-} "
  [[ "$opts" =~ [[:space:]](-XX:StartFlightRecording|-XX:\+FlightRecorder|-javaagent:|-agentlib:|-agentpath:) ]]
}

# What an archive depends on: the JDK and every jar of the class path (names, sizes and times), as one checksum.
cds_key() {
  { java -version 2>&1; stat -c '%n %s %Y' "$app_jar" "$app_lib"/*.jar; } | md5sum | cut -d' ' -f1
}

# Runs the app in this JVM (Spark local mode unless --master says otherwise), with the class-data archive; see
# run_main. Returns the app's status.
run_app() {
  local key="" tmp="" status=0
  run_main_cds=()
  if [[ "${SPARK_MNIST_CDS:-1}" != 0 ]] && class_load_hooked; then
    log "no class-data archive for this run: its Java options start a flight recorder or an agent, which JDK 17" \
        "cannot combine with one (the JVM crashes)"
  # a class path that cannot be read (no key) runs without an archive
  elif [[ "${SPARK_MNIST_CDS:-1}" != 0 && -z "${APP_CLASSPATH_FIRST:-}" && -f "$app_jar" ]] \
      && key="$(cds_key 2>/dev/null)" && [[ -n "$key" ]]; then
    if [[ -f "$cds_archive" && "$(cat "$cds_archive.key" 2>/dev/null)" == "$key" ]]; then
      run_main_cds=(-XX:SharedArchiveFile="$cds_archive" '-Xlog:cds*=off')
    elif [[ "${1:-}" == train && " $* " != *" --dry-run "* && " $* " != *" --mode local "* \
            && " $* " != *" --mode=local "* && " $* " != *" --mode mllib "* && " $* " != *" --mode=mllib "* ]]; then
      tmp="$cds_archive.$$.tmp"
      run_main_cds=(-XX:ArchiveClassesAtExit="$tmp" '-Xlog:cds*=off')
    fi
  fi
  run_main dev.sparkmnist.app.Main "$@" || status=$?
  run_main_cds=()
  if [[ -n "$tmp" ]]; then
    if [[ "$status" == 0 && -s "$tmp" ]]; then
      mv -f "$tmp" "$cds_archive" && printf '%s\n' "$key" > "$cds_archive.key"
    else
      rm -f "$tmp"
    fi
  fi
  return "$status"
}

# Java 17 must be the one Maven and the scripts use (Hadoop fails on newer JDKs): keeps the default java when it is
# 17, else exports JAVA_HOME and PATH for an installed JDK 17; fails when there is none.
use_jdk17() {
  java -version 2>&1 | grep -q 'version "17' && return 0
  local jdk
  for jdk in /usr/lib/jvm/java-17-openjdk-* /usr/lib/jvm/temurin-17-*; do
    if [[ -x "$jdk/bin/java" ]]; then export JAVA_HOME="$jdk" PATH="$jdk/bin:$PATH"; return 0; fi
  done
  return 1
}

# The app jar for spark-submit (Spark and Hadoop left out).
submit_jar="$repo_root/modules/app/target/spark-mnist-submit.jar"
# A Spark home generated by the build from Maven artifacts (jars/ only), used when no Spark is installed.
generated_spark_home="$repo_root/modules/spark-home/target/spark-home"

# Prepares the generated Spark home: Spark's launcher wants a RELEASE file to use jars/ as a distribution does.
ensure_generated_spark_home() {
  [[ -d "$generated_spark_home/jars" ]] || { log "no $generated_spark_home/jars: run mvn -B -DskipTests package"; return 1; }
  [[ -f "$generated_spark_home/RELEASE" ]] || \
    printf 'Spark generated from Maven artifacts by spark-mnist (jars only)\n' > "$generated_spark_home/RELEASE"
  mkdir -p "$generated_spark_home/conf"
}
