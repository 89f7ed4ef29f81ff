package dev.sparkmnist.runtime.probes;

import dev.sparkmnist.runtime.CudaCompatibility;
import dev.sparkmnist.runtime.NvidiaSmi;
import dev.sparkmnist.runtime.GpuBinding;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.apache.spark.SparkConf;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * For scripts/gpu-probe/run-scheduling-on-gpu.sh: Spark's GPU scheduling on a real GPU node, without DL4J. A
 * local-cluster Worker discovers its GPUs with scripts/gpu-discovery.sh (the real nvidia-smi); every task asks for
 * one; each task resolves its assignment with GpuBinding.checkCurrentTask (policy required, as the training tasks
 * do) and runs the GPU check against the nd4j-cuda-11.6 1.0.0-M2.1 table. The executor has two cores and one GPU,
 * so tasks must not overlap in time. Args: discovery script, task count.
 */
public final class GpuSchedulingProbe {
    public static void main(String[] args) {
        String script = args[0];
        int tasks = Integer.parseInt(args[1]);
        SparkConf conf = new SparkConf().setAppName("gpu-scheduling-probe")
            .setMaster("local-cluster[1,2,1024]")
            .set("spark.worker.resource.gpu.amount", "1")
            .set("spark.worker.resource.gpu.discoveryScript", script)
            .set("spark.executor.resource.gpu.amount", "1")
            .set("spark.executor.resource.gpu.discoveryScript", script)
            .set("spark.task.resource.gpu.amount", "1")
            .set("spark.executor.cores", "2") // two cores, one GPU: at most one task at a time
            .set("spark.executor.extraClassPath", System.getProperty("java.class.path"))
            .set("spark.executorEnv.CUDA_DEVICE_ORDER", "PCI_BUS_ID");
        JavaSparkContext sc = new JavaSparkContext(conf);
        try {
            List<Integer> parts = new ArrayList<>();
            for (int i = 0; i < tasks; i++) {
                parts.add(i);
            }
            List<String> lines = sc.parallelize(parts, tasks).map(i -> {
                long start = System.currentTimeMillis();
                Thread.sleep(1000);
                TaskContext ctx = TaskContext.get();
                String addresses = ctx.resources().get(GpuBinding.GPU).isDefined()
                    ? String.join(",", ctx.resources().get(GpuBinding.GPU).get().addresses()) : "none";
                OptionalInt device = GpuBinding.checkCurrentTask(GpuBinding.Policy.REQUIRED);
                CudaCompatibility.Library lib = new CudaCompatibility.Library("(table)",
                    CudaCompatibility.ND4J_CUDA_11_6, "nd4j-cuda-11.6 1.0.0-M2.1");
                String verdict;
                try {
                    CudaCompatibility.require(device.orElse(-1), lib,
                        NvidiaSmi.query("nvidia-smi", System.getenv("CUDA_VISIBLE_DEVICES")));
                    verdict = "supported";
                } catch (CudaCompatibility.UnsupportedGpuException e) {
                    verdict = "refused: " + e.getMessage();
                }
                return "task " + i + " in executor pid " + ProcessHandle.current().pid() + " ran " + start + ".."
                    + System.currentTimeMillis() + " ms: gpu addresses [" + addresses + "] -> device " + device
                    + "; GPU check " + verdict;
            }).collect();
            System.out.println("driver pid " + ProcessHandle.current().pid());
            lines.forEach(System.out::println);
        } finally {
            sc.stop();
        }
    }
}
