package dev.sparkmnist.scoring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.ml.linalg.Vectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The parsing and checking of digits, on tiny fixed rows: CSV lines, features values, formats, top classes. */
class DigitRowsTest {
    private static String pixels(int value) {
        return String.join(",", Collections.nCopies(784, Integer.toString(value)));
    }

    @Test
    void csvLinesWithAndWithoutALabelHeadersAndBlanks() {
        DigitRow labelled = DigitReader.parseCsv("f.csv", 4, "7," + pixels(255));
        assertEquals(7, labelled.label());
        assertEquals(4, labelled.index());
        assertEquals((byte) 255, labelled.pixels()[783]);
        DigitRow unlabelled = DigitReader.parseCsv("f.csv", 0, pixels(3));
        assertEquals(DigitRow.NO_LABEL, unlabelled.label());
        assertEquals(3, unlabelled.pixels()[0]);
        assertNull(DigitReader.parseCsv("f.csv", 0, "label," + IntStream.range(0, 784).mapToObj(i -> "pixel" + i)
            .collect(Collectors.joining(","))), "a header");
        assertNull(DigitReader.parseCsv("f.csv", 9, "   "), "a blank line");
    }

    @Test
    void badCsvLinesNameTheLineAndTheRule() {
        assertEquals("line 3 has 4 fields, not 784 pixels (with or without a label first): 1,2,3,4",
            DigitReader.parseCsv("f.csv", 2, "1,2,3,4").error());
        assertEquals("line 1: pixel 256 is not a whole number in [0, 255]: " + ("1," + pixels(256)).substring(0, 57)
            + "...", DigitReader.parseCsv("f.csv", 0, "1," + pixels(256)).error());
        assertEquals("line 1: label 10 is not a whole number in [0, 9]: " + ("10," + pixels(0)).substring(0, 57)
            + "...", DigitReader.parseCsv("f.csv", 0, "10," + pixels(0)).error());
        assertEquals("line 2: pixel 'x' is not a number: " + ("1,x," + pixels(0).substring(2)).substring(0, 57)
            + "...", DigitReader.parseCsv("f.csv", 1, "1,x," + pixels(0).substring(2)).error());
    }

    @Test
    void featuresValuesFromVectorsAndArrays() {
        assertArrayEquals(new double[] {1, 2}, FeatureRows.values(Vectors.dense(1, 2)));
        assertArrayEquals(new double[] {3, Double.NaN}, FeatureRows.values(scala.collection.JavaConverters
            .asScalaBuffer(java.util.Arrays.asList((Object) 3, null)).toSeq()));
        assertEquals("the features are null, not a vector or an array of numbers",
            assertThrows(IllegalArgumentException.class, () -> FeatureRows.values(null)).getMessage());
    }

    @Test
    void formatsFromNamesAndDirectories(@TempDir Path dir) throws Exception {
        Configuration conf = new Configuration();
        Files.writeString(dir.resolve("mnist_test.csv"), "");
        assertEquals(DataFormat.CSV, DataFormat.detect("--input", dir.resolve("mnist_test.csv").toString(), conf));
        Path parquet = Files.createDirectories(dir.resolve("p.parquet"));
        Files.writeString(parquet.resolve("part-00000.snappy.parquet"), "");
        Files.writeString(parquet.resolve("_SUCCESS"), "");
        assertEquals(DataFormat.PARQUET, DataFormat.detect("--input", parquet.toString(), conf));
        Path pictures = Files.createDirectories(dir.resolve("pics").resolve("3"));
        assertEquals(DataFormat.IMAGES, DataFormat.detect("--input", pictures.getParent().toString(), conf));
        assertEquals("--input (" + dir.resolve("nope") + "): file not found", assertThrows(
            dev.sparkmnist.data.InvalidInputException.class,
            () -> DataFormat.detect("--input", dir.resolve("nope").toString(), conf)).getMessage());
    }

    @Test
    void topClassesByFallingProbabilityTheLowerFirstOnATie() {
        assertArrayEquals(new Integer[] {2, 0, 1, 3}, Scorer.top(new float[] {0.3f, 0.1f, 0.4f, 0.1f}));
    }

    @Test
    void aPasswordInTheInputsAddressReachesNoPredictionNorMessage() {
        DigitRow ok = DigitRow.ok("s3a://me:topSecret@bucket/digits.csv", 0, 1, new byte[784]);
        assertEquals("s3a://me:*********(redacted)@bucket/digits.csv", ok.source());
        DigitRow bad = DigitRow.bad("s3a://me:topSecret@bucket/x.png", 0, "s3a://me:topSecret@bucket/x.png: not a"
            + " picture");
        assertEquals("s3a://me:*********(redacted)@bucket/x.png: not a picture", bad.error());
    }
}
