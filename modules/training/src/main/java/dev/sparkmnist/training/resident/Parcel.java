package dev.sparkmnist.training.resident;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * One slice of the averaged vector on its way from one worker to another: the wire format of the exchange.
 *
 * @param attempt the stage attempt's name (run, stage id, attempt number): a retried attempt never reads a parcel
 *     of the attempt that failed
 * @param to receiving worker
 * @param from sending worker
 * @param round averaging round within the epoch
 * @param kind {@link #SCATTER} (a slice for its owner to reduce) or {@link #GATHER} (an owner's averaged slice)
 * @param weight the sender's weight in the mean (0 when it fitted nothing this round)
 * @param values the slice
 * @param received whether {@code values} is the receiver's own copy, decoded from the wire (it may reuse the array
 *     once done with it); false when a peer in the same JVM handed over its own array
 */
record Parcel(String attempt, int to, int from, int round, byte kind, float weight, float[] values,
              boolean received) {
    static final byte SCATTER = 'g';
    static final byte GATHER = 'a';
    private static final int FIXED_BYTES = 4 * Integer.BYTES + 1 + Float.BYTES;

    /** A parcel to send: {@code values} stays the sender's. */
    Parcel(String attempt, int to, int from, int round, byte kind, float weight, float[] values) {
        this(attempt, to, from, round, kind, weight, values, false);
    }

    /** The key a receiver waits on. */
    String key() {
        return key(round, kind, from);
    }

    static String key(int round, byte kind, int from) {
        return round + "" + (char) kind + from;
    }

    /** Bytes on the wire, excluding the transport's own framing. */
    int wireBytes() {
        return FIXED_BYTES + attempt.getBytes(StandardCharsets.UTF_8).length + values.length * Float.BYTES;
    }

    /** Writes the parcel ({@link #wireBytes} of them) into {@code out} at its position. */
    void encode(ByteBuffer out) {
        byte[] name = attempt.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = out.order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(name.length).put(name).putInt(to).putInt(from).putInt(round).put(kind).putFloat(weight);
        b.asFloatBuffer().put(values);
        b.position(b.position() + values.length * Float.BYTES);
    }

    /** Where a receiver decodes a parcel's values. */
    interface Allocator {
        /** An array of {@code length} floats for a parcel to worker {@code to} of {@code attempt}, or null: drop it. */
        float[] of(String attempt, int to, int length);
    }

    /** Reads a parcel, its values into an array {@code arrays} gives; null when it gives none. */
    static Parcel decode(ByteBuffer in, Allocator arrays) {
        ByteBuffer b = in.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        byte[] name = new byte[b.getInt()];
        b.get(name);
        String attempt = new String(name, StandardCharsets.UTF_8);
        int to = b.getInt();
        int from = b.getInt();
        int round = b.getInt();
        byte kind = b.get();
        float weight = b.getFloat();
        float[] values = arrays.of(attempt, to, b.remaining() / Float.BYTES);
        if (values == null) {
            return null;
        }
        b.asFloatBuffer().get(values);
        return new Parcel(attempt, to, from, round, kind, weight, values, true);
    }
}
