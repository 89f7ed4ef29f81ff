package dev.sparkmnist.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.spark.resource.ResourceInformation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** scripts/gpu-discovery.sh against a fake nvidia-smi on PATH; its JSON must parse as Spark parses it. */
class GpuDiscoveryScriptTest {
    @TempDir
    Path bin;

    record Out(int exit, String stdout, String stderr) {
    }

    private Out discover(String fakeOutput, int fakeExit, Map<String, String> env) throws Exception {
        if (fakeOutput != null) {
            Path smi = bin.resolve("nvidia-smi");
            Files.writeString(smi, "#!/bin/sh\nprintf '" + fakeOutput + "'\nexit " + fakeExit + "\n");
            Files.setPosixFilePermissions(smi, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Path script = Path.of(System.getProperty("repo.root"), "scripts", "gpu-discovery.sh");
        ProcessBuilder pb = new ProcessBuilder("bash", script.toString());
        pb.environment().put("PATH", bin + ":/usr/bin:/bin");
        pb.environment().remove("CUDA_VISIBLE_DEVICES");
        pb.environment().putAll(env);
        Process p = pb.start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return new Out(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8),
            new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    private static final String FOUR_GPUS = "0, GPU-0a1b2c3d-0000-0000-0000-000000000000\\n"
        + "1, GPU-1b2c3d4e-1111-1111-1111-111111111111\\n"
        + "2, GPU-2c3d4e5f-2222-2222-2222-222222222222\\n"
        + "3, GPU-3d4e5f60-3333-3333-3333-333333333333\\n";

    @Test
    void listsEveryDeviceInSparksFormat() throws Exception {
        Out out = discover(FOUR_GPUS, 0, Map.of());
        assertEquals(0, out.exit(), out.stderr());
        assertEquals("{\"name\": \"gpu\", \"addresses\": [\"0\",\"1\",\"2\",\"3\"]}\n", out.stdout());
        ResourceInformation info = ResourceInformation.parseJson(out.stdout());
        assertEquals("gpu", info.name());
        assertEquals(4, info.addresses().length);
        assertEquals("2", info.addresses()[2]);
    }

    /** CUDA renumbers visible devices 0..n-1; the addresses must be the ordinals the executor's CUDA uses. */
    @Test
    void cudaVisibleDevicesGivesTheOrdinalsCudaUses() throws Exception {
        assertEquals("{\"name\": \"gpu\", \"addresses\": [\"0\",\"1\"]}\n",
            discover(FOUR_GPUS, 0, Map.of("CUDA_VISIBLE_DEVICES", "1,3")).stdout());
        assertEquals("{\"name\": \"gpu\", \"addresses\": [\"0\"]}\n",
            discover(FOUR_GPUS, 0, Map.of("CUDA_VISIBLE_DEVICES", "GPU-2c3d4e5f")).stdout());
        assertEquals("{\"name\": \"gpu\", \"addresses\": [\"0\",\"1\"]}\n",
            discover(FOUR_GPUS, 0, Map.of("CUDA_VISIBLE_DEVICES", "MIG-aaaa,MIG-bbbb")).stdout());
        Out none = discover(FOUR_GPUS, 0, Map.of("CUDA_VISIBLE_DEVICES", ""));
        assertEquals(0, none.exit(), none.stderr());
        assertEquals(0, ResourceInformation.parseJson(none.stdout()).addresses().length);
    }

    @Test
    void unknownOrRepeatedVisibleDevicesFailNamingTheEntry() throws Exception {
        Out unknown = discover(FOUR_GPUS, 0, Map.of("CUDA_VISIBLE_DEVICES", "1,7"));
        assertEquals(1, unknown.exit());
        assertEquals("", unknown.stdout());
        assertEquals("gpu-discovery.sh: CUDA_VISIBLE_DEVICES entry '7' names no GPU nvidia-smi lists (indices: 0 1 2"
            + " 3); entries must be GPU indices, GPU-<uuid> or MIG-<uuid>\n", unknown.stderr());
        Out twice = discover(FOUR_GPUS, 0, Map.of("CUDA_VISIBLE_DEVICES", "1,GPU-1b2c"));
        assertEquals(1, twice.exit());
        assertEquals("gpu-discovery.sh: CUDA_VISIBLE_DEVICES lists GPU 'GPU-1b2c' twice (1,GPU-1b2c)\n",
            twice.stderr());
        Out ambiguous = discover(FOUR_GPUS, 0, Map.of("CUDA_VISIBLE_DEVICES", "GPU-"));
        assertEquals(1, ambiguous.exit());
        assertTrue(ambiguous.stderr().contains("entry 'GPU-' matches more than one GPU"), ambiguous.stderr());
    }

    @Test
    void noGpusIsAnEmptyList() throws Exception {
        Out out = discover("", 0, Map.of());
        assertEquals(0, out.exit());
        assertEquals(0, ResourceInformation.parseJson(out.stdout()).addresses().length);
    }

    @Test
    void failuresExitNonZeroWithAMessage() throws Exception {
        Out missing = discover(null, 0, Map.of());
        assertEquals(1, missing.exit());
        assertEquals("gpu-discovery.sh: nvidia-smi not found on PATH; this executor has no NVIDIA driver\n",
            missing.stderr());
        Out failed = discover("NVIDIA-SMI has failed\\n", 9, Map.of());
        assertEquals(1, failed.exit());
        assertEquals("gpu-discovery.sh: nvidia-smi --query-gpu=index,uuid failed\n", failed.stderr());
        Out garbage = discover("GPU 0: H100\\n", 0, Map.of());
        assertEquals(1, garbage.exit());
        assertTrue(garbage.stderr().contains("unexpected nvidia-smi output line 'GPU0:H100'"), garbage.stderr());
    }
}
