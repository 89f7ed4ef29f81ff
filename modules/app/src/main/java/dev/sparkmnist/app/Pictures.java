package dev.sparkmnist.app;

import dev.sparkmnist.data.InvalidInputException;
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
 * predict's pictures, read within bounds named in the errors: the file's size before it is read, the pixels the
 * picture's header declares before it is decoded (a few kilobytes of PNG can declare 30000x30000 pixels, 3.6 GB
 * decoded), and the files of one input directory.
 */
final class Pictures {
    /** Largest picture file read (an MNIST digit is under a kilobyte; a phone photo a few megabytes). */
    static final long MAX_BYTES = 32L << 20;
    /** Most pixels a picture may declare before it is decoded (4096 x 4096: 64 MiB as ARGB). */
    static final long MAX_PIXELS = 4096L * 4096L;
    /** Most files read from one directory given as input. */
    static final int MAX_FILES = 100_000;

    private Pictures() {
    }

    /** The picture in {@code file}, or an {@link InvalidInputException} saying why not. */
    static BufferedImage read(FileSystem fs, Path file) throws IOException {
        long size = fs.getFileStatus(file).getLen();
        if (size > MAX_BYTES) {
            throw new InvalidInputException("the file is " + size + " bytes: predict reads pictures of at most "
                + MAX_BYTES + " bytes");
        }
        BufferedImage picture;
        try (InputStream in = fs.open(file)) {
            picture = decode(in.readAllBytes());
        } catch (javax.imageio.IIOException e) {
            throw new InvalidInputException("corrupt or truncated picture (" + e.getMessage() + ")", e);
        }
        if (picture == null) {
            throw new InvalidInputException("not a picture ImageIO can read (PNG, JPEG, BMP, GIF) nor an idx images"
                + " file");
        }
        return picture;
    }

    /** Decodes a picture once its header says it has at most {@link #MAX_PIXELS}; null for an unknown format. */
    static BufferedImage decode(byte[] bytes) throws IOException {
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
                    throw new InvalidInputException("the picture is " + width + "x" + height + " pixels: predict"
                        + " decodes pictures of at most " + MAX_PIXELS + " pixels (4096x4096)");
                }
                return reader.read(0);
            } finally {
                reader.dispose();
            }
        }
    }

    /** Refuses an input directory once it has yielded more than {@link #MAX_FILES} files. */
    static void requireFewerFiles(String input, int found) {
        if (found > MAX_FILES) {
            throw new InvalidInputException("IMAGE_OR_DIR (" + input + ") holds more than " + MAX_FILES
                + " files: predict reads at most " + MAX_FILES + " per input (give subdirectories)");
        }
    }
}
