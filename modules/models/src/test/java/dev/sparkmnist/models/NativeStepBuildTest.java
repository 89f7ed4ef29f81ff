package dev.sparkmnist.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The native step's build script ({@code src/main/c/build.sh}, which Maven runs as the module's classes are made)
 * on a machine that cannot build it: one line that says what to install, exit 1, and no library written.
 */
class NativeStepBuildTest {
    private static final Path SCRIPT = Path.of("src/main/c/build.sh");
    private static final String LIBRARY = "dev/sparkmnist/models/native/linux-x86_64/libsparkmnist-step.so";

    /** Runs the script into {@code out} with {@code javaHome} and {@code CC}; returns {exit, standard error}. */
    private static Object[] build(Path out, String javaHome, String cc) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("bash", SCRIPT.toString(), out.toString(), javaHome);
        pb.environment().put("CC", cc);
        pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
        Process p = pb.start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the script ends");
        return new Object[] {p.exitValue(), err};
    }

    @Test
    void withoutTheCompilerTheBuildSaysWhatToInstallInOneLine(@TempDir Path out) throws Exception {
        assertTrue(Files.isRegularFile(SCRIPT), "run from the module's directory, as Maven does");
        Object[] r = build(out, System.getProperty("java.home"), "no-such-compiler-for-this-test");
        assertEquals(1, r[0]);
        assertEquals("error: the native training step needs a C compiler (no-such-compiler-for-this-test) to build:"
            + " install gcc (Debian: apt-get install gcc)\n", r[1]);
        assertFalse(Files.exists(out.resolve(LIBRARY)));
    }

    @Test
    void aJavaHomeWithoutJniHeadersIsOneLine(@TempDir Path out, @TempDir Path jre) throws Exception {
        // a compiler that is there (bash's true stands in for it: the headers are checked first)
        Object[] r = build(out, jre.toString(), "true");
        assertEquals(1, r[0]);
        assertEquals("error: no JNI headers under " + jre + "/include (a JDK, not a JRE)\n", r[1]);
        assertFalse(Files.exists(out.resolve(LIBRARY)));
    }
}
