/**
 * Training: DL4J parameter averaging on Spark ({@link dev.sparkmnist.training.SparkTrainer}) and the single-JVM
 * baseline ({@link dev.sparkmnist.training.LocalTrainer}), with per-epoch test evaluation and listeners.
 */
package dev.sparkmnist.training;
