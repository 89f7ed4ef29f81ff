package dev.sparkmnist.training.baseline;

import dev.sparkmnist.training.EpochEngine;
import dev.sparkmnist.training.EpochListener;
import dev.sparkmnist.training.EpochResult;
import dev.sparkmnist.training.TrainingOptions;
import dev.sparkmnist.training.TrainingResult;

import dev.sparkmnist.data.MnistRdds;
import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.evaluation.EvaluationReport;
import dev.sparkmnist.evaluation.Evaluator;
import dev.sparkmnist.models.Architecture;
import dev.sparkmnist.models.HiddenActivation;
import dev.sparkmnist.models.ModelOptions;
import dev.sparkmnist.models.Models;
import dev.sparkmnist.runtime.GpuBinding;
import dev.sparkmnist.runtime.Nd4jRuntime;
import dev.sparkmnist.runtime.TaskSetup;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.classification.MultilayerPerceptronClassificationModel;
import org.apache.spark.ml.classification.MultilayerPerceptronClassifier;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Spark-native baseline a Spark user would otherwise reach for: MLlib's {@code MultilayerPerceptronClassifier}
 * (784-256-128-10, sigmoid hidden layers, softmax output, L-BFGS on the whole training set per iteration), fitted on
 * the same idx data with the same normalisation. Its weights are copied into the equivalent DL4J network (sigmoid
 * hidden activations), which then goes through the same evaluator, outputs and report as every other run, so that
 * the figures compare like for like; {@link #copyWeights} is exact (MllibBaselineIT checks every test prediction).
 */
public final class MllibBaseline {
    private static final Logger LOG = LoggerFactory.getLogger(MllibBaseline.class);
    /** MLlib's stacking block size (its default). */
    static final int BLOCK_SIZE = 128;

    private MllibBaseline() {
    }

    /** The DL4J model options equivalent to MLlib's perceptron: the MLP with sigmoid hidden layers. */
    public static ModelOptions equivalentModel(long seed) {
        return ModelOptions.mlp().toBuilder().activation(HiddenActivation.SIGMOID).l2(0).dropout(0).seed(seed)
            .build();
    }

    /**
     * Fits the perceptron for {@code maxIter} L-BFGS iterations and evaluates it on the test split; the result is one
     * "epoch" row holding the whole fit.
     */
    public static TrainingResult train(JavaSparkContext sc, MnistSet train, MnistSet test, TrainingOptions options,
                                       int maxIter, List<EpochListener> listeners) {
        if (!(maxIter > 0)) {
            throw new IllegalArgumentException("--mllib-max-iter (" + maxIter + ") must be > 0");
        }
        int partitions = options.workers().count() > 0 ? options.workers().count() : sc.defaultParallelism();
        int threads = Nd4jRuntime.threadsPerTask(sc.sc());
        Nd4jRuntime.configure(threads);
        MnistSet trainSet = train.limit(options.input().limitTrain());
        MnistSet testSet = test.limit(options.input().limitTest());
        SparkSession spark = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
        Dataset<Row> rows = spark.createDataFrame(rows(MnistRdds.trainingEpoch(sc, trainSet, partitions,
            options.batching().eval(), options.input().normalization(), options.seed(), 0)), schema()).cache();
        long examples = rows.count();
        LOG.info("MLlib baseline: MultilayerPerceptronClassifier 784-256-128-10, L-BFGS, {} iterations, {} examples"
            + " in {} partitions", maxIter, examples, partitions);
        long t0 = System.nanoTime();
        MultilayerPerceptronClassificationModel model = fit(rows, maxIter, options.seed());
        double fitSeconds = (System.nanoTime() - t0) / 1e9;
        rows.unpersist();
        double[] history = model.summary().objectiveHistory();
        ModelOptions equivalent = equivalentModel(options.seed());
        MultiLayerNetwork net = Models.network(equivalent);
        copyWeights(model.weights().toArray(), net);
        long t1 = System.nanoTime();
        EvaluationReport report = Evaluator.distributed(sc, net, testSet, partitions, options.batching().eval(),
            options.input().normalization(), new TaskSetup(threads, GpuBinding.Policy.OPTIONAL));
        double evalSeconds = (System.nanoTime() - t1) / 1e9;
        EpochResult result = new EpochResult(1, history.length == 0 ? Double.NaN : history[history.length - 1],
            new EpochEngine.FitStats(Double.NaN, history.length, examples, 0, fitSeconds, 0), fitSeconds, evalSeconds,
            Double.NaN, report);
        for (EpochListener listener : listeners) {
            listener.onEpochEnd(result, net);
        }
        return new TrainingResult(net, List.of(result), threads, partitions, java.util.Set.of());
    }

    /** MLlib's perceptron, 784-256-128-10, fitted on label/features rows. */
    static MultilayerPerceptronClassificationModel fit(Dataset<Row> rows, int maxIter, long seed) {
        return new MultilayerPerceptronClassifier().setLayers(new int[] {784, 256, 128, 10}).setMaxIter(maxIter)
            .setSeed(seed).setBlockSize(BLOCK_SIZE).setSolver("l-bfgs").fit(rows);
    }

    /** The training rows: label (double) and normalised pixels (dense vector), read by each partition. */
    static JavaRDD<Row> rows(JavaRDD<DataSet> batches) {
        return batches.flatMap(batch -> {
            INDArray f = batch.getFeatures();
            INDArray l = batch.getLabels();
            List<Row> out = new ArrayList<>((int) f.size(0));
            for (int i = 0; i < f.size(0); i++) {
                double[] pixels = f.getRow(i).toDoubleVector();
                out.add(RowFactory.create((double) l.getRow(i).argMax().getInt(0), Vectors.dense(pixels)));
            }
            return out.iterator();
        });
    }

    static StructType schema() {
        return new StructType(new StructField[] {
            new StructField("label", DataTypes.DoubleType, false, Metadata.empty()),
            new StructField("features", new VectorUDT(), false, Metadata.empty())});
    }

    /**
     * Copies MLlib's flat weight vector into the DL4J MLP. MLlib stores each affine layer as its weight matrix
     * (numOut x numIn, column-major: entry (o, i) at {@code o + i * numOut}) followed by its biases; DL4J's W is
     * [nIn, nOut], so the block read row-major as [nIn, nOut] is W itself.
     */
    public static void copyWeights(double[] mllib, MultiLayerNetwork net) {
        int offset = 0;
        for (int k = 0; k < net.getnLayers(); k++) {
            INDArray w = net.getLayer(k).getParam("W");
            long nIn = w.size(0);
            long nOut = w.size(1);
            float[] block = new float[(int) (nIn * nOut)];
            for (int j = 0; j < block.length; j++) {
                block[j] = (float) mllib[offset + j];
            }
            net.getLayer(k).setParam("W", Nd4j.create(block, new long[] {nIn, nOut}, 'c'));
            offset += block.length;
            float[] bias = new float[(int) nOut];
            for (int j = 0; j < bias.length; j++) {
                bias[j] = (float) mllib[offset + j];
            }
            net.getLayer(k).setParam("b", Nd4j.create(bias, new long[] {1, nOut}, 'c'));
            offset += bias.length;
        }
        if (offset != mllib.length) {
            throw new IllegalStateException("MLlib's weights (" + mllib.length + ") do not match the network ("
                + offset + ")");
        }
    }
}
