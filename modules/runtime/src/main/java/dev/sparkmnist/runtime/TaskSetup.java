package dev.sparkmnist.runtime;

import java.io.Serializable;
import java.util.OptionalInt;

/**
 * The set-up every Spark task that runs ND4J performs first, explicitly (training workers and evaluation tasks
 * alike): the job's {@code --conf spark.sparkmnist.*} switches become the JVM's ({@link Switches}), the GPU Spark
 * assigned the task is checked against the ND4J CUDA build before ND4J starts, ND4J's threads and DL4J's layer
 * helpers are configured, and the task's thread is bound to its GPU.
 *
 * @param threads ND4J threads for the task, > 0
 * @param gpuPolicy what a task without an assigned GPU does
 */
public record TaskSetup(int threads, GpuBinding.Policy gpuPolicy) implements Serializable {
    public TaskSetup {
        if (threads <= 0) {
            throw new IllegalArgumentException("threads (" + threads + ") must be > 0");
        }
        if (gpuPolicy == null) {
            throw new IllegalArgumentException("gpuPolicy must be given");
        }
    }

    /** Applies the set-up in the calling task; returns the GPU bound, if any. */
    public OptionalInt apply() {
        Switches.applyInTask();
        OptionalInt gpu = GpuBinding.checkCurrentTask(gpuPolicy);
        Nd4jRuntime.configure(threads);
        GpuBinding.bind(gpu);
        return gpu;
    }
}
