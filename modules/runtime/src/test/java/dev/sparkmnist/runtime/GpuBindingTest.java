package dev.sparkmnist.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import java.util.OptionalInt;
import org.apache.spark.resource.ResourceInformation;
import org.junit.jupiter.api.Test;

class GpuBindingTest {
    private static Map<String, ResourceInformation> gpus(String... addresses) {
        return Map.of(GpuBinding.GPU, new ResourceInformation(GpuBinding.GPU, addresses));
    }

    private static String failure(Map<String, ResourceInformation> r, GpuBinding.Policy p) {
        return assertThrows(IllegalStateException.class, () -> GpuBinding.deviceFor(r, p, "task 7")).getMessage();
    }

    @Test
    void assignedAddressBecomesTheDeviceIndex() {
        assertEquals(OptionalInt.of(3), GpuBinding.deviceFor(gpus("3"), GpuBinding.Policy.REQUIRED, "task 1"));
        assertEquals(OptionalInt.of(0), GpuBinding.deviceFor(gpus("0"), GpuBinding.Policy.OPTIONAL, "task 1"));
    }

    @Test
    void missingGpuFollowsThePolicy() {
        assertEquals(OptionalInt.empty(), GpuBinding.deviceFor(Map.of(), GpuBinding.Policy.OPTIONAL, "task 1"));
        assertEquals(OptionalInt.empty(), GpuBinding.deviceFor(gpus(), GpuBinding.Policy.OPTIONAL, "task 1"));
        assertEquals("task 7 has no GPU assigned and --gpu-policy is required: submit with"
            + " spark.executor.resource.gpu.amount=N, spark.task.resource.gpu.amount=1 and"
            + " spark.executor.resource.gpu.discoveryScript=scripts/gpu-discovery.sh",
            failure(Map.of(), GpuBinding.Policy.REQUIRED));
    }

    @Test
    void badAssignmentsAreRefused() {
        assertEquals("task 7 was assigned GPU address 1 twice: the discovery script must list each device once",
            failure(gpus("1", "1"), GpuBinding.Policy.OPTIONAL));
        assertEquals("task 7 was assigned GPU address 'GPU-5a1b': addresses must be device indices 0, 1, ... (as"
            + " nvidia-smi --query-gpu=index prints them)", failure(gpus("GPU-5a1b"), GpuBinding.Policy.OPTIONAL));
        assertEquals("task 7 was assigned 2 GPUs [0, 1]: a training task uses one; set"
            + " spark.task.resource.gpu.amount=1", failure(gpus("0", "1"), GpuBinding.Policy.OPTIONAL));
        assertEquals("task 7 was assigned GPU address '-1': addresses must be device indices 0, 1, ... (as"
            + " nvidia-smi --query-gpu=index prints them)", failure(gpus("-1"), GpuBinding.Policy.REQUIRED));
    }

    @Test
    void outsideATaskNothingIsBound() {
        assertEquals(OptionalInt.empty(), GpuBinding.bindCurrentTask(GpuBinding.Policy.REQUIRED));
    }
}
