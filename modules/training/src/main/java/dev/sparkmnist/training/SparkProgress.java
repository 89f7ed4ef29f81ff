package dev.sparkmnist.training;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.util.LongAccumulator;
import scala.Tuple4;
import scala.collection.Iterator;
import scala.collection.Seq;

/**
 * Turns a task-side examples accumulator into {@link EpochProgress} while tasks run. The driver's accumulator only
 * changes when a task ends, and a resident worker's task lasts a whole stage; but each executor heartbeat
 * ({@code spark.executor.heartbeatInterval}) carries the running tasks' current accumulator values, which Spark posts
 * to listeners as {@link SparkListenerExecutorMetricsUpdate}. Progress = what finished tasks added + the latest value
 * of each running task; a failed task's value is dropped (its work is redone).
 */
public final class SparkProgress extends SparkListener implements AutoCloseable {
    private final SparkContext sc;
    private final long accumulatorId;
    private final EpochProgress progress;
    private final Map<Long, Long> running = new ConcurrentHashMap<>();
    /** What each task still running at the last {@link #reset} had reported by then. */
    private final Map<Long, Long> baseline = new ConcurrentHashMap<>();
    private long finished;

    private SparkProgress(SparkContext sc, LongAccumulator examples, EpochProgress progress) {
        this.sc = sc;
        this.accumulatorId = examples.id();
        this.progress = progress;
    }

    /** Registers a listener that reports {@code examples} as progress until closed. */
    public static SparkProgress watch(SparkContext sc, LongAccumulator examples, EpochProgress progress) {
        SparkProgress listener = new SparkProgress(sc, examples, progress);
        sc.addSparkListener(listener);
        return listener;
    }

    /**
     * Forgets the counts (before an epoch). A task that goes on through the next epoch (a resident stage that spans
     * epochs) counts from what it had reported so far.
     */
    public synchronized void reset() {
        running.forEach((task, sinceLast) -> baseline.merge(task, sinceLast, Long::sum));
        running.clear();
        finished = 0;
    }

    @Override
    public void onExecutorMetricsUpdate(SparkListenerExecutorMetricsUpdate update) {
        boolean changed = false;
        Iterator<Tuple4<Object, Object, Object, Seq<AccumulableInfo>>> tasks = update.accumUpdates().iterator();
        while (tasks.hasNext()) {
            Tuple4<Object, Object, Object, Seq<AccumulableInfo>> task = tasks.next();
            Long value = ours(task._4());
            if (value != null) {
                running.put((Long) task._1(), value - baseline.getOrDefault((Long) task._1(), 0L));
                changed = true;
            }
        }
        if (changed) {
            publish();
        }
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
        Long last = running.remove(end.taskInfo().taskId());
        Long value = ours(end.taskInfo().accumulables());
        Long before = baseline.remove(end.taskInfo().taskId());
        synchronized (this) {
            if (end.taskInfo().successful() && value != null) {
                finished += value - (before == null ? 0 : before);
            }
        }
        if (last != null || value != null) {
            publish();
        }
    }

    /** This accumulator's value among a task's accumulator updates, or null. */
    private Long ours(Seq<AccumulableInfo> infos) {
        Iterator<AccumulableInfo> it = infos.iterator();
        while (it.hasNext()) {
            AccumulableInfo info = it.next();
            if (info.id() == accumulatorId && info.update().isDefined()) {
                Object v = info.update().get();
                return v instanceof Number n ? n.longValue() : Long.parseLong(v.toString());
            }
        }
        return null;
    }

    private void publish() {
        long done;
        synchronized (this) {
            done = finished;
        }
        for (long v : running.values()) {
            done += v;
        }
        progress.update(done);
    }

    @Override
    public void close() {
        sc.removeSparkListener(this);
    }
}
