#!/usr/bin/env bash
# On a GPU machine, with the bundle from prepare.sh in .gpu/: shows the GPU and driver, loads fat binaries of
# ND4J's CUDA library through the CUDA driver next to controls built there with nvcc (SASS sm_86, SASS sm_90,
# PTX compute_86), runs the job's GPU check (CudaCompatibility) and scripts/gpu-discovery.sh against the real
# nvidia-smi. Run from the repository root: bash scripts/gpu-probe/run-on-gpu.sh
set -uo pipefail
export PATH="$PWD/.gpu/jre/bin:$PATH"
echo "== machine"
nvidia-smi --query-gpu=index,uuid,name,compute_cap,driver_version --format=csv,noheader
nvcc --version | tail -1
echo "== ND4J CUDA library's device code (listed by prepare.sh)"
cat .gpu/fatbins/listing.txt
echo "== controls built here"
ctl="$(mktemp -d)"
for gencode in arch=compute_86,code=sm_86 arch=compute_90,code=sm_90 arch=compute_86,code=compute_86; do
  name="control-${gencode#*code=}"
  nvcc -fatbin -gencode "$gencode" -o "$ctl/$name.fatbin" scripts/gpu-probe/control-kernel.cu
done
cp .gpu/fatbins/*.fatbin "$ctl/"
echo "== cuModuleLoadFatBinary on the GPU"
python3 scripts/gpu-probe/load-fatbins.py "$ctl"
echo "== the job's GPU check against the real nvidia-smi"
java -version 2>&1 | head -n 1
java -cp .gpu/classes dev.sparkmnist.runtime.probes.DeviceProbe
uuid="$(nvidia-smi --query-gpu=uuid --format=csv,noheader | head -n 1 | tr -d ' ')"
for visible in unset "${uuid:0:12}" 1; do
  echo "== gpu-discovery.sh with CUDA_VISIBLE_DEVICES=$visible"
  if [[ "$visible" == unset ]]; then bash scripts/gpu-discovery.sh; else CUDA_VISIBLE_DEVICES="$visible" bash scripts/gpu-discovery.sh; fi
  echo "exit $?"
done
