package dev.sparkmnist.app;

import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.models.Models;
import dev.sparkmnist.training.TrainingOptions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * ND4J's off-heap need, estimated before any Spark work from the model, the batch sizes, the engine's buffers and the
 * tasks per JVM: DL4J on Spark most often fails with executors killed for exceeding off-heap memory (DL4J issues
 * #2401, #3635, #2186). All arrays are float32.
 *
 * @param perTask bytes one training task holds, by item
 * @param evalPerTask bytes one evaluation task holds (evaluation runs after training, not beside it; on the resident
 *     engine with the network a training task kept for the next stage, {@code ResidentNets})
 * @param nativeBytes what ND4J's native side holds per JVM regardless of the model (measured; BENCHMARKS.md)
 */
record MemoryPlan(Map<String, Long> perTask, long evalPerTask, long nativeBytes) {
    static final long MIB = 1024 * 1024;
    private static final int FLOAT = 4;
    private static final int PIXELS = 28 * 28;
    private static final int CLASSES = 10;

    /**
     * What a training JVM holds outside its heap besides the model's arrays: metaspace and code of Spark, DL4J and
     * ND4J, native libraries (OpenBLAS, oneDNN), thread stacks, allocator slack. Measured 123-246 MiB (resident set
     * less committed heap, less this plan's arrays) over two sets of six runs: one JVM, local[2] with both engines,
     * MLP and LeNet (BENCHMARKS.md, memory plan); this is the round figure above the largest.
     */
    static final long NATIVE_BYTES = 256 * MIB;

    /**
     * Estimates for these options: {@code trainExamples}/{@code testExamples} after the limits, {@code partitions}
     * the workers (1 in a single JVM, which holds a whole epoch's minibatches and the test set).
     */
    static MemoryPlan estimate(ModelOptions model, TrainingOptions training, long trainExamples, long testExamples,
                               int partitions, boolean singleJvm) {
        MultiLayerNetwork net = Models.network(model);
        long params = net.numParams();
        long updater = net.getUpdater().getStateViewArray() == null ? 0
            : net.getUpdater().getStateViewArray().length();
        long batch = training.batching().perWorker();
        long[] perExample = activations(net.getLayerWiseConfigurations(), model.architecture().inputType());
        Map<String, Long> perTask = new LinkedHashMap<>();
        perTask.put("parameters + gradients", 2 * params * FLOAT);
        perTask.put("updater state", updater * FLOAT);
        // forward activations are kept for the backward pass, which adds one gradient array per activation
        perTask.put("activations + their gradients (batch " + batch + ")", 2 * batch * perExample[0] * FLOAT);
        perTask.put("convolution workspace (im2col)", batch * perExample[1] * FLOAT);
        long example = (PIXELS + CLASSES) * FLOAT;
        boolean resident = training.averaging().engine() == TrainingOptions.Engine.RESIDENT;
        if (singleJvm) {
            perTask.put("the epoch's minibatches and the test set", (trainExamples + testExamples) * example);
        } else if (resident) {
            // two chunks of four rounds (ResidentEngine.readerMinibatches); a closed reader leaves them in the JVM for
            // the next (ReaderArrays)
            perTask.put("minibatches read ahead", dev.sparkmnist.training.resident.ResidentEngine.readerMinibatches(
                readAheadFrequency(training.averaging()), trainExamples, partitions, batch) * batch * example);
        } else {
            // DL4J's master: the training RDD of DataSets (off-heap arrays) is cached, a share per task
            perTask.put("cached training RDD share + prefetch", (trainExamples / Math.max(1, partitions)
                + (training.dl4j().workerPrefetch() + 1L) * batch) * example);
        }
        // resident: the flat vector, the worker's own slices and the peers' parcels, and with the overlap the state
        // sent and its mean in flight, plus the slices of the parameters alone when the rounds may move them alone
        // (--updater-averaging stage or auto); DL4J: broadcast + result
        int vectors = resident ? (training.averaging().overlap() ? 5 : 3) : 2;
        long prefix = resident && updater > 0
            && training.averaging().updaterAveraging() != TrainingOptions.UpdaterAveraging.ROUND ? params : 0;
        perTask.put("averaging buffers", singleJvm ? 0 : (vectors * (params + updater) + prefix) * FLOAT);
        long eval = training.batching().eval();
        // evaluating reads a share of the test set as minibatches, then scores them one at a time
        long evalBatch = eval * (perExample[0] + perExample[1]) * FLOAT;
        long testShare = singleJvm ? 0 : testExamples / Math.max(1, partitions) * example;
        if (resident && !singleJvm) {
            // the epoch's evaluation at the end of its last stage, in the training task beside everything above
            // (StageEvaluation)
            perTask.put("the epoch's evaluation (batch " + eval + ")", evalBatch + testShare);
        }
        // an evaluation task (its own job): on the resident engine beside the network its JVM kept from the stage
        // (parameters, gradients, updater state) and the arrays its closed reader left for the next stage's
        long evalBytes = evalBatch + params * FLOAT + testShare
            + (resident && !singleJvm ? perTask.get("parameters + gradients") + perTask.get("updater state")
                + perTask.get("minibatches read ahead") : 0);
        return new MemoryPlan(perTask, evalBytes, NATIVE_BYTES);
    }

    /** Per example: {activation floats of every layer, convolution workspace floats}. */
    static long[] activations(MultiLayerConfiguration conf, InputType input) {
        List<InputType> types = conf.getLayerActivationTypes(input);
        long acts = input.arrayElementsPerExample();
        long im2col = 0;
        InputType in = input;
        for (int i = 0; i < types.size(); i++) {
            InputType out = types.get(i);
            acts += out.arrayElementsPerExample();
            Layer layer = conf.getConf(i).getLayer();
            if (layer instanceof ConvolutionLayer c && out instanceof InputType.InputTypeConvolutional o) {
                long channels = in instanceof InputType.InputTypeConvolutional ic ? ic.getChannels() : 1;
                im2col += o.getHeight() * o.getWidth() * c.getKernelSize()[0] * c.getKernelSize()[1] * channels;
            }
            in = out;
        }
        return new long[] {acts, im2col};
    }

    /** One training task's bytes. */
    long taskBytes() {
        return perTask.values().stream().mapToLong(Long::longValue).sum();
    }

    /** A JVM running {@code tasks} concurrent tasks, plus a driver's copy of the network when it is the driver. */
    long jvmBytes(int tasks, boolean withDriver) {
        long driver = withDriver ? perTask.get("parameters + gradients") + perTask.get("updater state")
            + perTask.get("averaging buffers") : 0;
        return nativeBytes + Math.max(tasks * taskBytes(), tasks * evalPerTask) + driver;
    }

    /** The plan as the lines train --dry-run prints. */
    String describe(int tasks, boolean withDriver) {
        StringBuilder sb = new StringBuilder("ND4J off-heap estimate per training task:\n");
        perTask.forEach((k, v) -> sb.append(String.format(Locale.ROOT, "  %-45s %8.1f MiB%n", k, v / (double) MIB)));
        sb.append(String.format(Locale.ROOT, "  %-45s %8.1f MiB%n", "one task", taskBytes() / (double) MIB));
        sb.append(String.format(Locale.ROOT, "  %-45s %8.1f MiB%n", "one evaluation task", evalPerTask
            / (double) MIB));
        sb.append(String.format(Locale.ROOT, "per JVM: %d task(s)%s + %.0f MiB JVM/native = %.1f MiB%n", tasks,
            withDriver ? " + the driver's network" : "", nativeBytes / (double) MIB, jvmBytes(tasks, withDriver)
                / (double) MIB));
        return sb.toString();
    }

    /**
     * The line train --dry-run prints for the heap: the idx files' records each JVM keeps after its first read
     * ({@link dev.sparkmnist.data.IdxCache}), against the budget an executor's heap of {@code maxHeap} bytes gives them.
     */
    static String heapLine(long recordBytes, long maxHeap) {
        long budget = maxHeap / dev.sparkmnist.data.IdxCache.HEAP_SHARE_DENOMINATOR;
        return String.format(Locale.ROOT, "on the heap per JVM: the idx files' records, %.1f MiB (IdxCache), %s its"
                + " budget of %.1f MiB (an eighth of a %.0f MiB heap)%s", recordBytes / (double) MIB,
            recordBytes <= budget ? "within" : "over", budget / (double) MIB, maxHeap / (double) MIB,
            recordBytes <= budget ? "" : ": each epoch reads its slices from the store instead");
    }

    /** Minibatches per round the resident reader plans its read-ahead for: auto may choose up to its ceiling. */
    private static int readAheadFrequency(TrainingOptions.Averaging a) {
        return a.auto() ? dev.sparkmnist.training.resident.AutoFrequency.CEILING : a.frequency();
    }
}
