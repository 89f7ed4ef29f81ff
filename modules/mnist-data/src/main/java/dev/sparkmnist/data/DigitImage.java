package dev.sparkmnist.data;

import java.awt.image.BufferedImage;
import java.util.Arrays;

/**
 * Turns a picture of one digit (any size, colour, ink dark or light) into a 28x28 MNIST example, the way MNIST's own
 * digits were made: greyscale; inverted when the background is light, so that ink is bright; background level
 * removed; cropped to the digit; scaled to fit 20x20 keeping the aspect ratio; placed in 28x28 so that its centre of
 * mass is the centre. An MNIST digit (already made this way) comes out unchanged.
 */
public final class DigitImage {
    /** Side of an MNIST example. */
    public static final int SIZE = 28;
    /** Side of the box the digit is scaled to fit. */
    public static final int BOX = 20;
    /** Border pixels whose ink level up to this quantile count as background. */
    private static final double BACKGROUND_QUANTILE = 0.95;
    private static final int MAX_INK = 255;

    private DigitImage() {
    }

    /**
     * The MNIST example of a picture: {@code 28*28} unsigned bytes, row-major, ink 255. Fails with
     * {@link IllegalArgumentException} when the picture holds no ink at all (a blank image).
     */
    public static byte[] preprocess(BufferedImage picture) {
        int w = picture.getWidth();
        int h = picture.getHeight();
        int[][] ink = levels(picture);
        int[] border = border(ink);
        if (mean(border) > MAX_INK / 2.0) { // light background: dark ink
            for (int[] row : ink) {
                for (int x = 0; x < w; x++) {
                    row[x] = MAX_INK - row[x];
                }
            }
            border = border(ink);
        }
        removeBackground(ink, quantile(border, BACKGROUND_QUANTILE));
        int[] box = boundingBox(ink);
        if (box == null) {
            throw new IllegalArgumentException("no digit found: the image is blank after removing its background");
        }
        int bw = box[2] - box[0] + 1;
        int bh = box[3] - box[1] + 1;
        float[][] digit = scaleToFit(ink, box, bw, bh);
        return centre(digit);
    }

    /**
     * Grey levels 0..255 of the picture: a greyscale picture's own samples (getRGB would convert them from Java's
     * linear grey colour space and change them), else the luminance of each pixel.
     */
    static int[][] levels(BufferedImage picture) {
        int w = picture.getWidth();
        int h = picture.getHeight();
        int[][] levels = new int[h][w];
        java.awt.image.ColorModel cm = picture.getColorModel();
        boolean grey = cm.getColorSpace().getType() == java.awt.color.ColorSpace.TYPE_GRAY
            && cm.getNumColorComponents() == 1 && !cm.hasAlpha();
        int bits = cm.getComponentSize(0);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                levels[y][x] = grey
                    ? (int) Math.round(picture.getRaster().getSample(x, y, 0) * 255.0 / ((1 << bits) - 1))
                    : grey(picture.getRGB(x, y));
            }
        }
        return levels;
    }

    /** Luminance of an ARGB pixel composited on white (a transparent pixel is background). */
    static int grey(int argb) {
        int a = (argb >>> 24) & 0xFF;
        int r = (argb >> 16) & 0xFF;
        int g = (argb >> 8) & 0xFF;
        int b = argb & 0xFF;
        double lum = 0.299 * r + 0.587 * g + 0.114 * b;
        return (int) Math.round((lum * a + MAX_INK * (MAX_INK - a)) / MAX_INK);
    }

    private static int[] border(int[][] ink) {
        int h = ink.length;
        int w = ink[0].length;
        int[] out = new int[h == 1 || w == 1 ? h * w : 2 * (h + w) - 4];
        int k = 0;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                if (y == 0 || y == h - 1 || x == 0 || x == w - 1) {
                    out[k++] = ink[y][x];
                }
            }
        }
        return Arrays.copyOf(out, k);
    }

    private static double mean(int[] values) {
        return Arrays.stream(values).average().orElse(0);
    }

    private static int quantile(int[] values, double q) {
        int[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[(int) Math.floor(q * (sorted.length - 1))];
    }

    /**
     * Subtracts the background level and stretches what is left back to 0..255; with a black background (level 0,
     * as in MNIST itself) the ink is left as it is.
     */
    private static void removeBackground(int[][] ink, int level) {
        if (level == 0) {
            return;
        }
        int max = 0;
        for (int[] row : ink) {
            for (int v : row) {
                max = Math.max(max, v);
            }
        }
        double range = Math.max(1, max - level);
        for (int[] row : ink) {
            for (int x = 0; x < row.length; x++) {
                row[x] = (int) Math.round(Math.max(0, row[x] - level) * MAX_INK / range);
            }
        }
    }

    /** {x0, y0, x1, y1} of the pixels with any ink, or null. */
    private static int[] boundingBox(int[][] ink) {
        int x0 = Integer.MAX_VALUE;
        int y0 = Integer.MAX_VALUE;
        int x1 = -1;
        int y1 = -1;
        for (int y = 0; y < ink.length; y++) {
            for (int x = 0; x < ink[y].length; x++) {
                if (ink[y][x] > 0) {
                    x0 = Math.min(x0, x);
                    y0 = Math.min(y0, y);
                    x1 = Math.max(x1, x);
                    y1 = Math.max(y1, y);
                }
            }
        }
        return x1 < 0 ? null : new int[] {x0, y0, x1, y1};
    }

    /** The cropped digit scaled (area averaging, in linear ink units) so that its longer side is 20 pixels; unscaled when it already is. */
    private static float[][] scaleToFit(int[][] ink, int[] box, int bw, int bh) {
        double factor = (double) BOX / Math.max(bw, bh);
        int sw = Math.max(1, (int) Math.round(bw * factor));
        int sh = Math.max(1, (int) Math.round(bh * factor));
        if (sw == bw && sh == bh) {
            float[][] same = new float[bh][bw];
            for (int y = 0; y < bh; y++) {
                for (int x = 0; x < bw; x++) {
                    same[y][x] = ink[box[1] + y][box[0] + x];
                }
            }
            return same;
        }
        // area averaging: each output pixel is the mean of the source area it covers (partial pixels weighted)
        double sx = (double) bw / sw;
        double sy = (double) bh / sh;
        float[][] digit = new float[sh][sw];
        for (int ty = 0; ty < sh; ty++) {
            for (int tx = 0; tx < sw; tx++) {
                double sum = 0;
                for (int y = (int) Math.floor(ty * sy); y < Math.min(bh, Math.ceil((ty + 1) * sy)); y++) {
                    double wy = Math.min(y + 1, (ty + 1) * sy) - Math.max(y, ty * sy);
                    for (int x = (int) Math.floor(tx * sx); x < Math.min(bw, Math.ceil((tx + 1) * sx)); x++) {
                        double wx = Math.min(x + 1, (tx + 1) * sx) - Math.max(x, tx * sx);
                        sum += wx * wy * ink[box[1] + y][box[0] + x];
                    }
                }
                digit[ty][tx] = (float) (sum / (sx * sy));
            }
        }
        return digit;
    }

    /**
     * The digit placed in 28x28 with its centre of mass at pixel (14, 14), where MNIST puts it (every digit of the
     * test slice comes out unchanged), shifted back inside where needed.
     */
    private static byte[] centre(float[][] digit) {
        int h = digit.length;
        int w = digit[0].length;
        double mass = 0;
        double cx = 0;
        double cy = 0;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                mass += digit[y][x];
                cx += x * digit[y][x];
                cy += y * digit[y][x];
            }
        }
        cx /= mass;
        cy /= mass;
        int left = clamp((int) Math.round(SIZE / 2.0 - cx), 0, SIZE - w);
        int top = clamp((int) Math.round(SIZE / 2.0 - cy), 0, SIZE - h);
        byte[] out = new byte[SIZE * SIZE];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                out[(top + y) * SIZE + left + x] = (byte) Math.min(MAX_INK, Math.round(digit[y][x]));
            }
        }
        return out;
    }

    private static int clamp(int v, int lo, int hi) {
        return Math.max(lo, Math.min(hi, v));
    }
}
