package dev.sparkmnist.models;

import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A JavaCPP float pointer set to an ND4J array's first element in host memory, for native calls on the array's own
 * memory (OpenBLAS's products, bulk copies) without the Java objects ND4J's pointers and NIO views are made of
 * through JNI each time. The caller checks that the array is a CPU float array laid out as it will be read.
 */
final class HostPointer extends FloatPointer {
    /** Points at {@code x}'s first element (a view's included) and returns this pointer. */
    HostPointer at(INDArray x) {
        address = x.data().address() + 4L * x.offset();
        position = 0;
        limit = x.length();
        capacity = x.length();
        return this;
    }
}
