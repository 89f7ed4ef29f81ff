package dev.sparkmnist.training.resident;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.models.Models;
import dev.sparkmnist.runtime.Switches;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Which kept network a task gets back: one of its run's, kept by the stage attempt it goes on from, once each. */
class ResidentNetsTest {
    @AfterEach
    void clean() {
        ResidentNets.release("a");
        ResidentNets.release("b");
        System.clearProperty(ResidentNets.PROPERTY);
    }

    @Test
    void eachKeptNetworkComesBackOnceAndOnlyForItsStageAttempt() {
        MultiLayerNetwork zero = Models.network(ModelOptions.mlp());
        MultiLayerNetwork one = Models.network(ModelOptions.mlp());
        ResidentNets.keep("a", 7, zero);
        ResidentNets.keep("a", 7, one);
        assertEquals(2, ResidentNets.size());
        assertNull(ResidentNets.take("a", -1), "no stage to go on from: rebuild");
        assertEquals(0, ResidentNets.size(), "and nothing will go on from the networks kept: dropped");
        ResidentNets.keep("a", 7, zero);
        ResidentNets.keep("a", 7, one);
        MultiLayerNetwork first = ResidentNets.take("a", 7);
        MultiLayerNetwork second = ResidentNets.take("a", 7);
        assertNotNull(first);
        assertNotNull(second);
        assertNotSame(first, second, "two tasks in one JVM, two networks");
        assertTrue((first == zero || first == one) && (second == zero || second == one));
        assertNull(ResidentNets.take("a", 7), "each handed out once: a third task (or a retry) rebuilds");

        ResidentNets.keep("a", 8, zero); // a stage attempt that failed after this worker finished
        ResidentNets.keep("a", 9, one); // its retry, which succeeded
        assertSame(one, ResidentNets.take("a", 9));
        assertEquals(0, ResidentNets.size(), "the failed attempt's network is dropped, never handed out");
        ResidentNets.keep("a", 9, one);
        assertNull(ResidentNets.take("a", 8), "another attempt's state: rebuild");
        assertEquals(0, ResidentNets.size());
    }

    @Test
    void aNewRunDropsTheNetworksOfTheOthers() {
        ResidentNets.keep("a", 3, Models.network(ModelOptions.mlp()));
        ResidentNets.keep("a", 3, Models.network(ModelOptions.mlp()));
        MultiLayerNetwork b = Models.network(ModelOptions.mlp());
        ResidentNets.keep("b", 1, b);
        assertEquals(1, ResidentNets.size(), "one run's networks at a time");
        assertNull(ResidentNets.take("a", 3));
        assertEquals(1, ResidentNets.size(), "a miss of one run leaves the other's alone");
        ResidentNets.release("b");
        assertEquals(0, ResidentNets.size());
        assertNull(ResidentNets.take("b", 1));
    }

    @Test
    void theSwitchTurnsKeepingOff() {
        assertTrue(ResidentNets.enabled(), "on by default");
        System.setProperty(ResidentNets.PROPERTY, "false");
        assertEquals(false, ResidentNets.enabled());
        System.setProperty(ResidentNets.PROPERTY, "true");
        assertTrue(ResidentNets.enabled());
        assertTrue(Switches.NAMES.contains(ResidentNets.PROPERTY.substring("sparkmnist.".length())),
            "settable on every executor with --conf spark." + ResidentNets.PROPERTY);
    }
}
