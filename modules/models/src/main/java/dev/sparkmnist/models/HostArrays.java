package dev.sparkmnist.models;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Bulk copies between ND4J float arrays and Java {@code float[]}s. On the CPU backend a contiguous array's off-heap
 * buffer is read or written in one NIO call (measured: ND4J's {@code toFloatVector} and {@code create}+{@code assign}
 * cost 5-7 ms a round for the MLP with Adam, 2.8 MB); other arrays and backends (CUDA) go through ND4J's own copies,
 * which synchronise device and host.
 */
public final class HostArrays {
    /** Whether ND4J runs on the CPU backend, whose arrays live in host memory. */
    public static final boolean CPU = !"CUDA".equalsIgnoreCase(
        Nd4j.getExecutioner().getEnvironmentInformation().getProperty("backend"));

    private HostArrays() {
    }

    /**
     * A new row-major float array of {@code shape} holding {@code vector[offset..]}, in the current workspace if any
     * (as {@code Nd4j.create(float[], shape, 'c')}). On the CPU backend one bulk copy fills it: ND4J's own
     * {@code create(float[], ...)} writes element by element through {@code DataBuffer.put(long, float)}, a few
     * nanoseconds a float compiled and far more before the JIT has compiled it (BENCHMARKS.md, round 19).
     */
    public static INDArray create(float[] vector, int offset, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        Objects.checkFromIndexSize(offset, Math.toIntExact(n), vector.length);
        if (!CPU) {
            return Nd4j.create(Arrays.copyOfRange(vector, offset, offset + (int) n), shape, 'c');
        }
        INDArray array = Nd4j.createUninitialized(DataType.FLOAT, shape, 'c');
        new HostPointer().at(array).put(vector, offset, (int) n);
        return array;
    }

    /** Copies all of {@code array}, in row-major order, to {@code vector[offset..]}. */
    public static void read(INDArray array, float[] vector, int offset) {
        int n = (int) array.length();
        if (rowMajor(array)) {
            Objects.checkFromIndexSize(offset, n, vector.length);
            new HostPointer().at(array).get(vector, offset, n);
        } else {
            System.arraycopy(Nd4j.toFlattened('c', array).toFloatVector(), 0, vector, offset, n);
        }
    }

    /** Copies {@code vector[offset..]} into all of {@code array}, in row-major order. */
    public static void write(float[] vector, int offset, INDArray array) {
        int n = (int) array.length();
        if (rowMajor(array)) {
            Objects.checkFromIndexSize(offset, n, vector.length);
            new HostPointer().at(array).put(vector, offset, n);
        } else {
            array.assign(create(vector, offset, array.shape()));
        }
    }

    /**
     * The memory of {@code array} itself, in row-major order, for reading and writing in place (absolute indices:
     * element {@code i} of the array is at {@code position() + i}), or null where Java cannot reach it so (another
     * backend or layout: use {@link #read} and {@link #write}).
     */
    public static FloatBuffer hostBuffer(INDArray array) {
        if (!rowMajor(array)) {
            return null;
        }
        FloatBuffer buffer = buffer(array);
        return buffer.limit((int) (buffer.position() + array.length()));
    }

    /**
     * Whether {@code array} is a CPU float array whose memory order is its row-major order (a contiguous vector, or
     * 'c' with its strides): {@link #read} and {@link #write} then copy its own memory in one native call (no ND4J op;
     * a {@link HostPointer} instead of an NIO view, which JNI makes anew each time: the JVM's share of the MLP step,
     * round 11).
     */
    public static boolean rowMajor(INDArray array) {
        return contiguousVector(array) || CPU && array.dataType() == DataType.FLOAT && array.ordering() == 'c'
            && Shape.hasDefaultStridesForShape(array);
    }

    /** A CPU float vector (or scalar) whose elements lie next to each other in its buffer. */
    static boolean contiguousVector(INDArray array) {
        return CPU && array.dataType() == DataType.FLOAT && array.isVectorOrScalar() && array.elementWiseStride() == 1;
    }

    /**
     * Whether every byte of {@code array} in {@link #bytes} (and of an array of the same length and offset) has an
     * int index, as {@code ByteBuffer}'s accessors and the Vector API's take.
     */
    static boolean byteIndexed(INDArray array) {
        return array.offset() + array.length() < Integer.MAX_VALUE / 4;
    }

    /** The whole buffer under {@code array} (a view's included), in native byte order; the array starts at offset(). */
    static ByteBuffer bytes(INDArray array) {
        return array.data().asNio().order(ByteOrder.nativeOrder());
    }

    private static FloatBuffer buffer(INDArray array) {
        FloatBuffer buffer = bytes(array).asFloatBuffer();
        buffer.position((int) array.offset());
        return buffer;
    }
}
