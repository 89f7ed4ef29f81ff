// The cost of an epoch's outcome on its way from worker 0 to the driver (a span's report, Rendezvous.report):
// 2.85 MB of serialised outcome (the MLP's) sent as Base64 text inside the message string, as until round 31, against
// a string header and the bytes themselves, each Java-serialised and read back as Spark's RPC does. Prints the last
// 6 of 12 repetitions. Run: java scripts/lib/RpcPayloadBench.java [bytes]   (BENCHMARKS.md, round 31)
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.Base64;
import java.util.Random;

public class RpcPayloadBench {
    static byte[] serialise(Object o) throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(b)) {
            out.writeObject(o);
        }
        return b.toByteArray();
    }

    static Object deserialise(byte[] x) throws Exception {
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(x))) {
            return in.readObject();
        }
    }

    public static void main(String[] args) throws Exception {
        byte[] payload = new byte[args.length > 0 ? Integer.parseInt(args[0]) : 2_850_000];
        new Random(1).nextBytes(payload);
        for (int rep = 0; rep < 12; rep++) {
            long t0 = System.nanoTime();
            String text = "report|key|1|0|2|" + Base64.getEncoder().encodeToString(payload);
            String back = (String) deserialise(serialise(text));
            byte[] viaText = Base64.getDecoder().decode(back.substring(back.lastIndexOf('|') + 1));
            long t1 = System.nanoTime();
            byte[] wire = serialise(new Object[] {"report|key|1|0|2", payload});
            byte[] viaBytes = (byte[]) ((Object[]) deserialise(wire))[1];
            long t2 = System.nanoTime();
            if (viaText.length != payload.length || viaBytes.length != payload.length) {
                throw new AssertionError("lost bytes");
            }
            if (rep >= 6) {
                System.out.printf("Base64 text %.1f ms (%d bytes serialised)   byte array %.1f ms (%d bytes)%n",
                    (t1 - t0) / 1e6, serialise(text).length, (t2 - t1) / 1e6, wire.length);
            }
        }
    }
}
