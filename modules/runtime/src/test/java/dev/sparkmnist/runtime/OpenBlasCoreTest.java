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
    /** A Zen 5 (family 0x1a, which OpenBLAS 0.3.19 does not know), as on the machines of BENCHMARKS.md round 28. */
    private static final String ZEN5 = "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\nmodel\t\t: 2\n"
        + "flags\t\t: fpu sse2 avx avx2 fma avx512f avx512dq avx512cd avx512bw avx512vl avx512_vp2intersect\n";
    /** The same with AVX-512 hidden, as some virtual machines do. */
    private static final String ZEN5_AVX2 = ZEN5.replaceAll(" avx512\\w*", "");
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
        assertEquals(Decision.SWITCHED_OFF, OpenBlasCore.decide("false", "Haswell", false, ZEN4));
    }

    /** After 0x19, OpenBLAS 0.3.19 falls back to its Barcelona kernels: the Zen ones where SkylakeX does not apply. */
    @Test
    void anAmdFamilyAfterItsLastKnownGetsAvx2KernelsWhereAvx512DoesNotApply() {
        assertEquals(Decision.SET, OpenBlasCore.decide(null, null, false, ZEN5));
        assertEquals(OpenBlasCore.CORE, Decision.SET.core());
        assertEquals(Decision.SET_AVX2, OpenBlasCore.decide(null, null, false, ZEN5_AVX2), "AVX-512 hidden");
        assertEquals(Decision.SET_AVX2, OpenBlasCore.decide("false", null, false, ZEN5), "switched off: still not"
            + " Barcelona");
        assertEquals("Zen", Decision.SET_AVX2.core());
        assertEquals(Decision.SWITCHED_OFF, OpenBlasCore.decide("false", null, false, ZEN4), "0.3.19 knows 0x19");
        assertEquals(Decision.NOT_NEEDED, OpenBlasCore.decide(null, null, false, ZEN5_AVX2.replace(" fma", "")),
            "no FMA: not for the Zen kernels");
        assertEquals(Decision.NOT_NEEDED, OpenBlasCore.decide(null, null, false,
            ZEN5_AVX2.replace("AuthenticAMD", "GenuineIntel")), "AMD's families only");
        assertEquals(Decision.ALREADY_SET, OpenBlasCore.decide(null, "Haswell", false, ZEN5), "the user's choice wins");
        assertEquals(Decision.TOO_LATE, OpenBlasCore.decide(null, null, true, ZEN5_AVX2));
        assertNull(Decision.NOT_NEEDED.core());
        assertNull(Decision.ALREADY_SET.core());
    }

    @Test
    void anEnvironmentThatNamesKernelsWithoutAvx512OnAnAvx512CpuIsOneLineOfLog() {
        assertEquals("OPENBLAS_CORETYPE=Haswell from the environment holds ND4J's OpenBLAS to kernels without AVX-512"
            + " on a CPU that has it; unset it (or set OPENBLAS_CORETYPE=SkylakeX) for OpenBLAS's AVX-512 kernels",
            OpenBlasCore.environmentHint(" Haswell ", ZEN5));
        assertNotNull(OpenBlasCore.environmentHint("Zen", SKYLAKE_SP), "Intel too");
        assertNull(OpenBlasCore.environmentHint("SkylakeX", ZEN5));
        assertNull(OpenBlasCore.environmentHint("cooperlake", ZEN4));
        assertNull(OpenBlasCore.environmentHint("Haswell", ZEN5_AVX2), "nothing better to run");
        assertNull(OpenBlasCore.environmentHint(null, ZEN5));
        assertNull(OpenBlasCore.environmentHint("", ZEN5));
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
     * kernels: SkylakeX where this machine is an AMD CPU with AVX-512, Zen on a later AMD family without it (or with
     * the switch off), OpenBLAS's own choice elsewhere.
     */
    @Test
    void aFreshJvmRunsTheKernelsTheRulesChoose(@TempDir Path tmp) throws Exception {
        String cpuinfo = Files.exists(Path.of("/proc/cpuinfo"))
            ? Files.readString(Path.of("/proc/cpuinfo"), StandardCharsets.ISO_8859_1) : "";
        Decision rules = OpenBlasCore.decide(null, null, false, cpuinfo);
        Decision rulesOff = OpenBlasCore.decide("false", null, false, cpuinfo);

        String[] chosen = fresh(tmp, null).split(" ");
        String[] off = fresh(tmp, "false").split(" ");
        assertEquals(rules.name(), chosen[0]);
        assertEquals(rulesOff.name(), off[0]);
        assertNotNull(chosen[1]);
        assertNotNull(off[1]);
        for (String[] run : List.of(chosen, off)) {
            Decision d = Decision.valueOf(run[0]);
            if (d.core() != null) {
                assertEquals(d.core().toLowerCase(), run[1].toLowerCase(), "the kernels OpenBLAS runs");
            }
        }
        if (rules == Decision.SET && rulesOff == Decision.SWITCHED_OFF) {
            assertTrue(!off[1].equalsIgnoreCase(OpenBlasCore.CORE), "0.3.19 on its own: " + off[1]);
        } else if (rules == Decision.NOT_NEEDED) {
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
