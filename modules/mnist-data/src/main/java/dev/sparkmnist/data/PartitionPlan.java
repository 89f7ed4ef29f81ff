package dev.sparkmnist.data;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Plans how a data set is split across partitions and in which order examples are seen each epoch. The plan is a
 * few integers per partition; every partition then reads its own records.
 */
public final class PartitionPlan {
    /** Odd 64-bit constant (SplitMix's gamma) that spreads (seed, epoch) pairs over the seed space. */
    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private PartitionPlan() {
    }

    /**
     * Splits {@code total} positions into {@code partitions} contiguous ranges whose sizes differ by at most one;
     * together they cover every position exactly once.
     */
    public static List<Slice> balanced(int total, int partitions) {
        if (partitions <= 0) {
            throw new IllegalArgumentException("partitions (" + partitions + ") must be > 0");
        }
        if (total < partitions) {
            throw new InvalidInputException("the data set has " + total + " examples, fewer than the "
                + partitions + " partitions asked for: each partition needs at least one");
        }
        List<Slice> slices = new ArrayList<>(partitions);
        int base = total / partitions;
        int extra = total % partitions;
        int start = 0;
        for (int p = 0; p < partitions; p++) {
            int size = base + (p < extra ? 1 : 0);
            slices.add(new Slice(p, start, start + size));
            start += size;
        }
        return slices;
    }

    /**
     * The example order of one epoch: a permutation of {@code 0..total-1} determined by {@code seed} and
     * {@code epoch} alone (Fisher-Yates with {@link SplittableRandom}), so every executor computes the same one.
     */
    public static int[] epochOrder(int total, long seed, int epoch) {
        int[] order = new int[total];
        for (int i = 0; i < total; i++) {
            order[i] = i;
        }
        SplittableRandom random = new SplittableRandom(seed * GOLDEN_GAMMA + epoch);
        for (int i = total - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }
}
