package dev.sparkmnist.training.resident;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link PeerExchange} with its workers on threads of one JVM, where peers read each other's outgoing arrays
 * themselves (no encoding): every round's result equals the weighted mean computed here, to the bit, although each
 * worker reuses its outgoing arrays every round and the threads run at their own pace (random pauses), so a worker
 * that overwrote an array a peer had not read yet would be caught. Every third round averages a prefix of the vector
 * only (the parameters without the updater state), through slices of its own lengths, and leaves the rest as it was.
 */
class PeerExchangeTest {
    private static final int LENGTH = 1_003; // slices of unequal length
    private static final int ROUNDS = 60;
    /** Every third round averages this many floats only (the parameters alone, {@code --updater-averaging stage}). */
    private static final int PREFIX = 601;

    /** How many floats round r averages. */
    private static int length(int round) {
        return round % 3 == 1 ? PREFIX : LENGTH;
    }

    /** Worker w's vector in round r (deterministic, different every round). */
    private static float[] contribution(int worker, int round) {
        Random random = new Random(1_000L * worker + round);
        float[] v = new float[LENGTH];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian() * (1 + round);
        }
        return v;
    }

    /** Worker w's weight in round r: now and then 0 (it fitted nothing), never for all workers at once. */
    private static float weight(int worker, int round, int workers) {
        return round % (workers + 1) == worker ? 0f : 1f;
    }

    /**
     * The mean the exchange promises worker {@code me}: each slice of the round's length summed by its owner, owner
     * first, then the peers that follow it; past that length, its own values.
     */
    private static float[] expected(int round, int workers, int me) {
        float[][] vectors = new float[workers][];
        for (int w = 0; w < workers; w++) {
            vectors[w] = contribution(w, round);
        }
        int length = length(round);
        float[] mean = vectors[me].clone();
        for (int owner = 0; owner < workers; owner++) {
            for (int i = PeerExchange.sliceStart(length, workers, owner);
                 i < PeerExchange.sliceStart(length, workers, owner + 1); i++) {
                double sum = 0;
                double total = 0;
                for (int k = 0; k < workers; k++) {
                    int w = (owner + k) % workers;
                    float weight = weight(w, round, workers);
                    total += weight;
                    if (k == 0 || weight != 0) {
                        sum += (double) weight * vectors[w][i];
                    }
                }
                mean[i] = (float) (sum / total);
            }
        }
        return mean;
    }

    @ParameterizedTest(name = "{0} workers")
    @ValueSource(ints = {2, 3, 4})
    void everyRoundIsTheWeightedMeanToTheBit(int workers) throws Exception {
        exchangeEpochs(workers, 1);
    }

    /**
     * A worker's exchanges of epochs one after another (each its own attempt name) send from the same arrays
     * ({@link ExchangeBuffers}), which the next epoch's rounds write while the peers may still read the last round's.
     */
    @ParameterizedTest(name = "{0} workers")
    @ValueSource(ints = {2, 3})
    void epochsOneAfterAnotherOnTheSameArraysAverageAsFreshOnes(int workers) throws Exception {
        exchangeEpochs(workers, 3);
    }

    private void exchangeEpochs(int workers, int epochs) throws Exception {
        PeerTransport transport = PeerTransport.inThisJvm();
        String[] addresses = new String[workers];
        java.util.Arrays.fill(addresses, transport.address());
        ExecutorService threads = Executors.newFixedThreadPool(workers);
        try {
            List<Future<List<float[]>>> results = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                int worker = w;
                results.add(threads.submit(() -> {
                    Random pauses = new Random(worker);
                    List<float[]> means = new ArrayList<>();
                    ExchangeBuffers buffers = new ExchangeBuffers();
                    for (int e = 0; e < epochs; e++) {
                        try (PeerExchange exchange = new PeerExchange("test-" + workers + "-e" + e, worker, workers,
                                 LENGTH, 30, transport, (t, timeout) -> addresses, buffers)) {
                            for (int r = 0; r < ROUNDS; r++) {
                                float[] vector = contribution(worker, r + e);
                                if (pauses.nextInt(4) == 0) {
                                    TimeUnit.MICROSECONDS.sleep(pauses.nextInt(2_000));
                                }
                                exchange.average(r, vector, weight(worker, r + e, workers), length(r + e));
                                means.add(vector);
                            }
                        }
                    }
                    return means;
                }));
            }
            for (int w = 0; w < workers; w++) {
                List<float[]> means = results.get(w).get(60, TimeUnit.SECONDS);
                assertEquals(ROUNDS * epochs, means.size());
                for (int e = 0; e < epochs; e++) {
                    for (int r = 0; r < ROUNDS; r++) {
                        assertArrayEquals(expected(r + e, workers, w), means.get(e * ROUNDS + r),
                            "worker " + w + ", epoch " + e + ", round " + r);
                    }
                }
            }
        } finally {
            threads.shutdownNow();
        }
        assertEquals(0, transport.openInboxes(), "every inbox closed");
    }
}
