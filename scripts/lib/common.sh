# Shared by the scripts: repo paths, the app jar, Java options. Source it; it defines no side effects but variables.
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
app_jar="$repo_root/modules/app/target/spark-mnist.jar"

# Spark's --add-opens list for Java 17 (conf/java17-opens.conf), as an array.
java17_opens=()
while IFS= read -r line; do
  [[ -z "$line" || "$line" == \#* ]] && continue
  java17_opens+=("$line")
done < "$repo_root/conf/java17-opens.conf"

# Heap and ND4J off-heap limits for a local-mode driver; override with SPARK_MNIST_JAVA_OPTS.
read -r -a java_mem_opts <<< "${SPARK_MNIST_JAVA_OPTS:--Xmx4g -Dorg.bytedeco.javacpp.maxbytes=4G -Dorg.bytedeco.javacpp.maxphysicalbytes=8G}"

log() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }
run() { printf '+ %s\n' "$*" >&2; "$@"; }

# Builds the app jar when it is missing or older than any source or pom.
ensure_built() {
  if [[ ! -f "$app_jar" ]] || [[ -n "$(find "$repo_root/pom.xml" "$repo_root/modules" -path '*/target' -prune -o \
        -newer "$app_jar" -type f \( -name '*.java' -o -name 'pom.xml' -o -name '*.properties' \) -print -quit)" ]]; then
    log "building the app jar"
    (cd "$repo_root" && run mvn -B -q -DskipTests package)
  fi
}

# Runs the app in this JVM (Spark local mode unless --master says otherwise).
run_app() {
  OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" run java "${java17_opens[@]}" "${java_mem_opts[@]}" \
    -Dlog4j2.configurationFile="$repo_root/conf/log4j2.properties" \
    -jar "$app_jar" "$@"
}
