package dev.sparkmnist.training.resident;

/** Test seam for fault injection in local mode; does nothing unless a test installs a hook. */
final class FaultHook {
    /** Called by workers; may throw to simulate a failure. */
    interface Hook {
        void afterRound(int worker, int attempt, int round);

        /** Called after each minibatch's fit, inside the time counted as compute. */
        default void afterMinibatch(int worker) {
        }

        /** Called after the probe's rounds, before a span's workers agree on the frequency. */
        default void afterProbe(int worker, int attempt) {
        }

        /** Called as a span's worker of a given frequency is set up, before it reports so. */
        default void beforeReady(int worker, int attempt) {
        }
    }

    static volatile Hook hook;

    private FaultHook() {
    }

    static void afterMinibatch(int worker) {
        Hook h = hook;
        if (h != null) {
            h.afterMinibatch(worker);
        }
    }

    static void afterProbe(int worker, int attempt) {
        Hook h = hook;
        if (h != null) {
            h.afterProbe(worker, attempt);
        }
    }

    static void beforeReady(int worker, int attempt) {
        Hook h = hook;
        if (h != null) {
            h.beforeReady(worker, attempt);
        }
    }

    static void afterRound(int worker, int attempt, int round) {
        Hook h = hook;
        if (h != null) {
            h.afterRound(worker, attempt, round);
        }
    }
}
