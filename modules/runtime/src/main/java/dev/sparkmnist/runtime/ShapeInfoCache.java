package dev.sparkmnist.runtime;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.ShapeInfoProvider;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ND4J's shape descriptions, one per distinct shape instead of one per array. Every ND4J array carries a shape
 * buffer; on the CPU backend ND4J 1.0.0-M2 caches those it builds through one of its provider's methods but not
 * through the one nearly every array constructor calls ({@code createShapeInformation(shape, stride, ews, order,
 * dataType, empty)}), so each new array and view wrapped its (natively cached, constant) shape memory in new Java
 * objects registered with ND4J's and JavaCPP's deallocation threads (an id built as a string, a map entry, a weak
 * reference each), whose clean-up fell behind two training threads and kept about 250 MB alive, and G1's
 * young pauses grew with them to 60-100 ms (BENCHMARKS.md, "Per-core speed", round 8).
 *
 * <p>This provider answers that method from a map, keyed by everything that makes the buffer (shape, strides,
 * element-wise stride, order, type, emptiness), with the buffer ND4J's own provider built the first time; every
 * other call goes to ND4J's provider unchanged. Sharing is what ND4J's cached method already does: shape buffers
 * are constant (ND4J marks them so and never writes them), and the memory under them was already shared, as the
 * native side keeps one constant buffer per shape. At most {@value #MAX_ENTRIES} shapes are kept; past that ND4J
 * builds buffers as before. Installed on the CPU backend only ({@link #install}).
 */
public final class ShapeInfoCache implements ShapeInfoProvider {
    static final int MAX_ENTRIES = 10_000;
    private static final String CPU_PROVIDER = "org.nd4j.linalg.cpu.nativecpu.DirectShapeInfoProvider";
    private static final Logger LOG = LoggerFactory.getLogger(ShapeInfoCache.class);
    private static final AtomicBoolean INSTALLED = new AtomicBoolean();

    private final ShapeInfoProvider nd4j;
    private final int maxEntries;
    private final ConcurrentHashMap<Key, Pair<DataBuffer, long[]>> cache = new ConcurrentHashMap<>();

    ShapeInfoCache(ShapeInfoProvider nd4j, int maxEntries) {
        this.nd4j = nd4j;
        this.maxEntries = maxEntries;
    }

    /**
     * Puts this cache in front of ND4J's provider in this JVM, once; only where that provider is the CPU backend's
     * (other backends keep theirs). Returns whether the cache is in use after the call.
     */
    public static boolean install() {
        ShapeInfoProvider current = Nd4j.getShapeInfoProvider();
        if (current instanceof ShapeInfoCache) {
            return true;
        }
        if (current == null || !current.getClass().getName().equals(CPU_PROVIDER) || INSTALLED.getAndSet(true)) {
            return false;
        }
        try {
            use(new ShapeInfoCache(current, MAX_ENTRIES));
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.info("ND4J's shape buffers stay uncached ({}: {})", e.getClass().getSimpleName(), e.getMessage());
            return false;
        }
    }

    /** Makes {@code provider} ND4J's shape provider in this JVM (ND4J has no setter: its static field). */
    static void use(ShapeInfoProvider provider) throws ReflectiveOperationException {
        java.lang.reflect.Field field = Nd4j.class.getDeclaredField("shapeInfoProvider");
        field.setAccessible(true);
        field.set(null, provider);
    }

    /** The provider this cache fronts. */
    ShapeInfoProvider nd4j() {
        return nd4j;
    }

    /** Shapes held. */
    int size() {
        return cache.size();
    }

    @Override
    public Pair<DataBuffer, long[]> createShapeInformation(long[] shape, long[] stride, long elementWiseStride,
                                                           char order, DataType dataType, boolean empty) {
        Key key = new Key(shape, stride, elementWiseStride, order, dataType, empty);
        Pair<DataBuffer, long[]> cached = cache.get(key);
        if (cached != null) {
            return cached;
        }
        Pair<DataBuffer, long[]> built = nd4j.createShapeInformation(shape, stride, elementWiseStride, order, dataType,
            empty);
        if (cache.size() < maxEntries) {
            // the key keeps copies: a caller may reuse its arrays
            Pair<DataBuffer, long[]> raced = cache.putIfAbsent(key.copy(), built);
            return raced != null ? raced : built;
        }
        return built;
    }

    @Override
    public Pair<DataBuffer, long[]> createShapeInformation(long[] shape, DataType dataType) {
        return createShapeInformation(shape, Nd4j.order(), dataType);
    }

    @Override
    public Pair<DataBuffer, long[]> createShapeInformation(long[] shape, char order, DataType dataType) {
        // as ND4J's: strides for the order, element-wise stride 1, not empty
        return createShapeInformation(shape, Nd4j.getStrides(shape, order), 1, order, dataType, false);
    }

    @Override
    public Pair<DataBuffer, long[]> createShapeInformation(long[] shape, long[] stride, long elementWiseStride,
                                                           char order, long extras) {
        return nd4j.createShapeInformation(shape, stride, elementWiseStride, order, extras);
    }

    @Override
    public void purgeCache() {
        cache.clear();
        nd4j.purgeCache();
    }

    @Override
    public long getCachedBytes() {
        return nd4j.getCachedBytes();
    }

    /** What makes a shape buffer. */
    private record Key(long[] shape, long[] stride, long elementWiseStride, char order, DataType dataType,
                       boolean empty) {
        Key copy() {
            return new Key(shape == null ? null : shape.clone(), stride == null ? null : stride.clone(),
                elementWiseStride, order, dataType, empty);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && elementWiseStride == k.elementWiseStride && order == k.order
                && dataType == k.dataType && empty == k.empty && Arrays.equals(shape, k.shape)
                && Arrays.equals(stride, k.stride);
        }

        @Override
        public int hashCode() {
            int h = 31 * Arrays.hashCode(shape) + Arrays.hashCode(stride);
            h = 31 * h + Long.hashCode(elementWiseStride);
            h = 31 * (31 * h + order) + (dataType == null ? 0 : dataType.ordinal());
            return 31 * h + (empty ? 1 : 0);
        }

        @Override
        public String toString() {
            return Arrays.toString(shape) + " " + Arrays.toString(stride) + " " + order + " " + dataType;
        }
    }
}
