package dev.sparkmnist.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The JIT's inlining budget (README, "The JIT's inlining budget"): the scripts give every JVM they start the options
 * of {@code jit_opts} in scripts/lib/common.sh, which {@code SPARK_MNIST_JIT_OPTS} replaces or empties; every
 * {@code conf/} template gives executors the same ones, and the build's test JVMs run with them; and this JDK accepts
 * them as they are (no {@code -XX:+IgnoreUnrecognizedVMOptions} hides a misspelt one).
 */
class JitOptionsTest {
    private static final Path REPO = Path.of(System.getProperty("repo.root", "../..")).toAbsolutePath().normalize();

    /** {@code jit_opts} as the scripts' library defines it, with {@code env} added to the environment. */
    private static List<String> jitOpts(Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", "-c",
            "set -euo pipefail; source scripts/lib/common.sh; printf '%s\\n' \"${jit_opts[@]}\"")
            .directory(REPO.toFile());
        pb.environment().remove("SPARK_MNIST_JIT_OPTS");
        pb.environment().putAll(env);
        ProcessRun r = ProcessRun.of(pb);
        assertEquals(0, r.exit(), r.output());
        return r.output().lines().filter(l -> !l.isEmpty()).toList();
    }

    @Test
    void theScriptsDefaultToASmallerInliningBudgetThatTheEnvironmentReplacesOrEmpties() throws Exception {
        assertEquals(List.of("-XX:InlineSmallCode=500", "-XX:FreqInlineSize=100"), jitOpts(Map.of()));
        assertEquals(List.of("-XX:FreqInlineSize=50"), jitOpts(Map.of("SPARK_MNIST_JIT_OPTS", "-XX:FreqInlineSize=50")));
        assertEquals(List.of(), jitOpts(Map.of("SPARK_MNIST_JIT_OPTS", "")));
        String common = Files.readString(REPO.resolve("scripts/lib/common.sh"));
        assertTrue(common.contains("\"$vector_api_module\" \"${jit_opts[@]}\""), "run_main passes jit_opts to java");
    }

    @Test
    void everyTemplateGivesExecutorsTheScriptsOptions() throws Exception {
        List<String> jit = jitOpts(Map.of());
        List<Path> templates;
        try (Stream<Path> s = Files.list(REPO.resolve("conf"))) {
            templates = s.filter(p -> p.getFileName().toString().endsWith(".conf.template")).sorted().toList();
        }
        assertEquals(5, templates.size(), templates.toString());
        for (Path t : templates) {
            List<String> executor = executorOptions(t);
            for (String option : jit) {
                assertTrue(executor.contains(option), t.getFileName() + ": spark.executor.extraJavaOptions lacks "
                    + option + ": " + executor);
            }
        }
    }

    /** The tests' JVMs (the root pom's {@code jit.opts}, in surefire's and failsafe's argLine) run with them too. */
    @Test
    void theBuildsTestJvmsRunWithTheScriptsOptions() throws Exception {
        String pom = Files.readString(REPO.resolve("pom.xml"));
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("<jit\\.opts>([^<]*)</jit\\.opts>").matcher(pom);
        assertTrue(m.find(), "pom.xml defines jit.opts");
        List<String> jit = jitOpts(Map.of());
        assertEquals(jit, List.of(m.group(1).strip().split("\\s+")));
        assertEquals(2, pom.split("\\$\\{jit\\.opts\\}", -1).length - 1, "surefire's and failsafe's argLine use it");
        List<String> mine = java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments();
        assertTrue(mine.containsAll(jit), "this test's own JVM: " + mine);
    }

    private static List<String> executorOptions(Path template) throws IOException {
        for (String line : Files.readAllLines(template)) {
            if (line.startsWith("spark.executor.extraJavaOptions")) {
                String[] words = line.strip().split("\\s+");
                return Arrays.asList(words).subList(1, words.length);
            }
        }
        return List.of();
    }

    @Test
    void thisJdkAcceptsThemAsTheyAre() throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jitOpts(Map.of()));
        cmd.add("-version");
        ProcessRun accepted = ProcessRun.of(new ProcessBuilder(cmd));
        assertEquals(0, accepted.exit(), accepted.output());
        String out = accepted.output();
        assertFalse(out.contains("Unrecognized") || out.contains("warning") || out.contains("Warning"), out);
        // and a misspelt one is refused, so the check above can fail
        ProcessRun bad = ProcessRun.of(new ProcessBuilder(cmd.get(0), "-XX:InlineSmalCode=500", "-version"));
        assertTrue(bad.exit() != 0, "a misspelt option is refused: " + bad.output());
    }
}
