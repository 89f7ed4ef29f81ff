/**
 * Probes run by hand on a GPU machine (scripts/gpu-probe/): the job's GPU check against the real nvidia-smi, and
 * Spark's GPU scheduling without DL4J. They live here so that every build compiles them against the code they check.
 */
package dev.sparkmnist.runtime.probes;
