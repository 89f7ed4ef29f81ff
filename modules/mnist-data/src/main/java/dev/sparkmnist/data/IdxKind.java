package dev.sparkmnist.data;

/** The two idx file kinds MNIST uses, with their magic numbers (unsigned bytes, 3 or 1 dimensions). */
public enum IdxKind {
    /** {@code 0x00000803}: count x rows x cols unsigned bytes. */
    IMAGES(0x00000803, 3),
    /** {@code 0x00000801}: count unsigned bytes. */
    LABELS(0x00000801, 1);

    private final int magic;
    private final int dimensions;

    IdxKind(int magic, int dimensions) {
        this.magic = magic;
        this.dimensions = dimensions;
    }

    public int magic() {
        return magic;
    }

    public int dimensions() {
        return dimensions;
    }

    /** Bytes before the first record: the magic number and one 4-byte size per dimension. */
    public int headerBytes() {
        return 4 + 4 * dimensions;
    }
}
