/**
 * A run's directory on any Hadoop store: staged and published atomically ({@link dev.sparkmnist.runs.AtomicOutput}),
 * checkpoints, model files, metrics, provenance and the report, written from a {@link dev.sparkmnist.runs.RunRecord}
 * of the run rather than from the command; the stores' first contact under a deadline ({@link
 * dev.sparkmnist.runs.Stores}); and the credentials that must never reach any of it ({@link
 * dev.sparkmnist.runs.Secrets}).
 */
package dev.sparkmnist.runs;
