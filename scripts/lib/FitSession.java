// The Spark ML estimator fitted several times in one Spark session (BENCHMARKS.md, round 37): what a notebook, a
// CrossValidator or a TrainValidationSplit does, in executors that stay up from fit to fit (here Spark local[2]: the
// driver's JVM). Reads a split's idx files into a DataFrame of (label, features: an ML vector of the 784 pixels), then
// fits DigitClassifier FITS times with 2 workers, each fit from the same seed, and prints each fit's wall seconds;
// each epoch's line is in the log (scripts/benchmark-fits.sh turns them into a table).
// Run: java -cp APP_CLASS_PATH scripts/lib/FitSession.java DATA_DIR lenet|mlp FITS EPOCHS
import dev.sparkmnist.data.IdxReader;
import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.scoring.DigitClassifier;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

public class FitSession {
    public static void main(String[] args) {
        if (args.length != 4 || !args[1].matches("lenet|mlp")) {
            System.err.println("usage: FitSession DATA_DIR lenet|mlp FITS EPOCHS");
            System.exit(2);
        }
        String model = args[1];
        int fits = Integer.parseInt(args[2]);
        int epochs = Integer.parseInt(args[3]);
        SparkSession spark = SparkSession.builder().master("local[2]").appName("fit-session")
            .config("spark.ui.enabled", "false").getOrCreate();
        try {
            Dataset<Row> rows = digits(spark, MnistSet.trainFrom(args[0], new Configuration())).repartition(2)
                .cache();
            System.err.println("FitSession: " + rows.count() + " rows");
            for (int fit = 1; fit <= fits; fit++) {
                DigitClassifier estimator = new DigitClassifier().setModel(model).setEpochs(epochs)
                    .setNumPartitions(2).setSeed(7);
                if (model.equals("lenet")) { // the teaching configuration, as scripts/benchmark-peer.sh runs it
                    estimator.setUpdater("momentum").setLearningRate(0.01).setInputPadding(0).setL2(0)
                        .setBatchSizePerWorker(32);
                } else {
                    estimator.setBatchSizePerWorker(64);
                }
                System.err.println("FitSession: fit " + fit);
                long t0 = System.nanoTime();
                estimator.fit(rows);
                System.err.printf("FitSession: fit %d took %.2f s%n", fit, (System.nanoTime() - t0) / 1e9);
            }
        } finally {
            spark.stop();
        }
    }

    /** A split as (label: double, features: ML vector of its 784 pixels, 0..255). */
    static Dataset<Row> digits(SparkSession spark, MnistSet set) {
        long[] all = LongStream.range(0, set.size()).toArray();
        Configuration conf = new Configuration();
        byte[][] pixels = IdxReader.readRecords(set.imagesPath(), set.imagesHeader(), all, conf);
        byte[][] labels = IdxReader.readRecords(set.labelsPath(), set.labelsHeader(), all, conf);
        List<Row> rows = new ArrayList<>(pixels.length);
        for (int i = 0; i < pixels.length; i++) {
            double[] v = new double[pixels[i].length];
            for (int p = 0; p < v.length; p++) {
                v[p] = pixels[i][p] & 0xFF;
            }
            rows.add(RowFactory.create((double) (labels[i][0] & 0xFF), Vectors.dense(v)));
        }
        StructType schema = new StructType().add("label", DataTypes.DoubleType)
            .add("features", SQLDataTypes.VectorType());
        return spark.createDataFrame(rows, schema);
    }
}
