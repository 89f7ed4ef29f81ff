package dev.sparkmnist.report;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The mistakes' predicted class, taken from a batch's probabilities copied out of ND4J once. */
class NetworkViewsTest {
    @Test
    void argMaxIsTheFirstOfTheLargestAsNd4jsIs() {
        assertEquals(2, NetworkViews.argMax(new float[] {0.1f, 0.2f, 0.6f, 0.1f}));
        assertEquals(1, NetworkViews.argMax(new float[] {0.1f, 0.4f, 0.4f, 0.1f}), "ties: the first");
        assertEquals(0, NetworkViews.argMax(new float[] {0.9f}));
        assertEquals(3, NetworkViews.argMax(new float[] {-3f, -2f, -1.5f, -1f}));
        float[] probs = {0.05f, 0.15f, 0.3f, 0.3f, 0.2f};
        assertEquals(org.nd4j.linalg.factory.Nd4j.createFromArray(probs).argMax().getInt(0),
            NetworkViews.argMax(probs), "ND4J's own argMax on the same row");
    }
}
