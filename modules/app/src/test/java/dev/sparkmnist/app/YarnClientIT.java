package dev.sparkmnist.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sparkmnist.data.testing.TestData;
import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.MiniYARNCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job in YARN client mode on a MiniYARNCluster (one ResourceManager, one NodeManager on 127.0.0.1): executors
 * run in YARN containers. Optional, behind the Maven profile {@code yarn}: {@code mvn -B verify -Pyarn}.
 */
@Timeout(600)
class YarnClientIT {
    @TempDir
    static Path tmp;
    private static MiniYARNCluster yarn;

    @BeforeAll
    static void startYarn() throws InterruptedException {
        YarnConfiguration conf = new YarnConfiguration();
        conf.set("yarn.resourcemanager.hostname", "127.0.0.1");
        conf.set("yarn.nodemanager.hostname", "127.0.0.1");
        conf.setInt(YarnConfiguration.RM_SCHEDULER_MINIMUM_ALLOCATION_MB, 256);
        conf.setInt(YarnConfiguration.NM_PMEM_MB, 8192);
        conf.setInt(YarnConfiguration.NM_VCORES, 4);
        conf.setBoolean(YarnConfiguration.NM_PMEM_CHECK_ENABLED, false);
        conf.setBoolean(YarnConfiguration.NM_VMEM_CHECK_ENABLED, false);
        conf.set("yarn.scheduler.capacity.root.queues", "default");
        conf.set("yarn.scheduler.capacity.root.default.capacity", "100");
        conf.set("yarn.scheduler.capacity.maximum-am-resource-percent", "1.0");
        yarn = new MiniYARNCluster("spark-mnist-yarn", 1, 1, 1);
        yarn.init(conf);
        yarn.start();
        for (int i = 0; i < 100 && yarn.getConfig().get(YarnConfiguration.RM_ADDRESS, "").endsWith(":0"); i++) {
            Thread.sleep(100);
        }
    }

    @AfterAll
    static void stopYarn() {
        if (yarn != null) {
            yarn.stop();
        }
    }

    @Test
    void trainsInYarnContainers() throws Exception {
        String[] cp = System.getProperty("java.class.path").split(File.pathSeparator);
        String jars = java.util.Arrays.stream(cp).filter(p -> p.endsWith(".jar")).map(p -> "local:" + p)
            .collect(Collectors.joining(","));
        String dirs = java.util.Arrays.stream(cp).filter(p -> !p.endsWith(".jar"))
            .collect(Collectors.joining(File.pathSeparator));
        List<String> args = new ArrayList<>(List.of("train", "--master", "yarn", "--model", "mlp", "--epochs", "1",
            "--limit-train", "640", "--limit-test", "200", "--data-dir", TestData.sliceDir(),
            "--output", tmp.resolve("out").toString(), "--export-dir", tmp.resolve("export").toString(),
            "--export-dir-shared",
            "--conf", "spark.submit.deployMode=client",
            "--conf", "spark.ui.enabled=false",
            "--conf", "spark.yarn.jars=" + jars,
            "--conf", "spark.executor.extraClassPath=" + dirs,
            "--conf", "spark.executor.instances=2",
            "--conf", "spark.executor.cores=1",
            "--conf", "spark.executor.memory=768m",
            "--conf", "spark.yarn.am.memory=512m",
            "--conf", "spark.executorEnv.SPARK_LOCAL_IP=127.0.0.1",
            "--conf", "spark.scheduler.minRegisteredResourcesRatio=1.0",
            "--conf", "spark.scheduler.maxRegisteredResourcesWaitingTime=120s"));
        for (Map.Entry<String, String> e : yarn.getConfig()) {
            args.add("--conf");
            args.add("spark.hadoop." + e.getKey() + "=" + e.getValue());
        }
        CliIT.Run run = CliIT.run(args.toArray(String[]::new));
        assertEquals(0, run.exit(), run.err());
        JsonNode prov = RunReport.JSON.readTree(tmp.resolve("out/provenance.json").toFile());
        assertEquals("yarn", prov.get("master").asText());
        assertEquals(2, prov.get("trainerJvms").size(), "two YARN executor containers: " + prov.get("trainerJvms"));
        JsonNode metrics = RunReport.JSON.readTree(tmp.resolve("out/metrics.json").toFile());
        assertEquals(640, metrics.get("epochs").get(0).get("examplesTrained").asInt());
        assertTrue(metrics.get("test").get("accuracy").asDouble() > 0.5, metrics.get("test").toString());
    }
}
