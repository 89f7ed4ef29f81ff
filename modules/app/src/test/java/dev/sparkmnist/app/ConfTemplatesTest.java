package dev.sparkmnist.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.spark.internal.config.ConfigEntry;
import org.apache.spark.internal.config.ConfigEntry$;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every key of every {@code conf/*.template} is one Spark defines (core, YARN or Kubernetes; a typo fails), and every
 * value is one Spark's own converter accepts (a size, a number, a boolean...). Spark registers its settings as
 * {@link ConfigEntry}s when their defining objects load: core's are on the classpath, YARN's and Kubernetes' are
 * loaded from their jars (copied to target/spark-config-jars, not on the test classpath).
 */
class ConfTemplatesTest {
    /** Settings Spark reads by prefix rather than as registered entries. */
    private static final List<Pattern> PREFIXES = List.of(
        Pattern.compile("spark\\.executorEnv\\..+"),
        Pattern.compile("spark\\.yarn\\.appMasterEnv\\..+"),
        Pattern.compile("spark\\.kubernetes\\.driverEnv\\..+"),
        Pattern.compile("spark\\.hadoop\\..+"),
        Pattern.compile("spark\\.(driver|executor|task)\\.resource\\.[a-z]+\\.(amount|discoveryScript|vendor)"));
    private static final String[] DEFINITIONS = {
        "org.apache.spark.internal.config.package$",
        "org.apache.spark.deploy.yarn.config.package$",
        "org.apache.spark.deploy.k8s.Config$"};

    @BeforeAll
    static void loadSparkDefinitions() throws Exception {
        File dir = new File("target/spark-config-jars");
        File[] jars = dir.listFiles((d, n) -> n.endsWith(".jar"));
        assertTrue(jars != null && jars.length == 2, "spark-yarn and spark-kubernetes jars in " + dir);
        List<URL> urls = new ArrayList<>();
        for (File jar : jars) {
            urls.add(jar.toURI().toURL());
        }
        // parent-first: ConfigEntry is the classpath's, so the registry it fills is the one this test reads
        URLClassLoader loader = new URLClassLoader(urls.toArray(URL[]::new), ConfTemplatesTest.class.getClassLoader());
        for (String definitions : DEFINITIONS) {
            Class.forName(definitions, true, loader);
        }
    }

    /** Problems in a template's text: unknown keys, rejected values, malformed lines. */
    static List<String> problems(String name, List<String> lines) {
        List<String> found = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] kv = line.split("\\s+|=", 2);
            String where = name + ":" + (i + 1) + ": ";
            if (kv.length != 2 || kv[1].isBlank()) {
                found.add(where + "not 'key value': " + line);
                continue;
            }
            String key = kv[0];
            String value = kv[1].strip();
            ConfigEntry<?> entry = ConfigEntry$.MODULE$.findEntry(key);
            if (entry == null) {
                if (PREFIXES.stream().noneMatch(p -> p.matcher(key).matches())) {
                    found.add(where + "unknown Spark key " + key);
                }
                continue;
            }
            try {
                entry.valueConverter().apply(value);
            } catch (RuntimeException e) {
                found.add(where + key + " = " + value + " is rejected by Spark: " + e.getMessage());
            }
        }
        return found;
    }

    @Test
    void everyTemplateHoldsOnlyKeysAndValuesSparkAccepts() throws IOException {
        Path conf = Path.of(System.getProperty("repo.root", "../.."), "conf");
        List<Path> templates;
        try (Stream<Path> s = Files.list(conf)) {
            templates = s.filter(p -> p.getFileName().toString().endsWith(".conf.template")).sorted().toList();
        }
        assertEquals(5, templates.size(), "templates found: " + templates);
        List<String> found = new ArrayList<>();
        int keys = 0;
        for (Path t : templates) {
            List<String> lines = Files.readAllLines(t);
            found.addAll(problems(t.getFileName().toString(), lines));
            keys += (int) lines.stream().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).count();
        }
        assertEquals(List.of(), found);
        assertTrue(keys > 40, keys + " settings checked");
    }

    @Test
    void typosAndBadValuesAreCaught() {
        List<String> found = problems("t", List.of("# comment", "spark.executor.memroy 2g",
            "spark.executor.memory lots", "spark.yarn.maxAppAttempts two", "spark.kubernetes.namespace ns",
            "spark.executor.resource.gpu.amount 1", "spark.task.cpus"));
        assertEquals(List.of("t:2: unknown Spark key spark.executor.memroy",
            "t:3: spark.executor.memory = lots is rejected by Spark: Size must be specified as bytes (b), kibibytes"
                + " (k), mebibytes (m), gibibytes (g), tebibytes (t), or pebibytes(p). E.g. 50b, 100k, or 250m. Failed to"
                + " parse byte string: lots",
            "t:4: spark.yarn.maxAppAttempts = two is rejected by Spark: spark.yarn.maxAppAttempts should be int,"
                + " but was two",
            "t:7: not 'key value': spark.task.cpus"), found.stream().map(s -> s.replaceAll("\\s+", " ")).toList());
    }
}
