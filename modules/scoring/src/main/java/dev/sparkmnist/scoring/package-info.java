/**
 * Scoring at cluster scale: digits from where users have them (MNIST's idx files, CSV, Parquet, folders of pictures
 * named by class), read on the executors with bad rows counted, and a trained network scoring them there, restored
 * once per executor JVM. The {@code score} command writes what it returns.
 */
package dev.sparkmnist.scoring;
