package dev.sparkmnist.app;

import dev.sparkmnist.training.EpochProgress;
import java.util.Locale;
import java.util.function.LongSupplier;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shows progress within an epoch: a progress bar on a terminal (the progressbar library: examples done, examples/s,
 * ETA), plain log lines every few seconds otherwise (logs, CI), or nothing.
 */
final class ProgressDisplay {
    /** How progress is shown. */
    enum Kind { AUTO, BAR, LOG, NONE }

    /** Seconds between log lines. */
    static final long LOG_INTERVAL_SECONDS = 10;
    private static final Logger LOG = LoggerFactory.getLogger(ProgressDisplay.class);

    private ProgressDisplay() {
    }

    /** The display for a kind; AUTO is a bar when the JVM has a terminal, else log lines. */
    static EpochProgress of(Kind kind) {
        Kind k = kind == Kind.AUTO ? (System.console() != null ? Kind.BAR : Kind.LOG) : kind;
        return switch (k) {
            case BAR -> new Bar(System.err);
            case LOG -> new Lines(System::nanoTime, LOG_INTERVAL_SECONDS * 1_000_000_000L,
                line -> LOG.info("{}", line));
            default -> EpochProgress.NONE;
        };
    }

    /** The progress bar of an epoch (on standard error, redrawn in place). */
    static final class Bar implements EpochProgress {
        private final java.io.PrintStream out;
        private ProgressBar bar;

        Bar(java.io.PrintStream out) {
            this.out = out;
        }

        @Override
        public synchronized void start(int epoch, int epochs, long totalExamples) {
            bar = new ProgressBarBuilder().setTaskName("epoch " + epoch + "/" + epochs).setInitialMax(totalExamples)
                .setUnit(" ex", 1).showSpeed().setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500)
                .continuousUpdate().setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(out)).build();
        }

        @Override
        public synchronized void update(long examplesDone) {
            if (bar != null) {
                bar.stepTo(examplesDone);
            }
        }

        @Override
        public synchronized void finish() {
            if (bar != null) {
                bar.close();
                bar = null;
            }
        }
    }

    /** A plain line at most every {@code intervalNanos}: done/total, percent, examples/s, ETA. */
    static final class Lines implements EpochProgress {
        private final LongSupplier clock;
        private final long intervalNanos;
        private final java.util.function.Consumer<String> sink;
        private int epoch;
        private int epochs;
        private long total;
        private long startNanos;
        private long lastNanos;

        Lines(LongSupplier clock, long intervalNanos, java.util.function.Consumer<String> sink) {
            this.clock = clock;
            this.intervalNanos = intervalNanos;
            this.sink = sink;
        }

        @Override
        public synchronized void start(int epoch, int epochs, long totalExamples) {
            this.epoch = epoch;
            this.epochs = epochs;
            this.total = totalExamples;
            this.startNanos = clock.getAsLong();
            this.lastNanos = startNanos;
        }

        @Override
        public synchronized void update(long examplesDone) {
            long now = clock.getAsLong();
            if (now - lastNanos >= intervalNanos && examplesDone < total) {
                lastNanos = now;
                sink.accept(line(epoch, epochs, examplesDone, total, (now - startNanos) / 1e9));
            }
        }

        @Override
        public void finish() {
            // the epoch's summary line follows
        }

        /** e.g. {@code epoch 2/5: 12000/60000 examples (20.0%)  2000 ex/s  ETA 24s}. */
        static String line(int epoch, int epochs, long done, long total, double seconds) {
            double rate = seconds > 0 ? done / seconds : 0;
            String eta = rate > 0 ? String.format(Locale.ROOT, "%.0fs", (total - done) / rate) : "?";
            return String.format(Locale.ROOT, "epoch %d/%d: %d/%d examples (%.1f%%)  %.0f ex/s  ETA %s", epoch,
                epochs, done, total, total > 0 ? 100.0 * done / total : 0, rate, eta);
        }
    }
}
