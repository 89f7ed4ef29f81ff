/**
 * MNIST as Spark sees it: idx files read through Hadoop's {@code FileSystem} (any scheme, raw or gzipped),
 * validated up front on the driver, and turned into RDDs whose partitions each read their own slice.
 */
package dev.sparkmnist.data;
