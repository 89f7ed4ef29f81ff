package dev.sparkmnist.app;

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
        assertEquals("epoch-007.zip", Checkpoints.name(7));
        assertEquals("epoch-120.zip", Checkpoints.name(120));
        assertTrue(Checkpoints.name(9).compareTo(Checkpoints.name(10)) < 0);
    }
}
