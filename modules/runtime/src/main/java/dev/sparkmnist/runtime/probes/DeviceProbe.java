package dev.sparkmnist.runtime.probes;

import dev.sparkmnist.runtime.CudaCompatibility;
import dev.sparkmnist.runtime.NvidiaSmi;
import dev.sparkmnist.runtime.GpuBinding;

import java.util.Optional;

/**
 * For scripts/gpu-probe/run-on-gpu.sh on a GPU machine without the 600 MB nd4j-cuda jar: the job's GPU check
 * (CudaCompatibility) against the real nvidia-smi, with the architecture table of nd4j-cuda-11.6 1.0.0-M2.1.
 */
public final class DeviceProbe {
    public static void main(String[] args) {
        CudaCompatibility.Library lib = new CudaCompatibility.Library("(table)", CudaCompatibility.ND4J_CUDA_11_6,
            "nd4j-cuda-11.6 1.0.0-M2.1");
        int rc = CudaCompatibility.report(System.out, "nvidia-smi", System.getenv("CUDA_VISIBLE_DEVICES"), Optional.of(lib));
        System.out.println("report exit " + rc);
        try {
            CudaCompatibility.require(0, lib, NvidiaSmi.query("nvidia-smi", System.getenv("CUDA_VISIBLE_DEVICES")));
            System.out.println("require(0): passed");
        } catch (CudaCompatibility.UnsupportedGpuException e) {
            System.out.println("require(0) threw UnsupportedGpuException: " + e.getMessage());
        }
    }
}
