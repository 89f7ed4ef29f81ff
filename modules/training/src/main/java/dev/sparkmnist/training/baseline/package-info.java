/**
 * What a user would compare the cluster with: the same network trained in one JVM ({@code --mode local}) and Spark
 * MLlib's multilayer perceptron ({@code --mode mllib}).
 */
package dev.sparkmnist.training.baseline;
