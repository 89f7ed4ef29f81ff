package dev.sparkmnist.app;

import dev.sparkmnist.runs.RunLayout;
import dev.sparkmnist.runs.RunFiles;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sparkmnist.data.IdxReader;
import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.data.testing.TestData;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code predict} end to end on a LeNet trained on the MNIST slice. */
@Timeout(600)
class PredictIT {
    private static final int PICTURES = 100;
    @TempDir
    static Path tmp;
    private static Path model;
    private static byte[][] digits;
    private static int[] labels;

    /** Exit code, standard output and standard error of one command line. */
    record Outcome(int exit, String out, String err) {
    }

    static Outcome run(String... args) {
        picocli.CommandLine cl = Main.commandLine();
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        cl.setOut(new java.io.PrintWriter(out, true));
        cl.setErr(new java.io.PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Outcome(exit, out.toString(), err.toString());
    }

    @BeforeAll
    static void trainAndReadDigits() {
        Path runDir = tmp.resolve("run");
        model = DigitFrames.trainedModel(runDir, "lenet", 4);
        Configuration conf = new Configuration();
        MnistSet test = MnistSet.testFrom(TestData.sliceDir(), conf);
        long[] first = new long[PICTURES];
        Arrays.setAll(first, i -> i);
        digits = IdxReader.readRecords(test.imagesPath(), test.imagesHeader(), first, conf);
        byte[][] l = IdxReader.readRecords(test.labelsPath(), test.labelsHeader(), first, conf);
        labels = Arrays.stream(l).mapToInt(b -> b[0] & 0xFF).toArray();
    }

    /** A t10k digit as a greyscale PNG, as MNIST stores it (light ink on black). */
    private static void writePng(byte[] digit, Path file) throws Exception {
        BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        for (int k = 0; k < digit.length; k++) {
            img.getRaster().setSample(k % 28, k / 28, 0, digit[k] & 0xFF);
        }
        ImageIO.write(img, "png", file.toFile());
    }

    @Test
    void picturesOfTestDigitsPredictWhatEvaluatePredicts() throws Exception {
        Path pictures = Files.createDirectories(tmp.resolve("pictures"));
        for (int i = 0; i < PICTURES; i++) {
            writePng(digits[i], pictures.resolve(String.format("t10k-%03d.png", i)));
        }
        // the same digits as an idx pair, scored by evaluate
        Path images = TestData.writeImages(tmp.resolve("first-images-idx3-ubyte"), PICTURES, 28, 28, concat(digits));
        byte[] labelBytes = new byte[PICTURES];
        for (int i = 0; i < PICTURES; i++) {
            labelBytes[i] = (byte) labels[i];
        }
        Path labelsFile = TestData.writeLabels(tmp.resolve("first-labels-idx1-ubyte"), PICTURES, labelBytes);
        Path evalOut = tmp.resolve("eval");
        CliIT.Run eval = CliIT.run("evaluate", "--model-path", model.toString(), "--images", images.toString(),
            "--labels", labelsFile.toString(), "--output", evalOut.toString(), "--master", "local[2]", "--conf",
            "spark.ui.enabled=false");
        assertEquals(0, eval.exit(), eval.err());
        JsonNode confusion = RunLayout.JSON.readTree(evalOut.resolve("evaluation.json").toFile())
            .get("report").get("confusion");

        Outcome predict = run("predict", "--model-path", model.toString(), "--json", pictures.toString());
        assertEquals(0, predict.exit(), predict.err());
        JsonNode predictions = RunLayout.JSON.readTree(predict.out());
        assertEquals(PICTURES, predictions.size());
        long[][] fromPictures = new long[10][10];
        for (int i = 0; i < PICTURES; i++) {
            JsonNode p = predictions.get(i);
            assertTrue(p.get("source").asText().endsWith(String.format("t10k-%03d.png", i)), p.toString());
            assertEquals(3, p.get("predictions").size(), "top 3");
            assertTrue(p.get("predictions").get(0).get("probability").asDouble()
                >= p.get("predictions").get(1).get("probability").asDouble());
            fromPictures[labels[i]][p.get("predictions").get(0).get("class").asInt()]++;
        }
        for (int a = 0; a < 10; a++) {
            for (int b = 0; b < 10; b++) {
                assertEquals(confusion.get(a).get(b).asLong(), fromPictures[a][b],
                    "confusion[" + a + "][" + b + "]: pictures predict what evaluate predicts");
            }
        }

        // the idx file itself gives the same probabilities as its pictures
        JsonNode fromIdx = RunLayout.JSON.readTree(run("predict", "--model-path", model.toString(), "--json",
            images.toString()).out());
        for (int i = 0; i < PICTURES; i++) {
            assertEquals(i, fromIdx.get(i).get("index").asInt());
            assertEquals(predictions.get(i).get("predictions"), fromIdx.get(i).get("predictions"), "digit " + i);
        }
    }

    @Test
    void aDarkOnLightPhotoOfADigitIsRecognised() throws Exception {
        Path photo = tmp.resolve("seven.jpg");
        ImageIO.write(drawnSeven(), "jpg", photo.toFile());
        Outcome predict = run("predict", "--model-path", model.toString(), photo.toString());
        assertEquals(0, predict.exit(), predict.err());
        assertTrue(predict.out().strip().matches(".*seven\\.jpg:  7 \\(\\d+\\.\\d%\\)  \\d .*"), predict.out());
    }

    /** A "7" in thick dark-blue ink on a large, unevenly lit, noisy paper-coloured background. */
    static BufferedImage drawnSeven() {
        BufferedImage img = new BufferedImage(240, 320, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setPaint(new GradientPaint(0, 0, new Color(235, 230, 215), 240, 320, new Color(200, 195, 180)));
        g.fillRect(0, 0, 240, 320);
        g.setColor(new Color(25, 30, 80));
        g.setStroke(new BasicStroke(18, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
        Path2D seven = new Path2D.Double();
        seven.moveTo(70, 90);
        seven.lineTo(175, 85);
        seven.lineTo(110, 250);
        g.draw(seven);
        g.dispose();
        Random noise = new Random(7);
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                Color c = new Color(img.getRGB(x, y));
                int d = (int) Math.round(noise.nextGaussian() * 6);
                img.setRGB(x, y, new Color(clamp(c.getRed() + d), clamp(c.getGreen() + d), clamp(c.getBlue() + d))
                    .getRGB());
            }
        }
        return img;
    }

    @Test
    void corruptAndNonImageFilesAreNamedAndSkipped() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("mixed"));
        writePng(digits[0], dir.resolve("a-good.png"));
        byte[] png = Files.readAllBytes(dir.resolve("a-good.png"));
        Files.write(dir.resolve("b-truncated.png"), Arrays.copyOf(png, png.length / 2));
        Files.writeString(dir.resolve("c-notes.txt"), "not a picture");
        Outcome predict = run("predict", "--model-path", model.toString(), dir.toString());
        assertEquals(ExitCodes.BAD_INPUT, predict.exit());
        assertTrue(predict.out().contains("a-good.png:  "), predict.out());
        List<String> errors = predict.err().lines().toList();
        assertTrue(errors.get(0).matches("error: .*b-truncated\\.png: corrupt or truncated picture \\(.+\\)"),
            errors.get(0));
        assertTrue(errors.get(1).matches("error: .*c-notes\\.txt: not a picture ImageIO can read \\(PNG, JPEG, BMP,"
            + " GIF\\) nor an idx images file"), errors.get(1));
        assertEquals("error: 2 file(s) could not be read and were skipped", errors.get(2));
    }

    /**
     * Inputs that would exhaust memory are refused before they are decoded, each with one line naming the bound: a
     * valid PNG of a few hundred kilobytes that declares 30000x30000 pixels (3.6 GB decoded), and a file larger than
     * predict reads; the good picture beside them is still predicted.
     */
    @Test
    void oversizedPicturesAreRefusedBeforeDecoding() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("big"));
        writePng(digits[0], dir.resolve("a-good.png"));
        Path huge = dir.resolve("b-huge.png");
        writeBlankPng(30_000, 30_000, huge);
        assertTrue(Files.size(huge) < 1_000_000, "small on disk: " + Files.size(huge));
        Path heavy = dir.resolve("c-heavy.png");
        Files.write(heavy, new byte[(int) dev.sparkmnist.data.Pictures.MAX_BYTES + 1]);
        long t0 = System.nanoTime();
        Outcome predict = run("predict", "--model-path", model.toString(), dir.toString());
        assertEquals(ExitCodes.BAD_INPUT, predict.exit(), predict.err());
        assertTrue(predict.out().contains("a-good.png:  "), predict.out());
        List<String> errors = predict.err().lines().toList();
        assertEquals("error: " + huge.toUri().toString().replace("file:///", "file:/") + ": the picture is"
            + " 30000x30000 pixels: pictures of at most 16777216 pixels (4096x4096) are decoded", errors.get(0));
        assertEquals("error: " + heavy.toUri().toString().replace("file:///", "file:/") + ": the file is "
            + (dev.sparkmnist.data.Pictures.MAX_BYTES + 1) + " bytes: pictures of at most "
            + dev.sparkmnist.data.Pictures.MAX_BYTES + " bytes are read", errors.get(1));
        assertEquals(3, errors.size(), predict.err());
        assertTrue((System.nanoTime() - t0) / 1e9 < 60, "refused, not decoded");
    }

    /** A valid 1-bit greyscale PNG of the given size, all black: a header, a few hundred kilobytes of zlib. */
    private static void writeBlankPng(int width, int height, Path file) throws Exception {
        java.io.ByteArrayOutputStream idat = new java.io.ByteArrayOutputStream();
        try (java.util.zip.DeflaterOutputStream z = new java.util.zip.DeflaterOutputStream(idat,
                new java.util.zip.Deflater(9))) {
            byte[] row = new byte[1 + (width + 7) / 8]; // filter byte 0, then the pixels
            for (int y = 0; y < height; y++) {
                z.write(row);
            }
        }
        java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
        png.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
        java.nio.ByteBuffer ihdr = java.nio.ByteBuffer.allocate(13).putInt(width).putInt(height)
            .put((byte) 1).put((byte) 0).put((byte) 0).put((byte) 0).put((byte) 0);
        chunk(png, "IHDR", ihdr.array());
        chunk(png, "IDAT", idat.toByteArray());
        chunk(png, "IEND", new byte[0]);
        Files.write(file, png.toByteArray());
    }

    private static void chunk(java.io.ByteArrayOutputStream png, String type, byte[] data) throws Exception {
        java.io.DataOutputStream out = new java.io.DataOutputStream(png);
        out.writeInt(data.length);
        byte[] t = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        out.write(t);
        out.write(data);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(t);
        crc.update(data);
        out.writeInt((int) crc.getValue());
    }

    private static int clamp(int v) {
        return Math.max(0, Math.min(255, v));
    }

    private static byte[] concat(byte[][] rows) {
        byte[] all = new byte[rows.length * rows[0].length];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, all, i * rows[0].length, rows[0].length);
        }
        return all;
    }
}
