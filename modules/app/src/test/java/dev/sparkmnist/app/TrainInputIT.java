package dev.sparkmnist.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sparkmnist.data.IdxReader;
import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.data.testing.TestData;
import dev.sparkmnist.runs.RunLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** train's --data-dir in CSV and Parquet: read on the executors, staged as idx, the same run as on the idx files. */
class TrainInputIT {
    @TempDir
    static Path tmp;
    private static byte[][][] pixels = new byte[2][][];
    private static int[][] labels = new int[2][];
    private static JsonNode reference;

    private static CliIT.Run train(String dataDir, Path out, String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--mode", "local", "--model", "mlp", "--epochs", "1",
            "--progress", "none", "--data-dir", dataDir, "--output", out.toString()));
        args.addAll(List.of(more));
        return CliIT.run(args.toArray(String[]::new));
    }

    @BeforeAll
    static void readTheSliceAndTrainOnIt() throws Exception {
        Configuration conf = new Configuration();
        MnistSet[] sets = {MnistSet.trainFrom(TestData.sliceDir(), conf), MnistSet.testFrom(TestData.sliceDir(), conf)};
        for (int s = 0; s < 2; s++) {
            pixels[s] = DigitFrames.pixels(sets[s]);
            labels[s] = DigitFrames.labels(sets[s]);
        }
        Path out = tmp.resolve("idx-run");
        CliIT.Run r = train(TestData.sliceDir(), out);
        assertEquals(0, r.exit(), r.err());
        reference = RunLayout.JSON.readTree(out.resolve("metrics.json").toFile());
    }

    private static List<String> csv(int split) {
        return DigitFrames.csvLines(pixels[split], labels[split]);
    }

    private static void assertSameRun(Path out) throws Exception {
        JsonNode metrics = RunLayout.JSON.readTree(out.resolve("metrics.json").toFile());
        JsonNode a = reference.get("epochs").get(0);
        JsonNode b = metrics.get("epochs").get(0);
        for (String f : List.of("trainLoss", "testLoss", "testAccuracy", "examplesTrained")) {
            assertEquals(a.get(f).asDouble(), b.get(f).asDouble(), 0, f + ": the same run as on the idx files");
        }
    }

    @Test
    void csvFilesTrainAsTheIdxFilesDo() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("csv"));
        Files.write(dir.resolve("mnist_train.csv"), csv(0));
        Files.write(dir.resolve("mnist_test.csv"), csv(1));
        Path out = tmp.resolve("csv-run");
        CliIT.Run r = train(dir.toString(), out);
        assertEquals(0, r.exit(), r.err());
        assertSameRun(out);
    }

    @Test
    void parquetDirectoriesTrainAsTheIdxFilesDo() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("parquet"));
        SparkSession spark = SparkSession.builder().master("local[1]").config("spark.ui.enabled", "false")
            .getOrCreate();
        try {
            DigitFrames.writeParquet(spark, dir.resolve("train.parquet"), pixels[0], labels[0]);
            DigitFrames.writeParquet(spark, dir.resolve("test.parquet"), pixels[1], labels[1]);
        } finally {
            spark.stop();
        }
        Path out = tmp.resolve("parquet-run");
        CliIT.Run r = train(dir.toString(), out);
        assertEquals(0, r.exit(), r.err());
        assertSameRun(out);
    }

    @Test
    void folderOfPicturesByClassTrainOnEveryPicture() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("pictures"));
        int[] counts = {300, 100};
        for (int s = 0; s < 2; s++) {
            for (int i = 0; i < counts[s]; i++) {
                Path folder = Files.createDirectories(dir.resolve(s == 0 ? "train" : "test")
                    .resolve(Integer.toString(labels[s][i])));
                java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(28, 28,
                    java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
                for (int q = 0; q < 784; q++) {
                    img.getRaster().setSample(q % 28, q / 28, 0, pixels[s][i][q] & 0xFF);
                }
                javax.imageio.ImageIO.write(img, "png", folder.resolve(String.format("%04d.png", i)).toFile());
            }
        }
        Path out = tmp.resolve("pictures-run");
        CliIT.Run r = train(dir.toString(), out);
        assertEquals(0, r.exit(), r.err());
        JsonNode metrics = RunLayout.JSON.readTree(out.resolve("metrics.json").toFile());
        assertEquals(counts[0], metrics.get("epochs").get(0).get("examplesTrained").asInt());
        JsonNode confusion = metrics.get("test").get("confusion");
        long tested = 0;
        long[] perClass = new long[10];
        for (int a = 0; a < 10; a++) {
            for (int b = 0; b < 10; b++) {
                tested += confusion.get(a).get(b).asLong();
                perClass[a] += confusion.get(a).get(b).asLong();
            }
        }
        assertEquals(counts[1], tested, "every test picture evaluated");
        long[] expected = new long[10];
        for (int i = 0; i < counts[1]; i++) {
            expected[labels[1][i]]++;
        }
        assertTrue(java.util.Arrays.equals(expected, perClass), "the folders name the classes: "
            + java.util.Arrays.toString(perClass));
    }

    @Test
    void badRowsAndAMissingSplitFailWithOneLineAndWriteNothing() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("bad"));
        List<String> train = new ArrayList<>(csv(0));
        train.set(9, "12," + train.get(9).substring(train.get(9).indexOf(',') + 1));
        Files.write(dir.resolve("mnist_train.csv"), train);
        Path out = tmp.resolve("bad-run");
        CliIT.Run missing = train(dir.toString(), out);
        assertEquals(ExitCodes.BAD_INPUT, missing.exit(), missing.err());
        assertTrue(missing.err().contains("--data-dir (" + dir + ") holds no test input"), missing.err());
        Files.write(dir.resolve("mnist_test.csv"), csv(1));
        CliIT.Run bad = train(dir.toString(), out);
        assertEquals(ExitCodes.BAD_INPUT, bad.exit(), bad.err());
        assertTrue(bad.err().contains("has 1 row(s) that are not labelled digits; the first, in ")
            && bad.err().contains("line 10: label 12 is not a whole number in [0, 9]"), bad.err());
        assertFalse(bad.err().contains("\tat "), "no stack trace: " + bad.err());
        assertFalse(Files.exists(out), "nothing written");
        try (Stream<Path> staged = Files.list(Path.of(new Configuration().get("hadoop.tmp.dir")))) {
            assertFalse(staged.anyMatch(p -> p.getFileName().toString().startsWith("spark-mnist-data-")
                && p.toFile().lastModified() > System.currentTimeMillis() - 60_000), "the staged files are removed");
        } catch (java.nio.file.NoSuchFileException e) {
            // nothing was ever staged there
        }
    }
}
