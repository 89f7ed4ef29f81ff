package dev.sparkmnist.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkmnist.runtime.CudaCompatibility.ComputeCapability;
import dev.sparkmnist.runtime.CudaCompatibility.Library;
import java.io.InputStream;
import java.net.URL;
import org.junit.jupiter.api.Test;

/**
 * Runs only in the CUDA build ({@code mvn -Pcuda -pl modules/runtime -am test -Dtest=Nd4jCudaJarTest
 * -Dsurefire.failIfNoSpecifiedTests=false}; .ci/run does): reads every fat binary header of the libnd4jcuda.so
 * on the classpath (about 900 MB, seconds) and checks that the architectures the GPU check assumes for this build
 * are the ones in the library, and that the build was recognised by its jar entry.
 */
class Nd4jCudaJarTest {
    @Test
    void theCudaLibraryCarriesTheArchitecturesTheGpuCheckAssumes() throws Exception {
        assertTrue(CudaCompatibility.cudaBackendPresent(), "run with -Pcuda");
        Library lib = CudaCompatibility.loadedLibrary().orElseThrow();
        assertEquals("nd4j-cuda-11.6 1.0.0-M2.1", lib.build(), "library not recognised: " + lib.location());
        try (InputStream in = new URL(lib.location()).openStream()) {
            assertEquals(lib.code(), FatbinScanner.scan(in));
        }
        assertTrue(lib.code().runsOn(new ComputeCapability(8, 6)));
        assertFalse(lib.code().runsOn(new ComputeCapability(9, 0)), "Hopper");
    }
}
