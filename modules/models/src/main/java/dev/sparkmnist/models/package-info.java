/**
 * The networks from the teaching material (MLP 784-256-128-10 and LeNet-5) as DL4J configurations, built from one
 * validated options record so that the CLI, the tests and the benchmarks train exactly the same model.
 */
package dev.sparkmnist.models;
