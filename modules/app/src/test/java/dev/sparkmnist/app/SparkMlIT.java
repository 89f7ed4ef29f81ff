package dev.sparkmnist.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.data.IdxReader;
import dev.sparkmnist.data.MnistBatches;
import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.data.testing.TestData;
import dev.sparkmnist.evaluation.EvaluationReport;
import dev.sparkmnist.evaluation.Evaluator;
import dev.sparkmnist.runs.ModelFiles;
import dev.sparkmnist.scoring.DigitClassifierModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trained network as Spark ML stages on a real multi-JVM standalone cluster (local-cluster: a Master, 2 Workers,
 * 2 executor JVMs): fit with the resident engine, transform on the executors, Pipelines saved and loaded.
 */
class SparkMlIT {
    @TempDir
    static Path tmp;
    private static SparkSession spark;
    private static ModelFiles.Loaded trained;
    private static Dataset<Row> digits;
    private static MnistSet test;
    private static Dataset<Row> trainingRows;

    @BeforeAll
    static void trainAndFrame() {
        Configuration conf = new Configuration();
        trained = ModelFiles.load(DigitFrames.trainedModel(tmp.resolve("run"), "mlp", 1).toString(), conf);
        test = MnistSet.testFrom(TestData.sliceDir(), conf);
        // a real standalone cluster: a Master and 2 Workers, each executor its own JVM
        spark = SparkSession.builder().sparkContext(dev.sparkmnist.data.testing.SparkTestContext
            .localCluster("SparkMlIT", 2).sc()).getOrCreate();
        digits = DigitFrames.vectors(spark, DigitFrames.pixels(test), DigitFrames.labels(test), "digit")
            .repartition(3);
        MnistSet trainSplit = MnistSet.trainFrom(TestData.sliceDir(), conf);
        trainingRows = DigitFrames.vectors(spark, DigitFrames.pixels(trainSplit), DigitFrames.labels(trainSplit),
            "train").repartition(2);
    }

    @Test
    void anEstimatorInAPipelineTrainsWithTheResidentEngineAndRoundTrips() throws java.io.IOException {
        org.apache.spark.ml.Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {
            new dev.sparkmnist.scoring.DigitClassifier().setModel("mlp").setEpochs(2).setNumPartitions(2)
                .setSeed(7)});
        String unfitted = tmp.resolve("unfitted").toString();
        pipeline.write().overwrite().save(unfitted);
        dev.sparkmnist.scoring.DigitClassifier reloaded =
            (dev.sparkmnist.scoring.DigitClassifier) Pipeline.load(unfitted).getStages()[0];
        assertEquals(2, (int) reloaded.getOrDefault(reloaded.epochs()));
        assertEquals("mlp", reloaded.getOrDefault(reloaded.model()));
        PipelineModel fitted = Pipeline.load(unfitted).fit(trainingRows);
        String dir = tmp.resolve("fitted").toString();
        fitted.write().overwrite().save(dir);
        List<Row> first = fitted.transform(digits).select("id", "prediction").orderBy("id").collectAsList();
        List<Row> again = PipelineModel.load(dir).transform(digits).select("id", "prediction").orderBy("id")
            .collectAsList();
        assertEquals(first, again, "the saved and loaded pipeline predicts the same");
        DigitClassifierModel model = (DigitClassifierModel) fitted.stages()[0];
        List<Row> labelled = fitted.transform(digits).select("label", "prediction").collectAsList();
        long correct = labelled.stream().filter(r -> r.getDouble(0) == r.getDouble(1)).count();
        EvaluationReport report = Evaluator.local(model.network(), MnistBatches.read(test,
            MnistBatches.positions(null, 0, test.size()), 100, trained.normalization(), new Configuration()));
        assertEquals(report.accuracy(), (double) correct / test.size(), 1e-12);
        assertTrue(report.accuracy() > 0.5, "it learned: " + report.accuracy());
        IllegalArgumentException badLabel = assertThrows(IllegalArgumentException.class,
            () -> new dev.sparkmnist.scoring.DigitClassifier().setLabelCol("id").fit(trainingRows));
        assertEquals("labelCol (id) is string: it must be a number (the class, 0..9)", badLabel.getMessage());
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    @Test
    void aPipelineSavedAndLoadedPredictsAsEvaluateDoes() throws java.io.IOException {
        DigitClassifierModel model = DigitClassifierModel.of(trained.network(), trained.normalization());
        PipelineModel fitted = new Pipeline().setStages(new PipelineStage[] {model}).fit(digits);
        String dir = tmp.resolve("pipeline").toString();
        fitted.write().overwrite().save(dir);
        PipelineModel loaded = PipelineModel.load(dir);
        List<Row> out = loaded.transform(digits).select("id", "label", "prediction", "probability").collectAsList();
        assertEquals(test.size(), out.size());
        long correct = 0;
        for (Row r : out) {
            Vector p = r.getAs("probability");
            assertEquals(10, p.size());
            assertEquals(1.0, p.toArray()[0] + IntStream.range(1, 10).mapToDouble(c -> p.apply(c)).sum(), 1e-4);
            assertEquals((double) p.argmax(), r.getDouble(2), "the prediction is the most probable class");
            correct += r.getDouble(1) == r.getDouble(2) ? 1 : 0;
        }
        // the same network and digits evaluated in one JVM: the same accuracy, digit for digit in count
        EvaluationReport report = Evaluator.local(trained.network(), MnistBatches.read(test,
            MnistBatches.positions(null, 0, test.size()), 100, trained.normalization(), new Configuration()));
        assertEquals(report.accuracy(), (double) correct / test.size(), 1e-12);
        long[][] confusion = new long[10][10];
        for (Row r : out) {
            confusion[(int) r.getDouble(1)][(int) r.getDouble(2)]++;
        }
        assertTrue(java.util.Arrays.deepEquals(report.confusion(), confusion), "digit for digit: Evaluator's"
            + " confusion matrix");
    }

    @Test
    void badColumnsAreRefusedNamingTheColumn() {
        DigitClassifierModel model = DigitClassifierModel.of(trained.network(), trained.normalization());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
            () -> model.setFeaturesCol("pixels").transform(digits));
        assertTrue(missing.getMessage().startsWith("featuresCol (pixels) is not a column"), missing.getMessage());
        IllegalArgumentException type = assertThrows(IllegalArgumentException.class,
            () -> model.setFeaturesCol("id").transform(digits));
        assertEquals("featuresCol (id) is string: it must be a vector or an array of numbers (784 pixels, 0..255),"
            + " or the image column of Spark's image data source",
            type.getMessage());
    }

    @Test
    void picturesFromSparksImageDataSourceArePredictedAsPredictDoes() throws Exception {
        Path dir = java.nio.file.Files.createDirectories(tmp.resolve("pictures"));
        List<Path> files = new ArrayList<>();
        List<Row> some = digits.select("features").limit(12).collectAsList();
        for (int i = 0; i < some.size(); i++) {
            double[] v = ((Vector) some.get(i).get(0)).toArray();
            java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(28, 28,
                java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
            for (int q = 0; q < 784; q++) {
                img.getRaster().setSample(q % 28, q / 28, 0, (int) v[q]);
            }
            Path file = dir.resolve(String.format("d%02d.png", i));
            javax.imageio.ImageIO.write(img, "png", file.toFile());
            files.add(file);
        }
        Dataset<Row> pictures = spark.read().format("image").load(dir.toString());
        DigitClassifierModel model = DigitClassifierModel.of(trained.network(), trained.normalization())
            .setFeaturesCol("image");
        java.util.Map<String, Double> byFile = new java.util.TreeMap<>();
        for (Row r : model.transform(pictures).select("image.origin", "prediction").collectAsList()) {
            byFile.put(Path.of(java.net.URI.create(r.getString(0))).getFileName().toString(), r.getDouble(1));
        }
        assertEquals(files.size(), byFile.size());
        PredictIT.Outcome predicted = PredictIT.run(java.util.stream.Stream.concat(java.util.stream.Stream.of(
            "predict", "--model-path", tmp.resolve("run").resolve("model.zip").toString(), "--json", "--top", "1"),
            files.stream().map(Path::toString)).toArray(String[]::new));
        assertEquals(0, predicted.exit(), predicted.err());
        com.fasterxml.jackson.databind.JsonNode json = dev.sparkmnist.runs.RunLayout.JSON.readTree(predicted.out());
        for (int i = 0; i < files.size(); i++) {
            assertEquals(json.get(i).get("predictions").get(0).get("class").asDouble(),
                byFile.get(files.get(i).getFileName().toString()), "predict's class for " + files.get(i));
        }
    }
}
