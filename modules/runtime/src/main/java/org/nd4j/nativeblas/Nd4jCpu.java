package org.nd4j.nativeblas;

import java.lang.reflect.Method;

/**
 * WORKAROUND for DL4J 1.0.0-M2, kept isolated here: {@code BaseMKLDNNHelper.mklDnnEnabled()} looks up
 * {@code org.nd4j.nativeblas.Nd4jCpu$Environment#isUseMKLDNN()} by reflection, but nd4j-native 1.0.0-M2 only has
 * {@code org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu$Environment#isUseONEDNN()}. Without this class DL4J never
 * uses oneDNN for convolution and pooling on the CPU and falls back to im2col + gemm (LeNet ~2.5x slower).
 * This forwards the old name to the real binding, by reflection so that the CUDA build (no CPU bindings) compiles.
 * {@code Nd4jRuntimeTest} fails if the helpers stop loading. Remove it when DL4J's lookup is fixed upstream.
 */
public final class Nd4jCpu {
    private static final String REAL = "org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu$Environment";

    private Nd4jCpu() {
    }

    /** The shape DL4J's reflection expects: a static {@code getInstance()} and {@code isUseMKLDNN()}. */
    public static final class Environment {
        private static final Environment INSTANCE = new Environment();

        private Environment() {
        }

        public static Environment getInstance() {
            return INSTANCE;
        }

        /** Whether the loaded CPU backend was built with, and uses, oneDNN (false on any other backend). */
        public boolean isUseMKLDNN() {
            try {
                Class<?> real = Class.forName(REAL);
                Object env = real.getMethod("getInstance").invoke(null);
                Method useOneDnn = real.getMethod("isUseONEDNN");
                return (boolean) useOneDnn.invoke(env);
            } catch (ReflectiveOperationException | LinkageError e) {
                return false;
            }
        }
    }
}
