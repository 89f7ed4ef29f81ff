/**
 * The ND4J and GPU runtime set-up in one place ({@link dev.sparkmnist.runtime.TaskSetup}): the job's switches given as
 * Spark settings ({@link dev.sparkmnist.runtime.Switches}), threads per task, DL4J's
 * layer helpers (off by default in DL4J 1.0.0-M2), the check that a GPU can run the ND4J CUDA build, and the binding
 * of each task to the GPU Spark assigned it. Training and evaluation tasks call it before they touch ND4J.
 */
package dev.sparkmnist.runtime;
