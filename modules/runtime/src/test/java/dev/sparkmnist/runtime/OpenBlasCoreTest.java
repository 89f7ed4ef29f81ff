package dev.sparkmnist.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.runtime.OpenBlasCore.Decision;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link OpenBlasCore}: its rules, and what OpenBLAS runs in a fresh JVM that configures ND4J as tasks do. */
class OpenBlasCoreTest {
    private static final String ZEN4 = "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\n"
        + "flags\t\t: fpu sse2 avx avx2 fma avx512f avx512dq avx512cd avx512bw avx512vl avx512_bf16\n\n"
        + "processor\t: 1\nvendor_id\t: AuthenticAMD\n";
    private static final String ZEN3 = "vendor_id\t: AuthenticAMD\nflags\t\t: fpu sse2 avx avx2 fma\n";
    private static final String SKYLAKE_SP = "vendor_id\t: GenuineIntel\n"
        + "flags\t\t: fpu avx avx2 avx512f avx512dq avx512cd avx512bw avx512vl\n";

    @Test
    void setOnlyForAnAmdCpuWithEveryAvx512SetAndNothingChosenBefore() {
        assertEquals(Decision.SET, OpenBlasCore.decide(null, null, false, ZEN4));
        assertEquals(Decision.SET, OpenBlasCore.decide("true", "", false, ZEN4));
        assertEquals(Decision.NOT_NEEDED, OpenBlasCore.decide(null, null, false, ZEN3), "AVX2 only");
        assertEquals(Decision.NOT_NEEDED, OpenBlasCore.decide(null, null, false, SKYLAKE_SP),
            "Intel: OpenBLAS picks SkylakeX itself");
        assertEquals(Decision.NOT_NEEDED, OpenBlasCore.decide(null, null, false, ZEN4.replace(" avx512vl", "")),
            "one set missing");
        assertEquals(Decision.NOT_NEEDED, OpenBlasCore.decide(null, null, false, ""), "no /proc/cpuinfo");
        assertEquals(Decision.SWITCHED_OFF, OpenBlasCore.decide(" False ", null, false, ZEN4));
        assertEquals(Decision.ALREADY_SET, OpenBlasCore.decide(null, "Haswell", false, ZEN4), "the user's choice wins");
        assertEquals(Decision.TOO_LATE, OpenBlasCore.decide(null, null, true, ZEN4));
    }

    @Test
    void aSwitchValueOtherThanTrueOrFalseIsOneWarningNamingItAndTheRule() {
        assertEquals("-Dsparkmnist.openblasAvx512 (yes) must be true or false; OpenBLAS's AVX-512 kernels stay on"
            + " where they apply", OpenBlasCore.switchWarning("yes"));
        assertEquals(Decision.SET, OpenBlasCore.decide("yes", null, false, ZEN4), "read as on, as the warning says");
        assertNull(OpenBlasCore.switchWarning(null));
        assertNull(OpenBlasCore.switchWarning("true"));
        assertNull(OpenBlasCore.switchWarning(" FALSE "));
    }

    /**
     * A fresh JVM (this one's ND4J may have loaded before any choice) configures ND4J and reports OpenBLAS's
     * kernels: SkylakeX where this machine is an AMD CPU with AVX-512, OpenBLAS's own choice elsewhere; and with
     * the switch off, OpenBLAS's own choice everywhere.
     */
    @Test
    void aFreshJvmRunsTheKernelsTheRulesChoose(@TempDir Path tmp) throws Exception {
        String cpuinfo = Files.exists(Path.of("/proc/cpuinfo"))
            ? Files.readString(Path.of("/proc/cpuinfo"), StandardCharsets.ISO_8859_1) : "";
        boolean amdAvx512 = OpenBlasCore.decide(null, null, false, cpuinfo) == Decision.SET;

        String[] chosen = fresh(tmp, null).split(" ");
        String[] off = fresh(tmp, "false").split(" ");
        assertEquals(amdAvx512 ? "SET" : "NOT_NEEDED", chosen[0]);
        assertEquals("SWITCHED_OFF", off[0]);
        assertNotNull(off[1]);
        if (amdAvx512) {
            assertEquals(OpenBlasCore.CORE.toLowerCase(), chosen[1].toLowerCase(), "the kernels OpenBLAS runs");
            assertTrue(!off[1].equalsIgnoreCase(OpenBlasCore.CORE), "0.3.19 on its own: " + off[1]);
        } else {
            assertEquals(off[1], chosen[1], "nothing changed where the rules do not apply");
        }
    }

    private static String fresh(Path tmp, String switchValue) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp", System.getProperty("java.class.path")));
        if (switchValue != null) {
            cmd.add("-D" + OpenBlasCore.PROPERTY + "=" + switchValue);
        }
        cmd.add(OpenBlasCore.class.getName());
        File out = tmp.resolve("out-" + switchValue).toFile();
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(false)
            .redirectOutput(out).redirectError(tmp.resolve("err-" + switchValue).toFile());
        pb.environment().remove(OpenBlasCore.ENV);
        Process p = pb.start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the fresh JVM finished");
        String text = Files.readString(out.toPath()).strip();
        assertEquals(0, p.exitValue(), text + Files.readString(tmp.resolve("err-" + switchValue)));
        String[] lines = text.split("\n");
        return lines[lines.length - 1];
    }
}
