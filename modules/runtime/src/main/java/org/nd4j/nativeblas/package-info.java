/** A one-class workaround that lets DL4J 1.0.0-M2 find oneDNN on the CPU backend (see {@link Nd4jCpu}). */
package org.nd4j.nativeblas;
