/**
 * What a training run looks like: charts of its per-epoch figures and final evaluation, images of digits and of the
 * network's filters, and one self-contained {@code report.html}, all built from a run's own files so that a report
 * can be rebuilt later ({@code report RUN_DIR}).
 */
package dev.sparkmnist.report;
