package dev.sparkmnist.training.resident;

import dev.sparkmnist.data.MnistSet;
import java.io.Serializable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SerializableWritable;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.util.LongAccumulator;

/** What every worker task of the run shares. */
record ResidentJob(MnistSet set, Broadcast<SerializableWritable<Configuration>> hadoop, ResidentSettings settings,
           String runPrefix, String rendezvous, LongAccumulator examplesFitted) implements Serializable {
}
