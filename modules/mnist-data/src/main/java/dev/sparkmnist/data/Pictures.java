package dev.sparkmnist.data;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Pictures read within bounds named in the errors ({@code predict} on the driver, {@code score} on the executors):
 * the file's size before it is read, and the pixels the picture's header declares before it is decoded (a few
 * kilobytes of PNG can declare 30000x30000 pixels, 3.6 GB decoded).
 */
public final class Pictures {
    /** Largest picture file read (an MNIST digit is under a kilobyte; a phone photo a few megabytes). */
    public static final long MAX_BYTES = 32L << 20;
    /** Most pixels a picture may declare before it is decoded (4096 x 4096: 64 MiB as ARGB). */
    public static final long MAX_PIXELS = 4096L * 4096L;
    private Pictures() {
    }

    /** The picture in {@code file}, or an {@link InvalidInputException} saying why not. */
    public static BufferedImage read(FileSystem fs, Path file) throws IOException {
        long size = fs.getFileStatus(file).getLen();
        if (size > MAX_BYTES) {
            throw tooLarge(Long.toString(size));
        }
        try (InputStream in = fs.open(file)) {
            return read(in);
        }
    }

    /** The picture in a stream (read up to {@link #MAX_BYTES}), or an {@link InvalidInputException} saying why not. */
    public static BufferedImage read(InputStream in) throws IOException {
        byte[] bytes = in.readNBytes((int) MAX_BYTES + 1);
        if (bytes.length > MAX_BYTES) {
            throw tooLarge("over " + MAX_BYTES);
        }
        BufferedImage picture;
        try {
            picture = decode(bytes);
        } catch (javax.imageio.IIOException e) {
            throw new InvalidInputException("corrupt or truncated picture (" + e.getMessage() + ")", e);
        }
        if (picture == null) {
            throw new InvalidInputException("not a picture ImageIO can read (PNG, JPEG, BMP, GIF) nor an idx images"
                + " file");
        }
        return picture;
    }

    private static InvalidInputException tooLarge(String size) {
        return new InvalidInputException("the file is " + size + " bytes: pictures of at most " + MAX_BYTES
            + " bytes are read");
    }

    /** Decodes a picture once its header says it has at most {@link #MAX_PIXELS}; null for an unknown format. */
    public static BufferedImage decode(byte[] bytes) throws IOException {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                return null;
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                long width = reader.getWidth(0);
                long height = reader.getHeight(0);
                if (width * height > MAX_PIXELS) {
                    throw new InvalidInputException("the picture is " + width + "x" + height + " pixels: pictures"
                        + " of at most " + MAX_PIXELS + " pixels (4096x4096) are decoded");
                }
                return reader.read(0);
            } finally {
                reader.dispose();
            }
        }
    }
}
