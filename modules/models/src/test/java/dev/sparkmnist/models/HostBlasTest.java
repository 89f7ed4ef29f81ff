package dev.sparkmnist.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** {@link HostBlas} computes ND4J's products in every layout it takes, and refuses the others untouched. */
class HostBlasTest {
    /** A [rows x cols] float matrix of the given order, or a view of a larger one at an offset ('v'). */
    private static INDArray matrix(int rows, int cols, char layout, long seed) {
        Nd4j.getRandom().setSeed(seed);
        if (layout == 'v') { // rows 1.. and columns 2.. of a larger 'c' matrix: an offset and a leading dimension
            return Nd4j.rand(DataType.FLOAT, rows + 2, cols + 3).get(NDArrayIndex.interval(1, rows + 1),
                NDArrayIndex.interval(2, cols + 2));
        }
        return Nd4j.rand(DataType.FLOAT, rows, cols).subi(0.5).dup(layout);
    }

    private static INDArray op(INDArray x, boolean t) {
        return t ? x.transpose() : x;
    }

    @Test
    void everyLayoutAndTransposeGivesNd4jsProduct() {
        assertTrue(HostBlas.AVAILABLE, "the CPU backend's OpenBLAS is reachable in tests");
        HostBlas blas = new HostBlas();
        int m = 5;
        int k = 7;
        int n = 3;
        long seed = 1;
        for (char la : new char[] {'c', 'f', 'v'}) {
            for (char lb : new char[] {'c', 'f', 'v'}) {
                for (char lc : new char[] {'c', 'f', 'v'}) {
                    for (boolean ta : new boolean[] {false, true}) {
                        for (boolean tb : new boolean[] {false, true}) {
                            INDArray a = ta ? matrix(k, m, la, seed++) : matrix(m, k, la, seed++);
                            INDArray b = tb ? matrix(n, k, lb, seed++) : matrix(k, n, lb, seed++);
                            INDArray c = matrix(m, n, lc, seed++);
                            INDArray expected = op(a, ta).mmul(op(b, tb)).addi(c.mul(0.5));
                            long before = HostBlas.PRODUCTS.sum();
                            assertTrue(blas.gemm(a, ta, b, tb, c, 0.5f), "runs for " + la + lb + lc + ta + tb);
                            assertEquals(before + 1, HostBlas.PRODUCTS.sum());
                            String what = la + "" + lb + lc + " ta=" + ta + " tb=" + tb;
                            assertEquals(0.0, expected.sub(c).amaxNumber().doubleValue(), 1e-5, what);
                        }
                    }
                }
            }
        }
    }

    @Test
    void onlyFalseSwitchesTheDirectCallsOff() {
        assertEquals(null, HostBlas.switchedOff(null));
        assertEquals(null, HostBlas.switchedOff(" TRUE "));
        assertEquals(null, HostBlas.switchedOff("off"), "warned about, left on");
        assertEquals("dense layers run ND4J's ops in this JVM (-Dsparkmnist.hostBlas=false)",
            HostBlas.switchedOff(" False"));
    }

    @Test
    void refusesWhatItCannotReadInPlaceAndLeavesItAlone() {
        HostBlas blas = new HostBlas();
        INDArray out = Nd4j.zeros(DataType.FLOAT, 2, 2);
        INDArray everyOther = Nd4j.rand(DataType.FLOAT, 4, 4).get(NDArrayIndex.interval(0, 2, 4),
            NDArrayIndex.interval(0, 2, 4)); // strides (8, 2): neither rows nor columns contiguous
        assertFalse(blas.gemm(everyOther, false, Nd4j.rand(DataType.FLOAT, 2, 2), false, out, 0f));
        assertFalse(blas.gemm(Nd4j.rand(DataType.DOUBLE, 2, 2), false, Nd4j.rand(DataType.DOUBLE, 2, 2), false,
            Nd4j.zeros(DataType.DOUBLE, 2, 2), 0f), "doubles");
        assertFalse(blas.gemm(Nd4j.rand(DataType.FLOAT, 2, 3), false, Nd4j.rand(DataType.FLOAT, 2, 2), false, out, 0f),
            "shapes that do not multiply");
        assertFalse(blas.gemm(Nd4j.rand(DataType.FLOAT, 2, 2, 2), false, Nd4j.rand(DataType.FLOAT, 2, 2), false, out,
            0f), "rank 3");
        assertEquals(0.0, out.amaxNumber().doubleValue(), "nothing written");
    }
}
