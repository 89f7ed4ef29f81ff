package dev.sparkmnist.data;

/** How pixel bytes 0..255 become network inputs. */
public enum Normalization {
    /** {@code (x/255 - 0.1307) / 0.3081}: the MNIST training-set mean and std used by the teaching material. */
    STANDARDIZE(0.1307f, 0.3081f),
    /** {@code x/255}: inputs in [0, 1]. */
    SCALE(0f, 1f);

    /** Precomputed value for each of the 256 possible pixel bytes. */
    private final float[] table = new float[256];

    Normalization(float mean, float std) {
        for (int b = 0; b < 256; b++) {
            table[b] = (b / 255f - mean) / std;
        }
    }

    /** The normalised value of an unsigned pixel byte. */
    public float apply(byte pixel) {
        return table[pixel & 0xFF];
    }
}
