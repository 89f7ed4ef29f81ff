package dev.sparkmnist.training.resident;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class StagePlanTest {
    @Test
    void cutsAnEpochIntoRoundsAndStages() {
        // 2 workers x 50 examples, batch 8: 7 minibatches each (the last of 2 examples); every 3 -> 3 rounds
        StagePlan plan = StagePlan.of(100, 2, 8, 3, 0);
        assertEquals(7, plan.minibatches(0));
        assertEquals(3, plan.rounds());
        assertEquals(1, plan.stages());
        assertArrayEquals(new int[] {0, 50}, plan.positions(0, 0));
        assertArrayEquals(new int[] {50, 100}, plan.positions(1, 0));

        StagePlan cut = StagePlan.of(100, 2, 8, 3, 2);
        assertEquals(2, cut.stages());
        assertEquals(0, cut.firstRound(0));
        assertEquals(2, cut.endRound(0));
        assertEquals(3, cut.endRound(1));
        assertArrayEquals(new int[] {0, 48}, cut.positions(0, 0), "2 rounds x 3 minibatches x 8 examples");
        assertArrayEquals(new int[] {48, 50}, cut.positions(0, 1));
        assertArrayEquals(new int[] {98, 100}, cut.positions(1, 1));
    }

    @Test
    void everyPositionBelongsToExactlyOneWorkerAndStage() {
        for (int[] c : new int[][] {{1000, 3, 32, 10, 0}, {1001, 3, 7, 2, 5}, {17, 4, 3, 1, 1}, {64, 2, 8, 1, 3}}) {
            StagePlan plan = StagePlan.of(c[0], c[1], c[2], c[3], c[4]);
            int[] seen = new int[c[0]];
            for (int w = 0; w < plan.workers(); w++) {
                for (int s = 0; s < plan.stages(); s++) {
                    int[] r = plan.positions(w, s);
                    for (int p = r[0]; p < r[1]; p++) {
                        seen[p]++;
                    }
                }
            }
            for (int p = 0; p < c[0]; p++) {
                assertEquals(1, seen[p], "position " + p + " of plan " + java.util.Arrays.toString(c));
            }
        }
    }

    @Test
    void unevenSlicesShareTheLastRound() {
        // 33 examples on 2 workers: 17 and 16, batch 4 -> 5 and 4 minibatches; every 5 -> 1 round
        StagePlan plan = StagePlan.of(33, 2, 4, 5, 0);
        assertEquals(5, plan.minibatches(0));
        assertEquals(4, plan.minibatches(1));
        assertEquals(1, plan.rounds());
    }

    @Test
    void dynamicAllocationIsRefusedNamingTheSetting() {
        Slots.requireNoDynamicAllocation(new org.apache.spark.SparkConf(false));
        Slots.requireNoDynamicAllocation(
            new org.apache.spark.SparkConf(false).set("spark.dynamicAllocation.enabled", "false"));
        dev.sparkmnist.data.InvalidInputException e = org.junit.jupiter.api.Assertions.assertThrows(
            dev.sparkmnist.data.InvalidInputException.class, () -> Slots.requireNoDynamicAllocation(
                new org.apache.spark.SparkConf(false).set("spark.dynamicAllocation.enabled", "true")));
        assertEquals("spark.dynamicAllocation.enabled is true, but the resident engine runs a barrier stage, which"
            + " Spark does not allow with dynamic allocation: disable it or use --engine dl4j", e.getMessage());
    }

    @Test
    void slicesOfTheAveragedVectorCoverItOnce() {
        int length = 235_146;
        int parts = 3;
        assertEquals(0, PeerExchange.sliceStart(length, parts, 0));
        assertEquals(length, PeerExchange.sliceStart(length, parts, parts));
        for (int s = 0; s < parts; s++) {
            int size = PeerExchange.sliceStart(length, parts, s + 1) - PeerExchange.sliceStart(length, parts, s);
            assertEquals(length / (double) parts, size, 1.0);
        }
    }
}
