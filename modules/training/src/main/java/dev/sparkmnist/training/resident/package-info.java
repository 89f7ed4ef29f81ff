/**
 * The resident-workers engine: each worker is one long-lived task of a Spark barrier stage that keeps its network
 * and updater in memory, streams its own slice of the idx files, and averages parameters and updater state with the
 * other workers every few minibatches, executor to executor over Spark's own network layer (the driver takes part
 * once per stage, never per round), instead of one Spark job per averaging round.
 */
package dev.sparkmnist.training.resident;
