/**
 * Training's shared contract: the options, the epoch loop every engine runs under ({@link
 * dev.sparkmnist.training.EpochLoop} driving an {@link dev.sparkmnist.training.EpochEngine}), per-epoch results and
 * listeners, progress, and {@link dev.sparkmnist.training.SparkTrainer}, which picks the Spark engine. The engines
 * live beside it: {@code resident} (the default), {@code dl4j} (DL4J's master) and {@code baseline} (one JVM,
 * MLlib).
 */
package dev.sparkmnist.training;
