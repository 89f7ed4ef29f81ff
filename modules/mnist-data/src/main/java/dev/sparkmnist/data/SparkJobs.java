package dev.sparkmnist.data;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.rdd.RDD;
import scala.collection.JavaConverters;
import scala.collection.immutable.Range$;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction1;
import scala.runtime.AbstractFunction2;

/**
 * Spark transformations and jobs that Spark's closure cleaner has nothing to do for. Spark passes every function of
 * an RDD transformation or job through {@code ClosureCleaner}; for a Scala lambda it reads the class that declared the
 * lambda with ASM and walks the body of every lambda in that class, on every call. Java's API wraps each Java function
 * in such a lambda (declared in {@code JavaRDDLike}), and {@code collect()}, {@code reduce()} and {@code runJob} add
 * their own (declared in {@code RDD} and {@code SparkContext}, two large classes), so each job the driver submitted
 * that way parsed several large classes. On a driver that shares its cores with training (Spark local mode) that was
 * the largest single item of the JIT's work while the workers trained (BENCHMARKS.md, "Per-core speed", round 14).
 * A function of a named class is not a closure to the cleaner and passes untouched: what these methods hand to
 * Spark are such classes, wrapping the caller's function (a class or a lambda: the cleaner never sees it).
 */
public final class SparkJobs {
    private SparkJobs() {
    }

    /** A function of one partition's elements, run on an executor. */
    @FunctionalInterface
    public interface PartitionFunction<T, U> extends Serializable {
        U call(Iterator<T> elements) throws Exception;
    }

    /** {@code rdd.mapPartitions(f, preservesPartitioning)}, without a lambda around {@code f}. */
    public static <T, U> JavaRDD<U> mapPartitions(JavaRDD<T> rdd, FlatMapFunction<Iterator<T>, U> f,
                                                  boolean preservesPartitioning) {
        ClassTag<U> tag = anyRef();
        return new JavaRDD<>(rdd.rdd().mapPartitions(new MapPartitions<>(f), preservesPartitioning, tag), tag);
    }

    /** Runs {@code f} on every partition of {@code rdd} in one job: its results, in partition order. */
    public static <T, U> List<U> runPerPartition(RDD<T> rdd, PartitionFunction<T, U> f) {
        int partitions = rdd.partitions().length;
        ClassTag<U> tag = anyRef();
        Object results = rdd.sparkContext().runJob(rdd, new RunPartition<>(f), Range$.MODULE$.apply(0, partitions), tag);
        @SuppressWarnings("unchecked")
        List<U> out = (List<U>) Arrays.asList((Object[]) results);
        return out;
    }

    /** {@code rdd.collect()}: every element, partition after partition. */
    public static <T> List<T> collect(RDD<T> rdd) {
        return concatenated(runPerPartition(rdd, new ToList<T>()));
    }

    private static <T> List<T> concatenated(List<List<T>> partitions) {
        List<T> out = new ArrayList<>();
        for (List<T> partition : partitions) {
            out.addAll(partition);
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static <U> ClassTag<U> anyRef() {
        return (ClassTag<U>) ClassTag$.MODULE$.AnyRef();
    }

    /**
     * Rethrows a checked exception unchanged, as Spark's own wrappers of Java functions (Scala code) do, and as a
     * job's {@code SparkException} reaches a Java caller that did not declare it: {@code throw SparkJobs.rethrow(e)}.
     */
    @SuppressWarnings("unchecked")
    public static <E extends Throwable> RuntimeException rethrow(Throwable e) throws E {
        throw (E) e;
    }

    private static final class MapPartitions<T, U>
        extends AbstractFunction1<scala.collection.Iterator<T>, scala.collection.Iterator<U>> implements Serializable {
        private static final long serialVersionUID = 1L;
        private final FlatMapFunction<Iterator<T>, U> f;

        MapPartitions(FlatMapFunction<Iterator<T>, U> f) {
            this.f = f;
        }

        @Override
        public scala.collection.Iterator<U> apply(scala.collection.Iterator<T> elements) {
            try {
                return JavaConverters.asScalaIterator(f.call(JavaConverters.asJavaIterator(elements)));
            } catch (Exception e) {
                throw rethrow(e);
            }
        }
    }

    private static final class RunPartition<T, U>
        extends AbstractFunction2<TaskContext, scala.collection.Iterator<T>, U> implements Serializable {
        private static final long serialVersionUID = 1L;
        private final PartitionFunction<T, U> f;

        RunPartition(PartitionFunction<T, U> f) {
            this.f = f;
        }

        @Override
        public U apply(TaskContext task, scala.collection.Iterator<T> elements) {
            try {
                return f.call(JavaConverters.asJavaIterator(elements));
            } catch (Exception e) {
                throw rethrow(e);
            }
        }
    }

    private static final class ToList<T> implements PartitionFunction<T, List<T>> {
        private static final long serialVersionUID = 1L;

        @Override
        public List<T> call(Iterator<T> elements) {
            List<T> out = new ArrayList<>();
            elements.forEachRemaining(out::add);
            return out;
        }
    }
}
