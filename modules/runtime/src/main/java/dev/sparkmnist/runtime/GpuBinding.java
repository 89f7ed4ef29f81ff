package dev.sparkmnist.runtime;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Binds a training task to the GPU Spark assigned it ({@code TaskContext.resources().get("gpu")}), so that two
 * concurrent tasks never share a device by accident. With Spark's GPU scheduling
 * ({@code spark.executor.resource.gpu.amount}, {@code spark.task.resource.gpu.amount=1} and a discovery script)
 * each task gets one address; ND4J's CUDA backend is then pointed at that device for the task's thread.
 */
public final class GpuBinding {
    /** Spark's resource name for GPUs. */
    public static final String GPU = "gpu";
    private static final Logger LOG = LoggerFactory.getLogger(GpuBinding.class);

    /** What to do when a task has no GPU assigned. */
    public enum Policy {
        /** Train on the loaded backend's default device (the CPU with the CPU backend). */
        OPTIONAL,
        /** Fail the task with a message saying how to request GPUs. */
        REQUIRED
    }

    private GpuBinding() {
    }

    /**
     * The device index for a task's resources: the single assigned GPU address as an integer, or empty when no GPU
     * is assigned and the policy allows it.
     */
    public static OptionalInt deviceFor(Map<String, ResourceInformation> resources, Policy policy, String task) {
        ResourceInformation gpu = resources == null ? null : resources.get(GPU);
        String[] addresses = gpu == null ? new String[0] : gpu.addresses();
        if (addresses.length == 0) {
            if (policy == Policy.REQUIRED) {
                throw new IllegalStateException(task + " has no GPU assigned and --gpu-policy is required: submit"
                    + " with spark.executor.resource.gpu.amount=N, spark.task.resource.gpu.amount=1 and"
                    + " spark.executor.resource.gpu.discoveryScript=scripts/gpu-discovery.sh");
            }
            return OptionalInt.empty();
        }
        List<Integer> parsed = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (String a : addresses) {
            if (!seen.add(a)) {
                throw new IllegalStateException(task + " was assigned GPU address " + a + " twice: the discovery"
                    + " script must list each device once");
            }
            try {
                int index = Integer.parseInt(a.trim());
                if (index < 0) {
                    throw new NumberFormatException();
                }
                parsed.add(index);
            } catch (NumberFormatException e) {
                throw new IllegalStateException(task + " was assigned GPU address '" + a + "': addresses must be"
                    + " device indices 0, 1, ... (as nvidia-smi --query-gpu=index prints them)");
            }
        }
        if (parsed.size() > 1) {
            throw new IllegalStateException(task + " was assigned " + parsed.size() + " GPUs " + parsed
                + ": a training task uses one; set spark.task.resource.gpu.amount=1");
        }
        return OptionalInt.of(parsed.get(0));
    }

    /**
     * The GPU Spark assigned the calling task (empty outside a task, or without an assignment under
     * {@link Policy#OPTIONAL}), checked against the device code of the ND4J CUDA build on the classpath before ND4J
     * starts: a GPU that build cannot run on fails the task with {@link CudaCompatibility.UnsupportedGpuException}.
     */
    public static OptionalInt checkCurrentTask(Policy policy) {
        TaskContext ctx = TaskContext.get();
        if (ctx == null) {
            return OptionalInt.empty();
        }
        OptionalInt device = deviceFor(scala.collection.JavaConverters.mapAsJavaMap(ctx.resources()), policy,
            describe(ctx));
        // Without an assignment ND4J's CUDA backend may use every GPU it sees: check them all.
        CudaCompatibility.requireSupported(device.orElse(-1));
        return device;
    }

    /** Binds the calling task's thread to {@code device} when the CUDA backend is loaded. */
    public static void bind(OptionalInt device) {
        TaskContext ctx = TaskContext.get();
        if (ctx == null || device.isEmpty()) {
            return;
        }
        String backend = Nd4j.getExecutioner().getEnvironmentInformation().getProperty("backend");
        if ("CUDA".equalsIgnoreCase(backend)) {
            Nd4j.getAffinityManager().unsafeSetDevice(device.getAsInt());
            LOG.info("{} bound to GPU {}", describe(ctx), device.getAsInt());
        } else {
            LOG.warn("{} was assigned GPU {} but ND4J's {} backend is loaded: build with -Pcuda", describe(ctx),
                device.getAsInt(), backend);
        }
    }

    /** {@link #checkCurrentTask} then {@link #bind}; returns the device bound, if any. */
    public static OptionalInt bindCurrentTask(Policy policy) {
        OptionalInt device = checkCurrentTask(policy);
        bind(device);
        return device;
    }

    private static String describe(TaskContext ctx) {
        return "task " + ctx.taskAttemptId() + " (stage " + ctx.stageId() + ", partition " + ctx.partitionId() + ")";
    }
}
