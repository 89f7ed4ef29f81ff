package dev.sparkmnist.app;

import dev.sparkmnist.runs.RunLayout;
import dev.sparkmnist.runs.AtomicOutput;
import dev.sparkmnist.runs.ModelFiles;
import dev.sparkmnist.runs.RunFiles;
import dev.sparkmnist.runs.Stores;
import dev.sparkmnist.runtime.GpuBinding;
import dev.sparkmnist.runtime.TaskSetup;
import dev.sparkmnist.data.InvalidInputException;
import dev.sparkmnist.data.MnistSet;
import dev.sparkmnist.data.Normalization;
import dev.sparkmnist.evaluation.EvaluationReport;
import dev.sparkmnist.evaluation.Evaluator;
import dev.sparkmnist.runtime.CudaCompatibility;
import dev.sparkmnist.runtime.Nd4jRuntime;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code evaluate}: scores a saved model on any idx test set, distributed over Spark. */
@Command(name = "evaluate", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Evaluate a saved model on an idx test set (default: the MNIST t10k files).")
public final class EvaluateCommand implements Callable<Integer> {
    @picocli.CommandLine.Mixin
    TrainedModelArgs trained = new TrainedModelArgs();

    @Option(names = "--data-dir", defaultValue = "data/mnist", paramLabel = "DIR",
        description = "Directory with t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (raw or .gz). Defaults to"
            + " ${DEFAULT-VALUE}; ignored when --images and --labels are given.")
    String dataDir = "data/mnist";

    @Option(names = "--images", paramLabel = "PATH", description = "An idx3 images file to evaluate on. No default.")
    String images;

    @Option(names = "--labels", paramLabel = "PATH", description = "The matching idx1 labels file. No default.")
    String labels;

    @Option(names = "--batch-size", defaultValue = "500", paramLabel = "N",
        description = "Evaluation minibatch size. Defaults to ${DEFAULT-VALUE}.")
    int batchSize = 500;

    @Option(names = "--num-partitions", defaultValue = "0", paramLabel = "N",
        description = "Partitions of the test RDD; 0 = total executor cores. Defaults to 0.")
    int numPartitions;

    @ArgGroup(validate = false, heading = "%nSpark%n")
    SparkArgs spark = new SparkArgs();

    @ArgGroup(validate = false, heading = "%nOutput%n")
    OutputArgs output = new OutputArgs();

    @picocli.CommandLine.Mixin
    StoreArgs stores = new StoreArgs();

    @Override
    public Integer call() {
        EvaluationReport report = run();
        System.out.print(report.toText());
        return 0;
    }

    /** Validates, loads the model, evaluates across the cluster, writes evaluation.json when --output is set. */
    public EvaluationReport run() {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("--batch-size (" + batchSize + ") must be > 0");
        }
        if (numPartitions < 0) {
            throw new IllegalArgumentException("--num-partitions (" + numPartitions + ") must be >= 0");
        }
        if ((images == null) != (labels == null)) {
            throw new IllegalArgumentException("--images and --labels must be given together");
        }
        // The driver runs ND4J too: with the CUDA build its GPUs must be ones the build's kernels run on.
        CudaCompatibility.requireSupported(-1);
        org.apache.spark.SparkConf sparkConf = SparkContexts.conf("spark-mnist evaluate", spark.master, spark.conf);
        Configuration hadoop = SparkContexts.hadoop(sparkConf); // what sc.hadoopConfiguration() will be
        Stores.check(Stores.paths("--model-path", trained.path, "--data-dir", images == null ? dataDir : null,
            "--images", images, "--labels", labels, "--output", output.output), hadoop, stores.timeoutSeconds);
        MasterCheck.require(sparkConf, hadoop, stores.timeoutSeconds);
        AtomicOutput out = output.output == null ? null : AtomicOutput.open(output.output, output.overwrite, hadoop);
        try {
            MnistSet test = images != null ? MnistSet.testFiles(images, labels, hadoop)
                : MnistSet.testFrom(dataDir, hadoop);
            Nd4jRuntime.enableHelpers();
            TrainedModelArgs.Resolved resolved = trained.load(hadoop);
            ModelFiles.Loaded loaded = resolved.model();
            Normalization norm = resolved.normalization();
            JavaSparkContext sc = SparkContexts.create(sparkConf);
            EvaluationReport report;
            try {
                int partitions = numPartitions > 0 ? numPartitions : sc.defaultParallelism();
                report = Evaluator.distributed(sc, loaded.network(), test, partitions, batchSize, norm,
                    new TaskSetup(Nd4jRuntime.threadsPerTask(sc.sc()), GpuBinding.Policy.OPTIONAL));
            } finally {
                sc.stop();
            }
            if (out != null) {
                Map<String, Object> json = new LinkedHashMap<>();
                json.put("model", trained.path);
                json.put("images", test.imagesPath());
                json.put("labels", test.labelsPath());
                json.put("normalization", norm);
                json.put("report", report);
                out.writeText("evaluation.json", RunFiles.json(json));
                out.writeText(RunLayout.EVALUATION_TXT, report.toText());
                out.commit();
            }
            return report;
        } finally {
            if (out != null) {
                out.close();
            }
        }
    }
}
