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
 */
record Parcel(String attempt, int to, int from, int round, byte kind, float weight, float[] values) {
    static final byte SCATTER = 'g';
    static final byte GATHER = 'a';
    private static final int FIXED_BYTES = 4 * Integer.BYTES + 1 + Float.BYTES;

    /** The key a receiver waits on. */
    String key() {
        return key(round, kind, from);
    }

    static String key(int round, byte kind, int from) {
        return round + "" + (char) kind + from;
    }

    /** Bytes on the wire, excluding the transport's own framing. */
    int wireBytes() {
        return FIXED_BYTES + attempt.length() + values.length * Float.BYTES;
    }

    ByteBuffer encode() {
        byte[] name = attempt.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(FIXED_BYTES + name.length + values.length * Float.BYTES)
            .order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(name.length).put(name).putInt(to).putInt(from).putInt(round).put(kind).putFloat(weight);
        b.asFloatBuffer().put(values);
        return b.rewind();
    }

    static Parcel decode(ByteBuffer in) {
        ByteBuffer b = in.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        byte[] name = new byte[b.getInt()];
        b.get(name);
        int to = b.getInt();
        int from = b.getInt();
        int round = b.getInt();
        byte kind = b.get();
        float weight = b.getFloat();
        float[] values = new float[b.remaining() / Float.BYTES];
        b.asFloatBuffer().get(values);
        return new Parcel(new String(name, StandardCharsets.UTF_8), to, from, round, kind, weight, values);
    }
}
