#!/usr/bin/env bash
# Spark GPU discovery script (spark.executor.resource.gpu.discoveryScript / spark.worker.resource.gpu.discoveryScript
# / spark.driver.resource.gpu.discoveryScript): prints the ResourceInformation JSON Spark expects,
# {"name": "gpu", "addresses": ["0","1",...]}.
#
# The addresses are CUDA device ordinals as a process started with this environment sees them, because the job
# binds ND4J to the address as a device ordinal:
# - CUDA_VISIBLE_DEVICES unset: every GPU nvidia-smi lists, by its index.
# - CUDA_VISIBLE_DEVICES set (indices, GPU-<uuid> or MIG-<uuid> entries, as YARN, Kubernetes or a wrapper sets it):
#   CUDA renumbers the visible devices 0..n-1, so the addresses are 0..n-1; every index and GPU UUID entry must
#   name a GPU nvidia-smi lists, else the script fails naming the entry. Set but empty means no GPU.
# nvidia-smi numbers GPUs in PCI bus order; set CUDA_DEVICE_ORDER=PCI_BUS_ID for the executors (conf/gpu.conf
# does) so that CUDA numbers them the same way on machines with mixed GPU models.
# Exits non-zero with a message on stderr when nvidia-smi is missing or fails, or an entry is unknown.
set -euo pipefail

if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "gpu-discovery.sh: nvidia-smi not found on PATH; this executor has no NVIDIA driver" >&2
  exit 1
fi
if ! listing="$(nvidia-smi --query-gpu=index,uuid --format=csv,noheader)"; then
  echo "gpu-discovery.sh: nvidia-smi --query-gpu=index,uuid failed" >&2
  exit 1
fi

indices=()
uuids=()
while IFS= read -r line; do
  line="${line//[[:space:]]/}"
  [[ -z "$line" ]] && continue
  if [[ ! "$line" =~ ^([0-9]+),(GPU-[0-9A-Za-z-]+)$ ]]; then
    echo "gpu-discovery.sh: unexpected nvidia-smi output line '$line' (expected 'index, GPU-uuid')" >&2
    exit 1
  fi
  indices+=("${BASH_REMATCH[1]}")
  uuids+=("${BASH_REMATCH[2]}")
done <<< "$listing"

addresses=()
if [[ -z "${CUDA_VISIBLE_DEVICES+set}" ]]; then
  for i in "${indices[@]+"${indices[@]}"}"; do
    addresses+=("\"$i\"")
  done
elif [[ -n "${CUDA_VISIBLE_DEVICES//[[:space:],]/}" ]]; then
  IFS=',' read -r -a entries <<< "$CUDA_VISIBLE_DEVICES"
  seen=" "
  ordinal=0
  for entry in "${entries[@]}"; do
    entry="${entry//[[:space:]]/}"
    match=""
    if [[ "$entry" =~ ^[0-9]+$ ]]; then
      for k in "${!indices[@]}"; do
        [[ "${indices[$k]}" == "$entry" ]] && match="${uuids[$k]}"
      done
    elif [[ "$entry" == GPU-* ]]; then
      for k in "${!uuids[@]}"; do
        # CUDA accepts a unique prefix of a UUID.
        if [[ "${uuids[$k]}" == "$entry"* ]]; then
          if [[ -n "$match" ]]; then
            echo "gpu-discovery.sh: CUDA_VISIBLE_DEVICES entry '$entry' matches more than one GPU" >&2
            exit 1
          fi
          match="${uuids[$k]}"
        fi
      done
    elif [[ "$entry" == MIG-* ]]; then
      match="$entry" # MIG instances are not in --query-gpu; CUDA validates them itself.
    fi
    if [[ -z "$match" ]]; then
      echo "gpu-discovery.sh: CUDA_VISIBLE_DEVICES entry '$entry' names no GPU nvidia-smi lists" \
        "(indices: ${indices[*]-none}); entries must be GPU indices, GPU-<uuid> or MIG-<uuid>" >&2
      exit 1
    fi
    if [[ "$seen" == *" $match "* ]]; then
      echo "gpu-discovery.sh: CUDA_VISIBLE_DEVICES lists GPU '$entry' twice ($CUDA_VISIBLE_DEVICES)" >&2
      exit 1
    fi
    seen+="$match "
    addresses+=("\"$ordinal\"")
    ordinal=$((ordinal + 1))
  done
fi

joined="$(IFS=,; printf '%s' "${addresses[*]-}")"
printf '{"name": "gpu", "addresses": [%s]}\n' "$joined"
