package dev.sparkmnist.data;

/** How pixel bytes 0..255 become network inputs. */
public enum Normalization {
    /** {@code (x/255 - 0.1307) / 0.3081}: the MNIST training-set mean and std used by the teaching material. */
    STANDARDIZE(0.1307f, 0.3081f),
    /** {@code x/255}: inputs in [0, 1]. */
    SCALE(0f, 1f);

    /** Precomputed value for each of the 256 possible pixel bytes. */
    private final float[] table = new float[256];
    private final float mean;
    private final float std;

    Normalization(float mean, float std) {
        this.mean = mean;
        this.std = std;
        for (int b = 0; b < 256; b++) {
            table[b] = (b / 255f - mean) / std;
        }
    }

    /** The normalised value of an unsigned pixel byte. */
    public float apply(byte pixel) {
        return table[pixel & 0xFF];
    }

    /**
     * Writes {@code pixels}, normalised, to {@code out[offset..offset + pixels.length - 1]}. A small method of its own
     * so that the JIT compiles this loop once, apart from its callers (inside {@code MnistBatches.read} it was
     * recompiled five times in a run's first epochs, after failed loop predicates, at 0.1-0.5 s of C2 time each).
     */
    public void apply(byte[] pixels, float[] out, int offset) {
        apply(pixels, 0, pixels.length, out, offset);
    }

    /** As above, for the {@code length} pixels of {@code pixels} from {@code from} (a record of a whole file's). */
    public void apply(byte[] pixels, int from, int length, float[] out, int offset) {
        float[] t = table;
        for (int k = 0; k < length; k++) {
            out[offset + k] = t[pixels[from + k] & 0xFF];
        }
    }

    /** The normalised value of a pixel value in [0, 255] given as a number (equal to the byte's for whole values). */
    public float apply(double pixel) {
        return pixel == Math.rint(pixel) && pixel >= 0 && pixel <= 255 ? table[(int) pixel]
            : ((float) pixel / 255f - mean) / std;
    }
}
