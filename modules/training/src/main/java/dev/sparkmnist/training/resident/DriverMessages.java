package dev.sparkmnist.training.resident;

import java.lang.reflect.Field;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.LongAdder;
import org.apache.spark.SparkContext;

/**
 * Counts every message the driver's RPC environment delivers, per endpoint (BlockManagerMaster, HeartbeatReceiver,
 * CoarseGrainedScheduler, MapOutputTracker, this engine's rendezvous, ...): a measuring instrument for the exchange
 * benchmark and the tests, not used in training.
 *
 * <p>Spark has no metric for this. Its {@code Dispatcher} looks every message's endpoint up by name in one map
 * ({@code Dispatcher.postMessage}, the only reader of that map's {@code get} in Spark 3.5), local and remote
 * messages alike; this replaces that map by a copy that counts the look-ups. Installed through reflection on
 * Spark's private field, so it is tied to Spark 3.5's dispatcher and fails loudly if that changes.
 */
public final class DriverMessages {
    private final CountingMap endpoints;

    private DriverMessages(CountingMap endpoints) {
        this.endpoints = endpoints;
    }

    /** Starts counting the messages delivered to the driver of {@code sc} (call once, before the work measured). */
    public static synchronized DriverMessages install(SparkContext sc) {
        try {
            Object rpcEnv = sc.env().rpcEnv();
            Object dispatcher = field(rpcEnv.getClass(), "dispatcher").get(rpcEnv);
            Field map = field(dispatcher.getClass(), "endpoints");
            Object current = map.get(dispatcher);
            if (current instanceof CountingMap counting) {
                return new DriverMessages(counting);
            }
            @SuppressWarnings("unchecked")
            CountingMap counting = new CountingMap((Map<String, Object>) current);
            map.set(dispatcher, counting);
            return new DriverMessages(counting);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("cannot count the driver's RPC messages on this Spark version ("
                + org.apache.spark.package$.MODULE$.SPARK_VERSION() + "): " + e, e);
        }
    }

    /** Messages delivered so far, per endpoint name, sorted by name. */
    public Map<String, Long> snapshot() {
        Map<String, Long> out = new TreeMap<>();
        endpoints.counts.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    /** Per endpoint: {@code after} minus {@code before}, leaving out endpoints without messages in between. */
    public static Map<String, Long> difference(Map<String, Long> before, Map<String, Long> after) {
        Map<String, Long> out = new TreeMap<>();
        after.forEach((k, v) -> {
            long d = v - before.getOrDefault(k, 0L);
            if (d != 0) {
                out.put(k, d);
            }
        });
        return out;
    }

    private static Field field(Class<?> type, String name) throws NoSuchFieldException {
        Field f = type.getDeclaredField(name);
        f.setAccessible(true);
        return f;
    }

    /** The dispatcher's endpoint map, counting {@code get}: one per message delivered. */
    private static final class CountingMap extends ConcurrentHashMap<String, Object> {
        private static final long serialVersionUID = 1L;
        private final transient ConcurrentMap<String, LongAdder> counts = new ConcurrentHashMap<>();

        CountingMap(Map<String, Object> original) {
            super(original);
        }

        @Override
        public Object get(Object key) {
            if (key instanceof String name) {
                counts.computeIfAbsent(name, k -> new LongAdder()).increment();
            }
            return super.get(key);
        }

        /** Not a message: ConcurrentHashMap's own containsKey calls get, which would count it. */
        @Override
        public boolean containsKey(Object key) {
            return super.get(key) != null;
        }
    }
}
