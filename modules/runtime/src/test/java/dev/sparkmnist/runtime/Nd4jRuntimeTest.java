package dev.sparkmnist.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.models.Models;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class Nd4jRuntimeTest {

    @ParameterizedTest
    @CsvSource({
        "local, 1, 2, 1",
        "local, 1, 1, 1",
        "'local[2]', 1, 2, 1",
        "'local[*]', 1, 2, 1",
        "'local[1]', 1, 16, 15",
        "'local[4]', 1, 16, 4",
        "'local[3, 2]', 1, 2, 1",
        "'local-cluster[2,1,1024]', 1, 2, 1",
        "spark://127.0.0.1:7077, 1, 16, 1",
        "yarn, 2, 16, 2"})
    void threadsPerTaskDividesCoresAmongConcurrentTasks(String master, int taskCpus, int cores, int expected) {
        assertEquals(expected, Nd4jRuntime.threadsPerTask(master, taskCpus, cores));
    }

    @Test
    void configureSetsNd4jThreadsAndRefusesNonPositive() {
        Nd4jRuntime.configure(1);
        assertEquals(1, Nd4jRuntime.currentThreads());
        assertEquals("threads (0) must be > 0",
            assertThrows(IllegalArgumentException.class, () -> Nd4jRuntime.configure(0)).getMessage());
    }

    /**
     * DL4J 1.0.0-M2 disables layer helpers by default and looks oneDNN up under a class name nd4j-native lacks;
     * with {@link Nd4jRuntime#enableHelpers} and the org.nd4j.nativeblas.Nd4jCpu shim, LeNet's convolution and
     * pooling layers must get oneDNN helpers (about 2.5x faster). This fails if either workaround stops working.
     */
    @Test
    void oneDnnHelpersAreActiveForLenet() {
        Nd4jRuntime.enableHelpers();
        MultiLayerNetwork net = Models.network(ModelOptions.lenet());
        Object conv = ((ConvolutionLayer) net.getLayer(0)).getHelper();
        Object pool = ((SubsamplingLayer) net.getLayer(1)).getHelper();
        assertNotNull(conv, "no convolution helper: oneDNN is not used");
        assertNotNull(pool, "no subsampling helper: oneDNN is not used");
        assertTrue(conv.getClass().getSimpleName().startsWith("MKLDNN"), conv.getClass().getName());
        assertTrue(pool.getClass().getSimpleName().startsWith("MKLDNN"), pool.getClass().getName());
    }

    /**
     * OpenMP's thread count is per thread: every thread that calls configure gets it, also when the JVM was already
     * configured to that count by another thread (each Spark task runs on its own thread).
     */
    @org.junit.jupiter.api.Test
    void everyTaskThreadGetsItsOpenMpThreadCount() throws Exception {
        org.nd4j.nativeblas.NativeOps ops = org.nd4j.nativeblas.NativeOpsHolder.getInstance().getDeviceNativeOps();
        Nd4jRuntime.configure(1); // the JVM is now configured to 1
        int[] seen = new int[2];
        Thread task = new Thread(() -> {
            ops.setOmpNumThreads(2); // a fresh thread with a larger count, as OpenMP's default on 2 cores
            seen[0] = ops.ompGetMaxThreads();
            Nd4jRuntime.configure(1);
            seen[1] = ops.ompGetMaxThreads();
        });
        task.start();
        task.join();
        org.junit.jupiter.api.Assertions.assertEquals(2, seen[0]);
        org.junit.jupiter.api.Assertions.assertEquals(1, seen[1], "configure set this thread's OpenMP count");
    }
}
