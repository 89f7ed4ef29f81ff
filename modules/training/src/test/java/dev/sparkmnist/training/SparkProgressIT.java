package dev.sparkmnist.training;

import dev.sparkmnist.training.baseline.LocalTrainer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.data.testing.SparkSlice;
import dev.sparkmnist.data.testing.TestData;
import dev.sparkmnist.models.ModelOptions;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Progress within an epoch reaches the driver while Spark tasks run, for both engines, and in one JVM. */
class SparkProgressIT {
    /** Heartbeats every 50 ms so that a 2,000-example epoch (about half a second) shows progress before it ends. */
    @RegisterExtension
    static final SparkSlice SLICE = new SparkSlice("progress", "spark.executor.heartbeatInterval", "50ms");

    /** Everything a display was told, in order. */
    static final class Recorder implements EpochProgress {
        final List<String> events = new ArrayList<>();
        final List<Long> during = new ArrayList<>();
        /** Updates that arrived before the listener bus delivered the epoch's first task end. */
        final List<Long> beforeAnyTaskEnded = new ArrayList<>();
        private boolean aTaskEnded;
        private boolean open;

        /** A task of this epoch ended (tasks of jobs outside the epoch do not count). */
        synchronized void taskEnded() {
            aTaskEnded |= open;
        }

        @Override
        public synchronized void start(int epoch, int epochs, long totalExamples) {
            events.add("start " + epoch + "/" + epochs + " of " + totalExamples);
            open = true;
        }

        @Override
        public synchronized void update(long examplesDone) {
            if (open) {
                during.add(examplesDone);
                if (!aTaskEnded) {
                    beforeAnyTaskEnded.add(examplesDone);
                }
            }
        }

        @Override
        public synchronized void finish() {
            events.add("finish");
            open = false;
        }

        /** Updates strictly between nothing and everything: progress seen while the epoch ran. */
        synchronized long partial(long total) {
            return during.stream().filter(v -> v > 0 && v < total).count();
        }
    }

    @Test
    void residentWorkersReportProgressWithTheirHeartbeats() {
        Recorder progress = new Recorder();
        // added before the trainer's listener, to the same queue: it sees a task end before the trainer's does, so
        // an update recorded while the flag is down came from a heartbeat while every task still ran
        SparkListener taskEnds = new SparkListener() {
            @Override
            public void onTaskEnd(SparkListenerTaskEnd end) {
                progress.taskEnded();
            }
        };
        SLICE.sc().sc().addSparkListener(taskEnds);
        try {
            SparkTrainer.train(SLICE.sc(), SLICE.train(), SLICE.test(), ModelOptions.lenet(),
                TrainingOptions.defaults().withEpochs(1).withBatching(32, 10), List.of(), null, progress);
        } finally {
            SLICE.sc().sc().removeSparkListener(taskEnds);
        }
        assertEquals(List.of("start 1/1 of " + TestData.SLICE_TRAIN, "finish"), progress.events);
        assertTrue(progress.beforeAnyTaskEnded.stream().anyMatch(v -> v > 0 && v < TestData.SLICE_TRAIN),
            "progress while every task still ran: " + progress.beforeAnyTaskEnded + " of " + progress.during);
        assertEquals(TestData.SLICE_TRAIN, progress.during.get(progress.during.size() - 1), "all at the end");
    }

    @Test
    void dl4jMasterReportsProgressPerRound() {
        Recorder progress = new Recorder();
        SparkTrainer.train(SLICE.sc(), SLICE.train(), SLICE.test(), ModelOptions.mlp(),
            TrainingOptions.defaults().withEngine(TrainingOptions.Engine.DL4J).withEpochs(1), List.of(), null,
            progress);
        assertTrue(progress.partial(TestData.SLICE_TRAIN) >= 2, "one update per round at least: " + progress.during);
        assertEquals(TestData.SLICE_TRAIN, progress.during.get(progress.during.size() - 1));
    }

    @Test
    void singleJvmReportsEveryMinibatch() {
        Recorder progress = new Recorder();
        LocalTrainer.train(SLICE.train(), SLICE.test(), ModelOptions.mlp(), TrainingOptions.defaults().withEpochs(2),
            new Configuration(), List.of(), null, progress);
        assertEquals(List.of("start 1/2 of 2000", "finish", "start 2/2 of 2000", "finish"), progress.events);
        assertEquals(2 * 63, progress.during.size(), "ceil(2000/32) minibatches per epoch");
        assertEquals(32L, progress.during.get(0));
    }
}
