/**
 * The command line: {@code train}, {@code evaluate}, {@code report} and {@code predict}, their option groups (each
 * default written once), the memory plan's check against Spark's settings, progress display and the Spark context
 * set-up. What a run writes lives in {@code dev.sparkmnist.runs}.
 */
package dev.sparkmnist.app;
