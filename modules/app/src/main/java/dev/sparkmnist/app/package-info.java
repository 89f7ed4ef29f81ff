/**
 * The command line: {@code train} and {@code evaluate}, their options as validated records, the atomic output
 * directory (model, metrics, provenance) and the Spark context set-up.
 */
package dev.sparkmnist.app;
