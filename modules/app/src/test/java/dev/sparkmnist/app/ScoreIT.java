package dev.sparkmnist.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sparkmnist.data.IdxReader;
import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.data.testing.TestData;
import dev.sparkmnist.runs.RunLayout;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code score}: every input format read on the executors, scored alike, written atomically; bad rows refused. */
class ScoreIT {
    private static final String[] SPARK = {"--master", "local[2]", "--conf", "spark.ui.enabled=false"};
    @TempDir
    static Path tmp;
    private static Path model;
    private static byte[][] digits;
    private static int[] labels;

    @BeforeAll
    static void trainAndReadDigits() {
        model = DigitFrames.trainedModel(tmp.resolve("run"), "mlp", 1);
        MnistSet test = MnistSet.testFrom(TestData.sliceDir(), new Configuration());
        digits = DigitFrames.pixels(test);
        labels = DigitFrames.labels(test);
    }

    private static CliIT.Run score(String input, Path out, String... more) {
        List<String> args = new ArrayList<>(List.of("score", "--input", input, "--model-path", model.toString(),
            "--output", out.toString()));
        args.addAll(List.of(more));
        args.addAll(List.of(SPARK));
        return CliIT.run(args.toArray(String[]::new));
    }

    /** index -> "label,prediction,probability,class_1,probability_1,..." from CSV predictions. */
    private static Map<Long, String> csvPredictions(Path out) throws IOException {
        Map<Long, String> rows = new TreeMap<>();
        try (Stream<Path> parts = Files.list(out.resolve(ScoreCommand.PREDICTIONS))) {
            for (Path part : parts.filter(p -> p.getFileName().toString().endsWith(".csv")).toList()) {
                List<String> lines = Files.readAllLines(part, StandardCharsets.UTF_8);
                for (String line : lines.subList(1, lines.size())) { // each part has the header
                    String[] f = line.split(",", 3);
                    rows.put(Long.parseLong(f[1]), f[2]);
                }
            }
        }
        return rows;
    }

    /**
     * The same digits with the same labels and classes (the prediction and every class_k) and the same probabilities
     * to {@link #PROBABILITY_ROUNDING}, or a failure naming the first index that differs (not both maps whole).
     */
    private static void assertSamePredictions(Map<Long, String> expected, Map<Long, String> actual, String what) {
        assertEquals(expected.keySet(), actual.keySet(), what + ": the same digits");
        for (Map.Entry<Long, String> e : expected.entrySet()) {
            String[] want = e.getValue().split(",");
            String[] got = actual.get(e.getKey()).split(",");
            String digit = what + ": digit " + e.getKey() + " (" + e.getValue() + " vs " + actual.get(e.getKey()) + ")";
            assertEquals(want.length, got.length, digit);
            for (int i = 0; i < want.length; i++) {
                boolean probability = i >= 2 && i % 2 == 0; // label, prediction, probability, class_1, probability_1..
                if (probability) {
                    assertEquals(Double.parseDouble(want[i]), Double.parseDouble(got[i]), PROBABILITY_ROUNDING, digit);
                } else {
                    assertEquals(want[i], got[i], digit);
                }
            }
        }
    }

    /**
     * The formats are read into other partitions, so a digit is scored in minibatches of other sizes, and OpenBLAS's
     * AVX2 kernels (an AMD EPYC) round a row's products differently with the minibatch's row count: the same digit's
     * probabilities came out up to 2e-7 apart there (bit for bit the same on an AVX-512 Xeon).
     */
    private static final double PROBABILITY_ROUNDING = 1e-6;

    private static String csvLine(int i) {
        return DigitFrames.csvLines(new byte[][] {digits[i]}, new int[] {labels[i]}).get(0);
    }

    @Test
    void idxCsvAndParquetInputsScoreAlikeAndAsEvaluateDoes() throws Exception {
        Path idxOut = tmp.resolve("idx-out");
        CliIT.Run idx = score(TestData.sliceDir(), idxOut, "--output-format", "csv");
        assertEquals(0, idx.exit(), idx.err());
        Map<Long, String> expected = csvPredictions(idxOut);
        assertEquals(digits.length, expected.size());
        assertTrue(Files.exists(idxOut.resolve("_SUCCESS")), "published whole");

        // the same model and digits through evaluate: the same accuracy
        Path evalOut = tmp.resolve("eval");
        CliIT.Run eval = CliIT.run(Stream.concat(Stream.of("evaluate", "--model-path", model.toString(),
            "--data-dir", TestData.sliceDir(), "--output", evalOut.toString()), Stream.of(SPARK))
            .toArray(String[]::new));
        assertEquals(0, eval.exit(), eval.err());
        double evaluated = RunLayout.JSON.readTree(evalOut.resolve("evaluation.json").toFile()).get("report")
            .get("accuracy").asDouble();
        JsonNode summary = RunLayout.JSON.readTree(idxOut.resolve(ScoreCommand.SUMMARY).toFile());
        assertEquals(evaluated, summary.get("accuracy").asDouble(), 1e-12);
        // digit for digit: the confusion matrix of score's predictions is evaluate's
        JsonNode confusion = RunLayout.JSON.readTree(evalOut.resolve("evaluation.json").toFile()).get("report")
            .get("confusion");
        long[][] fromScore = new long[10][10];
        for (String row : expected.values()) {
            String[] f = row.split(",");
            fromScore[Integer.parseInt(f[0])][Integer.parseInt(f[1])]++;
        }
        for (int a = 0; a < 10; a++) {
            for (int b = 0; b < 10; b++) {
                assertEquals(confusion.get(a).get(b).asLong(), fromScore[a][b], "confusion[" + a + "][" + b + "]");
            }
        }
        assertEquals(digits.length, summary.get("labelled").asLong());

        // mnist_test.csv: label first, no header
        Path plain = tmp.resolve("mnist_test.csv");
        Files.write(plain, IntStream.range(0, digits.length).mapToObj(i -> csvLine(i)).toList());
        Path plainOut = tmp.resolve("plain-out");
        CliIT.Run p = score(plain.toString(), plainOut, "--output-format", "csv");
        assertEquals(0, p.exit(), p.err());
        assertSamePredictions(expected, csvPredictions(plainOut), "mnist_test.csv scores as the idx files");

        // Kaggle's train.csv: a header naming label and pixel0..pixel783
        Path kaggle = Files.createDirectories(tmp.resolve("kaggle")).resolve("train.csv");
        List<String> lines = new ArrayList<>();
        lines.add("label," + IntStream.range(0, 784).mapToObj(i -> "pixel" + i).collect(Collectors.joining(",")));
        IntStream.range(0, digits.length).forEach(i -> lines.add(csvLine(i)));
        Files.write(kaggle, lines);
        Path kaggleOut = tmp.resolve("kaggle-out");
        CliIT.Run k = score(kaggle.toString(), kaggleOut, "--output-format", "csv", "--data-format", "csv");
        assertEquals(0, k.exit(), k.err());
        assertSamePredictions(expected, csvPredictions(kaggleOut), "Kaggle's header is skipped");

        // Parquet: label and 784 pixel columns
        Path parquet = tmp.resolve("digits.parquet");
        SparkSession spark = SparkSession.builder().master("local[1]").config("spark.ui.enabled", "false")
            .getOrCreate();
        try {
            DigitFrames.writeParquet(spark, parquet, digits, labels);
        } finally {
            spark.stop();
        }
        Path parquetOut = tmp.resolve("parquet-out");
        CliIT.Run q = score(parquet.toString(), parquetOut, "--output-format", "csv");
        assertEquals(0, q.exit(), q.err());
        assertSamePredictions(expected, csvPredictions(parquetOut), "Parquet scores as the idx files");
    }

    @Test
    void parquetPredictionsHoldTheTopKClassesMostProbableFirst() {
        Path out = tmp.resolve("topk-out");
        CliIT.Run r = score(TestData.sliceDir(), out, "--top-k", "4");
        assertEquals(0, r.exit(), r.err());
        SparkSession spark = SparkSession.builder().master("local[1]").config("spark.ui.enabled", "false")
            .getOrCreate();
        try {
            Dataset<Row> p = spark.read().parquet(out.resolve(ScoreCommand.PREDICTIONS).toString());
            StructType schema = p.schema();
            assertEquals(List.of("source", "index", "label", "prediction", "probability", "class_1",
                "probability_1", "class_2", "probability_2", "class_3", "probability_3", "class_4",
                "probability_4"), Arrays.asList(schema.fieldNames()));
            List<Row> rows = p.collectAsList();
            assertEquals(digits.length, rows.size());
            for (Row row : rows) {
                assertEquals(labels[(int) row.getLong(1)], row.getInt(2), "the idx labels");
                assertEquals(row.getInt(3), row.getInt(5), "class_1 is the prediction");
                for (int j = 1; j < 4; j++) {
                    assertTrue(row.getDouble(4 + 2 * j) >= row.getDouble(6 + 2 * j), "most probable first: " + row);
                }
            }
        } finally {
            spark.stop();
        }
    }

    @Test
    void badRowsAreCountedTheFirstIsNamedAndNothingIsWritten() throws Exception {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            lines.add(csvLine(i));
        }
        lines.set(2, lines.get(2).replaceFirst(",0,", ",300,"));
        lines.set(4, "7,1,2,3");
        Path bad = tmp.resolve("bad.csv");
        Files.write(bad, lines);
        Path out = tmp.resolve("bad-out");
        CliIT.Run r = score(bad.toString(), out);
        assertEquals(ExitCodes.BAD_INPUT, r.exit(), r.err());
        assertTrue(r.err().contains("has 2 row(s) that are not digits; the first, in " + bad + ": line 3: pixel 300"
            + " is not a whole number in [0, 255]"), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        assertFalse(Files.exists(out), "nothing written");
        CliIT.Run k = score(bad.toString(), out, "--top-k", "11");
        assertEquals(ExitCodes.BAD_INPUT, k.exit(), k.err());
        assertTrue(k.err().contains("--top-k (11) must be in [1, 10]"), k.err());
    }

    @Test
    void picturesInClassFoldersAreLabelledByTheirFolderAndScoredAsPredictDoes() throws Exception {
        Path root = tmp.resolve("pictures");
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            Path dir = Files.createDirectories(root.resolve(Integer.toString(labels[i])));
            BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
            for (int q = 0; q < 784; q++) {
                img.getRaster().setSample(q % 28, q / 28, 0, digits[i][q] & 0xFF);
            }
            Path file = dir.resolve(String.format("d%02d.png", i));
            ImageIO.write(img, "png", file.toFile());
            files.add(file);
        }
        Path out = tmp.resolve("pictures-out");
        CliIT.Run r = score(root.toString(), out, "--output-format", "csv");
        assertEquals(0, r.exit(), r.err());
        Map<String, String[]> bySource = new TreeMap<>();
        try (Stream<Path> parts = Files.list(out.resolve(ScoreCommand.PREDICTIONS))) {
            for (Path part : parts.filter(p -> p.getFileName().toString().endsWith(".csv")).toList()) {
                List<String> lines = Files.readAllLines(part, StandardCharsets.UTF_8);
                for (String line : lines.subList(1, lines.size())) {
                    String[] f = line.split(",");
                    bySource.put(Path.of(java.net.URI.create(f[0])).getFileName().toString(), f);
                }
            }
        }
        assertEquals(files.size(), bySource.size());
        PredictIT.Outcome predicted = PredictIT.run(Stream.concat(Stream.of("predict", "--model-path",
            model.toString(), "--json", "--top", "1"), files.stream().map(Path::toString)).toArray(String[]::new));
        assertEquals(0, predicted.exit(), predicted.err());
        JsonNode json = RunLayout.JSON.readTree(predicted.out());
        // a file that is not a picture is a bad row: counted, named, and nothing is written
        Path notPicture = root.resolve("3").resolve("notes.png");
        Files.writeString(notPicture, "not a picture");
        Path badOut = tmp.resolve("pictures-bad-out");
        CliIT.Run bad = score(root.toString(), badOut);
        assertEquals(ExitCodes.BAD_INPUT, bad.exit(), bad.err());
        assertTrue(bad.err().contains("has 1 row(s) that are not digits") && bad.err().contains("notes.png")
            && bad.err().contains("not a picture ImageIO can read"), bad.err());
        assertFalse(Files.exists(badOut), "nothing written");
        for (int i = 0; i < files.size(); i++) {
            String[] row = bySource.get(files.get(i).getFileName().toString());
            assertEquals(Integer.toString(labels[i]), row[2], "the folder names the class");
            assertEquals(json.get(i).get("predictions").get(0).get("class").asInt(), Integer.parseInt(row[3]),
                "the prediction predict makes of " + files.get(i));
        }
    }
}
