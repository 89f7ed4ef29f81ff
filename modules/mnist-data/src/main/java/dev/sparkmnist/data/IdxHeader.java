package dev.sparkmnist.data;

import java.io.Serializable;

/**
 * A validated idx header: what kind of file, how many records, and the record shape.
 *
 * @param kind images or labels
 * @param count number of records
 * @param rows image rows (1 for labels)
 * @param cols image columns (1 for labels)
 */
public record IdxHeader(IdxKind kind, int count, int rows, int cols) implements Serializable {

    /** Bytes per record: rows x cols for images, 1 for labels. */
    public int recordBytes() {
        return rows * cols;
    }

    /** Bytes of all the records: the data after the header. */
    public long dataBytes() {
        return (long) count * recordBytes();
    }

    /** Total file length an uncompressed file with this header must have. */
    public long expectedLength() {
        return kind.headerBytes() + dataBytes();
    }

    /** Byte offset of record {@code index} in the uncompressed file. */
    public long offsetOf(long index) {
        return kind.headerBytes() + index * recordBytes();
    }
}
