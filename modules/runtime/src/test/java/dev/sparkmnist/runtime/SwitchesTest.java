package dev.sparkmnist.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SwitchesTest {
    /** Switches this test sets; each test starts and ends without them. */
    private static final String[] TOUCHED = {"sparkmnist.simdAdam", "sparkmnist.traces"};

    @AfterEach
    void clear() {
        for (String p : TOUCHED) {
            System.clearProperty(p);
        }
    }

    @Test
    void settingsBecomeTheJvmsSwitchesAndWinOverItsOwn() {
        System.setProperty("sparkmnist.traces", "true");
        SparkConf conf = new SparkConf(false).set("spark.app.name", "x").set("spark.sparkmnist.simdAdam", " FALSE ")
            .set("spark.sparkmnist.traces", "false").set("spark.sparkmnistic", "not ours");
        Map<String, String> set = Switches.apply(conf);
        assertEquals(Map.of("sparkmnist.simdAdam", "false", "sparkmnist.traces", "false"), set);
        assertEquals("false", System.getProperty("sparkmnist.simdAdam"));
        assertEquals("false", System.getProperty("sparkmnist.traces"), "the Spark setting wins over the JVM's -D");
        assertEquals(set, Switches.apply(conf), "applying again changes nothing");
    }

    @Test
    void noSettingsLeaveTheJvmAsItIs() {
        assertEquals(Map.of(), Switches.apply(new SparkConf(false).set("spark.master", "local")));
        assertNull(System.getProperty("sparkmnist.simdAdam"));
    }

    @Test
    void anUnknownSwitchOrAValueOtherThanTrueOrFalseIsOneLineAndChangesNothing() {
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> Switches.apply(
            new SparkConf(false).set("spark.sparkmnist.simdAdam", "false").set("spark.sparkmnist.shapInfoCache", "false")));
        assertEquals("--conf spark.sparkmnist.shapInfoCache: no such switch; the switches are"
            + " spark.sparkmnist.epochSpans, spark.sparkmnist.flushToZero, spark.sparkmnist.hostBlas,"
            + " spark.sparkmnist.hostSoftmax, spark.sparkmnist.idxCache,"
            + " spark.sparkmnist.localHandover, spark.sparkmnist.mallocPad, spark.sparkmnist.openblasAvx512,"
            + " spark.sparkmnist.probeInSpan, spark.sparkmnist.readyInSpan, spark.sparkmnist.residentNets,"
            + " spark.sparkmnist.shapeInfoCache,"
            + " spark.sparkmnist.simdAdam, spark.sparkmnist.simdMomentum, spark.sparkmnist.stageEvaluation,"
            + " spark.sparkmnist.traces, spark.sparkmnist.trainingStep, spark.sparkmnist.vectorBlend", unknown.getMessage());
        IllegalArgumentException value = assertThrows(IllegalArgumentException.class,
            () -> Switches.apply(new SparkConf(false).set("spark.sparkmnist.simdAdam", "off")));
        assertEquals("--conf spark.sparkmnist.simdAdam (off) must be true or false", value.getMessage());
        assertNull(System.getProperty("sparkmnist.simdAdam"), "nothing set when a setting is refused");
    }

    @Test
    void aSwitchOnByDefaultIsOffOnlyWhenSetToFalse() {
        String property = "sparkmnist.switchesTestProbe";
        try {
            System.clearProperty(property);
            assertTrue(Switches.enabled(property), "unset");
            for (String off : new String[] {"false", "FALSE", " false "}) {
                System.setProperty(property, off);
                assertFalse(Switches.enabled(property), "'" + off + "'");
            }
            for (String on : new String[] {"true", "", "no"}) {
                System.setProperty(property, on);
                assertTrue(Switches.enabled(property), "'" + on + "'");
            }
        } finally {
            System.clearProperty(property);
        }
    }

    @Test
    void everyPropertyTheModulesReadIsASwitch() {
        assertTrue(Switches.NAMES.contains(Nd4jRuntime.SHAPE_CACHE_PROPERTY.substring("sparkmnist.".length())));
        assertTrue(Switches.NAMES.contains(FlushToZero.PROPERTY.substring("sparkmnist.".length())));
        assertTrue(Switches.NAMES.contains(OpenBlasCore.PROPERTY.substring("sparkmnist.".length())));
        assertTrue(Switches.NAMES.contains(
            dev.sparkmnist.models.SimdAdam.PROPERTY.substring("sparkmnist.".length())));
        assertTrue(Switches.NAMES.contains(
            dev.sparkmnist.models.HostBlas.PROPERTY.substring("sparkmnist.".length())));
        assertTrue(Switches.NAMES.contains(
            dev.sparkmnist.models.TrainingStep.PROPERTY.substring("sparkmnist.".length())));
        assertTrue(Switches.NAMES.contains(
            dev.sparkmnist.models.HostSoftmax.PROPERTY.substring("sparkmnist.".length())));
    }

    @Test
    void aTaskAppliesTheJobsSettingsInItsJvmBeforeNd4jStarts() {
        Switches.applyInTask(); // outside Spark: nothing
        assertNull(System.getProperty("sparkmnist.simdAdam"));
        SparkConf conf = new SparkConf(false).setMaster("local[1]").setAppName("switches")
            .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1")
            .set("spark.driver.bindAddress", "127.0.0.1").set("spark.sparkmnist.simdAdam", "false");
        try (org.apache.spark.api.java.JavaSparkContext sc = new org.apache.spark.api.java.JavaSparkContext(conf)) {
            // the driver here is this test, which does not apply them: only the task's set-up can
            assertNull(System.getProperty("sparkmnist.simdAdam"));
            TaskSetup setup = new TaskSetup(1, GpuBinding.Policy.OPTIONAL);
            java.util.List<String> seen = sc.parallelize(java.util.List.of(1), 1).map(i -> {
                setup.apply();
                return System.getProperty("sparkmnist.simdAdam");
            }).collect();
            assertEquals(java.util.List.of("false"), seen);
        }
    }
}
