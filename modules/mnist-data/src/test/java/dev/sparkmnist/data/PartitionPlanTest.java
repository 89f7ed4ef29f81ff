package dev.sparkmnist.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class PartitionPlanTest {

    @ParameterizedTest
    @CsvSource({"60000,2", "60000,7", "10,3", "10,10", "1,1", "59999,16"})
    void balancedSlicesAreCompleteDisjointAndWithinOne(int total, int n) {
        List<Slice> slices = PartitionPlan.balanced(total, n);
        assertEquals(n, slices.size());
        int expectedStart = 0;
        int min = Integer.MAX_VALUE;
        int max = 0;
        for (int p = 0; p < n; p++) {
            Slice s = slices.get(p);
            assertEquals(p, s.partition());
            assertEquals(expectedStart, s.start(), "slices must be contiguous and disjoint");
            expectedStart = s.end();
            min = Math.min(min, s.size());
            max = Math.max(max, s.size());
        }
        assertEquals(total, expectedStart, "slices must cover every example");
        assertTrue(max - min <= 1, "sizes differ by more than one: " + min + ".." + max);
    }

    @Test
    void exactSlicesForASmallCase() {
        assertEquals(List.of(new Slice(0, 0, 4), new Slice(1, 4, 7), new Slice(2, 7, 10)),
            PartitionPlan.balanced(10, 3));
    }

    @Test
    void morePartitionsThanExamplesIsRefused() {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> PartitionPlan.balanced(3, 4));
        assertEquals("the data set has 3 examples, fewer than the 4 partitions asked for: each partition needs at"
            + " least one", e.getMessage());
        assertEquals("partitions (0) must be > 0",
            assertThrows(IllegalArgumentException.class, () -> PartitionPlan.balanced(3, 0)).getMessage());
    }

    @Test
    void epochOrderIsASeededPermutation() {
        int[] a = PartitionPlan.epochOrder(1000, 42, 0);
        assertArrayEquals(a, PartitionPlan.epochOrder(1000, 42, 0), "same seed and epoch, same order");
        int[] sorted = a.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < sorted.length; i++) {
            assertEquals(i, sorted[i], "not a permutation");
        }
        assertFalse(Arrays.equals(a, PartitionPlan.epochOrder(1000, 42, 1)), "epochs must differ");
        assertFalse(Arrays.equals(a, PartitionPlan.epochOrder(1000, 43, 0)), "seeds must differ");
        int fixed = 0;
        for (int i = 0; i < a.length; i++) {
            fixed += a[i] == i ? 1 : 0;
        }
        assertTrue(fixed < 20, "a shuffle leaves few elements in place, found " + fixed);
    }
}
