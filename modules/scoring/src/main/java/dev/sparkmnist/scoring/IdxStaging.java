package dev.sparkmnist.scoring;

import dev.sparkmnist.data.InvalidInputException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Iterator;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.storage.StorageLevel;

/**
 * Labelled digits read on the executors, written as an idx images and labels pair (what the training engines read
 * their slices from). The rows are checked on the executors first (bad rows counted, the first named); then they are
 * streamed through the driver a partition at a time into the two files, never held whole.
 */
public final class IdxStaging {
    private IdxStaging() {
    }

    /**
     * Writes {@code digits} to {@code images} and {@code labels}; {@code what} names the input in messages. Returns
     * the number of digits written.
     */
    public static long write(JavaRDD<DigitRow> digits, String what, FileSystem fs, Path images, Path labels) {
        JavaRDD<DigitRow> rows = digits.persist(StorageLevel.MEMORY_AND_DISK());
        try {
            long count = requireDigits(rows, what, true);
            if (count > Integer.MAX_VALUE) {
                throw new InvalidInputException(what + " holds " + count + " digits: an idx file holds at most "
                    + Integer.MAX_VALUE);
            }
            try (OutputStream img = fs.create(images, true); OutputStream lab = fs.create(labels, true)) {
                img.write(ByteBuffer.allocate(16).putInt(0x803).putInt((int) count).putInt(28).putInt(28).array());
                lab.write(ByteBuffer.allocate(8).putInt(0x801).putInt((int) count).array());
                Iterator<DigitRow> it = rows.toLocalIterator();
                while (it.hasNext()) {
                    DigitRow d = it.next();
                    img.write(d.pixels());
                    lab.write(d.label());
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + images + " and " + labels, e);
            }
            return count;
        } finally {
            rows.unpersist(false);
        }
    }

    /**
     * Fails, naming the count and the first, when {@code digits} has bad rows (or, with {@code labelled}, digits
     * without a label), or when it holds no digit at all; else returns how many digits it holds. One pass counts both.
     */
    public static long requireDigits(JavaRDD<DigitRow> digits, String what, boolean labelled) {
        Function<DigitRow, Boolean> isBad = d -> d.isBad() || (labelled && !d.labelled());
        long[] counts = digits.aggregate(new long[2], (c, d) -> {
            c[isBad.call(d) ? 1 : 0]++;
            return c;
        }, (a, b) -> new long[] {a[0] + b[0], a[1] + b[1]});
        if (counts[1] > 0) {
            DigitRow b = digits.filter(isBad).take(1).get(0);
            throw new InvalidInputException(what + " has " + counts[1] + " row(s) that are not" + (labelled
                ? " labelled" : "") + " digits; the first, in " + b.source() + ": " + (b.isBad() ? b.error()
                : "digit " + (b.index() + 1) + " has no label (training needs the class of every digit)"));
        }
        if (counts[0] == 0) {
            throw new InvalidInputException(what + " holds no digits");
        }
        return counts[0];
    }
}
