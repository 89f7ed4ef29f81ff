package dev.sparkmnist.scoring;

import java.io.Serializable;

/**
 * One digit as read from the input, on an executor: where it came from, its label when the input has one, and its
 * 28x28 pixels (0..255, ink high), or why it could not be read.
 *
 * @param source the file (or input path) it came from
 * @param index its position in the source: row, line or record number, 0-based
 * @param label its class 0..9, or {@link #NO_LABEL}
 * @param pixels 784 unsigned bytes, row-major; null when {@code error} is set
 * @param error why this row is not a digit (the rule it breaks, with the row's text), or null
 */
public record DigitRow(String source, long index, int label, byte[] pixels, String error) implements Serializable {
    /** The label of an unlabelled digit. */
    public static final int NO_LABEL = -1;
    /** Pixels per digit. */
    public static final int PIXELS = 28 * 28;

    static DigitRow ok(String source, long index, int label, byte[] pixels) {
        return new DigitRow(clean(source), index, label, pixels, null);
    }

    static DigitRow bad(String source, long index, String error) {
        return new DigitRow(clean(source), index, NO_LABEL, null, clean(error));
    }

    /** {@code text} cleaned of credentials ({@link dev.sparkmnist.runs.Secrets}): sources reach predictions. */
    static String clean(String text) {
        return dev.sparkmnist.runs.Secrets.current().scrub(text);
    }

    /** Whether this row could not be read as a digit. */
    public boolean isBad() {
        return error != null;
    }

    /** Whether the input gave this digit a label. */
    public boolean labelled() {
        return label != NO_LABEL;
    }

    /** The pixels as numbers 0..255 (what {@link Scorer#partition} feeds the network). */
    double[] values() {
        double[] out = new double[PIXELS];
        for (int i = 0; i < PIXELS; i++) {
            out[i] = pixels[i] & 0xFF;
        }
        return out;
    }
}
