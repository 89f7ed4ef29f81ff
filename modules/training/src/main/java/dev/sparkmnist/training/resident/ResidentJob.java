package dev.sparkmnist.training.resident;

import dev.sparkmnist.data.MnistSet;
import java.io.Serializable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SerializableWritable;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.util.LongAccumulator;

/**
 * What every worker task of the run shares; {@code evaluation} (null: none) scores the test split at the end of
 * each epoch's last stage.
 */
record ResidentJob(MnistSet set, Broadcast<SerializableWritable<Configuration>> hadoop, ResidentSettings settings,
           String runPrefix, String rendezvous, LongAccumulator examplesFitted, StageEvaluation evaluation)
    implements Serializable {
}
