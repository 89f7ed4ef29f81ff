package dev.sparkmnist.report;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/** Digit, filter and feature-map pictures, drawn with the JDK (Java2D, ImageIO). */
public final class Images {
    /** Screen pixels per digit pixel. */
    static final int DIGIT_SCALE = 3;
    /** Screen pixels per filter weight. */
    static final int FILTER_SCALE = 16;
    /** Screen pixels per feature-map value. */
    static final int MAP_SCALE = 4;
    private static final int GAP = 8;
    private static final int CAPTION = 30;
    private static final Font FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);

    private Images() {
    }

    /** A captioned tile of a picture grid. */
    record Tile(BufferedImage image, String caption) {
    }

    /** One MNIST digit, ink dark on white as a person reads it, scaled up. */
    static BufferedImage digit(byte[] pixels, int rows, int cols) {
        BufferedImage img = new BufferedImage(cols * DIGIT_SCALE, rows * DIGIT_SCALE, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < rows; y++) {
            for (int x = 0; x < cols; x++) {
                int ink = pixels[y * cols + x] & 0xFF;
                fill(img, x, y, DIGIT_SCALE, grey(255 - ink));
            }
        }
        return img;
    }

    /**
     * A real-valued map scaled up, in a diverging palette centred on 0 (blue negative, white 0, red positive) when
     * it has both signs, else white to black.
     */
    static BufferedImage map(float[][] values, int scale) {
        float max = 0;
        boolean negative = false;
        for (float[] row : values) {
            for (float v : row) {
                max = Math.max(max, Math.abs(v));
                negative |= v < 0;
            }
        }
        int h = values.length;
        int w = values[0].length;
        BufferedImage img = new BufferedImage(w * scale, h * scale, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                float t = max == 0 ? 0 : values[y][x] / max;
                int rgb;
                if (negative) {
                    int fade = Math.round(255 * (1 - Math.abs(t)));
                    rgb = t >= 0 ? new Color(255, fade, fade).getRGB() : new Color(fade, fade, 255).getRGB();
                } else {
                    rgb = grey(Math.round(255 * (1 - t)));
                }
                fill(img, x, y, scale, rgb);
            }
        }
        return img;
    }

    /** Tiles in a grid of {@code columns}, each with its caption below, under an optional title. */
    static BufferedImage grid(String title, List<Tile> tiles, int columns) {
        int tw = tiles.stream().mapToInt(t -> t.image().getWidth()).max().orElse(1);
        int th = tiles.stream().mapToInt(t -> t.image().getHeight()).max().orElse(1);
        int cellW = Math.max(tw, 70) + GAP;
        int cellH = th + CAPTION;
        int rows = Math.max(1, (tiles.size() + columns - 1) / columns);
        int top = title == null ? GAP : 28;
        int titleWidth = title == null ? 0 : title.length() * 8 + 2 * GAP; // bold 14 px sans: under 8 px a glyph
        BufferedImage img = new BufferedImage(Math.max(columns * cellW + GAP, titleWidth), top + rows * cellH + GAP,
            BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, img.getWidth(), img.getHeight());
            g.setColor(Color.BLACK);
            if (title != null) {
                g.setFont(FONT.deriveFont(Font.BOLD, 14f));
                g.drawString(title, GAP, 20);
            }
            g.setFont(FONT);
            for (int i = 0; i < tiles.size(); i++) {
                int x = GAP + (i % columns) * cellW;
                int y = top + (i / columns) * cellH;
                Tile t = tiles.get(i);
                g.drawImage(t.image(), x, y, null);
                g.setColor(Color.LIGHT_GRAY);
                g.drawRect(x - 1, y - 1, t.image().getWidth() + 1, t.image().getHeight() + 1);
                g.setColor(Color.BLACK);
                int line = 0;
                for (String part : t.caption().split("\n")) {
                    g.drawString(part, x, y + t.image().getHeight() + 13 + 13 * line++);
                }
            }
        } finally {
            g.dispose();
        }
        return img;
    }

    /** The test digits the model got wrong, each captioned with true and predicted class and confidence. */
    static BufferedImage mistakes(List<NetworkViews.Mistake> mistakes, TestDigits digits, int columns) {
        List<Tile> tiles = mistakes.stream().map(m -> new Tile(
            digit(digits.pixels()[m.index()], digits.rows(), digits.cols()),
            String.format(Locale.ROOT, "true %d pred %d%n%.0f%%  #%d", m.actual(), m.predicted(),
                100 * m.confidence(), m.index()))).toList();
        return grid(null, tiles, columns);
    }

    /** The first layer's filters. */
    static BufferedImage filters(float[][][] filters) {
        List<Tile> tiles = new java.util.ArrayList<>();
        for (int f = 0; f < filters.length; f++) {
            tiles.add(new Tile(map(filters[f], FILTER_SCALE), "filter " + f));
        }
        return grid("First convolution layer: " + filters.length + " learned " + filters[0].length + "x"
            + filters[0][0].length + " filters (red +, blue -)", tiles, filters.length);
    }

    /** The digit, then its maps after the first convolution and after the pooling. */
    static BufferedImage featureMaps(byte[] digitPixels, int rows, int cols, int label, float[][][] conv,
                                     float[][][] pooled) {
        List<Tile> tiles = new java.util.ArrayList<>();
        tiles.add(new Tile(digit(digitPixels, rows, cols), "input (" + label + ")"));
        for (int c = 0; c < conv.length; c++) {
            tiles.add(new Tile(map(conv[c], MAP_SCALE), "conv " + c));
        }
        tiles.add(new Tile(digit(digitPixels, rows, cols), "input (" + label + ")"));
        for (int c = 0; c < pooled.length; c++) {
            tiles.add(new Tile(map(pooled[c], MAP_SCALE * 2), "pooled " + c));
        }
        return grid("Feature maps: after the first convolution + activation (top), after max pooling (bottom)",
            tiles, conv.length + 1);
    }

    /** PNG bytes of an image. */
    static byte[] png(BufferedImage img) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(img, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static int grey(int level) {
        return new Color(level, level, level).getRGB();
    }

    private static void fill(BufferedImage img, int x, int y, int scale, int rgb) {
        for (int dy = 0; dy < scale; dy++) {
            for (int dx = 0; dx < scale; dx++) {
                img.setRGB(x * scale + dx, y * scale + dy, rgb);
            }
        }
    }
}
