package dev.sparkmnist.app;

import dev.sparkmnist.runs.Stores;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;

/**
 * Before any work, the master must be one this JVM can start Spark on, as the stores are asked before any work
 * ({@link Stores}, within the same {@code --store-timeout}):
 * <ul>
 * <li>a cluster manager whose classes are on the class path: YARN's, Kubernetes' and Mesos' come in Spark jars of
 * their own, which {@code scripts/spark-mnist}'s local class path does not have, and for which Spark said only "Could
 * not parse Master URL";</li>
 * <li>a standalone master that accepts a connection at one of its addresses: Spark tries an absent one three times 20 s
 * apart, then stops the context under the job, which failed 2 minutes later with "Cannot call methods on a stopped
 * SparkContext";</li>
 * <li>a YARN ResourceManager that accepts a connection at one of its addresses (yarn-site.xml's, or the HA pair's):
 * YARN's client retries an absent one for {@code yarn.resourcemanager.connect.max-wait.ms}, 15 minutes by default,
 * without a line on the terminal.</li>
 * </ul>
 * Only a TCP connection is asked for: a master that takes it but never registers the application is Spark's to give
 * up on (the resident engine then stops waiting for executors at once: {@code Slots.requireRunning}).
 */
final class MasterCheck {
    /** YARN's ResourceManager port when yarn-site.xml names only a host. */
    static final int RM_PORT = 8032;

    private MasterCheck() {
    }

    /**
     * Checks the master of {@code conf}; {@code hadoop} is the job's Hadoop configuration (its {@code spark.hadoop.*}
     * settings), to which yarn-site.xml is added from the class path (HADOOP_CONF_DIR under spark-submit).
     *
     * @throws IllegalArgumentException for a cluster manager that is not on the class path
     * @throws Stores.UnreachableStoreException for a master that does not answer
     */
    static void require(SparkConf conf, Configuration hadoop, long timeoutSeconds) {
        requireClusterManager(conf);
        requireReachable(conf, hadoop, timeoutSeconds);
    }

    /** The class-path half of {@link #require}: no network, so it comes with the options' own checks. */
    static void requireClusterManager(SparkConf conf) {
        requireClusterManager(conf.get("spark.master"), SparkContexts::pluggedIn);
    }

    /** The network half of {@link #require}: a standalone master or YARN's ResourceManager that answers. */
    static void requireReachable(SparkConf conf, Configuration hadoop, long timeoutSeconds) {
        String master = conf.get("spark.master");
        if (master.startsWith("spark://")) {
            List<String> addresses = List.of(master.substring("spark://".length()).split(","));
            requireAnswers(master, "standalone master", addresses, "start it (scripts/local-cluster.sh start N on this"
                + " machine) or name one that runs", timeoutSeconds);
        } else if (master.equals("yarn")) {
            requireAnswers(master, "YARN ResourceManager", resourceManagers(hadoop), "start it, or name it in"
                + " yarn.resourcemanager.address of HADOOP_CONF_DIR's yarn-site.xml", timeoutSeconds);
        }
    }

    /** Refuses YARN, Kubernetes and Mesos masters whose cluster manager {@code onClassPath} does not find. */
    static void requireClusterManager(String master, Predicate<String> onClassPath) {
        String[] support = master.equals("yarn") ? new String[] {"YARN", "spark-yarn"}
            : master.startsWith("k8s://") ? new String[] {"Kubernetes", "spark-kubernetes"}
            : master.startsWith("mesos://") ? new String[] {"Mesos", "spark-mesos"} : null;
        if (support != null && !onClassPath.test(master)) {
            throw new IllegalArgumentException("--master (" + master + ") needs Spark's " + support[0] + " support ("
                + support[1] + "_2.12), which is not on this JVM's class path: submit the job with spark-submit"
                + (master.equals("yarn") ? " (PROPERTIES_FILE=conf/yarn.conf.template scripts/submit-cluster.sh yarn"
                + " [options]: the generated Spark home has it)" : " from a Spark distribution that has it"
                + " (scripts/spark-submit uses $SPARK_HOME's)"));
        }
    }

    /**
     * The ResourceManager addresses YARN's client would try, as {@code YarnConfiguration} resolves them: with HA, each
     * of {@code yarn.resourcemanager.ha.rm-ids}' {@code yarn.resourcemanager.address.ID} (else its host name and port
     * 8032); without, {@code yarn.resourcemanager.address} (else {@code yarn.resourcemanager.hostname}, 0.0.0.0 by
     * default, and port 8032).
     */
    static List<String> resourceManagers(Configuration hadoop) {
        Configuration yarn = new Configuration(hadoop);
        if (Thread.currentThread().getContextClassLoader().getResource("yarn-site.xml") != null) {
            yarn.addResource("yarn-site.xml");
        }
        List<String> addresses = new ArrayList<>();
        if (yarn.getBoolean("yarn.resourcemanager.ha.enabled", false)) {
            for (String id : yarn.getTrimmedStrings("yarn.resourcemanager.ha.rm-ids")) {
                addresses.add(yarn.getTrimmed("yarn.resourcemanager.address." + id,
                    yarn.getTrimmed("yarn.resourcemanager.hostname." + id, "0.0.0.0") + ":" + RM_PORT));
            }
        }
        if (addresses.isEmpty()) {
            addresses.add(yarn.getTrimmed("yarn.resourcemanager.address",
                yarn.getTrimmed("yarn.resourcemanager.hostname", "0.0.0.0") + ":" + RM_PORT));
        }
        return addresses;
    }

    /**
     * Connects to each {@code HOST:PORT} of {@code addresses} until one accepts, all within {@code timeoutSeconds}; an
     * address that is not HOST:PORT is left to Spark, which names the URL as it parses it. A host that does not
     * resolve is the user's value (exit 2); a refusal or no answer is the master's (exit 1, as a store's).
     */
    static void requireAnswers(String master, String what, List<String> addresses, String advice,
                               long timeoutSeconds) {
        Stores.requireTimeout(timeoutSeconds);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        String why = null;
        boolean unknownHost = true;
        for (String raw : addresses) {
            String address = raw.trim();
            int colon = address.lastIndexOf(':');
            int port;
            try {
                port = Integer.parseInt(address.substring(colon + 1));
            } catch (NumberFormatException | IndexOutOfBoundsException e) {
                return;
            }
            int millis = (int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(address.substring(0, colon), port), millis);
                return;
            } catch (IllegalArgumentException e) {
                return; // a port out of range
            } catch (SocketTimeoutException e) {
                unknownHost = false;
                why = address + " did not answer within " + timeoutSeconds + " s (raise " + Stores.OPTION
                    + " to wait longer)";
            } catch (UnknownHostException e) {
                why = address + ": the host is unknown" + (e.getMessage() == null ? "" : " (" + e.getMessage() + ")");
            } catch (IOException e) {
                unknownHost = false;
                why = address + " refused the connection (" + Stores.firstLine(e) + ")";
            }
        }
        if (why != null) {
            throw new Stores.UnreachableStoreException("--master (" + master + "): no " + what + " answers: " + why
                + "; " + advice, unknownHost, null);
        }
    }
}
