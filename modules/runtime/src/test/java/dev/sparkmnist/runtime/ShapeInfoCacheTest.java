package dev.sparkmnist.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.models.Models;
import java.util.Random;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ndarray.ShapeInfoProvider;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** ND4J's shape buffers, one per distinct shape: the same buffers ND4J builds, shared, and training unchanged. */
class ShapeInfoCacheTest {

    private static ShapeInfoCache installed() {
        Nd4jRuntime.configure(1);
        return assertInstanceOf(ShapeInfoCache.class, Nd4j.getShapeInfoProvider(), "installed on the CPU backend");
    }

    @Test
    void arraysOfOneShapeShareOneBufferWithNd4jsContent() {
        ShapeInfoCache cache = installed();
        assertTrue(ShapeInfoCache.install(), "installing twice keeps it");
        INDArray a = Nd4j.create(DataType.FLOAT, 7, 5);
        INDArray b = Nd4j.rand(DataType.FLOAT, 7, 5);
        assertSame(a.shapeInfoDataBuffer(), b.shapeInfoDataBuffer(), "one buffer for one shape");
        assertNotSame(a.shapeInfoDataBuffer(), Nd4j.create(DataType.FLOAT, 5, 7).shapeInfoDataBuffer());
        assertNotSame(a.shapeInfoDataBuffer(), Nd4j.create(DataType.DOUBLE, 7, 5).shapeInfoDataBuffer());
        assertNotSame(a.shapeInfoDataBuffer(), Nd4j.create(DataType.FLOAT, new long[] {7, 5}, 'f')
            .shapeInfoDataBuffer());
        // views, orders, types, scalars and empty arrays: what the cache answers is what ND4J's provider builds
        INDArray big = Nd4j.rand(DataType.FLOAT, 4, 6, 8);
        INDArray[] arrays = {a, big, big.get(NDArrayIndex.interval(1, 3)), big.permute(2, 0, 1),
            big.get(NDArrayIndex.all(), NDArrayIndex.point(2)), Nd4j.scalar(3f), Nd4j.create(DataType.FLOAT, 0, 4),
            Nd4j.create(DataType.INT, new long[] {3, 2}, 'f'), b.reshape(35)};
        for (INDArray x : arrays) {
            long[] fresh = cache.nd4j().createShapeInformation(x.shape(), x.stride(), x.elementWiseStride(),
                x.ordering(), x.dataType(), x.isEmpty()).getSecond();
            assertArrayEquals(fresh, x.shapeInfoDataBuffer().asLong(), x.shapeInfoToString());
            assertArrayEquals(fresh, cache.createShapeInformation(x.shape(), x.stride(), x.elementWiseStride(),
                x.ordering(), x.dataType(), x.isEmpty()).getFirst().asLong(), x.shapeInfoToString());
        }
    }

    @Test
    void theCacheKeepsItsOwnCopyOfTheCallersArraysAndStopsGrowingAtItsLimit() {
        ShapeInfoProvider nd4j = installed().nd4j();
        ShapeInfoCache cache = new ShapeInfoCache(nd4j, 3);
        long[] shape = {2, 3};
        long[] stride = {3, 1};
        Pair<DataBuffer, long[]> first = cache.createShapeInformation(shape, stride, 1, 'c', DataType.FLOAT, false);
        shape[0] = 9; // a caller reusing its arrays must not change what the key said
        stride[0] = 27;
        Pair<DataBuffer, long[]> again = cache.createShapeInformation(new long[] {2, 3}, new long[] {3, 1}, 1, 'c',
            DataType.FLOAT, false);
        assertSame(first, again);
        assertEquals(2, again.getSecond()[1], "the first shape's buffer");
        for (int n = 1; n <= 5; n++) {
            cache.createShapeInformation(new long[] {n, 10}, new long[] {10, 1}, 1, 'c', DataType.FLOAT, false);
        }
        assertEquals(3, cache.size(), "no more shapes than its limit");
        Pair<DataBuffer, long[]> past = cache.createShapeInformation(new long[] {5, 10}, new long[] {10, 1}, 1, 'c',
            DataType.FLOAT, false);
        assertNotSame(past, cache.createShapeInformation(new long[] {5, 10}, new long[] {10, 1}, 1, 'c',
            DataType.FLOAT, false), "past the limit every call builds its own, as ND4J does");
        assertArrayEquals(nd4j.createShapeInformation(new long[] {5, 10}, new long[] {10, 1}, 1, 'c', DataType.FLOAT,
            false).getSecond(), past.getSecond());
    }

    @Test
    void lenetTrainsToTheSameParametersWithAndWithoutTheCache() throws Exception {
        ShapeInfoCache cache = installed();
        INDArray uncached;
        try {
            ShapeInfoCache.use(cache.nd4j());
            uncached = train();
        } finally {
            ShapeInfoCache.use(cache);
        }
        assertEquals(uncached, train(), "the same parameters after 6 steps");
    }

    private static INDArray train() {
        MultiLayerNetwork net = Models.network(ModelOptions.lenet());
        Random r = new Random(3);
        for (int step = 0; step < 6; step++) {
            float[] x = new float[8 * 784];
            for (int i = 0; i < x.length; i++) {
                x[i] = r.nextFloat() < 0.2f ? r.nextFloat() : 0f;
            }
            float[] y = new float[8 * 10];
            for (int i = 0; i < 8; i++) {
                y[i * 10 + r.nextInt(10)] = 1f;
            }
            net.fit(new DataSet(Nd4j.create(x, new long[] {8, 784}), Nd4j.create(y, new long[] {8, 10})));
        }
        return net.params().dup();
    }
}
