package dev.sparkmnist.runtime;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * This project's JVM switches ({@code -Dsparkmnist.NAME=true|false}) as Spark settings: {@code --conf
 * spark.sparkmnist.NAME=VALUE} reaches the driver and every executor JVM, where it becomes the system property
 * {@code sparkmnist.NAME} before ND4J starts. Spark refuses executor Java options that contain {@code -Dspark}, and
 * so every {@code -Dsparkmnist.*}; without this, a switch reached executors only through
 * {@code spark.executorEnv.JAVA_TOOL_OPTIONS}. The driver checks the settings ({@link #check}: a known switch, true
 * or false) and applies them when it builds its Spark settings; each task applies them in its JVM first thing
 * ({@link TaskSetup#apply}). A Spark setting wins over a {@code -D} of the same switch, and the log says so.
 */
public final class Switches {
    /** The Spark settings' prefix; what follows it is the switch's name. */
    public static final String CONF_PREFIX = "spark.sparkmnist.";
    /** The switches, each a system property {@code sparkmnist.NAME} read as true or false. */
    public static final List<String> NAMES = List.of("epochSpans", "flushToZero", "hostBlas", "hostSoftmax", "idxCache",
        "localHandover", "mallocPad", "openblasAvx512", "probeInSpan", "readyInSpan", "residentNets", "shapeInfoCache",
        "simdAdam", "simdMomentum", "stageEvaluation", "traces", "trainingStep", "vectorBlend");
    private static final Logger LOG = LoggerFactory.getLogger(Switches.class);
    /** Settings already reported in this JVM (every task applies them again), so the log has one line each. */
    private static final Set<String> REPORTED = ConcurrentHashMap.newKeySet();

    private Switches() {
    }

    /**
     * Whether a switch that is on by default is on in this JVM: its system property ({@code sparkmnist.NAME}) unset or
     * anything but false (any case, blanks around it ignored).
     */
    public static boolean enabled(String property) {
        return !"false".equalsIgnoreCase(System.getProperty(property, "true").strip());
    }

    /**
     * The {@code spark.sparkmnist.*} settings of {@code conf} as system properties ({@code sparkmnist.NAME} to its
     * value, trimmed, lower case), checked.
     *
     * @throws IllegalArgumentException one line naming the setting and the rule, for an unknown switch or a value
     *     other than true or false
     */
    public static Map<String, String> check(SparkConf conf) {
        Map<String, String> properties = new LinkedHashMap<>();
        for (Tuple2<String, String> setting : conf.getAllWithPrefix(CONF_PREFIX)) {
            String name = setting._1();
            String key = CONF_PREFIX + name;
            if (!NAMES.contains(name)) {
                throw new IllegalArgumentException("--conf " + key + ": no such switch; the switches are "
                    + String.join(", ", NAMES.stream().map(n -> CONF_PREFIX + n).toList()));
            }
            String value = setting._2() == null ? "" : setting._2().strip().toLowerCase(Locale.ROOT);
            if (!value.equals("true") && !value.equals("false")) {
                throw new IllegalArgumentException("--conf " + key + " (" + setting._2() + ") must be true or false");
            }
            properties.put("sparkmnist." + name, value);
        }
        return properties;
    }

    /**
     * Checks the settings ({@link #check}) and sets each as a system property of this JVM; returns the properties
     * set. Logs one line for each switch a setting changes.
     */
    public static Map<String, String> apply(SparkConf conf) {
        Map<String, String> properties = check(conf);
        properties.forEach((property, value) -> {
            String before = System.getProperty(property);
            if (value.equals(before)) {
                return;
            }
            System.setProperty(property, value);
            if (REPORTED.add(property + "=" + value)) {
                LOG.info("{}={} (from --conf spark.{}){}", property, value, property,
                    before == null ? "" : ", in place of the JVM's -D" + property + "=" + before);
            }
        });
        return properties;
    }

    /**
     * In a Spark task: the settings of the task's Spark environment as system properties of its JVM. When a setting
     * breaks the rules of {@link #check} (the driver refuses them; only a driver that does not check, as a Spark ML
     * pipeline's, lets them through) none is applied, with one warning. Does nothing outside Spark.
     */
    public static void applyInTask() {
        SparkEnv env = SparkEnv.get();
        if (env == null) {
            return;
        }
        try {
            apply(env.conf());
        } catch (IllegalArgumentException e) {
            if (REPORTED.add("invalid: " + e.getMessage())) {
                LOG.warn("{}; the switches of this JVM stay as they are", e.getMessage());
            }
        }
    }
}
