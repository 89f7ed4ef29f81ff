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

    @Test
    void listsEveryDeviceInSparksFormat() throws Exception {
        Out out = discover("0\\n1\\n2\\n", 0, Map.of());
        assertEquals(0, out.exit(), out.stderr());
        assertEquals("{\"name\": \"gpu\", \"addresses\": [\"0\",\"1\",\"2\"]}\n", out.stdout());
        ResourceInformation info = ResourceInformation.parseJson(out.stdout());
        assertEquals("gpu", info.name());
        assertEquals(3, info.addresses().length);
        assertEquals("2", info.addresses()[2]);
    }

    @Test
    void honoursCudaVisibleDevices() throws Exception {
        Out out = discover("0\\n1\\n2\\n3\\n", 0, Map.of("CUDA_VISIBLE_DEVICES", "1,3"));
        assertEquals("{\"name\": \"gpu\", \"addresses\": [\"1\",\"3\"]}\n", out.stdout());
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
        assertEquals("gpu-discovery.sh: nvidia-smi --query-gpu=index failed\n", failed.stderr());
        Out garbage = discover("GPU 0: H100\\n", 0, Map.of());
        assertEquals(1, garbage.exit());
        assertTrue(garbage.stderr().contains("unexpected nvidia-smi output line 'GPU0:H100'"), garbage.stderr());
    }
}
