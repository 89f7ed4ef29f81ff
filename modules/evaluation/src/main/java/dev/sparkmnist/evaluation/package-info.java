/**
 * Scores a network on a test split across the cluster and merges the partial results: accuracy, average loss,
 * per-class precision/recall/F1 and the confusion matrix. It ships the model as plain arrays, never as a broadcast
 * INDArray, so it is immune to the dl4j-spark/Spark 3.2+ bug that closes the driver's live parameters.
 */
package dev.sparkmnist.evaluation;
