package dev.sparkmnist.training;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.models.Models;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

/** The divergence check after each training pass: every parameter must be finite. */
class ListenersTest {
    @Test
    void aSingleNonFiniteParameterStopsTraining() {
        MultiLayerNetwork net = Models.network(ModelOptions.mlp());
        assertDoesNotThrow(() -> Listeners.checkFinite(1, 0.5, net, 1e-3));
        long last = net.numParams() - 1;

        net.params().putScalar(last, Float.NaN); // the last parameter: the loop must reach the end
        TrainingDivergedException nan = assertThrows(TrainingDivergedException.class,
            () -> Listeners.checkFinite(2, 0.5, net, 1e-3));
        assertTrue(nan.getMessage().startsWith("loss became NaN at epoch 2 (parameters)"), nan.getMessage());

        net.params().putScalar(last, 0.25f);
        net.params().putScalar(net.numParams() / 2, Float.NEGATIVE_INFINITY);
        TrainingDivergedException inf = assertThrows(TrainingDivergedException.class,
            () -> Listeners.checkFinite(3, 0.5, net, 1e-3));
        assertTrue(inf.getMessage().startsWith("loss became infinite at epoch 3 (parameters)"), inf.getMessage());

        // large but finite parameters are not divergence (their float sum would overflow to infinity)
        net.params().assign(Float.MAX_VALUE / 2);
        assertDoesNotThrow(() -> Listeners.checkFinite(4, 0.5, net, 1e-3));
        // a non-finite training loss is reported first
        TrainingDivergedException loss = assertThrows(TrainingDivergedException.class,
            () -> Listeners.checkFinite(5, Double.POSITIVE_INFINITY, net, 1e-3));
        assertTrue(loss.getMessage().contains("(train loss Infinity)"), loss.getMessage());
    }

    @Test
    void theFirstNonFiniteValueIsFoundInAnyLayout() {
        // column-major: not the host copy's fast path
        float[] values = {1f, 2f, Float.POSITIVE_INFINITY, 4f, Float.NaN, 6f};
        assertEquals(Float.POSITIVE_INFINITY,
            Listeners.firstNonFinite(Nd4j.create(values, new long[] {2, 3}, 'f')));
        assertEquals(0f, Listeners.firstNonFinite(Nd4j.create(new float[] {1f, -2f, 3f}, new long[] {1, 3}, 'c')));
    }
}
