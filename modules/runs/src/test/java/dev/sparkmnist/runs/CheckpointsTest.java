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

    /**
     * A model file written before {@code --random-shift} existed names no shift: its options read back with none, so
     * a run resumed from it goes on as it was trained, and options written now read back whole.
     */
    @Test
    void modelOptionsWrittenWithoutARandomShiftReadBackWithNone() throws Exception {
        com.fasterxml.jackson.databind.node.ObjectNode old = RunLayout.JSON.valueToTree(
            dev.sparkmnist.models.ModelOptions.jobDefaults(dev.sparkmnist.models.Architecture.LENET));
        assertEquals(1, old.remove("randomShift").asInt(), "the job's shift is written");
        dev.sparkmnist.models.ModelOptions read = RunLayout.JSON.treeToValue(old,
            dev.sparkmnist.models.ModelOptions.class);
        assertEquals(0, read.randomShift());
        assertEquals(dev.sparkmnist.models.ModelOptions.jobDefaults(dev.sparkmnist.models.Architecture.LENET)
            .toBuilder().randomShift(0).build(), read);
        dev.sparkmnist.models.ModelOptions now = dev.sparkmnist.models.ModelOptions.mlp().toBuilder().randomShift(3)
            .build();
        assertEquals(now, RunLayout.JSON.readValue(RunLayout.JSON.writeValueAsString(now),
            dev.sparkmnist.models.ModelOptions.class));
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

    @Test
    void checkpointNamesGiveTheirEpoch() {
        assertEquals(7, RunLayout.checkpointEpoch("epoch-007.zip"));
        assertEquals(1200, RunLayout.checkpointEpoch("epoch-1200.zip"));
        assertEquals(-1, RunLayout.checkpointEpoch("_epoch-007.zip.SUCCESS"));
        assertEquals(-1, RunLayout.checkpointEpoch("epoch-7.zip.tmp-x"));
        assertEquals(Integer.MAX_VALUE, RunLayout.checkpointEpoch("epoch-99999999999.zip"));
    }

    private java.nio.file.Path dirWith(String name, String... files) throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createDirectories(tmp.resolve(name));
        for (String f : files) {
            java.nio.file.Files.writeString(dir.resolve(f), "kept " + f);
        }
        return dir;
    }

    private static List<String> names(java.nio.file.Path dir) throws Exception {
        try (java.util.stream.Stream<java.nio.file.Path> s = java.nio.file.Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList();
        }
    }

    private static String refusal(java.nio.file.Path dir) {
        return org.junit.jupiter.api.Assertions.assertThrows(dev.sparkmnist.data.InvalidInputException.class,
            () -> Checkpoints.open(dir.toString(), 1, 3, null, null, 0, new org.apache.hadoop.conf.Configuration()))
            .getMessage();
    }

    @Test
    void aNewRunRefusesEarlierCheckpointsAndSaysWhichAreUnfinished() throws Exception {
        java.nio.file.Path unfinished = dirWith("u", "epoch-001.zip", "notes.txt");
        assertEquals("--checkpoint-dir (" + unfinished + ") holds checkpoints that a stopped run did not finish"
            + " writing (epoch-001.zip: no completion marker, _epoch-001.zip.SUCCESS) and none complete to resume:"
            + " delete them to start again from epoch 1, or choose another directory; checkpoints are never"
            + " overwritten", refusal(unfinished));
        assertEquals(List.of("epoch-001.zip", "notes.txt"), names(unfinished));

        java.nio.file.Path mixed = dirWith("m", "epoch-001.zip", "_epoch-001.zip.SUCCESS", "epoch-002.zip",
            "_epoch-002.zip.SUCCESS", "epoch-003.zip");
        assertEquals("--checkpoint-dir (" + mixed + ") already holds checkpoints (epoch-001.zip, epoch-002.zip; not"
            + " finished: epoch-003.zip): add --resume to continue the newest, or choose another directory;"
            + " checkpoints are never overwritten", refusal(mixed));
        assertEquals(List.of("_epoch-001.zip.SUCCESS", "_epoch-002.zip.SUCCESS", "epoch-001.zip", "epoch-002.zip",
            "epoch-003.zip"), names(mixed));

        java.nio.file.Path other = dirWith("o", "notes.txt", "metrics.json");
        Checkpoints.open(other.toString(), 1, 3, null, null, 0, new org.apache.hadoop.conf.Configuration());
        assertEquals(List.of("metrics.json", "notes.txt"), names(other));
    }

    @Test
    void aResumedRunRemovesOnlyTheUnfinishedCheckpointsAfterItsEpoch() throws Exception {
        // killed between epoch 3's rename and its marker; epoch 1's marker lost too (kept: not after epoch 2)
        java.nio.file.Path dir = dirWith("r", "epoch-001.zip", "epoch-002.zip", "_epoch-002.zip.SUCCESS",
            "epoch-003.zip", "epoch-004.zip", "_epoch-004.zip.SUCCESS", "metrics.json", "epoch-005.txt");
        Checkpoints.open(dir.toString(), 1, 6, null, null, 2, new org.apache.hadoop.conf.Configuration());
        assertEquals(List.of("_epoch-002.zip.SUCCESS", "_epoch-004.zip.SUCCESS", "epoch-001.zip", "epoch-002.zip",
            "epoch-004.zip", "epoch-005.txt", "metrics.json"), names(dir));
        assertEquals("kept epoch-004.zip", java.nio.file.Files.readString(dir.resolve("epoch-004.zip")));
    }
}
