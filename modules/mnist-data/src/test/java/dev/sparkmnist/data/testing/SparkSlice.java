package dev.sparkmnist.data.testing;

import dev.sparkmnist.data.MnistSet;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The fixture of the Spark integration tests, as a JUnit extension: a {@link SparkTestContext#local2} context and the
 * MNIST slice's training and test sets, created before a test class's first test and stopped after its last.
 * Use it as {@code @RegisterExtension static final SparkSlice SLICE = new SparkSlice("name");}.
 */
public final class SparkSlice implements BeforeAllCallback, AfterAllCallback {
    private final String name;
    private final String[] settings;
    private JavaSparkContext sc;
    private MnistSet train;
    private MnistSet test;

    /**
     * @param name the Spark application name
     * @param keyValuePairs extra Spark settings (key, value, ...)
     */
    public SparkSlice(String name, String... keyValuePairs) {
        this.name = name;
        this.settings = keyValuePairs.clone();
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        sc = SparkTestContext.local2(name, settings);
        Configuration conf = new Configuration();
        train = MnistSet.trainFrom(TestData.sliceDir(), conf);
        test = MnistSet.testFrom(TestData.sliceDir(), conf);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (sc != null) {
            sc.stop();
        }
    }

    /** The local[2] context. */
    public JavaSparkContext sc() {
        return sc;
    }

    /** The slice's 2,000 training examples. */
    public MnistSet train() {
        return train;
    }

    /** The slice's 500 test examples. */
    public MnistSet test() {
        return test;
    }
}
