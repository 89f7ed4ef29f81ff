package dev.sparkmnist.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.runtime.CudaCompatibility.ComputeCapability;
import dev.sparkmnist.runtime.NvidiaSmi.Gpu;
import dev.sparkmnist.runtime.CudaCompatibility.KernelArchitectures;
import dev.sparkmnist.runtime.CudaCompatibility.Library;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CudaCompatibilityTest {
    private static final String A100_H100 = "0, GPU-0a1b2c3d-0000, NVIDIA A100-SXM4-40GB, 8.0\n"
        + "1, GPU-1b2c3d4e-1111, NVIDIA H100 80GB HBM3, 9.0\n";
    private static final Library ND4J = new Library("test", CudaCompatibility.ND4J_CUDA_11_6,
        "nd4j-cuda-11.6 1.0.0-M2.1");

    @TempDir
    Path bin;

    private static ComputeCapability cc(String s) {
        return ComputeCapability.parse(s);
    }

    private static KernelArchitectures archs(List<Integer> sass, List<Integer> ptx) {
        return new KernelArchitectures(new TreeSet<>(sass), new TreeSet<>(ptx));
    }

    @Test
    void sassRunsOnTheSameMajorVersionAndPtxOnAnyNewerGpu() {
        KernelArchitectures nd4j = CudaCompatibility.ND4J_CUDA_11_6;
        for (String ok : List.of("3.7", "5.0", "5.3", "6.2", "7.2", "7.5", "8.0", "8.6", "8.7", "8.9")) {
            assertTrue(nd4j.runsOn(cc(ok)), ok);
        }
        for (String no : List.of("3.5", "9.0", "10.0", "12.0")) {
            assertFalse(nd4j.runsOn(cc(no)), no);
        }
        KernelArchitectures ptx80 = archs(List.of(), List.of(80));
        assertTrue(ptx80.runsOn(cc("9.0")));
        assertTrue(ptx80.runsOn(cc("8.0")));
        assertFalse(ptx80.runsOn(cc("7.5")));
        assertFalse(archs(List.of(86), List.of()).runsOn(cc("8.0")));
        assertEquals("SASS for sm_37, sm_50, sm_52, sm_60, sm_61, sm_70, sm_75, sm_80, sm_86 and no PTX",
            nd4j.describe());
        assertEquals("no SASS and PTX for sm_80", ptx80.describe());
        assertThrows(IllegalArgumentException.class, () -> cc("9"));
    }

    @Test
    void cudaVisibleDevicesRenumbersTheGpusLikeCudaDoes() {
        List<Gpu> all = NvidiaSmi.parse(A100_H100, null);
        assertEquals(List.of(new Gpu(0, 0, "GPU-0a1b2c3d-0000", "NVIDIA A100-SXM4-40GB", cc("8.0")),
            new Gpu(1, 1, "GPU-1b2c3d4e-1111", "NVIDIA H100 80GB HBM3", cc("9.0"))), all);
        List<Gpu> second = NvidiaSmi.parse(A100_H100, "1");
        assertEquals(1, second.size());
        assertEquals(0, second.get(0).ordinal());
        assertEquals(1, second.get(0).index());
        List<Gpu> swapped = NvidiaSmi.parse(A100_H100, "GPU-1b2c, 0");
        assertEquals(List.of("NVIDIA H100 80GB HBM3", "NVIDIA A100-SXM4-40GB"),
            swapped.stream().map(Gpu::name).toList());
        assertEquals(List.of(0, 1), swapped.stream().map(Gpu::ordinal).toList());
        // CUDA stops at the first entry that names no device; an empty value hides every GPU.
        assertEquals(List.of(), NvidiaSmi.parse(A100_H100, "7,0"));
        assertEquals(List.of(), NvidiaSmi.parse(A100_H100, ""));
        assertThrows(IllegalArgumentException.class, () -> NvidiaSmi.parse("0, GPU-x\n", null));
    }

    @Test
    void anUnsupportedGpuFailsNamingItsCapabilityAndTheBuildsArchitectures() {
        Optional<List<Gpu>> gpus = Optional.of(NvidiaSmi.parse(A100_H100, null));
        CudaCompatibility.require(0, ND4J, gpus);
        String message = assertThrows(CudaCompatibility.UnsupportedGpuException.class,
            () -> CudaCompatibility.require(1, ND4J, gpus)).getMessage();
        assertEquals("GPU 1 (NVIDIA H100 80GB HBM3, nvidia-smi index 1) has compute capability 9.0, but"
            + " nd4j-cuda-11.6 1.0.0-M2.1 carries SASS for sm_37, sm_50, sm_52, sm_60, sm_61, sm_70, sm_75, sm_80,"
            + " sm_86 and no PTX, so none of its kernels can run there (CUDA would fail with error 209, no kernel"
            + " image is available). A GPU of compute capability X.Y needs SASS for sm_X0..sm_XY or PTX for sm_XY or"
            + " older; use GPUs this build supports, or the CPU build (spark-mnist-submit.jar).", message);
        // -1: every GPU the process sees (ND4J without an assignment may use them all).
        assertThrows(CudaCompatibility.UnsupportedGpuException.class, () -> CudaCompatibility.require(-1, ND4J, gpus));
        // Nothing to check without nvidia-smi.
        CudaCompatibility.require(-1, ND4J, Optional.empty());
    }

    private Path fakeNvidiaSmi(String output, int exit) throws Exception {
        Path smi = bin.resolve("nvidia-smi");
        Files.writeString(smi, "#!/bin/sh\n[ \"$1\" = --query-gpu=index,uuid,name,compute_cap ] || exit 9\n"
            + "printf '" + output.replace("\n", "\\n") + "'\nexit " + exit + "\n");
        Files.setPosixFilePermissions(smi, PosixFilePermissions.fromString("rwxr-xr-x"));
        return smi;
    }

    @Test
    void queriesNvidiaSmiAndGivesUpQuietlyWhenItCannotTell() throws Exception {
        Path smi = fakeNvidiaSmi(A100_H100, 0);
        assertEquals(2, NvidiaSmi.query(smi.toString(), null).orElseThrow().size());
        assertEquals("NVIDIA H100 80GB HBM3",
            NvidiaSmi.query(smi.toString(), "1").orElseThrow().get(0).name());
        Path old = fakeNvidiaSmi("Field \"compute_cap\" is not a valid field to query.\n", 2);
        assertEquals(Optional.empty(), NvidiaSmi.query(old.toString(), null));
        assertEquals(Optional.empty(), NvidiaSmi.query(bin.resolve("missing").toString(), null));
    }

    @Test
    void reportSaysWhichGpusTheBuildRunsOn() throws Exception {
        Path smi = fakeNvidiaSmi(A100_H100, 0);
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);
        assertEquals(1, CudaCompatibility.report(out, smi.toString(), null, Optional.of(ND4J)));
        String text = buf.toString(StandardCharsets.UTF_8);
        assertTrue(text.startsWith("nd4j-cuda-11.6 1.0.0-M2.1: SASS for sm_37"), text);
        assertTrue(text.contains("GPU 0 (NVIDIA A100-SXM4-40GB, nvidia-smi index 0) has compute capability 8.0:"
            + " supported\n"), text);
        assertTrue(text.contains("GPU 1 (NVIDIA H100 80GB HBM3, nvidia-smi index 1) has compute capability 9.0,"
            + " but"), text);
        assertEquals(0, CudaCompatibility.report(out, smi.toString(), "0", Optional.of(ND4J)));
        assertEquals(2, CudaCompatibility.report(out, smi.toString(), "0", Optional.empty()));
        assertEquals(2, CudaCompatibility.report(out, bin.resolve("missing").toString(), null, Optional.of(ND4J)));
    }

    @Test
    void theCpuBuildHasNoCudaBackendSoNothingIsChecked() {
        assertFalse(CudaCompatibility.cudaBackendPresent());
        CudaCompatibility.requireSupported(-1);
    }
}
