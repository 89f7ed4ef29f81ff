package dev.sparkmnist.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** {@link HostArrays}' bulk copies: in place for row-major arrays and views, through ND4J for the rest. */
class HostArraysTest {
    private static INDArray counting(int rows, int cols, char order) {
        return Nd4j.linspace(DataType.FLOAT, 0, rows * cols, 1).reshape('c', rows, cols).dup(order);
    }

    @Test
    void readsAndWritesRowMajorArraysAndViewsInPlace() {
        INDArray m = counting(4, 5, 'c');
        INDArray row = m.getRow(2); // a view at an offset
        INDArray block = m.get(NDArrayIndex.interval(1, 3), NDArrayIndex.all()); // rows 1-2: contiguous at an offset
        assertTrue(HostArrays.rowMajor(m) && HostArrays.rowMajor(row) && HostArrays.rowMajor(block));
        float[] into = new float[12];
        HostArrays.read(row, into, 1);
        assertArrayEquals(new float[] {0, 10, 11, 12, 13, 14, 0, 0, 0, 0, 0, 0}, into);
        HostArrays.read(block, into, 2);
        assertArrayEquals(new float[] {5, 6, 7, 8, 9, 10, 11, 12, 13, 14}, java.util.Arrays.copyOfRange(into, 2, 12));
        HostArrays.write(new float[] {-1, -2, -3, -4, -5, -6, -7}, 2, row);
        assertArrayEquals(new float[] {-3, -4, -5, -6, -7}, m.getRow(2).toFloatVector(), "written through the view");
        assertEquals(9f, m.getFloat(1, 4), "the row above untouched");
        assertEquals(15f, m.getFloat(3, 0), "the row below untouched");
    }

    @Test
    void otherLayoutsGoThroughNd4jInRowMajorOrder() {
        INDArray f = counting(3, 4, 'f');
        assertFalse(HostArrays.rowMajor(f));
        float[] into = new float[12];
        HostArrays.read(f, into, 0);
        assertArrayEquals(counting(3, 4, 'c').ravel().toFloatVector(), into);
        HostArrays.write(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 0, f);
        assertEquals(8f, f.getFloat(1, 3));
        INDArray column = counting(3, 4, 'c').getColumn(1); // stride 4
        assertFalse(HostArrays.rowMajor(column));
        HostArrays.read(column, into, 0);
        assertArrayEquals(new float[] {1, 5, 9}, java.util.Arrays.copyOf(into, 3));
    }

    @Test
    void aJavaArrayTooShortIsRefusedBeforeAnyNativeCopy() {
        INDArray m = counting(2, 3, 'c');
        assertThrows(IndexOutOfBoundsException.class, () -> HostArrays.read(m, new float[5], 0));
        assertThrows(IndexOutOfBoundsException.class, () -> HostArrays.read(m, new float[8], 3));
        assertThrows(IndexOutOfBoundsException.class, () -> HostArrays.write(new float[6], 1, m));
        assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, m.ravel().toFloatVector(), "unchanged");
    }

    @Test
    void createHoldsTheJavaValuesInRowMajorOrder() {
        float[] values = {9, 0, 1, 2, 3, 4, 5, 6, 9};
        INDArray m = HostArrays.create(values, 1, 2, 3, 1);
        assertArrayEquals(new long[] {2, 3, 1}, m.shape());
        assertEquals(DataType.FLOAT, m.dataType());
        assertEquals('c', m.ordering());
        assertEquals(Nd4j.create(java.util.Arrays.copyOfRange(values, 1, 7), new long[] {2, 3, 1}, 'c'), m);
        assertEquals(3f, m.getFloat(1, 0, 0));
        values[3] = -1;
        assertEquals(2f, m.getFloat(0, 2, 0), "a copy, not a view of the Java array");
        INDArray vector = HostArrays.create(values, 7, 1, 2);
        assertArrayEquals(new float[] {6, 9}, vector.toFloatVector());
        assertThrows(IndexOutOfBoundsException.class, () -> HostArrays.create(values, 4, 2, 3));
    }
}
