package dev.sparkmnist.models;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A convolution's bias gradient, the output gradient summed over images, rows and columns for each channel, as
 * Vector API code over the array's own memory: one plane at a time, 16 floats a step on AVX-512. ND4J's
 * {@code sum(0, 2, 3)} runs a generic reduction of a 4-dimensional array that took 3.5-4 % of a LeNet-5 step
 * (BENCHMARKS.md, round 21). The sums are in another order than ND4J's, so they equal its up to float rounding.
 * Only {@link #sum} loads the vector classes, and only in a JVM with the Vector API's module ({@link SimdAdam#MODULE}).
 */
final class ChannelSums {
    /** Whether {@link #sum} runs here: in a JVM with the Vector API's module. Tests set it both ways. */
    static boolean vector = SimdAdam.VECTOR_API;

    private ChannelSums() {
    }

    /**
     * {@code into[c] = sum over n, y, x of delta[n, c, y, x]} for a float NCHW {@code delta} in host memory, written
     * into {@code into} (a vector of the channels' length); false, writing nothing, where this path does not apply
     * (the caller then uses ND4J's sum).
     */
    static boolean sum(INDArray delta, INDArray into) {
        if (!vector || delta.rank() != 4 || delta.dataType() != DataType.FLOAT || !HostArrays.rowMajor(delta)
            || !HostArrays.rowMajor(into) || into.length() != delta.size(1) || !HostArrays.byteIndexed(delta)) {
            return false;
        }
        int channels = (int) delta.size(1);
        float[] sums = new float[channels];
        Kernel.planes(HostArrays.bytes(delta), (int) delta.offset(), (int) delta.size(0), channels,
            (int) (delta.size(2) * delta.size(3)), sums);
        HostArrays.write(sums, 0, into);
        return true;
    }

    /** The vector code, in its own class so that nothing loads the Vector API where the JVM lacks its module. */
    static final class Kernel {
        private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
        private static final ByteOrder ORDER = ByteOrder.nativeOrder();

        private Kernel() {
        }

        /**
         * Adds each of {@code images x channels} planes of {@code plane} floats (starting at float index {@code d0} of
         * {@code buffer}, in native order) into {@code sums[channel]}.
         */
        static void planes(ByteBuffer buffer, int d0, int images, int channels, int plane, float[] sums) {
            int step = SPECIES.length();
            int bound = SPECIES.loopBound(plane);
            for (int n = 0; n < images; n++) {
                for (int c = 0; c < channels; c++) {
                    int start = d0 + (n * channels + c) * plane;
                    FloatVector acc = FloatVector.zero(SPECIES);
                    int i = 0;
                    for (; i < bound; i += step) {
                        acc = acc.add(FloatVector.fromByteBuffer(SPECIES, buffer, 4 * (start + i), ORDER));
                    }
                    float s = acc.reduceLanes(VectorOperators.ADD);
                    for (; i < plane; i++) {
                        s += buffer.getFloat(4 * (start + i));
                    }
                    sums[c] += s;
                }
            }
        }
    }
}
