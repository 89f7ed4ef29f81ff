package dev.sparkmnist.runs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class CheckpointsTest {
    private static List<Integer> written(int every, int epochs) {
        return IntStream.rangeClosed(1, epochs).filter(e -> Checkpoints.due(e, every, epochs)).boxed().toList();
    }

    @Test
    void everyNthEpochAndTheLast() {
        assertEquals(List.of(1, 2, 3), written(1, 3));
        assertEquals(List.of(2, 4, 5), written(2, 5));
        assertEquals(List.of(3), written(10, 3));
        assertTrue(Checkpoints.due(6, 3, 10));
        assertFalse(Checkpoints.due(7, 3, 10));
    }

    @Test
    void namesSortInEpochOrder() {
        assertEquals("epoch-007.zip", RunLayout.checkpointName(7));
        assertEquals("epoch-120.zip", RunLayout.checkpointName(120));
        assertTrue(RunLayout.checkpointName(9).compareTo(RunLayout.checkpointName(10)) < 0);
    }

    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path tmp;

    @Test
    void onlyCheckpointsWithTheirMarkerAreComplete() throws Exception {
        for (String f : List.of("epoch-001.zip", "_epoch-001.zip.SUCCESS", "epoch-002.zip", "_epoch-002.zip.SUCCESS",
            "epoch-003.zip")) { // epoch 3's write did not finish: no marker
            java.nio.file.Files.writeString(tmp.resolve(f), "x");
        }
        List<String> complete = Checkpoints.newestFirst(tmp.toString(), new org.apache.hadoop.conf.Configuration())
            .stream().map(org.apache.hadoop.fs.Path::getName).toList();
        assertEquals(List.of("epoch-002.zip", "epoch-001.zip"), complete);
        assertEquals(List.of(), Checkpoints.newestFirst(tmp.resolve("none").toString(),
            new org.apache.hadoop.conf.Configuration()));
    }
}
