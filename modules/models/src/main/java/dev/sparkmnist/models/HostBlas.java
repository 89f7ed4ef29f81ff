package dev.sparkmnist.models;

import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.LoggerFactory;

/**
 * Matrix products of ND4J float matrices by OpenBLAS's {@code cblas_sgemm} called directly on their host memory, the
 * library ND4J's CPU backend itself calls for them, without ND4J's {@code matmul} op around it: that op's set-up
 * (an op object, its shape calculation and checks, a call into libnd4j and back) costs more than the product itself
 * for the dense layers' small matrices (BENCHMARKS.md, "Per-core speed", round 11). One instance per layer: it keeps
 * three reusable {@link HostPointer}s, so a product allocates nothing; one thread at a time (a network trains on one
 * thread).
 *
 * <p>Only on the CPU backend, for 2-d float matrices laid out in rows or in columns with unit stride ('c' or 'f', a
 * view included); {@link #gemm} answers false for anything else and the caller uses ND4J's op.
 */
public final class HostBlas {
    /** {@code -Dsparkmnist.hostBlas=false} (or {@code --conf spark.sparkmnist.hostBlas=false}) keeps ND4J's ops. */
    public static final String PROPERTY = "sparkmnist.hostBlas";
    /**
     * Whether the dense layers call OpenBLAS directly in this JVM: the CPU backend, with ND4J's OpenBLAS reachable,
     * unless switched off.
     */
    static final boolean AVAILABLE = available();
    private static final int COL_MAJOR = 102;
    private static final int NO_TRANS = 111;
    private static final int TRANS = 112;

    /** Products this JVM ran through here (tests check that a layer's step did). */
    static final java.util.concurrent.atomic.LongAdder PRODUCTS = new java.util.concurrent.atomic.LongAdder();

    private final HostPointer a = new HostPointer();
    private final HostPointer b = new HostPointer();
    private final HostPointer c = new HostPointer();

    private static boolean available() {
        if (!HostArrays.CPU) {
            return false;
        }
        String off = switchedOff(System.getProperty(PROPERTY));
        if (off != null) {
            LoggerFactory.getLogger(HostBlas.class).info(off);
            return false;
        }
        try {
            return openblas_nolapack.CblasColMajor == COL_MAJOR && openblas_nolapack.CblasNoTrans == NO_TRANS
                && openblas_nolapack.CblasTrans == TRANS;
        } catch (LinkageError | RuntimeException e) {
            LoggerFactory.getLogger(HostBlas.class).warn("OpenBLAS not reachable directly ({}): dense layers use"
                + " ND4J's matmul", e.toString());
            return false;
        }
    }

    /**
     * The log line for a switch value that turns the direct calls off (only "false", any case and spaces), null for
     * none; any other value than true or false is warned about and leaves them on.
     */
    static String switchedOff(String value) {
        if (value == null || value.strip().equalsIgnoreCase("true")) {
            return null;
        }
        if (value.strip().equalsIgnoreCase("false")) {
            return "dense layers run ND4J's ops in this JVM (-D" + PROPERTY + "=false)";
        }
        LoggerFactory.getLogger(HostBlas.class).warn("-D{} ({}) must be true or false; dense layers call OpenBLAS"
            + " directly", PROPERTY, value);
        return null;
    }

    /**
     * {@code c = op(a) x op(b) + beta * c}, where {@code op} transposes where asked. Returns false (and changes
     * nothing) where the arrays are not float matrices of matching shapes in a layout OpenBLAS reads in place.
     */
    boolean gemm(INDArray x, boolean transposeX, INDArray y, boolean transposeY, INDArray out, float beta) {
        if (!AVAILABLE || !plain(x) || !plain(y) || !plain(out)) {
            return false;
        }
        long m = transposeX ? x.size(1) : x.size(0);
        long k = transposeX ? x.size(0) : x.size(1);
        long n = transposeY ? y.size(0) : y.size(1);
        long ky = transposeY ? y.size(1) : y.size(0);
        int lx = leading(x);
        int ly = leading(y);
        int lo = leading(out);
        if (k != ky || out.size(0) != m || out.size(1) != n || lx == 0 || ly == 0 || lo == 0 || m == 0 || n == 0
            || k == 0) {
            return false;
        }
        // Column-major throughout: a row-major matrix is its transpose in column-major (leading() < 0 for rows).
        boolean rowsX = lx < 0;
        boolean rowsY = ly < 0;
        if (lo > 0) { // out in columns: out = op(x) op(y)
            openblas_nolapack.cblas_sgemm(COL_MAJOR, trans(rowsX ^ transposeX), trans(rowsY ^ transposeY), (int) m,
                (int) n, (int) k, 1f, a.at(x), Math.abs(lx), b.at(y), Math.abs(ly), beta, c.at(out), lo);
        } else { // out in rows: its column-major view is out^T = op(y)^T op(x)^T
            openblas_nolapack.cblas_sgemm(COL_MAJOR, trans(rowsY ^ !transposeY), trans(rowsX ^ !transposeX),
                (int) n, (int) m, (int) k, 1f, b.at(y), Math.abs(ly), a.at(x), Math.abs(lx), beta, c.at(out), -lo);
        }
        PRODUCTS.increment();
        return true;
    }

    private static int trans(boolean t) {
        return t ? TRANS : NO_TRANS;
    }

    private static boolean plain(INDArray x) {
        return x.rank() == 2 && x.dataType() == DataType.FLOAT && !x.isEmpty() && x.length() < Integer.MAX_VALUE;
    }

    /**
     * The leading dimension of {@code x} for BLAS: positive for a column-major layout (unit stride down a column),
     * negative for a row-major one (unit stride along a row), 0 where it is neither.
     */
    static int leading(INDArray x) {
        long rows = x.size(0);
        long cols = x.size(1);
        long s0 = x.stride(0);
        long s1 = x.stride(1);
        if ((s0 == 1 || rows == 1) && s1 >= Math.max(1, rows) && s1 < Integer.MAX_VALUE) {
            return (int) s1;
        }
        if ((s1 == 1 || cols == 1) && s0 >= Math.max(1, cols) && s0 < Integer.MAX_VALUE) {
            return -(int) s0;
        }
        return 0;
    }
}
