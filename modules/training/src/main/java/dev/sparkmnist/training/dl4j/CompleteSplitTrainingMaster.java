package dev.sparkmnist.training.dl4j;

import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.spark.api.WorkerConfiguration;
import org.deeplearning4j.spark.api.worker.NetBroadcastTuple;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingWorker;

/**
 * WORKAROUND for dl4j-spark 1.0.0-M2: {@link ParameterAveragingTrainingMaster} caps each worker at
 * {@code averagingFrequency} minibatches per averaging round, but sizes its rounds with a rounded-down split count
 * ({@code SparkUtils.balancedRandomSplit}), so most rounds hold a few more minibatches than the cap and the excess
 * is silently skipped: measured here, 1,896-1,920 of 2,000 examples fitted per epoch, and about 4% of full MNIST at
 * averaging frequency 50. This subclass builds the same worker without the cap, so every minibatch of a round is
 * fitted (a worker fits {@code averagingFrequency} minibatches, occasionally one or two more, between averagings).
 * {@code SparkTrainerIT} asserts that every training example is fitted each epoch.
 */
public final class CompleteSplitTrainingMaster extends ParameterAveragingTrainingMaster {
    private static final long serialVersionUID = 1L;
    /** {@code WorkerConfiguration}'s value for "no cap on minibatches per round". */
    private static final int UNCAPPED = 0;

    /** Whether a file: export directory may be used with a cluster master (single host, NFS). */
    private final boolean exportDirShared;

    CompleteSplitTrainingMaster(ParameterAveragingTrainingMaster.Builder builder, boolean exportDirShared) {
        super(builder);
        this.exportDirShared = exportDirShared;
    }

    /**
     * DL4J's export, with its environment check replaced: DL4J refuses any cluster master when the <em>default</em>
     * file system is local, whatever the export directory. Here the export directory itself decides: a non-local
     * one is fine; a local one needs a local master or {@code --export-dir-shared} (storage every executor sees).
     */
    @Override
    protected org.apache.spark.api.java.JavaRDD<String> exportIfRequired(
            org.apache.spark.api.java.JavaSparkContext sc,
            org.apache.spark.api.java.JavaRDD<org.nd4j.linalg.dataset.DataSet> trainingData) {
        checkExportDirReachable(sc.master(), exportDirectory, exportDirShared);
        String baseDir;
        if (lastExportedRDDId == trainingData.id()) {
            baseDir = getBaseDirForRDD(trainingData);
        } else {
            if (lastExportedRDDId != Integer.MIN_VALUE) {
                deleteTempDir(sc, lastRDDExportPath);
            }
            baseDir = export(trainingData);
        }
        return sc.textFile(baseDir + "paths/");
    }

    public static void checkExportDirReachable(String master, String exportDir, boolean shared) {
        boolean localMaster = master.startsWith("local");
        boolean localDir = exportDir.startsWith("file:");
        if (localDir && !localMaster && !shared) {
            throw new dev.sparkmnist.data.InvalidInputException("--export-dir (" + exportDir + ") is on the local"
                + " file system, but master " + master + " runs executors that may not see it: use an hdfs:// or"
                + " s3a:// --export-dir (or set fs.defaultFS), or pass --export-dir-shared if every executor sees"
                + " this path (one host, NFS)");
        }
    }

    /**
     * Removes this master's whole export folder ({@code exportDirectory/UID}); DL4J's own
     * {@code deleteTempFiles} removes only the last RDD's subfolder and leaves one empty folder per run.
     */
    public void deleteExportRoot(org.apache.spark.api.java.JavaSparkContext sc) {
        deleteTempFiles(sc);
        if (exportDirectory != null) {
            deleteTempDir(sc, exportDirectory + (exportDirectory.endsWith("/") ? "" : "/") + trainingMasterUID);
        }
    }

    @Override
    public ParameterAveragingTrainingWorker getWorkerInstance(SparkDl4jMultiLayer network) {
        NetBroadcastTuple tuple = new NetBroadcastTuple(network.getNetwork().getLayerWiseConfigurations(),
            network.getNetwork().params(), network.getNetwork().getUpdater().getStateViewArray());
        Broadcast<NetBroadcastTuple> broadcast = network.getSparkContext().broadcast(tuple);
        WorkerConfiguration configuration = new WorkerConfiguration(false, rddDataSetNumExamples, batchSizePerWorker,
            UNCAPPED, prefetchNumBatches, collectTrainingStats);
        return new ParameterAveragingTrainingWorker(broadcast, saveUpdater, configuration, trainingHookList, listeners,
            getRouterProvider());
    }
}
