package dev.sparkmnist.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.data.testing.TestData;
import java.awt.image.BufferedImage;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** MNIST's preprocessing: an MNIST digit passes unchanged; colours, inversion, size and position are undone. */
class DigitImageTest {
    private static byte[][] digits;

    @BeforeAll
    static void read() {
        MnistSet test = MnistSet.testFrom(TestData.sliceDir(), new Configuration());
        long[] all = new long[test.size()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        digits = IdxReader.readRecords(test.imagesPath(), test.imagesHeader(), all, new Configuration());
    }

    /** An MNIST digit as a picture: light ink on black, or (inverted) dark ink on white, each pixel k x k. */
    static BufferedImage picture(byte[] digit, boolean darkOnLight, int k) {
        BufferedImage img = new BufferedImage(28 * k, 28 * k, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 28 * k; y++) {
            for (int x = 0; x < 28 * k; x++) {
                int v = digit[(y / k) * 28 + x / k] & 0xFF;
                int level = darkOnLight ? 255 - v : v;
                img.setRGB(x, y, (level << 16) | (level << 8) | level);
            }
        }
        return img;
    }

    @Test
    void mnistDigitsComeOutUnchanged() {
        int same = 0;
        for (byte[] digit : digits) {
            if (java.util.Arrays.equals(digit, DigitImage.preprocess(picture(digit, false, 1)))) {
                same++;
            }
        }
        assertEquals(digits.length, same);
    }

    @Test
    void darkInkOnWhiteIsInverted() {
        for (int i = 0; i < 50; i++) {
            assertArrayEquals(digits[i], DigitImage.preprocess(picture(digits[i], true, 1)), "digit " + i);
        }
    }

    @Test
    void offCentreDigitOnALargeCanvasIsCroppedAndCentred() {
        byte[] digit = digits[0];
        BufferedImage canvas = new BufferedImage(100, 60, BufferedImage.TYPE_INT_RGB);
        BufferedImage small = picture(digit, false, 1);
        canvas.createGraphics().drawImage(small, 70, 5, null); // the digit in the top right corner
        assertArrayEquals(digit, DigitImage.preprocess(canvas));
    }

    @Test
    void threeTimesLargerDigitIsScaledBackExactly() {
        int same = 0;
        for (int i = 0; i < 100; i++) {
            byte[] back = DigitImage.preprocess(picture(digits[i], true, 3));
            int worst = 0;
            for (int k = 0; k < back.length; k++) {
                worst = Math.max(worst, Math.abs((back[k] & 0xFF) - (digits[i][k] & 0xFF)));
            }
            assertTrue(worst <= 1, "digit " + i + ": area averaging of 3x3 equal pixels, off by " + worst);
            same += worst == 0 ? 1 : 0;
        }
        assertTrue(same >= 90, same + " of 100 exactly equal");
    }

    @Test
    void greyscalePicturesAreReadByTheirSamples() {
        // TYPE_BYTE_GRAY is what ImageIO returns for a greyscale PNG; its getRGB would gamma-convert the levels
        for (int i = 0; i < 50; i++) {
            BufferedImage grey = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
            for (int k = 0; k < 784; k++) {
                grey.getRaster().setSample(k % 28, k / 28, 0, digits[i][k] & 0xFF);
            }
            assertArrayEquals(digits[i], DigitImage.preprocess(grey), "digit " + i);
        }
    }

    @Test
    void blankImageIsRefused() {
        BufferedImage white = new BufferedImage(30, 30, BufferedImage.TYPE_INT_RGB);
        white.createGraphics().fillRect(0, 0, 30, 30);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> DigitImage.preprocess(white));
        assertTrue(e.getMessage().startsWith("no digit found"), e.getMessage());
    }
}
