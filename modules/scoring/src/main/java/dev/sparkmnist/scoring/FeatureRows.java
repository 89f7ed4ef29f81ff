package dev.sparkmnist.scoring;

import org.apache.spark.sql.Row;

/** Digits in DataFrame rows, as the Spark ML stages take them: a features column of 784 pixels and a label. */
final class FeatureRows {
    private FeatureRows() {
    }

    /** Whether a column type is Spark's image data source struct (origin, height, width, nChannels, mode, data). */
    static boolean isImage(org.apache.spark.sql.types.DataType type) {
        return type instanceof org.apache.spark.sql.types.StructType st && java.util.Arrays.asList(st.fieldNames())
            .equals(java.util.Arrays.asList(org.apache.spark.ml.image.ImageSchema.imageFields()));
    }

    /**
     * The numbers of a features value as Spark holds it: an ML vector or an array of numbers (a null element is
     * NaN, which no check accepts as a pixel), or a picture from Spark's image data source, which gets MNIST's
     * preprocessing as {@code predict} applies it.
     */
    static double[] values(Object value) {
        if (value instanceof Row image) {
            byte[] digit = dev.sparkmnist.data.DigitImage.preprocess(picture(image));
            double[] out = new double[digit.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = digit[i] & 0xFF;
            }
            return out;
        }
        if (value instanceof org.apache.spark.ml.linalg.Vector v) {
            return v.toArray();
        }
        if (value instanceof scala.collection.Seq<?> seq) {
            double[] out = new double[seq.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = seq.apply(i) instanceof Number n ? n.doubleValue() : Double.NaN;
            }
            return out;
        }
        throw new IllegalArgumentException("the features are " + (value == null ? "null"
            : value.getClass().getSimpleName()) + ", not a vector or an array of numbers");
    }

    /** A picture of Spark's image schema: {@code data} holds height x width pixels of nChannels bytes, BGR(A). */
    static java.awt.image.BufferedImage picture(Row image) {
        int height = image.getInt(image.fieldIndex("height"));
        int width = image.getInt(image.fieldIndex("width"));
        int channels = image.getInt(image.fieldIndex("nChannels"));
        byte[] data = (byte[]) image.get(image.fieldIndex("data"));
        if (height <= 0 || width <= 0 || (long) height * width > dev.sparkmnist.data.Pictures.MAX_PIXELS
            || data.length < (long) height * width * channels) {
            throw new IllegalArgumentException("the picture " + image.getString(image.fieldIndex("origin")) + " is "
                + width + "x" + height + "x" + channels + " with " + data.length + " bytes: not a picture of at most "
                + dev.sparkmnist.data.Pictures.MAX_PIXELS + " pixels");
        }
        if (channels == 1) {
            java.awt.image.BufferedImage grey = new java.awt.image.BufferedImage(width, height,
                java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
            grey.getRaster().setDataElements(0, 0, width, height, java.util.Arrays.copyOf(data, width * height));
            return grey;
        }
        java.awt.image.BufferedImage rgb = new java.awt.image.BufferedImage(width, height,
            java.awt.image.BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int o = (y * width + x) * channels;
                rgb.setRGB(x, y, ((data[o + 2] & 0xFF) << 16) | ((data[o + 1] & 0xFF) << 8) | (data[o] & 0xFF));
            }
        }
        return rgb;
    }

    /** A row (features, label) as a digit, or a bad row naming the column and the rule. */
    static DigitRow digit(Row row, long index, String features, String label) {
        String where = "row " + (index + 1);
        double[] pixels;
        try {
            pixels = values(row.get(0));
        } catch (IllegalArgumentException e) {
            return DigitRow.bad("featuresCol (" + features + ")", index, where + ": " + e.getMessage());
        }
        if (pixels.length != DigitRow.PIXELS) {
            return DigitRow.bad("featuresCol (" + features + ")", index, where + " holds " + pixels.length
                + " values, not 784");
        }
        byte[] bytes = new byte[DigitRow.PIXELS];
        for (int i = 0; i < bytes.length; i++) {
            double p = pixels[i];
            if (!(p >= 0 && p <= 255) || p != Math.rint(p)) {
                return DigitRow.bad("featuresCol (" + features + ")", index, where + ": pixel " + i + " is " + p
                    + ", not a whole number in [0, 255]");
            }
            bytes[i] = (byte) p;
        }
        if (row.isNullAt(1)) {
            return DigitRow.bad("labelCol (" + label + ")", index, where + ": the label is null");
        }
        double l = ((Number) row.get(1)).doubleValue();
        if (!(l >= 0 && l <= 9) || l != Math.rint(l)) {
            return DigitRow.bad("labelCol (" + label + ")", index, where + ": label " + l + " is not a class 0..9");
        }
        return DigitRow.ok("rows", index, (int) l, bytes);
    }

    /** The 784 pixels of a row's features column, each in [0, 255]; else an exception naming the column. */
    static double[] pixels(Row row, int column, String name) {
        if (row.isNullAt(column)) {
            throw new IllegalArgumentException("featuresCol (" + name + ") is null in a row");
        }
        double[] pixels = values(row.get(column));
        if (pixels.length != DigitRow.PIXELS) {
            throw new IllegalArgumentException("featuresCol (" + name + ") holds " + pixels.length + " values in a"
                + " row, not 784");
        }
        for (double p : pixels) {
            if (!(p >= 0 && p <= 255)) {
                throw new IllegalArgumentException("featuresCol (" + name + ") holds " + p + " in a row: pixels are"
                    + " in [0, 255]");
            }
        }
        return pixels;
    }
}
