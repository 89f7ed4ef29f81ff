package dev.sparkmnist.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.data.testing.ClosureCleaning;
import dev.sparkmnist.data.testing.SparkTestContext;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Jobs through {@link SparkJobs} give what Spark's own API gives, and Spark's closure cleaner nothing to parse. */
@Timeout(300)
class SparkJobsIT {
    private static JavaSparkContext sc;

    @BeforeAll
    static void start() {
        sc = SparkTestContext.local2("SparkJobsIT");
    }

    @AfterAll
    static void stop() {
        sc.stop();
    }

    private static JavaRDD<Integer> numbers() {
        return numbers(3);
    }

    private static JavaRDD<Integer> numbers(int partitions) {
        List<Integer> values = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            values.add(i);
        }
        return sc.parallelize(values, partitions);
    }

    /** Each partition's elements, doubled, then its size: a function with state across one partition. */
    private static final class DoubledThenCount implements FlatMapFunction<Iterator<Integer>, Integer> {
        private static final long serialVersionUID = 1L;

        @Override
        public Iterator<Integer> call(Iterator<Integer> elements) {
            List<Integer> out = new ArrayList<>();
            elements.forEachRemaining(x -> out.add(2 * x));
            out.add(-out.size());
            return out.iterator();
        }
    }

    private static final class Sum implements SparkJobs.PartitionFunction<Integer, Integer> {
        private static final long serialVersionUID = 1L;

        @Override
        public Integer call(Iterator<Integer> elements) {
            int sum = 0;
            while (elements.hasNext()) {
                sum += elements.next();
            }
            return sum;
        }
    }

    private static final class Fails implements SparkJobs.PartitionFunction<Integer, Integer> {
        private static final long serialVersionUID = 1L;

        @Override
        public Integer call(Iterator<Integer> elements) throws IOException {
            throw new IOException("slice 7 of /data/x is truncated");
        }
    }

    /** A barrier stage's function, as the resident engine's workers are. */
    private static final class Identity
        extends scala.runtime.AbstractFunction1<scala.collection.Iterator<Integer>, scala.collection.Iterator<Integer>>
        implements java.io.Serializable {
        private static final long serialVersionUID = 1L;

        @Override
        public scala.collection.Iterator<Integer> apply(scala.collection.Iterator<Integer> elements) {
            return elements;
        }
    }

    @Test
    void resultsEqualSparksOwnApi() {
        JavaRDD<Integer> rdd = numbers();
        assertEquals(rdd.mapPartitions(new DoubledThenCount()).collect(),
            SparkJobs.mapPartitions(rdd, new DoubledThenCount(), false).collect());
        assertEquals(rdd.collect(), SparkJobs.collect(rdd.rdd()));
        // 0..9 in 3 partitions: 0-2, 3-5, 6-9
        assertEquals(List.of(3, 12, 30), SparkJobs.runPerPartition(rdd.rdd(), new Sum()));
    }

    @Test
    void collectRunsABarrierStage() {
        // the resident engine's workers: one barrier result stage, local[2]'s 2 slots for 2 partitions
        List<Integer> all = SparkJobs.collect(numbers(2).rdd().barrier()
            .mapPartitions(new Identity(), false, scala.reflect.ClassTag$.MODULE$.apply(Integer.class)));
        assertEquals(numbers(2).collect(), all);
    }

    @Test
    void aFunctionsExceptionReachesTheDriverWithItsMessage() {
        SparkException e = assertThrows(SparkException.class,
            () -> SparkJobs.runPerPartition(numbers().rdd(), new Fails()));
        assertTrue(e.getMessage().contains("java.io.IOException: slice 7 of /data/x is truncated"), e.getMessage());
    }

    @Test
    void theClosureCleanerParsesNothing() {
        assertFalse(ClosureCleaning.selfCheck(sc).isEmpty(), "the watch sees the cleaner parse Spark's own closures");
        JavaRDD<Integer> rdd = numbers();
        try (ClosureCleaning watch = ClosureCleaning.watch()) {
            SparkJobs.collect(SparkJobs.mapPartitions(rdd, new DoubledThenCount(), true).rdd());
            SparkJobs.runPerPartition(rdd.rdd(), new Sum());
            assertEquals(List.of(), watch.parsed());
        }
    }
}
