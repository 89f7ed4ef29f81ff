#!/usr/bin/env bash
# Spark GPU discovery script (spark.executor.resource.gpu.discoveryScript / spark.driver.resource.gpu.discoveryScript):
# prints the ResourceInformation JSON Spark expects, {"name": "gpu", "addresses": ["0","1",...]}, with the device
# indices nvidia-smi reports. Honours CUDA_VISIBLE_DEVICES when set (containers, YARN/K8s isolation) by listing
# only those. Exits non-zero with a message on stderr when nvidia-smi is missing or fails.
set -euo pipefail

if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "gpu-discovery.sh: nvidia-smi not found on PATH; this executor has no NVIDIA driver" >&2
  exit 1
fi
if ! indices="$(nvidia-smi --query-gpu=index --format=csv,noheader)"; then
  echo "gpu-discovery.sh: nvidia-smi --query-gpu=index failed" >&2
  exit 1
fi

addresses=()
while IFS= read -r line; do
  line="${line//[[:space:]]/}"
  [[ -z "$line" ]] && continue
  if [[ ! "$line" =~ ^[0-9]+$ ]]; then
    echo "gpu-discovery.sh: unexpected nvidia-smi output line '$line' (expected a device index)" >&2
    exit 1
  fi
  if [[ -n "${CUDA_VISIBLE_DEVICES:-}" && ",$CUDA_VISIBLE_DEVICES," != *",$line,"* ]]; then
    continue
  fi
  addresses+=("\"$line\"")
done <<< "$indices"

joined="$(IFS=,; printf '%s' "${addresses[*]-}")"
printf '{"name": "gpu", "addresses": [%s]}\n' "$joined"
