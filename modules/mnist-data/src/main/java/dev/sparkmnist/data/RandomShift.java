package dev.sparkmnist.data;

import java.util.Arrays;

/**
 * Training-data augmentation by random translation (torchvision's {@code RandomAffine(translate=...)} in whole
 * pixels): each training example of an epoch is moved by {@code dx, dy} pixels, each drawn uniformly from
 * {@code [-pixels, pixels]}, and the pixels it uncovers are background (the normalised value of a 0 byte). The shift
 * is a function of the seed, the epoch and the example's index in its file alone, not of the worker, the slice, the
 * chunk or the thread that reads it, so every engine, worker count and resumed run trains on the same pictures. The
 * test split is never shifted.
 *
 * <p>MNIST's digits sit in a 20x20 box centred in 28x28, so a shift of up to {@link #MAX_PIXELS} pixels moves a digit
 * without cutting it.
 *
 * @param pixels the largest shift along each axis; 0 leaves the pictures as they are
 * @param seed the run's seed (the one that fixes the epochs' order)
 * @param epoch the 0-based epoch
 */
public record RandomShift(int pixels, long seed, int epoch) implements java.io.Serializable {
    /** The largest shift accepted: the margin around MNIST's 20x20 digit box. */
    public static final int MAX_PIXELS = 4;
    /** No shift. */
    public static final RandomShift NONE = new RandomShift(0, 0L, 0);

    public RandomShift {
        if (pixels < 0 || pixels > MAX_PIXELS) {
            throw new IllegalArgumentException("--random-shift (" + pixels + ") must be in [0, " + MAX_PIXELS + "]");
        }
    }

    /** A run's shift, as its readers take it: each reader moves its epoch's pictures by {@link #atEpoch}. */
    public static RandomShift of(int pixels, long seed) {
        return new RandomShift(pixels, seed, 0);
    }

    /** The same shift for epoch {@code e} (0-based). */
    public RandomShift atEpoch(int e) {
        return pixels == 0 || e == epoch ? this : new RandomShift(pixels, seed, e);
    }

    /** Whether this moves any picture. */
    public boolean active() {
        return pixels > 0;
    }

    /** Example {@code example}'s shift along x, in {@code [-pixels, pixels]}. */
    public int dx(int example) {
        return pixels == 0 ? 0 : dx(draw(example));
    }

    /** Example {@code example}'s shift along y, in {@code [-pixels, pixels]}. */
    public int dy(int example) {
        return pixels == 0 ? 0 : dy(draw(example));
    }

    /** The shift along x that an example's random bits give: their upper half. */
    private int dx(long bits) {
        return (int) ((bits >>> 32) % (2 * pixels + 1)) - pixels;
    }

    /** The shift along y that an example's random bits give: their lower half. */
    private int dy(long bits) {
        return (int) ((bits & 0xFFFFFFFFL) % (2 * pixels + 1)) - pixels;
    }

    /** 64 random bits for an example: SplitMix64's finaliser over the seed, the epoch and the index. */
    private long draw(int example) {
        long z = seed * 0x9E3779B97F4A7C15L + ((long) epoch << 32 | (example & 0xFFFFFFFFL));
        z = mix(z);
        return mix(z + 0x9E3779B97F4A7C15L);
    }

    private static long mix(long v) {
        long z = v;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * Writes example {@code example}'s {@code rows x cols} picture from {@code pixels[from..]}, normalised and shifted,
     * to {@code out[offset..offset + rows * cols)}: as {@link Normalization#apply(byte[], int, int, float[], int)} does
     * for a shift of 0, with one pass over the picture whatever the shift.
     */
    public void write(Normalization normalization, byte[] pixels, int from, int rows, int cols, float[] out,
                      int offset, int example) {
        int dx = 0;
        int dy = 0;
        if (this.pixels > 0) { // one draw for both axes
            long bits = draw(example);
            dx = dx(bits);
            dy = dy(bits);
        }
        if (dx == 0 && dy == 0) {
            normalization.apply(pixels, from, rows * cols, out, offset);
            return;
        }
        float background = normalization.apply((byte) 0);
        // destination columns [x0, x1) read source columns [x0 - dx, x1 - dx), all inside the picture
        int x0 = Math.max(0, dx);
        int x1 = Math.min(cols, cols + dx);
        for (int y = 0; y < rows; y++) {
            int row = offset + y * cols;
            int sy = y - dy;
            if (sy < 0 || sy >= rows || x0 >= x1) {
                Arrays.fill(out, row, row + cols, background);
                continue;
            }
            Arrays.fill(out, row, row + x0, background);
            normalization.apply(pixels, from + sy * cols + x0 - dx, x1 - x0, out, row + x0);
            Arrays.fill(out, row + x1, row + cols, background);
        }
    }
}
