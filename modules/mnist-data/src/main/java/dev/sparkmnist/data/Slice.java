package dev.sparkmnist.data;

import java.io.Serializable;

/**
 * One partition's share of a data set: positions {@code [start, end)} of the epoch's example order.
 *
 * @param partition partition index
 * @param start first position, inclusive
 * @param end last position, exclusive
 */
public record Slice(int partition, int start, int end) implements Serializable {
    public Slice {
        if (partition < 0 || start < 0 || end < start) {
            throw new IllegalArgumentException("slice " + partition + " [" + start + ", " + end + ") is invalid");
        }
    }

    public int size() {
        return end - start;
    }
}
