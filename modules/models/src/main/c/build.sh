#!/usr/bin/env bash
# Builds NativeStep's library (native_step.c) into the module's classes, for linux-x86_64: Maven runs it in the
# process-classes phase (pom.xml's native-step profile). Needs a C compiler (gcc; Debian: `apt-get install gcc`) and the JDK's JNI headers.
# Usage: build.sh OUTPUT_CLASSES_DIR JAVA_HOME
set -euo pipefail
out="${1:?usage: build.sh OUTPUT_CLASSES_DIR JAVA_HOME}/dev/sparkmnist/models/native/linux-x86_64"
java_home="${2:?usage: build.sh OUTPUT_CLASSES_DIR JAVA_HOME}"
src="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/native_step.c"
cc="${CC:-gcc}"
if ! command -v "$cc" > /dev/null; then
  echo "error: the native training step needs a C compiler ($cc) to build: install gcc (Debian: apt-get install gcc)" >&2
  exit 1
fi
[[ -f "$java_home/include/jni.h" ]] || { echo "error: no JNI headers under $java_home/include (a JDK, not a JRE)" >&2; exit 1; }
mkdir -p "$out"
# -ffp-contract=off: no multiply-add fused where the Java path it mirrors does not fuse (NativeStepTest: bit for bit)
"$cc" -std=gnu11 -O3 -fPIC -shared -fno-math-errno -ffp-contract=off -Wall -Werror \
  -I"$java_home/include" -I"$java_home/include/linux" -o "$out/libsparkmnist-step.so.tmp" "$src" -lm
mv "$out/libsparkmnist-step.so.tmp" "$out/libsparkmnist-step.so"
